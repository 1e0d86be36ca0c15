package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestRetention: retention.keep is a number of years, at least the
// Bookkeeping Act's five, or off; 5y when not given.
func TestRetention(t *testing.T) {
	base, err := os.ReadFile("../testdata/refundd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		keep    string // "" leaves the section out
		years   int
		on      bool
		wantErr string
	}{
		{"", 5, true, ""},
		{"5y", 5, true, ""},
		{" 10Y ", 10, true, ""},
		{"off", 0, false, ""},
		{"OFF", 0, false, ""},
		{"4y", 0, false, `"4y" is shorter than the Bookkeeping Act's 5 years`},
		{"0y", 0, false, "not a number of years"},
		{"5", 0, false, "not a number of years"},
		{"18mo", 0, false, "not a number of years"},
		{"-5y", 0, false, "not a number of years"},
		{"101y", 0, false, "more than 100 years"},
	} {
		t.Run(tc.keep, func(t *testing.T) {
			src := string(base)
			if tc.keep != "" {
				src += "retention: {keep: \"" + tc.keep + "\"}\n"
			}
			c, err := Parse(strings.NewReader(src), t.TempDir())
			if tc.wantErr != "" {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "retention.keep: ") || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v; want ErrInvalid with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if years, on := c.KeepYears(); years != tc.years || on != tc.on {
				t.Errorf("KeepYears() = %d, %v; want %d, %v", years, on, tc.years, tc.on)
			}
		})
	}
}
