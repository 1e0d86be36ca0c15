package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"refundd/daemon/refund"
)

// PageAt says which page of a batch's refunds RefundPage reads. The
// refunds are in the order they were recorded, each with a sequence
// number that grows in that order; a page is named by its neighbours:
// with After (not 0) it holds the refunds recorded after the one with that
// number, with Before (not 0) those just before it; with neither it is the
// first page. Size is the most refunds a page holds.
type PageAt struct {
	After, Before int64
	Size          int
}

// RefundPage is a page of a batch's refunds.
type RefundPage struct {
	Refunds []Refund
	// BankRefs are the bank's references of the bookings of the page's
	// refunds, by EndToEndId, as BankRefs gives them.
	BankRefs map[string][]string
	// Prev is the Before of the page before this one, Next the After of
	// the page after it; 0 when there is none.
	Prev, Next int64
}

// RefundPage returns a page of the refunds of batch msgID, with their
// bank references, read in one transaction. Each of its reads is an
// indexed lookup of the page's refunds: its cost does not grow with the
// size of the batch. The error wraps ErrNotFound for an unknown batch,
// ErrInvalid for a Size below 1 or both After and Before.
func (s *Store) RefundPage(ctx context.Context, msgID string, at PageAt) (RefundPage, error) {
	var p RefundPage
	err := s.read(ctx, func(tx *txn) error {
		p = RefundPage{}
		switch {
		case at.Size < 1:
			return fmt.Errorf("%w: page size %d", ErrInvalid, at.Size)
		case at.After != 0 && at.Before != 0:
			return fmt.Errorf("%w: a page both after %d and before %d", ErrInvalid, at.After, at.Before)
		}
		if _, err := batchByMsgID(ctx, tx, msgID); err != nil {
			return err
		}
		q := `SELECT r.rowid, ` + refundCols + refundFrom + `WHERE r.msg_id = ? AND r.rowid > ? ORDER BY r.rowid LIMIT ?`
		from := at.After
		if at.Before != 0 {
			q = `SELECT r.rowid, ` + refundCols + refundFrom + `WHERE r.msg_id = ? AND r.rowid < ? ORDER BY r.rowid DESC LIMIT ?`
			from = at.Before
		}
		rs, seqs, err := refundPage(ctx, tx, q, msgID, from, at.Size+1)
		if err != nil || len(rs) == 0 {
			return err
		}
		more := len(rs) > at.Size
		if more {
			rs, seqs = rs[:at.Size], seqs[:at.Size]
		}
		if at.Before != 0 {
			slices.Reverse(rs)
			slices.Reverse(seqs)
		}
		first, last := seqs[0], seqs[len(seqs)-1]
		p.Refunds = rs
		switch {
		case at.Before != 0:
			if more {
				p.Prev = first
			}
			if p.Next, err = neighbour(ctx, tx, msgID, ">", last); err != nil {
				return err
			}
		default:
			if more {
				p.Next = last
			}
			if at.After != 0 {
				if p.Prev, err = neighbour(ctx, tx, msgID, "<", first); err != nil {
					return err
				}
			}
		}
		p.BankRefs = map[string][]string{}
		if !tx.d.pg {
			return bankRefsBetween(ctx, tx, msgID, first, last, p.BankRefs)
		}
		e2es := make([]string, len(rs))
		for i, r := range rs {
			e2es[i] = r.EndToEndID
		}
		for len(e2es) > 0 {
			n := min(len(e2es), bankRefsAtOnce)
			if err := bankRefs(ctx, tx, e2es[:n], p.BankRefs); err != nil {
				return err
			}
			e2es = e2es[n:]
		}
		return nil
	})
	if err != nil {
		return RefundPage{}, fmt.Errorf("read refunds of batch %s: %w", msgID, err)
	}
	return p, nil
}

// refundPage reads the refunds of a page query (msgID, a sequence number,
// a limit) with their sequence numbers.
func refundPage(ctx context.Context, tx *txn, q, msgID string, from int64, limit int) ([]Refund, []int64, error) {
	rows, err := tx.QueryContext(ctx, q, msgID, from, limit)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	rs := make([]Refund, 0, limit)
	seqs := make([]int64, 0, limit)
	for rows.Next() {
		var seq int64
		r, err := scanRefund(seqScanner{rows, &seq})
		if err != nil {
			return nil, nil, err
		}
		rs, seqs = append(rs, r), append(seqs, seq)
	}
	return rs, seqs, rows.Err()
}

// seqScanner scans a row whose first column is a sequence number into
// seq, and the rest as sc would.
type seqScanner struct {
	sc  interface{ Scan(...any) error }
	seq *int64
}

func (s seqScanner) Scan(dst ...any) error { return s.sc.Scan(append([]any{s.seq}, dst...)...) }

// neighbour returns seq when batch msgID has a refund whose sequence
// number is cmp ("<" or ">") seq, else 0.
func neighbour(ctx context.Context, tx *txn, msgID, cmp string, seq int64) (int64, error) {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM refunds WHERE msg_id = ? AND rowid `+cmp+` ? LIMIT 1`, msgID, seq).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, err
	}
	return seq, nil
}

// RefundCounts returns how many refunds of batch msgID are in each
// status; a status without refunds is absent. It reads the batch's
// refunds through their index, never the whole table.
func (s *Store) RefundCounts(ctx context.Context, msgID string) (map[refund.Status]int, error) {
	rows, err := s.r.QueryContext(ctx, refundCountsQuery, msgID)
	if err != nil {
		return nil, fmt.Errorf("count refunds of batch %s: %w", msgID, err)
	}
	counts, err := scanStatusCounts(rows)
	if err != nil {
		return nil, fmt.Errorf("count refunds of batch %s: %w", msgID, err)
	}
	return counts, nil
}

const refundCountsQuery = `SELECT status, count(*) FROM refunds WHERE msg_id = ? GROUP BY status`
