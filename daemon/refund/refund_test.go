package refund

import (
	"slices"
	"strings"
	"testing"
)

// validFields is a domestic credit note that Parse accepts without problems.
func validFields() Fields {
	return Fields{
		Batch:            "B2026001",
		DocType:          "CreditNote",
		RefNbr:           "CN000123",
		CustomerID:       "C1001",
		CustomerName:     "Bjørn Ærø Åsen",
		PaymentMethod:    "REFUND",
		AccountType:      "BBAN",
		Account:          "8601.11.17947",
		Amount:           "1 234,50",
		PaymentDate:      "2026-03-04",
		CustomerOrderNbr: "SO-4711",
	}
}

func fieldsOf(ps []Problem) []string {
	var fs []string
	for _, p := range ps {
		fs = append(fs, p.Field)
	}
	slices.Sort(fs)
	return fs
}

func TestParseValid(t *testing.T) {
	r, ps := Parse(validFields())
	if len(ps) != 0 {
		t.Fatalf("Parse(valid) problems %v; want none", ps)
	}
	want := Refund{
		Batch:            "B2026001",
		DocType:          CreditNote,
		RefNbr:           "CN000123",
		CustomerID:       "C1001",
		CustomerName:     "Bjørn Ærø Åsen",
		PaymentMethod:    "REFUND",
		AccountType:      BBAN,
		Account:          "86011117947",
		Country:          "NO",
		Amount:           Amount{Minor: 123450, Currency: "NOK"},
		PaymentDate:      NewDate(2026, 3, 4),
		CustomerOrderNbr: "SO-4711",
	}
	if r != want {
		t.Errorf("Parse(valid) = %+v; want %+v", r, want)
	}
}

