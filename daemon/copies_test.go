package daemon

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"refundd/daemon/atomicfile"
	"refundd/daemon/store"
	"refundd/formats/pain002"
)

// checkReplyOnce checks that the state folder's inbox archive holds one
// reply, that nothing is left in work/ or the inbox, and that every other
// copy is in inbox/failed/ with its .err.
func (e *daemonEnv) checkReplyOnce(t *testing.T) {
	t.Helper()
	if n := e.archivedReplies(t); n != 1 {
		t.Errorf("%d replies archived, want 1", n)
	}
	if got := files(t, filepath.Join(e.dir, "state", "work", "inbox")); len(got) != 0 {
		t.Errorf("work/inbox holds %v", got)
	}
	inbox := filepath.Join(e.dir, "inbox")
	if got := files(t, inbox); len(got) != 0 {
		t.Errorf("inbox holds %v", got)
	}
	failed := filepath.Join(inbox, "failed")
	for _, n := range files(t, failed) {
		if strings.HasSuffix(n, ".err") {
			continue
		}
		report, err := os.ReadFile(filepath.Join(failed, n+".err"))
		if err != nil {
			t.Errorf("inbox/failed/%s has no report: %v", n, err)
		} else if !strings.Contains(string(report), "duplicate of") {
			t.Errorf("inbox/failed/%s.err = %q, want a duplicate", n, report)
		}
	}
}

// TestDaemonDownloadPlacedKilledTwice: a run is killed after it placed a
// reply in the inbox and before it took it away on the server
// (after-place); the next run downloads the reply again and is killed
// right after it claimed the last copy in the inbox. The run after that
// archives the reply once; a second copy, if there is one, is in failed/.
func TestDaemonDownloadPlacedKilledTwice(t *testing.T) {
	e := newDaemonEnv(t)
	data := groupReport(t, "STS-PLACED", "RFD-X-1", pain002.AcceptedCustomerProfile, "")
	if err := os.WriteFile(filepath.Join(e.down, "reply.xml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	// Run 1, killed at after-place: the reply is in the inbox with its
	// done marker, and still on the server.
	inbox := filepath.Join(e.dir, "inbox")
	drop(t, inbox, "reply.xml", data)

	// Run 2 downloads, then takes the replies in the inbox and is killed
	// right after it claimed the last one.
	d := e.daemon(t, e.options(t))
	d.download(t.Context())
	if got := files(t, e.down); len(got) != 0 {
		t.Fatalf("download folder holds %v", got)
	}
	cands, err := d.inbox.Scan(time.Now())
	if err != nil || len(cands) == 0 {
		t.Fatalf("scan: %v, %v", cands, err)
	}
	for i, c := range cands {
		cl, err := d.inbox.Claim(c)
		if err != nil {
			t.Fatal(err)
		}
		if i == len(cands)-1 {
			break // killed
		}
		if err := d.takeReply(t.Context(), cl, false); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()

	// Run 3.
	e.once(t)
	e.checkReplyOnce(t)
	if got := files(t, filepath.Join(inbox, "failed")); len(got) != 0 {
		t.Errorf("inbox/failed holds %v: the reply was placed in the inbox twice", got)
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
	cands, err := d.inbox.Scan(time.Now())
	if err != nil || len(cands) != 1 {
		t.Fatalf("scan: %v, %v", cands, err)
	}
	if _, err := d.inbox.Claim(cands[0]); err != nil {
		t.Fatal(err)
	}
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
	data := statusReport(t, testMsgID, e.sent(t, testMsgID))

	inbox := filepath.Join(e.dir, "inbox")
	drop(t, inbox, "pain002.xml", data)
	d := e.daemon(t, e.options(t))
	cands, err := d.inbox.Scan(time.Now())
	if err != nil || len(cands) != 1 {
		t.Fatalf("scan: %v, %v", cands, err)
	}
	cl, err := d.inbox.Claim(cands[0])
	if err != nil {
		t.Fatal(err)
	}
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
	cands, err := d.export.Scan(time.Now())
	if err != nil || len(cands) != 1 {
		t.Fatalf("scan: %v, %v", cands, err)
	}
	cl, err := d.export.Claim(cands[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.store.RecordFile(t.Context(), cl.SHA256, cl.Name, store.FileBatch); err != nil {
		t.Fatal(err)
	}
	d.Close() // killed while processing it
	drop(t, export, "batch-copy.csv", data)

	opts := e.options(t)
	faults := &failOnceFS{dir: filepath.Join(e.dir, "state", OutboxDir)}
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
	filepath.WalkDir(filepath.Join(e.dir, "state", "archive", "export"), func(p string, de fs.DirEntry, err error) error {
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
