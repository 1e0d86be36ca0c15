package spool

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"refundd/internal/fsync"
)

// DefaultSettle is the Settle of a Config that leaves it zero.
const DefaultSettle = time.Second

// The modes, before the umask, of the folders and .err reports that a
// Folder creates: the operator's group may read them.
const (
	dirPerm  fs.FileMode = 0o750
	filePerm fs.FileMode = 0o640
)

var (
	// ErrSkipped is wrapped by the error of a Claim that did not take the
	// file because it is no longer what Scan offered: it is gone (the
	// writer moved it away again), was replaced, or changed since the scan
	// or while it was being claimed, or a file server refused to rename it
	// because it is open (a writer is still at work). It is not
	// a failure: the caller moves on, and a later Scan offers the file
	// again once it is ready.
	ErrSkipped = errors.New("skipped")

	// ErrNameInWork is wrapped, beside ErrSkipped, by the error of a Claim
	// of a file whose name is still taken in work/ by an earlier file that
	// has not finished: the new file waits in the folder until it has.
	ErrNameInWork = errors.New("name still in work")

	// ErrCrossDevice is wrapped by the errors of Open and Claim when the
	// folder and the state folder are on different file systems, so that
	// a file cannot be claimed by a rename.
	ErrCrossDevice = errors.New("not on the same file system")
)

// Config describes a Folder.
type Config struct {
	// Dir is the folder that files are dropped into (export/ or inbox/).
	// It must exist: Open does not create it, since a missing folder is
	// usually a share that is not mounted.
	Dir string
	// State is refundd's state folder. It must exist and be on the file
	// system of Dir. Open creates work/<Kind>/ and archive/<Kind>/ in it,
	// and failed/ in Dir.
	State string
	// Kind names the subfolders of work/ and archive/ ("export", "inbox").
	Kind string
	// StableFor is how long a file without a done marker must stay
	// unchanged before it is taken; 0 takes every file at once, which is
	// right only when every writer renames its files in. See the package
	// documentation.
	StableFor time.Duration
	// Settle is the shortest time between the two sightings of an
	// unchanged file whose modification time is already StableFor old
	// (a file renamed in); 0 means DefaultSettle. It is never longer than
	// StableFor.
	Settle time.Duration
	// CloseSettle is how long a file that the file events show complete
	// (closed by its writer, or renamed in) must stay unchanged before it
	// is taken without waiting for StableFor; 0 means
	// DefaultCloseSettle. See Note.
	CloseSettle time.Duration
	// Now is the clock that names the archive's month folders; nil means
	// time.Now.
	Now func() time.Time
}

// Candidate is a file that Scan found ready to be claimed.
type Candidate struct {
	// Name is the file's name in the folder.
	Name string
	// Size and ModTime are those seen by Scan.
	Size    int64
	ModTime time.Time
	// Marker tells that the file had a done marker.
	Marker bool
	// Early tells that the file was taken as known complete from its
	// file events (see Note), before StableFor.
	Early bool

	dev, ino uint64
}

// sameFile reports whether fi is still the file that Scan offered.
func (c Candidate) sameFile(fi fs.FileInfo) bool {
	dev, ino, _ := identity(fi)
	return dev == c.dev && ino == c.ino && fi.Size() == c.Size && fi.ModTime().Equal(c.ModTime)
}

// Claimed is a file that is in the state folder's work/<kind>/, taken by
// Claim or left there by an earlier run (Pending). It stays there until
// Done, Fail or Duplicate moves it on.
type Claimed struct {
	// Name is the file's name in the folder it was dropped into, which
	// is also its name in work/ (see Claim).
	Name string
	// Path is where the file is now, in work/<kind>/.
	Path string
	// Size is its length in bytes and SHA256 the hex SHA-256 of its
	// contents, both from reading the claimed file.
	Size   int64
	SHA256 string
	// ModTime is its modification time, as the writer left it.
	ModTime time.Time
}

