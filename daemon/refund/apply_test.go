package refund

import (
	"errors"
	"strings"
	"testing"
)

// harness applies bank replies the way the daemon does, with the state
// (refund statuses, keys seen) in memory: match every entry, apply the
// outcomes, record the keys and the new statuses.
type harness struct {
	l    *memLookup
	seen map[Key]bool
}

func newHarness() *harness { return &harness{l: fixtures(), seen: map[Key]bool{}} }

// reply applies the entries of one reply file, all in one Apply, and
// returns what it made of them.
func (h *harness) reply(t *testing.T, entries ...BankEntry) Applied {
	t.Helper()
	var outs []Outcome
	for _, e := range entries {
		outs = append(outs, matchOne(t, e, h.l)...)
	}
	a, err := Apply(outs, func(k Key) (bool, error) { return h.seen[k], nil }, testLedger)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(a.Posted) + len(a.Exceptions) + len(a.NotBooked) + len(a.Duplicates); n != len(outs) {
		t.Fatalf("Apply accounted for %d of %d outcomes", n, len(outs))
	}
	if len(a.Posted) != len(a.Vouchers) {
		t.Fatalf("%d posted, %d vouchers", len(a.Posted), len(a.Vouchers))
	}
	balance(t, a.Vouchers)
	for _, k := range a.Keys {
		h.seen[k] = true
	}
	for _, o := range a.Posted {
		switch o.Kind {
		case KindPayment:
			h.l.setStatus(o.Refund.EndToEndID, StatusBooked)
		case KindReturn:
			h.l.setStatus(o.Refund.EndToEndID, StatusReturned)
		}
	}
	return a
}

func refs(os []Outcome) string {
	var s []string
	for _, o := range os {
		s = append(s, string(o.Kind)+":"+o.Refund.RefNbr)
	}
	return strings.Join(s, " ")
}

// aReply is a camt.054 with a payment and its charges, a batch booking, a
// return, an entry that is not ours and a pending entry.
func aReply() []BankEntry {
	pay := debit(byE2E("1001", nok(150000)))
	pay.Charges = []Charge{{Amount: nok(500)}}
	batch := debit()
	batch.AcctSvcrRef, batch.Amount, batch.Batch = "BANKREF3", nok(20000), BatchRef{MsgID: msgB2, PmtInfID: pmtB2}
	ret := credit(returned(byE2E("1007", nok(90000))))
	alien := debit(BankTx{EndToEndID: "SOMEONE-ELSES", Amount: nok(4200)})
	alien.AcctSvcrRef = "BANKREF4"
	pending := debit(byE2E("1003", nok(25050)))
	pending.AcctSvcrRef, pending.Status = "BANKREF5", EntryPending
	return []BankEntry{pay, batch, ret, alien, pending}
}

func TestApplyTwice(t *testing.T) {
	h := newHarness()
	first := h.reply(t, aReply()...)
	if got, want := refs(first.Posted), "payment:1001 charges:1001 payment:1010 payment:1011 return:1007"; got != want {
		t.Errorf("first time posted %s; want %s", got, want)
	}
	if got, want := refs(first.Matches()), "payment:1001 payment:1010 payment:1011 return:1007"; got != want {
		t.Errorf("first time matched %s; want %s", got, want)
	}
	if len(first.Exceptions) != 1 || first.Exceptions[0].Reason != ReasonNoMatch || len(first.NotBooked) != 1 || len(first.Duplicates) != 0 {
		t.Errorf("first time: %d exceptions, %d not booked, %d duplicates; want 1, 1, 0", len(first.Exceptions), len(first.NotBooked), len(first.Duplicates))
	}

	again := h.reply(t, aReply()...)
	if len(again.Posted) != 0 || len(again.Vouchers) != 0 || len(again.Matches()) != 0 || len(again.Exceptions) != 0 || len(again.Keys) != 0 {
		t.Errorf("second time: posted %s, %d exceptions, %d keys; want nothing", refs(again.Posted), len(again.Exceptions), len(again.Keys))
	}
	if got, want := len(again.Duplicates), len(first.Posted)+len(first.Exceptions); got != want {
		t.Errorf("second time: %d duplicates; want %d", got, want)
	}
	if len(again.NotBooked) != 1 {
		t.Errorf("second time: %d not booked; want the pending entry again", len(again.NotBooked))
	}
}

