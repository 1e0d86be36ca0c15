package daemon

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"refundd/internal/fsync"
	"refundd/internal/pgtest"

	"github.com/rs/zerolog"

	"refundd/daemon/config"
	"refundd/daemon/lock"
	"refundd/daemon/obs"
	"refundd/daemon/refund"
	"refundd/daemon/status"
	"refundd/daemon/store"
	"refundd/formats/pain002"
	"refundd/formats/xsdtest"
	"refundd/internal/testutil"
)

// wantFinal is the state after the batch, its pain.002 and its camt.054.
var wantFinal = map[string]refund.Status{
	"CN10042": refund.StatusReturned, "PP10043": refund.StatusRejected, "PY10044": refund.StatusBooked,
	"CN10045": refund.StatusBooked, "CN10046": refund.StatusBooked,
}

// checkFinal checks the state, the remote folders and the import folder
// after the whole flow.
func (e *daemonEnv) checkFinal(t *testing.T) {
	t.Helper()
	if got := files(t, e.up); !slices.Equal(got, []string{testMsgID + ".xml"}) {
		t.Errorf("upload folder holds %v, want exactly the one pain.001", got)
	}
	if got := files(t, e.down); len(got) != 0 {
		t.Errorf("download folder still holds %v", got)
	}
	st, rs := e.statuses(t, testMsgID)
	// One refund rejected, one returned: both need an operator.
	if st != store.BatchSettledWithExceptions {
		t.Errorf("batch is %s, want %s", st, store.BatchSettledWithExceptions)
	}
	for ref, want := range wantFinal {
		if rs[ref] != want {
			t.Errorf("refund %s is %s, want %s", ref, rs[ref], want)
		}
	}
	imp := files(t, filepath.Join(e.dir, "import"))
	for kind, golden := range map[string]string{"postings-": "postings.csv", "matches-": "matches.csv", "exceptions-": "exceptions.csv"} {
		got := withPrefix(imp, kind)
		if len(got) != 1 {
			t.Errorf("import folder has %d %s files (%v), want 1", len(got), kind, imp)
			continue
		}
		testutil.CompareGolden(t, readFile(t, filepath.Join(e.dir, "import", got[0])), filepath.Join("testdata", "replies", golden), *update)
	}
	if got := withPrefix(imp, "status-"); len(got) != 2 {
		t.Errorf("import folder has status files %v, want 2 (pain.002, camt.054)", got)
	}
}

