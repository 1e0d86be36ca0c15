package spool

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultCloseSettle is the CloseSettle of a Config that leaves it zero.
const DefaultCloseSettle = 100 * time.Millisecond

// maxEarlyCheck bounds the size of a closed file whose contents are
// checked for a record boundary; a larger one waits for StableFor.
const maxEarlyCheck = 16 << 20

// FileOp is what a FileEvent says happened.
type FileOp uint8

// The file events of the kernel (inotify on Linux) that Folder.Note reads.
const (
	// FileCreated: a new file got the name.
	FileCreated FileOp = iota + 1
	// FileWritten: data was written to the file.
	FileWritten
	// FileClosed: a writer closed the file (it had it open for writing).
	FileClosed
	// FileMovedIn: a file was renamed to the name, from elsewhere in the
	// folder or from another folder.
	FileMovedIn
	// FileAttrib: the file's times, mode or owner changed.
	FileAttrib
	// FileGone: the name was removed or renamed away.
	FileGone
	// EventsLost: the kernel dropped events of the folder (its queue was
	// full, or the watch was lost); Name is empty.
	EventsLost
)

// FileEvent is one kernel event of a file in a watched folder.
type FileEvent struct {
	// Dir is the watched folder and Name the file's name in it.
	Dir, Name string
	Op        FileOp
	// At is when the event was read (time.Now).
	At time.Time
}

// hint is what the file events told of a name since the last file got it.
type hint struct {
	state  observation // the file right after its close or rename-in
	at     time.Time   // when the close or rename-in was seen
	closed bool        // closed by a writer or renamed in, nothing written since
	ended  bool        // a close or rename-in was seen: a write after it is doubt
	moved  bool        // renamed in: complete without looking at its contents
	doubt  bool        // written after a close or rename-in, or events lost: StableFor only
	last   time.Time   // the last event of the name
}

// Note takes a file event of the Folder's folder into account for Scan
// (see the package documentation, "Files known to be complete"). It returns
// the time at which a scan may take the file early, or zero. Events must be
// given in the order the kernel reported them; Note may be called from
// another goroutine than Scan.
func (f *Folder) Note(ev FileEvent) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ev.Op == EventsLost {
		// Any name may have been written again unseen.
		for name, h := range f.hints {
			h.doubt, h.closed = true, false
			h.last = ev.At
			f.hints[name] = h
		}
		return time.Time{}
	}
	if Ignored(ev.Name) || checkName(ev.Name) != nil {
		return time.Time{}
	}
	h := f.hints[ev.Name]
	h.last = ev.At
	switch ev.Op {
	case FileCreated:
		h = hint{last: ev.At} // a new file: what was known of the name is void
	case FileWritten:
		if h.ended {
			h.doubt = true // reopened after the close: never early again
		}
		h.closed = false
	case FileClosed, FileMovedIn:
		if ev.Op == FileMovedIn {
			h = hint{last: ev.At, moved: true}
			if f.returned[ev.Name] {
				// Claim put it back after it changed: refundd's own
				// rename, not a writer's; still being written, perhaps.
				delete(f.returned, ev.Name)
				h = hint{last: ev.At, ended: true, doubt: true}
			}
		}
		h.ended = true
		if h.doubt {
			break
		}
		o, ok := f.stat(ev.Name)
		if !ok {
			h.closed = false
			break
		}
		h.state, h.at, h.closed = o, ev.At, true
	case FileAttrib:
		// Times set after the close (cp -p, rsync): the settle starts
		// again from the new state.
		if h.closed {
			o, ok := f.stat(ev.Name)
			h.state, h.at, h.closed = o, ev.At, ok
		}
	case FileGone:
		delete(f.hints, ev.Name)
		return time.Time{}
	}
	f.hints[ev.Name] = h
	if h.closed && !h.doubt {
		return h.at.Add(f.closeSettle)
	}
	return time.Time{}
}

// stat returns the state of the regular file name in the folder.
func (f *Folder) stat(name string) (observation, bool) {
	fi, err := os.Lstat(filepath.Join(f.dir, name))
	if err != nil || !fi.Mode().IsRegular() {
		return observation{}, false
	}
	dev, ino, ctime := identity(fi)
	return observation{size: fi.Size(), mtime: fi.ModTime(), ctime: ctime, dev: dev, ino: ino}, true
}

// early reports whether the file name, in state cur, is known to be
// complete: closed by its writer or renamed in, unchanged since then for
// CloseSettle, never written after a close, and (unless renamed in) its
// contents end at a record boundary. When it may be once CloseSettle has
// passed, at is that time. Called with f.mu held.
func (f *Folder) early(name string, cur observation, now time.Time) (ok bool, at time.Time) {
	h, found := f.hints[name]
	if !found || !h.closed || h.doubt || !h.state.sameState(cur) {
		return false, time.Time{}
	}
	if due := h.at.Add(f.closeSettle); now.Before(due) {
		return false, due
	}
	if !h.moved && !f.recordEnd(name, cur) {
		// A close in the middle of a record: the writer may come back.
		h.closed = false
		f.hints[name] = h
		return false, time.Time{}
	}
	return true, time.Time{}
}

// recordEnd reports whether the closed file name ends at a record
// boundary, by its first byte: JSON ('{' or '[') a complete top-level
// value; XML ('<') a closed root element; anything else (CSV) a header
// line and at least one more line, the last ending in a line break outside
// quotes. A file that changes while it is read, is empty or larger than
// maxEarlyCheck does not.
func (f *Folder) recordEnd(name string, cur observation) bool {
	if cur.size == 0 || cur.size > maxEarlyCheck {
		return false
	}
	file, err := openNoFollow(filepath.Join(f.dir, name))
	if err != nil {
		return false
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxEarlyCheck+1))
	if err != nil || int64(len(data)) != cur.size {
		return false
	}
	if fi, err := file.Stat(); err != nil || fi.Size() != cur.size || !fi.ModTime().Equal(cur.mtime) {
		return false
	}
	return recordEnd(data)
}

// recordEnd applies the rules of Folder.recordEnd to the contents data.
func recordEnd(data []byte) bool {
	body := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return false
	}
	switch trimmed[0] {
	case '{', '[':
		return json.Valid(trimmed)
	case '<':
		return xmlClosed(trimmed)
	}
	if body[len(body)-1] != '\n' || bytes.Count(body, []byte{'"'})%2 != 0 {
		return false // mid-line, or inside a quoted field that spans lines
	}
	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, len(body)+1)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			lines++
		}
	}
	return sc.Err() == nil && lines >= 2
}

// xmlClosed reports whether data is an XML document whose root element is
// closed, with nothing but white space, comments and processing
// instructions after it.
func xmlClosed(data []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	depth, roots := 0, 0
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return depth == 0 && roots == 1
		}
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
			if depth < 0 {
				return false
			}
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return false
			}
		}
	}
}
