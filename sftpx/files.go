package sftpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"refundd/internal/fsync"
)

// List returns the regular files in the remote folder dir whose names match
// glob (path.Match syntax; empty matches all), sorted by name.
func (c *Client) List(ctx context.Context, dir, glob string) ([]fs.FileInfo, error) {
	if glob == "" {
		glob = "*"
	}
	if _, err := path.Match(glob, ""); err != nil {
		return nil, fmt.Errorf("list %s: %w: glob %q: %w", dir, ErrConfig, glob, err)
	}
	var files []fs.FileInfo
	err := c.do(ctx, always, func(s *session) error {
		files = nil
		entries, err := s.sftp.ReadDirContext(ctx, dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if ok, _ := path.Match(glob, e.Name()); ok && e.Mode().IsRegular() {
				files = append(files, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	slices.SortFunc(files, func(a, b fs.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return files, nil
}

// Stat returns the remote file's information, without following a final
// symbolic link. A missing file gives an error wrapping fs.ErrNotExist.
func (c *Client) Stat(ctx context.Context, name string) (fs.FileInfo, error) {
	var fi fs.FileInfo
	err := c.do(ctx, always, func(s *session) (err error) {
		fi, err = s.sftp.Lstat(name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", name, err)
	}
	return fi, nil
}

// Remove removes the remote file name; it does not remove folders. A
// missing file gives an error wrapping fs.ErrNotExist.
func (c *Client) Remove(ctx context.Context, name string) error {
	// Not tried again: a lost reply could make a removed file look missing.
	err := c.do(ctx, never, func(s *session) error {
		fi, err := s.sftp.Lstat(name)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return fmt.Errorf("%w: is a folder", fs.ErrInvalid)
		}
		return s.sftp.Remove(name)
	})
	if err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// Get downloads the remote file name into the local file local, durably: it
// writes a temporary file in local's folder, checks the length against the
// remote size, syncs it, moves it to local without replacing an existing
// file (ErrTargetExists), and syncs the folder. It returns the number of
// bytes. A failed fsync of the file or of the folder gives an error
// wrapping fsync.ErrSync (package refundd/internal/fsync): the local file
// may be lost although a later fsync succeeds. Files larger than
// Config.MaxDownload are refused with ErrTooLarge. The remote file is left
// in place. The whole call is bounded by Config.TransferTimeout; when it
// runs out, the connection is closed and Get fails with a transient error
// wrapping ErrTimeout, leaving no local file.
func (c *Client) Get(ctx context.Context, name, local string) (int64, error) {
	if _, err := os.Lstat(local); err == nil {
		return 0, fmt.Errorf("get %s: %w: %s exists; not overwritten", name, ErrTargetExists, local)
	}
	ctx, cancel := c.transfer(ctx)
	defer cancel()
	var n int64
	err := c.do(ctx, always, func(s *session) (err error) {
		n, err = c.get(s, name, local)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("get %s: %w", name, err)
	}
	return n, nil
}

func (c *Client) get(s *session, name, local string) (n int64, err error) {
	fi, err := s.sftp.Stat(name)
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", name)
	}
	if fi.Size() > c.cfg.MaxDownload {
		return 0, fmt.Errorf("%w: %s has %d bytes, more than the limit of %d", ErrTooLarge, name, fi.Size(), c.cfg.MaxDownload)
	}
	src, err := s.sftp.Open(name)
	if err != nil {
		return 0, err
	}
	defer src.Close()

	dir := filepath.Dir(local)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(local)+".*.part")
	if err != nil {
		return 0, localError{err}
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err = io.Copy(localWriter{tmp}, io.LimitReader(src, c.cfg.MaxDownload+1))
	if err != nil {
		var le localError
		if errors.As(err, &le) {
			return n, fmt.Errorf("write %s: %w", tmp.Name(), err)
		}
		return n, fmt.Errorf("read: %w", err)
	}
	if n != fi.Size() {
		return n, fmt.Errorf("%w: read %d bytes of %s, its size is %d", ErrSizeMismatch, n, name, fi.Size())
	}
	if err := tmp.Sync(); err != nil {
		return n, localError{fmt.Errorf("sync %s: %w: %w", tmp.Name(), fsync.ErrSync, err)}
	}
	if err := tmp.Close(); err != nil {
		return n, localError{err}
	}
	if err := placeNew(tmp.Name(), local); err != nil {
		return n, localError{err}
	}
	if err := fsync.Dir(dir); err != nil {
		return n, localError{err}
	}
	return n, nil
}

// placeNew moves the file tmp to name unless name exists: a hard link never
// replaces its target, and the temporary name is removed after it. Where
// hard links are not supported it falls back to a check and a rename.
func placeNew(tmp, name string) error {
	err := os.Link(tmp, name)
	switch {
	case err == nil:
		os.Remove(tmp) // name is in place; a leftover temporary file is harmless
		return nil
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%w: %s exists; not overwritten", ErrTargetExists, name)
	}
	if _, serr := os.Lstat(name); serr == nil {
		return fmt.Errorf("%w: %s exists; not overwritten", ErrTargetExists, name)
	}
	return os.Rename(tmp, name)
}

// maxMoveNames bounds the names Move tries in the target folder.
const maxMoveNames = 1000

// Move moves the remote file name into the remote folder dir, under its
// own name or, when that is taken, "base (2).ext", "base (3).ext" and so
// on, and returns its new path. It never overwrites a file: it looks for
// a free name first and then uses the plain SFTP rename, which refuses an
// existing target (never posix-rename@openssh.com, which replaces it), so
// a file that appears under the name in between is not overwritten
// either; the next name is tried. Folders are not moved. Move is not
// tried again on a new connection: a lost reply could make a moved file
// look missing.
func (c *Client) Move(ctx context.Context, name, dir string) (string, error) {
	base := path.Base(name)
	ext := path.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	var moved string
	err := c.do(ctx, never, func(s *session) error {
		fi, err := s.sftp.Lstat(name)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return fmt.Errorf("%w: is a folder", fs.ErrInvalid)
		}
		for i := 1; i <= maxMoveNames; i++ {
			target := path.Join(dir, base)
			if i > 1 {
				target = path.Join(dir, fmt.Sprintf("%s (%d)%s", stem, i, ext))
			}
			_, err := s.sftp.Lstat(target)
			if err == nil {
				continue
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("stat %s: %w", target, err)
			}
			err = s.sftp.Rename(name, target)
			if err == nil {
				moved = target
				return nil
			}
			// A plain rename refuses an existing target (OpenSSH answers
			// a bare failure): someone took the name in between.
			if isServerReply(err) && s.failed() == nil {
				if _, serr := s.sftp.Lstat(target); serr == nil {
					continue
				}
			}
			return fmt.Errorf("rename to %s: %w", target, err)
		}
		return fmt.Errorf("%w: no free name for %s in %s", ErrTargetExists, base, dir)
	})
	if err != nil {
		return "", fmt.Errorf("move %s: %w", name, err)
	}
	return moved, nil
}
