package sftpx_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"refundd/sftpx"
	"refundd/sftpx/sshdtest"
)

// BenchmarkUpload100MiB uploads the same 100 MiB file to a local OpenSSH
// sshd with sftpx's Put and with OpenSSH's own sftp -b ("put -f", which
// also asks the server to fsync, as Put does), so the two can be compared
// in one run:
//
//	go test -run '^$' -bench Upload100MiB -benchtime 3x ./sftpx
func BenchmarkUpload100MiB(b *testing.B) {
	const size = 100 << 20
	s := sshdtest.Start(b, sshdtest.Options{})
	src := filepath.Join(b.TempDir(), "payload")
	f, err := os.Create(src)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(f, data(size, 7)); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	knownHosts := s.KnownHosts(b, s.HostKeys...)

	b.Run("sftpx", func(b *testing.B) {
		c := dial(b, sftpx.Config{Address: s.Addr, User: s.User, PrivateKeyFile: s.ClientKey, KnownHostsFile: knownHosts})
		b.SetBytes(size)
		for i := 0; i < b.N; i++ {
			in, err := os.Open(src)
			if err != nil {
				b.Fatal(err)
			}
			remote := filepath.Join(s.Root, fmt.Sprintf("sftpx-%d", i))
			err = c.Put(b.Context(), remote, in)
			in.Close()
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			os.Remove(remote)
			b.StartTimer()
		}
	})

	b.Run("openssh-sftp", func(b *testing.B) {
		sftp := sshdtest.Need(b, "sftp")
		b.SetBytes(size)
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			remote := filepath.Join(s.Root, fmt.Sprintf("openssh-%d", i))
			batch := filepath.Join(b.TempDir(), "batch")
			if err := os.WriteFile(batch, []byte("put -f "+src+" "+remote+"\n"), 0o600); err != nil {
				b.Fatal(err)
			}
			cmd := exec.Command(sftp, "-q", "-b", batch, "-F", "/dev/null", "-i", s.ClientKey,
				"-o", "UserKnownHostsFile="+knownHosts, "-o", "GlobalKnownHostsFile=/dev/null",
				"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
				"-o", "User="+s.User, "-P", portOf(b, s.Addr), "127.0.0.1")
			b.StartTimer()
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("sftp: %v\n%s", err, out)
			}
			b.StopTimer()
			if fi, err := os.Stat(remote); err != nil || fi.Size() != size {
				b.Fatalf("sftp left %v, %v", fi, err)
			}
			os.Remove(remote)
			b.StartTimer()
		}
	})
}

func portOf(t testing.TB, addr string) string {
	t.Helper()
	_, port, err := splitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}
