package sftpx_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"refundd/sftpx"
)

// TestPutSizes uploads files of several sizes and reads them back: the
// server's copy hashes like the source, and no temporary file remains.
func TestPutSizes(t *testing.T) {
	e := startEmbedded(t, sftpx.ServerConfig{})
	c := dial(t, e.cfg)
	for _, tc := range []struct {
		name string
		size int64
	}{
		{"empty", 0},
		{"1 byte", 1},
		{"one packet", 32 << 10},
		{"1 MiB", 1 << 20},
		{"odd", 3<<20 + 17},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.ReplaceAll(tc.name, " ", "-") + ".xml"
			if err := c.Put(t.Context(), "/"+name, data(tc.size, 1)); err != nil {
				t.Fatal(err)
			}
			got, want := fileSHA256(t, filepath.Join(e.root, name)), sha256Of(t, data(tc.size, 1))
			if got != want {
				t.Errorf("server copy sha256 %s; want %s", got, want)
			}
			local := filepath.Join(t.TempDir(), name)
			n, err := c.Get(t.Context(), "/"+name, local)
			if err != nil || n != tc.size {
				t.Fatalf("Get: %d, %v; want %d bytes", n, err, tc.size)
			}
			if got := fileSHA256(t, local); got != want {
				t.Errorf("downloaded sha256 %s; want %s", got, want)
			}
			noTempFiles(t, e.root)
			noTempFiles(t, filepath.Dir(local))
		})
	}
}

// TestPutRename checks which rename Put uses: posix-rename when offered,
// a plain rename when the server does not offer it.
func TestPutRename(t *testing.T) {
	for _, tc := range []struct {
		name     string
		disabled []string
		want     string
	}{
		{"posix-rename offered", nil, "posix-rename"},
		{"no posix-rename", []string{"posix-rename@openssh.com"}, "rename"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var ops []string
			e := startEmbedded(t, sftpx.ServerConfig{
				DisabledExtensions: tc.disabled,
				Fault: func(_ context.Context, op, _ string) error {
					mu.Lock()
					defer mu.Unlock()
					if strings.Contains(op, "rename") {
						ops = append(ops, op)
					}
					return nil
				},
			})
			c := dial(t, e.cfg)
			if err := c.Put(t.Context(), "/pain.xml", strings.NewReader("<Document/>")); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(ops, []string{tc.want}) {
				t.Errorf("rename requests %q; want [%s]", ops, tc.want)
			}
			if got := names(t, e.root); !slices.Equal(got, []string{"pain.xml"}) {
				t.Errorf("server folder holds %q; want [pain.xml]", got)
			}
		})
	}
}

