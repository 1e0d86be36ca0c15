package refund

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DocType is the kind of ERP document a refund pays out.
type DocType string

// The document types of a refund batch.
const (
	CreditNote DocType = "CreditNote"
	Prepayment DocType = "Prepayment"
	Payment    DocType = "Payment"
)

// ParseDocType accepts the English and Norwegian names in any case, with or
// without spaces: "CreditNote", "Credit Note", "Kreditnota", "Prepayment",
// "Forskuddsbetaling", "Payment", "Betaling".
func ParseDocType(s string) (DocType, error) {
	switch t := DocType(s); t { // as the ERP writes them, without a copy
	case CreditNote, Prepayment, Payment:
		return t, nil
	}
	switch strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", "")) {
	case "creditnote", "kreditnota":
		return CreditNote, nil
	case "prepayment", "forskuddsbetaling":
		return Prepayment, nil
	case "payment", "betaling":
		return Payment, nil
	}
	return "", fmt.Errorf("%q is not CreditNote, Prepayment or Payment", s)
}

// code is the two-letter abbreviation used in identifiers.
func (t DocType) code() string {
	switch t {
	case CreditNote:
		return "CN"
	case Prepayment:
		return "PP"
	}
	return "PY"
}

// Field names, as in the ERP's batch export. Problems name the field with
// these.
const (
	FieldBatch            = "Batch"
	FieldDocType          = "DocType"
	FieldRefNbr           = "RefNbr"
	FieldCustomerID       = "CustomerID"
	FieldCustomerName     = "CustomerName"
	FieldPaymentMethod    = "PaymentMethod"
	FieldAccountType      = "AccountType"
	FieldAccount          = "Account"
	FieldBIC              = "BIC"
	FieldCountry          = "Country"
	FieldAmount           = "Amount"
	FieldCurrency         = "Currency"
	FieldPaymentDate      = "PaymentDate"
	FieldCustomerOrderNbr = "CustomerOrderNbr"
	FieldPaymentRef       = "PaymentRef"
	FieldBaseAmount       = "BaseAmount"
)

// Fields is one refund as the ERP wrote it, every value still text.
type Fields struct {
	Batch, DocType, RefNbr, CustomerID, CustomerName, PaymentMethod   string
	AccountType, Account, BIC, Country, Amount, Currency, PaymentDate string
	CustomerOrderNbr, PaymentRef, BaseAmount                          string
}

// Problem is one thing wrong (or, with Warning, worth saying) about a field
// of a refund.
type Problem struct {
	Field   string
	Msg     string
	Warning bool
}

// String formats p as "Field: reason", or "Field: warning: reason".
func (p Problem) String() string {
	if p.Warning {
		return p.Field + ": warning: " + p.Msg
	}
	return p.Field + ": " + p.Msg
}

// Refund is one validated refund. Account, BIC, Country and Currency are in
// canonical form.
type Refund struct {
	Batch            string
	DocType          DocType
	RefNbr           string
	CustomerID       string
	CustomerName     string
	PaymentMethod    string
	AccountType      AccountType
	Account          string
	BIC              string
	Country          string
	Amount           Amount
	PaymentDate      Date
	CustomerOrderNbr string
	PaymentRef       string
	// BaseAmount is the export's BaseAmount as written, "" when none: the
	// refund in the currency of the bank account it is paid from, at the
	// rate of the ERP document. Its minor units depend on that currency,
	// so Rules.Check parses it (Transfer.BaseAmount).
	BaseAmount string
}

