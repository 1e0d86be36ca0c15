package refund

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Currency is an ISO 4217 alphabetic currency code.
type Currency string

// exponents lists the ISO 4217 minor-unit exponent of every currency refundd
// accepts. A currency missing here is refused rather than guessed.
var exponents = map[Currency]int{
	"NOK": 2, "SEK": 2, "DKK": 2, "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2,
	"ISK": 0, "JPY": 0, "PLN": 2, "CZK": 2, "HUF": 2, "CAD": 2, "AUD": 2,
	"NZD": 2, "SGD": 2, "HKD": 2, "CNY": 2, "ZAR": 2, "RON": 2, "BGN": 2,
	"TRY": 2, "INR": 2, "KWD": 3, "BHD": 3, "OMR": 3, "TND": 3,
}

// Exponent returns the number of minor-unit digits of c and whether c is a
// known currency.
func (c Currency) Exponent() (int, bool) {
	e, ok := exponents[c]
	return e, ok
}

// ParseCurrency checks that s is a known ISO 4217 code. Lower case is
// accepted and folded.
func ParseCurrency(s string) (Currency, error) {
	c := Currency(asciiUpper(strings.TrimSpace(s)))
	if _, ok := exponents[c]; !ok {
		return "", fmt.Errorf("unknown or unsupported currency %q", s)
	}
	return c, nil
}

// MaxMinor is the largest amount refundd accepts, in minor units
// (999 999 999 999.99 NOK). It keeps every amount within the 18 digits that
// ISO 20022 allows. It does not make sums safe: an int64 holds only about
// 92 000 maximal amounts, so code that sums amounts must check for overflow.
const MaxMinor = 999_999_999_999_99 // 14 digits

// Amount is a money amount in integer minor units of its currency.
type Amount struct {
	Minor    int64
	Currency Currency
}

// Errors returned by ParseAmount; callers may test them with errors.Is.
var (
	ErrAmountSyntax    = errors.New("not an amount")
	ErrAmountAmbiguous = errors.New("ambiguous separators")
	ErrAmountDecimals  = errors.New("more decimals than the currency has")
	ErrAmountNotPos    = errors.New("must be greater than zero")
	ErrAmountTooLarge  = errors.New("too large")
)

// ParseAmount reads an amount as the ERP writes it: "1234,50", "1 234,50"
// (spaces, no-break spaces or narrow no-break spaces between groups of three
// digits), "1234.50" or "1234"; a leading '+' and leading zeros are
// allowed. A string with both ',' and '.' is ambiguous and refused, as are
// more decimals than the currency has, zero, negative amounts and amounts
// above MaxMinor.
func ParseAmount(s string, c Currency) (Amount, error) {
	exp, ok := c.Exponent()
	if !ok {
		return Amount{}, fmt.Errorf("unknown currency %q", c)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return Amount{}, fmt.Errorf("%w: empty", ErrAmountSyntax)
	}
	if s[0] == '-' {
		return Amount{}, fmt.Errorf("%q: %w", s, ErrAmountNotPos)
	}
	if s[0] == '+' {
		s = s[1:]
	}
	hasComma, hasDot := strings.Contains(s, ","), strings.Contains(s, ".")
	if hasComma && hasDot {
		return Amount{}, fmt.Errorf("%q: %w (use either decimal comma or decimal point, no thousands separator)", s, ErrAmountAmbiguous)
	}
	intPart, frac := s, ""
	if i := strings.IndexAny(s, ",."); i >= 0 {
		intPart, frac = s[:i], s[i+1:]
		if strings.ContainsAny(frac, ",.") {
			return Amount{}, fmt.Errorf("%q: %w (more than one separator)", s, ErrAmountAmbiguous)
		}
		if frac == "" {
			return Amount{}, fmt.Errorf("%q: %w: no digits after the separator", s, ErrAmountSyntax)
		}
	}
	digits, err := groupedDigits(intPart)
	if err != nil {
		return Amount{}, fmt.Errorf("%q: %w", s, err)
	}
	for i := 0; i < len(frac); i++ {
		if frac[i] < '0' || frac[i] > '9' {
			return Amount{}, fmt.Errorf("%q: %w: bad decimals", s, ErrAmountSyntax)
		}
	}
	if len(frac) > exp {
		// Trailing zeros beyond the exponent are still a precision claim
		// the ERP should not make; refuse rather than round.
		return Amount{}, fmt.Errorf("%q: %w (%s has %d)", s, ErrAmountDecimals, c, exp)
	}
	// The value of the digits and the decimals padded to exp, and the
	// number of its digits after leading zeros.
	var v int64
	n := 0
	for _, part := range [2]string{digits, frac} {
		for i := 0; i < len(part); i++ {
			if n == 0 && part[i] == '0' {
				continue
			}
			if n++; n > 15 {
				return Amount{}, fmt.Errorf("%q: %w", s, ErrAmountTooLarge)
			}
			v = v*10 + int64(part[i]-'0')
		}
	}
	for range exp - len(frac) {
		if n > 0 {
			if n++; n > 15 {
				return Amount{}, fmt.Errorf("%q: %w", s, ErrAmountTooLarge)
			}
			v *= 10
		}
	}
	if n == 0 {
		return Amount{}, fmt.Errorf("%q: %w", s, ErrAmountNotPos)
	}
	if v > MaxMinor {
		return Amount{}, fmt.Errorf("%q: %w", s, ErrAmountTooLarge)
	}
	return Amount{Minor: v, Currency: c}, nil
}

// groupedDigits returns the digits of an integer part that may group
// thousands with spaces: "1 234 567". Groups after the first must have three
// digits.
func groupedDigits(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%w: no digits before the separator", ErrAmountSyntax)
	}
	if allDigits(s) {
		return s, nil
	}
	var b strings.Builder
	group, groups := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteByte(byte(r))
			group++
		case r == ' ' || r == '\u00a0' || r == '\u202f':
			if group == 0 || (groups == 0 && group > 3) || (groups > 0 && group != 3) {
				return "", fmt.Errorf("%w: misplaced space", ErrAmountSyntax)
			}
			groups++
			group = 0
		default:
			return "", fmt.Errorf("%w: unexpected %q", ErrAmountSyntax, r)
		}
	}
	if groups > 0 && group != 3 {
		return "", fmt.Errorf("%w: misplaced space", ErrAmountSyntax)
	}
	return b.String(), nil
}

// allDigits reports whether every byte of s is an ASCII digit.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String formats a as an ISO 20022 decimal with exactly the currency's
// number of decimals and a '.' separator, e.g. "1234.50".
func (a Amount) String() string {
	exp, _ := a.Currency.Exponent()
	sign, v := "", a.Minor
	if v < 0 {
		sign, v = "-", -v
	}
	s := strconv.FormatInt(v, 10)
	if exp == 0 {
		return sign + s
	}
	if len(s) <= exp {
		s = strings.Repeat("0", exp-len(s)+1) + s
	}
	return sign + s[:len(s)-exp] + "." + s[len(s)-exp:]
}

// FormatTotals writes amounts per currency as "1234.50 NOK + 10.00 SEK",
// ordered as text, for messages and summaries.
func FormatTotals(sums map[Currency]int64) string {
	s := make([]string, 0, len(sums))
	for c, v := range sums {
		s = append(s, Amount{Minor: v, Currency: c}.String()+" "+string(c))
	}
	slices.Sort(s)
	return strings.Join(s, " + ")
}
