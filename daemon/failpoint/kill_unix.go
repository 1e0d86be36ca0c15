//go:build unix

package failpoint

import (
	"os"
	"syscall"
	"time"
)

// killSelf sends SIGKILL to the process and waits for it to land.
func killSelf() {
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	for {
		time.Sleep(time.Hour)
	}
}

// stopSelf stops the process (SIGSTOP) until someone sends SIGCONT. The
// stop reaches every thread a moment after kill returns; the sleep keeps
// the caller from going on in that moment.
func stopSelf() {
	_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
	time.Sleep(50 * time.Millisecond)
}
