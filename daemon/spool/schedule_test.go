package spool

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// oslo is the time zone of the daylight-saving tests.
func oslo(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// simulate runs a ticker for spec from start until end of real time and
// returns the real times at which it fired. The wall clock shows the real
// time plus step from stepAt on; the monotonic clock is the real time.
func simulate(t *testing.T, spec string, start, end, stepAt time.Time, step time.Duration) []time.Time {
	t.Helper()
	sched, err := scheduleParser.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	s := ticker{sched: sched}
	wall := func(real time.Time) time.Time {
		if !stepAt.IsZero() && !real.Before(stepAt) {
			return real.Add(step).In(start.Location())
		}
		return real
	}
	var fires []time.Time
	for real := start; real.Before(end); {
		fire, wait := s.check(wall(real), real)
		if fire {
			fires = append(fires, real)
			if len(fires) > 10000 {
				t.Fatalf("%s: more than 10000 firings", spec)
			}
			continue
		}
		if wait <= 0 {
			t.Fatalf("%s at %s: wait %v without firing", spec, real, wait)
		}
		real = real.Add(wait)
	}
	return fires
}

// maxGap returns the longest time between start, the firings and end.
func maxGap(start, end time.Time, fires []time.Time) time.Duration {
	var gap time.Duration
	prev := start
	for _, f := range append(fires, end) {
		gap = max(gap, f.Sub(prev))
		prev = f
	}
	return gap
}

// TestScheduleDST runs the rescan schedules over the daylight-saving
// changes of 2026 in Europe/Oslo: 2026-03-29 02:00 CET becomes 03:00 CEST
// (01:00 UTC), 2026-10-25 03:00 CEST becomes 02:00 CET (01:00 UTC). A cron
// expression without CRON_TZ is read in the zone of the wall clock, which
// is Oslo here as on a host with TZ=Europe/Oslo.
func TestScheduleDST(t *testing.T) {
	loc := oslo(t)
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04 MST", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	spring := time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)  // 02:00 CET = 03:00 CEST
	autumn := time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC) // 03:00 CEST = 02:00 CET
	tests := []struct {
		name, spec string
		start, end time.Time
		want       []time.Time   // the firings, if given
		maxGap     time.Duration // the longest wait, if given
	}{
		{
			// robfig/cron alone skips the day: its next time after
			// 2026-03-29 01:00 CET is 2026-03-30 02:30.
			name: "daily in the skipped hour fires when it ends", spec: "CRON_TZ=Europe/Oslo 30 2 * * *",
			start: at("2026-03-28 12:00 CET"), end: at("2026-03-31 00:00 CEST"),
			want: []time.Time{spring, at("2026-03-30 02:30 CEST")},
		},
		{
			name: "local zone, skipped hour", spec: "0 2 * * *",
			start: at("2026-03-28 12:00 CET"), end: at("2026-03-31 00:00 CEST"),
			want: []time.Time{spring, at("2026-03-30 02:00 CEST")},
		},
		{
			name: "daily outside the change is not moved", spec: "CRON_TZ=Europe/Oslo 30 1 * * *",
			start: at("2026-03-28 12:00 CET"), end: at("2026-03-31 00:00 CEST"),
			want: []time.Time{at("2026-03-29 01:30 CET"), at("2026-03-30 01:30 CEST")},
		},
		{
			// The repeated hour: 02:30 comes twice and fires twice, as
			// with robfig/cron; a rescan is harmless to repeat.
			name: "daily in the repeated hour fires in both passes", spec: "CRON_TZ=Europe/Oslo 30 2 * * *",
			start: at("2026-10-24 12:00 CEST"), end: at("2026-10-27 00:00 CET"),
			want: []time.Time{autumn.Add(-30 * time.Minute), autumn.Add(30 * time.Minute), at("2026-10-26 02:30 CET")},
		},
		{
			name: "every 20 minutes across spring", spec: "CRON_TZ=Europe/Oslo */20 * * * *",
			start: spring.Add(-3 * time.Hour), end: spring.Add(3 * time.Hour), maxGap: 20 * time.Minute,
		},
		{
			name: "every 20 minutes across autumn", spec: "CRON_TZ=Europe/Oslo */20 * * * *",
			start: autumn.Add(-3 * time.Hour), end: autumn.Add(3 * time.Hour), maxGap: 20 * time.Minute,
		},
		{
			name: "every 20 minutes of the hour 02 in spring", spec: "CRON_TZ=Europe/Oslo */20 2 * * *",
			start: at("2026-03-28 12:00 CET"), end: at("2026-03-30 00:00 CEST"),
			want: []time.Time{spring},
		},
		{
			name: "@every 30m across spring", spec: "@every 30m",
			start: spring.Add(-time.Hour), end: spring.Add(time.Hour + time.Second),
			want: []time.Time{spring.Add(-30 * time.Minute), spring, spring.Add(30 * time.Minute), spring.Add(time.Hour)},
		},
		{
			name: "@every 30m across autumn", spec: "@every 30m",
			start: autumn.Add(-time.Hour), end: autumn.Add(time.Hour + time.Second),
			want: []time.Time{autumn.Add(-30 * time.Minute), autumn, autumn.Add(30 * time.Minute), autumn.Add(time.Hour)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fires := simulate(t, tt.spec, tt.start.In(loc), tt.end, time.Time{}, 0)
			if tt.want != nil {
				if len(fires) != len(tt.want) {
					t.Fatalf("fired at %v; want %v", fires, tt.want)
				}
				for i := range fires {
					if !fires[i].Equal(tt.want[i]) {
						t.Errorf("firing %d at %s; want %s", i, fires[i], tt.want[i].In(loc))
					}
				}
			}
			if tt.maxGap > 0 {
				if g := maxGap(tt.start, tt.end, fires); g > tt.maxGap {
					t.Errorf("longest wait %v; want at most %v (firings %v)", g, tt.maxGap, fires)
				}
			}
		})
	}
}

