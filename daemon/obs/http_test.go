package obs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestCheckAddr(t *testing.T) {
	for _, tc := range []struct {
		addr        string
		allowRemote bool
		want        string // "" ok, else a part of the error
	}{
		{"127.0.0.1:9464", false, ""},
		{"127.0.0.2:9464", false, ""},
		{"[::1]:9464", false, ""},
		{"localhost:9464", false, ""},
		{":9464", false, "not a loopback address"},
		{"0.0.0.0:9464", false, "not a loopback address"},
		{"[::]:9464", false, "not a loopback address"},
		{"192.0.2.10:9464", false, "not a loopback address"},
		{"[2001:db8::1]:9464", false, "not a loopback address"},
		{"monitor.example:9464", false, "not a loopback address"},
		{":9464", true, ""},
		{"0.0.0.0:9464", true, ""},
		{"192.0.2.10:9464", true, ""},
		{"", false, "missing port"},
		{"127.0.0.1", false, "missing port"},
		{"127.0.0.1:", false, "no port"},
	} {
		err := checkAddr(tc.addr, tc.allowRemote)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("checkAddr(%q, %v) = %v; want nil", tc.addr, tc.allowRemote, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("checkAddr(%q, %v) = %v; want an error with %q", tc.addr, tc.allowRemote, err, tc.want)
		case tc.want == "not a loopback address" && !errors.Is(err, ErrNotLoopback):
			t.Errorf("checkAddr(%q, %v) = %v; want ErrNotLoopback", tc.addr, tc.allowRemote, err)
		}
	}
}

func TestNewHTTPServerRefusesRemote(t *testing.T) {
	_, err := NewHTTPServer(HTTPConfig{Addr: ":9464"})
	if !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("NewHTTPServer(:9464) = %v; want ErrNotLoopback", err)
	}
	if want := `http server ":9464": not a loopback address`; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q; want it to start with %q", err, want)
	}
}

func TestHTTPHandlers(t *testing.T) {
	m := NewMetrics()
	m.Postings(7)
	ready := NewReadiness("config", "store", "sftp")
	s, err := NewHTTPServer(HTTPConfig{Addr: "127.0.0.1:0", Ready: ready.Err, Metrics: m, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	s.Handle("GET /status", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "status page")
	}))
	for _, tc := range []struct {
		name   string
		setup  func()
		method string
		path   string
		code   int
		body   string // a part of the body
	}{
		{"alive", nil, "GET", "/healthz", 200, "ok\n"},
		{"alive HEAD", nil, "HEAD", "/healthz", 200, ""},
		{"not ready at start", nil, "GET", "/readyz", 503,
			"not ready: config: not checked yet\nstore: not checked yet\nsftp: not checked yet\n"},
		{"not ready: sftp", func() {
			ready.Set("config", nil)
			ready.Set("store", nil)
			ready.Set("sftp", errors.New("dial tcp 192.0.2.1:22: i/o timeout"))
		}, "GET", "/readyz", 503, "not ready: sftp: dial tcp 192.0.2.1:22: i/o timeout\n"},
		{"ready", func() { ready.Set("sftp", nil) }, "GET", "/readyz", 200, "ready\n"},
		{"not ready again", func() { ready.Set("store", errors.New("database is locked")) }, "GET", "/readyz", 503, "not ready: store: database is locked\n"},
		{"metrics", nil, "GET", "/metrics", 200, "\nrefundd_postings_total 7\n"},
		{"extra handler", nil, "GET", "/status", 200, "status page"},
		{"POST healthz", nil, "POST", "/healthz", 405, ""},
		{"unknown path", nil, "GET", "/debug/pprof/", 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.code {
				t.Errorf("%s %s: %d; want %d", tc.method, tc.path, rec.Code, tc.code)
			}
			if body := rec.Body.String(); !strings.Contains(body, tc.body) {
				t.Errorf("%s %s: body %q; want it to hold %q", tc.method, tc.path, body, tc.body)
			}
			if (tc.path == "/healthz" || tc.path == "/readyz") && tc.method != "POST" {
				if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
					t.Errorf("%s %s: Cache-Control %q; want no-store", tc.method, tc.path, cc)
				}
			}
		})
	}
}

func TestHTTPNilReadyAndMetrics(t *testing.T) {
	s, err := NewHTTPServer(HTTPConfig{Addr: "[::1]:0"})
	if err != nil {
		t.Fatal(err)
	}
	for path, code := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 404} {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != code {
			t.Errorf("GET %s: %d; want %d", path, rec.Code, code)
		}
	}
}

