package store

import (
	"testing"

	"refundd/daemon/refund"
)

// TestNotes records a batch with a refund left out as invalid, one held
// and one flagged; a later batch that records the invalid document
// resolves its note and leaves the others; a batch whose every refund is
// held is recorded without refunds, and only received.
func TestNotes(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	b, rs := newBatch("N1", 0, 1)
	b.Notes = []Note{
		{Position: "n1.csv:3", DocType: refund.CreditNote, RefNbr: "N1-X", CustomerID: "C-X", Kind: NoteInvalid, Reason: "Account: bad check digit"},
		{Position: "n1.csv:4", DocType: refund.CreditNote, RefNbr: "N1-Y", CustomerID: "C-Y", Kind: NoteHeld, Reason: "account changed"},
		{Position: "n1.csv:2", DocType: refund.CreditNote, RefNbr: "N1-1", CustomerID: "C-N1-1", Kind: NoteAccountChanged, Reason: "account changed"},
	}
	mustCreate(t, s, b, rs)
	ns, err := s.Notes(ctx, b.MsgID)
	if err != nil || len(ns) != 3 {
		t.Fatalf("Notes() = %+v, %v; want 3", ns, err)
	}
	open, err := s.OpenNotes(ctx)
	if err != nil || len(open) != 2 {
		t.Fatalf("OpenNotes() = %+v, %v; want the invalid and the held", open, err)
	}

	b2, rs2 := newBatch("N1", 1, 0)
	rs2 = append(rs2, newRefund(refund.CreditNote, "N1-X", 0, 500))
	mustCreate(t, s, b2, rs2)
	ns, _ = s.Notes(ctx, b.MsgID)
	for _, n := range ns {
		want := ""
		if n.RefNbr == "N1-X" {
			want = b2.MsgID
		}
		if n.ResolvedIn != want {
			t.Errorf("note %s (%s) resolved in %q, want %q", n.RefNbr, n.Kind, n.ResolvedIn, want)
		}
	}
	if held, err := s.OpenNotes(ctx, NoteHeld); err != nil || len(held) != 1 || held[0].RefNbr != "N1-Y" {
		t.Errorf("OpenNotes(held) = %+v, %v", held, err)
	}

	b3, _ := newBatch("N3", 0, 0)
	b3.Status = BatchReceived
	if err := s.CreateBatch(ctx, b3, nil); err == nil {
		t.Error("a batch without refunds or held notes was recorded")
	}
	b3.Notes = []Note{{Position: "n3.csv:2", DocType: refund.CreditNote, RefNbr: "N3-1", Kind: NoteHeld, Reason: "account changed"}}
	mustCreate(t, s, b3, nil)
	b3.Status, b3.MsgID = BatchSending, b3.MsgID+"X"
	b3.Notes[0].Position = "n3b.csv:2"
	if err := s.CreateBatch(ctx, b3, nil); err == nil {
		t.Error("a sending batch without refunds was recorded")
	}
}