// Folder is one drop folder with its share of the state folder. Its methods
// may be called from several goroutines; they run one at a time. One
// process at a time may use a state folder.
type Folder struct {
	dir                   string
	work, archive, failed string
	stableFor, settle     time.Duration
	closeSettle           time.Duration
	now                   func() time.Time

	mu        sync.Mutex
	seen      map[string]observation // by name, the files Scan saw last time
	waiting   int                    // seen by the last Scan, not yet ready
	nextCheck time.Time              // when the first of those may be ready
	hints     map[string]hint        // by name, what the file events told (Note)
	returned  map[string]bool        // names Claim put back: their rename-in is refundd's own

	// Seams for tests.
	fsync       func(*os.File) error // (*os.File).Sync
	afterRename func(path string)    // called by Claim after its rename
}

// observation is what Scan remembers of a file.
type observation struct {
	size         int64
	mtime, ctime time.Time
	dev, ino     uint64
	since        time.Time // the scan that first saw it in this state
}

func (o observation) sameState(p observation) bool {
	return o.size == p.size && o.mtime.Equal(p.mtime) && o.ctime.Equal(p.ctime) &&
		o.dev == p.dev && o.ino == p.ino
}

// Open checks the folders of cfg, creates the subfolders that are missing
// and returns the Folder.
func Open(cfg Config) (*Folder, error) {
	if err := checkName(cfg.Kind); err != nil || Ignored(cfg.Kind) {
		return nil, fmt.Errorf("spool: kind %q is not a plain folder name", cfg.Kind)
	}
	if cfg.StableFor < 0 {
		return nil, fmt.Errorf("spool: StableFor %v is negative", cfg.StableFor)
	}
	if cfg.Settle < 0 || cfg.CloseSettle < 0 {
		return nil, fmt.Errorf("spool: Settle %v or CloseSettle %v is negative", cfg.Settle, cfg.CloseSettle)
	}
	if cfg.Dir == "" || cfg.State == "" {
		return nil, errors.New("spool: the folder and the state folder must be given")
	}
	dir, state := filepath.Clean(cfg.Dir), filepath.Clean(cfg.State)
	for _, d := range []string{dir, state} {
		fi, err := os.Stat(d)
		if err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("spool: %s is not a folder", d)
		}
	}
	f := &Folder{
		dir:       dir,
		work:      filepath.Join(state, "work", cfg.Kind),
		archive:   filepath.Join(state, "archive", cfg.Kind),
		failed:    filepath.Join(dir, "failed"),
		stableFor: cfg.StableFor,
		settle:    cfg.Settle,
		now:       cfg.Now,
		seen:      map[string]observation{},
		hints:     map[string]hint{},
		returned:  map[string]bool{},
		fsync:     (*os.File).Sync,
	}
	f.closeSettle = cfg.CloseSettle
	if f.settle == 0 {
		f.settle = DefaultSettle
	}
	f.settle = min(f.settle, f.stableFor)
	if f.closeSettle == 0 {
		f.closeSettle = DefaultCloseSettle
	}
	if f.now == nil {
		f.now = time.Now
	}
	for _, d := range []string{f.work, f.archive, f.failed} {
		if err := f.mkdirAll(d); err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
	}
	if err := f.removeStaleReports(); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	// Claim renames from dir into work/, Fail from work/ into failed/.
	if err := sameDevice(dir, f.work); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := sameDevice(f.failed, f.work); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return f, nil
}

// Dir returns the folder that files are dropped into.
func (f *Folder) Dir() string { return f.dir }