// TestPutExistingTarget checks that an existing file is neither overwritten
// nor removed, with and without posix-rename, and also when it appears
// during the upload.
func TestPutExistingTarget(t *testing.T) {
	for _, tc := range []struct {
		name     string
		disabled []string
		at       string // the server operation before which the target appears; "": before the upload
	}{
		{"before, posix-rename", nil, ""},
		{"before, plain rename", []string{"posix-rename@openssh.com"}, ""},
		{"during, posix-rename", nil, "close"},
		{"during, plain rename", []string{"posix-rename@openssh.com"}, "close"},
		// The server's plain rename refuses an existing target itself.
		{"at the rename, plain rename", []string{"posix-rename@openssh.com"}, "rename"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			target := filepath.Join(root, "pain.xml")
			e := startEmbedded(t, sftpx.ServerConfig{Root: root, DisabledExtensions: tc.disabled,
				Fault: func(_ context.Context, op, _ string) error {
					if op == tc.at {
						return os.WriteFile(target, []byte("first"), 0o644)
					}
					return nil
				}})
			if tc.at == "" {
				if err := os.WriteFile(target, []byte("first"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			c := dial(t, e.cfg)
			err := c.Put(t.Context(), "/pain.xml", strings.NewReader("second"))
			if !errors.Is(err, sftpx.ErrTargetExists) || !sftpx.IsPermanent(err) {
				t.Fatalf("got %v; want a permanent ErrTargetExists", err)
			}
			if got, _ := os.ReadFile(target); string(got) != "first" {
				t.Errorf("target holds %q; want %q", got, "first")
			}
			if got := names(t, root); !slices.Equal(got, []string{"pain.xml"}) {
				t.Errorf("server folder holds %q; want only pain.xml", got)
			}
		})
	}
}

// TestPutLeftoverTemp checks that a temporary file left by an earlier
// attempt is replaced, not appended to.
func TestPutLeftoverTemp(t *testing.T) {
	e := startEmbedded(t, sftpx.ServerConfig{})
	if err := os.WriteFile(filepath.Join(e.root, ".pain.xml.part"), []byte("old partial content, longer"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := dial(t, e.cfg)
	if err := c.Put(t.Context(), "/pain.xml", strings.NewReader("new")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(e.root, "pain.xml")); string(got) != "new" {
		t.Errorf("got %q; want %q", got, "new")
	}
	noTempFiles(t, e.root)
}

// TestPutTempPattern checks a configured temporary name.
func TestPutTempPattern(t *testing.T) {
	ops := &opens{}
	e := startEmbedded(t, sftpx.ServerConfig{Fault: ops.fault})
	e.cfg.TempPattern = "tmp_{name}.upload"
	c := dial(t, e.cfg)
	if err := c.Put(t.Context(), "/in/pain.xml", strings.NewReader("x")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("upload into a missing folder: got %v; want fs.ErrNotExist", err)
	}
	if err := os.Mkdir(filepath.Join(e.root, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(t.Context(), "/in/pain.xml", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if want := []string{"/in/tmp_pain.xml.upload", "/in/tmp_pain.xml.upload"}; !slices.Equal(ops.names(), want) {
		t.Errorf("opened %q; want %q", ops.names(), want)
	}
}

// opens records the paths the embedded server opens, as its Fault hook.
type opens struct {
	mu    sync.Mutex
	paths []string
}

func (o *opens) fault(_ context.Context, op, p string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if op == "open" {
		o.paths = append(o.paths, p)
	}
	return nil
}

func (o *opens) names() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.paths)
}

// TestPutAs checks an upload under a temporary name the caller chose
// (one per attempt, Config.TempName) and that a name outside the target's
// folder, or the final name itself, is refused before anything is sent.
func TestPutAs(t *testing.T) {
	ops := &opens{}
	e := startEmbedded(t, sftpx.ServerConfig{Fault: ops.fault})
	if err := os.Mkdir(filepath.Join(e.root, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := dial(t, e.cfg)
	for _, bad := range []string{"/in/pain.xml", "/other/.pain.xml.a1.part", ".pain.xml.a1.part"} {
		if err := c.PutAs(t.Context(), "/in/pain.xml", bad, strings.NewReader("x")); !errors.Is(err, sftpx.ErrConfig) {
			t.Errorf("PutAs with temporary name %q: %v; want ErrConfig", bad, err)
		}
	}
	tmp, err := e.cfg.TempName("/in/pain.xml.a2")
	if err != nil || tmp != "/in/.pain.xml.a2.part" {
		t.Fatalf("TempName = %q, %v; want /in/.pain.xml.a2.part", tmp, err)
	}
	if err := c.PutAs(t.Context(), "/in/pain.xml", tmp, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(e.root, "in", "pain.xml")); err != nil || string(got) != "x" {
		t.Errorf("final file holds %q, %v", got, err)
	}
	if want := []string{tmp}; !slices.Equal(ops.names(), want) {
		t.Errorf("opened %q; want %q", ops.names(), want)
	}
	noTempFiles(t, e.root)
}

// TestPutServerErrors injects failures on the server: every one fails the
// upload, leaves neither the final nor the temporary file, and is
// classified.
func TestPutServerErrors(t *testing.T) {
	for _, tc := range []struct {
		op        string
		err       error
		permanent bool
		is        error
	}{
		{"open", syscall.EACCES, true, fs.ErrPermission},
		{"write", syscall.ENOSPC, true, sftpx.ErrNoSpace},
		{"write", syscall.EDQUOT, true, sftpx.ErrNoSpace},
		{"write", syscall.EIO, false, nil},
		{"close", syscall.ENOSPC, true, sftpx.ErrNoSpace},
		{"close", syscall.EIO, false, nil},
		{"posix-rename", syscall.EACCES, true, fs.ErrPermission},
		{"posix-rename", syscall.EIO, false, nil},
	} {
		t.Run(tc.op+" "+tc.err.Error(), func(t *testing.T) {
			e := startEmbedded(t, sftpx.ServerConfig{Fault: func(_ context.Context, op, _ string) error {
				if op == tc.op {
					return tc.err
				}
				return nil
			}})
			c := dial(t, e.cfg)
			err := c.Put(t.Context(), "/pain.xml", data(100<<10, 2))
			if err == nil {
				t.Fatal("Put succeeded; want an error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("got %v; want it to wrap %v", err, tc.is)
			}
			if got := sftpx.IsPermanent(err); got != tc.permanent {
				t.Errorf("IsPermanent(%v) = %v; want %v", err, got, tc.permanent)
			}
			if got := names(t, e.root); len(got) != 0 {
				t.Errorf("server folder holds %q; want nothing", got)
			}
			// The connection survived a server's refusal.
			if _, err := c.List(t.Context(), "/", ""); err != nil {
				t.Errorf("List after the failure: %v", err)
			}
		})
	}
}

// TestPutServerHangs lets the SFTP server stop answering while the SSH
// connection stays alive (keepalives are answered): the upload fails with a
// transient timeout within the configured timeout, and the next upload
// succeeds and removes the leftover.
func TestPutServerHangs(t *testing.T) {
	var hang sync.Mutex
	hung := true
	e := startEmbedded(t, sftpx.ServerConfig{Fault: func(ctx context.Context, op, _ string) error {
		hang.Lock()
		h := hung
		hang.Unlock()
		if h && op == "write" {
			select {
			case <-ctx.Done():
			case <-time.After(time.Minute):
			}
			return errors.New("released")
		}
		return nil
	}})
	e.cfg.Timeout = 2 * time.Second
	c := dial(t, e.cfg)
	start := time.Now()
	err := c.Put(t.Context(), "/pain.xml", data(1<<20, 3))
	elapsed := time.Since(start)
	if !errors.Is(err, sftpx.ErrTimeout) || sftpx.IsPermanent(err) {
		t.Fatalf("got %v; want a transient ErrTimeout", err)
	}
	if elapsed > e.cfg.Timeout+5*time.Second {
		t.Errorf("took %s; want about the timeout %s", elapsed, e.cfg.Timeout)
	}
	if exists(filepath.Join(e.root, "pain.xml")) {
		t.Error("the final file exists after a failed upload")
	}
	hang.Lock()
	hung = false
	hang.Unlock()
	if err := c.Put(t.Context(), "/pain.xml", strings.NewReader("ok")); err != nil {
		t.Fatalf("next Put: %v", err)
	}
	if err := c.Put(t.Context(), "/other.xml", strings.NewReader("ok")); err != nil {
		t.Fatalf("next Put: %v", err)
	}
	if got := names(t, e.root); !slices.Equal(got, []string{"other.xml", "pain.xml"}) {
		t.Errorf("server folder holds %q; want the two files only", got)
	}
}

// TestPutContextCancelled cancels an upload halfway.
func TestPutContextCancelled(t *testing.T) {
	e := startEmbedded(t, sftpx.ServerConfig{})
	c := dial(t, e.cfg)
	ctx, cancel := context.WithCancel(t.Context())
	r := &trickle{r: data(8<<20, 4), at: 1 << 20, call: cancel}
	err := c.Put(ctx, "/pain.xml", r)
	if !errors.Is(err, context.Canceled) || sftpx.IsPermanent(err) {
		t.Fatalf("got %v; want a transient context.Canceled", err)
	}
	if exists(filepath.Join(e.root, "pain.xml")) {
		t.Error("the final file exists after a cancelled upload")
	}
	// The next call dials again and removes the leftover temporary file.
	if _, err := c.List(t.Context(), "/", ""); err != nil {
		t.Fatal(err)
	}
	if got := names(t, e.root); len(got) != 0 {
		t.Errorf("server folder holds %q; want nothing", got)
	}
}

// TestPutReaderError fails the source halfway.
func TestPutReaderError(t *testing.T) {
	e := startEmbedded(t, sftpx.ServerConfig{})
	c := dial(t, e.cfg)
	boom := errors.New("disk read error")
	err := c.Put(t.Context(), "/pain.xml", io.MultiReader(data(200<<10, 5), iotest{boom}))
	if !errors.Is(err, boom) {
		t.Fatalf("got %v; want the reader's error", err)
	}
	if got := names(t, e.root); len(got) != 0 {
		t.Errorf("server folder holds %q; want nothing", got)
	}
}

type iotest struct{ err error }

func (r iotest) Read([]byte) (int, error) { return 0, r.err }

// TestPutBadName refuses names that are not files.
func TestPutBadName(t *testing.T) {
	e := startEmbedded(t, sftpx.ServerConfig{})
	c := dial(t, e.cfg)
	for _, name := range []string{"", "/", "/in/", "/in/.."} {
		if err := c.Put(t.Context(), name, bytes.NewReader(nil)); !errors.Is(err, sftpx.ErrConfig) {
			t.Errorf("Put(%q): got %v; want ErrConfig", name, err)
		}
	}
}

// TestServerClosedMidUpload stops the server during an upload: the error
// is transient, and no final file appears.
func TestServerClosedMidUpload(t *testing.T) {
	e := startEmbedded(t, sftpx.ServerConfig{})
	c := dial(t, e.cfg)
	r := &trickle{r: data(16<<20, 6), at: 1 << 20, call: func() { e.srv.Close() }}
	err := c.Put(t.Context(), "/pain.xml", r)
	if err == nil || sftpx.IsPermanent(err) {
		t.Fatalf("got %v; want a transient error", err)
	}
	if exists(filepath.Join(e.root, "pain.xml")) {
		t.Error("the final file exists")
	}
}

// TestPutInDoubt loses the connection while the server handles the
// rename: the outcome is unknown, and the error says so and is permanent,
// so that no one uploads the file again blindly.
func TestPutInDoubt(t *testing.T) {
	e := startEmbedded(t, sftpx.ServerConfig{Fault: func(ctx context.Context, op, _ string) error {
		if op == "posix-rename" {
			<-ctx.Done() // the server hangs until it is closed
			return ctx.Err()
		}
		return nil
	}})
	e.cfg.Timeout = 2 * time.Second
	c := dial(t, e.cfg)
	err := c.Put(t.Context(), "/pain.xml", strings.NewReader("<Document/>"))
	if !errors.Is(err, sftpx.ErrInDoubt) || !errors.Is(err, sftpx.ErrTimeout) || !sftpx.IsPermanent(err) {
		t.Fatalf("got %v; want a permanent ErrInDoubt caused by ErrTimeout", err)
	}
	t.Log(err)
}

// TestPutChecked: the check runs once the temporary file is complete and
// before the rename; its error stops the upload there, with no final file
// and no temporary one left, and is returned wrapped.
func TestPutChecked(t *testing.T) {
	e := startEmbedded(t, sftpx.ServerConfig{})
	c := dial(t, e.cfg)
	lost := errors.New("leadership lost")
	var sawTemp bool
	err := c.PutChecked(t.Context(), "/pain.xml", "/.pain.xml.e2.a1.part", strings.NewReader("content"), func() error {
		_, err := os.Stat(filepath.Join(e.root, ".pain.xml.e2.a1.part"))
		sawTemp = err == nil
		return lost
	})
	if !errors.Is(err, lost) {
		t.Fatalf("PutChecked = %v; want the check's error", err)
	}
	if !sawTemp {
		t.Error("the check ran before the temporary file was complete")
	}
	if _, err := os.Stat(filepath.Join(e.root, "pain.xml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the final file exists: %v", err)
	}
	noTempFiles(t, e.root)
	if err := c.PutChecked(t.Context(), "/pain.xml", "/.pain.xml.e2.a2.part", strings.NewReader("content"), func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(e.root, "pain.xml")); string(got) != "content" {
		t.Errorf("got %q", got)
	}
}

// TestPutConcurrentWrites holds every write request in the server until
// several wait there at once: Put must have that many in flight together,
// from a file (whose size is known) as from a stream (whose size is not).
// A sequential upload never has a second write in flight, so it fails.
func TestPutConcurrentWrites(t *testing.T) {
	// The embedded server handles up to 8 reads and writes at once.
	const want = 8
	const size = 1<<20 + 5
	for _, tc := range []struct {
		name string
		src  func(t *testing.T) io.Reader
	}{
		{"file", func(t *testing.T) io.Reader {
			name := filepath.Join(t.TempDir(), "source")
			f, err := os.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, data(size, 31)); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		}},
		{"stream", func(*testing.T) io.Reader { return struct{ io.Reader }{data(size, 31)} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				mu      sync.Mutex
				waiting int
				peak    int
				opened  bool
			)
			all := make(chan struct{})
			e := startEmbedded(t, sftpx.ServerConfig{Fault: func(ctx context.Context, op, _ string) error {
				if op != "write" {
					return nil
				}
				mu.Lock()
				waiting++
				peak = max(peak, waiting)
				if waiting == want && !opened {
					opened = true
					close(all)
				}
				mu.Unlock()
				defer func() {
					mu.Lock()
					waiting--
					mu.Unlock()
				}()
				select {
				case <-all:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(10 * time.Second):
					mu.Lock()
					defer mu.Unlock()
					return fmt.Errorf("at most %d writes were in flight at once; want %d", peak, want)
				}
			}})
			cfg := e.cfg
			cfg.Timeout = 30 * time.Second
			c := dial(t, cfg)
			if err := c.Put(t.Context(), "/pain.xml", tc.src(t)); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			t.Logf("writes waiting in the server at once: %d", peak)
			mu.Unlock()
			if got, want := fileSHA256(t, filepath.Join(e.root, "pain.xml")), sha256Of(t, data(size, 31)); got != want {
				t.Errorf("server copy sha256 %s; want %s", got, want)
			}
			noTempFiles(t, e.root)
		})
	}
}

// TestPutWriteFailsMidFile fails one write in the middle of the file while
// the writes after it land, so the temporary file reaches its full length
// with a hole: the size check alone would pass it. Put must fail and leave
// nothing, neither under the final name nor under the temporary one.
func TestPutWriteFailsMidFile(t *testing.T) {
	// 9 writes of 32 KiB at most; the server runs 8 at once, so the first
	// write to reach it is never the last one of the file.
	const size = 8<<15 + 100
	const writes = 9
	var (
		mu     sync.Mutex
		calls  int
		passed int
	)
	e := startEmbedded(t, sftpx.ServerConfig{Fault: func(ctx context.Context, op, _ string) error {
		if op != "write" {
			return nil
		}
		mu.Lock()
		calls++
		first := calls == 1
		if !first {
			passed++
		}
		mu.Unlock()
		if !first {
			return nil
		}
		// Fail the first write once all the others have passed.
		deadline := time.After(10 * time.Second)
		for {
			mu.Lock()
			n := passed
			mu.Unlock()
			if n == writes-1 {
				return syscall.EIO
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-deadline:
				return fmt.Errorf("only %d other writes came; want %d", n, writes-1)
			case <-time.After(time.Millisecond):
			}
		}
	}})
	cfg := e.cfg
	cfg.Timeout = 30 * time.Second
	c := dial(t, cfg)
	err := c.Put(t.Context(), "/pain.xml", data(size, 51))
	if err == nil {
		t.Fatal("Put succeeded; want the write's error")
	}
	if !errors.Is(err, syscall.EIO) && !strings.Contains(err.Error(), "input/output error") {
		t.Fatalf("got %v; want the write's input/output error", err)
	}
	if sftpx.IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = true; want a transient error", err)
	}
	if got := names(t, e.root); len(got) != 0 {
		t.Errorf("server folder holds %q; want nothing", got)
	}
}
