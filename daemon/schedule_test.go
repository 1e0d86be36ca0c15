package daemon

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"refundd/daemon/obs"
	"refundd/daemon/refund"
)

// The daylight-saving changes of 2026 in Europe/Oslo, as instants:
// 2026-03-29 02:00 CET becomes 03:00 CEST, and 2026-10-25 03:00 CEST
// becomes 02:00 CET, both at 01:00 UTC.
var (
	springForward = time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)
	fallBack      = time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC)
)

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
			if got := bookingOverdue(tt.exec, day, 1); got != tt.want {
				t.Errorf("booking of %s overdue on %s = %v, want %v", tt.exec, day, got, tt.want)
			}
		})
	}
}

// TestExecutionDateDST: "today" for execution dates is the date in
// pain001.timezone on the change days and in the first hour of a day.
func TestExecutionDateDST(t *testing.T) {
	cfg := &Config{Pain001: Pain001{Timezone: "Europe/Oslo"}}
	tests := []struct {
		name     string
		now      time.Time
		want     refund.Date // the payment date asked for
		today    refund.Date
		exec     refund.Date
		moved    bool
		timezone string
	}{
		{"spring, 02:00", springForward, refund.NewDate(2026, 3, 29), refund.NewDate(2026, 3, 29), refund.NewDate(2026, 3, 30), true, ""},
		{"spring, Friday asked on Sunday", springForward, refund.NewDate(2026, 3, 27), refund.NewDate(2026, 3, 29), refund.NewDate(2026, 3, 30), true, ""},
		{"spring, Sunday 00:30 CET", time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC), refund.NewDate(2026, 3, 28), refund.NewDate(2026, 3, 29), refund.NewDate(2026, 3, 30), true, ""},
		{"spring, Monday 00:30 CEST", time.Date(2026, 3, 29, 22, 30, 0, 0, time.UTC), refund.NewDate(2026, 3, 30), refund.NewDate(2026, 3, 30), refund.NewDate(2026, 3, 30), false, ""},
		{"autumn, 03:00 CET", fallBack.Add(time.Hour), refund.NewDate(2026, 10, 26), refund.NewDate(2026, 10, 25), refund.NewDate(2026, 10, 26), false, ""},
		{"autumn, in the repeated hour", fallBack.Add(-30 * time.Minute), refund.NewDate(2026, 10, 25), refund.NewDate(2026, 10, 25), refund.NewDate(2026, 10, 26), true, ""},
		{"autumn, Monday 00:30 CET", time.Date(2026, 10, 25, 23, 30, 0, 0, time.UTC), refund.NewDate(2026, 10, 23), refund.NewDate(2026, 10, 26), refund.NewDate(2026, 10, 26), true, ""},
		{"autumn, Monday 00:30 CET in UTC", time.Date(2026, 10, 25, 23, 30, 0, 0, time.UTC), refund.NewDate(2026, 10, 23), refund.NewDate(2026, 10, 25), refund.NewDate(2026, 10, 26), true, "UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *cfg
			if tt.timezone != "" {
				c.Pain001.Timezone = tt.timezone
			}
			rules := c.Rules(tt.now)
			if rules.Today != tt.today {
				t.Errorf("today at %s = %s, want %s", tt.now, rules.Today, tt.today)
			}
			exec, moved, err := refund.ExecutionDate(tt.want, rules.Today, refund.NextBankingDayPolicy)
			if err != nil {
				t.Fatal(err)
			}
			if exec != tt.exec || (moved != "") != tt.moved {
				t.Errorf("execution date for %s = %s (%q), want %s (moved %v)", tt.want, exec, moved, tt.exec, tt.moved)
			}
		})
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
		if got := metricValue(t, opts.Metrics, "refundd_alarms_total", obs.AlarmNoStatus); got != 1 {
			t.Errorf("%s: %v alarms raised, want 1", step.name, got)
		}
		if got := overdueNow(t, opts.Metrics); got != step.overdue {
			t.Errorf("%s: %v batches overdue, want %v", step.name, got, step.overdue)
		}
	}
}

// overdueNow returns the no_status overdue gauge.
func overdueNow(t *testing.T, m *obs.Metrics) float64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "refundd_overdue" {
			continue
		}
		for _, mm := range mf.GetMetric() {
			for _, l := range mm.GetLabel() {
				if l.GetName() == "alarm" && l.GetValue() == string(obs.AlarmNoStatus) {
					return mm.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatal("no overdue gauge for no_status")
	return 0
}
