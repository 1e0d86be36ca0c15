package refund

import (
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

// kontonrValid is an independent MOD11 check of a Norwegian account number,
// written the python-stdnum way (weights 6,7,8,9,4,5,6,7,8,9; the check digit
// is the weighted sum mod 11; 10 cannot be written). It is equivalent to the
// 5,4,3,2,7,6,5,4,3,2 / 11−r form that account.go uses.
func kontonrValid(d string) bool {
	w := []int{6, 7, 8, 9, 4, 5, 6, 7, 8, 9}
	sum := 0
	for i := range 10 {
		sum += int(d[i]-'0') * w[i]
	}
	r := sum % 11
	return r != 10 && r == int(d[10]-'0')
}

// ibanCheck computes the IBAN check digits of a country and BBAN with
// math/big, independently of account.go.
func ibanCheck(country, bban string) string {
	var num strings.Builder
	for _, c := range bban + country + "00" {
		switch {
		case c >= '0' && c <= '9':
			num.WriteRune(c)
		default:
			fmt.Fprintf(&num, "%d", c-'A'+10)
		}
	}
	n, _ := new(big.Int).SetString(num.String(), 10)
	r := new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return fmt.Sprintf("%s%02d%s", country, 98-r, bban)
}

func TestIndependentHelpers(t *testing.T) {
	// The helpers must agree with published examples before they judge
	// anything else.
	if !kontonrValid("86011117947") {
		t.Errorf("kontonrValid(86011117947) = false; want true")
	}
	if kontonrValid("86011117948") {
		t.Errorf("kontonrValid(86011117948) = true; want false")
	}
	for _, iban := range []string{"NO9386011117947", "DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606"} {
		if got := ibanCheck(iban[:2], iban[4:]); got != iban {
			t.Errorf("ibanCheck(%s, %s) = %s; want %s", iban[:2], iban[4:], got, iban)
		}
	}
}

func TestParseAccountType(t *testing.T) {
	tests := []struct {
		in      string
		want    AccountType
		wantErr bool
	}{
		{"BBAN", BBAN, false},
		{"bban", BBAN, false},
		{" IBAN ", IBAN, false},
		{"Iban", IBAN, false},
		{"", "", true},
		{"SWIFT", "", true},
		{"BBAN IBAN", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAccountType(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseAccountType(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseBBAN(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error // sentinel; errAny for an error without a sentinel
	}{
		{"86011117947", "86011117947", nil},
		{"8601.11.17947", "86011117947", nil},
		{"8601 11 17947", "86011117947", nil},
		{" 8601 11 17947 ", "86011117947", nil},
		{"12345678903", "12345678903", nil},     // check digit 3, computed independently
		{"1234.56.78903", "12345678903", nil},   // same number, dotted
		{"12345678970", "12345678970", nil},     // sum ≡ 0 mod 11: check digit 0
		{"86011117948", "", ErrCheckDigit},      // last digit off by one
		{"12345678901", "", ErrCheckDigit},      // the usual fake number
		{"86011117974", "", ErrCheckDigit},      // two digits swapped
		{"8601111794", "", ErrLength},           // 10 digits
		{"860111179470", "", ErrLength},         // 12 digits
		{"8601.11.179", "", ErrLength},          // 9 digits
		{"", "", ErrLength},                     // nothing
		{"...", "", ErrLength},                  // separators only
		{"8601-11-17947", "", errAny},           // hyphen
		{"8601.11.1794A", "", errAny},           // letter
		{"NO9386011117947", "", errAny},         // an IBAN
		{"8601\u00a011\u00a017947", "", errAny}, // no-break spaces are not allowed
		{"８601.11.17947", "", errAny},           // fullwidth digit
	}
	// 1234567892x: the weighted sum leaves remainder 1, so the check would be
	// 10 and no last digit can make the number valid.
	for c := '0'; c <= '9'; c++ {
		tests = append(tests, struct {
			in   string
			want string
			err  error
		}{"1234567892" + string(c), "", ErrCheckDigit})
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBBAN(tt.in)
			if got != tt.want {
				t.Errorf("ParseBBAN(%q) = %q; want %q", tt.in, got, tt.want)
			}
			checkErr(t, fmt.Sprintf("ParseBBAN(%q)", tt.in), err, tt.err)
		})
	}
}

// errAny marks a test case that wants an error that is neither ErrLength
// nor ErrCheckDigit.
var errAny = errors.New("any error")

func checkErr(t *testing.T, call string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s error %v; want nil", call, err)
	case want == nil:
	case err == nil:
		t.Errorf("%s error nil; want %v", call, want)
	case want == errAny:
		if errors.Is(err, ErrLength) || errors.Is(err, ErrCheckDigit) {
			t.Errorf("%s error %v; want neither ErrLength nor ErrCheckDigit", call, err)
		}
	case !errors.Is(err, want):
		t.Errorf("%s error %v; want %v", call, err, want)
	}
}

func TestParseBBANAgreesWithIndependentMOD11(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	valid := 0
	for range 20000 {
		var b [11]byte
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		s := string(b[:])
		want := kontonrValid(s)
		got, err := ParseBBAN(s)
		if (err == nil) != want {
			t.Fatalf("ParseBBAN(%q) error %v; want valid %v", s, err, want)
		}
		if err == nil {
			valid++
			if got != s {
				t.Fatalf("ParseBBAN(%q) = %q; want %q", s, got, s)
			}
		} else if !errors.Is(err, ErrCheckDigit) {
			t.Fatalf("ParseBBAN(%q) error %v; want %v", s, err, ErrCheckDigit)
		}
	}
	// About 1 in 11 random numbers is valid; make sure both sides were tested.
	if valid < 1000 || valid > 3000 {
		t.Errorf("valid random BBANs = %d of 20000; want about 1818", valid)
	}
}

func TestParseOrgNumber(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"987654325", "987654325", nil}, // check digit 5, computed independently
		{"923609016", "923609016", nil}, // Equinor ASA
		{"974760673", "974760673", nil}, // Brønnøysundregistrene
		{"923 609 016", "923609016", nil},
		{" 923609016 ", "923609016", nil},
		{"923609017", "", ErrCheckDigit},
		{"987654321", "", ErrCheckDigit},
		{"123456789", "", ErrCheckDigit},
		{"100000130", "", ErrCheckDigit}, // 10000013x: check would be 10
		{"100000139", "", ErrCheckDigit},
		{"92360901", "", errAny},
		{"9236090160", "", errAny},
		{"92360901A", "", errAny},
		{"923.609.016", "", errAny},
		{"", "", errAny},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseOrgNumber(tt.in)
			if got != tt.want {
				t.Errorf("ParseOrgNumber(%q) = %q; want %q", tt.in, got, tt.want)
			}
			checkErr(t, fmt.Sprintf("ParseOrgNumber(%q)", tt.in), err, tt.err)
		})
	}
}

