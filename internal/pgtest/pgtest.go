// Package pgtest gives tests a PostgreSQL schema of their own on the
// server that REFUNDD_TEST_PG names (a connection URL). Without it a test
// that needs PostgreSQL is skipped, and fails when CI=true, where the CI
// script starts a server. Only tests import it.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"os"
	"os/exec"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver of database/sql
)

// Env is the variable that names the test server.
const Env = "REFUNDD_TEST_PG"

// URL returns the test server's URL, or skips the test (fails it under
// CI=true) when there is none.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(Env)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI needs a PostgreSQL server for this test (.ci/run starts one)", Env)
		}
		t.Skipf("%s is not set: no PostgreSQL server to test against (scripts/with-postgres starts one)", Env)
	}
	return u
}

// RestartableEnv names a second test server, for the tests that restart
// PostgreSQL (with the pg_ctl that REFUNDD_TEST_PGCTL names): the other
// packages' tests use the first server meanwhile.
const RestartableEnv = "REFUNDD_TEST_PG_RESTARTABLE"

// Schema returns the test server's URL and the name of a new, unused
// schema, which is dropped with everything in it when the test ends.
func Schema(t testing.TB) (url, schema string) {
	t.Helper()
	return schemaOn(t, URL(t))
}

// RestartableSchema is Schema on the restartable server; without one it
// is Schema (and the test must not restart that server).
func RestartableSchema(t testing.TB) (url, schema string, restartable bool) {
	t.Helper()
	if u := os.Getenv(RestartableEnv); u != "" {
		url, schema = schemaOn(t, u)
		return url, schema, true
	}
	url, schema = Schema(t)
	return url, schema, false
}

func schemaOn(t testing.TB, url string) (string, string) {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		if err := Drop(url, schema); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	return url, schema
}

// Drop drops schema and everything in it, if it exists.
func Drop(url, schema string) error {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// schema is a name Schema made: hex digits after "t_".
	_, err = db.ExecContext(ctx, `DROP SCHEMA IF EXISTS "`+schema+`" CASCADE`)
	return err
}

// StoreEnv selects the state store of a package's tests: "postgres" puts
// them on PostgreSQL; otherwise they use SQLite.
const StoreEnv = "REFUNDD_TEST_STORE"

// OnPostgres reports whether this run of the tests is the one on
// PostgreSQL.
func OnPostgres() bool { return os.Getenv(StoreEnv) == "postgres" }

// Rerun runs the tests of the calling test binary again, in a new process
// with StoreEnv=postgres (the same -test.run, and -test.v when given), and
// fails t with their output when they fail. Tests whose names match skip
// (a -test.skip pattern; "" for none) are left out of that run. It skips
// in that second run itself, without a server (see URL), and with -short.
func Rerun(t *testing.T, skip string) {
	t.Helper()
	if OnPostgres() {
		t.Skip("this run is the one on PostgreSQL")
	}
	URL(t)
	if testing.Short() {
		t.Skip("-short")
	}
	run := "."
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		run = f.Value.String()
	}
	args := []string{"-test.count=1", "-test.timeout=20m", "-test.run=" + run}
	if skip != "" {
		args = append(args, "-test.skip="+skip)
	}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], args...)
	cmd.Env = append(os.Environ(), StoreEnv+"=postgres")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tests on PostgreSQL failed: %v\n%s", err, out)
	}
	t.Logf("on PostgreSQL:\n%s", out)
}
