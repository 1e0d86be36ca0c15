package camt054

import (
	"fmt"
	"io"

	"refundd/formats"
	"refundd/formats/internal/field"
	"refundd/formats/internal/xmlin"
)

// Options bounds what a Reader accepts; see formats.Options.
type Options = formats.Options

// Reader reads the entries of a camt.054 or camt.053 one at a time.
type Reader struct {
	p        parser
	hdr      Header
	rep      *Report // the report being read; nil between reports
	repSeen  uint64
	inNtries bool // an entry of rep has been read
	reports  int
	line     int
	err      error
}

// Versions returns the messages NewReader reads: camt.053.001.02 and
// camt.054.001.02, .04 and .08.
func Versions() []formats.Message { return formats.Messages(formats.Camt053, formats.Camt054) }

// NewReader starts reading a camt.054.001.02, .04 or .08, or a
// camt.053.001.02, from r, and reads its group header.
//
// The document is untrusted. It is read within the limits of o (size,
// nesting depth, token length); the size limit is enforced while reading,
// without reading the rest of a larger file. A DOCTYPE, content after the
// root element, an encoding other than UTF-8, ISO-8859-1, ISO-8859-15 and
// windows-1252, bytes invalid in the encoding, an element outside the
// message's namespace, a single element given twice, a missing required
// element, an amount that is not an exact unsigned decimal, or a code or
// date that is not valid for the version is an error. An unknown namespace
// wraps formats.ErrUnknownMessage and names it. The errors wrap the
// sentinel errors of package formats.
func NewReader(r io.Reader, o Options) (*Reader, error) {
	d, m, err := formats.Open(r, o, formats.Camt054, formats.Camt053)
	if err != nil {
		return nil, fmt.Errorf("camt054: new reader: %w", err)
	}
	rd := &Reader{p: parser{d: d, stmt: m.Type == formats.Camt053}}
	switch m.Version {
	case "001.02":
		rd.p.v = 2
	case "001.04":
		rd.p.v = 4
	default:
		rd.p.v = 8
	}
	rd.hdr.Message = m
	if err := rd.start(); err != nil {
		return nil, fmt.Errorf("camt054: new reader %s: %w", m, err)
	}
	return rd, nil
}

// Header returns the message's group header.
func (r *Reader) Header() Header { return r.hdr }

// Line returns the line on which the entry last returned by Next starts.
func (r *Reader) Line() int { return r.line }

// start reads up to the end of the group header.
func (r *Reader) start() error {
	d := r.p.d
	want := "BkToCstmrDbtCdtNtfctn"
	if r.p.stmt {
		want = "BkToCstmrStmt"
	}
	name, ok, err := d.Child()
	if err != nil {
		return err
	}
	if !ok || string(name) != want {
		return d.Fail(xmlin.ErrInvalid, "Document must hold one %s", want)
	}
	if name, ok, err = d.Child(); err != nil {
		return err
	}
	if !ok || string(name) != "GrpHdr" {
		return d.Fail(xmlin.ErrInvalid, "%s must start with GrpHdr", want)
	}
	return r.p.header(&r.hdr)
}

// Next returns the next entry, or io.EOF after the last one once the whole
// document has been read and found complete. Any other error ends the
// reading: every later call returns it.
//
// A document that is cut short is only found out at the point where it
// ends, after the entries before that point have been returned. A caller
// must therefore not commit (book, post, mark as processed) any entry of a
// document before Next has returned io.EOF.
//
// The returned Entry is new on every call; memory does not grow with the
// number of entries read. Entries come in document order; a notification
// (or statement) without entries yields none, and its header is checked
// all the same.
func (r *Reader) Next() (*Entry, error) {
	if r.err != nil {
		return nil, r.err
	}
	e, err := r.next()
	if err != nil {
		if err != io.EOF {
			err = fmt.Errorf("camt054: read %s: %w", r.hdr.Message, err)
		}
		r.err = err
		return nil, err
	}
	return e, nil
}

