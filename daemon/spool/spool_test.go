package spool

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"refundd/internal/fsync"
)

// newFolder opens a Folder on new temporary folders: <base>/export and
// <base>/state. Fields of cfg other than Dir and State are kept.
func newFolder(t *testing.T, cfg Config) *Folder {
	t.Helper()
	base := t.TempDir()
	cfg.Dir = filepath.Join(base, "export")
	cfg.State = filepath.Join(base, "state")
	for _, d := range []string{cfg.Dir, cfg.State} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if cfg.Kind == "" {
		cfg.Kind = "export"
	}
	f, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func setMtime(t *testing.T, path string, mtime time.Time) {
	t.Helper()
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func candNames(cs []Candidate) []string {
	var ns []string
	for _, c := range cs {
		ns = append(ns, c.Name)
	}
	return ns
}

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, e := range es {
		ns = append(ns, e.Name())
	}
	return ns
}

func scan(t *testing.T, f *Folder, now time.Time) []string {
	t.Helper()
	cs, err := f.Scan(now)
	if err != nil {
		t.Fatal(err)
	}
	return candNames(cs)
}

// claimOne scans with StableFor's rules at now and claims the one file
// offered.
func claimOne(t *testing.T, f *Folder, now time.Time) Claimed {
	t.Helper()
	cs, err := f.Scan(now)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 {
		t.Fatalf("scan offered %v; want one file", candNames(cs))
	}
	cl, err := f.Claim(cs[0])
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func sameClaimed(a, b Claimed) bool {
	return a.Name == b.Name && a.Path == b.Path && a.Size == b.Size && a.SHA256 == b.SHA256 &&
		a.ModTime.Equal(b.ModTime)
}

func TestOpen(t *testing.T) {
	base := t.TempDir()
	dir, state := filepath.Join(base, "inbox"), filepath.Join(base, "state")
	if _, err := Open(Config{Dir: dir, State: state, Kind: "inbox"}); err == nil {
		t.Error("Open of a missing folder: no error")
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Error("Open created the missing drop folder")
	}
	for _, d := range []string{dir, state} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(base, "file"), "x")
	bad := []Config{
		{Dir: dir, State: state, Kind: ""},
		{Dir: dir, State: state, Kind: "a/b"},
		{Dir: dir, State: state, Kind: ".."},
		{Dir: dir, State: state, Kind: ".hidden"},
		{Dir: dir, State: state, Kind: "inbox", StableFor: -time.Second},
		{Dir: dir, State: state, Kind: "inbox", Settle: -time.Second},
		{Dir: filepath.Join(base, "file"), State: state, Kind: "inbox"},
		{Dir: dir, State: "", Kind: "inbox"},
	}
	for _, cfg := range bad {
		if _, err := Open(cfg); err == nil {
			t.Errorf("Open(%+v): no error", cfg)
		}
	}
	if _, err := Open(Config{Dir: dir, State: state, Kind: "inbox"}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"state/work/inbox", "state/archive/inbox", "inbox/failed"} {
		if fi, err := os.Stat(filepath.Join(base, d)); err != nil || !fi.IsDir() {
			t.Errorf("%s not created: %v", d, err)
		}
	}
}

func TestOpenCrossDevice(t *testing.T) {
	shm, err := os.MkdirTemp("/dev/shm", "spool-test-")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(shm) })
	state := t.TempDir()
	a, _ := os.Stat(shm)
	b, _ := os.Stat(state)
	if da, _, _ := identity(a); func() bool { db, _, _ := identity(b); return da == db }() {
		t.Skip("/dev/shm and the temporary folder are on one file system")
	}
	_, err = Open(Config{Dir: shm, State: state, Kind: "export"})
	if !errors.Is(err, ErrCrossDevice) {
		t.Fatalf("Open across file systems: %v; want ErrCrossDevice", err)
	}
	if !strings.Contains(err.Error(), "same file system") {
		t.Errorf("error %q does not explain itself", err)
	}
}

