package doctor

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"refundd/daemon/config"
	"refundd/internal/testutil"

	"golang.org/x/crypto/ssh"
)

// doctorEnv is testutil's embedded environment with the doctor to run.
type doctorEnv struct{ *testutil.Embedded }

func newDoctorEnv(t *testing.T, fault func(ctx context.Context, op, path string) error) *doctorEnv {
	return &doctorEnv{testutil.NewEmbedded(t, fault)}
}

func (e *doctorEnv) doctor(t *testing.T) []Check {
	t.Helper()
	c, err := config.Load(e.Config)
	if err != nil {
		t.Fatal(err)
	}
	return Run(t.Context(), c)
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
	want := []string{"config " + e.Config, "folder paths.export", "folder paths.inbox", "folder paths.import", "folder paths.state",
		"private key", "known_hosts " + e.KnownHosts, "connection " + e.Srv.Addr(), "host key", "login as",
		"list sftp.upload_dir", "list sftp.download_dir", "write sftp.upload_dir"}
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Errorf("checks:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	if got, _ := os.ReadDir(filepath.Join(e.Dir, "bank", "inbound")); len(got) != 0 {
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
			os.Remove(filepath.Join(e.Dir, "export"))
		}, check: "folder paths.export", reason: "no such file"},
		{name: "inbox writable by everyone", breakIt: func(t *testing.T, e *doctorEnv) {
			os.Chmod(filepath.Join(e.Dir, "inbox"), 0o777)
		}, check: "folder paths.inbox", reason: "writable by everyone"},
		{name: "state writable by the group", breakIt: func(t *testing.T, e *doctorEnv) {
			os.Chmod(filepath.Join(e.Dir, "state"), 0o770)
		}, check: "folder paths.state", reason: "writable by group"},
		{name: "group-readable private key", breakIt: func(t *testing.T, e *doctorEnv) {
			os.Chmod(e.Key, 0o640)
		}, check: "private key", reason: "too open", absent: "host key"},
		{name: "known_hosts writable by others", breakIt: func(t *testing.T, e *doctorEnv) {
			os.Chmod(e.KnownHosts, 0o666)
		}, check: "known_hosts", reason: "writable by group or others", absent: "host key"},
		{name: "no entry in known_hosts", breakIt: func(t *testing.T, e *doctorEnv) {
			os.WriteFile(e.KnownHosts, nil, 0o600)
		}, check: "known_hosts", reason: "unknown host", absent: "host key"},
		{name: "wrong host key", breakIt: func(t *testing.T, e *doctorEnv) {
			_, priv, _ := ed25519.GenerateKey(rand.Reader)
			s, _ := ssh.NewSignerFromKey(priv)
			e.WriteKnownHosts(t, s.PublicKey())
		}, check: "host key", reason: "host key mismatch", absent: "login"},
		{name: "login refused", breakIt: func(t *testing.T, e *doctorEnv) {
			e.WriteConfig(t, fmt.Sprintf("sftp: {address: %q, user: someone, private_key: id_ed25519, known_hosts: known_hosts, upload_dir: /inbound}\n", e.Srv.Addr()))
		}, check: "login as someone", reason: "authentication failed", absent: "list"},
		{name: "nothing listens", breakIt: func(t *testing.T, e *doctorEnv) {
			e.Srv.Close()
		}, check: "connection", reason: "refused", absent: "host key"},
		{name: "download folder missing", breakIt: func(t *testing.T, e *doctorEnv) {
			os.Remove(filepath.Join(e.Dir, "bank", "outbound"))
		}, check: "list sftp.download_dir", reason: "not exist"},
		{name: "upload folder not writable", fault: func(_ context.Context, op, _ string) error {
			if op == "open" {
				return syscall.EACCES
			}
			return nil
		}, check: "write sftp.upload_dir", reason: "permission denied"},
		{name: "no sftp", breakIt: func(t *testing.T, e *doctorEnv) { e.WriteConfig(t, "\n") }, check: "sftp", reason: "not set"},
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
