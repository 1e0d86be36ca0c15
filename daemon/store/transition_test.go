package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"refundd/daemon/refund"
)

// batchPath is a way to each batch status from received.
var batchPath = map[BatchStatus][]BatchStatus{
	BatchReceived:              nil,
	BatchRejected:              {BatchRejected},
	BatchSending:               {BatchSending},
	BatchSent:                  {BatchSending, BatchSent},
	BatchInDoubt:               {BatchSending, BatchInDoubt},
	BatchReceiptOK:             {BatchSending, BatchSent, BatchReceiptOK},
	BatchAccepted:              {BatchSending, BatchSent, BatchAccepted},
	BatchPartiallyAccepted:     {BatchSending, BatchSent, BatchPartiallyAccepted},
	BatchRejectedByBank:        {BatchSending, BatchSent, BatchRejectedByBank},
	BatchPending:               {BatchSending, BatchSent, BatchPending},
	BatchPaid:                  {BatchSending, BatchSent, BatchPaid},
	BatchCompleted:             {BatchSending, BatchSent, BatchPaid, BatchCompleted},
	BatchSettledWithExceptions: {BatchSending, BatchSent, BatchAccepted, BatchSettledWithExceptions},
}

// refundPath is a way to each refund status from new.
var refundPath = map[refund.Status][]refund.Status{
	refund.StatusNew:      nil,
	refund.StatusSent:     {refund.StatusSent},
	refund.StatusAccepted: {refund.StatusSent, refund.StatusAccepted},
	refund.StatusPending:  {refund.StatusSent, refund.StatusPending},
	refund.StatusRejected: {refund.StatusRejected},
	refund.StatusBooked:   {refund.StatusSent, refund.StatusBooked},
	refund.StatusReturned: {refund.StatusSent, refund.StatusBooked, refund.StatusReturned},
}

var refundStatuses = []refund.Status{refund.StatusNew, refund.StatusSent, refund.StatusAccepted,
	refund.StatusPending, refund.StatusRejected, refund.StatusBooked, refund.StatusReturned}

// TestTransitionTables pins the tables to the documented status changes
// and to what the pipelines need, case by case.
func TestTransitionTables(t *testing.T) {
	batch := []struct {
		from, to BatchStatus
		ok       bool
	}{
		{BatchReceived, BatchSending, true},
		{BatchReceived, BatchRejected, true},
		{BatchReceived, BatchSent, false}, // never without the write-ahead intent
		{BatchSending, BatchSent, true},
		{BatchSending, BatchInDoubt, true},
		{BatchSending, BatchAccepted, true}, // a reply proves the upload
		{BatchInDoubt, BatchSending, true},  // an operator's resend of the same bytes
		{BatchInDoubt, BatchSent, true},     // found on the server
		{BatchInDoubt, BatchReceiptOK, true},
		{BatchInDoubt, BatchRejected, false},
		{BatchSent, BatchSending, false}, // never sent twice
		{BatchSent, BatchInDoubt, false},
		{BatchSent, BatchReceiptOK, true},
		{BatchSent, BatchPaid, true}, // a camt.054 without a pain.002
		{BatchReceiptOK, BatchAccepted, true},
		{BatchAccepted, BatchReceiptOK, false}, // a late receipt
		{BatchAccepted, BatchPartiallyAccepted, true},
		{BatchPending, BatchAccepted, true},
		{BatchPaid, BatchCompleted, true},
		{BatchPaid, BatchAccepted, false},
		{BatchRejectedByBank, BatchPaid, false},
		{BatchCompleted, BatchPaid, false},
		{BatchPaid, BatchSettledWithExceptions, true},      // a return after paid
		{BatchCompleted, BatchSettledWithExceptions, true}, // a late return
		{BatchSettledWithExceptions, BatchCompleted, true},
		{BatchSettledWithExceptions, BatchPaid, false},
		{BatchSent, BatchSettledWithExceptions, false}, // only once the bank answered
		{BatchRejected, BatchSending, false},
		{BatchSent, BatchSent, true}, // a no-op
		{BatchSent, "lost", false},
		{"lost", BatchSent, false},
	}
	for _, c := range batch {
		if got := AllowedBatch(c.from, c.to); got != c.ok {
			t.Errorf("AllowedBatch(%s, %s) = %v; want %v", c.from, c.to, got, c.ok)
		}
	}
	ref := []struct {
		from, to refund.Status
		ok       bool
	}{
		{refund.StatusNew, refund.StatusSent, true},
		{refund.StatusNew, refund.StatusAccepted, true}, // its batch was in doubt
		{refund.StatusNew, refund.StatusBooked, false},  // Match books only a sent refund
		{refund.StatusSent, refund.StatusBooked, true},
		{refund.StatusSent, refund.StatusNew, false},
		{refund.StatusPending, refund.StatusAccepted, true},
		{refund.StatusAccepted, refund.StatusPending, true}, // ACCP, then PDNG: the bank's last word
		{refund.StatusAccepted, refund.StatusRejected, true},
		{refund.StatusBooked, refund.StatusReturned, true},
		{refund.StatusBooked, refund.StatusRejected, false},
		{refund.StatusRejected, refund.StatusBooked, false},
		{refund.StatusRejected, refund.StatusSent, false}, // a re-release is a new refund
		{refund.StatusReturned, refund.StatusBooked, false},
	}
	for _, c := range ref {
		if got := AllowedRefund(c.from, c.to); got != c.ok {
			t.Errorf("AllowedRefund(%s, %s) = %v; want %v", c.from, c.to, got, c.ok)
		}
	}
	for _, st := range BatchStatuses() {
		if _, ok := batchPath[st]; !ok {
			t.Errorf("no test path to batch status %s", st)
		}
	}
}

