package refund

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Date is a calendar day. It is kept as a time.Time at midnight UTC so that
// dates compare with Before, After and Equal.
type Date struct{ t time.Time }

// NewDate returns the date y-m-d.
func NewDate(y int, m time.Month, d int) Date { return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)} }

// DateOf returns the calendar day of t in t's location.
func DateOf(t time.Time) Date { y, m, d := t.Date(); return NewDate(y, m, d) }

// ParseDate reads "YYYY-MM-DD" or "DD.MM.YYYY".
func ParseDate(s string) (Date, error) {
	if d, ok := parseISODate(s); ok {
		return d, nil
	}
	for _, layout := range []string{"2006-01-02", "02.01.2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return Date{t}, nil
		}
	}
	return Date{}, fmt.Errorf("%q is not a date (YYYY-MM-DD or DD.MM.YYYY)", s)
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return d.t.Format("2006-01-02") }

// IsZero reports whether d is the zero date.
func (d Date) IsZero() bool { return d.t.IsZero() }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

// parseISODate reads a valid date "YYYY-MM-DD" as time.Parse does, without
// its general machinery; ok is false for anything else, which ParseDate
// then reads (or refuses) with time.Parse.
func parseISODate(s string) (Date, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || !allDigits(s[:4]) || !allDigits(s[5:7]) || !allDigits(s[8:]) {
		return Date{}, false
	}
	y := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	m := time.Month(int(s[5]-'0')*10 + int(s[6]-'0'))
	d := int(s[8]-'0')*10 + int(s[9]-'0')
	if m < time.January || m > time.December || d < 1 || d > daysIn(m, y) {
		return Date{}, false
	}
	return NewDate(y, m, d), true
}

// daysIn returns the number of days of month m of year y.
func daysIn(m time.Month, y int) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.t.Weekday() }

// Time returns d as midnight UTC.
func (d Date) Time() time.Time { return d.t }

// easter returns Easter Sunday of year y (Gregorian; anonymous algorithm).
func easter(y int) Date {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return NewDate(y, time.Month(month), day)
}

// The built-in banking calendar is that of Norges Bank's settlement system
// (NBO), where every payment in NOK is settled between banks: it is
// closed on Saturdays, Sundays, the Norwegian public holidays (New Year's
// Day, Maundy Thursday, Good Friday, Easter Sunday and Monday, 1 May,
// 17 May, Ascension Day, Whit Sunday and Monday, Christmas Day and Boxing
// Day) and on Christmas Eve, and open on every other day, New Year's Eve
// included. See
// https://www.norges-bank.no/Bank-og-marked/Norges-Banks-oppgjorssystem/Oppgjorsdager/Oppgjorsdager-2017/
// and
// https://static.norges-bank.no/en/Liquidity-and-markets/Norges-Banks-settlement-system/Settlement-days/
// for the list. Public holidays are set by law and a bank's own calendar
// may differ: a Calendar corrects the built-in one with the days the
// operator configures.

// holiday returns the name of the public holiday or bank closing day of
// the built-in calendar on d, or "" if d is none.
func holiday(d Date) string {
	y, m, day := d.t.Date()
	switch {
	case m == time.January && day == 1:
		return "New Year's Day"
	case m == time.May && day == 1:
		return "Labour Day"
	case m == time.May && day == 17:
		return "Constitution Day"
	case m == time.December && day == 24:
		return "Christmas Eve (banks closed)"
	case m == time.December && day == 25:
		return "Christmas Day"
	case m == time.December && day == 26:
		return "Boxing Day"
	}
	e := easter(y)
	switch int(d.t.Sub(e.t).Hours() / 24) {
	case -3:
		return "Maundy Thursday"
	case -2:
		return "Good Friday"
	case 0:
		return "Easter Sunday"
	case 1:
		return "Easter Monday"
	case 39:
		return "Ascension Day"
	case 49:
		return "Whit Sunday"
	case 50:
		return "Whit Monday"
	}
	return ""
}

// ClosedByConfiguration is what Calendar.Holiday names a day the
// configuration closes.
const ClosedByConfiguration = "closed by configuration"

// Calendar is the banking calendar execution dates follow: the built-in
// calendar corrected by days configured as closed or open. The zero
// Calendar is the built-in calendar. A Calendar is not changed once made,
// so copies of it may be used at the same time.
type Calendar struct {
	closed, open map[Date]bool
}

// NewCalendar returns the built-in calendar corrected by closed, days
// without banking, and open, days with banking whatever the built-in
// calendar says. A day in both lists is an error.
func NewCalendar(closed, open []Date) (Calendar, error) {
	var c Calendar
	for _, d := range closed {
		if c.closed == nil {
			c.closed = map[Date]bool{}
		}
		c.closed[d] = true
	}
	for _, d := range open {
		if c.closed[d] {
			return Calendar{}, fmt.Errorf("calendar %s: both closed and open", d)
		}
		if c.open == nil {
			c.open = map[Date]bool{}
		}
		c.open[d] = true
	}
	return c, nil
}

// Holiday returns why d is closed besides being a Saturday or Sunday: the
// name of the public holiday or bank closing day, or
// ClosedByConfiguration. It returns "" for any other day, and for a day
// configured as open.
func (c Calendar) Holiday(d Date) string {
	switch {
	case c.closed[d]:
		return ClosedByConfiguration
	case c.open[d]:
		return ""
	}
	return holiday(d)
}

