package main

import (
	"testing"

	"refundd/internal/pgtest"
)

// TestOnPostgres runs the command's tests again, in a new process, with
// the state store on PostgreSQL. Left out there: the crash and power-loss
// loops (TestFailover is the crash loop on PostgreSQL, with two
// instances; a power cut of the local file system concerns the SQLite
// file), the failover tests themselves (PostgreSQL already) and the
// measurements.
func TestOnPostgres(t *testing.T) {
	pgtest.Rerun(t, "^(TestCrashLoop|TestCrashLoopMutation|TestPowerLoss|TestPowerLossMutation|TestPowerLossChild|"+
		"TestFailover|TestFailoverTakeover|TestFailoverMutation|TestMeasureCompanies|TestIdleFigures)$")
}
