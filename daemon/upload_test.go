package daemon

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"refundd/daemon/config"
	"refundd/daemon/obs"
	"refundd/daemon/store"
	"refundd/internal/testutil"
	"refundd/sftpx/sshdtest"
)

// TestDaemonUploadAfterIntent: stopped after the intent, before the
// upload: the next run uploads once.
func TestDaemonUploadAfterIntent(t *testing.T) {
	e := newDaemonEnv(t)
	e.intent(t)
	e.once(t)
	e.once(t)
	if got := files(t, e.up); !slices.Equal(got, []string{testMsgID + ".xml"}) {
		t.Errorf("upload folder holds %v", got)
	}
	if st, _ := e.statuses(t, testMsgID); st != store.BatchSent {
		t.Errorf("batch is %s, want sent", st)
	}
}

// TestDaemonUploadedNotRecorded: stopped after the upload, before it was
// recorded: the file on the server is found and not uploaded again.
func TestDaemonUploadedNotRecorded(t *testing.T) {
	e := newDaemonEnv(t)
	e.intent(t)
	pain := readFile(t, e.outboxFile(testMsgID))
	remote := filepath.Join(e.up, testMsgID+".xml")
	if err := os.WriteFile(remote, pain, 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(remote, old, old); err != nil {
		t.Fatal(err)
	}
	e.once(t)
	if st, _ := e.statuses(t, testMsgID); st != store.BatchSent {
		t.Errorf("batch is %s, want sent", st)
	}
	if fi, err := os.Stat(remote); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("the remote file was written again (%v)", err)
	}
}

// TestDaemonInDoubt: another file under the batch's name on the server
// leaves the batch in doubt; it is never overwritten nor sent again until
// an operator decides.
func TestDaemonInDoubt(t *testing.T) {
	e := newDaemonEnv(t)
	e.intent(t)
	remote := filepath.Join(e.up, testMsgID+".xml")
	foreign := []byte("<not the batch/>")
	if err := os.WriteFile(remote, foreign, 0o644); err != nil {
		t.Fatal(err)
	}
	opts := e.options(t)
	opts.Metrics = obs.NewMetrics()
	d := e.daemon(t, opts)
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	d.Close()
	e.once(t)
	if st, _ := e.statuses(t, testMsgID); st != store.BatchInDoubt {
		t.Fatalf("batch is %s, want in-doubt", st)
	}
	// Not counted as an upload refused (the alert for that sends the
	// operator to the login and the host key). The metrics are read after
	// the daemon closed, as a scrape while refundd stops may.
	if perm := metric(t, opts.Metrics, "refundd_uploads_total", "result", "permanent"); perm != 0 {
		t.Errorf("uploads_total{permanent} = %v for a batch in doubt, want 0", perm)
	}
	if got := readFile(t, remote); !bytes.Equal(got, foreign) {
		t.Error("the file on the server was replaced")
	}
	if got := files(t, e.up); len(got) != 1 {
		t.Errorf("upload folder holds %v", got)
	}

	s := e.openStore(t)
	if _, err := Resolve(t.Context(), s, testMsgID, ResolveSent); err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve(t.Context(), s, testMsgID, ResolveSent); !errors.Is(err, store.ErrTransition) {
		t.Errorf("resolving a sent batch: %v, want ErrTransition", err)
	}
	evs, err := s.Events(t.Context(), store.SubjectBatch, testMsgID)
	if err != nil {
		t.Fatal(err)
	}
	if last := evs[len(evs)-1]; last.To != string(store.BatchSent) || !strings.Contains(last.Reason, "operator") {
		t.Errorf("last event %+v", last)
	}
	s.Close()
}

