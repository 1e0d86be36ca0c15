package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// File is a file that refundd took in, known by the SHA-256 of its
// content: an ERP batch export or a bank reply.
type File struct {
	// Hash is the SHA-256 of the content, lower-case hex.
	Hash string
	// Name is the name under which the content was first seen.
	Name    string
	Kind    FileKind
	Outcome FileOutcome
	Reason  string
	// FirstSeen is when the file was claimed; Updated when its outcome
	// last changed.
	FirstSeen, Updated time.Time
}

// validHash reports whether h is a SHA-256 in lower-case hex.
func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// RecordFile claims the file with content hash (SHA-256, lower-case hex)
// for processing, under name, with outcome processing. If the content was
// seen before, nothing is recorded and RecordFile returns the earlier
// record with an error wrapping ErrDuplicate; the record's Outcome says
// whether that earlier claim finished (processing: a crash interrupted
// it, resume).
func (s *Store) RecordFile(ctx context.Context, hash, name string, kind FileKind) (*File, error) {
	if !validHash(hash) || name == "" || (kind != FileBatch && kind != FileReply) {
		return nil, fmt.Errorf("record file %q (%s, %s): %w: want a lower-case hex SHA-256, a name and kind batch or reply", name, hash, kind, ErrInvalid)
	}
	var existing *File
	err := s.write(ctx, func(tx *txn) error {
		var err error
		existing, err = s.recordFile(ctx, tx, hash, name, kind)
		return err
	})
	if err != nil {
		return existing, fmt.Errorf("record file %s (%s): %w", name, hash, err)
	}
	return nil, nil
}

// recordFile is RecordFile in tx, after its arguments were checked.
func (s *Store) recordFile(ctx context.Context, tx *txn, hash, name string, kind FileKind) (*File, error) {
	f, err := fileByHash(ctx, tx, hash)
	switch {
	case err == nil:
		return &f, fmt.Errorf("%w: first seen as %q on %s, %s", ErrDuplicate, f.Name, f.FirstSeen.Format(time.RFC3339), f.Outcome)
	case !errors.Is(err, ErrNotFound):
		return nil, err
	}
	at := s.stamp()
	if _, err := tx.ExecContext(ctx, `INSERT INTO files (hash, name, kind, outcome, first_seen, updated)
		VALUES (?, ?, ?, ?, ?, ?)`, hash, name, string(kind), string(FileProcessing), at, at); err != nil {
		return nil, err
	}
	return nil, addEvent(ctx, tx, at, event{typ: SubjectFile, id: hash, to: string(FileProcessing), detail: string(kind) + " " + name})
}

// FinishFile sets the outcome of the file with content hash: done,
// duplicate or failed, with a reason. Setting the outcome it has is a
// no-op; changing a finished outcome is refused with ErrTransition.
func (s *Store) FinishFile(ctx context.Context, hash string, outcome FileOutcome, reason string) error {
	err := s.write(ctx, func(tx *txn) error {
		_, err := s.finishFile(ctx, tx, hash, outcome, reason, "")
		return err
	})
	if err != nil {
		return fmt.Errorf("finish file %s: %w", hash, err)
	}
	return nil
}

// finishFile sets the outcome of a file in tx and reports whether it
// changed.
func (s *Store) finishFile(ctx context.Context, tx *txn, hash string, to FileOutcome, reason, detail string) (bool, error) {
	if !to.valid() {
		return false, fmt.Errorf("%w: unknown file outcome %q", ErrInvalid, to)
	}
	f, err := fileByHash(ctx, tx, hash)
	if err != nil {
		return false, err
	}
	return s.finishRead(ctx, tx, f, to, reason, detail)
}

// finishRead is finishFile of the file f, read in the same transaction.
func (s *Store) finishRead(ctx context.Context, tx *txn, f File, to FileOutcome, reason, detail string) (bool, error) {
	hash := f.Hash
	if f.Outcome == to {
		return false, nil
	}
	if !AllowedFile(f.Outcome, to) {
		return false, fmt.Errorf("%w: %s → %s", ErrTransition, f.Outcome, to)
	}
	at := s.stamp()
	if _, err := tx.ExecContext(ctx, `UPDATE files SET outcome = ?, reason = ?, updated = ? WHERE hash = ?`,
		string(to), reason, at, hash); err != nil {
		return false, err
	}
	return true, addEvent(ctx, tx, at, event{typ: SubjectFile, id: hash, from: string(f.Outcome), to: string(to), reason: reason, detail: detail})
}

// File returns the record of the file with content hash.
func (s *Store) File(ctx context.Context, hash string) (File, error) {
	var f File
	err := s.read(ctx, func(tx *txn) error {
		var err error
		f, err = fileByHash(ctx, tx, hash)
		return err
	})
	if err != nil {
		return File{}, fmt.Errorf("read file %s: %w", hash, err)
	}
	return f, nil
}

// querier is what a transaction and a database have in common.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func fileByHash(ctx context.Context, q querier, hash string) (File, error) {
	var f File
	var kind, outcome, first, updated string
	err := q.QueryRowContext(ctx, `SELECT hash, name, kind, outcome, reason, first_seen, updated FROM files WHERE hash = ?`, hash).
		Scan(&f.Hash, &f.Name, &kind, &outcome, &f.Reason, &first, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return File{}, ErrNotFound
	}
	if err != nil {
		return File{}, err
	}
	f.Kind, f.Outcome = FileKind(kind), FileOutcome(outcome)
	if f.FirstSeen, err = parseTime(first); err != nil {
		return File{}, err
	}
	if f.Updated, err = parseTime(updated); err != nil {
		return File{}, err
	}
	return f, nil
}
