package status

import (
	"context"
	"fmt"
	"io"
	"time"

	"refundd/daemon/store"
)

// Leader is who leads the company's instances (PostgreSQL store): the
// lease as the store records it, and what this instance is.
type Leader struct {
	Holder string `json:"holder"`
	Epoch  int64  `json:"epoch"`
	// Since is when the holder acquired the lease, Renewed its last
	// renewal, Expires when it runs out without another.
	Since   time.Time `json:"since"`
	Renewed time.Time `json:"renewed"`
	Expires time.Time `json:"expires"`
	// LeftSeconds is how long the lease runs, on the database's clock,
	// when it was read; 0 or less: expired.
	LeftSeconds float64 `json:"leftSeconds"`
	// Instance and Role are this instance and its role (leader, standby),
	// when the page is served by a running instance.
	Instance string `json:"instance,omitempty"`
	Role     string `json:"role,omitempty"`
}

// LeaderStore is what a Store also offers when the state is on
// PostgreSQL (*store.Store does): the lease.
type LeaderStore interface {
	Postgres() bool
	Leader(ctx context.Context) (store.Lease, error)
}

// Self says which instance serves the page and its role.
type Self func() (instance, role string)

// LeaderOf returns who leads, or nil when the store is not shared (SQLite:
// one instance, which leads while it runs).
func LeaderOf(ctx context.Context, s Store, self Self) (*Leader, error) {
	ls, ok := s.(LeaderStore)
	if !ok || !ls.Postgres() {
		return nil, nil
	}
	l, err := ls.Leader(ctx)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	out := &Leader{Holder: l.Holder, Epoch: l.Epoch, Since: l.Acquired, Renewed: l.Renewed, Expires: l.Expires,
		LeftSeconds: l.Left.Seconds()}
	if self != nil {
		out.Instance, out.Role = self()
	}
	return out, nil
}

// WriteLeader writes the leader line of the status command.
func WriteLeader(w io.Writer, l *Leader) error {
	if l == nil {
		return nil
	}
	var err error
	switch {
	case l.Holder == "":
		_, err = fmt.Fprintf(w, "LEADER  none yet (no instance has acquired the lease)\n\n")
	case l.LeftSeconds <= 0:
		_, err = fmt.Fprintf(w, "LEADER  none: the lease of %s (epoch %d) expired %s; a standby takes over within ha.poll\n\n",
			l.Holder, l.Epoch, l.Expires.Local().Format(timeLayout))
	default:
		_, err = fmt.Fprintf(w, "LEADER  %s, epoch %d, leading since %s, lease runs %s more\n\n",
			l.Holder, l.Epoch, l.Since.Local().Format(timeLayout), (time.Duration(l.LeftSeconds * float64(time.Second))).Round(time.Second))
	}
	return err
}