// proxied makes the daemon reach sshd through a fault proxy.
func (e *daemonEnv) proxied(t *testing.T) *sshdtest.Proxy {
	t.Helper()
	p := sshdtest.NewProxy(t, e.srv.Addr)
	var b strings.Builder
	for _, k := range e.srv.HostKeys {
		b.WriteString(sshdtest.KnownHostsLine(p.Addr, k) + "\n")
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	e.cfg.SFTP.Address, e.cfg.SFTP.KnownHosts = p.Addr, kh
	return p
}

// remoteTemps returns the names in the remote upload folder other than
// the final name of the test batch.
func (e *daemonEnv) remoteTemps(t *testing.T) []string {
	t.Helper()
	return slices.DeleteFunc(testutil.Names(t, e.up), func(name string) bool { return name == testMsgID+".xml" })
}

// TestFaultResetMidUpload resets the TCP connection while the pain.001 is
// being written on the server (the proxy trickles so that the upload takes
// a while): no final file is left by the failed attempt, the batch is
// tried again and is on the server exactly once, complete.
func TestFaultResetMidUpload(t *testing.T) {
	e, p, log, opts := slowUpload(t)
	reset := false
	e.runUntil(t, opts, "the batch uploaded after a reset", func() bool {
		if !reset {
			if len(e.remoteTemps(t)) > 0 {
				if fileExists(filepath.Join(e.up, testMsgID+".xml")) {
					t.Error("final file on the server while the temporary one is written")
				}
				p.Reset()
				p.Trickle(0, 0)
				reset = true
			}
			return false
		}
		return fileExists(filepath.Join(e.up, testMsgID+".xml")) && log.count("pain.001 uploaded") > 0
	})
	if n := log.count("upload failed; tried again later"); n == 0 {
		t.Error("the reset did not fail an upload attempt")
	}
	if n := log.count("pain.001 uploaded"); n != 1 {
		t.Errorf("%d uploads logged, want 1", n)
	}
	e.checkUploadedOnce(t)
}

// TestFaultSlowTrickle: a connection that forwards slowly, but never
// waits as long as sftp.timeout, still uploads the batch within the
// default sftp.transfer_timeout (TestFaultTrickleBudget is the same
// trickle with a budget it exceeds).
func TestFaultSlowTrickle(t *testing.T) {
	e := newDaemonEnv(t)
	p := e.proxied(t)
	e.cfg.SFTP.Timeout, e.cfg.SFTP.KeepAlive = 2*time.Second, 500*time.Millisecond
	p.Trickle(512, 100*time.Millisecond) // 5 KiB/s, never idle for long
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	log := &logBuf{t: t}
	opts := e.options(t)
	opts.Logger = zerolog.New(log)
	e.runUntil(t, opts, "the batch uploaded", func() bool { return log.count("pain.001 uploaded") > 0 })
	if n := log.count("upload failed"); n != 0 {
		t.Errorf("%d failed uploads while trickling within the timeout", n)
	}
	e.checkUploadedOnce(t)
}

// TestFaultTrickleBudget: a connection that forwards slowly, never idle
// for sftp.timeout, but so slowly that an upload takes longer than
// sftp.transfer_timeout (the same trickle as TestFaultSlowTrickle, where
// the default budget lets it through): every attempt is cut off as a
// transient failure naming the budget, the batch stays sending, and no
// final file appears; once the trickle stops, the batch is uploaded once,
// complete, and no temporary file remains.
func TestFaultTrickleBudget(t *testing.T) {
	e := newDaemonEnv(t)
	p := e.proxied(t)
	e.cfg.SFTP.Timeout, e.cfg.SFTP.KeepAlive = 2*time.Second, 500*time.Millisecond
	e.cfg.SFTP.TransferTimeout = time.Second
	p.Trickle(512, 100*time.Millisecond)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	log := &logBuf{t: t}
	opts := e.options(t)
	opts.Logger = zerolog.New(log)
	trickling := true
	e.runUntil(t, opts, "the batch uploaded after the trickle", func() bool {
		if trickling {
			if log.count("took longer than its budget of 1s") >= 2 {
				if st, _ := e.statuses(t, testMsgID); st != store.BatchSending {
					t.Errorf("batch is %s while the uploads are cut off, want %s", st, store.BatchSending)
				}
				if fileExists(filepath.Join(e.up, testMsgID+".xml")) {
					t.Error("final file on the server after uploads that were cut off")
				}
				p.Trickle(0, 0)
				trickling = false
			}
			return false
		}
		return log.count("pain.001 uploaded") > 0
	})
	if n := log.count("upload failed; tried again later"); n < 2 {
		t.Errorf("%d transient upload failures logged, want at least 2", n)
	}
	if log.count("needs an operator") != 0 {
		t.Error("the exceeded budget is taken for a permanent error")
	}
	if n := log.count("pain.001 uploaded"); n != 1 {
		t.Errorf("%d uploads logged, want 1", n)
	}
	e.checkUploadedOnce(t)
}

// TestFaultStall: the network path stops forwarding in the middle of an
// upload (server or link silent, connections left open): the attempt fails
// as a transient error within sftp.timeout, and once the path forwards
// again the batch is uploaded once, complete.
func TestFaultStall(t *testing.T) {
	const timeout = 2 * time.Second
	e, p, log, opts := slowUpload(t)
	e.cfg.SFTP.Timeout, e.cfg.SFTP.KeepAlive = timeout, 500*time.Millisecond
	var stalled time.Time
	var failedAfter time.Duration
	e.runUntil(t, opts, "the batch uploaded after the stall", func() bool {
		switch {
		case stalled.IsZero():
			if len(e.remoteTemps(t)) > 0 {
				p.Stall()
				p.Trickle(0, 0)
				stalled = time.Now()
			}
			return false
		case failedAfter == 0:
			if log.count("upload failed; tried again later") > 0 {
				failedAfter = time.Since(stalled)
				p.Resume()
			}
			return false
		}
		return log.count("pain.001 uploaded") > 0
	})
	t.Logf("the stalled upload failed after %v", failedAfter)
	if failedAfter > timeout+2*time.Second {
		t.Errorf("the stalled upload failed after %v, want within about %v", failedAfter, timeout)
	}
	if log.count("needs an operator") != 0 {
		t.Error("the stall is taken for a permanent error")
	}
	e.checkUploadedOnce(t)
}

// TestFaultDrop: while every connection is closed as soon as it is
// accepted, uploads fail as transient errors and the batch stays recorded;
// once connections are forwarded again it is uploaded once.
func TestFaultDrop(t *testing.T) {
	e := newDaemonEnv(t)
	p := e.proxied(t)
	p.Drop(true)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	log := &logBuf{t: t}
	opts := e.options(t)
	opts.Logger = zerolog.New(log)
	dropping := true
	e.runUntil(t, opts, "the batch uploaded after the drops", func() bool {
		if dropping {
			if log.count("upload failed; tried again later") >= 2 {
				if st, _ := e.statuses(t, testMsgID); st != store.BatchSending {
					t.Errorf("batch is %s while the uploads fail, want %s", st, store.BatchSending)
				}
				p.Drop(false)
				dropping = false
			}
			return false
		}
		return log.count("pain.001 uploaded") > 0
	})
	if log.count("needs an operator") != 0 {
		t.Error("dropped connections are taken for a permanent error")
	}
	e.checkUploadedOnce(t)
}

// TestCasesStopDuringUpload (A13): the daemon is told to stop (SIGTERM
// cancels Run's context) while an upload is in flight over a path that
// has stopped forwarding: Run ends within about sftp.timeout, the batch
// is still sending, and after a restart it is uploaded exactly once,
// complete, with no temporary file left.
func TestCasesStopDuringUpload(t *testing.T) {
	const timeout = 2 * time.Second
	e, p, log, opts := slowUpload(t)
	e.cfg.SFTP.Timeout, e.cfg.SFTP.KeepAlive = timeout, 500*time.Millisecond
	d := e.daemon(t, opts)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	waitFor(t, "the upload in flight", func() bool { return len(e.remoteTemps(t)) > 0 })
	p.Stall()
	p.Trickle(0, 0)
	stopped := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		t.Logf("Run ended %v after the stop", time.Since(stopped))
	case <-time.After(timeout + 5*time.Second):
		t.Fatalf("Run did not end within sftp.timeout (%v) of the stop", timeout)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if log.count("pain.001 uploaded") != 0 {
		t.Fatal("the stalled upload was logged as done")
	}
	if fileExists(filepath.Join(e.up, testMsgID+".xml")) {
		t.Error("the final file is on the server after the interrupted upload")
	}
	if st, _ := e.statuses(t, testMsgID); st != store.BatchSending {
		t.Errorf("batch is %s after the stop, want %s", st, store.BatchSending)
	}

	p.Resume()
	e.runUntil(t, opts, "the upload after the restart", func() bool { return log.count("pain.001 uploaded") > 0 })
	e.runUntil(t, opts, "another restart", func() bool { return true })
	if n := log.count("pain.001 uploaded"); n != 1 {
		t.Errorf("%d uploads logged, want 1", n)
	}
	e.checkUploadedOnce(t)
}

// TestSettleDelayedRename: refundd stopped during an upload attempt
// whose rename was still on its way to the server. When the restart
// settles the attempt, the rename lands between its look at the server
// and its removal of the temporary file, and the server takes the file at
// once (AutoPay does). The removal finds no temporary file: that is not
// proof that nothing was uploaded, so the batch is in doubt and never
// sent again. With the rename landing but the file left in place, the
// batch is sent.
func TestSettleDelayedRename(t *testing.T) {
	for _, tc := range []struct {
		name  string
		taken bool // the server takes the file at once
		want  store.BatchStatus
	}{
		{"taken at once", true, store.BatchInDoubt},
		{"left in place", false, store.BatchSent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The names the server's hook works on, set before the run.
			var mu sync.Mutex
			var root, temp, final string
			taken := t.TempDir()
			e := testutil.NewEmbedded(t, func(_ context.Context, op, p string) error {
				mu.Lock()
				defer mu.Unlock()
				if op != "remove" || temp == "" || p != temp {
					return nil
				}
				// The delayed rename lands now.
				if err := os.Rename(filepath.Join(root, temp), filepath.Join(root, final)); err != nil {
					return err
				}
				if tc.taken {
					if err := os.Rename(filepath.Join(root, final), filepath.Join(taken, "1.xml")); err != nil {
						return err
					}
				}
				return &fs.PathError{Op: "remove", Path: p, Err: syscall.ENOENT}
			})
			mu.Lock()
			root = filepath.Join(e.Dir, "bank")
			mu.Unlock()
			for _, d := range []string{"export", "inbox", "import", "state"} {
				if err := os.MkdirAll(filepath.Join(e.Dir, d), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := config.Load(e.Config)
			if err != nil {
				t.Fatal(err)
			}
			onTestStore(t, cfg)
			d, err := New(cfg, Options{Logger: zerolog.New(zerolog.NewTestWriter(t))})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			lead(t, d)
			drop(t, filepath.Join(e.Dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
			if err := d.outbound(t.Context(), t.Context(), nil); err != nil {
				t.Fatal(err)
			}
			b, err := d.store.Batch(t.Context(), testMsgID)
			if err != nil {
				t.Fatal(err)
			}
			// The state a stop during the rename leaves: the attempt open,
			// its temporary file complete on the server.
			a, err := d.store.BeginAttempt(t.Context(), b.MsgID, func(n int, epoch int64) string {
				tmp, err := attemptTemp(cfg, b.RemoteName, n, epoch)
				if err != nil {
					t.Fatal(err)
				}
				return tmp
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, a.Temp), readFile(t, b.LocalPath), 0o644); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			temp, final = a.Temp, b.RemoteName
			mu.Unlock()
			if err := d.RunOnce(t.Context()); err != nil {
				t.Fatal(err)
			}
			if st, _ := e2eStatus(t, d, b.MsgID); st != tc.want {
				t.Fatalf("batch %s; want %s", st, tc.want)
			}
			delivered := len(testutil.Names(t, taken))
			if !tc.taken {
				delivered = len(testutil.Names(t, filepath.Join(root, "inbound")))
			}
			if delivered != 1 {
				t.Errorf("the server received the batch %d times; want once", delivered)
			}
		})
	}
}

// e2eStatus returns the status of batch msgID in the daemon's store.
func e2eStatus(t *testing.T, d *Daemon, msgID string) (store.BatchStatus, string) {
	t.Helper()
	b, err := d.store.Batch(t.Context(), msgID)
	if err != nil {
		t.Fatal(err)
	}
	return b.Status, b.Reason
}

// TestUploadRecordedBytes: the upload sends the pain.001 recorded with the
// intent, not whatever the outbox holds: the outbox copy removed, or
// altered, changes nothing (another instance has no outbox of its own).
func TestUploadRecordedBytes(t *testing.T) {
	for _, change := range []string{"removed", "altered"} {
		t.Run(change, func(t *testing.T) {
			e := newDaemonEnv(t)
			e.intent(t)
			local := e.outboxFile(testMsgID)
			want := readFile(t, local)
			if change == "removed" {
				if err := os.Remove(local); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(local, []byte("<Document/>"), 0o644); err != nil {
				t.Fatal(err)
			}
			e.once(t)
			if got := readFile(t, filepath.Join(e.up, testMsgID+".xml")); !bytes.Equal(got, want) {
				t.Errorf("uploaded %d bytes, not the %d recorded", len(got), len(want))
			}
			if st, _ := e.statuses(t, testMsgID); st != store.BatchSent {
				t.Errorf("batch is %s, want sent", st)
			}
		})
	}
}

// slowUpload is the set-up of the tests that break an upload in flight:
// the SFTP connection through a proxy that trickles, so that an upload
// takes a while, the example batch dropped, and a log the test reads.
func slowUpload(t *testing.T) (*daemonEnv, *sshdtest.Proxy, *logBuf, Options) {
	t.Helper()
	e := newDaemonEnv(t)
	p := e.proxied(t)
	p.Trickle(256, 20*time.Millisecond)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	log := &logBuf{t: t}
	opts := e.options(t)
	opts.Logger = zerolog.New(log)
	return e, p, log, opts
}
