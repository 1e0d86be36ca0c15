package atomicfile

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"refundd/internal/fsync"
)

// ErrName is returned for a final name that is not a plain file name: empty,
// with a path separator, "." or "..", or starting with '.' (names starting
// with '.' are the temporary files that readers ignore).
var ErrName = errors.New("not a plain file name")

// DefaultPerm is the mode of files written by a Writer whose Perm is 0,
// before the umask: readable by the owner's group, so that an importer
// running in that group can read them, and by nobody else.
const DefaultPerm fs.FileMode = 0o640

// tempTries is how often Write draws a new temporary name when the one it
// drew exists.
const tempTries = 10

// Writer writes files durably. The zero value writes to the real file system
// with DefaultPerm. A Writer holds no state between calls and may be used
// concurrently.
type Writer struct {
	// FS is the file system; nil means OS.
	FS FS
	// Perm is the mode of new files before the umask; 0 means DefaultPerm.
	Perm fs.FileMode
	// Fence, when set, is called once the temporary file is complete and
	// before it is given its final name; an error ends the write with
	// nothing under the final name. A process that may only write while it
	// holds a lease checks the lease here: the check comes after the
	// temporary file exists, so that whoever takes the lease over and
	// removes the temporaries it finds also stops a write that passed its
	// check just before the takeover (the link of a removed temporary
	// fails).
	Fence func() error
}

// Write writes the file dir/name durably with the contents that fill writes
// to w (through a buffer), using a zero Writer.
func Write(dir, name string, fill func(w io.Writer) error) error {
	var w Writer
	return w.Write(dir, name, fill)
}

// Write writes the file dir/name durably with the contents that fill writes
// to w (through a buffer).
//
// It never overwrites: if dir/name exists, the error satisfies
// errors.Is(err, fs.ErrExist) and the existing file is left as it was. An
// error from fill is returned wrapped. An fsync error satisfies
// errors.Is(err, fsync.ErrSync). On every error the temporary file is removed and
// nothing is left under the final name; a reader of the folder may have
// seen the final name only in the short window between the link and a
// failed fsync of the folder.
func (w *Writer) Write(dir, name string, fill func(w io.Writer) error) error {
	return w.write(dir, name, fill, true, true)
}

// WriteAll writes the files dir/names[i] with the contents data[i], each
// as Write does, and makes them durable together: on Linux with the
// operating system's file system, with one flush of the file system
// (syncfs) after the last, which holds their data and their names, in
// place of a flush per file; otherwise with an fsync of each file and one
// of the folder after the last. The files are durable under their names
// when WriteAll returns nil. On an error, the files it wrote are removed
// again (best effort) and nothing else is left; a failed flush wraps
// fsync.ErrSync.
func (w *Writer) WriteAll(dir string, names []string, data [][]byte) error {
	if len(names) == 0 {
		return nil
	}
	flush, one := w.fsFlusher(dir)
	undo := func(names []string) {
		for _, done := range names {
			_ = w.fs().Remove(filepath.Join(dir, done))
		}
	}
	for i, name := range names {
		err := w.write(dir, name, func(wr io.Writer) error { _, err := wr.Write(data[i]); return err }, !one, false)
		if err != nil {
			if one {
				_ = flush() // closes the folder; the error is err
			}
			undo(names[:i])
			return err
		}
	}
	var err error
	if one {
		err = flush()
	} else {
		err = fsync.DirOf(w.fs().Open, dir)
	}
	if err != nil {
		undo(names)
		return fmt.Errorf("write %d files into %s: %w", len(names), dir, err)
	}
	return nil
}

// write is Write; syncFile and syncDir false leave the sync of the file
// and of the folder to the caller.
func (w *Writer) write(dir, name string, fill func(w io.Writer) error, syncFile, syncDir bool) (err error) {
	final := filepath.Join(dir, name)
	if err := checkName(name); err != nil {
		return fmt.Errorf("write %s: %w", final, err)
	}
	fsys := w.fs()
	perm := w.Perm
	if perm == 0 {
		perm = DefaultPerm
	}
	tmp, f, err := createTemp(fsys, dir, name, perm)
	if err != nil {
		return fmt.Errorf("write %s: create temporary file: %w", final, err)
	}

	// From here on, any way out but the end (an error, a panic in fill)
	// removes what was created. A failed clean-up is added to the error.
	closed, linked, done := false, false, false
	defer func() {
		if done {
			return
		}
		if !closed {
			f.Close()
		}
		var left []string
		if rerr := fsys.Remove(tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			left = append(left, rerr.Error())
		}
		if linked {
			if rerr := fsys.Remove(final); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				left = append(left, rerr.Error())
			}
		}
		if len(left) > 0 && err != nil {
			err = fmt.Errorf("%w (clean-up failed: %s)", err, strings.Join(left, "; "))
		}
	}()

	b := bufio.NewWriterSize(f, 64<<10)
	if err := fill(b); err != nil {
		return fmt.Errorf("write %s: %w", final, err)
	}
	if err := b.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", final, err)
	}
	if syncFile {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("write %s: sync: %w", final, syncErr(err))
		}
	}
	closed = true
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: close: %w", final, err)
	}
	if w.Fence != nil {
		if err := w.Fence(); err != nil {
			return fmt.Errorf("write %s: %w", final, err)
		}
	}
	if err := fsys.Link(tmp, final); err != nil {
		return fmt.Errorf("write %s: %w", final, err)
	}
	linked = true
	if err := fsys.Remove(tmp); err != nil {
		return fmt.Errorf("write %s: remove temporary name: %w", final, err)
	}
	if syncDir {
		if err := fsync.DirOf(fsys.Open, dir); err != nil {
			return fmt.Errorf("write %s: %w", final, err)
		}
	}
	done = true
	return nil
}

// fs returns the Writer's file system.
func (w *Writer) fs() FS {
	if w.FS == nil {
		return OS{}
	}
	return w.FS
}

// Remove removes the file path through the Writer's file system; a file
// that does not exist is no error. The removal is made durable by the next
// Write into the same folder (which syncs it), or not at all.
func (w *Writer) Remove(path string) error {
	if err := w.fs().Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// checkName refuses names that are not plain file names or that look like
// temporary files.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') ||
		strings.ContainsRune(name, os.PathSeparator) || strings.ContainsRune(name, 0) {
		return fmt.Errorf("%q: %w", name, ErrName)
	}
	if name[0] == '.' {
		return fmt.Errorf("%q: %w (a leading '.' marks temporary files)", name, ErrName)
	}
	return nil
}

// TempName reports whether name has the shape of the temporary files that a
// Writer creates: a leading '.' and the suffix ".tmp". Readers of a folder
// skip such names.
func TempName(name string) bool {
	return strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp")
}

// createTemp creates a new temporary file ".<name>.<random>.tmp" in dir,
// exclusively, drawing a new name if the one drawn exists.
func createTemp(fsys FS, dir, name string, perm fs.FileMode) (string, File, error) {
	var err error
	for range tempTries {
		tmp := filepath.Join(dir, "."+name+"."+rand.Text()[:12]+".tmp")
		var f File
		f, err = fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if err == nil {
			return tmp, f, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", nil, err
		}
	}
	return "", nil, err
}

// syncErr wraps an fsync error so that errors.Is(err, fsync.ErrSync) holds.
func syncErr(err error) error { return fmt.Errorf("%w: %w", fsync.ErrSync, err) }
