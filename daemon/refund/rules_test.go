package refund

import (
	"slices"
	"strings"
	"testing"
)

var testDebtor = &DebtorAccount{ID: "main", Type: BBAN, Account: "86011117947", BIC: "DNBANOKK", Currency: "NOK", LedgerAccount: "1920"}

func testRules() *Rules {
	return &Rules{
		Methods: map[string]*PaymentMethod{
			"REFUND":   {ID: "REFUND", BatchPayment: true, AccountTypes: []AccountType{BBAN, IBAN}, Debtor: testDebtor},
			"DOMESTIC": {ID: "DOMESTIC", BatchPayment: true, AccountTypes: []AccountType{BBAN}, Debtor: testDebtor},
			"MANUAL":   {ID: "MANUAL", BatchPayment: false, AccountTypes: []AccountType{BBAN, IBAN}, Debtor: testDebtor},
			"OUR":      {ID: "OUR", BatchPayment: true, AccountTypes: []AccountType{IBAN}, Debtor: testDebtor, ChargeBearer: ChargeDebtor},
			"SEPA":     {ID: "SEPA", BatchPayment: true, AccountTypes: []AccountType{IBAN}, Debtor: testDebtor, ChargeBearer: ChargeFollowSL},
		},
		MessagePrefix: "Refusjon ordre",
		PastDates:     NextBankingDayPolicy,
		Today:         NewDate(2026, 3, 2), // a Monday
	}
}

// mustParse parses f, which must have no problems.
func mustParse(t *testing.T, f Fields) Refund {
	t.Helper()
	r, ps := Parse(f)
	if len(ps) != 0 {
		t.Fatalf("Parse(%+v) problems %v; want none", f, ps)
	}
	return r
}

func TestCheckDomestic(t *testing.T) {
	p, ps := testRules().Check(mustParse(t, validFields()))
	if len(ps) != 0 {
		t.Fatalf("Check problems %v; want none", ps)
	}
	tests := []struct{ name, got, want string }{
		{"Name", p.Name, "Bjørn Ærø Åsen"},
		{"Message", p.Message, "Refusjon ordre SO-4711"},
		{"ExecutionDate", p.ExecutionDate.String(), "2026-03-04"},
		{"ChargeBearer", p.ChargeBearer, ""},
		{"Account", p.Account, "86011117947"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("Transfer.%s = %q; want %q", tt.name, tt.got, tt.want)
			}
		})
	}
	if p.SEPA {
		t.Errorf("Transfer.SEPA = true; want false")
	}
	if p.Debtor != testDebtor {
		t.Errorf("Transfer.Debtor = %+v; want %+v", p.Debtor, testDebtor)
	}
}

// problem is a wanted problem: its field, whether it is a warning, and
// words its message must contain.
type problem struct {
	field   string
	warning bool
	has     []string
}

