package obs

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"refundd/daemon/refund"
	"refundd/formats"
)

// Result is the outcome of an upload to or a download from AutoPay.
type Result string

// The results of a transfer. They are the values of the result label.
const (
	ResultOK        Result = "ok"
	ResultTransient Result = "transient" // failed; retried later (network, timeout)
	ResultPermanent Result = "permanent" // failed; needs an operator (auth, host key, permission)
	// ResultInDoubt: an upload whose outcome is unknown (its batch is in
	// doubt: the server may have taken the file); uploads only.
	ResultInDoubt Result = "in-doubt"
)

// ReplyOutcome is what became of a file from the bank. Every file ends in
// one of them: none is lost without a trace.
type ReplyOutcome string

// The outcomes of a reply file. They are the values of the outcome label.
const (
	ReplyProcessed ReplyOutcome = "processed"
	ReplyDuplicate ReplyOutcome = "duplicate"
	ReplyFailed    ReplyOutcome = "failed"
)

// Alarm is a kind of alarm: an answer from the bank that is overdue, or an
// SFTP server that a person must look at.
type Alarm string

// The alarms. They are the values of the alarm label.
const (
	// AlarmNoStatus: a batch has no pain.002 within alarms.status_within.
	AlarmNoStatus Alarm = "no_status"
	// AlarmNoBooking: a refund has no booking within
	// alarms.booking_within_days.
	AlarmNoBooking Alarm = "no_booking"
	// AlarmNotSent: a batch recorded for upload is not known to be on the
	// bank's server (sending or in doubt) within alarms.status_within.
	AlarmNotSent Alarm = "not_sent"
	// AlarmSFTPRefused: the SFTP server was refused (host key wrong or
	// unknown or revoked) or refused the login; a person must act.
	AlarmSFTPRefused Alarm = "sftp_refused"
)

// unknownKind is the kind label of a file that is no known message.
const unknownKind = "unknown"

// Metrics are refundd's Prometheus metrics, on a registry of their own.
// Label values come from the constants of this package and of the domain
// packages only, never from data (no batch IDs, no file names), so that the
// number of series stays small. The methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	mu           sync.Mutex // serializes SetBatches
	batches      *prometheus.GaugeVec
	batchLabels  map[string]bool
	uploads      *prometheus.CounterVec
	downloads    *prometheus.CounterVec
	lastUpload   prometheus.Gauge
	lastDownload prometheus.Gauge
	replies      *prometheus.CounterVec
	postings     prometheus.Counter
	exceptions   *prometheus.CounterVec
	leftOut      *prometheus.CounterVec
	alarms       *prometheus.CounterVec
	overdue      *prometheus.GaugeVec
	reloadOK     prometheus.Gauge
	reloadTime   prometheus.Gauge
	diskFull     prometheus.Gauge
	rerelease    *prometheus.GaugeVec

	leader      *prometheus.GaugeVec
	leaseEpoch  prometheus.Gauge
	leaseLeft   prometheus.Gauge
	leaderships *prometheus.CounterVec
	takeover    prometheus.Histogram
	storeStats  atomic.Pointer[func() StoreStats]
	build       *prometheus.GaugeVec

	webhooks *webhookMetrics
}

// StoreStats are the state store's counts that the metrics show.
type StoreStats struct {
	// FencedWrites were refused because this instance no longer led.
	FencedWrites int64
	// CommitsUnknown lost the reply to their COMMIT.
	CommitsUnknown int64
}

