package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"refundd/daemon"
)

// signalContext is the context of the short commands: it ends on SIGINT
// or SIGTERM. Call stop when done.
func signalContext() (ctx context.Context, stop context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// cmdResolve records an operator's decision on a batch in doubt.
func cmdResolve(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("resolve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", daemon.DefaultConfigPath, "configuration `file`")
	sent := fs.String("sent", "", "confirm that the in-doubt batch `MSGID` reached AutoPay")
	release := fs.String("release", "", "release the in-doubt batch `MSGID` for a resend of the same file")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: refundd resolve -config FILE (-sent MSGID | -release MSGID)\n\n"+
			"Settles a batch whose upload's outcome is unknown (in-doubt). Check in AutoPay first:\n"+
			"-sent when AutoPay has the file; -release when it has not: the daemon then uploads\n"+
			"the same file, with the same MsgId and EndToEndIds, so the bank can refuse a duplicate.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 0 || (*sent == "") == (*release == "") {
		fs.Usage()
		return exitUsage
	}
	cfg, err := daemon.LoadConfig(*config)
	if err != nil {
		fmt.Fprintf(stderr, "refundd resolve: %v\n", err)
		return exitFailure
	}
	s, err := daemon.OpenStore(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "refundd resolve: %v\n", err)
		return exitFailure
	}
	defer s.Close()
	msgID, how := *sent, daemon.ResolveSent
	if *release != "" {
		msgID, how = *release, daemon.ResolveRelease
	}
	ctx, stop := signalContext()
	defer stop()
	to, err := daemon.Resolve(ctx, s, msgID, how)
	if err != nil {
		fmt.Fprintf(stderr, "refundd resolve: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "%s: %s\n", msgID, to)
	return exitOK
}

// cmdRerelease puts refunds that the bank rejected into a new batch.
func cmdRerelease(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rerelease", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", daemon.DefaultConfigPath, "configuration `file`")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: refundd rerelease -config FILE ENDTOENDID...\n\n"+
			"Pays refunds again that the bank rejected (or returned): they go into a new batch\n"+
			"with the next attempt of their ERP batch (a new MsgId) and each with its next\n"+
			"release (a new EndToEndId), read again from the archived batch file and checked\n"+
			"against today's rules. The daemon uploads the new batch. All refunds must be of\n"+
			"one ERP batch.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	cfg, err := daemon.LoadConfig(*config)
	if err != nil {
		fmt.Fprintf(stderr, "refundd rerelease: %v\n", err)
		return exitFailure
	}
	s, err := daemon.OpenStore(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "refundd rerelease: %v\n", err)
		return exitFailure
	}
	defer s.Close()
	ctx, stop := signalContext()
	defer stop()
	b, err := daemon.Rerelease(ctx, cfg, s, fs.Args(), time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "refundd rerelease: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "batch %s attempt %d: MsgId %s, %d refund(s), %s\n", b.Number, b.Attempt, b.MsgID, b.NbOfTxs, b.Status)
	return exitOK
}
