package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"refundd/daemon/refund"
)

// batchCols are the columns that scanBatch reads, in its order.
const batchCols = `msg_id, number, attempt, coalesce(file_hash, ''), status, reason, local_path, remote_name,
	pain_hash, msg_created, nb_of_txs, created, updated, sent`

// scanBatch reads a row of batchCols.
func scanBatch(sc interface{ Scan(...any) error }) (Batch, error) {
	var b Batch
	var st, msgCreated, created, updated, sent string
	err := sc.Scan(&b.MsgID, &b.Number, &b.Attempt, &b.FileHash, &st, &b.Reason, &b.LocalPath, &b.RemoteName,
		&b.PainHash, &msgCreated, &b.NbOfTxs, &created, &updated, &sent)
	if err != nil {
		return Batch{}, err
	}
	b.Status = BatchStatus(st)
	for _, t := range []struct {
		dst *time.Time
		s   string
	}{{&b.MsgCreated, msgCreated}, {&b.Created, created}, {&b.Updated, updated}, {&b.Sent, sent}} {
		if *t.dst, err = parseTime(t.s); err != nil {
			return Batch{}, err
		}
	}
	return b, nil
}

// batchByMsgID reads one batch without its sums.
func batchByMsgID(ctx context.Context, q querier, msgID string) (Batch, error) {
	b, err := scanBatch(q.QueryRowContext(ctx, `SELECT `+batchCols+` FROM batches WHERE msg_id = ?`, msgID))
	if errors.Is(err, sql.ErrNoRows) {
		return Batch{}, ErrNotFound
	}
	return b, err
}

// batchesWhere reads the batches that match where (a condition on the
// batches table), with their sums, in the order given.
func batchesWhere(ctx context.Context, tx *txn, where, order string, args ...any) ([]Batch, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+batchCols+` FROM batches WHERE `+where+` ORDER BY `+order, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var bs []Batch
	index := map[string]int{}
	for rows.Next() {
		b, err := scanBatch(rows)
		if err != nil {
			return nil, err
		}
		index[b.MsgID] = len(bs)
		bs = append(bs, b)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(bs) == 0 {
		return nil, nil
	}
	rows, err = tx.QueryContext(ctx, `SELECT msg_id, currency, minor FROM batch_totals
		WHERE msg_id IN (SELECT msg_id FROM batches WHERE `+where+`) ORDER BY msg_id, currency`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var msgID, cur string
		var minor int64
		if err := rows.Scan(&msgID, &cur, &minor); err != nil {
			return nil, err
		}
		if i, ok := index[msgID]; ok {
			bs[i].Sums = append(bs[i].Sums, refund.Amount{Minor: minor, Currency: refund.Currency(cur)})
		}
	}
	return bs, rows.Err()
}

// Batch returns the batch with this MsgId.
func (s *Store) Batch(ctx context.Context, msgID string) (Batch, error) {
	var bs []Batch
	err := s.read(ctx, func(tx *txn) error {
		var err error
		bs, err = batchesWhere(ctx, tx, "msg_id = ?", "msg_id", msgID)
		return err
	})
	if err == nil && len(bs) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return Batch{}, fmt.Errorf("read batch %s: %w", msgID, err)
	}
	return bs[0], nil
}

// BatchByNumber returns every attempt of the ERP batch with this number,
// the first attempt first; ErrNotFound when there is none.
func (s *Store) BatchByNumber(ctx context.Context, number string) ([]Batch, error) {
	bs, err := s.batches(ctx, "number = ?", "attempt", number)
	if err == nil && len(bs) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read batch number %s: %w", number, err)
	}
	return bs, nil
}

// BatchesByFile returns the batches recorded from the ERP file with this
// content hash, the first attempt first; none when there are none.
func (s *Store) BatchesByFile(ctx context.Context, hash string) ([]Batch, error) {
	bs, err := s.batches(ctx, "file_hash = ?", "attempt", hash)
	if err != nil {
		return nil, fmt.Errorf("read batches of file %s: %w", hash, err)
	}
	return bs, nil
}

