package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"refundd/internal/fsync"

	"refundd/daemon/config"

	"github.com/rs/zerolog"

	"refundd/daemon/atomicfile"
	"refundd/daemon/erp"
	"refundd/daemon/lock"
	"refundd/daemon/notify"
	"refundd/daemon/obs"
	"refundd/daemon/spool"
	"refundd/daemon/store"
	"refundd/daemon/webhook"
	"refundd/sftpx"
)

// OutboxDir is the folder of the state folder that holds every pain.001
// refundd wrote, under <MsgId>.xml, from before its upload for good.
const OutboxDir = "outbox"

// Default bounds of the wait before an upload is tried again.
const (
	DefaultRetryMin = 5 * time.Second
	DefaultRetryMax = 10 * time.Minute
)

// maxOnceRounds bounds how often RunOnce scans again for files that were
// not settled yet.
const maxOnceRounds = 30

// Options are what a Daemon takes besides its configuration.
type Options struct {
	// Logger receives every log line; the zero Logger logs nothing.
	Logger zerolog.Logger
	// Metrics are updated as work is done; nil means new metrics that no
	// one reads.
	Metrics *obs.Metrics
	// Readiness, when set, is told whether the store and SFTP work.
	Readiness *obs.Readiness
	// Now is the clock of the pain.001 creation times, the files for the
	// ERP and the alarms; nil means time.Now. Waiting for files to settle
	// and for retries uses the real time.
	Now func() time.Time
	// ConfigPath is the file that a reload reads; "" means the file the
	// configuration was loaded from (Config.File).
	ConfigPath string
	// NoEvents turns file events off: the scheduled rescans alone find the
	// files (folders on NFS or SMB).
	NoEvents bool
	// RetryMin and RetryMax bound the wait before a failed upload is
	// tried again (it doubles from RetryMin); 0 means the defaults.
	RetryMin, RetryMax time.Duration
	// StuckAfter is how long a step may go without progress before Alive
	// reports it; 0 means from the SFTP timeouts (see Alive).
	StuckAfter time.Duration
	// FS is the file system of the files refundd writes: the pain.001 in
	// the outbox and the files for the ERP in the import folder. nil means
	// the operating system's; tests substitute one that fails (a full disk,
	// a failed fsync).
	FS atomicfile.FS
}

// Daemon is refundd at work on one state folder: it takes batches from the
// export folder to AutoPay, and the bank's replies from AutoPay and the
// inbox folder into the ERP's import folder. Its methods are not safe for
// concurrent use.
type Daemon struct {
	cfg     *config.Config
	opts    Options
	log     zerolog.Logger
	metrics *obs.Metrics
	now     func() time.Time

	lock *lock.Lock
	// running is the marker file of a run in the state folder, removed
	// when the store closes cleanly; "" when there is none.
	running string
	store   *store.Store
	export  *spool.Folder
	inbox   *spool.Folder
	out     *erp.Writer
	outbox  string

	files *atomicfile.Writer // writes the outbox and the import folder

	sftp    *sftpx.Client
	retries map[string]retry // by MsgId: failed uploads waiting
	alarmed map[string]bool  // alarms raised, by kind and subject
	refused dialHold         // the server refused for good: no dial before its time
	full    error            // the last "disk full" error while no new work is taken; nil when writing works
	alive   liveness
	lead    *Leadership
	// health is the state that /api/health and the status page show.
	health health

	// The warm-up of the SFTP connection (see warm): under way (its
	// result comes on warmCh), and not again before warmAfter after a
	// failed one.
	warming   bool
	warmCh    chan warmResult
	warmAfter time.Time
	// lastPurge is when the retention purge last ran (d.now); zero: not
	// yet.
	lastPurge time.Time
	// counted is the last event in the store when the batch gauge was
	// last set; -1: not yet.
	counted int64
	// hooks delivers the announcements of the running configuration
	// (nil: no webhooks); webhooks holds its receivers for Webhooks,
	// which other goroutines call.
	hooks    *webhook.Deliverer
	webhooks atomic.Pointer[[]webhook.Hook]
}

