package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"refundd/daemon/failpoint"
	"refundd/internal/fsync"
)

// Errors that callers branch on; every error the store returns that is one
// of these wraps it, with the operation and the object named before it.
var (
	// ErrNotFound: no batch, refund or file with that identity.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate: the identity is recorded already (a file hash, a
	// MsgId, a batch number and attempt, a refund's DocType, RefNbr and
	// release or its EndToEndId or InstrId). The message names which.
	ErrDuplicate = errors.New("already recorded")
	// ErrTransition: the status change is not in the table of allowed
	// changes (see AllowedBatch, AllowedRefund, AllowedFile).
	ErrTransition = errors.New("status change not allowed")
	// ErrInvalid: an argument the store refuses to record (an unknown
	// status, a missing identity, totals that disagree with the refunds).
	ErrInvalid = errors.New("invalid")
	// ErrSchemaTooNew: the database was written by a newer refundd, whose
	// schema this one does not know. It is never changed or "repaired".
	ErrSchemaTooNew = errors.New("database schema is newer than this program")
	// ErrCorrupt: IntegrityCheck found a problem.
	ErrCorrupt = errors.New("database check failed")
)

// busyTimeout is how long a statement waits for a lock held by another
// connection (in practice: an operator's sqlite3 shell, or a checkpoint)
// before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// readers is the most connections the read pool opens.
const readers = 4

// Store is the durable state of refundd. It is safe for concurrent use.
//
// Writes go through one connection (w, SetMaxOpenConns(1)) whose
// transactions start with BEGIN IMMEDIATE; reads go through a pool of
// read-only connections (r) that, in WAL mode, never wait for the writer.
//
// On PostgreSQL (OpenPostgres) w is one connection too, and every write
// transaction begins by locking the company's lease row, which fences a
// deposed leader and serializes every writer of the company; see
// postgres.go and lease.go.
type Store struct {
	// path names the database in messages: the SQLite file, or the
	// PostgreSQL schema.
	path string
	d    *dialect
	w    *db
	r    *db
	// l is the pool of the lease's own statements, so that a renewal does
	// not queue behind a write for the one write connection (SQLite: w).
	l   *db
	now func() time.Time

	// fence is the leadership this process holds (nil: none); every
	// write checks it against the lease row.
	fence atomic.Pointer[Lease]
	// beforeCommit, when set (tests only), runs just before COMMIT.
	beforeCommit func()
	stats        struct {
		fenced, unknown, settled atomic.Int64
	}
}

// Open opens the state database at path, creating it (mode 0600) when it
// does not exist, and brings its schema up to date. It refuses a database
// whose schema is newer than this program's (ErrSchemaTooNew), and one
// that cannot be put in WAL mode with synchronous=FULL.
//
// Open does not check the database's integrity; call IntegrityCheck at
// start-up. The path must be on a local file system (WAL needs shared
// memory) and must not be opened by a second Store at the same time; the
// daemon's lock file sees to the second.
func Open(path string) (*Store, error) {
	s, err := open(path, migrations)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

func open(path string, migs []string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, fmt.Errorf("%w: the path must name a file, without '?' or '#'", ErrInvalid)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := create(abs); err != nil {
		return nil, err
	}
	s := &Store{path: abs, now: time.Now, d: &dialect{}}
	ctx := context.Background()

	w, err := sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		return nil, err
	}
	s.w = &db{DB: w, d: s.d}
	s.l = s.w
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if err := checkSettings(ctx, s.w); err != nil {
		s.w.Close()
		return nil, err
	}
	if err := migrate(ctx, s.w, migs, sqliteVersion); err != nil {
		s.w.Close()
		return nil, err
	}

	r, err := sql.Open("sqlite", dsn(abs, false))
	if err == nil {
		s.r = &db{DB: r, d: s.d}
		s.r.SetMaxOpenConns(readers)
		s.r.SetMaxIdleConns(readers)
		err = s.r.PingContext(ctx)
	}
	if err != nil {
		s.w.Close()
		if r != nil {
			r.Close()
		}
		return nil, err
	}
	return s, nil
}

// create creates the database file with mode 0600 when it does not exist,
// and makes its name durable by syncing the folder (a failed fsync wraps
// fsync.ErrSync); SQLite syncs the folder for the journal files it creates,
// but not for the database file itself.
// An existing file is not opened: a second descriptor on a database that
// SQLite has locked would drop its locks when closed.
func create(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return fsync.Dir(filepath.Dir(path))
}

// dsn returns the data source name of the writer or of a reader. The
// settings are in the DSN, not run once with Exec, because a pragma
// configures only the connection that runs it, and database/sql may open
// a new connection at any time.
func dsn(path string, write bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(busyTimeout.Milliseconds(), 10)) // applied first
	q.Set("_foreign_keys", "1")
	q.Set("_synchronous", "FULL")
	if write {
		q.Set("_journal_mode", "WAL")
		q.Set("_txlock", "immediate")
	} else {
		q.Set("_query_only", "1")
	}
	return path + "?" + q.Encode()
}

