package obs

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
	"github.com/rs/zerolog"
	"go.yaml.in/yaml/v3"
)

// ErrNotLoopback is returned for an HTTP address that is not on the
// loopback interface, unless the endpoints are protected (a web
// configuration file with TLS and authentication, see
// HTTPConfig.WebConfigFile) or HTTPConfig.AllowRemote is set.
//
// /metrics and the status page tell anyone who can reach them how many
// refunds the company pays, to whom and when. On loopback only local users
// (and a Prometheus agent or a reverse proxy on the same host) can reach
// them. Listening on another interface must therefore be a decision written
// in the configuration, not the effect of a typo such as ":9464"; and it
// needs TLS, so that names, amounts and passwords do not cross the network
// in clear, and authentication, so that not everyone on it can read them.
var ErrNotLoopback = errors.New("not a loopback address (the HTTP endpoints need a web configuration file with TLS and authentication for that)")

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
	// empty host (all interfaces), without TLS and authentication. See
	// ErrNotLoopback for why it is off. No configuration key sets it.
	AllowRemote bool
	// WebConfigFile is a web configuration file of the Prometheus
	// exporter toolkit (http.web_config_file): TLS (tls_server_config:
	// cert_file, key_file, min_version, client_auth_type, client_ca_file)
	// and basic authentication (basic_auth_users, bcrypt hashes) for every
	// endpoint, /healthz and /readyz included. "" serves plain HTTP without
	// authentication. The file is checked by NewHTTPServer; it is read
	// again for every request (users) and every TLS handshake
	// (certificates), so a new password or certificate takes effect
	// without a restart. An address that is not loopback is accepted
	// when the file configures TLS and authentication (users, or client
	// certificates that are required and verified).
	WebConfigFile string
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
	// Health is the running daemon, whose state /api/health reports
	// beside the build; nil reports the build and uptime alone.
	Health HealthSource
}

// HTTPServer serves /healthz, /readyz, /metrics and /api/health (and
// whatever Handle adds, such as a status page) on one address.
//
//	/healthz     200 "ok" while the process serves HTTP at all
//	/readyz      200 "ready", or 503 "not ready: " and the reason from Ready
//	/metrics     the Prometheus metrics
//	/api/health  200 and Health as JSON: the build, the uptime and the
//	             daemon's state (uploads, downloads, SFTP, disk, alarms)
type HTTPServer struct {
	cfg HTTPConfig
	// protected: the web configuration file has TLS and authentication.
	protected bool
	mux       *http.ServeMux
	srv       *http.Server
	health    *HealthReport

	mu sync.Mutex
	ln net.Listener
}

