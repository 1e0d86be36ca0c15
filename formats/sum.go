package formats

import (
	"cmp"
	"math/big"
)

// Sum is an exact running total of Decimals, such as the amounts of a
// message to be compared with its declared CtrlSum. It never overflows: the
// total is kept in an int64 while it fits and in a big.Int beyond, so that
// a file of many maximal amounts (18 digits each) adds up exactly. The zero
// Sum is zero and ready to use. A Sum is a value: a copy is a total of its
// own, and only Add needs a pointer.
type Sum struct {
	units int64    // the total in units of 10^-scale, while wide is nil
	wide  *big.Int // the total in units of 10^-scale, once it outgrew an int64; never changed in place
	scale int      // the most decimals of any Decimal added, at least 0
}

// Add adds d to the total. The total takes the most decimals of any
// Decimal added: 1.5 and 2.25 make 3.75.
func (s *Sum) Add(d Decimal) {
	if s.wide == nil && d.Scale == s.scale {
		if u, ok := addInt64(s.units, d.Units); ok {
			s.units = u
			return
		}
	}
	s.add(d)
}

// add is Add when the total must change its scale or outgrows an int64.
func (s *Sum) add(d Decimal) {
	if d.Scale > s.scale {
		s.rescale(d.Scale)
	}
	if s.wide == nil {
		if v, ok := scaleInt64(d.Units, s.scale-d.Scale); ok {
			if u, ok := addInt64(s.units, v); ok {
				s.units = u
				return
			}
		}
		s.wide = big.NewInt(s.units)
	}
	s.wide = new(big.Int).Add(s.wide, scaleBig(d.Units, s.scale-d.Scale))
}

// rescale raises the scale of the total to scale, exactly.
func (s *Sum) rescale(scale int) {
	if s.wide == nil {
		if v, ok := scaleInt64(s.units, scale-s.scale); ok {
			s.units, s.scale = v, scale
			return
		}
		s.wide = big.NewInt(s.units)
	}
	s.wide = new(big.Int).Mul(s.wide, pow10Big(scale-s.scale))
	s.scale = scale
}

// Cmp compares the total with d by value (1.50 equals 1.5): -1, 0 or +1.
func (s Sum) Cmp(d Decimal) int {
	scale := max(s.scale, d.Scale)
	if s.wide == nil {
		a, okA := scaleInt64(s.units, scale-s.scale)
		b, okB := scaleInt64(d.Units, scale-d.Scale)
		if okA && okB {
			return cmp.Compare(a, b)
		}
	}
	return s.at(scale).Cmp(scaleBig(d.Units, scale-d.Scale))
}

// Scale returns the number of decimals of the total: the most of any
// Decimal added, 0 for none.
func (s Sum) Scale() int { return s.scale }

// String formats the total with Scale decimals, e.g. "1234.50".
func (s Sum) String() string { return string(s.Append(nil, 0)) }

// Append appends the total formatted with at least minScale decimals, and
// with more when an amount added had more (the total is never rounded):
// with minScale 2, a total of 5 is "5.00" and one of 1.125 is "1.125".
func (s Sum) Append(b []byte, minScale int) []byte {
	scale := max(s.scale, minScale)
	if s.wide == nil {
		if v, ok := scaleInt64(s.units, scale-s.scale); ok {
			return AppendDecimal(b, Decimal{Units: v, Scale: scale})
		}
	}
	t := s.at(scale)
	if t.Sign() < 0 {
		b = append(b, '-')
		t.Neg(t)
	}
	digits := t.String()
	if len(digits) <= scale {
		b = append(b, "0."...)
		for range scale - len(digits) {
			b = append(b, '0')
		}
		return append(b, digits...)
	}
	b = append(b, digits[:len(digits)-scale]...)
	if scale > 0 {
		b = append(b, '.')
		b = append(b, digits[len(digits)-scale:]...)
	}
	return b
}

// at returns a new big.Int of the total in units of 10^-scale, scale being
// at least s.scale.
func (s Sum) at(scale int) *big.Int {
	if s.wide == nil {
		return scaleBig(s.units, scale-s.scale)
	}
	return new(big.Int).Mul(s.wide, pow10Big(scale-s.scale))
}

// pow10 holds the powers of ten that fit an int64.
var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// scaleInt64 returns v·10^k; ok is false when that does not fit an int64.
func scaleInt64(v int64, k int) (int64, bool) {
	switch {
	case k == 0 || v == 0:
		return v, true
	case k < 0 || k >= len(pow10):
		return 0, false
	}
	p := pow10[k]
	if v > maxUnits/p || v < -maxUnits/p {
		return 0, false
	}
	return v * p, true
}

// scaleBig returns v·10^k as a new big.Int.
func scaleBig(v int64, k int) *big.Int {
	n := big.NewInt(v)
	if k == 0 {
		return n
	}
	return n.Mul(n, pow10Big(k))
}

// pow10Big returns 10^k as a new big.Int.
func pow10Big(k int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil)
}

// addInt64 returns a+b; ok is false when that overflows.
func addInt64(a, b int64) (int64, bool) {
	c := a + b
	return c, (c > a) == (b > 0)
}