func TestParseIBAN(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"NO9386011117947", "NO9386011117947", nil},
		{"DE89370400440532013000", "DE89370400440532013000", nil},
		{"GB82WEST12345698765432", "GB82WEST12345698765432", nil},
		{"FR1420041010050500013M02606", "FR1420041010050500013M02606", nil},
		{"SE4550000000058398257466", "SE4550000000058398257466", nil},
		{"DK5000400440116243", "DK5000400440116243", nil},
		{"NL91ABNA0417164300", "NL91ABNA0417164300", nil},
		{"CH9300762011623852957", "CH9300762011623852957", nil},
		{"BE68539007547034", "BE68539007547034", nil},
		{"BR1800360305000010009795493C1", "BR1800360305000010009795493C1", nil},
		{"KW81CBKU0000000000001234560101", "KW81CBKU0000000000001234560101", nil},
		{"no93 8601 1117 947", "NO9386011117947", nil},
		{"gb82 west 1234 5698 7654 32", "GB82WEST12345698765432", nil},
		{" DE89 3704 0044 0532 0130 00 ", "DE89370400440532013000", nil},
		{"Fr14 2004 1010 0505 0001 3m02 606", "FR1420041010050500013M02606", nil},

		{"NO938601111794", "", ErrLength},
		{"NO93860111179470", "", ErrLength},
		{"DE8937040044053201300", "", ErrLength},
		{"GB82WEST123456987654321", "", ErrLength},

		{"NO9486011117947", "", ErrCheckDigit},
		{"DE88370400440532013000", "", ErrCheckDigit},
		{"GB82WEST12345698765433", "", ErrCheckDigit},
		{"FR1420041010050500013M02607", "", ErrCheckDigit},
		{"DE89370400440532031000", "", ErrCheckDigit}, // two digits swapped

		// Check digits 00, 01 and 99 pass mod 97 when 97, 98 or 02 do, but
		// ISO 13616 check digits are 02..98.
		{"DE02244757710465634148", "DE02244757710465634148", nil},
		{"DE99244757710465634148", "", ErrCheckDigit},
		{"DE97939072836715422522", "DE97939072836715422522", nil},
		{"DE00939072836715422522", "", ErrCheckDigit},
		{"DE98706146338969400272", "DE98706146338969400272", nil},
		{"DE01706146338969400272", "", ErrCheckDigit},

		{"XX89370400440532013000", "", errAny}, // unknown country
		{"US781234567890", "", errAny},         // mod 97 fine, but the US has no IBAN
		{"", "", errAny},
		{"NO", "", errAny},
		{"N093", "", errAny},
		{"9386011117947NO", "", errAny},
		{"NOAB86011117947", "", errAny},
		{"NO93-8601-1117-947", "", errAny},
		{"NO93.8601.11.17947", "", errAny},
		{"NO93\u00a086011117947", "", errAny},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseIBAN(tt.in)
			if got != tt.want {
				t.Errorf("ParseIBAN(%q) = %q; want %q", tt.in, got, tt.want)
			}
			checkErr(t, fmt.Sprintf("ParseIBAN(%q)", tt.in), err, tt.err)
		})
	}
}

