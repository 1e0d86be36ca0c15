//go:build linux

package spool

import (
	"io/fs"
	"os"
	"syscall"
	"time"
)

// identity returns what Scan and Claim compare beyond size and mtime: the
// device and inode numbers and the inode change time (ctime), which moves
// with every write, truncation, rename and change of mode.
func identity(fi fs.FileInfo) (dev, ino uint64, ctime time.Time) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, fi.ModTime()
	}
	return uint64(st.Dev), uint64(st.Ino), time.Unix(int64(st.Ctim.Sec), int64(st.Ctim.Nsec))
}

// openNoFollow opens name for reading without following a symlink and
// without blocking on a FIFO, so that the caller can check with Stat what it
// opened before reading from it.
func openNoFollow(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}
