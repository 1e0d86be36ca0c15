package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"refundd/daemon"
	"refundd/daemon/config"
	"refundd/daemon/refund"
	"refundd/daemon/store"
	"refundd/internal/pgtest"
)

// TestBackupCommand: backup writes a checked copy and says what is in it,
// refuses to replace a file, and with the PostgreSQL store says how to
// use pg_dump with the configured schema, without the password.
func TestBackupCommand(t *testing.T) {
	dir := t.TempDir()
	base, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"export", "inbox", "import", "state"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "refundd.yaml")
	if err := os.WriteFile(conf, onStore(t, dir, base), 0o600); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "refundd-backup.db")
	if code, _, _ := runCmd("backup", "-config", conf); code != exitUsage {
		t.Errorf("backup without DEST: exit %d; want %d", code, exitUsage)
	}

	if pgtest.OnPostgres() {
		c, err := config.Load(conf)
		if err != nil {
			t.Fatal(err)
		}
		code, out, errs := runCmd("backup", "-config", conf, dest)
		want := fmt.Sprintf("pg_dump --schema=%s --format=custom \"", c.Store.Schema)
		if code != exitFailure || out != "" || !strings.Contains(errs, want) || !strings.Contains(errs, "pg_restore --clean --if-exists --dbname=") {
			t.Errorf("backup on PostgreSQL: exit %d\n%s%s\nwant exit 1 and %q", code, out, errs, want)
		}
		if u, err := url.Parse(c.Store.URL); err == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok && pw != "" && strings.Contains(errs, pw) {
				t.Errorf("the hint shows the password:\n%s", errs)
			}
		}
		if fileExists(dest) {
			t.Error("a backup was written")
		}
		return
	}

	s, err := store.Open(filepath.Join(dir, "state", store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd("backup", "-config", conf, dest)
	if code != exitOK || !strings.HasPrefix(out, dest+": schema version ") || !strings.Contains(out, ", 0 batches, ") ||
		!strings.HasSuffix(out, " bytes, integrity check passed\n") {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = runCmd("backup", "-config", conf, dest)
	if code != exitFailure || out != "" || !strings.Contains(errs, "file already exists") {
		t.Errorf("backup over an existing file: exit %d\n%s%s", code, out, errs)
	}
}

// fileExists reports whether p exists.
func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestWithoutPassword: the connection string in the pg_dump hint never
// shows a password.
func TestWithoutPassword(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://refundd@db.example:5432/refundd?sslmode=verify-full", "postgres://refundd@db.example:5432/refundd?sslmode=verify-full"},
		{"postgres://refundd:s3cret@db.example/refundd", "postgres://refundd@db.example/refundd"},
		{"postgresql://refundd@db.example/refundd?password=s3cret&sslmode=require", "postgresql://refundd@db.example/refundd?sslmode=require"},
		{"host=db.example user=refundd password=s3cret dbname=refundd", "host=db.example user=refundd  dbname=refundd"},
		{"host=db.example password = 'a s3cret \\' b' dbname=refundd", "host=db.example  dbname=refundd"},
		{"password=s3cret host=db.example", "host=db.example"},
	} {
		if got := withoutPassword(c.in); got != c.want || strings.Contains(got, "s3cret") {
			t.Errorf("withoutPassword(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

// TestPurgeCommand: a batch that was sent and completed has expired six
// years on: purge -dry-run shows what would go and changes nothing, purge
// purges the batch and removes its archived file and outbox copy, and a
// second purge finds nothing more.
func TestPurgeCommand(t *testing.T) {
	conf, dir, _ := runEnv(t)
	batch, err := os.ReadFile("../../daemon/testdata/batch-ok.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "export", "batch-ok.csv"), batch, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCmd("run", "-once", "-config", conf); code != exitOK {
		t.Fatalf("run -once: exit %d\n%s\n%s", code, out, errs)
	}
	c, err := config.Load(conf)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	msgID := refund.MsgID("987654325", "B2026-0042", 0)
	s, err := daemon.OpenStore(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := s.Refunds(ctx, msgID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if _, err := s.SetRefundStatus(ctx, r.EndToEndID, refund.StatusBooked, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, to := range []store.BatchStatus{store.BatchPaid, store.BatchCompleted} {
		if _, err := s.SetBatchStatus(ctx, msgID, to, ""); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	outbox := filepath.Join(daemon.Outbox(c), msgID+".xml")
	archived, _ := filepath.Glob(filepath.Join(c.SpoolDir(), "archive", "export", "*", "*", "batch-ok.csv"))
	if len(archived) != 1 || !fileExists(outbox) {
		t.Fatalf("archived %v, outbox copy there: %v", archived, fileExists(outbox))
	}

	year := max(time.Now().Year(), 2026)
	later := fmt.Sprintf("%d-01-01T09:00", year+6)
	if code, out, errs := runCmd("purge", "-config", conf, "-now", later, "extra"); code != exitUsage {
		t.Errorf("purge with an operand: exit %d\n%s%s", code, out, errs)
	}
	head := fmt.Sprintf("retention 5y: batches settled before %d-01-01 (Europe/Oslo) have expired\n", year+1)
	code, out, errs := runCmd("purge", "-config", conf, "-dry-run", "-now", later)
	if code != exitOK || !strings.HasPrefix(out, head+"would purge (dry run): 1 batches, 5 refunds, 0 notes; 2 files, ") {
		t.Errorf("purge -dry-run: exit %d\n%s%s", code, out, errs)
	}
	if !fileExists(archived[0]) || !fileExists(outbox) {
		t.Error("the dry run removed files")
	}
	code, out, errs = runCmd("purge", "-config", conf, "-now", later)
	if code != exitOK || !strings.HasPrefix(out, head+"purged: 1 batches, 5 refunds, 0 notes; 2 files, ") {
		t.Errorf("purge: exit %d\n%s%s", code, out, errs)
	}
	if fileExists(archived[0]) || fileExists(outbox) {
		t.Error("the purge left the batch's files")
	}
	code, out, errs = runCmd("purge", "-config", conf, "-now", later)
	if code != exitOK || out != head+"purged: 0 batches, 0 refunds, 0 notes; 0 files, 0 bytes\n" {
		t.Errorf("second purge: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := runCmd("status", "-config", conf, "B2026-0042"); code != exitOK || !strings.Contains(out, "completed") {
		t.Errorf("status after the purge: exit %d\n%s%s", code, out, errs)
	}
}
