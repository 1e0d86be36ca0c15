package daemon

import (
	"errors"
	"syscall"

	"github.com/rs/zerolog"

	"refundd/daemon/obs"
	"refundd/daemon/spool"
	"refundd/daemon/store"
)

// diskFull reports whether err says that the disk, or the quota of
// refundd's user, is full: a write of refundd's own files (ENOSPC, EDQUOT)
// or of the state store (SQLITE_FULL).
func diskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || store.IsFull(err)
}

// setFull records that a file could not be finished for lack of space.
// While the disk is full refundd takes no new files: the file that failed
// stays in the work folder and is tried first at each step, and the first
// success takes new files again. Uploads of recorded batches go on.
func (d *Daemon) setFull(log zerolog.Logger, file string, err error) {
	first := d.full == nil
	d.full = err
	d.metrics.SetDiskFull(true)
	d.diskHealth(err)
	if d.opts.Readiness != nil {
		d.opts.Readiness.Set("disk", err)
	}
	ev := log.Debug()
	if first {
		ev = log.Error()
	}
	ev.Err(err).Str(obs.FieldFile, file).
		Msg("disk full: no new files are taken until space is freed; this file stays in the work folder and is tried again at every rescan")
}

// clearFull ends the disk-full state after a file was finished.
func (d *Daemon) clearFull(log zerolog.Logger) {
	if d.full == nil {
		return
	}
	d.full = nil
	d.metrics.SetDiskFull(false)
	d.diskHealth(nil)
	if d.opts.Readiness != nil {
		d.opts.Readiness.Set("disk", nil)
	}
	log.Info().Msg("disk space available again: new files are taken")
}

// checkFull ends the disk-full state when no file waits in a work folder:
// then no file can show that space is back, so new files are taken again
// (and the first write that fails sets the state again).
func (d *Daemon) checkFull() {
	if d.full == nil {
		return
	}
	for _, f := range []*spool.Folder{d.export, d.inbox} {
		if p, err := f.Pending(); err != nil || len(p) > 0 {
			return
		}
	}
	d.clearFull(d.log)
}
