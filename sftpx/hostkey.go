package sftpx

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyError is a refused host key. It wraps ErrHostKeyMismatch,
// ErrUnknownHost or ErrHostKeyRevoked.
type HostKeyError struct {
	// Address is the server, as configured.
	Address string
	// Presented is the key the server presented, as "TYPE SHA256:...".
	Presented string
	// Expected lists the keys that would have been accepted, each with
	// where it was configured.
	Expected []string
	// Err is ErrHostKeyMismatch, ErrUnknownHost or ErrHostKeyRevoked.
	Err error
}

// Error says what the server presented and what was expected.
func (e *HostKeyError) Error() string {
	switch e.Err {
	case ErrUnknownHost:
		return fmt.Sprintf("%v: no host key is known for %s; the server presented %s (add it only after checking it with the server's operator)",
			e.Err, knownhosts.Normalize(e.Address), e.Presented)
	case ErrHostKeyRevoked:
		return fmt.Sprintf("%v: the server presented %s, which is revoked (%s)",
			e.Err, e.Presented, strings.Join(e.Expected, ", "))
	}
	return fmt.Sprintf("%v: the server presented %s; expected %s",
		e.Err, e.Presented, strings.Join(e.Expected, " or "))
}

// Unwrap returns the sentinel error.
func (e *HostKeyError) Unwrap() error { return e.Err }

// Fingerprint formats a public key as its type and SHA-256 fingerprint,
// "ssh-ed25519 SHA256:...", the form HostKeyFingerprints takes.
func Fingerprint(k ssh.PublicKey) string {
	return k.Type() + " " + ssh.FingerprintSHA256(k)
}

// ParseFingerprint parses a pinned host key "TYPE SHA256:BASE64" and returns
// its key type and "SHA256:BASE64".
func ParseFingerprint(s string) (keyType, fingerprint string, err error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return "", "", fmt.Errorf("host key fingerprint %q: want \"TYPE SHA256:...\", e.g. \"ssh-ed25519 SHA256:...\" (ssh-keygen -l -f KEY shows the fingerprint; the type is the first word of the .pub file)", s)
	}
	keyType, fingerprint = f[0], f[1]
	if len(hostKeyAlgorithms(keyType)) == 0 {
		return "", "", fmt.Errorf("host key fingerprint %q: key type %q is not supported", s, keyType)
	}
	b64, ok := strings.CutPrefix(fingerprint, "SHA256:")
	if !ok {
		return "", "", fmt.Errorf("host key fingerprint %q: only SHA256 fingerprints are accepted", s)
	}
	if sum, err := base64.RawStdEncoding.DecodeString(b64); err != nil || len(sum) != 32 {
		return "", "", fmt.Errorf("host key fingerprint %q: not a SHA-256 fingerprint (43 characters of unpadded base64)", s)
	}
	return keyType, fingerprint, nil
}

// hostKeyAlgorithms returns the host-key algorithms with which a server
// presents a key of the given type, in order of preference; none for a type
// this package does not accept.
func hostKeyAlgorithms(keyType string) []string {
	switch keyType {
	case ssh.KeyAlgoRSA:
		// SHA-1 signatures (ssh-rsa) are not accepted.
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	case ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
		ssh.KeyAlgoSKED25519, ssh.KeyAlgoSKECDSA256:
		return []string{keyType}
	}
	return nil
}

// algorithmsFor returns the host-key algorithms of the given key types,
// without duplicates, ed25519 first.
func algorithmsFor(keyTypes []string) []string {
	order := []string{ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
		ssh.KeyAlgoRSA, ssh.KeyAlgoSKED25519, ssh.KeyAlgoSKECDSA256}
	var algos []string
	for _, t := range order {
		if slices.Contains(keyTypes, t) {
			algos = append(algos, hostKeyAlgorithms(t)...)
		}
	}
	return algos
}

// hostKeys is the host-key policy of a Client.
type hostKeys struct {
	address    string
	knownHosts string
	pins       []pin
}

type pin struct{ keyType, fingerprint string }

func (p pin) String() string { return p.keyType + " " + p.fingerprint }