// NewMetrics returns refundd's metrics, registered together with the Go
// runtime, process and build-info collectors on a new registry.
//
// The metrics (all prefixed refundd_):
//
//	batches{status}                              gauge: batches in the state store by status
//	uploads_total{result}                        counter: pain.001 uploads by Result
//	downloads_total{result}                      counter: download rounds by Result
//	last_upload_success_timestamp_seconds        gauge: Unix time of the last successful upload
//	last_download_success_timestamp_seconds      gauge: Unix time of the last successful download round
//	replies_total{kind,outcome}                  counter: files from the bank by message type and ReplyOutcome
//	postings_total                               counter: ledger postings written for the ERP
//	exceptions_total{reason}                     counter: bank entries written as exceptions, by refund.Reason
//	refunds_left_out_total{kind}                 counter: refunds of batch files left out (invalid, held) or flagged (account-changed)
//	alarms_total{alarm}                          counter: alarms raised (each batch or refund once)
//	overdue{alarm}                               gauge: batches or refunds overdue now
//	config_last_reload_successful                gauge: 1 if the last configuration (re)load worked
//	config_last_reload_success_timestamp_seconds gauge: Unix time of the last good (re)load
//	disk_full                                    gauge: 1 while no new files are taken because a write found the disk full
//	refunds_to_rerelease{status}                 gauge: refunds the bank rejected or returned that no later batch pays again
//	leader{company}                              gauge: 1 while this instance leads its company (PostgreSQL store)
//	lease_epoch                                  gauge: the epoch (fencing token) of the lease this instance holds or last saw
//	lease_remaining_seconds                      gauge: how long the lease runs without a renewal, at the last renewal
//	leadership_changes_total{reason}             counter: acquired, resigned, expired, fenced
//	takeover_seconds                             histogram: from standing by to leading, at each takeover
//	fenced_writes_total                          counter: writes the store refused because this instance no longer led
//	store_commit_unknown_total                   counter: COMMITs whose reply was lost (each settled by asking the server)
//	build_info{version,revision,modified,goversion} gauge: 1, for the build that runs (BuildInfo, or SetBuild)
//	webhook_deliveries_total{webhook}            counter: events a webhook's receiver took (answered 2xx)
//	webhook_failed_attempts_total{webhook}       counter: delivery attempts that failed (each is tried again)
//	webhook_pending{webhook}                     gauge: events waiting for the receiver
//	webhook_oldest_pending_seconds{webhook}      gauge: age of the oldest of them (0: none)
func NewMetrics() *Metrics {
	const ns = "refundd"
	m := &Metrics{
		reg:         prometheus.NewRegistry(),
		batchLabels: map[string]bool{},
		batches: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Name: "batches",
			Help: "Batches in the state store by status.",
		}, []string{"status"}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "uploads_total",
			Help: "Uploads of payment files to AutoPay by result (ok, transient, permanent).",
		}, []string{"result"}),
		downloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "downloads_total",
			Help: "Download rounds from AutoPay by result (ok, transient, permanent).",
		}, []string{"result"}),
		lastUpload: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "last_upload_success_timestamp_seconds",
			Help: "Unix time of the last successful upload; 0 if none since the start.",
		}),
		lastDownload: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "last_download_success_timestamp_seconds",
			Help: "Unix time of the last successful download round; 0 if none since the start.",
		}),
		replies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "replies_total",
			Help: "Files from the bank by message type and outcome (processed, duplicate, failed).",
		}, []string{"kind", "outcome"}),
		postings: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Name: "postings_total",
			Help: "Ledger postings written for the ERP.",
		}),
		exceptions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "exceptions_total",
			Help: "Bank entries written to the exceptions file, by reason.",
		}, []string{"reason"}),
		leftOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "refunds_left_out_total",
			Help: "Refunds of batch files left out of their batch (invalid; held by the account guard) or sent with a flag (account-changed).",
		}, []string{"kind"}),
		alarms: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "alarms_total",
			Help: "Alarms raised: no_status (no pain.002 in time), no_booking (no booking in time), not_sent (not known to be on the bank's server in time), sftp_refused (host key or login refused).",
		}, []string{"alarm"}),
		overdue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Name: "overdue",
			Help: "Batches without pain.002 (no_status), refunds without booking (no_booking) or batches not known to be on the bank's server (not_sent) past their time, now.",
		}, []string{"alarm"}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "config_last_reload_successful",
			Help: "1 if the last configuration load or reload worked, 0 if it failed.",
		}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load or reload.",
		}),
		diskFull: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "disk_full",
			Help: "1 while refundd takes no new files because a write found the disk (or the quota) full, else 0.",
		}),
		rerelease: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Name: "refunds_to_rerelease",
			Help: "Refunds the bank rejected or returned that no later batch pays again, by status (rejected, returned): each needs an operator (fix the account, refundd rerelease).",
		}, []string{"status"}),
	}
	m.leader = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: ns, Name: "leader",
		Help: "1 while this instance leads its company (PostgreSQL store), 0 while it stands by.",
	}, []string{"company"})
	m.leaseEpoch = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: ns, Name: "lease_epoch",
		Help: "The epoch (fencing token) of the company's lease as this instance last saw it.",
	})
	m.leaseLeft = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: ns, Name: "lease_remaining_seconds",
		Help: "How long the lease this instance holds runs without a renewal, at its last renewal; 0 on a standby.",
	})
	m.leaderships = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "leadership_changes_total",
		Help: "Changes of this instance's leadership: acquired, resigned, expired (no renewal in time), fenced (another instance took over).",
	}, []string{"reason"})
	m.takeover = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: ns, Name: "takeover_seconds",
		Help:    "Time from standing by to leading, at each takeover by this instance.",
		Buckets: []float64{1, 2, 5, 10, 15, 20, 25, 30, 45, 60, 120},
	})
	for _, r := range []string{"acquired", "resigned", "expired", "fenced"} {
		m.leaderships.WithLabelValues(r)
	}
	stat := func(get func(StoreStats) int64) func() float64 {
		return func() float64 {
			if f := m.storeStats.Load(); f != nil {
				return float64(get((*f)()))
			}
			return 0
		}
	}
	fenced := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: ns, Name: "fenced_writes_total",
		Help: "Writes the state store refused because this instance no longer led its company.",
	}, stat(func(s StoreStats) int64 { return s.FencedWrites }))
	unknown := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: ns, Name: "store_commit_unknown_total",
		Help: "COMMITs whose reply was lost; each is settled by asking the server whether it committed.",
	}, stat(func(s StoreStats) int64 { return s.CommitsUnknown }))
	m.reg.MustRegister(m.leader, m.leaseEpoch, m.leaseLeft, m.leaderships, m.takeover, fenced, unknown)
	m.build = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: ns, Name: "build_info",
		Help: "Always 1; the labels say which build of refundd runs: its version, VCS revision, whether the tree was modified, and Go version.",
	}, []string{"version", "revision", "modified", "goversion"})
	m.reg.MustRegister(m.build)
	m.SetBuild(BuildInfo(""))

	// Create every known series at 0, so that rate() and absent() work
	// from the first scrape on.
	for _, r := range []Result{ResultOK, ResultTransient, ResultPermanent} {
		m.uploads.WithLabelValues(string(r))
		m.downloads.WithLabelValues(string(r))
	}
	m.uploads.WithLabelValues(string(ResultInDoubt))
	for _, k := range []formats.Type{formats.Pain002, formats.Camt054, formats.Camt053} {
		for _, o := range []ReplyOutcome{ReplyProcessed, ReplyDuplicate, ReplyFailed} {
			m.replies.WithLabelValues(string(k), string(o))
		}
	}
	m.alarms.WithLabelValues(string(AlarmSFTPRefused))
	for _, k := range []string{"invalid", "held", "account-changed"} {
		m.leftOut.WithLabelValues(k)
	}
	for _, st := range []refund.Status{refund.StatusRejected, refund.StatusReturned} {
		m.rerelease.WithLabelValues(string(st))
	}
	for _, a := range []Alarm{AlarmNoStatus, AlarmNoBooking, AlarmNotSent} {
		m.alarms.WithLabelValues(string(a))
		m.overdue.WithLabelValues(string(a))
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
		m.batches, m.uploads, m.downloads, m.lastUpload, m.lastDownload,
		m.replies, m.postings, m.exceptions, m.leftOut, m.alarms, m.overdue,
		m.reloadOK, m.reloadTime, m.diskFull, m.rerelease,
	)
	m.webhooks = newWebhookMetrics(m.reg, ns)
	return m
}