func TestScanStability(t *testing.T) {
	const stable, settle = 2 * time.Second, 500 * time.Millisecond
	base := time.Now().Truncate(time.Second)

	t.Run("written in place", func(t *testing.T) {
		f := newFolder(t, Config{StableFor: stable, Settle: settle})
		p := filepath.Join(f.Dir(), "a.csv")
		writeFile(t, p, "one")
		setMtime(t, p, base)
		if got := scan(t, f, base); len(got) != 0 {
			t.Errorf("first sight: %v ready", got)
		}
		if n, at := f.Unsettled(); n != 1 || !at.Equal(base.Add(stable)) {
			t.Errorf("Unsettled() = %d, %v; want 1, %v", n, at, base.Add(stable))
		}
		if got := scan(t, f, base.Add(stable-time.Millisecond)); len(got) != 0 {
			t.Errorf("before StableFor: %v ready", got)
		}
		if got := scan(t, f, base.Add(stable)); !slices.Equal(got, []string{"a.csv"}) {
			t.Errorf("after StableFor: %v ready; want a.csv", got)
		}
		if n, _ := f.Unsettled(); n != 0 {
			t.Errorf("Unsettled() = %d after it is ready", n)
		}
	})

	t.Run("changed between scans", func(t *testing.T) {
		f := newFolder(t, Config{StableFor: stable, Settle: settle})
		p := filepath.Join(f.Dir(), "a.csv")
		writeFile(t, p, "one")
		setMtime(t, p, base)
		scan(t, f, base)
		writeFile(t, p, "one, two")
		setMtime(t, p, base.Add(stable)) // a write just before the second scan
		if got := scan(t, f, base.Add(stable)); len(got) != 0 {
			t.Errorf("changed file ready: %v", got)
		}
		if got := scan(t, f, base.Add(2*stable-time.Millisecond)); len(got) != 0 {
			t.Errorf("changed file ready before StableFor: %v", got)
		}
		if got := scan(t, f, base.Add(2*stable)); !slices.Equal(got, []string{"a.csv"}) {
			t.Errorf("after StableFor: %v; want a.csv", got)
		}
	})

	t.Run("renamed in with an old mtime", func(t *testing.T) {
		f := newFolder(t, Config{StableFor: time.Hour, Settle: settle})
		staging := t.TempDir()
		src := filepath.Join(staging, "b.csv")
		writeFile(t, src, "written long ago")
		setMtime(t, src, base.Add(-2*time.Hour))
		if err := os.Rename(src, filepath.Join(f.Dir(), "b.csv")); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(f.Dir(), "fresh.csv"), "written now")
		setMtime(t, filepath.Join(f.Dir(), "fresh.csv"), base)
		if got := scan(t, f, base); len(got) != 0 {
			t.Errorf("first sight: %v ready", got)
		}
		if n, at := f.Unsettled(); n != 2 || !at.Equal(base.Add(settle)) {
			t.Errorf("Unsettled() = %d, %v; want 2, %v", n, at, base.Add(settle))
		}
		if got := scan(t, f, base.Add(settle-time.Millisecond)); len(got) != 0 {
			t.Errorf("before Settle: %v ready", got)
		}
		if got := scan(t, f, base.Add(settle)); !slices.Equal(got, []string{"b.csv"}) {
			t.Errorf("after Settle: %v; want b.csv only", got)
		}
	})

	t.Run("old mtime, replaced by another file", func(t *testing.T) {
		f := newFolder(t, Config{StableFor: time.Hour, Settle: settle})
		p := filepath.Join(f.Dir(), "c.csv")
		writeFile(t, p, "same")
		setMtime(t, p, base.Add(-time.Hour))
		scan(t, f, base)
		other := filepath.Join(f.Dir(), ".c.csv.tmp")
		writeFile(t, other, "same")
		setMtime(t, other, base.Add(-time.Hour))
		if err := os.Rename(other, p); err != nil {
			t.Fatal(err)
		}
		if got := scan(t, f, base.Add(settle)); len(got) != 0 {
			t.Errorf("a new inode under the name counts as seen before: %v", got)
		}
		if got := scan(t, f, base.Add(2*settle)); !slices.Equal(got, []string{"c.csv"}) {
			t.Errorf("%v; want c.csv", got)
		}
	})

	t.Run("ctime moves", func(t *testing.T) {
		// Same size and mtime, but the inode changed (a writer that
		// keeps the mtime): not the same state.
		f := newFolder(t, Config{StableFor: time.Hour, Settle: settle})
		p := filepath.Join(f.Dir(), "d.csv")
		writeFile(t, p, "1234")
		setMtime(t, p, base.Add(-time.Hour))
		scan(t, f, base)
		time.Sleep(10 * time.Millisecond)
		writeFile(t, p, "5678")
		setMtime(t, p, base.Add(-time.Hour))
		if got := scan(t, f, base.Add(settle)); len(got) != 0 {
			t.Errorf("rewritten file with a kept mtime ready: %v", got)
		}
	})

	t.Run("StableFor 0", func(t *testing.T) {
		f := newFolder(t, Config{})
		writeFile(t, filepath.Join(f.Dir(), "e.csv"), "now")
		if got := scan(t, f, time.Now()); !slices.Equal(got, []string{"e.csv"}) {
			t.Errorf("%v; want e.csv at once", got)
		}
	})

	t.Run("oldest first", func(t *testing.T) {
		f := newFolder(t, Config{})
		for i, n := range []string{"c", "a", "b"} {
			p := filepath.Join(f.Dir(), n)
			writeFile(t, p, n)
			setMtime(t, p, base.Add(time.Duration(i)*time.Second))
		}
		if got := scan(t, f, time.Now()); !slices.Equal(got, []string{"c", "a", "b"}) {
			t.Errorf("%v; want the order of the mtimes c, a, b", got)
		}
	})
}

