package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"refundd/daemon/config"
	"refundd/daemon/refund"
	"refundd/daemon/store"
)

const (
	org      = "987654325"
	payee    = "12345678903"
	ourAcct  = "86011117947"
	testSeed = 7
)

var secret = []byte("webhook secret")

// openStore opens a new SQLite store in a temporary folder.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newBatch records batch number with n refunds, sending.
func newBatch(t *testing.T, s *store.Store, number string, n int) (store.Batch, []store.Refund) {
	t.Helper()
	msgID := refund.MsgID(org, number, 0)
	b := store.Batch{MsgID: msgID, Number: number, Status: store.BatchSending, LocalPath: "/state/outbox/" + msgID + ".xml",
		RemoteName: msgID + ".xml", PainHash: strings.Repeat("a", 64), MsgCreated: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	rs := make([]store.Refund, n)
	for i := range rs {
		ref := fmt.Sprintf("%s-%d", number, i+1)
		e2e := refund.EndToEndID(refund.CreditNote, ref, 0)
		rs[i] = store.Refund{Sent: refund.Sent{RefNbr: ref, CustomerID: "C-" + ref, PmtInfID: refund.PmtInfID(msgID, 1),
			EndToEndID: e2e, InstrID: e2e, Amount: refund.Amount{Minor: int64(12345 + i), Currency: "NOK"},
			ExecutionDate: refund.DateOf(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)), CreditorAccount: payee,
			DebtorAccount: ourAcct, DebtorLedgerAccount: "1920"}, DocType: refund.CreditNote}
	}
	if err := s.CreateBatch(t.Context(), b, rs); err != nil {
		t.Fatal(err)
	}
	return b, rs
}

