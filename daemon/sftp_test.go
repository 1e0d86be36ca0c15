package daemon

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"

	"refundd/daemon/obs"
	"refundd/daemon/store"
	"refundd/sftpx"
	"refundd/sftpx/sshdtest"
)

// TestFaultUnreachable: AutoPay's name does not resolve, or nothing
// listens on its port: the upload fails as a transient error within
// sftp.timeout, the batch stays sending and nothing is on the server; with
// the address right again it is uploaded once.
func TestFaultUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	for _, tc := range []struct{ name, addr string }{
		{"name does not resolve", "autopay.refundd-test.invalid:22"},
		{"connection refused", closed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newDaemonEnv(t)
			good := e.cfg.SFTP.Address
			e.cfg.SFTP.Address = tc.addr
			e.cfg.SFTP.Timeout, e.cfg.SFTP.KeepAlive = 3*time.Second, time.Second
			drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
			log := &logBuf{t: t}
			opts := e.options(t)
			opts.Logger = zerolog.New(log)
			d := e.daemon(t, opts)
			start := time.Now()
			if err := d.RunOnce(t.Context()); err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			d.Close()
			if took > e.cfg.SFTP.Timeout+5*time.Second {
				t.Errorf("RunOnce took %v with an unreachable server, want about sftp.timeout (%v) at most", took, e.cfg.SFTP.Timeout)
			}
			if log.count("upload failed; tried again later") == 0 {
				t.Error("no log line says that the upload failed and is tried again")
			}
			if log.count("needs an operator") != 0 {
				t.Error("an unreachable server is taken for a permanent error")
			}
			if got := files(t, e.up); len(got) != 0 {
				t.Fatalf("upload folder holds %v", got)
			}
			if st, _ := e.statuses(t, testMsgID); st != store.BatchSending {
				t.Fatalf("batch is %s, want sending", st)
			}

			e.cfg.SFTP.Address = good
			e.once(t)
			e.checkUploadedOnce(t)
		})
	}
}

// TestFaultNoBanner: AutoPay's port accepts TCP connections but never
// says a word: each attempt fails within sftp.timeout as a transient
// error, and the attempts leave no goroutine behind (each one would hold a
// connection and its buffers for good).
func TestFaultNoBanner(t *testing.T) {
	e := newDaemonEnv(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn // open, silent
	var accepted atomic.Int64
	acceptor := make(chan struct{})
	go func() {
		defer close(acceptor)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			held = append(held, c)
		}
	}()
	defer func() {
		l.Close()
		<-acceptor
		for _, c := range held {
			c.Close()
		}
	}()
	e.cfg.SFTP.Address = l.Addr().String()
	e.cfg.SFTP.Timeout, e.cfg.SFTP.KeepAlive = time.Second, 300*time.Millisecond
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))

	log := &logBuf{t: t}
	opts := e.options(t)
	opts.Logger = zerolog.New(log)
	opts.RetryMin, opts.RetryMax = time.Hour, time.Hour // one attempt per round
	const rounds = 4
	base, fds := 0, 0
	for i := range rounds {
		if i == 1 { // the first round warms up what stays for the life of the process
			base, fds = runtime.NumGoroutine(), openFiles(t)-int(accepted.Load())
		}
		d := e.daemon(t, opts)
		start := time.Now()
		if err := d.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > 5*e.cfg.SFTP.Timeout {
			t.Errorf("RunOnce took %v against a silent server", took)
		}
		d.Close()
	}
	if n := log.count("upload failed; tried again later"); n < rounds {
		t.Errorf("%d failed attempts logged, want at least %d", n, rounds)
	}
	if log.count("needs an operator") != 0 {
		t.Error("a silent server is taken for a permanent error")
	}
	// The server side of every connection is still open: a goroutine of
	// refundd blocked on one would still be there.
	var now int
	deadline := time.Now().Add(5 * time.Second)
	for now = runtime.NumGoroutine(); now > base+1 && time.Now().Before(deadline); now = runtime.NumGoroutine() {
		time.Sleep(50 * time.Millisecond)
	}
	if now > base+1 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after %d rounds against a silent server, %d after the first:\n%s", now, rounds, base, buf[:runtime.Stack(buf, true)])
	}
	// Our side of the held connections is open, refundd's must not be.
	if now := openFiles(t) - int(accepted.Load()); now > fds {
		t.Errorf("%d open files (besides the server's side of the connections) after %d rounds against a silent server, %d after the first", now, rounds, fds)
	}
	if st, _ := e.statuses(t, testMsgID); st != store.BatchSending {
		t.Errorf("batch is %s, want sending", st)
	}
}

