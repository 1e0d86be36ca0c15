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
// sandbox run and checks that the rejected refund shows its reason.
func TestBrowserStatusPage(t *testing.T) {
	bin := chromium(t)
	shots := t.TempDir()
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
			shot := filepath.Join(shots, "status.png")
			headless(t, bin, "--window-size=1400,900", "--screenshot="+shot, page)
			if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
				t.Errorf("no screenshot: %v", err)
			} else {
				t.Logf("screenshot %s", shot)
			}
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
