//go:build !linux

package daemon

import (
	"fmt"
	"os"
)

// fileStamp describes the file at path by its size and the time of the
// last change of its data.
func fileStamp(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d %d", fi.Size(), fi.ModTime().UnixNano()), nil
}
