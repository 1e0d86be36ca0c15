package sftpx

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/pkg/sftp"
)

// rootFS serves SFTP requests from a local folder through os.Root, so no
// path can leave it.
type rootFS struct {
	root            *os.Root
	ctx             context.Context
	fault           func(ctx context.Context, op, path string) error
	refuseReadWrite bool
}

func newRootFS(ctx context.Context, dir string, fault func(context.Context, string, string) error, refuseReadWrite bool) (*rootFS, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &rootFS{root: root, ctx: ctx, fault: fault, refuseReadWrite: refuseReadWrite}, nil
}

func (f *rootFS) handlers() sftp.Handlers {
	return sftp.Handlers{FileGet: f, FilePut: f, FileCmd: f, FileList: f}
}

// rel turns an SFTP path (absolute, cleaned by the request server) into a
// name inside the root.
func rel(p string) string {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" {
		return "."
	}
	return p
}

func (f *rootFS) check(op, p string) error {
	if f.fault == nil {
		return nil
	}
	return f.fault(f.ctx, op, p)
}

// Fileread opens a file for reading.
func (f *rootFS) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	if err := f.check("open", r.Filepath); err != nil {
		return nil, err
	}
	file, err := f.root.Open(rel(r.Filepath))
	if err != nil {
		return nil, err
	}
	return &serverFile{File: file, fs: f, name: r.Filepath}, nil
}

// Filewrite opens a file for writing with the request's flags (O_EXCL,
// O_TRUNC, O_CREATE), and for reading too if asked, unless the server
// refuses that (ServerConfig.RefuseReadWrite).
func (f *rootFS) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	if err := f.check("open", r.Filepath); err != nil {
		return nil, err
	}
	pf := r.Pflags()
	flags := os.O_WRONLY
	if pf.Read {
		if f.refuseReadWrite {
			// Permission denied: the server does not open for reading
			// and writing at once.
			return nil, &fs.PathError{Op: "open", Path: r.Filepath, Err: syscall.EACCES}
		}
		flags = os.O_RDWR
	}
	if pf.Creat {
		flags |= os.O_CREATE
	}
	if pf.Trunc {
		flags |= os.O_TRUNC
	}
	if pf.Excl {
		flags |= os.O_EXCL
	}
	file, err := f.root.OpenFile(rel(r.Filepath), flags, 0o644)
	if err != nil {
		return nil, err
	}
	return &serverFile{File: file, fs: f, name: r.Filepath}, nil
}

// serverFile is an open file that passes its reads, writes and close
// through the fault hook.
type serverFile struct {
	*os.File
	fs   *rootFS
	name string
}

func (s *serverFile) ReadAt(p []byte, off int64) (int, error) {
	if err := s.fs.check("read", s.name); err != nil {
		return 0, err
	}
	return s.File.ReadAt(p, off)
}

func (s *serverFile) WriteAt(p []byte, off int64) (int, error) {
	if err := s.fs.check("write", s.name); err != nil {
		return 0, err
	}
	return s.File.WriteAt(p, off)
}

func (s *serverFile) Close() error {
	ferr := s.fs.check("close", s.name)
	err := s.File.Close()
	if ferr != nil {
		return ferr
	}
	return err
}

// Filecmd runs the commands without a handle.
func (f *rootFS) Filecmd(r *sftp.Request) error {
	name := rel(r.Filepath)
	switch r.Method {
	case "Rename":
		if err := f.check("rename", r.Filepath); err != nil {
			return err
		}
		// Like OpenSSH: link, then unlink, so an existing target is refused.
		if err := f.root.Link(name, rel(r.Target)); err != nil {
			return err
		}
		return f.root.Remove(name)
	case "Remove":
		if err := f.check("remove", r.Filepath); err != nil {
			return err
		}
		fi, err := f.root.Lstat(name)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return &fs.PathError{Op: "remove", Path: r.Filepath, Err: syscall.EISDIR}
		}
		return f.root.Remove(name)
	case "Mkdir":
		if err := f.check("mkdir", r.Filepath); err != nil {
			return err
		}
		return f.root.Mkdir(name, 0o755)
	case "Rmdir":
		if err := f.check("rmdir", r.Filepath); err != nil {
			return err
		}
		fi, err := f.root.Lstat(name)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return &fs.PathError{Op: "rmdir", Path: r.Filepath, Err: syscall.ENOTDIR}
		}
		return f.root.Remove(name)
	case "Setstat":
		if err := f.check("setstat", r.Filepath); err != nil {
			return err
		}
		return f.setstat(name, r)
	}
	return sftp.ErrSSHFxOpUnsupported
}

func (f *rootFS) setstat(name string, r *sftp.Request) error {
	flags, attrs := r.AttrFlags(), r.Attributes()
	if flags.Size {
		file, err := f.root.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		err = file.Truncate(int64(attrs.Size))
		if cerr := file.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	if flags.Permissions {
		if err := f.root.Chmod(name, attrs.FileMode().Perm()); err != nil {
			return err
		}
	}
	if flags.Acmodtime {
		if err := f.root.Chtimes(name, attrs.AccessTime(), attrs.ModTime()); err != nil {
			return err
		}
	}
	return nil
}

// PosixRename renames atomically, replacing an existing target, as
// posix-rename@openssh.com does.
func (f *rootFS) PosixRename(r *sftp.Request) error {
	if err := f.check("posix-rename", r.Filepath); err != nil {
		return err
	}
	return f.root.Rename(rel(r.Filepath), rel(r.Target))
}

// Filelist lists a folder or stats a file.
func (f *rootFS) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	name := rel(r.Filepath)
	switch r.Method {
	case "List":
		if err := f.check("list", r.Filepath); err != nil {
			return nil, err
		}
		d, err := f.root.Open(name)
		if err != nil {
			return nil, err
		}
		defer d.Close()
		entries, err := d.ReadDir(-1)
		if err != nil {
			return nil, err
		}
		var infos listerAt
		for _, e := range entries {
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since the listing
			}
			if err != nil {
				return nil, err
			}
			infos = append(infos, fi)
		}
		return infos, nil
	case "Stat":
		if err := f.check("stat", r.Filepath); err != nil {
			return nil, err
		}
		fi, err := f.root.Stat(name)
		if err != nil {
			return nil, err
		}
		return listerAt{fi}, nil
	}
	return nil, sftp.ErrSSHFxOpUnsupported
}

// Lstat stats a file without following a final symbolic link.
func (f *rootFS) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	if err := f.check("stat", r.Filepath); err != nil {
		return nil, err
	}
	fi, err := f.root.Lstat(rel(r.Filepath))
	if err != nil {
		return nil, err
	}
	return listerAt{fi}, nil
}

type listerAt []fs.FileInfo

func (l listerAt) ListAt(dst []fs.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(dst, l[off:])
	if n < len(dst) {
		return n, io.EOF
	}
	return n, nil
}