func (r *Reader) next() (*Entry, error) {
	d := r.p.d
	report, addtl := "Ntfctn", "AddtlNtfctnInf"
	if r.p.stmt {
		report, addtl = "Stmt", "AddtlStmtInf"
	}
	for {
		if r.rep == nil {
			name, ok, err := d.Child()
			if err != nil {
				return nil, err
			}
			if !ok {
				if r.reports == 0 {
					return nil, d.Fail(xmlin.ErrInvalid, "the message has no %s", report)
				}
				return nil, r.end()
			}
			switch string(name) {
			case report:
				r.rep, r.repSeen, r.inNtries = &Report{}, 0, false
				r.reports++
			case "SplmtryData":
				err = d.SkipAny()
			case "GrpHdr":
				err = d.Fail(xmlin.ErrInvalid, "a second GrpHdr")
			default:
				err = d.Skip()
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		name, ok, err := d.Child()
		if err != nil {
			return nil, err
		}
		if !ok {
			if !r.inNtries {
				if err := r.p.checkReport(r.repSeen, report); err != nil {
					return nil, err
				}
			}
			r.rep = nil
			continue
		}
		switch {
		case string(name) == "Ntry":
			if !r.inNtries {
				if err := r.p.checkReport(r.repSeen, report); err != nil {
					return nil, err
				}
				r.inNtries = true
			}
			r.line = d.Line()
			d.ResetItems()
			e := &Entry{Report: r.rep}
			if err := r.p.entry(e); err != nil {
				return nil, err
			}
			return e, nil
		case r.inNtries && string(name) == addtl:
			err = d.Skip()
		case r.inNtries:
			// The report's fields are fixed once an entry has been
			// returned with it.
			err = d.Fail(xmlin.ErrInvalid, "%s after the entries of the %s", name, report)
		default:
			err = r.p.reportField(name, r.rep, &r.repSeen)
		}
		if err != nil {
			return nil, err
		}
	}
}

// end reads the end of the document after the message element.
func (r *Reader) end() error {
	d := r.p.d
	if _, ok, err := d.Child(); err != nil || ok {
		if err == nil {
			err = d.Fail(xmlin.ErrInvalid, "Document holds more than one message")
		}
		return err
	}
	if err := d.End(); err != nil {
		return err
	}
	return io.EOF
}

type parser struct {
	d    *xmlin.Decoder
	v    int // message version: 2, 4 or 8
	stmt bool
}

func (p *parser) invalid(format string, args ...any) error {
	return p.d.Fail(xmlin.ErrInvalid, format, args...)
}

func (p *parser) header(h *Header) error {
	d := p.d
	const (
		fMsgID = 1 << iota
		fCreDtTm
	)
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "MsgId":
			if err = field.Once(d, &seen, fMsgID); err == nil {
				h.MsgID, err = field.ID(d)
			}
		case "CreDtTm":
			if err = field.Once(d, &seen, fCreDtTm); err == nil {
				h.CreationTime, err = field.DateTime(d)
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
	if seen != fMsgID|fCreDtTm {
		return p.invalid("GrpHdr needs MsgId and CreDtTm")
	}
	return nil
}

const (
	rID = 1 << iota
	rElctrncSeqNb
	rLglSeqNb
	rCreDtTm
	rCpyDplctInd
	rAcct
)

func (p *parser) reportField(name []byte, rep *Report, seen *uint64) error {
	d := p.d
	var err error
	switch string(name) {
	case "Id":
		if err = field.Once(d, seen, rID); err == nil {
			rep.ID, err = field.ID(d)
		}
	case "ElctrncSeqNb":
		if err = field.Once(d, seen, rElctrncSeqNb); err == nil {
			rep.ElectronicSeqNb, err = p.number()
		}
	case "LglSeqNb":
		if err = field.Once(d, seen, rLglSeqNb); err == nil {
			rep.LegalSeqNb, err = p.number()
		}
	case "CreDtTm":
		if err = field.Once(d, seen, rCreDtTm); err == nil {
			rep.CreationTime, err = field.DateTime(d)
		}
	case "CpyDplctInd":
		if err = field.Once(d, seen, rCpyDplctInd); err == nil {
			rep.CopyDuplicate, err = field.OneOf(d, Copy, Duplicate, CopyDuplicate)
		}
	case "Acct":
		if err = field.Once(d, seen, rAcct); err == nil {
			rep.Account, err = p.account()
		}
	default:
		err = d.Skip()
	}
	return err
}

func (p *parser) checkReport(seen uint64, report string) error {
	switch {
	case seen&rID == 0:
		return p.invalid("%s has no Id", report)
	case seen&rAcct == 0:
		return p.invalid("%s has no Acct", report)
	case seen&rCreDtTm == 0 && p.v != 8:
		return p.invalid("%s has no CreDtTm", report)
	}
	return nil
}

// number reads a Number: up to 18 digits, kept as written.
func (p *parser) number() (string, error) {
	s, err := p.d.Text()
	if err != nil {
		return "", err
	}
	if len(s) == 0 || len(s) > 18 {
		return "", p.invalid("%q is not a number of 1 to 18 digits", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", p.invalid("%q is not a number of 1 to 18 digits", s)
		}
	}
	return s, nil
}

// account reads a CashAccount.
func (p *parser) account() (Account, error) {
	d := p.d
	var a Account
	const (
		fID = 1 << iota
		fCcy
	)
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil {
			return a, err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "Id":
			if err = field.Once(d, &seen, fID); err == nil {
				err = p.accountID(&a)
			}
		case "Ccy":
			if err = field.Once(d, &seen, fCcy); err == nil {
				a.Currency, err = field.Code(d, 3)
				if err == nil && !formats.ValidCurrency(a.Currency) {
					err = p.invalid("currency %q is not three capital letters", a.Currency)
				}
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return a, err
		}
	}
	if seen&fID == 0 {
		return a, p.invalid("account has no Id")
	}
	return a, nil
}

// accountID reads an AccountIdentification4Choice: IBAN or Othr.
func (p *parser) accountID(a *Account) error {
	d := p.d
	n := 0
	for {
		name, ok, err := d.Child()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "IBAN":
			n++
			a.IBAN, err = d.Text()
		case "Othr":
			n++
			err = p.otherAccount(a)
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
		if n > 1 {
			return p.invalid("account Id has more than one of IBAN and Othr")
		}
	}
	if n == 0 {
		return p.invalid("account Id has neither IBAN nor Othr")
	}
	return nil
}

func (p *parser) otherAccount(a *Account) error {
	d := p.d
	const (
		fID = 1 << iota
		fScheme
	)
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "Id":
			if err = field.Once(d, &seen, fID); err == nil {
				a.Other, err = d.Text()
			}
		case "SchmeNm":
			if err = field.Once(d, &seen, fScheme); err == nil {
				a.Scheme, a.SchemeProprietary, err = field.Choice(d, "SchmeNm", 4)
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
	if seen&fID == 0 {
		return p.invalid("Othr has no Id")
	}
	return nil
}

func (p *parser) creditDebit() (CreditDebit, error) {
	s, err := field.OneOf(p.d, string(Credit), string(Debit))
	return CreditDebit(s), err
}

func (p *parser) entry(e *Entry) error {
	d := p.d
	const (
		fRef = 1 << iota
		fAmt
		fCdtDbt
		fRvsl
		fSts
		fBookgDt
		fValDt
		fAcctSvcrRef
		fBkTxCd
		fAmtDtls
		fChrgs
		fAddtl
	)
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "NtryRef":
			if err = field.Once(d, &seen, fRef); err == nil {
				e.Ref, err = d.Text()
			}
		case "Amt":
			if err = field.Once(d, &seen, fAmt); err == nil {
				e.Amount, err = field.Amount(d)
			}
		case "CdtDbtInd":
			if err = field.Once(d, &seen, fCdtDbt); err == nil {
				e.CreditDebit, err = p.creditDebit()
			}
		case "RvslInd":
			if err = field.Once(d, &seen, fRvsl); err == nil {
				e.Reversal, err = field.Bool(d)
			}
		case "Sts":
			if err = field.Once(d, &seen, fSts); err == nil {
				err = p.status(e)
			}
		case "BookgDt":
			if err = field.Once(d, &seen, fBookgDt); err == nil {
				e.BookingDate, err = field.DateChoice(d, "BookgDt")
			}
		case "ValDt":
			if err = field.Once(d, &seen, fValDt); err == nil {
				e.ValueDate, err = field.DateChoice(d, "ValDt")
			}
		case "AcctSvcrRef":
			if err = field.Once(d, &seen, fAcctSvcrRef); err == nil {
				e.AcctSvcrRef, err = d.Text()
			}
		case "BkTxCd":
			if err = field.Once(d, &seen, fBkTxCd); err == nil {
				e.BankTxCode, err = p.bankTxCode()
			}
		case "AmtDtls":
			if err = field.Once(d, &seen, fAmtDtls); err == nil {
				e.AmountDetails, err = p.amountDetails()
			}
		case "Chrgs":
			if p.v != 2 {
				err = field.Once(d, &seen, fChrgs)
			}
			if err == nil {
				err = p.charges(&e.Charges)
			}
		case "NtryDtls":
			if err = d.Item(); err != nil {
				break
			}
			e.Details = append(e.Details, Details{})
			err = p.details(&e.Details[len(e.Details)-1])
		case "AddtlNtryInf":
			if err = field.Once(d, &seen, fAddtl); err == nil {
				e.AdditionalInfo, err = d.Text()
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
	switch {
	case seen&fAmt == 0:
		return p.invalid("Ntry has no Amt")
	case seen&fCdtDbt == 0:
		return p.invalid("Ntry has no CdtDbtInd")
	case seen&fSts == 0:
		return p.invalid("Ntry has no Sts")
	}
	return nil
}

// status reads Ntry/Sts: text in .02 and .04 (BOOK, PDNG or INFO), a
// choice of Cd and Prtry in .08.
func (p *parser) status(e *Entry) error {
	if p.v == 8 {
		var err error
		e.Status, e.StatusProprietary, err = field.Choice(p.d, "Sts", 4)
		return err
	}
	var err error
	e.Status, err = field.OneOf(p.d, Booked, Pending, Info)
	return err
}

func (p *parser) bankTxCode() (BankTxCode, error) {
	d := p.d
	var c BankTxCode
	const (
		fDomn = 1 << iota
		fPrtry
	)
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil || !ok {
			return c, err
		}
		switch string(name) {
		case "Domn":
			if err = field.Once(d, &seen, fDomn); err == nil {
				err = p.domain(&c)
			}
		case "Prtry":
			if err = field.Once(d, &seen, fPrtry); err == nil {
				err = p.proprietaryCode(&c)
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return c, err
		}
	}
}

func (p *parser) domain(c *BankTxCode) error {
	d := p.d
	const (
		fCd = 1 << iota
		fFmly
		fFmlyCd
		fSub
	)
	var seen uint64
	for depth := 0; ; {
		name, ok, err := d.Child()
		if err != nil {
			return err
		}
		if !ok {
			if depth == 1 {
				depth--
				continue
			}
			break
		}
		switch {
		case depth == 0 && string(name) == "Cd":
			if err = field.Once(d, &seen, fCd); err == nil {
				c.Domain, err = field.Code(d, 4)
			}
		case depth == 0 && string(name) == "Fmly":
			if err = field.Once(d, &seen, fFmly); err == nil {
				depth++
			}
		case depth == 1 && string(name) == "Cd":
			if err = field.Once(d, &seen, fFmlyCd); err == nil {
				c.Family, err = field.Code(d, 4)
			}
		case depth == 1 && string(name) == "SubFmlyCd":
			if err = field.Once(d, &seen, fSub); err == nil {
				c.SubFamily, err = field.Code(d, 4)
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
	if seen != fCd|fFmly|fFmlyCd|fSub {
		return p.invalid("BkTxCd/Domn needs Cd, Fmly/Cd and Fmly/SubFmlyCd")
	}
	return nil
}

func (p *parser) proprietaryCode(c *BankTxCode) error {
	d := p.d
	const (
		fCd = 1 << iota
		fIssr
	)
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "Cd":
			if err = field.Once(d, &seen, fCd); err == nil {
				c.Proprietary, err = d.Text()
			}
		case "Issr":
			if err = field.Once(d, &seen, fIssr); err == nil {
				c.Issuer, err = d.Text()
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
	if seen&fCd == 0 {
		return p.invalid("BkTxCd/Prtry has no Cd")
	}
	return nil
}

// amountDetails reads an AmtDtls.
func (p *parser) amountDetails() (AmountDetails, error) {
	d := p.d
	var a AmountDetails
	const (
		fInstd = 1 << iota
		fTx
		fCntrVal
	)
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil || !ok {
			return a, err
		}
		switch string(name) {
		case "InstdAmt":
			if err = field.Once(d, &seen, fInstd); err == nil {
				a.Instructed, err = p.amountIn("InstdAmt")
			}
		case "TxAmt":
			if err = field.Once(d, &seen, fTx); err == nil {
				a.Transaction, err = p.amountIn("TxAmt")
			}
		case "CntrValAmt":
			if err = field.Once(d, &seen, fCntrVal); err == nil {
				a.CounterValue, err = p.amountIn("CntrValAmt")
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return a, err
		}
	}
}

// amountIn reads the Amt of the element tag (an
// AmountAndCurrencyExchangeDetails).
func (p *parser) amountIn(tag string) (formats.Amount, error) {
	d := p.d
	var a formats.Amount
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil {
			return a, err
		}
		if !ok {
			break
		}
		if string(name) == "Amt" {
			if err = field.Once(d, &seen, 1); err == nil {
				a, err = field.Amount(d)
			}
		} else {
			err = d.Skip()
		}
		if err != nil {
			return a, err
		}
	}
	if seen == 0 {
		return a, p.invalid("%s has no Amt", tag)
	}
	return a, nil
}

// charges reads one Chrgs: in .02 one ChargesInformation record, in .04
// and .08 a total and a list of records.
func (p *parser) charges(c *Charges) error {
	if p.v == 2 {
		if err := p.d.Item(); err != nil {
			return err
		}
		c.Records = append(c.Records, Charge{})
		return p.charge(&c.Records[len(c.Records)-1])
	}
	d := p.d
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil || !ok {
			return err
		}
		switch string(name) {
		case "TtlChrgsAndTaxAmt":
			if err = field.Once(d, &seen, 1); err == nil {
				c.Total, err = field.Amount(d)
			}
		case "Rcrd":
			if err = d.Item(); err != nil {
				break
			}
			c.Records = append(c.Records, Charge{})
			err = p.charge(&c.Records[len(c.Records)-1])
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
}

func (p *parser) charge(c *Charge) error {
	d := p.d
	const (
		fTotal = 1 << iota
		fAmt
		fCdtDbt
		fIncl
		fTp
		fBr
	)
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "TtlChrgsAndTaxAmt":
			if err = field.Once(d, &seen, fTotal); err == nil {
				c.TotalAndTax, err = field.Amount(d)
			}
		case "Amt":
			if err = field.Once(d, &seen, fAmt); err == nil {
				c.Amount, err = field.Amount(d)
			}
		case "CdtDbtInd":
			if err = field.Once(d, &seen, fCdtDbt); err == nil {
				c.CreditDebit, err = p.creditDebit()
			}
		case "ChrgInclInd":
			if err = field.Once(d, &seen, fIncl); err == nil {
				var b bool
				b, err = field.Bool(d)
				c.Included = &b
			}
		case "Tp":
			if err = field.Once(d, &seen, fTp); err == nil {
				err = p.chargeType(c)
			}
		case "Br":
			if err = field.Once(d, &seen, fBr); err == nil {
				c.Bearer, err = field.OneOf(d, "DEBT", "CRED", "SHAR", "SLEV")
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
	if seen&fAmt == 0 {
		return p.invalid("charge has no Amt")
	}
	return nil
}

// chargeType reads a ChargeType2Choice or ChargeType3Choice: Cd or
// Prtry/Id.
func (p *parser) chargeType(c *Charge) error {
	d := p.d
	n := 0
	for {
		name, ok, err := d.Child()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "Cd":
			n++
			c.Type, err = field.Code(d, 4)
		case "Prtry":
			n++
			err = p.genericID(&c.TypeProprietary)
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
		if n > 1 {
			return p.invalid("charge Tp has more than one of Cd and Prtry")
		}
	}
	if n == 0 {
		return p.invalid("charge Tp has neither Cd nor Prtry")
	}
	return nil
}

// genericID reads the Id of a GenericIdentification.
func (p *parser) genericID(id *string) error {
	d := p.d
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if string(name) == "Id" {
			if err = field.Once(d, &seen, 1); err == nil {
				*id, err = d.Text()
			}
		} else {
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
	if seen == 0 {
		return p.invalid("Prtry has no Id")
	}
	return nil
}

func (p *parser) details(dt *Details) error {
	d := p.d
	for {
		name, ok, err := d.Child()
		if err != nil || !ok {
			return err
		}
		switch string(name) {
		case "Btch":
			if dt.Batch != nil {
				err = p.invalid("element appears more than once")
				break
			}
			dt.Batch = &Batch{}
			err = p.batch(dt.Batch)
		case "TxDtls":
			if err = d.Item(); err != nil {
				break
			}
			dt.Transactions = append(dt.Transactions, Transaction{})
			err = p.transaction(&dt.Transactions[len(dt.Transactions)-1])
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
}

func (p *parser) batch(b *Batch) error {
	d := p.d
	const (
		fMsgID = 1 << iota
		fPmtInfID
		fNb
		fTtl
		fCdtDbt
	)
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil || !ok {
			return err
		}
		switch string(name) {
		case "MsgId":
			if err = field.Once(d, &seen, fMsgID); err == nil {
				b.MsgID, err = d.Text()
			}
		case "PmtInfId":
			if err = field.Once(d, &seen, fPmtInfID); err == nil {
				b.PmtInfID, err = d.Text()
			}
		case "NbOfTxs":
			if err = field.Once(d, &seen, fNb); err == nil {
				b.NbOfTxs, err = field.Count(d)
			}
		case "TtlAmt":
			if err = field.Once(d, &seen, fTtl); err == nil {
				b.Total, err = field.Amount(d)
			}
		case "CdtDbtInd":
			if err = field.Once(d, &seen, fCdtDbt); err == nil {
				b.CreditDebit, err = p.creditDebit()
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
}

func (p *parser) transaction(tx *Transaction) error {
	d := p.d
	const (
		fRefs = 1 << iota
		fAmt
		fCdtDbt
		fAmtDtls
		fBkTxCd
		fChrgs
		fPties
		fRmtInf
		fRtrInf
		fAddtl
	)
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil || !ok {
			return err
		}
		switch string(name) {
		case "Refs":
			if err = field.Once(d, &seen, fRefs); err == nil {
				err = p.refs(&tx.Refs)
			}
		case "Amt":
			if err = field.Once(d, &seen, fAmt); err == nil {
				tx.Amount, err = field.Amount(d)
			}
		case "CdtDbtInd":
			if err = field.Once(d, &seen, fCdtDbt); err == nil {
				tx.CreditDebit, err = p.creditDebit()
			}
		case "AmtDtls":
			if err = field.Once(d, &seen, fAmtDtls); err == nil {
				tx.AmountDetails, err = p.amountDetails()
			}
		case "BkTxCd":
			if err = field.Once(d, &seen, fBkTxCd); err == nil {
				tx.BankTxCode, err = p.bankTxCode()
			}
		case "Chrgs":
			if p.v != 2 {
				err = field.Once(d, &seen, fChrgs)
			}
			if err == nil {
				err = p.charges(&tx.Charges)
			}
		case "RltdPties":
			if err = field.Once(d, &seen, fPties); err == nil {
				err = p.parties(&tx.Parties)
			}
		case "RmtInf":
			if err = field.Once(d, &seen, fRmtInf); err == nil {
				err = p.remittance(&tx.Remittance)
			}
		case "RtrInf":
			if err = field.Once(d, &seen, fRtrInf); err == nil {
				tx.Return = &Return{}
				err = p.returnInfo(tx.Return)
			}
		case "AddtlTxInf":
			if err = field.Once(d, &seen, fAddtl); err == nil {
				tx.AdditionalInfo, err = d.Text()
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
}

func (p *parser) refs(r *Refs) error {
	d := p.d
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil || !ok {
			return err
		}
		var dst *string
		var bit uint64
		switch string(name) {
		case "MsgId":
			dst, bit = &r.MsgID, 1<<0
		case "AcctSvcrRef":
			dst, bit = &r.AcctSvcrRef, 1<<1
		case "PmtInfId":
			dst, bit = &r.PmtInfID, 1<<2
		case "InstrId":
			dst, bit = &r.InstrID, 1<<3
		case "EndToEndId":
			dst, bit = &r.EndToEndID, 1<<4
		case "UETR":
			dst, bit = &r.UETR, 1<<5
		case "TxId":
			dst, bit = &r.TxID, 1<<6
		case "MndtId":
			dst, bit = &r.MandateID, 1<<7
		case "ChqNb":
			dst, bit = &r.ChequeNb, 1<<8
		case "ClrSysRef":
			dst, bit = &r.ClrSysRef, 1<<9
		case "AcctOwnrTxId":
			dst, bit = &r.AcctOwnrTxID, 1<<10
		case "AcctSvcrTxId":
			dst, bit = &r.AcctSvcrTxID, 1<<11
		case "MktInfrstrctrTxId":
			dst, bit = &r.MktInfrstrctrTxID, 1<<12
		case "PrcgId":
			dst, bit = &r.PrcgID, 1<<13
		case "Prtry":
			if err = d.Item(); err != nil {
				break
			}
			var pr ProprietaryRef
			pr, err = p.proprietaryRef()
			r.Proprietary = append(r.Proprietary, pr)
		default:
			err = d.Skip()
		}
		if dst != nil {
			if err = field.Once(d, &seen, bit); err == nil {
				*dst, err = d.Text()
			}
		}
		if err != nil {
			return err
		}
	}
}

func (p *parser) proprietaryRef() (ProprietaryRef, error) {
	d := p.d
	var r ProprietaryRef
	const (
		fTp = 1 << iota
		fRef
	)
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil {
			return r, err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "Tp":
			if err = field.Once(d, &seen, fTp); err == nil {
				r.Type, err = d.Text()
			}
		case "Ref":
			if err = field.Once(d, &seen, fRef); err == nil {
				r.Ref, err = d.Text()
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return r, err
		}
	}
	if seen != fTp|fRef {
		return r, p.invalid("Refs/Prtry needs Tp and Ref")
	}
	return r, nil
}

func (p *parser) parties(pt *Parties) error {
	d := p.d
	const (
		fDbtr = 1 << iota
		fDbtrAcct
		fCdtr
		fCdtrAcct
	)
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil || !ok {
			return err
		}
		switch string(name) {
		case "Dbtr":
			if err = field.Once(d, &seen, fDbtr); err == nil {
				pt.DebtorName, err = p.party()
			}
		case "DbtrAcct":
			if err = field.Once(d, &seen, fDbtrAcct); err == nil {
				pt.DebtorAccount, err = p.account()
			}
		case "Cdtr":
			if err = field.Once(d, &seen, fCdtr); err == nil {
				pt.CreditorName, err = p.party()
			}
		case "CdtrAcct":
			if err = field.Once(d, &seen, fCdtrAcct); err == nil {
				pt.CreditorAccount, err = p.account()
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
}

// party reads the name of a party: a PartyIdentification in .02 and .04;
// in .08 a Party40Choice of a party (Pty) and an agent (Agt).
func (p *parser) party() (string, error) {
	if p.v != 8 {
		return p.nameIn()
	}
	d := p.d
	var nm string
	n := 0
	for {
		name, ok, err := d.Child()
		if err != nil {
			return "", err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "Pty":
			n++
			nm, err = p.nameIn()
		case "Agt":
			n++
			nm, err = p.agentName()
		default:
			err = d.Skip()
		}
		if err != nil {
			return "", err
		}
		if n > 1 {
			return "", p.invalid("party has more than one of Pty and Agt")
		}
	}
	if n == 0 {
		return "", p.invalid("party has neither Pty nor Agt")
	}
	return nm, nil
}

// nameIn reads the Nm of the current element.
func (p *parser) nameIn() (string, error) {
	d := p.d
	var nm string
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil || !ok {
			return nm, err
		}
		if string(name) == "Nm" {
			if err = field.Once(d, &seen, 1); err == nil {
				nm, err = d.Text()
			}
		} else {
			err = d.Skip()
		}
		if err != nil {
			return "", err
		}
	}
}

// agentName reads FinInstnId/Nm of an agent.
func (p *parser) agentName() (string, error) {
	d := p.d
	var nm string
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil || !ok {
			return nm, err
		}
		if string(name) == "FinInstnId" {
			if err = field.Once(d, &seen, 1); err == nil {
				nm, err = p.nameIn()
			}
		} else {
			err = d.Skip()
		}
		if err != nil {
			return "", err
		}
	}
}

func (p *parser) remittance(r *Remittance) error {
	d := p.d
	for {
		name, ok, err := d.Child()
		if err != nil || !ok {
			return err
		}
		switch string(name) {
		case "Ustrd":
			if err = d.Item(); err == nil {
				r.Unstructured, err = field.Texts(d, r.Unstructured)
			}
		case "Strd":
			if err = d.Item(); err == nil {
				err = p.structured(r)
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
}

// structured reads a Strd and keeps its CdtrRefInf.
func (p *parser) structured(r *Remittance) error {
	d := p.d
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil || !ok {
			return err
		}
		if string(name) == "CdtrRefInf" {
			if err = field.Once(d, &seen, 1); err == nil {
				var c CreditorRef
				c, err = p.creditorRef()
				r.Structured = append(r.Structured, c)
			}
		} else {
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
}

func (p *parser) creditorRef() (CreditorRef, error) {
	d := p.d
	var c CreditorRef
	const (
		fTp = 1 << iota
		fRef
		fCdOrPrtry
		fIssr
	)
	var seen uint64
	for depth := 0; ; {
		name, ok, err := d.Child()
		if err != nil {
			return c, err
		}
		if !ok {
			if depth == 1 {
				depth--
				continue
			}
			return c, nil
		}
		switch {
		case depth == 0 && string(name) == "Tp":
			if err = field.Once(d, &seen, fTp); err == nil {
				depth++
			}
		case depth == 0 && string(name) == "Ref":
			if err = field.Once(d, &seen, fRef); err == nil {
				c.Ref, err = d.Text()
			}
		case depth == 1 && string(name) == "CdOrPrtry":
			if err = field.Once(d, &seen, fCdOrPrtry); err == nil {
				c.Type, c.TypeProprietary, err = field.Choice(d, "CdOrPrtry", 4)
			}
		case depth == 1 && string(name) == "Issr":
			if err = field.Once(d, &seen, fIssr); err == nil {
				c.Issuer, err = d.Text()
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return c, err
		}
	}
}

func (p *parser) returnInfo(r *Return) error {
	d := p.d
	const (
		fOrgnl = 1 << iota
		fOrgtr
		fRsn
	)
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil || !ok {
			return err
		}
		switch string(name) {
		case "OrgnlBkTxCd":
			if err = field.Once(d, &seen, fOrgnl); err == nil {
				r.OriginalBankTxCode, err = p.bankTxCode()
			}
		case "Orgtr":
			if err = field.Once(d, &seen, fOrgtr); err == nil {
				r.OriginatorName, err = p.nameIn()
			}
		case "Rsn":
			if err = field.Once(d, &seen, fRsn); err == nil {
				r.Reason, r.ReasonProprietary, err = field.Choice(d, "Rsn", 4)
			}
		case "AddtlInf":
			if err = d.Item(); err == nil {
				r.AdditionalInfo, err = field.Texts(d, r.AdditionalInfo)
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
}
