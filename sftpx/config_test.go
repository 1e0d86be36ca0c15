package sftpx_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"refundd/sftpx"
)

func TestConfigValidate(t *testing.T) {
	const fp = "ssh-ed25519 SHA256:yh3i2QC0c6W0p8yQ4Q3Jq2wNeqV2CUpaT9I0U3XmV0c"
	good := sftpx.Config{Address: "sftp.example.com:22", User: "acme", PrivateKeyFile: "/k", KnownHostsFile: "/kh"}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, tc := range []struct {
		name    string
		change  func(c *sftpx.Config)
		mention string // "": valid
	}{
		{"pinned instead of known_hosts", func(c *sftpx.Config) { c.KnownHostsFile, c.HostKeyFingerprints = "", []string{fp} }, ""},
		{"no host key policy", func(c *sftpx.Config) { c.KnownHostsFile = "" }, "host key is always checked"},
		{"both host key policies", func(c *sftpx.Config) { c.HostKeyFingerprints = []string{fp} }, "not both"},
		{"bad fingerprint", func(c *sftpx.Config) { c.KnownHostsFile, c.HostKeyFingerprints = "", []string{"SHA256:abc"} }, "SHA256:abc"},
		{"no port", func(c *sftpx.Config) { c.Address = "sftp.example.com" }, "host:port"},
		{"named port", func(c *sftpx.Config) { c.Address = "sftp.example.com:ssh" }, "port must be a number"},
		{"IPv6", func(c *sftpx.Config) { c.Address = "[::1]:2222" }, ""},
		{"no user", func(c *sftpx.Config) { c.User = "" }, "user: required"},
		{"no key", func(c *sftpx.Config) { c.PrivateKeyFile = "" }, "private key file: required"},
		{"two passphrase sources", func(c *sftpx.Config) { c.PassphraseEnv, c.PassphraseFile = "P", "/p" }, "at most one"},
		{"credential path", func(c *sftpx.Config) { c.PassphraseCredential = "../p" }, "not a path"},
		{"negative transfer timeout", func(c *sftpx.Config) { c.TransferTimeout = -time.Second }, "transfer timeout"},
		{"short transfer timeout", func(c *sftpx.Config) { c.TransferTimeout = time.Millisecond }, ""},
		{"keepalive not below the timeout", func(c *sftpx.Config) { c.Timeout, c.KeepAlive = 5*time.Second, 5*time.Second }, "keepalive"},
		{"temp pattern without name", func(c *sftpx.Config) { c.TempPattern = "upload.tmp" }, "{name}"},
		{"temp pattern in another folder", func(c *sftpx.Config) { c.TempPattern = "tmp/{name}" }, "must not contain /"},
		{"temp pattern is the name", func(c *sftpx.Config) { c.TempPattern = "{name}" }, "must differ"},
		{"temp pattern twice", func(c *sftpx.Config) { c.TempPattern = "{name}{name}" }, "once"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.change(&c)
			err := c.Validate()
			if tc.mention == "" {
				if err != nil {
					t.Errorf("got %v; want valid", err)
				}
				return
			}
			if !errors.Is(err, sftpx.ErrConfig) || !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("got %v; want ErrConfig mentioning %q", err, tc.mention)
			}
		})
	}
}
