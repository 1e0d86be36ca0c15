package refund

import (
	"errors"
	"fmt"
	"strings"
)

// AccountType says how an account number is written.
type AccountType string

// The account types of the ERP's payment methods.
const (
	BBAN AccountType = "BBAN" // Norwegian domestic account number, 11 digits
	IBAN AccountType = "IBAN" // ISO 13616 international bank account number
)

// ParseAccountType accepts "BBAN" or "IBAN" in any case.
func ParseAccountType(s string) (AccountType, error) {
	switch t := AccountType(asciiUpper(strings.TrimSpace(s))); t {
	case BBAN, IBAN:
		return t, nil
	}
	return "", fmt.Errorf("%q is not BBAN or IBAN", s)
}

// Errors for account numbers, for errors.Is.
var (
	ErrCheckDigit = errors.New("check digit does not match")
	ErrLength     = errors.New("wrong length")
)

// ParseBBAN validates a Norwegian domestic account number (11 digits, MOD11
// check digit with weights 5,4,3,2,7,6,5,4,3,2) and returns its canonical
// form: the 11 digits without separators. Dots and spaces are allowed in the
// input ("8601.11.17947", "8601 11 17947").
func ParseBBAN(s string) (string, error) {
	var d [11]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(d) {
				return "", fmt.Errorf("%q: %w: a Norwegian account number has 11 digits", s, ErrLength)
			}
			d[n] = c
			n++
		case c == '.' || c == ' ':
		default:
			return "", fmt.Errorf("%q: a Norwegian account number has digits only (dots and spaces allowed)", s)
		}
	}
	if n != len(d) {
		return "", fmt.Errorf("%q: %w: a Norwegian account number has 11 digits, not %d", s, ErrLength, n)
	}
	check, ok := mod11(d[:10], []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2})
	if !ok || check != int(d[10]-'0') {
		return "", fmt.Errorf("%q: %w (MOD11)", s, ErrCheckDigit)
	}
	if len(s) == len(d) {
		return s, nil // the canonical form already
	}
	return string(d[:]), nil
}

// mod11 computes the MOD11 check digit of digits with the given weights. ok
// is false when the number cannot have a valid check digit (remainder 1).
func mod11(digits []byte, weights []int) (int, bool) {
	sum := 0
	for i, c := range digits {
		sum += int(c-'0') * weights[i]
	}
	switch r := 11 - sum%11; r {
	case 11:
		return 0, true
	case 10:
		return 0, false
	default:
		return r, true
	}
}

// ParseOrgNumber validates a Norwegian organisation number: 9 digits, MOD11
// with weights 3,2,7,6,5,4,3,2. Spaces are allowed in the input.
func ParseOrgNumber(s string) (string, error) {
	d := strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if len(d) != 9 || strings.Trim(d, "0123456789") != "" {
		return "", fmt.Errorf("%q: an organisation number has 9 digits", s)
	}
	check, ok := mod11([]byte(d[:8]), []int{3, 2, 7, 6, 5, 4, 3, 2})
	if !ok || check != int(d[8]-'0') {
		return "", fmt.Errorf("%q: %w (MOD11)", s, ErrCheckDigit)
	}
	return d, nil
}

// ibanLengths is the IBAN length of each country in the SWIFT IBAN registry.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16,
	"BG": 22, "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22,
	"CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20,
	"EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22,
	"GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21,
	"HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30,
	"KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
	"LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
	"MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
	"PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
	"RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24,
	"SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26,
	"UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

// sepa lists the countries of the SEPA scheme (ISO 3166 alpha-2).
var sepa = map[string]bool{
	"AD": true, "AT": true, "BE": true, "BG": true, "CH": true, "CY": true,
	"CZ": true, "DE": true, "DK": true, "EE": true, "ES": true, "FI": true,
	"FR": true, "GB": true, "GI": true, "GR": true, "HR": true, "HU": true,
	"IE": true, "IS": true, "IT": true, "LI": true, "LT": true, "LU": true,
	"LV": true, "MC": true, "MT": true, "NL": true, "NO": true, "PL": true,
	"PT": true, "RO": true, "SE": true, "SI": true, "SK": true, "SM": true,
	"VA": true, "AL": true, "MD": true, "ME": true, "MK": true,
}

