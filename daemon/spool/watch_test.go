package spool

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// wait is the generous upper bound of every wait in these tests; nothing
// asserts that anything is fast.
const wait = 15 * time.Second

// errLog collects what a Watcher reports.
type errLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errLog) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *errLog) find(pred func(error) bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.errs, pred)
}

// startWatcher runs a Watcher until the test ends and waits for its first
// kick, after which its watches are in place.
func startWatcher(t *testing.T, opts Options) *Watcher {
	t.Helper()
	w, err := NewWatcher(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(wait):
			t.Error("Run did not stop")
		}
	})
	select {
	case <-w.Kicks():
	case err := <-done:
		t.Fatalf("Run = %v", err)
	case <-time.After(wait):
		t.Fatal("no kick at the start")
	}
	return w
}

func expectKick(t *testing.T, w *Watcher, why string) {
	t.Helper()
	select {
	case <-w.Kicks():
	case <-time.After(wait):
		t.Fatalf("no kick after %s", why)
	}
}

// consume is the daemon's loop in small: on each kick it scans, claims what
// is ready, and asks for a kick when the next waiting file may be ready.
func consume(ctx context.Context, t *testing.T, f *Folder, w *Watcher, kicked func(), claimed func(Claimed)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.Kicks():
		}
		if kicked != nil {
			kicked()
		}
		cs, err := f.Scan(time.Now())
		if err != nil {
			t.Errorf("scan: %v", err)
		}
		for _, c := range cs {
			cl, err := f.Claim(c)
			if errors.Is(err, ErrSkipped) {
				continue
			}
			if err != nil {
				t.Errorf("claim: %v", err)
				continue
			}
			claimed(cl)
		}
		if n, at := f.Unsettled(); n > 0 {
			w.KickAt(at)
		}
	}
}

