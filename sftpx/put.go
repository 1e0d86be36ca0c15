package sftpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/sftp"
)

// putConcurrency is the most write requests of one upload in flight at
// once. A few hide the round trip; many more gain nothing and cost the
// server: OpenSSH's sshd burns several times the CPU per byte when more
// data arrives than its SFTP subsystem writes away (measured against a
// local sshd, 100 MiB: 16 in flight 0.3 s of server CPU, 64 in flight
// 1.3 s, and slower uploads on a busy machine). 16 requests of 32 KiB are
// 512 KiB per round trip.
const putConcurrency = 16

// Put uploads the content of r as the remote file name (a path on the
// server) without ever exposing a partial file under that name:
//
//  1. it fails with ErrTargetExists if name exists;
//  2. it writes to the temporary name (Config.TempPattern) in the same
//     folder, created with O_WRONLY|O_CREATE|O_EXCL; a leftover temporary
//     file of an earlier attempt is removed first;
//  3. it writes with several requests in flight (they may land out of
//     order), checks every write, flushes with fsync@openssh.com when the
//     server offers it, checks the close, and compares the remote size
//     with the bytes read from r;
//  4. it renames the temporary file to name with posix-rename@openssh.com
//     when the server offers it, else with a plain rename, after checking
//     again that name does not exist. It never overwrites or removes a file
//     under name. (posix-rename replaces atomically, so with it only a file
//     created under name by someone else in the moment between that check
//     and the rename could be replaced; a plain rename refuses an existing
//     target itself.)
//
// On failure the temporary file is removed; if the connection is gone, it
// is removed on a later call. If the connection is lost after the rename
// was sent, the error wraps ErrInDoubt: the file may be in place.
//
// The whole call is bounded by Config.TransferTimeout: when it runs out,
// the connection is closed and Put fails with a transient error wrapping
// ErrTimeout (ErrInDoubt if the rename was already sent).
func (c *Client) Put(ctx context.Context, name string, r io.Reader) error {
	tmp, err := c.cfg.tempName(name)
	if err != nil {
		return fmt.Errorf("put %s: %w", name, err)
	}
	return c.PutAs(ctx, name, tmp, r)
}

// PutAs is Put with the temporary name tmp chosen by the caller (see
// Config.TempName), so that a caller who records the name before the
// upload can find, or remove, the temporary file of an attempt that was
// interrupted. tmp must be in the folder of name and differ from it.
func (c *Client) PutAs(ctx context.Context, name, tmp string, r io.Reader) error {
	return c.PutChecked(ctx, name, tmp, r, nil)
}

