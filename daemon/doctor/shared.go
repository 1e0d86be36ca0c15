package doctor

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// sharedPattern names the temporary sub-folder CheckShared works in.
const sharedPattern = ".refundd-doctor-shared-*"

// CheckShared checks what refundd needs from a folder that two hosts share
// over NFS: an exclusive create (O_CREATE|O_EXCL) that a second one of the
// same name fails with fs.ErrExist, fsync of a file and of its folder, a
// rename over an existing name, and hard links. It works in a fresh
// temporary sub-folder of dir, which it removes again whether the checks
// pass or not. The error names the step that failed and its path.
func CheckShared(dir string) (string, error) {
	return sharedCheck{}.run(dir)
}

// sharedCheck runs the steps of CheckShared.
type sharedCheck struct {
	// fault, when set, is called before every step; an error it returns
	// fails that step in place of the step's own outcome.
	fault func(op, path string) error
}

// step runs fn as the step op on path and wraps its error as "op path: err".
func (c sharedCheck) step(op, path string, fn func() error) error {
	var err error
	if c.fault != nil {
		err = c.fault(op, path)
	}
	if err == nil {
		err = fn()
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, path, bare(err))
	}
	return nil
}

// bare strips the operation and path an os error repeats, keeping the
// cause (a syscall.Errno still matches fs.ErrExist and the like).
func bare(err error) error {
	switch e := err.(type) {
	case *fs.PathError:
		return e.Err
	case *os.LinkError:
		return e.Err
	case *os.SyscallError:
		return e.Err
	}
	return err
}

func (c sharedCheck) run(dir string) (detail string, err error) {
	var tmp string
	if err := c.step("create sub-folder in", dir, func() error {
		var err error
		tmp, err = os.MkdirTemp(dir, sharedPattern)
		return err
	}); err != nil {
		return "", err
	}
	defer func() {
		rerr := c.step("remove sub-folder", tmp, func() error { return os.RemoveAll(tmp) })
		if rerr != nil && err == nil {
			detail, err = "", rerr
		}
	}()

	// (1) An exclusive create, and a second one of the same name refused.
	excl := filepath.Join(tmp, "excl")
	var f *os.File
	if err := c.step("create (O_EXCL)", excl, func() error {
		var err error
		f, err = os.OpenFile(excl, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		return err
	}); err != nil {
		return "", err
	}
	defer f.Close()
	if err := c.step("create again (O_EXCL)", excl, func() error {
		g, err := os.OpenFile(excl, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		switch {
		case err == nil:
			g.Close()
			return errors.New("a second exclusive create of the same name succeeded: the share does not honour O_EXCL, and two hosts could both claim a file")
		case !errors.Is(err, fs.ErrExist):
			return fmt.Errorf("failed with %w, not with %q", bare(err), fs.ErrExist.Error())
		}
		return nil
	}); err != nil {
		return "", err
	}

	// (2) Write, fsync the file, close it (NFS reports a failed write back
	// at the latest on close), and fsync the folder.
	first := []byte("refundd doctor: first\n")
	if err := c.step("write", excl, func() error { _, err := f.Write(first); return err }); err != nil {
		return "", err
	}
	if err := c.step("fsync", excl, f.Sync); err != nil {
		return "", err
	}
	if err := c.step("close", excl, f.Close); err != nil {
		return "", err
	}
	if err := c.syncDir(tmp); err != nil {
		return "", err
	}

	// (3) Rename a file over an existing name: the name then holds the
	// renamed file's content, and the old name is gone.
	next := filepath.Join(tmp, "next")
	second := []byte("refundd doctor: second\n")
	if err := c.writeFile(next, second); err != nil {
		return "", err
	}
	if err := c.step("rename", next+" over "+excl, func() error {
		if err := os.Rename(next, excl); err != nil {
			return err
		}
		if _, err := os.Lstat(next); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s is still there after the rename (%v)", next, err)
		}
		return sameContent(excl, second)
	}); err != nil {
		return "", err
	}
	if err := c.syncDir(tmp); err != nil {
		return "", err
	}

	// (4) A hard link: both names show the same file and content.
	link := filepath.Join(tmp, "link")
	if err := c.step("hard link", excl+" to "+link, func() error { return os.Link(excl, link) }); err != nil {
		return "", fmt.Errorf("%w; the share must allow hard links (SMB without POSIX extensions refuses them)", err)
	}
	if err := c.step("read hard link", link, func() error {
		for _, p := range []string{excl, link} {
			if err := sameContent(p, second); err != nil {
				return err
			}
		}
		a, err := os.Lstat(excl)
		if err != nil {
			return err
		}
		b, err := os.Lstat(link)
		if err != nil {
			return err
		}
		if !os.SameFile(a, b) {
			return fmt.Errorf("%s and %s are two files, not two names of one", excl, link)
		}
		return nil
	}); err != nil {
		return "", err
	}
	if err := c.syncDir(tmp); err != nil {
		return "", err
	}

	return "O_EXCL, fsync of file and folder, rename, hard link: all work", nil
}

// writeFile writes a new file with content and fsyncs it.
func (c sharedCheck) writeFile(path string, content []byte) error {
	return c.step("write", path, func() error {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := f.Write(content); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("fsync: %w", bare(err))
		}
		return f.Close()
	})
}

// syncDir fsyncs the folder dir, which makes the names created, renamed
// and linked in it durable.
func (c sharedCheck) syncDir(dir string) error {
	return c.step("fsync folder", dir, func() error {
		d, err := os.Open(dir)
		if err != nil {
			return err
		}
		if err := d.Sync(); err != nil {
			d.Close()
			return err
		}
		return d.Close()
	})
}

// sameContent checks that the file at path holds want.
func sameContent(path string, want []byte) error {
	got, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("%s holds %q; want %q", path, got, want)
	}
	return nil
}
