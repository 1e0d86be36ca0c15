package erp

import (
	"strconv"
	"strings"

	"refundd/daemon/refund"
)

// Pos is where a refund is in a batch file: a line (CSV) or an index in the
// refunds array (JSON).
//
// In a CSV file Line is the line the record starts on, from 1; Line 0 stands
// for the file as a whole. In a JSON file (JSON true) Index is the index of
// the refund in the "refunds" array, from 0; Index -1 stands for the file as
// a whole, and then Line is the line of the problem, or 0 when not known.
type Pos struct {
	File  string
	Line  int
	Index int
	JSON  bool
}

// String formats p as "batch.csv:12" (CSV) or "batch.json:refunds[3]"
// (JSON); a position in a JSON file outside any refund is "batch.json:line 7",
// and the file as a whole is just its name.
func (p Pos) String() string {
	switch {
	case p.JSON && p.Index >= 0:
		return p.File + ":refunds[" + strconv.Itoa(p.Index) + "]"
	case p.JSON && p.Line > 0:
		return p.File + ":line " + strconv.Itoa(p.Line)
	case !p.JSON && p.Line > 0:
		return p.File + ":" + strconv.Itoa(p.Line)
	}
	return p.File
}

// Problem is one problem (or warning) in a batch file.
type Problem struct {
	Pos Pos
	// Field is the refund field at fault, named by a refund.Field*
	// constant, or "" for a problem of the record or file as a whole.
	Field   string
	Msg     string
	Warning bool
}

// String formats p as "batch.csv:12: Amount: <msg>", or for a warning
// "batch.csv:12: PaymentDate: warning: <msg>". In a JSON file the field has
// its JSON spelling ("amount", "customerId"). A problem without a field is
// "batch.csv:3: <msg>".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Pos.String())
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.fieldLabel())
		b.WriteString(": ")
	}
	if p.Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// fieldLabel returns the field as the file spells it: its JSON name in a
// JSON file.
func (p Problem) fieldLabel() string {
	if p.Pos.JSON {
		return jsonName(p.Field)
	}
	return p.Field
}

// HasErrors reports whether any problem is an error rather than a warning.
func HasErrors(ps []Problem) bool {
	for _, p := range ps {
		if !p.Warning {
			return true
		}
	}
	return false
}

// column is one field of a refund in a batch export.
type column struct {
	name     string // CSV header and refund.Field* constant
	json     string // JSON key
	required bool   // a required CSV column
}

// columns lists the fields of a batch export, in the order of refund.Fields.
var columns = [...]column{
	{refund.FieldBatch, "batch", true},
	{refund.FieldDocType, "docType", true},
	{refund.FieldRefNbr, "refNbr", true},
	{refund.FieldCustomerID, "customerId", true},
	{refund.FieldCustomerName, "customerName", true},
	{refund.FieldPaymentMethod, "paymentMethod", true},
	{refund.FieldAccountType, "accountType", true},
	{refund.FieldAccount, "account", true},
	{refund.FieldBIC, "bic", false},
	{refund.FieldCountry, "country", false},
	{refund.FieldAmount, "amount", true},
	{refund.FieldCurrency, "currency", false},
	{refund.FieldPaymentDate, "paymentDate", true},
	{refund.FieldCustomerOrderNbr, "customerOrderNbr", false},
	{refund.FieldPaymentRef, "paymentRef", false},
	{refund.FieldBaseAmount, "baseAmount", false},
}

// colAmount and colBaseAmount are the indexes in columns of the amounts,
// the fields that JSON may give as a number.
const (
	colAmount     = 10
	colBaseAmount = 15
)

// field returns the field of f that column c holds.
func field(f *refund.Fields, c int) *string {
	switch c {
	case 0:
		return &f.Batch
	case 1:
		return &f.DocType
	case 2:
		return &f.RefNbr
	case 3:
		return &f.CustomerID
	case 4:
		return &f.CustomerName
	case 5:
		return &f.PaymentMethod
	case 6:
		return &f.AccountType
	case 7:
		return &f.Account
	case 8:
		return &f.BIC
	case 9:
		return &f.Country
	case 10:
		return &f.Amount
	case 11:
		return &f.Currency
	case 12:
		return &f.PaymentDate
	case 13:
		return &f.CustomerOrderNbr
	case 14:
		return &f.PaymentRef
	case colBaseAmount:
		return &f.BaseAmount
	}
	panic("erp: no column " + strconv.Itoa(c))
}

// columnOf returns the index in columns of the field named name (a
// refund.Field* constant), or -1.
func columnOf(name string) int {
	for i := range columns {
		if columns[i].name == name {
			return i
		}
	}
	return -1
}

// jsonName returns the JSON spelling of the field named name, or name itself
// if it is not a field of a batch export.
func jsonName(name string) string {
	if c := columnOf(name); c >= 0 {
		return columns[c].json
	}
	return name
}

// fieldSet is a set of indexes into columns.
type fieldSet uint32

func (s fieldSet) has(c int) bool { return c >= 0 && s&(1<<c) != 0 }
func (s *fieldSet) add(c int)     { *s |= 1 << c }