// SetBuild sets build_info to the build b, in place of the one before.
func (m *Metrics) SetBuild(b Build) {
	m.build.Reset()
	m.build.WithLabelValues(b.Version, b.Revision, strconv.FormatBool(b.Modified), b.GoVersion).Set(1)
}

// SetDiskFull sets the disk_full gauge.
func (m *Metrics) SetDiskFull(full bool) {
	v := 0.0
	if full {
		v = 1
	}
	m.diskFull.Set(v)
}

// Registry returns the registry, for collectors of other packages (such as
// collectors.NewDBStatsCollector for the state store) and for tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler returns the HTTP handler of /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry:      m.reg, // counts its own errors
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// SetBatches sets the number of batches by status, as counted in the state
// store. A status seen before and missing from counts is set to 0.
func (m *Metrics) SetBatches(counts map[string]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := range m.batchLabels {
		if _, ok := counts[s]; !ok {
			m.batches.WithLabelValues(s).Set(0)
		}
	}
	for s, n := range counts {
		m.batchLabels[s] = true
		m.batches.WithLabelValues(s).Set(float64(n))
	}
}

// SetToRerelease sets the number of refunds the bank rejected
// (refund.StatusRejected) or returned (refund.StatusReturned) that no
// later batch pays again; a status missing from counts is set to 0.
func (m *Metrics) SetToRerelease(counts map[refund.Status]int) {
	for _, st := range []refund.Status{refund.StatusRejected, refund.StatusReturned} {
		m.rerelease.WithLabelValues(string(st)).Set(float64(counts[st]))
	}
}

