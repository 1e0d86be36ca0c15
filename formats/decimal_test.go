package formats

import (
	"testing"
)

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Decimal
		ok   bool
	}{
		{"1234.50", Decimal{123450, 2}, true},
		{"200000", Decimal{200000, 0}, true},
		{"6.3", Decimal{63, 1}, true},
		{" 0.00\n", Decimal{0, 2}, true},
		{"007.10", Decimal{710, 2}, true},
		{".5", Decimal{5, 1}, true},
		{"5.", Decimal{5, 0}, true},
		{"0.001", Decimal{1, 3}, true},
		{"1.5000000", Decimal{150000, 5}, true},
		{"999999999999999999", Decimal{999999999999999999, 0}, true},
		{"9999999999999.99999", Decimal{999999999999999999, 5}, true},
		{"999999999999999999.00", Decimal{999999999999999999, 0}, true},
		{"1e3", Decimal{}, false},
		{"-5.00", Decimal{}, false},
		{"+5.00", Decimal{}, false},
		{"10,00", Decimal{}, false},
		{"1 000", Decimal{}, false},
		{"0.000001", Decimal{}, false},
		{"12345678901234567890", Decimal{}, false},
		{"1.2.3", Decimal{}, false},
		{".", Decimal{}, false},
		{"", Decimal{}, false},
		{"NaN", Decimal{}, false},
		{"١٢", Decimal{}, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseAmount(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("ParseAmount(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestParseDecimalNumber(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Decimal
		ok   bool
	}{
		{"5.0400", Decimal{50400, 4}, true},
		{"-12.5", Decimal{-125, 1}, true},
		{"11500000", Decimal{11500000, 0}, true},
		{"0.12345678901234567", Decimal{12345678901234567, 17}, true},
		{"0.123456789012345678", Decimal{}, false},
		{"--1", Decimal{}, false},
		{"+1", Decimal{}, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDecimalNumber(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("ParseDecimalNumber(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestDecimal(t *testing.T) {
	for _, tc := range []struct {
		d      Decimal
		str    string
		scale  int
		scaled int64
		ok     bool
	}{
		{Decimal{123450, 2}, "1234.50", 2, 123450, true},
		{Decimal{63, 1}, "6.3", 2, 630, true},
		{Decimal{1, 3}, "0.001", 2, 0, false},
		{Decimal{1000, 3}, "1.000", 2, 100, true},
		{Decimal{-5, 0}, "-5", 2, -500, true},
		{Decimal{999999999999999999, 0}, "999999999999999999", 2, 0, false},
	} {
		t.Run(tc.str, func(t *testing.T) {
			if got := tc.d.String(); got != tc.str {
				t.Errorf("String() = %q; want %q", got, tc.str)
			}
			got, ok := tc.d.Scaled(tc.scale)
			if got != tc.scaled || ok != tc.ok {
				t.Errorf("Scaled(%d) = %d, %v; want %d, %v", tc.scale, got, ok, tc.scaled, tc.ok)
			}
		})
	}
	if c := (Decimal{150, 2}).Cmp(Decimal{15, 1}); c != 0 {
		t.Errorf("1.50 Cmp 1.5 = %d; want 0", c)
	}
	for _, tc := range []struct {
		d, e Decimal
		want int
	}{
		{Decimal{149, 2}, Decimal{15, 1}, -1},
		{Decimal{-15, 1}, Decimal{-150, 2}, 0},
		{Decimal{-151, 2}, Decimal{-15, 1}, -1},
		// Too large to bring to one scale in an int64.
		{Decimal{900_000_000_000_000_000, 0}, Decimal{1, 17}, 1},
		{Decimal{1, 17}, Decimal{900_000_000_000_000_000, 0}, -1},
		{Decimal{-900_000_000_000_000_000, 0}, Decimal{1, 17}, -1},
		{Decimal{-900_000_000_000_000_000, 0}, Decimal{-1, 17}, -1},
		{Decimal{-1, 17}, Decimal{-900_000_000_000_000_000, 0}, 1},
	} {
		if c := tc.d.Cmp(tc.e); c != tc.want {
			t.Errorf("%s Cmp %s = %d; want %d", tc.d, tc.e, c, tc.want)
		}
	}
	if s := (Amount{Decimal{91300, 2}, "CHF"}).String(); s != "913.00 CHF" {
		t.Errorf("got %q; want 913.00 CHF", s)
	}
}
