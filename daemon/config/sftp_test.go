package config

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestConfigSFTP(t *testing.T) {
	base, err := os.ReadFile("../testdata/refundd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const fp = "ssh-ed25519 SHA256:yh3i2QC0c6W0p8yQ4Q3Jq2wNeqV2CUpaT9I0U3XmV0c"
	for _, tc := range []struct {
		name string
		sftp string
		want []string // problems; none: valid
	}{
		{"known_hosts", `{address: "sftp.example.com:22", user: acme, private_key: k, known_hosts: kh, upload_dir: /in}`, nil},
		{"pinned", `{address: "sftp.example.com:2222", user: acme, private_key: k, host_key_fingerprints: ["` + fp + `"], upload_dir: /in}`, nil},
		{"no address: nothing required", `{private_key: k}`, nil},
		{"no host key", `{address: "sftp.example.com:22", user: acme, private_key: k, upload_dir: /in}`,
			[]string{"sftp.known_hosts: known_hosts or host_key_fingerprints is required"}},
		{"an option to skip the host key check does not exist", `{address: "sftp.example.com:22", user: acme, private_key: k, upload_dir: /in, insecure_ignore_host_key: true}`,
			[]string{"field insecure_ignore_host_key not found"}},
		{"archive without a download folder", `{address: "sftp.example.com:22", user: acme, private_key: k, known_hosts: kh, upload_dir: /in, download_archive_dir: /done}`,
			[]string{"sftp.download_archive_dir: needs sftp.download_dir"}},
		{"archive in the download folder", `{address: "sftp.example.com:22", user: acme, private_key: k, known_hosts: kh, upload_dir: /in, download_dir: /out, download_archive_dir: /out/}`,
			[]string{"sftp.download_archive_dir: \"/out/\" is sftp.download_dir itself"}},
		{"archive", `{address: "sftp.example.com:22", user: acme, private_key: k, known_hosts: kh, upload_dir: /in, download_dir: /out, download_archive_dir: /out/done}`, nil},
		{"everything wrong", `{address: "sftp.example.com", known_hosts: kh, host_key_fingerprints: ["SHA256:abc"], passphrase_env: P, passphrase_credential: "a/b", timeout: 500ms, keepalive: 1s, temp_pattern: "tmp/{name}"}`,
			[]string{"sftp.address:", "sftp.user: required", "sftp.private_key: required", "sftp.upload_dir: required",
				"sftp.host_key_fingerprints: give known_hosts or host_key_fingerprints, not both",
				"sftp.host_key_fingerprints[0]:", "sftp.passphrase_env: give at most one", "sftp.passphrase_credential:",
				"sftp.timeout: 500ms is too short", "sftp.keepalive:", "sftp.temp_pattern:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(string(base)+"sftp: "+tc.sftp+"\n"), t.TempDir())
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if c.SFTP.KeepAlive != c.SFTP.Timeout/3 || c.SFTP.Timeout != 30*time.Second || c.SFTP.TempPattern != ".{name}.part" {
					t.Errorf("defaults: timeout %s, keepalive %s, temp_pattern %q", c.SFTP.Timeout, c.SFTP.KeepAlive, c.SFTP.TempPattern)
				}
				if err := c.SFTPConfig().Validate(); c.SFTP.Address != "" && err != nil {
					t.Errorf("the sftpx configuration is invalid: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v; want ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}