func TestCheckProblems(t *testing.T) {
	long := strings.Repeat("1", MaxMessage-len("Refusjon ordre ")+1) // 141 characters with the prefix
	exact := strings.Repeat("1", MaxMessage-len("Refusjon ordre "))  // 140
	tests := []struct {
		name  string
		edit  func(*Fields)
		rules func(*Rules)
		want  []problem
	}{
		{"unknown payment method", func(f *Fields) { f.PaymentMethod = "CHEQUE" }, nil,
			[]problem{{FieldPaymentMethod, false, []string{"CHEQUE", "DOMESTIC, MANUAL, OUR, REFUND, SEPA"}}}},
		{"batch payment disabled", func(f *Fields) { f.PaymentMethod = "MANUAL" }, nil,
			[]problem{{FieldPaymentMethod, false, []string{"MANUAL", "batch"}}}},
		{"account type not allowed", func(f *Fields) {
			f.PaymentMethod, f.AccountType, f.Account = "DOMESTIC", "IBAN", "NO9386011117947"
		}, nil, []problem{{FieldAccountType, false, []string{"IBAN", "DOMESTIC"}}}},
		{"BBAN not allowed", func(f *Fields) { f.PaymentMethod = "OUR" }, nil,
			[]problem{{FieldAccountType, false, []string{"BBAN", "OUR", "IBAN"}}}},
		{"message over 140", func(f *Fields) { f.CustomerOrderNbr = long }, nil,
			[]problem{{FieldCustomerOrderNbr, false, []string{"141"}}}},
		{"message exactly 140", func(f *Fields) { f.CustomerOrderNbr = exact }, nil, nil},
		{"payment message over 140 names PaymentRef", func(f *Fields) { f.DocType, f.PaymentRef = "Payment", long }, nil,
			[]problem{{FieldPaymentRef, false, []string{"141"}}}},
		{"bad character in message", func(f *Fields) { f.CustomerOrderNbr = "SO<1>" }, nil,
			[]problem{{FieldCustomerOrderNbr, false, []string{"position 18"}}}},
		{"bad character in name", func(f *Fields) { f.CustomerName = "Kari 😀" }, nil,
			[]problem{{FieldCustomerName, false, []string{"position 6"}}}},
		{"name too long", func(f *Fields) { f.CustomerName = strings.Repeat("K", MaxName+1) }, nil,
			[]problem{{FieldCustomerName, false, []string{"141"}}}},
		{"weekend moved", func(f *Fields) { f.PaymentDate = "2026-03-07" }, nil,
			[]problem{{FieldPaymentDate, true, []string{"2026-03-07", "2026-03-09"}}}},
		{"holiday moved", func(f *Fields) { f.PaymentDate = "2026-04-03" }, nil,
			[]problem{{FieldPaymentDate, true, []string{"Good Friday", "2026-04-07"}}}},
		{"past moved", func(f *Fields) { f.PaymentDate = "2026-02-27" }, nil,
			[]problem{{FieldPaymentDate, true, []string{"past", "2026-03-02"}}}},
		{"default policy moves", func(f *Fields) { f.PaymentDate = "2026-03-07" }, func(rs *Rules) { rs.PastDates = "" },
			[]problem{{FieldPaymentDate, true, []string{"2026-03-09"}}}},
		{"weekend rejected", func(f *Fields) { f.PaymentDate = "2026-03-07" }, func(rs *Rules) { rs.PastDates = RejectDate },
			[]problem{{FieldPaymentDate, false, []string{"2026-03-07", "not a banking day"}}}},
		{"past rejected", func(f *Fields) { f.PaymentDate = "2026-02-27" }, func(rs *Rules) { rs.PastDates = RejectDate },
			[]problem{{FieldPaymentDate, false, []string{"past"}}}},
		{"foreign name and message transliterated", func(f *Fields) {
			f.AccountType, f.Account, f.Country, f.Currency, f.CustomerOrderNbr = "IBAN", "SE4550000000058398257466", "SE", "SEK", "Ordre Nr Ø1"
		}, nil, []problem{
			{FieldCustomerName, true, []string{"Bjorn Aero Aasen"}},
			{FieldCustomerOrderNbr, true, []string{"Refusjon ordre Ordre Nr O1"}},
		}},
		{"typographic characters in a domestic name", func(f *Fields) { f.CustomerName = "Kari Nordmann – “Sol” AS" }, nil,
			[]problem{{FieldCustomerName, true, []string{`typographic characters replaced: "–" → "-", "“" → "'", "”" → "'"`}}}},
		{"typographic characters in a domestic message", func(f *Fields) { f.CustomerOrderNbr = "SO–1–2 ’A’" }, nil,
			[]problem{{FieldCustomerOrderNbr, true, []string{`payment message: typographic characters replaced: "–" → "-" (2×), "’" → "'" (2×)`}}}},
		{"no-break space and soft hyphen in a name", func(f *Fields) { f.CustomerName = "Kari\u00a0Nord\u00admann" }, nil,
			[]problem{{FieldCustomerName, true, []string{`"\u00a0" → " "`, `"\u00ad" removed`}}}},
		{"foreign name transliterated with typographic characters", func(f *Fields) {
			f.AccountType, f.Account, f.Country, f.Currency, f.CustomerName = "IBAN", "SE4550000000058398257466", "SE", "SEK", "Bjørn – Åsen"
		}, nil, []problem{{FieldCustomerName, true, []string{`transliterated for a foreign payment to "Bjorn - Aasen"`, `typographic characters replaced: "–" → "-"`}}}},
		{"emoji still refused next to a dash", func(f *Fields) { f.CustomerName = "Kari – 😀" }, nil,
			[]problem{{FieldCustomerName, false, []string{"position 8"}}}},
		{"message over 140 after the ellipsis", func(f *Fields) { f.CustomerOrderNbr = exact[:len(exact)-2] + "…" }, nil,
			[]problem{{FieldCustomerOrderNbr, false, []string{"141", "typographic"}}}},
		{"message 140 after the ellipsis", func(f *Fields) { f.CustomerOrderNbr = exact[:len(exact)-3] + "…" }, nil,
			[]problem{{FieldCustomerOrderNbr, true, []string{`"…" → "..."`}}}},
		{"'@' refused in a foreign message", func(f *Fields) {
			f.AccountType, f.Account, f.Country, f.Currency, f.CustomerName, f.CustomerOrderNbr = "IBAN", "DE89370400440532013000", "DE", "EUR", "Max Muster", "a@b"
		}, nil, []problem{{FieldCustomerOrderNbr, false, []string{"foreign"}}}},
		{"SLEV for a non-SEPA EUR payment", func(f *Fields) {
			f.PaymentMethod, f.AccountType, f.Account, f.Country, f.Currency, f.BIC, f.CustomerName =
				"SEPA", "IBAN", "BR1800360305000010009795493C1", "BR", "EUR", "BBDEBRSPXXX", "Joao Silva"
		}, nil, []problem{{FieldPaymentMethod, false, []string{"SLEV", "SEPA"}}}},
		{"BaseAmount required with currency differences", func(f *Fields) {
			f.AccountType, f.Account, f.Country, f.Currency, f.CustomerName = "IBAN", "DE89370400440532013000", "DE", "EUR", "Max Muster"
		}, func(rs *Rules) { rs.CurrencyDifferences = true },
			[]problem{{FieldBaseAmount, false, []string{"required", "EUR", "NOK"}}}},
		{"BaseAmount not required without them", func(f *Fields) {
			f.AccountType, f.Account, f.Country, f.Currency, f.CustomerName = "IBAN", "DE89370400440532013000", "DE", "EUR", "Max Muster"
		}, nil, nil},
		{"BaseAmount in the account's minor units", func(f *Fields) {
			f.AccountType, f.Account, f.Country, f.Currency, f.CustomerName, f.BaseAmount = "IBAN", "DE89370400440532013000", "DE", "EUR", "Max Muster", "1 120,001"
		}, func(rs *Rules) { rs.CurrencyDifferences = true },
			[]problem{{FieldBaseAmount, false, []string{"NOK"}}}},
		{"BaseAmount of a refund in the account's currency", func(f *Fields) { f.BaseAmount = "1,00" }, nil,
			[]problem{{FieldBaseAmount, false, []string{"differs from Amount"}}}},
		{"several at once", func(f *Fields) { f.PaymentMethod, f.CustomerOrderNbr, f.PaymentDate = "CHEQUE", long, "2026-03-08" }, nil,
			[]problem{{FieldPaymentMethod, false, nil}, {FieldCustomerOrderNbr, false, nil}, {FieldPaymentDate, true, nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := testRules()
			if tt.rules != nil {
				tt.rules(rs)
			}
			f := validFields()
			tt.edit(&f)
			_, ps := rs.Check(mustParse(t, f))
			if len(ps) != len(tt.want) {
				t.Fatalf("Check problems %v; want %d: %v", ps, len(tt.want), tt.want)
			}
			for _, w := range tt.want {
				i := slices.IndexFunc(ps, func(p Problem) bool { return p.Field == w.field })
				if i < 0 {
					t.Errorf("Check problems %v; want one for %s", ps, w.field)
					continue
				}
				p := ps[i]
				if p.Warning != w.warning {
					t.Errorf("Check problem %v: Warning %v; want %v", p, p.Warning, w.warning)
				}
				for _, h := range w.has {
					if !strings.Contains(p.Msg, h) {
						t.Errorf("Check problem %v; want the message to contain %q", p, h)
					}
				}
			}
		})
	}
}

// TestCheckBaseAmount: BaseAmount is read in the currency of the bank
// account, whatever the refund's currency.
func TestCheckBaseAmount(t *testing.T) {
	rs := testRules()
	rs.CurrencyDifferences = true
	f := validFields()
	f.AccountType, f.Account, f.Country, f.Currency, f.CustomerName, f.Amount, f.BaseAmount =
		"IBAN", "DE89370400440532013000", "DE", "EUR", "Max Muster", "100,00", "1 120,50"
	p, ps := rs.Check(mustParse(t, f))
	if len(ps) != 0 {
		t.Fatalf("Check problems %v; want none", ps)
	}
	if want := (Amount{Minor: 112050, Currency: "NOK"}); p.BaseAmount != want {
		t.Errorf("BaseAmount = %v %s; want %v %s", p.BaseAmount, p.BaseAmount.Currency, want, want.Currency)
	}
	f = validFields()
	f.BaseAmount = f.Amount
	if p, ps = rs.Check(mustParse(t, f)); len(ps) != 0 || p.BaseAmount != p.Amount {
		t.Errorf("BaseAmount of a NOK refund = %v, problems %v; want the amount", p.BaseAmount, ps)
	}
}

func TestCheckExecutionDate(t *testing.T) {
	tests := []struct {
		date, want string
	}{
		{"2026-03-04", "2026-03-04"},
		{"2026-03-07", "2026-03-09"},
		{"2026-04-02", "2026-04-07"},
		{"2026-12-24", "2026-12-28"},
		{"2026-02-01", "2026-03-02"},
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			f := validFields()
			f.PaymentDate = tt.date
			p, _ := testRules().Check(mustParse(t, f))
			if got := p.ExecutionDate.String(); got != tt.want {
				t.Errorf("ExecutionDate for %s = %s; want %s", tt.date, got, tt.want)
			}
		})
	}
}