// Upload counts an upload; a successful one also sets the time of the last
// successful upload to at.
func (m *Metrics) Upload(r Result, at time.Time) {
	m.uploads.WithLabelValues(string(r)).Inc()
	if r == ResultOK {
		m.lastUpload.Set(unixSeconds(at))
	}
}

// Download counts a download round (list and fetch the new files); a
// successful one also sets the time of the last successful download to at.
func (m *Metrics) Download(r Result, at time.Time) {
	m.downloads.WithLabelValues(string(r)).Inc()
	if r == ResultOK {
		m.lastDownload.Set(unixSeconds(at))
	}
}

// Reply counts a file from the bank of message type kind ("" for a file
// that is no known message).
func (m *Metrics) Reply(kind formats.Type, o ReplyOutcome) {
	k := string(kind)
	if k == "" {
		k = unknownKind
	}
	m.replies.WithLabelValues(k, string(o)).Inc()
}

// Postings counts n ledger postings written for the ERP.
func (m *Metrics) Postings(n int) {
	m.postings.Add(float64(n))
}

// Exception counts a bank entry written as an exception.
func (m *Metrics) Exception(r refund.Reason) {
	m.exceptions.WithLabelValues(string(r)).Inc()
}

// LeftOut counts a refund of a batch file left out of its batch, or
// flagged in it, by kind (invalid, held, account-changed).
func (m *Metrics) LeftOut(kind string) {
	m.leftOut.WithLabelValues(kind).Inc()
}

// Raise counts an alarm raised. Raise it once per batch or refund, not on
// every check; SetOverdue tells how many are overdue now.
func (m *Metrics) Raise(a Alarm) {
	m.alarms.WithLabelValues(string(a)).Inc()
}

// SetOverdue sets the number of batches (AlarmNoStatus, AlarmNotSent) or
// refunds (AlarmNoBooking) that are overdue now.
func (m *Metrics) SetOverdue(a Alarm, n int) {
	m.overdue.WithLabelValues(string(a)).Set(float64(n))
}

// ConfigLoaded records the outcome of a configuration load or reload at
// time at.
func (m *Metrics) ConfigLoaded(ok bool, at time.Time) {
	if !ok {
		m.reloadOK.Set(0)
		return
	}
	m.reloadOK.Set(1)
	m.reloadTime.Set(unixSeconds(at))
}

