package daemon

import (
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"refundd/daemon/obs"
	"refundd/daemon/refund"
	"refundd/daemon/store"
	"refundd/internal/pgtest"
)

// TestDaemonAlarmNoStatus: a batch sent longer ago than
// alarms.status_within without a pain.002 raises the alarm once.
func TestDaemonAlarmNoStatus(t *testing.T) {
	e := newDaemonEnv(t)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	opts := e.options(t)
	later := time.Now()
	opts.Now = func() time.Time { return later }
	opts.Metrics = obs.NewMetrics()
	d := e.daemon(t, opts)
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := metric(t, opts.Metrics, "refundd_alarms_total", "alarm", string(obs.AlarmNoStatus)); got != 0 {
		t.Fatalf("%v alarms right after the upload", got)
	}
	later = time.Now().Add(e.cfg.Alarms.StatusWithin + time.Minute)
	d.checkAlarms(t.Context())
	d.checkAlarms(t.Context())
	if got := metric(t, opts.Metrics, "refundd_alarms_total", "alarm", string(obs.AlarmNoStatus)); got != 1 {
		t.Errorf("%v alarms, want 1", got)
	}
}

// TestDaemonAlarmNotSent: a batch whose uploads keep failing raises the
// not_sent alarm once after alarms.status_within, and the overdue gauge
// counts it until it is uploaded.
func TestDaemonAlarmNotSent(t *testing.T) {
	e := newDaemonEnv(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	good := e.cfg.SFTP.Address
	e.cfg.SFTP.Address = l.Addr().String()
	l.Close() // connection refused
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	opts := e.options(t)
	opts.RetryMin, opts.RetryMax = time.Hour, time.Hour
	later := time.Now()
	opts.Now = func() time.Time { return later }
	opts.Metrics = obs.NewMetrics()
	d := e.daemon(t, opts)
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.statuses(t, testMsgID); st != store.BatchSending {
		t.Fatalf("batch is %s, want sending", st)
	}
	if got := metric(t, opts.Metrics, "refundd_alarms_total", "alarm", string(obs.AlarmNotSent)); got != 0 {
		t.Fatalf("%v not_sent alarms right after the first attempt", got)
	}
	later = later.Add(e.cfg.Alarms.StatusWithin + time.Minute)
	d.checkAlarms(t.Context())
	d.checkAlarms(t.Context())
	if got := metric(t, opts.Metrics, "refundd_alarms_total", "alarm", string(obs.AlarmNotSent)); got != 1 {
		t.Errorf("%v not_sent alarms, want 1", got)
	}
	if got := metric(t, opts.Metrics, "refundd_overdue", "alarm", string(obs.AlarmNotSent)); got != 1 {
		t.Errorf("overdue{not_sent} = %v, want 1", got)
	}
	// The health that the status page shows: the alarm, SFTP failing,
	// no upload yet.
	h := d.DaemonHealth()
	if len(h.Overdue) != 1 || h.Overdue[0].Kind != obs.AlarmNotSent || h.Overdue[0].MsgID != testMsgID ||
		h.SFTP.Reachable || h.SFTP.LastError == "" || !h.Upload.Last.IsZero() {
		t.Errorf("health while the uploads fail: %+v", h)
	}
	// Recorded once, with its event, for the webhooks. (On PostgreSQL
	// this instance no longer leads once RunOnce returned: the checks
	// above, made outside a run, are not recorded.)
	onPG := pgtest.OnPostgres()
	key := store.AlarmKey(string(obs.AlarmNotSent), testMsgID)
	if open, err := d.store.OpenAlarms(t.Context()); !onPG && (err != nil || len(open) != 1 || open[key].Subject != testMsgID) {
		t.Errorf("OpenAlarms() = %v, %v; want %s", open, err, key)
	}
	if es, err := d.store.Events(t.Context(), store.SubjectAlarm, key); !onPG && (err != nil || len(es) != 1 || es[0].To != "raised") {
		t.Errorf("alarm events %+v, %v; want one raised", es, err)
	}
	d.Close()

	e.cfg.SFTP.Address = good
	opts.Metrics = obs.NewMetrics()
	d = e.daemon(t, opts)
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := metric(t, opts.Metrics, "refundd_overdue", "alarm", string(obs.AlarmNotSent)); got != 0 {
		t.Errorf("overdue{not_sent} = %v after the upload, want 0", got)
	}
	// (Uploaded at a clock past alarms.status_within: now no_status.)
	if h := d.DaemonHealth(); len(h.Overdue) != 1 || h.Overdue[0].Kind != obs.AlarmNoStatus || !h.SFTP.Reachable || h.Upload.Last.IsZero() {
		t.Errorf("health after the upload: %+v", h)
	}
	// Cleared once it is sent.
	if es, err := d.store.Events(t.Context(), store.SubjectAlarm, key); !onPG && (err != nil || len(es) != 2 || es[1].From != "raised" || es[1].To != "cleared") {
		t.Errorf("alarm events %+v, %v; want raised, then cleared", es, err)
	}
}

// TestDaemonAlarmClockStepped: the no-status alarm is raised once, while
// the wall clock is set back below the limit and forward past it again.
func TestDaemonAlarmClockStepped(t *testing.T) {
	e := newDaemonEnv(t)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	opts := e.options(t)
	var (
		mu    sync.Mutex
		clock = time.Now()
	)
	opts.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}
	setClock := func(at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		clock = at
	}
	opts.Metrics = obs.NewMetrics()
	d := e.daemon(t, opts)
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	sent := opts.Now()
	late := e.cfg.Alarms.StatusWithin + time.Minute
	for _, step := range []struct {
		name    string
		at      time.Time
		overdue float64
	}{
		{"past the limit", sent.Add(late), 1},
		{"set back an hour", sent.Add(late - time.Hour), 0},
		{"set forward two hours", sent.Add(late + time.Hour), 1},
	} {
		setClock(step.at)
		d.checkAlarms(t.Context())
		if got := metric(t, opts.Metrics, "refundd_alarms_total", "alarm", string(obs.AlarmNoStatus)); got != 1 {
			t.Errorf("%s: %v alarms raised, want 1", step.name, got)
		}
		if got := metric(t, opts.Metrics, "refundd_overdue", "alarm", string(obs.AlarmNoStatus)); got != step.overdue {
			t.Errorf("%s: %v batches overdue, want %v", step.name, got, step.overdue)
		}
	}
}

