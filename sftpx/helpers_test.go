package sftpx_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"refundd/sftpx"
	"refundd/sftpx/sshdtest"
)

// newKey writes a new unencrypted ed25519 private key in OpenSSH format
// with mode 0600 and returns its file and public key.
func newKey(t testing.TB) (string, ssh.PublicKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return file, signer.PublicKey()
}

// newHostSigner returns a new ed25519 host key.
func newHostSigner(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeFile writes a file with mode 0600 in a new temporary folder.
func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// embedded is an embedded server with a client configuration for it.
type embedded struct {
	srv  *sftpx.Server
	root string
	cfg  sftpx.Config
}

// startEmbedded starts an embedded server in a new folder; scfg.Root,
// HostKey and AuthorizedKeys are filled in when empty.
func startEmbedded(t testing.TB, scfg sftpx.ServerConfig) *embedded {
	t.Helper()
	keyFile, pub := newKey(t)
	if scfg.Root == "" {
		scfg.Root = t.TempDir()
	}
	if scfg.AuthorizedKeys == nil {
		scfg.AuthorizedKeys = []ssh.PublicKey{pub}
	}
	srv, err := sftpx.StartServer("127.0.0.1:0", scfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	kh := writeFile(t, "known_hosts", sshdtest.KnownHostsLine(srv.Addr(), srv.HostKey())+"\n")
	return &embedded{srv: srv, root: scfg.Root, cfg: sftpx.Config{
		Address:        srv.Addr(),
		User:           "refundd",
		PrivateKeyFile: keyFile,
		KnownHostsFile: kh,
		Timeout:        5 * time.Second,
	}}
}

// dial connects and closes the client when the test ends.
func dial(t testing.TB, cfg sftpx.Config) *sftpx.Client {
	t.Helper()
	c, err := sftpx.Dial(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// data is a reproducible stream of n pseudo-random bytes.
func data(n int64, seed uint64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	return io.LimitReader(mrand.NewChaCha8(s), n)
}

// sha256Of hashes what r yields.
func sha256Of(t testing.TB, r io.Reader) string {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func fileSHA256(t testing.TB, name string) string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return sha256Of(t, f)
}

// names lists a local folder, sorted.
func names(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// noTempFiles fails the test if dir holds a file whose name marks it as
// temporary.
func noTempFiles(t testing.TB, dir string) {
	t.Helper()
	for _, n := range names(t, dir) {
		if strings.HasSuffix(n, ".part") || strings.HasPrefix(n, ".") {
			t.Errorf("temporary file left in %s: %s", dir, n)
		}
	}
}

func exists(name string) bool {
	_, err := os.Lstat(name)
	return err == nil || !os.IsNotExist(err)
}

// trickle is a reader that yields n bytes and calls at once, after half of
// them, without waiting.
type trickle struct {
	r    io.Reader
	n    int64
	at   int64
	call func()
	done bool
}

func (r *trickle) Read(p []byte) (int, error) {
	if !r.done && r.n >= r.at {
		r.done = true
		r.call()
	}
	k, err := r.r.Read(p)
	r.n += int64(k)
	return k, err
}

func splitHostPort(addr string) (string, string, error) { return net.SplitHostPort(addr) }

// mustPublicKey returns the public key of cfg's private key.
func mustPublicKey(t testing.TB, cfg sftpx.Config) ssh.PublicKey {
	t.Helper()
	k, err := cfg.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}
