package daemon

import (
	"fmt"
	"os"
	"syscall"
)

// fileStamp describes the file at path by what any change to it moves:
// its inode, size, and times of the last change of its data and of its
// inode (which no ordinary tool can set back).
func fileStamp(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Sprintf("%d %d", fi.Size(), fi.ModTime().UnixNano()), nil
	}
	return fmt.Sprintf("%d %d %d.%09d %d.%09d", st.Ino, fi.Size(), st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec), nil
}