// PutChecked is PutAs that calls check, when not nil, just before the
// rename to name: an error from it stops the upload before the rename
// (the temporary file is removed, best effort) and is returned wrapped. A
// leader that may have been deposed checks its deadline there, so that
// it never renames a file after another instance may have taken over.
func (c *Client) PutChecked(ctx context.Context, name, tmp string, r io.Reader, check func() error) error {
	if path.Dir(tmp) != path.Dir(name) || path.Base(tmp) == path.Base(name) {
		return fmt.Errorf("put %s: %w: temporary name %q is not another name in the same folder", name, ErrConfig, tmp)
	}
	ctx, cancel := c.transfer(ctx)
	defer cancel()
	// Tried again on a new connection only if nothing was created yet.
	created := false
	err := c.do(ctx, func() bool { return !created }, func(s *session) error {
		return c.put(ctx, s, name, tmp, r, &created, check)
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", name, err)
	}
	return nil
}

func (c *Client) put(ctx context.Context, s *session, name, tmp string, r io.Reader, created *bool, check func() error) (err error) {
	if err := absent(s.sftp, name); err != nil {
		return err
	}
	*created = true // from here on the server may hold the temporary file
	defer func() {
		if err != nil {
			c.discard(s, tmp)
		}
	}()
	f, err := createExcl(s.sftp, tmp)
	if err != nil {
		return err
	}
	// The writes are concurrent: up to putConcurrency requests are in
	// flight, whatever kind of reader r is. They may land out of order,
	// and after a failed write later ones may still have landed, so the
	// temporary file can hold holes or a misleading length; that is why it
	// is renamed only after every write succeeded and its size is checked.
	n, err := f.ReadFromWithConcurrency(localReader{r}, putConcurrency)
	if err != nil {
		f.Close()
		var le localError
		if errors.As(err, &le) {
			return fmt.Errorf("read the source: %w", err)
		}
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if s.fsync {
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("sync %s: %w", tmp, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	fi, err := s.sftp.Stat(tmp)
	if err != nil {
		return fmt.Errorf("stat %s: %w", tmp, err)
	}
	if fi.Size() != n {
		return fmt.Errorf("%w: %s has %d bytes on the server, %d were sent", ErrSizeMismatch, tmp, fi.Size(), n)
	}
	if err := absent(s.sftp, name); err != nil {
		return err
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if check != nil {
		if err := check(); err != nil {
			return fmt.Errorf("before the rename of %s: %w", tmp, err)
		}
	}
	if s.posixRename {
		err = s.sftp.PosixRename(tmp, name)
	} else {
		err = s.sftp.Rename(tmp, name)
	}
	if err == nil {
		return nil
	}
	if !isServerReply(err) || s.failed() != nil {
		return fmt.Errorf("rename %s to %s: %w: %w", tmp, name, ErrInDoubt, err)
	}
	// A plain rename refuses an existing target (OpenSSH answers a bare
	// failure); say so if that was the reason.
	if _, serr := s.sftp.Lstat(name); serr == nil {
		return fmt.Errorf("rename %s: %w: %s appeared during the upload; not overwritten", tmp, ErrTargetExists, name)
	}
	return fmt.Errorf("rename %s to %s: %w", tmp, name, err)
}

// absent fails with ErrTargetExists if name exists.
func absent(sc *sftp.Client, name string) error {
	_, err := sc.Lstat(name)
	switch {
	case err == nil:
		return fmt.Errorf("%w: %s exists on the server; not overwritten", ErrTargetExists, name)
	case errors.Is(err, fs.ErrNotExist):
		return nil
	}
	return fmt.Errorf("stat %s: %w", name, err)
}

// createExcl creates name for writing; it must not exist. A leftover of an
// earlier attempt under the same temporary name is removed and the create
// tried once more.
func createExcl(sc *sftp.Client, name string) (*sftp.File, error) {
	const flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	f, err := sc.OpenFile(name, flags)
	if err == nil {
		return f, nil
	}
	if !isServerReply(err) {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	// OpenSSH answers an existing file with a bare failure, so look.
	if _, serr := sc.Lstat(name); serr != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	if rerr := sc.Remove(name); rerr != nil {
		return nil, fmt.Errorf("remove leftover %s: %w", name, rerr)
	}
	f, err = sc.OpenFile(name, flags)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	return f, nil
}

// Probe checks that the client may write in the remote folder dir: it
// writes a small file under a temporary name (Config.TempPattern, which
// the server's pickup is expected to ignore), checks its size and removes
// it. Nothing appears under a final name.
func (c *Client) Probe(ctx context.Context, dir string) error {
	base := "sftpx-probe-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	tmp, err := c.cfg.tempName(path.Join(dir, base))
	if err != nil {
		return fmt.Errorf("probe %s: %w", dir, err)
	}
	const content = "write probe; safe to delete\n"
	err = c.do(ctx, never, func(s *session) (err error) {
		f, err := createExcl(s.sftp, tmp)
		if err != nil {
			return err
		}
		defer func() {
			if rerr := s.sftp.Remove(tmp); rerr != nil && err == nil {
				err = fmt.Errorf("remove %s: %w", tmp, rerr)
			}
		}()
		if _, err := f.ReadFrom(strings.NewReader(content)); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", tmp, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("close %s: %w", tmp, err)
		}
		fi, err := s.sftp.Stat(tmp)
		if err != nil {
			return fmt.Errorf("stat %s: %w", tmp, err)
		}
		if fi.Size() != int64(len(content)) {
			return fmt.Errorf("%w: %s has %d bytes, %d were sent", ErrSizeMismatch, tmp, fi.Size(), len(content))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("probe %s: %w", dir, err)
	}
	return nil
}
