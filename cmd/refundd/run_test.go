package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"refundd/internal/pgtest"
	"refundd/internal/testutil"

	"refundd/daemon/config"
	"refundd/daemon/store"

	"refundd/daemon/status"

	"refundd/daemon"
	"refundd/daemon/lock"
	"refundd/daemon/refund"
	"refundd/sftpx/sshdtest"
)

// runEnv writes a configuration whose folders are in a temporary folder
// and whose AutoPay is a real sshd; it returns the configuration file, the
// folder and the remote upload folder.
func runEnv(t *testing.T) (config, dir, up string) {
	t.Helper()
	srv := sshdtest.Start(t, sshdtest.Options{})
	dir = t.TempDir()
	up, down := filepath.Join(srv.Root, "inbound"), filepath.Join(srv.Root, "outbound")
	for _, d := range []string{filepath.Join(dir, "export"), filepath.Join(dir, "inbox"), filepath.Join(dir, "import"), filepath.Join(dir, "state"), up, down} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	base, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	extra := fmt.Sprintf(`watch: {rescan: "@every 1s", stable_for: 100ms}
sftp: {address: %q, user: %q, private_key: %q, known_hosts: %q, upload_dir: %q, download_dir: %q, timeout: 10s}
`, srv.Addr, srv.User, srv.ClientKey, srv.KnownHosts(t, srv.HostKeys...), up, down)
	config = filepath.Join(dir, "refundd.yaml")
	if err := os.WriteFile(config, onStore(t, dir, append(base, extra...)), 0o600); err != nil {
		t.Fatal(err)
	}
	return config, dir, up
}

// onStore puts the test configuration of the folder dir on the store of
// this run: as it is (SQLite in paths.state), or in the run on PostgreSQL
// (TestOnPostgres) a schema of its own, with the spool in dir/shared,
// where two hosts would share it.
func onStore(t *testing.T, dir string, yaml []byte) []byte {
	t.Helper()
	if !pgtest.OnPostgres() {
		return yaml
	}
	if err := os.Mkdir(filepath.Join(dir, "shared"), 0o750); err != nil {
		t.Fatal(err)
	}
	const paths = `paths: {export: export, inbox: inbox, import: import, state: state}`
	if !bytes.Contains(yaml, []byte(paths)) {
		t.Fatalf("the test configuration does not say %s", paths)
	}
	yaml = bytes.Replace(yaml, []byte(paths), []byte(`paths: {export: export, inbox: inbox, import: import, state: state, spool: shared}`), 1)
	url, schema := pgtest.Schema(t)
	return fmt.Appendf(yaml, "store: {driver: postgres, url: %q, schema: %s}\nha: {instance: test-%s}\n", url, schema, schema)
}

