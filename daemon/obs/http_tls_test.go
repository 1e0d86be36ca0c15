package obs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"
)

// testCert writes a self-signed certificate for 127.0.0.1 and its key
// into dir as cert.pem and key.pem, and returns a pool that trusts it.
func testCert(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "refundd test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("cert.pem", "CERTIFICATE", der)
	write("key.pem", "EC PRIVATE KEY", kder)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// writeWebConfig writes a web configuration file into dir with the TLS
// part tlsPart (YAML lines under tls_server_config, "" for none) and a
// user "operator" with password (none when "").
func writeWebConfig(t *testing.T, dir, tlsPart, password string) string {
	t.Helper()
	var b strings.Builder
	if tlsPart != "" {
		b.WriteString("tls_server_config:\n" + tlsPart)
	}
	if password != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "basic_auth_users:\n  operator: %s\n", hash)
	}
	path := filepath.Join(dir, "web.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const testTLS = "  cert_file: cert.pem\n  key_file: key.pem\n  min_version: TLS13\n"

// TestHTTPWebConfigAuth: with a web configuration file of TLS and a user,
// every endpoint (the probes too, and a handler added for the status
// page) answers 401 without credentials, with a wrong password and for an
// unknown user, and 200 with the right password, over TLS. A plain HTTP
// request to the port, and a client that offers TLS 1.2 only where the
// file asks for 1.3, get nothing.
func TestHTTPWebConfigAuth(t *testing.T) {
	dir := t.TempDir()
	pool := testCert(t, dir)
	path := writeWebConfig(t, dir, testTLS, "right horse")
	m := NewMetrics()
	s, err := NewHTTPServer(HTTPConfig{Addr: "127.0.0.1:0", WebConfigFile: path, Metrics: m, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	s.Handle("GET /status", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { text(w, http.StatusOK, "page") }))
	base, _ := serve(t, s)
	addr := strings.TrimPrefix(base, "http://")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	do := func(url, user, pass string, auth bool) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/api/health", "/status"} {
		for _, tc := range []struct {
			name       string
			user, pass string
			auth       bool
			want       int
		}{
			{"no credentials", "", "", false, http.StatusUnauthorized},
			{"wrong password", "operator", "wrong horse", true, http.StatusUnauthorized},
			{"unknown user", "mallory", "right horse", true, http.StatusUnauthorized},
			{"right password", "operator", "right horse", true, http.StatusOK},
		} {
			code, body := do("https://"+addr+path, tc.user, tc.pass, tc.auth)
			if code != tc.want {
				t.Errorf("%s, %s: %d %q, want %d", path, tc.name, code, body, tc.want)
			}
		}
	}

	// Plain HTTP to the TLS port: no endpoint answers.
	resp, err := http.Get("http://" + addr + "/healthz")
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || strings.Contains(string(b), "ok") {
			t.Errorf("plain HTTP to the TLS port: %d %q", resp.StatusCode, b)
		}
	}
	// TLS 1.2 where the file asks for 1.3 at least.
	old := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12}}}
	if resp, err := old.Get("https://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("a TLS 1.2 client was served (%d) under min_version TLS13", resp.StatusCode)
	}

	// A new password takes effect with the next request, without a restart.
	writeWebConfig(t, dir, testTLS, "new horse")
	if code, _ := do("https://"+addr+"/healthz", "operator", "right horse", true); code != http.StatusUnauthorized {
		t.Errorf("the old password after the change: %d, want 401", code)
	}
	if code, _ := do("https://"+addr+"/healthz", "operator", "new horse", true); code != http.StatusOK {
		t.Errorf("the new password after the change: %d, want 200", code)
	}
}

// TestHTTPWebConfigRemote: an address that is not loopback is accepted
// only when the web configuration file gives TLS and authentication (a
// password, or a client certificate required and verified); a file that
// the toolkit would refuse is refused at once.
func TestHTTPWebConfigRemote(t *testing.T) {
	dir := t.TempDir()
	testCert(t, dir)
	for _, tc := range []struct {
		name     string
		tlsPart  string
		password string
		want     string // "" accepted, else part of the error
	}{
		{"TLS and a password", testTLS, "pw", ""},
		{"TLS and client certificates", testTLS + "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: cert.pem\n", "", ""},
		{"a password without TLS", "", "pw", "not a loopback address"},
		{"TLS without authentication", testTLS, "", "not a loopback address"},
		{"TLS with optional client certificates", testTLS + "  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: cert.pem\n", "", "not a loopback address"},
		{"a missing key", "  cert_file: cert.pem\n  key_file: nokey.pem\n", "pw", "nokey.pem"},
		{"an unknown key", testTLS + "  colour: blue\n", "pw", "colour"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeWebConfig(t, dir, tc.tlsPart, tc.password)
			s, err := NewHTTPServer(HTTPConfig{Addr: "0.0.0.0:0", WebConfigFile: path, Logger: zerolog.Nop()})
			if err == nil {
				err = s.Listen()
				if ln := s.Addr(); ln != nil {
					s.ln.Close()
				}
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
			if strings.Contains(tc.want, "loopback") && !errors.Is(err, ErrNotLoopback) {
				t.Errorf("%v is not ErrNotLoopback", err)
			}
		})
	}
	// On loopback any valid file is fine, also one without TLS.
	path := writeWebConfig(t, dir, "", "pw")
	if _, err := NewHTTPServer(HTTPConfig{Addr: "127.0.0.1:0", WebConfigFile: path}); err != nil {
		t.Errorf("loopback with a password only: %v", err)
	}
}

// TestHTTPWebConfigEditedOffLoopback: a server reachable from other hosts
// because its web configuration file has TLS and users keeps that rule
// while it runs: with the users taken out of the file (the toolkit would
// then serve everyone), every request is refused with 503 until the file
// protects the address again.
func TestHTTPWebConfigEditedOffLoopback(t *testing.T) {
	dir := t.TempDir()
	pool := testCert(t, dir)
	path := writeWebConfig(t, dir, testTLS, "right horse")
	s, err := NewHTTPServer(HTTPConfig{Addr: "0.0.0.0:0", WebConfigFile: path, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	base, _ := serve(t, s)
	_, port, err := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	url := "https://127.0.0.1:" + port + "/healthz"
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(auth bool) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth {
			req.SetBasicAuth("operator", "right horse")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(true); code != http.StatusOK {
		t.Fatalf("with the password: %d, want 200", code)
	}
	if code := get(false); code != http.StatusUnauthorized {
		t.Fatalf("without credentials: %d, want 401", code)
	}
	writeWebConfig(t, dir, testTLS, "") // the users taken out
	if code := get(false); code != http.StatusServiceUnavailable {
		t.Errorf("without users in the file, off loopback: %d, want 503", code)
	}
	writeWebConfig(t, dir, testTLS, "right horse")
	if code := get(true); code != http.StatusOK {
		t.Errorf("with the users back: %d, want 200", code)
	}
}
