package store

import (
	"context"
	"fmt"
	"slices"
)

// Intent is a batch file taken in and the batch recorded from it, for
// RecordIntents.
type Intent struct {
	// FileName is the name the file was taken under; Batch.FileHash is
	// its content hash.
	FileName string
	Batch    Batch
	Refunds  []Refund
}

// RecordIntents records several batch files taken in, each with its
// batch, in one transaction (one commit, one flush to disk, for all): for
// each, what RecordFile, CreateBatch and FinishFile (done) record, in
// that order. All of it is recorded or none. The error is that of the
// first intent that could not be recorded, wrapping what those methods
// wrap; ErrDuplicate also for a file whose content was recorded before.
func (s *Store) RecordIntents(ctx context.Context, is []Intent) error {
	type checked struct {
		b    Batch
		rs   []Refund
		sums []total
	}
	cs := make([]checked, len(is))
	for i := range is {
		in := &is[i]
		if !validHash(in.Batch.FileHash) || in.FileName == "" {
			return fmt.Errorf("record intents: file %q (%s): %w: want a lower-case hex SHA-256 and a name", in.FileName, in.Batch.FileHash, ErrInvalid)
		}
		b := in.Batch
		rs := slices.Clone(in.Refunds) // checkBatch fills in fields; the caller's slice stays as it was
		sums, err := checkBatch(&b, rs)
		if err != nil {
			return fmt.Errorf("record intents: batch %s: %w", b.MsgID, err)
		}
		cs[i] = checked{b: b, rs: rs, sums: sums}
	}
	err := s.write(ctx, func(tx *txn) error {
		for i, in := range is {
			hash := in.Batch.FileHash
			if _, err := s.recordFile(ctx, tx, hash, in.FileName, FileBatch); err != nil {
				return fmt.Errorf("file %s: %w", in.FileName, err)
			}
			if err := s.insertBatch(ctx, tx, cs[i].b, cs[i].rs, cs[i].sums); err != nil {
				return fmt.Errorf("batch %s: %w", in.Batch.MsgID, err)
			}
			if _, err := s.finishFile(ctx, tx, hash, FileDone, "", ""); err != nil {
				return fmt.Errorf("file %s: %w", in.FileName, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record intents of %d batch files: %w", len(is), err)
	}
	return nil
}

// Known reports, in one read, whether the store knows a file with content
// hash, a batch of this number (any attempt), or a batch with this MsgId:
// a batch file for which all three are unknown can be recorded with
// RecordIntents.
func (s *Store) Known(ctx context.Context, hash, number, msgID string) (bool, error) {
	var n int
	err := s.read(ctx, func(tx *txn) error {
		return tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM files WHERE hash = ?)
			+ (SELECT COUNT(*) FROM batches WHERE number = ?) + (SELECT COUNT(*) FROM batches WHERE msg_id = ?)`,
			hash, number, msgID).Scan(&n)
	})
	if err != nil {
		return false, fmt.Errorf("look up file %s, batch %s, MsgId %s: %w", hash, number, msgID, err)
	}
	return n > 0, nil
}
