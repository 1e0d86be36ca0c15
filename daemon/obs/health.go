package obs

import (
	"time"
)

// Health is the answer of GET /api/health and the health strip of the
// status page: which build runs and since when, and, from a running
// daemon, what it knows of its own work. It never holds account numbers
// or other data of refunds.
type Health struct {
	Build Build `json:"build"`
	// Started is when the HTTP server was made, at start-up;
	// UptimeSeconds the time since, in whole seconds.
	Started       time.Time `json:"started"`
	UptimeSeconds int64     `json:"uptimeSeconds"`
	// Daemon is the state of the daemon's work; nil when no daemon
	// reports it (a server of the endpoints alone).
	Daemon *DaemonHealth `json:"daemon,omitempty"`
}

// DaemonHealth is what a running daemon knows of its own work. The times
// are instants; the ages, in whole seconds at the time of the answer, are
// filled in by HealthReport and are nil for what never happened.
type DaemonHealth struct {
	// Upload and Download are the last successful upload of a batch and
	// download round of the bank's replies.
	Upload   Activity `json:"upload"`
	Download Activity `json:"download"`
	// SFTP is whether the last call to the bank's SFTP server worked.
	SFTP SFTPHealth `json:"sftp"`
	// DiskFull is set while no new file is taken for lack of space;
	// DiskFullError says what failed.
	DiskFull      bool   `json:"diskFull"`
	DiskFullError string `json:"diskFullError,omitempty"`
	// Watch is how new files in the export and inbox folders are found:
	// WatchEvents (file events, with rescans behind them) or WatchRescans
	// (the scheduled rescans alone); "" before the first run.
	Watch string `json:"watch"`
	// Overdue are the answers from the bank that are overdue now (the
	// alarms of alarms.status_within and alarms.booking_within_days).
	Overdue []Overdue `json:"overdue"`
	// Webhooks is the delivery state of each configured webhook, as of the
	// daemon's last step.
	Webhooks []WebhookHealth `json:"webhooks"`
}

// WebhookHealth is the delivery state of one webhook.
type WebhookHealth struct {
	Name string `json:"name"`
	// Pending events wait for the receiver, the oldest since
	// OldestPending.
	Pending       int64     `json:"pending"`
	OldestPending time.Time `json:"oldestPending,omitzero"`
	LastSuccess   time.Time `json:"lastSuccess,omitzero"`
	// LastError is the last failed attempt's error, at LastErrorAt.
	LastError   string    `json:"lastError,omitempty"`
	LastErrorAt time.Time `json:"lastErrorAt,omitzero"`
	// Failing reports that the last attempt failed.
	Failing bool `json:"failing"`
}

// How the daemon finds new files (DaemonHealth.Watch).
const (
	WatchEvents  = "events"
	WatchRescans = "rescans"
)

// Activity is the last success of a recurring piece of work.
type Activity struct {
	Last       time.Time `json:"last,omitzero"`
	AgeSeconds *int64    `json:"ageSeconds"`
}

// SFTPHealth is the state of the connection to the bank's SFTP server.
type SFTPHealth struct {
	// Checked is when the last call ended; zero before the first.
	Checked time.Time `json:"checked,omitzero"`
	// Reachable reports that the last call worked; LastError is its
	// error otherwise (it holds no secrets).
	Reachable bool   `json:"reachable"`
	LastError string `json:"lastError,omitempty"`
}

// Overdue is an answer from the bank that is overdue: a batch without a
// status report, a batch not known to be at the bank, or a refund
// accepted without a booking.
type Overdue struct {
	Kind  Alarm  `json:"kind"`
	Batch string `json:"batch"`
	MsgID string `json:"msgId"`
	// EndToEndID and RefNbr name the refund (AlarmNoBooking), "" for a
	// batch.
	EndToEndID string `json:"endToEndId,omitempty"`
	RefNbr     string `json:"refNbr,omitempty"`
	// Since is what is overdue counts from: when the batch was sent or
	// recorded, or the refund's execution date.
	Since time.Time `json:"since"`
	// Detail says what is overdue, in words.
	Detail string `json:"detail"`
}

// HealthSource is what reports the state of a running daemon
// (*daemon.Daemon does). DaemonHealth must return at once, without I/O:
// it reports what other goroutines recorded.
type HealthSource interface {
	DaemonHealth() DaemonHealth
}

// HealthReport puts Health together for a build that started at a time,
// with the state of a daemon when it has a source.
type HealthReport struct {
	build  Build
	start  time.Time
	source HealthSource
}

// NewHealthReport returns the report of build b, started at start, with
// the state that source gives (nil for none).
func NewHealthReport(b Build, start time.Time, source HealthSource) *HealthReport {
	return &HealthReport{build: b, start: start, source: source}
}

// Health returns the health at now.
func (r *HealthReport) Health(now time.Time) Health {
	h := Health{Build: r.build, Started: r.start, UptimeSeconds: int64(now.Sub(r.start) / time.Second)}
	if r.source == nil {
		return h
	}
	d := r.source.DaemonHealth()
	for _, a := range []*Activity{&d.Upload, &d.Download} {
		if !a.Last.IsZero() {
			age := max(0, int64(now.Sub(a.Last)/time.Second))
			a.AgeSeconds = &age
		}
	}
	if d.Overdue == nil {
		d.Overdue = []Overdue{}
	}
	h.Daemon = &d
	return h
}
