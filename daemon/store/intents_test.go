package store

import (
	"errors"
	"testing"
)

// TestRecordIntents records a group of batch files with their batches in
// one transaction, and a group with one intent the store refuses records
// nothing at all.
func TestRecordIntents(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	intent := func(number string) Intent {
		b, rs := newBatch(number, 0, 2)
		b.FileHash = hashOf("file " + number)
		return Intent{FileName: number + ".csv", Batch: b, Refunds: rs}
	}
	if err := s.RecordIntents(ctx, []Intent{intent("B-G1"), intent("B-G2")}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"B-G1", "B-G2"} {
		in := intent(n)
		f, err := s.File(ctx, in.Batch.FileHash)
		if err != nil || f.Outcome != FileDone || f.Name != n+".csv" {
			t.Errorf("file of %s: %+v, %v; want done under %s.csv", n, f, err, n)
		}
		b, err := s.Batch(ctx, in.Batch.MsgID)
		if err != nil || b.Status != BatchSending || b.FileHash != in.Batch.FileHash {
			t.Errorf("batch %s: %+v, %v; want sending from its file", n, b, err)
		}
		if rs, err := s.Refunds(ctx, in.Batch.MsgID); err != nil || len(rs) != 2 {
			t.Errorf("refunds of %s: %d, %v; want 2", n, len(rs), err)
		}
	}

	for _, c := range []struct {
		hash, number, msgID string
		want                bool
	}{
		{hashOf("new"), "B-NEW", "RFD-B-NEW", false},
		{intent("B-G1").Batch.FileHash, "B-NEW", "RFD-B-NEW", true},
		{hashOf("new"), "B-G2", "RFD-B-NEW", true},
		{hashOf("new"), "B-NEW", intent("B-G2").Batch.MsgID, true},
	} {
		if got, err := s.Known(ctx, c.hash, c.number, c.msgID); err != nil || got != c.want {
			t.Errorf("Known(%s, %s, %s) = %v, %v; want %v", c.hash[:8], c.number, c.msgID, got, err, c.want)
		}
	}

	// B-G3 is new, but B-G1 is a duplicate: nothing of the group stays.
	again := intent("B-G1")
	again.Batch.FileHash = hashOf("another file")
	err := s.RecordIntents(ctx, []Intent{intent("B-G3"), again})
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("a group with a recorded batch: %v; want ErrDuplicate", err)
	}
	if _, err := s.Batch(ctx, intent("B-G3").Batch.MsgID); !errors.Is(err, ErrNotFound) {
		t.Errorf("batch B-G3 of a refused group: %v; want ErrNotFound", err)
	}
	if _, err := s.File(ctx, intent("B-G3").Batch.FileHash); !errors.Is(err, ErrNotFound) {
		t.Errorf("file of B-G3 of a refused group: %v; want ErrNotFound", err)
	}
	// The same content twice in one group is refused as RecordFile would.
	dup := intent("B-G4")
	dup.Batch.FileHash = intent("B-G2").Batch.FileHash
	if err := s.RecordIntents(ctx, []Intent{dup}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("a file recorded before: %v; want ErrDuplicate", err)
	}
}

// TestGroupAttemptsAndStatuses begins the upload attempts of several
// batches in one transaction and records them sent in one, all or none.
func TestGroupAttemptsAndStatuses(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	var ids []string
	for _, n := range []string{"B-U1", "B-U2", "B-U3"} {
		b, rs := newBatch(n, 0, 1)
		mustCreate(t, s, b, rs)
		ids = append(ids, b.MsgID)
	}
	temp := func(id string, n int, epoch int64) string { return tempOf(id)(n, epoch) }
	// B-U3 already has an open attempt: none of the group begins one.
	if _, err := s.BeginAttempt(ctx, ids[2], tempOf(ids[2])); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginAttempts(ctx, ids, temp); !errors.Is(err, ErrTransition) {
		t.Fatalf("a group with an open attempt: %v; want ErrTransition", err)
	}
	if _, err := s.LastAttempt(ctx, ids[0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("attempt of B-U1 after a refused group: %v; want ErrNotFound", err)
	}
	as, err := s.BeginAttempts(ctx, ids[:2], temp)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range as {
		if a.MsgID != ids[i] || a.N != 1 || a.Temp != tempOf(ids[i])(1, 0) || !a.Open() {
			t.Errorf("attempt %d: %+v", i, a)
		}
	}
	mustSetBatch(t, s, ids[1], BatchAccepted) // a reply settled it meanwhile
	if err := s.SetBatchStatuses(ctx, ids, BatchSent, ""); !errors.Is(err, ErrTransition) {
		t.Fatalf("a group with an accepted batch set sent: %v; want ErrTransition", err)
	}
	if b, _ := s.Batch(ctx, ids[0]); b.Status != BatchSending {
		t.Errorf("B-U1 after a refused group: %s; want sending", b.Status)
	}
	if err := s.SetBatchStatuses(ctx, []string{ids[0], ids[2]}, BatchSent, ""); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ids[0], ids[2]} {
		if b, _ := s.Batch(ctx, id); b.Status != BatchSent {
			t.Errorf("%s: %s; want sent", id, b.Status)
		}
		if a, _ := s.LastAttempt(ctx, id); a.Outcome != AttemptSent {
			t.Errorf("attempt of %s: %s; want sent", id, a.Outcome)
		}
	}
}
