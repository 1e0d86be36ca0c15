//go:build !unix

package failpoint

import "os"

// killSelf ends the process at once, without running deferred functions.
func killSelf() { os.Exit(137) }

// stopSelf cannot stop the process here; it goes on.
func stopSelf() {}
