package sftpx_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"refundd/sftpx"
)

// The tests in this file stand in for servers that differ from OpenSSH in
// ways Put and Get must cope with.

// rawSFTP is a plain pkg/sftp client of e's server, to ask it what sftpx
// never does.
func rawSFTP(t *testing.T, e *embedded) *sftp.Client {
	t.Helper()
	pem, err := os.ReadFile(e.cfg.PrivateKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := ssh.Dial("tcp", e.srv.Addr(), &ssh.ClientConfig{User: e.cfg.User,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: ssh.FixedHostKey(e.srv.HostKey())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c, err := sftp.NewClient(conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestReadWriteRefused stands in for a server that refuses opens for
// reading and writing at once (AWS Transfer Family does): Put, which opens
// its temporary file with O_WRONLY|O_CREATE|O_EXCL, and Get, which opens
// read-only, work all the same. An O_RDWR open of a plain client shows
// that the server does refuse it (and that the other one does not).
func TestReadWriteRefused(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		t.Run(fmt.Sprintf("refuse O_RDWR %v", refuse), func(t *testing.T) {
			e := startEmbedded(t, sftpx.ServerConfig{RefuseReadWrite: refuse})

			f, err := rawSFTP(t, e).OpenFile("/probe.xml", os.O_RDWR|os.O_CREATE)
			switch {
			case refuse && !errors.Is(err, fs.ErrPermission):
				t.Fatalf("O_RDWR open: %v; want permission denied", err)
			case !refuse && err != nil:
				t.Fatalf("O_RDWR open: %v; want it to work", err)
			case err == nil:
				f.Close()
				if err := os.Remove(filepath.Join(e.root, "probe.xml")); err != nil {
					t.Fatal(err)
				}
			}

			// A client that opened for reading and writing anyway can
			// loop on the server's answers; the budget ends that.
			e.cfg.TransferTimeout = 10 * time.Second
			c := dial(t, e.cfg)
			if err := c.Put(t.Context(), "/pain.xml", data(100<<10, 20)); err != nil {
				t.Fatalf("Put: %v", err)
			}
			want := sha256Of(t, data(100<<10, 20))
			if got := fileSHA256(t, filepath.Join(e.root, "pain.xml")); got != want {
				t.Errorf("server copy sha256 %s; want %s", got, want)
			}
			local := filepath.Join(t.TempDir(), "pain.xml")
			if n, err := c.Get(t.Context(), "/pain.xml", local); err != nil || n != 100<<10 {
				t.Fatalf("Get: %d, %v; want %d bytes", n, err, 100<<10)
			}
			if got := fileSHA256(t, local); got != want {
				t.Errorf("downloaded sha256 %s; want %s", got, want)
			}
			if got := names(t, e.root); !slices.Equal(got, []string{"pain.xml"}) {
				t.Errorf("server folder holds %q; want only pain.xml", got)
			}
		})
	}
}

// TestPutWithoutFsync stands in for a server that does not offer
// fsync@openssh.com. (The embedded server never offers it; it is hidden
// as well, should a later pkg/sftp offer it.) Put works and the file is
// complete; the server counts the extended requests it receives and sees
// the rename only, no fsync; and the size is checked by a stat of the
// temporary file after its close, before the rename.
func TestPutWithoutFsync(t *testing.T) {
	var mu sync.Mutex
	var extended, ops []string
	e := startEmbedded(t, sftpx.ServerConfig{
		DisabledExtensions: []string{"fsync@openssh.com"},
		Extended: func(name string) {
			mu.Lock()
			defer mu.Unlock()
			extended = append(extended, name)
		},
		Fault: func(_ context.Context, op, p string) error {
			mu.Lock()
			defer mu.Unlock()
			if p == "/.pain.xml.part" && op != "write" {
				ops = append(ops, op)
			}
			return nil
		},
	})
	c := dial(t, e.cfg)
	if err := c.Put(t.Context(), "/pain.xml", data(300<<10, 21)); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if got, want := fileSHA256(t, filepath.Join(e.root, "pain.xml")), sha256Of(t, data(300<<10, 21)); got != want {
		t.Errorf("server copy sha256 %s; want %s", got, want)
	}
	if got := names(t, e.root); !slices.Equal(got, []string{"pain.xml"}) {
		t.Errorf("server folder holds %q; want only pain.xml", got)
	}
	mu.Lock()
	defer mu.Unlock()
	// The rename is an extended request too: the count sees them.
	if want := []string{"posix-rename@openssh.com"}; !slices.Equal(extended, want) {
		t.Errorf("extended requests %q; want %q (no fsync@openssh.com)", extended, want)
	}
	if want := []string{"open", "close", "stat", "posix-rename"}; !slices.Equal(ops, want) {
		t.Errorf("requests on the temporary file %q; want %q", ops, want)
	}
}

// TestPutSizeMismatch stands in for a server that keeps other than the
// bytes it acknowledged (it loses the end of the file, or all of it, or
// adds to it, when the file is closed): Put fails with ErrSizeMismatch,
// transient, so the caller tries again; nothing is renamed, the temporary
// file is removed, and the next upload, once the server behaves, succeeds.
func TestPutSizeMismatch(t *testing.T) {
	const size = 100 << 10
	for _, tc := range []struct {
		name   string
		change func(file string) error
	}{
		{"last byte lost", func(file string) error { return os.Truncate(file, size-1) }},
		{"emptied", func(file string) error { return os.Truncate(file, 0) }},
		{"grown", func(file string) error {
			f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			_, err = f.WriteString("x")
			return errors.Join(err, f.Close())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			faulty := true
			root := t.TempDir()
			e := startEmbedded(t, sftpx.ServerConfig{Root: root, Fault: func(_ context.Context, op, p string) error {
				mu.Lock()
				defer mu.Unlock()
				if faulty && op == "close" {
					return tc.change(filepath.Join(root, filepath.FromSlash(p)))
				}
				return nil
			}})
			c := dial(t, e.cfg)
			err := c.Put(t.Context(), "/pain.xml", data(size, 22))
			if !errors.Is(err, sftpx.ErrSizeMismatch) || sftpx.IsPermanent(err) {
				t.Fatalf("got %v; want a transient ErrSizeMismatch", err)
			}
			if !strings.Contains(err.Error(), "/.pain.xml.part") {
				t.Errorf("error %q does not name the file", err)
			}
			if got := names(t, root); len(got) != 0 {
				t.Errorf("server folder holds %q; want nothing (no final file, temporary file removed)", got)
			}
			mu.Lock()
			faulty = false
			mu.Unlock()
			if err := c.Put(t.Context(), "/pain.xml", data(size, 22)); err != nil {
				t.Fatalf("next Put: %v", err)
			}
			if got, want := fileSHA256(t, filepath.Join(root, "pain.xml")), sha256Of(t, data(size, 22)); got != want {
				t.Errorf("server copy sha256 %s; want %s", got, want)
			}
			if got := names(t, root); !slices.Equal(got, []string{"pain.xml"}) {
				t.Errorf("server folder holds %q; want only pain.xml", got)
			}
		})
	}
}
