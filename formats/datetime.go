package formats

import (
	"fmt"
	"strings"
	"time"
)

// DateTime is an ISO 20022 DateAndDateTimeChoice: a date (Dt) or a date
// and time (DtTm). The zero DateTime means "not given".
type DateTime struct {
	// Time is the date at midnight UTC for a Dt; for a DtTm, the time as
	// written, in its UTC offset (UTC when it has none). Time.Date() is
	// the calendar date the bank wrote in either case.
	Time    time.Time
	HasTime bool // the message gave DtTm
}

// IsZero reports whether d is the zero DateTime, that is, absent.
func (d DateTime) IsZero() bool { return d.Time.IsZero() && !d.HasTime }

// String returns the date, or the date and time, in ISO 8601.
func (d DateTime) String() string {
	if d.HasTime {
		return FormatDateTime(d.Time)
	}
	return d.Time.Format(time.DateOnly)
}

// ParseDate reads an ISODate, YYYY-MM-DD (a trailing time zone, which
// xs:date allows, is accepted and ignored). Surrounding XML white space is
// allowed. The result is midnight UTC.
func ParseDate(s string) (time.Time, error) {
	t := strings.Trim(s, " \t\r\n")
	if len(t) > 10 {
		if _, ok := zone(t[10:]); !ok {
			return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", strings.Clone(s))
		}
		t = t[:10]
	}
	y, m, d, ok := ymd(t)
	if !ok {
		return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", strings.Clone(s))
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), nil
}

// ParseDateTime reads an ISODateTime, YYYY-MM-DDThh:mm:ss with optional
// fraction and optional Z or ±hh:mm offset. A time without an offset is
// the bank's local time; it is returned with its fields as written, in UTC.
func ParseDateTime(s string) (time.Time, error) {
	t := strings.Trim(s, " \t\r\n")
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("%q is not a date and time (YYYY-MM-DDThh:mm:ss)", strings.Clone(s))
	}
	if len(t) < 19 || t[10] != 'T' || t[13] != ':' || t[16] != ':' {
		return bad()
	}
	y, mo, d, ok := ymd(t[:10])
	h, ok1 := num(t[11:13])
	mi, ok2 := num(t[14:16])
	sec, ok3 := num(t[17:19])
	if !ok || !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || sec > 59 {
		return bad()
	}
	rest := t[19:]
	ns := 0
	if strings.HasPrefix(rest, ".") {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			if i <= 9 {
				ns = ns*10 + int(rest[i]-'0')
			}
			i++
		}
		if i == 1 {
			return bad()
		}
		for n := i; n <= 9; n++ {
			ns *= 10
		}
		rest = rest[i:]
	}
	loc, ok := zone(rest)
	if !ok {
		return bad()
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, loc), nil
}

// FormatDateTime formats t as an ISODateTime with its UTC offset.
func FormatDateTime(t time.Time) string {
	return t.Format("2006-01-02T15:04:05.999999999Z07:00")
}

func ymd(s string) (y, m, d int, ok bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	y, ok1 := num(s[:4])
	m, ok2 := num(s[5:7])
	d, ok3 := num(s[8:10])
	if !ok1 || !ok2 || !ok3 || y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func num(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, len(s) > 0
}

// zone reads "", "Z" or ±hh:mm.
func zone(s string) (*time.Location, bool) {
	switch {
	case s == "" || s == "Z":
		return time.UTC, true
	case len(s) == 6 && (s[0] == '+' || s[0] == '-') && s[3] == ':':
		h, ok1 := num(s[1:3])
		m, ok2 := num(s[4:6])
		if !ok1 || !ok2 || h > 14 || m > 59 {
			return nil, false
		}
		off := h*3600 + m*60
		if s[0] == '-' {
			off = -off
		}
		if off == 0 {
			return time.UTC, true
		}
		return time.FixedZone("", off), true
	}
	return nil, false
}