// checkSettings reads back the settings that durability depends on: a
// journal_mode pragma that cannot take effect (a file system without
// shared memory) leaves the old mode without an error.
func checkSettings(ctx context.Context, db *db) error {
	var mode string
	var syncMode, fk int
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&syncMode); err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return err
	}
	switch {
	case !strings.EqualFold(mode, "wal"):
		return fmt.Errorf("journal_mode is %s, not wal (is the state folder on a local disk?)", mode)
	case syncMode != 2:
		return fmt.Errorf("synchronous is %d, not 2 (FULL)", syncMode)
	case fk != 1:
		return errors.New("foreign keys are not enforced")
	}
	return nil
}

// Close closes the database. The last connection to close checkpoints the
// write-ahead log into the database file.
func (s *Store) Close() error {
	err := s.r.Close()
	if werr := s.w.Close(); werr != nil {
		err = errors.Join(err, werr)
	}
	if s.l != s.w {
		if lerr := s.l.Close(); lerr != nil {
			err = errors.Join(err, lerr)
		}
	}
	if err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// write runs fn in a write transaction (BEGIN IMMEDIATE on the one writer
// connection) and commits it when fn returns nil. With synchronous=FULL
// the commit is on disk when write returns nil.
//
// Every write first reads the lease row (on PostgreSQL: locks it FOR
// UPDATE) and, while this process leads, checks that the lease still
// names it at the same epoch: a deposed leader's write fails with
// ErrNotLeader before it changes anything. The epoch read is recorded
// with the transaction's events.
//
// On PostgreSQL a COMMIT whose reply is lost (the connection broke) is
// settled by asking the server, on another connection, whether the
// transaction committed (pg_xact_status): committed is success, aborted
// the original error, and no answer ErrCommitUnknown. It is never
// retried blindly: a committed intent sent again would come back as a
// duplicate.
func (s *Store) write(ctx context.Context, fn func(tx *txn) error) (err error) {
	defer func() { err = s.corrupt(err) }()
	tx, err := s.w.begin(ctx, nil)
	if err != nil {
		return err
	}
	xid, err := s.fenceTx(ctx, tx)
	if err == nil {
		failpoint.Hit(failpoint.InWriteTx)
		err = fn(tx)
	}
	if err == nil {
		err = flushEvents(ctx, tx)
	}
	if err != nil {
		_ = tx.Rollback() // the error of fn is the one to report
		return err
	}
	if s.beforeCommit != nil {
		s.beforeCommit()
	}
	if err := tx.Commit(); err != nil {
		if s.d.pg {
			return s.settleCommit(xid, err)
		}
		return err
	}
	return nil
}

// read runs fn in a read transaction, so that its queries see one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *txn) error) (err error) {
	defer func() { err = s.corrupt(err) }()
	opts := &sql.TxOptions{ReadOnly: true}
	if s.d.pg {
		opts.Isolation = sql.LevelRepeatableRead // one snapshot for the whole transaction
	}
	tx, err := s.r.begin(ctx, opts)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // read-only: nothing to lose
	return fn(tx)
}

// stamp returns the current time in the form stored.
func (s *Store) stamp() string { return formatTime(s.now()) }

// timeLayout is how times are stored: UTC, RFC 3339 with nanoseconds and a
// fixed width, so that text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// sqliteCode returns the extended result code of a SQLite error, 0 for
// another error.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// sqliteNoTable reports whether err is SQLite's "no such table".
func sqliteNoTable(err error) bool {
	return sqliteCode(err) != 0 && strings.Contains(err.Error(), "no such table")
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY ||
		pgCode(err) == pgUniqueViolation
}

// isForeignKey reports whether err is a FOREIGN KEY violation.
func isForeignKey(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY || pgCode(err) == pgForeignKeyViolation
}

// corrupt marks an error of SQLite that says the database file is
// damaged (SQLITE_CORRUPT: "database disk image is malformed", or
// SQLITE_NOTADB) as ErrCorrupt, so that refundd stops on it as on a failed
// check rather than trying the file again: the start's check reads only
// what changed since the last one, and the damage may be met later.
func (s *Store) corrupt(err error) error {
	if err == nil || errors.Is(err, ErrCorrupt) {
		return err
	}
	switch sqliteCode(err) & 0xff {
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return fmt.Errorf("%w: %s: %w", ErrCorrupt, s.path, err)
	}
	return err
}

// IsFull reports whether err is SQLite's "database or disk is full"
// (SQLITE_FULL: the disk, the quota or max_page_count is reached) or
// PostgreSQL's disk_full.
func IsFull(err error) bool {
	return sqliteCode(err)&0xff == sqlite3.SQLITE_FULL || pgCode(err) == pgDiskFull
}