// retry is the state of a failed upload.
type retry struct {
	at   time.Time
	wait time.Duration
}

// New locks the state folder, opens and checks the state store and the
// folders of cfg, and returns a Daemon that does nothing until Run or
// RunOnce. A second Daemon on the same state folder is refused with an
// error wrapping lock.ErrLocked. Close releases everything.
func New(cfg *config.Config, opts Options) (*Daemon, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Metrics == nil {
		opts.Metrics = obs.NewMetrics()
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = DefaultRetryMin
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = DefaultRetryMax
	}
	if opts.ConfigPath == "" {
		opts.ConfigPath = cfg.File
	}
	d := &Daemon{
		opts:    opts,
		log:     opts.Logger,
		metrics: opts.Metrics,
		now:     opts.Now,
		files:   &atomicfile.Writer{FS: opts.FS},
		retries: map[string]retry{},
		alarmed: map[string]bool{},
		lead:    newLeadership(),
		warmCh:  make(chan warmResult, 1),
		counted: -1,
	}
	if err := d.open(cfg); err != nil {
		d.Close()
		return nil, err
	}
	// The configuration was loaded and taken: the first load counts as a
	// successful one for the reload metrics.
	d.metrics.ConfigLoaded(true, time.Now())
	return d, nil
}

func (d *Daemon) open(cfg *config.Config) error {
	state := cfg.Paths.State
	if state == "" {
		return fmt.Errorf("start: %w: paths.state is not set", config.ErrInvalid)
	}
	l, err := lock.Acquire(state)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	d.lock = l
	ctx := context.Background()
	changed := false // the SQLite file was changed while refundd did not run
	if cfg.Postgres() {
		// The state is in PostgreSQL and the files on the shared folder;
		// the state folder holds only the lock.
		d.outbox = Outbox(cfg)
		// Payments in the outbox: the schema that knew of them must be
		// there (not dropped, store.schema not misspelled); it is never
		// created afresh over them.
		pc := postgresConfig(cfg)
		sent := sentPayments(d.outbox)
		pc.Existing = sent > 0
		s, err := store.OpenPostgres(ctx, pc)
		if errors.Is(err, store.ErrNoSchema) {
			return fmt.Errorf("start: %w: schema %s does not exist but %s holds %d pain.001 file(s); check store.schema, or restore the schema from a backup (refundd never starts afresh over sent payments)",
				ErrStateLost, cfg.Store.Schema, d.outbox, sent)
		}
		if err != nil {
			return fmt.Errorf("start: %w", err)
		}
		d.store = s
	} else {
		d.outbox = Outbox(cfg)
		if err := checkStateKept(state, d.outbox); err != nil {
			return err
		}
		changed = changedWhileStopped(state)
		s, err := store.Open(filepath.Join(state, store.FileName))
		if err != nil {
			return fmt.Errorf("start: %w", err)
		}
		d.store = s
	}
	// The store itself, not d.store, which Close clears: /metrics may be
	// scraped while refundd stops.
	s := d.store
	d.metrics.StoreStatsFrom(func() obs.StoreStats {
		st := s.Stats()
		return obs.StoreStats{FencedWrites: st.FencedWrites, CommitsUnknown: st.CommitsUnknown}
	})
	// The marker is there while refundd runs: found at the start, the
	// last run was stopped without closing (killed, crashed, the power
	// went), and the store is checked whole, not only what changed.
	running := filepath.Join(state, runningMarker)
	_, err = os.Lstat(running)
	unclean := err == nil
	full, err := d.store.StartCheck(ctx, unclean || changed)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	d.log.Debug().Bool("full", full).Bool("unclean_stop", unclean).Bool("changed_while_stopped", changed).Msg("state store checked")
	if err := markRunning(running); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	d.running = running
	if !cfg.Postgres() {
		// One instance, kept one by the lock file: it leads while it
		// runs, and each run is an epoch of its own.
		sent := time.Now()
		le, _, err := d.store.Acquire(ctx, cfg.HA.Instance, cfg.HA.Lease)
		if err != nil {
			return fmt.Errorf("start: %w", err)
		}
		d.lead.acquired(le, sent, 0, false)
	}
	if err := os.MkdirAll(d.outbox, 0o750); err != nil {
		return fmt.Errorf("start: outbox %s: %w", d.outbox, err)
	}
	if d.opts.Readiness != nil {
		d.opts.Readiness.Set("store", nil)
	}
	return d.configure(cfg)
}