// IsBankingDay reports whether Norwegian banks execute payments on d. A
// day configured as open is a banking day, one configured as closed is
// not; any other day is unless it is a Saturday, a Sunday or a holiday.
func (c Calendar) IsBankingDay(d Date) bool {
	switch {
	case c.open[d]:
		return true
	case c.closed[d]:
		return false
	}
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	return holiday(d) == ""
}

// NextBankingDay returns the first banking day on or after d.
func (c Calendar) NextBankingDay(d Date) Date {
	for !c.IsBankingDay(d) {
		d = d.AddDays(1)
	}
	return d
}

// NextBankingDays returns the first n banking days on or after d.
func (c Calendar) NextBankingDays(d Date, n int) []Date {
	days := make([]Date, 0, max(n, 0))
	for range n {
		d = c.NextBankingDay(d)
		days = append(days, d)
		d = d.AddDays(1)
	}
	return days
}

// Corrections returns the days configured as closed and as open from
// from to to, both included, each in order.
func (c Calendar) Corrections(from, to Date) (closed, open []Date) {
	in := func(days map[Date]bool) []Date {
		var out []Date
		for d := range days {
			if !d.Before(from) && !to.Before(d) {
				out = append(out, d)
			}
		}
		slices.SortFunc(out, func(a, b Date) int { return a.t.Compare(b.t) })
		return out
	}
	return in(c.closed), in(c.open)
}

// The banking days Outlook shows: the next OutlookDays banking days, and
// the configured days within OutlookHorizon days of today.
const (
	OutlookDays    = 3
	OutlookHorizon = 60
)

// Outlook describes the banking days ahead of today for an operator: the
// next OutlookDays banking days on or after today, each with its weekday,
// followed by the days configured as closed or open within OutlookHorizon
// days, e.g. "Mon 2026-12-07, Tue 2026-12-08, Wed 2026-12-09 (closed by
// configuration: 2026-12-31)".
func (c Calendar) Outlook(today Date) string {
	var b strings.Builder
	for i, d := range c.NextBankingDays(today, OutlookDays) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.t.Format("Mon 2006-01-02"))
	}
	closed, open := c.Corrections(today, today.AddDays(OutlookHorizon))
	for _, l := range []struct {
		what string
		days []Date
	}{{ClosedByConfiguration, closed}, {"open by configuration", open}} {
		if len(l.days) == 0 {
			continue
		}
		s := make([]string, len(l.days))
		for i, d := range l.days {
			s[i] = d.String()
		}
		fmt.Fprintf(&b, " (%s: %s)", l.what, strings.Join(s, ", "))
	}
	return b.String()
}

// DatePolicy says what to do with a payment date that is not a banking day
// or lies in the past.
type DatePolicy string

// The execution-date policies.
const (
	NextBankingDayPolicy DatePolicy = "next-banking-day" // move forward, with a warning
	RejectDate           DatePolicy = "reject"           // refuse the refund
)

// ParseDatePolicy accepts "next-banking-day" (also the default for "") or
// "reject".
func ParseDatePolicy(s string) (DatePolicy, error) {
	switch DatePolicy(s) {
	case "", NextBankingDayPolicy:
		return NextBankingDayPolicy, nil
	case RejectDate:
		return RejectDate, nil
	}
	return "", fmt.Errorf("%q is not next-banking-day or reject", s)
}

// A payment date further in the past or the future than these is refused
// under every policy: it is far more likely a typo than a wish.
const (
	MaxPastDays   = 30
	MaxFutureDays = 365
)

// ErrDateRange is returned by ExecutionDate for a date too far from today.
var ErrDateRange = errors.New("check the date (banks refuse dates far ahead, and a date long past is likely a typo)")

// ErrNotBankingDay is returned by ExecutionDate under the reject policy.
var ErrNotBankingDay = errors.New("not a banking day")

// ExecutionDate returns the requested execution date for a payment asked
// for on want, given that today is today, by the calendar c. Under
// NextBankingDayPolicy a date in the past or on a day that is no banking
// day of c moves to the next banking day on or after max(want, today),
// and moved says why. Under RejectDate such a date is an error. Dates
// more than MaxPastDays before today or MaxFutureDays after it are errors
// under both policies.
func (c Calendar) ExecutionDate(want, today Date, p DatePolicy) (exec Date, moved string, err error) {
	var why string
	switch {
	case want.Before(today.AddDays(-MaxPastDays)):
		return Date{}, "", fmt.Errorf("%s is more than %d days in the past: %w", want, MaxPastDays, ErrDateRange)
	case today.AddDays(MaxFutureDays).Before(want):
		return Date{}, "", fmt.Errorf("%s is more than %d days ahead: %w", want, MaxFutureDays, ErrDateRange)
	case want.Before(today):
		why = fmt.Sprintf("%s is in the past", want)
	case !c.IsBankingDay(want):
		if h := c.Holiday(want); h != "" {
			why = fmt.Sprintf("%s is %s", want, h)
		} else {
			why = fmt.Sprintf("%s is a %s", want, want.Weekday())
		}
	default:
		return want, "", nil
	}
	if p == RejectDate {
		return Date{}, "", fmt.Errorf("%s: %w (policy reject)", why, ErrNotBankingDay)
	}
	from := want
	if want.Before(today) {
		from = today
	}
	exec = c.NextBankingDay(from)
	return exec, fmt.Sprintf("%s; moved to the next banking day %s", why, exec), nil
}
