package spool

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/robfig/cron/v3"
)

// DefaultDebounce is the Debounce of Options that leave it zero.
const DefaultDebounce = 200 * time.Millisecond

// scheduleParser reads Options.Schedule: five fields, or six with seconds
// first, or a descriptor such as "@every 30s" or "@hourly"; "CRON_TZ=" and
// "TZ=" prefixes select a time zone.
var scheduleParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour |
	cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule checks a rescan schedule as Options.Schedule takes it, so
// that a configuration can be validated before anything runs.
func ParseSchedule(spec string) error {
	_, err := scheduleParser.Parse(spec)
	return err
}

// Options configure a Watcher.
type Options struct {
	// Dirs are the folders to watch (not recursively).
	Dirs []string
	// Debounce is how long the Watcher gathers file events before it
	// kicks: the first event of a quiet spell starts the window, and one
	// kick ends it, however many events came in it. 0 means
	// DefaultDebounce.
	Debounce time.Duration
	// Schedule is the cron schedule of the full rescans, for example
	// "@every 30s" (see ParseSchedule). It is required: file events are a
	// hint, which network file systems never give and a full kernel queue
	// drops, and the scheduled rescan is what finds every file. At each
	// rescan the Watcher also watches again any folder whose watch was
	// lost.
	//
	// "@every" counts on the monotonic clock from Run: daylight saving
	// time and steps of the wall clock do not move it. A cron expression
	// is read on the wall clock of the local time zone, or of CRON_TZ:
	// a time that a spring-forward change skips (02:30 in Europe/Oslo on
	// the last Sunday of March) fires when the skipped hour ends (03:00);
	// a time in the hour that a fall-back change repeats fires in both
	// passes. No wait between two firings is longer than the schedule
	// says in real time: after the wall clock was set back, the next
	// firing comes when the real time until it has passed (and a daily
	// time comes again when the wall clock shows it). After the wall
	// clock was set forward over several firings, they fire once.
	Schedule string
	// NoEvents turns file events off, so that the rescans alone drive
	// the work (for folders on NFS or SMB, which send no events).
	NoEvents bool
	// OnError is told of trouble that the Watcher works around by itself:
	// a kernel queue overflow, a lost watch, a panic in a scheduled job. It
	// may be called from several goroutines at once and must not block.
	// nil drops them.
	OnError func(error)
	// OnFile, when set and events are on, is given the file events of
	// the folders (on Linux: writes, closes after writing, renames in, …),
	// one at a time and in the kernel's order, from one goroutine. It
	// returns when a scan should take the file (the time Folder.Note
	// returns), or zero; the Watcher kicks then. It must not block. Where
	// the file events cannot be had, OnError is told and OnFile is not
	// called: files then wait for the stability rules.
	OnFile func(FileEvent) time.Time
}

// Watcher turns file events on the folders, a cron schedule and explicit
// requests into kicks: a value on the channel Kicks, which holds at most
// one, so that kicks arriving while the receiver is busy merge into one.
// A kick means "scan the folders"; it does not say which file changed.
type Watcher struct {
	dirs     []string
	debounce time.Duration
	schedule cron.Schedule
	noEvents bool
	onError  func(error)
	onFile   func(FileEvent) time.Time

	kicks   chan struct{}
	running atomic.Bool

	// Seams for tests, set before Run.
	wall       func() time.Time        // the wall clock of cron expressions
	afterWatch func()                  // called when the watches are in place, before the first kick
	onEvent    func(ev fsnotify.Event) // called by loop with each file event it reads

	mu      sync.Mutex  // guards the fields below
	timer   *time.Timer // armed by KickAt
	timerAt time.Time
	fw      *fsnotify.Watcher // while Run runs with events
	refile  func()            // watches the folders again for OnFile; nil without
}

// NewWatcher checks opts and returns a Watcher, which does nothing until
// Run.
func NewWatcher(opts Options) (*Watcher, error) {
	if opts.Debounce < 0 {
		return nil, fmt.Errorf("watch: negative debounce %v", opts.Debounce)
	}
	if opts.Debounce == 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.Schedule == "" {
		return nil, errors.New("watch: a rescan schedule is required")
	}
	sched, err := scheduleParser.Parse(opts.Schedule)
	if err != nil {
		return nil, fmt.Errorf("watch: schedule %q: %w", opts.Schedule, err)
	}
	if !opts.NoEvents && len(opts.Dirs) == 0 {
		return nil, errors.New("watch: no folders to watch")
	}
	w := &Watcher{
		debounce: opts.Debounce,
		schedule: sched,
		noEvents: opts.NoEvents,
		onError:  opts.OnError,
		onFile:   opts.OnFile,
		kicks:    make(chan struct{}, 1),
		wall:     time.Now,
	}
	for _, d := range opts.Dirs {
		w.dirs = append(w.dirs, filepath.Clean(d))
	}
	if w.onError == nil {
		w.onError = func(error) {}
	}
	return w, nil
}

