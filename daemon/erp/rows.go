package erp

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"refundd/daemon/refund"
)

// The files refundd writes for the ERP are semicolon CSV in UTF-8 without a
// BOM, with a header row and CRLF line ends (as the ERP's own exports
// have), quoted by encoding/csv where a value holds ';', '"', a line break
// or leading space. Amounts have a decimal point and exactly the
// currency's decimals; dates are YYYY-MM-DD; times RFC 3339 in UTC.
//
// Spreadsheets run a cell that starts with '=', '+', '-', '@', a tab or a
// carriage return as a formula (CSV injection). The free-text columns
// (Text, ReasonText, Detail) carry text from the bank and the ERP, so such
// a value gets a leading "'" there. Identifiers (RefNbr, Batch, CustomerID,
// EndToEndId, BankRef, …) are written exactly as they are, because the ERP
// matches its documents on them; they come from the ERP itself, from the
// bank, or are refundd's own ids, which start with a letter.

// StatusRow is one line of a status file: a refund whose status changed.
type StatusRow struct {
	RefNbr     string
	Batch      string
	MsgID      string
	EndToEndID string
	Status     refund.Status
	ReasonCode string // e.g. AC04, or a validation problem's field
	ReasonText string
	At         time.Time
	// BookingDate, BankRef and Booked are the bank's booking of a booked
	// or returned refund: what the ERP needs to release the refund
	// document with the bank's date, reference and amount. Booked
	// is the principal in the currency of our account: for a refund paid
	// in another currency it gives the bank's rate, so that the release
	// leaves no currency difference.
	BookingDate refund.Date
	BankRef     string
	Booked      refund.Amount
}

// MatchRow is one line of a matches file: a bank transaction matched to a
// refund, and the rule that matched it.
type MatchRow struct {
	BookingDate refund.Date
	Amount      refund.Amount
	BankRef     string
	EndToEndID  string
	RefNbr      string
	Batch       string
	Rule        refund.Rule
}

// ExceptionRow is one line of an exceptions file: a bank entry or
// transaction, or a line of a status report, that matched nothing or
// disagrees with its refund.
type ExceptionRow struct {
	File        string // the reply file
	Position    string // where in the file, e.g. "Ntry[3]/TxDtls[2]"
	BookingDate refund.Date
	Direction   refund.Direction
	BankRef     string
	EndToEndID  string
	RefNbr      string // the refund a rule pointed at, if any
	Amount      refund.Amount
	Rule        refund.Rule
	Reason      string
	Detail      string
}

// The header rows, one name per column in the order written. They are a
// contract with the ERP's import: never rename or reorder a column.
func statusHeader() []string {
	return []string{"RefNbr", "Batch", "MsgId", "EndToEndId", "Status", "ReasonCode", "ReasonText", "At", "BookingDate", "BankRef", "BookedAmount", "BookedCurrency"}
}

func postingsHeader() []string {
	return []string{"Voucher", "PostingDate", "Account", "Debit", "Credit", "Currency", "Text", "RefNbr", "CustomerID", "Batch", "EndToEndId", "BankRef"}
}

func matchesHeader() []string {
	return []string{"BookingDate", "Amount", "Currency", "BankRef", "EndToEndId", "RefNbr", "Batch", "Rule"}
}

func exceptionsHeader() []string {
	return []string{"File", "Position", "BookingDate", "CreditDebit", "BankRef", "EndToEndId", "RefNbr", "Amount", "Currency", "Rule", "Reason", "Detail"}
}

// MatchRowOf returns the matches-file line of a payment or return outcome.
func MatchRowOf(o *refund.Outcome) MatchRow {
	return MatchRow{
		BookingDate: o.Entry.BookingDate,
		Amount:      o.Amount,
		BankRef:     bankRef(o),
		EndToEndID:  o.Refund.EndToEndID,
		RefNbr:      o.Refund.RefNbr,
		Batch:       o.Refund.Batch,
		Rule:        o.Rule,
	}
}

// StatusRowOf returns the status-file line for the status change that a
// posted outcome makes at time at: a payment books the refund, a return
// returns it (with the bank's return reason). ok is false for outcomes that
// change no refund's status (charges, exceptions, entries not booked).
func StatusRowOf(o *refund.Outcome, at time.Time) (row StatusRow, ok bool) {
	row = StatusRow{RefNbr: o.Refund.RefNbr, Batch: o.Refund.Batch, MsgID: o.Refund.MsgID, EndToEndID: o.Refund.EndToEndID, At: at,
		BookingDate: o.Entry.BookingDate, BankRef: bankRef(o), Booked: o.Amount}
	if row.BookingDate.IsZero() {
		row.BookingDate = o.Entry.ValueDate
	}
	switch o.Kind {
	case refund.KindPayment:
		row.Status = refund.StatusBooked
	case refund.KindReturn:
		row.Status = refund.StatusReturned
		if r := o.Tx.Return; r != nil {
			row.ReasonCode, row.ReasonText = r.Reason, r.Info
		}
	default:
		return StatusRow{}, false
	}
	return row, true
}

