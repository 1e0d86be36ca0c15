package atomicfile

import (
	"io"
	"io/fs"
	"os"
)

// FS is the part of the file system that a Writer uses. OS is the real one;
// tests substitute a fake to inject fsync failures, a full disk and the
// like. Errors are those of the os package (*fs.PathError, *os.LinkError),
// so errors.Is(err, fs.ErrExist) works for an existing name.
type FS interface {
	// OpenFile opens or creates a file as os.OpenFile does.
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// Open opens a folder for reading, so that it can be synced.
	Open(name string) (File, error)
	// Link creates newname as a hard link to oldname. It fails, with an
	// error for which errors.Is(err, fs.ErrExist) holds, if newname exists.
	Link(oldname, newname string) error
	// Remove removes the name.
	Remove(name string) error
}

// File is an open file or folder of an FS.
type File interface {
	io.Writer
	// Sync commits the file's contents (for a folder: its entries) to
	// stable storage.
	Sync() error
	// Close closes the file; its error must be checked.
	Close() error
}

// OS is the FS of the operating system.
type OS struct{}

// OpenFile calls os.OpenFile.
func (OS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Open calls os.Open.
func (OS) Open(name string) (File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Link calls os.Link.
func (OS) Link(oldname, newname string) error { return os.Link(oldname, newname) }

// Remove calls os.Remove.
func (OS) Remove(name string) error { return os.Remove(name) }
