package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"refundd/daemon/refund"
)

// Refund is one refund of a batch: what refund.Match needs of it (Sent),
// its identity in the ERP (DocType, RefNbr, Release) and the bank's last
// word on it.
type Refund struct {
	refund.Sent
	DocType refund.DocType
	// Release is 0 for the first payment of the refund, 1, 2, … for an
	// operator's re-releases (see refund.EndToEndID).
	Release int
	// ReasonCode and ReasonText are the reason given with the last status
	// change (pain.002 StsRsnInf), "" when none.
	ReasonCode, ReasonText string
	Created, Updated       time.Time
}

// refundCols are the columns that scanRefund reads, from refunds r joined
// with batches b.
const refundCols = `r.end_to_end_id, r.doc_type, r.ref_nbr, r.release_no, r.msg_id, b.number, r.pmt_inf_id,
	coalesce(r.instr_id, ''), r.amount_minor, r.currency, r.execution_date, r.creditor_account, r.debtor_account,
	r.debtor_ledger_account, r.customer_id, r.status, r.reason_code, r.reason_text, r.created, r.updated,
	r.base_minor, r.base_currency`

const refundFrom = ` FROM refunds r JOIN batches b ON b.msg_id = r.msg_id `

func scanRefund(sc interface{ Scan(...any) error }) (Refund, error) {
	var r Refund
	var docType, cur, date, st, created, updated, baseCur string
	err := sc.Scan(&r.EndToEndID, &docType, &r.RefNbr, &r.Release, &r.MsgID, &r.Batch, &r.PmtInfID,
		&r.InstrID, &r.Amount.Minor, &cur, &date, &r.CreditorAccount, &r.DebtorAccount,
		&r.DebtorLedgerAccount, &r.CustomerID, &st, &r.ReasonCode, &r.ReasonText, &created, &updated,
		&r.BaseAmount.Minor, &baseCur)
	if err != nil {
		return Refund{}, err
	}
	r.DocType, r.Amount.Currency, r.Status = refund.DocType(docType), refund.Currency(cur), refund.Status(st)
	r.BaseAmount.Currency = refund.Currency(baseCur)
	if r.ExecutionDate, err = refund.ParseDate(date); err != nil {
		return Refund{}, err
	}
	if r.Created, err = parseTime(created); err != nil {
		return Refund{}, err
	}
	if r.Updated, err = parseTime(updated); err != nil {
		return Refund{}, err
	}
	return r, nil
}

// refundWhere reads the one refund that matches where; ErrNotFound when
// none does.
func refundWhere(ctx context.Context, q querier, where string, args ...any) (Refund, error) {
	r, err := scanRefund(q.QueryRowContext(ctx, `SELECT `+refundCols+refundFrom+`WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Refund{}, ErrNotFound
	}
	return r, err
}

// refundsWhere reads the refunds that match where, in the order they were
// recorded.
func refundsWhere(ctx context.Context, q querier, where string, args ...any) ([]Refund, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+refundCols+refundFrom+`WHERE `+where+` ORDER BY r.rowid`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var rs []Refund
	for rows.Next() {
		r, err := scanRefund(rows)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, rows.Err()
}

// Refund returns the refund with EndToEndId e2e.
func (s *Store) Refund(ctx context.Context, e2e string) (Refund, error) {
	r, err := refundWhere(ctx, s.r, "r.end_to_end_id = ?", e2e)
	if err != nil {
		return Refund{}, fmt.Errorf("read refund %s: %w", e2e, err)
	}
	return r, nil
}

// Refunds returns the refunds of the batch msgID in the order they were
// given to CreateBatch; ErrNotFound for an unknown batch.
func (s *Store) Refunds(ctx context.Context, msgID string) ([]Refund, error) {
	var rs []Refund
	err := s.read(ctx, func(tx *txn) error {
		if _, err := batchByMsgID(ctx, tx, msgID); err != nil {
			return err
		}
		var err error
		rs, err = refundsWhere(ctx, tx, "r.msg_id = ?", msgID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read refunds of batch %s: %w", msgID, err)
	}
	return rs, nil
}

// NextRelease returns the release number for paying the ERP document
// (docType, refNbr) again: 0 when it was never recorded, else one more
// than the highest release. The error wraps ErrDuplicate when a release
// of it is still live (not rejected by the bank or returned): paying it
// again could pay twice. CreateBatch checks the same in its transaction.
func (s *Store) NextRelease(ctx context.Context, docType refund.DocType, refNbr string) (int, error) {
	return s.nextRelease(ctx, docType, refNbr)
}

// LaterRelease reports whether a release of the document (docType,
// refNbr) later than release is recorded, in any status: the document was
// paid again after that release.
func (s *Store) LaterRelease(ctx context.Context, docType refund.DocType, refNbr string, release int) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM refunds WHERE doc_type = ? AND ref_nbr = ? AND release_no > ?`,
		string(docType), refNbr, release).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("later release of %s %s: %w", docType, refNbr, err)
	}
	return n > 0, nil
}

// ToRerelease returns how many refunds the bank rejected or returned
// that no later release pays again, by status (refund.StatusRejected,
// refund.StatusReturned), for the metrics: each waits for an operator
// (fix the account, re-release). A status without such refunds is
// absent. Only the batches that can hold one are read, by the batches'
// status index and the refunds' (msg_id, status) index: not paid or
// completed ones, whose refunds were all booked or paid again, nor those
// the bank never saw.
func (s *Store) ToRerelease(ctx context.Context) (map[refund.Status]int, error) {
	from, args := notPaidAgain()
	rows, err := s.r.QueryContext(ctx, `SELECT r.status, count(*)`+from+` GROUP BY r.status`, args...)
	if err != nil {
		return nil, fmt.Errorf("count refunds to re-release: %w", err)
	}
	counts, err := scanStatusCounts(rows)
	if err != nil {
		return nil, fmt.Errorf("count refunds to re-release: %w", err)
	}
	return counts, nil
}

// scanStatusCounts reads rows of (status, count) into a map, and closes
// them.
func scanStatusCounts(rows *sql.Rows) (map[refund.Status]int, error) {
	defer rows.Close()
	counts := map[refund.Status]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		counts[refund.Status(st)] = n
	}
	return counts, rows.Err()
}

func (s *Store) nextRelease(ctx context.Context, docType refund.DocType, refNbr string) (int, error) {
	var next int
	err := s.read(ctx, func(tx *txn) error {
		rs, err := refundsWhere(ctx, tx, "r.doc_type = ? AND r.ref_nbr = ?", string(docType), refNbr)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if !released(r.Status) {
				return fmt.Errorf("%w: release %d is %s in batch %s (EndToEndId %s); only a rejected or returned refund is released again",
					ErrDuplicate, r.Release, r.Status, r.Batch, r.EndToEndID)
			}
			next = max(next, r.Release+1)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("next release of %s %s: %w", docType, refNbr, err)
	}
	return next, nil
}
