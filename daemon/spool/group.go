package spool

import (
	"fmt"
	"os"
	"path/filepath"
)

// ClaimAll claims the files cs that Scan offered, as Claim does each, but
// makes the renames durable together: both folders are synced once for
// all of them, not twice per file. It returns, for each candidate, either
// its claim or the error Claim would have returned. A failed sync of a
// folder (wrapping fsync.ErrSync) is the error of every file renamed.
func (f *Folder) ClaimAll(cs []Candidate) ([]Claimed, []error) {
	out, errs := make([]Claimed, len(cs)), make([]error, len(cs))
	f.mu.Lock()
	defer f.mu.Unlock()
	src, dst := make([]string, len(cs)), make([]string, len(cs))
	renamed := 0
	for i, c := range cs {
		if err := checkCandidateName(c.Name); err != nil {
			errs[i] = fmt.Errorf("claim: %w", err)
			continue
		}
		src[i], dst[i], errs[i] = f.claimRename(c)
		if errs[i] == nil {
			renamed++
		}
	}
	if renamed == 0 {
		return out, errs
	}
	// One sync of each folder makes every rename above durable.
	err := f.syncDir(f.work)
	if err == nil {
		err = f.syncDir(f.dir)
	}
	for i, c := range cs {
		switch {
		case errs[i] != nil:
		case err != nil:
			errs[i] = fmt.Errorf("claim %s: %w", src[i], err)
		default:
			out[i], errs[i] = f.claimRead(c, src[i], dst[i])
		}
	}
	return out, errs
}

// DoneAll archives the claimed files cls, as Done does each with the name
// they were dropped with, but makes the renames durable together: the
// archive folder and work/ are synced once for all of them. It returns
// the new paths, "" for a file not archived, and the first error; files
// archived before it are durable in the archive.
func (f *Folder) DoneAll(cls []Claimed) ([]string, error) {
	out := make([]string, len(cls))
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	dir := filepath.Join(f.archive, fmt.Sprintf("%04d", now.Year()), fmt.Sprintf("%02d", int(now.Month())))
	if err := f.mkdirAll(dir); err != nil {
		return out, fmt.Errorf("archive: %w", err)
	}
	var first error
	moved := 0
	for i, cl := range cls {
		if err := checkName(cl.Name); err != nil {
			first = fmt.Errorf("archive %s: %w", cl.Path, err)
			break
		}
		if err := f.checkClaimed(cl); err != nil {
			first = err
			break
		}
		p, err := freeName(dir, cl.Name)
		if err != nil {
			first = fmt.Errorf("archive %s: %w", cl.Path, err)
			break
		}
		if err := os.Rename(cl.Path, p); err != nil {
			first = fmt.Errorf("archive: %w", err)
			break
		}
		out[i] = p
		moved++
	}
	if moved == 0 {
		return out, first
	}
	// One sync of each folder makes every rename above durable.
	if err := f.syncDir(dir); err != nil {
		return make([]string, len(cls)), fmt.Errorf("archive: %w", err)
	}
	if err := f.syncDir(f.work); err != nil {
		return make([]string, len(cls)), fmt.Errorf("archive: %w", err)
	}
	return out, first
}
