package main

import (
	"fmt"
	"io"

	"refundd/daemon"
)

// cmdResolve records an operator's decision on a batch in doubt.
func cmdResolve(args []string, stdout, stderr io.Writer) int {
	var cf commonFlags
	fs := newFlagSet("resolve", stderr, &cf, false)
	sent := fs.String("sent", "", "confirm that the in-doubt batch `MSGID` reached AutoPay")
	release := fs.String("release", "", "release the in-doubt batch `MSGID` for a resend of the same file")
	if !parse(fs, args, "usage: refundd resolve -config FILE (-sent MSGID | -release MSGID)\n\n"+
		"Settles a batch whose upload's outcome is unknown (in-doubt). Check in AutoPay first:\n"+
		"-sent when AutoPay has the file; -release when it has not: the daemon then uploads\n"+
		"the same file, with the same MsgId and EndToEndIds, so the bank can refuse a duplicate.\n\n", func() bool { return fs.NArg() == 0 && (*sent == "") != (*release == "") }) {
		return exitUsage
	}
	s, err := cf.open(true)
	if err != nil {
		fmt.Fprintf(stderr, "refundd resolve: %v\n", err)
		return exitFailure
	}
	defer s.close()
	msgID, how := *sent, daemon.ResolveSent
	if *release != "" {
		msgID, how = *release, daemon.ResolveRelease
	}
	to, err := daemon.Resolve(s.ctx, s.store, msgID, how)
	if err != nil {
		fmt.Fprintf(stderr, "refundd resolve: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "%s: %s\n", msgID, to)
	return exitOK
}

// cmdRerelease puts refunds that the bank rejected into a new batch.
func cmdRerelease(args []string, stdout, stderr io.Writer) int {
	var cf commonFlags
	fs := newFlagSet("rerelease", stderr, &cf, false)
	if !parse(fs, args, "usage: refundd rerelease -config FILE ENDTOENDID...\n\n"+
		"Pays refunds again that the bank rejected (or returned): they go into a new batch\n"+
		"with the next attempt of their ERP batch (a new MsgId) and each with its next\n"+
		"release (a new EndToEndId), read again from the archived batch file and checked\n"+
		"against today's rules. The daemon uploads the new batch. All refunds must be of\n"+
		"one ERP batch.\n\n", func() bool { return fs.NArg() > 0 }) {
		return exitUsage
	}
	s, err := cf.open(true)
	if err != nil {
		fmt.Fprintf(stderr, "refundd rerelease: %v\n", err)
		return exitFailure
	}
	defer s.close()
	b, err := daemon.Rerelease(s.ctx, s.cfg, s.store, fs.Args(), s.now)
	if err != nil {
		fmt.Fprintf(stderr, "refundd rerelease: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "batch %s attempt %d: MsgId %s, %d refund(s), %s\n", b.Number, b.Attempt, b.MsgID, b.NbOfTxs, b.Status)
	return exitOK
}

func cmdRelease(args []string, stdout, stderr io.Writer) int {
	var cf commonFlags
	fs := newFlagSet("release", stderr, &cf, false)
	why := fs.String("reason", "", "why the new account is right (recorded with the user running the command)")
	if !parse(fs, args, "usage: refundd release -config FILE -reason TEXT REFNBR...\n\n"+
		"Sends refunds that the account guard held back (batches.account_guard: hold):\n"+
		"they go into a new batch with the next attempt of their ERP batch (a new MsgId),\n"+
		"read again from the archived batch file and checked against today's rules. The\n"+
		"reason and the user running the command are recorded. The daemon uploads the\n"+
		"new batch. All refunds must be of one ERP batch; write DocType:RefNbr when two\n"+
		"held documents share a number.\n\n", func() bool { return fs.NArg() > 0 }) {
		return exitUsage
	}
	s, err := cf.open(true)
	if err != nil {
		fmt.Fprintf(stderr, "refundd release: %v\n", err)
		return exitFailure
	}
	defer s.close()
	b, err := daemon.Release(s.ctx, s.cfg, s.store, fs.Args(), *why, s.now)
	if err != nil {
		fmt.Fprintf(stderr, "refundd release: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "batch %s attempt %d: MsgId %s, %d refund(s), %s\n", b.Number, b.Attempt, b.MsgID, b.NbOfTxs, b.Status)
	return exitOK
}
