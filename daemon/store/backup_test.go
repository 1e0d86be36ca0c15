package store

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"refundd/daemon/refund"
)

// TestBackupWhileWriting takes a backup while another goroutine keeps
// recording batches and moving them and their refunds along, each change
// a small write transaction of its own, as a daemon in a crash loop
// does. The copy passes the integrity check and holds every batch that
// was committed before the backup began; a second backup to the same
// name is refused and leaves the first as it was.
func TestBackupWhileWriting(t *testing.T) {
	sqliteOnly(t)
	ctx := t.Context()
	s := openTest(t)

	var mu sync.Mutex
	var committed []string // MsgIds whose CreateBatch returned nil
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			b, rs := newBatch(fmt.Sprintf("W%d", i), 0, 1+i%3)
			if err := s.CreateBatch(ctx, b, rs); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			committed = append(committed, b.MsgID)
			mu.Unlock()
			for _, to := range []BatchStatus{BatchSent, BatchAccepted} {
				if _, err := s.SetBatchStatus(ctx, b.MsgID, to, ""); err != nil {
					t.Error(err)
					return
				}
			}
			for _, r := range rs {
				if _, err := s.SetRefundStatus(ctx, r.EndToEndID, refund.StatusBooked, "", ""); err != nil {
					t.Error(err)
					return
				}
			}
			if _, err := s.SetBatchStatus(ctx, b.MsgID, BatchPaid, ""); err != nil {
				t.Error(err)
				return
			}
		}
	})
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()
	waitFor := func(n int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			got := len(committed)
			mu.Unlock()
			if got >= n {
				return
			}
			if time.Now().After(deadline) || t.Failed() {
				t.Fatalf("only %d batches committed; want %d", got, n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFor(20)
	mu.Lock()
	before := append([]string(nil), committed...)
	mu.Unlock()

	dir := t.TempDir()
	dest := filepath.Join(dir, "refundd-backup.db")
	info, err := s.Backup(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(len(before) + 5) // the writer went on during the backup
	close(stop)
	wg.Wait()

	if info.Path != dest || info.Version != len(migrations) || info.Batches < len(before) || info.Size <= 0 {
		t.Errorf("Backup() = %+v; want %s at version %d with at least %d batches", info, dest, len(migrations), len(before))
	}
	fi, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("backup mode %v; want 0600", perm)
	}
	if fi.Size() != info.Size {
		t.Errorf("backup is %d bytes; Backup said %d", fi.Size(), info.Size)
	}
	first, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}

	// An existing file is never replaced.
	if _, err := s.Backup(ctx, dest); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Backup over an existing file: %v; want fs.ErrExist", err)
	}
	if again, err := os.ReadFile(dest); err != nil || !bytes.Equal(again, first) {
		t.Errorf("the existing backup changed (%v)", err)
	}
	if names := files(t, dir); len(names) != 1 {
		t.Errorf("the backup folder holds %v; want the backup alone", names)
	}

	c, err := Open(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range before {
		if _, err := c.Batch(ctx, id); err != nil {
			t.Errorf("batch %s, committed before the backup: %v", id, err)
		}
	}
	t.Logf("%d batches committed before the backup, %d in it, %d bytes", len(before), info.Batches, info.Size)
}

// files lists the names in dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// TestBackupRefusals: a name that is not a file, a folder that does not
// exist, and on PostgreSQL any backup at all.
func TestBackupRefusals(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	dir := t.TempDir()
	if onPostgres {
		if _, err := s.Backup(ctx, filepath.Join(dir, "x.db")); !errors.Is(err, ErrBackupPostgres) {
			t.Fatalf("Backup on PostgreSQL: %v; want ErrBackupPostgres", err)
		}
		return
	}
	for _, dest := range []string{"", filepath.Join(dir, "x.db?mode=ro"), filepath.Join(dir, "missing", "x.db"), dir} {
		if _, err := s.Backup(ctx, dest); err == nil {
			t.Errorf("Backup(%q) succeeded; want an error", dest)
		}
	}
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("a refused backup left %v", names)
	}
}
