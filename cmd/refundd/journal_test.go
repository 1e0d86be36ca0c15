package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestJournalPriorities runs the refundd binary as systemd does with
// StandardOutput=journal: stdout is a stream whose device and inode are in
// JOURNAL_STREAM. It reads that stream as journald does with
// SyslogLevelPrefix=yes (the default): a line opening with "<N>" gets
// priority N and loses the prefix; the rest must be the JSON line. A batch
// that fails its checks (an error), a status report for a pain.001 that
// refundd did not send (a warning) and the start (info) must come out as
// priorities 3, 4 and 6, so that journalctl -p warning shows the first two
// and not the third.
func TestJournalPriorities(t *testing.T) {
	config, dir, _ := runEnv(t)
	batch, err := os.ReadFile("../../daemon/testdata/batch-ok.csv")
	if err != nil {
		t.Fatal(err)
	}
	// An order number missing: the batch is refused (an error line).
	bad := bytes.ReplaceAll(bytes.Replace(batch, []byte("SO-5002"), nil, 1), []byte("B2026-0042"), []byte("B-BAD-1"))
	if err := os.WriteFile(filepath.Join(dir, "export", "bad.csv"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	// A report on a MsgId refundd never sent (a warning line).
	report, err := os.ReadFile("../../daemon/testdata/replies/pain002.xml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "inbox", "pain002.xml"), report, 0o644); err != nil {
		t.Fatal(err)
	}

	bin := filepath.Join(t.TempDir(), "refundd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fi, err := w.Stat()
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "run", "-once", "-config", config)
	cmd.Env = append(os.Environ(), fmt.Sprintf("JOURNAL_STREAM=%d:%d", st.Dev, st.Ino))
	cmd.Stdout, cmd.Stderr = w, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	timer := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()

	type entry struct {
		prio    string
		level   string
		message string
	}
	var entries []entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if len(line) < 3 || line[0] != '<' || line[2] != '>' || line[1] < '0' || line[1] > '7' {
			t.Errorf("a line without a priority prefix: %q", line)
			continue
		}
		var m struct{ Level, Message string }
		if err := json.Unmarshal([]byte(line[3:]), &m); err != nil {
			t.Errorf("the line without its prefix is no JSON object: %v: %q", err, line)
			continue
		}
		entries = append(entries, entry{line[1:2], m.Level, m.Message})
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run -once: %v\n%s", err, stderr.String())
	}
	want := map[string]string{"debug": "7", "info": "6", "warn": "4", "error": "3"}
	seen := map[string]bool{}
	for _, e := range entries {
		if want[e.level] != e.prio {
			t.Errorf("%s line %q has priority %s, want %s", e.level, e.message, e.prio, want[e.level])
		}
		seen[e.level] = true
	}
	for _, l := range []string{"info", "warn", "error"} {
		if !seen[l] {
			t.Errorf("no %s line in %+v", l, entries)
		}
	}
	t.Logf("%d lines, by level: %v", len(entries), seen)

	// Without JOURNAL_STREAM (or with that of another stream) the lines
	// are plain JSON, as before.
	out, err := exec.Command(bin, "run", "-once", "-config", config).Output()
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Error("without the journal: no lines")
	}
	for line := range bytes.Lines(out) {
		if !json.Valid(line) {
			t.Errorf("without the journal: not a JSON line: %q", line)
		}
	}
}
