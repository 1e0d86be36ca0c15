package store

import (
	"context"
	"database/sql"
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
	err := s.write(ctx, func(tx *sql.Tx) error {
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
			for _, c := range r.Refunds {
				cs, err := s.setRefundStatus(ctx, tx, c.EndToEndID, c.To, c.Code, c.Text, detail)
				if err != nil {
					return fmt.Errorf("refund %s to %s: %w", c.EndToEndID, c.To, err)
				}
				res.Changes = append(res.Changes, cs...)
			}
		}
		if err := s.recordKeys(ctx, tx, fileHash, r.Keys, &res); err != nil {
			return err
		}
		_, err = s.finishFile(ctx, tx, fileHash, FileDone, "", "")
		return err
	})
	if err != nil {
		return ReplyResult{}, fmt.Errorf("apply reply %s: %w", fileHash, err)
	}
	return res, nil
}

// recordKeys records the keys that are new and sorts them into res.
func (s *Store) recordKeys(ctx context.Context, tx *sql.Tx, fileHash string, keys []AppliedKey, res *ReplyResult) error {
	if len(keys) == 0 {
		return nil
	}
	seen, err := tx.PrepareContext(ctx, `SELECT count(*) FROM bank_entries WHERE account = ? AND entry = ? AND tx = ?`)
	if err != nil {
		return err
	}
	defer seen.Close()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO bank_entries (account, entry, tx, file_hash, kind, end_to_end_id, applied)
		VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	at := s.stamp()
	for _, k := range keys {
		switch k.Kind {
		case "", refund.KindPayment, refund.KindReturn, refund.KindCharges, refund.KindException:
		default:
			return fmt.Errorf("%w: key %s: kind %q is not recorded", ErrInvalid, k.Key, k.Kind)
		}
		if k.Key.Entry == "" || k.Key.Tx == "" {
			return fmt.Errorf("%w: key %q has no entry or transaction part", ErrInvalid, k.Key)
		}
		var n int
		if err := seen.QueryRowContext(ctx, k.Key.Account, k.Key.Entry, k.Key.Tx).Scan(&n); err != nil {
			return fmt.Errorf("key %s: %w", k.Key, err)
		}
		if n > 0 {
			res.Duplicates = append(res.Duplicates, k.Key)
			continue
		}
		if _, err := ins.ExecContext(ctx, k.Key.Account, k.Key.Entry, k.Key.Tx, fileHash, string(k.Kind), k.EndToEndID, at); err != nil {
			return fmt.Errorf("key %s: %w", k.Key, err)
		}
		res.Recorded = append(res.Recorded, k.Key)
	}
	return nil
}
