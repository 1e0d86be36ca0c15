package sftpx_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"refundd/sftpx"
	"refundd/sftpx/sshdtest"
)

// TestSSHDTransferBudget puts a proxy between client and sshd that
// forwards slowly, 1 KiB every 20 ms in each direction: never so slowly
// that the connection or a request waits for Config.Timeout, but so that
// a transfer takes about twice the budget below. With the default budget
// Put and Get succeed, however long they take (which shows that the idle
// timeout alone never stops them). With a budget of 1s they fail soon
// after it runs out, with a transient ErrTimeout naming the file and the
// budget; no final file is left on the server, no file on this side, and
// the next transfer at full speed succeeds and leaves no temporary file.
func TestSSHDTransferBudget(t *testing.T) {
	s := sshdtest.Start(t, sshdtest.Options{})
	p := sshdtest.NewProxy(t, s.Addr)
	base := sshdConfig(t, s)
	// known_hosts names the server's address; the proxy's differs.
	base.KnownHostsFile, base.HostKeyFingerprints = "", []string{sftpx.Fingerprint(s.HostKeys[0])}
	base.Address = p.Addr
	base.Timeout = 3 * time.Second

	const size = 96 << 10 // at 1 KiB per 20 ms: at least 1.9s
	reply := filepath.Join(s.Root, "reply.xml")
	if err := os.WriteFile(reply, mustRead(t, data(size, 30)), 0o644); err != nil {
		t.Fatal(err)
	}
	want := sha256Of(t, data(size, 30))

	for _, tc := range []struct {
		name   string
		budget time.Duration // 0: the default
	}{
		{"default budget", 0},
		{"budget 1s", time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			cfg.TransferTimeout = tc.budget
			c := dial(t, cfg) // at full speed
			dir := filepath.Join(s.Root, strings.ReplaceAll(tc.name, " ", "-"))
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			final := filepath.Join(dir, "pain.xml")
			localDir := t.TempDir()
			local := filepath.Join(localDir, "reply.xml")
			p.Trickle(1<<10, 20*time.Millisecond)
			defer p.Trickle(0, 0)

			check := func(op, file string, elapsed time.Duration, err error) {
				t.Helper()
				if tc.budget == 0 {
					if err != nil {
						t.Fatalf("%s while trickling: %v", op, err)
					}
					if elapsed < time.Second {
						t.Fatalf("%s took %s; the trickle must make it slower than the budget of 1s", op, elapsed)
					}
					return
				}
				t.Logf("%s failed after %s: %v", op, elapsed.Round(time.Millisecond), err)
				if !errors.Is(err, sftpx.ErrTimeout) || sftpx.IsPermanent(err) {
					t.Fatalf("%s: got %v; want a transient ErrTimeout", op, err)
				}
				if msg := err.Error(); !strings.Contains(msg, file) || !strings.Contains(msg, "budget of 1s") {
					t.Errorf("%s: error %q does not name the file and the budget", op, msg)
				}
				if elapsed > tc.budget+5*time.Second {
					t.Errorf("%s failed after %s; want soon after the budget of %s", op, elapsed, tc.budget)
				}
			}

			start := time.Now()
			err := c.Put(t.Context(), final, data(size, 31))
			check("Put", final, time.Since(start), err)
			if tc.budget != 0 && exists(final) {
				t.Error("the final file exists after the upload was cut off")
			}

			start = time.Now()
			_, err = c.Get(t.Context(), reply, local)
			check("Get", reply, time.Since(start), err)
			if tc.budget != 0 {
				if got := names(t, localDir); len(got) != 0 {
					t.Errorf("local folder holds %q after the download was cut off; want nothing", got)
				}
				p.Trickle(0, 0)
				if err := c.Put(t.Context(), final, data(size, 31)); err != nil {
					t.Fatalf("Put at full speed: %v", err)
				}
				if _, err := c.Get(t.Context(), reply, local); err != nil {
					t.Fatalf("Get at full speed: %v", err)
				}
			}
			if got := fileSHA256(t, final); got != sha256Of(t, data(size, 31)) {
				t.Errorf("server copy sha256 %s; want the source's", got)
			}
			if got := fileSHA256(t, local); got != want {
				t.Errorf("downloaded sha256 %s; want %s", got, want)
			}
			if got := names(t, dir); !slices.Equal(got, []string{"pain.xml"}) {
				t.Errorf("server folder holds %q; want only pain.xml", got)
			}
			if got := names(t, localDir); !slices.Equal(got, []string{"reply.xml"}) {
				t.Errorf("local folder holds %q; want only reply.xml", got)
			}
		})
	}
}

// mustRead returns what r yields.
func mustRead(t testing.TB, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