func TestDoneMarker(t *testing.T) {
	f := newFolder(t, Config{StableFor: time.Hour})
	dir := f.Dir()
	writeFile(t, filepath.Join(dir, "a.csv"), "batch a")
	writeFile(t, filepath.Join(dir, "a.csv.done"), "")

	// A marker older than its file was left over and vouches for nothing.
	writeFile(t, filepath.Join(dir, "b.csv.done"), "")
	setMtime(t, filepath.Join(dir, "b.csv.done"), time.Now().Add(-time.Minute))
	writeFile(t, filepath.Join(dir, "b.csv"), "batch b, being written")
	// A folder is no marker; a marker without its file is nothing.
	writeFile(t, filepath.Join(dir, "c.csv"), "batch c")
	if err := os.Mkdir(filepath.Join(dir, "c.csv.done"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "orphan.csv.done"), "")

	cs, err := f.Scan(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := candNames(cs); !slices.Equal(got, []string{"a.csv"}) {
		t.Fatalf("ready: %v; want a.csv at once", got)
	}
	if !cs[0].Marker {
		t.Error("Marker not set")
	}
	cl, err := f.Claim(cs[0])
	if err != nil {
		t.Fatal(err)
	}
	if cl.SHA256 != hashOf("batch a") {
		t.Error("wrong hash")
	}
	if _, err := os.Lstat(filepath.Join(dir, "a.csv.done")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("marker not removed: %v", err)
	}
	cs, err = f.Scan(time.Now())
	if err != nil || len(cs) != 0 {
		t.Fatalf("second scan: %v, %v", candNames(cs), err)
	}
}

func TestIgnoredNames(t *testing.T) {
	ignored := []string{
		".hidden", ".refunds.csv", ".#refunds.csv", ".~lock.refunds.csv#", ".refunds.csv.AbC123",
		"refunds.csv.tmp", "refunds.TMP", "refunds.temp", "refunds.csv.part", "refunds.csv.partial",
		"refunds.csv.filepart", "refunds.csv.crdownload", "refunds.csv.download",
		"refunds.csv~", "~$refunds.xlsx", "#refunds.csv#", "refunds.csv.swp", "refunds.swx",
		"refunds.csv.lock", "refunds.csv.err", "refunds.csv.done", "refunds.csv.DONE",
		"Thumbs.db", "desktop.ini",
	}
	taken := []string{
		"refunds.csv", "REF_20260901.csv", "pain.002.xml", "camt054 2026-09-01.xml",
		"refusjon æøå.csv", "批次.csv", "done", "tmp", "part.csv", "a.tmpl", "x.done.csv",
	}
	for _, n := range ignored {
		if !Ignored(n) {
			t.Errorf("Ignored(%q) = false", n)
		}
	}
	for _, n := range taken {
		if Ignored(n) {
			t.Errorf("Ignored(%q) = true", n)
		}
	}
}

func TestScanSkipsIgnoredAndSpecialFiles(t *testing.T) {
	f := newFolder(t, Config{})
	dir := f.Dir()
	outside := filepath.Join(t.TempDir(), "outside.csv")
	writeFile(t, outside, "not ours")
	for _, n := range []string{".hidden.csv", "x.csv.tmp", "x.csv.part", "x.csv.partial", "x.csv~",
		".#x.csv", "x.csv.done", "x.csv.err"} {
		writeFile(t, filepath.Join(dir, n), "ignored")
	}
	good := []string{"refunds.csv", "with space.csv", "refusjon æøå.csv", "批次 1.csv"}
	for _, n := range good {
		writeFile(t, filepath.Join(dir, n), "batch "+n)
	}
	if err := os.Mkdir(filepath.Join(dir, "subfolder"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link-out.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "refunds.csv"), filepath.Join(dir, "link-in.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nonexistent", filepath.Join(dir, "dangling.csv")); err != nil {
		t.Fatal(err)
	}
	got := scan(t, f, time.Now())
	slices.Sort(got)
	want := slices.Clone(good)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("ready: %q; want %q", got, want)
	}
	for _, n := range good {
		cl := claimName(t, f, n)
		if cl.Name != n || filepath.Base(cl.Path) != n || cl.SHA256 != hashOf("batch "+n) {
			t.Errorf("claimed %+v", cl)
		}
		if _, err := f.Done(cl, ""); err != nil {
			t.Fatal(err)
		}
	}
	if readFile(t, outside) != "not ours" {
		t.Error("the file a symlink points to was changed")
	}
	for _, n := range []string{"link-out.csv", "link-in.csv", "dangling.csv"} {
		if fi, err := os.Lstat(filepath.Join(dir, n)); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("symlink %s was moved: %v", n, err)
		}
	}
}

