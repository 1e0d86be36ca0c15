package daemon

import (
	"slices"
	"sync"
	"time"

	"refundd/daemon/obs"
	"refundd/daemon/store"
	"refundd/daemon/webhook"
)

// health is what the daemon records of its own work for /api/health and
// the status page, which read it from other goroutines.
type health struct {
	mu sync.Mutex
	h  obs.DaemonHealth
}

// get returns a copy of the state.
func (h *health) get() obs.DaemonHealth {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.h
	out.Overdue = slices.Clone(h.h.Overdue)
	out.Webhooks = slices.Clone(h.h.Webhooks)
	return out
}

// set changes the state under the lock.
func (h *health) set(f func(*obs.DaemonHealth)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(&h.h)
}

// DaemonHealth returns what the daemon knows of its own work: the last
// successful upload and download, whether SFTP works, the disk, how new
// files are found and what is overdue. It implements obs.HealthSource and
// is safe to call from any goroutine.
func (d *Daemon) DaemonHealth() obs.DaemonHealth { return d.health.get() }

// uploaded counts an upload with result r and, when it succeeded,
// records it as the last successful one.
func (d *Daemon) uploaded(r obs.Result) {
	now := time.Now()
	d.metrics.Upload(r, now)
	if r == obs.ResultOK {
		d.health.set(func(h *obs.DaemonHealth) { h.Upload.Last = now })
	}
}

// downloaded counts a download round with result r and, when it
// succeeded, records it as the last successful one.
func (d *Daemon) downloaded(r obs.Result) {
	now := time.Now()
	d.metrics.Download(r, now)
	if r == obs.ResultOK {
		d.health.set(func(h *obs.DaemonHealth) { h.Download.Last = now })
	}
}

// sftpHealth records the outcome of the last SFTP call.
func (d *Daemon) sftpHealth(err error) {
	now := time.Now()
	d.health.set(func(h *obs.DaemonHealth) {
		h.SFTP.Checked, h.SFTP.Reachable, h.SFTP.LastError = now, err == nil, ""
		if err != nil {
			h.SFTP.LastError = err.Error()
		}
	})
}

// diskHealth records the disk-full state: err is the write that failed
// for lack of space, nil when writing works.
func (d *Daemon) diskHealth(err error) {
	d.health.set(func(h *obs.DaemonHealth) {
		h.DiskFull, h.DiskFullError = err != nil, ""
		if err != nil {
			h.DiskFullError = err.Error()
		}
	})
}

// watchHealth records how new files are found: by file events or by the
// scheduled rescans alone.
func (d *Daemon) watchHealth(noEvents bool) {
	mode := obs.WatchEvents
	if noEvents {
		mode = obs.WatchRescans
	}
	d.health.set(func(h *obs.DaemonHealth) { h.Watch = mode })
}

// overdueHealth records what the last check of the alarms found overdue.
func (d *Daemon) overdueHealth(overdue []obs.Overdue) {
	d.health.set(func(h *obs.DaemonHealth) { h.Overdue = overdue })
}

// webhookHealth starts the health's list of webhooks afresh for hooks,
// the receivers of the running configuration, each with nothing known
// yet.
func (d *Daemon) webhookHealth(hooks []webhook.Hook) {
	ws := make([]obs.WebhookHealth, len(hooks))
	for i, h := range hooks {
		ws[i].Name = h.Name
	}
	d.health.set(func(h *obs.DaemonHealth) { h.Webhooks = ws })
}

// webhookState records the delivery state of the receiver h, as its
// delivery read it from the store.
func (d *Daemon) webhookState(h webhook.Hook, st store.WebhookState) {
	w := obs.WebhookHealth{Name: h.Name, Pending: st.Pending, OldestPending: st.Oldest, LastSuccess: st.LastSuccess,
		LastError: st.LastError, LastErrorAt: st.LastErrorAt, Failing: st.Failing()}
	d.health.set(func(dh *obs.DaemonHealth) {
		for i := range dh.Webhooks {
			if dh.Webhooks[i].Name == h.Name {
				dh.Webhooks[i] = w
			}
		}
	})
}
