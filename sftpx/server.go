package sftpx

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// ServerConfig configures an embedded SFTP server.
type ServerConfig struct {
	// Root is the local folder the server shows as "/". Nothing outside it
	// can be reached.
	Root string
	// HostKey is the server's host key; nil means a new ed25519 key.
	HostKey ssh.Signer
	// AuthorizedKeys are the client keys allowed to log in.
	AuthorizedKeys []ssh.PublicKey
	// User is the only login name accepted; empty accepts any.
	User string
	// DisabledExtensions are SFTP extensions the server does not offer,
	// e.g. "posix-rename@openssh.com", to stand in for servers without them.
	DisabledExtensions []string
	// RefuseReadWrite makes the server refuse, with permission denied,
	// every open that asks for reading and writing at once, as some
	// servers do (AWS Transfer Family, for one).
	RefuseReadWrite bool
	// Extended, if set, is called with the name of every SSH_FXP_EXTENDED
	// request the server receives, e.g. "fsync@openssh.com", also of those
	// it does not support, before the request is handled; with "" for a
	// name longer than 255 bytes.
	Extended func(name string)
	// Fault, if set, is called before each file operation with its name
	// ("open", "write", "close", "read", "rename", "posix-rename",
	// "remove", "mkdir", "rmdir", "setstat", "stat", "list") and path. An
	// error it returns fails the request with that error; it may also block
	// until ctx ends (when the server closes) to stand in for a hung server.
	Fault func(ctx context.Context, op, path string) error
}

// Server is an SSH server that offers only the SFTP subsystem, rooted in a
// local folder, with public-key login. It is meant for tests and for a
// local stand-in of a real endpoint.
type Server struct {
	cfg     ServerConfig
	ssh     *ssh.ServerConfig
	hostKey ssh.PublicKey
	fs      *rootFS
	l       net.Listener

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]bool
}

// StartServer listens on addr (e.g. "127.0.0.1:0") and serves SFTP until
// Close.
func StartServer(addr string, cfg ServerConfig) (*Server, error) {
	if cfg.HostKey == nil {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("start sftp server: %w", err)
		}
		if cfg.HostKey, err = ssh.NewSignerFromKey(k); err != nil {
			return nil, fmt.Errorf("start sftp server: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	fsys, err := newRootFS(ctx, cfg.Root, cfg.Fault, cfg.RefuseReadWrite)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("start sftp server: %w", err)
	}
	s := &Server{cfg: cfg, hostKey: cfg.HostKey.PublicKey(), fs: fsys, ctx: ctx, cancel: cancel, conns: map[net.Conn]bool{}}
	s.ssh = &ssh.ServerConfig{PublicKeyCallback: s.checkKey}
	s.ssh.AddHostKey(cfg.HostKey)
	s.l, err = net.Listen("tcp", addr)
	if err != nil {
		cancel()
		fsys.root.Close()
		return nil, fmt.Errorf("start sftp server: %w", err)
	}
	s.wg.Go(s.accept)
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.l.Addr().String() }

// HostKey returns the server's public host key.
func (s *Server) HostKey() ssh.PublicKey { return s.hostKey }

// Close stops the server: it closes the listener and every connection and
// waits for them to end.
func (s *Server) Close() error {
	s.cancel()
	err := s.l.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.fs.root.Close()
	return err
}

func (s *Server) checkKey(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if s.cfg.User != "" && meta.User() != s.cfg.User {
		return nil, fmt.Errorf("unknown user %q", meta.User())
	}
	for _, k := range s.cfg.AuthorizedKeys {
		if bytes.Equal(k.Marshal(), key.Marshal()) {
			return &ssh.Permissions{}, nil
		}
	}
	return nil, fmt.Errorf("key %s is not authorised", Fingerprint(key))
}

func (s *Server) accept() {
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.ctx.Err() != nil {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Go(func() {
			s.serveConn(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		})
	}
}

func (s *Server) serveConn(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	sc, chans, reqs, err := ssh.NewServerConn(c, s.ssh)
	if err != nil {
		return
	}
	c.SetDeadline(time.Time{})
	defer sc.Close()
	s.wg.Go(func() { ssh.DiscardRequests(reqs) })
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only session channels")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		s.wg.Go(func() { s.serveSession(ch, creqs) })
	}
}

// serveSession starts SFTP on the first "subsystem sftp" request and
// refuses everything else (shells, commands, environment).
func (s *Server) serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	started := false
	for req := range reqs {
		ok := !started && req.Type == "subsystem" && len(req.Payload) >= 4 &&
			string(req.Payload[4:]) == "sftp"
		req.Reply(ok, nil)
		if ok {
			started = true
			s.wg.Go(func() {
				var rw io.ReadWriteCloser = &extensionFilter{ReadWriteCloser: ch, drop: s.cfg.DisabledExtensions}
				if s.cfg.Extended != nil {
					rw = &extendedSniffer{ReadWriteCloser: rw, seen: s.cfg.Extended}
				}
				rs := sftp.NewRequestServer(rw, s.fs.handlers())
				rs.Serve()
				rs.Close() // closes the channel
			})
		}
	}
}

