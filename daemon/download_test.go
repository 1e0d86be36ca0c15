package daemon

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"

	"refundd/daemon/config"
	"refundd/daemon/refund"
	"refundd/daemon/store"
	"refundd/formats/pain002"
	"refundd/internal/testutil"
	"refundd/sftpx/sshdtest"
)

// TestDaemonDownloadAgain: a reply that the server offers again after it
// was taken (its removal failed) is removed, not taken twice.
func TestDaemonDownloadAgain(t *testing.T) {
	e := newDaemonEnv(t)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	e.once(t)
	pain := testutil.StatusReport(t, testMsgID, e.sent(t, testMsgID))
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

// TestDownloadSkipsUnreadableReply: one reply on the server that refundd
// may not read, and one it may read but not remove, do not hold up the
// others: each round downloads what it can and names the file it cannot.
func TestDownloadSkipsUnreadableReply(t *testing.T) {
	const locked, sticky = "/outbound/a-locked.xml", "/outbound/b-sticky.xml"
	e := testutil.NewEmbedded(t, func(_ context.Context, op, path string) error {
		if (path == locked && (op == "open" || op == "read")) || (path == sticky && op == "remove") {
			return &fs.PathError{Op: op, Path: path, Err: syscall.EACCES}
		}
		return nil
	})
	out := filepath.Join(e.Dir, "bank", "outbound")
	for name, msgID := range map[string]string{"a-locked.xml": "RFD-X-1", "b-sticky.xml": "RFD-X-2", "c-report.xml": "RFD-X-3"} {
		data := groupReport(t, "STS-"+msgID, msgID, pain002.AcceptedCustomerProfile, "")
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load(e.Config)
	if err != nil {
		t.Fatal(err)
	}
	onTestStore(t, cfg)
	log := &logBuf{t: t}
	for range 2 {
		d, err := New(cfg, Options{Logger: zerolog.New(log)})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		d.Close()
	}
	if got := files(t, out); !slices.Equal(got, []string{"a-locked.xml", "b-sticky.xml"}) {
		t.Errorf("server holds %v, want the two files refundd may not take away", got)
	}
	if n := archivedIn(cfg.SpoolDir()); n != 2 {
		t.Errorf("%d replies archived, want 2 (b-sticky.xml and c-report.xml, once each)", n)
	}
	if n := log.lines("a-locked.xml", "cannot be downloaded"); n != 2 {
		t.Errorf("%d lines name a-locked.xml as not downloadable, want one per round", n)
	}
	if n := log.lines("b-sticky.xml", "cannot be taken away"); n != 2 {
		t.Errorf("%d lines name b-sticky.xml as not removable, want one per round", n)
	}
}

// TestDaemonDownloadArchive: with sftp.download_archive_dir, a downloaded
// reply is moved on the server into that folder instead of being removed,
// under a new name when its own is taken there; the file there is not
// overwritten. A reply offered again after it was taken is moved too, and
// not applied twice.
func TestDaemonDownloadArchive(t *testing.T) {
	e := newDaemonEnv(t)
	archive := filepath.Join(e.srv.Root, "outbound-done")
	if err := os.MkdirAll(archive, 0o755); err != nil {
		t.Fatal(err)
	}
	older := []byte("<an older reply/>")
	if err := os.WriteFile(filepath.Join(archive, "pain002.xml"), older, 0o644); err != nil {
		t.Fatal(err)
	}
	e.cfg.SFTP.DownloadArchiveDir = archive
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	e.once(t)
	pain := testutil.StatusReport(t, testMsgID, e.sent(t, testMsgID))
	if err := os.WriteFile(filepath.Join(e.down, "pain002.xml"), pain, 0o644); err != nil {
		t.Fatal(err)
	}
	e.once(t)

	if got := files(t, e.down); len(got) != 0 {
		t.Errorf("download folder holds %v", got)
	}
	if got := files(t, archive); !slices.Equal(got, []string{"pain002 (2).xml", "pain002.xml"}) {
		t.Fatalf("archive folder holds %v", got)
	}
	if got := readFile(t, filepath.Join(archive, "pain002.xml")); string(got) != string(older) {
		t.Error("the older file in the archive folder was overwritten")
	}
	if got := readFile(t, filepath.Join(archive, "pain002 (2).xml")); string(got) != string(pain) {
		t.Error("the archived reply is not the one downloaded")
	}
	if st, _ := e.statuses(t, testMsgID); st != "accepted" {
		t.Errorf("batch is %s after the pain.002, want accepted", st)
	}

	// Offered again: not applied twice, archived again.
	if err := os.WriteFile(filepath.Join(e.down, "pain002.xml"), pain, 0o644); err != nil {
		t.Fatal(err)
	}
	e.once(t)
	if got := files(t, e.down); len(got) != 0 {
		t.Errorf("download folder holds %v", got)
	}
	if got := files(t, archive); !slices.Equal(got, []string{"pain002 (2).xml", "pain002 (3).xml", "pain002.xml"}) {
		t.Errorf("archive folder holds %v", got)
	}
	if n := e.archivedReplies(t); n != 1 {
		t.Errorf("%d replies archived locally, want 1", n)
	}
}

// lyingServer is an SFTP server whose folder listings name files that no
// honest server lists: "../x", "a/../../y", "sub/z". Every file it is asked
// for reads as data; removals are recorded.
type lyingServer struct {
	addr    string
	hostKey ssh.PublicKey
	names   []string
	data    []byte

	mu      sync.Mutex
	read    []string
	removed []string
}

func startLyingServer(t *testing.T, names []string, data []byte) *lyingServer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) { return nil, nil }}
	cfg.AddHostKey(signer)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &lyingServer{addr: l.Addr().String(), hostKey: signer.PublicKey(), names: names, data: data}
	var wg sync.WaitGroup
	var conns sync.Map
	t.Cleanup(func() {
		l.Close()
		conns.Range(func(c, _ any) bool { c.(net.Conn).Close(); return true })
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Store(c, true)
			wg.Go(func() { s.serve(c, cfg, &wg) })
		}
	})
	return s
}

