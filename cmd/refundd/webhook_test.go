package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"refundd/internal/pgtest"
	"refundd/internal/testutil"

	"refundd/daemon/sandbox"
	"refundd/daemon/store"
	"refundd/daemon/webhook"
)

// hookReceiver is the ERP's webhook receiver in TestWebhookKilled: a real
// HTTP server on a loopback port, down until started. It verifies every
// request's signature and records the event ids it answered 2xx. While
// hold is set, the next request is held unanswered and its id sent on
// held: the test kills refundd in the middle of that delivery.
type hookReceiver struct {
	addr   string
	secret []byte

	mu       sync.Mutex
	srv      *http.Server
	hold     bool
	held     chan string
	got      map[string]int
	types    map[string]string
	bad      []string
	requests int
}

func (r *hookReceiver) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		t.Fatalf("receiver: %v", err)
	}
	r.mu.Lock()
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	srv := r.srv
	r.mu.Unlock()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

func (r *hookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	var b webhook.Body
	verr := webhook.Verify(r.secret, req.Header.Get(webhook.HeaderTimestamp), body, req.Header.Get(webhook.HeaderSignature), time.Now(), 5*time.Minute)
	jerr := json.Unmarshal(body, &b)
	r.mu.Lock()
	r.requests++
	if verr != nil || jerr != nil || b.ID == "" || b.ID != req.Header.Get(webhook.HeaderEventID) {
		r.bad = append(r.bad, fmt.Sprintf("request for %q: signature %v, body %v, header id %q", b.ID, verr, jerr, req.Header.Get(webhook.HeaderEventID)))
		r.mu.Unlock()
		http.Error(w, "bad request", http.StatusUnauthorized)
		return
	}
	if r.hold {
		r.hold = false
		held := r.held
		r.mu.Unlock()
		held <- b.ID
		<-req.Context().Done() // never answered: refundd is killed meanwhile
		return
	}
	r.got[b.ID]++
	r.types[b.ID] = b.Type
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// holdNext makes the receiver hold the next request and returns the
// channel its event id comes on.
func (r *hookReceiver) holdNext() <-chan string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hold, r.held = true, make(chan string, 1)
	return r.held
}

func (r *hookReceiver) delivered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// freeAddr returns a loopback address with a port that was free.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// webhookBatch returns batch i: a refund the bank books, one it rejects
// (closed account), one it returns; with invalid, one whose account is
// wrong, so that refundd rejects the batch.
func webhookBatch(i int, invalid bool) (name string, content []byte) {
	var b strings.Builder
	b.WriteString("Batch;DocType;RefNbr;CustomerID;CustomerName;PaymentMethod;AccountType;Account;BIC;Country;Amount;Currency;PaymentDate;CustomerOrderNbr;PaymentRef\r\n")
	batch := fmt.Sprintf("WH%04d", i)
	accts := []string{"1234 56 78903", sandbox.AccountClosed, sandbox.AccountReturned}
	if invalid {
		accts = append(accts, "1234 56 78900")
	}
	for j, acct := range accts {
		fmt.Fprintf(&b, "%s;CreditNote;WN%d%04d;C%d;Kari Nordmann;AUTOPAY;BBAN;%s;;NO;%d,%02d;NOK;2026-12-02;SO-%d;\r\n", batch, j+3, i, 1000+i, acct, 10+i, j, i)
	}
	return "batch-" + batch + ".csv", []byte(b.String())
}

