package store

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"refundd/daemon/refund"
)

// settledBatch records batch number with n refunds and a pain.001 and
// moves it to status to, at the store's clock: completed (every refund
// booked), rejected-by-bank (every refund rejected with a reason text),
// in-doubt or paid.
func settledBatch(t *testing.T, s *Store, number string, n int, to BatchStatus, notes ...Note) Batch {
	t.Helper()
	ctx := t.Context()
	b, rs := newBatch(number, 0, n)
	b.Pain = []byte("<Document>" + number + " Kari Nordmann 12345678903</Document>")
	b.PainHash = hashOf(string(b.Pain))
	b.Notes = notes
	mustCreate(t, s, b, rs)
	setRefunds := func(to refund.Status, code, text string) {
		for _, r := range rs {
			if _, err := s.SetRefundStatus(ctx, r.EndToEndID, to, code, text); err != nil {
				t.Fatal(err)
			}
		}
	}
	switch to {
	case BatchCompleted, BatchPaid:
		mustSetBatch(t, s, b.MsgID, BatchSent)
		setRefunds(refund.StatusBooked, "", "")
		mustSetBatch(t, s, b.MsgID, BatchPaid)
		mustSetBatch(t, s, b.MsgID, to)
	case BatchRejectedByBank:
		mustSetBatch(t, s, b.MsgID, BatchRejectedByBank)
		setRefunds(refund.StatusRejected, "AC04", "Konto 12345678903 (Kari Nordmann) er stengt")
	case BatchInDoubt:
		mustSetBatch(t, s, b.MsgID, BatchInDoubt)
	default:
		t.Fatalf("settledBatch to %s", to)
	}
	return b
}