func (s *lyingServer) serve(c net.Conn, cfg *ssh.ServerConfig, wg *sync.WaitGroup) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	c.SetDeadline(time.Time{})
	defer sc.Close()
	wg.Go(func() { ssh.DiscardRequests(reqs) })
	for nc := range chans {
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Go(func() {
			for req := range creqs {
				ok := req.Type == "subsystem"
				req.Reply(ok, nil)
				if ok {
					wg.Go(func() {
						rs := sftp.NewRequestServer(ch, sftp.Handlers{FileGet: s, FilePut: s, FileCmd: s, FileList: s})
						rs.Serve()
						rs.Close()
					})
				}
			}
		})
	}
}

func (s *lyingServer) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.read = append(s.read, r.Filepath)
	return bytes.NewReader(s.data), nil
}

func (s *lyingServer) Filewrite(*sftp.Request) (io.WriterAt, error) {
	return nil, sftp.ErrSSHFxPermissionDenied
}

func (s *lyingServer) Filecmd(r *sftp.Request) error {
	if r.Method != "Remove" {
		return sftp.ErrSSHFxPermissionDenied
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removed = append(s.removed, r.Filepath)
	return nil
}

func (s *lyingServer) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	now := time.Now()
	switch r.Method {
	case "List":
		var infos listerAt
		for _, n := range s.names {
			infos = append(infos, fakeInfo{name: n, size: int64(len(s.data)), mod: now})
		}
		return infos, nil
	case "Stat", "Lstat":
		return listerAt{fakeInfo{name: r.Filepath[strings.LastIndex(r.Filepath, "/")+1:], size: int64(len(s.data)), mod: now}}, nil
	}
	return nil, sftp.ErrSSHFxOpUnsupported
}

type listerAt []fs.FileInfo

func (l listerAt) ListAt(dst []fs.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(dst, l[off:])
	if n < len(dst) {
		return n, io.EOF
	}
	return n, nil
}

type fakeInfo struct {
	name string
	size int64
	mod  time.Time
}

func (f fakeInfo) Name() string       { return f.name }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() fs.FileMode  { return 0o644 }
func (f fakeInfo) ModTime() time.Time { return f.mod }
func (f fakeInfo) IsDir() bool        { return false }
func (f fakeInfo) Sys() any           { return nil }