// Scan lists the files of the folder that are ready to be claimed, oldest
// modification first. Only regular files count; hidden, temporary and other
// Ignored names, symlinks, folders, FIFOs and the like are passed over. A
// file is ready when
//
//   - it has a done marker (<name>.done) at least as new as the file, or
//   - StableFor is 0, or
//   - an earlier Scan saw it in the same state (size, modification time,
//     inode change time, inode) at least StableFor before now, or
//   - its modification time is at least StableFor before now and an
//     earlier Scan saw it in the same state at least Settle before now
//     (a file renamed in keeps its modification time), or
//   - the file events given to Note show it complete: closed by its
//     writer or renamed in, at least CloseSettle before now, and in the
//     same state since (see Note).
//
// So without a marker or file events a file is never ready at the first
// sight. now is
// the time of the scan; pass time.Now(). When some entries could not be
// looked at, Scan returns the candidates it found together with an error
// naming the others.
func (f *Folder) Scan(now time.Time) ([]Candidate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waiting, f.nextCheck = 0, time.Time{}
	listed := time.Now()
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", f.dir, err)
	}
	byName := make(map[string]fs.DirEntry, len(entries))
	for _, e := range entries {
		byName[e.Name()] = e
	}
	var (
		cands   []Candidate
		errs    []error
		present = make(map[string]bool, len(entries))
	)
	for _, e := range entries {
		name := e.Name()
		if Ignored(name) || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info() // lstat
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		present[name] = true
		dev, ino, ctime := identity(fi)
		cur := observation{size: fi.Size(), mtime: fi.ModTime(), ctime: ctime, dev: dev, ino: ino, since: now}
		if prev, ok := f.seen[name]; ok && prev.sameState(cur) {
			cur.since = prev.since
		}
		f.seen[name] = cur
		c := Candidate{Name: name, Size: fi.Size(), ModTime: fi.ModTime(), dev: dev, ino: ino}
		switch {
		case hasMarker(byName, name, fi):
			c.Marker = true
		case f.stableFor == 0, f.ready(cur, now):
		default:
			ok, due := f.early(name, cur, now)
			if ok {
				c.Early = true
				break
			}
			f.wait(cur, due)
			continue
		}
		cands = append(cands, c)
	}
	for name := range f.seen {
		if !present[name] {
			delete(f.seen, name)
		}
	}
	for name, h := range f.hints {
		// An event read after the listing may be of a file that the
		// listing missed: kept.
		if !present[name] && h.last.Before(listed) {
			delete(f.hints, name)
		}
	}
	slices.SortFunc(cands, func(a, b Candidate) int {
		if c := a.ModTime.Compare(b.ModTime); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	if len(errs) > 0 {
		return cands, fmt.Errorf("scan %s: %w", f.dir, errors.Join(errs...))
	}
	return cands, nil
}

// ready applies the stability rules of Scan to a file without a marker.
func (f *Folder) ready(o observation, now time.Time) bool {
	observed := now.Sub(o.since)
	if observed >= f.stableFor {
		return true
	}
	return now.Sub(o.mtime) >= f.stableFor && observed >= f.settle
}

// wait counts a file that is not ready yet and notes the earliest time at
// which it can be, if it stays as it is; early, if not zero, is when it may
// be taken as known complete.
func (f *Folder) wait(o observation, early time.Time) {
	at := o.since.Add(f.stableFor) // observed for StableFor
	renamed := o.mtime.Add(f.stableFor)
	if settled := o.since.Add(f.settle); renamed.Before(settled) {
		renamed = settled
	}
	if renamed.Before(at) { // old modification time, seen again after Settle
		at = renamed
	}
	if !early.IsZero() && early.Before(at) {
		at = early
	}
	f.waiting++
	if f.nextCheck.IsZero() || at.Before(f.nextCheck) {
		f.nextCheck = at
	}
}

// hasMarker reports whether the file fi called name has a done marker that
// is a regular file at least as new as the file: a marker older than the
// file was left over from before it and does not vouch for it.
func hasMarker(byName map[string]fs.DirEntry, name string, fi fs.FileInfo) bool {
	e, ok := byName[name+DoneSuffix]
	if !ok {
		return false
	}
	mi, err := e.Info()
	if err != nil || !mi.Mode().IsRegular() {
		return false
	}
	return !mi.ModTime().Before(fi.ModTime())
}

// Unsettled returns how many files the last Scan saw but did not offer
// yet, and the earliest time at which one of them can be ready if it does
// not change: the moment for the next scan (see Watcher.KickAt). The time
// is zero when n is 0.
func (f *Folder) Unsettled() (n int, next time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.waiting, f.nextCheck
}

// Claim takes the file that Scan offered: it removes the file's done
// marker, renames the file into work/<kind>/ under the name it has in the
// folder, makes both folders durable, and reads the claimed file for its
// size and SHA-256.
//
// A file that is gone or changed since Scan is not taken; the error wraps
// ErrSkipped. So is a file whose name is still taken in work/ by an earlier
// claim that has not moved on: it waits in the folder until that one has.
// A name in work/ is thus always the name the file was dropped with, and
// a file resumed from work/ (Pending) is told apart from a later file
// that was dropped as "name (2).ext". A file that turns out to be
// changing while it is claimed is put back (or, if its name has been taken
// again meanwhile, moved to failed/ with a report) and the error wraps
// ErrSkipped too. A name that Scan would not offer ("../x", "a/b", a
// hidden name) is refused with ErrName.
func (f *Folder) Claim(c Candidate) (Claimed, error) {
	if err := checkCandidateName(c.Name); err != nil {
		return Claimed{}, fmt.Errorf("claim: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	src, dst, err := f.claimRename(c)
	if err != nil {
		return Claimed{}, err
	}
	if err := f.syncDir(f.work); err != nil {
		return Claimed{}, fmt.Errorf("claim %s: %w", src, err)
	}
	if err := f.syncDir(f.dir); err != nil {
		return Claimed{}, fmt.Errorf("claim %s: %w", src, err)
	}
	return f.claimRead(c, src, dst)
}

// claimRename is the first part of Claim, under f.mu: the checks and the
// rename of the file into work/, not yet durable. It returns the file's
// path in the folder and in work/.
func (f *Folder) claimRename(c Candidate) (src, dst string, err error) {
	src = filepath.Join(f.dir, c.Name)
	fi, err := os.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) {
		delete(f.seen, c.Name)
		return "", "", fmt.Errorf("claim %s: gone since the scan: %w", src, ErrSkipped)
	}
	if err != nil {
		return "", "", fmt.Errorf("claim: %w", err)
	}
	if !fi.Mode().IsRegular() || !c.sameFile(fi) {
		delete(f.seen, c.Name)
		return "", "", fmt.Errorf("claim %s: changed since the scan: %w", src, ErrSkipped)
	}

	// Only this process adds names to work/, under f.mu: a name that is
	// free now is free at the rename.
	dst = filepath.Join(f.work, c.Name)
	if _, err := os.Lstat(dst); err == nil {
		return "", "", fmt.Errorf("claim %s: a file of that name is still in %s; taken once it has moved on: %w: %w", src, f.work, ErrNameInWork, ErrSkipped)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("claim %s: %w", src, err)
	}
	// The marker goes first: a crash after the rename must not leave a
	// marker that would vouch for the next file of the same name.
	if err := f.removeMarker(c.Name); err != nil {
		return "", "", fmt.Errorf("claim %s: %w", src, err)
	}
	if err := os.Rename(src, dst); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			delete(f.seen, c.Name)
			return "", "", fmt.Errorf("claim %s: gone since the scan: %w", src, ErrSkipped)
		}
		if errors.Is(err, syscall.EBUSY) {
			// A share refuses to rename a file that a client still has
			// open: not complete, whatever its times say.
			return "", "", fmt.Errorf("claim %s: in use: %w", src, ErrSkipped)
		}
		if errors.Is(err, syscall.EXDEV) {
			return "", "", fmt.Errorf("claim %s: %s and %s are %w: %w", src, f.dir, f.work, ErrCrossDevice, err)
		}
		return "", "", fmt.Errorf("claim: %w", err)
	}
	delete(f.seen, c.Name)
	delete(f.hints, c.Name)
	return src, dst, nil
}

