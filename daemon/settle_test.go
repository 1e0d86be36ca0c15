package daemon

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"refundd/daemon/refund"
	"refundd/daemon/sandbox"
	"refundd/daemon/store"
	"refundd/formats/pain002"
	"refundd/internal/testutil"
)

// TestCasesInDoubtResolvedByStatus (A7, D12): a batch in doubt whose file
// the server took away is resolved by the bank's pain.002 for its MsgId:
// the batch leaves in-doubt, its refunds get their statuses, the ERP gets
// them, and nothing is uploaded again.
func TestCasesInDoubtResolvedByStatus(t *testing.T) {
	e := newDaemonEnv(t)
	e.inDoubtConsumed(t)
	drop(t, filepath.Join(e.dir, "inbox"), "pain002.xml", testutil.StatusReport(t, testMsgID, e.sent(t, testMsgID)))
	e.once(t)
	e.once(t)
	st, rs := e.statuses(t, testMsgID)
	if st != store.BatchAccepted {
		t.Errorf("batch is %s after its pain.002, want %s", st, store.BatchAccepted)
	}
	for ref, want := range map[string]refund.Status{"CN10042": refund.StatusAccepted, "PP10043": refund.StatusRejected,
		"PY10044": refund.StatusAccepted, "CN10045": refund.StatusAccepted, "CN10046": refund.StatusAccepted} {
		if rs[ref] != want {
			t.Errorf("refund %s is %s, want %s", ref, rs[ref], want)
		}
	}
	if got := files(t, e.up); len(got) != 0 {
		t.Errorf("upload folder holds %v: the batch was uploaded again", got)
	}
	if n := len(e.importLines(t, "status-")); n != 5 {
		t.Errorf("status files for the ERP have %d lines, want 5", n)
	}
	s := e.openStore(t)
	evs, err := s.Events(t.Context(), store.SubjectBatch, testMsgID)
	if err != nil {
		t.Fatal(err)
	}
	var path []string
	for _, ev := range evs {
		path = append(path, ev.To)
	}
	if !slices.Contains(path, string(store.BatchInDoubt)) || path[len(path)-1] != string(store.BatchAccepted) {
		t.Errorf("batch went through %v, want in-doubt then accepted", path)
	}
}

// TestCasesInDoubtSettledByTxStatus (A7): a pain.002 that gives
// transaction statuses only, no group status, still proves that the bank
// has the message: the batch in doubt is sent and its refunds take their
// statuses.
func TestCasesInDoubtSettledByTxStatus(t *testing.T) {
	e := newDaemonEnv(t)
	e.inDoubtConsumed(t)
	rj := testutil.ByRef(t, e.sent(t, testMsgID), "PP10043")
	rep := &pain002.Report{
		MsgID:        "STS-20261201-0002",
		CreationTime: time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC),
		Group:        pain002.Group{OrgnlMsgID: testMsgID, OrgnlMsgNmID: "pain.001.001.03"},
		Payments: []pain002.Payment{{
			OrgnlPmtInfID: rj.PmtInfID,
			Transactions: []pain002.Transaction{{
				OrgnlInstrID: rj.InstrID, OrgnlEndToEndID: rj.EndToEndID, Status: pain002.Rejected,
				Reasons: []pain002.Reason{{Code: "AC04"}},
			}},
		}},
	}
	var b bytes.Buffer
	if err := pain002.Encode(&b, rep); err != nil {
		t.Fatal(err)
	}
	drop(t, filepath.Join(e.dir, "inbox"), "pain002.xml", b.Bytes())
	e.once(t)
	st, rs := e.statuses(t, testMsgID)
	if st != store.BatchSent {
		t.Errorf("batch is %s after a pain.002 without a group status; want %s", st, store.BatchSent)
	}
	if rs["PP10043"] != refund.StatusRejected || rs["CN10042"] != refund.StatusSent {
		t.Errorf("refunds %v; want PP10043 rejected, the others sent", rs)
	}
	if got := files(t, e.up); len(got) != 0 {
		t.Errorf("the batch was uploaded again: %v", got)
	}
}

