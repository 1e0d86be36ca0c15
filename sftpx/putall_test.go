package sftpx_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"refundd/sftpx"
)

// TestPutAll uploads several files at once: each is in place with its
// content, a file whose name exists is refused (and the existing one left
// as it was), a temporary name in another folder is refused before any
// call, and no temporary file is left.
func TestPutAll(t *testing.T) {
	e := startEmbedded(t, sftpx.ServerConfig{})
	if err := os.Mkdir(filepath.Join(e.root, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.root, "in", "taken.xml"), []byte("already there"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := dial(t, e.cfg)
	var ups []sftpx.Upload
	for i := range 20 {
		name := fmt.Sprintf("/in/p%02d.xml", i)
		ups = append(ups, sftpx.Upload{Name: name, Tmp: fmt.Sprintf("/in/.p%02d.xml.a1.part", i), R: strings.NewReader(strings.Repeat("x", i*1000))})
	}
	ups = append(ups,
		sftpx.Upload{Name: "/in/taken.xml", Tmp: "/in/.taken.xml.a1.part", R: strings.NewReader("new")},
		sftpx.Upload{Name: "/in/bad.xml", Tmp: "/other/.bad.xml.a1.part", R: strings.NewReader("bad")})
	var checked atomic.Int32 // the checks of uploads in flight together run at once
	for i := range 20 {
		ups[i].Check = func() error { checked.Add(1); return nil }
	}
	errs := c.PutAll(t.Context(), ups, 4)
	for i := range 20 {
		if errs[i] != nil {
			t.Errorf("%s: %v", ups[i].Name, errs[i])
			continue
		}
		got, err := os.ReadFile(filepath.Join(e.root, ups[i].Name))
		if err != nil || len(got) != i*1000 {
			t.Errorf("%s holds %d bytes, %v; want %d", ups[i].Name, len(got), err, i*1000)
		}
	}
	if n := checked.Load(); n != 20 {
		t.Errorf("check called %d times; want 20", n)
	}
	if !errors.Is(errs[20], sftpx.ErrTargetExists) {
		t.Errorf("upload over an existing file: %v; want ErrTargetExists", errs[20])
	}
	if got, _ := os.ReadFile(filepath.Join(e.root, "in", "taken.xml")); string(got) != "already there" {
		t.Errorf("the existing file holds %q", got)
	}
	if !errors.Is(errs[21], sftpx.ErrConfig) {
		t.Errorf("a temporary name in another folder: %v; want ErrConfig", errs[21])
	}
	noTempFiles(t, e.root)
}
