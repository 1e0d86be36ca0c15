package formats

import (
	"fmt"
	"strings"
)

// Decimal is the exact decimal number Units / 10^Scale. Money is never a
// float.
type Decimal struct {
	Units int64
	Scale int // digits after the decimal point, 0..17
}

// String formats d with exactly Scale decimals, e.g. "1234.50".
func (d Decimal) String() string { return string(AppendDecimal(nil, d)) }

// Scaled returns d in units of 10^-scale, e.g. minor units for a currency
// with scale decimals; ok is false when that would drop non-zero digits or
// overflow.
func (d Decimal) Scaled(scale int) (v int64, ok bool) {
	if d.Scale < 0 || scale < 0 || scale > 18 || d.Scale > 18 {
		return 0, false
	}
	v = d.Units
	for s := d.Scale; s > scale; s-- {
		if v%10 != 0 {
			return 0, false
		}
		v /= 10
	}
	for s := d.Scale; s < scale; s++ {
		if v > maxUnits/10 || v < -maxUnits/10 {
			return 0, false
		}
		v *= 10
	}
	return v, true
}

// Cmp compares the values of d and e (1.50 equals 1.5) exactly, whatever
// their sizes and scales: -1, 0 or +1.
func (d Decimal) Cmp(e Decimal) int {
	var s Sum
	s.Add(d)
	return s.Cmp(e)
}

const maxUnits = 1<<63 - 1

// AppendDecimal appends d formatted as by String.
func AppendDecimal(b []byte, d Decimal) []byte {
	u := uint64(d.Units)
	if d.Units < 0 {
		b = append(b, '-')
		u = uint64(^d.Units) + 1
	}
	var tmp [48]byte
	i := len(tmp)
	for n := 0; n < d.Scale && n < 20; n++ {
		i--
		tmp[i] = '0' + byte(u%10)
		u /= 10
	}
	if d.Scale > 0 {
		i--
		tmp[i] = '.'
	}
	for {
		i--
		tmp[i] = '0' + byte(u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// Amount is an amount in a currency (ISO 20022
// ActiveOrHistoricCurrencyAndAmount). The zero Amount means "not given".
type Amount struct {
	Decimal
	Currency string // ISO 4217, three capital letters
}

// IsZero reports whether a is the zero Amount, that is, absent.
func (a Amount) IsZero() bool { return a == Amount{} }

// String returns e.g. "1234.50 NOK".
func (a Amount) String() string { return a.Decimal.String() + " " + a.Currency }

// ParseAmount reads the value of an ActiveOrHistoricCurrencyAndAmount:
// digits with an optional decimal point, at most 18 significant digits and
// 5 decimals (more trailing zeros are accepted and dropped), surrounding
// XML white space allowed. A sign, an exponent, a comma or anything else
// is refused: the direction of an amount comes only from its CdtDbtInd.
func ParseAmount(s string) (Decimal, error) { return parseDecimal(s, 5, false) }

// ParseDecimalNumber reads an ISO 20022 DecimalNumber (a control sum): an
// optional minus sign, at most 18 significant digits and 17 decimals.
func ParseDecimalNumber(s string) (Decimal, error) { return parseDecimal(s, 17, true) }

func parseDecimal(s string, maxScale int, signed bool) (Decimal, error) {
	t := strings.Trim(s, " \t\r\n")
	neg := false
	if signed && strings.HasPrefix(t, "-") {
		neg, t = true, t[1:]
	}
	intPart, frac, _ := strings.Cut(t, ".")
	if intPart == "" && frac == "" || !digits(intPart) || !digits(frac) {
		return Decimal{}, fmt.Errorf("%q is not a decimal number", strings.Clone(s))
	}
	if len(frac) > maxScale {
		if strings.TrimRight(frac[maxScale:], "0") != "" {
			return Decimal{}, fmt.Errorf("%q has more than %d decimals", strings.Clone(s), maxScale)
		}
		frac = frac[:maxScale]
	}
	intPart = strings.TrimLeft(intPart, "0")
	// The scale is kept as written, unless trailing zeros must go for the
	// value to fit 18 digits.
	for len(intPart)+len(frac) > 18 && strings.HasSuffix(frac, "0") {
		frac = frac[:len(frac)-1]
	}
	if len(intPart)+len(frac) > 18 {
		return Decimal{}, fmt.Errorf("%q has more than 18 digits", strings.Clone(s))
	}
	var u int64
	for _, part := range [2]string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			u = u*10 + int64(part[i]-'0')
		}
	}
	if neg {
		u = -u
	}
	return Decimal{Units: u, Scale: len(frac)}, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ValidCurrency reports whether s is three capital letters, the form of an
// ISO 4217 code.
func ValidCurrency(s string) bool {
	return len(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z'
}