// postgresConfig is the store's connection of cfg.
func postgresConfig(cfg *config.Config) store.PostgresConfig {
	return store.PostgresConfig{URL: cfg.Store.URL, Schema: cfg.Store.Schema,
		StatementTimeout: cfg.Store.StatementTimeout, IdleInTransactionTimeout: cfg.Store.IdleInTransactionTimeout}
}

// ErrStateLost marks a state folder whose database is missing although
// refundd has sent files from it.
var ErrStateLost = errors.New("state database missing")

// checkStateKept refuses to start with a new, empty state database in a
// state folder whose outbox holds payment files: the database that knew
// what was sent is lost, and starting afresh could pay a batch again.
func checkStateKept(state, outbox string) error {
	if _, err := os.Stat(filepath.Join(state, store.FileName)); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	sent := sentPayments(outbox)
	if sent == 0 {
		return nil
	}
	return fmt.Errorf("start: %w: %s does not exist but %s holds %d pain.001 file(s); restore the database from a backup (refundd never starts afresh over sent payments)",
		ErrStateLost, filepath.Join(state, store.FileName), outbox, sent)
}

// Outbox is the folder that holds every pain.001 refundd has recorded for
// upload under cfg: in the state folder with SQLite, on the folder the
// hosts share (paths.spool) with PostgreSQL, where any instance may have to
// resend it.
func Outbox(cfg *config.Config) string {
	if cfg.Postgres() {
		return filepath.Join(cfg.SpoolDir(), OutboxDir)
	}
	return filepath.Join(cfg.Paths.State, OutboxDir)
}

// sentPayments counts the pain.001 files in the outbox.
func sentPayments(outbox string) int {
	sent, _ := filepath.Glob(filepath.Join(outbox, "*.xml"))
	return len(sent)
}

// configure sets up everything that depends on the configuration besides
// the state folder.
func (d *Daemon) configure(cfg *config.Config) error {
	if cfg.Ledger.ReceivablesAccount == "" || cfg.Ledger.ChargesAccount == "" {
		return fmt.Errorf("start: %w: ledger.receivables_account and ledger.charges_account are required: the bank's bookings are posted to them", config.ErrInvalid)
	}
	export, err := spool.Open(spool.Config{Dir: cfg.Paths.Export, State: cfg.SpoolDir(), Kind: "export",
		StableFor: cfg.Watch.StableFor, Now: d.now})
	if err != nil {
		return fmt.Errorf("start: export folder: %w", err)
	}
	inbox, err := spool.Open(spool.Config{Dir: cfg.Paths.Inbox, State: cfg.SpoolDir(), Kind: "inbox",
		StableFor: cfg.Watch.StableFor, Now: d.now})
	if err != nil {
		return fmt.Errorf("start: inbox folder: %w", err)
	}
	if d.sftp != nil {
		d.sftp.Close()
		d.sftp = nil
	}
	d.cfg, d.export, d.inbox = cfg, export, inbox
	hooks := webhookHooks(cfg)
	d.webhooks.Store(&hooks)
	limit := d.opts.StuckAfter
	if limit <= 0 {
		limit = stuckAfter(cfg)
	}
	d.alive.limit.Store(int64(limit))
	// A new configuration (a fixed host key or login) is tried at once.
	d.refused, d.retries, d.warmAfter = dialHold{}, map[string]retry{}, time.Time{}
	// Each file for the ERP is given its name only while this instance
	// leads (always, with SQLite); see sweepImport.
	d.out = &erp.Writer{Dir: cfg.Paths.Import, Now: d.now, Files: d.files, Fence: d.leading, Postings: erp.Postings{
		Format: cfg.Ledger.Format, Branch: cfg.Ledger.Branch, Ledger: cfg.Ledger.LedgerID, Subaccounts: cfg.Ledger.Subaccounts}}
	if d.opts.Readiness != nil {
		d.opts.Readiness.Set("config", nil)
	}
	return nil
}

