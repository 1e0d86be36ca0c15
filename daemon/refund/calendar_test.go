package refund

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func d(y int, m time.Month, day int) Date { return NewDate(y, m, day) }

func TestEaster(t *testing.T) {
	tests := []struct {
		year int
		want string
	}{
		{1818, "1818-03-22"}, // earliest possible
		{1943, "1943-04-25"}, // latest possible
		{2000, "2000-04-23"},
		{2008, "2008-03-23"},
		{2011, "2011-04-24"},
		{2019, "2019-04-21"},
		{2024, "2024-03-31"},
		{2025, "2025-04-20"},
		{2026, "2026-04-05"},
		{2027, "2027-03-28"},
		{2038, "2038-04-25"},
		{2285, "2285-03-22"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := easter(tt.year).String(); got != tt.want {
				t.Errorf("easter(%d) = %s; want %s", tt.year, got, tt.want)
			}
		})
	}
}

func TestEasterIsASundayBetween22MarchAnd25April(t *testing.T) {
	for y := 1900; y <= 2200; y++ {
		e := easter(y)
		if e.Weekday() != time.Sunday {
			t.Errorf("easter(%d) = %s, a %s; want a Sunday", y, e, e.Weekday())
		}
		if e.Before(d(y, time.March, 22)) || d(y, time.April, 25).Before(e) {
			t.Errorf("easter(%d) = %s; want 22 March to 25 April", y, e)
		}
		if got := (Calendar{}).Holiday(e); got != "Easter Sunday" {
			t.Errorf("Holiday(%s) = %q; want %q", e, got, "Easter Sunday")
		}
	}
}

func TestHolidays2026(t *testing.T) {
	tests := []struct {
		date    Date
		weekday time.Weekday
		want    string // a word the holiday's name must contain
	}{
		{d(2026, 1, 1), time.Thursday, "New Year"},
		{d(2026, 4, 2), time.Thursday, "Maundy Thursday"},
		{d(2026, 4, 3), time.Friday, "Good Friday"},
		{d(2026, 4, 5), time.Sunday, "Easter Sunday"},
		{d(2026, 4, 6), time.Monday, "Easter Monday"},
		{d(2026, 5, 1), time.Friday, "Labour Day"},
		{d(2026, 5, 14), time.Thursday, "Ascension"},
		{d(2026, 5, 17), time.Sunday, "Constitution Day"},
		{d(2026, 5, 24), time.Sunday, "Whit Sunday"},
		{d(2026, 5, 25), time.Monday, "Whit Monday"},
		{d(2026, 12, 24), time.Thursday, "Christmas Eve"},
		{d(2026, 12, 25), time.Friday, "Christmas Day"},
		{d(2026, 12, 26), time.Saturday, "Boxing Day"},
	}
	for _, tt := range tests {
		t.Run(tt.date.String(), func(t *testing.T) {
			if got := tt.date.Weekday(); got != tt.weekday {
				t.Errorf("%s.Weekday() = %s; want %s", tt.date, got, tt.weekday)
			}
			var c Calendar
			if got := c.Holiday(tt.date); !strings.Contains(got, tt.want) {
				t.Errorf("Holiday(%s) = %q; want %q", tt.date, got, tt.want)
			}
			if c.IsBankingDay(tt.date) {
				t.Errorf("IsBankingDay(%s) = true; want false", tt.date)
			}
		})
	}

	// Every other day of 2026 is no holiday, and a banking day unless it is
	// a Saturday or Sunday: New Year's Eve is a banking day.
	var c Calendar
	holidays := map[Date]bool{}
	for _, tt := range tests {
		holidays[tt.date] = true
	}
	banking := 0
	for day := d(2026, 1, 1); day.Before(d(2027, 1, 1)); day = day.AddDays(1) {
		if holidays[day] {
			continue
		}
		if got := c.Holiday(day); got != "" {
			t.Errorf("Holiday(%s) = %q; want \"\"", day, got)
		}
		weekend := day.Weekday() == time.Saturday || day.Weekday() == time.Sunday
		if got := c.IsBankingDay(day); got == weekend {
			t.Errorf("IsBankingDay(%s) (a %s) = %v; want %v", day, day.Weekday(), got, !weekend)
		}
		if !weekend {
			banking++
		}
	}
	// 2026 has 261 weekdays; 9 of the holidays above fall on one.
	if want := 261 - 9; banking != want {
		t.Errorf("banking days in 2026 = %d; want %d", banking, want)
	}
}

