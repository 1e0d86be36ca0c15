package daemon

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"refundd/daemon/atomicfile"
)

// blockFS is the real file system whose writes wait while blocked is open.
type blockFS struct {
	atomicfile.OS
	blocked chan struct{}
}

func (b *blockFS) OpenFile(name string, flag int, perm fs.FileMode) (atomicfile.File, error) {
	<-b.blocked
	return b.OS.OpenFile(name, flag, perm)
}

// TestAlive hangs a write of the daemon: Alive reports the step as stuck
// once it has made no progress for StuckAfter, and healthy again once the
// write goes on; waiting for work between steps is not being stuck.
func TestAlive(t *testing.T) {
	e := newDaemonEnv(t)
	fsys := &blockFS{blocked: make(chan struct{})}
	opts := e.options(t)
	opts.FS = fsys
	opts.StuckAfter = 300 * time.Millisecond
	d := e.daemon(t, opts)
	if err := d.Alive(); err != nil {
		t.Fatalf("Alive before Run: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()

	// Idle: several rescans and far longer than StuckAfter.
	time.Sleep(4 * opts.StuckAfter)
	if err := d.Alive(); err != nil {
		t.Fatalf("Alive while waiting for work: %v", err)
	}

	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	waitFor(t, "Alive to report the hung write", func() bool { return errors.Is(d.Alive(), ErrStuck) })
	close(fsys.blocked)
	waitFor(t, "the batch to be uploaded", func() bool { return slices.Contains(files(t, e.up), testMsgID+".xml") })
	waitFor(t, "Alive to recover", func() bool { return d.Alive() == nil })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
