package erp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"refundd/daemon/atomicfile"
	"refundd/daemon/failpoint"
	"refundd/daemon/refund"
	"refundd/internal/fsync"
)

// The kinds of file written for the ERP; each is the prefix of its files'
// names.
const (
	KindStatus     = "status"
	KindPostings   = "postings"
	KindMatches    = "matches"
	KindExceptions = "exceptions"
)

// Writer writes the files for the ERP into its import folder, each
// atomically (package atomicfile) under the name
// "<kind>-<UTC time>-<hash>.csv" (".json" for the Visma.net JSON
// postings), for example
// "postings-20261207T093000.000000000Z-K3J5M2QA.csv": the time, to the
// nanosecond and strictly increasing for one Writer, makes the names sort
// in the order written; the hash (of the contents) makes them unique. An
// empty list writes no file. A Writer must not be copied after first use;
// it may be used concurrently.
type Writer struct {
	// Dir is the ERP's import folder.
	Dir string
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// Files writes the files; nil means the real file system.
	Files *atomicfile.Writer
	// Postings is the format of the postings files; the zero value is
	// refundd's own CSV.
	Postings Postings
	// Fence, when set, is called before each file is given its final name
	// (see atomicfile.Writer.Fence); an error ends the write and nothing is
	// left under the final name. With Sweep it keeps an instance that lost
	// its lease from adding a file after the instance that took over has
	// written its own.
	Fence func() error

	mu   sync.Mutex
	last time.Time
}

// WriteStatus writes a status file with rows and returns its name, or ""
// when rows is empty.
func (w *Writer) WriteStatus(rows []StatusRow) (string, error) {
	return w.write(KindStatus, ".csv", len(rows), func(b io.Writer) error { return EncodeStatus(b, rows) })
}

// WriteStatusOnce is WriteStatus for rows that are the same each time
// they are written (their At is when they were recorded): a status file
// with the same contents already in the folder is not written again.
func (w *Writer) WriteStatusOnce(rows []StatusRow) (string, error) {
	return w.writeOnce(KindStatus, ".csv", len(rows), func(b io.Writer) error { return EncodeStatus(b, rows) })
}

// WritePostings writes the postings of vouchers in the format of
// w.Postings and returns the names of the files written: one CSV file, or
// with PostingsVismaJSON one JSON file per journal transaction; none when
// there are no vouchers. A postings file with the same contents already
// in the folder (written by a run that stopped before it recorded the
// reply) is not written again: its name is returned, so that a booking is
// posted once. One the ERP took away is written again; its vouchers carry
// the same ids.
func (w *Writer) WritePostings(vouchers []refund.Voucher) ([]string, error) {
	if len(vouchers) == 0 {
		return nil, nil
	}
	var enc func(io.Writer) error
	switch w.Postings.Format {
	case "", PostingsRefundd:
		enc = func(b io.Writer) error { return EncodePostings(b, vouchers) }
	case PostingsVismaCSV:
		enc = func(b io.Writer) error { return EncodeVismaCSV(b, w.Postings, vouchers) }
	case PostingsVismaJSON:
		docs, err := EncodeVismaJSON(w.Postings, vouchers)
		if err != nil {
			return nil, fmt.Errorf("encode %s file: %w", KindPostings, err)
		}
		var names []string
		for _, doc := range docs {
			name, err := w.writeOnce(KindPostings, ".json", 1, func(b io.Writer) error { _, err := b.Write(doc); return err })
			if err != nil {
				return names, err
			}
			names = append(names, name)
		}
		return names, nil
	default:
		return nil, fmt.Errorf("write %s file: unknown format %q", KindPostings, w.Postings.Format)
	}
	name, err := w.writeOnce(KindPostings, ".csv", len(vouchers), enc)
	if err != nil {
		return nil, err
	}
	return []string{name}, nil
}

// writeOnce is write for the kinds of file that must reach the ERP once:
// a file of the kind with the same contents already in the folder is not
// written again, and its name is returned.
func (w *Writer) writeOnce(kind, ext string, n int, enc func(io.Writer) error) (string, error) {
	if n == 0 {
		return "", nil
	}
	var buf bytes.Buffer
	if err := enc(&buf); err != nil {
		return "", fmt.Errorf("encode %s file: %w", kind, err)
	}
	if name := w.written(kind, ext, buf.Bytes()); name != "" {
		return name, nil
	}
	return w.write(kind, ext, n, func(b io.Writer) error { _, err := b.Write(buf.Bytes()); return err })
}

