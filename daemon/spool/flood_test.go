package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// claims counts the files claimed, by name.
type claims struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *claims) add(cl Claimed) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[cl.Name]++
}

func (c *claims) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.n)
}

// check fails the test unless exactly the files named by name(0) …
// name(files-1) were claimed, each once.
func (c *claims) check(t *testing.T, files int, name func(int) string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range files {
		if n := c.n[name(i)]; n != 1 {
			t.Errorf("%s claimed %d times", name(i), n)
		}
	}
	if len(c.n) != files {
		t.Errorf("%d names claimed; want %d", len(c.n), files)
	}
}

// waitUntil waits until cond holds, failing the test after wait.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// noSync turns the fsyncs of f off: the tests with thousands of files are
// not about durability.
func noSync(f *Folder) { f.fsync = func(*os.File) error { return nil } }

// maxFloodFiles bounds the files TestOverflowRescanFindsAll drops.
const maxFloodFiles = 100000

// maxQueuedEvents returns fs.inotify.max_queued_events.
func maxQueuedEvents(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no inotify limits: %v", err)
		}
		t.Skipf("no inotify limits: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOverflowRescanFindsAll drops 20,000 files into a watched folder
// while the Watcher's event loop is held up, so that the kernel's event
// queue overflows and events are lost. The debounce is an hour, so the
// events that were kept cannot kick within the test: only the overflow
// can. Every file is claimed, once.
func TestOverflowRescanFindsAll(t *testing.T) {
	// Each file makes at least two events; the queue must overflow.
	files := max(20000, maxQueuedEvents(t)/2+2000)
	if files > maxFloodFiles {
		msg := fmt.Sprintf("fs.inotify.max_queued_events is too large to overflow with at most %d files", maxFloodFiles)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg) // CI must not lose this case silently
		}
		t.Skip(msg)
	}
	f := newFolder(t, Config{})
	noSync(f)
	var log errLog
	w, err := NewWatcher(Options{Dirs: []string{f.Dir()}, Debounce: time.Hour, Schedule: "@every 1h", OnError: log.add})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	w.onEvent = func(fsnotify.Event) { <-release }
	runWatcher(t, w)
	expectKick(t, w, "the start")
	var got claims
	runConsumer(t, f, w, got.add)

	name := func(i int) string { return fmt.Sprintf("reply-%05d.xml", i) }
	start := time.Now()
	for i := range files {
		writeFile(t, filepath.Join(f.Dir(), name(i)), name(i))
	}
	close(release)
	waitUntil(t, "every file claimed", func() bool { return got.count() == files })
	took := time.Since(start)
	got.check(t, files, name)
	if !log.find(func(err error) bool { return errors.Is(err, fsnotify.ErrEventOverflow) }) {
		t.Error("the overflow was not reported")
	}
	t.Logf("%d files dropped and claimed in %v", files, took)
}

// TestFileBetweenWatchAndFirstScan drops a file at the moment the watches
// are in place and the first scan has not been asked for: the first scan
// takes it, once. The debounce is an hour, so its event cannot be what
// finds it.
func TestFileBetweenWatchAndFirstScan(t *testing.T) {
	t.Parallel()
	f := newFolder(t, Config{})
	w, err := NewWatcher(Options{Dirs: []string{f.Dir()}, Debounce: time.Hour, Schedule: "@every 1h"})
	if err != nil {
		t.Fatal(err)
	}
	watched := make(chan struct{})
	w.afterWatch = func() {
		defer close(watched)
		if len(w.kicks) != 0 {
			t.Error("a scan was asked for before the folders were watched")
		}
		if got := w.watching(); len(got) != 1 {
			t.Errorf("watching %v when the watches should be in place", got)
		}
		writeFile(t, filepath.Join(f.Dir(), "early.xml"), "<Document/>")
	}
	runWatcher(t, w)
	select {
	case <-watched:
	case <-time.After(wait):
		t.Fatal("the watches were not set up")
	}
	var (
		got   claims
		scans atomic.Int64
	)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { consume(ctx, t, f, w, func() { scans.Add(1) }, got.add) })
	defer func() {
		cancel()
		wg.Wait()
	}()
	waitUntil(t, "early.xml claimed", func() bool { return got.count() == 1 })
	// Another scan takes nothing more.
	n := scans.Load()
	w.Kick()
	waitUntil(t, "a second scan", func() bool { return scans.Load() > n })
	got.check(t, 1, func(int) string { return "early.xml" })
}

