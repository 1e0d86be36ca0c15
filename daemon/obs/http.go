package obs

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// ErrNotLoopback is returned for an HTTP address that is not on the
// loopback interface when HTTPConfig.AllowRemote is false.
//
// The endpoints have neither authentication nor TLS, and /metrics and the
// status page tell anyone who can reach them how many refunds the company
// pays and when. On loopback only local users (and a Prometheus agent or a
// reverse proxy with TLS and authentication on the same host) can reach
// them. Listening on another interface must therefore be a decision written
// in the configuration, not the effect of a typo such as ":9464".
var ErrNotLoopback = errors.New("not a loopback address (the HTTP endpoints have no authentication and no TLS)")

// DefaultShutdownTimeout is how long Serve waits for requests in flight when
// HTTPConfig.ShutdownTimeout is 0.
const DefaultShutdownTimeout = 5 * time.Second

// Timeouts of the HTTP server. Every client is local and every answer is
// small; a stuck client must not hold a connection for long.
const (
	httpReadHeaderTimeout = 5 * time.Second
	httpReadTimeout       = 10 * time.Second
	httpWriteTimeout      = 30 * time.Second
	httpIdleTimeout       = 2 * time.Minute
	httpMaxHeaderBytes    = 16 << 10
)

// HTTPConfig configures an HTTPServer.
type HTTPConfig struct {
	// Addr is the host:port to listen on (http.listen), e.g.
	// 127.0.0.1:9464. The host must be a loopback IP address or
	// "localhost" unless AllowRemote is set.
	Addr string
	// AllowRemote permits an address that is not loopback, including an
	// empty host (all interfaces). See ErrNotLoopback for why it is off.
	AllowRemote bool
	// Ready reports whether refundd is ready (config loaded, store open,
	// last SFTP check good): nil when it is, else the reason, which
	// /readyz shows as text. It must return at once (report the state that
	// other goroutines record, see Readiness) and its errors must hold no
	// secrets. A nil Ready means always ready.
	Ready func() error
	// Metrics is served on /metrics; nil leaves /metrics out.
	Metrics *Metrics
	// Logger receives the server's own errors and its start and stop; the
	// zero Logger logs nothing.
	Logger zerolog.Logger
	// ShutdownTimeout bounds the wait for requests in flight when Serve's
	// context ends; 0 means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// Build is the build that /api/health reports; nil means
	// BuildInfo("").
	Build *Build
}

// HTTPServer serves /healthz, /readyz, /metrics and /api/health (and
// whatever Handle adds, such as a status page) on one address.
//
//	/healthz     200 "ok" while the process serves HTTP at all
//	/readyz      200 "ready", or 503 "not ready: " and the reason from Ready
//	/metrics     the Prometheus metrics
//	/api/health  200 and Health as JSON: the build and the uptime
type HTTPServer struct {
	cfg HTTPConfig
	mux *http.ServeMux
	srv *http.Server

	mu sync.Mutex
	ln net.Listener
}

// NewHTTPServer checks cfg and returns a server that is not listening yet.
func NewHTTPServer(cfg HTTPConfig) (*HTTPServer, error) {
	if err := checkAddr(cfg.Addr, cfg.AllowRemote); err != nil {
		return nil, err
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	cfg.Logger = cfg.Logger.With().Str(FieldComponent, "http").Logger()
	s := &HTTPServer{cfg: cfg, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		text(w, http.StatusOK, "ok")
	})
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if cfg.Ready != nil {
			if err := cfg.Ready(); err != nil {
				text(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
				return
			}
		}
		text(w, http.StatusOK, "ready")
	})
	if cfg.Metrics != nil {
		s.mux.Handle("GET /metrics", cfg.Metrics.Handler())
	}
	build := cfg.Build
	if build == nil {
		b := BuildInfo("")
		build = &b
	}
	s.mux.Handle("GET /api/health", healthHandler(*build, time.Now()))
	s.srv = &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: httpReadHeaderTimeout,
		ReadTimeout:       httpReadTimeout,
		WriteTimeout:      httpWriteTimeout,
		IdleTimeout:       httpIdleTimeout,
		MaxHeaderBytes:    httpMaxHeaderBytes,
		ErrorLog:          log.New(errorLogWriter{cfg.Logger}, "", 0),
	}
	return s, nil
}

