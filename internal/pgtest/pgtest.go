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
	"os"
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

// Schema returns the test server's URL and the name of a new, unused
// schema, which is dropped with everything in it when the test ends.
func Schema(t testing.TB) (url, schema string) {
	t.Helper()
	url = URL(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema = "t_" + hex.EncodeToString(b)
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
