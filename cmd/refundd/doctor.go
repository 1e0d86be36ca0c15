package main

import (
	"fmt"
	"io"

	"refundd/daemon/doctor"
)

// cmdDoctor checks the configuration, the folders, the key files and the
// connection to AutoPay, one line per check.
func cmdDoctor(args []string, stdout, stderr io.Writer) int {
	var cf commonFlags
	fs := newFlagSet("doctor", stderr, &cf, false)
	if !parse(fs, args, "usage: refundd doctor -config FILE\n\n"+
		"Checks the configuration, the folders and their permissions, the SFTP key files,\n"+
		"the connection to AutoPay, its host key, the login, the listing of the upload and\n"+
		"download folders, and writing and removing a probe file in the upload folder.\n"+
		"Prints one line per check, \"ok\" or \"FAIL\" with the reason; exit 1 if any fails.\n\n", func() bool { return fs.NArg() == 0 }) {
		return exitUsage
	}
	s, err := cf.open(false)
	if err != nil {
		fmt.Fprintf(stdout, "FAIL  %v\n", err)
		return exitFailure
	}
	defer s.close()
	code := exitOK
	for _, c := range doctor.Run(s.ctx, s.cfg) {
		if !c.OK() {
			fmt.Fprintf(stdout, "FAIL  %s: %v\n", c.Name, c.Err)
			code = exitFailure
			continue
		}
		fmt.Fprintf(stdout, "ok    %s: %s\n", c.Name, c.Detail)
	}
	return code
}
