package sftpx

import (
	"encoding/binary"
	"io"
	"sync"
	"time"
)

// meter watches the two byte streams of an SFTP session. It counts the
// requests sent and the replies received (every SFTP request has exactly one
// reply), so that a server that owes a reply and sends nothing can be told
// from a connection that is merely idle. The SSH connection itself may
// still be alive: keepalives do not show that the SFTP server works.
type meter struct {
	mu       sync.Mutex
	sent     int64     // requests started
	received int64     // replies complete
	progress time.Time // last reply byte, or when a request found none owed
	out, in  framer
}

// stalledFor reports for how long the server has owed a reply without
// sending anything; zero if it owes none.
func (m *meter) stalledFor(now time.Time) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sent <= m.received {
		return 0
	}
	return now.Sub(m.progress)
}

func (m *meter) sending(p []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	started, _ := m.out.feed(p)
	if started > 0 && m.sent <= m.received {
		m.progress = time.Now()
	}
	m.sent += int64(started)
}

func (m *meter) receiving(p []byte) {
	if len(p) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, done := m.in.feed(p)
	m.received += int64(done)
	m.progress = time.Now()
}

// framer follows SFTP's framing (a 4-byte big-endian length, then the
// packet) through a byte stream without buffering it.
type framer struct {
	hdr  [4]byte
	nhdr int    // bytes of hdr filled
	left uint32 // bytes of the current packet still to come
}

// feed consumes p and returns how many packets began and how many ended in
// it.
func (f *framer) feed(p []byte) (started, done int) {
	for len(p) > 0 {
		if f.left == 0 {
			n := copy(f.hdr[f.nhdr:], p)
			f.nhdr += n
			p = p[n:]
			if f.nhdr < 4 {
				break
			}
			f.nhdr = 0
			f.left = binary.BigEndian.Uint32(f.hdr[:])
			started++
			if f.left == 0 {
				done++
			}
			continue
		}
		n := uint32(len(p))
		if n > f.left {
			n = f.left
		}
		f.left -= n
		p = p[n:]
		if f.left == 0 {
			done++
		}
	}
	return started, done
}

// meteredReader reports the bytes read from the server to a meter.
type meteredReader struct {
	r io.Reader
	m *meter
}

func (r meteredReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.m.receiving(p[:n])
	return n, err
}

// meteredWriter reports the bytes sent to the server to a meter before
// sending them, so that a write that blocks already counts as owed a
// reply.
type meteredWriter struct {
	w io.WriteCloser
	m *meter
}

func (w meteredWriter) Write(p []byte) (int, error) {
	w.m.sending(p)
	return w.w.Write(p)
}

func (w meteredWriter) Close() error { return w.w.Close() }