// openFiles returns the number of files the process has open.
func openFiles(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// TestCasesServerRefused (B1, B2, B17): a server whose host key is not the
// pinned one, a server with no known host key, and a refused login. The
// batch stays sending and nothing reaches the server; the refusal is an
// alarm (a warning naming the server and the host key it presented,
// counted in refundd_alarms_total{alarm="sftp_refused"}); the server is
// not dialled again before the backoff (here longer than the test) however
// many rounds run; once the configuration is fixed and reloaded, the batch
// is uploaded exactly once.
func TestCasesServerRefused(t *testing.T) {
	for _, tc := range []struct {
		name, kind string
		// brk returns a file of the configuration and broken content for
		// it; the original content fixes it
		brk         func(t *testing.T, e *daemonEnv) (string, string)
		fingerprint bool // the alarm names the presented host key
	}{
		{"B1 wrong host key", "host key mismatch", func(t *testing.T, e *daemonEnv) (string, string) {
			other := sshdtest.Keygen(t, filepath.Join(t.TempDir(), "other"), "ed25519", "", "")
			return e.cfg.SFTP.KnownHosts, sshdtest.KnownHostsLine(e.srv.Addr, other) + "\n"
		}, true},
		{"B2 unknown host", "unknown host", func(t *testing.T, e *daemonEnv) (string, string) {
			var b strings.Builder
			for _, k := range e.srv.HostKeys {
				b.WriteString(sshdtest.KnownHostsLine("127.0.0.2:2222", k) + "\n")
			}
			return e.cfg.SFTP.KnownHosts, b.String()
		}, true},
		{"B17 login refused", "authentication failed", func(t *testing.T, e *daemonEnv) (string, string) {
			other := filepath.Join(t.TempDir(), "id")
			sshdtest.Keygen(t, other, "ed25519", "", "")
			return e.cfg.SFTP.PrivateKey, string(readFile(t, other))
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newDaemonEnv(t)
			changed, broken := tc.brk(t, e)
			good := readFile(t, changed)
			if err := os.WriteFile(changed, []byte(broken), 0o600); err != nil {
				t.Fatal(err)
			}
			log := &logBuf{t: t}
			opts := e.options(t)
			opts.Logger = zerolog.New(log)
			opts.Metrics = obs.NewMetrics()
			opts.RetryMin, opts.RetryMax = time.Hour, time.Hour // any second dial in this test is one too many
			d := e.daemon(t, opts)
			reload := make(chan struct{})
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- d.Run(ctx, reload) }()
			stopped := false
			stop := func() {
				if !stopped {
					stopped = true
					cancel()
					if err := <-done; err != nil {
						t.Errorf("Run: %v", err)
					}
				}
			}
			defer stop()

			export := filepath.Join(e.dir, "export")
			drop(t, export, "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
			const alarm = "SFTP server refused"
			waitFor(t, "the alarm", func() bool { return log.count(alarm) > 0 })
			// More rounds: each junk file is taken by one, and the
			// download schedule runs meanwhile.
			for i := range 3 {
				name := fmt.Sprintf("junk-%d.txt", i)
				drop(t, export, name, []byte("junk"))
				waitFor(t, name+" refused", func() bool { return fileExists(filepath.Join(export, "failed", name+".err")) })
			}
			if n := log.count(alarm); n != 1 {
				t.Errorf("the server was refused %d times: no backoff", n)
			}
			if n := metric(t, opts.Metrics, "refundd_alarms_total", "alarm", string(obs.AlarmSFTPRefused)); n != 1 {
				t.Errorf("sftp_refused alarms: %v, want 1", n)
			}
			line := firstLine(log, alarm)
			for _, want := range []string{`"alarm":true`, `"host":"` + e.srv.Addr + `"`, tc.kind} {
				if !strings.Contains(line, want) {
					t.Errorf("the alarm lacks %s: %s", want, line)
				}
			}
			if tc.fingerprint && !slices.ContainsFunc(e.srv.HostKeys, func(k ssh.PublicKey) bool {
				return strings.Contains(line, `"presented_host_key":"`+sftpx.Fingerprint(k)+`"`)
			}) {
				t.Errorf("the alarm does not name the presented host key: %s", line)
			}
			if got := files(t, e.up); len(got) != 0 {
				t.Errorf("upload folder holds %v", got)
			}
			if st, _ := e.statuses(t, testMsgID); st != store.BatchSending {
				t.Errorf("batch is %s while refused, want %s", st, store.BatchSending)
			}

			if err := os.WriteFile(changed, good, 0o600); err != nil {
				t.Fatal(err)
			}
			reload <- struct{}{}
			waitFor(t, "the upload after the fix", func() bool { return log.count("pain.001 uploaded") > 0 })
			stop()
			if n := log.count("pain.001 uploaded"); n != 1 {
				t.Errorf("%d uploads, want 1", n)
			}
			e.checkUploadedOnce(t)
		})
	}
}

// firstLine returns the first line of the log that contains s.
func firstLine(l *logBuf, s string) string {
	for line := range strings.Lines(l.String()) {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}