// Close closes the SFTP connection and the state store and releases the
// lock on the state folder.
func (d *Daemon) Close() error {
	var errs []error
	if d.sftp != nil {
		errs = append(errs, d.sftp.Close())
		d.sftp = nil
	}
	if d.store != nil {
		pg := d.store.Postgres()
		err := d.store.Close()
		if err == nil && d.running != "" && !pg {
			// What the file looks like as this run leaves it: a start that
			// finds it otherwise checks everything.
			err = recordStopped(filepath.Dir(d.running))
		}
		if err == nil && d.running != "" {
			// Closed cleanly: the next start need not check everything.
			if rerr := os.Remove(d.running); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				err = rerr
			}
		}
		errs = append(errs, err)
		d.store = nil
		d.running = ""
	}
	if d.lock != nil {
		errs = append(errs, d.lock.Release())
		d.lock = nil
	}
	return errors.Join(errs...)
}

// Store returns the daemon's state store, for the status screen.
func (d *Daemon) Store() *store.Store { return d.store }

// RunOnce does everything that is pending, as one pass of Run would and
// more: it resolves the uploads of an earlier run, downloads the replies
// waiting on the server, takes every batch and reply in the export and
// inbox folders (waiting for files that are still being written to
// settle), uploads, and applies the replies. It returns nil when all of
// that is done, also when some files failed (they are in failed/ with
// their reasons); an error means that refundd could not go on (a failed
// fsync, a broken store).
func (d *Daemon) RunOnce(ctx context.Context) error {
	if d.cfg.Postgres() {
		_, ok, err := d.acquire(ctx)
		if err != nil {
			return fmt.Errorf("run once: %w", err)
		}
		if !ok {
			cur, _ := d.leader(ctx)
			return fmt.Errorf("run once: %w: %s leads the company (epoch %d); stop it first, or let it do the work", ErrLeadershipLost, cur.Holder, cur.Epoch)
		}
		log := d.log.With().Str(obs.FieldComponent, "leader").Logger()
		renew, stopRenewing := context.WithCancel(ctx)
		wait := d.renewing(renew, func() {}, log)
		defer func() {
			stopRenewing()
			wait()
			d.resign(ctx, log)
		}()
	}
	if err := d.runOnce(ctx); err != nil {
		return err
	}
	return d.lead.Check() // a pass cut short by a lost lease is not done
}