// extensionFilter removes extensions from the server's SSH_FXP_VERSION
// packet, the first packet it sends.
type extensionFilter struct {
	io.ReadWriteCloser
	drop []string
	done bool
	buf  []byte
}

const maxVersionPacket = 1 << 16

func (f *extensionFilter) Write(p []byte) (int, error) {
	if f.done || len(f.drop) == 0 {
		return f.ReadWriteCloser.Write(p)
	}
	f.buf = append(f.buf, p...)
	if len(f.buf) < 4 {
		return len(p), nil
	}
	size := int(binary.BigEndian.Uint32(f.buf))
	if size > maxVersionPacket {
		return 0, errors.New("sftp version packet too large")
	}
	if len(f.buf) < 4+size {
		return len(p), nil
	}
	f.done = true
	pkt, rest := f.buf[4:4+size], f.buf[4+size:]
	out, err := filterVersion(pkt, f.drop)
	if err != nil {
		return 0, err
	}
	if _, err := f.ReadWriteCloser.Write(binary.BigEndian.AppendUint32(nil, uint32(len(out)))); err != nil {
		return 0, err
	}
	if _, err := f.ReadWriteCloser.Write(append(out, rest...)); err != nil {
		return 0, err
	}
	f.buf = nil
	return len(p), nil
}

// filterVersion rewrites an SSH_FXP_VERSION packet body (type, version,
// then name/data string pairs) without the extensions in drop.
func filterVersion(pkt []byte, drop []string) ([]byte, error) {
	const fxpVersion = 2
	if len(pkt) < 5 || pkt[0] != fxpVersion {
		return nil, errors.New("first sftp packet is not SSH_FXP_VERSION")
	}
	out := slices.Clone(pkt[:5])
	b := pkt[5:]
	str := func() ([]byte, bool) {
		if len(b) < 4 {
			return nil, false
		}
		n := int(binary.BigEndian.Uint32(b))
		if len(b) < 4+n {
			return nil, false
		}
		s := b[:4+n]
		b = b[4+n:]
		return s, true
	}
	for len(b) > 0 {
		name, ok1 := str()
		data, ok2 := str()
		if !ok1 || !ok2 {
			return nil, errors.New("malformed SSH_FXP_VERSION packet")
		}
		if !slices.Contains(drop, string(name[4:])) {
			out = append(append(out, name...), data...)
		}
	}
	return out, nil
}

// extendedSniffer reports the name of every SSH_FXP_EXTENDED request read
// from the client; the stream itself passes unchanged.
type extendedSniffer struct {
	io.ReadWriteCloser
	seen func(name string)

	head     []byte // the start of the current packet, its length included
	left     int    // bytes of the current packet still to come
	reported bool   // the current packet needs no more looking at
}

// maxExtendedHead bounds the start of a packet kept to find an extension's
// name: length, type, id, and the name's length and bytes.
const maxExtendedHead = 4 + 1 + 4 + 4 + 255

func (s *extendedSniffer) Read(p []byte) (int, error) {
	n, err := s.ReadWriteCloser.Read(p)
	s.feed(p[:n])
	return n, err
}

func (s *extendedSniffer) feed(p []byte) {
	for len(p) > 0 {
		if len(s.head) < 4 {
			k := min(4-len(s.head), len(p))
			s.head = append(s.head, p[:k]...)
			p = p[k:]
			if len(s.head) == 4 {
				s.left = int(binary.BigEndian.Uint32(s.head))
				s.reported = s.left == 0
				if s.left == 0 {
					s.head = s.head[:0]
				}
			}
			continue
		}
		k := min(s.left, len(p))
		if !s.reported {
			s.head = append(s.head, p[:min(k, maxExtendedHead-len(s.head))]...)
			s.look()
		}
		s.left -= k
		p = p[k:]
		if s.left == 0 {
			s.head = s.head[:0]
		}
	}
}

// look reports the current packet once enough of it is known.
func (s *extendedSniffer) look() {
	const fxpExtended = 200
	b := s.head[4:]
	if len(b) < 1 {
		return
	}
	if b[0] != fxpExtended {
		s.reported = true
		return
	}
	if len(b) < 9 {
		return
	}
	n := int(binary.BigEndian.Uint32(b[5:9]))
	if 4+9+n > maxExtendedHead {
		s.reported = true
		s.seen("")
		return
	}
	if len(b) < 9+n {
		return
	}
	s.reported = true
	s.seen(string(b[9 : 9+n]))
}
