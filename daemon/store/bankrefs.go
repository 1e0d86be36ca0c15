package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// BankRefs returns the bank's references (AcctSvcrRef) of the bookings
// applied to the refunds of the batch msgID, payments and returns, by
// EndToEndId, in the order they were applied. A booking without a
// reference of the bank is left out.
func (s *Store) BankRefs(ctx context.Context, msgID string) (map[string][]string, error) {
	refs := map[string][]string{}
	err := s.read(ctx, func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT end_to_end_id FROM refunds WHERE msg_id = ? ORDER BY rowid`, msgID)
		if err != nil {
			return err
		}
		defer rows.Close()
		var e2es []string
		for rows.Next() {
			var e2e string
			if err := rows.Scan(&e2e); err != nil {
				return err
			}
			e2es = append(e2es, e2e)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for len(e2es) > 0 {
			n := min(len(e2es), bankRefsAtOnce)
			if err := bankRefs(ctx, tx, e2es[:n], refs); err != nil {
				return err
			}
			e2es = e2es[n:]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read bank references of batch %s: %w", msgID, err)
	}
	return refs, nil
}

// bankRefsAtOnce is the most refunds whose bank references one query
// reads: a page's worth.
const bankRefsAtOnce = 500

// bankRefs adds the bank references of the refunds e2es (at most
// bankRefsAtOnce) to refs.
//
// An entry is the refund's when it was recorded as matched to it, or,
// recorded without the match, when its transaction key is the refund's
// EndToEndId. The keys of the exception lines of status reports (account
// "pain.002") are no bookings. The two ways are a lookup of each
// EndToEndId in bank_entries_refund and in bank_entries_tx, never a read
// of every booking: the EndToEndIds are given as a list, not joined from
// refunds, for which PostgreSQL may prefer to read every booking with an
// EndToEndId when the batch is a large part of the table.
func bankRefs(ctx context.Context, q querier, e2es []string, refs map[string][]string) error {
	if len(e2es) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(e2es))
	for range 2 {
		for _, e := range e2es {
			args = append(args, e)
		}
	}
	rows, err := q.QueryContext(ctx, bankRefsQuery(len(e2es)), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return scanBankRefs(rows, refs)
}

// bankRefsQuery reads the bank references of n refunds (their
// EndToEndIds, twice): the bookings recorded with the refund, and those
// recorded without it whose transaction key is its EndToEndId.
func bankRefsQuery(n int) string {
	list := "(?" + strings.Repeat(", ?", n-1) + ")"
	return `SELECT e2e, entry FROM (
	SELECT e.end_to_end_id AS e2e, e.entry AS entry, e.applied AS applied FROM bank_entries e
	WHERE e.end_to_end_id IN ` + list + ` AND e.end_to_end_id <> '' AND e.kind IN ('', 'payment', 'return') AND e.account <> 'pain.002'
	UNION ALL
	SELECT e.tx, e.entry, e.applied FROM bank_entries e
	WHERE e.tx IN ` + list + ` AND e.end_to_end_id = '' AND e.kind IN ('', 'payment', 'return') AND e.account <> 'pain.002'
) x ORDER BY applied, entry`
}

// bankRefsBetween adds the bank references of the refunds of batch msgID
// recorded from sequence number first to last to refs, as bankRefs does.
// SQLite joins them from the refunds through the same indexes, and
// prepares this one query more cheaply than one that lists EndToEndIds.
func bankRefsBetween(ctx context.Context, q querier, msgID string, first, last int64, refs map[string][]string) error {
	rows, err := q.QueryContext(ctx, bankRefsBetweenQuery, msgID, first, last, msgID, first, last)
	if err != nil {
		return err
	}
	defer rows.Close()
	return scanBankRefs(rows, refs)
}

// bankRefsBetweenQuery is bankRefsQuery for the refunds of a batch from
// one sequence number to another (MsgId, first, last; twice).
const bankRefsBetweenQuery = `SELECT e2e, entry FROM (
	SELECT r.end_to_end_id AS e2e, e.entry AS entry, e.applied AS applied FROM refunds r
	JOIN bank_entries e ON e.end_to_end_id = r.end_to_end_id
	WHERE r.msg_id = ? AND r.rowid BETWEEN ? AND ? AND e.end_to_end_id <> '' AND e.kind IN ('', 'payment', 'return') AND e.account <> 'pain.002'
	UNION ALL
	SELECT r.end_to_end_id, e.entry, e.applied FROM refunds r
	JOIN bank_entries e ON e.tx = r.end_to_end_id
	WHERE r.msg_id = ? AND r.rowid BETWEEN ? AND ? AND e.end_to_end_id = '' AND e.kind IN ('', 'payment', 'return') AND e.account <> 'pain.002'
) x ORDER BY applied, entry`

// scanBankRefs adds the rows (EndToEndId, entry) of a bank references
// query to refs.
func scanBankRefs(rows *sql.Rows, refs map[string][]string) error {
	for rows.Next() {
		var e2e, entry string
		if err := rows.Scan(&e2e, &entry); err != nil {
			return err
		}
		if strings.HasPrefix(entry, "ntry:") || strings.HasPrefix(entry, "booking:") {
			continue
		}
		refs[e2e] = append(refs[e2e], entry)
	}
	return rows.Err()
}