func TestApplyPendingThenBooked(t *testing.T) {
	h := newHarness()
	e := debit(byE2E("1003", nok(25050)))
	e.Status = EntryPending
	if a := h.reply(t, e); len(a.NotBooked) != 1 || len(a.Keys) != 0 {
		t.Fatalf("pending: %d not booked, %d keys recorded; want 1, 0", len(a.NotBooked), len(a.Keys))
	}
	e.Status = EntryBooked // the same booking, same AcctSvcrRef, now booked
	if a := h.reply(t, e); refs(a.Posted) != "payment:1003" {
		t.Fatalf("booked after pending: posted %q; want payment:1003", refs(a.Posted))
	}
	if a := h.reply(t, e); len(a.Posted) != 0 || len(a.Duplicates) != 1 {
		t.Fatalf("booked again: posted %q, %d duplicates; want none, 1", refs(a.Posted), len(a.Duplicates))
	}
}

// TestApplyTwoShapes: a batch booking notified without details (camt.054)
// and then stated with details (camt.053), same AcctSvcrRef, is posted once.
func TestApplyTwoShapes(t *testing.T) {
	h := newHarness()
	e := debit()
	e.Amount, e.Batch = nok(20000), BatchRef{MsgID: msgB2, PmtInfID: pmtB2}
	if a := h.reply(t, e); refs(a.Posted) != "payment:1010 payment:1011" {
		t.Fatalf("batch booking: posted %q", refs(a.Posted))
	}
	d := debit(byE2E("1011", nok(10000)), byE2E("1010", nok(10000)))
	d.Batch = e.Batch
	if a := h.reply(t, d); len(a.Posted) != 0 || len(a.Duplicates) != 2 {
		t.Errorf("the same booking with details: posted %q, %d duplicates; want none, 2", refs(a.Posted), len(a.Duplicates))
	}
}

// TestApplySecondBookingInOneReply: two bookings of one refund under
// different bank references in one reply; the Lookup does not know of the
// first when the second is matched, Apply catches it.
func TestApplySecondBookingInOneReply(t *testing.T) {
	h := newHarness()
	e1 := debit(byE2E("1001", nok(150000)))
	e2 := e1
	e2.AcctSvcrRef = "BANKREF9"
	a := h.reply(t, e1, e2)
	if refs(a.Posted) != "payment:1001" || len(a.Exceptions) != 1 || a.Exceptions[0].Reason != ReasonAlreadyPosted {
		t.Fatalf("posted %q, exceptions %v; want one payment, one already-posted", refs(a.Posted), a.Exceptions)
	}
	if !strings.Contains(a.Exceptions[0].Detail, "payment in this reply already") {
		t.Errorf("detail %q", a.Exceptions[0].Detail)
	}
	// In a later reply the Lookup knows: the refund is booked.
	e3 := e1
	e3.AcctSvcrRef = "BANKREF10"
	if a := h.reply(t, e3); len(a.Posted) != 0 || len(a.Exceptions) != 1 || a.Exceptions[0].Reason != ReasonAlreadyPosted {
		t.Errorf("third booking: posted %q, %d exceptions; want one already-posted", refs(a.Posted), len(a.Exceptions))
	}
}

func TestApplyRepeatedKeyInOneCall(t *testing.T) {
	h := newHarness()
	e := debit(byE2E("1001", nok(150000)))
	outs := append(matchOne(t, e, h.l), matchOne(t, e, h.l)...)
	a, err := Apply(outs, func(Key) (bool, error) { return false, nil }, testLedger)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Posted) != 1 || len(a.Duplicates) != 1 || len(a.Keys) != 1 {
		t.Errorf("posted %d, duplicates %d, keys %d; want 1, 1, 1", len(a.Posted), len(a.Duplicates), len(a.Keys))
	}
}

func TestApplyErrors(t *testing.T) {
	boom := errors.New("disk I/O error")
	outs := matchOne(t, debit(byE2E("1001", nok(150000))), fixtures())
	a, err := Apply(outs, func(Key) (bool, error) { return false, boom }, testLedger)
	if !errors.Is(err, boom) || len(a.Posted) != 0 || len(a.Keys) != 0 {
		t.Errorf("Apply with a failing seen-set = %v, %d posted; want %v, nothing", err, len(a.Posted), boom)
	}
	a, err = Apply(outs, func(Key) (bool, error) { return false, nil }, Ledger{})
	if !errors.Is(err, ErrVoucherLine) || len(a.Posted) != 0 || len(a.Keys) != 0 {
		t.Errorf("Apply without ledger accounts = %v, %d posted; want ErrVoucherLine, nothing", err, len(a.Posted))
	}
}
