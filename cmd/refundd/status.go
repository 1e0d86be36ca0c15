package main

import (
	"errors"
	"fmt"
	"io"

	"refundd/daemon/status"
	"refundd/daemon/store"
)

// cmdStatus shows the batches and, for one batch, its refunds.
func cmdStatus(args []string, stdout, stderr io.Writer) int {
	var cf commonFlags
	fs := newFlagSet("status", stderr, &cf, false)
	asJSON := fs.Bool("json", false, "write JSON")
	if !parse(fs, args, "usage: refundd status [-json] -config FILE [BATCH]\n\n"+
		"Shows every batch with its status, number of refunds, totals and times; with BATCH\n"+
		"(the ERP's batch number or a MsgId) its refunds with their status, the bank's reason\n"+
		"code and text, EndToEndId and times. With the PostgreSQL store the first line says\n"+
		"which instance leads, at which epoch, since when and how long its lease runs.\n\n", func() bool { return fs.NArg() <= 1 }) {
		return exitUsage
	}
	s, err := cf.open(true)
	if err != nil {
		fmt.Fprintf(stderr, "refundd status: %v\n", err)
		return exitFailure
	}
	defer s.close()
	view, err := status.Read(s.ctx, s.store, fs.Arg(0))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			fmt.Fprintf(stderr, "refundd status: no batch %s\n", fs.Arg(0))
		} else {
			fmt.Fprintf(stderr, "refundd status: %v\n", err)
		}
		return exitFailure
	}
	if !*asJSON {
		leader, err := status.LeaderOf(s.ctx, s.store, nil)
		if err == nil {
			err = status.WriteLeader(stdout, leader)
		}
		if err != nil {
			fmt.Fprintf(stderr, "refundd status: %v\n", err)
			return exitFailure
		}
		fmt.Fprint(stdout, bankingDays(s.cfg, s.now)+"\n")
	}
	// The refunds of a batch are written as they are read: a batch of
	// any size is never held whole.
	if err := view.Stream(s.ctx, stdout, s.store, *asJSON); err != nil {
		fmt.Fprintf(stderr, "refundd status: %v\n", err)
		return exitFailure
	}
	return exitOK
}
