//go:build linux

package spool

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// startEvents runs a Watcher whose file events go to f, with a schedule
// that does not fire within a test.
func startEvents(t *testing.T, f *Folder) {
	t.Helper()
	var errs errLog
	startWatcher(t, Options{Dirs: []string{f.Dir()}, Schedule: "@every 1h", OnError: errs.add, OnFile: f.Note})
	t.Cleanup(func() {
		errs.find(func(err error) bool {
			t.Errorf("watcher error: %v", err)
			return false
		})
	})
}

// scanUntil scans until name is offered and returns that scan's offer.
func scanUntil(t *testing.T, f *Folder, name string) []Candidate {
	t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		cs, err := f.Scan(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(cs, func(c Candidate) bool { return c.Name == name }) {
			return cs
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s was not offered within %s", name, wait)
	return nil
}

// sentinel renames a file in and scans until it is offered. Its events
// come after every event before the call, and it is offered CloseSettle
// after them: a file that the same scan does not offer was not taken
// early on what happened before the call. It returns that scan's offer.
func sentinel(t *testing.T, f *Folder, n int) []Candidate {
	t.Helper()
	name := fmt.Sprintf("sentinel-%d.txt", n)
	tmp := filepath.Join(f.Dir(), "."+name+".tmp")
	writeFile(t, tmp, "sentinel")
	if err := os.Rename(tmp, filepath.Join(f.Dir(), name)); err != nil {
		t.Fatal(err)
	}
	return scanUntil(t, f, name)
}

func offered(cs []Candidate, name string) bool {
	return slices.ContainsFunc(cs, func(c Candidate) bool { return c.Name == name })
}

// With StableFor an hour, only the file events can take a file within
// these tests.

func TestEventsRenamedInTakenAtOnce(t *testing.T) {
	t.Parallel()
	f := newFolder(t, Config{StableFor: time.Hour})
	startEvents(t, f)
	tmp := filepath.Join(f.Dir(), ".refunds.csv.tmp")
	writeFile(t, tmp, "Batch;RefNbr\nB1;CN1\n")
	if err := os.Rename(tmp, filepath.Join(f.Dir(), "refunds.csv")); err != nil {
		t.Fatal(err)
	}
	cs := scanUntil(t, f, "refunds.csv")
	if !cs[0].Early {
		t.Errorf("offered %+v; want Early", cs[0])
	}
	if cl := claimNamed(t, f, cs, "refunds.csv"); cl.SHA256 != hashOf("Batch;RefNbr\nB1;CN1\n") {
		t.Errorf("claimed %+v", cl)
	}
}

func TestEventsHeldOpenWriterNotTaken(t *testing.T) {
	t.Parallel()
	f := newFolder(t, Config{StableFor: time.Hour})
	startEvents(t, f)
	const name = "refunds.csv"
	fh, err := os.Create(filepath.Join(f.Dir(), name))
	if err != nil {
		t.Fatal(err)
	}
	var closed atomic.Bool
	t.Cleanup(func() {
		if !closed.Load() {
			fh.Close()
		}
	})
	// Complete as far as its contents tell, but still open.
	if _, err := fh.WriteString("Batch;RefNbr\nB1;CN1\n"); err != nil {
		t.Fatal(err)
	}
	if cs := sentinel(t, f, 1); offered(cs, name) {
		t.Fatalf("a file still open for writing was taken: %v", candNames(cs))
	}
	closed.Store(true)
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	if cs := scanUntil(t, f, name); !cs[0].Early {
		t.Errorf("offered %+v after the close; want Early", cs[0])
	}
}

// TestEventsAppendAfterClose: a writer writes, closes, pauses a second and
// appends.
func TestEventsAppendAfterClose(t *testing.T) {
	t.Parallel()
	const (
		name  = "refunds.csv"
		pause = time.Second
	)
	write := func(t *testing.T, path, s string) time.Time {
		t.Helper()
		appendFile(t, path, s)
		return time.Now()
	}

	// The first part ends in the middle of a line: not a record
	// boundary, so not taken on the close; and after the append, which is
	// a write after a close, never early again. It waits for StableFor
	// and is taken whole.
	t.Run("mid-line", func(t *testing.T) {
		t.Parallel()
		f := newFolder(t, Config{StableFor: time.Hour})
		startEvents(t, f)
		path := filepath.Join(f.Dir(), name)
		closedAt := write(t, path, "Batch;RefNbr\nB1;CN1\nB1;C")
		if cs := sentinel(t, f, 1); offered(cs, name) {
			t.Fatalf("taken after a close in the middle of a line: %v", candNames(cs))
		}
		time.Sleep(time.Until(closedAt.Add(pause)))
		write(t, path, "N2\n")
		cs := sentinel(t, f, 2)
		if offered(cs, name) {
			t.Fatalf("taken early after a write that followed a close: %v", candNames(cs))
		}
		// StableFor passes (the scan's clock moves on an hour): taken whole.
		later := time.Now().Add(2 * time.Hour)
		cl := claimNamed(t, f, mustScan(t, f, later), name)
		if want := "Batch;RefNbr\nB1;CN1\nB1;CN2\n"; cl.SHA256 != hashOf(want) {
			t.Errorf("claimed %d bytes, want %q whole", cl.Size, want)
		}
	})

	// The first part ends at a line end, after a data row: complete by the
	// rule, taken CloseSettle after the close. The append, a second later,
	// opens the name again and so creates a new file holding only the
	// appended line, which is not taken early (one line, no data row
	// after a header) and never joins the batch already taken.
	t.Run("line end", func(t *testing.T) {
		t.Parallel()
		f := newFolder(t, Config{StableFor: time.Hour})
		startEvents(t, f)
		path := filepath.Join(f.Dir(), name)
		first := "Batch;RefNbr\nB1;CN1\n"
		closedAt := write(t, path, first)
		cl := claimNamed(t, f, scanUntil(t, f, name), name)
		if cl.SHA256 != hashOf(first) {
			t.Fatalf("claimed %d bytes, want the first part", cl.Size)
		}
		time.Sleep(time.Until(closedAt.Add(pause)))
		write(t, path, "B1;CN2\n")
		if cs := sentinel(t, f, 1); offered(cs, name) {
			t.Fatalf("the appended part alone was taken early: %v", candNames(cs))
		}
		if got := readFile(t, path); got != "B1;CN2\n" {
			t.Errorf("the folder holds %q", got)
		}
		if got := readFile(t, cl.Path); got != first {
			t.Errorf("the claimed file holds %q", got)
		}
	})
}

func mustScan(t *testing.T, f *Folder, now time.Time) []Candidate {
	t.Helper()
	// Twice: the first sight of a state never makes a file ready.
	if _, err := f.Scan(now); err != nil {
		t.Fatal(err)
	}
	cs, err := f.Scan(now.Add(2 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestEventsOffWithoutOnFile: with events off, OnFile is never called
// (the rescans alone, and the stability rules, decide).
func TestEventsOffWithoutOnFile(t *testing.T) {
	t.Parallel()
	f := newFolder(t, Config{StableFor: time.Hour})
	var calls atomic.Int32
	startWatcher(t, Options{Dirs: []string{f.Dir()}, Schedule: "@every 1h", NoEvents: true,
		OnFile: func(ev FileEvent) time.Time { calls.Add(1); return f.Note(ev) }})
	writeFile(t, filepath.Join(f.Dir(), "refunds.csv"), "Batch;RefNbr\nB1;CN1\n")
	tmp := filepath.Join(f.Dir(), ".r2.csv.tmp")
	writeFile(t, tmp, "Batch;RefNbr\nB1;CN1\n")
	if err := os.Rename(tmp, filepath.Join(f.Dir(), "r2.csv")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if names := scan(t, f, time.Now()); len(names) > 0 {
			t.Fatalf("taken with events off: %v", names)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := calls.Load(); n > 0 {
		t.Errorf("OnFile called %d times with events off", n)
	}
}
