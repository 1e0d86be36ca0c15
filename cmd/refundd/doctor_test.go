package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"refundd/sftpx/sshdtest"
)

// TestDoctor runs refundd doctor against a real OpenSSH sshd: every check
// passes; with a wrong host key in known_hosts, the host key check fails
// with both fingerprints and the command exits 1.
func TestDoctor(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	dir := t.TempDir()
	for _, name := range []string{"export", "inbox", "import", "state"} {
		if err := os.Mkdir(filepath.Join(dir, name), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"inbound", "outbound"} {
		if err := os.Mkdir(filepath.Join(s.Root, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	base, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	knownHosts := filepath.Join(dir, "known_hosts")
	config := filepath.Join(dir, "refundd.yaml")
	sftp := fmt.Sprintf("sftp: {address: %q, user: %q, private_key: %q, known_hosts: known_hosts, upload_dir: %q, download_dir: %q, timeout: 10s}\n",
		s.Addr, s.User, s.ClientKey, filepath.Join(s.Root, "inbound"), filepath.Join(s.Root, "outbound"))
	if err := os.WriteFile(config, onStore(t, dir, append(base, sftp...)), 0o600); err != nil {
		t.Fatal(err)
	}
	writeKnownHosts := func(k ssh.PublicKey) {
		if err := os.WriteFile(knownHosts, []byte(sshdtest.KnownHostsLine(s.Addr, k)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	writeKnownHosts(s.HostKeys[0])
	code, out, errs := runCmd("doctor", "-config", config)
	if code != exitOK {
		t.Fatalf("exit %d; want 0\n%s%s", code, out, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		if !strings.HasPrefix(l, "ok    ") {
			t.Errorf("line not ok: %s", l)
		}
	}
	for _, w := range []string{"host key: ssh-ed25519 SHA256:", "login as " + s.User, "list sftp.upload_dir", "list sftp.download_dir", "write sftp.upload_dir"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(s.Root, "inbound")); len(entries) != 0 {
		t.Errorf("the probe left %d files in the upload folder", len(entries))
	}

	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	writeKnownHosts(wrong.PublicKey())
	code, out, _ = runCmd("doctor", "-config", config)
	if code != exitFailure {
		t.Errorf("exit %d; want 1\n%s", code, out)
	}
	var fail []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "FAIL") {
			fail = append(fail, l)
		}
	}
	presented := s.HostKeys[0].Type() + " " + ssh.FingerprintSHA256(s.HostKeys[0])
	expected := wrong.PublicKey().Type() + " " + ssh.FingerprintSHA256(wrong.PublicKey())
	if len(fail) != 1 || !strings.HasPrefix(fail[0], "FAIL  host key: ") || !strings.Contains(fail[0], "host key mismatch") ||
		!strings.Contains(fail[0], "presented "+presented) || !strings.Contains(fail[0], "expected "+expected) {
		t.Errorf("FAIL lines %q; want one host key line with the presented %s and the expected %s\n%s", fail, presented, expected, out)
	}
	if strings.Contains(out, "login as") {
		t.Errorf("the login was tried with a wrong host key:\n%s", out)
	}
	t.Logf("output with a wrong host key:\n%s", out)
}

func TestDoctorUsage(t *testing.T) {
	if code, _, _ := runCmd("doctor", "extra"); code != exitUsage {
		t.Errorf("exit %d; want 2", code)
	}
	code, out, _ := runCmd("doctor", "-config", "/nonexistent.yaml")
	if code != exitFailure || !strings.HasPrefix(out, "FAIL  load config:") {
		t.Errorf("missing config: exit %d, %q", code, out)
	}
}
