package sftpx

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
)

// maxSecretFile bounds the size of a key or passphrase file.
const maxSecretFile = 1 << 20

// minRSABits is the smallest RSA key accepted as the client key.
const minRSABits = 2048

// PublicKey loads the private key as Dial does (permissions, passphrase,
// type and size) and returns its public half, the one the server must
// authorise.
func (c Config) PublicKey() (ssh.PublicKey, error) {
	s, err := loadSigner(c)
	if err != nil {
		return nil, err
	}
	return s.PublicKey(), nil
}

// loadSigner reads and parses the private key of c.
func loadSigner(c Config) (ssh.Signer, error) {
	pem, err := readSecret(c.PrivateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", c.PrivateKeyFile, err)
	}
	defer clear(pem)
	signer, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		pass, perr := c.passphrase()
		if perr != nil {
			return nil, fmt.Errorf("private key %s is encrypted: %w", c.PrivateKeyFile, perr)
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(pem, pass)
		clear(pass)
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, fmt.Errorf("private key %s: %w: wrong passphrase", c.PrivateKeyFile, ErrKey)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w: %w", c.PrivateKeyFile, ErrKey, err)
	}
	switch t := signer.PublicKey().Type(); t {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521:
	case ssh.KeyAlgoRSA:
		cpk, ok := signer.PublicKey().(ssh.CryptoPublicKey)
		if !ok {
			return nil, fmt.Errorf("private key %s: %w: cannot read the RSA key size", c.PrivateKeyFile, ErrKey)
		}
		if pk, ok := cpk.CryptoPublicKey().(*rsa.PublicKey); !ok || pk.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("private key %s: %w: RSA keys need at least %d bits", c.PrivateKeyFile, ErrKey, minRSABits)
		}
	default:
		return nil, fmt.Errorf("private key %s: %w: type %s is not supported (use ed25519, ECDSA or RSA)", c.PrivateKeyFile, ErrKey, t)
	}
	return signer, nil
}

// readSecret reads a file that must be accessible by its owner only.
func readSecret(name string) ([]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: no file configured", ErrKey)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: not a regular file", ErrKey)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: permissions %04o are too open; it must be accessible by its owner only (chmod 600)", ErrKeyPermissions, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	if len(data) > maxSecretFile {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrKey, maxSecretFile)
	}
	return data, nil
}

// passphrase returns the passphrase of the private key from the configured
// source. The caller clears it after use.
func (c Config) passphrase() ([]byte, error) {
	switch {
	case c.PassphraseEnv != "":
		v, ok := os.LookupEnv(c.PassphraseEnv)
		if !ok || v == "" {
			return nil, fmt.Errorf("%w: passphrase variable %s is not set", ErrKey, c.PassphraseEnv)
		}
		return []byte(v), nil
	case c.PassphraseFile != "":
		data, err := readSecret(c.PassphraseFile)
		if err != nil {
			return nil, fmt.Errorf("passphrase file %s: %w", c.PassphraseFile, err)
		}
		return trimNewline(data), nil
	case c.PassphraseCredential != "":
		dir := os.Getenv("CREDENTIALS_DIRECTORY")
		if dir == "" {
			return nil, fmt.Errorf("%w: passphrase credential %s: $CREDENTIALS_DIRECTORY is not set (LoadCredential= in the service unit)", ErrKey, c.PassphraseCredential)
		}
		// systemd owns the credential files and their permissions.
		name := filepath.Join(dir, c.PassphraseCredential)
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("%w: passphrase credential: %w", ErrKey, err)
		}
		return trimNewline(data), nil
	}
	return nil, fmt.Errorf("%w: no passphrase configured (an environment variable, a file or a systemd credential)", ErrKey)
}

func trimNewline(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}
