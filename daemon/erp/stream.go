package erp

import (
	"crypto/sha256"
	"encoding/csv"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"

	"refundd/daemon/atomicfile"
	"refundd/internal/fsync"
)

// ExceptionStream writes an exceptions file row by row, so that a bank
// reply with many exceptions (a statement of 100,000 entries that are not
// refundd's) is never held in memory. The rows go to a hidden temporary
// file in the import folder (".exceptions-….tmp", which the ERP's
// readers skip); Close names it as WriteExceptions would, by time and
// content, or keeps the file with the same contents that is there already
// and removes the new one.
type ExceptionStream struct {
	w    *Writer
	f    *os.File
	h    hash.Hash
	cw   *csv.Writer
	n    int
	done bool
}

// StreamExceptions starts an exceptions file.
func (w *Writer) StreamExceptions() (*ExceptionStream, error) {
	f, err := os.CreateTemp(w.Dir, "."+KindExceptions+"-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("start exceptions file: %w", err)
	}
	perm := atomicfile.DefaultPerm
	if w.Files != nil && w.Files.Perm != 0 {
		perm = w.Files.Perm
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("start exceptions file: %w", err)
	}
	s := &ExceptionStream{w: w, f: f, h: sha256.New()}
	s.cw = csv.NewWriter(io.MultiWriter(f, s.h))
	s.cw.Comma = ';'
	s.cw.UseCRLF = true
	if err := s.cw.Write(exceptionsHeader()); err != nil {
		s.Abort()
		return nil, fmt.Errorf("start exceptions file: %w", err)
	}
	return s, nil
}

// Add writes one row.
func (s *ExceptionStream) Add(r *ExceptionRow) error {
	s.n++
	if err := s.cw.Write(exceptionRecord(r)); err != nil {
		return fmt.Errorf("write exceptions file %s: %w", s.f.Name(), err)
	}
	return nil
}

// Len returns the number of rows written.
func (s *ExceptionStream) Len() int { return s.n }

// Close makes the file durable under its final name and returns that
// name; "" when no row was written (and no file is left).
func (s *ExceptionStream) Close() (string, error) {
	if s.n == 0 {
		s.Abort()
		return "", nil
	}
	s.cw.Flush()
	err := s.cw.Error()
	if err == nil {
		if err = s.f.Sync(); err != nil {
			err = fmt.Errorf("%w: %w", fsync.ErrSync, err)
		}
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.done = true
		os.Remove(s.f.Name())
		return "", fmt.Errorf("write exceptions file: %w", err)
	}
	s.done = true
	sum := s.h.Sum(nil)
	id := sumID(sum)
	if name := s.w.writtenSum(KindExceptions, "-"+id+".csv", sum); name != "" {
		os.Remove(s.f.Name())
		return name, nil
	}
	if s.w.Fence != nil {
		if err := s.w.Fence(); err != nil {
			os.Remove(s.f.Name())
			return "", fmt.Errorf("write exceptions file: %w", err)
		}
	}
	name := KindExceptions + "-" + s.w.stamp() + "-" + id + ".csv"
	if err := os.Rename(s.f.Name(), filepath.Join(s.w.Dir, name)); err != nil {
		os.Remove(s.f.Name())
		return "", fmt.Errorf("write exceptions file: %w", err)
	}
	if err := fsync.Dir(s.w.Dir); err != nil {
		return "", fmt.Errorf("write exceptions file %s: %w", name, err)
	}
	return name, nil
}

// Abort removes the temporary file; a stream closed already is left.
func (s *ExceptionStream) Abort() {
	if s.done {
		return
	}
	s.done = true
	s.f.Close()
	os.Remove(s.f.Name())
}

// writtenSum returns the name of a file of the kind in the folder that
// ends in suffix and whose SHA-256 is sum, or "". The files are hashed as
// streams: an exceptions file may be large.
func (w *Writer) writtenSum(kind, suffix string, sum []byte) string {
	es, err := os.ReadDir(w.Dir)
	if err != nil {
		return ""
	}
	for _, e := range es {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, kind+"-") || !strings.HasSuffix(name, suffix) {
			continue
		}
		f, err := os.Open(filepath.Join(w.Dir, name))
		if err != nil {
			continue
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err == nil && string(h.Sum(nil)) == string(sum) {
			return name
		}
	}
	return ""
}
