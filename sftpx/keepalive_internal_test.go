package sftpx

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"refundd/sftpx/sshdtest"
)

// idleClient starts an embedded server behind a proxy and dials it with
// the given timeout.
func idleClient(t *testing.T, timeout time.Duration) (*Client, *sshdtest.Proxy) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := StartServer("127.0.0.1:0", ServerConfig{Root: t.TempDir(), AuthorizedKeys: []ssh.PublicKey{signer.PublicKey()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	p := sshdtest.NewProxy(t, srv.Addr())
	c, err := Dial(t.Context(), Config{Address: p.Addr, User: "u", PrivateKeyFile: keyFile,
		HostKeyFingerprints: []string{Fingerprint(srv.HostKey())}, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, p
}

// TestIdleConnectionKeptAlive leaves a healthy connection idle for longer
// than the timeout: keepalives keep it open, and the next call uses it.
func TestIdleConnectionKeptAlive(t *testing.T) {
	const timeout = 2 * time.Second
	c, _ := idleClient(t, timeout)
	s := c.sess
	time.Sleep(2*timeout + timeout/2)
	if err := s.failed(); err != nil {
		t.Fatalf("the idle connection failed: %v", err)
	}
	if _, err := c.List(t.Context(), "/", ""); err != nil {
		t.Fatal(err)
	}
	if c.sess != s {
		t.Error("the client dialled again; want the idle connection reused")
	}
}

// TestIdleConnectionStalled stalls the path of an idle connection: the
// client notices within the timeout without being called.
func TestIdleConnectionStalled(t *testing.T) {
	const timeout = 2 * time.Second
	c, p := idleClient(t, timeout)
	s := c.sess
	p.Stall()
	defer p.Resume()
	start := time.Now()
	deadline := start.Add(timeout + 5*time.Second)
	for s.failed() == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	err := s.failed()
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("after %s the connection's state is %v; want ErrTimeout", time.Since(start), err)
	}
	t.Logf("noticed after %s: %v", time.Since(start).Round(time.Millisecond), err)
}
