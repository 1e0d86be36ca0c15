package refund

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseCurrency(t *testing.T) {
	tests := []struct {
		in      string
		want    Currency
		wantErr bool
	}{
		{"NOK", "NOK", false},
		{"nok", "NOK", false},
		{" eur ", "EUR", false},
		{"JPY", "JPY", false},
		{"KWD", "KWD", false},
		{"", "", true},
		{"XXX", "", true},
		{"NOKK", "", true},
		{"kr", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseCurrency(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseCurrency(%q) error = %v; want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseCurrency(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCurrencyExponent(t *testing.T) {
	tests := []struct {
		c      Currency
		want   int
		wantOK bool
	}{
		{"NOK", 2, true}, {"EUR", 2, true}, {"SEK", 2, true}, {"USD", 2, true},
		{"JPY", 0, true}, {"ISK", 0, true},
		{"KWD", 3, true}, {"BHD", 3, true}, {"OMR", 3, true}, {"TND", 3, true},
		{"XXX", 0, false}, {"", 0, false}, {"nok", 0, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.c), func(t *testing.T) {
			got, ok := tt.c.Exponent()
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("%q.Exponent() = %v, %v; want %v, %v", tt.c, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParseAmountAccepts(t *testing.T) {
	tests := []struct {
		in   string
		cur  Currency
		want int64
	}{
		{"1234,50", "NOK", 123450},
		{"1 234,50", "NOK", 123450},
		{"1\u00a0234,50", "NOK", 123450},
		{"1\u202f234,50", "NOK", 123450},
		{"1234.50", "NOK", 123450},
		{"1 234.50", "NOK", 123450},
		{"1234", "NOK", 123400},
		{"0,01", "NOK", 1},
		{"0.1", "NOK", 10},
		{"+5", "NOK", 500},
		{" 12,50 ", "NOK", 1250},
		{"12 345 678,9", "NOK", 1234567890},
		{"007", "NOK", 700},
		{"999999999999,99", "NOK", MaxMinor},
		{"999 999 999 999,99", "NOK", 99_999_999_999_999},
		{"1234", "JPY", 1234},
		{"1 234", "JPY", 1234},
		{"99999999999999", "JPY", 99_999_999_999_999},
		{"1,5", "KWD", 1500},
		{"1.234", "KWD", 1234},
		{"0,001", "KWD", 1},
		{"12,3", "EUR", 1230},
	}
	for _, tt := range tests {
		t.Run(string(tt.cur)+"/"+tt.in, func(t *testing.T) {
			got, err := ParseAmount(tt.in, tt.cur)
			if err != nil {
				t.Fatalf("ParseAmount(%q, %s) error %v; want %d", tt.in, tt.cur, err, tt.want)
			}
			want := Amount{Minor: tt.want, Currency: tt.cur}
			if got != want {
				t.Errorf("ParseAmount(%q, %s) = %+v; want %+v", tt.in, tt.cur, got, want)
			}
		})
	}
}

func TestParseAmountRejects(t *testing.T) {
	tests := []struct {
		in   string
		cur  Currency
		want error // sentinel, or nil for "any error"
	}{
		{"1,234.50", "NOK", ErrAmountAmbiguous},
		{"1.234,50", "NOK", ErrAmountAmbiguous},
		{"1.234.567", "NOK", ErrAmountAmbiguous},
		{"1,2,3", "NOK", ErrAmountAmbiguous},
		{"12 34", "NOK", ErrAmountSyntax},
		{"1234 567", "NOK", ErrAmountSyntax},
		{"1  234", "NOK", ErrAmountSyntax},
		{"1 2345", "NOK", ErrAmountSyntax},
		{" 1 234 56", "NOK", ErrAmountSyntax},
		{"1234,501", "NOK", ErrAmountDecimals},
		{"1234,500", "NOK", ErrAmountDecimals},
		{"12,5", "JPY", ErrAmountDecimals},
		{"12,0", "JPY", ErrAmountDecimals},
		{"1.2345", "KWD", ErrAmountDecimals},
		{"0", "NOK", ErrAmountNotPos},
		{"0,00", "NOK", ErrAmountNotPos},
		{"000", "JPY", ErrAmountNotPos},
		{"-5", "NOK", ErrAmountNotPos},
		{"-0,01", "NOK", ErrAmountNotPos},
		{"abc", "NOK", ErrAmountSyntax},
		{"", "NOK", ErrAmountSyntax},
		{"   ", "NOK", ErrAmountSyntax},
		{"1e5", "NOK", ErrAmountSyntax},
		{"12,", "NOK", ErrAmountSyntax},
		{",50", "NOK", ErrAmountSyntax},
		{"12,5a", "NOK", ErrAmountSyntax},
		{"+", "NOK", ErrAmountSyntax},
		{"++5", "NOK", ErrAmountSyntax},
		{"+-5", "NOK", ErrAmountSyntax},
		{"5 NOK", "NOK", ErrAmountSyntax},
		{"kr 5", "NOK", ErrAmountSyntax},
		{"1_000", "NOK", ErrAmountSyntax},
		{"\u2212" + "5", "NOK", ErrAmountSyntax}, // minus sign
		{"\uff15", "NOK", ErrAmountSyntax},       // fullwidth digit five
		{"99999999999999999999", "NOK", ErrAmountTooLarge},
		{"99999999999999999999", "JPY", ErrAmountTooLarge},
		{"9223372036854775808", "JPY", ErrAmountTooLarge},
		{"1000000000000", "NOK", ErrAmountTooLarge}, // MaxMinor+1 in øre
		{"1 000 000 000 000,00", "NOK", ErrAmountTooLarge},
		{"100000000000000", "JPY", ErrAmountTooLarge}, // MaxMinor+1 yen
		{"100000000000", "KWD", ErrAmountTooLarge},    // 1e14 fils
		{"5", "XXX", nil},
		{"5", "", nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.cur)+"/"+tt.in, func(t *testing.T) {
			got, err := ParseAmount(tt.in, tt.cur)
			if err == nil {
				t.Fatalf("ParseAmount(%q, %s) = %+v; want error %v", tt.in, tt.cur, got, tt.want)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("ParseAmount(%q, %s) error %v; want %v", tt.in, tt.cur, err, tt.want)
			}
			if got != (Amount{}) {
				t.Errorf("ParseAmount(%q, %s) amount with error = %+v; want zero", tt.in, tt.cur, got)
			}
		})
	}
}

func TestMaxMinor(t *testing.T) {
	// 999 999 999 999.99 NOK, 14 digits; it must fit the 18 digits of ISO 20022.
	const want = 99999999999999
	if MaxMinor != want {
		t.Errorf("MaxMinor = %d; want %d", int64(MaxMinor), int64(want))
	}
}

func TestAmountString(t *testing.T) {
	tests := []struct {
		a    Amount
		want string
	}{
		{Amount{123450, "NOK"}, "1234.50"},
		{Amount{100, "NOK"}, "1.00"},
		{Amount{10, "NOK"}, "0.10"},
		{Amount{5, "NOK"}, "0.05"},
		{Amount{0, "NOK"}, "0.00"},
		{Amount{-5, "NOK"}, "-0.05"},
		{Amount{-123450, "NOK"}, "-1234.50"},
		{Amount{MaxMinor, "NOK"}, "999999999999.99"},
		{Amount{1234, "JPY"}, "1234"},
		{Amount{1, "JPY"}, "1"},
		{Amount{0, "JPY"}, "0"},
		{Amount{1234567, "KWD"}, "1234.567"},
		{Amount{1, "KWD"}, "0.001"},
		{Amount{1000, "KWD"}, "1.000"},
		{Amount{12, "KWD"}, "0.012"},
		{Amount{1999, "EUR"}, "19.99"},
	}
	for _, tt := range tests {
		t.Run(tt.want+" "+string(tt.a.Currency), func(t *testing.T) {
			if got := tt.a.String(); got != tt.want {
				t.Errorf("%+v.String() = %q; want %q", tt.a, got, tt.want)
			}
		})
	}
}

var fuzzCurrencies = []Currency{"NOK", "JPY", "KWD", "EUR", "ISK", "BHD"}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{
		"1234,50", "1 234,50", "1\u00a0234,50", "1\u202f234,50", "1234.50", "1234",
		"0,01", "+5", "1,234.50", "12 34", "1234,501", "0", "-5", "abc", "", "1e5",
		"99999999999999999999", "999999999999,99", "1000000000000", "12 345 678,9",
	} {
		for i := range fuzzCurrencies {
			f.Add(s, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, s string, ci uint8) {
		cur := fuzzCurrencies[int(ci)%len(fuzzCurrencies)]
		a, err := ParseAmount(s, cur)
		if err != nil {
			if a != (Amount{}) {
				t.Fatalf("ParseAmount(%q, %s) = %+v with error %v; want zero amount", s, cur, a, err)
			}
			return
		}
		if a.Minor < 1 || a.Minor > MaxMinor {
			t.Fatalf("ParseAmount(%q, %s).Minor = %d; want 1..%d", s, cur, a.Minor, int64(MaxMinor))
		}
		if a.Currency != cur {
			t.Fatalf("ParseAmount(%q, %s).Currency = %q; want %q", s, cur, a.Currency, cur)
		}
		str := a.String()
		exp, _ := cur.Exponent()
		if i := strings.IndexByte(str, '.'); exp == 0 && i >= 0 || exp > 0 && len(str)-i-1 != exp {
			t.Fatalf("%+v.String() = %q; want exactly %d decimals", a, str, exp)
		}
		b, err := ParseAmount(str, cur)
		if err != nil {
			t.Fatalf("ParseAmount(%q) = %+v, but ParseAmount(%q) error %v; want round trip", s, a, str, err)
		}
		if b != a {
			t.Fatalf("ParseAmount(%q).String() = %q, which parses to %+v; want %+v", s, str, b, a)
		}
		if !utf8.ValidString(s) {
			t.Fatalf("ParseAmount accepted invalid UTF-8 %q; want error", s)
		}
	})
}

// TestParseAmountReference: ParseAmount, which adds up the digits as it
// reads them, gives what the reading by strings and strconv.ParseInt below
// gives, value or error, for random amounts around every edge.
func TestParseAmountReference(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(3, seed))
	chars := []string{"0", "0", "1", "5", "9", ",", ".", " ", "\u00a0", "+", "-", "x"}
	var inputs []string
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(22) {
			b.WriteString(chars[rng.IntN(len(chars))])
		}
		inputs = append(inputs, b.String())
	}
	inputs = append(inputs, "999999999999,99", "1000000000000,00", "999999999999999", "0000000000000001,00",
		"0,00", "00", "1 234,50", "12 345 678,9", "1 23,00", "+0,01", "9999999999999,99", "99999999999999,9")
	for _, in := range inputs {
		for _, c := range []Currency{"NOK", "JPY", "BHD"} {
			got, gerr := ParseAmount(in, c)
			want, werr := parseAmountRef(in, c)
			if got != want || fmt.Sprint(gerr) != fmt.Sprint(werr) {
				t.Fatalf("ParseAmount(%q, %s) = %v, %v; want %v, %v", in, c, got, gerr, want, werr)
			}
		}
	}
}

// parseAmountRef is ParseAmount as it was first written, for
// TestParseAmountReference.
func parseAmountRef(s string, c Currency) (Amount, error) {
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
	digits, err := groupedDigitsRef(intPart)
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
	frac += strings.Repeat("0", exp-len(frac))
	all := strings.TrimLeft(digits+frac, "0")
	if all == "" {
		return Amount{}, fmt.Errorf("%q: %w", s, ErrAmountNotPos)
	}
	if len(all) > 15 {
		return Amount{}, fmt.Errorf("%q: %w", s, ErrAmountTooLarge)
	}
	v, err := strconv.ParseInt(all, 10, 64)
	if err != nil || v > MaxMinor {
		return Amount{}, fmt.Errorf("%q: %w", s, ErrAmountTooLarge)
	}
	return Amount{Minor: v, Currency: c}, nil
}

// groupedDigitsRef is groupedDigits as it was first written: the digits of
// an integer part that may group
// thousands with spaces: "1 234 567". Groups after the first must have three
// digits.
func groupedDigitsRef(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%w: no digits before the separator", ErrAmountSyntax)
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
