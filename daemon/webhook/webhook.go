package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"refundd/daemon/obs"
	"refundd/daemon/store"
)

// Hook is one receiver.
type Hook struct {
	// Name names it in logs and metrics.
	Name string
	// URL is where the announcements are posted; it identifies the
	// receiver's cursor in the store.
	URL    string
	Secret []byte
	// Notices are the events it takes.
	Notices []store.Notice
	// Timeout bounds each request; RetryMin and RetryMax the wait before
	// a failed delivery is tried again (it doubles from RetryMin).
	Timeout, RetryMin, RetryMax time.Duration
}

// Options configure a Deliverer.
type Options struct {
	Hooks   []Hook
	Company Company
	// StatusURL is the status page's /status as the receivers' readers
	// reach it; "" leaves the link out.
	StatusURL string
	Store     *store.Store
	// Metrics are updated with each delivery; nil means new metrics that
	// no one reads.
	Metrics *obs.Metrics
	Logger  zerolog.Logger
	// Client sends the requests; nil means one that follows no redirect
	// (a 3xx is a failed delivery: the configured URL is wrong).
	Client *http.Client
	// Poll is how often the backlog is looked at without a Kick (default
	// 5s).
	Poll time.Duration
	// Seed seeds the jitter of the waits (0: a random seed).
	Seed uint64
	// OnState, when set, is given each receiver's delivery state as the
	// Deliverer reads it from the store: before each pass and after each
	// failed delivery (for the daemon's health, without reading it again).
	OnState func(Hook, store.WebhookState)
}

// pageSize is how many events are read from the store at once.
const pageSize = 100

// Deliverer delivers the events of the store to the receivers of Hooks.
type Deliverer struct {
	opts  Options
	kicks []chan struct{}
}

// New returns a Deliverer; nothing is delivered before Run.
func New(opts Options) *Deliverer {
	if opts.Metrics == nil {
		opts.Metrics = obs.NewMetrics()
	}
	if opts.Poll <= 0 {
		opts.Poll = 5 * time.Second
	}
	if opts.Client == nil {
		opts.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if opts.Seed == 0 {
		opts.Seed = rand.Uint64()
	}
	d := &Deliverer{opts: opts}
	for range opts.Hooks {
		d.kicks = append(d.kicks, make(chan struct{}, 1))
	}
	return d
}

// Start records every receiver in the store that is not recorded yet,
// with its cursor at the last event: it is given what happens from now
// on. Call it before any change that a receiver should hear of.
func (d *Deliverer) Start(ctx context.Context) error {
	for _, h := range d.opts.Hooks {
		if err := d.opts.Store.StartWebhook(ctx, h.URL); err != nil {
			return fmt.Errorf("webhook %s: %w", h.Name, err)
		}
		d.opts.Metrics.WebhookConfigured(h.Name)
	}
	return nil
}

// Kick tells every receiver's delivery to look for new events now; it
// never blocks.
func (d *Deliverer) Kick() {
	for _, k := range d.kicks {
		select {
		case k <- struct{}{}:
		default:
		}
	}
}

// Run delivers until ctx ends, one goroutine per receiver, and returns
// once they all stopped: a request under way is cut off, and its event
// is delivered again later (it was not recorded as delivered).
func (d *Deliverer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range d.opts.Hooks {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(d.opts.Seed, uint64(i)))
			d.run(ctx, &d.opts.Hooks[i], d.kicks[i], rnd)
		})
	}
	wg.Wait()
}

// run delivers to one receiver until ctx ends.
func (d *Deliverer) run(ctx context.Context, h *Hook, kick <-chan struct{}, rnd *rand.Rand) {
	log := d.opts.Logger.With().Str(obs.FieldComponent, "webhook").Str("webhook", h.Name).Logger()
	failures := 0
	for ctx.Err() == nil {
		d.pending(ctx, h, log)
		wait, err := d.pass(ctx, h, log)
		if err == nil && wait {
			failures = 0
			if !sleep(ctx, d.opts.Poll, kick) {
				return
			}
			continue
		}
		if err == nil {
			failures = 0
			continue // a full page delivered: read the next
		}
		if ctx.Err() != nil {
			return
		}
		failures++
		d.pending(ctx, h, log) // the failure shows while the wait runs
		delay := backoff(h, failures, rnd)
		var ra retryAfter
		if errors.As(err, &ra) && time.Duration(ra) > delay {
			delay = min(time.Duration(ra), h.RetryMax)
		}
		if !sleep(ctx, delay, nil) {
			return
		}
	}
}

