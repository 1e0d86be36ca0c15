package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"refundd/daemon/refund"
)

// The child process of TestCrashSafety: the database it writes to, and a
// tag that keeps the batch numbers of its runs apart.
const (
	crashDBEnv  = "REFUNDD_STORE_CRASH_DB"
	crashTagEnv = "REFUNDD_STORE_CRASH_TAG"
)

// TestCrashSafety kills a process that writes to the store with SIGKILL at
// a random moment, 20 times over, on the same database. After each kill
// the database opens, passes IntegrityCheck (no batch without all its
// refunds, no status without its event), and everything the child reported
// as committed is there.
func TestCrashSafety(t *testing.T) {
	sqliteOnly(t)
	if path := os.Getenv(crashDBEnv); path != "" {
		crashChild(path, os.Getenv(crashTagEnv))
		return
	}
	if testing.Short() {
		t.Skip("kills 20 child processes")
	}
	path := filepath.Join(t.TempDir(), "state.db")
	committed := 0
	for run := range 20 {
		lines := runAndKill(t, path, strconv.Itoa(run), run%2 == 0)
		s, err := Open(path)
		if err != nil {
			t.Fatalf("run %d: open after the kill: %v", run, err)
		}
		if err := s.IntegrityCheck(t.Context()); err != nil {
			s.Close()
			t.Fatalf("run %d: %v", run, err)
		}
		for _, l := range lines {
			if err := checkCommitted(t.Context(), s, l); err != nil {
				t.Errorf("run %d: %q reported as committed: %v", run, l, err)
			}
		}
		committed += len(lines)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if committed == 0 {
		t.Fatal("no child committed anything before it was killed; the test proved nothing")
	}
	t.Logf("%d commits reported by the children, all found after the kills", committed)
}

// runAndKill starts the child on path and kills it: after a random delay,
// or (afterCommit) a random moment after its first commit. It returns the
// lines the child printed, each after a commit.
func runAndKill(t *testing.T, path, tag string, afterCommit bool) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashSafety$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDBEnv+"="+path, crashTagEnv+"="+tag)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines []string
	first := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			mu.Lock()
			if len(lines) == 0 {
				close(first)
			}
			lines = append(lines, sc.Text())
			mu.Unlock()
		}
	}()
	if afterCommit {
		select {
		case <-first:
		case <-done:
		case <-time.After(20 * time.Second):
		}
		time.Sleep(time.Duration(rand.IntN(100_000)) * time.Microsecond)
	} else {
		time.Sleep(time.Duration(rand.IntN(400)) * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	<-done
	_ = cmd.Wait() // "signal: killed"
	mu.Lock()
	defer mu.Unlock()
	return lines
}

// checkCommitted checks one line the child printed after a commit.
func checkCommitted(ctx context.Context, s *Store, line string) error {
	f := strings.Fields(line)
	switch f[0] {
	case "batch": // batch MSGID N
		rs, err := s.Refunds(ctx, f[1])
		if err != nil {
			return err
		}
		if strconv.Itoa(len(rs)) != f[2] {
			return fmt.Errorf("%d refunds; want %s", len(rs), f[2])
		}
	case "sent": // sent MSGID
		b, err := s.Batch(ctx, f[1])
		if err != nil {
			return err
		}
		if b.Status == BatchReceived || b.Status == BatchSending {
			return fmt.Errorf("batch is %s", b.Status)
		}
	case "reply": // reply HASH KEYS
		file, err := s.File(ctx, f[1])
		if err != nil {
			return err
		}
		if file.Outcome != FileDone {
			return fmt.Errorf("file is %s", file.Outcome)
		}
		var n int
		if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM bank_entries WHERE file_hash = ?`, f[1]).Scan(&n); err != nil {
			return err
		}
		if strconv.Itoa(n) != f[2] {
			return fmt.Errorf("%d keys; want %s", n, f[2])
		}
	default:
		return fmt.Errorf("unknown line")
	}
	return nil
}

// crashChild writes batches, uploads and replies in a loop until it is
// killed, printing a line after each commit. It stops after a minute,
// should its parent be gone.
func crashChild(path, tag string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(3)
	}
	s, err := Open(path)
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	deadline := time.Now().Add(time.Minute)
	for i := 0; time.Now().Before(deadline); i++ {
		number := fmt.Sprintf("K%s-%d", tag, i)
		b, rs := newBatch(number, 0, 1+rand.IntN(60))
		b.FileHash = hashOf("batch file " + number)
		if _, err := s.RecordFile(ctx, b.FileHash, number+".csv", FileBatch); err != nil {
			fail(err)
		}
		if err := s.CreateBatch(ctx, b, rs); err != nil {
			fail(err)
		}
		fmt.Printf("batch %s %d\n", b.MsgID, len(rs))
		if err := s.FinishFile(ctx, b.FileHash, FileDone, ""); err != nil {
			fail(err)
		}
		if _, err := s.SetBatchStatus(ctx, b.MsgID, BatchSent, ""); err != nil {
			fail(err)
		}
		fmt.Printf("sent %s\n", b.MsgID)

		h := hashOf("reply " + number)
		if _, err := s.RecordFile(ctx, h, number+".xml", FileReply); err != nil {
			fail(err)
		}
		r := Reply{Batches: []BatchStatusChange{{MsgID: b.MsgID, To: BatchPaid}}}
		for j, x := range rs {
			to := refund.StatusBooked
			if j%5 == 4 {
				to = refund.StatusRejected
			} else {
				r.Keys = append(r.Keys, AppliedKey{Key: refund.Key{Account: ourAccount, Entry: "REF-" + number, Tx: x.EndToEndID},
					Kind: refund.KindPayment, EndToEndID: x.EndToEndID})
			}
			r.Refunds = append(r.Refunds, RefundStatusChange{EndToEndID: x.EndToEndID, To: to})
		}
		if _, err := s.ApplyReply(ctx, h, r); err != nil {
			fail(err)
		}
		fmt.Printf("reply %s %d\n", h, len(r.Keys))
	}
	if err := s.Close(); err != nil {
		fail(err)
	}
}
