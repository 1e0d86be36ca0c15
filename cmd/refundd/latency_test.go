package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"refundd/internal/testutil"
)

// TestDropLatencyFigures builds refundd, runs "refundd run" against a
// local sshd with the default watch settings, drops batch files into its
// export folder one at a time and logs how long each took from the drop
// (the rename into the folder, or the close of a file written in place)
// until its pain.001 was on the server: median, 90th percentile, minimum
// and maximum. With REFUNDD_LATENCY_BASELINE naming another refundd binary,
// that one runs beside it, on a server of its own, and the drops
// alternate between the two. It asserts nothing about the figures; it runs
// only with REFUNDD_LATENCY_FIGURES=1 (REFUNDD_LATENCY_DROPS drops of each
// kind, 20 by default).
func TestDropLatencyFigures(t *testing.T) {
	if os.Getenv("REFUNDD_LATENCY_FIGURES") != "1" {
		t.Skip("set REFUNDD_LATENCY_FIGURES=1 to measure drop-to-upload latency")
	}
	drops := 20
	if s := os.Getenv("REFUNDD_LATENCY_DROPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("REFUNDD_LATENCY_DROPS=%q is not a positive number", s)
		}
		drops = n
	}
	bin := filepath.Join(t.TempDir(), "refundd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	bins := []struct{ label, path string }{{"this", bin}}
	if b := os.Getenv("REFUNDD_LATENCY_BASELINE"); b != "" {
		bins = append([]struct{ label, path string }{{"baseline", b}}, bins...)
	}
	batch, err := os.ReadFile("../../daemon/testdata/batch-ok.csv")
	if err != nil {
		t.Fatal(err)
	}
	var runs []*latencyRun
	for _, b := range bins {
		runs = append(runs, startLatencyRun(t, b.label, b.path))
	}
	n := 0
	for _, mode := range []string{"rename", "close"} {
		times := make([][]time.Duration, len(runs))
		for range drops {
			n++
			for i, r := range runs {
				times[i] = append(times[i], r.drop(t, mode, uniqueBatch(batch, n)))
				time.Sleep(300 * time.Millisecond)
			}
		}
		for i, r := range runs {
			ts := slices.Clone(times[i])
			slices.Sort(ts)
			t.Logf("%-8s %-6s drops %d: median %v, p90 %v, min %v, max %v", r.label, mode, len(ts),
				ts[len(ts)/2].Round(time.Millisecond), ts[(len(ts)*9+9)/10-1].Round(time.Millisecond),
				ts[0].Round(time.Millisecond), ts[len(ts)-1].Round(time.Millisecond))
		}
	}
}

// latencyRun is one refundd run with its folders and server.
type latencyRun struct {
	label, dir, up string
	cmd            *exec.Cmd
	out            *testutil.SyncBuffer
}

func startLatencyRun(t *testing.T, label, bin string) *latencyRun {
	t.Helper()
	config, dir, up := runEnv(t)
	data, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	// The default watch settings: rescan every 30 s, stable_for 2 s.
	data = bytes.Replace(data, []byte(`watch: {rescan: "@every 1s", stable_for: 100ms}`), nil, 1)
	if err := os.WriteFile(config, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := &latencyRun{label: label, dir: dir, up: up, out: &testutil.SyncBuffer{}}
	r.cmd = exec.Command(bin, "run", "-config", config)
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.cmd.Process.Signal(syscall.SIGTERM)
		if err := r.cmd.Wait(); err != nil {
			t.Errorf("%s: refundd run after SIGTERM: %v", label, err)
		}
	})
	waitFor(t, label+" started", func() bool { return strings.Contains(r.out.String(), `"message":"started"`) })
	time.Sleep(2 * time.Second) // the first scans and download
	return r
}

// drop drops a batch file as mode says and returns the time until a new
// pain.001 is on the server.
func (r *latencyRun) drop(t *testing.T, mode string, data []byte) time.Duration {
	t.Helper()
	before := len(r.uploaded(t))
	name := fmt.Sprintf("drop-%d.csv", time.Now().UnixNano())
	final := filepath.Join(r.dir, "export", name)
	var t0 time.Time
	switch mode {
	case "rename":
		tmp := filepath.Join(r.dir, "export", "."+name+".tmp")
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, final); err != nil {
			t.Fatal(err)
		}
		t0 = time.Now()
	default:
		if err := os.WriteFile(final, data, 0o644); err != nil { // closed on return
			t.Fatal(err)
		}
		t0 = time.Now()
	}
	deadline := t0.Add(time.Minute)
	for len(r.uploaded(t)) == before {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s not uploaded within a minute:\n%s", r.label, name, r.out.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(t0)
}

// uploaded lists the pain.001 files on the server under their final names.
func (r *latencyRun) uploaded(t *testing.T) []string {
	t.Helper()
	es, err := os.ReadDir(r.up)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if strings.HasSuffix(e.Name(), ".xml") && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

var refNbr = regexp.MustCompile(`;([A-Z]{2})1(00\d\d);`)

// uniqueBatch gives the test batch a batch number and reference numbers of
// its own for drop n.
func uniqueBatch(batch []byte, n int) []byte {
	b := bytes.ReplaceAll(batch, []byte("B2026-0042"), fmt.Appendf(nil, "B2026-L%03d", n))
	return refNbr.ReplaceAll(b, fmt.Appendf(nil, ";${1}%d${2};", 100+n))
}