func TestBookingOverdue(t *testing.T) {
	fri := refund.NewDate(2026, 12, 4)
	closedTue, err := refund.NewCalendar([]refund.Date{refund.NewDate(2026, 12, 8)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cal   refund.Calendar
		today refund.Date
		days  int
		want  bool
	}{
		{refund.Calendar{}, refund.NewDate(2026, 12, 9), 3, false}, // Mon 7, Tue 8, Wed 9: three banking days
		{refund.Calendar{}, refund.NewDate(2026, 12, 10), 3, true},
		{refund.Calendar{}, refund.NewDate(2026, 12, 6), 0, false}, // the weekend is no banking day
		{refund.Calendar{}, refund.NewDate(2026, 12, 7), 0, true},
		{closedTue, refund.NewDate(2026, 12, 10), 3, false}, // Mon 7, Wed 9, Thu 10: Tue 8 is closed
		{closedTue, refund.NewDate(2026, 12, 11), 3, true},
	} {
		if got := bookingOverdue(tc.cal, fri, tc.today, tc.days); got != tc.want {
			t.Errorf("bookingOverdue(%s, %s, %d) = %v, want %v", fri, tc.today, tc.days, got, tc.want)
		}
	}
}

func osloZone(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestStatusAlarmDST: alarms.status_within is real time, however the
// wall clock in Oslo moves at the change.
func TestStatusAlarmDST(t *testing.T) {
	const within = 2 * time.Hour
	tests := []struct {
		name      string
		sent, now time.Time
		want      bool
	}{
		// Sent 01:30 CET; at 03:31 CEST the wall clock shows 2h01m, but
		// 1h01m have passed.
		{"spring, 1h01m", springForward.Add(-30 * time.Minute), springForward.Add(31 * time.Minute), false},
		{"spring, 2h01m", springForward.Add(-30 * time.Minute), springForward.Add(91 * time.Minute), true},
		// Sent 23:59 CET the day before; now 02:00 CET = 03:00 CEST.
		{"spring, at 02:00", springForward.Add(-61 * time.Minute), springForward, false},
		// Sent 02:30 CEST; at 02:45 CET the wall clock shows 15 minutes,
		// but 1h15m have passed; at 03:31 CET, 2h01m.
		{"autumn, 1h15m", fallBack.Add(-30 * time.Minute), fallBack.Add(45 * time.Minute), false},
		{"autumn, 2h01m", fallBack.Add(-30 * time.Minute), fallBack.Add(91 * time.Minute), true},
		// Sent 00:59 CEST; now 03:00 CET, 3h01m later.
		{"autumn, at 03:00", fallBack.Add(-61 * time.Minute), fallBack.Add(time.Hour), true},
		{"never sent", time.Time{}, fallBack, false},
	}
	loc := osloZone(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The times as the store and the clock give them: UTC and
			// local.
			if got := statusOverdue(tt.sent.UTC(), tt.now.In(loc), within); got != tt.want {
				t.Errorf("statusOverdue(sent %s, now %s) = %v, want %v", tt.sent.In(loc), tt.now.In(loc), got, tt.want)
			}
		})
	}
}

