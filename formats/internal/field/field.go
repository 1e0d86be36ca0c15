// Package field reads the values of ISO 20022 elements (amounts, codes,
// dates, counts) with an xmlin.Decoder and reports a bad value as an
// ErrInvalid error at its line and path.
package field

import (
	"bytes"
	"fmt"
	"time"

	"refundd/formats"
	"refundd/formats/internal/xmlin"
)

// Once marks bit in seen and fails when it was already marked: a
// single-valued element given twice is refused, never "last one wins".
func Once(d *xmlin.Decoder, seen *uint64, bit uint64) error {
	if *seen&bit != 0 {
		return d.Fail(xmlin.ErrInvalid, "element appears more than once")
	}
	*seen |= bit
	return nil
}

// Texts reads the text of the current element and appends it.
func Texts(d *xmlin.Decoder, list []string) ([]string, error) {
	s, err := d.Text()
	return append(list, s), err
}

func trim(b []byte) []byte { return bytes.Trim(b, " \t\r\n") }

// Code reads a code of 1 to max capital letters and digits, e.g. a status
// or reason code; surrounding white space is dropped.
func Code(d *xmlin.Decoder, max int) (string, error) {
	b, err := d.TextBytes()
	if err != nil {
		return "", err
	}
	b = trim(b)
	if len(b) == 0 || len(b) > max {
		return "", d.Fail(xmlin.ErrInvalid, "code %q must have 1 to %d characters", b, max)
	}
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "", d.Fail(xmlin.ErrInvalid, "code %q must be capital letters and digits", b)
		}
	}
	return Intern(b), nil
}

// OneOf reads a code that must be one of codes.
func OneOf(d *xmlin.Decoder, codes ...string) (string, error) {
	b, err := d.TextBytes()
	if err != nil {
		return "", err
	}
	b = trim(b)
	for _, c := range codes {
		if string(b) == c {
			return c, nil
		}
	}
	return "", d.Fail(xmlin.ErrInvalid, "%q is not one of %v", b, codes)
}

// Intern returns b as a string, without allocating for the codes that
// repeat in every message.
func Intern(b []byte) string {
	switch string(b) {
	case "BOOK":
		return "BOOK"
	case "PDNG":
		return "PDNG"
	case "INFO":
		return "INFO"
	case "CRDT":
		return "CRDT"
	case "DBIT":
		return "DBIT"
	case "PMNT":
		return "PMNT"
	case "ICDT":
		return "ICDT"
	case "RCDT":
		return "RCDT"
	case "DMCT":
		return "DMCT"
	case "ESCT":
		return "ESCT"
	case "XBCT":
		return "XBCT"
	case "RRTN":
		return "RRTN"
	case "BBAN":
		return "BBAN"
	case "NOK":
		return "NOK"
	case "EUR":
		return "EUR"
	case "SEK":
		return "SEK"
	case "DKK":
		return "DKK"
	case "USD":
		return "USD"
	case "CHF":
		return "CHF"
	case "GBP":
		return "GBP"
	case "ACTC":
		return "ACTC"
	case "ACCP":
		return "ACCP"
	case "ACSP":
		return "ACSP"
	case "ACSC":
		return "ACSC"
	case "RJCT":
		return "RJCT"
	case "PART":
		return "PART"
	case "NARR":
		return "NARR"
	case "SLEV":
		return "SLEV"
	case "SHAR":
		return "SHAR"
	}
	return string(b)
}

// Amount reads an ActiveOrHistoricCurrencyAndAmount: a Ccy attribute of
// three capital letters and an exact decimal value.
func Amount(d *xmlin.Decoder) (formats.Amount, error) {
	ccy, ok := d.Attr("Ccy")
	if !ok {
		return formats.Amount{}, d.Fail(xmlin.ErrInvalid, "amount has no Ccy attribute")
	}
	if !formats.ValidCurrency(string(ccy)) {
		return formats.Amount{}, d.Fail(xmlin.ErrInvalid, "currency %q is not three capital letters", ccy)
	}
	cur := Intern(ccy)
	b, err := d.TextBytes()
	if err != nil {
		return formats.Amount{}, err
	}
	v, err := formats.ParseAmount(string(b))
	if err != nil {
		return formats.Amount{}, d.Fail(xmlin.ErrInvalid, "amount: %v", err)
	}
	return formats.Amount{Decimal: v, Currency: cur}, nil
}

// DecimalNumber reads a DecimalNumber, such as a control sum.
func DecimalNumber(d *xmlin.Decoder) (formats.Decimal, error) {
	b, err := d.TextBytes()
	if err != nil {
		return formats.Decimal{}, err
	}
	v, err := formats.ParseDecimalNumber(string(b))
	if err != nil {
		return formats.Decimal{}, d.Fail(xmlin.ErrInvalid, "%v", err)
	}
	return v, nil
}