// TestSetBatchStatus tries every pair of batch statuses through the store:
// an allowed change is made with exactly one event, a refused one wraps
// ErrTransition and changes nothing.
func TestSetBatchStatus(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	n := 0
	for _, from := range BatchStatuses() {
		for _, to := range BatchStatuses() {
			n++
			b, rs := newBatch(fmt.Sprintf("T%d", n), 0, 1)
			b.Status = BatchReceived
			mustCreate(t, s, b, rs)
			for _, st := range batchPath[from] {
				mustSetBatch(t, s, b.MsgID, st)
			}
			before, err := s.Events(ctx, SubjectBatch, b.MsgID)
			if err != nil {
				t.Fatal(err)
			}

			cs, err := s.SetBatchStatus(ctx, b.MsgID, to, "why")
			after, _ := s.Events(ctx, SubjectBatch, b.MsgID)
			got, _ := s.Batch(ctx, b.MsgID)
			switch {
			case !AllowedBatch(from, to):
				if !errors.Is(err, ErrTransition) || got.Status != from || len(after) != len(before) || cs != nil {
					t.Errorf("%s → %s: %v, status %s, %d new events; want ErrTransition, nothing changed", from, to, err, got.Status, len(after)-len(before))
				}
			case from == to:
				if err != nil || got.Status != from || len(after) != len(before) || len(cs) != 0 {
					t.Errorf("%s → %s: %v, %v, %d new events; want a no-op", from, to, err, cs, len(after)-len(before))
				}
			default:
				if err != nil || got.Status != to || got.Reason != "why" || len(after) != len(before)+1 {
					t.Errorf("%s → %s: %v, status %s, %d new events; want the change and one event", from, to, err, got.Status, len(after)-len(before))
					continue
				}
				e := after[len(after)-1]
				if e.From != string(from) || e.To != string(to) || e.Reason != "why" || e.At.IsZero() {
					t.Errorf("%s → %s: event %+v", from, to, e)
				}
				if len(cs) == 0 || cs[0] != (Change{Subject: SubjectBatch, ID: b.MsgID, From: string(from), To: string(to)}) {
					t.Errorf("%s → %s: changes %+v", from, to, cs)
				}
			}
		}
	}
	if _, err := s.SetBatchStatus(ctx, "RFD-NONE", BatchSent, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetBatchStatus(unknown) = %v; want ErrNotFound", err)
	}
	b, _ := newBatch("T1", 0, 1)
	if _, err := s.SetBatchStatus(ctx, b.MsgID, "lost", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetBatchStatus(unknown status) = %v; want ErrInvalid", err)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestSetRefundStatus tries every pair of refund statuses.
func TestSetRefundStatus(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	b, rs := newBatch("R1", 0, len(refundStatuses)*len(refundStatuses))
	mustCreate(t, s, b, rs)
	i := 0
	for _, from := range refundStatuses {
		for _, to := range refundStatuses {
			e2e := rs[i].EndToEndID
			i++
			for _, st := range refundPath[from] {
				if _, err := s.SetRefundStatus(ctx, e2e, st, "", ""); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := s.Events(ctx, SubjectRefund, e2e)
			changed, err := s.SetRefundStatus(ctx, e2e, to, "AC04", "closed")
			after, _ := s.Events(ctx, SubjectRefund, e2e)
			got, _ := s.Refund(ctx, e2e)
			switch {
			case !AllowedRefund(from, to):
				if !errors.Is(err, ErrTransition) || changed || got.Status != from || len(after) != len(before) {
					t.Errorf("%s → %s: %v, status %s, %d new events; want ErrTransition, nothing changed", from, to, err, got.Status, len(after)-len(before))
				}
			case from == to:
				if err != nil || changed || len(after) != len(before) {
					t.Errorf("%s → %s: %v, changed %v, %d new events; want a no-op", from, to, err, changed, len(after)-len(before))
				}
			default:
				if err != nil || !changed || got.Status != to || got.ReasonCode != "AC04" || got.ReasonText != "closed" || len(after) != len(before)+1 {
					t.Errorf("%s → %s: %v, %+v, %d new events; want the change and one event", from, to, err, got, len(after)-len(before))
					continue
				}
				if e := after[len(after)-1]; e.From != string(from) || e.To != string(to) || e.Reason != "AC04" || e.Detail != "closed" {
					t.Errorf("%s → %s: event %+v", from, to, e)
				}
			}
		}
	}
	if _, err := s.SetRefundStatus(ctx, "CN-NONE", refund.StatusSent, "", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetRefundStatus(unknown) = %v; want ErrNotFound", err)
	}
	if _, err := s.SetRefundStatus(ctx, rs[0].EndToEndID, "lost", "", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetRefundStatus(unknown status) = %v; want ErrInvalid", err)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestBatchStatusCascades(t *testing.T) {
	ctx := t.Context()
	refundStatuses := func(s *Store, msgID string) []refund.Status {
		rs, err := s.Refunds(ctx, msgID)
		if err != nil {
			t.Fatal(err)
		}
		var sts []refund.Status
		for _, r := range rs {
			sts = append(sts, r.Status)
		}
		return sts
	}
	tests := []struct {
		name string
		path []BatchStatus
		want refund.Status
	}{
		{"uploaded", []BatchStatus{BatchSending, BatchSent}, refund.StatusSent},
		{"in doubt, then a receipt", []BatchStatus{BatchSending, BatchInDoubt, BatchReceiptOK}, refund.StatusSent},
		{"in doubt stays new", []BatchStatus{BatchSending, BatchInDoubt}, refund.StatusNew},
		{"rejected before sending", []BatchStatus{BatchRejected}, refund.StatusRejected},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			b, rs := newBatch("C1", 0, 3)
			b.Status = BatchReceived
			mustCreate(t, s, b, rs)
			if err := s.SetBatchFiles(ctx, b.MsgID, "/state/x.xml", "x.xml", ""); err != nil {
				t.Fatal(err)
			}
			// One refund is rejected by the bank early: the cascade leaves it.
			if _, err := s.SetRefundStatus(ctx, rs[1].EndToEndID, refund.StatusRejected, "AC01", ""); err != nil {
				t.Fatal(err)
			}
			var all []Change
			for _, st := range tc.path {
				cs, err := s.SetBatchStatus(ctx, b.MsgID, st, "reason "+string(st))
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, cs...)
			}
			want := []refund.Status{tc.want, refund.StatusRejected, tc.want}
			if got := refundStatuses(s, b.MsgID); !slices.Equal(got, want) {
				t.Errorf("refund statuses %v; want %v", got, want)
			}
			nRefundChanges := 0
			for _, c := range all {
				if c.Subject == SubjectRefund {
					nRefundChanges++
				}
			}
			if wantN := map[bool]int{true: 2, false: 0}[tc.want != refund.StatusNew]; nRefundChanges != wantN {
				t.Errorf("%d refund changes reported in %+v; want %d", nRefundChanges, all, wantN)
			}
			if tc.want == refund.StatusRejected {
				r, _ := s.Refund(ctx, rs[0].EndToEndID)
				if r.ReasonText != "reason rejected" {
					t.Errorf("cascaded reason %q; want the batch's", r.ReasonText)
				}
			}
			if err := s.IntegrityCheck(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSendingNeedsFiles(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	b, rs := newBatch("F1", 0, 1)
	b.Status, b.LocalPath, b.RemoteName = BatchReceived, "", ""
	mustCreate(t, s, b, rs)
	if _, err := s.SetBatchStatus(ctx, b.MsgID, BatchSending, ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("sending without files: %v; want ErrInvalid", err)
	}
	if err := s.SetBatchFiles(ctx, b.MsgID, "/state/f1.xml", "", ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("SetBatchFiles without a remote name: %v; want ErrInvalid", err)
	}
	if err := s.SetBatchFiles(ctx, b.MsgID, "/state/f1.xml", "f1.xml", hashOf("f1")); err != nil {
		t.Fatal(err)
	}
	mustSetBatch(t, s, b.MsgID, BatchSending)
	if err := s.SetBatchFiles(ctx, b.MsgID, "/state/other.xml", "other.xml", ""); !errors.Is(err, ErrTransition) {
		t.Fatalf("SetBatchFiles while sending: %v; want ErrTransition", err)
	}
	got, err := s.Batch(ctx, b.MsgID)
	if err != nil || got.LocalPath != "/state/f1.xml" || got.RemoteName != "f1.xml" || got.PainHash != hashOf("f1") {
		t.Fatalf("Batch() = %+v, %v; want the files recorded first", got, err)
	}
	if err := s.SetBatchFiles(ctx, "RFD-NONE", "/a", "a", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetBatchFiles(unknown) = %v; want ErrNotFound", err)
	}
}

// TestAppendOnly checks that the audit log and the applied bank entries
// cannot be changed or deleted, even with SQL behind the store's back.
func TestAppendOnly(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	b, rs := newBatch("A1", 0, 2)
	mustCreate(t, s, b, rs)
	h := hashOf("reply")
	if _, err := s.RecordFile(ctx, h, "reply.xml", FileReply); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyReply(ctx, h, Reply{Keys: []AppliedKey{{Key: refund.Key{Account: ourAccount, Entry: "E1", Tx: "T1"}, Kind: refund.KindException}}}); err != nil {
		t.Fatal(err)
	}
	events, entries := count(t, s, "events"), count(t, s, "bank_entries")
	for _, q := range []string{
		`UPDATE events SET to_status = 'booked'`,
		`UPDATE events SET detail = 'x' WHERE id = 1`,
		`DELETE FROM events WHERE id = 1`,
		`DELETE FROM events`,
		`UPDATE bank_entries SET kind = 'payment'`,
		`DELETE FROM bank_entries`,
		`INSERT OR REPLACE INTO events (id, at, subject_type, subject_id, from_status, to_status)
			VALUES (1, '', 'batch', 'x', '', 'paid')`,
		`INSERT OR REPLACE INTO bank_entries (account, entry, tx, file_hash, kind, applied)
			VALUES ('` + ourAccount + `', 'E1', 'T1', '` + h + `', 'payment', '')`,
	} {
		if _, err := s.w.ExecContext(ctx, q); err == nil {
			t.Errorf("%s: succeeded; want an error", q)
		}
	}
	if e, n := count(t, s, "events"), count(t, s, "bank_entries"); e != events || n != entries {
		t.Errorf("%d events, %d entries after the attempts; want %d, %d", e, n, events, entries)
	}
}
