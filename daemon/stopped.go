package daemon

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"refundd/daemon/atomicfile"
	"refundd/daemon/store"
)

// stoppedStamp is the file in the state folder that describes the SQLite
// file as the last clean stop left it (its identity, size and times).
//
// The start's check of the store reads only what changed since the last
// check, unless the last run did not stop cleanly (see runningMarker) or
// the file was changed while refundd did not run: restored from a backup,
// edited with the sqlite3 tool, damaged by a copy or a disk. Such a
// change shows in the file's stamp, and the start then checks the whole
// store, so that a damaged database is refused before anything is paid
// from it.
const stoppedStamp = "stopped"

// recordStopped writes the stamp of the store file in state, durably.
func recordStopped(state string) error {
	st, err := fileStamp(filepath.Join(state, store.FileName))
	if err != nil {
		return fmt.Errorf("record the stop: %w", err)
	}
	w := atomicfile.Writer{Perm: 0o600}
	_ = w.Remove(filepath.Join(state, stoppedStamp))
	if err := w.Write(state, stoppedStamp, func(f io.Writer) error { _, err := io.WriteString(f, st+"\n"); return err }); err != nil {
		return fmt.Errorf("record the stop: %w", err)
	}
	return nil
}

// changedWhileStopped reports whether the store file in state is not as
// the last clean stop recorded it, or no stop was recorded.
func changedWhileStopped(state string) bool {
	want, err := os.ReadFile(filepath.Join(state, stoppedStamp))
	if err != nil {
		return true
	}
	got, err := fileStamp(filepath.Join(state, store.FileName))
	return err != nil || !bytes.Equal(bytes.TrimSpace(want), []byte(got))
}