func newHostKeys(c Config) (*hostKeys, error) {
	h := &hostKeys{address: c.Address, knownHosts: c.KnownHostsFile}
	for _, s := range c.HostKeyFingerprints {
		t, fp, err := ParseFingerprint(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		h.pins = append(h.pins, pin{t, fp})
	}
	if h.knownHosts == "" && len(h.pins) == 0 {
		return nil, fmt.Errorf("%w: no known_hosts file and no pinned host key", ErrConfig)
	}
	return h, nil
}

// HostKeys lists the host keys the configuration accepts for its address,
// each as "TYPE SHA256:..." with where it comes from. It fails when there
// is none, or when the known_hosts file cannot be read.
func (c Config) HostKeys() ([]string, error) {
	h, err := newHostKeys(c)
	if err != nil {
		return nil, err
	}
	if len(h.pins) > 0 {
		var keys []string
		for _, p := range h.pins {
			keys = append(keys, p.String()+" (pinned)")
		}
		return keys, nil
	}
	_, known, err := h.loadKnownHosts()
	if err != nil {
		return nil, err
	}
	if len(known) == 0 {
		return nil, fmt.Errorf("known_hosts %s: %w: no entry for %s", h.knownHosts, ErrUnknownHost, knownhosts.Normalize(h.address))
	}
	var keys []string
	for _, k := range known {
		keys = append(keys, describe(k))
	}
	return keys, nil
}

func describe(k knownhosts.KnownKey) string {
	return fmt.Sprintf("%s (%s:%d)", Fingerprint(k.Key), k.Filename, k.Line)
}

// loadKnownHosts reads the known_hosts file and returns its callback and
// the keys it holds for the address (not counting revoked ones).
func (h *hostKeys) loadKnownHosts() (ssh.HostKeyCallback, []knownhosts.KnownKey, error) {
	cb, err := knownhosts.New(h.knownHosts)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: known_hosts %s: %w", ErrConfig, h.knownHosts, err)
	}
	// knownhosts does not list the keys of a host; asking it about a key that
	// no server has makes it answer with every key it knows for the host.
	_, probe, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	signer, err := ssh.NewSignerFromKey(probe)
	if err != nil {
		return nil, nil, err
	}
	err = cb(h.address, &net.TCPAddr{IP: net.IPv4zero}, signer.PublicKey())
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) {
		return nil, nil, fmt.Errorf("known_hosts %s: cannot list the keys of %s: %v", h.knownHosts, h.address, err)
	}
	return cb, ke.Want, nil
}

// prepare returns the host-key callback and the host-key algorithms for one
// handshake; the callback stores the presented key in *presented.
func (h *hostKeys) prepare(presented *ssh.PublicKey) (ssh.HostKeyCallback, []string, error) {
	if len(h.pins) > 0 {
		var types []string
		for _, p := range h.pins {
			types = append(types, p.keyType)
		}
		return h.checkPins(presented), algorithmsFor(types), nil
	}
	cb, known, err := h.loadKnownHosts()
	if err != nil {
		return nil, nil, err
	}
	var types []string
	for _, k := range known {
		types = append(types, k.Key.Type())
	}
	algos := algorithmsFor(types)
	if len(known) > 0 && len(algos) == 0 {
		return nil, nil, fmt.Errorf("%w: known_hosts %s: no key of a supported type for %s", ErrConfig, h.knownHosts, h.address)
	}
	// With no key known for the host, the library's default algorithms let
	// the server present a key, so that the refusal can name it.
	return h.checkKnownHosts(cb, presented), algos, nil
}

func (h *hostKeys) checkPins(presented *ssh.PublicKey) ssh.HostKeyCallback {
	return func(_ string, _ net.Addr, key ssh.PublicKey) error {
		*presented = key
		fp := ssh.FingerprintSHA256(key)
		for _, p := range h.pins {
			if p.keyType == key.Type() && p.fingerprint == fp {
				return nil
			}
		}
		e := &HostKeyError{Address: h.address, Presented: Fingerprint(key), Err: ErrHostKeyMismatch}
		for _, p := range h.pins {
			e.Expected = append(e.Expected, p.String()+" (pinned)")
		}
		return e
	}
}

func (h *hostKeys) checkKnownHosts(cb ssh.HostKeyCallback, presented *ssh.PublicKey) ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		*presented = key
		err := cb(hostname, remote, key)
		if err == nil {
			return nil
		}
		e := &HostKeyError{Address: h.address, Presented: Fingerprint(key)}
		var ke *knownhosts.KeyError
		var re *knownhosts.RevokedError
		switch {
		case errors.As(err, &re):
			e.Err = ErrHostKeyRevoked
			e.Expected = []string{fmt.Sprintf("@revoked in %s:%d", re.Revoked.Filename, re.Revoked.Line)}
		case errors.As(err, &ke) && len(ke.Want) == 0:
			e.Err = ErrUnknownHost
		case errors.As(err, &ke):
			e.Err = ErrHostKeyMismatch
			for _, k := range ke.Want {
				e.Expected = append(e.Expected, describe(k))
			}
		default:
			return fmt.Errorf("check host key: %w", err)
		}
		return e
	}
}
