package daemon

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"refundd/daemon/store"

	"github.com/rs/zerolog"
)

// TestUncleanStopChecksWhole: the marker file of a run is there while the
// daemon runs and gone after a clean close; a start that finds it (the
// last run was killed) checks the whole store, the next start after a
// clean close only what changed.
func TestUncleanStopChecksWhole(t *testing.T) {
	e := newDaemonEnv(t)
	start := func() (*Daemon, string) {
		t.Helper()
		var log bytes.Buffer
		opts := e.options(t)
		opts.Logger = zerolog.New(&log).Level(zerolog.DebugLevel)
		d, err := New(e.cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.SplitSeq(log.String(), "\n") {
			if strings.Contains(line, "state store checked") {
				return d, line
			}
		}
		d.Close()
		t.Fatalf("no check logged: %s", log.String())
		return nil, ""
	}
	marker := filepath.Join(e.cfg.Paths.State, runningMarker)
	if e.cfg.Postgres() {
		t.Skip("the check after an unclean stop is the same on PostgreSQL; the marker is in the state folder either way")
	}
	d, line := start() // the first start checks everything
	if !strings.Contains(line, `"full":true`) {
		t.Errorf("first start: %s", line)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("while running: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("after a clean close the marker is still there: %v", err)
	}
	d, line = start() // after a clean stop: what changed only
	if !strings.Contains(line, `"full":false`) || !strings.Contains(line, `"unclean_stop":false`) {
		t.Errorf("start after a clean stop: %s", line)
	}
	// A killed run closes nothing: its marker stays.
	d.running = ""
	d.Close()
	d, line = start()
	if !strings.Contains(line, `"full":true`) || !strings.Contains(line, `"unclean_stop":true`) {
		t.Errorf("start after an unclean stop: %s", line)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// The file changed while refundd did not run (restored, edited,
	// damaged; here only its times are touched): the start checks the
	// whole store, and the one after a clean stop again what changed.
	db := filepath.Join(e.cfg.Paths.State, store.FileName)
	if err := os.Chtimes(db, time.Now(), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	d, line = start()
	if !strings.Contains(line, `"full":true`) || !strings.Contains(line, `"changed_while_stopped":true`) {
		t.Errorf("start after the file changed while stopped: %s", line)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, line = start()
	if !strings.Contains(line, `"full":false`) || !strings.Contains(line, `"changed_while_stopped":false`) {
		t.Errorf("start after a clean stop: %s", line)
	}
	d.Close()
}
