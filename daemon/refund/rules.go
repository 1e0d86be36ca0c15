package refund

import (
	"fmt"
	"slices"
	"strings"
)

// DebtorAccount is a company bank account that refunds are paid from.
type DebtorAccount struct {
	ID            string
	Type          AccountType // BBAN or IBAN
	Account       string      // canonical form
	BIC           string
	Currency      Currency
	LedgerAccount string // general-ledger account of this bank account
}

// PaymentMethod is the ERP's payment method, as far as refunds care.
type PaymentMethod struct {
	ID           string
	BatchPayment bool // "Create batch payment" in the ERP
	AccountTypes []AccountType
	Debtor       *DebtorAccount
	ChargeBearer string // DEBT, CRED, SHAR or SLEV; "" chooses per payment
}

// Charge bearer codes.
const (
	ChargeShared   = "SHAR"
	ChargeFollowSL = "SLEV"
	ChargeDebtor   = "DEBT"
	ChargeCreditor = "CRED"
)

// Rules are the ERP's rules for refunds, from the configuration.
type Rules struct {
	Methods       map[string]*PaymentMethod
	MessagePrefix string
	PastDates     DatePolicy
	Today         Date // today in Norway
	// Calendar decides the banking days of execution dates; the zero
	// Calendar is the built-in one.
	Calendar Calendar
	// CurrencyDifferences: refundd posts currency differences (the
	// ledger has currency gain and loss accounts), so a refund in another
	// currency than its bank account needs its BaseAmount.
	CurrencyDifferences bool

	// dates keeps the execution dates Check worked out, by payment date
	// (and Today and PastDates), so that a batch of many refunds on a few
	// dates works out each once; at most maxDates of them. Check fills
	// it: a Rules is used by one goroutine at a time, and its Calendar
	// is not replaced once Check ran.
	dates map[dateKey]execDate
}

// dateKey is what an execution date depends on besides the calendar.
type dateKey struct {
	want, today Date
	policy      DatePolicy
}

// execDate is what Calendar.ExecutionDate returned for a payment date.
type execDate struct {
	exec  Date
	moved string
	err   error
}

// maxDates is the most payment dates a Rules keeps the execution date of.
const maxDates = 64

// executionDate is rs.Calendar.ExecutionDate of want, Today and
// PastDates, kept in rs.dates.
func (rs *Rules) executionDate(want Date) (Date, string, error) {
	k := dateKey{want, rs.Today, rs.PastDates}
	if e, ok := rs.dates[k]; ok {
		return e.exec, e.moved, e.err
	}
	exec, moved, err := rs.Calendar.ExecutionDate(want, rs.Today, rs.PastDates)
	if rs.dates == nil {
		rs.dates = make(map[dateKey]execDate)
	}
	if len(rs.dates) < maxDates {
		rs.dates[k] = execDate{exec, moved, err}
	}
	return exec, moved, err
}

// Transfer is a refund checked against the rules and ready to be paid.
type Transfer struct {
	Refund
	Name          string // creditor name under the character policy
	Message       string // RmtInf/Ustrd
	ExecutionDate Date
	Debtor        *DebtorAccount
	ChargeBearer  string // "" when omitted (domestic)
	SEPA          bool   // service level SEPA
	// BaseAmount is Refund.BaseAmount in the currency of the Debtor
	// account; zero when not exported.
	BaseAmount Amount
}