// claimName scans and claims the file called name.
func claimName(t *testing.T, f *Folder, name string) Claimed {
	t.Helper()
	cs, err := f.Scan(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return claimNamed(t, f, cs, name)
}

// claimNamed claims the candidate called name of cs.
func claimNamed(t *testing.T, f *Folder, cs []Candidate, name string) Claimed {
	t.Helper()
	for _, c := range cs {
		if c.Name == name {
			cl, err := f.Claim(c)
			if err != nil {
				t.Fatal(err)
			}
			return cl
		}
	}
	t.Fatalf("%q not offered; got %q", name, candNames(cs))
	return Claimed{}
}

func TestClaim(t *testing.T) {
	f := newFolder(t, Config{})
	const content = "id;amount\n1;100.00\n"
	p := filepath.Join(f.Dir(), "REF_1.csv")
	writeFile(t, p, content)
	mtime := time.Now().Add(-time.Hour).Truncate(time.Second)
	setMtime(t, p, mtime)
	cl := claimOne(t, f, time.Now())
	want := Claimed{
		Name:    "REF_1.csv",
		Path:    filepath.Join(f.work, "REF_1.csv"),
		Size:    int64(len(content)),
		SHA256:  hashOf(content),
		ModTime: mtime,
	}
	if !sameClaimed(cl, want) {
		t.Errorf("Claim = %+v; want %+v", cl, want)
	}
	if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file still in the folder: %v", err)
	}
	if readFile(t, cl.Path) != content {
		t.Error("claimed file differs")
	}
}

