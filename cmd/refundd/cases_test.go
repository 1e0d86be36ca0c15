package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"refundd/internal/pgtest"
	"refundd/internal/testutil"

	"refundd/daemon/store"

	"refundd/daemon/refund"
	"refundd/sftpx/sshdtest"
)

// The tests of this file check reliability cases (daemon/RELIABILITY.md) through the command.

// proxiedEnv is runEnv with AutoPay reached through a fault proxy and the
// given sftp.timeout; it returns the configuration file, the folder, the
// remote upload folder and the proxy.
func proxiedEnv(t *testing.T, timeout time.Duration) (config, dir, up string, p *sshdtest.Proxy) {
	t.Helper()
	srv := sshdtest.Start(t, sshdtest.Options{})
	p = sshdtest.NewProxy(t, srv.Addr)
	dir = t.TempDir()
	up, down := filepath.Join(srv.Root, "inbound"), filepath.Join(srv.Root, "outbound")
	for _, d := range []string{filepath.Join(dir, "export"), filepath.Join(dir, "inbox"), filepath.Join(dir, "import"), filepath.Join(dir, "state"), up, down} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	var kh strings.Builder
	for _, k := range srv.HostKeys {
		kh.WriteString(sshdtest.KnownHostsLine(p.Addr, k) + "\n")
	}
	known := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(known, []byte(kh.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	base, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	extra := fmt.Sprintf(`watch: {rescan: "@every 1s", stable_for: 100ms}
sftp: {address: %q, user: %q, private_key: %q, known_hosts: %q, upload_dir: %q, download_dir: %q, timeout: %s, keepalive: 500ms}
`, p.Addr, srv.User, srv.ClientKey, known, up, down, timeout)
	config = filepath.Join(dir, "refundd.yaml")
	if err := os.WriteFile(config, onStore(t, dir, append(base, extra...)), 0o600); err != nil {
		t.Fatal(err)
	}
	return config, dir, up, p
}

// TestCasesRunStopDuringUpload (A13): SIGTERM while an upload is in flight
// over a path that stopped forwarding: refundd run exits 0 within about
// sftp.timeout, having logged the stop; run -once afterwards uploads the
// batch exactly once, complete, with no temporary file left.
func TestCasesRunStopDuringUpload(t *testing.T) {
	const timeout = 2 * time.Second
	config, dir, up, p := proxiedEnv(t, timeout)
	p.Trickle(256, 20*time.Millisecond)
	batch, err := os.ReadFile("../../daemon/testdata/batch-ok.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "export", "batch-ok.csv"), batch, 0o644); err != nil {
		t.Fatal(err)
	}
	msgID := refund.MsgID("987654325", "B2026-0042", 0)
	var out, errb testutil.SyncBuffer
	done := make(chan int, 1)
	go func() { done <- run([]string{"run", "-config", config}, &out, &errb) }()
	waitFor(t, "the upload in flight", func() bool {
		names := testutil.Names(t, up)
		return len(names) > 0 && !strings.Contains(strings.Join(names, " "), msgID+".xml ")
	})
	p.Stall()
	p.Trickle(0, 0)
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d after SIGTERM\n%s", code, errb.String())
		}
		t.Logf("run ended %v after SIGTERM", time.Since(stopped))
	case <-time.After(timeout + 5*time.Second):
		t.Fatalf("run did not end within sftp.timeout (%v) of SIGTERM\n%s", timeout, out.String())
	}
	if !strings.Contains(out.String(), `"message":"stopped"`) {
		t.Errorf("no stop logged:\n%s", out.String())
	}
	if strings.Contains(out.String(), "pain.001 uploaded") {
		t.Fatal("the stalled upload was logged as done")
	}
	final := filepath.Join(up, msgID+".xml")
	if _, err := os.Stat(final); err == nil {
		t.Error("the final file is on the server after the interrupted upload")
	}

	p.Resume()
	code, out2, errs := runCmd("run", "-once", "-config", config)
	if code != exitOK {
		t.Fatalf("run -once: exit %d\n%s\n%s", code, out2, errs)
	}
	code, out3, errs := runCmd("run", "-once", "-config", config)
	if code != exitOK {
		t.Fatalf("run -once: exit %d\n%s\n%s", code, out3, errs)
	}
	if n := strings.Count(out2+out3, "pain.001 uploaded"); n != 1 {
		t.Errorf("%d uploads after the restart, want 1", n)
	}
	if names := testutil.Names(t, up); len(names) != 1 || names[0] != msgID+".xml" {
		t.Errorf("upload folder holds %v, want exactly %s.xml", names, msgID)
	}
	sent, err := os.ReadFile(final)
	if err != nil {
		t.Fatal(err)
	}
	if outbox, err := os.ReadFile(filepath.Join(outboxOf(t, config), msgID+".xml")); err != nil || !bytes.Equal(sent, outbox) {
		t.Errorf("the uploaded file is not the outbox file (%v)", err)
	}
}

