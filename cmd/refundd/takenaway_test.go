package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"refundd/internal/testutil"

	"refundd/daemon/failpoint"
	"refundd/daemon/refund"
	"refundd/daemon/sandbox"
	"refundd/daemon/store"
)

// TestTakenAway runs refundd against a real sshd whose upload folder is
// emptied by the simulated bank as AutoPay empties it: every complete file
// is taken away at once. refundd is killed at a point of the upload, the
// bank takes what is there, refundd runs again: the bank must receive the
// batch exactly once, whatever the point.
func TestTakenAway(t *testing.T) {
	bin := crashBin(t)
	msgID := refund.MsgID("987654325", "B2026-0042", 0)
	cases := []struct {
		point failpoint.Name
		// after the run that follows the kill: the batch's status, the
		// deliveries at the bank, and what the log must say.
		status     store.BatchStatus
		deliveries int
		log        string
	}{
		// The file was in place and the bank took it: nothing is on the
		// server, so the batch is in doubt, never sent again; its pain.002
		// settles it.
		{failpoint.AfterRemoteRename, store.BatchInDoubt, 1, "AutoPay may have taken it"},
		// The temporary file of the attempt is there: removed (the rename
		// can never happen), then uploaded once under a new attempt.
		{failpoint.DuringUpload, store.BatchSent, 1, "its temporary file was removed before the rename"},
		// No attempt was recorded: uploaded as usual.
		{failpoint.BeforeUpload, store.BatchSent, 1, "pain.001 uploaded"},
		// The attempt was recorded and nothing sent: nothing is on the
		// server, which is all refundd can know; in doubt, and an
		// operator's release uploads it once.
		{failpoint.AttemptRecorded, store.BatchInDoubt, 0, "AutoPay may have taken it"},
	}
	for _, c := range cases {
		t.Run(string(c.point), func(t *testing.T) {
			config, dir, up := runEnv(t)
			down := filepath.Join(filepath.Dir(up), "outbound")
			bank := sandbox.NewBank(sandbox.BankConfig{UploadDir: up, DownloadDir: down, TakenDir: filepath.Join(t.TempDir(), "taken"),
				TakeAfter: sandbox.TakeAtOnce, Delay: time.Millisecond})
			if err := bank.Remember(); err != nil {
				t.Fatal(err)
			}
			batch, err := os.ReadFile("../../daemon/testdata/batch-ok.csv")
			if err != nil {
				t.Fatal(err)
			}
			dropBatch(t, filepath.Join(dir, "export"), "batch-ok.csv", batch)

			out, killed := runBin(t, bin, config, failpoint.EnvFailpoints+"="+string(c.point))
			if !killed {
				t.Fatalf("run -once was not killed at %s:\n%s", c.point, out)
			}
			if err := bank.Step(); err != nil { // AutoPay takes what is complete
				t.Fatal(err)
			}
			if n := pendingFiles(up); n != 0 {
				t.Fatalf("the bank left %d file(s) in the upload folder", n)
			}

			out, killed = runBin(t, bin, config)
			if killed {
				t.Fatalf("run -once killed:\n%s", out)
			}
			if err := bank.Step(); err != nil {
				t.Fatal(err)
			}
			if got := bank.Deliveries()[msgID]; got != c.deliveries {
				t.Errorf("the bank has %d deliveries of %s; want %d", got, msgID, c.deliveries)
			}
			if !strings.Contains(out, c.log) {
				t.Errorf("the log does not say %q:\n%s", c.log, out)
			}
			b := batchOf(t, config, msgID)
			if b.Status != c.status {
				t.Fatalf("batch %s; want %s (%s)", b.Status, c.status, b.Reason)
			}
			if es, _ := os.ReadDir(up); len(es) != 0 {
				t.Errorf("the upload folder holds %v; want nothing (temporary files removed, complete ones taken)", es)
			}
			if c.status == store.BatchInDoubt {
				for _, w := range []string{"attempt 1", "refundd resolve"} {
					if !strings.Contains(b.Reason, w) {
						t.Errorf("the in-doubt reason does not say %q: %s", w, b.Reason)
					}
				}
				code, sout, serr := runCmd("status", "-config", config)
				if code != exitOK || !strings.Contains(sout, "in-doubt") || !strings.Contains(sout, "AutoPay may have taken it") {
					t.Errorf("status does not show the batch in doubt and why: exit %d\n%s%s", code, sout, serr)
				}
			}

			switch {
			case c.status == store.BatchInDoubt && c.deliveries == 1:
				// The bank's pain.002 settles the batch as sent.
				waitFor(t, "the bank's replies", func() bool {
					if err := bank.Step(); err != nil {
						t.Fatal(err)
					}
					return pendingFiles(down) > 0
				})
				out, _ = runBin(t, bin, config)
				if b := batchOf(t, config, msgID); b.Status == store.BatchInDoubt || b.Status == store.BatchSending || b.Sent.IsZero() {
					t.Errorf("after the pain.002 the batch is %s (sent %v); want it settled as at the bank\n%s", b.Status, b.Sent, out)
				}
			case c.status == store.BatchInDoubt:
				// The operator knows AutoPay has nothing: release it.
				if code, sout, serr := runCmd("resolve", "-config", config, "-release", msgID); code != exitOK {
					t.Fatalf("resolve -release: exit %d\n%s%s", code, sout, serr)
				}
				out, _ = runBin(t, bin, config)
				if err := bank.Step(); err != nil {
					t.Fatal(err)
				}
				if b := batchOf(t, config, msgID); b.Status != store.BatchSent {
					t.Errorf("after the release the batch is %s; want sent\n%s", b.Status, out)
				}
			}
			if err := bank.Step(); err != nil {
				t.Fatal(err)
			}
			if got, want := bank.Deliveries()[msgID], 1; got != want {
				t.Errorf("at the end the bank has %d deliveries of %s; want %d", got, msgID, want)
			}
		})
	}
}

// runBin runs "refundd run -once" of the binary bin with the extra
// environment, bounded in time; killed reports a SIGKILL (a failpoint).
func runBin(t *testing.T, bin, config string, env ...string) (out string, killed bool) {
	t.Helper()
	cmd := exec.Command(bin, "run", "-once", "-config", config)
	cmd.Env = append(os.Environ(), env...)
	var b testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &b, &b
	cmd.WaitDelay = waitDelay
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("run -once did not end within 60s:\n%s", b.String())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return b.String(), true
		}
		t.Fatalf("run -once: %v\n%s", err, b.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), false
}

// batchOf reads batch msgID from the store of the configuration file.
func batchOf(t *testing.T, configFile, msgID string) store.Batch {
	t.Helper()
	b, err := storeOf(t, configFile).Batch(t.Context(), msgID)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
