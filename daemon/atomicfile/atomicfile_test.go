package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"refundd/internal/fsync"
)

var _ FS = OS{}

// memFS is an in-memory FS that records every operation and fails those
// that a test asks it to.
type memFS struct {
	mu    sync.Mutex
	files map[string][]byte // durable or not, what a reader would see
	ops   []string

	// Faults. writeLimit > 0 makes writes fail with ENOSPC once a file
	// holds that many bytes.
	writeLimit    int
	failSync      error // of a file
	failClose     error
	failDirSync   error
	failDirOpen   error
	failLink      error
	failRemoveTmp error // the first removal of a temporary name
	existsOnce    bool  // the first OpenFile finds its name taken
}

func newMemFS() *memFS { return &memFS{files: map[string][]byte{}} }

func (m *memFS) log(format string, args ...any) {
	m.ops = append(m.ops, fmt.Sprintf(format, args...))
}

// names returns the names in the file system, sorted.
func (m *memFS) names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ns []string
	for n := range m.files {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

type memFile struct {
	fs   *memFS
	name string
	dir  bool
}

func (m *memFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log("open %s excl=%v", filepath.Base(name), flag&os.O_EXCL != 0)
	if _, ok := m.files[name]; ok || m.existsOnce {
		m.existsOnce = false
		if flag&os.O_EXCL != 0 {
			return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EEXIST}
		}
	}
	m.files[name] = nil
	return &memFile{fs: m, name: name}, nil
}

func (m *memFS) Open(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log("opendir")
	if m.failDirOpen != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: m.failDirOpen}
	}
	return &memFile{fs: m, name: name, dir: true}, nil
}

func (m *memFS) Link(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log("link %s", filepath.Base(newname))
	if m.failLink != nil {
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: m.failLink}
	}
	if _, ok := m.files[newname]; ok {
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EEXIST}
	}
	m.files[newname] = m.files[oldname]
	return nil
}

func (m *memFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log("remove %s", filepath.Base(name))
	if m.failRemoveTmp != nil && TempName(filepath.Base(name)) {
		err := m.failRemoveTmp
		m.failRemoveTmp = nil
		return &fs.PathError{Op: "remove", Path: name, Err: err}
	}
	if _, ok := m.files[name]; !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: syscall.ENOENT}
	}
	delete(m.files, name)
	return nil
}

func (f *memFile) Write(p []byte) (int, error) {
	m := f.fs
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log("write %d", len(p))
	data := m.files[f.name]
	if m.writeLimit > 0 && len(data)+len(p) > m.writeLimit {
		n := m.writeLimit - len(data)
		m.files[f.name] = append(data, p[:n]...)
		return n, &fs.PathError{Op: "write", Path: f.name, Err: syscall.ENOSPC}
	}
	m.files[f.name] = append(data, p...)
	return len(p), nil
}

func (f *memFile) Sync() error {
	m := f.fs
	m.mu.Lock()
	defer m.mu.Unlock()
	if f.dir {
		m.log("syncdir")
		if m.failDirSync != nil {
			return &fs.PathError{Op: "sync", Path: f.name, Err: m.failDirSync}
		}
		return nil
	}
	m.log("sync")
	if m.failSync != nil {
		return &fs.PathError{Op: "sync", Path: f.name, Err: m.failSync}
	}
	return nil
}

func (f *memFile) Close() error {
	m := f.fs
	m.mu.Lock()
	defer m.mu.Unlock()
	if f.dir {
		m.log("closedir")
		return nil
	}
	m.log("close")
	if m.failClose != nil {
		return &fs.PathError{Op: "close", Path: f.name, Err: m.failClose}
	}
	return nil
}