// TestLastBookedAccount: the creditor account of the customer's refund
// booked last; none before a booking.
func TestLastBookedAccount(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	b, rs := newBatch("L1", 0, 2)
	rs[0].CustomerID, rs[1].CustomerID = "C1", "C1"
	rs[1].CreditorAccount = "12345678903"
	mustCreate(t, s, b, rs)
	mustSetBatch(t, s, b.MsgID, BatchSent)
	if _, ok, err := s.LastBookedAccount(ctx, "C1"); ok || err != nil {
		t.Fatalf("LastBookedAccount before a booking = %v, %v", ok, err)
	}
	for _, r := range rs {
		if _, err := s.SetRefundStatus(ctx, r.EndToEndID, refund.StatusBooked, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	if a, ok, err := s.LastBookedAccount(ctx, "C1"); !ok || err != nil || a != "12345678903" {
		t.Errorf("LastBookedAccount = %q, %v, %v; want the last one booked", a, ok, err)
	}
}

// TestReturnReopensBatch: a return moves a paid or completed batch to
// settled-with-exceptions, in the reply's transaction.
func TestReturnReopensBatch(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	for _, st := range []BatchStatus{BatchPaid, BatchCompleted} {
		b, rs := sentBatch(t, s, "R-"+string(st), 1)
		if _, err := s.SetRefundStatus(ctx, rs[0].EndToEndID, refund.StatusBooked, "", ""); err != nil {
			t.Fatal(err)
		}
		mustSetBatch(t, s, b.MsgID, BatchPaid)
		if st == BatchCompleted {
			mustSetBatch(t, s, b.MsgID, BatchCompleted)
		}
		res, err := s.ApplyReply(ctx, claimReply(t, s, "return of "+b.MsgID),
			Reply{Refunds: []RefundStatusChange{{EndToEndID: rs[0].EndToEndID, To: refund.StatusReturned, Code: "AC04"}}})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := s.Batch(ctx, b.MsgID)
		if got.Status != BatchSettledWithExceptions || len(res.Changes) != 2 {
			t.Errorf("%s batch after a return: %s, changes %+v; want settled-with-exceptions", st, got.Status, res.Changes)
		}
	}
}

// TestLaterRelease: a later release of a document counts in any status;
// NextRelease refuses while it is live, LaterRelease answers.
func TestLaterRelease(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	b, rs := newBatch("LR", 0, 1)
	mustCreate(t, s, b, rs)
	mustSetBatch(t, s, b.MsgID, BatchSent)
	if _, err := s.SetRefundStatus(ctx, rs[0].EndToEndID, refund.StatusRejected, "AC01", ""); err != nil {
		t.Fatal(err)
	}
	if later, err := s.LaterRelease(ctx, rs[0].DocType, rs[0].RefNbr, 0); later || err != nil {
		t.Fatalf("LaterRelease before a re-release = %v, %v", later, err)
	}
	b2, _ := newBatch("LR", 1, 0)
	mustCreate(t, s, b2, []Refund{newRefund(rs[0].DocType, rs[0].RefNbr, 1, 100)})
	if later, err := s.LaterRelease(ctx, rs[0].DocType, rs[0].RefNbr, 0); !later || err != nil {
		t.Errorf("LaterRelease after a re-release = %v, %v; want true", later, err)
	}
	if _, err := s.NextRelease(ctx, rs[0].DocType, rs[0].RefNbr); err == nil {
		t.Error("NextRelease while release 1 is live: no error")
	}
}

// TestToRerelease: a refund the bank rejected or returned counts until a
// later release of its document is recorded; booked refunds, refunds of
// paid batches and refunds the bank never answered for do not count.
func TestToRerelease(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	want := func(step string, rejected, returned int) {
		t.Helper()
		got, err := s.ToRerelease(ctx)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if got[refund.StatusRejected] != rejected || got[refund.StatusReturned] != returned || len(got) > 2 {
			t.Errorf("%s: ToRerelease() = %v; want rejected %d, returned %d", step, got, rejected, returned)
		}
	}
	set := func(e2e string, to ...refund.Status) {
		t.Helper()
		for _, st := range to {
			if _, err := s.SetRefundStatus(ctx, e2e, st, "AC04", "closed account"); err != nil {
				t.Fatal(err)
			}
		}
	}
	want("empty store", 0, 0)

	// Batch X: one refund rejected, one booked and then returned, one booked.
	x, xs := newBatch("X", 0, 3)
	mustCreate(t, s, x, xs)
	mustSetBatch(t, s, x.MsgID, BatchSent)
	want("sent, no answer", 0, 0)
	set(xs[0].EndToEndID, refund.StatusRejected)
	set(xs[1].EndToEndID, refund.StatusAccepted, refund.StatusBooked)
	set(xs[2].EndToEndID, refund.StatusAccepted, refund.StatusBooked)
	mustSetBatch(t, s, x.MsgID, BatchPartiallyAccepted)
	want("one rejected", 1, 0)
	set(xs[1].EndToEndID, refund.StatusReturned)
	mustSetBatch(t, s, x.MsgID, BatchSettledWithExceptions)
	want("one rejected, one returned", 1, 1)

	// Batch P: paid, every refund booked.
	p, ps := newBatch("P", 0, 1)
	mustCreate(t, s, p, ps)
	mustSetBatch(t, s, p.MsgID, BatchSent)
	set(ps[0].EndToEndID, refund.StatusAccepted, refund.StatusBooked)
	mustSetBatch(t, s, p.MsgID, BatchPaid)
	want("a paid batch beside", 1, 1)

	// The operator pays the rejected refund again: release 1, attempt 1 of X.
	x1, _ := newBatch("X", 1, 0)
	mustCreate(t, s, x1, []Refund{newRefund(xs[0].DocType, xs[0].RefNbr, 1, xs[0].Amount.Minor)})
	want("rejected one re-released", 0, 1)

	// The whole batch R is rejected by the bank.
	r, rs := newBatch("R", 0, 2)
	mustCreate(t, s, r, rs)
	mustSetBatch(t, s, r.MsgID, BatchSent)
	set(rs[0].EndToEndID, refund.StatusRejected)
	set(rs[1].EndToEndID, refund.StatusRejected)
	mustSetBatch(t, s, r.MsgID, BatchRejectedByBank)
	want("a batch rejected by the bank", 2, 1)
}
