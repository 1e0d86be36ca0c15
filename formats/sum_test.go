package formats

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
)

// maxAmount is the largest ActiveOrHistoricCurrencyAndAmount (18 digits)
// and maxFraction the largest with 5 decimals.
var (
	maxAmount   = Decimal{Units: 999_999_999_999_999_999, Scale: 0}
	maxFraction = Decimal{Units: 999_999_999_999_999_999, Scale: 5}
)

func TestSum(t *testing.T) {
	for _, tc := range []struct {
		name string
		add  []Decimal
		want string // the total, by String
		min2 string // the total by Append with at least 2 decimals
	}{
		{"none", nil, "0", "0.00"},
		{"one", []Decimal{{123450, 2}}, "1234.50", "1234.50"},
		{"scales mixed", []Decimal{{15, 1}, {225, 2}, {3, 0}}, "6.75", "6.75"},
		{"finer later", []Decimal{{1, 0}, {1, 5}}, "1.00001", "1.00001"},
		{"coarser later", []Decimal{{1, 5}, {1, 0}}, "1.00001", "1.00001"},
		{"whole", []Decimal{{5, 0}, {7, 0}}, "12", "12.00"},
		{"negative", []Decimal{{-150, 2}, {100, 2}}, "-0.50", "-0.50"},
		{"to zero", []Decimal{{150, 2}, {-15, 1}}, "0.00", "0.00"},
		{"max amount", []Decimal{maxAmount}, "999999999999999999", "999999999999999999.00"},
		{"max amount and a cent", []Decimal{maxAmount, {1, 2}}, "999999999999999999.01", "999999999999999999.01"},
		{"max amount with 5 decimals", []Decimal{maxFraction, maxFraction}, "19999999999999.99998", "19999999999999.99998"},
		{"ten max amounts", repeat(maxAmount, 10), "9999999999999999990", "9999999999999999990.00"},
		{"max amounts in both scales", []Decimal{maxAmount, maxFraction}, "1000009999999999998.99999", "1000009999999999998.99999"},
		{"int64 overflow at one scale", []Decimal{{1<<63 - 1, 2}, {1, 2}}, "92233720368547758.08", "92233720368547758.08"},
		{"int64 overflow when rescaled", []Decimal{{1<<63 - 1, 0}, {1, 17}}, "9223372036854775807.00000000000000001", "9223372036854775807.00000000000000001"},
		{"wide and back below", []Decimal{maxAmount, maxAmount, {-999_999_999_999_999_999, 0}, {-999_999_999_999_999_999, 0}, {5, 1}}, "0.5", "0.50"},
		{"wide negative", []Decimal{{-1 << 63, 0}, {-1 << 63, 0}}, "-18446744073709551616", "-18446744073709551616.00"},
		{"wide below one", []Decimal{{1<<63 - 1, 18}, {1<<63 - 1, 18}}, "18.446744073709551614", "18.446744073709551614"},
		{"wide fraction only", []Decimal{{1<<63 - 1, 18}, {-(1<<63 - 1), 18}, {1<<63 - 1, 0}, {1<<63 - 1, 0}, {-(1<<63 - 1), 0}, {-(1<<63 - 1), 0}, {5, 18}}, "0.000000000000000005", "0.000000000000000005"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Sum
			for _, d := range tc.add {
				s.Add(d)
			}
			if got := s.String(); got != tc.want {
				t.Errorf("String = %s; want %s", got, tc.want)
			}
			if got := fmt.Sprint(s); got != tc.want {
				t.Errorf("fmt.Sprint = %s; want %s", got, tc.want)
			}
			if got := string(s.Append([]byte("x"), 2)); got != "x"+tc.min2 {
				t.Errorf("Append(2) = %s; want x%s", got, tc.min2)
			}
			if d, err := ParseDecimalNumber(tc.want); err == nil && s.Cmp(d) != 0 {
				t.Errorf("Cmp(%s) = %d; want 0", d, s.Cmp(d))
			}
		})
	}
}

