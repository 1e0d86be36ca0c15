package sftpx

import (
	"errors"
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
	"time"
)

// Defaults of the Config fields left zero.
const (
	DefaultTimeout         = 30 * time.Second
	DefaultTransferTimeout = 10 * time.Minute
	DefaultTempPattern     = ".{name}.part"
	DefaultMaxDownload     = 256 << 20
)

// Config configures a Client. Address, User, PrivateKeyFile and exactly one
// of KnownHostsFile and HostKeyFingerprints are required: there is no
// setting that skips the host-key check.
type Config struct {
	// Address is the server as host:port with a numeric port, e.g.
	// "sftp.example.com:22". known_hosts is searched for this host name,
	// not for the address it resolves to.
	Address string
	// User is the login name.
	User string
	// PrivateKeyFile is the client's private key, in OpenSSH or PEM format:
	// ed25519, ECDSA or RSA of at least 2048 bits. Like ssh, Dial refuses a
	// key file that group or others may access.
	PrivateKeyFile string
	// PassphraseEnv names the environment variable holding the passphrase of
	// an encrypted private key.
	PassphraseEnv string
	// PassphraseFile is a file holding the passphrase (one trailing newline
	// is ignored); like the key, it must not be accessible by group or
	// others.
	PassphraseFile string
	// PassphraseCredential names a systemd credential holding the
	// passphrase: the file of that name in $CREDENTIALS_DIRECTORY (see
	// LoadCredential= in systemd.exec(5)).
	PassphraseCredential string
	// KnownHostsFile is an OpenSSH known_hosts file: hashed entries,
	// "[host]:port" entries, several keys per host and @revoked markers are
	// understood. Host certificates (@cert-authority) are not used.
	KnownHostsFile string
	// HostKeyFingerprints pins host keys as "TYPE SHA256:BASE64", e.g.
	// "ssh-ed25519 SHA256:yh3i2QC0c6W0p8yQ4Q3Jq2wNeqV2CUpaT9I0U3XmV0c", as
	// printed by ssh-keygen -l (the type tells which host-key algorithms to
	// ask the server for). Several may be given, e.g. the old and the new key
	// during a rotation.
	HostKeyFingerprints []string
	// Timeout bounds the TCP connect and SSH handshake together, and is the
	// longest the client waits for the server: a request without any reply,
	// a connection without any data, or a keepalive without an answer for
	// this long closes the connection. Zero means DefaultTimeout.
	Timeout time.Duration
	// TransferTimeout bounds one Put or Get as a whole, from the call to
	// its return, a new connection included. A server that keeps
	// answering, but so slowly that the transfer never ends (a peer that
	// trickles a byte now and then is never idle for Timeout), is cut off
	// when it runs out: the connection is closed and the error wraps
	// ErrTimeout, which is transient. Payment files are kilobytes: the
	// budget only has to cover a slow line. Zero means
	// DefaultTransferTimeout.
	TransferTimeout time.Duration
	// KeepAlive is the interval of keepalive@openssh.com requests. Zero
	// means a third of Timeout; it must be shorter than Timeout.
	KeepAlive time.Duration
	// TempPattern is the name an upload has in the target folder until its
	// rename; "{name}" stands for the final name. Servers that pick up every
	// file they see may need a pattern they ignore. Empty means
	// DefaultTempPattern.
	TempPattern string
	// MaxDownload is the largest file Get accepts. Zero means
	// DefaultMaxDownload.
	MaxDownload int64
}

// withDefaults returns the configuration with zero fields set to their
// defaults.
func (c Config) withDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.TransferTimeout == 0 {
		c.TransferTimeout = DefaultTransferTimeout
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = c.Timeout / 3
	}
	if c.TempPattern == "" {
		c.TempPattern = DefaultTempPattern
	}
	if c.MaxDownload == 0 {
		c.MaxDownload = DefaultMaxDownload
	}
	return c
}

// Validate checks the configuration as Dial will use it (zero fields take
// their defaults) without touching any file or the network.
func (c Config) Validate() error {
	c = c.withDefaults()
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if err := CheckAddress(c.Address); err != nil {
		bad("address: %v", err)
	}
	if c.User == "" {
		bad("user: required")
	}
	if c.PrivateKeyFile == "" {
		bad("private key file: required")
	}
	n := 0
	for _, s := range []string{c.PassphraseEnv, c.PassphraseFile, c.PassphraseCredential} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		bad("passphrase: give at most one of the environment variable, the file and the credential")
	}
	if strings.Contains(c.PassphraseCredential, "/") {
		bad("passphrase credential %q: a credential name, not a path", c.PassphraseCredential)
	}
	switch {
	case c.KnownHostsFile == "" && len(c.HostKeyFingerprints) == 0:
		bad("host key: a known_hosts file or pinned fingerprints are required; the host key is always checked")
	case c.KnownHostsFile != "" && len(c.HostKeyFingerprints) > 0:
		bad("host key: give a known_hosts file or pinned fingerprints, not both")
	}
	for _, fp := range c.HostKeyFingerprints {
		if _, _, err := ParseFingerprint(fp); err != nil {
			bad("%v", err)
		}
	}
	if c.Timeout < 0 {
		bad("timeout: must be positive")
	}
	if c.TransferTimeout < 0 {
		bad("transfer timeout: must be positive")
	}
	if c.KeepAlive <= 0 || c.KeepAlive >= c.Timeout {
		bad("keepalive: %s must be positive and shorter than the timeout %s", c.KeepAlive, c.Timeout)
	}
	if err := CheckTempPattern(c.TempPattern); err != nil {
		bad("%v", err)
	}
	if c.MaxDownload < 0 {
		bad("max download: must be positive")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrConfig, strings.Join(problems, "; "))
	}
	return nil
}

// CheckAddress checks that addr is host:port with a numeric port.
func CheckAddress(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: want host:port: %w", addr, err)
	}
	if host == "" {
		return fmt.Errorf("%q: the host is missing", addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("%q: the port must be a number from 1 to 65535", addr)
	}
	return nil
}

// CheckTempPattern checks a temporary-name pattern: it must contain
// "{name}" once, stay in the target folder (no "/") and differ from the
// final name.
func CheckTempPattern(pattern string) error {
	switch {
	case strings.Count(pattern, "{name}") != 1:
		return fmt.Errorf("temp pattern %q: must contain {name} once", pattern)
	case strings.Contains(pattern, "/"):
		return fmt.Errorf("temp pattern %q: must not contain /: the temporary file stays in the target folder", pattern)
	case pattern == "{name}":
		return fmt.Errorf("temp pattern %q: must differ from the final name", pattern)
	}
	return nil
}

// TempName returns the temporary name (TempPattern) of an upload to
// name, in the same folder. A caller that keeps several attempts apart
// gives each its own name, e.g. TempName(name + ".a2").
func (c Config) TempName(name string) (string, error) {
	if c.TempPattern == "" {
		c.TempPattern = DefaultTempPattern
	}
	return c.tempName(name)
}

// tempName returns the temporary name of an upload to name, in the same
// folder.
func (c Config) tempName(name string) (string, error) {
	dir, base := path.Split(name)
	if base == "" || base == "." || base == ".." {
		return "", fmt.Errorf("%w: %q is not a file name", ErrConfig, name)
	}
	tmp := strings.Replace(c.TempPattern, "{name}", base, 1)
	if tmp == base {
		return "", errors.New("temporary name equals the final name")
	}
	return dir + tmp, nil
}