// Parse checks every field of f on its own (syntax, check digits, required
// values) and returns the refund and every problem found. The refund is
// usable only when no problem is an error.
func Parse(f Fields) (Refund, []Problem) {
	var r Refund
	var ps []Problem
	bad := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	required := func(field, v string) string {
		v = strings.TrimSpace(v)
		if v == "" {
			bad(field, "required")
		}
		return v
	}
	// Identifiers end up in ids, logs and the files written for the ERP:
	// printable, one line, of a sane length.
	token := func(field, v string, max int) string {
		if err := checkToken(v, max); err != nil {
			bad(field, "%v", err)
		}
		return v
	}
	r.Batch = token(FieldBatch, required(FieldBatch, f.Batch), MaxToken)
	r.RefNbr = token(FieldRefNbr, required(FieldRefNbr, f.RefNbr), MaxToken)
	r.CustomerID = token(FieldCustomerID, required(FieldCustomerID, f.CustomerID), MaxToken)
	r.CustomerName = required(FieldCustomerName, f.CustomerName)
	r.PaymentMethod = token(FieldPaymentMethod, required(FieldPaymentMethod, f.PaymentMethod), MaxToken)
	r.CustomerOrderNbr = token(FieldCustomerOrderNbr, strings.TrimSpace(f.CustomerOrderNbr), MaxMessage)
	r.PaymentRef = token(FieldPaymentRef, strings.TrimSpace(f.PaymentRef), MaxMessage)
	r.BaseAmount = strings.TrimSpace(f.BaseAmount)

	if v := required(FieldDocType, f.DocType); v != "" {
		t, err := ParseDocType(v)
		if err != nil {
			bad(FieldDocType, "%v", err)
		}
		r.DocType = t
	}
	switch r.DocType {
	case CreditNote:
		if r.CustomerOrderNbr == "" {
			bad(FieldCustomerOrderNbr, "required for a credit note (it is the payment message)")
		}
	case Prepayment, Payment:
		if r.PaymentRef == "" {
			bad(FieldPaymentRef, "required for a %s (it is the payment message)", strings.ToLower(string(r.DocType)))
		}
	}

	if v := strings.TrimSpace(f.Country); v != "" {
		if len(v) != 2 || !isLetter(v[0]) || !isLetter(v[1]) {
			bad(FieldCountry, "%q is not an ISO 3166 country code (two letters)", f.Country)
		}
		r.Country = strings.ToUpper(v)
	}

	cur := Currency("NOK")
	if v := strings.TrimSpace(f.Currency); v != "" {
		c, err := ParseCurrency(v)
		if err != nil {
			bad(FieldCurrency, "%v", err)
			cur = ""
		} else {
			cur = c
		}
	}
	if v := required(FieldAmount, f.Amount); v != "" && cur != "" {
		a, err := ParseAmount(v, cur)
		if err != nil {
			bad(FieldAmount, "%v", err)
		}
		r.Amount = a
	}

	if v := required(FieldPaymentDate, f.PaymentDate); v != "" {
		d, err := ParseDate(v)
		if err != nil {
			bad(FieldPaymentDate, "%v", err)
		}
		r.PaymentDate = d
	}

	if v := strings.TrimSpace(f.BIC); v != "" {
		b, err := ParseBIC(v)
		if err != nil {
			bad(FieldBIC, "%v", err)
		}
		r.BIC = b
	}

	if v := required(FieldAccountType, f.AccountType); v != "" {
		t, err := ParseAccountType(v)
		if err != nil {
			bad(FieldAccountType, "%v", err)
		}
		r.AccountType = t
	}
	acct := required(FieldAccount, f.Account)
	switch {
	case acct == "":
	case r.AccountType == BBAN:
		n, err := ParseBBAN(acct)
		if err != nil {
			if _, ierr := ParseIBAN(acct); ierr == nil {
				bad(FieldAccount, "%q is an IBAN but AccountType is BBAN", acct)
			} else {
				bad(FieldAccount, "%v", err)
			}
		}
		if r.Country != "" && r.Country != "NO" {
			bad(FieldAccountType, "a BBAN is a Norwegian account number, but Country is %s; use IBAN", r.Country)
		}
		r.Account = n
	case r.AccountType == IBAN:
		n, err := ParseIBAN(acct)
		if err != nil {
			if _, berr := ParseBBAN(acct); berr == nil {
				bad(FieldAccount, "%q is a Norwegian BBAN but AccountType is IBAN", acct)
			} else {
				bad(FieldAccount, "%v", err)
			}
		} else if !IsSEPA(n[:2]) && r.BIC == "" {
			bad(FieldBIC, "required for an IBAN outside the SEPA area (%s)", n[:2])
		}
		r.Account = n
	}
	if r.Country == "" {
		// The payee's country defaults to the account's: Norway for a
		// BBAN, the IBAN's country otherwise.
		r.Country = "NO"
		if r.AccountType == IBAN && len(r.Account) >= 2 {
			r.Country = r.Account[:2]
		}
	}
	return r, ps
}

// MaxToken is the longest identifier (Batch, RefNbr, CustomerID,
// PaymentMethod) refundd accepts.
const MaxToken = 64

// checkToken refuses invalid UTF-8, control characters and values longer
// than max characters.
func checkToken(v string, max int) error {
	if len(v) <= max && printableASCII(v) {
		return nil
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("not valid UTF-8")
	}
	if n := utf8.RuneCountInString(v); n > max {
		return fmt.Errorf("%d characters, at most %d allowed", n, max)
	}
	for i, r := range v {
		if unicode.IsControl(r) {
			return fmt.Errorf("control character %q at byte %d", r, i)
		}
	}
	return nil
}

// printableASCII reports whether every byte of v is a printable ASCII
// character, which is a valid token character.
func printableASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// Domestic reports whether r is a Norwegian domestic payment: a Norwegian
// payee paid in NOK to a Norwegian account (a BBAN or a Norwegian IBAN). A
// NOK payment to a foreign IBAN is cross-border even for a Norwegian payee.
func (r *Refund) Domestic() bool {
	if r.Country != "NO" || r.Amount.Currency != "NOK" {
		return false
	}
	return r.AccountType == BBAN || r.AccountType == IBAN && strings.HasPrefix(r.Account, "NO")
}

// Reference returns the document reference that goes into the payment
// message: the customer order number for a credit note, the payment
// reference for a prepayment or a payment.
func (r *Refund) Reference() (field, value string) {
	if r.DocType == CreditNote {
		return FieldCustomerOrderNbr, r.CustomerOrderNbr
	}
	return FieldPaymentRef, r.PaymentRef
}
