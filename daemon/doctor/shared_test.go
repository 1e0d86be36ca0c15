package doctor

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCheckShared(t *testing.T) {
	tempDir := func(t *testing.T) string { return t.TempDir() }
	// failAt fails the first step op with err.
	failAt := func(op string, err error) func(string, string) error {
		return func(o, _ string) error {
			if o == op {
				return err
			}
			return nil
		}
	}
	for _, tc := range []struct {
		name     string
		dir      func(t *testing.T) string
		fault    func(op, path string) error
		skipRoot bool   // root ignores permissions
		op       string // the step that fails; "" when all pass
		inSub    bool   // the failing step's path lies in the sub-folder
		is       error  // the failure's cause
		reason   string // the error contains this
	}{
		{name: "a normal folder", dir: tempDir},
		{name: "a folder that does not exist", dir: func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "missing")
		}, op: "create sub-folder in", is: fs.ErrNotExist},
		{name: "a read-only folder", dir: func(t *testing.T) string {
			dir := t.TempDir()
			if err := os.Chmod(dir, 0o555); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(dir, 0o755) })
			return dir
		}, skipRoot: true, op: "create sub-folder in", is: fs.ErrPermission},
		{name: "exclusive create fails", dir: tempDir, fault: failAt("create (O_EXCL)", syscall.EIO),
			op: "create (O_EXCL)", inSub: true, is: syscall.EIO},
		{name: "O_EXCL not honoured", dir: tempDir,
			fault: failAt("create again (O_EXCL)", errors.New("a second exclusive create of the same name succeeded")),
			op:    "create again (O_EXCL)", inSub: true, reason: "succeeded"},
		{name: "write fails", dir: tempDir, fault: failAt("write", syscall.ENOSPC),
			op: "write", inSub: true, is: syscall.ENOSPC},
		{name: "fsync of the file fails", dir: tempDir, fault: failAt("fsync", syscall.EIO),
			op: "fsync", inSub: true, is: syscall.EIO},
		{name: "close fails", dir: tempDir, fault: failAt("close", syscall.EDQUOT),
			op: "close", inSub: true, is: syscall.EDQUOT},
		{name: "fsync of the folder fails", dir: tempDir, fault: failAt("fsync folder", syscall.EINVAL),
			op: "fsync folder", inSub: true, is: syscall.EINVAL},
		{name: "rename fails", dir: tempDir, fault: failAt("rename", syscall.EXDEV),
			op: "rename", inSub: true, is: syscall.EXDEV},
		{name: "hard link refused", dir: tempDir, fault: failAt("hard link", syscall.EPERM),
			op: "hard link", inSub: true, is: syscall.EPERM, reason: "the share must allow hard links"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skipRoot && os.Geteuid() == 0 {
				t.Skip("root ignores the folder's permissions")
			}
			dir := tc.dir(t)
			detail, err := sharedCheck{fault: tc.fault}.run(dir)

			if left, _ := filepath.Glob(filepath.Join(dir, sharedPattern)); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
			if tc.op == "" {
				if err != nil {
					t.Fatalf("CheckShared(%s): %v", dir, err)
				}
				if want := "O_EXCL, fsync of file and folder, rename, hard link: all work"; detail != want {
					t.Errorf("detail %q; want %q", detail, want)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckShared(%s) passed (%q); want %s to fail", dir, detail, tc.op)
			}
			t.Log(err)
			if detail != "" {
				t.Errorf("detail %q on failure", detail)
			}
			prefix := tc.op + " " + dir
			if tc.inSub {
				prefix += string(filepath.Separator) + strings.TrimSuffix(sharedPattern, "*")
			} else {
				prefix += ": "
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q; want it to start with %q", err, prefix)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q; want it to say %q", err, tc.reason)
			}
		})
	}
}

// TestCheckSharedPublic runs the exported check on a normal folder.
func TestCheckSharedPublic(t *testing.T) {
	dir := t.TempDir()
	detail, err := CheckShared(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(detail)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %d entries in %s", len(entries), dir)
	}
}
