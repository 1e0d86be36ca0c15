package daemon

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"refundd/daemon/atomicfile"
	"refundd/daemon/obs"
	"refundd/daemon/store"
)

// faultFS is the real file system with faults switched on and off while a
// daemon runs: a full disk (every write of a new file fails with ENOSPC, as
// the kernel reports it) and failing fsyncs (EIO) of files or folders.
type faultFS struct {
	atomicfile.OS
	full     atomic.Bool
	syncFile atomic.Bool // fsync of a file fails
	syncDir  atomic.Bool // fsync of a folder fails
	faults   atomic.Int64
}

func (f *faultFS) OpenFile(name string, flag int, perm fs.FileMode) (atomicfile.File, error) {
	file, err := f.OS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, name: name}, nil
}

func (f *faultFS) Open(name string) (atomicfile.File, error) {
	file, err := f.OS.Open(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, name: name, dir: true}, nil
}

type faultFile struct {
	atomicfile.File
	fs   *faultFS
	name string
	dir  bool
}

func (f *faultFile) Write(p []byte) (int, error) {
	if f.fs.full.Load() {
		f.fs.faults.Add(1)
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: syscall.ENOSPC}
	}
	return f.File.Write(p)
}

func (f *faultFile) Sync() error {
	if (f.dir && f.fs.syncDir.Load()) || (!f.dir && f.fs.syncFile.Load()) {
		f.fs.faults.Add(1)
		return &fs.PathError{Op: "sync", Path: f.name, Err: syscall.EIO}
	}
	return f.File.Sync()
}

// lines counts the log lines that hold every one of subs.
func (l *logBuf) lines(subs ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for line := range strings.Lines(l.b.String()) {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(line, s)
		}
		if all {
			n++
		}
	}
	return n
}

// secondBatch is batch-ok.csv as another batch of other refunds.
func secondBatch(t *testing.T) []byte {
	t.Helper()
	b := readFile(t, "testdata/batch-ok.csv")
	b = bytes.ReplaceAll(b, []byte("B2026-0042"), []byte("B2026-0043"))
	return bytes.ReplaceAll(b, []byte("10"), []byte("20"))
}

// gauge returns the value of a gauge without labels.
func gauge(t *testing.T, m *obs.Metrics, name string) float64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestDaemonDiskFull fills the disk while batches and a reply arrive: the
// daemon says so (log line, readiness, metric), takes no new files, keeps
// the file it was working on in its work folder, and when space is back
// finishes everything exactly once.
func TestDaemonDiskFull(t *testing.T) {
	e := newDaemonEnv(t)
	export, work := filepath.Join(e.dir, "export"), filepath.Join(e.dir, "state", "work", "export")
	fsys := &faultFS{}
	logs := &logBuf{t: t}
	opts := e.options(t)
	opts.Logger = zerolog.New(logs)
	opts.Metrics = obs.NewMetrics()
	opts.Readiness = obs.NewReadiness()
	opts.FS = fsys
	d := e.daemon(t, opts)

	fsys.full.Store(true)
	drop(t, export, "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatalf("RunOnce with a full disk: %v (a full disk is not a reason to stop)", err)
	}
	if fsys.faults.Load() == 0 {
		t.Fatal("the daemon wrote nothing through its file system")
	}
	if got := files(t, e.up); len(got) != 0 {
		t.Fatalf("uploaded %v with a full disk", got)
	}
	if got := files(t, work); len(got) != 1 || !strings.HasSuffix(got[0], "batch-ok.csv") {
		t.Fatalf("work folder holds %v, want the batch waiting there", got)
	}
	if got := files(t, filepath.Join(e.dir, "state", "outbox")); len(got) != 0 {
		t.Errorf("outbox holds %v after a failed write", got)
	}
	if n := logs.lines(`"level":"error"`, "disk full: no new files are taken"); n != 1 {
		t.Errorf("%d disk-full error lines, want 1", n)
	}
	if err := opts.Readiness.Err(); err == nil || !strings.Contains(err.Error(), "disk") {
		t.Errorf("readiness %v, want the disk named", err)
	}
	if got := gauge(t, opts.Metrics, "refundd_disk_full"); got != 1 {
		t.Errorf("refundd_disk_full = %v, want 1", got)
	}

	// New work waits where it is while the disk is full.
	drop(t, export, "batch-2.csv", secondBatch(t))
	drop(t, filepath.Join(e.dir, "inbox"), "report.xml", []byte("not a reply"))
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := files(t, export); !slices.Contains(got, "batch-2.csv") {
		t.Fatalf("export folder holds %v: a new file was taken while the disk is full", got)
	}
	if got := files(t, filepath.Join(e.dir, "inbox")); !slices.Contains(got, "report.xml") {
		t.Fatalf("inbox holds %v: a new file was taken while the disk is full", got)
	}
	if n := logs.lines(`"level":"error"`, "disk full: no new files are taken"); n != 1 {
		t.Errorf("%d disk-full error lines after a second round, want still 1", n)
	}

	// Space is back: both batches go, once each.
	fsys.full.Store(false)
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	msg2 := secondMsgID(t, e)
	if got := files(t, e.up); !slices.Equal(got, sorted(testMsgID+".xml", msg2+".xml")) {
		t.Fatalf("upload folder holds %v, want both batches once", got)
	}
	if got := files(t, work); len(got) != 0 {
		t.Errorf("work folder still holds %v", got)
	}
	if got := files(t, filepath.Join(e.dir, "inbox", "failed")); !slices.Contains(got, "report.xml") {
		t.Errorf("the file that is not a reply is not in failed/ (%v)", got)
	}
	if logs.count("disk space available again") != 1 {
		t.Error("no log line says that space is back")
	}
	if err := opts.Readiness.Err(); err != nil {
		t.Errorf("readiness %v after space is back", err)
	}
	if got := gauge(t, opts.Metrics, "refundd_disk_full"); got != 0 {
		t.Errorf("refundd_disk_full = %v after space is back", got)
	}

	// A reply arrives while the disk is full: it waits, nothing is applied
	// and nothing written for the ERP; then it is applied once.
	sent := e.sent(t, testMsgID)
	if err := os.WriteFile(filepath.Join(e.down, "pain002.xml"), statusReport(t, testMsgID, sent), 0o644); err != nil {
		t.Fatal(err)
	}
	fsys.full.Store(true)
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := files(t, filepath.Join(e.dir, "import")); len(got) != 0 {
		t.Fatalf("import folder holds %v with a full disk", got)
	}
	if st, _ := e.statuses(t, testMsgID); st != store.BatchSent {
		t.Fatalf("batch is %s: the reply was applied although its files for the ERP were not written", st)
	}
	if got := files(t, filepath.Join(e.dir, "state", "work", "inbox")); len(got) != 1 {
		t.Fatalf("work folder holds %v, want the reply waiting there", got)
	}
	fsys.full.Store(false)
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.statuses(t, testMsgID); st != store.BatchAccepted {
		t.Fatalf("batch is %s after space is back, want accepted", st)
	}
	if got := withPrefix(files(t, filepath.Join(e.dir, "import")), "status-"); len(got) != 1 {
		t.Errorf("status files %v, want 1", got)
	}
}

