package daemon

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"refundd/sftpx/sshdtest"
)

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

// tree returns the paths of the regular files under dir.
func tree(t *testing.T, dir string) map[string]bool {
	t.Helper()
	m := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err == nil && de.Type().IsRegular() {
			m[p] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