// TestCasesRunBrokenStore (A15): refundd run on a state database that
// fails its checks or cannot be read exits 1 with a message on stderr
// naming the database file; nothing is uploaded or written for the ERP,
// no file is taken, and the database is left as it is.
func TestCasesRunBrokenStore(t *testing.T) {
	if pgtest.OnPostgres() {
		t.Skip("damages the SQLite file; on PostgreSQL the server keeps its own files sound")
	}
	for _, tc := range []struct {
		name, want string
		damage     func(t *testing.T, db string)
	}{
		{"fails integrity_check", "integrity_check", func(t *testing.T, db string) {
			f, err := os.OpenFile(db, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fi, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			// The last page, a leaf of a table or index, overwritten.
			if _, err := f.WriteAt(bytes.Repeat([]byte{0x5a}, 4096), fi.Size()-4096); err != nil {
				t.Fatal(err)
			}
		}},
		{"unreadable", "not a database", func(t *testing.T, db string) {
			f, err := os.OpenFile(db, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(bytes.Repeat([]byte{0xa5}, 100), 0); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config, dir, up := runEnv(t)
			batch, err := os.ReadFile("../../daemon/testdata/batch-ok.csv")
			if err != nil {
				t.Fatal(err)
			}
			// A state database with a batch: an invalid batch refused, so
			// that nothing is uploaded before the damage.
			bad := bytes.Replace(batch, []byte("SO-5002"), nil, 1)
			if err := os.WriteFile(filepath.Join(dir, "export", "bad.csv"), bad, 0o644); err != nil {
				t.Fatal(err)
			}
			if code, out, errs := runCmd("run", "-once", "-config", config); code != exitOK {
				t.Fatalf("run -once: exit %d\n%s\n%s", code, out, errs)
			}
			imported, err := os.ReadDir(filepath.Join(dir, "import"))
			if err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(dir, "state", store.FileName)
			tc.damage(t, db)
			before, err := os.ReadFile(db)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "export", "batch-ok.csv"), batch, 0o644); err != nil {
				t.Fatal(err)
			}

			// -once: the same start as run's, and a run that wrongly
			// starts ends (and fails the test) instead of serving.
			code, out, errs := runCmd("run", "-once", "-config", config)
			if code != exitFailure {
				t.Fatalf("run on a broken state database: exit %d, want %d\n%s\n%s", code, exitFailure, out, errs)
			}
			if !strings.HasPrefix(errs, "refundd run: ") || !strings.Contains(errs, db) || !strings.Contains(errs, tc.want) {
				t.Errorf("stderr does not name the database and the reason (%q):\n%s", tc.want, errs)
			}
			if !strings.Contains(out, "not started") {
				t.Errorf("the log does not say that refundd did not start:\n%s", out)
			}
			if names := testutil.Names(t, up); len(names) != 0 {
				t.Errorf("upload folder holds %v", names)
			}
			if after, err := os.ReadDir(filepath.Join(dir, "import")); err != nil || len(after) != len(imported) {
				t.Errorf("import folder changed: %d files, before %d (%v)", len(after), len(imported), err)
			}
			if _, err := os.Stat(filepath.Join(dir, "export", "batch-ok.csv")); err != nil {
				t.Errorf("the batch was taken: %v", err)
			}
			if after, err := os.ReadFile(db); err != nil || !bytes.Equal(after, before) {
				t.Errorf("the state database was changed (%v)", err)
			}
		})
	}
}
