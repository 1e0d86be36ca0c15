package daemon

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"refundd/daemon/obs"
	"refundd/daemon/store"
	"refundd/internal/testutil"
)

// TestDaemonDiskFull fills the disk while batches and a reply arrive: the
// daemon says so (log line, readiness, metric), takes no new files, keeps
// the file it was working on in its work folder, and when space is back
// finishes everything exactly once.
func TestDaemonDiskFull(t *testing.T) {
	e := newDaemonEnv(t)
	export, work := filepath.Join(e.dir, "export"), e.spool("work", "export")
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
	if got := files(t, e.spool(OutboxDir)); len(got) != 0 {
		t.Errorf("outbox holds %v after a failed write", got)
	}
	if n := logs.lines(`"level":"error"`, "disk full: no new files are taken"); n != 1 {
		t.Errorf("%d disk-full error lines, want 1", n)
	}
	if err := opts.Readiness.Err(); err == nil || !strings.Contains(err.Error(), "disk") {
		t.Errorf("readiness %v, want the disk named", err)
	}
	if got := metric(t, opts.Metrics, "refundd_disk_full"); got != 1 {
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
	if got := metric(t, opts.Metrics, "refundd_disk_full"); got != 0 {
		t.Errorf("refundd_disk_full = %v after space is back", got)
	}

	// A reply arrives while the disk is full: it waits, nothing is applied
	// and nothing written for the ERP; then it is applied once.
	sent := e.sent(t, testMsgID)
	if err := os.WriteFile(filepath.Join(e.down, "pain002.xml"), testutil.StatusReport(t, testMsgID, sent), 0o644); err != nil {
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
	if got := files(t, e.spool("work", "inbox")); len(got) != 1 {
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

// secondBatch is batch-ok.csv as another batch of other refunds.
func secondBatch(t *testing.T) []byte {
	t.Helper()
	b := readFile(t, "testdata/batch-ok.csv")
	b = bytes.ReplaceAll(b, []byte("B2026-0042"), []byte("B2026-0043"))
	return bytes.ReplaceAll(b, []byte("10"), []byte("20"))
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
