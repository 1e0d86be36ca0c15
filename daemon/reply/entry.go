package reply

import (
	"errors"
	"fmt"
	"strings"

	"refundd/daemon/refund"
	"refundd/formats"
	"refundd/formats/camt054"
)

// ErrBadEntry marks a bank entry that cannot be read as a booking in
// refundd's terms: an amount in an unknown currency or with more decimals
// than its currency has (never rounded), a transaction whose direction is
// not the entry's, a fee credited to the account, or charges at entry level
// that disagree with those of its transactions. Such an entry is an
// exception as a whole.
var ErrBadEntry = errors.New("bank entry cannot be booked")

// BankEntryOf maps one camt.054 (or camt.053) entry to the bank entry that
// refund.Match understands. position names the entry in its file for the
// exceptions file.
//
//   - Amounts are exact: a value is taken in minor units of its currency
//     (refund.Currency.Exponent), never rounded.
//   - Status is BOOK, PDNG or INFO, read from either shape of camt; a
//     proprietary status is kept as "Prtry:" and the code, so it is never
//     taken for BOOK.
//   - A transaction's amount is TxDtls/Amt, else AmtDtls/TxAmt or
//     AmtDtls/CntrValAmt in the entry's currency (the amount as booked on
//     our account); its instructed amount is AmtDtls/InstdAmt.
//   - The counterparty is the payee of the refund: for a debit the creditor
//     account; for a credit (a return) the debtor account, the payee
//     sending the money back, unless the bank repeated the original
//     parties, in which case the side that is not our account.
//   - Charges are those our account bears: refundd is the debtor of every
//     refund, so charges borne by the creditor (Br CRED) are the payee's
//     and left out; DEBT, SHAR, SLEV and no bearer are ours. When the
//     transactions carry charges, the entry's own charges are their total
//     and are left out, so a fee is never posted twice; if the two
//     disagree the entry is an exception.
//   - The batch reference (NtryDtls/Btch) is kept when the entry names one
//     block only.
//
// When the entry cannot be booked, the error wraps ErrBadEntry and names the
// amount or element, and the returned entry holds everything but the
// amounts and transactions, for the exceptions file.
func BankEntryOf(e *camt054.Entry, position string) (refund.BankEntry, error) {
	b, err := mapEntry(e, position)
	if err != nil {
		return b, fmt.Errorf("map entry %s: %w: %w", position, ErrBadEntry, err)
	}
	return b, nil
}

// EntryProblem returns what makes the entry impossible to book, in a few
// words without the entry's position, or nil: the check of BankEntryOf,
// for summaries that name the position themselves.
func EntryProblem(e *camt054.Entry, position string) error {
	_, err := mapEntry(e, position)
	return err
}

// mapEntry is BankEntryOf; its error says only what is wrong.
func mapEntry(e *camt054.Entry, position string) (refund.BankEntry, error) {
	b := refund.BankEntry{
		Position:    position,
		Direction:   refund.Direction(e.CreditDebit),
		Status:      entryStatus(e),
		BookingDate: dateOf(e.BookingDate),
		ValueDate:   dateOf(e.ValueDate),
		AcctSvcrRef: e.AcctSvcrRef,
		EntryRef:    e.Ref,
		Reversal:    e.Reversal,
		Code:        txCode(e),
	}
	if e.Report != nil {
		b.Account = accountID(e.Report.Account)
	}
	head := b
	bad := func(err error) (refund.BankEntry, error) { return head, err }

	var err error
	if b.Amount, err = amountOf("Amt", e.Amount); err != nil {
		return bad(err)
	}
	head.Amount = b.Amount
	entryCharges, err := chargesOf("Chrgs", e.Charges)
	if err != nil {
		return bad(err)
	}
	if b.Batch, err = batchOf(e); err != nil {
		return bad(err)
	}
	txs := e.Transactions()
	var txCharges []refund.Charge
	for i, t := range txs {
		bt, err := bankTxOf(t, i, e, b.Account)
		if err != nil {
			return bad(err)
		}
		txCharges = append(txCharges, bt.Charges...)
		b.Txs = append(b.Txs, bt)
	}
	b.Charges = entryCharges
	if len(txCharges) > 0 && len(entryCharges) > 0 {
		// The entry's charges are the total of its transactions'.
		a, okA := chargeTotals(entryCharges)
		c, okC := chargeTotals(txCharges)
		switch {
		case !okA || !okC:
			return bad(errors.New("the charges add up to more than the largest amount"))
		case !sameTotals(a, c):
			return bad(fmt.Errorf("the entry's charges (%s) are not the sum of its transactions' charges (%s)",
				refund.FormatTotals(a), refund.FormatTotals(c)))
		}
		b.Charges = nil
	}
	return b, nil
}