func TestIsBankingDay(t *testing.T) {
	tests := []struct {
		date Date
		want bool
	}{
		{d(2026, 3, 6), true},   // Friday
		{d(2026, 3, 7), false},  // Saturday
		{d(2026, 3, 8), false},  // Sunday
		{d(2026, 3, 9), true},   // Monday
		{d(2026, 4, 1), true},   // Wednesday before Easter
		{d(2026, 4, 4), false},  // Easter Saturday: no holiday, but a Saturday
		{d(2026, 4, 7), true},   // Tuesday after Easter
		{d(2026, 5, 15), true},  // Friday after Ascension
		{d(2026, 12, 23), true}, // Wednesday
		{d(2026, 12, 28), true}, // Monday
		{d(2026, 12, 31), true}, // Thursday, New Year's Eve
		{d(2027, 1, 1), false},  // Friday, New Year's Day
		{d(2025, 4, 17), false}, // Maundy Thursday 2025
		{d(2025, 6, 9), false},  // Whit Monday 2025
		{d(2025, 5, 29), false}, // Ascension 2025
		{d(2025, 5, 30), true},
		{d(2024, 5, 9), false}, // Ascension 2024
		{d(2024, 5, 17), false},
	}
	for _, tt := range tests {
		t.Run(tt.date.String(), func(t *testing.T) {
			var c Calendar
			if got := c.IsBankingDay(tt.date); got != tt.want {
				t.Errorf("IsBankingDay(%s) = %v (holiday %q); want %v", tt.date, got, c.Holiday(tt.date), tt.want)
			}
		})
	}
}

func TestNextBankingDay(t *testing.T) {
	tests := []struct {
		from, want Date
	}{
		{d(2026, 4, 1), d(2026, 4, 1)},     // already a banking day
		{d(2026, 4, 2), d(2026, 4, 7)},     // Maundy Thursday → Tuesday after Easter
		{d(2026, 4, 3), d(2026, 4, 7)},     // Good Friday
		{d(2026, 4, 4), d(2026, 4, 7)},     // Easter Saturday
		{d(2026, 4, 6), d(2026, 4, 7)},     // Easter Monday
		{d(2026, 5, 14), d(2026, 5, 15)},   // Ascension
		{d(2026, 5, 16), d(2026, 5, 18)},   // Saturday; 17 May is a Sunday
		{d(2026, 5, 23), d(2026, 5, 26)},   // Saturday before Whitsun
		{d(2026, 12, 24), d(2026, 12, 28)}, // Christmas
		{d(2026, 12, 26), d(2026, 12, 28)},
		{d(2026, 12, 31), d(2026, 12, 31)}, // New Year's Eve is a banking day
		{d(2027, 1, 1), d(2027, 1, 4)},     // New Year's Day → Monday 4 January
		{d(2026, 3, 7), d(2026, 3, 9)},
	}
	for _, tt := range tests {
		t.Run(tt.from.String(), func(t *testing.T) {
			if got := (Calendar{}).NextBankingDay(tt.from); got != tt.want {
				t.Errorf("NextBankingDay(%s) = %s; want %s", tt.from, got, tt.want)
			}
		})
	}
}