// TestBookingAlarmDST: the banking days of alarms.booking_within_days are
// counted from today in Oslo, also in the first hours of a day, when the
// date in UTC is still yesterday's.
func TestBookingAlarmDST(t *testing.T) {
	springExec := refund.NewDate(2026, 3, 27) // a Friday
	autumnExec := refund.NewDate(2026, 10, 23)
	tests := []struct {
		name string
		exec refund.Date
		now  time.Time
		day  refund.Date
		want bool
	}{
		{"spring, Sunday 02:00", springExec, springForward, refund.NewDate(2026, 3, 29), false},
		{"spring, Monday 23:30 CEST", springExec, time.Date(2026, 3, 30, 21, 30, 0, 0, time.UTC), refund.NewDate(2026, 3, 30), false},
		{"spring, Tuesday 00:30 CEST", springExec, time.Date(2026, 3, 30, 22, 30, 0, 0, time.UTC), refund.NewDate(2026, 3, 31), true},
		{"autumn, Sunday 03:00 CET", autumnExec, fallBack.Add(time.Hour), refund.NewDate(2026, 10, 25), false},
		{"autumn, Monday 23:30 CET", autumnExec, time.Date(2026, 10, 26, 22, 30, 0, 0, time.UTC), refund.NewDate(2026, 10, 26), false},
		{"autumn, Tuesday 00:30 CET", autumnExec, time.Date(2026, 10, 26, 23, 30, 0, 0, time.UTC), refund.NewDate(2026, 10, 27), true},
	}
	loc := osloZone(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			day := alarmDay(tt.now, loc)
			if day != tt.day {
				t.Errorf("alarmDay(%s) = %s, want %s", tt.now, day, tt.day)
			}
			if got := bookingOverdue(refund.Calendar{}, tt.exec, day, 1); got != tt.want {
				t.Errorf("booking of %s overdue on %s = %v, want %v", tt.exec, day, got, tt.want)
			}
		})
	}
}

// TestDaemonBatchGauge: the batch gauge is counted again after a change of
// a batch's status, also one that another process made in the store (an
// operator's command), though the step counts only after a new event.
func TestDaemonBatchGauge(t *testing.T) {
	e := newDaemonEnv(t)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	opts := e.options(t)
	opts.Metrics = obs.NewMetrics()
	d := e.daemon(t, opts)
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	gauge := func(want map[store.BatchStatus]float64) {
		t.Helper()
		for _, st := range store.BatchStatuses() {
			if got := metric(t, opts.Metrics, "refundd_batches", "status", string(st)); got != want[st] {
				t.Errorf("refundd_batches{status=%q} = %v, want %v", st, got, want[st])
			}
		}
	}
	gauge(map[store.BatchStatus]float64{store.BatchSent: 1})
	other := e.openStore(t) // as an operator's command, another process, would
	if _, err := other.SetBatchStatus(t.Context(), testMsgID, store.BatchReceiptOK, "as another process would"); err != nil {
		t.Fatal(err)
	}
	d.countBatches(t.Context())
	gauge(map[store.BatchStatus]float64{store.BatchReceiptOK: 1})
}