func TestParseCanonicalises(t *testing.T) {
	f := validFields()
	f.Batch, f.RefNbr, f.CustomerName = " B2026001 ", "\tCN000123 ", " Kari Nordmann "
	f.DocType, f.AccountType, f.Account = " kreditnota ", "iban", "no93 8601 1117 947"
	f.Country, f.Currency, f.Amount = "no", "nok", "1234.5"
	f.BIC, f.PaymentDate = "dnbanokk", "04.03.2026"
	r, ps := Parse(f)
	if len(ps) != 0 {
		t.Fatalf("Parse problems %v; want none", ps)
	}
	tests := []struct{ name, got, want string }{
		{"Batch", r.Batch, "B2026001"},
		{"RefNbr", r.RefNbr, "CN000123"},
		{"CustomerName", r.CustomerName, "Kari Nordmann"},
		{"DocType", string(r.DocType), "CreditNote"},
		{"AccountType", string(r.AccountType), "IBAN"},
		{"Account", r.Account, "NO9386011117947"},
		{"Country", r.Country, "NO"},
		{"Amount", r.Amount.String() + " " + string(r.Amount.Currency), "1234.50 NOK"},
		{"BIC", r.BIC, "DNBANOKK"},
		{"PaymentDate", r.PaymentDate.String(), "2026-03-04"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("Refund.%s = %q; want %q", tt.name, tt.got, tt.want)
			}
		})
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Fields)
		want    []string // fields of the problems, sorted
		msgHas  string   // if set, the message of the first problem must contain it
		wantAny bool     // at least the fields in want (more are allowed)
	}{
		{"three at once", func(f *Fields) { f.RefNbr, f.Amount, f.Account = "", "12,345", "86011117948" },
			[]string{FieldAccount, FieldAmount, FieldRefNbr}, "", false},
		{"all empty", func(f *Fields) { *f = Fields{} },
			[]string{FieldAccount, FieldAccountType, FieldAmount, FieldBatch, FieldCustomerID, FieldCustomerName,
				FieldDocType, FieldPaymentDate, FieldPaymentMethod, FieldRefNbr}, "required", false},
		{"blank is empty", func(f *Fields) { f.CustomerName = "   " }, []string{FieldCustomerName}, "required", false},
		{"bad DocType", func(f *Fields) { f.DocType = "Refund" }, []string{FieldDocType}, "Refund", false},
		{"credit note without order", func(f *Fields) { f.CustomerOrderNbr = " " },
			[]string{FieldCustomerOrderNbr}, "credit note", false},
		{"credit note with only PaymentRef", func(f *Fields) { f.CustomerOrderNbr, f.PaymentRef = "", "P1" },
			[]string{FieldCustomerOrderNbr}, "", false},
		{"prepayment without PaymentRef", func(f *Fields) { f.DocType = "Prepayment" },
			[]string{FieldPaymentRef}, "prepayment", false},
		{"forskuddsbetaling without PaymentRef", func(f *Fields) { f.DocType = "Forskuddsbetaling" },
			[]string{FieldPaymentRef}, "", false},
		{"payment without PaymentRef", func(f *Fields) { f.DocType = "Betaling" },
			[]string{FieldPaymentRef}, "payment", false},
		{"bad Country", func(f *Fields) { f.Country = "Norway" }, []string{FieldCountry}, "Norway", true},
		{"Country with digit", func(f *Fields) { f.Country = "N0" }, []string{FieldCountry}, "", true},
		{"bad Currency", func(f *Fields) { f.Currency = "XYZ" }, []string{FieldCurrency}, "XYZ", false},
		{"bad Currency and empty Amount", func(f *Fields) { f.Currency, f.Amount = "XYZ", "" },
			[]string{FieldAmount, FieldCurrency}, "", false},
		{"zero Amount", func(f *Fields) { f.Amount = "0,00" }, []string{FieldAmount}, "greater than zero", false},
		{"JPY decimals", func(f *Fields) { f.Currency, f.Amount = "JPY", "100,5" }, []string{FieldAmount}, "decimals", false},
		{"bad PaymentDate", func(f *Fields) { f.PaymentDate = "31.02.2026" }, []string{FieldPaymentDate}, "31.02.2026", false},
		{"bad BIC", func(f *Fields) { f.BIC = "DNB" }, []string{FieldBIC}, "", false},
		{"bad AccountType", func(f *Fields) { f.AccountType = "KONTO" }, []string{FieldAccountType}, "KONTO", true},
		{"bad check digit", func(f *Fields) { f.Account = "8601.11.17948" }, []string{FieldAccount}, "check digit", false},
		{"IBAN given as BBAN", func(f *Fields) { f.Account = "NO9386011117947" }, []string{FieldAccount}, "IBAN", false},
		{"BBAN given as IBAN", func(f *Fields) { f.AccountType = "IBAN" }, []string{FieldAccount}, "BBAN", false},
		{"bad IBAN", func(f *Fields) { f.AccountType, f.Account = "IBAN", "NO9486011117947" },
			[]string{FieldAccount}, "mod 97", false},
		{"BBAN with Country SE", func(f *Fields) { f.Country = "SE" }, []string{FieldAccountType}, "SE", false},
		{"non-SEPA IBAN without BIC", func(f *Fields) {
			f.AccountType, f.Account, f.Country, f.Currency = "IBAN", "BR1800360305000010009795493C1", "BR", "USD"
		}, []string{FieldBIC}, "BR", false},
		{"non-SEPA IBAN with a bad BIC", func(f *Fields) {
			f.AccountType, f.Account, f.Country, f.Currency, f.BIC = "IBAN", "BR1800360305000010009795493C1", "BR", "USD", "BAD"
		}, []string{FieldBIC}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := validFields()
			tt.edit(&f)
			_, ps := Parse(f)
			got := fieldsOf(ps)
			switch {
			case tt.wantAny:
				for _, w := range tt.want {
					if !slices.Contains(got, w) {
						t.Errorf("Parse problems %v; want one for %s", ps, w)
					}
				}
			case !slices.Equal(got, tt.want):
				t.Errorf("Parse problem fields %v (%v); want %v", got, ps, tt.want)
			}
			for _, p := range ps {
				if p.Warning {
					t.Errorf("Parse problem %v is a warning; want an error", p)
				}
			}
			if tt.msgHas != "" {
				found := false
				for _, p := range ps {
					if p.Field == tt.want[0] && strings.Contains(p.Msg, tt.msgHas) {
						found = true
					}
				}
				if !found {
					t.Errorf("Parse problems %v; want %s to mention %q", ps, tt.want[0], tt.msgHas)
				}
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Fields)
	}{
		{"SEPA IBAN without BIC", func(f *Fields) {
			f.AccountType, f.Account, f.Country, f.Currency = "IBAN", "DE89370400440532013000", "DE", "EUR"
		}},
		{"non-SEPA IBAN with BIC", func(f *Fields) {
			f.AccountType, f.Account, f.Country, f.Currency, f.BIC = "IBAN", "BR1800360305000010009795493C1", "BR", "USD", "BBDEBRSPXXX"
		}},
		{"prepayment with PaymentRef", func(f *Fields) { f.DocType, f.CustomerOrderNbr, f.PaymentRef = "Prepayment", "", "AR-2026-7" }},
		{"payment with PaymentRef", func(f *Fields) { f.DocType, f.PaymentRef = "Payment", "AR-2026-8" }},
		{"Country NO explicitly", func(f *Fields) { f.Country = "NO" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := validFields()
			tt.edit(&f)
			if _, ps := Parse(f); len(ps) != 0 {
				t.Errorf("Parse problems %v; want none", ps)
			}
		})
	}
}

