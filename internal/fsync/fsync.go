// Package fsync makes the entries of a folder durable: after a file is
// created, renamed, linked or removed, the change is only in the page cache
// until the folder itself is synced, and a power loss can undo it although
// the file's own data was synced.
//
// A failed fsync is fatal, never retried: on Linux a failed writeback may
// mark the pages clean, so a later fsync can succeed although the data is
// lost. Every error of a failed sync wraps ErrSync, and a caller that sees
// it stops rather than record the change as durable.
package fsync

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrSync is wrapped by the error of a failed fsync. It is not retryable;
// see the package comment.
var ErrSync = errors.New("fsync failed")

// Folder is an open folder that can be synced and closed, such as an
// *os.File.
type Folder interface {
	Sync() error
	Close() error
}

// Dir fsyncs the folder path, so that its entries are on disk. The error
// wraps ErrSync when the fsync itself fails. A file system that cannot
// sync a folder at all (the fsync fails with EINVAL or ENOTSUP, as some
// network and FUSE file systems do) is taken at its word, as PostgreSQL
// does: that is no error, and no writeback has failed.
func Dir(path string) error { return DirOf(os.Open, path) }

// DirOf is Dir with open in place of os.Open: for a file-system seam,
// through which tests inject faults into the folder's fsync.
func DirOf[F Folder](open func(name string) (F, error), path string) error {
	d, err := open(path)
	if err != nil {
		return fmt.Errorf("sync folder %s: %w", path, err)
	}
	err = d.Sync()
	cerr := d.Close()
	if err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return fmt.Errorf("sync folder %s: %w: %w", path, ErrSync, err)
	}
	if cerr != nil {
		return fmt.Errorf("close folder %s: %w", path, cerr)
	}
	return nil
}
