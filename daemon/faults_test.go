package daemon

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"refundd/daemon/store"
	"refundd/sftpx/sshdtest"
)

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

// logBuf is a log that tests can read while the daemon writes it.
type logBuf struct {
	t  *testing.T
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Log(strings.TrimSpace(string(p)))
	return l.b.Write(p)
}

func (l *logBuf) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

// remoteTemps returns the names in the remote upload folder other than
// the final name of the test batch.
func (e *daemonEnv) remoteTemps(t *testing.T) []string {
	t.Helper()
	es, err := os.ReadDir(e.up)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range es {
		if de.Name() != testMsgID+".xml" {
			names = append(names, de.Name())
		}
	}
	return names
}

// checkUploadedOnce checks that the upload folder holds the pain.001 of
// the batch, complete, under its final name and nothing else, and that the
// batch is sent.
func (e *daemonEnv) checkUploadedOnce(t *testing.T) {
	t.Helper()
	es, err := os.ReadDir(e.up)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range es {
		names = append(names, de.Name())
	}
	if !slices.Equal(names, []string{testMsgID + ".xml"}) {
		t.Errorf("upload folder holds %v, want exactly %s.xml", names, testMsgID)
	}
	if fileExists(filepath.Join(e.up, testMsgID+".xml")) &&
		!bytes.Equal(readFile(t, filepath.Join(e.up, testMsgID+".xml")), readFile(t, filepath.Join(e.dir, "state", OutboxDir, testMsgID+".xml"))) {
		t.Error("the uploaded file is not the outbox file")
	}
	if st, _ := e.statuses(t, testMsgID); st != store.BatchSent {
		t.Errorf("batch is %s, want %s", st, store.BatchSent)
	}
}

// TestFaultResetMidUpload resets the TCP connection while the pain.001 is
// being written on the server (the proxy trickles so that the upload takes
// a while): no final file is left by the failed attempt, the batch is
// tried again and is on the server exactly once, complete.
func TestFaultResetMidUpload(t *testing.T) {
	e := newDaemonEnv(t)
	p := e.proxied(t)
	p.Trickle(256, 20*time.Millisecond)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	log := &logBuf{t: t}
	opts := e.options(t)
	opts.Logger = zerolog.New(log)
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
	e := newDaemonEnv(t)
	p := e.proxied(t)
	const timeout = 2 * time.Second
	e.cfg.SFTP.Timeout, e.cfg.SFTP.KeepAlive = timeout, 500*time.Millisecond
	p.Trickle(256, 20*time.Millisecond)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	log := &logBuf{t: t}
	opts := e.options(t)
	opts.Logger = zerolog.New(log)
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