func TestExecutionDateRange(t *testing.T) {
	today := NewDate(2026, 3, 2)
	for _, want := range []Date{NewDate(2026, 1, 30), NewDate(24, 3, 2), NewDate(2027, 3, 3), NewDate(9999, 1, 1)} {
		for _, p := range []DatePolicy{NextBankingDayPolicy, RejectDate} {
			if _, _, err := (Calendar{}).ExecutionDate(want, today, p); !errors.Is(err, ErrDateRange) {
				t.Errorf("ExecutionDate(%s, %s, %q) error %v; want ErrDateRange", want, today, p, err)
			}
		}
	}
}

func TestExecutionDate(t *testing.T) {
	today := d(2026, 3, 2) // a Monday
	tests := []struct {
		name     string
		want     Date
		today    Date
		policy   DatePolicy
		exec     Date
		movedHas string // "" when not moved
		err      bool
	}{
		{"normal day", d(2026, 3, 4), today, NextBankingDayPolicy, d(2026, 3, 4), "", false},
		{"normal day, reject", d(2026, 3, 4), today, RejectDate, d(2026, 3, 4), "", false},
		{"today", today, today, RejectDate, today, "", false},
		{"default policy", d(2026, 3, 4), today, "", d(2026, 3, 4), "", false},
		{"weekend", d(2026, 3, 7), today, NextBankingDayPolicy, d(2026, 3, 9), "Saturday", false},
		{"Sunday", d(2026, 3, 8), today, NextBankingDayPolicy, d(2026, 3, 9), "Sunday", false},
		{"weekend, default policy", d(2026, 3, 7), today, "", d(2026, 3, 9), "Saturday", false},
		{"weekend, reject", d(2026, 3, 7), today, RejectDate, Date{}, "", true},
		{"holiday", d(2026, 4, 3), today, NextBankingDayPolicy, d(2026, 4, 7), "Good Friday", false},
		{"holiday, reject", d(2026, 4, 3), today, RejectDate, Date{}, "", true},
		{"Christmas", d(2026, 12, 24), today, NextBankingDayPolicy, d(2026, 12, 28), "Christmas Eve", false},
		{"past", d(2026, 2, 20), today, NextBankingDayPolicy, today, "in the past", false},
		{"past, reject", d(2026, 2, 20), today, RejectDate, Date{}, "", true},
		{"yesterday", d(2026, 3, 1), today, NextBankingDayPolicy, today, "in the past", false},
		{"past, today a holiday", d(2026, 3, 20), d(2026, 4, 3), NextBankingDayPolicy, d(2026, 4, 7), "in the past", false},
		{"past holiday", d(2026, 1, 1), d(2026, 1, 20), NextBankingDayPolicy, d(2026, 1, 20), "in the past", false},
		{"30 days past", d(2026, 1, 31), d(2026, 3, 2), NextBankingDayPolicy, d(2026, 3, 2), "in the past", false},
		{"365 days ahead", d(2027, 3, 2), d(2026, 3, 2), NextBankingDayPolicy, d(2027, 3, 2), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exec, moved, err := (Calendar{}).ExecutionDate(tt.want, tt.today, tt.policy)
			if tt.err {
				if err == nil {
					t.Fatalf("ExecutionDate(%s, %s, %q) = %s, %q; want error", tt.want, tt.today, tt.policy, exec, moved)
				}
				if !errors.Is(err, ErrNotBankingDay) {
					t.Errorf("ExecutionDate(%s, %s, %q) error %v; want %v", tt.want, tt.today, tt.policy, err, ErrNotBankingDay)
				}
				if !strings.Contains(err.Error(), tt.want.String()) {
					t.Errorf("ExecutionDate(%s, ...) error %q; want it to name the date", tt.want, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ExecutionDate(%s, %s, %q) error %v; want nil", tt.want, tt.today, tt.policy, err)
			}
			if exec != tt.exec {
				t.Errorf("ExecutionDate(%s, %s, %q) = %s; want %s", tt.want, tt.today, tt.policy, exec, tt.exec)
			}
			if tt.movedHas == "" && moved != "" {
				t.Errorf("ExecutionDate(%s, ...) moved = %q; want \"\"", tt.want, moved)
			}
			if tt.movedHas != "" && (!strings.Contains(moved, tt.movedHas) || !strings.Contains(moved, tt.exec.String())) {
				t.Errorf("ExecutionDate(%s, ...) moved = %q; want it to contain %q and %s", tt.want, moved, tt.movedHas, tt.exec)
			}
		})
	}
}

func TestParseDatePolicy(t *testing.T) {
	tests := []struct {
		in      string
		want    DatePolicy
		wantErr bool
	}{
		{"", NextBankingDayPolicy, false},
		{"next-banking-day", NextBankingDayPolicy, false},
		{"reject", RejectDate, false},
		{"Reject", "", true},
		{"next", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDatePolicy(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseDatePolicy(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      string
		want    Date
		wantErr bool
	}{
		{"2026-03-01", d(2026, 3, 1), false},
		{"01.03.2026", d(2026, 3, 1), false},
		{"2026-12-31", d(2026, 12, 31), false},
		{"31.12.2026", d(2026, 12, 31), false},
		{"2028-02-29", d(2028, 2, 29), false},
		{"29.02.2028", d(2028, 2, 29), false},
		{"2026-13-01", Date{}, true},
		{"31.02.2026", Date{}, true},
		{"2026-02-29", Date{}, true},
		{"2026/01/01", Date{}, true},
		{"01/03/2026", Date{}, true},
		{"2026-3-1", Date{}, true},
		{"1.3.2026", Date{}, true},
		{"20260301", Date{}, true},
		{"2026-03-01T00:00:00Z", Date{}, true},
		{"", Date{}, true},
		{"tomorrow", Date{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDate(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseDate(%q) error %v; want error %v", tt.in, err, tt.wantErr)
			}
			// == matters: GroupKey holds a Date and is used as a map key.
			if got != tt.want {
				t.Errorf("ParseDate(%q) = %s (%#v); want %s", tt.in, got, got, tt.want)
			}
		})
	}
}

func TestDate(t *testing.T) {
	oslo := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		got  Date
		want Date
	}{
		{"DateOf local midnight", DateOf(time.Date(2026, 3, 2, 0, 30, 0, 0, oslo)), d(2026, 3, 2)},
		{"DateOf UTC evening", DateOf(time.Date(2026, 3, 2, 23, 59, 0, 0, time.UTC)), d(2026, 3, 2)},
		{"AddDays across a month", d(2026, 2, 27).AddDays(2), d(2026, 3, 1)},
		{"AddDays across a year", d(2026, 12, 31).AddDays(1), d(2027, 1, 1)},
		{"AddDays back", d(2026, 3, 1).AddDays(-1), d(2026, 2, 28)},
		{"NewDate normalises", NewDate(2026, 2, 29), d(2026, 3, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("%s = %s; want %s", tt.name, tt.got, tt.want)
			}
		})
	}
	if got := d(2026, 3, 2).String(); got != "2026-03-02" {
		t.Errorf("String() = %q; want %q", got, "2026-03-02")
	}
	if !d(2026, 3, 1).Before(d(2026, 3, 2)) || d(2026, 3, 2).Before(d(2026, 3, 2)) {
		t.Errorf("Before: got wrong order; want 1 March before 2 March and not before itself")
	}
	if !(Date{}).IsZero() || d(2026, 3, 2).IsZero() {
		t.Errorf("IsZero: got wrong answer; want only the zero Date to be zero")
	}
	if got, want := d(2026, 3, 2).Time(), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Time() = %v; want %v", got, want)
	}
}

func TestNewCalendar(t *testing.T) {
	tests := []struct {
		name         string
		closed, open []Date
		wantErr      string // "" for none
	}{
		{"none", nil, nil, ""},
		{"closed and open", []Date{d(2026, 12, 31)}, []Date{d(2026, 12, 24)}, ""},
		{"twice in one list", []Date{d(2026, 12, 31), d(2026, 12, 31)}, nil, ""},
		{"in both lists", []Date{d(2026, 12, 30), d(2026, 12, 31)}, []Date{d(2026, 12, 31)}, "2026-12-31: both closed and open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCalendar(tt.closed, tt.open)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("NewCalendar(%v, %v) error %v; want nil", tt.closed, tt.open, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("NewCalendar(%v, %v) error %v; want one saying %q", tt.closed, tt.open, err, tt.wantErr)
			}
		})
	}
}

