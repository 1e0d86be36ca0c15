package fsync

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestDir(t *testing.T) {
	dir := t.TempDir()
	if err := Dir(dir); err != nil {
		t.Fatalf("Dir(%s) = %v", dir, err)
	}
	missing := filepath.Join(dir, "missing")
	err := Dir(missing)
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrSync) {
		t.Errorf("Dir(missing) = %v; want fs.ErrNotExist and not ErrSync", err)
	}
}

// folder is a Folder whose Sync and Close fail as told.
type folder struct {
	sync, close error
	closed      bool
}

func (f *folder) Sync() error  { return f.sync }
func (f *folder) Close() error { f.closed = true; return f.close }

func TestDirOf(t *testing.T) {
	eio := &fs.PathError{Op: "sync", Path: "/d", Err: syscall.EIO}
	for _, tc := range []struct {
		name        string
		sync, close error
		want        []error // errors.Is holds for each; nil: no error
		notSync     bool    // the error must not wrap ErrSync
	}{
		{"ok", nil, nil, nil, false},
		{"EIO", eio, nil, []error{ErrSync, syscall.EIO}, false},
		{"EIO and close fails", eio, syscall.EBADF, []error{ErrSync, syscall.EIO}, false},
		{"EINVAL: cannot sync folders", &fs.PathError{Op: "sync", Path: "/d", Err: syscall.EINVAL}, nil, nil, false},
		{"ENOTSUP: cannot sync folders", syscall.ENOTSUP, nil, nil, false},
		{"close fails", nil, syscall.EBADF, []error{syscall.EBADF}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &folder{sync: tc.sync, close: tc.close}
			var opened string
			err := DirOf(func(name string) (*folder, error) { opened = name; return f, nil }, "/d")
			if opened != "/d" {
				t.Errorf("opened %q; want /d", opened)
			}
			if !f.closed {
				t.Error("the folder was not closed")
			}
			if tc.want == nil && err != nil {
				t.Errorf("DirOf = %v; want nil", err)
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("DirOf = %v; want it to wrap %v", err, w)
				}
			}
			if tc.notSync && errors.Is(err, ErrSync) {
				t.Errorf("DirOf = %v wraps ErrSync; want not", err)
			}
		})
	}
}

func TestDirOfOpenFails(t *testing.T) {
	err := DirOf(func(name string) (*os.File, error) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EACCES}
	}, "/d")
	if !errors.Is(err, fs.ErrPermission) || errors.Is(err, ErrSync) {
		t.Errorf("DirOf = %v; want fs.ErrPermission and not ErrSync", err)
	}
}
