// Package atomicfile writes files durably and atomically, so that a reader
// of the folder (the ERP's importer, the uploader) sees either nothing or the
// whole file under its final name, also after a crash or a power loss.
//
// The recipe: write into a temporary file in the same folder (created with
// O_EXCL under a name that starts with '.' and ends in ".tmp", which
// importers ignore), fsync it, close it, give it its final name with a hard
// link (which, unlike rename, fails if the final name exists), remove the
// temporary name, and fsync the folder so that the new name itself is on
// disk. On any error the temporary file is removed and nothing is left under
// the final name.
//
// An fsync error is reported wrapped in fsync.ErrSync (package refundd/internal/fsync). It is not retryable: on
// Linux a failed writeback may mark the pages clean, so a second fsync can
// succeed although the data is lost. Callers treat it as fatal for the file
// and do not record it as written. The folder is synced as fsync.Dir (of
// refundd/internal/fsync) does it, through the Writer's FS: a file system
// that cannot sync a folder at all (EINVAL, ENOTSUP) is taken at its word.
package atomicfile
