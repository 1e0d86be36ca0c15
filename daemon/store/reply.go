package store

import (
	"context"
	"fmt"

	"refundd/daemon/refund"
)

// BatchStatusChange asks for a batch's status to change (a pain.002 group
// or payment-information status).
type BatchStatusChange struct {
	MsgID  string
	To     BatchStatus
	Reason string
}

// RefundStatusChange asks for a refund's status to change (a pain.002
// transaction status, a camt.054 booking or return), with the bank's
// reason code and text.
type RefundStatusChange struct {
	EndToEndID string
	To         refund.Status
	Code, Text string
}

// AppliedKey is a booking that refund.Apply accounted for (refund.Applied
// Keys), to be recorded so that it is never posted again.
type AppliedKey struct {
	Key refund.Key
	// Kind is the outcome's kind: payment, return, charges or exception;
	// "" when the caller does not know it (an exception line of a status
	// report). Not-booked outcomes are never recorded.
	Kind refund.Kind
	// EndToEndID is the refund the booking was matched to, "" for none.
	EndToEndID string
}

// Reply is what a bank reply file changes: batch statuses first, then
// refund statuses, each in order, and the bookings applied.
type Reply struct {
	Batches []BatchStatusChange
	Refunds []RefundStatusChange
	Keys    []AppliedKey
}

// ReplyResult is what ApplyReply did.
type ReplyResult struct {
	// Changes are the status changes made, in order, with those that
	// follow from a batch's change (see SetBatchStatus). A change to the
	// status that a subject has already is a no-op and not listed.
	Changes []Change
	// Recorded are the keys recorded now; Duplicates those recorded
	// before (by an earlier reply, or earlier in this one): nothing new.
	Recorded, Duplicates []refund.Key
	// AlreadyApplied is true when the file was done before the call: its
	// status changes were made then and are not made again.
	AlreadyApplied bool
}

// ApplyReply applies a reply file, recorded with RecordFile under
// fileHash, in one transaction: the status changes of r with their
// events, the bank-entry keys of r, and the file's outcome done. Either
// all of it is recorded or, on an error, nothing.
//
// Applying a file again is harmless: when the file is done already, no
// status is changed (that was done the first time), and its keys, recorded
// the first time, are reported in Duplicates. A key recorded before is
// never an error.
//
// The error wraps ErrNotFound for an unknown file, batch or refund,
// ErrTransition for a status change not allowed (or a file that failed),
// ErrInvalid for a file that is not a reply, or a key without an entry or
// a transaction part or of kind not-booked; it names the change.
func (s *Store) ApplyReply(ctx context.Context, fileHash string, r Reply) (ReplyResult, error) {
	var res ReplyResult
	err := s.write(ctx, func(tx *txn) error {
		res = ReplyResult{}
		f, err := fileByHash(ctx, tx, fileHash)
		if err != nil {
			return fmt.Errorf("file: %w", err)
		}
		switch {
		case f.Kind != FileReply:
			return fmt.Errorf("%w: file %s is a %s file", ErrInvalid, f.Name, f.Kind)
		case f.Outcome == FileDone:
			res.AlreadyApplied = true
		case f.Outcome != FileProcessing:
			return fmt.Errorf("%w: file %s is %s", ErrTransition, f.Name, f.Outcome)
		}
		detail := "reply " + fileHash
		if !res.AlreadyApplied {
			for _, c := range r.Batches {
				cs, err := s.setBatchStatus(ctx, tx, c.MsgID, c.To, c.Reason, detail)
				if err != nil {
					return fmt.Errorf("batch %s to %s: %w", c.MsgID, c.To, err)
				}
				res.Changes = append(res.Changes, cs...)
			}
			rcs := make([]refundChange, len(r.Refunds))
			for i, c := range r.Refunds {
				rcs[i] = refundChange{e2e: c.EndToEndID, to: c.To, code: c.Code, text: c.Text, detail: detail}
			}
			cs, err := s.setRefundStatuses(ctx, tx, rcs)
			if err != nil {
				return err
			}
			res.Changes = append(res.Changes, cs...)
			if cs, err = s.reopenReturned(ctx, tx, cs, detail); err != nil {
				return err
			}
			res.Changes = append(res.Changes, cs...)
		}
		if err := s.recordKeys(ctx, tx, fileHash, r.Keys, &res); err != nil {
			return err
		}
		_, err = s.finishRead(ctx, tx, f, FileDone, "", "")
		return err
	})
	if err != nil {
		return ReplyResult{}, fmt.Errorf("apply reply %s: %w", fileHash, err)
	}
	return res, nil
}

// reopenReturned moves the batch of every refund that changes lists as
// returned from paid or completed to settled-with-exceptions: the bank
// brought the money back, and the refund needs an operator again.
func (s *Store) reopenReturned(ctx context.Context, tx *txn, changes []Change, detail string) ([]Change, error) {
	var out []Change
	for _, c := range changes {
		if c.Subject != SubjectRefund || c.To != string(refund.StatusReturned) {
			continue
		}
		var msgID, status string
		err := tx.QueryRowContext(ctx, `SELECT b.msg_id, b.status FROM refunds r JOIN batches b ON b.msg_id = r.msg_id
			WHERE r.end_to_end_id = ?`, c.ID).Scan(&msgID, &status)
		if err != nil {
			return nil, fmt.Errorf("batch of refund %s: %w", c.ID, err)
		}
		if st := BatchStatus(status); st != BatchPaid && st != BatchCompleted {
			continue
		}
		cs, err := s.setBatchStatus(ctx, tx, msgID, BatchSettledWithExceptions, "refund "+c.ID+" returned by the bank", detail)
		if err != nil {
			return nil, fmt.Errorf("batch %s of returned refund %s: %w", msgID, c.ID, err)
		}
		out = append(out, cs...)
	}
	return out, nil
}

