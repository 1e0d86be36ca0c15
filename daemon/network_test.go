package daemon

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"refundd/daemon/obs"
	"refundd/daemon/store"
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

// TestDaemonAlarmNotSent: a batch whose uploads keep failing raises the
// not_sent alarm once after alarms.status_within, and the overdue gauge
// counts it until it is uploaded.
func TestDaemonAlarmNotSent(t *testing.T) {
	e := newDaemonEnv(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	good := e.cfg.SFTP.Address
	e.cfg.SFTP.Address = l.Addr().String()
	l.Close() // connection refused
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	opts := e.options(t)
	opts.RetryMin, opts.RetryMax = time.Hour, time.Hour
	later := time.Now()
	opts.Now = func() time.Time { return later }
	opts.Metrics = obs.NewMetrics()
	d := e.daemon(t, opts)
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.statuses(t, testMsgID); st != store.BatchSending {
		t.Fatalf("batch is %s, want sending", st)
	}
	if got := metricValue(t, opts.Metrics, "refundd_alarms_total", obs.AlarmNotSent); got != 0 {
		t.Fatalf("%v not_sent alarms right after the first attempt", got)
	}
	later = later.Add(e.cfg.Alarms.StatusWithin + time.Minute)
	d.checkAlarms(t.Context())
	d.checkAlarms(t.Context())
	if got := metricValue(t, opts.Metrics, "refundd_alarms_total", obs.AlarmNotSent); got != 1 {
		t.Errorf("%v not_sent alarms, want 1", got)
	}
	if got := metricValue(t, opts.Metrics, "refundd_overdue", obs.AlarmNotSent); got != 1 {
		t.Errorf("overdue{not_sent} = %v, want 1", got)
	}
	d.Close()

	e.cfg.SFTP.Address = good
	opts.Metrics = obs.NewMetrics()
	d = e.daemon(t, opts)
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := metricValue(t, opts.Metrics, "refundd_overdue", obs.AlarmNotSent); got != 0 {
		t.Errorf("overdue{not_sent} = %v after the upload, want 0", got)
	}
}

// metricValue returns the value of a counter or gauge with the label
// alarm=a.
func metricValue(t *testing.T, m *obs.Metrics, name string, a obs.Alarm) float64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, mm := range mf.GetMetric() {
			for _, l := range mm.GetLabel() {
				if l.GetName() == "alarm" && l.GetValue() == string(a) {
					if mm.GetCounter() != nil {
						return mm.GetCounter().GetValue()
					}
					return mm.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no metric %s{alarm=%q}", name, a)
	return 0
}
