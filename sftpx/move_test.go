package sftpx_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"refundd/sftpx"
	"refundd/sftpx/sshdtest"
)

// TestMove moves files into a folder on the embedded server and OpenSSH:
// under their own name, then under a numbered one when the name is taken,
// never over a file.
func TestMove(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		e := startEmbedded(t, sftpx.ServerConfig{})
		checkMove(t, e.cfg, e.root, "/")
	})
	t.Run("openssh", func(t *testing.T) {
		s := sshdtest.Start(t, sshdtest.Options{})
		checkMove(t, sshdConfig(t, s), s.Root, s.Root)
	})
}

// checkMove checks Move on a server whose folder remote is the local
// folder local.
func checkMove(t *testing.T, cfg sftpx.Config, local, remote string) {
	c := dial(t, cfg)
	ctx := t.Context()
	for _, d := range []string{"out", "done"} {
		if err := os.Mkdir(filepath.Join(local, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	put := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(local, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("done/reply.xml", "older")
	put("done/reply (2).xml", "older 2")
	put("out/reply.xml", "new")
	put("out/plain", "plain")

	got, err := c.Move(ctx, filepath.Join(remote, "out", "reply.xml"), filepath.Join(remote, "done"))
	if want := filepath.Join(remote, "done", "reply (3).xml"); err != nil || got != want {
		t.Fatalf("Move = %q, %v; want %q", got, err, want)
	}
	got, err = c.Move(ctx, filepath.Join(remote, "out", "plain"), filepath.Join(remote, "done"))
	if want := filepath.Join(remote, "done", "plain"); err != nil || got != want {
		t.Fatalf("Move = %q, %v; want %q", got, err, want)
	}
	for name, want := range map[string]string{"reply.xml": "older", "reply (2).xml": "older 2", "reply (3).xml": "new", "plain": "plain"} {
		if b, err := os.ReadFile(filepath.Join(local, "done", name)); err != nil || string(b) != want {
			t.Errorf("done/%s = %q, %v; want %q", name, b, err, want)
		}
	}
	if es, _ := os.ReadDir(filepath.Join(local, "out")); len(es) != 0 {
		t.Errorf("out holds %d files after the moves", len(es))
	}

	if _, err := c.Move(ctx, filepath.Join(remote, "out", "gone.xml"), filepath.Join(remote, "done")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("moving a missing file: %v, want fs.ErrNotExist", err)
	}
	if _, err := c.Move(ctx, filepath.Join(remote, "out"), filepath.Join(remote, "done")); err == nil {
		t.Error("a folder was moved")
	}
	es, _ := os.ReadDir(filepath.Join(local, "done"))
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	if want := []string{"plain", "reply (2).xml", "reply (3).xml", "reply.xml"}; !slices.Equal(names, want) {
		t.Errorf("done holds %v, want %v", names, want)
	}
}