func TestCheckChargeBearer(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*Fields)
		want     string
		wantSEPA bool
	}{
		{"domestic NOK", func(f *Fields) {}, "", false},
		{"domestic NOK to a Norwegian IBAN", func(f *Fields) { f.AccountType, f.Account = "IBAN", "NO9386011117947" }, "", false},
		{"EUR to a German IBAN", func(f *Fields) {
			f.AccountType, f.Account, f.Country, f.Currency = "IBAN", "DE89370400440532013000", "DE", "EUR"
		}, ChargeFollowSL, true},
		{"EUR to a German IBAN, Norwegian payee", func(f *Fields) {
			f.AccountType, f.Account, f.Currency = "IBAN", "DE89370400440532013000", "EUR"
		}, ChargeFollowSL, true},
		{"EUR to a Norwegian IBAN", func(f *Fields) {
			f.AccountType, f.Account, f.Currency = "IBAN", "NO9386011117947", "EUR"
		}, ChargeFollowSL, true},
		{"EUR to a BBAN", func(f *Fields) { f.Currency = "EUR" }, ChargeShared, false},
		{"GBP to a GB IBAN", func(f *Fields) {
			f.AccountType, f.Account, f.Country, f.Currency = "IBAN", "GB82WEST12345698765432", "GB", "GBP"
		}, ChargeShared, false},
		{"SEK to a Swedish IBAN", func(f *Fields) {
			f.AccountType, f.Account, f.Country, f.Currency = "IBAN", "SE4550000000058398257466", "SE", "SEK"
		}, ChargeShared, false},
		{"EUR to a Brazilian IBAN", func(f *Fields) {
			f.AccountType, f.Account, f.Country, f.Currency, f.BIC = "IBAN", "BR1800360305000010009795493C1", "BR", "EUR", "BBDEBRSPXXX"
		}, ChargeShared, false},
		{"EUR to a German IBAN of a US payee", func(f *Fields) {
			f.AccountType, f.Account, f.Country, f.Currency = "IBAN", "DE89370400440532013000", "US", "EUR"
		}, ChargeShared, false},
		{"NOK to a German IBAN of a Norwegian payee", func(f *Fields) {
			f.AccountType, f.Account = "IBAN", "DE89370400440532013000"
		}, ChargeShared, false},
		{"method with DEBT", func(f *Fields) {
			f.PaymentMethod, f.AccountType, f.Account, f.Country, f.Currency = "OUR", "IBAN", "GB82WEST12345698765432", "GB", "GBP"
		}, ChargeDebtor, false},
		{"method with DEBT, SEPA EUR", func(f *Fields) {
			f.PaymentMethod, f.AccountType, f.Account, f.Country, f.Currency = "OUR", "IBAN", "DE89370400440532013000", "DE", "EUR"
		}, ChargeDebtor, false},
		{"method with SLEV, SEPA EUR", func(f *Fields) {
			f.PaymentMethod, f.AccountType, f.Account, f.Country, f.Currency = "SEPA", "IBAN", "DE89370400440532013000", "DE", "EUR"
		}, ChargeFollowSL, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := validFields()
			f.CustomerName = "Kari Nordmann"
			tt.edit(&f)
			p, ps := testRules().Check(mustParse(t, f))
			for _, pr := range ps {
				if !pr.Warning {
					t.Errorf("Check problem %v; want none", pr)
				}
			}
			if p.ChargeBearer != tt.want || p.SEPA != tt.wantSEPA {
				t.Errorf("ChargeBearer, SEPA = %q, %v; want %q, %v", p.ChargeBearer, p.SEPA, tt.want, tt.wantSEPA)
			}
		})
	}
}

