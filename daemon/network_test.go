package daemon

import (
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

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