// TestPurgeAcrossTheRetentionBoundary: with 5 years, a batch completed on
// 2020-06-01 has been kept to the end of 2025: it is purged on
// 2026-01-01, not on 2025-12-31. A batch of the same age that is in doubt,
// paid but not completed, or has an open note is never purged; one
// completed in 2021 waits a year more. The purge keeps amounts, ids,
// statuses and events, records one event, and purges nothing twice.
func TestPurgeAcrossTheRetentionBoundary(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2020, time.June, 1, 12, 0, 0, 0, oslo)
	s.now = func() time.Time { return clock }

	flag := Note{Position: "p.csv:9", DocType: refund.CreditNote, RefNbr: "P1-9", CustomerID: "C-P1-9",
		Kind: NoteAccountChanged, Reason: "account 1234******03 differs from 1503******62"}
	open := Note{Position: "p.csv:8", DocType: refund.CreditNote, RefNbr: "P4-8", CustomerID: "C-P4-8",
		Kind: NoteInvalid, Reason: `Account: "12345678904": check digit does not match`}
	doubt := settledBatch(t, s, "P0", 1, BatchInDoubt) // created first: the oldest kept
	done := settledBatch(t, s, "P1", 2, BatchCompleted, flag)
	rejected := settledBatch(t, s, "P2", 1, BatchRejectedByBank)
	paid := settledBatch(t, s, "P3", 1, BatchPaid)
	withNote := settledBatch(t, s, "P4", 1, BatchCompleted, open)
	clock = time.Date(2021, time.March, 1, 12, 0, 0, 0, oslo)
	later := settledBatch(t, s, "P5", 1, BatchCompleted)
	kept := []Batch{doubt, paid, withNote, later}

	for _, c := range []struct {
		now  time.Time
		want []string
	}{
		{time.Date(2025, time.December, 31, 23, 59, 0, 0, oslo), nil},
		{time.Date(2026, time.January, 1, 0, 0, 0, 0, oslo), []string{done.MsgID, rejected.MsgID}},
	} {
		cutoff := RetentionCutoff(c.now, 5, oslo)
		r, err := s.Retention(ctx, cutoff)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range r.Expired {
			got = append(got, e.MsgID)
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("at %s (cut-off %s): expired %v; want %v", c.now, cutoff, got, c.want)
		}
		if r.OldestKept != doubt.MsgID {
			t.Errorf("at %s: the oldest kept batch is %q; want %s", c.now, r.OldestKept, doubt.MsgID)
		}
	}

	before := time.Date(2025, time.December, 31, 12, 0, 0, 0, oslo)
	if n, err := s.Purge(ctx, RetentionCutoff(before, 5, oslo), 0, 0); err != nil || n != (PurgeCount{}) {
		t.Fatalf("Purge on 2025-12-31 = %+v, %v; want nothing", n, err)
	}
	if evs, err := s.Events(ctx, SubjectPurge, PurgeSubject); err != nil || len(evs) != 0 {
		t.Fatalf("a purge that purged nothing recorded %+v (%v)", evs, err)
	}

	cutoff := RetentionCutoff(time.Date(2026, time.January, 1, 0, 0, 0, 0, oslo), 5, oslo)
	if want := time.Date(2021, time.January, 1, 0, 0, 0, 0, oslo); !cutoff.Equal(want) {
		t.Fatalf("cut-off %s; want %s", cutoff, want)
	}
	clock = time.Date(2026, time.January, 1, 3, 0, 0, 0, oslo)
	n, err := s.Purge(ctx, cutoff, 4, 1234)
	if want := (PurgeCount{Batches: 2, Refunds: 3, Notes: 1, Files: 4, Bytes: 1234}); err != nil || n != want {
		t.Fatalf("Purge = %+v, %v; want %+v", n, err, want)
	}

	for _, b := range []Batch{done, rejected} {
		rs, err := s.Refunds(ctx, b.MsgID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.CreditorAccount != PurgedMarker || r.CustomerID != "" || r.ReasonText != "" {
				t.Errorf("refund %s after the purge: account %q, customer %q, reason text %q", r.EndToEndID, r.CreditorAccount, r.CustomerID, r.ReasonText)
			}
			if r.Amount.Minor <= 0 || r.RefNbr == "" || r.DebtorAccount != ourAccount || (r.Status != refund.StatusBooked && r.Status != refund.StatusRejected) {
				t.Errorf("refund %s lost its bookkeeping: %+v", r.EndToEndID, r)
			}
			if r.Status == refund.StatusRejected && r.ReasonCode != "AC04" {
				t.Errorf("refund %s lost its reason code: %q", r.EndToEndID, r.ReasonCode)
			}
		}
		if pain, err := s.Pain(ctx, b.MsgID); err != nil || pain != nil {
			t.Errorf("pain.001 of %s after the purge: %q, %v; want none", b.MsgID, pain, err)
		}
		got, err := s.Batch(ctx, b.MsgID)
		if err != nil || got.PainHash != b.PainHash || len(got.Sums) != 1 || got.Updated.Year() != 2020 {
			t.Errorf("batch %s after the purge: %+v, %v", b.MsgID, got, err)
		}
		if evs, err := s.Events(ctx, SubjectBatch, b.MsgID); err != nil || len(evs) < 2 {
			t.Errorf("events of %s after the purge: %d, %v", b.MsgID, len(evs), err)
		}
	}
	if ns, err := s.Notes(ctx, done.MsgID); err != nil || len(ns) != 1 || ns[0].Reason != PurgedMarker || ns[0].CustomerID != "" || ns[0].RefNbr != "P1-9" {
		t.Errorf("notes of %s after the purge: %+v, %v", done.MsgID, ns, err)
	}
	if _, ok, err := s.LastBookedAccount(ctx, "C-P1-1"); err != nil || ok {
		t.Errorf("LastBookedAccount of a purged customer: %v, %v; want none", ok, err)
	}
	for _, b := range kept {
		rs, err := s.Refunds(ctx, b.MsgID)
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].CreditorAccount != creditorOne || rs[0].CustomerID == "" {
			t.Errorf("refund %s of the kept batch %s was purged: %+v", rs[0].EndToEndID, b.MsgID, rs[0])
		}
		if pain, err := s.Pain(ctx, b.MsgID); err != nil || pain == nil {
			t.Errorf("pain.001 of the kept batch %s: %q, %v", b.MsgID, pain, err)
		}
	}
	if ns, err := s.Notes(ctx, withNote.MsgID); err != nil || ns[0].Reason != open.Reason {
		t.Errorf("the open note of %s: %+v, %v", withNote.MsgID, ns, err)
	}

	evs, err := s.Events(ctx, SubjectPurge, PurgeSubject)
	if err != nil || len(evs) != 1 {
		t.Fatalf("purge events %+v, %v; want 1", evs, err)
	}
	if e := evs[0]; e.To != "purged" || !strings.Contains(e.Reason, "2021-01-01T00:00:00+01:00") ||
		e.Detail != "2 batches, 3 refunds, 1 notes; 4 files, 1234 bytes" || e.At.Year() != 2026 {
		t.Errorf("purge event %+v", e)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}

	// Again: nothing more, no event; the batches show as purged.
	if n, err := s.Purge(ctx, cutoff, 0, 0); err != nil || n != (PurgeCount{}) {
		t.Errorf("second Purge = %+v, %v; want nothing", n, err)
	}
	if evs, _ := s.Events(ctx, SubjectPurge, PurgeSubject); len(evs) != 1 {
		t.Errorf("%d purge events after a second purge; want 1", len(evs))
	}
	r, err := s.Retention(ctx, cutoff)
	if err != nil || len(r.Expired) != 2 || !r.Expired[0].Purged || !r.Expired[1].Purged {
		t.Errorf("Retention after the purge = %+v, %v; want the two, purged", r, err)
	}
}

// TestPurgeEventsOnly: the events table takes purge events and still
// refuses an unknown subject type.
func TestPurgeEventsOnly(t *testing.T) {
	s := openTest(t)
	for typ, ok := range map[string]bool{"purge": true, "bogus": false} {
		_, err := s.w.Exec(`INSERT INTO events (at, subject_type, subject_id, from_status, to_status) VALUES ('x', ?, 'x', '', 'y')`, typ)
		if (err == nil) != ok {
			t.Errorf("event of subject type %s: %v; want accepted %v", typ, err, ok)
		}
	}
}

// TestPurgeAfterMigration: a database of schema version 5 with a
// completed batch is migrated (batches.purged, purge events) and purged.
func TestPurgeAfterMigration(t *testing.T) {
	sqliteOnly(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state.db")
	old, err := open(path, migrations[:5])
	if err != nil {
		t.Fatal(err)
	}
	old.now = func() time.Time { return time.Date(2019, time.May, 1, 0, 0, 0, 0, time.UTC) }
	b := settledBatch(t, old, "M1", 2, BatchCompleted)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n, err := s.Purge(ctx, RetentionCutoff(time.Date(2026, time.March, 1, 0, 0, 0, 0, time.UTC), 5, time.UTC), 0, 0)
	if err != nil || n.Batches != 1 || n.Refunds != 2 {
		t.Fatalf("Purge after the migration = %+v, %v; want batch %s", n, err, b.MsgID)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}
