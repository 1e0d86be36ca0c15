// Package lock makes sure that only one refundd works with a state folder
// at a time, so that two processes never claim the same file or upload the
// same batch.
//
// The lock is an exclusive flock(2) on the file refundd.lock in the state
// folder. The kernel releases it when its holder exits, however it exits
// (crash, kill -9, power loss), so a stale lock file never blocks a new
// start and there is nothing to clean up by hand. The file holds the PID of
// the holder, which the error for a second refundd names.
//
// The lock file is never removed: removing it would let two processes lock
// two different files under the same name. flock works on local file
// systems; the state folder must not be on a network file system.
package lock

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// FileName is the name of the lock file in the state folder.
const FileName = "refundd.lock"

// ErrLocked means that another process holds the lock. Acquire returns it
// wrapped in a *LockedError.
var ErrLocked = errors.New("state folder is locked by another refundd")

// LockedError reports the state folder and the process that holds its lock.
// It wraps ErrLocked.
type LockedError struct {
	// Dir is the state folder.
	Dir string
	// PID is the process that holds the lock, 0 when the lock file does not
	// name one (yet).
	PID int
}

// Error says which process holds which folder.
func (e *LockedError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("another refundd (pid %d) is running with state folder %s", e.PID, e.Dir)
	}
	return fmt.Sprintf("another refundd is running with state folder %s", e.Dir)
}

// Unwrap returns ErrLocked.
func (e *LockedError) Unwrap() error { return ErrLocked }

// Lock is a held lock on a state folder.
type Lock struct {
	f    *os.File
	path string
}

// Acquire takes the lock on stateDir without waiting. If another process
// (or another Lock in this process) holds it, the error is a *LockedError
// that wraps ErrLocked. The state folder must exist; Acquire creates only
// the lock file (mode 0640).
func Acquire(stateDir string) (*Lock, error) {
	path := filepath.Join(stateDir, FileName)
	// No O_TRUNC: a process that does not get the lock must not wipe the
	// holder's PID. O_NOFOLLOW: the lock file is never a symbolic link.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o640)
	if err != nil {
		return nil, fmt.Errorf("lock state folder %s: %w", stateDir, err)
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Dir: stateDir, PID: readPID(f)}
		}
		return nil, fmt.Errorf("lock state folder %s: flock %s: %w", stateDir, path, err)
	}
	if err := writePID(f, os.Getpid()); err != nil {
		f.Close() // releases the lock
		return nil, fmt.Errorf("lock state folder %s: write pid to %s: %w", stateDir, path, err)
	}
	return &Lock{f: f, path: path}, nil
}

// Path returns the lock file's path.
func (l *Lock) Path() string { return l.path }

// Release empties the lock file and releases the lock. It is safe to call
// more than once; calls after the first do nothing.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	// Empty the file while the lock is still held, so that it names no
	// process that has gone; closing the file releases the lock.
	terr := f.Truncate(0)
	cerr := f.Close()
	if err := errors.Join(terr, cerr); err != nil {
		return fmt.Errorf("release lock %s: %w", l.path, err)
	}
	return nil
}

// flock calls flock(2), retrying when a signal interrupts it.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

func writePID(f *os.File, pid int) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(pid)+"\n"), 0)
	return err
}

// readPID returns the PID in the lock file, 0 when it holds none.
func readPID(f *os.File) int {
	b, err := io.ReadAll(io.LimitReader(f, 32))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
