package sftpx_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"refundd/sftpx"
)

// TestPrivateKeys logs in with every kind of key and passphrase source, and
// refuses the keys and sources that are unusable or unsafe.
func TestPrivateKeys(t *testing.T) {
	gen := func(f func() (crypto.Signer, error)) crypto.Signer {
		k, err := f()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	edKey := gen(func() (crypto.Signer, error) { _, k, err := ed25519.GenerateKey(rand.Reader); return k, err })
	ecKey := gen(func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P384(), rand.Reader) })
	rsaKey := gen(func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) })
	weakKey := gen(func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 1024) })
	var authorized []ssh.PublicKey
	for _, k := range []crypto.Signer{edKey, ecKey, rsaKey, weakKey} {
		pub, err := ssh.NewPublicKey(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		authorized = append(authorized, pub)
	}
	e := startEmbedded(t, sftpx.ServerConfig{AuthorizedKeys: authorized})
	const pass = "correct horse battery staple"

	// write writes k, encrypted with passphrase if one is given: in
	// OpenSSH's format (its bcrypt KDF takes seconds under the race
	// detector, so only once) or in the legacy PEM format that ssh-keygen -m
	// PEM writes.
	write := func(t *testing.T, k crypto.Signer, passphrase string, mode os.FileMode, openssh bool) string {
		var block *pem.Block
		var err error
		switch {
		case passphrase == "":
			block, err = ssh.MarshalPrivateKey(k, "test")
		case openssh:
			block, err = ssh.MarshalPrivateKeyWithPassphrase(k, "test", []byte(passphrase))
		default:
			block, err = legacyPEM(k, passphrase)
		}
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "id")
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(file, mode); err != nil {
			t.Fatal(err)
		}
		return file
	}
	for _, tc := range []struct {
		name       string
		key        crypto.Signer
		passphrase string      // the key is encrypted with it
		openssh    bool        // in OpenSSH's format, else legacy PEM
		mode       os.FileMode // of the key file; 0: 0600
		setup      func(t *testing.T, cfg *sftpx.Config)
		want       error
		mention    string
	}{
		{name: "ed25519", key: edKey},
		{name: "ecdsa", key: ecKey},
		{name: "rsa", key: rsaKey},
		{name: "owner read-only", key: edKey, mode: 0o400},
		{name: "rsa 1024 bits", key: weakKey, want: sftpx.ErrKey, mention: "at least 2048 bits"},
		{name: "group-readable", key: edKey, mode: 0o640, want: sftpx.ErrKeyPermissions, mention: "0640"},
		{name: "others-readable", key: edKey, mode: 0o604, want: sftpx.ErrKeyPermissions},
		{name: "group-writable", key: edKey, mode: 0o620, want: sftpx.ErrKeyPermissions},
		{name: "passphrase from the environment", key: edKey, passphrase: pass, openssh: true, setup: func(t *testing.T, cfg *sftpx.Config) {
			t.Setenv("REFUNDD_TEST_PASSPHRASE", pass)
			cfg.PassphraseEnv = "REFUNDD_TEST_PASSPHRASE"
		}},
		{name: "passphrase variable unset", key: ecKey, passphrase: pass, setup: func(t *testing.T, cfg *sftpx.Config) {
			cfg.PassphraseEnv = "REFUNDD_TEST_UNSET_VARIABLE"
		}, want: sftpx.ErrKey, mention: "REFUNDD_TEST_UNSET_VARIABLE is not set"},
		{name: "passphrase from a file", key: ecKey, passphrase: pass, setup: func(t *testing.T, cfg *sftpx.Config) {
			cfg.PassphraseFile = writeFile(t, "passphrase", pass+"\n")
		}},
		{name: "passphrase file readable by others", key: ecKey, passphrase: pass, setup: func(t *testing.T, cfg *sftpx.Config) {
			cfg.PassphraseFile = writeFile(t, "passphrase", pass+"\n")
			if err := os.Chmod(cfg.PassphraseFile, 0o644); err != nil {
				t.Fatal(err)
			}
		}, want: sftpx.ErrKeyPermissions},
		{name: "passphrase from a systemd credential", key: rsaKey, passphrase: pass, setup: func(t *testing.T, cfg *sftpx.Config) {
			dir := filepath.Dir(writeFile(t, "sftp-passphrase", pass))
			t.Setenv("CREDENTIALS_DIRECTORY", dir)
			cfg.PassphraseCredential = "sftp-passphrase"
		}},
		{name: "credential without CREDENTIALS_DIRECTORY", key: ecKey, passphrase: pass, setup: func(t *testing.T, cfg *sftpx.Config) {
			t.Setenv("CREDENTIALS_DIRECTORY", "")
			cfg.PassphraseCredential = "sftp-passphrase"
		}, want: sftpx.ErrKey, mention: "CREDENTIALS_DIRECTORY"},
		{name: "wrong passphrase", key: rsaKey, passphrase: pass, setup: func(t *testing.T, cfg *sftpx.Config) {
			t.Setenv("REFUNDD_TEST_PASSPHRASE", "wrong")
			cfg.PassphraseEnv = "REFUNDD_TEST_PASSPHRASE"
		}, want: sftpx.ErrKey}, // "wrong passphrase", unless the wrong key happens to give valid padding
		{name: "encrypted without a passphrase source", key: ecKey, passphrase: pass, want: sftpx.ErrKey, mention: "encrypted"},
		{name: "missing file", setup: func(t *testing.T, cfg *sftpx.Config) {
			cfg.PrivateKeyFile = filepath.Join(t.TempDir(), "missing")
		}, want: sftpx.ErrKey},
		{name: "not a key", setup: func(t *testing.T, cfg *sftpx.Config) {
			cfg.PrivateKeyFile = writeFile(t, "id", "hello\n")
		}, want: sftpx.ErrKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := e.cfg
			if tc.key != nil {
				mode := tc.mode
				if mode == 0 {
					mode = 0o600
				}
				cfg.PrivateKeyFile = write(t, tc.key, tc.passphrase, mode, tc.openssh)
			}
			if tc.setup != nil {
				tc.setup(t, &cfg)
			}
			c, err := sftpx.Dial(t.Context(), cfg)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if err := c.Put(t.Context(), "/"+strings.ReplaceAll(tc.name, " ", "-"), strings.NewReader("x")); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !sftpx.IsPermanent(err) {
				t.Fatalf("got %v; want a permanent %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error does not mention %q: %v", tc.mention, err)
			}
		})
	}
}