// Kicks returns the channel of kicks. It is never closed.
func (w *Watcher) Kicks() <-chan struct{} { return w.kicks }

// Kick asks for a scan. It never blocks: a kick that is already waiting
// covers this one.
func (w *Watcher) Kick() {
	select {
	case w.kicks <- struct{}{}:
	default:
	}
}

// KickAt asks for a scan at t, typically the time Folder.Unsettled
// returns, so that a file that settles is taken then and not at the next
// scheduled rescan. Only the earliest requested time is kept; a time in
// the past kicks at once.
func (w *Watcher) KickAt(t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		w.Kick()
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		if !w.timerAt.After(t) {
			return
		}
		w.timer.Stop()
	}
	var timer *time.Timer
	timer = time.AfterFunc(d, func() {
		w.mu.Lock()
		if w.timer == timer {
			w.timer = nil
		}
		w.mu.Unlock()
		w.Kick()
	})
	w.timer, w.timerAt = timer, t
}

// stopTimer disarms KickAt.
func (w *Watcher) stopTimer() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

// Run watches the folders (unless NoEvents), kicks once, and then kicks on
// file events, on the schedule and on KickAt, until ctx is done. It
// returns nil then, after the scheduler has stopped and its job has
// finished. It returns an error at once if a folder cannot be watched at
// the start (a missing folder, the inotify limits); a watch lost later is
// reported to OnError and set up again at a scheduled rescan. Run may be
// called once.
func (w *Watcher) Run(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return errors.New("watch: Run called twice")
	}
	var (
		events <-chan fsnotify.Event
		errs   <-chan error
	)
	if !w.noEvents {
		fw, err := fsnotify.NewWatcher()
		if err != nil {
			return fmt.Errorf("watch: %w", err)
		}
		defer func() {
			w.mu.Lock()
			w.fw = nil
			w.mu.Unlock()
			fw.Close()
		}()
		for _, d := range w.dirs {
			if err := fw.Add(d); err != nil {
				return fmt.Errorf("watch %s: %w", d, err)
			}
		}
		w.mu.Lock()
		w.fw = fw
		w.mu.Unlock()
		events, errs = fw.Events, fw.Errors
		if w.onFile != nil {
			stop, rewatch, err := startFileEvents(w.dirs, w.fileEvent, w.onError)
			if err != nil {
				w.onError(fmt.Errorf("watch: %w; files wait for watch.stable_for", err))
			} else {
				defer stop()
				w.mu.Lock()
				w.refile = rewatch
				w.mu.Unlock()
			}
		}
	}
	defer w.stopTimer()
	if w.afterWatch != nil {
		w.afterWatch()
	}

	// The first scan comes after the watches are in place, so that a file
	// arriving in between is seen by one or the other.
	w.Kick()

	// The scheduled rescans run in one goroutine, one at a time, and stop
	// before the fsnotify watcher is closed (deferred above), since they
	// use it.
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { w.runSchedule(ctx) })

	w.loop(ctx, events, errs)
	return nil
}

// runSchedule fires the schedule until ctx is done. A firing that comes
// due while the last one is still running is not started again: it is
// merged with the next check.
func (w *Watcher) runSchedule(ctx context.Context) {
	base := time.Now()
	mono := func() time.Time { return base.Add(time.Since(base)) }
	wall := func() time.Time { return w.wall().Round(0) } // without the monotonic reading
	if _, ok := w.schedule.(cron.ConstantDelaySchedule); ok {
		wall = mono
	}
	s := ticker{sched: w.schedule}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		fire, wait := s.check(wall(), mono())
		if fire {
			w.fire()
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
	}
}

// fileEvent gives ev to OnFile and kicks when it says. Lost events kick at
// once: a full scan covers them.
func (w *Watcher) fileEvent(ev FileEvent) {
	at := w.onFile(ev)
	switch {
	case ev.Op == EventsLost:
		w.Kick()
	case !at.IsZero():
		w.KickAt(at)
	}
}

// fire is one scheduled rescan: watch the lost folders again and kick.
// A panic is reported to OnError.
func (w *Watcher) fire() {
	defer func() {
		if r := recover(); r != nil {
			w.onError(fmt.Errorf("watch: scheduled rescan: panic: %v\n%s", r, debug.Stack()))
		}
	}()
	w.rewatch()
	w.Kick()
}

// recheck is the longest wait between two looks at the wall clock, so
// that a cron expression notices soon that the wall clock was set.
const recheck = time.Minute

// ticker decides when a schedule fires. It keeps the next firing twice:
// as a wall-clock time, which a cron expression is about, and as a time
// on the monotonic clock, the real time until that firing when it was
// planned. The firing is due when either is reached: the wall clock set
// forward brings it sooner, and the wall clock set back does not delay it
// beyond the real time that the schedule promised.
type ticker struct {
	sched cron.Schedule
	next  time.Time // on the wall clock; zero before the first check
	due   time.Time // on the monotonic clock
}

