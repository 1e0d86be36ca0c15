package refund

import (
	"errors"
	"fmt"
)

// ErrNotPostable is returned by Ledger.Voucher for an outcome that posts
// nothing (an exception, an entry not booked).
var ErrNotPostable = errors.New("outcome posts nothing")

// Ledger names the general-ledger accounts of refundd's postings, from the
// configuration (ledger.receivables_account, ledger.charges_account). The
// bank side is the ledger account of the debtor account a refund was paid
// from (Sent.DebtorLedgerAccount).
type Ledger struct {
	Receivables string
	Charges     string
}

// VoucherID returns the voucher id of the booking k: "RFD-" and 16
// characters of a hash of k. It is the same every time the booking is
// posted, so the ERP can refuse a voucher it imported before.
func VoucherID(k Key) string {
	return "RFD-" + digest(16, "voucher", k.Account, k.Entry, k.Tx)
}

// Voucher returns the voucher that posts o, dated the entry's booking date
// (its value date when it has none):
//
//   - a payment debits the receivables account and credits the bank's
//     ledger account with the principal;
//   - a return debits the bank's ledger account and credits receivables;
//   - every charge, of a payment, a return or an entry, debits the charges
//     account and credits the bank's ledger account.
func (l Ledger) Voucher(o *Outcome) (Voucher, error) {
	if !o.Postable() {
		return Voucher{}, fmt.Errorf("post %s: %w (%s)", o.Key, ErrNotPostable, o.Kind)
	}
	s := &o.Refund
	bank := s.DebtorLedgerAccount
	if bank == "" {
		return Voucher{}, fmt.Errorf("post %s: refund %s has no ledger account for its bank account", o.Key, s.RefNbr)
	}
	ref := Line{RefNbr: s.RefNbr, CustomerID: s.CustomerID, Batch: s.Batch, EndToEndID: s.EndToEndID, BankRef: o.Entry.BankRef()}
	if ref.BankRef == "" {
		ref.BankRef = o.Tx.AcctSvcrRef
	}
	line := func(account string, debit bool, a Amount, text string) Line {
		x := ref
		x.Account, x.Text = account, text
		if debit {
			x.Debit = a
		} else {
			x.Credit = a
		}
		return x
	}
	var lines []Line
	switch o.Kind {
	case KindPayment:
		text := "Refund " + s.RefNbr + " paid"
		lines = append(lines, line(l.Receivables, true, o.Amount, text), line(bank, false, o.Amount, text))
	case KindReturn:
		text := "Refund " + s.RefNbr + " returned"
		if r := o.Tx.Return; r != nil && r.Reason != "" {
			text += " (" + r.Reason + ")"
		}
		lines = append(lines, line(bank, true, o.Amount, text), line(l.Receivables, false, o.Amount, text))
	}
	for _, c := range o.Charges {
		if c.Amount.Minor == 0 {
			continue
		}
		text := "Bank charges, refund " + s.RefNbr
		lines = append(lines, line(l.Charges, true, c.Amount, text), line(bank, false, c.Amount, text))
	}
	date := o.Entry.BookingDate
	if date.IsZero() {
		date = o.Entry.ValueDate
	}
	v, err := NewVoucher(VoucherID(o.Key), date, lines)
	if err != nil {
		return Voucher{}, fmt.Errorf("post %s: %w", o.Key, err)
	}
	return v, nil
}
