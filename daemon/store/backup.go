package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"refundd/internal/fsync"
)

// ErrBackupPostgres: Backup copies the SQLite file only; a PostgreSQL
// schema is backed up with pg_dump.
var ErrBackupPostgres = errors.New("the PostgreSQL store is backed up with pg_dump, not by refundd")

// BackupInfo describes a copy that Backup wrote and checked.
type BackupInfo struct {
	// Path is the copy, an absolute path.
	Path string
	// Version is its schema version, Batches how many batches it holds,
	// Size its size in bytes.
	Version int
	Batches int
	Size    int64
}

// Backup writes a consistent copy of the SQLite database to dest while
// the store stays in use: VACUUM INTO reads one snapshot in a read
// transaction, which in WAL mode neither waits for the writer nor holds
// it up, so the copy holds exactly the transactions committed before it
// began. The copy is written under a temporary name in dest's folder,
// checked (IntegrityCheck, on a Store opened on it), synced, renamed to
// dest, and the folder synced: dest is either absent or a whole, checked
// copy. An existing dest is refused with an error wrapping fs.ErrExist,
// and is left as it is.
//
// The copy has mode 0600. It is a database like the original: put in
// place as the state folder's FileName, refundd runs on it.
//
// On PostgreSQL Backup fails with ErrBackupPostgres.
func (s *Store) Backup(ctx context.Context, dest string) (BackupInfo, error) {
	info, err := s.backup(ctx, dest)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("back up %s to %s: %w", s.path, dest, err)
	}
	return info, nil
}

func (s *Store) backup(ctx context.Context, dest string) (BackupInfo, error) {
	if s.d.pg {
		return BackupInfo{}, ErrBackupPostgres
	}
	if dest == "" || strings.ContainsAny(dest, "?#") {
		return BackupInfo{}, fmt.Errorf("%w: the backup must name a file, without '?' or '#'", ErrInvalid)
	}
	abs, err := filepath.Abs(dest)
	if err != nil {
		return BackupInfo{}, err
	}
	if err := absent(abs); err != nil {
		return BackupInfo{}, err
	}
	dir := filepath.Dir(abs)
	// VACUUM INTO writes into an empty file; CreateTemp makes one that
	// no one else can read (mode 0600) under a name no one else uses.
	f, err := os.CreateTemp(dir, "."+filepath.Base(abs)+".*.tmp")
	if err != nil {
		return BackupInfo{}, err
	}
	tmp := f.Name()
	if err := f.Close(); err != nil {
		return BackupInfo{}, errors.Join(err, removeDB(tmp))
	}
	info, err := s.copyTo(ctx, tmp)
	if err == nil {
		err = absent(abs) // the check above may be a while ago
	}
	if err == nil {
		err = os.Rename(tmp, abs)
	}
	if err != nil {
		return BackupInfo{}, errors.Join(err, removeDB(tmp))
	}
	if err := fsync.Dir(dir); err != nil {
		return BackupInfo{}, err
	}
	info.Path = abs
	return info, nil
}

// absent refuses a path that exists.
func absent(path string) error {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return fmt.Errorf("%w: %s (a backup never replaces a file)", fs.ErrExist, path)
	case errors.Is(err, fs.ErrNotExist):
		return nil
	}
	return err
}

// copyTo writes the snapshot into the empty file tmp, checks it and
// syncs it.
func (s *Store) copyTo(ctx context.Context, tmp string) (BackupInfo, error) {
	// The readers are query_only, which refuses VACUUM INTO although it
	// writes only the new file: the copy is made on a connection of its
	// own, which reads like a reader.
	c, err := sql.Open("sqlite", plainDSN(s.path))
	if err != nil {
		return BackupInfo{}, err
	}
	c.SetMaxOpenConns(1)
	_, err = c.ExecContext(ctx, `VACUUM INTO ?`, tmp)
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return BackupInfo{}, fmt.Errorf("vacuum into %s: %w", tmp, err)
	}

	cp, err := Open(tmp)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("check the copy: %w", err)
	}
	var info BackupInfo
	err = cp.IntegrityCheck(ctx)
	if err == nil {
		info.Version, err = cp.Version(ctx)
	}
	if err == nil {
		err = cp.r.QueryRowContext(ctx, `SELECT count(*) FROM batches`).Scan(&info.Batches)
	}
	// Closing the last connection checkpoints the copy's WAL into the
	// file and removes it: the copy is one file again.
	if cerr := cp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return BackupInfo{}, fmt.Errorf("check the copy: %w", err)
	}

	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return BackupInfo{}, err
	}
	err = f.Sync()
	if err != nil {
		err = fmt.Errorf("sync %s: %w: %w", tmp, fsync.ErrSync, err)
	}
	fi, serr := f.Stat()
	if err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return BackupInfo{}, err
	}
	info.Size = fi.Size()
	return info, nil
}

// plainDSN is the data source name of a plain connection to the
// database at path: it waits for locks as the store's own do, and
// changes no setting of the database.
func plainDSN(path string) string {
	return path + "?_busy_timeout=" + strconv.FormatInt(busyTimeout.Milliseconds(), 10)
}

// removeDB removes a database file that is not wanted and the journal
// files beside it.
func removeDB(path string) error {
	var errs []error
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