// runConsumer starts consume until the test ends.
func runConsumer(t *testing.T, f *Folder, w *Watcher, claimed func(Claimed)) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { consume(ctx, t, f, w, nil, claimed) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

func TestSlowWriterNotTakenEarly(t *testing.T) {
	t.Parallel()
	f := newFolder(t, Config{StableFor: time.Second})
	w := startWatcher(t, Options{Dirs: []string{f.Dir()}, Schedule: "@every 1h"})
	var complete atomic.Bool
	got := make(chan Claimed, 10)
	runConsumer(t, f, w, func(cl Claimed) {
		if !complete.Load() {
			t.Errorf("%s claimed before it was complete (%d bytes)", cl.Name, cl.Size)
		}
		got <- cl
	})

	// About 3 s of writing: seven chunks with pauses well below StableFor.
	fh, err := os.Create(filepath.Join(f.Dir(), "slow.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for i := range 7 {
		if i > 0 {
			time.Sleep(450 * time.Millisecond)
		}
		chunk := []byte(fmt.Sprintf("%d;%s\n", i, rand.Text()))
		if _, err := fh.Write(chunk); err != nil {
			t.Fatal(err)
		}
		all = append(all, chunk...)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	complete.Store(true)

	select {
	case cl := <-got:
		sum := sha256.Sum256(all)
		if cl.SHA256 != hex.EncodeToString(sum[:]) || cl.Size != int64(len(all)) {
			t.Errorf("claimed %d bytes, sha256 %s; want the whole file, %d bytes", cl.Size, cl.SHA256, len(all))
		}
	case <-time.After(wait):
		t.Fatal("the complete file was not claimed")
	}
}

func TestRenamedInTakenPromptly(t *testing.T) {
	t.Parallel()
	// With StableFor an hour, only the renamed-in rule can take a file
	// within the test.
	f := newFolder(t, Config{StableFor: time.Hour, Settle: 200 * time.Millisecond})
	w := startWatcher(t, Options{Dirs: []string{f.Dir()}, Schedule: "@every 1h"})
	got := make(chan Claimed, 10)
	runConsumer(t, f, w, func(cl Claimed) { got <- cl })

	tmp := filepath.Join(f.Dir(), "reply.xml.part")
	writeFile(t, tmp, "<Document/>")
	setMtime(t, tmp, time.Now().Add(-2*time.Hour))
	writeFile(t, filepath.Join(f.Dir(), "in-place.xml"), "being written")
	if err := os.Rename(tmp, filepath.Join(f.Dir(), "reply.xml")); err != nil {
		t.Fatal(err)
	}
	select {
	case cl := <-got:
		if cl.Name != "reply.xml" || cl.SHA256 != hashOf("<Document/>") {
			t.Errorf("claimed %+v", cl)
		}
	case <-time.After(wait):
		t.Fatal("the renamed-in file was not claimed")
	}
	select {
	case cl := <-got:
		t.Errorf("also claimed %s", cl.Name)
	case <-time.After(500 * time.Millisecond):
	}
}

func TestWatcherKicks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	staging := t.TempDir()
	w := startWatcher(t, Options{Dirs: []string{dir}, Schedule: "@every 1h"})

	writeFile(t, filepath.Join(dir, "created.csv"), "x")
	expectKick(t, w, "a create")

	writeFile(t, filepath.Join(staging, "moved.csv"), "x")
	if err := os.Rename(filepath.Join(staging, "moved.csv"), filepath.Join(dir, "moved.csv")); err != nil {
		t.Fatal(err)
	}
	expectKick(t, w, "a rename into the folder")

	writeFile(t, filepath.Join(dir, "x.csv.part"), "x")
	if err := os.Rename(filepath.Join(dir, "x.csv.part"), filepath.Join(dir, "x.csv")); err != nil {
		t.Fatal(err)
	}
	expectKick(t, w, "a rename within the folder")

	writeFile(t, filepath.Join(dir, "created.csv.done"), "")
	expectKick(t, w, "a done marker")

	// Temporary and hidden files, removals and mode changes don't kick.
	writeFile(t, filepath.Join(dir, ".hidden.tmp"), "x")
	writeFile(t, filepath.Join(dir, "y.csv.partial"), "x")
	os.Remove(filepath.Join(dir, "moved.csv"))
	os.Chmod(filepath.Join(dir, "x.csv"), 0o600)
	select {
	case <-w.Kicks():
		t.Error("kick for ignored names, a removal and a chmod")
	case <-time.After(time.Second):
	}
}

func TestWatcherCoalescesBurst(t *testing.T) {
	t.Parallel()
	const files = 1000
	debounce := 200 * time.Millisecond
	f := newFolder(t, Config{})
	w := startWatcher(t, Options{Dirs: []string{f.Dir()}, Debounce: debounce, Schedule: "@every 1h"})
	var (
		kicks   atomic.Int64
		mu      sync.Mutex
		claimed = map[string]int{}
	)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		consume(ctx, t, f, w, func() { kicks.Add(1) }, func(cl Claimed) {
			mu.Lock()
			claimed[cl.Name]++
			mu.Unlock()
		})
	})
	defer func() {
		cancel()
		wg.Wait()
	}()

	start := time.Now()
	for i := range files {
		writeFile(t, filepath.Join(f.Dir(), fmt.Sprintf("batch-%04d.csv", i)), fmt.Sprint(i))
	}
	burst := time.Since(start)
	deadline := time.Now().Add(wait)
	for {
		mu.Lock()
		n := len(claimed)
		mu.Unlock()
		if n == files {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("claimed %d of %d files", n, files)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for name, n := range claimed {
		if n != 1 {
			t.Errorf("%s claimed %d times", name, n)
		}
	}
	// One kick per debounce window at most, plus one for a window still
	// open when the burst ended.
	if k, most := kicks.Load(), int64(burst/debounce)+2; k < 1 || k > most {
		t.Errorf("%d kicks for a burst of %d files in %v; want 1 to %d", k, files, burst, most)
	}
	t.Logf("%d files in %v: %d kicks", files, burst, kicks.Load())
}

func TestNoEventsRescanAlone(t *testing.T) {
	t.Parallel()
	f := newFolder(t, Config{StableFor: 500 * time.Millisecond})
	w := startWatcher(t, Options{Dirs: []string{f.Dir()}, Schedule: "@every 1s", NoEvents: true})
	if got := w.watching(); got != nil {
		t.Errorf("watching %v with events off", got)
	}
	got := make(chan string, 10)
	runConsumer(t, f, w, func(cl Claimed) { got <- cl.Name })
	names := []string{"a.csv", "b.csv", "c d.csv"}
	for _, n := range names {
		writeFile(t, filepath.Join(f.Dir(), n), n)
		time.Sleep(300 * time.Millisecond)
	}
	var seen []string
	for range names {
		select {
		case n := <-got:
			seen = append(seen, n)
		case <-time.After(wait):
			t.Fatalf("claimed %v of %v", seen, names)
		}
	}
	slices.Sort(seen)
	if !slices.Equal(seen, names) {
		t.Errorf("claimed %v; want %v", seen, names)
	}
}

func TestWatcherErrorsKick(t *testing.T) {
	var log errLog
	w, err := NewWatcher(Options{Dirs: []string{"/srv/inbox"}, Schedule: "@every 1h", OnError: log.add})
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan fsnotify.Event)
	errs := make(chan error)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		w.loop(ctx, events, errs)
		close(done)
	}()
	defer func() {
		cancel()
		<-done
	}()

	errs <- fsnotify.ErrEventOverflow
	expectKick(t, w, "an overflow")
	if !log.find(func(err error) bool { return errors.Is(err, fsnotify.ErrEventOverflow) }) {
		t.Error("overflow not reported")
	}
	errs <- errors.New("read error")
	expectKick(t, w, "a watcher error")
	events <- fsnotify.Event{Name: "/srv/inbox", Op: fsnotify.Remove}
	expectKick(t, w, "the folder's removal")
	if !log.find(func(err error) bool { return strings.Contains(err.Error(), "removed or renamed") }) {
		t.Error("lost watch not reported")
	}
	// Events on a file kick after the debounce window.
	for range 100 {
		events <- fsnotify.Event{Name: "/srv/inbox/a.xml", Op: fsnotify.Write}
	}
	expectKick(t, w, "writes")
}