// NewHTTPServer checks cfg and returns a server that is not listening yet.
func NewHTTPServer(cfg HTTPConfig) (*HTTPServer, error) {
	protected, err := checkWebConfig(cfg.WebConfigFile)
	if err != nil {
		return nil, err
	}
	if err := checkAddr(cfg.Addr, cfg.AllowRemote || protected); err != nil {
		return nil, err
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	cfg.Logger = cfg.Logger.With().Str(FieldComponent, "http").Logger()
	s := &HTTPServer{cfg: cfg, protected: protected, mux: http.NewServeMux()}
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
	s.health = NewHealthReport(*build, time.Now(), cfg.Health)
	s.mux.Handle("GET /api/health", healthHandler(s.health))
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

// webConfig is what checkWebConfig reads of a web configuration file;
// web.Validate checks the whole file.
type webConfig struct {
	TLS struct {
		Cert       string `yaml:"cert"`
		CertFile   string `yaml:"cert_file"`
		ClientAuth string `yaml:"client_auth_type"`
	} `yaml:"tls_server_config"`
	Users map[string]string `yaml:"basic_auth_users"`
}

// readWebConfig reads the parts of the web configuration file that
// checkWebConfig needs.
func readWebConfig(path string) (webConfig, error) {
	var c webConfig
	data, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	err = yaml.Unmarshal(data, &c)
	return c, err
}

// checkWebConfig checks the web configuration file at path, as the
// toolkit reads it (keys, bcrypt hashes, the certificate and key), and
// reports whether it protects the endpoints: TLS, and authentication by
// password or by a verified client certificate. "" is no file.
func checkWebConfig(path string) (protected bool, err error) {
	if path == "" {
		return false, nil
	}
	if err := web.Validate(path); err != nil {
		return false, fmt.Errorf("http server: web configuration file %s: %w", path, err)
	}
	c, err := readWebConfig(path)
	if err != nil {
		return false, fmt.Errorf("http server: web configuration file %s: %w", path, err)
	}
	return c.protects(), nil
}

// protects reports whether the web configuration has TLS, and
// authentication by password or by a verified client certificate.
func (c webConfig) protects() bool {
	tls := c.TLS.Cert != "" || c.TLS.CertFile != ""
	auth := len(c.Users) > 0 || c.TLS.ClientAuth == "RequireAndVerifyClientCert"
	return tls && auth
}

// stillProtected wraps next for a server off loopback that is allowed
// there because its web configuration file protects it: the toolkit reads
// the file again for every request, so a file edited while refundd runs
// (the users taken out while passwords are changed) would open the
// endpoints to everyone on the network. Each request reads the file again
// too, and while it no longer protects them the answer is 503 and an
// error is logged (at most once a minute).
func (s *HTTPServer) stillProtected(next http.Handler) http.Handler {
	var mu sync.Mutex
	var logged time.Time
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := readWebConfig(s.cfg.WebConfigFile)
		if err == nil && c.protects() {
			next.ServeHTTP(w, r)
			return
		}
		mu.Lock()
		if time.Since(logged) >= time.Minute {
			logged = time.Now()
			ev := s.cfg.Logger.Error().Str(FieldFile, s.cfg.WebConfigFile)
			if err != nil {
				ev = ev.Err(err)
			}
			ev.Msg("the web configuration file no longer has TLS and authentication: every request is refused until it does (the endpoints are reachable from other hosts)")
		}
		mu.Unlock()
		text(w, http.StatusServiceUnavailable, "refused: the web configuration file no longer protects this address")
	})
}

// hasTLS reports whether the web configuration file at path configures
// TLS; false when it cannot be read.
func hasTLS(path string) bool {
	c, err := readWebConfig(path)
	return err == nil && (c.TLS.Cert != "" || c.TLS.CertFile != "")
}

// Handle adds a handler, as http.ServeMux.Handle does. Call it before Serve.
func (s *HTTPServer) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
}

// Health returns what /api/health answers now, for a page that shows it.
func (s *HTTPServer) Health() Health { return s.health.Health(time.Now()) }

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
		switch {
		case s.protected:
			s.cfg.Logger.Info().Str("addr", ta.String()).Str(FieldFile, s.cfg.WebConfigFile).
				Msg("http endpoints reachable from other hosts, with TLS and authentication")
		case s.cfg.AllowRemote:
			s.cfg.Logger.Warn().Str("addr", ta.String()).Msg("http endpoints reachable from other hosts, without authentication or TLS")
		default:
			ln.Close()
			return fmt.Errorf("http server %q on %s: %w", s.cfg.Addr, ta, ErrNotLoopback)
		}
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
	served := make(chan error, 1)
	if s.cfg.WebConfigFile == "" {
		s.cfg.Logger.Info().Str("addr", ln.Addr().String()).Msg("http server listening")
		go func() { served <- s.srv.Serve(ln) }()
	} else {
		s.cfg.Logger.Info().Str("addr", ln.Addr().String()).Str(FieldFile, s.cfg.WebConfigFile).Bool("tls", hasTLS(s.cfg.WebConfigFile)).
			Msg("http server listening")
		file := s.cfg.WebConfigFile
		// The toolkit's own lines (a file that became unreadable: every
		// request answered 500) from warn up; its start-up notes are
		// the line above.
		tl := s.cfg.Logger.Level(max(s.cfg.Logger.GetLevel(), zerolog.WarnLevel))
		if ta, ok := ln.Addr().(*net.TCPAddr); ok && !ta.IP.IsLoopback() && !s.cfg.AllowRemote {
			s.srv.Handler = s.stillProtected(s.srv.Handler)
		}
		go func() {
			served <- web.Serve(ln, s.srv, &web.FlagConfig{WebConfigFile: &file}, slog.New(zerolog.NewSlogHandler(tl)))
		}()
	}

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
