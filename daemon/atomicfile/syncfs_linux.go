//go:build linux

package atomicfile

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"refundd/internal/fsync"
)

// fsFlusher returns, for a Writer on the operating system's file system,
// a function that makes everything written into dir since fsFlusher was
// called durable with one flush of dir's file system (syncfs): the data
// and names of many new files at the cost of one flush, where an fsync of
// each file costs one flush each. The folder is opened before the writes,
// so that syncfs reports a writeback error of any of them (Linux 5.8 and
// later). ok is false for another FS (a test's fake): the caller then
// syncs each file and the folder itself.
func (w *Writer) fsFlusher(dir string) (flush func() error, ok bool) {
	if _, real := w.fs().(OS); !real {
		return nil, false
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil, false // the writes fail and say why
	}
	return func() error {
		err := unix.Syncfs(int(d.Fd()))
		cerr := d.Close()
		if err != nil {
			return fmt.Errorf("sync file system of %s: %w: %w", dir, fsync.ErrSync, err)
		}
		if cerr != nil {
			return fmt.Errorf("close folder %s: %w", dir, cerr)
		}
		return nil
	}, true
}