// claimRead is the last part of Claim, under f.mu, once the rename is
// durable: it reads the claimed file at dst for its size and hash.
func (f *Folder) claimRead(c Candidate, src, dst string) (Claimed, error) {
	if f.afterRename != nil {
		f.afterRename(dst)
	}

	cl, fi2, err := readClaimed(dst, c.Name)
	switch {
	case errors.Is(err, errNotRegular):
		// Something was swapped in between the check and the rename.
		// Never read it; account for it in failed/.
		p, ferr := f.fail(dst, c.Name, []string{"not a regular file when it was claimed; not read"})
		if ferr != nil {
			return Claimed{}, fmt.Errorf("claim %s: not a regular file, and moving it to failed/: %w", src, ferr)
		}
		return Claimed{}, fmt.Errorf("claim %s: not a regular file; moved to %s: %w", src, p, ErrSkipped)
	case errors.Is(err, errChanging), err == nil && !c.sameFile(fi2):
		// A writer is still at work on it.
		return Claimed{}, f.putBack(dst, src, c.Name)
	case err != nil:
		return Claimed{}, fmt.Errorf("claim %s: %w", src, err)
	}
	return cl, nil
}

// removeMarker removes the done marker of name, if there is one, durably.
func (f *Folder) removeMarker(name string) error {
	err := os.Remove(filepath.Join(f.dir, name+DoneSuffix))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENAMETOOLONG) {
		return nil // none, or name is too long to have one
	}
	if err != nil {
		return fmt.Errorf("remove done marker: %w", err)
	}
	return f.syncDir(f.dir)
}