func TestHTTPTimeouts(t *testing.T) {
	s, err := NewHTTPServer(HTTPConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": s.srv.ReadHeaderTimeout,
		"ReadTimeout":       s.srv.ReadTimeout,
		"WriteTimeout":      s.srv.WriteTimeout,
		"IdleTimeout":       s.srv.IdleTimeout,
	} {
		if d <= 0 || d > 5*time.Minute {
			t.Errorf("%s = %v; want a positive timeout of at most 5m", name, d)
		}
	}
	if s.srv.MaxHeaderBytes <= 0 {
		t.Errorf("MaxHeaderBytes = %d; want a limit", s.srv.MaxHeaderBytes)
	}
	if s.cfg.ShutdownTimeout != DefaultShutdownTimeout {
		t.Errorf("ShutdownTimeout = %v; want %v", s.cfg.ShutdownTimeout, DefaultShutdownTimeout)
	}
}

// serve starts s on a real listener and returns its base URL and a function
// that stops it and returns Serve's error.
func serve(t *testing.T, s *HTTPServer) (string, func() error) {
	t.Helper()
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	stopped := false
	stop := func() error {
		cancel()
		stopped = true
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("Serve did not return 10s after its context ended")
			return nil
		}
	}
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})
	return "http://" + s.Addr().String(), stop
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

func TestHTTPServeAndShutdown(t *testing.T) {
	m := NewMetrics()
	m.Upload(ResultOK, time.Unix(1796112000, 0))
	var logs strings.Builder
	log, err := newLogger(&logs, "info", "json", false, fixedClock)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewHTTPServer(HTTPConfig{Addr: "127.0.0.1:0", Metrics: m, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr() != nil {
		t.Errorf("Addr() before Listen = %v; want nil", s.Addr())
	}
	base, stop := serve(t, s)
	if ta := s.Addr().(*net.TCPAddr); !ta.IP.IsLoopback() || ta.Port == 0 {
		t.Errorf("listening on %v; want a loopback address with a port", ta)
	}
	for path, want := range map[string]string{
		"/healthz": "ok\n",
		"/readyz":  "ready\n",
		"/metrics": "\nrefundd_last_upload_success_timestamp_seconds 1.796112e+09\n",
	} {
		code, body := get(t, base+path)
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d %q; want 200 with %q", path, code, body, want)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("Serve: %v; want nil after a graceful shutdown", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Errorf("GET /healthz after shutdown worked; want connection refused")
	}
	for _, want := range []string{`"component":"http"`, `"message":"http server listening"`, `"message":"http server stopped"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
}

func TestHTTPShutdownWaitsForRequests(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler time.Duration // how long the handler takes
		timeout time.Duration // ShutdownTimeout
		wantErr bool
	}{
		{"request finishes in time", 200 * time.Millisecond, 5 * time.Second, false},
		{"request outlasts the timeout", 5 * time.Second, 100 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewHTTPServer(HTTPConfig{Addr: "127.0.0.1:0", ShutdownTimeout: tc.timeout})
			if err != nil {
				t.Fatal(err)
			}
			started := make(chan struct{})
			s.Handle("GET /slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(started)
				select {
				case <-time.After(tc.handler):
					fmt.Fprint(w, "done")
				case <-r.Context().Done():
				}
			}))
			base, stop := serve(t, s)
			type result struct {
				code int
				body string
				err  error
			}
			res := make(chan result, 1)
			go func() {
				resp, err := http.Get(base + "/slow")
				if err != nil {
					res <- result{err: err}
					return
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				res <- result{resp.StatusCode, string(b), err}
			}()
			<-started
			t0 := time.Now()
			err = stop()
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "shut down http server") || !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Serve = %v; want a shutdown error wrapping context.DeadlineExceeded", err)
				}
				if d := time.Since(t0); d > 3*time.Second {
					t.Errorf("Serve returned after %v; want about the shutdown timeout %v", d, tc.timeout)
				}
				if r := <-res; r.err == nil {
					t.Errorf("the request in flight got %d %q; want it cut off", r.code, r.body)
				}
				return
			}
			if err != nil {
				t.Errorf("Serve = %v; want nil", err)
			}
			if r := <-res; r.err != nil || r.code != 200 || r.body != "done" {
				t.Errorf("request in flight: %d %q %v; want 200 \"done\"", r.code, r.body, r.err)
			}
		})
	}
}

func TestHTTPListenErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err := NewHTTPServer(HTTPConfig{Addr: ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Serve(t.Context())
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("Serve on a used address = %v; want \"address already in use\"", err)
	}
}

func TestReadiness(t *testing.T) {
	r := NewReadiness()
	if err := r.Err(); err != nil {
		t.Errorf("no conditions: %v; want nil", err)
	}
	boom := errors.New("boom")
	r.Set("late", boom)
	if err := r.Err(); !errors.Is(err, boom) || err.Error() != "late: boom" {
		t.Errorf("Err() = %v; want \"late: boom\" wrapping the reason", err)
	}
	r.Set("late", nil)
	if err := r.Err(); err != nil {
		t.Errorf("Err() = %v; want nil", err)
	}
}
