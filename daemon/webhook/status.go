package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"refundd/daemon/store"
)

// State is one receiver's delivery state, for the status page and
// GET /api/webhooks.
type State struct {
	Name string `json:"name"`
	// URL is the receiver's address without its query (which may carry
	// a token).
	URL    string   `json:"url"`
	Events []string `json:"events"`
	// Pending events wait for the receiver, the oldest since
	// OldestPending.
	Pending       int64      `json:"pending"`
	OldestPending *time.Time `json:"oldest_pending,omitempty"`
	// Delivered counts the events the receiver took; FailedAttempts the
	// failed attempts at the next one since the last success.
	Delivered      int64      `json:"delivered"`
	FailedAttempts int64      `json:"failed_attempts"`
	LastSuccess    *time.Time `json:"last_success,omitempty"`
	// LastError is the last failed attempt's error, at LastErrorAt; it
	// is history once LastSuccess is later.
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
}

// Failing reports whether the receiver's last attempt failed: it needs a
// look when events are pending.
func (s State) Failing() bool {
	return s.LastErrorAt != nil && (s.LastSuccess == nil || s.LastErrorAt.After(*s.LastSuccess))
}

// statusReader is what States reads.
type statusReader interface {
	WebhookStatus(ctx context.Context, hook string, ns []store.Notice) (store.WebhookState, error)
}

// States returns the delivery state of each of hooks, in their order; a
// receiver not yet started shows everything zero.
func States(ctx context.Context, s statusReader, hooks []Hook) ([]State, error) {
	out := make([]State, 0, len(hooks))
	for _, h := range hooks {
		st := State{Name: h.Name, URL: h.URL}
		if u, err := url.Parse(h.URL); err == nil {
			u.RawQuery, u.User = "", nil
			st.URL = u.String()
		}
		for _, n := range h.Notices {
			st.Events = append(st.Events, string(n))
		}
		ws, err := s.WebhookStatus(ctx, h.URL, h.Notices)
		switch {
		case err == nil:
		case isNotFound(err):
			out = append(out, st)
			continue
		default:
			return nil, err
		}
		st.Pending, st.Delivered, st.FailedAttempts, st.LastError = ws.Pending, ws.Delivered, ws.Failures, ws.LastError
		st.OldestPending, st.LastSuccess, st.LastErrorAt = timePtr(ws.Oldest), timePtr(ws.LastSuccess), timePtr(ws.LastErrorAt)
		out = append(out, st)
	}
	return out, nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// Handler serves GET /api/webhooks: the States of the receivers that
// hooks returns (those configured now), as JSON.
func Handler(s statusReader, hooks func() []Hook) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sts, err := States(r.Context(), s, hooks())
		if err != nil {
			http.Error(w, "webhook state unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(struct {
			Webhooks []State `json:"webhooks"`
		}{sts}) // an error means the client went away
	})
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
