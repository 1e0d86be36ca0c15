package status

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"refundd/daemon/obs"
	"refundd/daemon/refund"
	"refundd/daemon/store"
)

// cockpitStore is pageStore with what needs attention and the search: the
// rejected refund CN2 not paid again, a batch in doubt, an exception, and
// the history of the booked refund CN1.
type cockpitStore struct {
	pageStore
	searched *[]string // "by=value" of each FindRefunds
}

// Full account numbers that must never be shown.
const (
	creditorAccount = "97100000044"
	ourAccount      = "86011117947"
	replyHash       = "90e59ea253883d1f87f7d3103a2d74fafbd89148e00c32f26a1fe792bdbf76e4"
)

var inDoubtBatch = store.Batch{MsgID: "RFD-B9-Y", Number: "B9", Status: store.BatchInDoubt, NbOfTxs: 1,
	RemoteName: "/inbound/RFD-B9-Y.xml", Reason: "refundd stopped during upload attempt 1"}

func (c cockpitStore) withAccount(r store.Refund) store.Refund {
	r.CreditorAccount, r.Batch, r.MsgID = creditorAccount, "B1", "RFD-B1-X"
	return r
}

func (c cockpitStore) NotPaidAgain(context.Context, int) ([]store.Refund, error) {
	return []store.Refund{c.withAccount(c.refunds()[1])}, nil
}

func (c cockpitStore) ExceptionsSince(context.Context, time.Time, int) ([]store.ExceptionEntry, error) {
	return []store.ExceptionEntry{{Account: ourAccount, Entry: "EXC-REF-1", Tx: "TX-1", File: "camt054-x.xml", Applied: time.Now()}}, nil
}

func (c cockpitStore) BatchesByStatus(_ context.Context, sts ...store.BatchStatus) ([]store.Batch, error) {
	if len(sts) == 1 && sts[0] == store.BatchInDoubt {
		return []store.Batch{inDoubtBatch}, nil
	}
	return nil, nil
}

func (c cockpitStore) FindRefunds(_ context.Context, by store.SearchBy, value string, _ int) ([]store.Refund, error) {
	*c.searched = append(*c.searched, string(by)+"="+value)
	var out []store.Refund
	for _, r := range c.refunds() {
		if by == store.ByRefNbr && r.RefNbr == value || by == store.ByAccountTail && strings.HasSuffix(creditorAccount, value) {
			out = append(out, c.withAccount(r))
		}
	}
	return out, nil
}

func (c cockpitStore) RefundHistory(_ context.Context, e2e string) (store.History, error) {
	if e2e != "CN-CN1-AAAA" {
		return store.History{}, store.ErrNotFound
	}
	r := c.withAccount(c.refunds()[0])
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	return store.History{Refund: r, Batch: pageBatch, Releases: []store.Refund{r},
		Events: []store.Event{
			{ID: 1, At: at, SubjectType: store.SubjectRefund, SubjectID: e2e, To: "new", Detail: "batch B1 MsgId RFD-B1-X"},
			{ID: 2, At: at.Add(time.Second), SubjectType: store.SubjectBatch, SubjectID: "RFD-B1-X", From: "sending", To: "sent"},
			{ID: 3, At: at.Add(time.Hour), SubjectType: store.SubjectRefund, SubjectID: e2e, From: "accepted", To: "booked",
				Detail: "reply " + replyHash},
		},
		Bookings: []store.Booking{{Kind: refund.KindPayment, BankRef: "BANKREF-1", File: "camt054-booked.xml", Applied: at.Add(time.Hour)}},
		Files:    map[string]string{replyHash: "camt054-booked.xml"},
	}, nil
}

