package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"refundd/daemon/refund"
)

// tempOf is the temporary name of attempt n of the test batches.
func tempOf(msgID string) func(int, int64) string {
	return func(n int, _ int64) string { return fmt.Sprintf("/in/.%s.xml.a%d.part", msgID, n) }
}

// TestAttempts checks the life of upload attempts: numbered from 1, one
// open at a time, ended by the caller (not uploaded) or by the batch's
// status, and only for a batch that is sending.
func TestAttempts(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	b, rs := newBatch("B-ATT", 0, 2)
	mustCreate(t, s, b, rs)
	if _, err := s.LastAttempt(ctx, b.MsgID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LastAttempt of a new batch: %v; want ErrNotFound", err)
	}

	a1, err := s.BeginAttempt(ctx, b.MsgID, tempOf(b.MsgID))
	if err != nil {
		t.Fatal(err)
	}
	if a1.N != 1 || a1.Temp != tempOf(b.MsgID)(1, 0) || !a1.Open() || a1.Started.IsZero() {
		t.Fatalf("first attempt %+v", a1)
	}
	if _, err := s.BeginAttempt(ctx, b.MsgID, tempOf(b.MsgID)); !errors.Is(err, ErrTransition) {
		t.Fatalf("a second attempt while the first is open: %v; want ErrTransition", err)
	}
	if err := s.EndAttempt(ctx, b.MsgID, 1, AttemptSent, ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("EndAttempt sent: %v; want ErrInvalid (that outcome comes with the batch status)", err)
	}
	if err := s.EndAttempt(ctx, b.MsgID, 1, AttemptNotUploaded, "connection lost before the rename"); err != nil {
		t.Fatal(err)
	}
	if err := s.EndAttempt(ctx, b.MsgID, 1, AttemptNotUploaded, ""); !errors.Is(err, ErrTransition) {
		t.Fatalf("ending an ended attempt: %v; want ErrTransition", err)
	}
	if err := s.EndAttempt(ctx, b.MsgID, 7, AttemptNotUploaded, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ending a missing attempt: %v; want ErrNotFound", err)
	}
	a2, err := s.BeginAttempt(ctx, b.MsgID, tempOf(b.MsgID))
	if err != nil || a2.N != 2 {
		t.Fatalf("second attempt %+v, %v", a2, err)
	}
	// The batch's status ends the open attempt in the same transaction.
	mustSetBatch(t, s, b.MsgID, BatchInDoubt)
	last, err := s.LastAttempt(ctx, b.MsgID)
	if err != nil || last.N != 2 || last.Outcome != AttemptInDoubt || last.Ended.IsZero() {
		t.Fatalf("after in-doubt: last attempt %+v, %v", last, err)
	}
	if _, err := s.BeginAttempt(ctx, b.MsgID, tempOf(b.MsgID)); !errors.Is(err, ErrTransition) {
		t.Fatalf("an attempt of an in-doubt batch: %v; want ErrTransition", err)
	}
	// An operator's release makes it sending again; the next attempt is 3.
	mustSetBatch(t, s, b.MsgID, BatchSending)
	a3, err := s.BeginAttempt(ctx, b.MsgID, tempOf(b.MsgID))
	if err != nil || a3.N != 3 {
		t.Fatalf("third attempt %+v, %v", a3, err)
	}
	mustSetBatch(t, s, b.MsgID, BatchReceiptOK) // a reply settles it
	as, err := s.Attempts(ctx, b.MsgID)
	if err != nil {
		t.Fatal(err)
	}
	var got []AttemptOutcome
	for _, a := range as {
		got = append(got, a.Outcome)
	}
	if want := []AttemptOutcome{AttemptNotUploaded, AttemptInDoubt, AttemptSettled}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("outcomes %v; want %v", got, want)
	}
	if _, err := s.BeginAttempt(ctx, "RFD-NONE", tempOf("x")); !errors.Is(err, ErrNotFound) {
		t.Errorf("attempt of an unknown batch: %v; want ErrNotFound", err)
	}
	// Each begin is in the batch's history.
	evs, err := s.Events(ctx, SubjectBatch, b.MsgID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.From == e.To && e.To == string(BatchSending) {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d attempt events; want 3", n)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

// TestAttemptsKept checks that an ended attempt cannot be changed and no
// attempt deleted, and that the integrity check finds an open attempt of
// a batch that is not sending.
func TestAttemptsKept(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	b, rs := newBatch("B-KEEP", 0, 1)
	mustCreate(t, s, b, rs)
	if _, err := s.BeginAttempt(ctx, b.MsgID, tempOf(b.MsgID)); err != nil {
		t.Fatal(err)
	}
	mustSetBatch(t, s, b.MsgID, BatchSent)
	for _, q := range []string{
		`UPDATE upload_attempts SET outcome = 'not-uploaded'`,
		`UPDATE upload_attempts SET ended = '', outcome = ''`,
		`DELETE FROM upload_attempts`,
	} {
		if _, err := s.w.ExecContext(ctx, q); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
	// At most one open attempt per batch: a second one is refused by the
	// store itself, not only by BeginAttempt.
	b2, rs2 := newBatch("B-KEEP2", 0, 1)
	mustCreate(t, s, b2, rs2)
	if _, err := s.BeginAttempt(ctx, b2.MsgID, tempOf(b2.MsgID)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO upload_attempts (msg_id, attempt, temp_name, started) VALUES (?, 2, 'x', '2026-12-01T00:00:00Z')`, b2.MsgID); err == nil {
		t.Fatal("a second open attempt of a batch was recorded")
	}
	// An open attempt of a batch that is not sending is found by the
	// integrity check.
	if _, err := s.w.ExecContext(ctx, `INSERT INTO upload_attempts (msg_id, attempt, temp_name, started) VALUES (?, 2, 'x', '2026-12-01T00:00:00Z')`, b.MsgID); err != nil {
		t.Fatal(err)
	}
	if err := s.IntegrityCheck(ctx); err == nil || !errors.Is(err, ErrCorrupt) {
		t.Errorf("IntegrityCheck with an open attempt of a sent batch: %v; want ErrCorrupt", err)
	}
}

// TestMigrateSendingBatches checks that a batch that was sending under a
// schema without attempts gets an open attempt with the default
// temporary name, so it is settled from the server, not uploaded blindly.
func TestMigrateSendingBatches(t *testing.T) {
	sqliteOnly(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := open(path, migrations[:1])
	if err != nil {
		t.Fatal(err)
	}
	sending, _ := newBatch("B-OLD", 0, 1)
	sending.RemoteName = "/inbound/" + sending.MsgID + ".xml"
	received, _ := newBatch("B-OLD2", 0, 1)
	received.Status = BatchReceived
	for _, b := range []Batch{sending, received} {
		legacyBatch(t, s, b)
	}
	s.Close()

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, err := s.LastAttempt(ctx, sending.MsgID)
	if err != nil {
		t.Fatal(err)
	}
	if want := "/inbound/." + sending.MsgID + ".xml.part"; a.N != 1 || !a.Open() || a.Temp != want {
		t.Errorf("migrated attempt %+v; want attempt 1 open with temporary name %s", a, want)
	}
	if _, err := s.LastAttempt(ctx, received.MsgID); !errors.Is(err, ErrNotFound) {
		t.Errorf("a batch that was not sending got an attempt: %v", err)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

// legacyBatch writes batch b with one refund of 100 NOK as a schema-1
// refundd did, with raw SQL: the store's code writes today's columns.
func legacyBatch(t *testing.T, s *Store, b Batch) {
	t.Helper()
	at := s.stamp()
	e2e := refund.EndToEndID(refund.CreditNote, b.Number+"-1", 0)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO batches (msg_id, number, attempt, status, remote_name, nb_of_txs, created, updated)
			VALUES (?, ?, 0, ?, ?, 1, ?, ?)`, []any{b.MsgID, b.Number, string(b.Status), b.RemoteName, at, at}},
		{`INSERT INTO batch_totals VALUES (?, 'NOK', 1, 100)`, []any{b.MsgID}},
		{`INSERT INTO refunds (end_to_end_id, doc_type, ref_nbr, release_no, msg_id, pmt_inf_id, amount_minor, currency,
			execution_date, creditor_account, status, created, updated)
			VALUES (?, 'CreditNote', ?, 0, ?, 'P-1', 100, 'NOK', '2026-09-01', ?, 'new', ?, ?)`,
			[]any{e2e, b.Number + "-1", b.MsgID, creditorOne, at, at}},
		{`INSERT INTO events (at, subject_type, subject_id, from_status, to_status) VALUES (?, 'batch', ?, '', ?)`,
			[]any{at, b.MsgID, string(b.Status)}},
		{`INSERT INTO events (at, subject_type, subject_id, from_status, to_status) VALUES (?, 'refund', ?, '', 'new')`,
			[]any{at, e2e}},
	} {
		if _, err := s.w.Exec(q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
}
