package daemon

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"

	"refundd/sftpx"
	"refundd/sftpx/sshdtest"
)

// doctorEnv is a configuration with folders, keys and an embedded SFTP
// server, all in a temporary folder.
type doctorEnv struct {
	dir, config, key, knownHosts string
	srv                          *sftpx.Server
}

func newDoctorEnv(t *testing.T, fault func(ctx context.Context, op, path string) error) *doctorEnv {
	t.Helper()
	e := &doctorEnv{dir: t.TempDir()}
	for _, f := range []struct {
		name string
		mode os.FileMode
	}{{"export", 0o770}, {"inbox", 0o770}, {"import", 0o770}, {"state", 0o700}, {"bank", 0o755}, {"bank/inbound", 0o755}, {"bank/outbound", 0o755}} {
		if err := os.Mkdir(filepath.Join(e.dir, f.name), f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(e.dir, f.name), f.mode); err != nil {
			t.Fatal(err)
		}
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "refundd")
	if err != nil {
		t.Fatal(err)
	}
	e.key = filepath.Join(e.dir, "id_ed25519")
	if err := os.WriteFile(e.key, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	e.srv, err = sftpx.StartServer("127.0.0.1:0", sftpx.ServerConfig{Root: filepath.Join(e.dir, "bank"),
		AuthorizedKeys: []ssh.PublicKey{signer.PublicKey()}, User: "acme", Fault: fault})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.srv.Close() })
	e.knownHosts = filepath.Join(e.dir, "known_hosts")
	e.writeKnownHosts(t, e.srv.HostKey())
	e.config = filepath.Join(e.dir, "refundd.yaml")
	e.writeConfig(t, "")
	return e
}

func (e *doctorEnv) writeKnownHosts(t *testing.T, k ssh.PublicKey) {
	t.Helper()
	if err := os.WriteFile(e.knownHosts, []byte(sshdtest.KnownHostsLine(e.srv.Addr(), k)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeConfig writes the configuration; extra replaces the sftp section
// when not empty.
func (e *doctorEnv) writeConfig(t *testing.T, sftp string) {
	t.Helper()
	base, err := os.ReadFile("testdata/refundd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if sftp == "" {
		sftp = fmt.Sprintf("sftp: {address: %q, user: acme, private_key: id_ed25519, known_hosts: known_hosts, upload_dir: /inbound, download_dir: /outbound, timeout: 5s}\n", e.srv.Addr())
	}
	if err := os.WriteFile(e.config, append(base, sftp...), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (e *doctorEnv) doctor(t *testing.T) []Check {
	t.Helper()
	c, err := LoadConfig(e.config)
	if err != nil {
		t.Fatal(err)
	}
	return Doctor(t.Context(), c)
}

func TestDoctorPasses(t *testing.T) {
	e := newDoctorEnv(t, nil)
	checks := e.doctor(t)
	var names []string
	for _, c := range checks {
		if !c.OK() {
			t.Errorf("%s: %v", c.Name, c.Err)
		}
		names = append(names, strings.Fields(c.Name)[0]+" "+strings.Join(strings.Fields(c.Name)[1:2], ""))
	}
	want := []string{"config " + e.config, "folder paths.export", "folder paths.inbox", "folder paths.import", "folder paths.state",
		"private key", "known_hosts " + e.knownHosts, "connection " + e.srv.Addr(), "host key", "login as",
		"list sftp.upload_dir", "list sftp.download_dir", "write sftp.upload_dir"}
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Errorf("checks:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	if got, _ := os.ReadDir(filepath.Join(e.dir, "bank", "inbound")); len(got) != 0 {
		t.Errorf("the probe left %d files in the upload folder", len(got))
	}
}

// TestDoctorFails breaks one thing at a time: its check fails with a
// reason, and checks that depend on it are left out.
func TestDoctorFails(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   func(ctx context.Context, op, path string) error
		breakIt func(t *testing.T, e *doctorEnv)
		check   string // the failing check's name starts so
		reason  string
		absent  string // a check left out
	}{
		{name: "export folder missing", breakIt: func(t *testing.T, e *doctorEnv) {
			os.Remove(filepath.Join(e.dir, "export"))
		}, check: "folder paths.export", reason: "no such file"},
		{name: "inbox writable by everyone", breakIt: func(t *testing.T, e *doctorEnv) {
			os.Chmod(filepath.Join(e.dir, "inbox"), 0o777)
		}, check: "folder paths.inbox", reason: "writable by everyone"},
		{name: "state writable by the group", breakIt: func(t *testing.T, e *doctorEnv) {
			os.Chmod(filepath.Join(e.dir, "state"), 0o770)
		}, check: "folder paths.state", reason: "writable by group"},
		{name: "group-readable private key", breakIt: func(t *testing.T, e *doctorEnv) {
			os.Chmod(e.key, 0o640)
		}, check: "private key", reason: "too open", absent: "host key"},
		{name: "known_hosts writable by others", breakIt: func(t *testing.T, e *doctorEnv) {
			os.Chmod(e.knownHosts, 0o666)
		}, check: "known_hosts", reason: "writable by group or others", absent: "host key"},
		{name: "no entry in known_hosts", breakIt: func(t *testing.T, e *doctorEnv) {
			os.WriteFile(e.knownHosts, nil, 0o600)
		}, check: "known_hosts", reason: "unknown host", absent: "host key"},
		{name: "wrong host key", breakIt: func(t *testing.T, e *doctorEnv) {
			_, priv, _ := ed25519.GenerateKey(rand.Reader)
			s, _ := ssh.NewSignerFromKey(priv)
			e.writeKnownHosts(t, s.PublicKey())
		}, check: "host key", reason: "host key mismatch", absent: "login"},
		{name: "login refused", breakIt: func(t *testing.T, e *doctorEnv) {
			e.writeConfig(t, fmt.Sprintf("sftp: {address: %q, user: someone, private_key: id_ed25519, known_hosts: known_hosts, upload_dir: /inbound}\n", e.srv.Addr()))
		}, check: "login as someone", reason: "authentication failed", absent: "list"},
		{name: "nothing listens", breakIt: func(t *testing.T, e *doctorEnv) {
			e.srv.Close()
		}, check: "connection", reason: "refused", absent: "host key"},
		{name: "download folder missing", breakIt: func(t *testing.T, e *doctorEnv) {
			os.Remove(filepath.Join(e.dir, "bank", "outbound"))
		}, check: "list sftp.download_dir", reason: "not exist"},
		{name: "upload folder not writable", fault: func(_ context.Context, op, _ string) error {
			if op == "open" {
				return syscall.EACCES
			}
			return nil
		}, check: "write sftp.upload_dir", reason: "permission denied"},
		{name: "no sftp", breakIt: func(t *testing.T, e *doctorEnv) { e.writeConfig(t, "\n") }, check: "sftp", reason: "not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newDoctorEnv(t, tc.fault)
			if tc.breakIt != nil {
				tc.breakIt(t, e)
			}
			var failed []Check
			for _, c := range e.doctor(t) {
				if !c.OK() {
					failed = append(failed, c)
				}
				if tc.absent != "" && strings.HasPrefix(c.Name, tc.absent) {
					t.Errorf("check %q ran after the failure", c.Name)
				}
			}
			if len(failed) != 1 || !strings.HasPrefix(failed[0].Name, tc.check) || !strings.Contains(failed[0].Err.Error(), tc.reason) {
				t.Fatalf("failed checks %+v; want only %q failing with %q", failed, tc.check, tc.reason)
			}
		})
	}
}
