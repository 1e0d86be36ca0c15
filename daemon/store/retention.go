package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// PurgedMarker is what a purged creditor account and note reason read
// (see Purge).
const PurgedMarker = "purged"

// PurgeSubject is the subject id of the events of subject type
// SubjectPurge.
const PurgeSubject = "retention"

// RetentionCutoff returns the instant before which a batch must have
// been settled for its retention of years to have ended at now: a batch
// is kept until the end of the calendar year years after the year in
// which it was settled, in loc. At 2026-01-01 with 5 years that is
// 2021-01-01 00:00: a batch settled in 2020 has been kept to the end of
// 2025.
func RetentionCutoff(now time.Time, years int, loc *time.Location) time.Time {
	return time.Date(now.In(loc).Year()-years, time.January, 1, 0, 0, 0, 0, loc)
}

// Expired is a batch whose retention has ended.
type Expired struct {
	MsgID string
	// FileHash is the content hash of the ERP file the batch came from;
	// "" for a re-release.
	FileHash string
	Status   BatchStatus
	// Updated is when the batch was settled (its last status change).
	Updated time.Time
	// Refunds and Notes are how many refunds and notes it has.
	Refunds, Notes int
	// Purged reports that its personal data has been purged already.
	Purged bool
}

// Retained is what the retention lets go of the store at a cut-off.
type Retained struct {
	Cutoff time.Time
	// Expired are the batches settled before the cut-off, the oldest
	// first, also those purged already.
	Expired []Expired
	// OldestKept is the batch created first among those that are kept
	// (not settled, settled since the cut-off, or with an open note),
	// and Kept when it was created; "" and zero when every batch has
	// expired. A bank reply archived before Kept concerns expired
	// batches only.
	OldestKept string
	Kept       time.Time
}

// expiredWhere is the condition on batches b of a batch whose retention
// has ended at the cut-off (the one parameter): settled for good
// (completed, rejected by refundd or by the bank) before it, no refund
// still waiting for the bank, no open note (a refund left out and not
// sent since), no open upload attempt. paid and settled-with-exceptions
// batches are not settled for good: a return, or an operator, still
// moves them.
const expiredWhere = `b.status IN ('completed', 'rejected', 'rejected-by-bank') AND b.updated < ?
	AND NOT EXISTS (SELECT 1 FROM refunds x WHERE x.msg_id = b.msg_id AND x.status IN ('new', 'sent', 'accepted', 'pending'))
	AND NOT EXISTS (SELECT 1 FROM refund_notes n WHERE n.msg_id = b.msg_id AND n.resolved_in = '' AND n.kind IN ('invalid', 'held'))
	AND NOT EXISTS (SELECT 1 FROM upload_attempts a WHERE a.msg_id = b.msg_id AND a.ended = '')`