func TestClaimVanishedOrChanged(t *testing.T) {
	f := newFolder(t, Config{})
	dir := f.Dir()
	for _, n := range []string{"gone.csv", "replaced.csv", "grown.csv"} {
		writeFile(t, filepath.Join(dir, n), "first")
	}
	cs, err := f.Scan(time.Now())
	if err != nil || len(cs) != 3 {
		t.Fatalf("scan: %v, %v", candNames(cs), err)
	}
	if err := os.Remove(filepath.Join(dir, "gone.csv")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, ".new.tmp"), "other")
	if err := os.Rename(filepath.Join(dir, ".new.tmp"), filepath.Join(dir, "replaced.csv")); err != nil {
		t.Fatal(err)
	}
	fh, err := os.OpenFile(filepath.Join(dir, "grown.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString(", second")
	fh.Close()

	for _, c := range cs {
		if _, err := f.Claim(c); !errors.Is(err, ErrSkipped) {
			t.Errorf("Claim(%s) = %v; want ErrSkipped", c.Name, err)
		}
	}
	if got := listDir(t, f.work); len(got) != 0 {
		t.Errorf("work/ holds %v", got)
	}
	if readFile(t, filepath.Join(dir, "grown.csv")) != "first, second" {
		t.Error("grown.csv changed")
	}
}

func TestClaimChangingWhileClaimed(t *testing.T) {
	t.Run("put back", func(t *testing.T) {
		f := newFolder(t, Config{})
		p := filepath.Join(f.Dir(), "slow.csv")
		writeFile(t, p, "part 1")
		f.afterRename = func(path string) {
			// The writer still has the file open and writes on.
			fh, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return
			}
			fh.WriteString(", part 2")
			fh.Close()
		}
		cs, _ := f.Scan(time.Now())
		if _, err := f.Claim(cs[0]); !errors.Is(err, ErrSkipped) {
			t.Fatalf("Claim = %v; want ErrSkipped", err)
		}
		if got := readFile(t, p); got != "part 1, part 2" {
			t.Errorf("file put back holds %q", got)
		}
		if got := listDir(t, f.work); len(got) != 0 {
			t.Errorf("work/ holds %v", got)
		}
	})
	t.Run("name taken again", func(t *testing.T) {
		f := newFolder(t, Config{})
		p := filepath.Join(f.Dir(), "slow.csv")
		writeFile(t, p, "part 1")
		f.afterRename = func(path string) {
			os.WriteFile(path, []byte("part 1, part 2"), 0o644)
			os.WriteFile(p, []byte("another file"), 0o644)
		}
		cs, _ := f.Scan(time.Now())
		if _, err := f.Claim(cs[0]); !errors.Is(err, ErrSkipped) {
			t.Fatalf("Claim = %v; want ErrSkipped", err)
		}
		if got := readFile(t, filepath.Join(f.failed, "slow.csv")); got != "part 1, part 2" {
			t.Errorf("failed/slow.csv holds %q", got)
		}
		if got := readFile(t, filepath.Join(f.failed, "slow.csv.err")); !strings.Contains(got, "changed while") {
			t.Errorf(".err says %q", got)
		}
		if got := readFile(t, p); got != "another file" {
			t.Errorf("the new file holds %q", got)
		}
	})
	t.Run("symlink swapped in", func(t *testing.T) {
		f := newFolder(t, Config{})
		outside := filepath.Join(t.TempDir(), "secret")
		writeFile(t, outside, "not ours")
		writeFile(t, filepath.Join(f.Dir(), "x.csv"), "x")
		f.afterRename = func(path string) {
			os.Remove(path)
			os.Symlink(outside, path)
		}
		cs, _ := f.Scan(time.Now())
		if _, err := f.Claim(cs[0]); !errors.Is(err, ErrSkipped) {
			t.Fatalf("Claim = %v; want ErrSkipped", err)
		}
		fi, err := os.Lstat(filepath.Join(f.failed, "x.csv"))
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("symlink not in failed/: %v", err)
		}
		if _, err := os.Stat(filepath.Join(f.failed, "x.csv.err")); err != nil {
			t.Error(err)
		}
		if readFile(t, outside) != "not ours" {
			t.Error("target changed")
		}
	})
}

func TestClaimRefusesBadNames(t *testing.T) {
	f := newFolder(t, Config{})
	victim := filepath.Join(filepath.Dir(f.Dir()), "x")
	writeFile(t, victim, "outside the folder")
	writeFile(t, filepath.Join(f.Dir(), ".hidden"), "hidden")
	for _, n := range []string{"../x", "a/b", "/etc/passwd", "", ".", "..", ".hidden", "x.tmp", "x.csv.done", "x\x00y"} {
		if _, err := f.Claim(Candidate{Name: n}); !errors.Is(err, ErrName) {
			t.Errorf("Claim(%q) = %v; want ErrName", n, err)
		}
	}
	if readFile(t, victim) != "outside the folder" {
		t.Error("file outside the folder touched")
	}
	if got := listDir(t, f.work); len(got) != 0 {
		t.Errorf("work/ holds %v", got)
	}
}

