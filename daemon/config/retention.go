package config

import (
	"strconv"
	"strings"
)

// Retention says how long refundd keeps the personal data of settled
// batches: the payees' accounts, the customers, the bank's reason texts,
// the pain.001 and the archived files.
type Retention struct {
	// Keep is "Ny": the personal data of a batch settled for good
	// (completed, rejected) is purged N years after the end of the
	// calendar year it was settled in; RetentionOff keeps everything.
	// Default DefaultRetention.
	Keep string `yaml:"keep"`
	// years is Keep in years, 0 when off; set by validateRetention.
	years int
}

// The values of retention.keep.
const (
	DefaultRetention = "5y"
	RetentionOff     = "off"
	// MinRetentionYears is the shortest retention.keep: the Bookkeeping
	// Act keeps payment documentation 5 years after the end of the
	// financial year.
	MinRetentionYears = 5
	maxRetentionYears = 100
)

// validateRetention checks retention.keep, filling in its default.
func (c *Config) validateRetention(bad func(key, format string, args ...any)) {
	r := &c.Retention
	k := strings.ToLower(strings.TrimSpace(r.Keep))
	if k == "" {
		k = DefaultRetention
	}
	r.Keep, r.years = k, 0
	if k == RetentionOff {
		return
	}
	n, err := strconv.Atoi(strings.TrimSuffix(k, "y"))
	switch {
	case !strings.HasSuffix(k, "y") || err != nil || n <= 0:
		bad("retention.keep", "%q is not a number of years (e.g. %s) or %s", k, DefaultRetention, RetentionOff)
	case n < MinRetentionYears:
		bad("retention.keep", "%q is shorter than the Bookkeeping Act's %d years after the end of the financial year", k, MinRetentionYears)
	case n > maxRetentionYears:
		bad("retention.keep", "%q is more than %d years; write %s to keep everything", k, maxRetentionYears, RetentionOff)
	default:
		r.years = n
	}
}

// KeepYears returns retention.keep in years, and false when it is off:
// nothing is purged.
func (c *Config) KeepYears() (int, bool) {
	return c.Retention.years, c.Retention.years > 0
}