// entryStatus returns the status of an entry; a proprietary one is marked
// so that it never reads as a standard code.
func entryStatus(e *camt054.Entry) refund.EntryStatus {
	if e.Status == "" && e.StatusProprietary != "" {
		return refund.EntryStatus("Prtry:" + e.StatusProprietary)
	}
	return refund.EntryStatus(e.Status)
}

// dateOf returns the calendar date the bank wrote, or the zero date.
func dateOf(d formats.DateTime) refund.Date {
	if d.IsZero() {
		return refund.Date{}
	}
	return refund.DateOf(d.Time)
}

// txCode returns the entry's bank transaction code (domain, family and
// sub-family); when the entry has only a proprietary code, the one domain
// code that all its transactions share, if they do.
func txCode(e *camt054.Entry) refund.BankTxCode {
	code := func(c camt054.BankTxCode) refund.BankTxCode {
		if c.Domain == "" {
			return refund.BankTxCode{}
		}
		return refund.BankTxCode{Domain: c.Domain, Family: c.Family, SubFamily: c.SubFamily}
	}
	if c := code(e.BankTxCode); c != (refund.BankTxCode{}) {
		return c
	}
	var shared refund.BankTxCode
	for i, t := range e.Transactions() {
		c := code(t.BankTxCode)
		if c == (refund.BankTxCode{}) || (i > 0 && c != shared) {
			return refund.BankTxCode{}
		}
		shared = c
	}
	return shared
}

// accountID returns an account's identifier as the bank wrote it: the
// IBAN, else the other identifier.
func accountID(a camt054.Account) string {
	if a.IBAN != "" {
		return a.IBAN
	}
	return a.Other
}

// amountOf converts an amount to minor units of its currency. The zero
// (absent) amount gives the zero Amount. An unknown currency, more
// decimals than the currency has, or a value out of range is an error
// naming what.
func amountOf(what string, a formats.Amount) (refund.Amount, error) {
	if a.IsZero() {
		return refund.Amount{}, nil
	}
	c := refund.Currency(a.Currency)
	exp, ok := c.Exponent()
	if !ok {
		return refund.Amount{}, fmt.Errorf("%s %s: unknown currency %q", what, a, a.Currency)
	}
	v, ok := a.Decimal.Scaled(exp)
	switch {
	case !ok && a.Scale > exp:
		return refund.Amount{}, fmt.Errorf("%s %s: more decimals than %s has (%d); not rounded", what, a, c, exp)
	case !ok || v > refund.MaxMinor:
		return refund.Amount{}, fmt.Errorf("%s %s: too large", what, a)
	}
	return refund.Amount{Minor: v, Currency: c}, nil
}

// chargesOf returns the charges of a Chrgs element that our account bears
// (see BankEntryOf), without zero amounts. A charges total without records
// is one charge of unknown bearer, not included in the amount.
func chargesOf(what string, cs camt054.Charges) ([]refund.Charge, error) {
	recs := cs.Records
	if len(recs) == 0 && !cs.Total.IsZero() {
		recs = []camt054.Charge{{Amount: cs.Total}}
	}
	var out []refund.Charge
	for i, c := range recs {
		if c.Bearer == "CRED" {
			continue // the payee's
		}
		name := fmt.Sprintf("%s[%d]", what, i)
		a, err := amountOf(name, c.Amount)
		if err != nil {
			return nil, err
		}
		if a.Minor == 0 {
			continue
		}
		if c.CreditDebit == camt054.Credit {
			return nil, fmt.Errorf("%s: a charge of %s %s credited to the account is not a fee to post", name, a, a.Currency)
		}
		out = append(out, refund.Charge{Amount: a, Included: c.Included != nil && *c.Included})
	}
	return out, nil
}

