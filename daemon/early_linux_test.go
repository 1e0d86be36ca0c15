//go:build linux

package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"refundd/daemon/config"
	"refundd/internal/testutil"
)

// TestRunTakesClosedFileEarly: with watch.stable_for an hour, a batch file
// written in place and closed (no marker, no rename) is uploaded within
// the test: only its file events can have taken it.
func TestRunTakesClosedFileEarly(t *testing.T) {
	if os.Getenv(testutil.StoreEnv) == config.DriverPostgres {
		t.Skip("on PostgreSQL the folders are watched by rescans only")
	}
	e := newDaemonEnv(t)
	e.cfg.Watch.StableFor = time.Hour
	d := e.daemon(t, e.options(t))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	stop := sync.OnceValue(func() error {
		cancel()
		return <-done
	})
	defer stop()
	// The watches are in place once a file renamed in is taken (a file
	// there before them waits for stable_for); each probe is refused as
	// junk.
	export := filepath.Join(e.dir, "export")
	waitFor(t, "the watches", func() bool {
		probe := fmt.Sprintf("probe-%d.txt", time.Now().UnixNano())
		tmp := filepath.Join(export, "."+probe)
		if err := os.WriteFile(tmp, []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(export, probe)); err != nil {
			t.Fatal(err)
		}
		return eventuallyWithin(time.Second, func() bool { return fileExists(filepath.Join(export, "failed", probe)) })
	})
	if err := os.WriteFile(filepath.Join(export, "batch-ok.csv"), readFile(t, "testdata/batch-ok.csv"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the upload", func() bool { return fileExists(filepath.Join(e.up, testMsgID+".xml")) })
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
	e.checkUploadedOnce(t)
}

// eventuallyWithin checks cond every 20 ms until it holds, for d at most.
func eventuallyWithin(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
