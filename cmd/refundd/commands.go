package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"refundd/daemon"
	"refundd/daemon/config"
	"refundd/daemon/obs"
	"refundd/daemon/refund"
	"refundd/daemon/render"
	"refundd/daemon/store"
	"refundd/daemon/validate"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // failure or invalid input
	exitUsage   = 2
)

const usage = `usage: refundd <command> [flags] [args]

commands:
  render   -config FILE [-now TIME] BATCHFILE   write the pain.001 of a batch to stdout
  validate -config FILE [-now TIME] FILE...     check batch, pain.001, pain.002, camt.054 and camt.053 files
  run      [-once] [-no-events] -config FILE    run the daemon (-once: process what is pending and exit;
                                               -no-events: find files by rescans only, for NFS or SMB)
  status   [-json] -config FILE [BATCH]         batches, or the refunds of one batch, with their status
  resolve  -config FILE -sent|-release MSGID    settle a batch whose upload is in doubt
  rerelease -config FILE ENDTOENDID...          pay refunds the bank rejected again, in a new batch
  release  -config FILE -reason TEXT REFNBR...  send refunds the account guard held back, in a new batch
  doctor   -config FILE                         check folders, keys and the SFTP connection to AutoPay
  backup   -config FILE DEST                    write a checked copy of the state database while refundd runs
  purge    -config FILE [-dry-run] [-now TIME]  purge the personal data whose retention ended (retention.keep)
  sandbox  [-dir DIR] [-once]                   run refundd against a local AutoPay stand-in with an example batch
  version  [-json]                              print the version, revision, build and the messages read and written

Run "refundd <command> -h" for the flags of a command.
`

// run executes one command and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "render":
		return cmdRender(args[1:], stdout, stderr)
	case "validate":
		return cmdValidate(args[1:], stdout, stderr)
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "status":
		return cmdStatus(args[1:], stdout, stderr)
	case "resolve":
		return cmdResolve(args[1:], stdout, stderr)
	case "rerelease":
		return cmdRerelease(args[1:], stdout, stderr)
	case "release":
		return cmdRelease(args[1:], stdout, stderr)
	case "doctor":
		return cmdDoctor(args[1:], stdout, stderr)
	case "backup":
		return cmdBackup(args[1:], stdout, stderr)
	case "purge":
		return cmdPurge(args[1:], stdout, stderr)
	case "sandbox":
		return cmdSandbox(args[1:], stdout, stderr)
	case "version":
		return cmdVersion(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "refundd: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// commonFlags are the flags of the commands that read the configuration.
type commonFlags struct {
	config string
	now    string
}

// newFlagSet returns the flag set of a command with -config and, when
// withNow, -now.
func newFlagSet(name string, stderr io.Writer, cf *commonFlags, withNow bool) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cf.config, "config", config.DefaultConfigPath, "configuration `file`")
	if withNow {
		fs.StringVar(&cf.now, "now", "", "fix the clock, e.g. 2026-12-01T09:00:00 (local time of the configured time zone), for reproducible output")
	}
	return fs
}

// parse gives fs the usage text usage (followed by the flags), parses
// args and checks the operands with ok; it reports false, having printed
// the usage, when the command is to end with exitUsage.
func parse(fs *flag.FlagSet, args []string, usage string, ok func() bool) bool {
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return false
	}
	if !ok() {
		fs.Usage()
		return false
	}
	return true
}

// session is what a command works with once its flags are read: the
// configuration, the time, a context that ends on SIGINT or SIGTERM and,
// when asked for, the state store.
type session struct {
	cfg   *config.Config
	now   time.Time
	ctx   context.Context
	store *store.Store // nil unless open was asked for it
	stop  context.CancelFunc
}

// open does the set-up every command shares: it loads the configuration,
// decides the time (-now), starts the signal context and, withStore, opens
// the existing state store beside a running daemon. Call close when done.
func (cf *commonFlags) open(withStore bool) (*session, error) {
	cfg, err := config.Load(cf.config)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if cf.now != "" {
		if now, err = parseNow(cf.now, cfg.Location()); err != nil {
			return nil, err
		}
	}
	s := &session{cfg: cfg, now: now}
	if withStore {
		if s.store, err = daemon.OpenStore(context.Background(), cfg); err != nil {
			return nil, err
		}
	}
	s.ctx, s.stop = signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	return s, nil
}

