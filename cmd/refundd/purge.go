package main

import (
	"fmt"
	"io"

	"refundd/daemon"
)

// cmdPurge shows, and unless -dry-run does, the retention purge that the
// daemon runs once a day.
func cmdPurge(args []string, stdout, stderr io.Writer) int {
	var cf commonFlags
	fs := newFlagSet("purge", stderr, &cf, true)
	dryRun := fs.Bool("dry-run", false, "show what would be purged, and change nothing")
	if !parse(fs, args, "usage: refundd purge -config FILE [-dry-run] [-now TIME]\n\n"+
		"Purges the personal data whose retention (retention.keep) has ended, as the\n"+
		"daemon does once a day: of every batch completed, rejected or rejected-by-bank\n"+
		"before the cut-off, with no open note, the payees' accounts, the customers,\n"+
		"the bank's reason texts, the notes' reasons and the pain.001 in the store (the\n"+
		"amounts, ids, statuses and events stay), its archived batch file and outbox\n"+
		"copy, and the bank replies archived in months before the cut-off that concern\n"+
		"only such batches. Prints the cut-off and the counts of batches, refunds,\n"+
		"notes, files and bytes; -dry-run prints what would go.\n\n", func() bool { return fs.NArg() == 0 }) {
		return exitUsage
	}
	s, err := cf.open(false)
	if err != nil {
		fmt.Fprintf(stderr, "refundd purge: %v\n", err)
		return exitFailure
	}
	defer s.close()
	if _, on := s.cfg.KeepYears(); !on {
		fmt.Fprintln(stdout, "retention.keep is off: nothing is purged")
		return exitOK
	}
	st, err := daemon.OpenStore(s.ctx, s.cfg)
	if err != nil {
		fmt.Fprintf(stderr, "refundd purge: %v\n", err)
		return exitFailure
	}
	defer st.Close() // written in transactions that are done
	rep, err := daemon.Purge(s.ctx, s.cfg, st, s.now, *dryRun)
	if rep.Years > 0 {
		writePurge(stdout, rep)
	}
	if err != nil {
		fmt.Fprintf(stderr, "refundd purge: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// writePurge writes the report of a purge: the cut-off, what went (or
// would go), and the old files kept.
func writePurge(w io.Writer, rep daemon.PurgeReport) {
	fmt.Fprintf(w, "retention %dy: batches settled before %s (%s) have expired\n",
		rep.Years, rep.Cutoff.Format("2006-01-02"), rep.Cutoff.Location())
	verb := "purged"
	if rep.DryRun {
		verb = "would purge (dry run)"
	}
	fmt.Fprintf(w, "%s: %s\n", verb, rep.PurgeCount)
	if rep.Kept > 0 {
		fmt.Fprintf(w, "kept: %d archived files of months before the cut-off: batch files of batches that are kept or not known, "+
			"replies archived since the oldest batch kept (%s) was recorded\n", rep.Kept, orNone(rep.OldestKept))
	}
}

// orNone returns s, or "none" for "".
func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