// batchOf returns the batch reference of an entry when its details name
// exactly one payment block; several different blocks give none, so that
// the batch rule is not tried on the wrong one.
func batchOf(e *camt054.Entry) (refund.BatchRef, error) {
	var ref refund.BatchRef
	found := false
	for i := range e.Details {
		bt := e.Details[i].Batch
		if bt == nil || (bt.MsgID == "" && bt.PmtInfID == "") {
			continue
		}
		total, err := amountOf(fmt.Sprintf("NtryDtls[%d]/Btch/TtlAmt", i), bt.Total)
		if err != nil {
			return refund.BatchRef{}, err
		}
		r := refund.BatchRef{MsgID: bt.MsgID, PmtInfID: bt.PmtInfID, NbOfTxs: bt.NbOfTxs, Total: total}
		if found && r != ref {
			return refund.BatchRef{}, nil
		}
		ref, found = r, true
	}
	return ref, nil
}

// bankTxOf maps transaction i of entry e, on our account ours.
func bankTxOf(t *camt054.Transaction, i int, e *camt054.Entry, ours string) (refund.BankTx, error) {
	name := fmt.Sprintf("TxDtls[%d]", i)
	if t.CreditDebit != "" && t.CreditDebit != e.CreditDebit {
		return refund.BankTx{}, fmt.Errorf("%s is %s in a %s entry", name, t.CreditDebit, e.CreditDebit)
	}
	bt := refund.BankTx{
		EndToEndID:   t.Refs.EndToEndID,
		InstrID:      t.Refs.InstrID,
		MsgID:        t.Refs.MsgID,
		PmtInfID:     t.Refs.PmtInfID,
		AcctSvcrRef:  t.Refs.AcctSvcrRef,
		Counterparty: counterparty(t, e.CreditDebit, ours),
		Remittance:   strings.Join(t.Remittance.Unstructured, " "),
	}
	booked, what := t.Amount, name+"/Amt"
	if booked.IsZero() {
		// In camt.054.001.02 the amounts are in AmtDtls only; the one in
		// the currency of the entry is the one booked on our account.
		switch ad := t.AmountDetails; e.Amount.Currency {
		case ad.Transaction.Currency:
			booked, what = ad.Transaction, name+"/AmtDtls/TxAmt"
		case ad.CounterValue.Currency:
			booked, what = ad.CounterValue, name+"/AmtDtls/CntrValAmt"
		}
	}
	var err error
	if bt.Amount, err = amountOf(what, booked); err != nil {
		return refund.BankTx{}, err
	}
	if bt.InstructedAmount, err = amountOf(name+"/AmtDtls/InstdAmt", t.AmountDetails.Instructed); err != nil {
		return refund.BankTx{}, err
	}
	if bt.Charges, err = chargesOf(name+"/Chrgs", t.Charges); err != nil {
		return refund.BankTx{}, err
	}
	if r := t.Return; r != nil {
		reason := r.Reason
		if reason == "" {
			reason = r.ReasonProprietary
		}
		bt.Return = &refund.ReturnInfo{Reason: reason, Info: strings.Join(r.AdditionalInfo, " ")}
	}
	return bt, nil
}

// counterparty returns the payee's account of a transaction: the creditor
// of a debit; the debtor of a credit (the payee sends the money back), or,
// when it is missing or our own account because the bank repeated the
// parties of the original payment, the creditor. "" when the bank names
// none.
func counterparty(t *camt054.Transaction, d camt054.CreditDebit, ours string) string {
	payee, other := t.Parties.CreditorAccount, t.Parties.DebtorAccount
	if d == camt054.Credit {
		payee, other = other, payee
	}
	isOurs := func(a camt054.Account) bool {
		return ours != "" && refund.AccountKey(accountID(a)) == refund.AccountKey(ours)
	}
	if d != camt054.Credit {
		return accountID(payee)
	}
	for _, a := range []camt054.Account{payee, other} {
		if accountID(a) != "" && !isOurs(a) {
			return accountID(a)
		}
	}
	return ""
}

// chargeTotals adds charges per currency; ok is false when a sum leaves
// the range of amounts (a hostile file may list many maximal charges).
func chargeTotals(cs []refund.Charge) (m map[refund.Currency]int64, ok bool) {
	m = map[refund.Currency]int64{}
	for _, c := range cs {
		s := m[c.Amount.Currency] + c.Amount.Minor
		if s > refund.MaxMinor {
			return nil, false
		}
		m[c.Amount.Currency] = s
	}
	return m, true
}

// sameTotals reports whether two sets of totals are equal.
func sameTotals(a, b map[refund.Currency]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for c, v := range a {
		if w, ok := b[c]; !ok || w != v {
			return false
		}
	}
	return true
}
