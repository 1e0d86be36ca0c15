package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"refundd/daemon/store"
	"refundd/internal/pgtest"
)

// envMeasure, set to 1, runs TestMeasureCompanies: a measurement, not a
// check, so it is left out of the normal runs. REFUNDD_MEASURE_COMPANIES
// sets the number of companies (default 20) and REFUNDD_MEASURE_BATCHES
// the batches per company (default 10).
const envMeasure = "REFUNDD_MEASURE"

// TestMeasureCompanies runs many companies on this machine, each its own
// refundd process (the leader) with its own SFTP server, bank and schema
// on one PostgreSQL, and the first company also with a standby. It
// prints the idle leader's and standby's memory (RSS) and CPU, the
// PostgreSQL connections, and how many batches per minute all of them
// carry end to end: from the drop into the export folder until the bank
// booked every refund and refundd posted it (batch paid).
func TestMeasureCompanies(t *testing.T) {
	if os.Getenv(envMeasure) != "1" {
		t.Skipf("a measurement: set %s=1 (and run under scripts/with-postgres)", envMeasure)
	}
	pgURL := pgtest.URL(t)
	n := envInt(t, "REFUNDD_MEASURE_COMPANIES", 20)
	perCompany := envInt(t, "REFUNDD_MEASURE_BATCHES", 10)
	bin := crashBin(t)
	envs := make([]*failoverEnv, n)
	for i := range envs {
		envs[i] = newFailoverEnv(t, bin, 15*time.Second)
		envs[i].start(0)
	}
	envs[0].start(1) // a standby
	for _, e := range envs {
		e.waitLeader(0, 60*time.Second)
	}

	// Idle: the leader and the standby of the first company, after 10 s.
	time.Sleep(5 * time.Second)
	lead, stand := envs[0].procs[0].cmd.Process.Pid, envs[0].procs[1].cmd.Process.Pid
	cpu0 := [2]time.Duration{cpuTime(t, lead), cpuTime(t, stand)}
	time.Sleep(10 * time.Second)
	cpu1 := [2]time.Duration{cpuTime(t, lead), cpuTime(t, stand)}
	db, err := sql.Open("pgx", pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var conns int
	if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'refundd'`).Scan(&conns); err != nil {
		t.Fatal(err)
	}
	idle := fmt.Sprintf("idle leader: RSS %s, CPU %.2f%%; idle standby: RSS %s, CPU %.2f%%; %d PostgreSQL connections for %d instances",
		rss(t, lead), 100*float64(cpu1[0]-cpu0[0])/float64(10*time.Second), rss(t, stand),
		100*float64(cpu1[1]-cpu0[1])/float64(10*time.Second), conns, n+1)
	t.Log(idle)

	// Load: every company gets its batches at once.
	start := time.Now()
	for _, e := range envs {
		e.feed(perCompany)
	}
	deadline := time.Now().Add(10 * time.Minute)
	var firstUpload time.Duration
	for {
		paid, uploaded := 0, 0
		for _, e := range envs {
			bs, err := e.st.BatchesByStatus(t.Context(), store.BatchPaid, store.BatchCompleted)
			if err != nil {
				t.Fatal(err)
			}
			paid += len(bs)
			uploaded += len(e.br.bank.Taken())
		}
		if firstUpload == 0 && uploaded > 0 {
			firstUpload = time.Since(start)
		}
		if paid >= n*perCompany {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d batches paid in 10 minutes", paid, n*perCompany)
		}
		time.Sleep(200 * time.Millisecond)
	}
	took := time.Since(start)
	load := fmt.Sprintf("%d companies × %d batches (3 refunds each) paid end to end in %v: %.0f batches per minute (first upload after %v)",
		n, perCompany, took.Round(time.Millisecond), float64(n*perCompany)/took.Minutes(), firstUpload.Round(time.Millisecond))
	t.Log(load)
	fmt.Println("measure: " + idle)
	fmt.Println("measure: " + load)
	for _, e := range envs {
		e.stopAll()
	}
}

// envInt reads a positive number from the environment, or def.
func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		t.Fatalf("%s=%q: want a positive number", name, s)
	}
	return v
}

// rss returns the resident memory of process pid.
func rss(t *testing.T, pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// cpuTime returns the user and system CPU time process pid used so far.
func cpuTime(t *testing.T, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := bytes.Cut(data, []byte(") "))
	f := strings.Fields(string(rest))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}
