package sftpx_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"refundd/sftpx"
	"refundd/sftpx/sshdtest"
)

// TestHostKeys dials an embedded server with known_hosts files and pinned
// fingerprints that do and do not fit its key.
func TestHostKeys(t *testing.T) {
	e := startEmbedded(t, sftpx.ServerConfig{})
	key := e.srv.HostKey()
	other := newHostSigner(t).PublicKey()
	addr := e.srv.Addr()
	line := func(k ssh.PublicKey) string { return sshdtest.KnownHostsLine(addr, k) }
	marshal := func(k ssh.PublicKey) string { return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))) }
	host, port := addr[:strings.LastIndex(addr, ":")], addr[strings.LastIndex(addr, ":")+1:]

	for _, tc := range []struct {
		name       string
		knownHosts string
		pins       []string
		want       error    // nil: the dial succeeds
		mention    []string // in the error
	}{
		{name: "known_hosts [host]:port", knownHosts: line(key)},
		{name: "known_hosts hashed", knownHosts: knownhosts.HashHostname(knownhosts.Normalize(addr)) + " " + marshal(key)},
		{name: "known_hosts several keys for the host", knownHosts: line(other) + "\n" + line(key)},
		{name: "known_hosts comments and other hosts", knownHosts: "# bank\nsftp.example.com " + marshal(other) + "\n" + line(key)},
		{name: "known_hosts wrong key", knownHosts: line(other), want: sftpx.ErrHostKeyMismatch,
			mention: []string{"presented " + sftpx.Fingerprint(key), "expected " + sftpx.Fingerprint(other)}},
		{name: "known_hosts hashed wrong key", knownHosts: knownhosts.HashHostname(knownhosts.Normalize(addr)) + " " + marshal(other),
			want: sftpx.ErrHostKeyMismatch, mention: []string{sftpx.Fingerprint(key), sftpx.Fingerprint(other)}},
		{name: "known_hosts unknown host", knownHosts: "sftp.example.com " + marshal(key), want: sftpx.ErrUnknownHost,
			mention: []string{"presented " + sftpx.Fingerprint(key)}},
		{name: "known_hosts entry without the port", knownHosts: host + " " + marshal(key), want: sftpx.ErrUnknownHost},
		{name: "known_hosts other port", knownHosts: "[" + host + "]:1" + port + " " + marshal(key), want: sftpx.ErrUnknownHost},
		{name: "known_hosts revoked", knownHosts: "@revoked * " + marshal(key) + "\n" + line(key), want: sftpx.ErrHostKeyRevoked,
			mention: []string{sftpx.Fingerprint(key), "revoked"}},
		{name: "pinned fingerprint", pins: []string{sftpx.Fingerprint(key)}},
		{name: "pinned old and new", pins: []string{sftpx.Fingerprint(other), sftpx.Fingerprint(key)}},
		{name: "pinned wrong fingerprint", pins: []string{sftpx.Fingerprint(other)}, want: sftpx.ErrHostKeyMismatch,
			mention: []string{"presented " + sftpx.Fingerprint(key), "expected " + sftpx.Fingerprint(other)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := e.cfg
			cfg.KnownHostsFile, cfg.HostKeyFingerprints = "", tc.pins
			if tc.knownHosts != "" {
				cfg.KnownHostsFile = writeFile(t, "known_hosts", tc.knownHosts+"\n")
			}
			c, err := sftpx.Dial(t.Context(), cfg)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if got := c.HostKey(); got == nil || sftpx.Fingerprint(got) != sftpx.Fingerprint(key) {
					t.Errorf("HostKey() = %v; want the server's key", got)
				}
				return
			}
			if c != nil {
				c.Close()
			}
			if !errors.Is(err, tc.want) || !sftpx.IsPermanent(err) {
				t.Fatalf("got %v; want a permanent %v", err, tc.want)
			}
			var hke *sftpx.HostKeyError
			if !errors.As(err, &hke) {
				t.Errorf("got %T; want a *HostKeyError in the chain", err)
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error does not mention %q:\n%v", m, err)
				}
			}
		})
	}
}

// TestHostKeyAlgorithmsRestricted pins an ed25519 key of a server that has
// only an ECDSA key: the client offers only ed25519, so the handshake fails
// before any key is compared.
func TestHostKeyAlgorithmsRestricted(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	e := startEmbedded(t, sftpx.ServerConfig{HostKey: signer})
	cfg := e.cfg
	cfg.KnownHostsFile, cfg.HostKeyFingerprints = "", []string{sftpx.Fingerprint(newHostSigner(t).PublicKey())}
	_, err = sftpx.Dial(t.Context(), cfg)
	if !errors.Is(err, sftpx.ErrHostKeyMismatch) || !strings.Contains(err.Error(), "none of the pinned key types") {
		t.Fatalf("got %v; want ErrHostKeyMismatch for no common host-key algorithm", err)
	}
	// Pinning the ECDSA key works.
	cfg.HostKeyFingerprints = []string{sftpx.Fingerprint(signer.PublicKey())}
	dial(t, cfg)
}

func TestParseFingerprint(t *testing.T) {
	key := newHostSigner(t).PublicKey()
	fp := ssh.FingerprintSHA256(key)
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"ssh-ed25519 " + fp, true},
		{"  ssh-ed25519\t" + fp + " ", true},
		{"ssh-rsa " + fp, true},
		{"ecdsa-sha2-nistp256 " + fp, true},
		{fp, false},                             // no type: the algorithms to offer are unknown
		{"ssh-dss " + fp, false},                // unsupported type
		{"ssh-ed25519 MD5:" + fp[7:], false},    // not SHA256
		{"ssh-ed25519 SHA256:abc", false},       // too short
		{"ssh-ed25519 " + fp + "=", false},      // padded
		{"ssh-ed25519 " + fp + " extra", false}, // three words
		{"", false},
	} {
		_, _, err := sftpx.ParseFingerprint(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseFingerprint(%q): %v; want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestConfigHostKeys(t *testing.T) {
	e := startEmbedded(t, sftpx.ServerConfig{})
	got, err := e.cfg.HostKeys()
	if err != nil || len(got) != 1 || !strings.HasPrefix(got[0], sftpx.Fingerprint(e.srv.HostKey())+" (") {
		t.Errorf("HostKeys() = %q, %v; want the one key with its source", got, err)
	}
	cfg := e.cfg
	cfg.KnownHostsFile = writeFile(t, "known_hosts", "sftp.example.com "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(e.srv.HostKey())))+"\n")
	if _, err := cfg.HostKeys(); !errors.Is(err, sftpx.ErrUnknownHost) {
		t.Errorf("HostKeys() without an entry: %v; want ErrUnknownHost", err)
	}
	cfg.KnownHostsFile = "/nonexistent/known_hosts"
	if _, err := cfg.HostKeys(); !errors.Is(err, sftpx.ErrConfig) {
		t.Errorf("HostKeys() without the file: %v; want ErrConfig", err)
	}
}