func TestCheckDoesNotPanicOnUnparsedRefund(t *testing.T) {
	// Check is meant for refunds Parse accepted, but a caller's mistake must
	// give problems, not a panic.
	rs := testRules()
	for _, r := range []Refund{
		{},
		{PaymentMethod: "REFUND", AccountType: IBAN, Amount: Amount{100, "EUR"}},
		{PaymentMethod: "REFUND", AccountType: IBAN, Account: "D", Amount: Amount{100, "EUR"}, Country: "DE"},
	} {
		func() {
			defer func() {
				if e := recover(); e != nil {
					t.Errorf("Check(%+v) panicked: %v; want problems", r, e)
				}
			}()
			rs.Check(r)
		}()
	}
}

func TestTransferKey(t *testing.T) {
	f := validFields()
	p, _ := testRules().Check(mustParse(t, f))
	want := GroupKey{ExecutionDate: NewDate(2026, 3, 4), Debtor: "main", Currency: "NOK", ChargeBearer: ""}
	if got := p.Key(); got != want {
		t.Errorf("Key() = %+v; want %+v", got, want)
	}
	// Dates parsed from either layout fall in the same group.
	f.PaymentDate = "04.03.2026"
	q, _ := testRules().Check(mustParse(t, f))
	if q.Key() != p.Key() {
		t.Errorf("Key() for 04.03.2026 = %+v; want %+v", q.Key(), p.Key())
	}
}

