package daemon

import (
	"bytes"
	"context"
	"flag"
	"fmt"
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
	"refundd/daemon/config"
	"refundd/daemon/obs"
	"refundd/daemon/refund"
	"refundd/daemon/sandbox"
	"refundd/daemon/spool"
	"refundd/daemon/store"
	"refundd/formats/pain002"
	"refundd/internal/pgtest"
	"refundd/internal/testutil"
	"refundd/sftpx/sshdtest"
)

// The tests of this package run a real daemon (New, Run, RunOnce) against
// a real OpenSSH sshd (daemonEnv) or an embedded SFTP server, each file
// holding the tests of the production file of the same name. The tests
// named TestCases… check the reliability cases of daemon/RELIABILITY.md,
// whose ids (A7, B1, …) their doc comments give; RELIABILITY.md names
// them, so keep their names.

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// now is the fixed clock of the tests: Tuesday 1 December 2026.
var now = testutil.Now()

// testMsgID is the MsgId of the pain.001 of testdata/batch-ok.csv.
var testMsgID = refund.MsgID("987654325", "B2026-0042", 0)

// daemonEnv is a configuration with its folders in a temporary folder and
// a real OpenSSH sshd as AutoPay.
type daemonEnv struct {
	dir, config string
	up, down    string // the remote upload and download folders
	cfg         *config.Config
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
	if os.Getenv(testutil.StoreEnv) == config.DriverPostgres {
		// The same tests on PostgreSQL, in a schema of their own, with
		// the spool where a shared folder would be.
		url, schema := pgtest.Schema(t)
		base = bytes.Replace(base, []byte("state: state}"), []byte("state: state, spool: shared/.refundd}"), 1)
		extra += fmt.Sprintf("store: {driver: postgres, url: %q, schema: %s}\nha: {instance: test-%s, lease: 5s}\n", url, schema, schema)
	}
	e.config = filepath.Join(e.dir, "refundd.yaml")
	if err := os.WriteFile(e.config, append(base, extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	if e.cfg, err = config.Load(e.config); err != nil {
		t.Fatal(err)
	}
	return e
}

// clock is the test's time: the fixed date of the other tests, running.
func (e *daemonEnv) clock() time.Time { return now.Add(time.Since(e.start)) }

func (e *daemonEnv) options(t *testing.T) Options {
	return Options{Logger: zerolog.New(zerolog.NewTestWriter(t)), Now: e.clock, RetryMin: 50 * time.Millisecond}
}

// daemon starts a Daemon, closed when the test ends. It leads its
// company (see lead), so that a test may call its steps directly.
func (e *daemonEnv) daemon(t *testing.T, opts Options) *Daemon {
	t.Helper()
	d, err := New(e.cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	lead(t, d)
	return d
}

// lead makes d the leader of its company, as Run does once it holds the
// lease, for tests that call its steps (d.step, d.outbound, d.download …)
// without Run or RunOnce, which acquire the lease themselves. With SQLite
// New made d lead; on PostgreSQL d acquires the lease (its own instance's
// lease is taken at once, also after an earlier Daemon of the test left
// it held). d then acts for ha.lease × 2/3 without renewing it.
func lead(t *testing.T, d *Daemon) {
	t.Helper()
	if !d.cfg.Postgres() {
		return
	}
	if _, ok, err := d.acquire(t.Context()); err != nil || !ok {
		t.Fatalf("acquire the lease as %s: ok %v, %v", d.cfg.HA.Instance, ok, err)
	}
}

// onTestStore moves cfg, a SQLite configuration, onto the store the tests
// run on: with REFUNDD_TEST_STORE=postgres, a new schema of its own, with
// the spool in the shared folder beside paths.state, as newDaemonEnvTB
// does.
func onTestStore(t *testing.T, cfg *config.Config) {
	t.Helper()
	if os.Getenv(testutil.StoreEnv) != config.DriverPostgres {
		return
	}
	url, schema := pgtest.Schema(t)
	cfg.Store.Driver, cfg.Store.URL, cfg.Store.Schema = config.DriverPostgres, url, schema
	cfg.HA.Instance, cfg.HA.Lease = "test-"+schema, 5*time.Second
	cfg.Paths.Spool = filepath.Join(filepath.Dir(cfg.Paths.State), "shared", ".refundd")
}

// spool returns the path elem in the spool folder (cfg.SpoolDir(): work/,
// archive/ and the outbox), which is paths.state with SQLite.
func (e *daemonEnv) spool(elem ...string) string {
	return filepath.Join(append([]string{e.cfg.SpoolDir()}, elem...)...)
}

// outboxFile returns the outbox copy of the pain.001 of msgID.
func (e *daemonEnv) outboxFile(msgID string) string { return e.spool(OutboxDir, msgID+".xml") }

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

// runUntil runs a new Daemon until cond holds, then stops it as SIGTERM
// does and checks that Run returned nil.
func (e *daemonEnv) runUntil(t *testing.T, opts Options, what string, cond func() bool) {
	t.Helper()
	d := e.daemon(t, opts)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	held := eventually(cond)
	cancel()
	err := <-done
	if !held {
		t.Fatalf("timed out waiting for %s", what)
	}
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

// waitFor waits until cond holds, for 20 s at most.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !eventually(cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// eventually checks cond every 50 ms until it holds, for 20 s at most,
// and reports whether it came to hold.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// openStore opens the state store as an operator command does, closed
// when the test ends at the latest.
func (e *daemonEnv) openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := OpenStore(t.Context(), e.cfg)
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

// intent records the batch for upload (the write-ahead intent) and stops,
// as a crash before the upload would.
func (e *daemonEnv) intent(t *testing.T) {
	t.Helper()
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	d := e.daemon(t, e.options(t))
	if err := d.outbound(t.Context(), t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.statuses(t, testMsgID); st != store.BatchSending {
		t.Fatalf("batch is %s, want sending", st)
	}
}

// inDoubtConsumed brings the test batch into doubt (a file of another size
// under its name on the server), then takes that file away, as AutoPay
// does when it picks a file up: a run finds nothing on the server and the
// batch stays in doubt.
func (e *daemonEnv) inDoubtConsumed(t *testing.T) {
	t.Helper()
	e.intent(t)
	remote := filepath.Join(e.up, testMsgID+".xml")
	if err := os.WriteFile(remote, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.once(t)
	if err := os.Remove(remote); err != nil {
		t.Fatal(err)
	}
	e.once(t)
	if st, _ := e.statuses(t, testMsgID); st != store.BatchInDoubt {
		t.Fatalf("batch is %s, want in-doubt", st)
	}
	if got := files(t, e.up); len(got) != 0 {
		t.Fatalf("uploaded again while in doubt: %v", got)
	}
}

// checkUploadedOnce checks that the upload folder holds the pain.001 of
// the batch, complete, under its final name and nothing else, and that the
// batch is sent.
func (e *daemonEnv) checkUploadedOnce(t *testing.T) {
	t.Helper()
	if names := testutil.Names(t, e.up); !slices.Equal(names, []string{testMsgID + ".xml"}) {
		t.Errorf("upload folder holds %v, want exactly %s.xml", names, testMsgID)
	}
	if fileExists(filepath.Join(e.up, testMsgID+".xml")) &&
		!bytes.Equal(readFile(t, filepath.Join(e.up, testMsgID+".xml")), readFile(t, e.outboxFile(testMsgID))) {
		t.Error("the uploaded file is not the outbox file")
	}
	if st, _ := e.statuses(t, testMsgID); st != store.BatchSent {
		t.Errorf("batch is %s, want %s", st, store.BatchSent)
	}
}

// checkReplyOnce checks that the spool folder's inbox archive holds one
// reply, that nothing is left in work/ or the inbox, and that every other
// copy is in inbox/failed/ with its .err.
func (e *daemonEnv) checkReplyOnce(t *testing.T) {
	t.Helper()
	if n := e.archivedReplies(t); n != 1 {
		t.Errorf("%d replies archived, want 1", n)
	}
	if got := files(t, e.spool("work", "inbox")); len(got) != 0 {
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

// importLines returns the lines of the import files whose names start
// with prefix.
func (e *daemonEnv) importLines(t *testing.T, prefix string) []string {
	t.Helper()
	var lines []string
	for _, name := range withPrefix(files(t, filepath.Join(e.dir, "import")), prefix) {
		text := strings.TrimSpace(string(readFile(t, filepath.Join(e.dir, "import", name))))
		rows := strings.Split(text, "\n")
		lines = append(lines, rows[1:]...) // without the header
	}
	return lines
}

// archivedReplies returns the number of replies in the inbox archive.
func (e *daemonEnv) archivedReplies(t *testing.T) int { return archivedIn(e.cfg.SpoolDir()) }

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

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// archivedIn returns the number of files in the inbox archive of the
// spool folder (Config.SpoolDir).
func archivedIn(spool string) int {
	return len(regularFiles(filepath.Join(spool, "archive", "inbox")))
}

// tree returns the paths of the regular files under dir.
func tree(t *testing.T, dir string) map[string]bool {
	t.Helper()
	return regularFiles(dir)
}

// regularFiles returns the paths of the regular files under dir; what
// cannot be read, or a dir that does not exist, has none.
func regularFiles(dir string) map[string]bool {
	m := map[string]bool{}
	filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err == nil && de.Type().IsRegular() {
			m[p] = true
		}
		return nil
	})
	return m
}

// missingErr returns the names of m that have no .err report in failed.
func missingErr[V any](failed string, m map[string]V) []string {
	var names []string
	for name := range m {
		if !fileExists(filepath.Join(failed, name+".err")) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// groupReport is a pain.002 for the message that gives only a group
// status, with a reason when code is not "".
func groupReport(t *testing.T, id, msgID string, st pain002.Status, code string) []byte {
	t.Helper()
	rep := &pain002.Report{
		MsgID:        id,
		CreationTime: time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC),
		Group:        pain002.Group{OrgnlMsgID: msgID, OrgnlMsgNmID: "pain.001.001.03", Status: st},
	}
	if code != "" {
		rep.Group.Reasons = []pain002.Reason{{Code: code, AdditionalInfo: []string{"reason " + code}}}
	}
	var b bytes.Buffer
	if err := pain002.Encode(&b, rep); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bankSteps steps the sandbox bank until it has nothing left to write.
func bankSteps(t *testing.T, b *sandbox.Bank) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := b.Step(); err != nil {
			t.Fatal(err)
		}
		if b.Idle() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the bank did not answer")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// moveAll moves the files of dir whose names contain part into to and
// returns their names.
func moveAll(t *testing.T, dir, to, part string) []string {
	t.Helper()
	var moved []string
	for _, name := range files(t, dir) {
		if !strings.Contains(name, part) {
			continue
		}
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(to, name)); err != nil {
			t.Fatal(err)
		}
		moved = append(moved, name)
	}
	return moved
}

// logBuf is a log that tests can read while the daemon writes it; each
// line also goes to the test's log.
type logBuf struct {
	t *testing.T
	testutil.SyncBuffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return l.SyncBuffer.Write(p)
}

// count counts the occurrences of s in the log.
func (l *logBuf) count(s string) int {
	return strings.Count(l.String(), s)
}

// lines counts the log lines that hold every one of subs.
func (l *logBuf) lines(subs ...string) int {
	n := 0
	for line := range strings.Lines(l.String()) {
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

// The daylight-saving changes of 2026 in Europe/Oslo, as instants:
// 2026-03-29 02:00 CET becomes 03:00 CEST, and 2026-10-25 03:00 CEST
// becomes 02:00 CET, both at 01:00 UTC.
var (
	springForward = time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)
	fallBack      = time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC)
)

// metric returns the value of the counter or gauge name in m: of its
// series whose labels include the label name/value pairs given
// ("alarm", "no_status"), or of its only series when none are given. A
// metric without such a series fails the test.
func metric(t testing.TB, m *obs.Metrics, name string, labels ...string) float64 {
	t.Helper()
	if len(labels)%2 != 0 {
		t.Fatalf("metric %s: labels %q are not name/value pairs", name, labels)
	}
	var want strings.Builder
	for i := 0; i < len(labels); i += 2 {
		fmt.Fprintf(&want, "%s=%q,", labels[i], labels[i+1])
	}
	series := name + "{" + strings.TrimSuffix(want.String(), ",") + "}"
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		if len(labels) == 0 && len(mf.GetMetric()) != 1 {
			t.Fatalf("metric %s has %d series: name the labels of one", name, len(mf.GetMetric()))
		}
		for _, mm := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range mm.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			match := true
			for i := 0; i < len(labels); i += 2 {
				if v, ok := have[labels[i]]; !ok || v != labels[i+1] {
					match = false
				}
			}
			if !match {
				continue
			}
			switch {
			case mm.GetCounter() != nil:
				return mm.GetCounter().GetValue()
			case mm.GetGauge() != nil:
				return mm.GetGauge().GetValue()
			}
			t.Fatalf("metric %s is neither a counter nor a gauge", series)
		}
	}
	t.Fatalf("no metric %s", series)
	return 0
}

// claimOne scans f, which must offer exactly one file, and claims it, as a
// run that is then stopped would.
func claimOne(t *testing.T, f *spool.Folder) spool.Claimed {
	t.Helper()
	cands, err := f.Scan(time.Now())
	if err != nil || len(cands) != 1 {
		t.Fatalf("scan: %v, %v", cands, err)
	}
	cl, err := f.Claim(cands[0])
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// bankHadFirstDelivery makes the batch in doubt have reached the bank: its
// pain.001 is put in the upload folder, the bank takes it, AutoPay takes
// it away, and the bank answers. The answers are moved into a folder of
// their own, to be delivered when the test says; it returns that folder
// and their names.
func (e *daemonEnv) bankHadFirstDelivery(t *testing.T, bank *sandbox.Bank) (held string, answers []string) {
	t.Helper()
	pain := readFile(t, e.outboxFile(testMsgID))
	remote := filepath.Join(e.up, testMsgID+".xml")
	if err := os.WriteFile(remote, pain, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := bank.Step(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(remote); err != nil {
		t.Fatal(err)
	}
	bankSteps(t, bank)
	held = t.TempDir()
	return held, moveAll(t, e.down, held, "")
}