// TestScheduleClockStepped steps the wall clock by an hour, forward and
// back, between two firings. No real wait is longer than the schedule's
// interval, and the firings skipped by a step forward fire once.
func TestScheduleClockStepped(t *testing.T) {
	loc := oslo(t)
	start := time.Date(2026, 6, 10, 9, 58, 0, 0, loc)
	tests := []struct {
		spec     string
		step     time.Duration
		interval time.Duration // the longest real wait allowed
		most     int           // firings at most, over the 26 hours
	}{
		{"*/5 * * * *", -time.Hour, 5 * time.Minute, 26*12 + 1},
		{"*/5 * * * *", time.Hour, 5 * time.Minute, 26*12 + 1},
		{"0 6 * * *", -time.Hour, 24 * time.Hour, 2},
		{"0 6 * * *", time.Hour, 24 * time.Hour, 2},
		{"0 10 * * *", -time.Hour, 24 * time.Hour, 3},
		{"0 10 * * *", time.Hour, 24 * time.Hour, 2},
	}
	for _, tt := range tests {
		t.Run(tt.spec+" "+tt.step.String(), func(t *testing.T) {
			end := start.Add(26 * time.Hour)
			stepAt := start.Add(4*time.Minute + 10*time.Second)
			fires := simulate(t, tt.spec, start, end, stepAt, tt.step)
			if len(fires) == 0 {
				t.Fatal("never fired")
			}
			// From the first firing: before it, the schedule has not
			// started its interval yet.
			if g := maxGap(fires[0], end, fires); g > tt.interval {
				t.Errorf("longest wait %v; want at most %v (firings %v)", g, tt.interval, fires)
			}
			for i := 1; i < len(fires); i++ {
				if fires[i].Equal(fires[i-1]) {
					t.Errorf("fired twice at %s", fires[i])
				}
			}
			if len(fires) > tt.most {
				t.Errorf("%d firings; want at most %d", len(fires), tt.most)
			}
		})
	}
}

// TestRunScheduleWallClockSetBack runs a Watcher whose wall clock is set
// back an hour after its first scheduled kick: the next one still comes
// after about the interval (the wait is bounded by the test's patience,
// not by an hour).
func TestRunScheduleWallClockSetBack(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"@every 1s", "* * * * * *", "CRON_TZ=Europe/Oslo * * * * * *"} {
		t.Run(spec, func(t *testing.T) {
			t.Parallel()
			var offset atomic.Int64
			w, err := NewWatcher(Options{Schedule: spec, NoEvents: true})
			if err != nil {
				t.Fatal(err)
			}
			w.wall = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
			runWatcher(t, w)
			expectKick(t, w, "the start")
			expectKick(t, w, "the first scheduled rescan")
			offset.Store(int64(-time.Hour))
			expectKick(t, w, "the wall clock was set back an hour")
			expectKick(t, w, "the wall clock was set back an hour, again")
			offset.Store(int64(time.Hour))
			expectKick(t, w, "the wall clock was set forward two hours")
		})
	}
}

// runWatcher runs w until the test ends.
func runWatcher(t *testing.T, w *Watcher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(wait):
			t.Error("Run did not stop")
		}
	})
}
