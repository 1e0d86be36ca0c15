package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"refundd/daemon"
)

// cmdDoctor checks the configuration, the folders, the key files and the
// connection to AutoPay, one line per check.
func cmdDoctor(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", daemon.DefaultConfigPath, "configuration `file`")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: refundd doctor -config FILE\n\n"+
			"Checks the configuration, the folders and their permissions, the SFTP key files,\n"+
			"the connection to AutoPay, its host key, the login, the listing of the upload and\n"+
			"download folders, and writing and removing a probe file in the upload folder.\n"+
			"Prints one line per check, \"ok\" or \"FAIL\" with the reason; exit 1 if any fails.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return exitUsage
	}
	cfg, err := daemon.LoadConfig(*config)
	if err != nil {
		fmt.Fprintf(stdout, "FAIL  %v\n", err)
		return exitFailure
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := exitOK
	for _, c := range daemon.Doctor(ctx, cfg) {
		if !c.OK() {
			fmt.Fprintf(stdout, "FAIL  %s: %v\n", c.Name, c.Err)
			code = exitFailure
			continue
		}
		fmt.Fprintf(stdout, "ok    %s: %s\n", c.Name, c.Detail)
	}
	return code
}
