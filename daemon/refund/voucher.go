package refund

import (
	"errors"
	"fmt"
	"slices"
)

// Errors of NewVoucher, for errors.Is.
var (
	// ErrUnbalanced: the debits and credits of some currency differ.
	ErrUnbalanced = errors.New("voucher does not balance")
	// ErrVoucherLine: a line, or the voucher's id or date, is invalid.
	ErrVoucherLine = errors.New("invalid voucher")
)

// Line is one general-ledger line of a voucher: an amount on the debit or
// the credit side of an account, with the references that let the ERP (and
// a person) trace it back to the refund and the bank's booking.
type Line struct {
	Account string
	// Exactly one of Debit and Credit is greater than zero; the other is
	// zero (its Currency empty or the same).
	Debit, Credit Amount
	Text          string
	RefNbr        string
	CustomerID    string
	Batch         string
	EndToEndID    string
	BankRef       string
}

// Amount returns the amount of the line, whichever side it is on.
func (l *Line) Amount() Amount {
	if l.Debit.Minor != 0 {
		return l.Debit
	}
	return l.Credit
}

// Voucher is a balanced set of ledger lines posted together. It is built
// by NewVoucher only, so every Voucher balances in every currency.
type Voucher struct {
	id    string
	date  Date
	lines []Line
}

// NewVoucher checks and returns a voucher. It refuses an empty id, a zero
// date, fewer than two lines, a line without an account, with a negative
// amount, with both or neither side set, with an unknown currency or with
// sides in different currencies (ErrVoucherLine), and debits that differ
// from the credits in any currency (ErrUnbalanced).
func NewVoucher(id string, date Date, lines []Line) (Voucher, error) {
	if id == "" {
		return Voucher{}, fmt.Errorf("new voucher: %w: no id", ErrVoucherLine)
	}
	if date.IsZero() {
		return Voucher{}, fmt.Errorf("new voucher %s: %w: no posting date", id, ErrVoucherLine)
	}
	if len(lines) < 2 {
		return Voucher{}, fmt.Errorf("new voucher %s: %w: %d lines", id, ErrVoucherLine, len(lines))
	}
	type sums struct{ debit, credit int64 }
	bal := map[Currency]*sums{}
	for i := range lines {
		l := &lines[i]
		if err := l.check(); err != nil {
			return Voucher{}, fmt.Errorf("new voucher %s: line %d: %w", id, i+1, err)
		}
		a := l.Amount()
		s := bal[a.Currency]
		if s == nil {
			s = &sums{}
			bal[a.Currency] = s
		}
		var ok bool
		if l.Debit.Minor != 0 {
			s.debit, ok = addMinor(s.debit, a.Minor)
		} else {
			s.credit, ok = addMinor(s.credit, a.Minor)
		}
		if !ok {
			return Voucher{}, fmt.Errorf("new voucher %s: %w: sums out of range", id, ErrVoucherLine)
		}
	}
	cs := make([]Currency, 0, len(bal))
	for c := range bal {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	for _, c := range cs {
		if s := bal[c]; s.debit != s.credit {
			d, k := Amount{Minor: s.debit, Currency: c}, Amount{Minor: s.credit, Currency: c}
			return Voucher{}, fmt.Errorf("new voucher %s: %w: debit %s %s, credit %s %s", id, ErrUnbalanced, d, c, k, c)
		}
	}
	return Voucher{id: id, date: date, lines: slices.Clone(lines)}, nil
}

// check checks one line on its own.
func (l *Line) check() error {
	d, c := l.Debit, l.Credit
	switch {
	case l.Account == "":
		return fmt.Errorf("%w: no account", ErrVoucherLine)
	case d.Minor < 0 || c.Minor < 0:
		return fmt.Errorf("%w: negative amount", ErrVoucherLine)
	case (d.Minor == 0) == (c.Minor == 0):
		return fmt.Errorf("%w: exactly one of debit and credit must be greater than zero", ErrVoucherLine)
	case d.Minor == 0 && d.Currency != "" && d.Currency != c.Currency,
		c.Minor == 0 && c.Currency != "" && c.Currency != d.Currency:
		return fmt.Errorf("%w: debit and credit in different currencies", ErrVoucherLine)
	case d.Minor > MaxMinor || c.Minor > MaxMinor:
		return fmt.Errorf("%w: amount too large", ErrVoucherLine)
	}
	if _, ok := l.Amount().Currency.Exponent(); !ok {
		return fmt.Errorf("%w: unknown currency %q", ErrVoucherLine, l.Amount().Currency)
	}
	return nil
}

// ID returns the voucher's id.
func (v *Voucher) ID() string { return v.id }

// Date returns the voucher's posting date.
func (v *Voucher) Date() Date { return v.date }

// Lines returns a copy of the voucher's lines.
func (v *Voucher) Lines() []Line { return slices.Clone(v.lines) }