// legacyPEM encrypts an ECDSA or RSA key the way ssh-keygen -m PEM does.
func legacyPEM(k crypto.Signer, passphrase string) (*pem.Block, error) {
	var typ string
	var der []byte
	var err error
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		typ = "EC PRIVATE KEY"
		der, err = x509.MarshalECPrivateKey(k)
	case *rsa.PrivateKey:
		typ = "RSA PRIVATE KEY"
		der = x509.MarshalPKCS1PrivateKey(k)
	default:
		return nil, fmt.Errorf("legacy PEM: %T", k)
	}
	if err != nil {
		return nil, err
	}
	//lint:ignore SA1019 keys in this legacy format exist and must be readable
	return x509.EncryptPEMBlock(rand.Reader, typ, der, []byte(passphrase), x509.PEMCipherAES128)
}

// TestAuthFailure logs in with a key the server does not know.
func TestAuthFailure(t *testing.T) {
	e := startEmbedded(t, sftpx.ServerConfig{})
	cfg := e.cfg
	var pub ssh.PublicKey
	cfg.PrivateKeyFile, pub = newKey(t)
	_, err := sftpx.Dial(t.Context(), cfg)
	if !errors.Is(err, sftpx.ErrAuth) || !sftpx.IsPermanent(err) {
		t.Fatalf("got %v; want a permanent ErrAuth", err)
	}
	if !strings.Contains(err.Error(), sftpx.Fingerprint(pub)) {
		t.Errorf("error does not name the key %s: %v", sftpx.Fingerprint(pub), err)
	}
	// The wrong user with the right key fails the same way.
	e2 := startEmbedded(t, sftpx.ServerConfig{User: "acme"})
	if _, err := sftpx.Dial(t.Context(), e2.cfg); !errors.Is(err, sftpx.ErrAuth) {
		t.Errorf("wrong user: got %v; want ErrAuth", err)
	}
	e2.cfg.User = "acme"
	dial(t, e2.cfg)
}

func TestPublicKey(t *testing.T) {
	file, pub := newKey(t)
	got, err := sftpx.Config{PrivateKeyFile: file}.PublicKey()
	if err != nil || sftpx.Fingerprint(got) != sftpx.Fingerprint(pub) {
		t.Errorf("PublicKey() = %v, %v; want %s", got, err, sftpx.Fingerprint(pub))
	}
}