// close releases what open set up.
func (s *session) close() {
	s.stop()
	if s.store != nil {
		s.store.Close() // read or written in transactions that are done
	}
}

func parseNow(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("-now %q: want a time like 2026-12-01T09:00:00", s)
}

func cmdRender(args []string, stdout, stderr io.Writer) int {
	var cf commonFlags
	fs := newFlagSet("render", stderr, &cf, true)
	if !parse(fs, args, "usage: refundd render -config FILE [-now TIME] BATCHFILE\n\nValidates a refund batch and writes its pain.001 to stdout. Nothing is recorded.\n\n", func() bool { return fs.NArg() == 1 }) {
		return exitUsage
	}
	s, err := cf.open(false)
	if err != nil {
		fmt.Fprintf(stderr, "refundd render: %v\n", err)
		return exitFailure
	}
	defer s.close()
	if err := render.File(s.cfg, fs.Arg(0), s.now, stdout, stderr); err != nil {
		if !errors.Is(err, render.ErrInvalidBatch) {
			fmt.Fprintf(stderr, "refundd render: %v\n", err)
		}
		return exitFailure
	}
	return exitOK
}

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	var cf commonFlags
	fs := newFlagSet("validate", stderr, &cf, true)
	if !parse(fs, args, "usage: refundd validate -config FILE [-now TIME] FILE...\n\nChecks refund batches (.csv, .json) and ISO 20022 files (.xml: pain.001, pain.002,\ncamt.054, camt.053, told by their namespace) and says what each is.\n\n", func() bool { return fs.NArg() > 0 }) {
		return exitUsage
	}
	s, err := cf.open(false)
	if err != nil {
		fmt.Fprintf(stderr, "refundd validate: %v\n", err)
		return exitFailure
	}
	defer s.close()
	fmt.Fprint(stdout, bankingDays(s.cfg, s.now))
	code := exitOK
	for _, path := range fs.Args() {
		r, err := validate.File(s.cfg, path, s.now)
		if err != nil {
			fmt.Fprintf(stdout, "%s: INVALID: %v\n", path, err)
			code = exitFailure
			continue
		}
		verdict := "valid"
		if r.Invalid {
			verdict = "INVALID"
			code = exitFailure
		}
		fmt.Fprintf(stdout, "%s: %s: %s: %s\n", path, r.Kind, verdict, r.Summary)
		for _, p := range r.Problems {
			fmt.Fprintf(stdout, "  %s\n", p)
		}
	}
	return code
}

// bankingDays is the line of the validate and status commands that names
// the next banking days from today in the configured time zone, and the
// days the configuration closes or opens soon.
func bankingDays(cfg *config.Config, now time.Time) string {
	today := refund.DateOf(now.In(cfg.Location()))
	return "next banking days: " + cfg.BankingCalendar().Outlook(today) + "\n"
}

// cmdVersion prints which build runs: its version, revision and build
// details, and the messages it writes and reads; -json as one object.
func cmdVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object")
	if !parse(fs, args, "usage: refundd version [-json]\n\n"+
		"Prints the version, the VCS revision and time and whether the tree was\n"+
		"modified, the Go version and platform, and the ISO 20022 messages refundd\n"+
		"writes and reads.\n\n", func() bool { return fs.NArg() == 0 }) {
		return exitUsage
	}
	if err := writeVersion(stdout, obs.BuildInfo(version), *asJSON); err != nil {
		fmt.Fprintf(stderr, "refundd version: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// writeVersion writes b as aligned lines, or asJSON as one JSON object.
func writeVersion(w io.Writer, b obs.Build, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(b)
	}
	known := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	var out strings.Builder
	for _, l := range [][2]string{
		{"refundd", b.Version},
		{"revision", known(b.Revision)},
		{"time", known(b.Time)},
		{"modified", strconv.FormatBool(b.Modified)},
		{"go", b.GoVersion},
		{"platform", b.Platform},
		{"writes", strings.Join(b.Writes, ", ")},
		{"reads", strings.Join(b.Reads, ", ")},
	} {
		fmt.Fprintf(&out, "%-9s %s\n", l[0], l[1])
	}
	_, err := io.WriteString(w, out.String())
	return err
}
