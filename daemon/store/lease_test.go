package store

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"refundd/internal/pgtest"
)

// openPair opens the same company's state twice, as two instances do: on
// PostgreSQL two Stores on one schema, on SQLite two on one file.
func openPair(t *testing.T) (a, b *Store) {
	t.Helper()
	var open func() *Store
	if onPostgres {
		url, schema := pgtest.Schema(t)
		open = func() *Store {
			s, err := OpenPostgres(t.Context(), PostgresConfig{URL: url, Schema: schema})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	} else {
		path := filepath.Join(t.TempDir(), "state.db")
		open = func() *Store {
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	a, b = open(), open()
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// waitAcquire acquires the lease for holder, waiting (bounded) for the
// other holder's lease to expire.
func waitAcquire(t *testing.T, s *Store, holder string, ttl time.Duration) Lease {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, ok, err := s.Acquire(t.Context(), holder, ttl)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not acquire the lease within 10 s", holder)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLeaseFencesDeposedLeader checks the fencing token: a takes the lease
// at epoch 1 and writes; b takes it over once it expires (on SQLite at
// once: the lock file decides there) at epoch 2; then every write of a
// fails with ErrNotLeader and changes nothing, its renewal fails, and the
// events carry the epoch of their writer.
func TestLeaseFencesDeposedLeader(t *testing.T) {
	ctx := t.Context()
	a, b := openPair(t)
	// Long enough that b's first try finds it running on a loaded machine,
	// short enough that b's wait for it to expire is brief.
	const ttl = 2 * time.Second
	la, ok, err := a.Acquire(ctx, "host-a", ttl)
	if err != nil || !ok || la.Epoch != 1 || la.Holder != "host-a" {
		t.Fatalf("first Acquire = %+v, %v, %v; want host-a at epoch 1", la, ok, err)
	}
	if onPostgres {
		if _, ok, err := b.Acquire(ctx, "host-b", time.Minute); ok || err != nil {
			t.Fatalf("Acquire of a running lease = %v, %v; want not acquired", ok, err)
		}
		if la.Left <= 0 || la.Left > ttl {
			t.Errorf("lease left %v; want in (0, %v]", la.Left, ttl)
		}
	}
	if _, err := a.Renew(ctx, ttl); err != nil {
		t.Fatal(err)
	}
	b1, rs1 := newBatch("B1", 0, 1)
	mustCreate(t, a, b1, rs1)

	lb := waitAcquire(t, b, "host-b", time.Minute)
	if lb.Epoch != 2 {
		t.Fatalf("takeover epoch %d; want 2", lb.Epoch)
	}
	b2, rs2 := newBatch("B2", 0, 1)
	err = a.CreateBatch(ctx, b2, rs2)
	if !errors.Is(err, ErrNotLeader) || !strings.Contains(err.Error(), "host-b") {
		t.Fatalf("write of the deposed leader = %v; want ErrNotLeader naming host-b", err)
	}
	if _, err := a.SetBatchStatus(ctx, b1.MsgID, BatchSent, ""); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("status change of the deposed leader = %v; want ErrNotLeader", err)
	}
	if _, err := a.Renew(ctx, time.Minute); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("renewal of the deposed leader = %v; want ErrNotLeader", err)
	}
	if got := a.Stats().FencedWrites; got != 2 {
		t.Errorf("fenced writes %d; want 2", got)
	}
	if _, err := b.Batch(ctx, b2.MsgID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the fenced batch was recorded: %v", err)
	}
	mustCreate(t, b, b2, rs2)
	for _, c := range []struct {
		msgID string
		epoch int64
	}{{b1.MsgID, 1}, {b2.MsgID, 2}} {
		var e int64
		if err := b.r.QueryRow(`SELECT max(epoch) FROM events WHERE subject_id = ?`, c.msgID).Scan(&e); err != nil || e != c.epoch {
			t.Errorf("events of %s at epoch %d, %v; want %d", c.msgID, e, err, c.epoch)
		}
	}
	if err := b.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
	if l, err := a.Leader(ctx); err != nil || l.Holder != "host-b" || l.Epoch != 2 {
		t.Errorf("Leader() = %+v, %v; want host-b at epoch 2", l, err)
	}
}

// TestResign checks that a resigned leader writes nothing more and that
// the other instance takes over at once.
func TestResign(t *testing.T) {
	ctx := t.Context()
	a, b := openPair(t)
	if _, ok, err := a.Acquire(ctx, "host-a", time.Hour); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := a.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	b1, rs1 := newBatch("B1", 0, 1)
	if err := a.CreateBatch(ctx, b1, rs1); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("write after Resign = %v; want ErrNotLeader", err)
	}
	l, ok, err := b.Acquire(ctx, "host-b", time.Hour)
	if !ok || err != nil || l.Epoch != 2 {
		t.Fatalf("Acquire after a resignation = %+v, %v, %v; want epoch 2 at once", l, ok, err)
	}
}

// TestLeaseKept checks that the lease row cannot be deleted and its epoch
// cannot go down.
func TestLeaseKept(t *testing.T) {
	s := openTest(t)
	if _, ok, err := s.Acquire(t.Context(), "host-a", time.Hour); !ok || err != nil {
		t.Fatal(ok, err)
	}
	for _, q := range []string{`DELETE FROM lease`, `UPDATE lease SET epoch = 0`} {
		if _, err := s.w.Exec(q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
	if l, err := s.Leader(t.Context()); err != nil || l.Epoch != 1 {
		t.Errorf("lease %+v, %v; want epoch 1", l, err)
	}
}

// TestOperatorWritesWithoutLease checks that a process that never led
// (an operator's command) writes, serialized by the lease row, and that
// its events carry the leader's epoch.
func TestOperatorWritesWithoutLease(t *testing.T) {
	ctx := t.Context()
	leader, op := openPair(t)
	if _, ok, err := leader.Acquire(ctx, "host-a", time.Hour); !ok || err != nil {
		t.Fatal(ok, err)
	}
	b1, rs1 := newBatch("B1", 0, 1)
	mustCreate(t, leader, b1, rs1)
	if _, err := op.SetBatchStatus(ctx, b1.MsgID, BatchInDoubt, "operator"); err != nil {
		t.Fatal(err)
	}
	if err := leader.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

// TestPostgresMigrateRace starts several instances on one empty schema at
// once: every one opens, and the migrations ran once.
func TestPostgresMigrateRace(t *testing.T) {
	if !onPostgres {
		t.Skip("PostgreSQL only")
	}
	url, schema := pgtest.Schema(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			s, err := OpenPostgres(t.Context(), PostgresConfig{URL: url, Schema: schema})
			if err == nil {
				err = s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	s, err := OpenPostgres(t.Context(), PostgresConfig{URL: url, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.Version(t.Context()); err != nil || v != len(pgMigrations) {
		t.Errorf("version %d, %v; want %d", v, err, len(pgMigrations))
	}
	if l, err := s.Leader(t.Context()); err != nil || l.Epoch != 0 || l.Holder != "" {
		t.Errorf("lease of a new schema %+v, %v; want none at epoch 0", l, err)
	}
}

// TestPostgresRefusesNewerSchema: a schema written by a newer refundd is
// refused and left as it is.
func TestPostgresRefusesNewerSchema(t *testing.T) {
	if !onPostgres {
		t.Skip("PostgreSQL only")
	}
	s := openTest(t)
	if _, err := s.w.Exec(`UPDATE schema_version SET version = ?`, len(pgMigrations)+1); err != nil {
		t.Fatal(err)
	}
	url, schema := pgtest.URL(t), strings.TrimPrefix(s.Name(), "postgres schema ")
	if _, err := OpenPostgres(t.Context(), PostgresConfig{URL: url, Schema: schema}); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("OpenPostgres of a newer schema = %v; want ErrSchemaTooNew", err)
	}
	if v, err := s.Version(t.Context()); err != nil || v != len(pgMigrations)+1 {
		t.Errorf("version after the refusal %d, %v", v, err)
	}
	for _, bad := range []string{"", "Acme", "a-b", `x"; DROP SCHEMA public; --`} {
		if _, err := OpenPostgres(t.Context(), PostgresConfig{URL: url, Schema: bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("schema %q: %v; want ErrInvalid", bad, err)
		}
	}
}

// TestPostgresSessionTimeouts: every connection has the statement and
// idle-in-transaction timeouts.
func TestPostgresSessionTimeouts(t *testing.T) {
	if !onPostgres {
		t.Skip("PostgreSQL only")
	}
	s := openTest(t)
	for _, c := range []struct{ name, want string }{{"statement_timeout", "10s"}, {"idle_in_transaction_session_timeout", "5s"}} {
		for _, p := range []*db{s.w, s.r, s.l} {
			var got string
			if err := p.QueryRow(`SELECT current_setting(?)`, c.name).Scan(&got); err != nil || got != c.want {
				t.Errorf("%s = %q, %v; want %s", c.name, got, err, c.want)
			}
		}
	}
}

// TestPostgresCommitUnknown breaks the connection while COMMIT is on its
// way: once after the server committed and before its reply arrived (the
// write must report success, not an error a caller would retry), once
// before the COMMIT reached the server (the write must fail). Both are
// settled by asking the server, on another connection.
func TestPostgresCommitUnknown(t *testing.T) {
	if !onPostgres {
		t.Skip("PostgreSQL only")
	}
	url, schema := pgtest.Schema(t)
	p := newHoldProxy(t, url)
	s, err := OpenPostgres(t.Context(), PostgresConfig{URL: p.url, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// Committed, reply lost: the proxy stops passing the server's bytes
	// to the connections open now, so COMMIT is executed and its reply
	// never comes; the context ends the wait.
	s.beforeCommit = p.hold
	b1, rs1 := newBatch("B1", 0, 1)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	err = s.CreateBatch(ctx, b1, rs1)
	cancel()
	s.beforeCommit = nil
	p.cutAll()
	if err != nil {
		t.Fatalf("a write whose COMMIT reply was lost after it committed = %v; want success", err)
	}
	if _, err := s.Batch(t.Context(), b1.MsgID); err != nil {
		t.Fatalf("the batch is not recorded: %v", err)
	}

	// Not committed: the connection is cut before COMMIT is sent.
	s.beforeCommit = p.cutAll
	b2, rs2 := newBatch("B2", 0, 1)
	err = s.CreateBatch(t.Context(), b2, rs2)
	s.beforeCommit = nil
	if err == nil || errors.Is(err, ErrDuplicate) {
		t.Fatalf("a write cut before COMMIT = %v; want a transient error", err)
	}
	if _, err := s.Batch(t.Context(), b2.MsgID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the cut batch was recorded: %v", err)
	}
	mustCreate(t, s, b2, rs2) // and it is written when done again
	st := s.Stats()
	if st.CommitsUnknown < 1 || st.CommitsSettled != st.CommitsUnknown {
		t.Errorf("stats %+v; want every unknown commit settled", st)
	}
}

// holdProxy is a TCP proxy to the PostgreSQL server that can stop passing
// the server's bytes to the connections open at that moment, and cut them.
type holdProxy struct {
	url   string
	mu    sync.Mutex
	conns []*proxied
}

type proxied struct {
	client, server net.Conn
	held           atomic.Bool
}

func newHoldProxy(t *testing.T, url string) *holdProxy {
	t.Helper()
	i := strings.Index(url, "@") + 1
	j := i + strings.IndexAny(url[i:], "/?")
	target := url[i:j]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &holdProxy{url: url[:i] + ln.Addr().String() + url[j:]}
	t.Cleanup(func() { ln.Close(); p.cutAll() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			pc := &proxied{client: c, server: s}
			p.mu.Lock()
			p.conns = append(p.conns, pc)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() {
				buf := make([]byte, 32<<10)
				for {
					n, err := s.Read(buf)
					if n > 0 && !pc.held.Load() {
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						c.Close()
						return
					}
				}
			}()
		}
	}()
	return p
}

// hold stops passing the server's bytes to the connections open now.
func (p *holdProxy) hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.held.Store(true)
	}
}

// cutAll closes every connection through the proxy.
func (p *holdProxy) cutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.client.Close()
		c.server.Close()
	}
	p.conns = nil
}

// TestAcquireOwnLease: an instance that restarts takes its own lease
// again at once, at a higher epoch, and its earlier process is fenced.
func TestAcquireOwnLease(t *testing.T) {
	ctx := t.Context()
	old, restarted := openPair(t)
	if _, ok, err := old.Acquire(ctx, "host-a", time.Hour); !ok || err != nil {
		t.Fatal(ok, err)
	}
	l, ok, err := restarted.Acquire(ctx, "host-a", time.Hour)
	if !ok || err != nil || l.Epoch != 2 {
		t.Fatalf("Acquire of its own running lease = %+v, %v, %v; want epoch 2 at once", l, ok, err)
	}
	b1, rs1 := newBatch("B1", 0, 1)
	if err := old.CreateBatch(ctx, b1, rs1); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("write of the earlier process = %v; want ErrNotLeader", err)
	}
}

// TestPostgresExisting: with Existing, a schema refundd has not created is
// refused and not created; one it created opens.
func TestPostgresExisting(t *testing.T) {
	if !onPostgres {
		t.Skip("PostgreSQL only")
	}
	url, schema := pgtest.Schema(t)
	cfg := PostgresConfig{URL: url, Schema: schema, Existing: true}
	if _, err := OpenPostgres(t.Context(), cfg); !errors.Is(err, ErrNoSchema) {
		t.Fatalf("OpenPostgres of a missing schema = %v; want ErrNoSchema", err)
	}
	if _, err := OpenPostgres(t.Context(), cfg); !errors.Is(err, ErrNoSchema) {
		t.Fatalf("the first refusal created the schema: %v", err)
	}
	cfg.Existing = false
	s, err := OpenPostgres(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	cfg.Existing = true
	if s, err = OpenPostgres(t.Context(), cfg); err != nil {
		t.Fatalf("OpenPostgres of an existing schema: %v", err)
	}
	s.Close()
}