// putBack returns a file that changed while it was claimed to the folder,
// or, if its name has been taken there meanwhile, moves it to failed/.
func (f *Folder) putBack(claimed, orig, name string) error {
	_, err := os.Lstat(orig)
	if errors.Is(err, fs.ErrNotExist) {
		// The rename back shows as a rename-in, which would make the file
		// look complete; it was changing, so it waits for StableFor.
		f.returned[name] = true
		if err := os.Rename(claimed, orig); err != nil {
			delete(f.returned, name)
			return fmt.Errorf("claim %s: changed while being claimed, and putting it back: %w", orig, err)
		}
		if err := f.syncDir(f.dir); err != nil {
			return fmt.Errorf("claim %s: %w", orig, err)
		}
		if err := f.syncDir(f.work); err != nil {
			return fmt.Errorf("claim %s: %w", orig, err)
		}
		return fmt.Errorf("claim %s: changed while being claimed (still being written?); put back: %w", orig, ErrSkipped)
	}
	if err != nil {
		return fmt.Errorf("claim %s: changed while being claimed: %w", orig, err)
	}
	p, err := f.fail(claimed, name, []string{
		"changed while it was being claimed (still being written?), and its name was taken again; not processed",
	})
	if err != nil {
		return fmt.Errorf("claim %s: changed while being claimed, and moving it to failed/: %w", orig, err)
	}
	return fmt.Errorf("claim %s: changed while being claimed; moved to %s: %w", orig, p, ErrSkipped)
}

var (
	errNotRegular = errors.New("not a regular file")
	errChanging   = errors.New("changed while being read")
)

// readClaimed reads the file at path, which must be a regular file, for its
// size and hash. It returns errChanging if the file changed while it was
// read, and the file's information after the reading.
func readClaimed(path, name string) (Claimed, fs.FileInfo, error) {
	file, err := openNoFollow(path)
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && !fi.Mode().IsRegular() {
			return Claimed{}, nil, fmt.Errorf("%s: %w", path, errNotRegular)
		}
		return Claimed{}, nil, err
	}
	defer file.Close()
	before, err := file.Stat()
	if err != nil {
		return Claimed{}, nil, err
	}
	if !before.Mode().IsRegular() {
		return Claimed{}, nil, fmt.Errorf("%s: %w", path, errNotRegular)
	}
	h := sha256.New()
	n, err := io.Copy(h, file)
	if err != nil {
		return Claimed{}, nil, fmt.Errorf("read %s: %w", path, err)
	}
	after, err := file.Stat()
	if err != nil {
		return Claimed{}, nil, err
	}
	if n != after.Size() || before.Size() != after.Size() || !before.ModTime().Equal(after.ModTime()) {
		return Claimed{}, nil, fmt.Errorf("%s: %w", path, errChanging)
	}
	return Claimed{
		Name:    name,
		Path:    path,
		Size:    n,
		SHA256:  hex.EncodeToString(h.Sum(nil)),
		ModTime: after.ModTime(),
	}, after, nil
}