func (d *Daemon) runOnce(ctx context.Context) error {
	d.resolveInDoubt(ctx)
	if err := d.step(ctx, true); err != nil {
		return err
	}
	for range maxOnceRounds {
		next := d.nextWake()
		if next.IsZero() || ctx.Err() != nil {
			return nil
		}
		if time.Until(next) > d.cfg.Watch.StableFor+spool.DefaultSettle && !d.unsettled() {
			return nil // only uploads waiting for their retry
		}
		t := time.NewTimer(max(time.Until(next), 10*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		if err := d.step(ctx, false); err != nil {
			return err
		}
	}
	return nil
}

// unsettled reports whether a folder has files that are not ready yet.
func (d *Daemon) unsettled() bool {
	n1, _ := d.export.Unsettled()
	n2, _ := d.inbox.Unsettled()
	return n1+n2 > 0
}

// nextWake returns when the next step is due for a file that is not
// settled or an upload to try again; zero for none.
func (d *Daemon) nextWake() time.Time {
	var next time.Time
	earlier := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if n, t := d.export.Unsettled(); n > 0 {
		earlier(t)
	}
	if n, t := d.inbox.Unsettled(); n > 0 {
		earlier(t)
	}
	for _, r := range d.retries {
		earlier(r.at)
	}
	return next
}

// Run runs the daemon until ctx ends, then finishes the step in progress
// and returns nil. A value on reload reloads the configuration from
// Options.ConfigPath: a valid one replaces the current one between two
// steps; an invalid one is logged and the current one stays. Run returns
// an error only when refundd cannot go on (a failed fsync, a broken store,
// a folder that cannot be watched).
//
// On PostgreSQL the instance first stands by until it holds its company's
// lease, and Run returns an error wrapping ErrLeadershipLost when it loses
// it.
func (d *Daemon) Run(ctx context.Context, reload <-chan struct{}) error {
	if d.cfg.Postgres() {
		return d.runHA(ctx, reload)
	}
	return d.run(ctx, reload)
}

// run runs the daemon as the leader until ctx ends.
func (d *Daemon) run(ctx context.Context, reload <-chan struct{}) error {
	for {
		inner, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- d.runConfig(inner) }()
		var next *config.Config
		for next == nil {
			select {
			case err := <-done:
				cancel()
				return err
			case <-reload:
				next = d.reload()
			}
		}
		cancel()
		if err := <-done; err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		d.applyConfig(next)
	}
}

// applyConfig makes next, a configuration read again, the running one,
// or keeps the running one when that fails; either way the log, the
// metric and systemd are told. The leader and a standby both use it.
func (d *Daemon) applyConfig(next *config.Config) {
	if err := d.configure(next); err != nil {
		d.log.Error().Err(err).Str(obs.FieldFile, next.File).Msg("configuration not reloaded; the running one stays")
		d.metrics.ConfigLoaded(false, time.Now())
	} else {
		d.log.Info().Str(obs.FieldFile, next.File).Msg("configuration reloaded")
		d.metrics.ConfigLoaded(true, time.Now())
	}
	logErr(d.log, notify.Ready())
}

// reload reads the configuration file again and returns it, or nil when it
// is invalid or changes what a reload cannot change.
func (d *Daemon) reload() *config.Config {
	logErr(d.log, notify.Reloading())
	cfg, err := config.Load(d.opts.ConfigPath)
	switch {
	case err != nil:
	case filepath.Clean(cfg.Paths.State) != filepath.Clean(d.cfg.Paths.State):
		err = fmt.Errorf("reload %s: %w: paths.state cannot change while refundd runs", d.opts.ConfigPath, config.ErrInvalid)
	case cfg.SpoolDir() != d.cfg.SpoolDir() || cfg.Store != d.cfg.Store || cfg.HA != d.cfg.HA:
		err = fmt.Errorf("reload %s: %w: paths.spool, store and ha cannot change while refundd runs", d.opts.ConfigPath, config.ErrInvalid)
	}
	if err != nil {
		d.log.Error().Err(err).Str(obs.FieldFile, d.opts.ConfigPath).Msg("configuration not reloaded; the running one stays")
		d.metrics.ConfigLoaded(false, time.Now())
		logErr(d.log, notify.Ready())
		return nil
	}
	return cfg
}

// runConfig runs with the current configuration until ctx ends.
func (d *Daemon) runConfig(ctx context.Context) error {
	if err := d.sweepImport(); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	// File events see no other host's writes to a shared folder.
	noEvents := d.opts.NoEvents || d.cfg.Postgres()
	d.watchHealth(noEvents)
	w, err := spool.NewWatcher(spool.Options{
		Dirs:     []string{d.cfg.Paths.Export, d.cfg.Paths.Inbox},
		Schedule: d.cfg.Watch.Rescan,
		NoEvents: noEvents,
		OnError: func(err error) {
			d.log.Warn().Err(err).Str(obs.FieldComponent, "watch").Msg("watcher trouble; the rescan covers it")
		},
		OnFile: d.fileEvent,
	})
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	var dl *spool.Watcher
	if d.cfg.SFTP.Address != "" && d.cfg.SFTP.DownloadDir != "" {
		dl, err = spool.NewWatcher(spool.Options{Schedule: d.cfg.SFTP.DownloadSchedule, NoEvents: true,
			OnError: func(err error) {
				d.log.Warn().Err(err).Str(obs.FieldComponent, "download").Msg("download schedule trouble")
			}})
		if err != nil {
			return fmt.Errorf("run: %w", err)
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx) // stops the watchers however this returns
	defer cancel()
	werr := make(chan error, 2)
	start := func(w *spool.Watcher) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Run(ctx); err != nil {
				werr <- err
			}
		}()
	}
	start(w)
	var dlKicks <-chan struct{}
	if dl != nil {
		start(dl)
		dlKicks = dl.Kicks()
	}

	// The SFTP connection is kept open between uploads; a warm-up still
	// under way when this returns is stopped and waited for.
	defer func() {
		cancel()
		if d.warming {
			d.warmed(<-d.warmCh)
		}
	}()
	// The announcements go out beside the steps, until this returns;
	// each receiver is recorded before the first step, so that it hears
	// of every change from now on.
	if err := d.startWebhooks(ctx, &wg); err != nil {
		return err
	}
	d.warm(ctx)
	d.resolveInDoubt(ctx)
	download := true
	var freed time.Time
	for {
		if err := d.step(ctx, download); err != nil {
			return err
		}
		if d.hooks != nil {
			d.hooks.Kick()
		}
		// An idle daemon needs a few MiB of heap; what the start's checks
		// of the store or a big batch needed is given back to the system
		// (a full collection: a few milliseconds, at most twice a minute).
		if now := time.Now(); now.Sub(freed) >= idleFree {
			debug.FreeOSMemory()
			freed = now
		}
		if next := d.nextWake(); !next.IsZero() {
			w.KickAt(next)
		}
		d.warm(ctx)
		download = false
	wait:
		for {
			select {
			case <-ctx.Done():
				return nil
			case err := <-werr:
				return fmt.Errorf("run: %w", err)
			case r := <-d.warmCh:
				d.warmed(r) // no step: nothing else changed
			case <-w.Kicks():
				break wait
			case <-dlKicks:
				download = true
				break wait
			}
		}
	}
}