func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

// StoreStatsFrom sets where fenced_writes_total and
// store_commit_unknown_total are read from.
func (m *Metrics) StoreStatsFrom(f func() StoreStats) { m.storeStats.Store(&f) }

// Leadership sets the leadership gauges of company's instance.
func (m *Metrics) Leadership(company string, leading bool, epoch int64, left time.Duration) {
	v := 0.0
	if leading {
		v = 1
	} else {
		left = 0
	}
	m.leader.WithLabelValues(company).Set(v)
	m.leaseEpoch.Set(float64(epoch))
	m.leaseLeft.Set(max(0, left.Seconds()))
}

// LeadershipChange counts a change of leadership (acquired, resigned,
// expired, fenced); took is the standby time before an acquisition that
// took over from another instance (0: none).
func (m *Metrics) LeadershipChange(reason string, epoch int64, took time.Duration) {
	m.leaderships.WithLabelValues(reason).Inc()
	m.leaseEpoch.Set(float64(epoch))
	if took > 0 {
		m.takeover.Observe(took.Seconds())
	}
}

// webhookMetrics are the metrics of the webhook deliveries, by webhook
// name (a configured name, never data).
type webhookMetrics struct {
	delivered *prometheus.CounterVec
	failed    *prometheus.CounterVec
	pending   *prometheus.GaugeVec
	oldestAge *prometheus.Desc

	mu     sync.Mutex
	oldest map[string]time.Time // by webhook: when its oldest pending event happened; zero for none
}

func newWebhookMetrics(reg *prometheus.Registry, ns string) *webhookMetrics {
	w := &webhookMetrics{
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "webhook_deliveries_total",
			Help: "Events a webhook's receiver took (answered 2xx).",
		}, []string{"webhook"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "webhook_failed_attempts_total",
			Help: "Webhook delivery attempts that failed; the event is tried again.",
		}, []string{"webhook"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Name: "webhook_pending",
			Help: "Events waiting for a webhook's receiver.",
		}, []string{"webhook"}),
		oldestAge: prometheus.NewDesc(ns+"_webhook_oldest_pending_seconds",
			"Age of the oldest event waiting for a webhook's receiver; 0 for none.", []string{"webhook"}, nil),
		oldest: map[string]time.Time{},
	}
	reg.MustRegister(w.delivered, w.failed, w.pending, w)
	return w
}

// Describe and Collect make the oldest pending age a collector of its
// own: the age is taken when scraped, not when last set.
func (w *webhookMetrics) Describe(ch chan<- *prometheus.Desc) { ch <- w.oldestAge }

func (w *webhookMetrics) Collect(ch chan<- prometheus.Metric) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	for name, t := range w.oldest {
		age := 0.0
		if !t.IsZero() {
			age = max(0, now.Sub(t).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(w.oldestAge, prometheus.GaugeValue, age, name)
	}
}

// WebhookConfigured makes the series of the webhook name exist from the
// first scrape on.
func (m *Metrics) WebhookConfigured(name string) {
	m.webhooks.delivered.WithLabelValues(name)
	m.webhooks.failed.WithLabelValues(name)
	m.WebhookPending(name, 0, time.Time{})
}

// WebhookDelivered counts an event the receiver of webhook name took.
func (m *Metrics) WebhookDelivered(name string) { m.webhooks.delivered.WithLabelValues(name).Inc() }

// WebhookFailed counts a failed delivery attempt to webhook name.
func (m *Metrics) WebhookFailed(name string) { m.webhooks.failed.WithLabelValues(name).Inc() }

// WebhookPending sets the backlog of webhook name: n events, the oldest of
// which happened at oldest (zero for none).
func (m *Metrics) WebhookPending(name string, n int64, oldest time.Time) {
	m.webhooks.pending.WithLabelValues(name).Set(float64(n))
	m.webhooks.mu.Lock()
	m.webhooks.oldest[name] = oldest
	m.webhooks.mu.Unlock()
}
