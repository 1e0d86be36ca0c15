package config

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
)

// DefaultMaxReplySize is the default of limits.max_reply_size: the
// largest reply file that is read, 64 MiB.
const DefaultMaxReplySize = 64 << 20

// MaxReplySizeLimit is the largest value limits.max_reply_size takes,
// 8 GiB.
const MaxReplySizeLimit = 8 << 30

// Limits bound what refundd reads from files it did not write.
type Limits struct {
	// MaxReplySize is the largest reply file from the bank (pain.002,
	// camt.054, camt.053) that is taken from the inbox, downloaded from
	// AutoPay or checked by refundd validate; a larger one is refused
	// whole. It is written in bytes (67108864) or with a unit (64MiB,
	// 1.5GiB, 500MB); see ParseSize. Empty means DefaultMaxReplySize.
	MaxReplySize string `yaml:"max_reply_size"`

	maxReplyBytes int64 // MaxReplySize in bytes, set by validate
}

// MaxReplyBytes returns limits.max_reply_size in bytes:
// DefaultMaxReplySize when it is not set (or not checked yet).
func (l Limits) MaxReplyBytes() int64 {
	if l.maxReplyBytes <= 0 {
		return DefaultMaxReplySize
	}
	return l.maxReplyBytes
}

// validateLimits checks the limits section and sets the sizes in bytes.
func (c *Config) validateLimits(bad func(key, format string, args ...any)) {
	l := &c.Limits
	l.maxReplyBytes = 0
	if strings.TrimSpace(l.MaxReplySize) == "" {
		return
	}
	n, err := ParseSize(l.MaxReplySize)
	if err != nil {
		bad("limits.max_reply_size", "%v", err)
		return
	}
	if n > MaxReplySizeLimit {
		bad("limits.max_reply_size", "%q is %d bytes, more than the largest allowed, 8 GiB (%d bytes)", l.MaxReplySize, n, int64(MaxReplySizeLimit))
		return
	}
	l.maxReplyBytes = n
}

// sizeSyntax is a size as ParseSize reads it: a decimal number, optional
// blanks, an optional unit.
var sizeSyntax = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)[ \t]*([A-Za-z]*)$`)

// sizeUnits are the units ParseSize accepts, by their lower-case names:
// SI (powers of 1000) and IEC (powers of 1024), each meaning exactly
// what it says.
var sizeUnits = map[string]int64{
	"":    1,
	"b":   1,
	"kb":  1000,
	"mb":  1000 * 1000,
	"gb":  1000 * 1000 * 1000,
	"kib": 1 << 10,
	"mib": 1 << 20,
	"gib": 1 << 30,
}

// ParseSize reads a size in bytes, written as a whole number of bytes
// (67108864) or as a decimal number with a unit (64MiB, 1.5GiB, 500MB,
// "64 MiB"). The units are B, the SI units KB, MB and GB (1000, 1000²,
// 1000³ bytes) and the IEC units KiB, MiB and GiB (1024, 1024², 1024³
// bytes), in any letter case. A size must be a whole number of bytes
// greater than zero. Sizes that do not fit in an int64 are refused.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("%q: a size must be greater than zero", s)
	}
	m := sizeSyntax.FindStringSubmatch(t)
	if m == nil {
		return 0, fmt.Errorf("%q is not a size: write bytes (67108864) or a number with a unit (64MiB, 1.5GiB, 500MB)", s)
	}
	unit, ok := sizeUnits[strings.ToLower(m[2])]
	if !ok {
		return 0, fmt.Errorf("%q: unknown unit %q (B, KB, MB, GB, KiB, MiB or GiB)", s, m[2])
	}
	n, ok := new(big.Rat).SetString(m[1])
	if !ok {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	n.Mul(n, new(big.Rat).SetInt64(unit))
	switch {
	case n.Sign() == 0:
		return 0, fmt.Errorf("%q: a size must be greater than zero", s)
	case !n.IsInt():
		return 0, fmt.Errorf("%q is not a whole number of bytes (%s bytes)", s, n.FloatString(3))
	case !n.Num().IsInt64():
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n.Num().Int64(), nil
}
