package store

import (
	"context"
	"errors"
	"fmt"

	"refundd/daemon/refund"
)

// Change is one status change that the store made, with its event.
type Change struct {
	Subject SubjectType
	// ID is the batch's MsgId or the refund's EndToEndId.
	ID       string
	From, To string
}

// SetBatchStatus moves the batch msgID to status to, with a reason, and
// returns the changes made: none when the batch has that status already,
// else the batch's and those that follow from it, in order:
//
//   - a batch that reaches the bank (from sending or in-doubt to sent or a
//     status of a reply) takes its new refunds to sent;
//   - a batch rejected before sending takes its new refunds to rejected,
//     with the batch's reason as their reason text.
//
// A change not in the table of batchNext wraps ErrTransition; an unknown
// batch ErrNotFound. A batch goes sending only with its local path and
// remote name recorded (CreateBatch or SetBatchFiles).
func (s *Store) SetBatchStatus(ctx context.Context, msgID string, to BatchStatus, reason string) ([]Change, error) {
	var cs []Change
	err := s.write(ctx, func(tx *txn) error {
		var err error
		cs, err = s.setBatchStatus(ctx, tx, msgID, to, reason, "")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("set status of batch %s to %s: %w", msgID, to, err)
	}
	return cs, nil
}

// SetBatchStatuses is SetBatchStatus for several batches in one
// transaction (one commit, one flush to disk, for all): every change is
// recorded or none, and the error is the first batch's that could not
// change.
func (s *Store) SetBatchStatuses(ctx context.Context, msgIDs []string, to BatchStatus, reason string) error {
	err := s.write(ctx, func(tx *txn) error {
		for _, id := range msgIDs {
			if _, err := s.setBatchStatus(ctx, tx, id, to, reason, ""); err != nil {
				return fmt.Errorf("batch %s: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set status of %d batches to %s: %w", len(msgIDs), to, err)
	}
	return nil
}

func (s *Store) setBatchStatus(ctx context.Context, tx *txn, msgID string, to BatchStatus, reason, detail string) ([]Change, error) {
	if !to.Valid() {
		return nil, fmt.Errorf("%w: unknown batch status %q", ErrInvalid, to)
	}
	b, err := batchByMsgID(ctx, tx, msgID)
	if err != nil {
		return nil, err
	}
	from := b.Status
	if from == to {
		return nil, nil
	}
	if !AllowedBatch(from, to) {
		return nil, fmt.Errorf("%w: %s → %s", ErrTransition, from, to)
	}
	if to == BatchSending && (b.LocalPath == "" || b.RemoteName == "") {
		return nil, fmt.Errorf("%w: a batch goes sending only with its local path and remote name recorded", ErrInvalid)
	}
	at := s.stamp()
	toBank := reachesBank(from, to)
	if _, err := tx.ExecContext(ctx, `UPDATE batches SET status = ?, reason = ?, updated = ?,
		sent = CASE WHEN ? AND sent = '' THEN ? ELSE sent END WHERE msg_id = ?`,
		string(to), reason, at, toBank, at, msgID); err != nil {
		return nil, err
	}
	if err := addEvent(ctx, tx, at, event{typ: SubjectBatch, id: msgID, from: string(from), to: string(to), reason: reason, detail: detail}); err != nil {
		return nil, err
	}
	if from == BatchSending {
		// An open upload attempt ends with the batch's new status.
		outcome := AttemptSettled
		switch to {
		case BatchSent:
			outcome = AttemptSent
		case BatchInDoubt:
			outcome = AttemptInDoubt
		}
		if err := endAttempt(ctx, tx, at, msgID, outcome, reason); err != nil {
			return nil, err
		}
	}
	cs := []Change{{Subject: SubjectBatch, ID: msgID, From: string(from), To: string(to)}}

	var cascade refund.Status
	var text string
	switch {
	case toBank:
		cascade = refund.StatusSent
	case to == BatchRejected:
		cascade, text = refund.StatusRejected, reason
	default:
		return cs, nil
	}
	ids, err := refundsInStatus(ctx, tx, msgID, refund.StatusNew)
	if err != nil {
		return nil, err
	}
	why := "batch " + string(to)
	if detail != "" {
		why += "; " + detail
	}
	rcs := make([]refundChange, len(ids))
	for i, id := range ids {
		rcs[i] = refundChange{e2e: id, to: cascade, text: text, detail: why}
	}
	c, err := s.setRefundStatuses(ctx, tx, rcs)
	if err != nil {
		return nil, err
	}
	return append(cs, c...), nil
}

// refundsInStatus returns the EndToEndIds of the batch's refunds in
// status st, in the batch's order.
func refundsInStatus(ctx context.Context, tx *txn, msgID string, st refund.Status) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT end_to_end_id FROM refunds WHERE msg_id = ? AND status = ? ORDER BY rowid`, msgID, string(st))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// SetBatchFiles records where the pain.001 of a received batch is in the
// state folder, the name it is to be uploaded under, and the SHA-256 of
// its bytes ("" when not known), before the batch goes sending. Once the
// batch is sending, these are fixed: a resend uploads the same file under
// the same name.
func (s *Store) SetBatchFiles(ctx context.Context, msgID, localPath, remoteName, painHash string) error {
	err := s.write(ctx, func(tx *txn) error {
		switch {
		case localPath == "" || remoteName == "":
			return fmt.Errorf("%w: needs a local path and a remote name", ErrInvalid)
		case painHash != "" && !validHash(painHash):
			return fmt.Errorf("%w: pain.001 hash %q is not a lower-case hex SHA-256", ErrInvalid, painHash)
		}
		b, err := batchByMsgID(ctx, tx, msgID)
		if err != nil {
			return err
		}
		if b.Status != BatchReceived {
			return fmt.Errorf("%w: batch is %s; its files are fixed once it is sending", ErrTransition, b.Status)
		}
		_, err = tx.ExecContext(ctx, `UPDATE batches SET local_path = ?, remote_name = ?, pain_hash = ?, updated = ? WHERE msg_id = ?`,
			localPath, remoteName, painHash, s.stamp(), msgID)
		return err
	})
	if err != nil {
		return fmt.Errorf("set files of batch %s: %w", msgID, err)
	}
	return nil
}

// SetRefundStatus moves the refund with EndToEndId e2e to status to, with
// the bank's reason code and text (kept until the next change), and
// reports whether it changed: not when the refund has that status already.
// A change not in the table of refundNext wraps ErrTransition; an unknown
// refund ErrNotFound.
func (s *Store) SetRefundStatus(ctx context.Context, e2e string, to refund.Status, code, text string) (bool, error) {
	var changed bool
	err := s.write(ctx, func(tx *txn) error {
		cs, err := s.setRefundStatus(ctx, tx, e2e, to, code, text, "")
		changed = len(cs) > 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("set status of refund %s to %s: %w", e2e, to, err)
	}
	return changed, nil
}

func (s *Store) setRefundStatus(ctx context.Context, tx *txn, e2e string, to refund.Status, code, text, detail string) ([]Change, error) {
	cs, err := s.setRefundStatuses(ctx, tx, []refundChange{{e2e: e2e, to: to, code: code, text: text, detail: detail}})
	var re *refundError
	if errors.As(err, &re) {
		return nil, re.err
	}
	return cs, err
}