func TestParseIBANNorwegianBBANMustPassMOD11(t *testing.T) {
	tests := []struct {
		bban string
		why  string
	}{
		{"86011117948", "wrong MOD11 check digit"},
		{"12345678901", "wrong MOD11 check digit"},
		{"12345678920", "MOD11 check would be 10"},
	}
	for _, tt := range tests {
		iban := ibanCheck("NO", tt.bban)
		t.Run(iban, func(t *testing.T) {
			if kontonrValid(tt.bban) {
				t.Fatalf("test BBAN %s is valid; want an invalid one", tt.bban)
			}
			got, err := ParseIBAN(iban)
			if err == nil {
				t.Fatalf("ParseIBAN(%q) = %q; want error (%s)", iban, got, tt.why)
			}
			if !errors.Is(err, ErrCheckDigit) {
				t.Errorf("ParseIBAN(%q) error %v; want %v", iban, err, ErrCheckDigit)
			}
			if !strings.Contains(err.Error(), "Norwegian") {
				t.Errorf("ParseIBAN(%q) error %q; want it to mention the Norwegian account number", iban, err)
			}
		})
	}
	// The IBANs above do pass mod 97: computed here, not copied.
	for _, want := range []string{"NO6686011117948", "NO9712345678920"} {
		if got := ibanCheck("NO", want[4:]); got != want {
			t.Errorf("ibanCheck(NO, %s) = %s; want %s", want[4:], got, want)
		}
	}
}

func TestParseIBANRandom(t *testing.T) {
	// Valid Norwegian BBANs become valid IBANs, and changing any one
	// character of an IBAN breaks it.
	rng := rand.New(rand.NewPCG(3, 4))
	n := 0
	for n < 300 {
		var b [11]byte
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		bban := string(b[:])
		if !kontonrValid(bban) {
			continue
		}
		n++
		iban := ibanCheck("NO", bban)
		if got, err := ParseIBAN(iban); err != nil || got != iban {
			t.Fatalf("ParseIBAN(%q) = %q, %v; want %q, nil", iban, got, err, iban)
		}
		i := 2 + rng.IntN(len(iban)-2)
		d := byte('0' + (int(iban[i]-'0')+1+rng.IntN(9))%10)
		bad := iban[:i] + string(d) + iban[i+1:]
		if got, err := ParseIBAN(bad); err == nil {
			t.Fatalf("ParseIBAN(%q) = %q; want error (changed from %s)", bad, got, iban)
		}
	}
	// Foreign IBANs built with the independent check digits.
	for _, c := range []struct{ country, bban string }{
		{"DE", "370400440532013001"},
		{"SE", "50000000058398257467"},
		{"FI", "12345600000786"},
		{"GB", "NWBK60161331926819"},
	} {
		iban := ibanCheck(c.country, c.bban)
		if got, err := ParseIBAN(iban); err != nil || got != iban {
			t.Errorf("ParseIBAN(%q) = %q, %v; want %q, nil", iban, got, err, iban)
		}
	}
}