// BatchesByStatus returns the batches in any of the statuses, the oldest
// first: the work lists of the pipelines (sending and in-doubt at start,
// sent for the alarms).
func (s *Store) BatchesByStatus(ctx context.Context, statuses ...BatchStatus) ([]Batch, error) {
	if len(statuses) == 0 {
		return nil, nil
	}
	args := make([]any, len(statuses))
	for i, st := range statuses {
		args[i] = string(st)
	}
	where := "status IN (?" + strings.Repeat(", ?", len(statuses)-1) + ")"
	bs, err := s.batches(ctx, where, "created, msg_id", args...)
	if err != nil {
		return nil, fmt.Errorf("read batches %v: %w", statuses, err)
	}
	return bs, nil
}

// BatchesChangedBefore returns the batches in any of the statuses whose
// last change (Updated) is before t, the oldest first. It reads the index
// of status and time of change, so that batches that changed lately, or
// long ago in other statuses, cost nothing.
func (s *Store) BatchesChangedBefore(ctx context.Context, t time.Time, statuses ...BatchStatus) ([]Batch, error) {
	if len(statuses) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(statuses)+1)
	for _, st := range statuses {
		args = append(args, string(st))
	}
	args = append(args, formatTime(t))
	where := "status IN (?" + strings.Repeat(", ?", len(statuses)-1) + ") AND updated < ?"
	bs, err := s.batches(ctx, where, "created, msg_id", args...)
	if err != nil {
		return nil, fmt.Errorf("read batches %v changed before %s: %w", statuses, formatTime(t), err)
	}
	return bs, nil
}

// ListBatches returns every batch, the newest first, for the status
// screen.
func (s *Store) ListBatches(ctx context.Context) ([]Batch, error) {
	bs, err := s.batches(ctx, "1 = 1", "created DESC, msg_id")
	if err != nil {
		return nil, fmt.Errorf("list batches: %w", err)
	}
	return bs, nil
}

func (s *Store) batches(ctx context.Context, where, order string, args ...any) ([]Batch, error) {
	var bs []Batch
	err := s.read(ctx, func(tx *txn) error {
		var err error
		bs, err = batchesWhere(ctx, tx, where, order, args...)
		return err
	})
	return bs, err
}

// NextAttempt returns the attempt number for a new batch with this ERP
// batch number: 0 for a number never recorded, else one more than the
// highest recorded.
func (s *Store) NextAttempt(ctx context.Context, number string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(attempt) + 1, 0) FROM batches WHERE number = ?`, number).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("next attempt of batch %s: %w", number, err)
	}
	return n, nil
}

// BatchCounts returns how many batches there are in each status, for the
// metrics; a status without batches is absent.
func (s *Store) BatchCounts(ctx context.Context) (map[BatchStatus]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT status, count(*) FROM batches GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count batches: %w", err)
	}
	defer rows.Close()
	counts := map[BatchStatus]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count batches: %w", err)
		}
		counts[BatchStatus(st)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count batches: %w", err)
	}
	return counts, nil
}

// Pain returns the pain.001 recorded with batch msgID, checked against
// its recorded hash; nil when the batch was recorded without it (by an
// earlier version, which kept it only in the outbox). The error wraps
// ErrNotFound for an unknown batch, ErrCorrupt when the bytes do not
// match the hash.
func (s *Store) Pain(ctx context.Context, msgID string) ([]byte, error) {
	var pain []byte
	var hash string
	err := s.r.QueryRowContext(ctx, `SELECT pain, pain_hash FROM batches WHERE msg_id = ?`, msgID).Scan(&pain, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err == nil && pain != nil && hash != "" {
		if sum := sha256.Sum256(pain); hex.EncodeToString(sum[:]) != hash {
			err = fmt.Errorf("%w: the recorded pain.001 has sha256 %s, its batch records %s", ErrCorrupt, hex.EncodeToString(sum[:]), hash)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read pain.001 of batch %s: %w", msgID, err)
	}
	return pain, nil
}
