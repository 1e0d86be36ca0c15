package daemon

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"refundd/daemon/config"
)

// ErrStuck is returned by Alive when a step has made no progress for too
// long.
var ErrStuck = errors.New("no progress")

// minStuckAfter is the least time without progress before Alive reports a
// step as stuck, whatever the SFTP timeouts.
const minStuckAfter = 5 * time.Minute

// liveness is what Alive reads while Run works: safe for concurrent use.
type liveness struct {
	busy  atomic.Int64 // Unix nanoseconds of the last progress of the step in progress; 0 between steps
	limit atomic.Int64 // nanoseconds without progress that count as stuck
}

// stuckAfter returns how long a step may go without progress under cfg:
// an upload or download may take sftp.transfer_timeout and its connection
// sftp.timeout, twice over, and never less than minStuckAfter.
func stuckAfter(cfg *config.Config) time.Duration {
	return max(minStuckAfter, 2*(cfg.SFTP.TransferTimeout+cfg.SFTP.Timeout))
}

// beat marks progress of the step in progress: a file taken, an upload or
// a download done.
func (d *Daemon) beat() {
	if d.alive.busy.Load() != 0 {
		d.alive.busy.Store(time.Now().UnixNano())
	}
}

// Alive returns nil unless a step has made no progress for longer than
// Options.StuckAfter (by default from the SFTP timeouts, at least five
// minutes): then an error wrapping ErrStuck. Waiting for work between
// steps is not being stuck. Alive may be called from any goroutine while
// Run works; systemd's watchdog is pinged only while it returns nil, so a
// hung refundd is killed and restarted.
func (d *Daemon) Alive() error {
	b := d.alive.busy.Load()
	if b == 0 {
		return nil
	}
	since := time.Since(time.Unix(0, b))
	if limit := time.Duration(d.alive.limit.Load()); since > limit {
		return fmt.Errorf("refundd step: %w for %s (limit %s)", ErrStuck, since.Round(time.Millisecond), limit)
	}
	return nil
}
