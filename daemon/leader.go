package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"refundd/daemon/config"
	"refundd/daemon/notify"
	"refundd/daemon/obs"
	"refundd/daemon/store"
)

// ErrLeadershipLost: this instance led its company and no longer does:
// another instance took the lease over, or this one could not renew it in
// time. It stopped before its next act on the outside world (an SFTP
// upload or rename, a download, a claimed file, a file for the ERP); its
// writes to the store would be refused. Started again, it stands by.
var ErrLeadershipLost = errors.New("leadership lost")

// Leadership says whether this instance leads its company now.
//
// On PostgreSQL the lease in the store decides, on the database's clock;
// this instance also keeps a deadline of its own on the monotonic clock:
// the time its last successful renewal was sent plus ha.lease × 2/3. Past
// it the instance acts no more, even while the database cannot be
// reached: by then the lease may be about to expire, and a standby to
// take over. With SQLite there is one instance (the state folder's lock
// file), and it leads while it runs.
type Leadership struct {
	// gone is canceled when the leadership is lost: the work in progress
	// (a store call waiting on a connection that no longer answers) ends.
	gone   context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	leading bool
	bounded bool      // the deadline applies (PostgreSQL)
	sent    time.Time // when the last successful acquisition or renewal was sent, on this host's clock
	until   time.Time // the deadline, with its monotonic reading
	lease   store.Lease
	since   time.Time
	lost    error
}

// Check returns nil while this instance leads and its deadline has not
// passed, otherwise an error wrapping ErrLeadershipLost. Every act on the
// outside world is preceded by a Check.
func (l *Leadership) Check() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.lost != nil:
		return l.lost
	case !l.leading:
		return fmt.Errorf("%w: this instance does not lead", ErrLeadershipLost)
	case l.bounded && time.Now().After(l.until):
		l.lost = fmt.Errorf("%w: no renewal of the lease (epoch %d) succeeded within %s", ErrLeadershipLost, l.lease.Epoch, time.Since(l.sent).Round(time.Millisecond))
		l.cancel()
		return l.lost
	}
	return nil
}

// newLeadership returns a leadership that does not lead yet.
func newLeadership() *Leadership {
	l := &Leadership{}
	l.gone, l.cancel = context.WithCancel(context.Background())
	return l
}

// Gone is canceled when the leadership is lost.
func (l *Leadership) Gone() context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gone
}

// acquired records a new lease, acquired by a call sent at sent.
func (l *Leadership) acquired(le store.Lease, sent time.Time, deadline time.Duration, bounded bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gone.Err() != nil { // a leadership lost before: a new one starts
		l.gone, l.cancel = context.WithCancel(context.Background())
	}
	l.leading, l.bounded, l.lease, l.lost = true, bounded, le, nil
	l.sent, l.until = sent, sent.Add(deadline)
	l.since = time.Now()
}

// renewed extends the deadline after a renewal sent at sent.
func (l *Leadership) renewed(le store.Lease, sent time.Time, deadline time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost == nil {
		l.lease = le
		l.sent, l.until = sent, sent.Add(deadline)
	}
}

// lose ends the leadership with err (wrapping ErrLeadershipLost).
func (l *Leadership) lose(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost == nil {
		l.lost = err
	}
	l.cancel()
}

// State is what the status page and the metrics show of the leadership.
type State struct {
	Leading bool
	Lease   store.Lease
	// Since is when this instance began to lead; Left how long its own
	// deadline has to run.
	Since time.Time
	Left  time.Duration
}