// check looks at the clocks: wall is the wall clock, mono the monotonic
// one (both without a monotonic reading, or mono with one). It reports
// whether the schedule fires now, and otherwise how long to wait before
// the next check. After a firing the next one is planned from wall, so
// firings missed while the wall clock jumped forward fire once.
func (s *ticker) check(wall, mono time.Time) (fire bool, wait time.Duration) {
	if s.next.IsZero() {
		s.plan(wall, mono)
		if s.next.IsZero() {
			return false, recheck // the schedule never fires (30 February)
		}
	}
	if !wall.Before(s.next) || !mono.Before(s.due) {
		s.plan(wall, mono)
		return true, 0
	}
	return false, min(s.next.Sub(wall), s.due.Sub(mono), recheck)
}

// plan sets the next firing after wall.
func (s *ticker) plan(wall, mono time.Time) {
	s.next = nextSlot(s.sched, wall)
	s.due = mono.Add(s.next.Sub(wall))
}

// nextSlot returns the first time after t at which sched fires. It is
// sched.Next, except for a cron expression whose next time on the wall
// clock falls in the hour that a spring-forward change skips: robfig/cron
// passes over it to the next day, nextSlot returns the end of the skipped
// hour, as ISC cron does.
func nextSlot(sched cron.Schedule, t time.Time) time.Time {
	n := sched.Next(t)
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return n
	}
	loc := spec.Location
	if loc == time.Local {
		loc = t.Location() // as robfig/cron reads it
	}
	// The next time of the expression on a wall clock without changes:
	// the expression read in UTC from the wall-clock reading of t.
	naive := *spec
	naive.Location = time.UTC
	wt := t.In(loc)
	w := naive.Next(time.Date(wt.Year(), wt.Month(), wt.Day(), wt.Hour(), wt.Minute(), wt.Second(), wt.Nanosecond(), time.UTC))
	if w.IsZero() {
		return n
	}
	at := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, loc)
	if at.Day() == w.Day() && at.Hour() == w.Hour() && at.Minute() == w.Minute() {
		return n // that wall-clock time exists
	}
	gapEnd, _ := at.ZoneBounds()
	if gapEnd.After(t) && (n.IsZero() || gapEnd.Before(n)) {
		return gapEnd
	}
	return n
}

// loop turns events and errors into kicks until ctx is done. It only reads
// and kicks, never calls into the fsnotify watcher, which may be blocked
// sending to it.
func (w *Watcher) loop(ctx context.Context, events <-chan fsnotify.Event, errs <-chan error) {
	var (
		window *time.Timer
		fire   <-chan time.Time
	)
	defer func() {
		if window != nil {
			window.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if w.onEvent != nil {
				w.onEvent(ev)
			}
			if w.isDir(ev.Name) {
				if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
					w.onError(fmt.Errorf("watch %s: the folder was removed or renamed; watching it again at the next scheduled rescan", ev.Name))
					w.Kick()
				}
				continue
			}
			if !relevant(ev) {
				continue
			}
			if fire == nil {
				if window == nil {
					window = time.NewTimer(w.debounce)
				} else {
					window.Reset(w.debounce)
				}
				fire = window.C
			}
		case <-fire:
			fire = nil
			w.Kick()
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				err = fmt.Errorf("watch: events were lost, scanning in full: %w", err)
			} else {
				err = fmt.Errorf("watch: %w; scanning in full", err)
			}
			w.onError(err)
			w.Kick()
		}
	}
}

// relevant reports whether ev can make a file ready: a new name (created
// or renamed in) or new data, of a name that Scan looks at or of a done
// marker. Removals, renames away and mode changes cannot.
func relevant(ev fsnotify.Event) bool {
	if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Write) {
		return false
	}
	name := filepath.Base(ev.Name)
	return strings.HasSuffix(name, DoneSuffix) || !Ignored(name)
}

// isDir reports whether name is one of the watched folders.
func (w *Watcher) isDir(name string) bool {
	return slices.Contains(w.dirs, filepath.Clean(name))
}

// rewatch watches again the folders whose watch is gone (the folder was
// removed, renamed, or its file system unmounted). It runs in the cron job,
// never in loop.
func (w *Watcher) rewatch() {
	w.mu.Lock()
	fw, refile := w.fw, w.refile
	w.mu.Unlock()
	if refile != nil {
		refile()
	}
	if fw == nil {
		return
	}
	have := fw.WatchList()
	for _, d := range w.dirs {
		if slices.Contains(have, d) {
			continue
		}
		if err := fw.Add(d); err != nil {
			w.onError(fmt.Errorf("watch %s again: %w; the scheduled rescans go on", d, err))
		}
	}
}

// watching returns the folders being watched (for tests).
func (w *Watcher) watching() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fw == nil {
		return nil
	}
	return w.fw.WatchList()
}
