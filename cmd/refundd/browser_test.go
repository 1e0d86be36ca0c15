package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"refundd/internal/testutil"

	"refundd/daemon/refund"
	"refundd/daemon/status"

	"refundd/daemon/sandbox"
	"refundd/daemon/store"
)

// chromium returns the path of Chromium. A missing Chromium fails the test
// under CI=true and skips it elsewhere.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (apt-get install chromium)")
	}
	t.Skip("chromium is not installed")
	return ""
}

// headless runs Chromium headless with a new profile and the given
// arguments and returns its standard output.
func headless(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--no-first-run", "--disable-sync", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// TestBrowserStatusPage opens the status page in Chromium during a
// sandbox run whose example batch has one refund rejected by the bank and
// one returned, and checks what an operator acts from: "needs attention"
// lists both with the bank's reason and the command that pays them
// again, the health strip shows a recent upload, a search by RefNbr finds
// the returned refund, and its timeline shows the bank's references of
// its booking and its return. It takes a screenshot of each page, into
// $REFUNDD_SCREENSHOTS when set (to look at them), else a temporary
// folder.
func TestBrowserStatusPage(t *testing.T) {
	bin := chromium(t)
	shots := os.Getenv("REFUNDD_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	screenshot := func(name, url string) {
		t.Helper()
		shot := filepath.Join(shots, name)
		headless(t, bin, "--window-size=1400,1300", "--screenshot="+shot, url)
		if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
			t.Errorf("no screenshot %s: %v", name, err)
		} else {
			t.Logf("screenshot %s", shot)
		}
	}
	var checked bool
	o := sandboxOptions{dir: filepath.Join(t.TempDir(), "sandbox"), once: true, delay: 500 * time.Millisecond,
		http: "127.0.0.1:0", limit: time.Minute,
		onComplete: func(statusURL string) {
			checked = true
			page := statusURL + "?batch=" + sandbox.ExampleBatchNumber
			dom := headless(t, bin, "--dump-dom", page)
			row := regexp.MustCompile(`(?s)<tr data-ref="` + sandbox.ExampleRejected + `">.*?</tr>`).FindString(dom)
			if !strings.Contains(row, "rejected") || !strings.Contains(row, "AC04 Closed account") {
				t.Errorf("the rejected refund does not show its reason; row %q in:\n%s", row, dom)
			}
			ret := regexp.MustCompile(`(?s)<tr data-ref="` + sandbox.ExampleReturned + `">.*?</tr>`).FindString(dom)
			if !strings.Contains(ret, "returned") || strings.Count(ret, "SBX") != 2 {
				t.Errorf("the returned refund does not show its status and two bank references: %q", ret)
			}
			if !strings.Contains(dom, `id="content"`) {
				t.Errorf("the page has no content:\n%s", dom)
			}
			screenshot("batch.png", page)

			// The front page: needs attention, then the health strip.
			dom = headless(t, bin, "--dump-dom", statusURL)
			attention := regexp.MustCompile(`(?s)<section id="attention".*?</section>`).FindString(dom)
			for _, ref := range []string{sandbox.ExampleRejected, sandbox.ExampleReturned} {
				row := regexp.MustCompile(`(?s)<tr data-ref="` + ref + `">.*?</tr>`).FindString(attention)
				for _, want := range []string{"AC04", "account closed", "refundd rerelease -config ", sandbox.ExampleBatchNumber} {
					if !strings.Contains(row, want) {
						t.Errorf("needs attention: %s lacks %q; row %q in:\n%s", ref, want, row, attention)
					}
				}
			}
			if !strings.Contains(attention, `>rejected<`) || !strings.Contains(attention, `>returned<`) {
				t.Errorf("needs attention does not say rejected and returned:\n%s", attention)
			}
			upload := regexp.MustCompile(`data-health="upload">last upload: <b>(\w+) ago</b>`).FindStringSubmatch(dom)
			if upload == nil {
				t.Errorf("the health strip shows no upload:\n%s", dom)
			} else if age, err := time.ParseDuration(upload[1]); err != nil || age > time.Minute {
				t.Errorf("the health strip's last upload is %s ago (%v); want within the run", upload[1], err)
			}
			if !strings.Contains(dom, `data-health="sftp">SFTP: <b class="good">reachable</b>`) {
				t.Errorf("the health strip does not show SFTP reachable:\n%s", dom)
			}
			batches := regexp.MustCompile(`(?s)<table id="batches">.*?</table>`).FindString(dom)
			if !strings.Contains(batches, "booked 3") || !strings.Contains(batches, "rejected 1") || !strings.Contains(batches, "returned 1") ||
				!strings.Contains(batches, "settled-with-exceptions") {
				t.Errorf("the batch does not show its counts and that it settled with exceptions:\n%s", batches)
			}
			screenshot("status.png", statusURL)

			// Search by RefNbr (what the form's GET sends), then the
			// refund's timeline.
			search := statusURL + "/search?q=" + sandbox.ExampleReturned
			dom = headless(t, bin, "--dump-dom", search)
			found := regexp.MustCompile(`(?s)<table id="found">.*?</table>`).FindString(dom)
			link := regexp.MustCompile(`<tr data-ref="` + sandbox.ExampleReturned + `"><td><a href="(/status/refund/[^"]+)">`).FindStringSubmatch(found)
			if link == nil {
				t.Fatalf("the search for %s does not find it:\n%s", sandbox.ExampleReturned, dom)
			}
			screenshot("search.png", search)
			refundURL := strings.TrimSuffix(statusURL, "/status") + link[1]
			dom = headless(t, bin, "--dump-dom", refundURL)
			timeline := regexp.MustCompile(`(?s)<table id="timeline">.*?</table>`).FindString(dom)
			refs := regexp.MustCompile(`<code class="bankref">(SBX\w+)</code>`).FindAllStringSubmatch(timeline, -1)
			if len(refs) != 2 || !strings.Contains(timeline, "booked by the bank") || !strings.Contains(timeline, "returned by the bank") {
				t.Errorf("the timeline does not show the booking and the return with their bank references (%v):\n%s", refs, timeline)
			}
			for _, want := range []string{"taken from the ERP", "in pain.001 RFD-", "uploaded to the bank", "receipt from the bank", "AC04 account closed"} {
				if !strings.Contains(timeline, want) {
					t.Errorf("the timeline lacks %q:\n%s", want, timeline)
				}
			}
			screenshot("refund.png", refundURL)
		}}
	var out testutil.SyncBuffer
	if err := runSandbox(t.Context(), o, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !checked {
		t.Fatal("the sandbox run did not complete")
	}
}

// changingStore is a status store whose one batch is sent the first time
// it is read and paid after.
type changingStore struct{ reads atomic.Int32 }

func (s *changingStore) ListBatches(context.Context) ([]store.Batch, error) {
	st := store.BatchSent
	if s.reads.Add(1) > 1 {
		st = store.BatchPaid
	}
	return []store.Batch{{MsgID: "RFD-B1-X", Number: "B1", Status: st, NbOfTxs: 1}}, nil
}
func (s *changingStore) BatchByNumber(context.Context, string) ([]store.Batch, error) {
	return nil, store.ErrNotFound
}
func (s *changingStore) Batch(context.Context, string) (store.Batch, error) {
	return store.Batch{}, store.ErrNotFound
}
func (s *changingStore) RefundPage(context.Context, string, store.PageAt) (store.RefundPage, error) {
	return store.RefundPage{}, nil
}
func (s *changingStore) RefundCounts(context.Context, string) (map[refund.Status]int, error) {
	return nil, nil
}

// TestBrowserStatusRefresh checks that the status page shows what changed
// without being reloaded.
func TestBrowserStatusRefresh(t *testing.T) {
	bin := chromium(t)
	mux := http.NewServeMux()
	s := &changingStore{}
	status.Handle(mux, s, nil)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dom := headless(t, bin, "--virtual-time-budget=10000", "--dump-dom", srv.URL+"/status")
	if !strings.Contains(dom, ">paid<") || s.reads.Load() < 2 {
		t.Errorf("the page did not refresh itself (%d reads):\n%s", s.reads.Load(), dom)
	}
}
