package daemon

import (
	"flag"
	"os"
	"os/exec"
	"testing"

	"refundd/daemon/config"
	"refundd/internal/pgtest"
	"refundd/internal/testutil"
)

// TestOnPostgres runs every test of the package again, in a new process,
// with the state store on PostgreSQL (each test in a schema of its own,
// the spool where a shared folder would be): the daemon does the same
// work on both engines. Tests that are about the SQLite file skip there.
func TestOnPostgres(t *testing.T) {
	if os.Getenv(testutil.StoreEnv) == config.DriverPostgres {
		t.Skip("this run is the one on PostgreSQL")
	}
	pgtest.URL(t)
	if testing.Short() {
		t.Skip("-short")
	}
	run := "."
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		run = f.Value.String()
	}
	args := []string{"-test.count=1", "-test.timeout=20m", "-test.run=" + run}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], args...)
	cmd.Env = append(os.Environ(), testutil.StoreEnv+"="+config.DriverPostgres)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the daemon's tests on PostgreSQL failed: %v\n%s", err, out)
	}
	t.Logf("on PostgreSQL:\n%s", out)
}
