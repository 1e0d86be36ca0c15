package refund

import (
	"errors"
	"fmt"
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

// Holiday returns the name of the Norwegian public holiday or bank closing
// day on d, or "" if d is none. Bank closing days are 24 and 31 December.
func Holiday(d Date) string {
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
	case m == time.December && day == 31:
		return "New Year's Eve (banks closed)"
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

// IsBankingDay reports whether Norwegian banks execute payments on d.
func IsBankingDay(d Date) bool {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	return Holiday(d) == ""
}

// NextBankingDay returns the first banking day on or after d.
func NextBankingDay(d Date) Date {
	for !IsBankingDay(d) {
		d = d.AddDays(1)
	}
	return d
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
// for on want, given that today is today. Under NextBankingDayPolicy a date in the
// past or on a non-banking day moves to the next banking day on or after
// max(want, today), and moved says why. Under RejectDate such a date is an
// error. Dates more than MaxPastDays before today or MaxFutureDays after it
// are errors under both policies.
func ExecutionDate(want, today Date, p DatePolicy) (exec Date, moved string, err error) {
	var why string
	switch {
	case want.Before(today.AddDays(-MaxPastDays)):
		return Date{}, "", fmt.Errorf("%s is more than %d days in the past: %w", want, MaxPastDays, ErrDateRange)
	case today.AddDays(MaxFutureDays).Before(want):
		return Date{}, "", fmt.Errorf("%s is more than %d days ahead: %w", want, MaxFutureDays, ErrDateRange)
	case want.Before(today):
		why = fmt.Sprintf("%s is in the past", want)
	case !IsBankingDay(want):
		if h := Holiday(want); h != "" {
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
	exec = NextBankingDay(from)
	return exec, fmt.Sprintf("%s; moved to the next banking day %s", why, exec), nil
}