func fillString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func TestWriteOrderOfOperations(t *testing.T) {
	m := newMemFS()
	w := Writer{FS: m}
	if err := w.Write("/in", "postings-1.csv", fillString("a;b\n")); err != nil {
		t.Fatal(err)
	}
	if got, want := m.names(), []string{"/in/postings-1.csv"}; !slices.Equal(got, want) {
		t.Errorf("names = %q; want %q", got, want)
	}
	if got := string(m.files["/in/postings-1.csv"]); got != "a;b\n" {
		t.Errorf("content = %q; want %q", got, "a;b\n")
	}
	// The temporary name is hidden and created exclusively; the data is
	// synced before the link, and the folder after it.
	tmp := regexp.MustCompile(`^\.postings-1\.csv\.[A-Z2-7]{12}\.tmp$`)
	var ops []string
	for _, op := range m.ops {
		f := strings.Fields(op)
		if len(f) > 1 && tmp.MatchString(f[1]) {
			f[1] = "TMP"
		}
		ops = append(ops, strings.Join(f, " "))
	}
	want := []string{
		"open TMP excl=true", "write 4", "sync", "close",
		"link postings-1.csv", "remove TMP", "opendir", "syncdir", "closedir",
	}
	if !slices.Equal(ops, want) {
		t.Errorf("operations:\n got %q\nwant %q", ops, want)
	}
}

func TestWriteBuffers(t *testing.T) {
	m := newMemFS()
	w := Writer{FS: m}
	fill := func(w io.Writer) error {
		for range 1000 {
			if _, err := io.WriteString(w, "x"); err != nil {
				return err
			}
		}
		return nil
	}
	if err := w.Write("/in", "f.csv", fill); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.Join(m.ops, "\n"), "write "); n != 1 {
		t.Errorf("%d writes reached the file; want 1 (buffered)", n)
	}
}

func TestWriteRetriesTakenTempName(t *testing.T) {
	m := newMemFS()
	m.existsOnce = true
	w := Writer{FS: m}
	if err := w.Write("/in", "f.csv", fillString("x")); err != nil {
		t.Fatal(err)
	}
	if got, want := m.names(), []string{"/in/f.csv"}; !slices.Equal(got, want) {
		t.Errorf("names = %q; want %q", got, want)
	}
}

// TestWriteFaults injects a failure at every step and checks that the error
// says what happened and that nothing is left: no temporary file, nothing
// under the final name.
func TestWriteFaults(t *testing.T) {
	errFill := errors.New("render failed")
	tests := []struct {
		name   string
		setup  func(*memFS)
		fill   func(io.Writer) error
		is     error // errors.Is(err, is) must hold
		isSync bool
		msg    string
	}{
		{"disk full", func(m *memFS) { m.writeLimit = 10 }, fillString(strings.Repeat("x", 100_000)), syscall.ENOSPC, false, "no space left"},
		{"disk full at flush", func(m *memFS) { m.writeLimit = 10 }, fillString("0123456789ab"), syscall.ENOSPC, false, "no space left"},
		{"fill fails", nil, func(io.Writer) error { return errFill }, errFill, false, "render failed"},
		{"fsync of the file", func(m *memFS) { m.failSync = syscall.EIO }, fillString("x"), syscall.EIO, true, "sync: fsync failed"},
		{"close", func(m *memFS) { m.failClose = syscall.EIO }, fillString("x"), syscall.EIO, false, "close:"},
		{"link", func(m *memFS) { m.failLink = syscall.EPERM }, fillString("x"), syscall.EPERM, false, "link"},
		{"remove temporary", func(m *memFS) { m.failRemoveTmp = syscall.EIO }, fillString("x"), syscall.EIO, false, "remove temporary name"},
		{"open folder", func(m *memFS) { m.failDirOpen = syscall.EACCES }, fillString("x"), syscall.EACCES, false, "sync folder /in"},
		{"fsync of the folder", func(m *memFS) { m.failDirSync = syscall.EIO }, fillString("x"), syscall.EIO, true, "sync folder /in: fsync failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemFS()
			if tt.setup != nil {
				tt.setup(m)
			}
			w := Writer{FS: m}
			err := w.Write("/in", "f.csv", tt.fill)
			if err == nil {
				t.Fatal("Write succeeded; want an error")
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
			if got := errors.Is(err, fsync.ErrSync); got != tt.isSync {
				t.Errorf("errors.Is(%q, fsync.ErrSync) = %v; want %v", err, got, tt.isSync)
			}
			if !strings.HasPrefix(err.Error(), "write /in/f.csv: ") || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q; want it to start with %q and contain %q", err, "write /in/f.csv: ", tt.msg)
			}
			if names := m.names(); len(names) != 0 {
				t.Errorf("left behind: %q", names)
			}
		})
	}
}