// TestConsumerStallCoalesces stalls the consumer of the kicks while 3,000
// files arrive. The Watcher goes on reading file events meanwhile (it
// never waits for the consumer), the kicks merge into one waiting kick,
// and the one scan after the stall finds every file.
func TestConsumerStallCoalesces(t *testing.T) {
	t.Parallel()
	const files = 3000
	f := newFolder(t, Config{})
	noSync(f)
	var creates atomic.Int64
	w, err := NewWatcher(Options{Dirs: []string{f.Dir()}, Debounce: 20 * time.Millisecond, Schedule: "@every 1h"})
	if err != nil {
		t.Fatal(err)
	}
	w.onEvent = func(ev fsnotify.Event) {
		if ev.Has(fsnotify.Create) {
			creates.Add(1)
		}
	}
	runWatcher(t, w)
	expectKick(t, w, "the start")

	var (
		got     claims
		scans   atomic.Int64
		resume  = make(chan struct{})
		stalled = make(chan struct{})
		// files claimed when the second scan starts
		atAfterStall atomic.Int64
	)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		consume(ctx, t, f, w, func() {
			switch scans.Add(1) {
			case 1:
				close(stalled)
				<-resume
			case 2:
				atAfterStall.Store(int64(got.count()))
			}
		}, got.add)
	})
	defer func() {
		cancel()
		wg.Wait()
	}()
	var unstallOnce sync.Once
	unstall := func() { unstallOnce.Do(func() { close(resume) }) }
	defer unstall() // before the wait above, also when the test fails

	name := func(i int) string { return fmt.Sprintf("batch-%04d.csv", i) }
	writeFile(t, filepath.Join(f.Dir(), name(0)), "0")
	select {
	case <-stalled: // the consumer took a kick and hangs in it
	case <-time.After(wait):
		t.Fatal("no kick for the first file")
	}
	for i := 1; i < files; i++ {
		writeFile(t, filepath.Join(f.Dir(), name(i)), strconv.Itoa(i))
	}
	waitUntil(t, "the Watcher reading every event during the stall", func() bool { return creates.Load() >= files })
	if n := len(w.kicks); n != 1 {
		t.Errorf("%d kicks waiting at the end of the stall; want them merged into 1", n)
	}
	unstall()
	waitUntil(t, "the scan after the stall", func() bool { return scans.Load() >= 2 })
	if n := atAfterStall.Load(); n != files {
		t.Errorf("the scan after the stall claimed %d of %d files", n, files)
	}
	got.check(t, files, name)
}

// TestSlowScanNoPileUp makes a scan take 2.5 s against a rescan every
// second, with a file dropped after the scan listed the folder: the
// schedule's firings and the file's event leave exactly one kick waiting
// when the scan ends, not one each and not none, and the next scan takes
// the file.
func TestSlowScanNoPileUp(t *testing.T) {
	t.Parallel()
	f := newFolder(t, Config{})
	w := startWatcher(t, Options{Dirs: []string{f.Dir()}, Debounce: 20 * time.Millisecond, Schedule: "@every 1s"})
	var (
		got     claims
		scans   int
		waiting = -1 // kicks waiting when the slow scan ended
	)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-w.Kicks():
			}
			scans++
			cs, err := f.Scan(time.Now())
			if err != nil {
				t.Errorf("scan: %v", err)
			}
			if scans == 1 {
				writeFile(t, filepath.Join(f.Dir(), "during.csv"), "x")
				time.Sleep(2500 * time.Millisecond)
				waiting = len(w.kicks)
			}
			for _, c := range cs {
				cl, err := f.Claim(c)
				if err != nil {
					t.Errorf("claim: %v", err)
					continue
				}
				got.add(cl)
			}
		}
	})
	w.Kick()
	waitUntil(t, "during.csv claimed", func() bool { return got.count() == 1 })
	cancel()
	wg.Wait()
	got.check(t, 1, func(int) string { return "during.csv" })
	if waiting != 1 {
		t.Errorf("%d kicks waiting after a scan that outlasted two firings and a file event; want 1", waiting)
	}
}