// Pending lists the files in work/<kind>/: files claimed by an earlier run
// that ended before it moved them on. The daemon resumes them at start,
// before it scans. Name is the name in work/, the name the file was
// dropped with. Files it could not read are named in the error, the others
// listed.
func (f *Folder) Pending() ([]Claimed, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	entries, err := os.ReadDir(f.work)
	if err != nil {
		return nil, fmt.Errorf("pending: %w", err)
	}
	var (
		out  []Claimed
		errs []error
	)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue
		}
		cl, _, err := readClaimed(filepath.Join(f.work, e.Name()), e.Name())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, cl)
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("pending: %w", errors.Join(errs...))
	}
	return out, nil
}

// InWork returns the file called name in work/<kind>/, as Pending lists
// it: a file claimed under that name that has not moved on. The error
// wraps fs.ErrNotExist when there is none.
func (f *Folder) InWork(name string) (Claimed, error) {
	if err := checkName(name); err != nil {
		return Claimed{}, fmt.Errorf("in work: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cl, _, err := readClaimed(filepath.Join(f.work, name), name)
	if err != nil {
		return Claimed{}, fmt.Errorf("in work: %w", err)
	}
	return cl, nil
}

// Waiting returns the path of a file called name, or a numbered form of
// it ("name (2).ext"), of size bytes and with the SHA-256 sum (lower-case
// hex), that waits to be taken or finished: in the folder, ready or not, or
// in work/<kind>/. It returns "" when there is none. Files that cannot be
// read are passed over.
func (f *Folder) Waiting(name string, size int64, sum string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, dir := range []string{f.work, f.dir} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return "", fmt.Errorf("waiting: %w", err)
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || !numberedOf(e.Name(), name) {
				continue
			}
			if fi, err := e.Info(); err != nil || fi.Size() != size {
				continue
			}
			p := filepath.Join(dir, e.Name())
			if cl, _, err := readClaimed(p, e.Name()); err == nil && cl.SHA256 == sum {
				return p, nil
			}
		}
	}
	return "", nil
}

