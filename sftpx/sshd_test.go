package sftpx_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"refundd/sftpx"
	"refundd/sftpx/sshdtest"
)

// The tests in this file run against a real OpenSSH sshd started on
// 127.0.0.1 (see package sshdtest).

// sshdConfig is a client configuration for s that trusts keys.
func sshdConfig(t testing.TB, s *sshdtest.Server, keys ...ssh.PublicKey) sftpx.Config {
	t.Helper()
	if len(keys) == 0 {
		keys = s.HostKeys
	}
	return sftpx.Config{Address: s.Addr, User: s.User, PrivateKeyFile: s.ClientKey,
		KnownHostsFile: s.KnownHosts(t, keys...), Timeout: 10 * time.Second}
}

// TestConformance runs the same checks against the embedded server and
// OpenSSH.
func TestConformance(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		e := startEmbedded(t, sftpx.ServerConfig{})
		conformance(t, e.cfg, e.root, "/")
	})
	t.Run("openssh", func(t *testing.T) {
		s := sshdtest.Start(t, sshdtest.Options{})
		conformance(t, sshdConfig(t, s), s.Root, s.Root)
	})
}

// conformance checks a server whose folder remote is the local folder
// local.
func conformance(t *testing.T, cfg sftpx.Config, local, remote string) {
	c := dial(t, cfg)
	ctx := t.Context()
	at := func(name string) string { return filepath.Join(remote, name) }

	// Uploads arrive whole, and nothing else remains.
	for _, size := range []int64{1, 1 << 20} {
		name := fmt.Sprintf("pain-%d.xml", size)
		if err := c.Put(ctx, at(name), data(size, 9)); err != nil {
			t.Fatal(err)
		}
		if got, want := fileSHA256(t, filepath.Join(local, name)), sha256Of(t, data(size, 9)); got != want {
			t.Errorf("%s: server copy sha256 %s; want %s", name, got, want)
		}
	}
	if got := names(t, local); !slices.Equal(got, []string{"pain-1.xml", "pain-1048576.xml"}) {
		t.Errorf("server folder holds %q", got)
	}

	// An existing target is kept.
	err := c.Put(ctx, at("pain-1.xml"), strings.NewReader("again"))
	if !errors.Is(err, sftpx.ErrTargetExists) || !sftpx.IsPermanent(err) {
		t.Errorf("second upload: got %v; want a permanent ErrTargetExists", err)
	}
	if got := fileSHA256(t, filepath.Join(local, "pain-1.xml")); got != sha256Of(t, data(1, 9)) {
		t.Error("the existing file was changed")
	}

	// A leftover temporary file is replaced.
	if err := os.WriteFile(filepath.Join(local, ".left.xml.part"), []byte("stale and long"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, at("left.xml"), strings.NewReader("new")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(local, "left.xml")); string(got) != "new" {
		t.Errorf("left.xml holds %q; want %q", got, "new")
	}
	noTempFiles(t, local)

	// Replies can be listed, fetched and removed.
	files, err := c.List(ctx, remote, "*.xml")
	if err != nil || len(files) != 3 {
		t.Fatalf("List: %d files, %v; want 3", len(files), err)
	}
	dst := filepath.Join(t.TempDir(), "reply.xml")
	if n, err := c.Get(ctx, at("pain-1048576.xml"), dst); err != nil || n != 1<<20 {
		t.Fatalf("Get: %d, %v", n, err)
	}
	if got, want := fileSHA256(t, dst), sha256Of(t, data(1<<20, 9)); got != want {
		t.Errorf("downloaded sha256 %s; want %s", got, want)
	}
	if err := c.Remove(ctx, at("left.xml")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stat(ctx, at("left.xml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat after Remove: %v; want fs.ErrNotExist", err)
	}
	if err := c.Probe(ctx, remote); err != nil {
		t.Errorf("Probe: %v", err)
	}
	if got := names(t, local); !slices.Equal(got, []string{"pain-1.xml", "pain-1048576.xml"}) {
		t.Errorf("server folder holds %q after the probe", got)
	}
}

// TestSSHDUpload uploads 1 byte, 1 MiB and 100 MiB to OpenSSH: the
// server's copy hashes like the source, and no temporary file remains.
func TestSSHDUpload(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	c := dial(t, sshdConfig(t, s))
	for _, tc := range []struct {
		name string
		size int64
	}{{"1 B", 1}, {"1 MiB", 1 << 20}, {"100 MiB", 100 << 20}} {
		t.Run(tc.name, func(t *testing.T) {
			name := "pain-" + strings.ReplaceAll(tc.name, " ", "") + ".xml"
			if err := c.Put(t.Context(), filepath.Join(s.Root, name), data(tc.size, 10)); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(filepath.Join(s.Root, name))
			if err != nil || fi.Size() != tc.size {
				t.Fatalf("server copy: %v, %v; want %d bytes", fi, err, tc.size)
			}
			if got, want := fileSHA256(t, filepath.Join(s.Root, name)), sha256Of(t, data(tc.size, 10)); got != want {
				t.Errorf("server copy sha256 %s; want %s", got, want)
			}
			noTempFiles(t, s.Root)
		})
	}
}

// TestSSHDHostKeys dials an sshd that holds ed25519, ECDSA and RSA host
// keys with one of them pinned, and with wrong, unknown and revoked keys.
func TestSSHDHostKeys(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{HostKeyTypes: []string{"ed25519", "ecdsa", "rsa"}})
	ed, ec, rsa := s.HostKeys[0], s.HostKeys[1], s.HostKeys[2]
	other := newHostSigner(t).PublicKey()

	// Without restricting the algorithms, a client is offered the ECDSA key
	// first: pinning only the ed25519 key would then fail. This shows that
	// the case below tests something.
	var offered ssh.PublicKey
	conn, err := ssh.Dial("tcp", s.Addr, &ssh.ClientConfig{User: s.User,
		HostKeyCallback: func(_ string, _ net.Addr, k ssh.PublicKey) error {
			offered = k
			return errors.New("only looking")
		}})
	if conn != nil {
		conn.Close()
	}
	if offered == nil || offered.Type() == ssh.KeyAlgoED25519 {
		t.Fatalf("a default client was offered %v (%v); want another key than ed25519", offered, err)
	}

	line := func(k ssh.PublicKey) string { return sshdtest.KnownHostsLine(s.Addr, k) }
	for _, tc := range []struct {
		name       string
		knownHosts []string
		pins       []ssh.PublicKey
		want       error
		presented  ssh.PublicKey // the key the server shows
	}{
		{name: "known_hosts ed25519 only", knownHosts: []string{line(ed)}, presented: ed},
		{name: "known_hosts ecdsa only", knownHosts: []string{line(ec)}, presented: ec},
		{name: "known_hosts rsa only", knownHosts: []string{line(rsa)}, presented: rsa},
		{name: "known_hosts all three", knownHosts: []string{line(rsa), line(ec), line(ed)}, presented: ed},
		{name: "pinned ed25519 only", pins: []ssh.PublicKey{ed}, presented: ed},
		{name: "pinned rsa only", pins: []ssh.PublicKey{rsa}, presented: rsa},
		{name: "wrong key", knownHosts: []string{line(other)}, want: sftpx.ErrHostKeyMismatch, presented: ed},
		{name: "wrong pinned key", pins: []ssh.PublicKey{other}, want: sftpx.ErrHostKeyMismatch, presented: ed},
		{name: "unknown host", knownHosts: []string{"sftp.example.com " + strings.TrimPrefix(line(ed), "["+strings.Replace(s.Addr, ":", "]:", 1)+" ")},
			want: sftpx.ErrUnknownHost},
		{name: "revoked", knownHosts: []string{"@revoked * " + strings.SplitN(line(ed), " ", 2)[1], line(ed)}, want: sftpx.ErrHostKeyRevoked, presented: ed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := sshdConfig(t, s)
			cfg.KnownHostsFile = ""
			if tc.knownHosts != nil {
				cfg.KnownHostsFile = writeFile(t, "known_hosts", strings.Join(tc.knownHosts, "\n")+"\n")
			}
			for _, k := range tc.pins {
				cfg.HostKeyFingerprints = append(cfg.HostKeyFingerprints, sftpx.Fingerprint(k))
			}
			c, err := sftpx.Dial(t.Context(), cfg)
			if tc.want != nil {
				if c != nil {
					c.Close()
				}
				if !errors.Is(err, tc.want) || !sftpx.IsPermanent(err) {
					t.Fatalf("got %v; want a permanent %v", err, tc.want)
				}
				if tc.presented != nil && !strings.Contains(err.Error(), "presented "+sftpx.Fingerprint(tc.presented)) {
					t.Errorf("error does not show the presented key %s: %v", sftpx.Fingerprint(tc.presented), err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := c.HostKey(); sftpx.Fingerprint(got) != sftpx.Fingerprint(tc.presented) {
				t.Errorf("server presented %s; want %s", sftpx.Fingerprint(got), sftpx.Fingerprint(tc.presented))
			}
			if _, err := c.List(t.Context(), s.Root, ""); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestSSHDClientKeys logs in to OpenSSH with keys made by ssh-keygen.
func TestSSHDClientKeys(t *testing.T) {
	dir := t.TempDir()
	const pass = "s3cret passphrase"
	type key struct {
		name, keyType, passphrase, format string
	}
	keys := []key{
		{"ed25519", "ed25519", "", ""},
		{"ecdsa", "ecdsa", "", ""},
		{"rsa", "rsa", "", ""},
		{"ed25519 encrypted", "ed25519", pass, ""},
		{"rsa encrypted PEM", "rsa", pass, "PEM"},
	}
	var authorized []ssh.PublicKey
	for _, k := range keys {
		authorized = append(authorized, sshdtest.Keygen(t, filepath.Join(dir, strings.ReplaceAll(k.name, " ", "_")), k.keyType, k.passphrase, k.format))
	}
	unauthorized := filepath.Join(dir, "unauthorized")
	sshdtest.Keygen(t, unauthorized, "ed25519", "", "")
	s := sshdtest.Start(t, sshdtest.Options{AuthorizedKeys: authorized})
	t.Setenv("REFUNDD_TEST_PASSPHRASE", pass)

	for _, k := range keys {
		t.Run(k.name, func(t *testing.T) {
			cfg := sshdConfig(t, s)
			cfg.PrivateKeyFile = filepath.Join(dir, strings.ReplaceAll(k.name, " ", "_"))
			if k.passphrase != "" {
				cfg.PassphraseEnv = "REFUNDD_TEST_PASSPHRASE"
			}
			c := dial(t, cfg)
			if err := c.Put(t.Context(), filepath.Join(s.Root, strings.ReplaceAll(k.name, " ", "_")), strings.NewReader("x")); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("unauthorised key", func(t *testing.T) {
		cfg := sshdConfig(t, s)
		cfg.PrivateKeyFile = unauthorized
		_, err := sftpx.Dial(t.Context(), cfg)
		if !errors.Is(err, sftpx.ErrAuth) || !sftpx.IsPermanent(err) {
			t.Fatalf("got %v; want a permanent ErrAuth", err)
		}
	})
	t.Run("group-readable key", func(t *testing.T) {
		cfg := sshdConfig(t, s)
		data, err := os.ReadFile(s.ClientKey)
		if err != nil {
			t.Fatal(err)
		}
		cfg.PrivateKeyFile = filepath.Join(t.TempDir(), "id_ed25519")
		if err := os.WriteFile(cfg.PrivateKeyFile, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(cfg.PrivateKeyFile, 0o640); err != nil {
			t.Fatal(err)
		}
		_, err = sftpx.Dial(t.Context(), cfg)
		if !errors.Is(err, sftpx.ErrKeyPermissions) || !sftpx.IsPermanent(err) {
			t.Fatalf("got %v; want a permanent ErrKeyPermissions", err)
		}
	})
}

// TestSSHDKilledMidUpload kills sshd and its sessions during an upload:
// the error is transient and comes within the timeout, no final file
// appears, and once sshd is back the next upload succeeds and no temporary
// file remains.
func TestSSHDKilledMidUpload(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	cfg := sshdConfig(t, s)
	cfg.Timeout = 3 * time.Second
	c := dial(t, cfg)
	final := filepath.Join(s.Root, "pain.xml")
	var killedAt time.Time
	r := &trickle{r: data(64<<20, 11), at: 4 << 20, call: func() {
		s.Kill()
		killedAt = time.Now()
	}}
	err := c.Put(t.Context(), final, r)
	elapsed := time.Since(killedAt)
	if err == nil || sftpx.IsPermanent(err) {
		t.Fatalf("got %v; want a transient error", err)
	}
	t.Logf("error after the kill (%s): %v", elapsed.Round(time.Millisecond), err)
	if elapsed > cfg.Timeout+5*time.Second {
		t.Errorf("the error came %s after the kill; want within the timeout %s", elapsed, cfg.Timeout)
	}
	if exists(final) {
		t.Fatal("the final file exists after a failed upload")
	}
	// While sshd is down, calls fail quickly and transiently.
	if err := c.Put(t.Context(), final, strings.NewReader("x")); err == nil || sftpx.IsPermanent(err) {
		t.Fatalf("Put with sshd down: %v; want a transient error", err)
	}
	s.Restart()
	if err := c.Put(t.Context(), final, data(8<<20, 12)); err != nil {
		t.Fatalf("Put after the restart: %v", err)
	}
	if got, want := fileSHA256(t, final), sha256Of(t, data(8<<20, 12)); got != want {
		t.Errorf("server copy sha256 %s; want %s", got, want)
	}
	if got := names(t, s.Root); !slices.Equal(got, []string{"pain.xml"}) {
		t.Errorf("server folder holds %q; want only pain.xml", got)
	}
}

// TestSSHDStalled puts a proxy between client and sshd that stops
// forwarding: during an upload, and while the connection is idle. Either
// way the client gives up with a transient timeout within the configured
// timeout, and works again once the path is back.
func TestSSHDStalled(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	p := sshdtest.NewProxy(t, s.Addr)
	cfg := sshdConfig(t, s)
	// known_hosts names the server's address; the proxy's differs.
	cfg.KnownHostsFile, cfg.HostKeyFingerprints = "", []string{sftpx.Fingerprint(s.HostKeys[0])}
	cfg.Address = p.Addr
	cfg.Timeout = 2 * time.Second
	c := dial(t, cfg)
	final := filepath.Join(s.Root, "pain.xml")

	t.Run("during an upload", func(t *testing.T) {
		defer p.Resume()
		var stalledAt time.Time
		r := &trickle{r: data(64<<20, 13), at: 4 << 20, call: func() {
			p.Stall()
			stalledAt = time.Now()
		}}
		err := c.Put(t.Context(), final, r)
		elapsed := time.Since(stalledAt)
		if !errors.Is(err, sftpx.ErrTimeout) || sftpx.IsPermanent(err) {
			t.Fatalf("got %v; want a transient ErrTimeout", err)
		}
		t.Logf("error after the stall (%s): %v", elapsed.Round(time.Millisecond), err)
		if elapsed > cfg.Timeout+5*time.Second {
			t.Errorf("the error came %s after the stall; want within the timeout %s", elapsed, cfg.Timeout)
		}
		if exists(final) {
			t.Fatal("the final file exists after a failed upload")
		}
		p.Resume()
		if err := c.Put(t.Context(), final, data(1<<20, 14)); err != nil {
			t.Fatalf("Put after the stall: %v", err)
		}
		if got := names(t, s.Root); !slices.Equal(got, []string{"pain.xml"}) {
			t.Errorf("server folder holds %q; want only pain.xml", got)
		}
	})

	t.Run("while idle", func(t *testing.T) {
		if _, err := c.List(t.Context(), s.Root, ""); err != nil {
			t.Fatal(err)
		}
		p.Stall()
		defer p.Resume()
		time.Sleep(cfg.Timeout / 2)
		start := time.Now()
		_, err := c.List(t.Context(), s.Root, "")
		elapsed := time.Since(start)
		if !errors.Is(err, sftpx.ErrTimeout) || sftpx.IsPermanent(err) {
			t.Fatalf("got %v; want a transient ErrTimeout", err)
		}
		if elapsed > cfg.Timeout+5*time.Second {
			t.Errorf("List took %s; want within the timeout %s", elapsed, cfg.Timeout)
		}
		p.Resume()
		if _, err := c.List(t.Context(), s.Root, ""); err != nil {
			t.Fatalf("List after the stall: %v", err)
		}
	})

	t.Run("cancelled while stalled", func(t *testing.T) {
		p.Stall()
		defer p.Resume()
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := c.Put(ctx, filepath.Join(s.Root, "other.xml"), strings.NewReader("x"))
		if err == nil || sftpx.IsPermanent(err) || time.Since(start) > cfg.Timeout {
			t.Errorf("got %v after %s; want a transient error when the context ends", err, time.Since(start))
		}
	})
}

// TestSSHDResetMidUpload cuts the connection with a TCP reset while Put
// has many writes in flight from a file: the error is transient, the
// final name never appears, not even for a moment, and the next upload
// replaces the partial temporary file and succeeds.
func TestSSHDResetMidUpload(t *testing.T) {
	const size = 32 << 20
	s := sshdtest.Start(t, sshdtest.Options{})
	p := sshdtest.NewProxy(t, s.Addr)
	cfg := sshdConfig(t, s)
	// known_hosts names the server's address; the proxy's differs.
	cfg.KnownHostsFile, cfg.HostKeyFingerprints = "", []string{sftpx.Fingerprint(s.HostKeys[0])}
	cfg.Address = p.Addr
	cfg.Timeout = 3 * time.Second
	c := dial(t, cfg)
	src := filepath.Join(t.TempDir(), "source")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, data(size, 41)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	final := filepath.Join(s.Root, "pain.xml")

	// Look for the final name all through the upload.
	seen := make(chan bool, 1)
	stop := make(chan struct{})
	go func() {
		for {
			if exists(final) {
				seen <- true
				return
			}
			select {
			case <-stop:
				seen <- false
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	err = c.Put(t.Context(), final, &trickle{r: in, at: 8 << 20, call: p.Reset})
	close(stop)
	if <-seen {
		t.Error("the final name appeared during an upload that failed")
	}
	if err == nil || sftpx.IsPermanent(err) {
		t.Fatalf("got %v; want a transient error", err)
	}
	t.Logf("error: %v", err)
	if exists(final) {
		t.Fatal("the final file exists after a failed upload")
	}

	in2, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in2.Close()
	if err := c.Put(t.Context(), final, in2); err != nil {
		t.Fatalf("Put after the reset: %v", err)
	}
	if got, want := fileSHA256(t, final), sha256Of(t, data(size, 41)); got != want {
		t.Errorf("server copy sha256 %s; want %s", got, want)
	}
	if got := names(t, s.Root); !slices.Equal(got, []string{"pain.xml"}) {
		t.Errorf("server folder holds %q; want only pain.xml", got)
	}
}
