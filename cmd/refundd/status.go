package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"refundd/daemon"
	"refundd/daemon/store"
)

// cmdStatus shows the batches and, for one batch, its refunds.
func cmdStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", daemon.DefaultConfigPath, "configuration `file`")
	asJSON := fs.Bool("json", false, "write JSON")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: refundd status [-json] -config FILE [BATCH]\n\n"+
			"Shows every batch with its status, number of refunds, totals and times; with BATCH\n"+
			"(the ERP's batch number or a MsgId) its refunds with their status, the bank's reason\n"+
			"code and text, EndToEndId and times.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return exitUsage
	}
	cfg, err := daemon.LoadConfig(*config)
	if err != nil {
		fmt.Fprintf(stderr, "refundd status: %v\n", err)
		return exitFailure
	}
	s, err := daemon.OpenStore(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "refundd status: %v\n", err)
		return exitFailure
	}
	defer s.Close()
	ctx, stop := signalContext()
	defer stop()
	bs, err := daemon.Status(ctx, s, fs.Arg(0))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			fmt.Fprintf(stderr, "refundd status: no batch %s\n", fs.Arg(0))
		} else {
			fmt.Fprintf(stderr, "refundd status: %v\n", err)
		}
		return exitFailure
	}
	if err := daemon.WriteStatus(stdout, bs, *asJSON); err != nil {
		fmt.Fprintf(stderr, "refundd status: %v\n", err)
		return exitFailure
	}
	return exitOK
}
