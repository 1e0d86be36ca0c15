package sftpx

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// maxStale bounds the temporary files remembered for removal.
const maxStale = 64

// Client is an SFTP client of one server. It keeps one connection, checks
// it before every call and dials again when it has failed. Its methods may
// be called from several goroutines; they run one at a time.
type Client struct {
	cfg      Config
	signer   ssh.Signer
	hostKeys *hostKeys

	sem chan struct{} // held by the running operation

	mu     sync.Mutex
	sess   *session
	closed bool

	// stale are temporary files of failed uploads that could not be removed
	// at the time (the connection was gone); guarded by staleMu, as the
	// uploads of PutAll run at once.
	staleMu sync.Mutex
	stale   []string
}

// Dial checks the configuration, loads the private key and connects: TCP
// connect, SSH handshake with the host-key check, public-key login and the
// start of the SFTP subsystem, all within ctx and Config.Timeout.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("dial %s: %w", cfg.Address, err)
	}
	signer, err := loadSigner(cfg)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", cfg.Address, err)
	}
	hk, err := newHostKeys(cfg)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", cfg.Address, err)
	}
	c := &Client{cfg: cfg, signer: signer, hostKeys: hk, sem: make(chan struct{}, 1)}
	s, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	c.sess = s
	return c, nil
}

// Close closes the connection. A call in progress fails.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	s := c.sess
	c.sess = nil
	c.mu.Unlock()
	if s != nil {
		s.close()
	}
	return nil
}

// Live reports whether the client holds a connection that has not failed
// (keepalives answered, no broken call). It does no I/O.
func (c *Client) Live() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.closed && c.sess != nil && c.sess.failed() == nil
}

// Warm makes sure the client holds a working connection, so that the next
// call does not pay the login: it dials again, with the host-key check of
// every dial, when the last connection failed, and does nothing else. It
// waits for a call in progress.
func (c *Client) Warm(ctx context.Context) error {
	return c.do(ctx, never, func(*session) error { return nil })
}

// HostKey returns the host key the server presented on the current
// connection; nil when there is none.
func (c *Client) HostKey() ssh.PublicKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == nil {
		return nil
	}
	return c.sess.hostKey
}

// connect dials a new session.
func (c *Client) connect(parent context.Context) (*session, error) {
	ctx, cancel := context.WithTimeout(parent, c.cfg.Timeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", c.cfg.Address)
	if err != nil {
		return nil, c.dialErr(parent, ctx, err)
	}
	dc := &deadlineConn{Conn: raw, idle: c.cfg.Timeout}
	if dl, ok := ctx.Deadline(); ok {
		dc.hard.Store(dl.UnixNano())
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	s, err := c.handshake(dc)
	if !stop() {
		err = errors.Join(err, ctx.Err())
		if s != nil {
			s.ssh.Close()
		}
	}
	if err != nil {
		raw.Close()
		return nil, c.dialErr(parent, ctx, err)
	}
	// From now on only the idle deadline applies, also to the read that
	// is already waiting.
	dc.hard.Store(0)
	if err := raw.SetReadDeadline(time.Now().Add(c.cfg.Timeout)); err != nil {
		s.ssh.Close()
		return nil, c.dialErr(parent, ctx, err)
	}
	s.start(c.cfg.KeepAlive)
	return s, nil
}

// handshake runs SSH and SFTP over an established TCP connection.
func (c *Client) handshake(conn net.Conn) (*session, error) {
	s := &session{meter: &meter{}, timeout: c.cfg.Timeout}
	cb, algos, err := c.hostKeys.prepare(&s.hostKey)
	if err != nil {
		return nil, err
	}
	conf := &ssh.ClientConfig{
		User:              c.cfg.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(c.signer)},
		HostKeyCallback:   cb,
		HostKeyAlgorithms: algos,
		Timeout:           c.cfg.Timeout,
	}
	sc, chans, reqs, err := ssh.NewClientConn(conn, c.cfg.Address, conf)
	if err != nil {
		return nil, err
	}
	s.ssh = ssh.NewClient(sc, chans, reqs)
	fail := func(what string, err error) (*session, error) {
		s.ssh.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	ss, err := s.ssh.NewSession()
	if err != nil {
		return fail("open session", err)
	}
	stdin, err := ss.StdinPipe()
	if err != nil {
		return fail("open session", err)
	}
	stdout, err := ss.StdoutPipe()
	if err != nil {
		return fail("open session", err)
	}
	if err := ss.RequestSubsystem("sftp"); err != nil {
		return fail("start sftp subsystem", err)
	}
	// Reads are sequential: some servers delete a file that is stat'ed or
	// read twice. Writes are sequential unless asked for: only Put writes
	// concurrently, into a temporary file that is renamed only after every
	// write succeeded and its size is checked.
	s.sftp, err = sftp.NewClientPipe(meteredReader{stdout, s.meter}, meteredWriter{stdin, s.meter},
		sftp.UseConcurrentReads(false), sftp.UseConcurrentWrites(false))
	if err != nil {
		return fail("start sftp", err)
	}
	_, s.posixRename = s.sftp.HasExtension("posix-rename@openssh.com")
	_, s.fsync = s.sftp.HasExtension("fsync@openssh.com")
	return s, nil
}

// dialErr describes a failed dial.
func (c *Client) dialErr(parent, ctx context.Context, err error) error {
	addr := c.cfg.Address
	var hke *HostKeyError
	switch {
	case errors.As(err, &hke):
		return fmt.Errorf("dial %s: %w", addr, hke)
	case errors.Is(err, ErrConfig):
		return fmt.Errorf("dial %s: %w", addr, err)
	case strings.Contains(err.Error(), "no common algorithm for host key"):
		return fmt.Errorf("dial %s: %w: the server offers none of the pinned key types: %v", addr, ErrHostKeyMismatch, err)
	case strings.Contains(err.Error(), "unable to authenticate"):
		return fmt.Errorf("dial %s: %w: the server refused user %q with key %s", addr, ErrAuth, c.cfg.User, Fingerprint(c.signer.PublicKey()))
	case parent.Err() != nil:
		return fmt.Errorf("dial %s: %w", addr, ctxErr(parent))
	case ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("dial %s: %w: no connection within %s: %v", addr, ErrTimeout, c.cfg.Timeout, err)
	}
	return fmt.Errorf("dial %s: %w", addr, err)
}

// do runs fn on a working session, dialling one if needed, under the
// watch of ctx and of the server's replies. If fn fails in a way that is
// not a server's answer, the session is dropped and the error says why.
// A connection that was reused and turns out to be gone (the server closed
// it while idle) is dialled again and fn run once more, if retry allows.
func (c *Client) do(ctx context.Context, retry func() bool, fn func(s *session) error) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return ctxErr(ctx)
	}
	defer func() { <-c.sem }()
	for attempt := 1; ; attempt++ {
		s, reused, err := c.acquire(ctx)
		if err != nil {
			return err
		}
		err, cause := c.run(ctx, s, fn)
		if cause == nil {
			return err
		}
		if attempt == 1 && reused && ctx.Err() == nil && !errors.Is(cause, ErrTimeout) && retry() {
			continue
		}
		return fmt.Errorf("%w: %w", err, cause)
	}
}