// recordKeys records the keys that are new and sorts them into res: a
// key recorded before, or twice in keys, is a duplicate.
func (s *Store) recordKeys(ctx context.Context, tx *txn, fileHash string, keys []AppliedKey, res *ReplyResult) error {
	for _, k := range keys {
		switch k.Kind {
		case "", refund.KindPayment, refund.KindReturn, refund.KindCharges, refund.KindException:
		default:
			return fmt.Errorf("%w: key %s: kind %q is not recorded", ErrInvalid, k.Key, k.Kind)
		}
		if k.Key.Entry == "" || k.Key.Tx == "" {
			return fmt.Errorf("%w: key %q has no entry or transaction part", ErrInvalid, k.Key)
		}
	}
	if tx.d.pg {
		return recordKeysPG(ctx, tx, fileHash, keys, res, s.stamp())
	}
	// A statement of 100,000 entries has as many keys: the columns of
	// the statements are built one chunk at a time, so that memory holds
	// the keys once, not a copy per column.
	recorded := make(map[refund.Key]bool)
	err := chunked(len(keys), 3, func(lo, hi int) error {
		part := keys[lo:hi]
		acct, entry, txs := make([]string, len(part)), make([]string, len(part)), make([]string, len(part))
		for i, k := range part {
			acct[i], entry[i], txs[i] = k.Key.Account, k.Key.Entry, k.Key.Tx
		}
		set, args := rowSet(tx, 0, len(part), []column{{"account", "text", acct}, {"entry", "text", entry}, {"tx", "text", txs}})
		rows, err := tx.QueryContext(ctx, `SELECT account, entry, tx FROM bank_entries WHERE (account, entry, tx) IN `+set, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k refund.Key
			if err := rows.Scan(&k.Account, &k.Entry, &k.Tx); err != nil {
				return err
			}
			recorded[k] = true
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("bank entries: %w", err)
	}
	now := s.stamp()
	const chunk = maxParams / 7 // the columns of keyColumns
	fresh := make([]AppliedKey, 0, min(chunk, len(keys)))
	flush := func() error {
		err := insertRows(ctx, tx, "bank_entries", len(fresh), keyColumns(fileHash, fresh, now))
		fresh = fresh[:0]
		return err
	}
	for _, k := range keys {
		if recorded[k.Key] {
			res.Duplicates = append(res.Duplicates, k.Key)
			continue
		}
		recorded[k.Key] = true
		fresh = append(fresh, k)
		res.Recorded = append(res.Recorded, k.Key)
		if len(fresh) == chunk {
			if err := flush(); err != nil {
				return fmt.Errorf("record bank entries: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("record bank entries: %w", err)
	}
	return nil
}

// recordKeysPG is recordKeys in one statement: the keys new to the list
// are inserted where the primary key has none of them yet, and the rows
// inserted come back. (SQLite's trigger that refuses a second insert of
// a key runs before any ON CONFLICT clause, so there the keys are looked
// up first.)
func recordKeysPG(ctx context.Context, tx *txn, fileHash string, keys []AppliedKey, res *ReplyResult, now string) error {
	first := make(map[refund.Key]bool, len(keys))
	var cand []AppliedKey
	for _, k := range keys {
		if !first[k.Key] {
			first[k.Key] = true
			cand = append(cand, k)
		}
	}
	inserted := make(map[refund.Key]bool, len(cand))
	if len(cand) > 0 {
		q, args := pgInsert("bank_entries", keyColumns(fileHash, cand, now))
		rows, err := tx.QueryContext(ctx, q+` ON CONFLICT (account, entry, tx) DO NOTHING RETURNING account, entry, tx`, args...)
		if err != nil {
			return fmt.Errorf("record bank entries: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k refund.Key
			if err := rows.Scan(&k.Account, &k.Entry, &k.Tx); err != nil {
				return fmt.Errorf("record bank entries: %w", err)
			}
			inserted[k] = true
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("record bank entries: %w", err)
		}
	}
	for _, k := range keys {
		if inserted[k.Key] {
			res.Recorded = append(res.Recorded, k.Key)
			delete(inserted, k.Key) // the same key again in keys is a duplicate
			continue
		}
		res.Duplicates = append(res.Duplicates, k.Key)
	}
	return nil
}

// keyColumns are the rows of bank_entries for keys, applied at now from
// the file fileHash.
func keyColumns(fileHash string, keys []AppliedKey, now string) []column {
	m := len(keys)
	acct, entry, txs := make([]string, m), make([]string, m), make([]string, m)
	file, kind, e2e, at := make([]string, m), make([]string, m), make([]string, m), make([]string, m)
	for i, k := range keys {
		acct[i], entry[i], txs[i], file[i], kind[i], e2e[i], at[i] = k.Key.Account, k.Key.Entry, k.Key.Tx, fileHash, string(k.Kind), k.EndToEndID, now
	}
	return []column{
		{"account", "text", acct}, {"entry", "text", entry}, {"tx", "text", txs}, {"file_hash", "text", file},
		{"kind", "text", kind}, {"end_to_end_id", "text", e2e}, {"applied", "text", at},
	}
}
