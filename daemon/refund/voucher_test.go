package refund

import (
	"errors"
	"testing"
)

func TestNewVoucherRefuses(t *testing.T) {
	d := func(a Amount) Line { return Line{Account: "1500", Debit: a} }
	c := func(a Amount) Line { return Line{Account: "1920", Credit: a} }
	tests := []struct {
		name  string
		id    string
		date  Date
		lines []Line
		want  error
	}{
		{"no id", "", day1, []Line{d(nok(100)), c(nok(100))}, ErrVoucherLine},
		{"no date", "V1", Date{}, []Line{d(nok(100)), c(nok(100))}, ErrVoucherLine},
		{"one line", "V1", day1, []Line{d(nok(100))}, ErrVoucherLine},
		{"no lines", "V1", day1, nil, ErrVoucherLine},
		{"no account", "V1", day1, []Line{{Debit: nok(100)}, c(nok(100))}, ErrVoucherLine},
		{"negative", "V1", day1, []Line{d(nok(-100)), c(nok(-100))}, ErrVoucherLine},
		{"both sides", "V1", day1, []Line{{Account: "1500", Debit: nok(100), Credit: nok(100)}, c(nok(0))}, ErrVoucherLine},
		{"neither side", "V1", day1, []Line{d(nok(100)), c(nok(100)), {Account: "1500"}}, ErrVoucherLine},
		{"sides in two currencies", "V1", day1, []Line{{Account: "1500", Debit: nok(100), Credit: eur(0)}, c(nok(100))}, ErrVoucherLine},
		{"unknown currency", "V1", day1, []Line{d(Amount{100, "XXX"}), c(Amount{100, "XXX"})}, ErrVoucherLine},
		{"too large", "V1", day1, []Line{d(nok(MaxMinor + 1)), c(nok(MaxMinor + 1))}, ErrVoucherLine},
		{"unbalanced", "V1", day1, []Line{d(nok(100)), c(nok(99))}, ErrUnbalanced},
		{"balanced in sum but not per currency", "V1", day1, []Line{d(nok(100)), c(eur(100))}, ErrUnbalanced},
		{"one currency balances, the other not", "V1", day1, []Line{d(nok(100)), c(nok(100)), d(eur(5)), c(eur(4)), c(eur(1)), d(eur(1))}, ErrUnbalanced},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVoucher(tt.id, tt.date, tt.lines)
			if !errors.Is(err, tt.want) {
				t.Fatalf("NewVoucher = %v; want %v", err, tt.want)
			}
			if v.ID() != "" || v.Lines() != nil {
				t.Errorf("NewVoucher returned a voucher with an error: %+v", v)
			}
		})
	}
}

func TestNewVoucherAccepts(t *testing.T) {
	lines := []Line{
		{Account: "1500", Debit: nok(150000), Text: "Refund 1001 paid", RefNbr: "1001"},
		{Account: "1920", Credit: nok(150000), Debit: Amount{Currency: "NOK"}},
		{Account: "7770", Debit: eur(250)},
		{Account: "1921", Credit: eur(200)},
		{Account: "1921", Credit: eur(50)},
	}
	v, err := NewVoucher("V1", day1, lines)
	if err != nil {
		t.Fatal(err)
	}
	if v.ID() != "V1" || v.Date() != day1 || len(v.Lines()) != 5 {
		t.Errorf("voucher %q %v with %d lines; want V1 %v with 5", v.ID(), v.Date(), len(v.Lines()), day1)
	}
	// The voucher keeps its own copy of the lines: changing the input or
	// the result of Lines cannot unbalance it.
	lines[0].Debit = nok(1)
	got := v.Lines()
	got[1].Credit = nok(1)
	if l := v.Lines(); l[0].Debit != nok(150000) || l[1].Credit != nok(150000) {
		t.Errorf("voucher changed through a slice: %v, %v", l[0].Debit, l[1].Credit)
	}
	if a := got[0].Amount(); a != nok(150000) {
		t.Errorf("Line.Amount = %v; want 1500.00", a)
	}
	if a := got[3].Amount(); a != eur(200) {
		t.Errorf("Line.Amount = %v; want 2.00 EUR", a)
	}
}