// TestWebhookKilled is the whole binary's webhook test: the receiver is
// down for the first deliveries, refundd is killed (SIGKILL) twice in the
// middle of a delivery and started again, batches keep coming; at the end
// every announced event arrived at least once, every signature verified,
// and no event id is missing.
func TestWebhookKilled(t *testing.T) {
	if pgtest.OnPostgres() {
		t.Skip("reads the SQLite store at the end; the store's outbox is tested on both engines in daemon/store")
	}
	bin := crashBin(t)
	config, dir, up := runEnv(t)
	down := filepath.Join(filepath.Dir(up), "outbound")
	secretFile := filepath.Join(dir, "webhook.secret")
	secret := []byte("a shared secret of the ERP")
	if err := os.WriteFile(secretFile, append(secret, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	rc := &hookReceiver{addr: freeAddr(t), secret: secret, got: map[string]int{}, types: map[string]string{}}
	api := freeAddr(t)
	data, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("timeout: 10s}")) {
		t.Fatalf("the test configuration changed; set sftp.download_schedule another way:\n%s", data)
	}
	data = bytes.Replace(data, []byte("timeout: 10s}"), []byte("timeout: 10s, download_schedule: \"@every 1s\"}"), 1)
	data = fmt.Appendf(data, `http: {listen: %q}
alarms: {status_within: 1s}
notify:
  status_url: "http://%s/status"
  webhooks:
    - url: "http://%s/hooks/refundd"
      secret_file: webhook.secret
      events: [refund-rejected, refund-returned, batch-rejected, batch-in-doubt, alarm]
      timeout: 2s
      retry_min: 50ms
      retry_max: 500ms
`, api, api, rc.addr)
	if err := os.WriteFile(config, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// The bank answers slowly enough that a sent batch waits past
	// alarms.status_within: alarms are raised and cleared too.
	br := startBankDelay(t, dir, up, down, 1500*time.Millisecond)
	defer br.stop()
	export := filepath.Join(dir, "export")

	var logs *testutil.SyncBuffer
	var cmd *exec.Cmd
	exited := make(chan error, 1)
	start := func() {
		t.Helper()
		cmd = exec.Command(bin, "run", "-config", config)
		logs = &testutil.SyncBuffer{}
		cmd.Stdout, cmd.Stderr, cmd.WaitDelay = logs, logs, waitDelay
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited = make(chan error, 1)
		go func(c *exec.Cmd) { exited <- c.Wait() }(cmd)
	}
	kill := func() {
		t.Helper()
		cmd.Process.Signal(syscall.SIGKILL)
		err := <-exited
		var ee *exec.ExitError
		if ws, ok := exitStatus(err, &ee); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("refundd ended otherwise than by the kill (%v); log:\n%s", err, tail(logs))
		}
	}
	hooks := func() []webhook.State {
		resp, err := http.Get("http://" + api + "/api/webhooks")
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var v struct{ Webhooks []webhook.State }
		if json.NewDecoder(resp.Body).Decode(&v) != nil || len(v.Webhooks) != 1 {
			return nil
		}
		return v.Webhooks
	}
	waitFor := func(what string, within time.Duration, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(within); !cond(); time.Sleep(50 * time.Millisecond) {
			select {
			case err := <-exited:
				t.Fatalf("%s: refundd ended (%v); log:\n%s", what, err, tail(logs))
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s; log:\n%s", what, within, tail(logs))
			}
		}
	}

	// Run 1: the receiver is down; events wait, the failures show.
	start()
	for i := range 3 {
		name, content := webhookBatch(i, i == 1)
		dropBatch(t, export, name, content)
	}
	waitFor("failed deliveries while the receiver is down", time.Minute, func() bool {
		h := hooks()
		return h != nil && h[0].LastErrorAt != nil && strings.Contains(h[0].LastError, "connection refused")
	})
	// The receiver comes up; refundd is killed in its first delivery.
	held := rc.holdNext()
	rc.start(t)
	var inFlight []string
	select {
	case id := <-held:
		inFlight = append(inFlight, id)
	case <-time.After(time.Minute):
		t.Fatalf("no delivery within a minute of the receiver's start; log:\n%s", tail(logs))
	}
	kill()

	// Run 2: more batches; killed again in a delivery once some went
	// through.
	start()
	for i := 3; i < 6; i++ {
		name, content := webhookBatch(i, i == 4)
		dropBatch(t, export, name, content)
	}
	waitFor("deliveries after the restart", time.Minute, func() bool { return rc.delivered() >= 4 })
	held = rc.holdNext()
	select {
	case id := <-held:
		inFlight = append(inFlight, id)
	case <-time.After(time.Minute):
		t.Fatalf("no delivery within a minute; log:\n%s", tail(logs))
	}
	kill()

	// Run 3, to the end: everything is answered by the bank and
	// announced.
	start()
	waitQuiet(dir, filepath.Join(dir, "state"), up, down, br)
	waitFor("every event announced", 2*time.Minute, func() bool {
		h := hooks()
		return h != nil && h[0].Pending == 0 && h[0].Delivered > 0
	})
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the last run: %v\n%s", err, tail(logs))
		}
	case <-time.After(stopWithin):
		cmd.Process.Kill()
		t.Fatalf("the last run did not stop within %v of SIGTERM", stopWithin)
	}

	s, err := store.Open(filepath.Join(dir, "state", store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want, err := s.NoticesAfter(t.Context(), 0, store.Notices(), 10000)
	if err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, b := range rc.bad {
		t.Error(b)
	}
	byType := map[string]int{}
	var missing []string
	wantIDs := map[string]bool{}
	for _, e := range want {
		id := webhook.EventID("987654325", e.ID)
		wantIDs[id] = true
		if rc.got[id] == 0 {
			missing = append(missing, fmt.Sprintf("%s (%s %s → %s)", id, e.SubjectID, e.From, e.To))
			continue
		}
		byType[rc.types[id]]++
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d events never arrived: %v", len(missing), len(want), missing)
	}
	for id := range rc.got {
		if !wantIDs[id] {
			t.Errorf("event %s arrived but is no event of the store", id)
		}
	}
	for _, id := range inFlight {
		if rc.got[id] == 0 {
			t.Errorf("event %s, in flight when refundd was killed, was not delivered again", id)
		}
	}
	for _, typ := range []string{"refund-rejected", "refund-returned", "batch-rejected"} {
		if byType[typ] == 0 {
			t.Errorf("no %s event among %v", typ, byType)
		}
	}
	dups := 0
	for _, n := range rc.got {
		dups += n - 1
	}
	t.Logf("%d events announced %v, %d requests, %d duplicates (at least once), %d in flight at a kill", len(want), byType, rc.requests, dups, len(inFlight))
}

// exitStatus returns the wait status of a command's error.
func exitStatus(err error, ee **exec.ExitError) (syscall.WaitStatus, bool) {
	if !errors.As(err, ee) {
		return 0, false
	}
	ws, ok := (*ee).Sys().(syscall.WaitStatus)
	return ws, ok
}