// run runs fn on s. If the connection broke, it drops s and returns the
// cause too.
func (c *Client) run(ctx context.Context, s *session, fn func(s *session) error) (err, cause error) {
	stop := s.watch(ctx)
	c.removeStale(s)
	err = fn(s)
	stop()
	if err == nil {
		return nil, nil
	}
	if s.failed() == nil && isServerReply(err) {
		return serverErr(err), nil
	}
	// The connection is broken. Its end is usually noticed a moment after
	// the request failed; wait for it, so that the error says why.
	select {
	case <-s.done:
	case <-time.After(min(s.timeout, 2*time.Second)):
	}
	cause = s.fail(ErrConnectionLost)
	c.drop(s)
	return err, cause
}

// budgetExceeded ends a transfer that took longer than
// Config.TransferTimeout.
type budgetExceeded struct{ budget time.Duration }

func (e budgetExceeded) Error() string {
	return fmt.Sprintf("%v: the transfer took longer than its budget of %s", ErrTimeout, e.budget)
}

func (e budgetExceeded) Unwrap() error { return ErrTimeout }

// transfer bounds one upload or download by Config.TransferTimeout.
func (c *Client) transfer(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, c.cfg.TransferTimeout, budgetExceeded{c.cfg.TransferTimeout})
}

// ctxErr says why ctx ended: a transfer's exceeded budget, or ctx.Err().
// It is nil while ctx is live.
func ctxErr(ctx context.Context) error {
	err := ctx.Err()
	if err == nil {
		return nil
	}
	var be budgetExceeded
	if errors.As(context.Cause(ctx), &be) {
		return be
	}
	return err
}

func always() bool { return true }
func never() bool  { return false }

// acquire returns the current session, or a new one if it has failed;
// reused tells which.
func (c *Client) acquire(ctx context.Context) (s *session, reused bool, err error) {
	c.mu.Lock()
	s, closed := c.sess, c.closed
	c.mu.Unlock()
	if closed {
		return nil, false, ErrClosed
	}
	if s != nil && s.failed() == nil {
		return s, true, nil
	}
	if s != nil {
		c.drop(s)
	}
	s, err = c.connect(ctx)
	if err != nil {
		return nil, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		s.close()
		return nil, false, ErrClosed
	}
	c.sess = s
	return s, false, nil
}

// drop closes a failed session and forgets it.
func (c *Client) drop(s *session) {
	c.mu.Lock()
	if c.sess == s {
		c.sess = nil
	}
	c.mu.Unlock()
	s.close()
}

// removeStale removes the temporary files of earlier failed uploads.
func (c *Client) removeStale(s *session) {
	c.staleMu.Lock()
	defer c.staleMu.Unlock()
	kept := c.stale[:0]
	for _, name := range c.stale {
		if err := s.sftp.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			kept = append(kept, name)
		}
	}
	c.stale = kept
}

// discard removes a temporary file, or remembers it for later.
func (c *Client) discard(s *session, name string) {
	if s.failed() == nil {
		err := s.sftp.Remove(name)
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return
		}
	}
	c.staleMu.Lock()
	defer c.staleMu.Unlock()
	if len(c.stale) >= maxStale {
		c.stale = c.stale[1:]
	}
	c.stale = append(c.stale, name)
}