// sweepImport removes the temporary files of writes for the ERP that did
// not finish: those of a run that was killed, and, on PostgreSQL, those of
// an instance that lost its lease and may still be running. This makes the
// lease a fence for the import folder, which the database cannot guard:
// the old instance checks its lease after its temporary file exists and
// before it names it, so either its file was named before this sweep (and
// is found by its contents, so the same postings are not written again),
// or its temporary is gone and naming it fails, or its check comes after
// the takeover and fails. It runs before this instance writes anything.
func (d *Daemon) sweepImport() error {
	removed, err := d.out.Sweep()
	if len(removed) > 0 {
		d.log.Info().Str(obs.FieldComponent, "import").Strs("removed", removed).
			Msg("temporary files of unfinished writes for the ERP removed")
	}
	return err
}

// runningMarker is the file in the state folder that is there while
// refundd runs.
const runningMarker = "running"

// markRunning creates the marker file path, durably: after a power cut
// the next start must find it.
func markRunning(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("mark running %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("mark running %s: %w", path, err)
	}
	if err := fsync.Dir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("mark running %s: %w", path, err)
	}
	return nil
}

// idleFree is how often at most the daemon gives unused heap back to the
// system after a step.
const idleFree = 30 * time.Second

// fileEvent gives a file event to the folder it is of, which tells when
// the file may be taken.
func (d *Daemon) fileEvent(ev spool.FileEvent) time.Time {
	for _, f := range []*spool.Folder{d.export, d.inbox} {
		if filepath.Clean(ev.Dir) == f.Dir() {
			return f.Note(ev)
		}
	}
	return time.Time{}
}