// ExceptionRowOf returns the exceptions-file line of an outcome of the
// reply file named file. It serves for exceptions and, if the caller wants
// them listed, for entries not booked.
func ExceptionRowOf(file string, o *refund.Outcome) ExceptionRow {
	r := ExceptionRow{
		File:        file,
		Position:    o.Entry.Position,
		BookingDate: o.Entry.BookingDate,
		Direction:   o.Entry.Direction,
		BankRef:     bankRef(o),
		EndToEndID:  o.Tx.EndToEndID,
		RefNbr:      o.Refund.RefNbr,
		Amount:      o.Booked,
		Rule:        o.Rule,
		Reason:      string(o.Reason),
		Detail:      o.Detail,
	}
	switch {
	case o.Index >= 0:
		r.Position += fmt.Sprintf("/TxDtls[%d]", o.Index)
	case o.Key.Tx == "charges":
		r.Position += "/Chrgs"
		r.Amount = chargesSum(o.Charges)
	}
	if r.EndToEndID == "" {
		r.EndToEndID = o.Refund.EndToEndID
	}
	if r.Amount.Currency == "" {
		r.Amount = o.Tx.Amount
	}
	return r
}

// chargesSum adds charges of one currency; for mixed currencies it returns
// the first charge.
func chargesSum(cs []refund.Charge) refund.Amount {
	if len(cs) == 0 {
		return refund.Amount{}
	}
	s := cs[0].Amount
	for _, c := range cs[1:] {
		if c.Amount.Currency != s.Currency {
			return cs[0].Amount
		}
		s.Minor += c.Amount.Minor
	}
	return s
}

// bankRef is the bank's reference of an outcome's booking.
func bankRef(o *refund.Outcome) string {
	if r := o.Entry.BankRef(); r != "" {
		return r
	}
	return o.Tx.AcctSvcrRef
}

// EncodeStatus writes a status file with rows to w.
func EncodeStatus(w io.Writer, rows []StatusRow) error {
	return encode(w, statusHeader(), len(rows), func(i int) []string {
		r := &rows[i]
		return []string{r.RefNbr, r.Batch, r.MsgID, r.EndToEndID, string(r.Status), r.ReasonCode, text(r.ReasonText), timeCell(r.At),
			dateCell(r.BookingDate), r.BankRef, amountCell(r.Booked), string(r.Booked.Currency)}
	})
}

// EncodePostings writes a postings file with the lines of vouchers to w,
// voucher by voucher. The side of a line that is zero is left empty.
func EncodePostings(w io.Writer, vouchers []refund.Voucher) error {
	type line struct {
		v *refund.Voucher
		l refund.Line
	}
	var lines []line
	for i := range vouchers {
		for _, l := range vouchers[i].Lines() {
			lines = append(lines, line{&vouchers[i], l})
		}
	}
	return encode(w, postingsHeader(), len(lines), func(i int) []string {
		v, l := lines[i].v, &lines[i].l
		a := l.Amount()
		debit, credit := amountCell(a), ""
		if l.Debit.Minor == 0 {
			debit, credit = "", amountCell(a)
		}
		return []string{v.ID(), dateCell(v.Date()), l.Account, debit, credit, string(a.Currency), text(l.Text), l.RefNbr, l.CustomerID, l.Batch, l.EndToEndID, l.BankRef}
	})
}

// EncodeMatches writes a matches file with rows to w.
func EncodeMatches(w io.Writer, rows []MatchRow) error {
	return encode(w, matchesHeader(), len(rows), func(i int) []string {
		r := &rows[i]
		return []string{dateCell(r.BookingDate), amountCell(r.Amount), string(r.Amount.Currency), r.BankRef, r.EndToEndID, r.RefNbr, r.Batch, string(r.Rule)}
	})
}

// EncodeExceptions writes an exceptions file with rows to w.
func EncodeExceptions(w io.Writer, rows []ExceptionRow) error {
	return encode(w, exceptionsHeader(), len(rows), func(i int) []string { return exceptionRecord(&rows[i]) })
}

// exceptionRecord returns the cells of an exceptions-file line.
func exceptionRecord(r *ExceptionRow) []string {
	return []string{r.File, r.Position, dateCell(r.BookingDate), string(r.Direction), r.BankRef, r.EndToEndID, r.RefNbr,
		amountCell(r.Amount), string(r.Amount.Currency), string(r.Rule), r.Reason, text(r.Detail)}
}

// encode writes the header and n records to w as semicolon CSV.
func encode(w io.Writer, header []string, n int, record func(i int) []string) error {
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true
	if err := cw.Write(header); err != nil {
		return err
	}
	for i := range n {
		if err := cw.Write(record(i)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// text neutralises a free-text value that a spreadsheet would take for a
// formula, by a leading "'".
func text(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// amountCell formats an amount with the currency's decimals, or "" when it
// has no currency (not known).
func amountCell(a refund.Amount) string {
	if a.Currency == "" {
		return ""
	}
	return a.String()
}

// dateCell formats a date as YYYY-MM-DD, or "" for the zero date.
func dateCell(d refund.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// timeCell formats a time in RFC 3339 in UTC, or "" for the zero time.
func timeCell(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
