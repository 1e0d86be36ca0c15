package erp

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

var errLost = errors.New("lease lost")

// TestSweepFencesALostLease: instance A processes a reply and writes its
// files for the ERP while it leads; it is paused (SIGSTOP, a long GC) at
// the worst moment, instance B takes the lease over, sweeps the import
// folder and writes the same files; then A goes on. Whatever the moment,
// the folder ends with one file of each kind: A's write either named its
// file before the takeover (B finds it by content), or fails. Without the
// sweep, the cases where A passed its check and was paused before naming
// its file end with two postings files, which the ERP would post twice.
func TestSweepFencesALostLease(t *testing.T) {
	writes := []struct {
		kind  string
		write func(w *Writer) (string, error)
	}{
		{KindPostings, func(w *Writer) (string, error) { return one(w.WritePostings(vouchers(t))) }},
		{KindMatches, func(w *Writer) (string, error) { return w.WriteMatches(matchRows()) }},
		{KindExceptions, func(w *Writer) (string, error) { return w.WriteExceptions(exceptionRows()) }},
		{"exceptions stream", func(w *Writer) (string, error) {
			s, err := w.StreamExceptions()
			if err != nil {
				return "", err
			}
			defer s.Abort()
			rows := exceptionRows()
			for i := range rows {
				if err := s.Add(&rows[i]); err != nil {
					return "", err
				}
			}
			return s.Close()
		}},
	}
	// When A is paused, in the order of its write: after its check (the
	// check passed, the takeover happens before A names its file), and
	// before its check (A checks after the takeover and sees it lost).
	pauses := []struct {
		name     string
		checkErr error
	}{
		{"after the check", nil},
		{"before the check", errLost},
	}
	for _, wr := range writes {
		for _, p := range pauses {
			t.Run(wr.kind+"/"+p.name, func(t *testing.T) {
				dir := t.TempDir()
				clock := time.Date(2026, time.December, 7, 9, 30, 0, 0, time.UTC)
				now := func() time.Time { clock = clock.Add(time.Second); return clock }
				b := &Writer{Dir: dir, Now: now}
				var bName string
				var bErr error
				a := &Writer{Dir: dir, Now: now}
				a.Fence = func() error {
					// B takes over while A is paused here: it sweeps, then
					// writes what A was writing.
					if _, err := b.Sweep(); err != nil {
						t.Fatal(err)
					}
					bName, bErr = wr.write(b)
					return p.checkErr
				}
				aName, aErr := wr.write(a)
				if bErr != nil || bName == "" {
					t.Fatalf("B's write: %q, %v", bName, bErr)
				}
				if aErr == nil {
					t.Errorf("A's write after the takeover succeeded as %s; want an error", aName)
				}
				if p.checkErr != nil && !errors.Is(aErr, errLost) {
					t.Errorf("A's write: %v, want the fence's error", aErr)
				}
				es, err := os.ReadDir(dir)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, e := range es {
					names = append(names, e.Name())
				}
				if !slices.Equal(names, []string{bName}) {
					t.Errorf("import folder holds %v, want only B's %s", names, bName)
				}
			})
		}
		// A finished before the takeover: B finds A's file and writes none.
		t.Run(wr.kind+"/finished before", func(t *testing.T) {
			dir := t.TempDir()
			a := &Writer{Dir: dir, Now: func() time.Time { return at }, Fence: func() error { return nil }}
			aName, err := wr.write(a)
			if err != nil {
				t.Fatal(err)
			}
			b := &Writer{Dir: dir, Now: func() time.Time { return at.Add(time.Hour) }}
			if _, err := b.Sweep(); err != nil {
				t.Fatal(err)
			}
			bName, err := wr.write(b)
			if err != nil || bName != aName {
				t.Errorf("B wrote %q, %v; want A's %s found", bName, err, aName)
			}
		})
	}
}

// TestSweepRemovesOnlyTemporaries: Sweep leaves the ERP's files, files of
// other programs and hidden files that are not a Writer's temporaries.
func TestSweepRemovesOnlyTemporaries(t *testing.T) {
	dir := t.TempDir()
	keep := []string{"postings-20261207T093000.000000000Z-ABCDEFGH.csv", ".postings.lock", ".erp-import.tmp", "postings-x.tmp", "notes.txt"}
	drop := []string{".postings-20261207T093000.000000000Z-ABCDEFGH.csv.QWERTYUIOPAS.tmp", ".exceptions-123456.tmp",
		".status-20261207T093000.000000000Z-ABCDEFGH.csv.QWERTYUIOPAS.tmp", ".matches-x.csv.y.tmp"}
	for _, n := range append(slices.Clone(keep), drop...) {
		if err := os.WriteFile(dir+"/"+n, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(dir+"/.postings-dir.tmp", 0o700); err != nil {
		t.Fatal(err)
	}
	removed, err := (&Writer{Dir: dir}).Sweep()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	slices.Sort(drop)
	if !slices.Equal(removed, drop) {
		t.Errorf("removed %v, want %v", removed, drop)
	}
	es, _ := os.ReadDir(dir)
	var left []string
	for _, e := range es {
		left = append(left, e.Name())
	}
	want := append(slices.Clone(keep), ".postings-dir.tmp")
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
	if _, err := (&Writer{Dir: dir + "/missing"}).Sweep(); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("sweep of a missing folder: %v, want an error naming it", err)
	}
}
