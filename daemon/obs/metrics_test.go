package obs

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"refundd/daemon/refund"
	"refundd/formats"
)

// scrape returns the text exposition of m's handler.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d; want 200", rec.Code)
	}
	b, err := io.ReadAll(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMetrics(t *testing.T) {
	at := time.Date(2026, 12, 1, 8, 0, 0, 500_000_000, time.UTC) // 1796112000.5 s
	for _, tc := range []struct {
		name string
		do   func(m *Metrics)
		want []string // lines of the exposition
		not  []string // prefixes of lines that must be absent
	}{
		{"fresh", func(*Metrics) {}, []string{
			`refundd_uploads_total{result="ok"} 0`,
			`refundd_uploads_total{result="transient"} 0`,
			`refundd_uploads_total{result="permanent"} 0`,
			`refundd_downloads_total{result="ok"} 0`,
			`refundd_replies_total{kind="pain.002",outcome="processed"} 0`,
			`refundd_replies_total{kind="camt.054",outcome="failed"} 0`,
			`refundd_replies_total{kind="camt.053",outcome="duplicate"} 0`,
			`refundd_postings_total 0`,
			`refundd_alarms_total{alarm="no_status"} 0`,
			`refundd_alarms_total{alarm="no_booking"} 0`,
			`refundd_alarms_total{alarm="not_sent"} 0`,
			`refundd_alarms_total{alarm="sftp_refused"} 0`,
			`refundd_overdue{alarm="no_booking"} 0`,
			`refundd_overdue{alarm="not_sent"} 0`,
			`refundd_last_upload_success_timestamp_seconds 0`,
			`refundd_last_download_success_timestamp_seconds 0`,
			`refundd_config_last_reload_successful 0`,
			`refundd_refunds_to_rerelease{status="rejected"} 0`,
			`refundd_refunds_to_rerelease{status="returned"} 0`,
		}, []string{"refundd_batches{", "refundd_exceptions_total{"}},
		{"uploads", func(m *Metrics) {
			m.Upload(ResultOK, at)
			m.Upload(ResultTransient, at.Add(time.Hour))
			m.Upload(ResultPermanent, at.Add(time.Hour))
		}, []string{
			`refundd_uploads_total{result="ok"} 1`,
			`refundd_uploads_total{result="transient"} 1`,
			`refundd_uploads_total{result="permanent"} 1`,
			`refundd_last_upload_success_timestamp_seconds 1.7961120005e+09`,
		}, nil},
		{"downloads", func(m *Metrics) {
			m.Download(ResultTransient, at.Add(-time.Hour))
			m.Download(ResultOK, at)
			m.Download(ResultOK, at)
		}, []string{
			`refundd_downloads_total{result="ok"} 2`,
			`refundd_downloads_total{result="transient"} 1`,
			`refundd_last_download_success_timestamp_seconds 1.7961120005e+09`,
		}, nil},
		{"replies", func(m *Metrics) {
			m.Reply(formats.Pain002, ReplyProcessed)
			m.Reply(formats.Camt054, ReplyDuplicate)
			m.Reply("", ReplyFailed)
		}, []string{
			`refundd_replies_total{kind="pain.002",outcome="processed"} 1`,
			`refundd_replies_total{kind="camt.054",outcome="duplicate"} 1`,
			`refundd_replies_total{kind="unknown",outcome="failed"} 1`,
		}, nil},
		{"postings and exceptions", func(m *Metrics) {
			m.Postings(3)
			m.Postings(2)
			m.Exception(refund.ReasonNoMatch)
			m.Exception(refund.ReasonNoMatch)
			m.Exception(refund.ReasonAmountDiffers)
		}, []string{
			`refundd_postings_total 5`,
			`refundd_exceptions_total{reason="no-match"} 2`,
			`refundd_exceptions_total{reason="amount-differs"} 1`,
		}, nil},
		{"alarms", func(m *Metrics) {
			m.Raise(AlarmNoStatus)
			m.SetOverdue(AlarmNoStatus, 4)
			m.SetOverdue(AlarmNoBooking, 2)
			m.SetOverdue(AlarmNoBooking, 1)
		}, []string{
			`refundd_alarms_total{alarm="no_status"} 1`,
			`refundd_alarms_total{alarm="no_booking"} 0`,
			`refundd_overdue{alarm="no_status"} 4`,
			`refundd_overdue{alarm="no_booking"} 1`,
		}, nil},
		{"batches", func(m *Metrics) {
			m.SetBatches(map[string]int{"sent": 2, "in-doubt": 1})
			m.SetBatches(map[string]int{"sent": 1, "accepted": 5})
		}, []string{
			`refundd_batches{status="sent"} 1`,
			`refundd_batches{status="accepted"} 5`,
			`refundd_batches{status="in-doubt"} 0`,
		}, nil},
		{"refunds to re-release", func(m *Metrics) {
			m.SetToRerelease(map[refund.Status]int{refund.StatusRejected: 2, refund.StatusReturned: 1})
			m.SetToRerelease(map[refund.Status]int{refund.StatusRejected: 1})
		}, []string{
			`refundd_refunds_to_rerelease{status="rejected"} 1`,
			`refundd_refunds_to_rerelease{status="returned"} 0`,
		}, nil},
		{"config reloads", func(m *Metrics) {
			m.ConfigLoaded(true, at)
			m.ConfigLoaded(false, at.Add(time.Hour))
		}, []string{
			`refundd_config_last_reload_successful 0`,
			`refundd_config_last_reload_success_timestamp_seconds 1.7961120005e+09`,
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMetrics()
			tc.do(m)
			out := scrape(t, m)
			lines := map[string]bool{}
			for _, l := range strings.Split(out, "\n") {
				lines[l] = true
			}
			for _, w := range tc.want {
				if !lines[w] {
					t.Errorf("exposition lacks %q", w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, "\n"+n) {
					t.Errorf("exposition has %q…", n)
				}
			}
			for _, w := range []string{"go_goroutines ", "process_open_fds ", "go_build_info{"} {
				if !strings.Contains(out, "\n"+w) {
					t.Errorf("exposition lacks the runtime metric %q", w)
				}
			}
			if t.Failed() {
				var ours []string
				for _, l := range strings.Split(out, "\n") {
					if strings.HasPrefix(l, "refundd_") {
						ours = append(ours, l)
					}
				}
				t.Logf("refundd's series:\n%s", strings.Join(ours, "\n"))
			}
		})
	}
}

// TestMetricsPrivateRegistry checks that two Metrics do not share a
// registry, and that nothing lands on the global default one.
func TestMetricsPrivateRegistry(t *testing.T) {
	a, b := NewMetrics(), NewMetrics()
	a.Postings(1)
	if out := scrape(t, b); !strings.Contains(out, "\nrefundd_postings_total 0\n") {
		t.Errorf("a second Metrics sees the first one's postings")
	}
	if a.Registry() == b.Registry() {
		t.Errorf("two Metrics share a registry")
	}
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "refundd_") {
			t.Errorf("%s is on the default registry", mf.GetName())
		}
	}
}

// TestAlarmHelp: the help of the alarm metrics names every alarm that they
// carry, so that an operator reading it learns every label value.
func TestAlarmHelp(t *testing.T) {
	out := scrape(t, NewMetrics())
	for _, tc := range []struct {
		metric string
		alarms []Alarm
	}{
		{"refundd_alarms_total", []Alarm{AlarmNoStatus, AlarmNoBooking, AlarmNotSent, AlarmSFTPRefused}},
		{"refundd_overdue", []Alarm{AlarmNoStatus, AlarmNoBooking, AlarmNotSent}},
	} {
		_, help, ok := strings.Cut(out, "# HELP "+tc.metric+" ")
		if !ok {
			t.Fatalf("exposition has no help for %s", tc.metric)
		}
		help, _, _ = strings.Cut(help, "\n")
		for _, a := range tc.alarms {
			if !strings.Contains(help, string(a)) {
				t.Errorf("help of %s does not name %s: %q", tc.metric, a, help)
			}
		}
	}
}
