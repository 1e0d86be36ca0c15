package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

var (
	// ErrNotLeader: this process does not hold the company's lease, or no
	// longer: another instance took it over (a higher epoch), or it
	// resigned. Nothing was written.
	ErrNotLeader = errors.New("not the leader")
	// ErrCommitUnknown: the connection broke during COMMIT and the server
	// could not say whether the transaction committed. Treat the write as
	// possibly done: look before doing it again.
	ErrCommitUnknown = errors.New("commit outcome unknown")
)

// Lease is the company's leadership row. Epoch is the fencing token: it
// grows by one at every acquisition and never decreases, and every write
// of the leader checks it.
type Lease struct {
	Holder string
	Epoch  int64
	// Acquired, Renewed and Expires are on the database's clock
	// (PostgreSQL) or this host's (SQLite).
	Acquired, Renewed, Expires time.Time
	// Left is how long the lease had to run when it was read, on the
	// clock that decides expiry; 0 or less: expired.
	Left time.Duration
}

// resigned is the fence of a process that gave up its lease: no lease
// row has a negative epoch, so every write fails with ErrNotLeader.
var resigned = &Lease{Epoch: -1}

// leaseCols are the columns scanLease reads. Times are read as text in
// timeLayout, Left in microseconds.
func (s *Store) leaseCols() string {
	if s.d.pg {
		return `holder, epoch, ` + pgTime("acquired_at") + `, ` + pgTime("renewed_at") + `, ` + pgTime("expires_at") +
			`, CASE WHEN expires_at = '-infinity' THEN -1
			ELSE floor(extract(epoch FROM expires_at - clock_timestamp()) * 1000000) END::bigint`
	}
	return `holder, epoch, acquired, renewed, expires, 0`
}

// pgTime formats a timestamptz column as the store formats times.
func pgTime(col string) string {
	return `CASE WHEN ` + col + ` = '-infinity' THEN '' ELSE to_char(` + col +
		` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"000Z"') END`
}

func (s *Store) scanLease(r *sql.Row) (Lease, error) {
	var l Lease
	var acq, ren, exp string
	var left int64
	if err := r.Scan(&l.Holder, &l.Epoch, &acq, &ren, &exp, &left); err != nil {
		return Lease{}, err
	}
	var err error
	for _, t := range []struct {
		dst *time.Time
		s   string
	}{{&l.Acquired, acq}, {&l.Renewed, ren}, {&l.Expires, exp}} {
		if *t.dst, err = parseTime(t.s); err != nil {
			return Lease{}, err
		}
	}
	l.Left = time.Duration(left) * time.Microsecond
	if !s.d.pg && !l.Expires.IsZero() {
		l.Left = l.Expires.Sub(s.now())
	}
	return l, nil
}

// Leader reads the lease: who leads, at which epoch, until when.
func (s *Store) Leader(ctx context.Context) (Lease, error) {
	l, err := s.scanLease(s.l.QueryRowContext(ctx, `SELECT `+s.leaseCols()+` FROM lease WHERE id = 1`))
	if err != nil {
		return Lease{}, fmt.Errorf("read lease %s: %w", s.path, err)
	}
	return l, nil
}

// acquireLockWait bounds how long an acquisition waits for the lease row,
// which the leader's running write holds.
const acquireLockWait = 2 * time.Second

