package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/sys/unix"
)

// listen creates a notify socket, points NOTIFY_SOCKET at it and returns a
// function that returns the next message (or "" after a short wait).
func listen(t *testing.T, name string) func() string {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", name)
	return func() string {
		t.Helper()
		buf := make([]byte, 4096)
		if err := conn.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
			t.Fatal(err)
		}
		n, err := conn.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return ""
			}
			t.Fatal(err)
		}
		return string(buf[:n])
	}
}

func monotonicUsec(t *testing.T) int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	return ts.Nano() / 1000
}

func TestMessages(t *testing.T) {
	for _, socket := range []struct {
		name string
		path func(t *testing.T) string
	}{
		{"path", func(t *testing.T) string { return filepath.Join(t.TempDir(), "notify.sock") }},
		{"abstract", func(t *testing.T) string { return fmt.Sprintf("@refundd-notify-test-%d", os.Getpid()) }},
	} {
		t.Run(socket.name, func(t *testing.T) {
			next := listen(t, socket.path(t))
			for _, tc := range []struct {
				name string
				send func() error
				want string // a regular expression for the whole message
			}{
				{"ready", Ready, `READY=1`},
				{"stopping", Stopping, `STOPPING=1`},
				{"status", func() error { return Status("idle; 2 batches in-doubt") }, `STATUS=idle; 2 batches in-doubt`},
				{"status on one line", func() error { return Status("a\nb\r\nc") }, `STATUS=a b c`},
				{"reloading", Reloading, `RELOADING=1\nMONOTONIC_USEC=[0-9]+`},
			} {
				before := monotonicUsec(t)
				if err := tc.send(); err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				got := next()
				if !regexp.MustCompile(`^` + tc.want + `$`).MatchString(got) {
					t.Errorf("%s sent %q; want %q", tc.name, got, tc.want)
				}
				if tc.name == "reloading" {
					_, v, _ := strings.Cut(got, "MONOTONIC_USEC=")
					usec, err := strconv.ParseInt(v, 10, 64)
					if after := monotonicUsec(t); err != nil || usec < before || usec > after {
						t.Errorf("MONOTONIC_USEC=%s; want the monotonic clock, between %d and %d", v, before, after)
					}
				}
			}
		})
	}
}

func TestNoSocket(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "1000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	for name, f := range map[string]func() error{
		"Ready":     Ready,
		"Reloading": Reloading,
		"Stopping":  Stopping,
		"Status":    func() error { return Status("x") },
		"Watchdog":  func() error { return Watchdog(t.Context(), nil) }, // returns at once
	} {
		if err := f(); err != nil {
			t.Errorf("%s without NOTIFY_SOCKET: %v; want nil", name, err)
		}
	}
}

func TestSendError(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "gone.sock"))
	err := Ready()
	if err == nil || !strings.HasPrefix(err.Error(), "notify systemd READY=1: ") {
		t.Errorf("Ready to a missing socket: %v; want \"notify systemd READY=1: …\"", err)
	}
	err = Reloading()
	if err == nil || !strings.HasPrefix(err.Error(), "notify systemd RELOADING=1: ") {
		t.Errorf("Reloading to a missing socket: %v; want \"notify systemd RELOADING=1: …\"", err)
	}
}

func TestWatchdogOverSocket(t *testing.T) {
	next := listen(t, filepath.Join(t.TempDir(), "notify.sock"))
	t.Setenv("WATCHDOG_USEC", "100000") // 100ms: a ping every 50ms
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Watchdog(ctx, func() error { return nil }) }()
	for i := range 3 {
		if got := next(); got != "WATCHDOG=1" {
			t.Fatalf("message %d: %q; want \"WATCHDOG=1\"", i, got)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watchdog: %v; want nil after cancel", err)
	}
}

func TestWatchdogOff(t *testing.T) {
	for _, tc := range []struct {
		name, usec, pid string
		wantErr         string
	}{
		{"no WATCHDOG_USEC", "", "", ""},
		{"another process's watchdog", "100000", strconv.Itoa(os.Getpid() + 1), ""},
		{"bad WATCHDOG_USEC", "soon", "", "systemd watchdog: "},
		{"zero WATCHDOG_USEC", "0", "", "systemd watchdog: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := listen(t, filepath.Join(t.TempDir(), "notify.sock"))
			t.Setenv("WATCHDOG_USEC", tc.usec)
			t.Setenv("WATCHDOG_PID", tc.pid)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			err := Watchdog(ctx, nil)
			if ctx.Err() != nil {
				t.Fatalf("Watchdog waited for its context; want it to return at once")
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.wantErr)) {
				t.Errorf("Watchdog = %v; want error %q", err, tc.wantErr)
			}
			if tc.wantErr == "" {
				if err := Status("probe"); err != nil {
					t.Fatal(err)
				}
				if got := next(); got != "STATUS=probe" {
					t.Errorf("Watchdog sent %q; want nothing", got)
				}
			}
		})
	}
}

// TestWatchdogPings runs the watchdog loop on a fake clock.
func TestWatchdogPings(t *testing.T) {
	const interval = 60 * time.Second
	for _, tc := range []struct {
		name      string
		healthy   func(at time.Duration) error // at: time since start
		sendFails func(at time.Duration) bool
		run       time.Duration
		want      []time.Duration // when pings got through
		wantErr   bool
	}{
		{
			name: "healthy: a ping at start and every half interval",
			run:  95 * time.Second,
			want: []time.Duration{0, 30 * time.Second, 60 * time.Second, 90 * time.Second},
		},
		{
			name:    "nil healthy counts as healthy",
			run:     35 * time.Second,
			want:    []time.Duration{0, 30 * time.Second},
			healthy: nil,
		},
		{
			name: "no pings while unhealthy",
			healthy: func(at time.Duration) error {
				if at >= 20*time.Second && at < 80*time.Second {
					return errors.New("outbound loop stuck")
				}
				return nil
			},
			run:  125 * time.Second,
			want: []time.Duration{0, 90 * time.Second, 120 * time.Second},
		},
		{
			name:      "a failed ping is retried",
			sendFails: func(at time.Duration) bool { return at == 30*time.Second },
			run:       65 * time.Second,
			want:      []time.Duration{0, 60 * time.Second},
		},
		{
			name:      "no ping through for a whole interval",
			sendFails: func(at time.Duration) bool { return at > 0 },
			run:       5 * time.Minute,
			want:      []time.Duration{0},
			wantErr:   true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				var mu sync.Mutex
				var got []time.Duration
				send := func(msg string) error {
					if msg != "WATCHDOG=1" {
						t.Errorf("sent %q; want WATCHDOG=1", msg)
					}
					at := time.Since(start)
					if tc.sendFails != nil && tc.sendFails(at) {
						return errors.New("connection refused")
					}
					mu.Lock()
					got = append(got, at)
					mu.Unlock()
					return nil
				}
				var healthy func() error
				if tc.healthy != nil {
					healthy = func() error { return tc.healthy(time.Since(start)) }
				}
				ctx, cancel := context.WithTimeout(t.Context(), tc.run)
				defer cancel()
				err := watchdog(ctx, interval, healthy, send)
				if tc.wantErr != (err != nil) {
					t.Errorf("watchdog = %v; want error %v", err, tc.wantErr)
				}
				if tc.wantErr && !strings.Contains(err.Error(), "connection refused") {
					t.Errorf("watchdog = %v; want the send error in it", err)
				}
				mu.Lock()
				defer mu.Unlock()
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("pings at %v; want %v", got, tc.want)
				}
			})
		})
	}
}