// TestDaemonEndToEnd sends a batch through a real sshd and brings the
// bank's pain.002 and camt.054 back into the import folder.
func TestDaemonEndToEnd(t *testing.T) {
	e := newDaemonEnv(t)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	e.once(t)

	if got := files(t, e.up); !slices.Equal(got, []string{testMsgID + ".xml"}) {
		t.Fatalf("upload folder holds %v, want %s.xml", got, testMsgID)
	}
	xsdtest.Validate(t, xsdtest.Schema(t, "pain.001.001.03.xsd"), filepath.Join(e.up, testMsgID+".xml"))
	if !bytes.Equal(readFile(t, filepath.Join(e.up, testMsgID+".xml")), readFile(t, e.outboxFile(testMsgID))) {
		t.Error("the uploaded file is not the outbox file")
	}
	if st, _ := e.statuses(t, testMsgID); st != store.BatchSent {
		t.Fatalf("batch is %s after the upload, want sent", st)
	}
	if got := files(t, filepath.Join(e.dir, "export")); len(got) != 0 {
		t.Errorf("export folder still holds %v", got)
	}

	sent := e.sent(t, testMsgID)
	if err := os.WriteFile(filepath.Join(e.down, "pain002.xml"), testutil.StatusReport(t, testMsgID, sent), 0o644); err != nil {
		t.Fatal(err)
	}
	e.once(t)
	st, rs := e.statuses(t, testMsgID)
	if st != store.BatchAccepted || rs["PP10043"] != refund.StatusRejected || rs["CN10046"] != refund.StatusAccepted {
		t.Fatalf("after the pain.002: batch %s, refunds %v", st, rs)
	}

	if err := os.WriteFile(filepath.Join(e.down, "camt054.xml"), testutil.Notification(t, sent, ""), 0o644); err != nil {
		t.Fatal(err)
	}
	e.once(t)
	e.checkFinal(t)

	s := e.openStore(t)
	bs, err := status.List(t.Context(), s, "B2026-0042")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := status.Write(&out, bs, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{testMsgID, "settled-with-exceptions", "CN10046", "booked", "PP10043", "rejected", "AC04", "returned", "CN-CN10046-"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestDaemonRestarts stops and starts the daemon between every two steps:
// the same final state, one upload, postings once.
func TestDaemonRestarts(t *testing.T) {
	e := newDaemonEnv(t)
	opts := e.options(t)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	// The SQLite store is made by the first Daemon (e.statuses opens an
	// existing one); a PostgreSQL schema exists from the start.
	uploaded := func() bool {
		return len(files(t, e.up)) > 0 && (e.cfg.Postgres() || fileExists(filepath.Join(e.dir, "state", store.FileName)))
	}
	e.runUntil(t, opts, "the upload", func() bool {
		if !uploaded() {
			return false
		}
		st, _ := e.statuses(t, testMsgID)
		return st == store.BatchSent
	})
	e.runUntil(t, opts, "a restart", func() bool { return true })

	sent := e.sent(t, testMsgID)
	if err := os.WriteFile(filepath.Join(e.down, "pain002.xml"), testutil.StatusReport(t, testMsgID, sent), 0o644); err != nil {
		t.Fatal(err)
	}
	e.runUntil(t, opts, "the pain.002", func() bool { return e.archivedReplies(t) == 1 })
	e.runUntil(t, opts, "a restart", func() bool { return true })

	if err := os.WriteFile(filepath.Join(e.down, "camt054.xml"), testutil.Notification(t, sent, ""), 0o644); err != nil {
		t.Fatal(err)
	}
	e.runUntil(t, opts, "the camt.054", func() bool { return e.archivedReplies(t) == 2 })
	e.runUntil(t, opts, "a restart", func() bool { return true })
	e.once(t)
	e.checkFinal(t)
}

// TestDaemonNoEvents: without file events, the scheduled rescans alone
// find the batch (dropped without a done marker) and the reply.
func TestDaemonNoEvents(t *testing.T) {
	e := newDaemonEnv(t)
	opts := e.options(t)
	opts.NoEvents = true
	if err := os.WriteFile(filepath.Join(e.dir, "export", "batch-ok.csv"), readFile(t, "testdata/batch-ok.csv"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.runUntil(t, opts, "the upload", func() bool { return len(files(t, e.up)) == 1 })
	sent := e.sent(t, testMsgID)
	if err := os.WriteFile(filepath.Join(e.dir, "inbox", "pain002.xml"), testutil.StatusReport(t, testMsgID, sent), 0o644); err != nil {
		t.Fatal(err)
	}
	e.runUntil(t, opts, "the pain.002", func() bool { return e.archivedReplies(t) == 1 })
	if st, rs := e.statuses(t, testMsgID); st != store.BatchAccepted || rs["PP10043"] != refund.StatusRejected {
		t.Errorf("batch %s, refunds %v", st, rs)
	}
}

// TestDaemonReload: an invalid configuration is refused and the daemon
// goes on; a valid one takes effect.
func TestDaemonReload(t *testing.T) {
	e := newDaemonEnv(t)
	opts := e.options(t)
	opts.Metrics = obs.NewMetrics()
	var logs testutil.SyncBuffer
	opts.Logger = zerolog.New(io.MultiWriter(zerolog.NewTestWriter(t), &logs))
	d := e.daemon(t, opts)
	reload := make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, reload) }()
	good := readFile(t, e.config)
	if err := os.WriteFile(e.config, append(slices.Clone(good), "no_such_key: 1\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	reload <- struct{}{}
	waitFor(t, "the refusal", func() bool { return metric(t, opts.Metrics, "refundd_config_last_reload_successful") == 0 })
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	waitFor(t, "the upload with the old configuration", func() bool { return len(files(t, e.up)) == 1 })

	newUp := filepath.Join(e.srv.Root, "inbound2")
	if err := os.MkdirAll(newUp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.config, bytes.ReplaceAll(good, []byte(e.up), []byte(newUp)), 0o600); err != nil {
		t.Fatal(err)
	}
	reload <- struct{}{}
	waitFor(t, "the reload", func() bool { return strings.Contains(logs.String(), "configuration reloaded") })
	if got := metric(t, opts.Metrics, "refundd_config_last_reload_successful"); got != 1 {
		t.Errorf("refundd_config_last_reload_successful = %v after a good reload, want 1", got)
	}
	changed := readFile(t, "testdata/batch-ok.csv")
	for _, r := range []string{"B2026-0042:B2026-0043", "CN100:CN200", "PP100:PP200", "PY100:PY200"} {
		from, to, _ := strings.Cut(r, ":")
		changed = bytes.ReplaceAll(changed, []byte(from), []byte(to))
	}
	drop(t, filepath.Join(e.dir, "export"), "batch-43.csv", changed)
	waitFor(t, "the upload with the new configuration", func() bool { return len(files(t, newUp)) == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestDaemonLocked: a second daemon on the same state folder is refused.
func TestDaemonLocked(t *testing.T) {
	e := newDaemonEnv(t)
	e.daemon(t, e.options(t))
	_, err := New(e.cfg, e.options(t))
	if !errors.Is(err, lock.ErrLocked) || !strings.Contains(err.Error(), "another refundd") {
		t.Errorf("second daemon: %v", err)
	}
}

// TestStartNeedsLedgerAccounts: a daemon without the ledger accounts that
// bookings are posted to does not start (it would refuse every camt.054
// later, one file at a time), and says which keys are missing.
func TestStartNeedsLedgerAccounts(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*config.Config)
	}{
		{"receivables", func(c *config.Config) { c.Ledger.ReceivablesAccount = "" }},
		{"charges", func(c *config.Config) { c.Ledger.ChargesAccount = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newDaemonEnv(t)
			tc.set(e.cfg)
			d, err := New(e.cfg, e.options(t))
			if err == nil {
				d.Close()
				t.Fatal("started without the ledger accounts")
			}
			if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "ledger.receivables_account and ledger.charges_account") {
				t.Errorf("error %q does not name the missing keys", err)
			}
		})
	}
}

// TestDaemonStateLost: with the database gone but payment files in the
// outbox, the daemon refuses to start.
func TestDaemonStateLost(t *testing.T) {
	e := newDaemonEnv(t)
	if e.cfg.Postgres() {
		// The schema dropped (or store.schema misspelled) while the
		// spool's outbox holds sent payments: no fresh start either.
		e.intent(t)
		if err := pgtest.Drop(e.cfg.Store.URL, e.cfg.Store.Schema); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the refusal creates no schema that a second start would take
			if _, err := New(e.cfg, e.options(t)); !errors.Is(err, ErrStateLost) || !strings.Contains(err.Error(), "check store.schema") {
				t.Errorf("New on a new schema over sent payments: %v, want ErrStateLost", err)
			}
		}
		return
	}
	e.intent(t)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(filepath.Join(e.dir, "state", store.FileName+suffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	if _, err := New(e.cfg, e.options(t)); !errors.Is(err, ErrStateLost) {
		t.Errorf("New: %v, want ErrStateLost", err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "state", store.FileName)); err == nil {
		t.Error("a new database was created")
	}
}

// damageStore changes the state database behind the store's back.
func damageStore(t *testing.T, path, kind string) {
	t.Helper()
	switch kind {
	case "sql":
		damageSQL(t, "sqlite", path, `UPDATE refunds SET status = 'booked' WHERE ref_nbr = 'CN10042'`)
	case "header":
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(bytes.Repeat([]byte{0xa5}, 100), 0); err != nil {
			t.Fatal(err)
		}
	case "pages":
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		// Every page but the first (the schema) overwritten.
		if _, err := f.WriteAt(bytes.Repeat([]byte{0x5a}, int(fi.Size())-4096), 4096); err != nil {
			t.Fatal(err)
		}
	}
}

// damageSQL runs the statement on the database behind the store's back.
func damageSQL(t *testing.T, driver, dsn, stmt string) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// pgSnapshot returns every row of every table of the PostgreSQL schema of
// cfg, as text: equal snapshots are an unchanged database.
func pgSnapshot(t *testing.T, cfg *config.Config) []byte {
	t.Helper()
	db, err := sql.Open("pgx", cfg.Store.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), `SELECT table_name FROM information_schema.tables
		WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`, cfg.Store.Schema)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(tables) == 0 {
		t.Fatalf("schema %s has no tables", cfg.Store.Schema)
	}
	var out bytes.Buffer
	for _, table := range tables {
		var text string
		// The names are the catalogue's, quoted.
		q := `SELECT coalesce(string_agg(r::text, E'\n' ORDER BY r::text), '') FROM "` + cfg.Store.Schema + `"."` + table + `" r`
		if err := db.QueryRowContext(t.Context(), q).Scan(&text); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		fmt.Fprintf(&out, "%s:\n%s\n", table, text)
	}
	return out.Bytes()
}

// TestCasesBrokenStore (A15): a state database that fails its checks (a
// refund's status changed behind the store's back) or cannot be read (a
// damaged header, damaged pages): the daemon refuses to start with an
// error naming the database file (on PostgreSQL, the schema); nothing is
// uploaded, nothing written for the ERP, no file taken, and the database
// is not made anew.
func TestCasesBrokenStore(t *testing.T) {
	for _, kind := range []string{"sql", "header", "pages"} {
		t.Run(kind, func(t *testing.T) {
			e := newDaemonEnv(t)
			if e.cfg.Postgres() && kind != "sql" {
				t.Skip("about the SQLite file: a damaged file header or damaged pages")
			}
			e.intent(t)
			db := filepath.Join(e.dir, "state", store.FileName)
			snapshot := func() []byte { return readFile(t, db) }
			if e.cfg.Postgres() {
				db = e.cfg.Store.Schema
				damageSQL(t, "pgx", e.cfg.Store.URL, `UPDATE "`+db+`".refunds SET status = 'booked' WHERE ref_nbr = 'CN10042'`)
				snapshot = func() []byte { return pgSnapshot(t, e.cfg) }
			} else {
				damageStore(t, db, kind)
			}
			before := snapshot()
			export := filepath.Join(e.dir, "export")
			drop(t, export, "batch-43.csv", bytes.ReplaceAll(readFile(t, "testdata/batch-ok.csv"), []byte("B2026-0042"), []byte("B2026-0043")))
			drop(t, filepath.Join(e.dir, "inbox"), "pain002.xml", groupReport(t, "STS-1", testMsgID, pain002.AcceptedCustomerProfile, ""))

			d, err := New(e.cfg, e.options(t))
			if err == nil {
				d.Close()
				t.Fatal("the daemon started on a broken state database")
			}
			t.Logf("New: %v", err)
			if !strings.Contains(err.Error(), db) {
				t.Errorf("the error does not name %s: %v", db, err)
			}
			if kind == "sql" && !errors.Is(err, store.ErrCorrupt) {
				t.Errorf("the error is not ErrCorrupt: %v", err)
			}
			if got := files(t, e.up); len(got) != 0 {
				t.Errorf("upload folder holds %v", got)
			}
			if got := files(t, filepath.Join(e.dir, "import")); len(got) != 0 {
				t.Errorf("import folder holds %v", got)
			}
			if got := files(t, export); !slices.Contains(got, "batch-43.csv") {
				t.Errorf("export folder holds %v: the batch was taken", got)
			}
			if got := files(t, filepath.Join(e.dir, "inbox")); !slices.Contains(got, "pain002.xml") {
				t.Errorf("inbox holds %v: the reply was taken", got)
			}
			if !bytes.Equal(snapshot(), before) {
				t.Error("the state database was changed")
			}
			// The lock is released: a fixed database can be started on.
			if _, err := os.Stat(e.spool("work")); err == nil {
				if got := files(t, e.spool("work")); len(got) != 0 {
					t.Errorf("work folder holds %v", got)
				}
			}
		})
	}
}

// TestDaemonFsyncFails makes an fsync fail while a batch and later a reply
// are written: the daemon stops with an error that says so, has recorded
// nothing it did not write, and a restart on a sound disk finishes the
// work exactly once.
func TestDaemonFsyncFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*faultFS)
	}{
		{"file", func(f *faultFS) { f.syncFile.Store(true) }},
		{"folder", func(f *faultFS) { f.syncDir.Store(true) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newDaemonEnv(t)
			work := e.spool("work", "export")
			drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))

			fsys := &faultFS{}
			tc.set(fsys)
			opts := e.options(t)
			opts.FS = fsys
			d := e.daemon(t, opts)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			err := d.Run(ctx, nil)
			if !errors.Is(err, fsync.ErrSync) {
				t.Fatalf("Run with failing fsync returned %v, want an error wrapping fsync.ErrSync", err)
			}
			d.Close()
			if got := files(t, e.up); len(got) != 0 {
				t.Fatalf("uploaded %v although the pain.001 was not durable", got)
			}
			if got := files(t, work); len(got) != 1 {
				t.Fatalf("work folder holds %v, want the batch kept there", got)
			}
			s := e.openStore(t)
			if bs, err := s.ListBatches(t.Context()); err != nil || len(bs) != 0 {
				t.Fatalf("store holds batches %v (%v) whose pain.001 was not durable", bs, err)
			}
			s.Close()

			e.once(t) // a sound disk
			if got := files(t, e.up); !slices.Equal(got, []string{testMsgID + ".xml"}) {
				t.Fatalf("upload folder holds %v, want the batch once", got)
			}

			// The files for the ERP: the reply is not applied, and applied
			// once after the restart.
			sent := e.sent(t, testMsgID)
			if err := os.WriteFile(filepath.Join(e.down, "camt054.xml"), testutil.Notification(t, sent, ""), 0o644); err != nil {
				t.Fatal(err)
			}
			fsys = &faultFS{}
			tc.set(fsys)
			opts.FS = fsys
			d = e.daemon(t, opts)
			if err := d.RunOnce(t.Context()); !errors.Is(err, fsync.ErrSync) {
				t.Fatalf("RunOnce with failing fsync returned %v, want an error wrapping fsync.ErrSync", err)
			}
			d.Close()
			if got := files(t, filepath.Join(e.dir, "import")); len(got) != 0 {
				t.Fatalf("import folder holds %v after failed fsyncs", got)
			}
			if _, rs := e.statuses(t, testMsgID); rs["CN10046"] == "booked" {
				t.Fatal("booking recorded although its posting was not durable")
			}
			e.once(t)
			imp := files(t, filepath.Join(e.dir, "import"))
			if got := withPrefix(imp, "postings-"); len(got) != 1 {
				t.Fatalf("postings files %v, want exactly 1", got)
			}
			if _, rs := e.statuses(t, testMsgID); rs["CN10046"] != "booked" {
				t.Errorf("CN10046 is %s after the restart, want booked", rs["CN10046"])
			}
		})
	}
}