// Acquire makes holder the leader for ttl if the lease has expired (on
// PostgreSQL, by the database's clock) or is holder's own, with the epoch
// one higher; ok is false, with no error, when another holder's lease
// still runs. A holder's own lease is taken again at once: the holder is
// one instance on one host (ha.instance, the host name by default), and
// the state folder's lock file there lets only one process run, so a
// process that acquires its own lease is one that restarted. On SQLite,
// whose one process is guaranteed by the state folder's lock file, the
// lease is always taken: the epoch counts the runs.
//
// From then on every write of this Store checks the lease (see write).
func (s *Store) Acquire(ctx context.Context, holder string, ttl time.Duration) (l Lease, ok bool, err error) {
	if holder == "" || ttl <= 0 {
		return Lease{}, false, fmt.Errorf("acquire lease %s: %w: holder and lease time are required", s.path, ErrInvalid)
	}
	tx, err := s.l.begin(ctx, nil)
	if err != nil {
		return Lease{}, false, fmt.Errorf("acquire lease %s: %w", s.path, err)
	}
	defer func() { _ = tx.Rollback() }() // after Commit: a no-op
	var r *sql.Row
	if s.d.pg {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`SET LOCAL lock_timeout = %d`, acquireLockWait.Milliseconds())); err != nil {
			return Lease{}, false, fmt.Errorf("acquire lease %s: %w", s.path, err)
		}
		r = tx.QueryRowContext(ctx, `UPDATE lease SET holder = ?, epoch = epoch + 1, acquired_at = now(), renewed_at = now(),
			expires_at = now() + ? * interval '1 microsecond' WHERE id = 1 AND (expires_at < now() OR holder = ?) RETURNING `+s.leaseCols(),
			holder, ttl.Microseconds(), holder)
	} else {
		at := s.now()
		r = tx.QueryRowContext(ctx, `UPDATE lease SET holder = ?, epoch = epoch + 1, acquired = ?, renewed = ?, expires = ?
			WHERE id = 1 RETURNING `+s.leaseCols(), holder, formatTime(at), formatTime(at), formatTime(at.Add(ttl)))
	}
	l, err = s.scanLease(r)
	if errors.Is(err, sql.ErrNoRows) || pgCode(err) == pgLockNotAvailable {
		return Lease{}, false, nil
	}
	if err == nil {
		err = tx.Commit()
		if err != nil && s.d.pg {
			// Whether or not it committed, the lease is not known to be
			// ours: the next attempt waits for it to expire.
			err = fmt.Errorf("%w: %v", ErrCommitUnknown, err)
		}
	}
	if err != nil {
		return Lease{}, false, fmt.Errorf("acquire lease %s: %w", s.path, err)
	}
	s.fence.Store(&l)
	return l, true, nil
}

// Renew extends the lease this Store acquired by ttl from now. It fails
// with ErrNotLeader when the lease is no longer this holder's at the same
// epoch; this Store's writes fail from then on as well.
func (s *Store) Renew(ctx context.Context, ttl time.Duration) (Lease, error) {
	f := s.fence.Load()
	if f == nil || f == resigned {
		return Lease{}, fmt.Errorf("renew lease %s: %w: not acquired", s.path, ErrNotLeader)
	}
	var r *sql.Row
	if s.d.pg {
		r = s.l.QueryRowContext(ctx, `UPDATE lease SET renewed_at = now(), expires_at = now() + ? * interval '1 microsecond'
			WHERE id = 1 AND holder = ? AND epoch = ? RETURNING `+s.leaseCols(), ttl.Microseconds(), f.Holder, f.Epoch)
	} else {
		at := s.now()
		r = s.l.QueryRowContext(ctx, `UPDATE lease SET renewed = ?, expires = ? WHERE id = 1 AND holder = ? AND epoch = ?
			RETURNING `+s.leaseCols(), formatTime(at), formatTime(at.Add(ttl)), f.Holder, f.Epoch)
	}
	l, err := s.scanLease(r)
	if errors.Is(err, sql.ErrNoRows) {
		return Lease{}, fmt.Errorf("renew lease %s: %w: epoch %d is no longer %s's", s.path, ErrNotLeader, f.Epoch, f.Holder)
	}
	if err != nil {
		return Lease{}, fmt.Errorf("renew lease %s: %w", s.path, err)
	}
	return l, nil
}

