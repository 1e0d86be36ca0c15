package camt054

import (
	"fmt"
	"io"
	"slices"
	"strconv"

	"refundd/formats"
	"refundd/formats/internal/field"
	"refundd/formats/internal/xmlout"
)

// V02 is the message Writer writes, camt.054.001.02.
var V02 = formats.Message{Type: formats.Camt054, Version: "001.02", Namespace: "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"}

// Writer writes a camt.054.001.02 notification, streaming: Header, then
// for each notification Report followed by its entries, then Close.
// Nothing but the current element is kept in memory.
//
// What .02 cannot carry (a transaction amount or UETR, charge totals,
// ChrgInclInd, a status other than BOOK, PDNG or INFO, ...) and what the
// schema forbids (a missing required element, a text too long, a bad
// IBAN) is an error wrapping formats.ErrInvalid, never dropped silently;
// after an error the output is incomplete and must be discarded. A
// NewReader on the output gives back every Header, Report and Entry
// written.
type Writer struct {
	x        *xmlout.Writer
	started  bool
	inReport bool
	n        int
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer {
	x := xmlout.New(w)
	x.Wrap = func(err error) error {
		return fmt.Errorf("camt054: write: %w", &formats.Error{Msg: err.Error(), Err: formats.ErrInvalid})
	}
	return &Writer{x: x}
}

// Header writes the XML declaration, the root element and the group
// header. h.Message must be zero or V02.
func (w *Writer) Header(h Header) error {
	x := w.x
	switch {
	case w.started:
		return x.Fail("Header called twice")
	case !h.Message.IsZero() && h.Message != V02:
		return x.Fail("cannot write %s, only %s", h.Message, V02)
	case h.CreationTime.IsZero():
		return x.Fail("GrpHdr/CreDtTm is required")
	}
	w.started = true
	x.Declaration(V02.Namespace)
	x.Start("BkToCstmrDbtCdtNtfctn")
	x.Start("GrpHdr")
	x.Text("MsgId", h.MsgID, 35)
	x.Text("CreDtTm", formats.FormatDateTime(h.CreationTime), 0)
	x.End("GrpHdr")
	return x.Err()
}

// Report ends the notification being written, if any, and starts one for
// r's account.
func (w *Writer) Report(r *Report) error {
	x := w.x
	if !w.started {
		return x.Fail("Report before Header")
	}
	if w.inReport {
		x.End("Ntfctn")
	}
	if r.CreationTime.IsZero() {
		return x.Fail("Ntfctn/CreDtTm is required")
	}
	w.inReport = true
	x.Start("Ntfctn")
	x.Text("Id", r.ID, 35)
	w.number("ElctrncSeqNb", r.ElectronicSeqNb)
	w.number("LglSeqNb", r.LegalSeqNb)
	x.Text("CreDtTm", formats.FormatDateTime(r.CreationTime), 0)
	if r.CopyDuplicate != "" {
		if !slices.Contains([]string{Copy, Duplicate, CopyDuplicate}, r.CopyDuplicate) {
			return x.Fail("CpyDplctInd %q is not COPY, DUPL or CODU", r.CopyDuplicate)
		}
		x.Text("CpyDplctInd", r.CopyDuplicate, 4)
	}
	w.account("Acct", r.Account)
	return x.Err()
}

func (w *Writer) number(tag, s string) {
	if s == "" {
		return
	}
	if len(s) > 18 || !isDigits(s) {
		w.x.Fail("%s %q is not a number of 1 to 18 digits", tag, s)
		return
	}
	w.x.Text(tag, s, 18)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Entry writes one entry into the current notification; e.Report is not
// looked at.
func (w *Writer) Entry(e *Entry) error {
	x := w.x
	if !w.inReport {
		return x.Fail("Entry before Report")
	}
	w.n++
	if e.CreditDebit != Credit && e.CreditDebit != Debit {
		return x.Fail("entry %d: CdtDbtInd %q is not CRDT or DBIT", w.n, e.CreditDebit)
	}
	if !slices.Contains([]string{Booked, Pending, Info}, e.Status) || e.StatusProprietary != "" {
		return x.Fail("entry %d: status %q is not BOOK, PDNG or INFO", w.n, e.Status)
	}
	x.Start("Ntry")
	x.Opt("NtryRef", e.Ref, 35)
	w.amount("Amt", e.Amount)
	x.Text("CdtDbtInd", string(e.CreditDebit), 4)
	if e.Reversal {
		x.Text("RvslInd", "true", 0)
	}
	x.Text("Sts", e.Status, 4)
	w.date("BookgDt", e.BookingDate)
	w.date("ValDt", e.ValueDate)
	x.Opt("AcctSvcrRef", e.AcctSvcrRef, 35)
	w.bankTxCode("BkTxCd", e.BankTxCode, true)
	w.amountDetails(e.AmountDetails)
	w.charges(e.Charges)
	for i := range e.Details {
		w.details(&e.Details[i])
	}
	x.Opt("AddtlNtryInf", e.AdditionalInfo, 500)
	x.End("Ntry")
	return x.Err()
}

// Close ends the document and flushes it; the writer under w is not
// closed.
func (w *Writer) Close() error {
	x := w.x
	if !w.inReport {
		return x.Fail("a notification needs at least one Ntfctn")
	}
	x.End("Ntfctn")
	x.End("BkToCstmrDbtCdtNtfctn")
	return x.Close()
}

func (w *Writer) amount(tag string, a formats.Amount) {
	if err := field.CheckAmount(a); err != nil {
		w.x.Fail("entry %d: %s: %v", w.n, tag, err)
		return
	}
	w.x.TextAttr(tag, "Ccy", a.Currency, a.Decimal.String(), 0)
}

func (w *Writer) date(tag string, d formats.DateTime) {
	if d.IsZero() {
		return
	}
	w.x.Start(tag)
	if d.HasTime {
		w.x.Text("DtTm", formats.FormatDateTime(d.Time), 0)
	} else {
		w.x.Text("Dt", d.Time.Format("2006-01-02"), 0)
	}
	w.x.End(tag)
}

func (w *Writer) bankTxCode(tag string, c BankTxCode, required bool) {
	x := w.x
	if c.IsZero() {
		if required {
			x.Empty(tag)
		}
		return
	}
	x.Start(tag)
	if c.Domain != "" || c.Family != "" || c.SubFamily != "" {
		x.Start("Domn")
		x.Text("Cd", c.Domain, 4)
		x.Start("Fmly")
		x.Text("Cd", c.Family, 4)
		x.Text("SubFmlyCd", c.SubFamily, 4)
		x.End("Fmly")
		x.End("Domn")
	}
	if c.Proprietary != "" || c.Issuer != "" {
		x.Start("Prtry")
		x.Text("Cd", c.Proprietary, 35)
		x.Opt("Issr", c.Issuer, 35)
		x.End("Prtry")
	}
	x.End(tag)
}

func (w *Writer) amountDetails(a AmountDetails) {
	if a == (AmountDetails{}) {
		return
	}
	x := w.x
	x.Start("AmtDtls")
	for _, v := range []struct {
		tag string
		a   formats.Amount
	}{{"InstdAmt", a.Instructed}, {"TxAmt", a.Transaction}, {"CntrValAmt", a.CounterValue}} {
		if !v.a.IsZero() {
			x.Start(v.tag)
			w.amount("Amt", v.a)
			x.End(v.tag)
		}
	}
	x.End("AmtDtls")
}

func (w *Writer) charges(c Charges) {
	x := w.x
	if !c.Total.IsZero() {
		x.Fail("entry %d: camt.054.001.02 has no charges total (TtlChrgsAndTaxAmt of all records)", w.n)
		return
	}
	for _, r := range c.Records {
		if r.Included != nil {
			x.Fail("entry %d: camt.054.001.02 has no ChrgInclInd", w.n)
			return
		}
		x.Start("Chrgs")
		if !r.TotalAndTax.IsZero() {
			w.amount("TtlChrgsAndTaxAmt", r.TotalAndTax)
		}
		w.amount("Amt", r.Amount)
		if r.CreditDebit != "" {
			if r.CreditDebit != Credit && r.CreditDebit != Debit {
				x.Fail("entry %d: charge CdtDbtInd %q is not CRDT or DBIT", w.n, r.CreditDebit)
			}
			x.Text("CdtDbtInd", string(r.CreditDebit), 4)
		}
		switch {
		case r.Type != "" && r.TypeProprietary != "":
			x.Fail("entry %d: charge has both a type code and a proprietary type", w.n)
		case r.Type != "":
			if r.Type != "BRKF" && r.Type != "COMM" {
				x.Fail("entry %d: charge type %q is not BRKF or COMM", w.n, r.Type)
			}
			x.Start("Tp")
			x.Text("Cd", r.Type, 4)
			x.End("Tp")
		case r.TypeProprietary != "":
			x.Start("Tp")
			x.Start("Prtry")
			x.Text("Id", r.TypeProprietary, 35)
			x.End("Prtry")
			x.End("Tp")
		}
		if r.Bearer != "" {
			if !slices.Contains([]string{"DEBT", "CRED", "SHAR", "SLEV"}, r.Bearer) {
				x.Fail("entry %d: charge bearer %q is not DEBT, CRED, SHAR or SLEV", w.n, r.Bearer)
			}
			x.Text("Br", r.Bearer, 4)
		}
		x.End("Chrgs")
	}
}

func (w *Writer) details(d *Details) {
	x := w.x
	x.Start("NtryDtls")
	if b := d.Batch; b != nil {
		x.Start("Btch")
		x.Opt("MsgId", b.MsgID, 35)
		x.Opt("PmtInfId", b.PmtInfID, 35)
		if b.NbOfTxs < 0 || b.NbOfTxs > 999_999_999_999_999 {
			x.Fail("entry %d: Btch/NbOfTxs %d is out of range", w.n, b.NbOfTxs)
		}
		if b.NbOfTxs > 0 {
			x.Text("NbOfTxs", strconv.Itoa(b.NbOfTxs), 15)
		}
		if !b.Total.IsZero() {
			w.amount("TtlAmt", b.Total)
		}
		if b.CreditDebit != "" {
			if b.CreditDebit != Credit && b.CreditDebit != Debit {
				x.Fail("entry %d: Btch/CdtDbtInd %q is not CRDT or DBIT", w.n, b.CreditDebit)
			}
			x.Text("CdtDbtInd", string(b.CreditDebit), 4)
		}
		x.End("Btch")
	}
	for i := range d.Transactions {
		w.transaction(&d.Transactions[i])
	}
	x.End("NtryDtls")
}

func (w *Writer) transaction(tx *Transaction) {
	x := w.x
	r := &tx.Refs
	switch {
	case !tx.Amount.IsZero() || tx.CreditDebit != "":
		x.Fail("entry %d: camt.054.001.02 has no TxDtls/Amt or CdtDbtInd (use AmountDetails)", w.n)
		return
	case r.UETR != "" || r.AcctOwnrTxID != "" || r.AcctSvcrTxID != "" || r.MktInfrstrctrTxID != "" || r.PrcgID != "":
		x.Fail("entry %d: camt.054.001.02 has no UETR, AcctOwnrTxId, AcctSvcrTxId, MktInfrstrctrTxId or PrcgId", w.n)
		return
	case len(r.Proprietary) > 1:
		x.Fail("entry %d: camt.054.001.02 has at most one Refs/Prtry", w.n)
		return
	}
	x.Start("TxDtls")
	if !refsZero(r) {
		x.Start("Refs")
		x.Opt("MsgId", r.MsgID, 35)
		x.Opt("AcctSvcrRef", r.AcctSvcrRef, 35)
		x.Opt("PmtInfId", r.PmtInfID, 35)
		x.Opt("InstrId", r.InstrID, 35)
		x.Opt("EndToEndId", r.EndToEndID, 35)
		x.Opt("TxId", r.TxID, 35)
		x.Opt("MndtId", r.MandateID, 35)
		x.Opt("ChqNb", r.ChequeNb, 35)
		x.Opt("ClrSysRef", r.ClrSysRef, 35)
		for _, p := range r.Proprietary {
			x.Start("Prtry")
			x.Text("Tp", p.Type, 35)
			x.Text("Ref", p.Ref, 35)
			x.End("Prtry")
		}
		x.End("Refs")
	}
	w.amountDetails(tx.AmountDetails)
	w.bankTxCode("BkTxCd", tx.BankTxCode, false)
	w.charges(tx.Charges)
	w.parties(&tx.Parties)
	w.remittance(&tx.Remittance)
	if rt := tx.Return; rt != nil {
		x.Start("RtrInf")
		w.bankTxCode("OrgnlBkTxCd", rt.OriginalBankTxCode, false)
		if rt.OriginatorName != "" {
			x.Start("Orgtr")
			x.Text("Nm", rt.OriginatorName, 140)
			x.End("Orgtr")
		}
		switch {
		case rt.Reason != "" && rt.ReasonProprietary != "":
			x.Fail("entry %d: RtrInf has both a reason code and a proprietary reason", w.n)
		case rt.Reason != "":
			x.Start("Rsn")
			x.Text("Cd", rt.Reason, 4)
			x.End("Rsn")
		case rt.ReasonProprietary != "":
			x.Start("Rsn")
			x.Text("Prtry", rt.ReasonProprietary, 35)
			x.End("Rsn")
		}
		for _, s := range rt.AdditionalInfo {
			x.Text("AddtlInf", s, 105)
		}
		x.End("RtrInf")
	}
	x.Opt("AddtlTxInf", tx.AdditionalInfo, 500)
	x.End("TxDtls")
}

func refsZero(r *Refs) bool {
	return r.MsgID == "" && r.AcctSvcrRef == "" && r.PmtInfID == "" && r.InstrID == "" && r.EndToEndID == "" &&
		r.TxID == "" && r.MandateID == "" && r.ChequeNb == "" && r.ClrSysRef == "" && len(r.Proprietary) == 0
}

func (w *Writer) parties(p *Parties) {
	if *p == (Parties{}) {
		return
	}
	x := w.x
	x.Start("RltdPties")
	if p.DebtorName != "" {
		x.Start("Dbtr")
		x.Text("Nm", p.DebtorName, 140)
		x.End("Dbtr")
	}
	if !p.DebtorAccount.IsZero() {
		w.account("DbtrAcct", p.DebtorAccount)
	}
	if p.CreditorName != "" {
		x.Start("Cdtr")
		x.Text("Nm", p.CreditorName, 140)
		x.End("Cdtr")
	}
	if !p.CreditorAccount.IsZero() {
		w.account("CdtrAcct", p.CreditorAccount)
	}
	x.End("RltdPties")
}

func (w *Writer) remittance(r *Remittance) {
	if len(r.Unstructured) == 0 && len(r.Structured) == 0 {
		return
	}
	x := w.x
	x.Start("RmtInf")
	for _, s := range r.Unstructured {
		x.Text("Ustrd", s, 140)
	}
	for _, c := range r.Structured {
		if c == (CreditorRef{}) {
			x.Fail("entry %d: empty creditor reference", w.n)
			return
		}
		x.Start("Strd")
		x.Start("CdtrRefInf")
		if c.Type != "" || c.TypeProprietary != "" || c.Issuer != "" {
			x.Start("Tp")
			x.Start("CdOrPrtry")
			switch {
			case c.Type != "" && c.TypeProprietary != "" || c.Type == "" && c.TypeProprietary == "":
				x.Fail("entry %d: creditor reference type needs exactly one of a code and a proprietary type", w.n)
			case c.Type != "":
				if !slices.Contains([]string{"RADM", "RPIN", "FXDR", "DISP", "PUOR", "SCOR"}, c.Type) {
					x.Fail("entry %d: creditor reference type %q is not a DocumentType3Code", w.n, c.Type)
				}
				x.Text("Cd", c.Type, 4)
			default:
				x.Text("Prtry", c.TypeProprietary, 35)
			}
			x.End("CdOrPrtry")
			x.Opt("Issr", c.Issuer, 35)
			x.End("Tp")
		}
		x.Opt("Ref", c.Ref, 35)
		x.End("CdtrRefInf")
		x.End("Strd")
	}
	x.End("RmtInf")
}

func (w *Writer) account(tag string, a Account) {
	x := w.x
	x.Start(tag)
	x.Start("Id")
	switch {
	case a.IBAN != "" && a.Other != "" || a.IBAN == "" && a.Other == "":
		x.Fail("%s needs exactly one of an IBAN and another id", tag)
	case a.IBAN != "":
		if !validIBAN(a.IBAN) || a.Scheme != "" || a.SchemeProprietary != "" {
			x.Fail("%s: %q is not an IBAN (two letters, two digits, 1 to 30 letters or digits), or has a scheme", tag, a.IBAN)
		}
		x.Text("IBAN", a.IBAN, 34)
	default:
		x.Start("Othr")
		x.Text("Id", a.Other, 34)
		switch {
		case a.Scheme != "" && a.SchemeProprietary != "":
			x.Fail("%s has both a scheme code and a proprietary scheme", tag)
		case a.Scheme != "":
			x.Start("SchmeNm")
			x.Text("Cd", a.Scheme, 4)
			x.End("SchmeNm")
		case a.SchemeProprietary != "":
			x.Start("SchmeNm")
			x.Text("Prtry", a.SchemeProprietary, 35)
			x.End("SchmeNm")
		}
		x.End("Othr")
	}
	x.End("Id")
	if a.Currency != "" {
		if !formats.ValidCurrency(a.Currency) {
			x.Fail("%s: currency %q is not three capital letters", tag, a.Currency)
		}
		x.Text("Ccy", a.Currency, 3)
	}
	x.End(tag)
}

func validIBAN(s string) bool {
	if len(s) < 5 || len(s) > 34 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'A' && c <= 'Z'
		digit := c >= '0' && c <= '9'
		switch {
		case i < 2 && !letter, i >= 2 && i < 4 && !digit, i >= 4 && !letter && !digit && !(c >= 'a' && c <= 'z'):
			return false
		}
	}
	return true
}
