package refund

import (
	"errors"
	"fmt"
)

// Errors of Ledger.Voucher, for errors.Is.
var (
	// ErrNotPostable: the outcome posts nothing (an exception, an entry
	// not booked).
	ErrNotPostable = errors.New("outcome posts nothing")
	// ErrPostedByERP: the outcome is a payment without charges, and the
	// ERP posts the payment itself when it releases the refund document
	// (Ledger.Release); refundd has nothing to add.
	ErrPostedByERP = errors.New("the ERP posts this payment when it releases the refund document")
)

// Ledger names the general-ledger accounts of refundd's postings, from the
// configuration (ledger.receivables_account, ledger.charges_account). The
// bank side is the ledger account of the debtor account a refund was paid
// from (Sent.DebtorLedgerAccount).
type Ledger struct {
	Receivables string
	Charges     string
	// Release: the ERP releases each refund document when the refund is
	// booked (ledger.post: release), which posts the payment itself
	// (receivables against the bank's cash account); refundd then posts
	// only what the document does not: bank charges, and a return with
	// its reversal. Otherwise refundd posts the whole refund.
	Release bool
	// CurrencyGain and CurrencyLoss, when set (both or neither), make
	// refundd post the currency difference of a payment in another
	// currency than its bank account: the bank's amount less the
	// refund's BaseAmount (its amount at the ERP document's rate).
	CurrencyGain, CurrencyLoss string
}

// difference returns what the receivables of payment o are debited with
// (the refund's BaseAmount, or the bank's amount when there is no currency
// difference to post) and the currency difference: the bank's amount less
// BaseAmount, zero when there is none to post.
func (l Ledger) difference(o *Outcome) (base, diff Amount) {
	s := &o.Refund
	if l.CurrencyGain == "" || l.CurrencyLoss == "" || s.BaseAmount.Currency == "" ||
		s.BaseAmount.Currency != o.Amount.Currency || s.Amount.Currency == o.Amount.Currency {
		return o.Amount, Amount{Currency: o.Amount.Currency}
	}
	return s.BaseAmount, Amount{Minor: o.Amount.Minor - s.BaseAmount.Minor, Currency: o.Amount.Currency}
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
//
// A payment in another currency than its bank account, with the refund's
// BaseAmount known and currency accounts configured, has a currency
// difference: the bank's amount less BaseAmount. Without Release the
// receivables are debited with BaseAmount and the difference goes to the
// loss (bank took more) or gain account; with Release the ERP's release
// credited the bank's ledger account with BaseAmount, and refundd moves
// the difference between it and the currency account.
//
// With Release the payment's own lines are left out (the ERP's release of
// the refund document posts them); a payment without charges then has no
// voucher (ErrPostedByERP). A return is posted in both modes: the bank
// brings the money back, which no document of the ERP posts.
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
		base, diff := l.difference(o)
		if !l.Release {
			lines = append(lines, line(l.Receivables, true, base, text), line(bank, false, o.Amount, text))
		}
		text = "Currency difference, refund " + s.RefNbr + " (" + s.Amount.String() + " " + string(s.Amount.Currency) + ")"
		switch {
		case diff.Minor > 0 && l.Release:
			lines = append(lines, line(l.CurrencyLoss, true, diff, text), line(bank, false, diff, text))
		case diff.Minor > 0:
			lines = append(lines, line(l.CurrencyLoss, true, diff, text))
		case diff.Minor < 0 && l.Release:
			diff.Minor = -diff.Minor
			lines = append(lines, line(bank, true, diff, text), line(l.CurrencyGain, false, diff, text))
		case diff.Minor < 0:
			diff.Minor = -diff.Minor
			lines = append(lines, line(l.CurrencyGain, false, diff, text))
		}
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
	if len(lines) == 0 && l.Release && o.Kind == KindPayment {
		return Voucher{}, fmt.Errorf("post %s: %w", o.Key, ErrPostedByERP)
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
