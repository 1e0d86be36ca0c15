package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"refundd/daemon/refund"
)

// openBatchStatuses are the statuses of a batch whose refunds the bank
// may have rejected or returned and that is not completed: a completed
// batch has every such refund re-released, a paid one has every refund
// booked (a return moves it on), and refundd's own rejection sent
// nothing. The status page's list (NotPaidAgain) and the metric
// (ToRerelease) read the same batches, so that they agree.
var openBatchStatuses = []BatchStatus{BatchSending, BatchSent, BatchInDoubt, BatchReceiptOK, BatchAccepted,
	BatchPartiallyAccepted, BatchRejectedByBank, BatchPending, BatchSettledWithExceptions}

// notPaidAgain is the FROM and WHERE, and their arguments, of the refunds
// r (of batches b) that the bank rejected or returned and that no later
// release pays again, in the batches of openBatchStatuses.
func notPaidAgain() (string, []any) {
	args := make([]any, 0, len(openBatchStatuses)+2)
	args = append(args, string(refund.StatusRejected), string(refund.StatusReturned))
	for _, st := range openBatchStatuses {
		args = append(args, string(st))
	}
	return ` FROM batches b JOIN refunds r ON r.msg_id = b.msg_id AND r.status IN (?, ?)
	WHERE b.status IN (?` + strings.Repeat(", ?", len(openBatchStatuses)-1) + `)
	AND NOT EXISTS (SELECT 1 FROM refunds l WHERE l.doc_type = r.doc_type AND l.ref_nbr = r.ref_nbr AND l.release_no > r.release_no)`, args
}

// NotPaidAgain returns up to limit refunds that the bank rejected or
// returned and that were not re-released (no later release of the same
// ERP document is recorded): each needs an operator. They are read from
// the batches that are not completed, by the index of batch statuses
// and that of each batch's refunds by status, in no particular order.
func (s *Store) NotPaidAgain(ctx context.Context, limit int) ([]Refund, error) {
	from, args := notPaidAgain()
	rows, err := s.r.QueryContext(ctx, `SELECT `+refundCols+from+` LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("read refunds not paid again: %w", err)
	}
	defer rows.Close()
	var rs []Refund
	for rows.Next() {
		r, err := scanRefund(rows)
		if err != nil {
			return nil, fmt.Errorf("read refunds not paid again: %w", err)
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read refunds not paid again: %w", err)
	}
	return rs, nil
}

// ExceptionEntry is a booking, or a line of a status report, that was
// written to an exceptions file for the ERP instead of being posted.
type ExceptionEntry struct {
	// Account is the bank account of the booking ("pain.002" for a line
	// of a status report); Entry and Tx its keys.
	Account, Entry, Tx string
	// EndToEndID is the refund it was matched to, "" for none.
	EndToEndID string
	// File is the name of the reply file it came in.
	File    string
	Applied time.Time
}

// exceptionsWhere selects the entries that went to an exceptions file;
// bank_entries_exceptions indexes exactly those.
const exceptionsWhere = `(e.kind = 'exception' OR e.account = 'pain.002')`

// ExceptionsSince returns up to limit entries written to an exceptions
// file for the ERP at or after since, the newest first.
func (s *Store) ExceptionsSince(ctx context.Context, since time.Time, limit int) ([]ExceptionEntry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT e.account, e.entry, e.tx, e.end_to_end_id, coalesce(f.name, ''), e.applied
	FROM bank_entries e LEFT JOIN files f ON f.hash = e.file_hash
	WHERE `+exceptionsWhere+` AND e.applied >= ? ORDER BY e.applied DESC LIMIT ?`, formatTime(since), limit)
	if err != nil {
		return nil, fmt.Errorf("read exceptions since %s: %w", formatTime(since), err)
	}
	defer rows.Close()
	var out []ExceptionEntry
	for rows.Next() {
		var x ExceptionEntry
		var applied string
		if err := rows.Scan(&x.Account, &x.Entry, &x.Tx, &x.EndToEndID, &x.File, &applied); err != nil {
			return nil, fmt.Errorf("read exceptions: %w", err)
		}
		if x.Applied, err = parseTime(applied); err != nil {
			return nil, fmt.Errorf("read exceptions: %w", err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read exceptions: %w", err)
	}
	return out, nil
}
