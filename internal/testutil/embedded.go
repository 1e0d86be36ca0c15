package testutil

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"

	"refundd/sftpx"
	"refundd/sftpx/sshdtest"
)

// Embedded is a configuration with folders, keys and an embedded SFTP
// server (sftpx.Server) whose root is the folder bank/, with bank/inbound
// and bank/outbound, all in a temporary folder.
type Embedded struct {
	// Dir is the folder; Config the configuration file in it, Key the
	// client's key and KnownHosts the known_hosts file.
	Dir, Config, Key, KnownHosts string
	Srv                          *sftpx.Server
}

// NewEmbedded starts the server with the fault hook fault (see
// sftpx.ServerConfig) and writes the configuration.
func NewEmbedded(t testing.TB, fault func(ctx context.Context, op, path string) error) *Embedded {
	t.Helper()
	e := &Embedded{Dir: t.TempDir()}
	for _, f := range []struct {
		name string
		mode os.FileMode
	}{{"export", 0o770}, {"inbox", 0o770}, {"import", 0o770}, {"state", 0o700}, {"bank", 0o755}, {"bank/inbound", 0o755}, {"bank/outbound", 0o755}} {
		if err := os.Mkdir(filepath.Join(e.Dir, f.name), f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(e.Dir, f.name), f.mode); err != nil {
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
	e.Key = filepath.Join(e.Dir, "id_ed25519")
	if err := os.WriteFile(e.Key, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	e.Srv, err = sftpx.StartServer("127.0.0.1:0", sftpx.ServerConfig{Root: filepath.Join(e.Dir, "bank"),
		AuthorizedKeys: []ssh.PublicKey{signer.PublicKey()}, User: "acme", Fault: fault})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Srv.Close() })
	e.KnownHosts = filepath.Join(e.Dir, "known_hosts")
	e.WriteKnownHosts(t, e.Srv.HostKey())
	e.Config = filepath.Join(e.Dir, "refundd.yaml")
	e.WriteConfig(t, "")
	return e
}

// WriteKnownHosts writes known_hosts with the key k for the server.
func (e *Embedded) WriteKnownHosts(t testing.TB, k ssh.PublicKey) {
	t.Helper()
	if err := os.WriteFile(e.KnownHosts, []byte(sshdtest.KnownHostsLine(e.Srv.Addr(), k)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// WriteConfig writes the configuration: the test configuration with an
// sftp section for the server, or sftp when it is not empty.
func (e *Embedded) WriteConfig(t testing.TB, sftp string) {
	t.Helper()
	base, err := os.ReadFile(Testdata("refundd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if sftp == "" {
		sftp = fmt.Sprintf("sftp: {address: %q, user: acme, private_key: id_ed25519, known_hosts: known_hosts, upload_dir: /inbound, download_dir: /outbound, timeout: 5s}\n", e.Srv.Addr())
	}
	if err := os.WriteFile(e.Config, append(base, sftp...), 0o600); err != nil {
		t.Fatal(err)
	}
}