// TestDaemonDownloadHostileNames: a server that lists names with a slash
// or "..": nothing is ever written outside the inbox (the SFTP client
// keeps the last element of a listed name and drops "." and ".."), nothing
// outside the download folder is read or removed on the server, and the
// files are taken.
func TestDaemonDownloadHostileNames(t *testing.T) {
	e := newDaemonEnv(t)
	data := []byte("<?xml version=\"1.0\"?><Document xmlns=\"urn:example\"/>")
	srv := startLyingServer(t, []string{"../x.xml", "a/../../y.xml", "sub/z.xml", "..", "ok.xml"}, data)
	e.cfg.SFTP.Address = srv.addr
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(sshdtest.KnownHostsLine(srv.addr, srv.hostKey)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.cfg.SFTP.KnownHosts = kh
	e.cfg.SFTP.DownloadDir = "/out/box"

	before := tree(t, e.dir)
	inbox := filepath.Join(e.dir, "inbox")
	e.runUntil(t, e.options(t), "every listed file taken", func() bool {
		return len(missingErr(filepath.Join(inbox, "failed"), map[string]bool{"ok.xml": true, "x.xml": true, "y.xml": true, "z.xml": true})) == 0
	})
	for p := range tree(t, e.dir) {
		if !before[p] && !strings.HasPrefix(p, inbox+string(filepath.Separator)) && !strings.HasPrefix(p, filepath.Join(e.dir, "state")+string(filepath.Separator)) &&
			!strings.HasPrefix(p, e.cfg.SpoolDir()+string(filepath.Separator)) &&
			!strings.HasPrefix(p, filepath.Join(e.dir, "import")+string(filepath.Separator)) {
			t.Errorf("%s written outside the inbox", p)
		}
	}
	for _, p := range []string{"x.xml", "y.xml", "z.xml"} {
		if _, err := os.Lstat(filepath.Join(filepath.Dir(e.dir), p)); err == nil {
			t.Errorf("%s written above the test folder", p)
		}
		if !fileExists(filepath.Join(inbox, "failed", p+".err")) {
			t.Errorf("%s is not in the inbox's failed/", p)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for _, r := range append(srv.read, srv.removed...) {
		if !strings.HasPrefix(r, "/out/box/") || strings.Count(r, "/") != 3 {
			t.Errorf("the daemon asked the server for %s", r)
		}
	}
}

// longName returns a name of n bytes ending in ext.
func longName(prefix, ext string, n int) string {
	return prefix + strings.Repeat("n", n-len(prefix)-len(ext)) + ext
}

// folderNameMax is the longest name of a file dropped into the export
// folder or the inbox: the 255 bytes of a folder entry (no done marker and
// no "<name>.err" can exist beside it).
const folderNameMax = 255

// TestCasesFileNames (E15): names with spaces and names of 255 bytes, the
// longest a folder entry can have, in the export folder, the inbox and the
// server's download folder (such a reply gets a shorter name in the
// inbox). Each file is handled (a batch
// sent, a reply applied) or refused with a reason (a duplicate); none is
// lost, and nothing is written outside the folders.
func TestCasesFileNames(t *testing.T) {
	e := newDaemonEnv(t)
	export, inbox := filepath.Join(e.dir, "export"), filepath.Join(e.dir, "inbox")
	good := readFile(t, "testdata/batch-ok.csv")
	batch := func(n int) []byte {
		b := bytes.ReplaceAll(good, []byte("B2026-0042"), fmt.Appendf(nil, "B2026-%04d", n))
		for _, p := range []string{"CN100", "PP100", "PY100"} {
			b = bytes.ReplaceAll(b, []byte(p), fmt.Appendf(nil, "%s%d", p[:2], 300+n))
		}
		return b
	}
	spaced, long := "batch with spaces.csv", longName("batch-", ".csv", folderNameMax)
	for i, name := range []string{spaced, long} {
		if err := os.WriteFile(filepath.Join(export, name), batch(i+1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	msgIDs := []string{refund.MsgID("987654325", "B2026-0001", 0), refund.MsgID("987654325", "B2026-0002", 0)}
	e.once(t)
	for i, id := range msgIDs {
		if !fileExists(filepath.Join(e.up, id+".xml")) {
			t.Errorf("batch %d (%q) not uploaded; export %v, failed %v", i+1, []string{spaced, long}[i], files(t, export), dirFiles(t, filepath.Join(export, "failed")))
		}
	}

	// Replies: the pain.002 of each batch, one dropped into the inbox and
	// one on the server, each under a spaced and a long name.
	report := func(i int) []byte { return statusOnly(t, msgIDs[i], e.sent(t, msgIDs[i])) }
	for _, name := range []string{"reply with spaces.xml", longName("reply-", ".xml", folderNameMax)} {
		if err := os.WriteFile(filepath.Join(inbox, name), report(0), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"remote reply with spaces.xml", longName("remote-", ".xml", 255)} {
		if err := os.WriteFile(filepath.Join(e.down, name), report(1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := tree(t, e.dir)
	e.once(t)
	e.once(t)
	for i, id := range msgIDs {
		if st, _ := e.statuses(t, id); st != store.BatchAccepted {
			t.Errorf("batch %d is %s after its replies, want %s", i+1, st, store.BatchAccepted)
		}
	}
	if got := files(t, e.down); len(got) != 0 {
		t.Errorf("the server's download folder still holds %q", got)
	}
	if got := files(t, inbox); len(got) != 0 {
		t.Errorf("inbox holds %q", got)
	}
	// Two replies applied, two refused as duplicates of them: every one
	// is accounted for, in the archive or in failed/ with a reason.
	failed := dirFiles(t, filepath.Join(inbox, "failed"))
	if n := e.archivedReplies(t) + len(failed)/2; n != 4 {
		t.Errorf("%d replies archived and %q in failed/, want 4 accounted for", e.archivedReplies(t), failed)
	}
	for _, name := range failed {
		if strings.HasSuffix(name, ".err") && len(bytes.TrimSpace(readFile(t, filepath.Join(inbox, "failed", name)))) == 0 {
			t.Errorf("%s gives no reason", name)
		}
	}
	// The folders of the configuration: the state folder, and the spool
	// folder, which is the state folder with SQLite.
	folders := []string{"export", "inbox", "import", "state"}
	if rel, err := filepath.Rel(e.dir, e.cfg.SpoolDir()); err == nil {
		top, _, _ := strings.Cut(rel, string(filepath.Separator))
		folders = append(folders, top)
	}
	after := tree(t, e.dir)
	for p := range after {
		if before[p] {
			continue
		}
		rel, _ := filepath.Rel(e.dir, p)
		if top, _, _ := strings.Cut(rel, string(filepath.Separator)); !slices.Contains(folders, top) {
			t.Errorf("written outside the folders: %s", p)
		}
	}
}

// dirFiles lists the files of dir, none when it does not exist.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	if !fileExists(dir) {
		return nil
	}
	return files(t, dir)
}

// statusOnly is a pain.002 that accepts the whole message.
func statusOnly(t *testing.T, msgID string, _ []refund.Sent) []byte {
	return groupReport(t, "STS-"+msgID, msgID, pain002.AcceptedCustomerProfile, "")
}

// TestDaemonDownloadSizeLimit: a reply on the server larger than
// limits.max_reply_size is not downloaded, neither into memory nor to
// disk: it stays on the server, an .err in the inbox's failed/ names its
// size, the limit and the key, and the other replies are downloaded. Once
// the limit is raised, it is downloaded and applied.
func TestDaemonDownloadSizeLimit(t *testing.T) {
	e := newDaemonEnv(t)
	e.setLimits(t, "limits: {max_reply_size: 16KiB}\n")
	big := filepath.Join(e.down, "a-big.xml")
	writeBig(t, big, groupReport(t, "STS-BIG", "RFD-X-1", pain002.AcceptedCustomerProfile, ""), 20<<10)
	fi, err := os.Stat(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.down, "b-small.xml"), groupReport(t, "STS-SMALL", "RFD-X-2", pain002.AcceptedCustomerProfile, ""), 0o644); err != nil {
		t.Fatal(err)
	}
	log := &logBuf{t: t}
	opts := e.options(t)
	opts.Logger = zerolog.New(log)
	d := e.daemon(t, opts)
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	d.Close()

	if got := files(t, e.down); !slices.Equal(got, []string{"a-big.xml"}) {
		t.Errorf("server holds %v, want a-big.xml only", got)
	}
	if n := e.archivedReplies(t); n != 1 {
		t.Errorf("%d replies archived, want 1 (b-small.xml)", n)
	}
	inbox := filepath.Join(e.dir, "inbox")
	if got := files(t, inbox); len(got) != 0 {
		t.Errorf("inbox holds %v", got)
	}
	es, err := os.ReadDir(inbox)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range es {
		if strings.Contains(de.Name(), "a-big") {
			t.Errorf("inbox holds %s: a part of a-big.xml was downloaded", de.Name())
		}
	}
	failed := filepath.Join(inbox, "failed")
	if got := files(t, failed); !slices.Equal(got, []string{"a-big.xml.err"}) {
		t.Errorf("inbox/failed holds %v, want the report of a-big.xml only", got)
	}
	report := string(readFile(t, filepath.Join(failed, "a-big.xml.err")))
	for _, w := range []string{fmt.Sprintf("a-big.xml has %d bytes", fi.Size()), "larger than the limit of 16384 bytes",
		"limits.max_reply_size", "stays on the server"} {
		if !strings.Contains(report, w) {
			t.Errorf("a-big.xml.err lacks %q:\n%s", w, report)
		}
	}
	if n := log.lines("a-big.xml", "not downloaded"); n != 1 {
		t.Errorf("%d log lines name a-big.xml as not downloaded, want 1", n)
	}

	e.setLimits(t, "limits: {max_reply_size: 1MiB}\n")
	e.once(t)
	if got := files(t, e.down); len(got) != 0 {
		t.Errorf("server holds %v after the limit was raised", got)
	}
	if n := e.archivedReplies(t); n != 2 {
		t.Errorf("%d replies archived, want 2", n)
	}
}