// configured is a calendar with a closed weekday (New Year's Eve 2026, a
// Thursday), and an open Saturday and an open holiday.
func configured(t *testing.T) Calendar {
	t.Helper()
	c, err := NewCalendar([]Date{d(2026, 12, 31), d(2026, 12, 30)}, []Date{d(2026, 3, 7), d(2026, 5, 14)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCalendarIsBankingDay(t *testing.T) {
	c := configured(t)
	tests := []struct {
		name    string
		date    Date
		want    bool
		holiday string
	}{
		{"closed weekday", d(2026, 12, 31), false, ClosedByConfiguration},
		{"open Saturday", d(2026, 3, 7), true, ""},
		{"open holiday", d(2026, 5, 14), true, ""},
		{"other Saturday", d(2026, 3, 14), false, ""},
		{"other holiday", d(2026, 5, 1), false, "Labour Day"},
		{"other weekday", d(2026, 12, 29), true, ""},
		{"closed in another year", d(2027, 12, 31), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.IsBankingDay(tt.date); got != tt.want {
				t.Errorf("IsBankingDay(%s) = %v; want %v", tt.date, got, tt.want)
			}
			if got := c.Holiday(tt.date); got != tt.holiday {
				t.Errorf("Holiday(%s) = %q; want %q", tt.date, got, tt.holiday)
			}
		})
	}
}

func TestCalendarNextBankingDay(t *testing.T) {
	c := configured(t)
	tests := []struct {
		from, want Date
	}{
		{d(2026, 12, 29), d(2026, 12, 29)},
		{d(2026, 12, 30), d(2027, 1, 4)}, // 30 and 31 closed, 1 January a holiday, then the weekend
		{d(2026, 3, 6), d(2026, 3, 6)},
		{d(2026, 3, 7), d(2026, 3, 7)}, // the open Saturday
		{d(2026, 3, 8), d(2026, 3, 9)},
		{d(2026, 5, 14), d(2026, 5, 14)}, // the open Ascension Day
	}
	for _, tt := range tests {
		t.Run(tt.from.String(), func(t *testing.T) {
			if got := c.NextBankingDay(tt.from); got != tt.want {
				t.Errorf("NextBankingDay(%s) = %s; want %s", tt.from, got, tt.want)
			}
		})
	}
	got := c.NextBankingDays(d(2026, 12, 28), 3)
	if want := []Date{d(2026, 12, 28), d(2026, 12, 29), d(2027, 1, 4)}; !slices.Equal(got, want) {
		t.Errorf("NextBankingDays(2026-12-28, 3) = %v; want %v", got, want)
	}
}

func TestCalendarExecutionDate(t *testing.T) {
	c := configured(t)
	today := d(2026, 12, 1)
	tests := []struct {
		name     string
		want     Date
		policy   DatePolicy
		exec     Date
		movedHas string // "" when not moved
		errHas   string // "" when no error
	}{
		{"closed day moves", d(2026, 12, 31), NextBankingDayPolicy, d(2027, 1, 4), "2026-12-31 is closed by configuration", ""},
		{"closed day, reject", d(2026, 12, 31), RejectDate, Date{}, "", "2026-12-31 is closed by configuration"},
		{"day before", d(2026, 12, 29), NextBankingDayPolicy, d(2026, 12, 29), "", ""},
		{"built-in holiday", d(2026, 12, 24), NextBankingDayPolicy, d(2026, 12, 28), "Christmas Eve", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exec, moved, err := c.ExecutionDate(tt.want, today, tt.policy)
			if tt.errHas != "" {
				if !errors.Is(err, ErrNotBankingDay) || !strings.Contains(err.Error(), tt.errHas) {
					t.Errorf("ExecutionDate(%s) error %v; want ErrNotBankingDay saying %q", tt.want, err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("ExecutionDate(%s) error %v", tt.want, err)
			}
			if exec != tt.exec {
				t.Errorf("ExecutionDate(%s) = %s; want %s", tt.want, exec, tt.exec)
			}
			if (tt.movedHas == "") != (moved == "") || !strings.Contains(moved, tt.movedHas) {
				t.Errorf("ExecutionDate(%s) moved = %q; want it to say %q", tt.want, moved, tt.movedHas)
			}
		})
	}
	// The built-in calendar keeps New Year's Eve.
	if exec, moved, err := (Calendar{}).ExecutionDate(d(2026, 12, 31), today, NextBankingDayPolicy); err != nil || exec != d(2026, 12, 31) || moved != "" {
		t.Errorf("built-in ExecutionDate(2026-12-31) = %s, %q, %v; want 2026-12-31 unmoved", exec, moved, err)
	}
}

func TestCalendarOutlook(t *testing.T) {
	c := configured(t)
	tests := []struct {
		name  string
		c     Calendar
		today Date
		want  string
	}{
		{"built-in", Calendar{}, d(2026, 12, 5), "Mon 2026-12-07, Tue 2026-12-08, Wed 2026-12-09"},
		{"closed days ahead", c, d(2026, 12, 5), "Mon 2026-12-07, Tue 2026-12-08, Wed 2026-12-09 (closed by configuration: 2026-12-30, 2026-12-31)"},
		{"over the closed days", c, d(2026, 12, 28), "Mon 2026-12-28, Tue 2026-12-29, Mon 2027-01-04 (closed by configuration: 2026-12-30, 2026-12-31)"},
		{"closed days beyond 60 days", c, d(2026, 10, 30), "Fri 2026-10-30, Mon 2026-11-02, Tue 2026-11-03"},
		{"closed day the 60th day", c, d(2026, 10, 31), "Mon 2026-11-02, Tue 2026-11-03, Wed 2026-11-04 (closed by configuration: 2026-12-30)"},
		{"open days", c, d(2026, 3, 5), "Thu 2026-03-05, Fri 2026-03-06, Sat 2026-03-07 (open by configuration: 2026-03-07)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Outlook(tt.today); got != tt.want {
				t.Errorf("Outlook(%s) = %q; want %q", tt.today, got, tt.want)
			}
		})
	}
}

// TestParseDateISO: the quick reading of "YYYY-MM-DD" gives what
// time.Parse gives, for every day of some years and impossible days.
func TestParseDateISO(t *testing.T) {
	var inputs []string
	for _, y := range []int{0, 1900, 2000, 2024, 2026, 2100, 9999} {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				inputs = append(inputs, fmt.Sprintf("%04d-%02d-%02d", y, m, d))
			}
		}
	}
	inputs = append(inputs, "2026-1-02", "2026-01-2", "2026/01/02", "20260-1-02", "２０２６-01-02", "2026-0a-02", "02.01.2026")
	for _, s := range inputs {
		got, gerr := ParseDate(s)
		var want Date
		werr := fmt.Errorf("%q is not a date (YYYY-MM-DD or DD.MM.YYYY)", s)
		for _, layout := range []string{"2006-01-02", "02.01.2006"} {
			if tm, err := time.Parse(layout, s); err == nil {
				want, werr = Date{tm}, nil
				break
			}
		}
		if got != want || fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Errorf("ParseDate(%q) = %v, %v; want %v, %v", s, got, gerr, want, werr)
		}
	}
}