// checkAddr refuses an address that is malformed, or not loopback unless
// allowRemote.
func checkAddr(addr string, allowRemote bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("http server %q: %w", addr, err)
	}
	if port == "" {
		return fmt.Errorf("http server %q: no port", addr)
	}
	if allowRemote || host == "localhost" {
		return nil // localhost is checked again once bound
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("http server %q: %w", addr, ErrNotLoopback)
}

// Handle adds a handler, as http.ServeMux.Handle does. Call it before Serve.
func (s *HTTPServer) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
}

// Handler returns the server's handler, for tests.
func (s *HTTPServer) Handler() http.Handler { return s.mux }

// Listen binds the address, so that an address in use is reported at
// start-up, before Serve. Serve calls it if it has not been called.
func (s *HTTPServer) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("http server: %w", err)
	}
	if ta, ok := ln.Addr().(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
		if !s.cfg.AllowRemote {
			ln.Close()
			return fmt.Errorf("http server %q on %s: %w", s.cfg.Addr, ta, ErrNotLoopback)
		}
		s.cfg.Logger.Warn().Str("addr", ta.String()).Msg("http endpoints reachable from other hosts, without authentication or TLS")
	}
	s.ln = ln
	return nil
}

// Addr returns the address the server listens on, nil before Listen.
func (s *HTTPServer) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Serve serves until ctx ends, then shuts down gracefully: it stops
// accepting, waits up to the shutdown timeout for requests in flight, and
// closes what is left. It returns nil after a graceful shutdown, and an
// error if the server failed or the requests in flight outlasted the
// timeout. A server serves once.
func (s *HTTPServer) Serve(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	ln := s.ln
	s.cfg.Logger.Info().Str("addr", ln.Addr().String()).Msg("http server listening")
	served := make(chan error, 1)
	go func() { served <- s.srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("http server %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("shut down http server %s: %w", ln.Addr(), err)
	}
	s.cfg.Logger.Info().Msg("http server stopped")
	return nil
}

// text writes a short plain-text answer that no cache keeps.
func text(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = fmt.Fprintln(w, msg)
}

// errorLogWriter turns net/http's log lines (failed accepts, broken
// handlers) into warnings.
type errorLogWriter struct{ l zerolog.Logger }

// Write logs p as one warning.
func (w errorLogWriter) Write(p []byte) (int, error) {
	w.l.Warn().Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Readiness gathers named conditions of readiness, such as "config",
// "store" and "sftp", which the parts of refundd set as they learn them.
// Its Err method is the Ready function of HTTPConfig. It is safe for
// concurrent use.
type Readiness struct {
	mu    sync.Mutex
	names []string
	errs  map[string]error
}

// errNotChecked is the state of a condition that was never set.
var errNotChecked = errors.New("not checked yet")

// NewReadiness returns a Readiness whose conditions are all unmet ("not
// checked yet") until Set.
func NewReadiness(conditions ...string) *Readiness {
	r := &Readiness{errs: map[string]error{}}
	for _, c := range conditions {
		r.Set(c, errNotChecked)
	}
	return r
}

// Set records the state of a condition: nil when it is met, else the
// reason. A condition not named to NewReadiness is added.
func (r *Readiness) Set(condition string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.errs[condition]; !ok {
		r.names = append(r.names, condition)
	}
	r.errs[condition] = err
}

// Err returns nil when every condition is met, else the unmet ones, each as
// "condition: reason", in the order they were named.
func (r *Readiness) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for _, n := range r.names {
		if err := r.errs[n]; err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}
