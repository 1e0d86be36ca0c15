package sftpx_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"refundd/sftpx"
)

func TestListStatRemove(t *testing.T) {
	e := startEmbedded(t, sftpx.ServerConfig{})
	for name, content := range map[string]string{"b.xml": "bb", "a.xml": "a", "c.txt": "c", ".a.xml.part": "partial"} {
		if err := os.WriteFile(filepath.Join(e.root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(e.root, "d.xml"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := dial(t, e.cfg)
	for _, tc := range []struct {
		glob string
		want []string
	}{
		{"*.xml", []string{"a.xml", "b.xml"}}, // no folders, no hidden temporary files
		{"", []string{".a.xml.part", "a.xml", "b.xml", "c.txt"}},
		{"c*", []string{"c.txt"}},
		{"*.camt", nil},
	} {
		files, err := c.List(t.Context(), "/", tc.glob)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range files {
			got = append(got, f.Name())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %q; want %q", tc.glob, got, tc.want)
		}
	}
	if _, err := c.List(t.Context(), "/", "[a-"); !errors.Is(err, sftpx.ErrConfig) {
		t.Errorf("List with a bad glob: %v; want ErrConfig", err)
	}
	if _, err := c.List(t.Context(), "/missing", ""); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("List of a missing folder: %v; want fs.ErrNotExist", err)
	}

	fi, err := c.Stat(t.Context(), "/b.xml")
	if err != nil || fi.Size() != 2 || fi.Name() != "b.xml" {
		t.Errorf("Stat = %v, %v; want b.xml of 2 bytes", fi, err)
	}
	if _, err := c.Stat(t.Context(), "/missing.xml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat of a missing file: %v; want fs.ErrNotExist", err)
	}
	if err := c.Remove(t.Context(), "/b.xml"); err != nil {
		t.Fatal(err)
	}
	if exists(filepath.Join(e.root, "b.xml")) {
		t.Error("b.xml still exists after Remove")
	}
	if err := c.Remove(t.Context(), "/b.xml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("second Remove: %v; want fs.ErrNotExist", err)
	}
	if err := c.Remove(t.Context(), "/d.xml"); err == nil {
		t.Error("Remove of a folder succeeded")
	}
}

func TestGet(t *testing.T) {
	e := startEmbedded(t, sftpx.ServerConfig{})
	if err := os.WriteFile(filepath.Join(e.root, "camt.xml"), []byte(strings.Repeat("x", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	local := t.TempDir()
	for _, tc := range []struct {
		name   string
		remote string
		max    int64
		exists bool // the local file exists already
		want   error
	}{
		{"ok", "/camt.xml", 0, false, nil},
		{"exactly the limit", "/camt.xml", 1000, false, nil},
		{"over the limit", "/camt.xml", 999, false, sftpx.ErrTooLarge},
		{"local file exists", "/camt.xml", 0, true, sftpx.ErrTargetExists},
		{"missing", "/missing.xml", 0, false, fs.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := e.cfg
			cfg.MaxDownload = tc.max
			c := dial(t, cfg)
			dst := filepath.Join(local, strings.ReplaceAll(tc.name, " ", "-")+".xml")
			if tc.exists {
				if err := os.WriteFile(dst, []byte("mine"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			n, err := c.Get(t.Context(), tc.remote, dst)
			if tc.want == nil {
				if err != nil || n != 1000 {
					t.Fatalf("Get = %d, %v; want 1000 bytes", n, err)
				}
				if got, _ := os.ReadFile(dst); len(got) != 1000 {
					t.Errorf("local file has %d bytes", len(got))
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v; want %v", err, tc.want)
			}
			if tc.exists {
				if got, _ := os.ReadFile(dst); string(got) != "mine" {
					t.Errorf("local file was changed to %q", got)
				}
			} else if exists(dst) {
				t.Error("local file exists after a failed Get")
			}
		})
	}
	noTempFiles(t, local)
	if !exists(filepath.Join(e.root, "camt.xml")) {
		t.Error("Get removed the remote file")
	}
}
