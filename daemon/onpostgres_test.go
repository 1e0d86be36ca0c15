package daemon

import (
	"testing"

	"refundd/internal/pgtest"
)

// TestOnPostgres runs every test of the package again, in a new process,
// with the state store on PostgreSQL (each test in a schema of its own,
// the spool where a shared folder would be): the daemon does the same
// work on both engines. Tests that are about the SQLite file skip there.
func TestOnPostgres(t *testing.T) { pgtest.Rerun(t, "") }
