package store

import (
	"context"
	"fmt"
	"strings"
)

// BankRefs returns the bank's references (AcctSvcrRef) of the bookings
// applied to the refunds of the batch msgID, payments and returns, by
// EndToEndId, in the order they were applied. A booking without a
// reference of the bank is left out.
func (s *Store) BankRefs(ctx context.Context, msgID string) (map[string][]string, error) {
	// An entry is the refund's when it was recorded as matched to it, or,
	// recorded without the match, when its transaction key is the
	// refund's EndToEndId. The keys of the exception lines of status
	// reports (account "pain.002") are no bookings.
	// The two ways are two indexed lookups per refund of the batch
	// (bank_entries_refund, bank_entries_tx), never a read of every
	// booking.
	refs, err := bankRefs(ctx, s.r, msgID, allFirst, allLast)
	if err != nil {
		return nil, fmt.Errorf("read bank references of batch %s: %w", msgID, err)
	}
	return refs, nil
}

// bankRefs reads the bank references of the refunds of batch msgID whose
// sequence numbers (rowid) are from first to last.
func bankRefs(ctx context.Context, q querier, msgID string, first, last int64) (map[string][]string, error) {
	rows, err := q.QueryContext(ctx, bankRefsQuery, msgID, first, last, msgID, first, last)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	refs := map[string][]string{}
	for rows.Next() {
		var e2e, entry string
		if err := rows.Scan(&e2e, &entry); err != nil {
			return nil, err
		}
		if strings.HasPrefix(entry, "ntry:") || strings.HasPrefix(entry, "booking:") {
			continue
		}
		refs[e2e] = append(refs[e2e], entry)
	}
	return refs, rows.Err()
}

// bankRefsQuery reads the bank references of the refunds of a batch
// from one sequence number to another (MsgId, first, last; twice): the
// bookings recorded with the refund, and those recorded without it whose
// transaction key is its EndToEndId.
const bankRefsQuery = `SELECT e2e, entry FROM (
	SELECT r.end_to_end_id AS e2e, e.entry AS entry, e.applied AS applied FROM refunds r
	JOIN bank_entries e ON e.end_to_end_id = r.end_to_end_id
	WHERE r.msg_id = ? AND r.rowid BETWEEN ? AND ? AND e.end_to_end_id <> '' AND e.kind IN ('', 'payment', 'return') AND e.account <> 'pain.002'
	UNION ALL
	SELECT r.end_to_end_id, e.entry, e.applied FROM refunds r
	JOIN bank_entries e ON e.tx = r.end_to_end_id
	WHERE r.msg_id = ? AND r.rowid BETWEEN ? AND ? AND e.end_to_end_id = '' AND e.kind IN ('', 'payment', 'return') AND e.account <> 'pain.002'
) x ORDER BY applied, entry`