// written returns the name of a file of the kind in the folder with the
// contents data, or "" when there is none (or the folder cannot be read:
// the file is then written again, which the voucher ids make harmless).
func (w *Writer) written(kind, ext string, data []byte) string {
	sum := sha256.Sum256(data)
	return w.writtenSum(kind, "-"+sumID(sum[:])+ext, sum[:])
}

// WriteMatches writes a matches file with rows and returns its name, or ""
// when rows is empty. As for postings, the same file already in the folder
// is not written again, so that a bank entry is matched once.
func (w *Writer) WriteMatches(rows []MatchRow) (string, error) {
	return w.writeOnce(KindMatches, ".csv", len(rows), func(b io.Writer) error { return EncodeMatches(b, rows) })
}

// WriteExceptions writes an exceptions file with rows and returns its name,
// or "" when rows is empty. The same file already in the folder is not
// written again.
func (w *Writer) WriteExceptions(rows []ExceptionRow) (string, error) {
	return w.writeOnce(KindExceptions, ".csv", len(rows), func(b io.Writer) error { return EncodeExceptions(b, rows) })
}

// write encodes n records of a kind of file and writes them durably. The
// error of a failed write is atomicfile's, which names the file; an fsync
// error satisfies errors.Is(err, fsync.ErrSync).
func (w *Writer) write(kind, ext string, n int, enc func(io.Writer) error) (string, error) {
	if n == 0 {
		return "", nil
	}
	var buf bytes.Buffer
	if err := enc(&buf); err != nil {
		return "", fmt.Errorf("encode %s file: %w", kind, err)
	}
	name := kind + "-" + w.stamp() + "-" + contentID(buf.Bytes()) + ext
	var files atomicfile.Writer
	if w.Files != nil {
		files = *w.Files
	}
	files.Fence = func() error {
		if w.Fence != nil {
			if err := w.Fence(); err != nil {
				return err
			}
		}
		if kind == KindPostings {
			failpoint.Hit(failpoint.PostingsFenced)
		}
		return nil
	}
	err := files.Write(w.Dir, name, func(f io.Writer) error {
		data := buf.Bytes()
		if _, err := f.Write(data[:len(data)/2]); err != nil {
			return err
		}
		failpoint.Hit(failpoint.DuringLedgerWrite)
		_, err := f.Write(data[len(data)/2:])
		return err
	})
	if err != nil {
		return "", err
	}
	return name, nil
}

// Sweep removes the temporary files of writes in progress that it finds
// in the import folder (".postings-….tmp" and the like, of every kind) and
// returns their names. An instance that takes over from one that lost its
// lease sweeps before it writes anything: a write of the old instance
// still under way then ends without a file (its temporary is gone), or,
// when its Fence check comes after the sweep, is refused; one that ended
// before the sweep left its file, which the new instance finds by content
// and does not write again. Sweep must not run while this Writer writes.
func (w *Writer) Sweep() ([]string, error) {
	es, err := os.ReadDir(w.Dir)
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %w", w.Dir, err)
	}
	var removed []string
	for _, e := range es {
		if !e.Type().IsRegular() || !tempName(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(w.Dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("sweep %s: %w", w.Dir, err)
		}
		removed = append(removed, e.Name())
	}
	if len(removed) > 0 {
		if err := fsync.Dir(w.Dir); err != nil {
			return removed, fmt.Errorf("sweep %s: %w", w.Dir, err)
		}
	}
	return removed, nil
}

// tempName reports whether name is that of a temporary file of a Writer:
// a hidden file of one of the kinds, ending in ".tmp".
func tempName(name string) bool {
	if !strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".tmp") {
		return false
	}
	for _, k := range []string{KindStatus, KindPostings, KindMatches, KindExceptions} {
		if strings.HasPrefix(name[1:], k+"-") {
			return true
		}
	}
	return false
}

// stamp returns the time for the next file name, in UTC, later than the
// one before even when the clock stands still or steps back.
func (w *Writer) stamp() string {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	t := now().UTC().Round(0) // the wall clock: names compare by it
	w.mu.Lock()
	if !t.After(w.last) {
		t = w.last.Add(time.Nanosecond)
	}
	w.last = t
	w.mu.Unlock()
	return t.Format("20060102T150405.000000000") + "Z"
}

// contentID returns 8 characters of a hash of data.
func contentID(data []byte) string {
	h := sha256.Sum256(data)
	return sumID(h[:])
}

// sumID returns the 8 characters of contentID from the SHA-256 sum.
func sumID(sum []byte) string { return base32.StdEncoding.EncodeToString(sum)[:8] }