// TestNamesInWorkAndPending: a file keeps its name in work/, also one
// dropped as "a b (2).csv"; a file whose name is still in work/ waits in
// the folder until that one has moved on; Pending after a restart gives
// every file the name it was dropped with.
func TestNamesInWorkAndPending(t *testing.T) {
	f := newFolder(t, Config{})
	p := filepath.Join(f.Dir(), "a b.csv")
	writeFile(t, p, "first")
	first := claimOne(t, f, time.Now())
	writeFile(t, filepath.Join(f.Dir(), "a b (2).csv"), "first")
	numbered := claimOne(t, f, time.Now())
	writeFile(t, p, "second")
	cs, err := f.Scan(time.Now())
	if err != nil || len(cs) != 1 {
		t.Fatalf("scan: %v, %v", candNames(cs), err)
	}
	if _, err := f.Claim(cs[0]); !errors.Is(err, ErrSkipped) || !errors.Is(err, ErrNameInWork) {
		t.Fatalf("Claim of a name taken in work/ = %v; want ErrSkipped and ErrNameInWork", err)
	}
	if readFile(t, p) != "second" {
		t.Fatal("the waiting file was touched")
	}
	want := []string{"a b (2).csv", "a b.csv"}
	if got := listDir(t, f.work); !slices.Equal(got, want) {
		t.Fatalf("work/ holds %q; want %q", got, want)
	}
	if first.Name != "a b.csv" || numbered.Name != "a b (2).csv" {
		t.Errorf("claimed as %q and %q", first.Name, numbered.Name)
	}
	if cl, err := f.InWork("a b.csv"); err != nil || !sameClaimed(cl, first) {
		t.Errorf("InWork = %+v, %v; want %+v", cl, err, first)
	}
	if _, err := f.InWork("c.csv"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("InWork of a name not in work/: %v", err)
	}
	// A leftover that is not ours, as an operator might leave it.
	writeFile(t, filepath.Join(f.work, ".x.tmp"), "ignored")

	// A new Folder, as after a restart.
	f2, err := Open(Config{Dir: f.Dir(), State: filepath.Dir(filepath.Dir(f.work)), Kind: "export"})
	if err != nil {
		t.Fatal(err)
	}
	pend, err := f2.Pending()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Claimed{}
	for _, cl := range pend {
		got[cl.Path] = cl
	}
	if len(pend) != 2 {
		t.Fatalf("Pending = %+v; want 2", pend)
	}
	for _, cl := range []Claimed{first, numbered} {
		if !sameClaimed(got[cl.Path], cl) {
			t.Errorf("Pending has %+v; want %+v", got[cl.Path], cl)
		}
	}
	if _, err := f2.Done(got[first.Path], ""); err != nil {
		t.Fatal(err)
	}
	second := claimOne(t, f2, time.Now())
	if second.Name != "a b.csv" || second.Path != first.Path || second.SHA256 != hashOf("second") {
		t.Errorf("claimed %+v once the name was free", second)
	}
	if _, err := f2.Fail(second, []string{"bad"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f2.Duplicate(got[numbered.Path], "a b.csv", time.Now()); err != nil {
		t.Fatal(err)
	}
	if pend, err := f2.Pending(); err != nil || len(pend) != 0 {
		t.Errorf("Pending after all moved on: %+v, %v", pend, err)
	}
}

// TestWaiting: a content is found under its name or a numbered form of it,
// in the folder (ready or not) and in work/; not under another name nor in
// failed/.
func TestWaiting(t *testing.T) {
	f := newFolder(t, Config{StableFor: time.Hour})
	sum, size := hashOf("reply"), int64(len("reply"))
	find := func() string {
		t.Helper()
		p, err := f.Waiting("reply.xml", size, sum)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	writeFile(t, filepath.Join(f.Dir(), ".reply.xml.download"), "reply")
	writeFile(t, filepath.Join(f.Dir(), "other.xml"), "reply")
	writeFile(t, filepath.Join(f.Dir(), "reply.xml"), "reply!")
	writeFile(t, filepath.Join(f.Dir(), "reply (2).xml"), "rEPLY")
	if err := os.WriteFile(filepath.Join(f.failed, "reply.xml"), []byte("reply"), 0o644); err != nil {
		t.Fatal(err)
	}
	if p := find(); p != "" {
		t.Fatalf("Waiting found %s", p)
	}
	in := filepath.Join(f.Dir(), "reply (3).xml")
	writeFile(t, in, "reply")
	if p := find(); p != in {
		t.Fatalf("Waiting = %q; want %q", p, in)
	}
	work := filepath.Join(f.work, "reply (3).xml")
	if err := os.Rename(in, work); err != nil {
		t.Fatal(err)
	}
	if p := find(); p != work {
		t.Fatalf("Waiting = %q; want %q", p, work)
	}
}

func TestNumbered(t *testing.T) {
	for _, c := range []struct {
		name string
		n    int
		want string
	}{
		{"a.csv", 1, "a.csv"},
		{"a.csv", 2, "a (2).csv"},
		{"a.tar.gz", 3, "a.tar (3).gz"},
		{"noext", 2, "noext (2)"},
		{"æøå 批次.xml", 10, "æøå 批次 (10).xml"},
	} {
		got := numbered(c.name, c.n)
		if got != c.want {
			t.Errorf("numbered(%q, %d) = %q; want %q", c.name, c.n, got, c.want)
		}
		if !numberedOf(got, c.name) {
			t.Errorf("numberedOf(%q, %q) = false", got, c.name)
		}
	}
	for _, n := range []string{"a (1).csv", "a (0).csv", "a (x).csv", "a(2).csv", "a (2)b.csv", "a (2).txt", "b (2).csv", "a (2) (2).csv", "a.csv (2)"} {
		if numberedOf(n, "a.csv") {
			t.Errorf("numberedOf(%q, \"a.csv\") = true", n)
		}
	}
	long := strings.Repeat("x", nameMax-4) + ".csv"
	if !numberedOf(numbered(long, 12), long) {
		t.Error("numberedOf of a cut name")
	}
}

func TestDone(t *testing.T) {
	month := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)
	f := newFolder(t, Config{Now: func() time.Time { return month }})
	var paths []string
	for _, arch := range []string{"", "", "MSG-1.csv"} {
		writeFile(t, filepath.Join(f.Dir(), "REF_1.csv"), "batch")
		cl := claimOne(t, f, time.Now())
		p, err := f.Done(cl, arch)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	dir := filepath.Join(filepath.Dir(filepath.Dir(f.work)), "archive", "export", "2026", "09")
	want := []string{filepath.Join(dir, "REF_1.csv"), filepath.Join(dir, "REF_1 (2).csv"), filepath.Join(dir, "MSG-1.csv")}
	if !slices.Equal(paths, want) {
		t.Errorf("archived to %q; want %q", paths, want)
	}
	for _, p := range paths {
		if readFile(t, p) != "batch" {
			t.Errorf("%s differs", p)
		}
	}
	if got := listDir(t, f.work); len(got) != 0 {
		t.Errorf("work/ holds %v", got)
	}
	// Only files in work/ can be moved on.
	other := filepath.Join(t.TempDir(), "REF_1.csv")
	writeFile(t, other, "x")
	if _, err := f.Done(Claimed{Name: "REF_1.csv", Path: other}, ""); err == nil {
		t.Error("Done of a file outside work/: no error")
	}
	if _, err := f.Fail(Claimed{Name: "REF_1.csv", Path: other}, nil); err == nil {
		t.Error("Fail of a file outside work/: no error")
	}
	writeFile(t, filepath.Join(f.Dir(), "b.csv"), "b")
	cl := claimOne(t, f, time.Now())
	if _, err := f.Done(cl, "../b.csv"); !errors.Is(err, ErrName) {
		t.Errorf("Done with archive name ../b.csv: %v; want ErrName", err)
	}
}

func TestFail(t *testing.T) {
	f := newFolder(t, Config{})
	problems := []string{"line 3: account 1234 fails the check digit", "line 7: amount\nmissing", "control sum 10.00, lines add up to 9.00"}
	wantErr := "line 3: account 1234 fails the check digit\nline 7: amount missing\ncontrol sum 10.00, lines add up to 9.00\n"

	var paths []string
	for range 2 {
		writeFile(t, filepath.Join(f.Dir(), "REF 1.csv"), "bad batch")
		cl := claimOne(t, f, time.Now())
		p, err := f.Fail(cl, problems)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if want := []string{filepath.Join(f.failed, "REF 1.csv"), filepath.Join(f.failed, "REF 1 (2).csv")}; !slices.Equal(paths, want) {
		t.Errorf("failed to %q; want %q", paths, want)
	}
	for _, p := range paths {
		if readFile(t, p) != "bad batch" {
			t.Errorf("%s differs", p)
		}
		if got := readFile(t, p+".err"); got != wantErr {
			t.Errorf("%s.err = %q; want %q", p, got, wantErr)
		}
	}
	if got := listDir(t, f.failed); len(got) != 4 {
		t.Errorf("failed/ holds %q; want two files and two reports, no temporary files", got)
	}

	// A report left without its file by a crash is replaced.
	writeFile(t, filepath.Join(f.failed, "y.csv.err"), "stale\n")
	writeFile(t, filepath.Join(f.Dir(), "y.csv"), "y")
	cl := claimOne(t, f, time.Now())
	p, err := f.Fail(cl, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p != filepath.Join(f.failed, "y.csv") {
		t.Errorf("failed to %s", p)
	}
	if got := readFile(t, p+".err"); got != "failed (no reason given)\n" {
		t.Errorf(".err = %q", got)
	}
}

func TestDuplicate(t *testing.T) {
	f := newFolder(t, Config{})
	writeFile(t, filepath.Join(f.Dir(), "REF_2.csv"), "batch")
	cl := claimOne(t, f, time.Now())
	at := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)
	p, err := f.Duplicate(cl, "REF_1.csv", at)
	if err != nil {
		t.Fatal(err)
	}
	want := "duplicate of REF_1.csv (sha256 " + hashOf("batch") + ") processed 2026-09-01T10:00:00Z\n"
	if got := readFile(t, p+".err"); got != want {
		t.Errorf(".err = %q; want %q", got, want)
	}
}

func TestSyncErrorIsReported(t *testing.T) {
	f := newFolder(t, Config{})
	writeFile(t, filepath.Join(f.Dir(), "a.csv"), "a")
	f.fsync = func(*os.File) error { return syscall.EIO }
	cs, _ := f.Scan(time.Now())
	_, err := f.Claim(cs[0])
	if !errors.Is(err, fsync.ErrSync) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("Claim = %v; want fsync.ErrSync wrapping EIO", err)
	}
	// The rename happened; the file waits in work/ for the next start.
	f.fsync = (*os.File).Sync
	pend, err := f.Pending()
	if err != nil || len(pend) != 1 || pend[0].SHA256 != hashOf("a") {
		t.Fatalf("Pending = %+v, %v", pend, err)
	}
	// An fsync that the file system does not support on folders is no
	// error.
	f.fsync = func(d *os.File) error {
		if fi, err := d.Stat(); err == nil && fi.IsDir() {
			return &fs.PathError{Op: "sync", Path: d.Name(), Err: syscall.EINVAL}
		}
		return d.Sync()
	}
	if _, err := f.Fail(pend[0], []string{"x"}); err != nil {
		t.Fatal(err)
	}
	// But a failed fsync of the report is.
	writeFile(t, filepath.Join(f.Dir(), "b.csv"), "b")
	cl := claimOne(t, f, time.Now())
	f.fsync = func(*os.File) error { return syscall.EIO }
	if _, err := f.Fail(cl, []string{"x"}); !errors.Is(err, fsync.ErrSync) {
		t.Fatalf("Fail = %v; want fsync.ErrSync", err)
	}
	if _, err := os.Stat(cl.Path); err != nil {
		t.Errorf("the file left work/ although its report was not written: %v", err)
	}
	for _, n := range listDir(t, f.failed) {
		if strings.HasPrefix(n, "b.csv") || strings.HasPrefix(n, ".b.csv") {
			t.Errorf("failed/ holds %s", n)
		}
	}
}

// TestPlace checks that a complete file is given its name, or a numbered
// one when the name is taken, never replacing a file, with its done
// marker, and that Scan takes it at once.
func TestPlace(t *testing.T) {
	f := newFolder(t, Config{StableFor: time.Hour})
	writeFile(t, filepath.Join(f.Dir(), "reply.xml"), "first")
	for _, want := range []string{"reply (2).xml", "reply (3).xml"} {
		tmp := filepath.Join(f.Dir(), ".reply.xml.download")
		writeFile(t, tmp, want)
		p, err := f.Place(tmp, "reply.xml")
		if err != nil {
			t.Fatal(err)
		}
		if p != filepath.Join(f.Dir(), want) || readFile(t, p) != want {
			t.Errorf("placed at %s; want %s with its content", p, want)
		}
		if _, err := os.Stat(p + DoneSuffix); err != nil {
			t.Errorf("no done marker: %v", err)
		}
		if _, err := os.Stat(tmp); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the temporary file is still there: %v", err)
		}
	}
	if readFile(t, filepath.Join(f.Dir(), "reply.xml")) != "first" {
		t.Error("the file under the name was replaced")
	}
	cands, err := f.Scan(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(cands) != 2 {
		t.Errorf("Scan found %d files ready; want the two placed ones (the first has no done marker)", len(cands))
	}
	if _, err := f.Place(filepath.Join(f.Dir(), "missing"), "../x.xml"); !errors.Is(err, ErrName) {
		t.Errorf("Place to a path: %v; want ErrName", err)
	}
}

// TestOpenRemovesStaleReports checks that the temporary file of an .err
// report, left in failed/ by a process that stopped before renaming it, is
// removed when the folder is opened, and nothing else is.
func TestOpenRemovesStaleReports(t *testing.T) {
	f := newFolder(t, Config{})
	keep := []string{"batch.csv", "batch.csv.err", ".batch.csv.tmp", ".notes.err.txt"}
	for _, n := range append(slices.Clone(keep), ".batch.csv.err.1480683257.tmp", ".x.err.42.tmp") {
		writeFile(t, filepath.Join(f.failed, n), "x")
	}
	if _, err := Open(Config{Dir: f.dir, State: filepath.Dir(filepath.Dir(f.work)), Kind: "export"}); err != nil {
		t.Fatal(err)
	}
	got := listDir(t, f.failed)
	slices.Sort(got)
	want := slices.Clone(keep)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("failed/ holds %q; want %q", got, want)
	}
}