// pass delivers the events pending for h, in order, up to a page; wait
// reports that none were left. It stops at the first failure.
func (d *Deliverer) pass(ctx context.Context, h *Hook, log zerolog.Logger) (wait bool, err error) {
	s := d.opts.Store
	through, err := s.WebhookCursor(ctx, h.URL)
	if err != nil {
		log.Warn().Err(err).Msg("reading the webhook's cursor failed; tried again")
		return false, err
	}
	es, err := s.NoticesAfter(ctx, through, h.Notices, pageSize)
	if err != nil {
		log.Warn().Err(err).Msg("reading the events for the webhook failed; tried again")
		return false, err
	}
	for _, e := range es {
		if err := d.deliver(ctx, h, e, log); err != nil {
			return false, err
		}
	}
	return len(es) < pageSize, nil
}

// deliver posts e to h's receiver and, once it answered 2xx, moves the
// cursor past it.
func (d *Deliverer) deliver(ctx context.Context, h *Hook, e store.Event, log zerolog.Logger) error {
	id := EventID(d.opts.Company.OrgNumber, e.ID)
	body, err := build(ctx, d.opts.Store, d.opts.Company, d.opts.StatusURL, e)
	if err != nil {
		log.Warn().Err(err).Str("event_id", id).Msg("reading the event to announce failed; tried again")
		return err
	}
	status, err := d.post(ctx, h, id, store.NoticeOf(e), body)
	if err != nil {
		if ctx.Err() != nil {
			return err // stopping: the event is delivered again later
		}
		d.opts.Metrics.WebhookFailed(h.Name)
		// The failure is recorded for the status page; a failure to
		// record it changes nothing else.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.Timeout)
		if rerr := d.opts.Store.WebhookFailed(rctx, h.URL, err.Error()); rerr != nil {
			log.Warn().Err(rerr).Msg("recording the failed delivery failed")
		}
		cancel()
		ev := log.Warn()
		if status >= 300 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests {
			// Not a receiver that is down or busy: one that is set up
			// wrongly or refuses the event. It is tried again all the
			// same (nothing is dropped), and holds back the later ones.
			ev = log.Error()
		}
		ev.Err(err).Str("event_id", id).Int("http_status", status).Msg("webhook delivery failed; tried again")
		return err
	}
	// The receiver has it: the cursor moves past it, also when refundd is
	// stopping (fewer duplicates).
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.Timeout)
	defer cancel()
	if err := d.opts.Store.WebhookDelivered(rctx, h.URL, e.ID); err != nil {
		log.Warn().Err(err).Str("event_id", id).Msg("recording a delivery failed; the event will be delivered again")
		return err
	}
	d.opts.Metrics.WebhookDelivered(h.Name)
	log.Debug().Str("event_id", id).Str("type", string(store.NoticeOf(e))).Int("http_status", status).Msg("webhook delivered")
	return nil
}

// retryAfter is a receiver's Retry-After, as an error.
type retryAfter time.Duration

func (r retryAfter) Error() string { return "retry after " + time.Duration(r).String() }

// post sends one announcement and returns the HTTP status (0 when there
// was no answer) and an error unless it was 2xx.
func (d *Deliverer) post(ctx context.Context, h *Hook, id string, n store.Notice, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	ts := time.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "refundd-webhook")
	req.Header.Set(HeaderEventID, id)
	req.Header.Set(HeaderEventType, string(n))
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(h.Secret, ts, body))
	resp, err := d.opts.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// A little of the answer, for the error; the rest is read so that the
	// connection can be used again.
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, nil
	}
	err = fmt.Errorf("POST %s: %s: %q", h.URL, resp.Status, bytes.TrimSpace(msg))
	if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
		err = errors.Join(err, retryAfter(time.Duration(s)*time.Second))
	}
	return resp.StatusCode, err
}

// pending sets the backlog metrics of h from the store, and gives its
// state to OnState.
func (d *Deliverer) pending(ctx context.Context, h *Hook, log zerolog.Logger) {
	st, err := d.opts.Store.WebhookStatus(ctx, h.URL, h.Notices)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn().Err(err).Msg("reading the webhook's backlog failed")
		}
		return
	}
	d.opts.Metrics.WebhookPending(h.Name, st.Pending, st.Oldest)
	if d.opts.OnState != nil {
		d.opts.OnState(*h, st)
	}
}

// backoff is the wait after the nth failure in a row: RetryMin doubled
// n-1 times, at most RetryMax, less up to half of it at random (so that
// many refundds do not come back at once).
func backoff(h *Hook, n int, rnd *rand.Rand) time.Duration {
	w := h.RetryMin
	for i := 1; i < n && w < h.RetryMax; i++ {
		w *= 2
	}
	w = min(w, h.RetryMax)
	return w - time.Duration(rnd.Int64N(int64(w)/2+1))
}

// sleep waits d, or until kick (when not nil); false when ctx ended.
func sleep(ctx context.Context, d time.Duration, kick <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-kick:
	}
	return true
}