// IsSEPA reports whether country takes part in the SEPA scheme.
func IsSEPA(country string) bool { return sepa[country] }

// ParseIBAN validates an IBAN (ISO 13616: country length and ISO 7064 mod
// 97-10 check digits) and returns its electronic form: upper case, no spaces.
// Spaces and lower case are allowed in the input.
func ParseIBAN(s string) (string, error) {
	canonical := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isUpper(c) && !isDigit(c) {
			canonical = false
			break
		}
	}
	iban := s
	if !canonical {
		var b strings.Builder
		b.Grow(len(s))
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c == ' ':
			case c >= 'a' && c <= 'z':
				b.WriteByte(c - 'a' + 'A')
			case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
				b.WriteByte(c)
			default:
				return "", fmt.Errorf("%q: an IBAN has letters and digits only", s)
			}
		}
		iban = b.String()
	}
	if len(iban) < 4 || !isUpper(iban[0]) || !isUpper(iban[1]) || !isDigit(iban[2]) || !isDigit(iban[3]) {
		return "", fmt.Errorf("%q: an IBAN starts with a country code and two check digits", s)
	}
	want, ok := ibanLengths[iban[:2]]
	if !ok {
		return "", fmt.Errorf("%q: %s is not an IBAN country", s, iban[:2])
	}
	if len(iban) != want {
		return "", fmt.Errorf("%q: %w: an IBAN of %s has %d characters, not %d", s, ErrLength, iban[:2], want, len(iban))
	}
	// ISO 7064 mod 97-10 over BBAN + country + check digits, letters as 10..35.
	rem := 0
	for i := 0; i < len(iban); i++ {
		c := iban[(i+4)%len(iban)]
		if isDigit(c) {
			rem = (rem*10 + int(c-'0')) % 97
		} else {
			rem = (rem*100 + int(c-'A') + 10) % 97
		}
	}
	// Check digits are 02..98 (ISO 13616); 00, 01 and 99 can pass mod 97
	// but are never issued.
	if cd := iban[2:4]; rem != 1 || cd == "00" || cd == "01" || cd == "99" {
		return "", fmt.Errorf("%q: %w (mod 97)", s, ErrCheckDigit)
	}
	if iban[:2] == "NO" {
		if _, err := ParseBBAN(iban[4:]); err != nil {
			return "", fmt.Errorf("%q: the Norwegian account number inside the IBAN: %w", s, err)
		}
	}
	return iban, nil
}

// ParseBIC checks the shape of a BIC (ISO 9362): 4 letters of institution,
// 2 letters of country, 2 letters or digits of location, and an optional
// 3-character branch code. Lower case and surrounding spaces are accepted.
func ParseBIC(s string) (string, error) {
	b := strings.TrimSpace(s)
	for i := 0; i < len(b); i++ {
		if b[i] >= 0x80 {
			// strings.ToUpper would turn 'ı' and 'ſ' into 'I' and 'S'.
			return "", fmt.Errorf("%q: not a BIC (AAAA CC LL [BBB])", s)
		}
	}
	b = strings.ToUpper(b)
	if len(b) != 8 && len(b) != 11 {
		return "", fmt.Errorf("%q: a BIC has 8 or 11 characters", s)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if i < 6 && !isUpper(c) || i >= 6 && !isUpper(c) && !isDigit(c) {
			return "", fmt.Errorf("%q: not a BIC (AAAA CC LL [BBB])", s)
		}
	}
	return b, nil
}

// BICCountry returns the country code inside a BIC.
func BICCountry(bic string) string {
	if len(bic) < 6 {
		return ""
	}
	return bic[4:6]
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isLetter(c byte) bool { return isUpper(c) || c >= 'a' && c <= 'z' }

// asciiUpper upper-cases ASCII letters only, so that no other script's
// letter turns into an ASCII one ("ı" into "I").
func asciiUpper(s string) string {
	i := 0
	for i < len(s) && !(s[i] >= 'a' && s[i] <= 'z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
