package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"refundd/daemon/config"

	"refundd/sftpx"
)

// Check is the outcome of one check of Doctor.
type Check struct {
	// Name says what was checked, e.g. "folder paths.export /srv/refundd/export".
	Name string
	// Detail says what was found when the check passed.
	Detail string
	// Err says why the check failed; nil when it passed.
	Err error
}

// OK reports whether the check passed.
func (c Check) OK() bool { return c.Err == nil }

// Run checks what refundd needs to work, as an operator would before
// going live: the folders and their permissions, the SFTP key files, the
// connection to AutoPay, its host key, the login, the listing of the upload
// and download folders, and writing and removing a probe file in the upload
// folder (under the temporary-name pattern, so that nothing is picked up).
// With the PostgreSQL store it checks first the store (its schema, who
// leads, the session timeouts and durable commits) and what the folders
// shared by two hosts must do (see CheckShared).
// It returns one Check per item in that order; checks that depend on a
// failed one are left out.
func Run(ctx context.Context, c *config.Config) []Check {
	var checks []Check
	add := func(name, detail string, err error) bool {
		checks = append(checks, Check{Name: name, Detail: detail, Err: err})
		return err == nil
	}
	add("config "+c.File, "valid", nil)
	if c.Postgres() {
		doctorPostgres(ctx, c, add)
	}
	for _, f := range []struct {
		key, path string
		private   bool // refundd's own: no one else may write
	}{
		{"paths.export", c.Paths.Export, false},
		{"paths.inbox", c.Paths.Inbox, false},
		{"paths.import", c.Paths.Import, false},
		{"paths.state", c.Paths.State, true},
	} {
		detail, err := checkFolder(f.path, f.private)
		add(strings.TrimSpace("folder "+f.key+" "+f.path), detail, err)
	}
	doctorSFTP(ctx, c, add)
	return checks
}

// checkFolder checks that dir is a folder refundd can write and that only
// the right users can write.
func checkFolder(dir string, private bool) (string, error) {
	if dir == "" {
		return "", errors.New("not configured")
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", errors.New("not a folder")
	}
	perm := fi.Mode().Perm()
	switch {
	case private && perm&0o022 != 0:
		return "", fmt.Errorf("mode %04o: writable by group or others; only refundd may write its state (chmod go-w)", perm)
	case perm&0o002 != 0 && fi.Mode()&os.ModeSticky == 0:
		return "", fmt.Errorf("mode %04o: writable by everyone; allow only refundd and the ERP (chmod o-w)", perm)
	}
	probe, err := os.CreateTemp(dir, ".refundd-doctor-*")
	if err != nil {
		return "", fmt.Errorf("not writable: %w", err)
	}
	probe.Close()
	if err := os.Remove(probe.Name()); err != nil {
		return "", fmt.Errorf("cannot remove a file: %w", err)
	}
	return fmt.Sprintf("writable, mode %04o", perm), nil
}

// doctorSFTP checks the key files, the connection and the folders of the
// SFTP server.
func doctorSFTP(ctx context.Context, c *config.Config, add func(name, detail string, err error) bool) {
	s := c.SFTP
	if s.Address == "" {
		add("sftp", "", errors.New("sftp.address is not set: no connection to AutoPay is configured"))
		return
	}
	cfg := c.SFTPConfig()
	pub, err := cfg.PublicKey()
	detail := ""
	if err == nil {
		detail = "usable; its public key (the one AutoPay must know) is " + sftpx.Fingerprint(pub)
	}
	keyOK := add("private key "+s.PrivateKey, detail, err)

	hostsOK := true
	if s.KnownHosts != "" {
		hostsOK = add("known_hosts "+s.KnownHosts, knownHostsDetail(cfg), checkKnownHostsFile(cfg))
	} else {
		keys, err := cfg.HostKeys()
		hostsOK = add("host key fingerprints", strings.Join(keys, ", "), err)
	}

	start := time.Now()
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, s.Timeout)
	conn, err := d.DialContext(dctx, "tcp", s.Address)
	cancel()
	if err == nil {
		conn.Close()
	}
	if !add("connection "+s.Address, fmt.Sprintf("TCP connect in %s", time.Since(start).Round(time.Millisecond)), err) || !keyOK || !hostsOK {
		return
	}

	client, err := sftpx.Dial(ctx, cfg)
	var hke *sftpx.HostKeyError
	switch {
	case errors.As(err, &hke) || errors.Is(err, sftpx.ErrHostKeyMismatch):
		add("host key", "", err)
		return
	case errors.Is(err, sftpx.ErrAuth):
		add("host key", "matches", nil)
		add("login as "+s.User, "", err)
		return
	case err != nil:
		add("ssh", "", err)
		return
	}
	defer client.Close()
	add("host key", sftpx.Fingerprint(client.HostKey())+" matches", nil)
	add("login as "+s.User, "ok", nil)

	list := func(key, dir string) bool {
		files, err := client.List(ctx, dir, "")
		return add("list "+key+" "+dir, fmt.Sprintf("%d files", len(files)), err)
	}
	uploadOK := list("sftp.upload_dir", s.UploadDir)
	if s.DownloadDir != "" {
		list("sftp.download_dir", s.DownloadDir)
	}
	if s.DownloadArchiveDir != "" {
		list("sftp.download_archive_dir", s.DownloadArchiveDir)
	}
	if uploadOK {
		err := client.Probe(ctx, s.UploadDir)
		add("write sftp.upload_dir "+s.UploadDir, "a probe file under the temporary name "+s.TempPattern+" was written and removed", err)
	}
}

// knownHostsDetail lists the keys known_hosts holds for the server.
func knownHostsDetail(cfg sftpx.Config) string {
	keys, err := cfg.HostKeys()
	if err != nil {
		return ""
	}
	return strings.Join(keys, ", ")
}

// checkKnownHostsFile checks that the known_hosts file has an entry for the
// server and that no one but its owner can change it: whoever can write it
// can make refundd trust another server.
func checkKnownHostsFile(cfg sftpx.Config) error {
	fi, err := os.Stat(cfg.KnownHostsFile)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("mode %04o: writable by group or others, who could make refundd trust another server (chmod go-w)", perm)
	}
	_, err = cfg.HostKeys()
	return err
}
