package status

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"refundd/daemon/store"
)

// haStore is pageStore on PostgreSQL, with a lease.
type haStore struct {
	pageStore
	lease store.Lease
}

func (haStore) Postgres() bool                                { return true }
func (s haStore) Leader(context.Context) (store.Lease, error) { return s.lease, nil }

// TestStatusLeader checks that the page, its JSON and the status command
// say who leads, at which epoch, how long the lease runs and what this
// instance is; and say nothing of it with the SQLite store.
func TestStatusLeader(t *testing.T) {
	since := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	s := haStore{lease: store.Lease{Holder: "host-a", Epoch: 7, Acquired: since, Renewed: since, Expires: since.Add(15 * time.Second), Left: 12 * time.Second}}
	mux := http.NewServeMux()
	Handle(mux, s, func() (string, string) { return "host-b", "standby" })

	page := get(t, mux, "/status").Body.String()
	for _, want := range []string{`data-leader="host-a"`, `data-epoch="7"`, "lease runs 12s more", "this instance: host-b", `data-role="standby"`} {
		if !strings.Contains(page, want) {
			t.Errorf("/status lacks %q", want)
		}
	}
	rec := get(t, mux, "/api/leader")
	var l Leader
	if err := json.Unmarshal(rec.Body.Bytes(), &l); err != nil || rec.Code != 200 {
		t.Fatalf("/api/leader: %d %v %s", rec.Code, err, rec.Body)
	}
	if l.Holder != "host-a" || l.Epoch != 7 || l.LeftSeconds != 12 || l.Role != "standby" || l.Instance != "host-b" {
		t.Errorf("/api/leader = %+v", l)
	}
	text := get(t, mux, "/status?format=text").Body.String()
	if !strings.HasPrefix(text, "LEADER  host-a, epoch 7, leading since ") || !strings.Contains(text, "lease runs 12s more") {
		t.Errorf("text status starts %q", text[:min(len(text), 120)])
	}

	s.lease.Left = -time.Second
	var buf bytes.Buffer
	lp, _ := LeaderOf(t.Context(), s, nil)
	WriteLeader(&buf, lp)
	if !strings.Contains(buf.String(), "expired") || !strings.Contains(buf.String(), "a standby takes over") {
		t.Errorf("expired lease: %q", buf.String())
	}

	sqlite := http.NewServeMux()
	Handle(sqlite, pageStore{}, nil)
	if rec := get(t, sqlite, "/api/leader"); rec.Code != http.StatusNotFound {
		t.Errorf("/api/leader with SQLite: %d", rec.Code)
	}
	if strings.Contains(get(t, sqlite, "/status").Body.String(), `id="leader"`) {
		t.Error("the SQLite page shows a leader")
	}
}
