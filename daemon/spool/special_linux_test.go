package spool

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A FIFO is never offered, and Claim never opens one (opening it for
// reading would block until a writer comes).
func TestFIFO(t *testing.T) {
	f := newFolder(t, Config{})
	fifo := filepath.Join(f.Dir(), "pipe.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	writeFile(t, filepath.Join(f.Dir(), "real.csv"), "real")
	if got := scan(t, f, time.Now()); len(got) != 1 || got[0] != "real.csv" {
		t.Fatalf("ready: %v; want real.csv only", got)
	}

	// A FIFO swapped in between the check and the rename ends in failed/
	// unread.
	f.afterRename = func(path string) {
		os.Remove(path)
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Error(err)
		}
	}
	cs, _ := f.Scan(time.Now())
	done := make(chan error, 1)
	go func() {
		_, err := f.Claim(cs[0])
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrSkipped) {
			t.Fatalf("Claim = %v; want ErrSkipped", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Claim blocked on a FIFO")
	}
	fi, err := os.Lstat(filepath.Join(f.failed, "real.csv"))
	if err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("FIFO not in failed/: %v", err)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("FIFO in the folder touched: %v", err)
	}
}