func TestWriteRealFS(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, "status-1.csv", fillString("RefNbr\n")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "status-1.csv"))
	if err != nil || string(got) != "RefNbr\n" {
		t.Fatalf("ReadFile = %q, %v; want %q", got, err, "RefNbr\n")
	}
	fi, err := os.Stat(filepath.Join(dir, "status-1.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&^DefaultPerm != 0 {
		t.Errorf("mode %v; want at most %v", fi.Mode().Perm(), DefaultPerm)
	}
	if fi.Sys().(*syscall.Stat_t).Nlink != 1 {
		t.Errorf("link count %d; want 1 (temporary name removed)", fi.Sys().(*syscall.Stat_t).Nlink)
	}
	assertOnly(t, dir, "status-1.csv")
}

// TestWriteFence: the fence is asked once the temporary file is complete
// and before the final name exists; its error ends the write with nothing
// left, and a temporary removed while the fence runs (by an instance that
// took a lease over) fails the write too.
func TestWriteFence(t *testing.T) {
	errLost := errors.New("lease lost")
	for _, tc := range []struct {
		name   string
		fence  func(dir string) error
		wantIs error
	}{
		{"refused", func(string) error { return errLost }, errLost},
		{"temporary removed meanwhile", func(dir string) error {
			tmps, _ := filepath.Glob(filepath.Join(dir, ".f.csv.*.tmp"))
			if len(tmps) != 1 {
				return fmt.Errorf("temporaries at the fence: %v, want one", tmps)
			}
			if got, _ := os.ReadFile(tmps[0]); string(got) != "complete" {
				return fmt.Errorf("temporary at the fence holds %q", got)
			}
			return os.Remove(tmps[0])
		}, fs.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w := Writer{Fence: func() error { return tc.fence(dir) }}
			err := w.Write(dir, "f.csv", fillString("complete"))
			if !errors.Is(err, tc.wantIs) {
				t.Fatalf("Write = %v, want %v", err, tc.wantIs)
			}
			assertOnly(t, dir)
		})
	}
}

func TestWriteRealFSNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "f.csv")
	if err := os.WriteFile(final, []byte("first"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(dir, "f.csv", fillString("second"))
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Write over an existing file: %v; want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(final); string(got) != "first" {
		t.Errorf("existing file now %q; want it untouched", got)
	}
	assertOnly(t, dir, "f.csv")
}

func TestWriteRealFSFillFailsOrPanics(t *testing.T) {
	dir := t.TempDir()
	errFill := errors.New("boom")
	if err := Write(dir, "f.csv", func(w io.Writer) error {
		io.WriteString(w, "partial")
		return errFill
	}); !errors.Is(err, errFill) {
		t.Fatalf("Write = %v; want %v", err, errFill)
	}
	assertOnly(t, dir)

	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic in fill did not propagate")
			}
		}()
		Write(dir, "f.csv", func(w io.Writer) error {
			io.WriteString(w, strings.Repeat("x", 100_000))
			panic("fill panics")
		})
	}()
	assertOnly(t, dir)
}

func TestWriteRealFSMissingFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	if err := Write(dir, "f.csv", fillString("x")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Write into a missing folder = %v; want fs.ErrNotExist", err)
	}
}

func TestWriteRefusesNames(t *testing.T) {
	m := newMemFS()
	w := Writer{FS: m}
	for _, name := range []string{"", ".", "..", "a/b", "../f.csv", ".hidden.csv", ".f.csv.ABC.tmp", "a\x00b"} {
		if err := w.Write("/in", name, fillString("x")); !errors.Is(err, ErrName) {
			t.Errorf("Write(%q) = %v; want ErrName", name, err)
		}
	}
	if len(m.ops) != 0 {
		t.Errorf("operations on refused names: %q", m.ops)
	}
}

