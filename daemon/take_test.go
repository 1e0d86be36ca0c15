package daemon

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"refundd/daemon/atomicfile"
	"refundd/daemon/refund"
	"refundd/daemon/store"
	"refundd/formats/pain002"
	"refundd/formats/xsdtest"
	"refundd/internal/testutil"
)

// TestDaemonSlowWriter: a batch written under its final name in pieces,
// over about 3.5 s with pauses shorter than watch.stable_for (1 s), is not
// taken while it is written: nothing is claimed (the file stays in
// export/) and nothing is uploaded. Once it is complete, exactly one
// pain.001 with every refund of the file goes up.
func TestDaemonSlowWriter(t *testing.T) {
	const (
		pieces = 8
		pause  = 500 * time.Millisecond
		look   = 50 * time.Millisecond
	)
	e := newDaemonEnv(t)
	e.cfg.Watch.StableFor = time.Second
	export := filepath.Join(e.dir, "export")
	batch := readFile(t, "testdata/batch-ok.csv")

	d := e.daemon(t, e.options(t))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	defer stop()

	f, err := os.OpenFile(filepath.Join(export, "batch-ok.csv"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checks := 0
	for i := range pieces {
		if _, err := f.Write(batch[i*len(batch)/pieces : (i+1)*len(batch)/pieces]); err != nil {
			t.Fatal(err)
		}
		if i == pieces-1 {
			break
		}
		for end := time.Now().Add(pause); time.Now().Before(end); time.Sleep(look) {
			checks++
			if got := files(t, e.up); len(got) != 0 {
				t.Fatalf("after %d of %d pieces the upload folder holds %v", i+1, pieces, got)
			}
			if got := files(t, export); !slices.Equal(got, []string{"batch-ok.csv"}) {
				t.Fatalf("after %d of %d pieces the export folder holds %v: the half-written file was taken", i+1, pieces, got)
			}
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if checks < pieces {
		t.Fatalf("only %d looks while writing", checks)
	}

	waitFor(t, "the upload", func() bool { return len(files(t, e.up)) > 0 })
	// One more rescan and settling round: still one file.
	time.Sleep(e.cfg.Watch.StableFor + 1500*time.Millisecond)
	stop()

	if got := files(t, e.up); !slices.Equal(got, []string{testMsgID + ".xml"}) {
		t.Fatalf("upload folder holds %v, want exactly %s.xml", got, testMsgID)
	}
	xml := filepath.Join(e.up, testMsgID+".xml")
	xsdtest.Validate(t, xsdtest.Schema(t, "pain.001.001.03.xsd"), xml)
	text := string(readFile(t, xml))
	if n := strings.Count(text, "<EndToEndId>"); n != 5 {
		t.Errorf("the pain.001 has %d transactions, want the file's 5", n)
	}
	if !strings.Contains(text, "<NbOfTxs>5</NbOfTxs>") {
		t.Error("the pain.001 does not count 5 transactions")
	}
	for _, ref := range []string{"CN10042", "PP10043", "PY10044", "CN10045", "CN10046"} {
		if !strings.Contains(text, ref) {
			t.Errorf("the pain.001 lacks refund %s", ref)
		}
	}
	if got := e.sent(t, testMsgID); len(got) != 5 {
		t.Errorf("the store has %d refunds of the batch, want 5", len(got))
	}
	if got := files(t, export); len(got) != 0 {
		t.Errorf("export folder still holds %v", got)
	}
	if _, err := os.Stat(filepath.Join(export, "failed")); err == nil {
		if got := files(t, filepath.Join(export, "failed")); len(got) != 0 {
			t.Errorf("export/failed holds %v", got)
		}
	}
}

// TestDaemonResumeClaimed: stopped after a file was claimed and before it
// was recorded (batch) or applied (reply): the next run finishes it once.
func TestDaemonResumeClaimed(t *testing.T) {
	e := newDaemonEnv(t)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	d := e.daemon(t, e.options(t))
	cands, err := d.export.Scan(e.clock())
	if err != nil || len(cands) != 1 {
		t.Fatalf("scan: %v %v", cands, err)
	}
	if _, err := d.export.Claim(cands[0]); err != nil {
		t.Fatal(err)
	}
	// A pain.001 left half-done in the outbox by the stopped run.
	if err := os.WriteFile(e.outboxFile(testMsgID), []byte("<partial"), 0o640); err != nil {
		t.Fatal(err)
	}
	d.Close()
	e.once(t)
	if got := files(t, e.up); len(got) != 1 {
		t.Fatalf("upload folder holds %v", got)
	}
	xsdtest.Validate(t, xsdtest.Schema(t, "pain.001.001.03.xsd"), filepath.Join(e.up, testMsgID+".xml"))

	sent := e.sent(t, testMsgID)
	drop(t, filepath.Join(e.dir, "inbox"), "pain002.xml", testutil.StatusReport(t, testMsgID, sent))
	d = e.daemon(t, e.options(t))
	cands, err = d.inbox.Scan(e.clock())
	if err != nil || len(cands) != 1 {
		t.Fatalf("scan: %v %v", cands, err)
	}
	cl, err := d.inbox.Claim(cands[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.store.RecordFile(t.Context(), cl.SHA256, cl.Name, store.FileReply); err != nil {
		t.Fatal(err)
	}
	d.Close()
	e.once(t)
	if st, rs := e.statuses(t, testMsgID); st != store.BatchAccepted || rs["PP10043"] != refund.StatusRejected {
		t.Errorf("batch %s, refunds %v", st, rs)
	}
	if n := e.archivedReplies(t); n != 1 {
		t.Errorf("%d replies archived, want 1", n)
	}
}

// TestDaemonCopyKilledAfterClaim: a copy of a reply that was applied
// before, dropped as "reply (2).xml", is claimed and the run is killed
// before it was refused. The next run refuses it as a duplicate; it is
// not archived a second time.
func TestDaemonCopyKilledAfterClaim(t *testing.T) {
	e := newDaemonEnv(t)
	data := groupReport(t, "STS-COPY", "RFD-X-1", pain002.AcceptedCustomerProfile, "")
	inbox := filepath.Join(e.dir, "inbox")
	drop(t, inbox, "reply.xml", data)
	e.once(t)
	if n := e.archivedReplies(t); n != 1 {
		t.Fatalf("%d replies archived, want 1", n)
	}

	drop(t, inbox, "reply (2).xml", data)
	d := e.daemon(t, e.options(t))
	claimOne(t, d.inbox)
	d.Close() // killed

	e.once(t)
	e.checkReplyOnce(t)
	if got := files(t, filepath.Join(inbox, "failed")); len(got) != 2 || got[0] != "reply (2).xml" {
		t.Errorf("inbox/failed holds %v, want reply (2).xml and its .err", got)
	}
}

// failOnceFS fails the first creation of a file in dir with EACCES, an
// error that is neither fatal nor a full disk.
type failOnceFS struct {
	atomicfile.OS
	dir    string
	failed atomic.Bool
}

func (f *failOnceFS) OpenFile(name string, flag int, perm fs.FileMode) (atomicfile.File, error) {
	if flag&os.O_CREATE != 0 && filepath.Dir(name) == f.dir && f.failed.CompareAndSwap(false, true) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EACCES}
	}
	return f.OS.OpenFile(name, flag, perm)
}

// TestDaemonCopyWhileProcessing: a reply claimed by a run that stopped
// before applying it is resumed, and fails for a passing reason; a copy of
// it under another name is in the inbox. The copy is refused as a
// duplicate rather than applied beside the first; the first is applied
// and archived once at the next round.
func TestDaemonCopyWhileProcessing(t *testing.T) {
	e := newDaemonEnv(t)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	e.once(t)
	data := testutil.StatusReport(t, testMsgID, e.sent(t, testMsgID))

	inbox := filepath.Join(e.dir, "inbox")
	drop(t, inbox, "pain002.xml", data)
	d := e.daemon(t, e.options(t))
	cl := claimOne(t, d.inbox)
	if _, err := d.store.RecordFile(t.Context(), cl.SHA256, cl.Name, store.FileReply); err != nil {
		t.Fatal(err)
	}
	d.Close() // killed while processing it
	drop(t, inbox, "pain002-copy.xml", data)

	opts := e.options(t)
	faults := &failOnceFS{dir: filepath.Join(e.dir, "import")}
	opts.FS = faults
	d = e.daemon(t, opts)
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if !faults.failed.Load() {
		t.Fatal("no write for the ERP failed")
	}
	e.once(t)
	e.checkReplyOnce(t)
	if got := files(t, filepath.Join(inbox, "failed")); len(got) != 2 || got[0] != "pain002-copy.xml" {
		t.Errorf("inbox/failed holds %v, want pain002-copy.xml and its .err", got)
	}
	status := withPrefix(files(t, filepath.Join(e.dir, "import")), "status-")
	var rejected int
	for _, s := range status {
		rejected += bytes.Count(readFile(t, filepath.Join(e.dir, "import", s)), []byte(";rejected;"))
	}
	if rejected != 1 {
		t.Errorf("the ERP was told %d times that PP10043 is rejected, want once (%v)", rejected, status)
	}
}

// TestDaemonBatchCopyWhileProcessing: the batch-file variant of
// TestDaemonCopyWhileProcessing. A batch file claimed by a run that
// stopped before recording its intent is resumed and fails for a passing
// reason (its pain.001 cannot be written); a copy of it under another name
// waits in the export folder. The copy is refused as a duplicate; the
// first is recorded, archived and uploaded once.
func TestDaemonBatchCopyWhileProcessing(t *testing.T) {
	e := newDaemonEnv(t)
	data := readFile(t, "testdata/batch-ok.csv")
	export := filepath.Join(e.dir, "export")
	drop(t, export, "batch-ok.csv", data)
	d := e.daemon(t, e.options(t))
	cl := claimOne(t, d.export)
	if _, err := d.store.RecordFile(t.Context(), cl.SHA256, cl.Name, store.FileBatch); err != nil {
		t.Fatal(err)
	}
	d.Close() // killed while processing it
	drop(t, export, "batch-copy.csv", data)

	opts := e.options(t)
	faults := &failOnceFS{dir: e.spool(OutboxDir)}
	opts.FS = faults
	d = e.daemon(t, opts)
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if !faults.failed.Load() {
		t.Fatal("no write of the pain.001 failed")
	}
	e.once(t)
	var archived []string
	filepath.WalkDir(e.spool("archive", "export"), func(p string, de fs.DirEntry, err error) error {
		if err == nil && de.Type().IsRegular() {
			archived = append(archived, de.Name())
		}
		return nil
	})
	if len(archived) != 1 || archived[0] != "batch-ok.csv" {
		t.Errorf("archived %v, want batch-ok.csv once", archived)
	}
	if got := files(t, filepath.Join(export, "failed")); len(got) != 2 || got[0] != "batch-copy.csv" {
		t.Errorf("export/failed holds %v, want batch-copy.csv and its .err", got)
	} else if report := readFile(t, filepath.Join(export, "failed", "batch-copy.csv.err")); !bytes.Contains(report, []byte("duplicate of batch-ok.csv")) {
		t.Errorf("batch-copy.csv.err = %q, want a duplicate of batch-ok.csv", report)
	}
	if got := files(t, e.up); len(got) != 1 || got[0] != testMsgID+".xml" {
		t.Errorf("upload folder holds %v, want the batch once", got)
	}
}