func TestParseBIC(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"DNBANOKK", "DNBANOKK", false},
		{"NDEANOKKXXX", "NDEANOKKXXX", false},
		{"dnbanokk", "DNBANOKK", false},
		{" ndeanokkxxx ", "NDEANOKKXXX", false},
		{"SPRONO22", "SPRONO22", false},
		{"DABANO22", "DABANO22", false},
		{"DEUTDEFF500", "DEUTDEFF500", false},
		{"", "", true},
		{"DNBANOK", "", true},       // 7
		{"DNBANOKKX", "", true},     // 9
		{"DNBANOKKXX", "", true},    // 10
		{"DNBANOKKXXXX", "", true},  // 12
		{"DNB1NOKK", "", true},      // digit in institution
		{"DNBAN0KK", "", true},      // digit in country
		{"DNBA NOKK", "", true},     // inner space
		{"DNBANOK-", "", true},      // punctuation in location
		{"DNBANOKKXX_", "", true},   // punctuation in branch
		{"DNBANOKKÆØÅ", "", true},   // non-ASCII branch
		{"\u017fPRONO22", "", true}, // 'ſ' upper-cases to 'S'
		{"DNBANOKK\u0131XX", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBIC(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseBIC(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestBICCountry(t *testing.T) {
	tests := []struct{ in, want string }{
		{"DNBANOKK", "NO"},
		{"DEUTDEFF500", "DE"},
		{"DNBAN", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := BICCountry(tt.in); got != tt.want {
				t.Errorf("BICCountry(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsSEPA(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"NO", true}, {"SE", true}, {"DK", true}, {"FI", true}, {"IS", true},
		{"DE", true}, {"FR", true}, {"GB", true}, {"CH", true}, {"LI", true},
		{"US", false}, {"BR", false}, {"KW", false}, {"TR", false}, {"", false},
		{"no", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := IsSEPA(tt.in); got != tt.want {
				t.Errorf("IsSEPA(%q) = %v; want %v", tt.in, got, tt.want)
			}
		})
	}
	// Every SEPA country has an IBAN.
	for c := range sepa {
		if _, ok := ibanLengths[c]; !ok {
			t.Errorf("SEPA country %s has no IBAN length; want one", c)
		}
	}
}

func FuzzParseBBAN(f *testing.F) {
	for _, s := range []string{"86011117947", "8601.11.17947", "8601 11 17947", "12345678903",
		"86011117948", "8601111794", "12345678920", "", "...", "8601-11-17947"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseBBAN(s)
		if err != nil {
			if got != "" {
				t.Fatalf("ParseBBAN(%q) = %q with error %v; want \"\"", s, got, err)
			}
			return
		}
		if len(got) != 11 || strings.Trim(got, "0123456789") != "" {
			t.Fatalf("ParseBBAN(%q) = %q; want 11 digits", s, got)
		}
		if !kontonrValid(got) {
			t.Fatalf("ParseBBAN(%q) = %q, which fails the independent MOD11 check", s, got)
		}
		if strings.Trim(s, "0123456789. ") != "" {
			t.Fatalf("ParseBBAN accepted %q with characters other than digits, dots and spaces", s)
		}
		again, err := ParseBBAN(got)
		if err != nil || again != got {
			t.Fatalf("ParseBBAN(%q) = %q, %v; want %q, nil (canonical)", got, again, err, got)
		}
	})
}

func FuzzParseIBAN(f *testing.F) {
	for _, s := range []string{"NO9386011117947", "DE89370400440532013000", "GB82WEST12345698765432",
		"FR1420041010050500013M02606", "no93 8601 1117 947", "NO6686011117948", "XX00", "", "NO"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseIBAN(s)
		if err != nil {
			if got != "" {
				t.Fatalf("ParseIBAN(%q) = %q with error %v; want \"\"", s, got, err)
			}
			return
		}
		if got != strings.ToUpper(got) || strings.ContainsAny(got, " ") {
			t.Fatalf("ParseIBAN(%q) = %q; want upper case without spaces", s, got)
		}
		if want, ok := ibanLengths[got[:2]]; !ok || len(got) != want {
			t.Fatalf("ParseIBAN(%q) = %q of length %d; want the length of %s", s, got, len(got), got[:2])
		}
		if ibanCheck(got[:2], got[4:]) != got {
			t.Fatalf("ParseIBAN(%q) = %q; independent check digits are %s", s, got, ibanCheck(got[:2], got[4:])[2:4])
		}
		if got[:2] == "NO" && !kontonrValid(got[4:]) {
			t.Fatalf("ParseIBAN(%q) = %q with an invalid Norwegian BBAN", s, got)
		}
		again, err := ParseIBAN(got)
		if err != nil || again != got {
			t.Fatalf("ParseIBAN(%q) = %q, %v; want %q, nil (canonical)", got, again, err, got)
		}
	})
}