func TestGroupKeyCompare(t *testing.T) {
	k := GroupKey{ExecutionDate: NewDate(2026, 3, 4), Debtor: "b", Currency: "NOK", ChargeBearer: "SHAR"}
	tests := []struct {
		name string
		o    GroupKey
		want int
	}{
		{"equal", k, 0},
		{"later date first", GroupKey{NewDate(2026, 3, 5), "a", "AAA", ""}, -1},
		{"earlier date", GroupKey{NewDate(2026, 3, 3), "z", "ZZZ", "ZZZZ"}, 1},
		{"debtor", GroupKey{NewDate(2026, 3, 4), "c", "AAA", ""}, -1},
		{"debtor before", GroupKey{NewDate(2026, 3, 4), "a", "ZZZ", ""}, 1},
		{"currency", GroupKey{NewDate(2026, 3, 4), "b", "SEK", ""}, -1},
		{"currency before", GroupKey{NewDate(2026, 3, 4), "b", "EUR", "ZZZZ"}, 1},
		{"charge bearer", GroupKey{NewDate(2026, 3, 4), "b", "NOK", "SLEV"}, -1},
		{"charge bearer before", GroupKey{NewDate(2026, 3, 4), "b", "NOK", ""}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := k.Compare(tt.o); got != tt.want {
				t.Errorf("%+v.Compare(%+v) = %d; want %d", k, tt.o, got, tt.want)
			}
			if got := tt.o.Compare(k); got != -tt.want {
				t.Errorf("%+v.Compare(%+v) = %d; want %d", tt.o, k, got, -tt.want)
			}
		})
	}
}

// TestCheckKeepsExecutionDates: one Rules checking many refunds gives
// each the execution date and warning a fresh Rules gives it, for more
// payment dates than it keeps, again for dates seen before, and after
// its policy changed.
func TestCheckKeepsExecutionDates(t *testing.T) {
	shared := testRules()
	check := func(rs *Rules, date string) (Date, []Problem) {
		f := validFields()
		f.PaymentDate = date
		tr, ps := rs.Check(mustParse(t, f))
		return tr.ExecutionDate, ps
	}
	var dates []string
	for i := range 2 * maxDates {
		dates = append(dates, NewDate(2026, 2, 20).AddDays(i).Time().Format("2006-01-02"))
	}
	for round, policy := range []DatePolicy{NextBankingDayPolicy, NextBankingDayPolicy, RejectDate} {
		shared.PastDates = policy
		for _, d := range dates {
			fresh := testRules()
			fresh.PastDates = policy
			wantDate, wantPs := check(fresh, d)
			gotDate, gotPs := check(shared, d)
			if gotDate != wantDate || !slices.Equal(gotPs, wantPs) {
				t.Fatalf("round %d, %s, %s: %v %v; want %v %v", round, d, policy, gotDate, gotPs, wantDate, wantPs)
			}
		}
	}
}
