package sftpx_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"refundd/sftpx"
)

// TestDialBounded dials servers that never finish the handshake: the dial
// ends with a transient error within the timeout, or when the context ends.
func TestDialBounded(t *testing.T) {
	// A listener that accepts and then says nothing.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		l.Close()
		for c := range accepted {
			c.Close()
		}
	})
	// A closed port.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	e := startEmbedded(t, sftpx.ServerConfig{})
	for _, tc := range []struct {
		name    string
		addr    string
		timeout time.Duration
		cancel  time.Duration // cancel the context after this long; 0: never
		want    error
	}{
		{"silent server, timeout", l.Addr().String(), time.Second, 0, sftpx.ErrTimeout},
		{"silent server, cancelled", l.Addr().String(), time.Minute, 200 * time.Millisecond, context.Canceled},
		{"connection refused", closedAddr, time.Second, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := e.cfg
			cfg.Address, cfg.Timeout = tc.addr, tc.timeout
			ctx := t.Context()
			if tc.cancel > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				time.AfterFunc(tc.cancel, cancel)
			}
			start := time.Now()
			_, err := sftpx.Dial(ctx, cfg)
			elapsed := time.Since(start)
			if err == nil || sftpx.IsPermanent(err) {
				t.Fatalf("got %v; want a transient error", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("got %v; want %v", err, tc.want)
			}
			if limit := min(tc.timeout, max(tc.cancel, time.Millisecond)*100) + 5*time.Second; elapsed > limit {
				t.Errorf("took %s; want at most %s", elapsed, limit)
			}
		})
	}
}

// TestRedial restarts the server between two calls: the client notices
// the dead connection and dials again.
func TestRedial(t *testing.T) {
	root := t.TempDir()
	host := newHostSigner(t)
	e := startEmbedded(t, sftpx.ServerConfig{Root: root, HostKey: host})
	c := dial(t, e.cfg)
	if err := c.Put(t.Context(), "/one.xml", strings.NewReader("1")); err != nil {
		t.Fatal(err)
	}
	addr := e.srv.Addr()
	e.srv.Close()
	if _, err := c.List(t.Context(), "/", ""); err == nil || sftpx.IsPermanent(err) {
		t.Fatalf("List with the server down: %v; want a transient error", err)
	}
	srv, err := sftpx.StartServer(addr, sftpx.ServerConfig{Root: root, HostKey: host, AuthorizedKeys: []ssh.PublicKey{mustPublicKey(t, e.cfg)}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := c.Put(t.Context(), "/two.xml", strings.NewReader("2")); err != nil {
		t.Fatalf("Put after the restart: %v", err)
	}
	if got := names(t, root); strings.Join(got, " ") != "one.xml two.xml" {
		t.Errorf("server folder holds %q", got)
	}
}

// TestClosedClient refuses calls after Close.
func TestClosedClient(t *testing.T) {
	e := startEmbedded(t, sftpx.ServerConfig{})
	c := dial(t, e.cfg)
	c.Close()
	if _, err := c.List(t.Context(), "/", ""); !errors.Is(err, sftpx.ErrClosed) {
		t.Errorf("got %v; want ErrClosed", err)
	}
}

// TestWarm: Warm dials again when the connection has failed, with the
// host-key check of every dial, and keeps a working one.
func TestWarm(t *testing.T) {
	root := t.TempDir()
	host := newHostSigner(t)
	e := startEmbedded(t, sftpx.ServerConfig{Root: root, HostKey: host})
	c := dial(t, e.cfg)
	if !c.Live() {
		t.Fatal("not live after Dial")
	}
	addr := e.srv.Addr()
	e.srv.Close()
	deadline := time.Now().Add(15 * time.Second)
	for c.Live() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if c.Live() {
		t.Fatal("still live 15 s after the server closed")
	}
	restart := func(hk ssh.Signer) *sftpx.Server {
		t.Helper()
		srv, err := sftpx.StartServer(addr, sftpx.ServerConfig{Root: root, HostKey: hk, AuthorizedKeys: []ssh.PublicKey{mustPublicKey(t, e.cfg)}})
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	impostor := restart(newHostSigner(t))
	if err := c.Warm(t.Context()); !errors.Is(err, sftpx.ErrHostKeyMismatch) {
		t.Fatalf("Warm against another host key: %v; want ErrHostKeyMismatch", err)
	}
	if c.Live() {
		t.Error("live after a refused host key")
	}
	impostor.Close()
	srv := restart(host)
	defer srv.Close()
	if err := c.Warm(t.Context()); err != nil {
		t.Fatalf("Warm: %v", err)
	}
	if !c.Live() {
		t.Error("not live after Warm")
	}
	if err := c.Put(t.Context(), "/after.xml", strings.NewReader("x")); err != nil {
		t.Fatalf("Put after Warm: %v", err)
	}
}
