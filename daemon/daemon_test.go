package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"refundd/daemon/lock"
	"refundd/daemon/obs"
	"refundd/daemon/refund"
	"refundd/daemon/store"
	"refundd/formats/xsdtest"
	"refundd/sftpx/sshdtest"
)

// daemonEnv is a configuration with its folders in a temporary folder and
// a real OpenSSH sshd as AutoPay.
type daemonEnv struct {
	dir, config string
	up, down    string // the remote upload and download folders
	cfg         *Config
	srv         *sshdtest.Server
	start       time.Time
}

func newDaemonEnv(t *testing.T) *daemonEnv {
	t.Helper()
	return newDaemonEnvTB(t)
}

func newDaemonEnvTB(t testing.TB) *daemonEnv {
	t.Helper()
	srv := sshdtest.Start(t, sshdtest.Options{})
	e := &daemonEnv{dir: t.TempDir(), srv: srv, start: time.Now(),
		up: filepath.Join(srv.Root, "inbound"), down: filepath.Join(srv.Root, "outbound")}
	for _, d := range []string{"export", "inbox", "import", "state", e.up, e.down} {
		if err := os.MkdirAll(filepath.Join(e.dir, d), 0o700); err != nil && !filepath.IsAbs(d) {
			t.Fatal(err)
		}
		if filepath.IsAbs(d) {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	base, err := os.ReadFile("testdata/refundd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	extra := fmt.Sprintf(`watch: {rescan: "@every 1s", stable_for: 100ms}
sftp: {address: %q, user: %q, private_key: %q, known_hosts: %q, upload_dir: %q, download_dir: %q, download_schedule: "@every 1s", timeout: 10s}
`, srv.Addr, srv.User, srv.ClientKey, srv.KnownHosts(t, srv.HostKeys...), e.up, e.down)
	e.config = filepath.Join(e.dir, "refundd.yaml")
	if err := os.WriteFile(e.config, append(base, extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	if e.cfg, err = LoadConfig(e.config); err != nil {
		t.Fatal(err)
	}
	return e
}

// clock is the test's time: the fixed date of the other tests, running.
func (e *daemonEnv) clock() time.Time { return now.Add(time.Since(e.start)) }

func (e *daemonEnv) options(t *testing.T) Options {
	return Options{Logger: zerolog.New(zerolog.NewTestWriter(t)), Now: e.clock, RetryMin: 50 * time.Millisecond}
}

// daemon starts a Daemon, closed when the test ends.
func (e *daemonEnv) daemon(t *testing.T, opts Options) *Daemon {
	t.Helper()
	d, err := New(e.cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// once runs a new Daemon once and closes it.
func (e *daemonEnv) once(t *testing.T) {
	t.Helper()
	d := e.daemon(t, e.options(t))
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

// drop writes a file into the folder dir with a done marker.
func drop(t testing.TB, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".done"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// files lists the names of the regular, not hidden files in dir.
func files(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

// withPrefix returns the names that start with prefix.
func withPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// openStore opens the state store while no Daemon runs.
func (e *daemonEnv) openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := OpenStore(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sent returns the refunds of the batch as the store has them.
func (e *daemonEnv) sent(t *testing.T, msgID string) []refund.Sent {
	t.Helper()
	s := e.openStore(t)
	rs, err := s.Refunds(t.Context(), msgID)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	var out []refund.Sent
	for _, r := range rs {
		out = append(out, r.Sent)
	}
	return out
}

// statuses returns the batch's status and its refunds' by RefNbr.
func (e *daemonEnv) statuses(t *testing.T, msgID string) (store.BatchStatus, map[string]refund.Status) {
	t.Helper()
	s := e.openStore(t)
	defer s.Close()
	b, err := s.Batch(t.Context(), msgID)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := s.Refunds(t.Context(), msgID)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]refund.Status{}
	for _, r := range rs {
		m[r.RefNbr] = r.Status
	}
	return b.Status, m
}

var testMsgID = refund.MsgID("987654325", "B2026-0042", 0)

// wantFinal is the state after the batch, its pain.002 and its camt.054.
var wantFinal = map[string]refund.Status{
	"CN10042": refund.StatusReturned, "PP10043": refund.StatusRejected, "PY10044": refund.StatusBooked,
	"CN10045": refund.StatusBooked, "CN10046": refund.StatusBooked,
}

// checkFinal checks the state, the remote folders and the import folder
// after the whole flow.
func (e *daemonEnv) checkFinal(t *testing.T) {
	t.Helper()
	if got := files(t, e.up); !slices.Equal(got, []string{testMsgID + ".xml"}) {
		t.Errorf("upload folder holds %v, want exactly the one pain.001", got)
	}
	if got := files(t, e.down); len(got) != 0 {
		t.Errorf("download folder still holds %v", got)
	}
	st, rs := e.statuses(t, testMsgID)
	if st != store.BatchPaid {
		t.Errorf("batch is %s, want %s", st, store.BatchPaid)
	}
	for ref, want := range wantFinal {
		if rs[ref] != want {
			t.Errorf("refund %s is %s, want %s", ref, rs[ref], want)
		}
	}
	imp := files(t, filepath.Join(e.dir, "import"))
	for kind, golden := range map[string]string{"postings-": "postings.csv", "matches-": "matches.csv", "exceptions-": "exceptions.csv"} {
		got := withPrefix(imp, kind)
		if len(got) != 1 {
			t.Errorf("import folder has %d %s files (%v), want 1", len(got), kind, imp)
			continue
		}
		compareGolden(t, readFile(t, filepath.Join(e.dir, "import", got[0])), filepath.Join("testdata", "replies", golden))
	}
	if got := withPrefix(imp, "status-"); len(got) != 2 {
		t.Errorf("import folder has status files %v, want 2 (pain.002, camt.054)", got)
	}
}

// TestDaemonEndToEnd sends a batch through a real sshd and brings the
// bank's pain.002 and camt.054 back into the import folder.
func TestDaemonEndToEnd(t *testing.T) {
	e := newDaemonEnv(t)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	e.once(t)

	if got := files(t, e.up); !slices.Equal(got, []string{testMsgID + ".xml"}) {
		t.Fatalf("upload folder holds %v, want %s.xml", got, testMsgID)
	}
	xsdtest.Validate(t, xsdtest.Schema(t, "pain.001.001.03.xsd"), filepath.Join(e.up, testMsgID+".xml"))
	if !bytes.Equal(readFile(t, filepath.Join(e.up, testMsgID+".xml")), readFile(t, filepath.Join(e.dir, "state", OutboxDir, testMsgID+".xml"))) {
		t.Error("the uploaded file is not the outbox file")
	}
	if st, _ := e.statuses(t, testMsgID); st != store.BatchSent {
		t.Fatalf("batch is %s after the upload, want sent", st)
	}
	if got := files(t, filepath.Join(e.dir, "export")); len(got) != 0 {
		t.Errorf("export folder still holds %v", got)
	}

	sent := e.sent(t, testMsgID)
	if err := os.WriteFile(filepath.Join(e.down, "pain002.xml"), statusReport(t, testMsgID, sent), 0o644); err != nil {
		t.Fatal(err)
	}
	e.once(t)
	st, rs := e.statuses(t, testMsgID)
	if st != store.BatchAccepted || rs["PP10043"] != refund.StatusRejected || rs["CN10046"] != refund.StatusAccepted {
		t.Fatalf("after the pain.002: batch %s, refunds %v", st, rs)
	}

	if err := os.WriteFile(filepath.Join(e.down, "camt054.xml"), notification(t, sent, ""), 0o644); err != nil {
		t.Fatal(err)
	}
	e.once(t)
	e.checkFinal(t)

	s := e.openStore(t)
	bs, err := Status(t.Context(), s, "B2026-0042")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteStatus(&out, bs, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{testMsgID, "paid", "CN10046", "booked", "PP10043", "rejected", "AC04", "returned", "CN-CN10046-"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status output lacks %q:\n%s", want, out.String())
		}
	}
}

// runUntil runs a new Daemon until cond holds, then stops it as SIGTERM
// does and checks that Run returned nil.
func (e *daemonEnv) runUntil(t *testing.T, opts Options, what string, cond func() bool) {
	t.Helper()
	d := e.daemon(t, opts)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

// archivedReplies returns the number of replies in the inbox archive.
func (e *daemonEnv) archivedReplies(t *testing.T) int { return archivedIn(e.dir) }

// archivedIn returns the number of files in the inbox archive of the
// state folder dir/state.
func archivedIn(dir string) int {
	n := 0
	filepath.WalkDir(filepath.Join(dir, "state", "archive", "inbox"), func(_ string, de os.DirEntry, err error) error {
		if err == nil && de.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// TestDaemonRestarts stops and starts the daemon between every two steps:
// the same final state, one upload, postings once.
func TestDaemonRestarts(t *testing.T) {
	e := newDaemonEnv(t)
	opts := e.options(t)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	uploaded := func() bool { return len(files(t, e.up)) > 0 && fileExists(filepath.Join(e.dir, "state", "refundd.db")) }
	e.runUntil(t, opts, "the upload", func() bool {
		if !uploaded() {
			return false
		}
		st, _ := e.statuses(t, testMsgID)
		return st == store.BatchSent
	})
	e.runUntil(t, opts, "a restart", func() bool { return true })

	sent := e.sent(t, testMsgID)
	if err := os.WriteFile(filepath.Join(e.down, "pain002.xml"), statusReport(t, testMsgID, sent), 0o644); err != nil {
		t.Fatal(err)
	}
	e.runUntil(t, opts, "the pain.002", func() bool { return e.archivedReplies(t) == 1 })
	e.runUntil(t, opts, "a restart", func() bool { return true })

	if err := os.WriteFile(filepath.Join(e.down, "camt054.xml"), notification(t, sent, ""), 0o644); err != nil {
		t.Fatal(err)
	}
	e.runUntil(t, opts, "the camt.054", func() bool { return e.archivedReplies(t) == 2 })
	e.runUntil(t, opts, "a restart", func() bool { return true })
	e.once(t)
	e.checkFinal(t)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestDaemonNoEvents: without file events, the scheduled rescans alone
// find the batch (dropped without a done marker) and the reply.
func TestDaemonNoEvents(t *testing.T) {
	e := newDaemonEnv(t)
	opts := e.options(t)
	opts.NoEvents = true
	if err := os.WriteFile(filepath.Join(e.dir, "export", "batch-ok.csv"), readFile(t, "testdata/batch-ok.csv"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.runUntil(t, opts, "the upload", func() bool { return len(files(t, e.up)) == 1 })
	sent := e.sent(t, testMsgID)
	if err := os.WriteFile(filepath.Join(e.dir, "inbox", "pain002.xml"), statusReport(t, testMsgID, sent), 0o644); err != nil {
		t.Fatal(err)
	}
	e.runUntil(t, opts, "the pain.002", func() bool { return e.archivedReplies(t) == 1 })
	if st, rs := e.statuses(t, testMsgID); st != store.BatchAccepted || rs["PP10043"] != refund.StatusRejected {
		t.Errorf("batch %s, refunds %v", st, rs)
	}
}

// TestDaemonDuplicates: the same batch under a new name is refused as a
// duplicate, and so is another file with the same batch number; nothing
// is sent twice and the ERP hears of the refusal.
func TestDaemonDuplicates(t *testing.T) {
	e := newDaemonEnv(t)
	export := filepath.Join(e.dir, "export")
	batch := readFile(t, "testdata/batch-ok.csv")
	drop(t, export, "batch-ok.csv", batch)
	e.once(t)
	drop(t, export, "again.csv", batch)
	drop(t, export, "changed.csv", bytes.Replace(batch, []byte("99,00"), []byte("98,00"), 1))
	e.once(t)

	if got := files(t, e.up); len(got) != 1 {
		t.Errorf("upload folder holds %v, want one file", got)
	}
	failed := filepath.Join(export, "failed")
	if err := string(readFile(t, filepath.Join(failed, "again.csv.err"))); !strings.Contains(err, "duplicate of batch-ok.csv") {
		t.Errorf("again.csv.err = %q", err)
	}
	if err := string(readFile(t, filepath.Join(failed, "changed.csv.err"))); !strings.Contains(err, "batch number B2026-0042 was recorded before") {
		t.Errorf("changed.csv.err = %q", err)
	}
	status := withPrefix(files(t, filepath.Join(e.dir, "import")), "status-")
	if len(status) != 1 {
		t.Fatalf("status files %v, want one for the refused batch", status)
	}
	text := string(readFile(t, filepath.Join(e.dir, "import", status[0])))
	if n := strings.Count(text, ";rejected;"); n != 5 {
		t.Errorf("status file rejects %d refunds, want 5:\n%s", n, text)
	}
}

// TestDaemonInvalidBatch: a batch with errors goes to failed/ with every
// problem, and the ERP gets every refund rejected with the reason.
func TestDaemonInvalidBatch(t *testing.T) {
	e := newDaemonEnv(t)
	export := filepath.Join(e.dir, "export")
	bad := bytes.Replace(readFile(t, "testdata/batch-ok.csv"), []byte("1234 56 78903"), []byte("1234 56 78904"), 1)
	bad = bytes.Replace(bad, []byte("SO-5002"), []byte(""), 1)
	drop(t, export, "bad.csv", bad)
	e.once(t)
	if got := files(t, e.up); len(got) != 0 {
		t.Errorf("upload folder holds %v", got)
	}
	report := string(readFile(t, filepath.Join(export, "failed", "bad.csv.err")))
	for _, want := range []string{"bad.csv:3: Account", "bad.csv:6: CustomerOrderNbr"} {
		if !strings.Contains(report, want) {
			t.Errorf("bad.csv.err lacks %q:\n%s", want, report)
		}
	}
	status := withPrefix(files(t, filepath.Join(e.dir, "import")), "status-")
	if len(status) != 1 {
		t.Fatalf("status files %v", status)
	}
	text := string(readFile(t, filepath.Join(e.dir, "import", status[0])))
	if n := strings.Count(text, ";rejected;"); n != 5 || !strings.Contains(text, "PP10043") || !strings.Contains(text, "Account") {
		t.Errorf("status file:\n%s", text)
	}
}

// intent records the batch for upload (the write-ahead intent) and stops,
// as a crash before the upload would.
func (e *daemonEnv) intent(t *testing.T) {
	t.Helper()
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	d := e.daemon(t, e.options(t))
	if err := d.outbound(t.Context(), t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.statuses(t, testMsgID); st != store.BatchSending {
		t.Fatalf("batch is %s, want sending", st)
	}
}

// TestDaemonUploadAfterIntent: stopped after the intent, before the
// upload: the next run uploads once.
func TestDaemonUploadAfterIntent(t *testing.T) {
	e := newDaemonEnv(t)
	e.intent(t)
	e.once(t)
	e.once(t)
	if got := files(t, e.up); !slices.Equal(got, []string{testMsgID + ".xml"}) {
		t.Errorf("upload folder holds %v", got)
	}
	if st, _ := e.statuses(t, testMsgID); st != store.BatchSent {
		t.Errorf("batch is %s, want sent", st)
	}
}

// TestDaemonUploadedNotRecorded: stopped after the upload, before it was
// recorded: the file on the server is found and not uploaded again.
func TestDaemonUploadedNotRecorded(t *testing.T) {
	e := newDaemonEnv(t)
	e.intent(t)
	pain := readFile(t, filepath.Join(e.dir, "state", OutboxDir, testMsgID+".xml"))
	remote := filepath.Join(e.up, testMsgID+".xml")
	if err := os.WriteFile(remote, pain, 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(remote, old, old); err != nil {
		t.Fatal(err)
	}
	e.once(t)
	if st, _ := e.statuses(t, testMsgID); st != store.BatchSent {
		t.Errorf("batch is %s, want sent", st)
	}
	if fi, err := os.Stat(remote); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("the remote file was written again (%v)", err)
	}
}

// TestDaemonInDoubt: another file under the batch's name on the server
// leaves the batch in doubt; it is never overwritten nor sent again until
// an operator decides.
func TestDaemonInDoubt(t *testing.T) {
	e := newDaemonEnv(t)
	e.intent(t)
	remote := filepath.Join(e.up, testMsgID+".xml")
	foreign := []byte("<not the batch/>")
	if err := os.WriteFile(remote, foreign, 0o644); err != nil {
		t.Fatal(err)
	}
	e.once(t)
	e.once(t)
	if st, _ := e.statuses(t, testMsgID); st != store.BatchInDoubt {
		t.Fatalf("batch is %s, want in-doubt", st)
	}
	if got := readFile(t, remote); !bytes.Equal(got, foreign) {
		t.Error("the file on the server was replaced")
	}
	if got := files(t, e.up); len(got) != 1 {
		t.Errorf("upload folder holds %v", got)
	}

	s := e.openStore(t)
	if _, err := Resolve(t.Context(), s, testMsgID, ResolveSent); err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve(t.Context(), s, testMsgID, ResolveSent); !errors.Is(err, store.ErrTransition) {
		t.Errorf("resolving a sent batch: %v, want ErrTransition", err)
	}
	evs, err := s.Events(t.Context(), store.SubjectBatch, testMsgID)
	if err != nil {
		t.Fatal(err)
	}
	if last := evs[len(evs)-1]; last.To != string(store.BatchSent) || !strings.Contains(last.Reason, "operator") {
		t.Errorf("last event %+v", last)
	}
	s.Close()
}

// TestDaemonReleaseInDoubt: an operator releases an in-doubt batch whose
// file is gone from the server; the same file is uploaded again.
func TestDaemonReleaseInDoubt(t *testing.T) {
	e := newDaemonEnv(t)
	e.inDoubtConsumed(t) // in doubt until an operator decides
	s := e.openStore(t)
	if to, err := Resolve(t.Context(), s, testMsgID, ResolveRelease); err != nil || to != store.BatchSending {
		t.Fatalf("release: %s, %v", to, err)
	}
	s.Close()
	e.once(t)
	if !bytes.Equal(readFile(t, filepath.Join(e.up, testMsgID+".xml")), readFile(t, filepath.Join(e.dir, "state", OutboxDir, testMsgID+".xml"))) {
		t.Error("the resend is not the recorded pain.001")
	}
}

// TestDaemonLocked: a second daemon on the same state folder is refused.
func TestDaemonLocked(t *testing.T) {
	e := newDaemonEnv(t)
	e.daemon(t, e.options(t))
	_, err := New(e.cfg, e.options(t))
	if !errors.Is(err, lock.ErrLocked) || !strings.Contains(err.Error(), "another refundd") {
		t.Errorf("second daemon: %v", err)
	}
}

// TestDaemonBadReply: a reply that is not one goes to failed/ with the
// reason.
func TestDaemonBadReply(t *testing.T) {
	e := newDaemonEnv(t)
	drop(t, filepath.Join(e.dir, "inbox"), "junk.xml", []byte("<?xml version=\"1.0\"?><Document xmlns=\"urn:example\"/>"))
	e.once(t)
	report := string(readFile(t, filepath.Join(e.dir, "inbox", "failed", "junk.xml.err")))
	if !strings.Contains(report, "reply file refused") {
		t.Errorf("junk.xml.err = %q", report)
	}
}

// TestDaemonRerelease: a refund the bank rejected is paid again in a new
// batch (next attempt, new MsgId) under a new EndToEndId (next release);
// a refund that is not rejected is refused.
func TestDaemonRerelease(t *testing.T) {
	e := newDaemonEnv(t)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	e.once(t)
	sent := e.sent(t, testMsgID)
	if err := os.WriteFile(filepath.Join(e.down, "pain002.xml"), statusReport(t, testMsgID, sent), 0o644); err != nil {
		t.Fatal(err)
	}
	e.once(t)
	rejected, accepted := byRef(t, sent, "PP10043").EndToEndID, byRef(t, sent, "CN10046").EndToEndID

	s := e.openStore(t)
	if _, err := Rerelease(t.Context(), e.cfg, s, []string{accepted}, e.clock()); !errors.Is(err, store.ErrTransition) {
		t.Errorf("re-release of an accepted refund: %v, want ErrTransition", err)
	}
	b, err := Rerelease(t.Context(), e.cfg, s, []string{rejected}, e.clock())
	if err != nil {
		t.Fatal(err)
	}
	wantMsgID := refund.MsgID("987654325", "B2026-0042", 1)
	if b.MsgID != wantMsgID || b.Attempt != 1 || b.Status != store.BatchSending {
		t.Errorf("new batch %+v, want MsgId %s attempt 1 sending", b, wantMsgID)
	}
	rs, err := s.Refunds(t.Context(), b.MsgID)
	if err != nil {
		t.Fatal(err)
	}
	wantE2E := refund.EndToEndID(refund.Prepayment, "PP10043", 1)
	if len(rs) != 1 || rs[0].EndToEndID != wantE2E || rs[0].Release != 1 || rs[0].Amount.Minor != 9900 {
		t.Errorf("refunds of the new batch: %+v, want one %s", rs, wantE2E)
	}
	if _, err := Rerelease(t.Context(), e.cfg, s, []string{rejected}, e.clock()); err == nil {
		t.Error("a second re-release of the same refund was accepted")
	}
	evs, err := s.Events(t.Context(), store.SubjectBatch, b.MsgID)
	if err != nil || len(evs) == 0 || !strings.Contains(evs[0].Reason, "re-release") {
		t.Errorf("events %+v, %v", evs, err)
	}
	s.Close()

	e.once(t)
	up := files(t, e.up)
	if !slices.Contains(up, wantMsgID+".xml") || len(up) != 2 {
		t.Fatalf("upload folder holds %v", up)
	}
	xml := filepath.Join(e.up, wantMsgID+".xml")
	xsdtest.Validate(t, xsdtest.Schema(t, "pain.001.001.03.xsd"), xml)
	if text := string(readFile(t, xml)); !strings.Contains(text, wantE2E) || strings.Contains(text, "CN10046") {
		t.Errorf("the new pain.001 does not hold just the re-released refund:\n%s", text)
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
	if err := os.WriteFile(filepath.Join(e.dir, "state", OutboxDir, testMsgID+".xml"), []byte("<partial"), 0o640); err != nil {
		t.Fatal(err)
	}
	d.Close()
	e.once(t)
	if got := files(t, e.up); len(got) != 1 {
		t.Fatalf("upload folder holds %v", got)
	}
	xsdtest.Validate(t, xsdtest.Schema(t, "pain.001.001.03.xsd"), filepath.Join(e.up, testMsgID+".xml"))

	sent := e.sent(t, testMsgID)
	drop(t, filepath.Join(e.dir, "inbox"), "pain002.xml", statusReport(t, testMsgID, sent))
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

// TestDaemonReload: an invalid configuration is refused and the daemon
// goes on; a valid one takes effect.
func TestDaemonReload(t *testing.T) {
	e := newDaemonEnv(t)
	opts := e.options(t)
	var logs lockedBuffer
	opts.Logger = zerolog.New(io.MultiWriter(zerolog.NewTestWriter(t), &logs))
	d := e.daemon(t, opts)
	reload := make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, reload) }()
	good := readFile(t, e.config)
	if err := os.WriteFile(e.config, append(slices.Clone(good), "no_such_key: 1\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	reload <- struct{}{}
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	waitFor(t, "the upload with the old configuration", func() bool { return len(files(t, e.up)) == 1 })

	newUp := filepath.Join(e.srv.Root, "inbound2")
	if err := os.MkdirAll(newUp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.config, bytes.ReplaceAll(good, []byte(e.up), []byte(newUp)), 0o600); err != nil {
		t.Fatal(err)
	}
	reload <- struct{}{}
	waitFor(t, "the reload", func() bool { return strings.Contains(logs.String(), "configuration reloaded") })
	changed := readFile(t, "testdata/batch-ok.csv")
	for _, r := range []string{"B2026-0042:B2026-0043", "CN100:CN200", "PP100:PP200", "PY100:PY200"} {
		from, to, _ := strings.Cut(r, ":")
		changed = bytes.ReplaceAll(changed, []byte(from), []byte(to))
	}
	drop(t, filepath.Join(e.dir, "export"), "batch-43.csv", changed)
	waitFor(t, "the upload with the new configuration", func() bool { return len(files(t, newUp)) == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDaemonAlarmNoStatus: a batch sent longer ago than
// alarms.status_within without a pain.002 raises the alarm once.
func TestDaemonAlarmNoStatus(t *testing.T) {
	e := newDaemonEnv(t)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	opts := e.options(t)
	later := time.Now()
	opts.Now = func() time.Time { return later }
	opts.Metrics = obs.NewMetrics()
	d := e.daemon(t, opts)
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := metricValue(t, opts.Metrics, "refundd_alarms_total", obs.AlarmNoStatus); got != 0 {
		t.Fatalf("%v alarms right after the upload", got)
	}
	later = time.Now().Add(e.cfg.Alarms.StatusWithin + time.Minute)
	d.checkAlarms(t.Context())
	d.checkAlarms(t.Context())
	if got := metricValue(t, opts.Metrics, "refundd_alarms_total", obs.AlarmNoStatus); got != 1 {
		t.Errorf("%v alarms, want 1", got)
	}
}

func TestBookingOverdue(t *testing.T) {
	fri := refund.NewDate(2026, 12, 4)
	for _, tc := range []struct {
		today refund.Date
		days  int
		want  bool
	}{
		{refund.NewDate(2026, 12, 9), 3, false}, // Mon 7, Tue 8, Wed 9: three banking days
		{refund.NewDate(2026, 12, 10), 3, true},
		{refund.NewDate(2026, 12, 6), 0, false}, // the weekend is no banking day
		{refund.NewDate(2026, 12, 7), 0, true},
	} {
		if got := bookingOverdue(fri, tc.today, tc.days); got != tc.want {
			t.Errorf("bookingOverdue(%s, %s, %d) = %v, want %v", fri, tc.today, tc.days, got, tc.want)
		}
	}
}

// BenchmarkDaemonBatch measures a batch through the daemon: claim, check,
// render into the outbox, record the intent with every refund, upload to
// a real sshd, record the upload, archive.
func BenchmarkDaemonBatch(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("refunds=%d", n), func(b *testing.B) {
			e := newDaemonEnvTB(b)
			opts := Options{Logger: zerolog.New(os.Stderr).Level(zerolog.ErrorLevel), Now: e.clock}
			d, err := New(e.cfg, opts)
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			export := filepath.Join(e.dir, "export")
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				src := writeBenchBatch(b, b.TempDir(), n)
				data := bytes.ReplaceAll(readFile(b, src), []byte("B-BENCH"), fmt.Appendf(nil, "B-BENCH-%d", i))
				data = bytes.ReplaceAll(data, []byte(";R0"), fmt.Appendf(nil, ";I%d-0", i))
				drop(b, export, fmt.Sprintf("bench-%d.csv", i), data)
				b.StartTimer()
				if err := d.RunOnce(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if got := len(files(b, e.up)); got != b.N {
				b.Fatalf("%d files uploaded, want %d", got, b.N)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "refunds/s")
		})
	}
}

// TestDaemonDownloadAgain: a reply that the server offers again after it
// was taken (its removal failed) is removed, not taken twice.
func TestDaemonDownloadAgain(t *testing.T) {
	e := newDaemonEnv(t)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	e.once(t)
	pain := statusReport(t, testMsgID, e.sent(t, testMsgID))
	if err := os.WriteFile(filepath.Join(e.down, "pain002.xml"), pain, 0o644); err != nil {
		t.Fatal(err)
	}
	e.once(t)
	if err := os.WriteFile(filepath.Join(e.down, "pain002-again.xml"), pain, 0o644); err != nil {
		t.Fatal(err)
	}
	e.once(t)
	if got := files(t, e.down); len(got) != 0 {
		t.Errorf("download folder holds %v", got)
	}
	if got := files(t, filepath.Join(e.dir, "inbox")); len(got) != 0 {
		t.Errorf("inbox holds %v", got)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "inbox", "failed")); err == nil {
		if got := files(t, filepath.Join(e.dir, "inbox", "failed")); len(got) != 0 {
			t.Errorf("inbox/failed holds %v", got)
		}
	}
	if n := e.archivedReplies(t); n != 1 {
		t.Errorf("%d replies archived, want 1", n)
	}
}

// TestDaemonPanic: a panic in a step is recovered; the file is finished
// by the next step.
func TestDaemonPanic(t *testing.T) {
	e := newDaemonEnv(t)
	export := filepath.Join(e.dir, "export")
	drop(t, export, "bad.csv", []byte("Batch;DocType\nB1;Nonsense\n"))
	d := e.daemon(t, e.options(t))
	out := d.out
	d.out = nil // writing the status file panics
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(export, "failed", "bad.csv.err")); err == nil {
		t.Fatal("the file was finished despite the panic")
	}
	d.out = out
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(export, "failed", "bad.csv.err")); err != nil {
		t.Errorf("the file was not finished after the panic: %v", err)
	}
}

// TestDaemonStateLost: with the database gone but payment files in the
// outbox, the daemon refuses to start.
func TestDaemonStateLost(t *testing.T) {
	e := newDaemonEnv(t)
	e.intent(t)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(filepath.Join(e.dir, "state", StoreFile+suffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	if _, err := New(e.cfg, e.options(t)); !errors.Is(err, ErrStateLost) {
		t.Errorf("New: %v, want ErrStateLost", err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "state", StoreFile)); err == nil {
		t.Error("a new database was created")
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