func TestTempName(t *testing.T) {
	for name, want := range map[string]bool{
		".f.csv.ABCDEFGHIJKL.tmp": true,
		"f.csv":                   false,
		".f.csv":                  false,
		"f.tmp":                   false,
	} {
		if got := TempName(name); got != want {
			t.Errorf("TempName(%q) = %v; want %v", name, got, want)
		}
	}
}

// assertOnly checks that dir holds exactly the names want.
func assertOnly(t *testing.T, dir string, want ...string) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("folder holds %q; want %q", got, want)
	}
}

// TestWriterRemove: Remove goes through the Writer's FS, and a missing
// file is no error.
func TestWriterRemove(t *testing.T) {
	m := newMemFS()
	w := &Writer{FS: m}
	if err := w.Write("/d", "a.csv", fillString("x")); err != nil {
		t.Fatal(err)
	}
	if err := w.Remove("/d/a.csv"); err != nil {
		t.Fatal(err)
	}
	if got := m.names(); len(got) != 0 {
		t.Errorf("after Remove the FS holds %v", got)
	}
	if err := w.Remove("/d/a.csv"); err != nil {
		t.Errorf("removing a missing file: %v", err)
	}
}

// TestWriteAllOrderOfOperations: through an FS that is not the operating
// system's, each file's data is synced before its link, and the folder
// once, after the last link.
func TestWriteAllOrderOfOperations(t *testing.T) {
	m := newMemFS()
	w := Writer{FS: m}
	if err := w.WriteAll("/out", []string{"a.xml", "b.xml"}, [][]byte{[]byte("aa"), []byte("bbb")}); err != nil {
		t.Fatal(err)
	}
	if got, want := m.names(), []string{"/out/a.xml", "/out/b.xml"}; !slices.Equal(got, want) {
		t.Errorf("names = %q; want %q", got, want)
	}
	var ops []string
	for _, op := range m.ops {
		ops = append(ops, strings.Fields(op)[0])
	}
	want := []string{"open", "write", "sync", "close", "link", "remove", "open", "write", "sync", "close", "link", "remove", "opendir", "syncdir", "closedir"}
	if !slices.Equal(ops, want) {
		t.Errorf("operations:\n got %q\nwant %q", ops, want)
	}
}

// TestWriteAllFaults: a failed write or sync leaves none of the files,
// and a failed sync is ErrSync.
func TestWriteAllFaults(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(*memFS)
		is     error
		isSync bool
	}{
		{"fsync of a file", func(m *memFS) { m.failSync = syscall.EIO }, syscall.EIO, true},
		{"fsync of the folder", func(m *memFS) { m.failDirSync = syscall.EIO }, syscall.EIO, true},
		{"disk full", func(m *memFS) { m.writeLimit = 2 }, syscall.ENOSPC, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemFS()
			tt.setup(m)
			w := Writer{FS: m}
			err := w.WriteAll("/out", []string{"a.xml", "b.xml"}, [][]byte{[]byte("aa"), []byte("bbb")})
			if !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if got := errors.Is(err, fsync.ErrSync); got != tt.isSync {
				t.Errorf("errors.Is(%v, fsync.ErrSync) = %v; want %v", err, got, tt.isSync)
			}
			if names := m.names(); len(names) != 0 {
				t.Errorf("left behind: %q", names)
			}
		})
	}
}

// TestWriteAllRealFS writes files on the operating system's file system
// (one flush of the file system on Linux) and refuses to overwrite, leaving
// nothing of the call.
func TestWriteAllRealFS(t *testing.T) {
	dir := t.TempDir()
	var w Writer
	if err := w.WriteAll(dir, []string{"a.xml", "b.xml"}, [][]byte{[]byte("aa"), []byte("bbb")}); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir, "a.xml", "b.xml")
	if got, _ := os.ReadFile(filepath.Join(dir, "b.xml")); string(got) != "bbb" {
		t.Errorf("b.xml = %q; want %q", got, "bbb")
	}
	err := w.WriteAll(dir, []string{"c.xml", "a.xml"}, [][]byte{[]byte("c"), []byte("x")})
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("WriteAll over a.xml: %v; want fs.ErrExist", err)
	}
	assertOnly(t, dir, "a.xml", "b.xml")
}
