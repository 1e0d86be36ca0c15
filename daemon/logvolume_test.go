package daemon

import (
	"bufio"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"refundd/daemon/erp"
	"refundd/daemon/obs"
	"refundd/daemon/refund"
	"refundd/daemon/sandbox"
	"refundd/daemon/store"
	"refundd/internal/testutil"
)

// TestReplyLogVolume: a batch of 10,000 refunds, of which the bank rejects
// some and returns some, is paid by the sandbox bank (receipt, status
// report, booking, return). Applying its replies logs, at info, a number
// of lines that does not grow with the refunds (one summary per reply and
// the batch's own changes), and one warning for each rejected or returned
// refund, with its RefNbr, EndToEndId and the bank's reason. The figures
// (lines and bytes, JSON at level info as in production) are in the
// test's log.
func TestReplyLogVolume(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 refunds through the daemon")
	}
	const n = 10_000
	e := newDaemonEnv(t)
	src := testutil.BenchBatch(t, t.TempDir(), n)
	lines := strings.Split(strings.TrimSuffix(string(readFile(t, src)), "\n"), "\n")
	wantRejected, wantReturned := map[string]bool{}, map[string]bool{}
	for i := 1; i < len(lines); i++ {
		f := strings.Split(lines[i], ";")
		switch {
		case i%1000 == 17:
			f[7] = sandbox.AccountClosed
			wantRejected[f[2]] = true
		case i%2500 == 41:
			f[7] = sandbox.AccountReturned
			wantReturned[f[2]] = true
		default:
			continue
		}
		lines[i] = strings.Join(f, ";")
	}
	drop(t, filepath.Join(e.dir, "export"), "mass.csv", []byte(strings.Join(lines, "\n")+"\n"))

	var logs testutil.SyncBuffer
	log, err := obs.NewLogger(&logs, "info", "json", false)
	if err != nil {
		t.Fatal(err)
	}
	opts := e.options(t)
	opts.Logger = log
	d := e.daemon(t, opts)
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	sendLog := logs.String()
	bank := sandbox.NewBank(sandbox.BankConfig{UploadDir: e.up, DownloadDir: e.down, Delay: time.Millisecond,
		Poll: time.Millisecond, Now: e.clock, Logger: zerolog.Nop()})
	bankSteps(t, bank)
	replies := len(files(t, e.down))
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	applyLog := strings.TrimPrefix(logs.String(), sendLog)

	type line struct {
		Level, Message, Status, Ref, E2E, Reason, ReasonCode string
		Refunds                                              map[string]int
	}
	byLevel := map[string]int{}
	var info, applied int
	gotRejected, gotReturned := map[string]bool{}, map[string]bool{}
	counted := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(applyLog))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l line
		raw := map[string]any{}
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		l.ReasonCode, _ = raw["reason_code"].(string)
		byLevel[l.Level]++
		switch {
		case l.Level == "info":
			info++
			if l.Message == "reply applied" {
				applied++
				for st, k := range l.Refunds {
					counted[st] += k
				}
			}
		case l.Level == "warn" && (l.Status == string(refund.StatusRejected) || l.Status == string(refund.StatusReturned)):
			if l.Ref == "" || l.E2E == "" || l.ReasonCode == "" {
				t.Errorf("a warning without RefNbr, EndToEndId or reason code: %s", sc.Text())
			}
			m := gotRejected
			if l.Status == string(refund.StatusReturned) {
				m = gotReturned
			}
			if m[l.Ref] {
				t.Errorf("two warnings for %s %s", l.Status, l.Ref)
			}
			m[l.Ref] = true
		}
	}
	t.Logf("%d refunds, %d replies: sending logged %d lines, %d bytes; applying the replies logged %d lines, %d bytes (%v); %d at info",
		n, replies, strings.Count(sendLog, "\n"), len(sendLog), strings.Count(applyLog, "\n"), len(applyLog), byLevel, info)

	if st, refunds := e.statuses(t, refund.MsgID("987654325", "B-BENCH", 0)); st != store.BatchSettledWithExceptions || len(refunds) != n {
		t.Fatalf("batch %s with %d refunds, want %s with %d", st, len(refunds), store.BatchSettledWithExceptions, n)
	}
	if applied != replies {
		t.Errorf("%d replies applied, want %d", applied, replies)
	}
	// O(1) per reply: the summary, and the batch's own changes.
	if limit := 3 * replies; info > limit {
		t.Errorf("%d info lines for %d replies, want at most %d", info, replies, limit)
	}
	if !mapsEqual(gotRejected, wantRejected) || !mapsEqual(gotReturned, wantReturned) {
		t.Errorf("warnings for %d rejected and %d returned refunds, want %d and %d", len(gotRejected), len(gotReturned), len(wantRejected), len(wantReturned))
	}
	if counted[string(refund.StatusRejected)] != len(wantRejected) || counted[string(refund.StatusReturned)] != len(wantReturned) ||
		counted[string(refund.StatusBooked)] != n-len(wantRejected) {
		t.Errorf("the summaries count %v, want %d rejected, %d returned, %d booked", counted, len(wantRejected), len(wantReturned), n-len(wantRejected))
	}
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// TestLogChanges: the level of each status change of a reply, and the
// summary of the reply's line.
func TestLogChanges(t *testing.T) {
	nok := func(minor int64) refund.Amount { return refund.Amount{Minor: minor, Currency: "NOK"} }
	rows := []erp.StatusRow{
		{RefNbr: "R1", Batch: "B1", EndToEndID: "E1", Status: refund.StatusBooked, Booked: nok(12345)},
		{RefNbr: "R2", Batch: "B1", EndToEndID: "E2", Status: refund.StatusBooked, Booked: nok(100)},
		{RefNbr: "R3", Batch: "B1", EndToEndID: "E3", Status: refund.StatusRejected, ReasonCode: "AC04", ReasonText: "Closed account"},
		{RefNbr: "R4", Batch: "B1", EndToEndID: "E4", Status: refund.StatusReturned, ReasonCode: "AC01", ReasonText: "Wrong account", Booked: refund.Amount{Minor: 700, Currency: "EUR"}},
		{RefNbr: "R5", Batch: "B1", EndToEndID: "E5", Status: refund.StatusAccepted},
	}
	changes := []store.Change{
		{Subject: store.SubjectBatch, ID: "M1", From: "receipt-ok", To: "accepted"},
		{Subject: store.SubjectRefund, ID: "E1", From: "accepted", To: "booked"},
		{Subject: store.SubjectRefund, ID: "E2", From: "accepted", To: "booked"},
		{Subject: store.SubjectRefund, ID: "E3", From: "sent", To: "rejected"},
		{Subject: store.SubjectRefund, ID: "E4", From: "booked", To: "returned"},
		{Subject: store.SubjectRefund, ID: "E5", From: "sent", To: "accepted"},
	}
	var buf strings.Builder
	sum := logChanges(zerolog.New(&buf).Level(zerolog.DebugLevel), changes, rows)
	var got []string
	for l := range strings.Lines(buf.String()) {
		var m map[string]string
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		id := m["e2e"] + m["msg_id"]
		got = append(got, m["level"]+" "+id)
		if m["level"] == "warn" && (m["ref"] == "" || m["reason_code"] == "" || m["reason"] == "" || !strings.Contains(m["action"], "rerelease "+m["e2e"])) {
			t.Errorf("warning without ref, reason or action: %s", l)
		}
	}
	want := []string{"info M1", "debug E1", "debug E2", "warn E3", "warn E4", "debug E5"}
	if !slices.Equal(got, want) {
		t.Errorf("levels %v, want %v", got, want)
	}
	var ev strings.Builder
	l := zerolog.New(&ev)
	e := l.Info()
	sum.add(e)
	e.Msg("reply applied")
	const wantSum = `"refunds":{"accepted":1,"booked":2,"rejected":1,"returned":1},"booked":{"NOK":"124.45"},"returned":{"EUR":"7.00"}`
	if !strings.Contains(ev.String(), wantSum) {
		t.Errorf("summary %s, want %s", ev.String(), wantSum)
	}
}
