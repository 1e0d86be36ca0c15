package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"refundd/daemon/refund"
	"refundd/internal/pgtest"
)

// The fixtures: our company, account and the day refunds are executed.
const (
	orgNumber   = "987654325"
	ourAccount  = "86011117947"
	ledgerAcct  = "1920"
	creditorOne = "12345678903"
)

var execDay = refund.NewDate(2026, time.September, 1)

// onPostgres: this run of the package's tests is against PostgreSQL
// (TestOnPostgres runs the package again so).
var onPostgres = pgtest.OnPostgres()

// TestOnPostgres runs every test of the package again, in a new process,
// against PostgreSQL: the store's code is one for both engines, and so
// are its tests. A test that is about SQLite itself calls sqliteOnly.
func TestOnPostgres(t *testing.T) { pgtest.Rerun(t, "") }

// sqliteOnly skips a test on PostgreSQL: it is about SQLite's file, its
// pragmas or its migrations from files.
func sqliteOnly(t testing.TB) {
	t.Helper()
	if onPostgres {
		t.Skip("about SQLite only")
	}
}

// openTest opens a new store in a temporary folder (on PostgreSQL: in a
// new schema), closed at the end of the test.
func openTest(t testing.TB) *Store {
	t.Helper()
	if onPostgres {
		url, schema := pgtest.Schema(t)
		s, err := OpenPostgres(context.Background(), PostgresConfig{URL: url, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		})
		return s
	}
	s, err := Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// hashOf returns the content hash of s as RecordFile wants it.
func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// newBatch returns batch number at attempt with n refunds, created
// sending, as the outbound pipeline records its write-ahead intent. The
// refunds are RefNbr number-1 … number-n, release 0, in one payment block.
func newBatch(number string, attempt, n int) (Batch, []Refund) {
	msgID := refund.MsgID(orgNumber, number, attempt)
	b := Batch{
		MsgID: msgID, Number: number, Attempt: attempt, Status: BatchSending,
		LocalPath: "/state/outbox/" + msgID + ".xml", RemoteName: msgID + ".xml",
		PainHash: hashOf("pain " + msgID), MsgCreated: time.Date(2026, 8, 31, 10, 0, 0, 0, time.UTC),
	}
	rs := make([]Refund, n)
	for i := range rs {
		rs[i] = newRefund(refund.CreditNote, fmt.Sprintf("%s-%d", number, i+1), 0, int64(100*(i+1)))
		rs[i].PmtInfID = refund.PmtInfID(msgID, 1)
	}
	return b, rs
}

// newRefund returns a refund of the document (docType, refNbr) at
// release, of minor NOK, to creditorOne; its batch fields are left for
// CreateBatch to fill in.
func newRefund(docType refund.DocType, refNbr string, release int, minor int64) Refund {
	e2e := refund.EndToEndID(docType, refNbr, release)
	return Refund{
		Sent: refund.Sent{
			RefNbr: refNbr, CustomerID: "C-" + refNbr, PmtInfID: "P-1",
			EndToEndID: e2e, InstrID: e2e,
			Amount:        refund.Amount{Minor: minor, Currency: "NOK"},
			ExecutionDate: execDay, CreditorAccount: creditorOne,
			DebtorAccount: ourAccount, DebtorLedgerAccount: ledgerAcct,
		},
		DocType: docType, Release: release,
	}
}

// mustCreate records a batch and fails the test on an error.
func mustCreate(t testing.TB, s *Store, b Batch, rs []Refund) {
	t.Helper()
	if err := s.CreateBatch(context.Background(), b, rs); err != nil {
		t.Fatal(err)
	}
}

// mustSetBatch changes a batch's status and fails the test on an error.
func mustSetBatch(t testing.TB, s *Store, msgID string, to BatchStatus) {
	t.Helper()
	if _, err := s.SetBatchStatus(context.Background(), msgID, to, ""); err != nil {
		t.Fatal(err)
	}
}

// count returns the number of rows of a table (or of a query's FROM part).
func count(t testing.TB, s *Store, from string, args ...any) int {
	t.Helper()
	var n int
	if err := s.r.QueryRow("SELECT count(*) FROM "+from, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOpenCreatesAndMigrates(t *testing.T) {
	sqliteOnly(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.Version(ctx); err != nil || v != len(migrations) {
		t.Fatalf("Version() = %d, %v; want %d", v, err, len(migrations))
	}
	for _, q := range []struct {
		pragma string
		want   string
	}{{"journal_mode", "wal"}, {"synchronous", "2"}, {"foreign_keys", "1"}, {"busy_timeout", "10000"}} {
		var got string
		if err := s.w.QueryRow("PRAGMA " + q.pragma).Scan(&got); err != nil || got != q.want {
			t.Errorf("writer PRAGMA %s = %q, %v; want %q", q.pragma, got, err, q.want)
		}
	}
	var qo int
	if err := s.r.QueryRow("PRAGMA query_only").Scan(&qo); err != nil || qo != 1 {
		t.Errorf("reader PRAGMA query_only = %d, %v; want 1", qo, err)
	}
	b, rs := newBatch("B1", 0, 2)
	mustCreate(t, s, b, rs)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("database mode %v; want no access for group and others", perm)
	}

	// Open again: nothing to migrate, nothing lost.
	for range 2 {
		s, err = Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := s.Version(ctx); err != nil || v != len(migrations) {
			t.Fatalf("reopened: Version() = %d, %v; want %d", v, err, len(migrations))
		}
		if got, err := s.Refunds(ctx, b.MsgID); err != nil || len(got) != 2 {
			t.Fatalf("reopened: Refunds() = %d refunds, %v; want 2", len(got), err)
		}
		if err := s.IntegrityCheck(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	sqliteOnly(t)
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path)
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a newer database: %v; want ErrSchemaTooNew naming %s", err, path)
	}
	// The database is left as it was.
	db, err := sql.Open("sqlite", path+"?_query_only=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != len(migrations)+1 {
		t.Fatalf("user_version after the refusal = %d, %v; want %d", v, err, len(migrations)+1)
	}
}

func TestMigrationsStepByStep(t *testing.T) {
	sqliteOnly(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state.db")
	m1 := `CREATE TABLE a (x INTEGER) STRICT;`
	m2 := `CREATE TABLE b (y INTEGER) STRICT; INSERT INTO a VALUES (1);`
	broken := `CREATE TABLE c (z INTEGER); INSERT INTO nowhere VALUES (1);`

	steps := []struct {
		name    string
		migs    []string
		wantErr bool
		version int
		tables  []string
	}{
		{"from empty", []string{m1}, false, 1, []string{"a"}},
		{"again", []string{m1}, false, 1, []string{"a"}},
		{"one more", []string{m1, m2}, false, 2, []string{"a", "b"}},
		{"a failing migration is not half applied", []string{m1, m2, broken}, true, 2, []string{"a", "b"}},
		{"older program", []string{m1}, true, 2, []string{"a", "b"}},
	}
	for _, st := range steps {
		s, err := open(path, st.migs)
		if (err != nil) != st.wantErr {
			t.Fatalf("%s: open: %v; want error %v", st.name, err, st.wantErr)
		}
		if err == nil {
			s.Close()
		}
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		var v int
		if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != st.version {
			t.Errorf("%s: user_version %d, %v; want %d", st.name, v, err, st.version)
		}
		var tables []string
		rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			tables = append(tables, n)
		}
		rows.Close()
		db.Close()
		if strings.Join(tables, ",") != strings.Join(st.tables, ",") {
			t.Errorf("%s: tables %v; want %v", st.name, tables, st.tables)
		}
	}
}

func TestOpenRefusesBadPaths(t *testing.T) {
	sqliteOnly(t)
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro", filepath.Join(t.TempDir(), "missing", "state.db")} {
		if s, err := Open(p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded; want an error", p)
		}
	}
}

func TestReadersCannotWrite(t *testing.T) {
	s := openTest(t)
	if _, err := s.r.Exec(`INSERT INTO files (hash, name, kind, outcome, first_seen, updated)
		VALUES (?, 'x', 'batch', 'processing', '', '')`, hashOf("x")); err == nil {
		t.Fatal("an INSERT through the read pool succeeded")
	}
}

func TestIntegrityCheck(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatalf("empty database: %v", err)
	}
	b, rs := newBatch("B1", 0, 3)
	mustCreate(t, s, b, rs)
	mustSetBatch(t, s, b.MsgID, BatchSent)
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatalf("populated database: %v", err)
	}

	// Damage behind the store's back is found and named.
	damage := []struct {
		name, sql, want string
	}{
		{"a status without its event", `UPDATE refunds SET status = 'booked' WHERE end_to_end_id = '` + rs[0].EndToEndID + `'`,
			"refund " + rs[0].EndToEndID + " is booked"},
		{"a lost refund", `DELETE FROM refunds WHERE end_to_end_id = '` + rs[1].EndToEndID + `'`,
			"batch " + b.MsgID + " has 2 refunds, NbOfTxs 3"},
		{"a total that is not the refunds' sum", `UPDATE batch_totals SET minor = minor + 1 WHERE msg_id = '` + b.MsgID + `'`,
			"batch " + b.MsgID + ": NOK total 601, refunds add up to 400"},
		{"refunds without their total", `DELETE FROM batch_totals WHERE msg_id = '` + b.MsgID + `'`,
			"batch " + b.MsgID + ": NOK total none, refunds add up to 400"},
	}
	for _, d := range damage {
		if _, err := s.w.Exec(d.sql); err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		err := s.IntegrityCheck(ctx)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), d.want) {
			t.Errorf("%s: IntegrityCheck() = %v; want ErrCorrupt saying %q", d.name, err, d.want)
		}
	}
}