// step does one round of work: download the replies (when download),
// take the batches, upload, take the replies, check the alarms, and once
// a day purge what the retention lets go. Work on a file is finished
// even when ctx ends meanwhile; ctx is checked between files. The error
// is one that stops refundd.
//
// A panic in a step is logged with its stack and the step ends; the next
// one runs as usual (every step starts again from the store and the
// folders).
func (d *Daemon) step(ctx context.Context, download bool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			d.log.Error().Str("panic", fmt.Sprint(r)).Bytes("stack", debug.Stack()).Msg("step failed with a panic; the next one runs as usual")
			err = nil
		}
	}()
	d.alive.busy.Store(time.Now().UnixNano())
	defer d.alive.busy.Store(0)
	if err := d.leading(); err != nil {
		return d.stop(err)
	}
	// The work on a file is finished even when ctx ends (a SIGTERM), but
	// not when the leadership is lost: then its store calls are cut off.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	if cutWritesOnLoss {
		defer context.AfterFunc(d.lead.Gone(), cancelWork)()
	}
	d.checkFull()
	if download && ctx.Err() == nil && d.full == nil {
		d.download(work)
	}
	// The batches the round records are uploaded beside the taking of the
	// next files, and every batch waiting once all are taken.
	up := d.startUploads(ctx, work)
	defer up.finish(false) // a panic or a fatal error: no last pass
	if err := d.outbound(ctx, work, up.kick); err != nil {
		return d.stop(err)
	}
	up.finish(true)
	if err := d.inbound(ctx, work); err != nil {
		return d.stop(err)
	}
	d.settleBatches(work)
	d.checkAlarms(work)
	d.countBatches(work)
	d.purgeDaily(work)
	return nil
}

// stop says why refundd stops on a fatal error and returns it.
func (d *Daemon) stop(err error) error {
	if errors.Is(err, store.ErrNotLeader) || errors.Is(err, ErrLeadershipLost) {
		if !errors.Is(err, ErrLeadershipLost) {
			err = fmt.Errorf("%w: %w", ErrLeadershipLost, err)
		}
		d.lead.lose(err)
		return err
	}
	if d.opts.Readiness != nil {
		d.opts.Readiness.Set("disk", err)
	}
	d.log.Error().Err(err).Msg("refundd stops: a write could not be made durable or the state store is broken; " +
		"nothing was recorded for the file in work, which is taken again after a restart once the disk is checked")
	return err
}

// fatal reports whether err means that refundd must stop: a failed fsync
// (the data may be lost although a later fsync succeeds) or a store that
// fails its checks.
func fatal(err error) bool {
	return errors.Is(err, fsync.ErrSync) || errors.Is(err, store.ErrNotLeader) || errors.Is(err, ErrLeadershipLost) ||
		errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrSchemaTooNew)
}

// countBatches sets the batch gauge from the store's counts by status,
// which it reads from the status index, not from the batches themselves,
// and the gauge of refunds to re-release, only when the store has a new
// event: every change of a batch's or refund's status records one,
// whichever process makes it, and so does a re-release's new batch.
func (d *Daemon) countBatches(ctx context.Context) {
	last, err := d.store.LastEvent(ctx)
	if err != nil {
		d.log.Warn().Err(err).Msg("counting batches failed")
		return
	}
	if last == d.counted {
		return
	}
	byStatus, err := d.store.BatchCounts(ctx)
	if err != nil {
		d.log.Warn().Err(err).Msg("counting batches failed")
		return
	}
	counts := map[string]int{}
	for _, s := range store.BatchStatuses() {
		counts[string(s)] = byStatus[s]
	}
	toRerelease, err := d.store.ToRerelease(ctx)
	if err != nil {
		d.log.Warn().Err(err).Msg("counting refunds to re-release failed")
		return
	}
	d.metrics.SetBatches(counts)
	d.metrics.SetToRerelease(toRerelease)
	d.counted = last
}

// logErr logs an error of a notification to systemd.
func logErr(log zerolog.Logger, err error) {
	if err != nil {
		log.Warn().Err(err).Msg("systemd notification failed")
	}
}
