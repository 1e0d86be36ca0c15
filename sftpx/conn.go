package sftpx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// deadlineConn gives every Read and Write a deadline: idle from the start
// of the call, or the hard deadline (the end of the handshake) if that is
// sooner. A peer that stops sending or receiving cannot block a call for
// longer than idle.
type deadlineConn struct {
	net.Conn
	idle time.Duration
	hard atomic.Int64 // UnixNano; 0: none
}

func (c *deadlineConn) deadline() time.Time {
	d := time.Now().Add(c.idle)
	if h := c.hard.Load(); h != 0 && h < d.UnixNano() {
		return time.Unix(0, h)
	}
	return d
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(c.deadline()); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(c.deadline()); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// session is one SSH connection with its SFTP client. Once failed it stays
// failed; the Client dials a new one.
type session struct {
	ssh         *ssh.Client
	sftp        *sftp.Client
	meter       *meter
	hostKey     ssh.PublicKey
	posixRename bool
	fsync       bool
	timeout     time.Duration

	done chan struct{} // closed when the SSH connection has ended
	wg   sync.WaitGroup

	mu    sync.Mutex
	cause error // why the session failed; nil while it works
}

// start runs the goroutines that notice the end of the connection and send
// keepalives.
func (s *session) start(keepAlive time.Duration) {
	s.done = make(chan struct{})
	s.wg.Go(func() {
		err := s.ssh.Wait()
		s.fail(connectionLost(err, s.timeout))
		close(s.done)
	})
	s.wg.Go(func() { s.keepAlive(keepAlive) })
}

// connectionLost describes why a connection ended.
func connectionLost(err error, timeout time.Duration) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w: no data from the server for %s", ErrTimeout, timeout)
	}
	if err == nil {
		return ErrConnectionLost
	}
	return fmt.Errorf("%w: %v", ErrConnectionLost, err)
}

// keepAlive sends keepalive@openssh.com every interval and fails the
// session when one is not answered within the timeout. Any answer counts:
// servers refuse the request they do not know, and that is an answer.
func (s *session) keepAlive(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		reply := make(chan error, 1)
		s.wg.Go(func() {
			_, _, err := s.ssh.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		})
		timer := time.NewTimer(s.timeout)
		select {
		case err := <-reply:
			timer.Stop()
			if err != nil {
				// The connection has ended; the goroutine waiting for
				// its end records why.
				return
			}
		case <-timer.C:
			s.fail(fmt.Errorf("%w: no answer to a keepalive within %s", ErrTimeout, s.timeout))
			return
		case <-s.done:
			timer.Stop()
			return
		}
	}
}

// fail marks the session failed for cause (unless it failed already),
// closes the connection, which ends every pending request, and returns the
// first cause.
func (s *session) fail(cause error) error {
	s.mu.Lock()
	if s.cause == nil {
		s.cause = cause
	}
	cause = s.cause
	s.mu.Unlock()
	s.ssh.Close()
	return cause
}

// failed reports the cause of the session's failure; nil while it works.
func (s *session) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cause
}

// close ends the session and waits for its goroutines.
func (s *session) close() {
	s.fail(ErrClosed)
	s.sftp.Close()
	s.wg.Wait()
}

// watch guards one operation: it fails the session when ctx ends or when
// the SFTP server owes a reply for longer than the timeout. stop ends the
// watch.
func (s *session) watch(ctx context.Context) (stop func()) {
	tick := min(max(s.timeout/10, 10*time.Millisecond), time.Second)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-s.done:
				return
			case <-ctx.Done():
				s.fail(ctxErr(ctx))
				return
			case now := <-t.C:
				if s.meter.stalledFor(now) > s.timeout {
					s.fail(fmt.Errorf("%w: no reply from the SFTP server within %s", ErrTimeout, s.timeout))
					return
				}
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
	}
}