// cockpit returns the mux of a status page over cockpitStore with a
// daemon's health and a failed/ folder holding a refused batch file and
// the report of a reply refused on the server.
func cockpit(t *testing.T) (*http.ServeMux, *[]string) {
	t.Helper()
	failed := t.TempDir()
	for name, content := range map[string]string{
		"batch-7.csv":      "DocType;RefNbr\n",
		"batch-7.csv.err":  "line 3: Amount: missing\nline 4: Account: check digits\n",
		"huge.xml.err":     "too large: 9 GiB, limits.max_reply_size is 64MiB\n",
		".batch-8.csv.tmp": "being written",
	} {
		if err := os.WriteFile(filepath.Join(failed, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	age := int64(42)
	health := obs.Health{Build: obs.Build{Version: "v9.9.9"}, UptimeSeconds: 3600, Daemon: &obs.DaemonHealth{
		Upload: obs.Activity{Last: time.Now().Add(-42 * time.Second), AgeSeconds: &age},
		SFTP:   obs.SFTPHealth{Checked: time.Now(), Reachable: false, LastError: "dial tcp: connection refused"},
		Watch:  obs.WatchEvents,
		Overdue: []obs.Overdue{{Kind: obs.AlarmNoBooking, Batch: "B1", MsgID: "RFD-B1-X", EndToEndID: "CN-CN1-AAAA", RefNbr: "CN1",
			Detail: "accepted, no booking"}},
		Webhooks: []obs.WebhookHealth{
			{Name: "erp", Pending: 3, Failing: true, LastError: "POST: 503 Service Unavailable", LastErrorAt: time.Now(),
				OldestPending: time.Now().Add(-time.Hour)},
			{Name: "chat", Pending: 0, LastSuccess: time.Now()},
		},
	}}
	var searched []string
	mux := http.NewServeMux()
	HandleWith(mux, cockpitStore{searched: &searched}, Options{Health: func() obs.Health { return health },
		Failed: []FailedDir{{Kind: "export", Dir: failed}, {Kind: "inbox", Dir: filepath.Join(failed, "none")}},
		Config: "/etc/refundd/refundd.yaml"})
	return mux, &searched
}

// TestNeedsAttention: the status page begins with what needs an operator,
// each item with what to do and a link to its batch or refund, then the
// health strip and the batches; the same is at /api/attention. No
// account number is shown in full.
func TestNeedsAttention(t *testing.T) {
	mux, _ := cockpit(t)
	rec := get(t, mux, "/status")
	body := rec.Body.String()
	if rec.Code != 200 {
		t.Fatalf("/status: %d %s", rec.Code, body)
	}
	attention, batches := strings.Index(body, "Needs attention"), strings.Index(body, "<h2>Batches</h2>")
	if attention < 0 || batches < attention {
		t.Errorf("needs attention is not above the batches:\n%s", body)
	}
	for _, want := range []string{
		// The rejected refund: reason in code and words, the command, links.
		`<tr data-ref="CN2"><td><a href="/status/refund/CN-CN2-BBBB">CN2</a>`, `<a href="/status?batch=RFD-B1-X">B1</a>`,
		`<code>AC04</code> account closed (bank: Closed &lt;account&gt;)`,
		`refundd rerelease -config /etc/refundd/refundd.yaml CN-CN2-BBBB`,
		// The batch in doubt: what to check, both commands.
		`/inbound/RFD-B9-Y.xml`, `refundd resolve -config /etc/refundd/refundd.yaml -sent RFD-B9-Y`,
		`refundd resolve -config /etc/refundd/refundd.yaml -release RFD-B9-Y`, `refundd stopped during upload attempt 1`,
		// The exception, the failed files with their reasons, the alarm.
		`EXC-REF-1`, `camt054-x.xml`, `*******7947`,
		`<code>batch-7.csv</code></td><td class="reason">line 3: Amount: missing</td>`,
		`<code>huge.xml</code></td><td class="reason">too large: 9 GiB`,
		`<tr data-alarm="no_booking">`, `<a href="/status/refund/CN-CN1-AAAA">CN1</a>`,
		// The health strip.
		`last upload: <b>42s ago</b>`, `last download: <b>none since start</b>`, `<b class="bad">failing</b> (dial tcp: connection refused)`,
		`new files by: <b>file events</b>`, `version <b>v9.9.9</b>`, `up <b>1h0m0s</b>`,
		`webhook erp: <b class="bad">failing</b>, 3 waiting`, `webhook chat: <b class="good">delivered</b>`,
		// The webhook that fails with events waiting; not the one that works.
		`<tr data-webhook="erp"><td>erp</td><td class="bad">3</td>`, `POST: 503 Service Unavailable`,
		// The batches with their counts.
		`booked 1</span> · <span class="bad">rejected 1`,
		// The search box works without a script.
		`<form class="search" method="get" action="/status/search"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/status lacks %q", want)
		}
	}
	for _, absent := range []string{creditorAccount, ourAccount, ".batch-8.csv.tmp", "line 4"} {
		if strings.Contains(body, absent) {
			t.Errorf("/status shows %q", absent)
		}
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "form-action 'self'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}

	api := get(t, mux, "/api/attention")
	var a Attention
	if err := json.Unmarshal(api.Body.Bytes(), &a); err != nil {
		t.Fatalf("/api/attention: %v\n%s", err, api.Body)
	}
	if len(a.Refunds) != 1 || a.Refunds[0].Account != "*******0044" || a.Refunds[0].Words == "" || len(a.InDoubt) != 1 ||
		len(a.Exceptions) != 1 || len(a.Failed) != 2 || len(a.Overdue) != 1 ||
		len(a.Webhooks) != 1 || a.Webhooks[0].Name != "erp" {
		t.Errorf("/api/attention: %s", api.Body)
	}
	for _, absent := range []string{creditorAccount, ourAccount} {
		if strings.Contains(api.Body.String(), absent) {
			t.Errorf("/api/attention shows %q", absent)
		}
	}
}

// TestNothingNeedsAttention: a store that offers nothing of it, without a
// daemon, shows the page with nothing to do and no health strip.
func TestNothingNeedsAttention(t *testing.T) {
	mux := http.NewServeMux()
	Handle(mux, pageStore{}, nil)
	body := get(t, mux, "/status").Body.String()
	if !strings.Contains(body, "Nothing needs attention.") || strings.Contains(body, `id="health"`) {
		t.Errorf("/status:\n%s", body)
	}
}

// TestSearchAndTimeline: a search finds refunds by each way that fits
// what was typed; a refund's page shows its history in order, with the
// bank's reference at its booking, as HTML and JSON, its account masked.
func TestSearchAndTimeline(t *testing.T) {
	mux, searched := cockpit(t)
	body := get(t, mux, "/status/search?q=+CN1+").Body.String()
	if !strings.Contains(body, `<tr data-ref="CN1"><td><a href="/status/refund/CN-CN1-AAAA">CN1</a>`) ||
		!strings.Contains(body, `value="CN1"`) {
		t.Errorf("search by RefNbr:\n%s", body)
	}
	if got := strings.Join(*searched, " "); got != "endToEndId=CN1 refNbr=CN1 customerId=CN1" {
		t.Errorf("searched %s", got)
	}
	*searched = nil
	api := get(t, mux, "/api/search?q=0000.44")
	var f Found
	if err := json.Unmarshal(api.Body.Bytes(), &f); err != nil || len(f.Refunds) != 2 || f.Refunds[0].Account != "*******0044" {
		t.Errorf("search by account tail: %v %s", err, api.Body)
	}
	if got := strings.Join(*searched, " "); !strings.HasSuffix(got, "account=000044") {
		t.Errorf("searched %s; want the account's tail without its dots", got)
	}
	if strings.Contains(api.Body.String(), creditorAccount) {
		t.Errorf("the search shows the account in full: %s", api.Body)
	}
	if body := get(t, mux, "/api/search?q=RFD-B1-X").Body.String(); !strings.Contains(body, `"msgId": "RFD-B1-X"`) {
		t.Errorf("search by MsgId: %s", body)
	}

	rec := get(t, mux, "/status/refund/CN-CN1-AAAA")
	body = rec.Body.String()
	steps := strings.Count(body, "<tr data-subject=")
	booked := strings.Index(body, `booked by the bank`)
	if rec.Code != 200 || steps != 3 || booked < strings.Index(body, "uploaded to the bank") ||
		!strings.Contains(body[booked:], `<code class="bankref">BANKREF-1</code></td><td><code>camt054-booked.xml</code>`) {
		t.Errorf("/status/refund/CN-CN1-AAAA (%d steps):\n%s", steps, body)
	}
	if strings.Contains(body, creditorAccount) || !strings.Contains(body, "*******0044") {
		t.Errorf("the refund's account is not masked")
	}
	var tl Timeline
	api = get(t, mux, "/api/refunds/CN-CN1-AAAA")
	if err := json.Unmarshal(api.Body.Bytes(), &tl); err != nil || len(tl.Steps) != 3 || tl.Steps[2].BankRef != "BANKREF-1" ||
		tl.Refund.Account != "*******0044" || tl.Command != "" {
		t.Errorf("/api/refunds/CN-CN1-AAAA: %v %s", err, api.Body)
	}
	if rec := get(t, mux, "/status/refund/NOPE"); rec.Code != http.StatusNotFound {
		t.Errorf("unknown refund: %d", rec.Code)
	}
}

func TestReasonWords(t *testing.T) {
	for _, tt := range []struct{ code, text, want string }{
		{"AC04", "", "account closed"},
		{"AC04", "Konto avsluttet", "account closed (bank: Konto avsluttet)"},
		{"AC04", "Account closed", "account closed"},
		{"XY99", "Something", "Something"},
		{"", "", "no reason given"},
	} {
		if got := ReasonWords(tt.code, tt.text); got != tt.want {
			t.Errorf("ReasonWords(%q, %q) = %q; want %q", tt.code, tt.text, got, tt.want)
		}
	}
}