// events makes round r's business events: a batch in doubt, one refund
// rejected, one returned, a batch file rejected, an alarm raised and
// cleared.
func events(t *testing.T, s *store.Store, r int) {
	t.Helper()
	ctx := t.Context()
	b, rs := newBatch(t, s, fmt.Sprintf("WH%03d", r), 3)
	if _, err := s.SetBatchStatus(ctx, b.MsgID, store.BatchInDoubt, "the connection broke during the upload"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetRefundStatus(ctx, rs[0].EndToEndID, refund.StatusRejected, "AC04", "Closed account"); err != nil {
		t.Fatal(err)
	}
	for _, st := range []refund.Status{refund.StatusSent, refund.StatusBooked, refund.StatusReturned} {
		if _, err := s.SetRefundStatus(ctx, rs[1].EndToEndID, st, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	name := fmt.Sprintf("batch-bad-%d.csv", r)
	hash := fmt.Sprintf("%064x", r)
	if _, err := s.RecordFile(ctx, hash, name, store.FileBatch); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishFile(ctx, hash, store.FileFailed, "2 problem(s)"); err != nil {
		t.Fatal(err)
	}
	a := store.Alarm{Key: store.AlarmKey("no_status", b.MsgID), Kind: "no_status", Subject: b.MsgID, Detail: "no status report"}
	if _, _, err := s.SyncAlarms(ctx, []store.Alarm{a}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SyncAlarms(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

// receiver is a real HTTP server on a loopback port that can be down,
// stall, fail and come back on the same port. It checks every request's
// signature and records the ids it answered 2xx.
type receiver struct {
	t    *testing.T
	addr string

	mu       sync.Mutex
	srv      *http.Server
	script   []string // what the next requests get: "stall", "500", "429", "400"; then "ok"
	requests int
	got      map[string]int // 2xx answers by event id
	order    []string       // the ids answered 2xx, in order
	bad      []string
	stalled  int
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down until start
	r := &receiver{t: t, addr: addr, got: map[string]int{}}
	t.Cleanup(r.stop)
	return r
}

func (r *receiver) url() string { return "http://" + r.addr + "/hooks/refundd" }

func (r *receiver) start(script ...string) {
	r.t.Helper()
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ln, err = net.Listen("tcp", r.addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		r.t.Fatalf("receiver: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 5 * time.Second}
	r.mu.Lock()
	r.srv, r.script = srv, script
	r.mu.Unlock()
	go srv.Serve(ln)
}

func (r *receiver) stop() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	r.mu.Lock()
	r.requests++
	next := "ok"
	if len(r.script) > 0 {
		next, r.script = r.script[0], r.script[1:]
	}
	r.mu.Unlock()
	if err != nil {
		return
	}
	var b Body
	verr := Verify(secret, req.Header.Get(HeaderTimestamp), body, req.Header.Get(HeaderSignature), time.Now(), 5*time.Minute)
	if jerr := json.Unmarshal(body, &b); verr != nil || jerr != nil || b.ID != req.Header.Get(HeaderEventID) || b.ID == "" {
		r.mu.Lock()
		r.bad = append(r.bad, fmt.Sprintf("request %s: signature %v, body %v, header id %q", b.ID, verr, jerr, req.Header.Get(HeaderEventID)))
		r.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	switch next {
	case "stall":
		r.mu.Lock()
		r.stalled++
		r.mu.Unlock()
		select { // longer than the timeout: the sender gives up first
		case <-req.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return
	case "500":
		http.Error(w, "database down", http.StatusInternalServerError)
		return
	case "429":
		w.Header().Set("Retry-After", "0")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	case "400":
		http.Error(w, "unknown event type", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.got[b.ID]++
	r.order = append(r.order, b.ID)
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// waitFor waits up to 30 s for cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30s", what)
		}
	}
}

func allNotices() []store.Notice { return store.Notices() }

// TestDeliveryFailingReceiver: a receiver that is down for the first
// deliveries, then stalls longer than the timeout, answers 500, 429 and
// 400, is stopped and started again, gets every event at least once and
// in order of first delivery, each signed, with the id of its event.
func TestDeliveryFailingReceiver(t *testing.T) {
	t.Logf("seed %d", testSeed)
	s := openStore(t)
	rc := newReceiver(t)
	h := Hook{Name: "erp", URL: rc.url(), Secret: secret, Notices: allNotices(),
		Timeout: 200 * time.Millisecond, RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond}
	// The state the Deliverer reports as it reads it (the daemon's health
	// shows it without reading the store again).
	var reportedMu sync.Mutex
	var reported store.WebhookState
	reportedState := func() store.WebhookState {
		reportedMu.Lock()
		defer reportedMu.Unlock()
		return reported
	}
	d := New(Options{Hooks: []Hook{h}, Company: Company{Name: "Acme AS", OrgNumber: org}, Store: s, Poll: 50 * time.Millisecond, Seed: testSeed,
		OnState: func(got Hook, st store.WebhookState) {
			if got.Name != h.Name {
				t.Errorf("state reported for %q", got.Name)
			}
			reportedMu.Lock()
			reported = st
			reportedMu.Unlock()
		}})
	ctx, cancel := context.WithCancel(t.Context())
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() { defer close(stopped); d.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Error("Run did not stop within 10s of its context's end")
		}
	}()
	status := func() store.WebhookState {
		st, err := s.WebhookStatus(t.Context(), h.URL, h.Notices)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}

	// Down: the first attempts fail, and are recorded.
	events(t, s, 1)
	d.Kick()
	waitFor(t, "failed attempts while the receiver is down", func() bool { return strings.Contains(status().LastError, "connection refused") })
	if st := status(); st.Delivered != 0 || st.Pending != 6 {
		t.Errorf("while down: %+v; want 6 pending", st)
	}
	waitFor(t, "the failure reported while the receiver is down", func() bool {
		st := reportedState()
		return st.Failing() && st.Pending == 6
	})
	// Up, but it stalls, fails and refuses before it takes anything.
	rc.start("stall", "stall", "500", "429", "400", "500")
	events(t, s, 2)
	waitFor(t, "half of the events", func() bool { return status().Delivered >= 6 })
	// Stopped and started again while events keep coming.
	rc.stop()
	events(t, s, 3)
	d.Kick()
	waitFor(t, "a failed attempt while stopped", func() bool { return status().LastErrorAt.After(status().LastSuccess) })
	rc.start("500")
	events(t, s, 4)
	d.Kick()
	waitFor(t, "every event", func() bool { return status().Pending == 0 })
	waitFor(t, "every event delivered, reported", func() bool {
		st := reportedState()
		return st.Pending == 0 && !st.Failing() && !st.LastSuccess.IsZero()
	})

	want, err := s.NoticesAfter(t.Context(), 0, allNotices(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, b := range rc.bad {
		t.Error(b)
	}
	var missing []string
	var first []string // the ids in the order of their first delivery
	seen := map[string]bool{}
	for _, id := range rc.order {
		if !seen[id] {
			seen[id] = true
			first = append(first, id)
		}
	}
	var ids []string
	for _, e := range want {
		id := EventID(org, e.ID)
		ids = append(ids, id)
		if rc.got[id] == 0 {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d events never arrived: %v", len(missing), len(want), missing)
	}
	if !slices.Equal(first, ids) {
		t.Errorf("first deliveries in the order\n%v\nwant the events' order\n%v", first, ids)
	}
	if len(want) != 24 || rc.stalled != 2 {
		t.Errorf("%d events, %d stalled requests; want 24 and 2", len(want), rc.stalled)
	}
	if st := status(); st.Delivered != int64(len(want)) || st.Failures != 0 {
		t.Errorf("at the end: %+v; want %d delivered", st, len(want))
	}
	t.Logf("%d events, %d requests, %d duplicates", len(want), rc.requests, len(rc.order)-len(first))
}

// TestDeliveryStopsDuringRequest: Run returns promptly when its context
// ends during a stalled request, and that event is delivered again by the
// next Deliverer.
func TestDeliveryStopsDuringRequest(t *testing.T) {
	s := openStore(t)
	rc := newReceiver(t)
	h := Hook{Name: "erp", URL: rc.url(), Secret: secret, Notices: allNotices(),
		Timeout: time.Minute, RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond}
	opts := Options{Hooks: []Hook{h}, Company: Company{OrgNumber: org}, Store: s, Poll: 20 * time.Millisecond, Seed: testSeed}
	d := New(opts)
	if err := d.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	rc.start("stall")
	events(t, s, 1)
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	go func() { defer close(stopped); d.Run(ctx) }()
	waitFor(t, "the stalled request", func() bool { rc.mu.Lock(); defer rc.mu.Unlock(); return rc.stalled == 1 })
	cancel()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop within 10s during a request")
	}
	if through, _ := s.WebhookCursor(t.Context(), h.URL); through != 0 {
		t.Fatalf("the cursor moved to %d for an event not answered", through)
	}
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	go New(opts).Run(ctx)
	waitFor(t, "every event", func() bool { rc.mu.Lock(); defer rc.mu.Unlock(); return len(rc.got) == 6 })
}

// TestBody: what an announcement says of a rejected refund, and its
// signature.
func TestBody(t *testing.T) {
	s := openStore(t)
	if err := s.StartWebhook(t.Context(), "https://erp.example/h"); err != nil {
		t.Fatal(err)
	}
	events(t, s, 1)
	es, err := s.NoticesAfter(t.Context(), 0, []store.Notice{store.NoticeRefundRejected, store.NoticeAlarm, store.NoticeBatchInDoubt, store.NoticeBatchRejected}, 10)
	if err != nil || len(es) != 5 {
		t.Fatalf("NoticesAfter() = %v, %v", es, err)
	}
	var bodies []Body
	for _, e := range es {
		data, err := build(t.Context(), s, Company{Name: "Acme AS", OrgNumber: org}, "https://refundd.example/status", e)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), payee) {
			t.Errorf("the payee's account in clear: %s", data)
		}
		var b Body
		if err := json.Unmarshal(data, &b); err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, b)
	}
	in, rj, failed, raised, cleared := bodies[0], bodies[1], bodies[2], bodies[3], bodies[4]
	if failed.Type != "batch-rejected" || failed.Batch == nil || failed.Batch.RejectedBy != "refundd" || failed.Batch.File == nil ||
		failed.Batch.File.Name != "batch-bad-1.csv" || failed.Reason == nil || failed.Reason.Text != "2 problem(s)" || failed.StatusURL != "" {
		t.Errorf("batch file rejected: %+v %+v", failed, failed.Batch)
	}
	msgID := refund.MsgID(org, "WH001", 0)
	if in.Type != "batch-in-doubt" || in.Batch == nil || in.Batch.MsgID != msgID || in.Batch.Number != "WH001" || in.Refund != nil ||
		in.Reason == nil || in.Reason.Text != "the connection broke during the upload" || in.ID != EventID(org, es[0].ID) {
		t.Errorf("in doubt: %+v", in)
	}
	if rj.Type != "refund-rejected" || rj.Refund == nil || rj.Refund.RefNbr != "WH001-1" || rj.Refund.AmountMinor != 12345 ||
		rj.Refund.Amount != "123.45" || rj.Refund.Currency != "NOK" || rj.Refund.Account != "*******8903" || rj.Refund.Status != "rejected" ||
		rj.Reason == nil || rj.Reason.Code != "AC04" || rj.Reason.Text != "Closed account" || rj.Reason.Words != "The account is closed." ||
		rj.StatusURL != "https://refundd.example/status?batch="+msgID || rj.Company.OrgNumber != org || rj.OccurredAt.IsZero() {
		t.Errorf("rejected: %+v %+v %+v", rj, rj.Refund, rj.Reason)
	}
	if raised.Type != "alarm-raised" || raised.Alarm == nil || raised.Alarm.Kind != "no_status" || raised.Alarm.Subject != msgID ||
		cleared.Type != "alarm-cleared" || cleared.Alarm.State != "cleared" || cleared.Batch == nil || cleared.Batch.MsgID != msgID {
		t.Errorf("alarm: %+v %+v, %+v %+v", raised, raised.Alarm, cleared, cleared.Alarm)
	}
}

// TestSignature: Verify takes what Sign made, and refuses a changed body,
// another secret, another timestamp and an old one.
func TestSignature(t *testing.T) {
	body := []byte(`{"id":"refundd-987654325-1"}`)
	now := time.Unix(1_800_000_000, 0)
	sig := Sign(secret, now.Unix(), body)
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 {
		t.Fatalf("Sign() = %q", sig)
	}
	ts := fmt.Sprint(now.Unix())
	for _, tc := range []struct {
		name    string
		secret  []byte
		ts      string
		body    []byte
		sig     string
		now     time.Time
		wantErr bool
	}{
		{"as sent", secret, ts, body, sig, now, false},
		{"a little later", secret, ts, body, sig, now.Add(time.Minute), false},
		{"body changed", secret, ts, append(body, ' '), sig, now, true},
		{"another secret", []byte("other"), ts, body, sig, now, true},
		{"another timestamp", secret, fmt.Sprint(now.Unix() + 1), body, sig, now, true},
		{"replayed later", secret, ts, body, sig, now.Add(time.Hour), true},
		{"not a number", secret, "soon", body, sig, now, true},
	} {
		err := Verify(tc.secret, tc.ts, tc.body, tc.sig, tc.now, 5*time.Minute)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: Verify() = %v; want error %v", tc.name, err, tc.wantErr)
		}
	}
}

// TestBackoff: the wait doubles from RetryMin, never exceeds RetryMax, and
// is at least half of its step.
func TestBackoff(t *testing.T) {
	h := &Hook{RetryMin: 100 * time.Millisecond, RetryMax: time.Second}
	rnd := rand.New(rand.NewPCG(testSeed, 1))
	for n, step := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		step *= time.Millisecond
		for range 50 {
			if w := backoff(h, n+1, rnd); w < step/2 || w > step {
				t.Fatalf("backoff(%d) = %v; want within [%v, %v]", n+1, w, step/2, step)
			}
		}
	}
	if w := backoff(h, 1000, rnd); w > time.Second {
		t.Errorf("backoff(1000) = %v", w)
	}
}

// TestEventNames: the configuration's event names are the store's.
func TestEventNames(t *testing.T) {
	var names []string
	for _, n := range store.Notices() {
		names = append(names, string(n))
	}
	if !slices.Equal(names, config.WebhookEvents) {
		t.Errorf("store notices %v, configuration events %v", names, config.WebhookEvents)
	}
}

// TestStateReportedAfterFailure: a failed delivery is reported at once,
// not only when the wait before the next attempt (here a minute) is over,
// so that the status page shows a receiver that is down.
func TestStateReportedAfterFailure(t *testing.T) {
	s := openStore(t)
	rc := newReceiver(t) // down
	h := Hook{Name: "erp", URL: rc.url(), Secret: secret, Notices: allNotices(),
		Timeout: time.Second, RetryMin: time.Minute, RetryMax: time.Minute}
	var mu sync.Mutex
	var last store.WebhookState
	d := New(Options{Hooks: []Hook{h}, Company: Company{OrgNumber: org}, Store: s, Poll: time.Minute, Seed: testSeed,
		OnState: func(_ Hook, st store.WebhookState) { mu.Lock(); last = st; mu.Unlock() }})
	ctx, cancel := context.WithCancel(t.Context())
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() { defer close(stopped); d.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Error("Run did not stop within 10s of its context's end")
		}
	}()
	events(t, s, 1)
	d.Kick()
	waitFor(t, "the failure reported", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return last.Failing() && last.Pending > 0
	})
}