// TestIsFull fills the database up to its max_page_count: the write fails
// with an error that IsFull recognises, and the database stays usable.
func TestIsFull(t *testing.T) {
	sqliteOnly(t)
	s := openTest(t)
	ctx := t.Context()
	var pages int
	if err := s.w.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 0; i < 10000 && err == nil; i++ {
		_, err = s.RecordFile(ctx, hashOf(fmt.Sprint(i)), strings.Repeat("x", 200)+fmt.Sprint(i)+".csv", FileBatch)
	}
	if !IsFull(err) {
		t.Fatalf("writing past max_page_count: %v, want an error IsFull recognises", err)
	}
	if IsFull(errors.New("disk full")) || IsFull(nil) {
		t.Error("IsFull holds for an error that is not SQLite's")
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

// TestStartCheck: the start-up check reads the whole store the first time
// and once FullCheckEvery has passed, and in between finds damage to what
// changed since the last check.
func TestStartCheck(t *testing.T) {
	for _, c := range []struct {
		name string
		// damage is done to batch B2, created after the last check, or to
		// B1, checked before, as the SQL names them.
		damage   func(b1, b2 Batch, r1, r2 []Refund) string
		want     string // "" for none until the next full check
		wantFull string
	}{
		{"a lost refund", func(_, _ Batch, _, r2 []Refund) string {
			return `DELETE FROM refunds WHERE end_to_end_id = '` + r2[1].EndToEndID + `'`
		}, "batch MSG2 has 2 refunds, NbOfTxs 3", ""},
		{"a status without its event", func(_, _ Batch, _, r2 []Refund) string {
			return `UPDATE refunds SET status = 'booked' WHERE end_to_end_id = '` + r2[0].EndToEndID + `'`
		}, "refund " + "E2E2" + " is booked", ""},
		{"a total that is not the refunds' sum", func(_, b2 Batch, _, _ []Refund) string {
			return `UPDATE batch_totals SET minor = minor + 1 WHERE msg_id = '` + b2.MsgID + `'`
		}, "batch MSG2: NOK total", ""},
		{"a status without its event, of a batch checked before", func(_, _ Batch, r1, _ []Refund) string {
			return `UPDATE refunds SET status = 'booked' WHERE end_to_end_id = '` + r1[0].EndToEndID + `'`
		}, "", "refund E2E1 is booked"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			s := openTest(t)
			at := time.Now()
			s.now = func() time.Time { return at }
			b1, r1 := newBatch("B1", 0, 3)
			mustCreate(t, s, b1, r1)
			mustSetBatch(t, s, b1.MsgID, BatchSent)
			for i, wantFull := range []bool{true, false} {
				if full, err := s.StartCheck(ctx, false); err != nil || full != wantFull {
					t.Fatalf("check %d: StartCheck() = %v, %v; want %v, nil", i+1, full, err, wantFull)
				}
			}
			b2, r2 := newBatch("B2", 0, 3)
			mustCreate(t, s, b2, r2)
			mustSetBatch(t, s, b2.MsgID, BatchSent)
			if _, err := s.w.Exec(c.damage(b1, b2, r1, r2)); err != nil {
				t.Fatal(err)
			}
			names := strings.NewReplacer("MSG1", b1.MsgID, "MSG2", b2.MsgID, "E2E1", r1[0].EndToEndID, "E2E2", r2[0].EndToEndID)
			full, err := s.StartCheck(ctx, false)
			if c.want == "" {
				if err != nil || full {
					t.Fatalf("StartCheck() = %v, %v; want false, nil (B1 did not change)", full, err)
				}
			} else if want := names.Replace(c.want); full || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
				t.Fatalf("StartCheck() = %v, %v; want false, ErrCorrupt saying %q", full, err, want)
			}
			if c.wantFull == "" {
				return
			}
			at = at.Add(FullCheckEvery)
			full, err = s.StartCheck(ctx, false)
			if want := names.Replace(c.wantFull); !full || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
				t.Fatalf("a day later: StartCheck() = %v, %v; want true, ErrCorrupt saying %q", full, err, want)
			}
		})
	}
}