// secondMsgID returns the MsgId of the batch of secondBatch.
func secondMsgID(t *testing.T, e *daemonEnv) string {
	t.Helper()
	s := e.openStore(t)
	defer s.Close()
	bs, err := s.BatchByNumber(t.Context(), "B2026-0043")
	if err != nil || len(bs) != 1 {
		t.Fatalf("batch B2026-0043: %v, %v", bs, err)
	}
	return bs[0].MsgID
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

// TestDaemonFsyncFails makes an fsync fail while a batch and later a reply
// are written: the daemon stops with an error that says so, has recorded
// nothing it did not write, and a restart on a sound disk finishes the
// work exactly once.
func TestDaemonFsyncFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*faultFS)
	}{
		{"file", func(f *faultFS) { f.syncFile.Store(true) }},
		{"folder", func(f *faultFS) { f.syncDir.Store(true) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newDaemonEnv(t)
			work := filepath.Join(e.dir, "state", "work", "export")
			drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))

			fsys := &faultFS{}
			tc.set(fsys)
			opts := e.options(t)
			opts.FS = fsys
			d := e.daemon(t, opts)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			err := d.Run(ctx, nil)
			if !errors.Is(err, atomicfile.ErrSync) {
				t.Fatalf("Run with failing fsync returned %v, want an error wrapping ErrSync", err)
			}
			d.Close()
			if got := files(t, e.up); len(got) != 0 {
				t.Fatalf("uploaded %v although the pain.001 was not durable", got)
			}
			if got := files(t, work); len(got) != 1 {
				t.Fatalf("work folder holds %v, want the batch kept there", got)
			}
			s := e.openStore(t)
			if bs, err := s.ListBatches(t.Context()); err != nil || len(bs) != 0 {
				t.Fatalf("store holds batches %v (%v) whose pain.001 was not durable", bs, err)
			}
			s.Close()

			e.once(t) // a sound disk
			if got := files(t, e.up); !slices.Equal(got, []string{testMsgID + ".xml"}) {
				t.Fatalf("upload folder holds %v, want the batch once", got)
			}

			// The files for the ERP: the reply is not applied, and applied
			// once after the restart.
			sent := e.sent(t, testMsgID)
			if err := os.WriteFile(filepath.Join(e.down, "camt054.xml"), notification(t, sent, ""), 0o644); err != nil {
				t.Fatal(err)
			}
			fsys = &faultFS{}
			tc.set(fsys)
			opts.FS = fsys
			d = e.daemon(t, opts)
			if err := d.RunOnce(t.Context()); !errors.Is(err, atomicfile.ErrSync) {
				t.Fatalf("RunOnce with failing fsync returned %v, want an error wrapping ErrSync", err)
			}
			d.Close()
			if got := files(t, filepath.Join(e.dir, "import")); len(got) != 0 {
				t.Fatalf("import folder holds %v after failed fsyncs", got)
			}
			if _, rs := e.statuses(t, testMsgID); rs["CN10046"] == "booked" {
				t.Fatal("booking recorded although its posting was not durable")
			}
			e.once(t)
			imp := files(t, filepath.Join(e.dir, "import"))
			if got := withPrefix(imp, "postings-"); len(got) != 1 {
				t.Fatalf("postings files %v, want exactly 1", got)
			}
			if _, rs := e.statuses(t, testMsgID); rs["CN10046"] != "booked" {
				t.Errorf("CN10046 is %s after the restart, want booked", rs["CN10046"])
			}
		})
	}
}