// TestRunOnce: run -once takes the batch, uploads it and exits 0; status
// shows it; a second instance on the same state folder is refused.
func TestRunOnce(t *testing.T) {
	config, dir, up := runEnv(t)
	batch, err := os.ReadFile("../../daemon/testdata/batch-ok.csv")
	if err != nil {
		t.Fatal(err)
	}
	// No done marker: -once waits for the file to settle.
	if err := os.WriteFile(filepath.Join(dir, "export", "batch-ok.csv"), batch, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd("run", "-once", "-config", config)
	if code != exitOK {
		t.Fatalf("run -once: exit %d\n%s\n%s", code, out, errs)
	}
	msgID := refund.MsgID("987654325", "B2026-0042", 0)
	if _, err := os.Stat(filepath.Join(up, msgID+".xml")); err != nil {
		t.Fatalf("not uploaded: %v\n%s", err, out)
	}
	if !strings.Contains(out, `"msg_id":"`+msgID+`"`) || !strings.Contains(out, `"service":"refundd"`) {
		t.Errorf("log lacks the stable fields:\n%s", out)
	}

	code, out, errs = runCmd("status", "-config", config)
	if code != exitOK || !strings.Contains(out, msgID) || !strings.Contains(out, "sent") {
		t.Errorf("status: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = runCmd("status", "-json", "-config", config, "B2026-0042")
	var bs []status.Batch
	if code != exitOK || json.Unmarshal([]byte(out), &bs) != nil || len(bs) != 1 || len(bs[0].Items) != 5 || bs[0].Items[0].Status != "sent" {
		t.Errorf("status -json B2026-0042: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := runCmd("status", "-config", config, "NO-SUCH"); code != exitFailure || !strings.Contains(errs, "no batch NO-SUCH") {
		t.Errorf("status of an unknown batch: exit %d, %s", code, errs)
	}
	if code, _, errs := runCmd("resolve", "-config", config, "-sent", msgID); code != exitFailure || !strings.Contains(errs, "not in-doubt") {
		t.Errorf("resolve of a sent batch: exit %d, %s", code, errs)
	}
	if code, _, errs := runCmd("rerelease", "-config", config, "CN-NO-SUCH"); code != exitFailure || !strings.Contains(errs, "not found") {
		t.Errorf("rerelease of an unknown refund: exit %d, %s", code, errs)
	}
	if code, _, _ := runCmd("resolve", "-config", config); code != exitUsage {
		t.Errorf("resolve without a batch: exit %d, want %d", code, exitUsage)
	}

	l, err := lock.Acquire(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	code, _, errs = runCmd("run", "-once", "-config", config)
	if code != exitFailure || !strings.Contains(errs, "another refundd") {
		t.Errorf("second instance: exit %d, stderr %q", code, errs)
	}
}

// TestRunSignals: run serves until SIGTERM and then exits 0; SIGHUP with
// an invalid configuration keeps the running one. The status page shows
// the batch.
func TestRunSignals(t *testing.T) {
	configFile, dir, up := runEnv(t)
	good, err := os.ReadFile(configFile)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb testutil.SyncBuffer
	done := make(chan int, 1)
	go func() { done <- run([]string{"run", "-config", configFile}, &out, &errb) }()
	waitFor(t, "the start", func() bool { return strings.Contains(out.String(), `"message":"started"`) })

	if err := os.WriteFile(configFile, append(good, "bad_key: 1\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refused reload", func() bool { return strings.Contains(out.String(), "configuration not reloaded") })

	batch, err := os.ReadFile("../../daemon/testdata/batch-ok.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "export", "batch-ok.csv"), batch, 0o644); err != nil {
		t.Fatal(err)
	}
	msgID := refund.MsgID("987654325", "B2026-0042", 0)
	waitFor(t, "the upload", func() bool { _, err := os.Stat(filepath.Join(up, msgID+".xml")); return err == nil })
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d after SIGTERM\n%s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop after SIGTERM")
	}
	if !strings.Contains(out.String(), `"message":"stopped"`) {
		t.Errorf("no stop logged:\n%s", out.String())
	}

	if err := os.WriteFile(configFile, good, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(configFile)
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.New(c, daemon.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rec := httptest.NewRecorder()
	statusPage(d).ServeHTTP(rec, httptest.NewRequest("GET", "/status?batch=B2026-0042", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), msgID) || !strings.Contains(rec.Body.String(), "CN10046") {
		t.Errorf("status page %d:\n%s", rec.Code, rec.Body.String())
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// storeOf opens the store of the configuration file, as refundd status
// does; it is closed when t ends.
func storeOf(t *testing.T, configFile string) *store.Store {
	t.Helper()
	cfg, err := config.Load(configFile)
	if err != nil {
		t.Fatal(err)
	}
	s, err := daemon.OpenStore(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// outboxOf is the folder where refundd keeps the pain.001 files of the
// configuration file.
func outboxOf(t *testing.T, configFile string) string {
	t.Helper()
	cfg, err := config.Load(configFile)
	if err != nil {
		t.Fatal(err)
	}
	return daemon.Outbox(cfg)
}
