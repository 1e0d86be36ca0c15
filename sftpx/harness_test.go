package sftpx_test

import (
	"errors"
	"io/fs"
	"os"
	"testing"

	"refundd/sftpx"
)

// TestUploadOnce uploads one local file to an sshd that is already running,
// so that a whole-process timer can compare a single Put with OpenSSH's
// sftp against the same server. It runs only when its environment is set:
//
//	REFUNDD_BENCH_SFTP_ADDR         host:port of the sshd
//	REFUNDD_BENCH_SFTP_USER         login name
//	REFUNDD_BENCH_SFTP_KEY          private key file
//	REFUNDD_BENCH_SFTP_KNOWN_HOSTS  known_hosts file holding the host key
//	REFUNDD_BENCH_SFTP_SRC          local file to upload
//	REFUNDD_BENCH_SFTP_DEST         remote path; a file of a former run under
//	                                it is removed first (on the server's
//	                                file system, which must be this machine's)
//
// e.g. go test -c ./sftpx && ./sftpx.test -test.run '^TestUploadOnce$'
func TestUploadOnce(t *testing.T) {
	env := func(name string) string { return os.Getenv("REFUNDD_BENCH_SFTP_" + name) }
	if env("ADDR") == "" {
		t.Skip("REFUNDD_BENCH_SFTP_ADDR is not set")
	}
	dest := env("DEST")
	if err := os.Remove(dest); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	in, err := os.Open(env("SRC"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	c, err := sftpx.Dial(t.Context(), sftpx.Config{Address: env("ADDR"), User: env("USER"),
		PrivateKeyFile: env("KEY"), KnownHostsFile: env("KNOWN_HOSTS")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Put(t.Context(), dest, in); err != nil {
		t.Fatal(err)
	}
}