// TestDaemonPanic: a panic in a step is recovered; the file is finished
// by the next step.
func TestDaemonPanic(t *testing.T) {
	e := newDaemonEnv(t)
	export := filepath.Join(e.dir, "export")
	drop(t, export, "bad.csv", []byte("Batch;DocType\nB1;Nonsense\n"))
	d := e.daemon(t, e.options(t))
	out := d.out
	d.out = nil // writing the status file panics
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(export, "failed", "bad.csv.err")); err == nil {
		t.Fatal("the file was finished despite the panic")
	}
	d.out = out
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(export, "failed", "bad.csv.err")); err != nil {
		t.Errorf("the file was not finished after the panic: %v", err)
	}
}

// TestDaemonMetrics: a daemon reports its configuration as loaded
// (refundd_config_last_reload_successful 1) from New on, not only after a
// reload; and it counts a bank entry written as an exception once: the
// entry of a camt.054 that matches no refund makes
// refundd_exceptions_total{reason="no-match"} 1, and the same file arriving
// again under another name (a duplicate) leaves it at 1.
func TestDaemonMetrics(t *testing.T) {
	e := newDaemonEnv(t)
	opts := e.options(t)
	opts.Metrics = obs.NewMetrics()
	d := e.daemon(t, opts)
	if got := metric(t, opts.Metrics, "refundd_config_last_reload_successful"); got != 1 {
		t.Errorf("refundd_config_last_reload_successful = %v right after New, want 1", got)
	}

	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The camt.054 holds one entry that is not refundd's: SOMEONE-ELSES-1.
	camt := testutil.Notification(t, e.sent(t, testMsgID), "")
	inbox := filepath.Join(e.dir, "inbox")
	noMatch := string(refund.ReasonNoMatch)
	for _, name := range []string{"camt054.xml", "camt054-again.xml"} {
		drop(t, inbox, name, camt)
		if err := d.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := metric(t, opts.Metrics, "refundd_exceptions_total", "reason", noMatch); got != 1 {
			t.Errorf("after %s: refundd_exceptions_total{reason=%q} = %v, want 1", name, noMatch, got)
		}
	}
	if n := e.archivedReplies(t); n != 1 {
		t.Errorf("%d replies archived, want the camt.054 once", n)
	}
	if got := files(t, filepath.Join(inbox, "failed")); !slices.Contains(got, "camt054-again.xml") {
		t.Errorf("inbox/failed holds %v, want the duplicate camt054-again.xml", got)
	}
	if got := metric(t, opts.Metrics, "refundd_config_last_reload_successful"); got != 1 {
		t.Errorf("refundd_config_last_reload_successful = %v after the runs, want 1", got)
	}
}
