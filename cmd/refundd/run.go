package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"refundd/daemon/status"
	"refundd/daemon/webhook"

	"github.com/rs/zerolog"

	"refundd/daemon"
	"refundd/daemon/config"
	"refundd/daemon/failpoint"
	"refundd/daemon/lock"
	"refundd/daemon/notify"
	"refundd/daemon/obs"
)

// cmdRun runs the daemon, or with -once everything pending, then exits.
func cmdRun(args []string, stdout, stderr io.Writer) int {
	var cf commonFlags
	fs := newFlagSet("run", stderr, &cf, false)
	once := fs.Bool("once", false, "process everything pending in every folder (export, inbox, the AutoPay download folder), then exit")
	noEvents := fs.Bool("no-events", false, "find files by the scheduled rescans only (folders on NFS or SMB)")
	if !parse(fs, args, "usage: refundd run [-once] [-no-events] -config FILE\n\n"+
		"Runs the daemon: batches from the export folder to AutoPay, the bank's replies\n"+
		"into the import folder. SIGTERM or SIGINT finish the current step and stop;\n"+
		"SIGHUP reloads the configuration (an invalid one is refused, the old one stays).\n\n", func() bool { return fs.NArg() == 0 }) {
		return exitUsage
	}
	if err := failpoint.Check(); err != nil {
		fmt.Fprintf(stderr, "refundd run: %v\n", err)
		return exitFailure
	}
	sess, err := cf.open(false)
	if err != nil {
		fmt.Fprintf(stderr, "refundd run: %v\n", err)
		return exitFailure
	}
	defer sess.close()
	cfg, ctx := sess.cfg, sess.ctx
	format, out := cfg.Log.Format, obs.Output{}
	if f, ok := stdout.(*os.File); ok {
		// Under systemd: each line with its priority for the journal.
		out = obs.DetectOutput(f)
		if out.Terminal && format == obs.FormatJSON {
			format = obs.FormatAuto // human-readable on a terminal
		}
	}
	log, err := obs.NewLoggerTo(stdout, cfg.Log.Level, format, out)
	if err != nil {
		fmt.Fprintf(stderr, "refundd run: %v\n", err)
		return exitFailure
	}

	reload := make(chan struct{}, 1)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				select {
				case reload <- struct{}{}:
				default: // one waiting reload covers this one
				}
			}
		}
	}()

	metrics := obs.NewMetrics()
	metrics.SetBuild(obs.BuildInfo(version))
	ready := obs.NewReadiness("config", "store", "sftp")
	d, err := daemon.New(cfg, daemon.Options{Logger: log, Metrics: metrics, Readiness: ready, ConfigPath: cf.config, NoEvents: *noEvents})
	if err != nil {
		var le *lock.LockedError
		if errors.As(err, &le) {
			fmt.Fprintf(stderr, "refundd run: %v; only one refundd may use a state folder\n", le)
		} else {
			fmt.Fprintf(stderr, "refundd run: %v\n", err)
		}
		log.Error().Err(err).Msg("not started")
		return exitFailure
	}
	defer d.Close()

	if *once {
		log.Info().Str(obs.FieldFile, cfg.File).Msg("processing what is pending")
		if err := d.RunOnce(ctx); err != nil {
			log.Error().Err(err).Msg("stopped with error")
			return exitFailure
		}
		log.Info().Msg("done")
		return exitOK
	}
	return serve(ctx, d, cfg, log, metrics, ready, reload)
}

// serve runs the daemon with its HTTP endpoints and systemd's watchdog
// until ctx ends.
func serve(ctx context.Context, d *daemon.Daemon, cfg *config.Config, log zerolog.Logger, metrics *obs.Metrics, ready *obs.Readiness, reload <-chan struct{}) int {
	inner, cancel := context.WithCancel(ctx)
	defer cancel()
	httpDone := make(chan error, 1)
	if cfg.HTTP.Listen != "" {
		build := obs.BuildInfo(version)
		srv, err := obs.NewHTTPServer(obs.HTTPConfig{Addr: cfg.HTTP.Listen, WebConfigFile: cfg.HTTP.WebConfigFile,
			Ready: ready.Err, Metrics: metrics, Logger: log, Build: &build, Health: d})
		if err == nil {
			handleStatus(srv, d, cfg)
			err = srv.Listen()
		}
		if err != nil {
			log.Error().Err(err).Msg("not started")
			return exitFailure
		}
		go func() { httpDone <- srv.Serve(inner) }()
	} else {
		httpDone <- nil
	}
	go func() {
		if err := notify.Watchdog(inner, alive(d, log)); err != nil {
			log.Warn().Err(err).Msg("systemd watchdog")
		}
	}()
	log.Info().Str(obs.FieldFile, cfg.File).Str("state", cfg.Paths.State).Msg("started")
	if err := notify.Ready(); err != nil {
		log.Warn().Err(err).Msg("systemd notification failed")
	}
	err := d.Run(inner, reload)
	if nerr := notify.Stopping(); nerr != nil {
		log.Warn().Err(nerr).Msg("systemd notification failed")
	}
	cancel()
	if herr := <-httpDone; herr != nil {
		log.Warn().Err(herr).Msg("http server")
	}
	if err != nil {
		log.Error().Err(err).Msg("stopped with error")
		return exitFailure
	}
	log.Info().Msg("stopped")
	return exitOK
}

// alive is the health check of systemd's watchdog: the daemon's Alive,
// logged once when it fails (the pings stop, and systemd kills and
// restarts refundd).
func alive(d *daemon.Daemon, log zerolog.Logger) func() error {
	var logged bool
	return func() error {
		err := d.Alive()
		if err != nil && !logged {
			log.Error().Err(err).Msg("refundd is stuck: the systemd watchdog is no longer pinged and will restart it")
		}
		logged = err != nil
		return err
	}
}

// handleStatus adds the status page and its JSON API to srv.
func handleStatus(srv *obs.HTTPServer, d *daemon.Daemon, cfg *config.Config) {
	status.HandleWith(srv, d.Store(), status.Options{Self: self(d, cfg), Health: srv.Health, Config: cfg.File,
		Failed: []status.FailedDir{{Kind: "export", Dir: filepath.Join(cfg.Paths.Export, "failed")},
			{Kind: "inbox", Dir: filepath.Join(cfg.Paths.Inbox, "failed")}}})
	// The delivery state of each webhook of the running configuration.
	srv.Handle("GET /api/webhooks", webhook.Handler(d.Store(), d.Hooks))
	// 200 while this instance leads its company, 503 while it stands by
	// (or has lost the lease): for a load balancer or a check that wants
	// the leader.
	srv.Handle("GET /leaderz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		st := d.Leadership().State()
		if !st.Leading {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "standby: %s does not lead\n", cfg.HA.Instance)
			return
		}
		fmt.Fprintf(w, "leader: %s at epoch %d\n", cfg.HA.Instance, st.Lease.Epoch)
	}))
}

// self names this instance and its role for the status page.
func self(d *daemon.Daemon, cfg *config.Config) status.Self {
	return func() (string, string) {
		if d.Leadership().State().Leading {
			return cfg.HA.Instance, "leader"
		}
		return cfg.HA.Instance, "standby"
	}
}

// statusPage serves the status page, for tests.
func statusPage(d *daemon.Daemon) http.Handler {
	mux := http.NewServeMux()
	status.Handle(mux, d.Store(), nil)
	return mux
}
