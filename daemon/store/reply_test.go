package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"refundd/daemon/refund"
)

// sentBatch records batch number with n refunds and uploads it.
func sentBatch(t testing.TB, s *Store, number string, n int) (Batch, []Refund) {
	t.Helper()
	b, rs := newBatch(number, 0, n)
	mustCreate(t, s, b, rs)
	mustSetBatch(t, s, b.MsgID, BatchSent)
	return b, rs
}

// claimReply records a reply file and returns its hash.
func claimReply(t testing.TB, s *Store, content string) string {
	t.Helper()
	h := hashOf(content)
	if _, err := s.RecordFile(context.Background(), h, content+".xml", FileReply); err != nil {
		t.Fatal(err)
	}
	return h
}

func key(entry, tx string) refund.Key { return refund.Key{Account: ourAccount, Entry: entry, Tx: tx} }

func TestApplyReplyIdempotent(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	b, rs := sentBatch(t, s, "B1", 3)
	h := claimReply(t, s, "pain.002 B1")
	reply := Reply{
		Batches: []BatchStatusChange{{MsgID: b.MsgID, To: BatchPartiallyAccepted, Reason: "PART"}},
		Refunds: []RefundStatusChange{
			{EndToEndID: rs[0].EndToEndID, To: refund.StatusAccepted},
			{EndToEndID: rs[1].EndToEndID, To: refund.StatusRejected, Code: "AC04", Text: "closed account"},
			{EndToEndID: rs[2].EndToEndID, To: refund.StatusPending},
			{EndToEndID: rs[2].EndToEndID, To: refund.StatusAccepted}, // in order, in one reply
		},
		Keys: []AppliedKey{
			{Key: key("E1", rs[0].EndToEndID), Kind: refund.KindPayment, EndToEndID: rs[0].EndToEndID},
			{Key: key("E1", "charges"), Kind: refund.KindCharges},
			{Key: key("E2", "#0"), Kind: refund.KindException},
			{Key: key("E1", "charges"), Kind: refund.KindCharges},                                       // repeated in the same reply
			{Key: refund.Key{Account: "pain.002", Entry: "PAIN002-MSG", Tx: "e2e:" + rs[1].EndToEndID}}, // kind not known
		},
	}
	first, err := s.ApplyReply(ctx, h, reply)
	if err != nil {
		t.Fatal(err)
	}
	wantChanges := []Change{
		{SubjectBatch, b.MsgID, "sent", "partially-accepted"},
		{SubjectRefund, rs[0].EndToEndID, "sent", "accepted"},
		{SubjectRefund, rs[1].EndToEndID, "sent", "rejected"},
		{SubjectRefund, rs[2].EndToEndID, "sent", "pending"},
		{SubjectRefund, rs[2].EndToEndID, "pending", "accepted"},
	}
	if !slices.Equal(first.Changes, wantChanges) || first.AlreadyApplied {
		t.Errorf("first: changes %+v; want %+v", first.Changes, wantChanges)
	}
	if !slices.Equal(first.Recorded, []refund.Key{reply.Keys[0].Key, reply.Keys[1].Key, reply.Keys[2].Key, reply.Keys[4].Key}) ||
		!slices.Equal(first.Duplicates, []refund.Key{reply.Keys[3].Key}) {
		t.Errorf("first: recorded %v, duplicates %v", first.Recorded, first.Duplicates)
	}
	if f, err := s.File(ctx, h); err != nil || f.Outcome != FileDone {
		t.Errorf("file after the reply: %+v, %v; want done", f, err)
	}
	evs, err := s.Events(ctx, SubjectRefund, rs[1].EndToEndID)
	if err != nil || len(evs) != 3 || evs[2].Reason != "AC04" || !strings.Contains(evs[2].Detail, "closed account") || !strings.Contains(evs[2].Detail, h) {
		t.Errorf("events of the rejected refund: %+v, %v; want the reason and the reply file", evs, err)
	}
	events := count(t, s, "events")

	// The same reply again: nothing new, every key a duplicate.
	again, err := s.ApplyReply(ctx, h, reply)
	if err != nil {
		t.Fatal(err)
	}
	if !again.AlreadyApplied || len(again.Changes) != 0 || len(again.Recorded) != 0 || len(again.Duplicates) != len(reply.Keys) {
		t.Errorf("again: %+v; want already applied, no changes, %d duplicates", again, len(reply.Keys))
	}
	if n := count(t, s, "events"); n != events {
		t.Errorf("again: %d events; want %d (no new ones)", n, events)
	}

	// Another file reporting a booking already applied: a duplicate, not an error.
	h2 := claimReply(t, s, "camt.054 copy")
	r2, err := s.ApplyReply(ctx, h2, Reply{Keys: reply.Keys[:1]})
	if err != nil || len(r2.Recorded) != 0 || !slices.Equal(r2.Duplicates, []refund.Key{reply.Keys[0].Key}) {
		t.Errorf("a copy: %+v, %v; want its key as a duplicate", r2, err)
	}
	seen, err := s.Lookup(ctx).Seen(reply.Keys[0].Key)
	if err != nil || !seen {
		t.Errorf("Seen(recorded key) = %v, %v; want true", seen, err)
	}
	if seen, err := s.Lookup(ctx).Seen(key("E9", "x")); err != nil || seen {
		t.Errorf("Seen(new key) = %v, %v; want false", seen, err)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestApplyReplyAtomic(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	b, rs := sentBatch(t, s, "B1", 2)
	h := claimReply(t, s, "pain.002 B1")
	events := count(t, s, "events")
	_, err := s.ApplyReply(ctx, h, Reply{
		Batches: []BatchStatusChange{{MsgID: b.MsgID, To: BatchAccepted}},
		Refunds: []RefundStatusChange{
			{EndToEndID: rs[0].EndToEndID, To: refund.StatusAccepted},
			{EndToEndID: rs[1].EndToEndID, To: refund.StatusReturned}, // not from sent
		},
		Keys: []AppliedKey{{Key: key("E1", "T1"), Kind: refund.KindPayment}},
	})
	if !errors.Is(err, ErrTransition) || !strings.Contains(err.Error(), rs[1].EndToEndID) {
		t.Fatalf("ApplyReply() = %v; want ErrTransition naming %s", err, rs[1].EndToEndID)
	}
	got, _ := s.Batch(ctx, b.MsgID)
	r0, _ := s.Refund(ctx, rs[0].EndToEndID)
	f, _ := s.File(ctx, h)
	seen, _ := s.Lookup(ctx).Seen(key("E1", "T1"))
	if got.Status != BatchSent || r0.Status != refund.StatusSent || f.Outcome != FileProcessing || seen || count(t, s, "events") != events {
		t.Errorf("after a failed reply: batch %s, refund %s, file %s, key seen %v, %d new events; want nothing changed",
			got.Status, r0.Status, f.Outcome, seen, count(t, s, "events")-events)
	}
}

func TestApplyReplyErrors(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	b, rs := sentBatch(t, s, "B1", 1)
	batchFile := hashOf("B1.csv")
	if _, err := s.RecordFile(ctx, batchFile, "B1.csv", FileBatch); err != nil {
		t.Fatal(err)
	}
	failed := claimReply(t, s, "broken reply")
	if err := s.FinishFile(ctx, failed, FileFailed, "not XML"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		file string
		r    Reply
		want error
	}{
		{"unknown file", hashOf("never"), Reply{}, ErrNotFound},
		{"a batch file", batchFile, Reply{}, ErrInvalid},
		{"a failed file", failed, Reply{}, ErrTransition},
		{"unknown batch", "", Reply{Batches: []BatchStatusChange{{MsgID: "RFD-NONE", To: BatchAccepted}}}, ErrNotFound},
		{"unknown refund", "", Reply{Refunds: []RefundStatusChange{{EndToEndID: "CN-NONE", To: refund.StatusAccepted}}}, ErrNotFound},
		{"backwards", "", Reply{Batches: []BatchStatusChange{{MsgID: b.MsgID, To: BatchSending}}}, ErrTransition},
		{"unknown status", "", Reply{Refunds: []RefundStatusChange{{EndToEndID: rs[0].EndToEndID, To: "paid"}}}, ErrInvalid},
		{"a not-booked key", "", Reply{Keys: []AppliedKey{{Key: key("E1", "T1"), Kind: refund.KindNotBooked}}}, ErrInvalid},
		{"a key without entry", "", Reply{Keys: []AppliedKey{{Key: refund.Key{Account: ourAccount, Tx: "T1"}, Kind: refund.KindPayment}}}, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file
			if file == "" {
				file = claimReply(t, s, tc.name)
			}
			if _, err := s.ApplyReply(ctx, file, tc.r); !errors.Is(err, tc.want) {
				t.Errorf("ApplyReply() = %v; want %v", err, tc.want)
			}
		})
	}
}

// TestMatchApplyRecord runs the inbound pipeline's steps against the
// store: refund.Match with its Lookup, refund.Apply with its Seen,
// ApplyReply, and the same camt.054 again.
func TestMatchApplyRecord(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	b, rs := sentBatch(t, s, "B1", 3)
	ledger := refund.Ledger{Receivables: "1500", Charges: "7770"}
	entry := func(ref string, r Refund) refund.BankEntry {
		return refund.BankEntry{
			Account: "NO93 8601 1117 947", Amount: r.Amount, Direction: refund.Debit, Status: refund.EntryBooked,
			BookingDate: execDay, AcctSvcrRef: ref,
			Txs: []refund.BankTx{{EndToEndID: r.EndToEndID, Amount: r.Amount}},
		}
	}
	alien := refund.BankEntry{
		Account: ourAccount, Amount: refund.Amount{Minor: 4200, Currency: "NOK"}, Direction: refund.Debit,
		Status: refund.EntryBooked, BookingDate: execDay, AcctSvcrRef: "REF-ALIEN",
		Txs: []refund.BankTx{{EndToEndID: "SOMEONE-ELSES", Amount: refund.Amount{Minor: 4200, Currency: "NOK"}}},
	}
	camt := []refund.BankEntry{entry("REF-1", rs[0]), entry("REF-3", rs[2]), alien}

	run := func(content string) (refund.Applied, ReplyResult) {
		h := claimReply(t, s, content)
		l := s.Lookup(ctx)
		var outs []refund.Outcome
		for _, e := range camt {
			o, err := refund.Match(e, l)
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, o...)
		}
		a, err := refund.Apply(outs, l.Seen, ledger)
		if err != nil {
			t.Fatal(err)
		}
		var r Reply
		for _, o := range a.Posted {
			if o.Kind == refund.KindPayment {
				r.Refunds = append(r.Refunds, RefundStatusChange{EndToEndID: o.Refund.EndToEndID, To: refund.StatusBooked})
			}
		}
		for _, o := range append(slices.Clone(a.Posted), a.Exceptions...) {
			r.Keys = append(r.Keys, AppliedKey{Key: o.Key, Kind: o.Kind, EndToEndID: o.Refund.EndToEndID})
		}
		res, err := s.ApplyReply(ctx, h, r)
		if err != nil {
			t.Fatal(err)
		}
		return a, res
	}

	a, res := run("camt.054 day 1")
	if len(a.Posted) != 2 || len(a.Exceptions) != 1 || len(res.Recorded) != 3 || len(res.Changes) != 2 {
		t.Fatalf("first run: %d posted, %d exceptions, %d keys recorded, %d changes; want 2, 1, 3, 2",
			len(a.Posted), len(a.Exceptions), len(res.Recorded), len(res.Changes))
	}
	for _, o := range a.Posted {
		if o.Rule != refund.RuleEndToEndID || o.Refund.MsgID != b.MsgID || o.Refund.Batch != "B1" {
			t.Errorf("posted %+v; want matched by EndToEndId to batch B1", o)
		}
	}
	// The same bank data in another file (a copy, a statement): nothing new.
	a, res = run("camt.054 day 1, again")
	if len(a.Posted) != 0 || len(a.Exceptions) != 0 || len(a.Duplicates) != 3 || len(res.Recorded) != 0 || len(res.Changes) != 0 {
		t.Errorf("second run: %d posted, %d exceptions, %d duplicates; want 0, 0, 3", len(a.Posted), len(a.Exceptions), len(a.Duplicates))
	}
	for _, r := range []Refund{rs[0], rs[2]} {
		if got, _ := s.Refund(ctx, r.EndToEndID); got.Status != refund.StatusBooked {
			t.Errorf("refund %s is %s; want booked", r.RefNbr, got.Status)
		}
	}
}