// Resign ends this Store's lease now, so that a standby takes over at its
// next look, and makes every further write of this Store fail with
// ErrNotLeader.
func (s *Store) Resign(ctx context.Context) error {
	f := s.fence.Swap(resigned)
	if f == nil || f == resigned {
		return nil
	}
	q, args := `UPDATE lease SET expires_at = now() WHERE id = 1 AND holder = ? AND epoch = ?`, []any{f.Holder, f.Epoch}
	if !s.d.pg {
		q, args = `UPDATE lease SET expires = ? WHERE id = 1 AND holder = ? AND epoch = ?`, []any{s.stamp(), f.Holder, f.Epoch}
	}
	if _, err := s.l.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("resign lease %s: %w", s.path, err)
	}
	return nil
}

// fenceTx reads the lease row at the top of a write transaction (on
// PostgreSQL locking it, which also serializes every writer of the
// company, operator commands included) and, while this Store leads,
// refuses the write if the lease is no longer its own. On PostgreSQL it
// returns the transaction's id, to ask after a lost COMMIT reply.
func (s *Store) fenceTx(ctx context.Context, tx *txn) (xid string, err error) {
	q := `SELECT holder, epoch, '' FROM lease WHERE id = 1`
	if s.d.pg {
		q = `SELECT holder, epoch, pg_current_xact_id()::text FROM lease WHERE id = 1 FOR UPDATE`
	}
	var holder string
	var epoch int64
	err = tx.QueryRowContext(ctx, q).Scan(&holder, &epoch, &xid)
	if err != nil && !s.d.pg && sqliteNoTable(err) {
		return "", nil // a schema before the lease (migration tests)
	}
	if err != nil {
		return "", fmt.Errorf("read lease: %w", err)
	}
	tx.epoch = epoch
	f := s.fence.Load()
	if f != nil && f != resigned {
		// The leader records its own epoch: with the check below that is
		// the lease's; without it (the mutation build) a deposed leader's
		// events show an epoch lower than those before them.
		tx.epoch = f.Epoch
	}
	if f != nil && fenceChecked && (f.Holder != holder || f.Epoch != epoch) {
		s.stats.fenced.Add(1)
		if f == resigned {
			return "", fmt.Errorf("%w: this process resigned its lease", ErrNotLeader)
		}
		return "", fmt.Errorf("%w: the lease is %s's at epoch %d, this process led at epoch %d", ErrNotLeader, holder, epoch, f.Epoch)
	}
	return xid, nil
}

// Stats counts what the store met that an operator should see.
type Stats struct {
	// FencedWrites: writes refused because this process no longer led.
	FencedWrites int64
	// CommitsUnknown: COMMITs whose reply was lost; CommitsSettled: how
	// many of them the server could then say committed or aborted.
	CommitsUnknown, CommitsSettled int64
}

// Stats returns the counts since Open.
func (s *Store) Stats() Stats {
	return Stats{FencedWrites: s.stats.fenced.Load(), CommitsUnknown: s.stats.unknown.Load(), CommitsSettled: s.stats.settled.Load()}
}

// Postgres reports whether the store is on PostgreSQL.
func (s *Store) Postgres() bool { return s.d.pg }

// Name names the database: the SQLite file, or the PostgreSQL schema.
func (s *Store) Name() string { return s.path }

// ServerSettings returns PostgreSQL settings that refundd's safety rests
// on, as this store's sessions see them: statement_timeout,
// idle_in_transaction_session_timeout, synchronous_commit, fsync,
// default_transaction_isolation and the server's version. On SQLite it
// returns nil.
func (s *Store) ServerSettings(ctx context.Context) (map[string]string, error) {
	if !s.d.pg {
		return nil, nil
	}
	names := []string{"statement_timeout", "idle_in_transaction_session_timeout", "synchronous_commit", "fsync",
		"default_transaction_isolation", "server_version"}
	m := make(map[string]string, len(names))
	for _, n := range names {
		var v string
		if err := s.r.QueryRowContext(ctx, `SELECT current_setting(?)`, n).Scan(&v); err != nil {
			return nil, fmt.Errorf("read setting %s of %s: %w", n, s.path, err)
		}
		m[n] = v
	}
	return m, nil
}
