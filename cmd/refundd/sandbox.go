package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"refundd/daemon/config"
	"refundd/daemon/status"

	"refundd/daemon"
	"refundd/daemon/obs"
	"refundd/daemon/refund"
	"refundd/daemon/sandbox"
	"refundd/daemon/spool"
)

// sandboxOptions are the settings of a sandbox run.
type sandboxOptions struct {
	dir   string        // working folder; "" means a new temporary folder
	once  bool          // stop when the example batch is complete
	delay time.Duration // the bank's delay between steps
	http  string        // address of the status page
	// postings is the format of the postings (ledger.format).
	postings string
	// limit bounds a run with once.
	limit time.Duration
	// onComplete, when set, is called with the status page's URL when
	// the example batch is complete, before a run with once stops.
	onComplete func(statusURL string)
}

// cmdSandbox runs the daemon against the AutoPay stand-in.
func cmdSandbox(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o sandboxOptions
	fs.StringVar(&o.dir, "dir", "", "working `folder` (created with configuration, keys and an example batch when new); default a new temporary folder")
	fs.BoolVar(&o.once, "once", false, "exit when the example batch is complete (every refund booked, rejected or returned, and posted)")
	fs.DurationVar(&o.delay, "delay", 0, "the simulated bank's time between pick-up, receipt, status, booking and return (default 3s, 1s with -once)")
	fs.StringVar(&o.http, "http", "127.0.0.1:0", "`address` of the status page (port 0: any free port)")
	fs.StringVar(&o.postings, "postings", "refundd", "`format` of the postings for the ERP: refundd, visma-csv or visma-json (ledger.format)")
	if !parse(fs, args, "usage: refundd sandbox [-dir DIR] [-once] [-postings FORMAT]\n\n"+
		"Runs refundd against a stand-in for AutoPay on 127.0.0.1: an SFTP server and a\n"+
		"simulated bank that answers each payment file with a receipt, a status and a\n"+
		"booking. A new working folder gets a configuration, keys and an example batch\n"+
		"with a refund the bank rejects and one it returns. Stop it with Ctrl-C.\n\n", func() bool { return fs.NArg() == 0 }) {
		return exitUsage
	}
	if o.delay == 0 {
		o.delay = sandbox.DefaultDelay
		if o.once {
			o.delay = time.Second
		}
	}
	o.limit = time.Minute
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runSandbox(ctx, o, stdout); err != nil {
		fmt.Fprintf(stderr, "refundd sandbox: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// runSandbox starts the stand-in and the daemon, and runs until ctx ends,
// or with o.once until the example batch is complete.
func runSandbox(ctx context.Context, o sandboxOptions, stdout io.Writer) error {
	if o.dir == "" {
		d, err := os.MkdirTemp("", "refundd-sandbox-")
		if err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		o.dir = d
	}
	terminal := false
	if f, ok := stdout.(*os.File); ok {
		terminal = obs.IsTerminal(f)
	}
	log, err := obs.NewLogger(stdout, "info", "console", terminal)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	sb, err := sandbox.Start(sandbox.Config{Dir: o.dir, Delay: o.delay, Logger: log, Postings: o.postings})
	if err != nil {
		return err
	}
	defer sb.Close()
	fmt.Fprintf(stdout, "sandbox folder %s\n  configuration %s\n  AutoPay stand-in sftp://%s\n", sb.Dir, sb.Config, sb.Addr())
	if sb.Created {
		fmt.Fprintf(stdout, "  example batch %s in %s:\n"+
			"    %s to 9710.00.00044 is rejected by the bank (AC04, closed account)\n"+
			"    %s to 9710.00.00052 is booked, then returned (AC04)\n"+
			"    %s to 9710.00.00060 is pending, then accepted and booked; the others are booked\n",
			sandbox.ExampleBatchNumber, sb.Path("export"), sandbox.ExampleRejected, sandbox.ExampleReturned, sandbox.ExamplePending)
	}
	cfg, err := config.Load(sb.Config)
	if err != nil {
		return err
	}
	build := obs.BuildInfo(version)
	metrics := obs.NewMetrics()
	metrics.SetBuild(build)
	ready := obs.NewReadiness("config", "store", "sftp")
	d, err := daemon.New(cfg, daemon.Options{Logger: log, Metrics: metrics, Readiness: ready, RetryMin: time.Second, RetryMax: 5 * time.Second})
	if err != nil {
		return err
	}
	defer d.Close()
	srv, err := obs.NewHTTPServer(obs.HTTPConfig{Addr: o.http, Ready: ready.Err, Metrics: metrics, Logger: log, Build: &build, Health: d})
	if err != nil {
		return err
	}
	handleStatus(srv, d, cfg)
	if err := srv.Listen(); err != nil {
		return err
	}
	statusURL := "http://" + srv.Addr().String() + "/status"
	fmt.Fprintf(stdout, "  status page %s\n\n", statusURL)

	inner, cancel := context.WithCancel(ctx)
	defer cancel()
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Serve(inner) }()
	runDone := make(chan error, 1)
	go func() { runDone <- d.Run(inner, nil) }()

	var deadline <-chan time.Time
	if o.once {
		t := time.NewTimer(o.limit)
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var result error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-runDone:
			runDone <- err
			result = fmt.Errorf("sandbox: the daemon stopped: %w", err)
			break loop
		case <-deadline:
			result = fmt.Errorf("sandbox: the example batch is not complete after %s", o.limit)
			break loop
		case <-tick.C:
			if err := sb.Err(); err != nil {
				result = err
				break loop
			}
			if !o.once {
				continue
			}
			done, err := sandboxComplete(inner, d, sb)
			if err != nil {
				result = err
				break loop
			}
			if done {
				if o.onComplete != nil {
					o.onComplete(statusURL)
				}
				break loop
			}
		}
	}
	cancel()
	if err := <-runDone; err != nil && result == nil {
		result = err
	}
	<-httpDone
	if result != nil {
		return result
	}
	if o.once {
		fmt.Fprintf(stdout, "\nexample batch %s complete.\n", sandbox.ExampleBatchNumber)
		bs, err := status.List(context.WithoutCancel(ctx), d.Store(), sandbox.ExampleBatchNumber)
		if err == nil {
			status.Write(stdout, bs, false)
		}
		fmt.Fprintf(stdout, "\nfiles for the ERP (status, postings, matches, exceptions): %s\n", cfg.Paths.Import)
		fmt.Fprintf(stdout, "payment files sent: %s\npayment files the bank took: %s\nbank replies taken: %s\n",
			filepath.Join(cfg.Paths.State, daemon.OutboxDir), sb.Path(sandbox.BankTakenDir), filepath.Join(cfg.Paths.State, "archive", "inbox"))
		fmt.Fprintf(stdout, "run it again: refundd sandbox -dir %s\n", sb.Dir)
	}
	return nil
}

// sandboxComplete reports whether the example batch is complete: the bank
// has nothing left to do (no upload waiting to be taken away, no reply to
// send), no reply is on its way (on the server, in the inbox, or being
// processed), and every refund of the batch is booked, rejected or
// returned.
func sandboxComplete(ctx context.Context, d *daemon.Daemon, sb *sandbox.Sandbox) (bool, error) {
	if !sb.Bank.Idle() {
		return false, nil
	}
	for _, dir := range []string{filepath.Join(sandbox.AutoPayDir, "outbound"), "inbox", filepath.Join("state", "work", "inbox")} {
		n, err := countFiles(sb.Path(dir))
		if err != nil || n > 0 {
			return false, err
		}
	}
	bs, err := status.List(ctx, d.Store(), sandbox.ExampleBatchNumber)
	if err != nil {
		return false, nil // not recorded yet
	}
	for _, b := range bs {
		for _, r := range b.Items {
			switch refund.Status(r.Status) {
			case refund.StatusBooked, refund.StatusRejected, refund.StatusReturned:
			default:
				return false, nil
			}
		}
	}
	return len(bs) > 0, nil
}

// countFiles counts the regular files in dir (not below it) that are not
// hidden, done markers or .err reports; a missing dir has none.
func countFiles(dir string) (int, error) {
	es, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sandbox: %w", err)
	}
	n := 0
	for _, e := range es {
		name := e.Name()
		if e.Type().IsRegular() && !strings.HasPrefix(name, ".") && !strings.HasSuffix(name, ".err") && !strings.HasSuffix(name, spool.DoneSuffix) {
			n++
		}
	}
	return n, nil
}