// Retention returns the batches whose retention has ended at cutoff
// (see RetentionCutoff), and the oldest batch that is kept, on one
// snapshot. It changes nothing: it is what Purge would purge, and what
// decides which archived files may go.
func (s *Store) Retention(ctx context.Context, cutoff time.Time) (Retained, error) {
	r := Retained{Cutoff: cutoff}
	at := formatTime(cutoff)
	err := s.read(ctx, func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT b.msg_id, coalesce(b.file_hash, ''), b.status, b.updated, b.purged <> '',
			(SELECT count(*) FROM refunds r WHERE r.msg_id = b.msg_id),
			(SELECT count(*) FROM refund_notes n WHERE n.msg_id = b.msg_id)
			FROM batches b WHERE `+expiredWhere+` ORDER BY b.updated, b.msg_id`, at)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e Expired
			var st, updated string
			if err := rows.Scan(&e.MsgID, &e.FileHash, &st, &updated, &e.Purged, &e.Refunds, &e.Notes); err != nil {
				return err
			}
			e.Status = BatchStatus(st)
			if e.Updated, err = parseTime(updated); err != nil {
				return err
			}
			r.Expired = append(r.Expired, e)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		var created string
		err = tx.QueryRowContext(ctx, `SELECT b.msg_id, b.created FROM batches b WHERE NOT (`+expiredWhere+`)
			ORDER BY b.created, b.msg_id LIMIT 1`, at).Scan(&r.OldestKept, &created)
		if err == nil {
			r.Kept, err = parseTime(created)
		}
		if errors.Is(err, sql.ErrNoRows) {
			err = nil
		}
		return err
	})
	if err != nil {
		return Retained{}, fmt.Errorf("read retention before %s: %w", at, err)
	}
	return r, nil
}

// PurgeCount counts what a purge replaced or removed.
type PurgeCount struct {
	// Batches, Refunds and Notes are the rows whose personal data was
	// replaced.
	Batches, Refunds, Notes int
	// Files and Bytes are the archived files removed, and their size.
	Files int
	Bytes int64
}

// String says the counts in words.
func (c PurgeCount) String() string {
	return fmt.Sprintf("%d batches, %d refunds, %d notes; %d files, %d bytes", c.Batches, c.Refunds, c.Notes, c.Files, c.Bytes)
}

// Purge replaces the personal data of every batch whose retention has
// ended at cutoff (see Retention) and that was not purged before, with
// its refunds and notes, and marks the batch purged. It records one
// event of subject SubjectPurge (id PurgeSubject) with the counts and
// the files the caller removed (files, bytes), in the same transaction;
// none when nothing was purged or removed. It returns the counts.
// Purging again purges nothing more.
//
// The Bookkeeping Act keeps payment documentation for years after the
// end of the financial year; data protection asks not to keep account
// numbers and names longer. So the bookkeeping trail stays: amounts,
// currencies, dates, identities (MsgId, EndToEndId, InstrId, DocType and
// RefNbr), statuses, times (a batch's settlement time, updated, too) and
// the events. The columns that hold personal data, and what Purge does
// to each:
//
//   - refunds.creditor_account, the payee's account: PurgedMarker (the
//     column must not be empty);
//   - refunds.customer_id, the ERP's customer: "" (so the account guard
//     no longer compares with the purged refund);
//   - refunds.reason_text, the bank's words on a refund, which may name
//     the payee or the account: "" (the reason code stays);
//   - batches.pain, the pain.001 with the payees' names, accounts and
//     messages: NULL (pain_hash stays, as for a batch recorded without
//     it);
//   - refund_notes.reason, the problems of a refund left out of its
//     batch, which may quote its account or name: PurgedMarker;
//   - refund_notes.customer_id: "".
//
// Kept as they are: the company's own accounts (debtor_account,
// bank_entries.account), ledger accounts, the bank's references, file
// names and hashes, batch reasons (refundd's and the bank's status
// words), upload attempts, and the events, which are append-only: a
// refund's event may carry the bank's reason text, and a note's event
// its reason (accounts in it masked when refundd wrote them).
func (s *Store) Purge(ctx context.Context, cutoff time.Time, files int, bytes int64) (PurgeCount, error) {
	c := PurgeCount{Files: files, Bytes: bytes}
	at := formatTime(cutoff)
	err := s.write(ctx, func(tx *txn) error {
		c.Batches, c.Refunds, c.Notes = 0, 0, 0
		which := `msg_id IN (SELECT b.msg_id FROM batches b WHERE b.purged = '' AND ` + expiredWhere + `)`
		n, err := affected(tx.ExecContext(ctx, `UPDATE refunds SET creditor_account = ?, customer_id = '', reason_text = ''
			WHERE `+which, PurgedMarker, at))
		if err != nil {
			return err
		}
		c.Refunds = n
		if c.Notes, err = affected(tx.ExecContext(ctx, `UPDATE refund_notes SET reason = ?, customer_id = '' WHERE `+which,
			PurgedMarker, at)); err != nil {
			return err
		}
		// Last: it marks the batches purged, which the statements above
		// select by.
		now := s.stamp()
		if c.Batches, err = affected(tx.ExecContext(ctx, `UPDATE batches SET pain = NULL, purged = ? WHERE `+which, now, at)); err != nil {
			return err
		}
		if c.Batches == 0 && c.Files == 0 {
			return nil
		}
		return addEvent(ctx, tx, now, event{typ: SubjectPurge, id: PurgeSubject, to: "purged",
			reason: "retention: settled before " + cutoff.Format(time.RFC3339), detail: c.String()})
	})
	if err != nil {
		return PurgeCount{}, fmt.Errorf("purge batches settled before %s: %w", at, err)
	}
	return c, nil
}

// affected returns the number of rows a statement changed.
func affected(r interface{ RowsAffected() (int64, error) }, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	return int(n), err
}