// Done moves a claimed file into the archive,
// archive/<kind>/YYYY/MM/<archiveName> in the state folder (a name that is
// taken gets a " (n)"), durably, and returns its new path. An empty
// archiveName keeps the name the file was dropped with. The month is that
// of the Folder's clock, in its location.
func (f *Folder) Done(cl Claimed, archiveName string) (string, error) {
	if archiveName == "" {
		archiveName = cl.Name
	}
	if err := checkName(archiveName); err != nil {
		return "", fmt.Errorf("archive %s: %w", cl.Path, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.checkClaimed(cl); err != nil {
		return "", err
	}
	now := f.now()
	dir := filepath.Join(f.archive, fmt.Sprintf("%04d", now.Year()), fmt.Sprintf("%02d", int(now.Month())))
	if err := f.mkdirAll(dir); err != nil {
		return "", fmt.Errorf("archive %s: %w", cl.Path, err)
	}
	dst, err := freeName(dir, archiveName)
	if err != nil {
		return "", fmt.Errorf("archive %s: %w", cl.Path, err)
	}
	if err := os.Rename(cl.Path, dst); err != nil {
		return "", fmt.Errorf("archive: %w", err)
	}
	if err := f.syncDir(dir); err != nil {
		return "", fmt.Errorf("archive %s: %w", cl.Path, err)
	}
	if err := f.syncDir(f.work); err != nil {
		return "", fmt.Errorf("archive %s: %w", cl.Path, err)
	}
	return dst, nil
}

// Fail moves a claimed file to failed/ in the folder it was dropped into,
// where the operator looks, under its original name (with a " (n)" if that
// is taken), and writes <name>.err beside it with every problem on a line
// of its own. It returns the file's new path.
//
// The .err is written first, durably, then the file is moved. A crash in
// between leaves the file in work/, where Pending finds it again, and a
// .err without a file in failed/, which the next Fail of that name
// replaces. So failed/ never holds a file without its .err, and the file
// is never lost.
func (f *Folder) Fail(cl Claimed, problems []string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.checkClaimed(cl); err != nil {
		return "", err
	}
	return f.fail(cl.Path, cl.Name, problems)
}

// Duplicate moves a claimed file to failed/ as Fail does, with a .err that
// says which file it duplicates: "duplicate of <of> (sha256 <hash>)
// processed <processed>".
func (f *Folder) Duplicate(cl Claimed, of string, processed time.Time) (string, error) {
	return f.Fail(cl, []string{fmt.Sprintf("duplicate of %s (sha256 %s) processed %s",
		of, cl.SHA256, processed.Format(time.RFC3339))})
}

// Report writes <name>.err into failed/, durably, with every line of
// problems, for a file that was taken but not whole (a batch sent without
// its invalid refunds): the file itself is archived, the operator finds
// what was left out where failures are. It returns the report's path. A
// report of the same name is replaced.
func (f *Folder) Report(name string, problems []string) (string, error) {
	if err := checkName(name); err != nil {
		return "", fmt.Errorf("report %s: %w", name, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	en := errName(name)
	if en != name+errSuffix {
		problems = append([]string{"file: " + name}, problems...)
	}
	if err := f.writeFile(f.failed, en, report(problems)); err != nil {
		return "", fmt.Errorf("report %s: %w", name, err)
	}
	return filepath.Join(f.failed, en), nil
}

// checkClaimed refuses a Claimed that does not name a file in work/.
func (f *Folder) checkClaimed(cl Claimed) error {
	if filepath.Dir(cl.Path) != f.work || checkName(filepath.Base(cl.Path)) != nil || checkName(cl.Name) != nil {
		return fmt.Errorf("%q is not a file claimed from %s", cl.Path, f.dir)
	}
	return nil
}

// fail moves the file at path to failed/ with its .err report.
func (f *Folder) fail(path, name string, problems []string) (string, error) {
	dst, err := freeName(f.failed, name)
	if err != nil {
		return "", fmt.Errorf("fail %s: %w", path, err)
	}
	if en := errName(filepath.Base(dst)); en != filepath.Base(dst)+errSuffix {
		problems = append([]string{"file: " + filepath.Base(dst)}, problems...)
	}
	if err := f.writeFile(f.failed, errName(filepath.Base(dst)), report(problems)); err != nil {
		return "", fmt.Errorf("fail %s: %w", path, err)
	}
	if err := os.Rename(path, dst); err != nil {
		return "", fmt.Errorf("fail: %w", err)
	}
	if err := f.syncDir(f.failed); err != nil {
		return "", fmt.Errorf("fail %s: %w", path, err)
	}
	if err := f.syncDir(filepath.Dir(path)); err != nil {
		return "", fmt.Errorf("fail %s: %w", path, err)
	}
	return dst, nil
}

// report is the text of a .err: one problem a line. Line breaks inside a
// problem become spaces, so that every line is one problem.
func report(problems []string) []byte {
	if len(problems) == 0 {
		problems = []string{"failed (no reason given)"}
	}
	flat := strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")
	var b strings.Builder
	for _, p := range problems {
		b.WriteString(flat.Replace(p))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// writeFile writes dir/name durably: a temporary file in dir, fsync, close,
// rename over name (an earlier report of the same name is replaced), fsync
// of dir.
func (f *Folder) writeFile(dir, name string, data []byte) (err error) {
	tmp, err := os.CreateTemp(dir, "."+cut(name, nameMax-40)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(filePerm); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := f.fsync(tmp); err != nil {
		return fmt.Errorf("sync %s: %w: %w", tmp.Name(), fsync.ErrSync, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	return f.syncDir(dir)
}

// Place gives the complete file tmp (in the folder, under a temporary
// name that Scan passes over) its name in the folder: name, or "name (2)"
// and so on when that is taken, never replacing a file; then it adds the
// done marker and makes the folder durable, so that Scan takes the file
// at once. It returns the path of the placed file.
func (f *Folder) Place(tmp, name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", fmt.Errorf("place %s: %w", name, err)
	}
	for n := 1; n <= maxNumbered; n++ {
		final := filepath.Join(f.dir, numbered(name, n))
		err := os.Link(tmp, final)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("place %s: %w", name, err)
		}
		if err := os.Remove(tmp); err != nil {
			return "", fmt.Errorf("place %s: %w", name, err)
		}
		if err := os.WriteFile(final+DoneSuffix, nil, filePerm); err != nil {
			return "", fmt.Errorf("place %s: %w", name, err)
		}
		if err := f.syncDir(f.dir); err != nil {
			return "", fmt.Errorf("place %s: %w", name, err)
		}
		return final, nil
	}
	return "", fmt.Errorf("place %s: %w: no free name in %s", name, fs.ErrExist, f.dir)
}

// staleReport matches the temporary file of an .err report that writeFile
// left in failed/ when the process stopped between writing and renaming
// it: ".<name>.err.<random>.tmp".
var staleReport = regexp.MustCompile(`^\..*\.err\.[0-9]+\.tmp$`)

// removeStaleReports removes the temporary files of .err reports that a
// stopped process left in failed/: the report is written again when its
// file is failed again, so they are of no use, and they would puzzle an
// operator. Only names of this form are touched.
func (f *Folder) removeStaleReports() error {
	es, err := os.ReadDir(f.failed)
	if err != nil {
		return err
	}
	removed := false
	for _, e := range es {
		if e.Type().IsRegular() && staleReport.MatchString(e.Name()) {
			if err := os.Remove(filepath.Join(f.failed, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			removed = true
		}
	}
	if removed {
		return f.syncDir(f.failed)
	}
	return nil
}

// freeName returns dir/name, or the first of dir/"stem (2).ext", dir/"stem
// (3).ext" … that does not exist. Only this process adds names to
// archive/, under the Folder's lock; in failed/ an operator could add one
// in the instant between the check and the rename, which is accepted.
func freeName(dir, name string) (string, error) {
	for n := 1; n <= maxNumbered; n++ {
		p := filepath.Join(dir, numbered(name, n))
		_, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("no free name for %q in %s", name, dir)
}

// mkdirAll creates dir and its missing parents, and makes each new entry
// durable by syncing the folder that holds it.
func (f *Folder) mkdirAll(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a folder", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := f.mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, dirPerm); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return f.syncDir(parent)
}

// syncDir fsyncs the folder dir, so that the names in it are on disk, as
// fsync.Dir does but through the fsync seam.
func (f *Folder) syncDir(dir string) error { return fsync.DirOf(f.openFolder, dir) }

// openFolder opens the folder dir for syncDir.
func (f *Folder) openFolder(dir string) (seamFolder, error) {
	d, err := os.Open(dir)
	return seamFolder{File: d, sync: f.fsync}, err
}

// seamFolder is an open folder that is synced through a Folder's fsync
// seam.
type seamFolder struct {
	*os.File
	sync func(*os.File) error
}

// Sync syncs the folder through the seam.
func (d seamFolder) Sync() error { return d.sync(d.File) }

// sameDevice refuses two folders on different file systems.
func sameDevice(a, b string) error {
	fa, err := os.Stat(a)
	if err != nil {
		return err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return err
	}
	da, _, _ := identity(fa)
	db, _, _ := identity(fb)
	if da != db {
		return fmt.Errorf("%s and %s are %w: files are claimed and moved by renaming, so the state folder must be on the file system of the folder", a, b, ErrCrossDevice)
	}
	return nil
}