// Check applies the rules to r, which Parse returned without errors. It
// returns the transfer and every problem, warnings included.
func (rs *Rules) Check(r Refund) (Transfer, []Problem) {
	p := Transfer{Refund: r}
	var ps []Problem
	bad := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	warn := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Msg: fmt.Sprintf(format, args...), Warning: true})
	}

	m := rs.Methods[r.PaymentMethod]
	switch {
	case m == nil:
		bad(FieldPaymentMethod, "%q is not a configured payment method (have: %s)", r.PaymentMethod, strings.Join(rs.methodIDs(), ", "))
	case !m.BatchPayment:
		bad(FieldPaymentMethod, "%q does not have batch payment enabled", r.PaymentMethod)
	case !slices.Contains(m.AccountTypes, r.AccountType):
		bad(FieldAccountType, "%s is not allowed by payment method %q (allows %s)", r.AccountType, m.ID, joinTypes(m.AccountTypes))
	}
	if m != nil {
		p.Debtor = m.Debtor
	}

	domestic := r.Domestic()
	name, changes, err := Text(r.CustomerName, domestic, MaxName)
	if err != nil {
		bad(FieldCustomerName, "%v", err)
	} else if changes != "" {
		warn(FieldCustomerName, "%s", changes)
	}
	p.Name = name

	field, ref := r.Reference()
	msg, changes, err := Text(Message(rs.MessagePrefix, ref), domestic, MaxMessage)
	if err != nil {
		bad(field, "payment message %q: %v", Message(rs.MessagePrefix, ref), err)
	} else if changes != "" {
		warn(field, "payment message: %s", changes)
	}
	p.Message = msg

	exec, moved, err := rs.executionDate(r.PaymentDate)
	if err != nil {
		bad(FieldPaymentDate, "%v", err)
	} else if moved != "" {
		warn(FieldPaymentDate, "%s", moved)
	}
	p.ExecutionDate = exec

	sepaEUR := r.Amount.Currency == "EUR" && r.AccountType == IBAN && len(r.Account) >= 2 && IsSEPA(r.Account[:2]) && IsSEPA(r.Country)
	switch {
	case m != nil && m.ChargeBearer != "":
		p.ChargeBearer = m.ChargeBearer
		if p.ChargeBearer == ChargeFollowSL && r.Amount.Currency == "EUR" && !sepaEUR {
			bad(FieldPaymentMethod, "charge bearer SLEV of %q is for SEPA payments only; this EUR payment is not SEPA", m.ID)
		}
	case domestic:
		p.ChargeBearer = ""
	case sepaEUR:
		p.ChargeBearer = ChargeFollowSL
	default:
		p.ChargeBearer = ChargeShared
	}
	p.SEPA = p.ChargeBearer == ChargeFollowSL && r.Amount.Currency == "EUR"
	if m != nil && m.Debtor != nil {
		p.BaseAmount = rs.baseAmount(&r, m.Debtor.Currency, bad)
	}
	return p, ps
}

// baseAmount parses r.BaseAmount in the currency of the bank account the
// refund is paid from. It is required, when refundd posts currency
// differences, for a refund in another currency than that account; for a
// refund in the account's currency it can only be the refund's amount.
func (rs *Rules) baseAmount(r *Refund, cur Currency, bad func(field, format string, args ...any)) Amount {
	foreign := r.Amount.Currency != "" && r.Amount.Currency != cur
	if r.BaseAmount == "" {
		if foreign && rs.CurrencyDifferences {
			bad(FieldBaseAmount, "required for a refund in %s paid from an account in %s: refundd posts the currency difference "+
				"between the bank's amount and this amount at the document's rate", r.Amount.Currency, cur)
		}
		return Amount{}
	}
	a, err := ParseAmount(r.BaseAmount, cur)
	switch {
	case err != nil:
		bad(FieldBaseAmount, "%v (in %s, the currency of the bank account)", err, cur)
		return Amount{}
	case !foreign && a != r.Amount:
		bad(FieldBaseAmount, "%s %s differs from Amount %s %s, in the same currency", a, cur, r.Amount, r.Amount.Currency)
		return Amount{}
	}
	return a
}

func (rs *Rules) methodIDs() []string {
	ids := make([]string, 0, len(rs.Methods))
	for id := range rs.Methods {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func joinTypes(ts []AccountType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// GroupKey identifies the payment-information block (PmtInf) a payment
// belongs to: one per execution date, debtor account, currency and charge
// bearer.
type GroupKey struct {
	ExecutionDate Date
	Debtor        string // DebtorAccount.ID
	Currency      Currency
	ChargeBearer  string
}

// Key returns the group of p.
func (p *Transfer) Key() GroupKey {
	return GroupKey{ExecutionDate: p.ExecutionDate, Debtor: p.Debtor.ID, Currency: p.Amount.Currency, ChargeBearer: p.ChargeBearer}
}

// Compare orders group keys by date, debtor, currency and charge bearer, the
// order of the PmtInf blocks in a pain.001.
func (k GroupKey) Compare(o GroupKey) int {
	if c := k.ExecutionDate.t.Compare(o.ExecutionDate.t); c != 0 {
		return c
	}
	if c := strings.Compare(k.Debtor, o.Debtor); c != 0 {
		return c
	}
	if c := strings.Compare(string(k.Currency), string(o.Currency)); c != 0 {
		return c
	}
	return strings.Compare(k.ChargeBearer, o.ChargeBearer)
}
