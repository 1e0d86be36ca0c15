package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"refundd/internal/testutil"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat (USER_HZ,
// 100 on Linux).
const userHZ = 100

// TestIdleFigures builds refundd, runs "refundd run" against a local sshd
// with the example's watch and download schedules (rescan every 30 s,
// download every minute) and empty folders, and logs its resident memory
// and the CPU time it used while idle for a minute
// (REFUNDD_IDLE_SECONDS to change). It asserts nothing about the figures,
// only that refundd stops cleanly; it runs only with
// REFUNDD_IDLE_FIGURES=1, on Linux.
func TestIdleFigures(t *testing.T) {
	if os.Getenv("REFUNDD_IDLE_FIGURES") != "1" {
		t.Skip("set REFUNDD_IDLE_FIGURES=1 to measure the idle daemon")
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	idle := time.Minute
	if s := os.Getenv("REFUNDD_IDLE_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("REFUNDD_IDLE_SECONDS=%q is not a positive number", s)
		}
		idle = time.Duration(n) * time.Second
	}
	config, _, _ := runEnv(t)
	data, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.Replace(data, []byte(`rescan: "@every 1s"`), []byte(`rescan: "@every 30s"`), 1)
	if err := os.WriteFile(config, data, 0o600); err != nil {
		t.Fatal(err)
	}

	bin := filepath.Join(t.TempDir(), "refundd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var out testutil.SyncBuffer
	cmd := exec.Command(bin, "run", "-config", config)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	waitFor(t, "the start", func() bool { return strings.Contains(out.String(), `"message":"started"`) })
	// Let the start (first scans, first download) pass.
	time.Sleep(2 * time.Second)

	pid := cmd.Process.Pid
	cpu0 := cpuTicks(t, pid)
	time.Sleep(idle)
	cpu1 := cpuTicks(t, pid)
	rss, hwm := procStatus(t, pid, "VmRSS"), procStatus(t, pid, "VmHWM")

	used := time.Duration(cpu1-cpu0) * time.Second / userHZ
	t.Logf("idle %s: CPU %s (%.3f%% of one core), VmRSS %s, VmHWM %s", idle, used,
		100*used.Seconds()/idle.Seconds(), rss, hwm)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("refundd run after SIGTERM: %v\n%s", err, out.String())
	}
}

// cpuTicks returns the user and system CPU time of the process, in
// USER_HZ ticks, from /proc/<pid>/stat.
func cpuTicks(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		t.Fatal(err)
	}
	// The command name, field 2, is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15.
	rest := string(data[bytes.LastIndexByte(data, ')')+2:])
	f := strings.Fields(rest)
	var sum int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("/proc/%d/stat: %v", pid, err)
		}
		sum += n
	}
	return sum
}

// procStatus returns a field of /proc/<pid>/status, such as "VmRSS".
func procStatus(t *testing.T, pid int, field string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, field)
	return ""
}