func TestWatcherRewatches(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	dir := filepath.Join(base, "inbox")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var log errLog
	w := startWatcher(t, Options{Dirs: []string{dir}, Schedule: "@every 1s", OnError: log.add})
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	for !slices.Contains(w.watching(), dir) || !log.find(func(err error) bool {
		return strings.Contains(err.Error(), "removed or renamed")
	}) {
		if time.Now().After(deadline) {
			t.Fatalf("not watching %s again (watching %v)", dir, w.watching())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRunFailsOnMissingFolder(t *testing.T) {
	w, err := NewWatcher(Options{Dirs: []string{filepath.Join(t.TempDir(), "missing")}, Schedule: "@every 1h"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := w.Run(ctx); err == nil {
		t.Fatal("Run on a missing folder: no error")
	}
}

func TestRunStopsAndRunsOnce(t *testing.T) {
	w, err := NewWatcher(Options{Dirs: []string{t.TempDir()}, Schedule: "* * * * * *"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	<-w.Kicks()
	if err := w.Run(ctx); err == nil {
		t.Error("second Run: no error")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not stop")
	}
}

func TestKickAt(t *testing.T) {
	w, err := NewWatcher(Options{NoEvents: true, Schedule: "@every 1h"})
	if err != nil {
		t.Fatal(err)
	}
	w.KickAt(time.Now().Add(-time.Second))
	expectKick(t, w, "KickAt in the past")

	w.KickAt(time.Now().Add(time.Hour))
	w.KickAt(time.Now().Add(50 * time.Millisecond)) // the earlier one wins
	w.KickAt(time.Now().Add(2 * time.Hour))
	expectKick(t, w, "KickAt")
	w.stopTimer()
}

func TestNewWatcherChecksOptions(t *testing.T) {
	bad := []Options{
		{Dirs: []string{"/x"}},
		{Dirs: []string{"/x"}, Schedule: "every five minutes"},
		{Dirs: []string{"/x"}, Schedule: "* * *"},
		{Dirs: []string{"/x"}, Schedule: "@every 1s", Debounce: -time.Second},
		{Schedule: "@every 1s"},
	}
	for _, o := range bad {
		if _, err := NewWatcher(o); err == nil {
			t.Errorf("NewWatcher(%+v): no error", o)
		}
	}
	for _, s := range []string{"@every 30s", "@hourly", "*/5 * * * *", "*/10 * * * * *", "CRON_TZ=UTC 0 6 * * 1-5"} {
		if err := ParseSchedule(s); err != nil {
			t.Errorf("ParseSchedule(%q) = %v", s, err)
		}
	}
}