func TestParseDocType(t *testing.T) {
	tests := []struct {
		in      string
		want    DocType
		wantErr bool
	}{
		{"CreditNote", CreditNote, false},
		{"Credit Note", CreditNote, false},
		{"creditnote", CreditNote, false},
		{"Kreditnota", CreditNote, false},
		{"KREDITNOTA", CreditNote, false},
		{"Prepayment", Prepayment, false},
		{"Forskuddsbetaling", Prepayment, false},
		{"forskuddsbetaling ", Prepayment, false},
		{"Payment", Payment, false},
		{"Betaling", Payment, false},
		{" betaling", Payment, false},
		{"", "", true},
		{"Refund", "", true},
		{"Credit", "", true},
		{"Invoice", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDocType(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseDocType(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestDocTypeCode(t *testing.T) {
	tests := []struct {
		t    DocType
		want string
	}{
		{CreditNote, "CN"}, {Prepayment, "PP"}, {Payment, "PY"},
	}
	for _, tt := range tests {
		t.Run(string(tt.t), func(t *testing.T) {
			if got := tt.t.code(); got != tt.want {
				t.Errorf("%s.code() = %q; want %q", tt.t, got, tt.want)
			}
		})
	}
}

func TestDomestic(t *testing.T) {
	tests := []struct {
		name    string
		country string
		cur     Currency
		typ     AccountType
		account string
		want    bool
	}{
		{"NOK to a BBAN", "NO", "NOK", BBAN, "86011117947", true},
		{"NOK to a Norwegian IBAN", "NO", "NOK", IBAN, "NO9386011117947", true},
		{"EUR to a BBAN", "NO", "EUR", BBAN, "86011117947", false},
		{"NOK to a Swedish payee", "SE", "NOK", IBAN, "SE4550000000058398257466", false},
		{"NOK to a German IBAN of a Norwegian payee", "NO", "NOK", IBAN, "DE89370400440532013000", false},
		{"EUR to a German IBAN", "DE", "EUR", IBAN, "DE89370400440532013000", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Refund{Country: tt.country, Amount: Amount{100, tt.cur}, AccountType: tt.typ, Account: tt.account}
			if got := r.Domestic(); got != tt.want {
				t.Errorf("Domestic() = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestReference(t *testing.T) {
	tests := []struct {
		typ        DocType
		field, ref string
	}{
		{CreditNote, FieldCustomerOrderNbr, "SO-1"},
		{Prepayment, FieldPaymentRef, "PR-1"},
		{Payment, FieldPaymentRef, "PR-1"},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ), func(t *testing.T) {
			r := Refund{DocType: tt.typ, CustomerOrderNbr: "SO-1", PaymentRef: "PR-1"}
			field, ref := r.Reference()
			if field != tt.field || ref != tt.ref {
				t.Errorf("Reference() = %q, %q; want %q, %q", field, ref, tt.field, tt.ref)
			}
		})
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{Field: FieldAmount, Msg: "too large"}, "Amount: too large"},
		{Problem{Field: FieldPaymentDate, Msg: "moved", Warning: true}, "PaymentDate: warning: moved"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("%#v.String() = %q; want %q", tt.p, got, tt.want)
			}
		})
	}
}

func TestParseTokens(t *testing.T) {
	for _, tc := range []struct {
		name  string
		set   func(*Fields)
		field string
	}{
		{"newline in RefNbr", func(f *Fields) { f.RefNbr = "R1\nR2" }, FieldRefNbr},
		{"RefNbr too long", func(f *Fields) { f.RefNbr = strings.Repeat("9", MaxToken+1) }, FieldRefNbr},
		{"control char in Batch", func(f *Fields) { f.Batch = "B\x001" }, FieldBatch},
		{"invalid UTF-8 in CustomerID", func(f *Fields) { f.CustomerID = "C\xff" }, FieldCustomerID},
		{"tab in PaymentRef", func(f *Fields) { f.DocType = "Payment"; f.PaymentRef = "A\tB" }, FieldPaymentRef},
		{"dotless i in AccountType", func(f *Fields) { f.AccountType = "ıban" }, FieldAccountType},
		{"long s in Currency", func(f *Fields) { f.Currency = "ſek" }, FieldCurrency},
		{"dotless i in Country", func(f *Fields) { f.Country = "ıt" }, FieldCountry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := validFields()
			tc.set(&f)
			_, ps := Parse(f)
			if !slices.Contains(fieldsOf(ps), tc.field) {
				t.Errorf("problems %v; want one for %s", ps, tc.field)
			}
		})
	}
}

func TestParseCountryFromIBAN(t *testing.T) {
	f := validFields()
	f.AccountType, f.Account, f.Country, f.Currency = "IBAN", "DE89370400440532013000", "", "EUR"
	r, ps := Parse(f)
	if len(ps) != 0 || r.Country != "DE" {
		t.Errorf("Country = %q, problems %v; want DE and none", r.Country, ps)
	}
	f.Country = "no"
	if r, _ := Parse(f); r.Country != "NO" {
		t.Errorf("explicit Country = %q; want NO", r.Country)
	}
}
