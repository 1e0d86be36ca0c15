package formats

import (
	"testing"
	"time"
)

func TestParseDateTime(t *testing.T) {
	plus1 := time.FixedZone("", 3600)
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2007-10-18T13:15:00+01:00", time.Date(2007, 10, 18, 13, 15, 0, 0, plus1), true},
		{"2019-04-24T21:28:58", time.Date(2019, 4, 24, 21, 28, 58, 0, time.UTC), true},
		{"2023-09-06T12:50:56.162Z", time.Date(2023, 9, 6, 12, 50, 56, 162e6, time.UTC), true},
		{"2025-10-20T21:33:51.999511", time.Date(2025, 10, 20, 21, 33, 51, 999511000, time.UTC), true},
		{"2025-10-20T21:33:51.1234567891", time.Date(2025, 10, 20, 21, 33, 51, 123456789, time.UTC), true},
		{"2020-01-01T00:00:00-00:00", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"2020-02-30T00:00:00", time.Time{}, false},
		{"2020-01-01T24:00:00", time.Time{}, false},
		{"2020-01-01 10:00:00", time.Time{}, false},
		{"2020-01-01T10:00:00.", time.Time{}, false},
		{"2020-01-01T10:00:00+0100", time.Time{}, false},
		{"2020-01-01", time.Time{}, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDateTime(tc.in)
			if (err == nil) != tc.ok || !got.Equal(tc.want) {
				t.Fatalf("got %v, %v; want %v, ok %v", got, err, tc.want, tc.ok)
			}
			if tc.ok {
				if _, off := got.Zone(); func() int { _, o := tc.want.Zone(); return o }() != off {
					t.Errorf("offset %d; want that of %v", off, tc.want)
				}
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-12-02", time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), true},
		{" 2024-02-29 ", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), true},
		{"2026-12-02+01:00", time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), true},
		{"2023-02-29", time.Time{}, false},
		{"02.12.2026", time.Time{}, false},
		{"2026-12-2", time.Time{}, false},
		{"2026-12-02T00:00:00", time.Time{}, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDate(tc.in)
			if (err == nil) != tc.ok || !got.Equal(tc.want) {
				t.Errorf("got %v, %v; want %v, ok %v", got, err, tc.want, tc.ok)
			}
		})
	}
	d := DateTime{Time: time.Date(2026, 12, 2, 9, 30, 0, 0, time.FixedZone("", 3600)), HasTime: true}
	if got := d.String(); got != "2026-12-02T09:30:00+01:00" {
		t.Errorf("got %q", got)
	}
	if !(DateTime{}).IsZero() || d.IsZero() {
		t.Errorf("IsZero wrong")
	}
}