func repeat(d Decimal, n int) []Decimal {
	ds := make([]Decimal, n)
	for i := range ds {
		ds[i] = d
	}
	return ds
}

// TestSumCmp compares totals with control sums as a validator does.
func TestSumCmp(t *testing.T) {
	var s Sum
	s.Add(Decimal{150, 2})
	s.Add(Decimal{250, 2})
	for _, tc := range []struct {
		ctrl Decimal
		want int
	}{
		{Decimal{4, 0}, 0},
		{Decimal{400, 2}, 0},
		{Decimal{400000, 5}, 0},
		{Decimal{400_000_000_000_000_000, 17}, 0},
		{Decimal{399, 2}, 1},
		{Decimal{401, 2}, -1},
		{Decimal{-4, 0}, 1},
		{maxAmount, -1},
		{Decimal{-1 << 63, 17}, 1},
	} {
		if got := s.Cmp(tc.ctrl); got != tc.want {
			t.Errorf("4.00 Cmp %s = %d; want %d", tc.ctrl, got, tc.want)
		}
	}

	// A total beyond every Decimal is larger than any control sum.
	var w Sum
	for range 100 {
		w.Add(maxAmount)
	}
	for _, ctrl := range []Decimal{maxAmount, maxFraction, {1<<63 - 1, 0}} {
		if got := w.Cmp(ctrl); got != 1 {
			t.Errorf("100 × %s Cmp %s = %d; want 1", maxAmount, ctrl, got)
		}
	}
	for range 100 {
		w.Add(Decimal{-999_999_999_999_999_999, 0})
	}
	if got := w.Cmp(Decimal{0, 3}); got != 0 {
		t.Errorf("back to zero: Cmp 0.000 = %d; want 0", got)
	}
}

// TestSumCopy: a copy of a Sum is a total of its own.
func TestSumCopy(t *testing.T) {
	var s Sum
	s.Add(maxAmount)
	s.Add(maxAmount) // wide
	c := s
	c.Add(Decimal{1, 0})
	s.Add(Decimal{-1, 0})
	if got, want := c.String(), "1999999999999999999"; got != want {
		t.Errorf("copy = %s; want %s", got, want)
	}
	if got, want := s.String(), "1999999999999999997"; got != want {
		t.Errorf("original = %s; want %s", got, want)
	}
}

// TestSumRandom adds random amounts of every size and scale and checks the
// total against big.Rat.
func TestSumRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var s Sum
		want := new(big.Rat)
		scale := 0
		for range r.IntN(40) {
			d := Decimal{Scale: r.IntN(18)}
			switch r.IntN(3) {
			case 0:
				d.Units = r.Int64N(1000_00)
			case 1:
				d.Units = r.Int64N(1_000_000_000_000_000_000)
			default:
				d.Units = int64(r.Uint64())
			}
			s.Add(d)
			want.Add(want, new(big.Rat).SetFrac(big.NewInt(d.Units), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale)), nil)))
			scale = max(scale, d.Scale)
		}
		if s.Scale() != scale {
			t.Fatalf("Scale = %d; want %d", s.Scale(), scale)
		}
		got, ok := new(big.Rat).SetString(s.String())
		if !ok || got.Cmp(want) != 0 {
			t.Fatalf("Sum = %s; want %s", s.String(), want.FloatString(scale))
		}
		if s.String() != want.FloatString(scale) {
			t.Fatalf("String = %s; want %s", s.String(), want.FloatString(scale))
		}
		if got := string(s.Append(nil, scale+3)); got != want.FloatString(scale+3) {
			t.Fatalf("Append(%d) = %s; want %s", scale+3, got, want.FloatString(scale+3))
		}
	}
}

// BenchmarkSumAdd adds amounts of one scale, as the pain.001 encoder does.
func BenchmarkSumAdd(b *testing.B) {
	var s Sum
	for i := range b.N {
		s.Add(Decimal{Units: int64(10000 + i%1000), Scale: 2})
	}
	if s.Cmp(Decimal{}) <= 0 {
		b.Fatal("no total")
	}
}