// Count reads a Max15NumericText count: 1 to 15 digits.
func Count(d *xmlin.Decoder) (int, error) {
	b, err := d.TextBytes()
	if err != nil {
		return 0, err
	}
	b = trim(b)
	if len(b) == 0 || len(b) > 15 {
		return 0, d.Fail(xmlin.ErrInvalid, "count %q must have 1 to 15 digits", b)
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, d.Fail(xmlin.ErrInvalid, "count %q must be digits", b)
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// Bool reads an xs:boolean: true, false, 1 or 0.
func Bool(d *xmlin.Decoder) (bool, error) {
	b, err := d.TextBytes()
	if err != nil {
		return false, err
	}
	switch string(trim(b)) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, d.Fail(xmlin.ErrInvalid, "%q is not a boolean", b)
}

// Date reads an ISODate.
func Date(d *xmlin.Decoder) (time.Time, error) {
	b, err := d.TextBytes()
	if err != nil {
		return time.Time{}, err
	}
	t, err := formats.ParseDate(string(b))
	if err != nil {
		return time.Time{}, d.Fail(xmlin.ErrInvalid, "%v", err)
	}
	return t, nil
}

// DateTime reads an ISODateTime.
func DateTime(d *xmlin.Decoder) (time.Time, error) {
	b, err := d.TextBytes()
	if err != nil {
		return time.Time{}, err
	}
	t, err := formats.ParseDateTime(string(b))
	if err != nil {
		return time.Time{}, d.Fail(xmlin.ErrInvalid, "%v", err)
	}
	return t, nil
}

// DateChoice reads a DateAndDateTimeChoice, the element tag: exactly one
// of Dt and DtTm.
func DateChoice(d *xmlin.Decoder, tag string) (formats.DateTime, error) {
	var v formats.DateTime
	n := 0
	for {
		name, ok, err := d.Child()
		if err != nil {
			return v, err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "Dt":
			n++
			v.Time, err = Date(d)
		case "DtTm":
			n++
			v.Time, err = DateTime(d)
			v.HasTime = true
		default:
			err = d.Skip()
		}
		if err != nil {
			return v, err
		}
		if n > 1 {
			return v, d.Fail(xmlin.ErrInvalid, "%s has more than one of Dt and DtTm", tag)
		}
	}
	if n == 0 {
		return v, d.Fail(xmlin.ErrInvalid, "%s has neither Dt nor DtTm", tag)
	}
	return v, nil
}

// Choice reads the element tag, a choice of a code (Cd) and a proprietary
// text (Prtry): exactly one of them.
func Choice(d *xmlin.Decoder, tag string, maxCode int) (code, prtry string, err error) {
	n := 0
	for {
		name, ok, err := d.Child()
		if err != nil {
			return "", "", err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "Cd":
			n++
			code, err = Code(d, maxCode)
		case "Prtry":
			n++
			prtry, err = d.Text()
		default:
			err = d.Skip()
		}
		if err != nil {
			return "", "", err
		}
		if n > 1 {
			return "", "", d.Fail(xmlin.ErrInvalid, "%s has more than one of Cd and Prtry", tag)
		}
	}
	if n == 0 {
		return "", "", d.Fail(xmlin.ErrInvalid, "%s has neither Cd nor Prtry", tag)
	}
	return code, prtry, nil
}

// CheckAmount checks that a can be written as an
// ActiveOrHistoricCurrencyAndAmount.
func CheckAmount(a formats.Amount) error {
	if !formats.ValidCurrency(a.Currency) {
		return fmt.Errorf("currency %q is not three capital letters", a.Currency)
	}
	if a.Units < 0 || a.Scale < 0 || a.Scale > 5 || a.Units > 999_999_999_999_999_999 {
		return fmt.Errorf("amount %s is not 0 or more with at most 18 digits and 5 decimals", a.Decimal)
	}
	return nil
}

// CheckDecimalNumber checks that v can be written as a DecimalNumber.
func CheckDecimalNumber(v formats.Decimal) error {
	if v.Scale < 0 || v.Scale > 17 || v.Units > 999_999_999_999_999_999 || v.Units < -999_999_999_999_999_999 {
		return fmt.Errorf("%s is not a decimal number of at most 18 digits and 17 decimals", v)
	}
	return nil
}

// ValidBIC reports whether s has the form of a BIC (BICIdentifier).
func ValidBIC(s string) bool {
	if len(s) != 8 && len(s) != 11 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'A' && c <= 'Z'
		digit := c >= '0' && c <= '9'
		switch {
		case i < 6 && !letter,
			i == 6 && !letter && !(c >= '2' && c <= '9'),
			i == 7 && !(letter && c != 'O' || digit),
			i > 7 && !letter && !digit:
			return false
		}
	}
	return true
}

// ID reads an identifier that must not be empty (a Max35Text has at least
// one character), as written.
func ID(d *xmlin.Decoder) (string, error) {
	s, err := d.Text()
	if err == nil && s == "" {
		err = d.Fail(xmlin.ErrInvalid, "identifier is empty")
	}
	return s, err
}
