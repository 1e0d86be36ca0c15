//go:build linux

package spool

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// closeMask is what the file-event watch asks of inotify. fsnotify (the
// kicks) does not pass IN_CLOSE_WRITE on, nor tells a rename-in from a
// creation, so these come from an inotify instance of their own.
const closeMask = unix.IN_CREATE | unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO |
	unix.IN_MOVED_FROM | unix.IN_DELETE | unix.IN_ATTRIB | unix.IN_ONLYDIR

// fileEvents reads the file events of dirs from inotify and gives them to
// the Watcher's OnFile.
type fileEvents struct {
	file *os.File
	fd   int

	mu  sync.Mutex
	wds map[int32]string // watch descriptor → folder
}

// startFileEvents watches dirs for file events; the events go to fn, in
// the kernel's order, from one goroutine, until stop.
func startFileEvents(dirs []string, fn func(FileEvent), onError func(error)) (stop func(), rewatch func(), err error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, nil, fmt.Errorf("file events: %w", err)
	}
	fe := &fileEvents{file: os.NewFile(uintptr(fd), "inotify"), fd: fd, wds: map[int32]string{}}
	for _, d := range dirs {
		if err := fe.add(d); err != nil {
			fe.file.Close()
			return nil, nil, err
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { fe.read(fn, onError) })
	stop = func() {
		fe.file.Close() // ends the read
		wg.Wait()
	}
	rewatch = func() {
		for _, d := range dirs {
			if err := fe.add(d); err != nil {
				onError(err)
			}
		}
	}
	return stop, rewatch, nil
}

// add watches dir; watching a folder again is harmless.
func (fe *fileEvents) add(dir string) error {
	wd, err := unix.InotifyAddWatch(fe.fd, dir, closeMask)
	if err != nil {
		return fmt.Errorf("file events of %s: %w", dir, err)
	}
	fe.mu.Lock()
	fe.wds[int32(wd)] = dir
	fe.mu.Unlock()
	return nil
}

// read reads events until the file is closed.
func (fe *fileEvents) read(fn func(FileEvent), onError func(error)) {
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		n, err := fe.file.Read(buf)
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				onError(fmt.Errorf("file events: %w; the early taking of closed files stops until restart", err))
				fe.lostAll(fn)
			}
			return
		}
		now := time.Now()
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			raw := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			end := off + unix.SizeofInotifyEvent + int(raw.Len)
			if end > n {
				break
			}
			name := string(bytes.TrimRight(buf[off+unix.SizeofInotifyEvent:end], "\x00"))
			fe.dispatch(raw.Wd, raw.Mask, name, now, fn)
			off = end
		}
	}
}

// dispatch turns one inotify event into FileEvents.
func (fe *fileEvents) dispatch(wd int32, mask uint32, name string, now time.Time, fn func(FileEvent)) {
	if mask&unix.IN_Q_OVERFLOW != 0 {
		fe.lostAll(fn)
		return
	}
	fe.mu.Lock()
	dir, ok := fe.wds[wd]
	if ok && mask&unix.IN_IGNORED != 0 {
		delete(fe.wds, wd) // the folder is gone; watched again by rewatch
	}
	fe.mu.Unlock()
	if !ok {
		return
	}
	if mask&unix.IN_IGNORED != 0 {
		fn(FileEvent{Dir: dir, Op: EventsLost, At: now})
		return
	}
	if name == "" || mask&unix.IN_ISDIR != 0 {
		return
	}
	ev := FileEvent{Dir: dir, Name: name, At: now}
	// One event may carry several bits; they are given in the order in
	// which they happen.
	for _, m := range []struct {
		bit uint32
		op  FileOp
	}{
		{unix.IN_CREATE, FileCreated},
		{unix.IN_MOVED_TO, FileMovedIn},
		{unix.IN_MODIFY, FileWritten},
		{unix.IN_ATTRIB, FileAttrib},
		{unix.IN_CLOSE_WRITE, FileClosed},
		{unix.IN_MOVED_FROM | unix.IN_DELETE, FileGone},
	} {
		if mask&m.bit != 0 {
			ev.Op = m.op
			fn(ev)
		}
	}
}

// lostAll tells of lost events in every folder.
func (fe *fileEvents) lostAll(fn func(FileEvent)) {
	fe.mu.Lock()
	dirs := make([]string, 0, len(fe.wds))
	for _, d := range fe.wds {
		dirs = append(dirs, d)
	}
	fe.mu.Unlock()
	for _, d := range dirs {
		fn(FileEvent{Dir: d, Op: EventsLost, At: time.Now()})
	}
}
