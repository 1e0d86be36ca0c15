package refund

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

var testLedger = Ledger{Receivables: "1500", Charges: "7770"}

// lineString formats a line as "account D|C amount currency text refs".
func lineString(l Line) string {
	side, a := "D", l.Debit
	if l.Credit.Minor != 0 {
		side, a = "C", l.Credit
	}
	return fmt.Sprintf("%s %s %s %s %q %s/%s/%s/%s/%s", l.Account, side, a, a.Currency, l.Text, l.RefNbr, l.CustomerID, l.Batch, l.EndToEndID, l.BankRef)
}

// checkLines compares the lines of v, formatted by lineString, with want.
func checkLines(t *testing.T, v Voucher, want []string) {
	t.Helper()
	var got []string
	for _, l := range v.Lines() {
		got = append(got, lineString(l))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func matchOne(t *testing.T, e BankEntry, l Lookup) []Outcome {
	t.Helper()
	outs, err := Match(e, l)
	if err != nil {
		t.Fatal(err)
	}
	return outs
}

func TestLedgerVoucher(t *testing.T) {
	pay := debit(func() BankTx {
		t := byE2E("1001", nok(150250))
		t.Charges = []Charge{{Amount: nok(250), Included: true}}
		return t
	}())
	pay.Charges = []Charge{{Amount: nok(1000)}}
	ret := credit(returned(byE2E("1007", nok(90000))))
	tests := []struct {
		name  string
		entry BankEntry
		index int
		want  []string
	}{
		{"payment with a charge", pay, 0, []string{
			`1500 D 1500.00 NOK "Refund 1001 paid" 1001/C1001/B1/CN-1001-E2E/BANKREF1`,
			`1920 C 1500.00 NOK "Refund 1001 paid" 1001/C1001/B1/CN-1001-E2E/BANKREF1`,
			`7770 D 2.50 NOK "Bank charges, refund 1001" 1001/C1001/B1/CN-1001-E2E/BANKREF1`,
			`1920 C 2.50 NOK "Bank charges, refund 1001" 1001/C1001/B1/CN-1001-E2E/BANKREF1`,
		}},
		{"charges of the entry", pay, 1, []string{
			`7770 D 10.00 NOK "Bank charges, refund 1001" 1001/C1001/B1/CN-1001-E2E/BANKREF1`,
			`1920 C 10.00 NOK "Bank charges, refund 1001" 1001/C1001/B1/CN-1001-E2E/BANKREF1`,
		}},
		{"return", ret, 0, []string{
			`1920 D 900.00 NOK "Refund 1007 returned (AC04)" 1007/C1007/B9/CN-1007-E2E/BANKREF2`,
			`1500 C 900.00 NOK "Refund 1007 returned (AC04)" 1007/C1007/B9/CN-1007-E2E/BANKREF2`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outs := matchOne(t, tt.entry, fixtures())
			o := outs[tt.index]
			v, err := testLedger.Voucher(&o)
			if err != nil {
				t.Fatal(err)
			}
			checkLines(t, v, tt.want)
			if v.ID() != VoucherID(o.Key) || v.Date() != tt.entry.BookingDate {
				t.Errorf("voucher %s of %v; want %s of %v", v.ID(), v.Date(), VoucherID(o.Key), tt.entry.BookingDate)
			}
		})
	}
}

// TestLedgerVoucherRelease: when the ERP releases the refund documents
// (and so posts the payments), refundd posts a payment's charges alone, a
// payment without charges not at all, and a return in full.
func TestLedgerVoucherRelease(t *testing.T) {
	release := Ledger{Receivables: "1500", Charges: "7770", Release: true}
	charged := debit(func() BankTx {
		t := byE2E("1001", nok(150250))
		t.Charges = []Charge{{Amount: nok(250), Included: true}}
		return t
	}())
	plain := debit(byE2E("1001", nok(150000)))
	ret := credit(returned(byE2E("1007", nok(90000))))
	// EUR 100.00 paid from our NOK account: the bank books NOK 1,150.00.
	foreign := debit(func() BankTx {
		t := byE2E("1012", nok(115000))
		t.InstructedAmount = eur(10000)
		return t
	}())
	tests := []struct {
		name  string
		entry BankEntry
		want  []string // nil: no voucher (ErrPostedByERP)
	}{
		{"payment with a charge", charged, []string{
			`7770 D 2.50 NOK "Bank charges, refund 1001" 1001/C1001/B1/CN-1001-E2E/BANKREF1`,
			`1920 C 2.50 NOK "Bank charges, refund 1001" 1001/C1001/B1/CN-1001-E2E/BANKREF1`,
		}},
		{"payment without charges", plain, nil},
		{"payment in another currency", foreign, nil},
		{"return", ret, []string{
			`1920 D 900.00 NOK "Refund 1007 returned (AC04)" 1007/C1007/B9/CN-1007-E2E/BANKREF2`,
			`1500 C 900.00 NOK "Refund 1007 returned (AC04)" 1007/C1007/B9/CN-1007-E2E/BANKREF2`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := matchOne(t, tt.entry, fixtures())[0]
			v, err := release.Voucher(&o)
			if tt.want == nil {
				if !errors.Is(err, ErrPostedByERP) {
					t.Fatalf("voucher %v, error %v; want ErrPostedByERP", v.Lines(), err)
				}
				a, err := Apply([]Outcome{o}, func(Key) (bool, error) { return false, nil }, release)
				if err != nil || len(a.Posted) != 1 || len(a.Vouchers) != 0 {
					t.Fatalf("Apply: %d posted, %d vouchers, %v; want the payment booked without a voucher", len(a.Posted), len(a.Vouchers), err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkLines(t, v, tt.want)
		})
	}
}

// TestLedgerVoucherCurrencyDifference: EUR 100.00 at the document's rate
// was NOK 1,120.00 (BaseAmount); the bank books NOK 1,150.00 (a loss of
// 30.00) or NOK 1,100.00 (a gain of 20.00). In journal mode the
// receivables are debited at the document's rate and the difference goes
// to the currency account; in release mode the ERP credited the bank with
// NOK 1,120.00, and refundd moves the difference between the bank and the
// currency account. Without currency accounts, or without BaseAmount,
// nothing changes.
func TestLedgerVoucherCurrencyDifference(t *testing.T) {
	lookup := func(base Amount) *memLookup {
		l := fixtures()
		for i := range l.refunds {
			if l.refunds[i].RefNbr == "1012" {
				l.refunds[i].BaseAmount = base
			}
		}
		return l
	}
	foreign := func(booked int64) BankEntry {
		tx := byE2E("1012", nok(booked))
		tx.InstructedAmount = eur(10000)
		return debit(tx)
	}
	const ref = ` 1012/C1012/B9/CN-1012-E2E/BANKREF1`
	journal := Ledger{Receivables: "1500", Charges: "7770", CurrencyGain: "8060", CurrencyLoss: "8160"}
	release := journal
	release.Release = true
	tests := []struct {
		name   string
		ledger Ledger
		base   Amount
		booked int64
		want   []string // nil: no voucher (ErrPostedByERP)
	}{
		{"journal, loss", journal, nok(112000), 115000, []string{
			`1500 D 1120.00 NOK "Refund 1012 paid"` + ref,
			`1920 C 1150.00 NOK "Refund 1012 paid"` + ref,
			`8160 D 30.00 NOK "Currency difference, refund 1012 (100.00 EUR)"` + ref,
		}},
		{"journal, gain", journal, nok(112000), 110000, []string{
			`1500 D 1120.00 NOK "Refund 1012 paid"` + ref,
			`1920 C 1100.00 NOK "Refund 1012 paid"` + ref,
			`8060 C 20.00 NOK "Currency difference, refund 1012 (100.00 EUR)"` + ref,
		}},
		{"journal, none", journal, nok(115000), 115000, []string{
			`1500 D 1150.00 NOK "Refund 1012 paid"` + ref,
			`1920 C 1150.00 NOK "Refund 1012 paid"` + ref,
		}},
		{"release, loss", release, nok(112000), 115000, []string{
			`8160 D 30.00 NOK "Currency difference, refund 1012 (100.00 EUR)"` + ref,
			`1920 C 30.00 NOK "Currency difference, refund 1012 (100.00 EUR)"` + ref,
		}},
		{"release, gain", release, nok(112000), 110000, []string{
			`1920 D 20.00 NOK "Currency difference, refund 1012 (100.00 EUR)"` + ref,
			`8060 C 20.00 NOK "Currency difference, refund 1012 (100.00 EUR)"` + ref,
		}},
		{"release, none", release, nok(115000), 115000, nil},
		{"release, no BaseAmount", release, Amount{}, 115000, nil},
		{"journal, no currency accounts", testLedger, nok(112000), 115000, []string{
			`1500 D 1150.00 NOK "Refund 1012 paid"` + ref,
			`1920 C 1150.00 NOK "Refund 1012 paid"` + ref,
		}},
		{"journal, BaseAmount in another currency", journal, Amount{Minor: 1000000, Currency: "SEK"}, 115000, []string{
			`1500 D 1150.00 NOK "Refund 1012 paid"` + ref,
			`1920 C 1150.00 NOK "Refund 1012 paid"` + ref,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := matchOne(t, foreign(tt.booked), lookup(tt.base))[0]
			if !o.Postable() {
				t.Fatalf("exception %s: %s", o.Reason, o.Detail)
			}
			v, err := tt.ledger.Voucher(&o)
			if tt.want == nil {
				if !errors.Is(err, ErrPostedByERP) {
					t.Fatalf("voucher %v, error %v; want ErrPostedByERP", v.Lines(), err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkLines(t, v, tt.want)
		})
	}
}

func TestLedgerVoucherRefuses(t *testing.T) {
	for _, e := range []BankEntry{
		debit(byE2E("1001", nok(1))), // an exception
		func() BankEntry { e := debit(byE2E("1001", nok(150000))); e.Status = EntryPending; return e }(),
	} {
		o := matchOne(t, e, fixtures())[0]
		if _, err := testLedger.Voucher(&o); !errors.Is(err, ErrNotPostable) {
			t.Errorf("Voucher(%s) = %v; want ErrNotPostable", o.Kind, err)
		}
	}
	l := fixtures()
	l.refunds[0].DebtorLedgerAccount = ""
	o := matchOne(t, debit(byE2E("1001", nok(150000))), l)[0]
	if _, err := testLedger.Voucher(&o); err == nil || !strings.Contains(err.Error(), "no ledger account") {
		t.Errorf("Voucher without a bank ledger account = %v; want an error", err)
	}
	if _, err := (Ledger{Charges: "7770"}).Voucher(&matchOne(t, debit(byE2E("1001", nok(150000))), fixtures())[0]); !errors.Is(err, ErrVoucherLine) {
		t.Errorf("Voucher without a receivables account = %v; want ErrVoucherLine", err)
	}
}

func TestVoucherID(t *testing.T) {
	a := VoucherID(Key{"86011117947", "REF", "E1"})
	if a != VoucherID(Key{"86011117947", "REF", "E1"}) {
		t.Error("VoucherID is not deterministic")
	}
	for _, k := range []Key{{"86011117947", "REF", "E2"}, {"86011117947", "REF2", "E1"}, {"86011117948", "REF", "E1"}, {"86011117947", "REFE", "1"}} {
		if VoucherID(k) == a {
			t.Errorf("VoucherID(%v) = VoucherID of another key", k)
		}
	}
	if len(a) != 20 || !strings.HasPrefix(a, "RFD-") || !IsSafeID(a) {
		t.Errorf("VoucherID = %q; want RFD- and 16 safe characters", a)
	}
}

// balance returns debit minus credit per account and currency of vouchers,
// and fails the test if a voucher does not balance per currency.
func balance(t *testing.T, vs []Voucher) map[string]int64 {
	t.Helper()
	net := map[string]int64{}
	for _, v := range vs {
		per := map[Currency]int64{}
		for _, l := range v.Lines() {
			a := l.Debit.Minor - l.Credit.Minor
			per[l.Amount().Currency] += a
			net[l.Account+" "+string(l.Amount().Currency)] += a
		}
		for c, n := range per {
			if n != 0 {
				t.Fatalf("voucher %s does not balance in %s: %d", v.ID(), c, n)
			}
		}
	}
	return net
}

// TestPostingProperties pays and returns refunds of random amounts with
// random charges, included or not, on the transaction or the entry, and
// checks that every voucher balances, that the bank account moves by what
// the bank booked, and that a refund and its return net to zero on every
// account but the charges.
func TestPostingProperties(t *testing.T) {
	for seed := range uint64(3000) {
		r := rand.New(rand.NewPCG(seed, 42))
		cur := []Currency{"NOK", "EUR", "JPY", "KWD"}[r.IntN(4)]
		amt := func(max int64) Amount { return Amount{Minor: 1 + r.Int64N(max), Currency: cur} }
		s := sent("2001", amt(1_000_000_000), "12345678903")
		l := &memLookup{refunds: []Sent{s}}
		charges := func(n int, max int64) []Charge {
			var cs []Charge
			for range r.IntN(n + 1) {
				cs = append(cs, Charge{Amount: amt(max), Included: r.IntN(2) == 0})
			}
			return cs
		}
		var totalCharges int64
		// sum adds the charges of cs that are included in the amount
		// booked (included true) or all of them (included false).
		sum := func(cs []Charge, included bool) int64 {
			var n int64
			for _, c := range cs {
				if c.Included || !included {
					n += c.Amount.Minor
				}
			}
			return n
		}

		// The payment.
		tx := BankTx{EndToEndID: s.EndToEndID, Charges: charges(2, 10_000)}
		e := BankEntry{Account: ourAccount, Direction: Debit, Status: EntryBooked, BookingDate: day1, AcctSvcrRef: fmt.Sprint("P", seed), Charges: charges(2, 10_000)}
		tx.Amount = Amount{Minor: s.Amount.Minor + sum(tx.Charges, true), Currency: cur}
		e.Amount = Amount{Minor: tx.Amount.Minor + sum(e.Charges, true), Currency: cur}
		if r.IntN(2) == 0 {
			tx.Amount = Amount{} // the amount on the entry only
		}
		e.Txs = []BankTx{tx}
		seen := map[Key]bool{}
		isSeen := func(k Key) (bool, error) { return seen[k], nil }
		a, err := Apply(matchOne(t, e, l), isSeen, testLedger)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Exceptions) != 0 || len(a.Matches()) != 1 || a.Matches()[0].Kind != KindPayment {
			t.Fatalf("seed %d: payment gave %d exceptions (%v), %d matches", seed, len(a.Exceptions), a.Exceptions, len(a.Matches()))
		}
		paid := a.Vouchers
		net := balance(t, paid)
		bank := "1920 " + string(cur)
		// The bank account is credited with what the bank booked, plus
		// the charges it booked elsewhere (not included).
		notIncluded := sum(tx.Charges, false) - sum(tx.Charges, true) + sum(e.Charges, false) - sum(e.Charges, true)
		if want := -(e.Amount.Minor + notIncluded); net[bank] != want {
			t.Fatalf("seed %d: bank moved %d; want %d (entry %d)", seed, net[bank], want, e.Amount.Minor)
		}
		totalCharges += sum(tx.Charges, false) + sum(e.Charges, false)
		for _, k := range a.Keys {
			seen[k] = true
		}
		if err := l.setStatus(s.EndToEndID, StatusBooked); err != nil {
			t.Fatal(err)
		}

		// The return, less a fee the bank may deduct.
		rtx := BankTx{EndToEndID: s.EndToEndID, Return: &ReturnInfo{Reason: "AC04"}}
		if s.Amount.Minor > 1 && r.IntN(2) == 0 {
			rtx.Charges = []Charge{{Amount: Amount{Minor: 1 + r.Int64N(s.Amount.Minor-1), Currency: cur}, Included: true}}
		}
		rtx.Amount = Amount{Minor: s.Amount.Minor - sum(rtx.Charges, true), Currency: cur}
		re := BankEntry{Account: ourAccount, Direction: Credit, Status: EntryBooked, BookingDate: day2, AcctSvcrRef: fmt.Sprint("R", seed), Amount: rtx.Amount, Txs: []BankTx{rtx}}
		a, err = Apply(matchOne(t, re, l), isSeen, testLedger)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Exceptions) != 0 || len(a.Vouchers) != 1 || a.Posted[0].Kind != KindReturn {
			t.Fatalf("seed %d: return gave %d exceptions (%v), %d vouchers", seed, len(a.Exceptions), a.Exceptions, len(a.Vouchers))
		}
		rnet := balance(t, a.Vouchers)
		if rnet[bank] != re.Amount.Minor {
			t.Fatalf("seed %d: bank moved %d on the return; want %d", seed, rnet[bank], re.Amount.Minor)
		}
		totalCharges += sum(rtx.Charges, false)

		net = balance(t, append(paid, a.Vouchers...))
		want := map[string]int64{"1500 " + string(cur): 0, bank: -totalCharges, "7770 " + string(cur): totalCharges}
		for k, n := range net {
			if n != want[k] {
				t.Fatalf("seed %d: account %s nets %d after payment and return; want %d", seed, k, n, want[k])
			}
		}
	}
}
