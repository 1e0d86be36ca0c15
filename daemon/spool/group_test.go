package spool

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"refundd/internal/fsync"
)

// TestClaimAllDoneAll claims several files with one sync of each folder
// (a file gone since the scan is skipped, the others claimed as Claim
// claims them) and archives them with one sync of each folder.
func TestClaimAllDoneAll(t *testing.T) {
	f := newFolder(t, Config{})
	var syncs []string
	f.fsync = func(d *os.File) error {
		syncs = append(syncs, d.Name())
		return d.Sync()
	}
	old := time.Now().Add(-time.Hour)
	for _, n := range []string{"a.csv", "b.csv", "c.csv"} {
		writeFile(t, filepath.Join(f.Dir(), n), "content of "+n)
		setMtime(t, filepath.Join(f.Dir(), n), old)
	}
	cands, err := f.Scan(time.Now())
	if err != nil || len(cands) != 3 {
		t.Fatalf("Scan: %v, %v", candNames(cands), err)
	}
	if err := os.Remove(filepath.Join(f.Dir(), "b.csv")); err != nil {
		t.Fatal(err)
	}
	cls, errs := f.ClaimAll(cands)
	if !errors.Is(errs[1], ErrSkipped) {
		t.Errorf("the file gone since the scan: %v; want ErrSkipped", errs[1])
	}
	for _, i := range []int{0, 2} {
		n := cands[i].Name
		if errs[i] != nil || cls[i].Name != n || cls[i].SHA256 != hashOf("content of "+n) || cls[i].Path != filepath.Join(f.work, n) {
			t.Errorf("claim of %s: %+v, %v", n, cls[i], errs[i])
		}
	}
	if want := []string{f.work, f.dir}; !slices.Equal(syncs, want) {
		t.Errorf("folders synced for the claims: %q; want each once, %q", syncs, want)
	}
	syncs = nil
	paths, err := f.DoneAll([]Claimed{cls[0], cls[2]})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		if filepath.Base(p) != []string{"a.csv", "c.csv"}[i] || readFile(t, p) == "" {
			t.Errorf("archived as %q", p)
		}
	}
	// Besides the folders created for the month, the month's folder and
	// work/ are synced once each, after the renames.
	if n := len(syncs); n < 2 || syncs[n-2] != filepath.Dir(paths[0]) || syncs[n-1] != f.work ||
		slices.Index(syncs, f.work) != n-1 || slices.Index(syncs, syncs[n-2]) != n-2 {
		t.Errorf("folders synced for the archive: %q; want the month's folder, then work/, once each", syncs)
	}
	if left := listDir(t, f.work); len(left) != 0 {
		t.Errorf("left in work/: %v", left)
	}
}

// TestClaimAllSyncFails: a failed sync of a folder is the error of every
// file renamed, and wraps fsync.ErrSync.
func TestClaimAllSyncFails(t *testing.T) {
	f := newFolder(t, Config{})
	f.fsync = func(*os.File) error { return errors.New("EIO") }
	for _, n := range []string{"a.csv", "b.csv"} {
		writeFile(t, filepath.Join(f.Dir(), n), n)
		setMtime(t, filepath.Join(f.Dir(), n), time.Now().Add(-time.Hour))
	}
	cands, err := f.Scan(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, errs := f.ClaimAll(cands)
	for i, err := range errs {
		if !errors.Is(err, fsync.ErrSync) {
			t.Errorf("claim of %s: %v; want fsync.ErrSync", cands[i].Name, err)
		}
	}
}