// State returns the current leadership.
func (l *Leadership) State() State {
	if l == nil {
		return State{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := State{Leading: l.leading && l.lost == nil, Lease: l.lease, Since: l.since}
	if st.Leading && l.bounded {
		st.Left = time.Until(l.until)
	}
	return st
}

// Leadership returns this instance's leadership.
func (d *Daemon) Leadership() *Leadership { return d.lead }

// leading reports whether an act on the outside world may go ahead, and
// logs once why not.
func (d *Daemon) leading() error {
	err := d.lead.Check()
	if err != nil {
		d.lead.lose(err)
	}
	return err
}

// runHA runs a company's instance on PostgreSQL: it stands by until it
// acquires the lease, then runs as the leader, renewing the lease, until
// ctx ends (it resigns, so that a standby takes over at once) or it loses
// the lease (ErrLeadershipLost).
func (d *Daemon) runHA(ctx context.Context, reload <-chan struct{}) error {
	ha := d.cfg.HA
	log := d.log.With().Str(obs.FieldComponent, "leader").Str("instance", ha.Instance).Logger()
	d.metrics.Leadership(d.cfg.Store.Schema, false, 0, 0)
	var standbySince time.Time
	for {
		le, ok, err := d.acquire(ctx)
		if err != nil && ctx.Err() == nil {
			log.Warn().Err(err).Msg("acquiring the lease failed; tried again")
		}
		if ok {
			took := time.Duration(0)
			if !standbySince.IsZero() {
				took = time.Since(standbySince)
			}
			d.metrics.LeadershipChange("acquired", le.Epoch, took)
			d.metrics.Leadership(d.cfg.Store.Schema, true, le.Epoch, le.Left)
			log.Info().Int64("epoch", le.Epoch).Msg("leading: this instance now sends and receives for the company")
			break
		}
		if standbySince.IsZero() {
			standbySince = time.Now()
			cur, _ := d.leader(ctx)
			log.Info().Str("leader", cur.Holder).Int64("epoch", cur.Epoch).Msg("standing by: another instance leads")
			logErr(d.log, notify.Ready())
		}
		t := time.NewTimer(ha.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-reload:
			t.Stop()
			if next := d.reload(); next != nil {
				d.applyConfig(next) // also while standing by: the metric follows
			}
		case <-t.C:
		}
	}

	work, cancel := context.WithCancel(ctx)
	defer cancel()
	stopRenewing := d.renewing(work, cancel, log)
	err := d.run(work, reload)
	stopRenewing()
	if lerr := d.lead.Check(); lerr != nil && ctx.Err() == nil {
		d.metrics.LeadershipChange(lostReason(lerr), d.lead.State().Lease.Epoch, 0)
		d.metrics.Leadership(d.cfg.Store.Schema, false, d.lead.State().Lease.Epoch, 0)
		log.Error().Err(lerr).Msg("leadership lost: this instance stops; started again it stands by")
		return lerr
	}
	if err != nil && !errors.Is(err, ErrLeadershipLost) {
		return err
	}
	d.resign(ctx, log)
	return err
}

// The store calls of the leadership are bounded: a database that does
// not answer must not hold an instance, leader or standby, for ever.

// acquire tries once to take the company's lease; on success this
// instance leads.
func (d *Daemon) acquire(ctx context.Context) (store.Lease, bool, error) {
	ha := d.cfg.HA
	sent := time.Now()
	ctx, cancel := context.WithTimeout(ctx, ha.Lease)
	defer cancel()
	le, ok, err := d.store.Acquire(ctx, ha.Instance, ha.Lease)
	if ok {
		d.lead.acquired(le, sent, ha.Deadline(), true)
	}
	return le, ok, err
}

// leader reads who leads.
func (d *Daemon) leader(ctx context.Context) (store.Lease, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.HA.Lease)
	defer cancel()
	return d.store.Leader(ctx)
}

// resign gives the lease up, so that a standby leads at its next look,
// also when ctx has ended (a stop).
func (d *Daemon) resign(ctx context.Context, log zerolog.Logger) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.HA.Poll)
	defer cancel()
	if err := d.store.Resign(rctx); err != nil {
		log.Warn().Err(err).Msg("resigning the lease failed; a standby takes over when it expires")
	} else {
		d.metrics.LeadershipChange("resigned", d.lead.State().Lease.Epoch, 0)
		log.Info().Msg("lease resigned: a standby takes over")
	}
	d.lead.lose(fmt.Errorf("%w: resigned", ErrLeadershipLost))
}

// renewing starts renewLoop until ctx ends (stop is called when the lease
// is lost) and returns the function that waits for it to end.
func (d *Daemon) renewing(ctx context.Context, stop context.CancelFunc, log zerolog.Logger) (wait func()) {
	done := make(chan struct{})
	ha, company := d.cfg.HA, d.cfg.Store.Schema // a reload cannot change them
	go func() {
		defer close(done)
		d.renewLoop(ctx, stop, ha, company, log)
	}()
	return func() { <-done }
}

// lostReason names why the leadership ended, for the metrics.
func lostReason(err error) string {
	if errors.Is(err, store.ErrNotLeader) {
		return "fenced"
	}
	return "expired"
}

// renewLoop renews the lease every ha.lease/5 until ctx ends; when the
// lease is lost, or the deadline passes without a renewal, it calls stop.
// It runs beside the daemon's loop, which may reload the configuration:
// ha and company (which a reload cannot change) are given, not read from
// it.
func (d *Daemon) renewLoop(ctx context.Context, stop context.CancelFunc, ha config.HA, company string, log zerolog.Logger) {
	t := time.NewTicker(ha.Renew())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := d.lead.Check(); err != nil {
			d.lead.lose(err)
			stop()
			return
		}
		sent := time.Now()
		rctx, cancel := context.WithDeadline(ctx, d.lead.untilTime())
		le, err := d.store.Renew(rctx, ha.Lease)
		cancel()
		switch {
		case err == nil:
			d.lead.renewed(le, sent, ha.Deadline())
			d.metrics.Leadership(company, true, le.Epoch, le.Left)
		case errors.Is(err, store.ErrNotLeader):
			d.lead.lose(fmt.Errorf("%w: %w", ErrLeadershipLost, err))
			stop()
			return
		case ctx.Err() != nil:
			return
		default:
			log.Warn().Err(err).Msg("renewing the lease failed; tried again")
		}
	}
}

// untilTime returns the deadline.
func (l *Leadership) untilTime() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.until
}