// TestCasesInDoubtSettledByBooking (A7): the upload of a batch ended in
// doubt although the bank had it, and AutoPay took the file away. The
// bank's camt.054 arrives before any pain.002: it books the batch's
// refunds, which proves the bank has the file. The batch is settled as
// sent and the bookings are posted, not turned into exceptions; nothing is
// uploaded again.
func TestCasesInDoubtSettledByBooking(t *testing.T) {
	e := newDaemonEnv(t)
	e.inDoubtConsumed(t)
	bank := sandbox.NewBank(sandbox.BankConfig{UploadDir: e.up, DownloadDir: e.down, Delay: time.Millisecond,
		Poll: time.Millisecond, Now: e.clock})
	held, answers := e.bankHadFirstDelivery(t, bank)
	bookings := withPrefix(answers, "camt054-")
	if len(bookings) == 0 {
		t.Fatalf("the bank answered with %v", answers)
	}
	// Only the bookings, in whichever order: no pain.002 yet.
	for _, name := range bookings {
		drop(t, filepath.Join(e.dir, "inbox"), name, readFile(t, filepath.Join(held, name)))
	}
	e.once(t)
	st, rs := e.statuses(t, testMsgID)
	if st == store.BatchInDoubt || st == store.BatchSending {
		t.Fatalf("batch is %s after bookings of its refunds", st)
	}
	booked := 0
	for _, s := range rs {
		if s == refund.StatusBooked || s == refund.StatusReturned {
			booked++
		}
	}
	if booked == 0 {
		t.Errorf("no refund booked after the bookings: %v", rs)
	}
	for _, l := range e.importLines(t, "exceptions-") {
		if strings.Contains(l, string(refund.ReasonRefundStatus)) {
			t.Errorf("a booking became an exception: %s", l)
		}
	}
	if n := len(e.importLines(t, "postings-")); n == 0 {
		t.Error("no postings for the bookings")
	}
	if got := files(t, e.up); len(got) != 0 {
		t.Errorf("the batch was uploaded again: %v", got)
	}
	s := e.openStore(t)
	evs, err := s.Events(t.Context(), store.SubjectBatch, testMsgID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range evs {
		if ev.From == string(store.BatchInDoubt) && ev.To == string(store.BatchSent) && strings.Contains(ev.Reason, "the bank has the file") {
			found = true
		}
	}
	if !found {
		t.Errorf("no event in-doubt → sent naming the booking: %+v", evs)
	}
}

// TestCompletableBefore: every paid or settled batch that is due to be
// completed (store.CompleteAfter banking days after its last change) has
// changed before completableBefore, at any time of its day, across the
// daylight-saving changes; and with every day a banking day, no batch
// changed later.
func TestCompletableBefore(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	first, last := refund.NewDate(2026, time.January, 1), refund.NewDate(2027, time.January, 31)
	var closed []refund.Date // weekends and holidays
	for d := first; !last.Before(d); d = d.AddDays(1) {
		if !(refund.Calendar{}).IsBankingDay(d) {
			closed = append(closed, d)
		}
	}
	everyDay, err := refund.NewCalendar(nil, closed)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		cal   refund.Calendar
		exact bool // every day a banking day: due exactly when before the cut
	}{
		{"Norwegian banking days", refund.Calendar{}, false},
		{"every day a banking day", everyDay, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			for today := first.AddDays(30); !last.Before(today); today = today.AddDays(1) {
				cut := completableBefore(today, loc)
				for k := 0; k <= 30; k++ {
					from := today.AddDays(-k)
					y, m, d := from.Time().Date()
					for _, changed := range []time.Time{time.Date(y, m, d, 0, 0, 0, 0, loc), time.Date(y, m, d, 23, 59, 59, 999_999_999, loc)} {
						due := bankingDaysSince(c.cal, refund.DateOf(changed.In(loc)), today) >= store.CompleteAfter
						read := changed.Before(cut)
						if due && !read || c.exact && read && !due {
							t.Fatalf("today %s, changed %s: due %v, read %v (cut %s)", today, changed, due, read, cut)
						}
					}
				}
			}
		})
	}
}
