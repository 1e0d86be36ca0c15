package pain001

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"refundd/formats"
	"refundd/formats/internal/xmlout"
)

// Version is a supported message version.
type Version string

// The supported versions.
const (
	V03 Version = "001.001.03"
	V09 Version = "001.001.09"
)

// Versions returns the versions refundd writes, oldest first.
func Versions() []Version { return []Version{V03, V09} }

// ParseVersion accepts "001.001.03", "pain.001.001.03", "03" or "3", and
// the same for 09.
func ParseVersion(s string) (Version, error) {
	switch s {
	case "001.001.03", "pain.001.001.03", "03", "3":
		return V03, nil
	case "001.001.09", "pain.001.001.09", "09", "9":
		return V09, nil
	}
	return "", fmt.Errorf("pain.001 version %q is not supported (001.001.03 or 001.001.09)", s)
}

// Namespace returns the XML namespace of v.
func (v Version) Namespace() string { return "urn:iso:std:iso:20022:tech:xsd:pain." + string(v) }

// Decimal is the exact decimal number Units / 10^Scale (formats.Decimal).
// A pain.001 takes scales 0 to 5.
type Decimal = formats.Decimal

// Amount is a decimal amount in a currency.
type Amount struct {
	Decimal
	Currency string // ISO 4217
}

// Party is a party identified by name and an organisation identifier.
type Party struct {
	Name    string
	OrgID   string // Id/OrgId/Othr/Id; "" to omit
	Scheme  string // Id/OrgId/Othr/SchmeNm/Cd, e.g. CUST or BANK
	Country string // PstlAdr/Ctry; "" to omit
}

// Account is a cash account: an IBAN, or another identifier with a scheme
// code such as BBAN.
type Account struct {
	IBAN     string
	Other    string // Othr/Id when IBAN is ""
	Scheme   string // Othr/SchmeNm/Cd, e.g. BBAN
	Currency string // Ccy; "" to omit
}

// GroupHeader is the message's GrpHdr. NbOfTxs and CtrlSum must be the
// totals of every transaction that follows.
type GroupHeader struct {
	MsgID           string
	CreationTime    time.Time
	NbOfTxs         int
	CtrlSum         Decimal
	InitiatingParty Party
}

// PaymentInfo is one PmtInf block. NbOfTxs and CtrlSum must be the totals
// of the transactions that follow it.
type PaymentInfo struct {
	PmtInfID        string
	BatchBooking    bool
	NbOfTxs         int
	CtrlSum         Decimal
	ServiceLevel    string // PmtTpInf/SvcLvl/Cd, e.g. SEPA; "" to omit
	CategoryPurpose string // PmtTpInf/CtgyPurp/Cd, e.g. SUPP; "" to omit
	ExecutionDate   time.Time
	Debtor          Party
	DebtorAccount   Account
	DebtorAgentBIC  string
	ChargeBearer    string // DEBT, CRED, SHAR, SLEV; "" to omit
}

// Transaction is one CdtTrfTxInf.
type Transaction struct {
	InstrID          string // "" to omit
	EndToEndID       string
	Amount           Amount
	CreditorAgentBIC string // "" to omit
	Creditor         Party
	CreditorAccount  Account
	Purpose          string // Purp/Cd, e.g. REFU; "" to omit
	Remittance       string // RmtInf/Ustrd; "" to omit
}

// ErrTotals is returned when the transactions written do not add up to the
// NbOfTxs or CtrlSum declared before them.
var ErrTotals = errors.New("totals do not match")

// Encoder writes one pain.001 message to an io.Writer.
type Encoder struct {
	w    *bufio.Writer
	v    Version
	buf  []byte
	err  error
	hdr  GroupHeader
	pmt  PaymentInfo
	open bool // a PmtInf is open

	nTx, nPmt   int         // transactions in the message, in the open PmtInf
	sum, sumPmt formats.Sum // sums of their amounts
	started     bool
}

// sumScale is the most decimals an amount or a control sum may have; it
// covers every ISO 4217 currency.
const sumScale = 5

// NewEncoder returns an encoder writing version v to w. Nothing is written
// before Header.
func NewEncoder(w io.Writer, v Version) *Encoder {
	e := &Encoder{w: bufio.NewWriterSize(w, 64<<10), v: v, buf: make([]byte, 0, 4096)}
	if v != V03 && v != V09 {
		e.err = fmt.Errorf("pain001: version %q is not supported", v)
	}
	return e
}

// Header writes the XML declaration, the Document root and the group
// header.
func (e *Encoder) Header(h GroupHeader) error {
	if e.err != nil {
		return e.err
	}
	if e.started {
		return e.fail(errors.New("pain001: Header called twice"))
	}
	e.started = true
	e.hdr = h
	if err := checkID("GrpHdr/MsgId", h.MsgID); err != nil {
		return e.fail(err)
	}
	if err := checkDecimal("GrpHdr/CtrlSum", h.CtrlSum); err != nil {
		return e.fail(err)
	}
	b := e.buf[:0]
	b = append(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain."...)
	b = append(b, e.v...)
	b = append(b, "\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n  <CstmrCdtTrfInitn>\n    <GrpHdr>\n"...)
	b = elem(b, 6, "MsgId", h.MsgID)
	b = append(b, "      <CreDtTm>"...)
	b = h.CreationTime.Truncate(time.Second).AppendFormat(b, "2006-01-02T15:04:05Z07:00")
	b = append(b, "</CreDtTm>\n      <NbOfTxs>"...)
	b = strconv.AppendInt(b, int64(h.NbOfTxs), 10)
	b = append(b, "</NbOfTxs>\n      <CtrlSum>"...)
	b = formats.AppendDecimal(b, h.CtrlSum)
	b = append(b, "</CtrlSum>\n"...)
	b = party(b, 6, "InitgPty", h.InitiatingParty)
	b = append(b, "    </GrpHdr>\n"...)
	return e.flush(b)
}

// PaymentInfo closes the open payment-information block, if any, and opens
// p.
func (e *Encoder) PaymentInfo(p PaymentInfo) error {
	if e.err != nil {
		return e.err
	}
	if !e.started {
		return e.fail(errors.New("pain001: PaymentInfo before Header"))
	}
	b := e.buf[:0]
	if e.open {
		if err := e.checkPmt(); err != nil {
			return e.fail(err)
		}
		b = append(b, "    </PmtInf>\n"...)
	}
	if err := checkID("PmtInf/PmtInfId", p.PmtInfID); err != nil {
		return e.fail(err)
	}
	if err := checkDecimal("PmtInf/CtrlSum", p.CtrlSum); err != nil {
		return e.fail(err)
	}
	if p.DebtorAgentBIC == "" {
		return e.fail(fmt.Errorf("pain001: PmtInf %s: DbtrAgt BIC is required", p.PmtInfID))
	}
	e.pmt, e.open, e.nPmt, e.sumPmt = p, true, 0, formats.Sum{}
	b = append(b, "    <PmtInf>\n"...)
	b = elem(b, 6, "PmtInfId", p.PmtInfID)
	b = append(b, "      <PmtMtd>TRF</PmtMtd>\n      <BtchBookg>"...)
	b = strconv.AppendBool(b, p.BatchBooking)
	b = append(b, "</BtchBookg>\n      <NbOfTxs>"...)
	b = strconv.AppendInt(b, int64(p.NbOfTxs), 10)
	b = append(b, "</NbOfTxs>\n      <CtrlSum>"...)
	b = formats.AppendDecimal(b, p.CtrlSum)
	b = append(b, "</CtrlSum>\n"...)
	if p.ServiceLevel != "" || p.CategoryPurpose != "" {
		b = append(b, "      <PmtTpInf>\n"...)
		if p.ServiceLevel != "" {
			b = append(b, "        <SvcLvl>\n"...)
			b = elem(b, 10, "Cd", p.ServiceLevel)
			b = append(b, "        </SvcLvl>\n"...)
		}
		if p.CategoryPurpose != "" {
			b = append(b, "        <CtgyPurp>\n"...)
			b = elem(b, 10, "Cd", p.CategoryPurpose)
			b = append(b, "        </CtgyPurp>\n"...)
		}
		b = append(b, "      </PmtTpInf>\n"...)
	}
	if e.v == V03 {
		b = append(b, "      <ReqdExctnDt>"...)
		b = p.ExecutionDate.AppendFormat(b, "2006-01-02")
		b = append(b, "</ReqdExctnDt>\n"...)
	} else {
		b = append(b, "      <ReqdExctnDt>\n        <Dt>"...)
		b = p.ExecutionDate.AppendFormat(b, "2006-01-02")
		b = append(b, "</Dt>\n      </ReqdExctnDt>\n"...)
	}
	b = party(b, 6, "Dbtr", p.Debtor)
	b = account(b, 6, "DbtrAcct", p.DebtorAccount)
	b = e.agent(b, 6, "DbtrAgt", p.DebtorAgentBIC)
	if p.ChargeBearer != "" {
		b = elem(b, 6, "ChrgBr", p.ChargeBearer)
	}
	return e.flush(b)
}

// Transaction writes one transaction into the open payment-information
// block.
func (e *Encoder) Transaction(t *Transaction) error {
	if e.err != nil {
		return e.err
	}
	if !e.open {
		return e.fail(errors.New("pain001: Transaction outside a PmtInf"))
	}
	if err := checkID("CdtTrfTxInf/PmtId/EndToEndId", t.EndToEndID); err != nil {
		return e.fail(err)
	}
	if t.InstrID != "" {
		if err := checkID("CdtTrfTxInf/PmtId/InstrId", t.InstrID); err != nil {
			return e.fail(err)
		}
	}
	if t.Amount.Units <= 0 {
		return e.fail(fmt.Errorf("pain001: transaction %s: amount must be greater than zero", t.EndToEndID))
	}
	if err := checkDecimal("InstdAmt", t.Amount.Decimal); err != nil {
		return e.fail(err)
	}
	if len(t.Amount.Currency) != 3 {
		return e.fail(fmt.Errorf("pain001: transaction %s: currency %q is not an ISO 4217 code", t.EndToEndID, t.Amount.Currency))
	}
	e.sum.Add(t.Amount.Decimal)
	e.sumPmt.Add(t.Amount.Decimal)
	e.nTx++
	e.nPmt++

	b := e.buf[:0]
	b = append(b, "      <CdtTrfTxInf>\n        <PmtId>\n"...)
	if t.InstrID != "" {
		b = elem(b, 10, "InstrId", t.InstrID)
	}
	b = elem(b, 10, "EndToEndId", t.EndToEndID)
	b = append(b, "        </PmtId>\n        <Amt>\n          <InstdAmt Ccy=\""...)
	b = xmlout.AppendEscaped(b, t.Amount.Currency)
	b = append(b, "\">"...)
	b = formats.AppendDecimal(b, t.Amount.Decimal)
	b = append(b, "</InstdAmt>\n        </Amt>\n"...)
	if t.CreditorAgentBIC != "" {
		b = e.agent(b, 8, "CdtrAgt", t.CreditorAgentBIC)
	}
	b = party(b, 8, "Cdtr", t.Creditor)
	b = account(b, 8, "CdtrAcct", t.CreditorAccount)
	if t.Purpose != "" {
		b = append(b, "        <Purp>\n"...)
		b = elem(b, 10, "Cd", t.Purpose)
		b = append(b, "        </Purp>\n"...)
	}
	if t.Remittance != "" {
		b = append(b, "        <RmtInf>\n"...)
		b = elem(b, 10, "Ustrd", t.Remittance)
		b = append(b, "        </RmtInf>\n"...)
	}
	b = append(b, "      </CdtTrfTxInf>\n"...)
	return e.flush(b)
}

// Close ends the message, checks every declared total against what was
// written and flushes. The writer under the encoder is not closed.
func (e *Encoder) Close() error {
	if e.err != nil {
		return e.err
	}
	if !e.started {
		return e.fail(errors.New("pain001: Close before Header"))
	}
	if !e.open {
		return e.fail(errors.New("pain001: a message needs at least one PmtInf"))
	}
	if err := e.checkPmt(); err != nil {
		return e.fail(err)
	}
	if e.nTx != e.hdr.NbOfTxs || e.sum.Cmp(e.hdr.CtrlSum) != 0 {
		return e.fail(fmt.Errorf("pain001: GrpHdr of %s declares %d transactions summing to %s, wrote %d summing to %s: %w",
			e.hdr.MsgID, e.hdr.NbOfTxs, formats.AppendDecimal(nil, e.hdr.CtrlSum), e.nTx, e.sum.Append(nil, sumScale), ErrTotals))
	}
	if err := e.flush(append(e.buf[:0], "    </PmtInf>\n  </CstmrCdtTrfInitn>\n</Document>\n"...)); err != nil {
		return err
	}
	if err := e.w.Flush(); err != nil {
		return e.fail(fmt.Errorf("pain001: write: %w", err))
	}
	e.err = errors.New("pain001: encoder closed")
	return nil
}

func (e *Encoder) checkPmt() error {
	if e.nPmt != e.pmt.NbOfTxs || e.sumPmt.Cmp(e.pmt.CtrlSum) != 0 {
		return fmt.Errorf("pain001: PmtInf %s declares %d transactions summing to %s, wrote %d summing to %s: %w",
			e.pmt.PmtInfID, e.pmt.NbOfTxs, formats.AppendDecimal(nil, e.pmt.CtrlSum), e.nPmt, e.sumPmt.Append(nil, sumScale), ErrTotals)
	}
	if e.nPmt == 0 {
		return fmt.Errorf("pain001: PmtInf %s has no transactions", e.pmt.PmtInfID)
	}
	return nil
}

func (e *Encoder) fail(err error) error {
	if e.err == nil {
		e.err = err
	}
	return e.err
}

func (e *Encoder) flush(b []byte) error {
	e.buf = b
	if _, err := e.w.Write(b); err != nil {
		return e.fail(fmt.Errorf("pain001: write: %w", err))
	}
	return nil
}

// party writes a PartyIdentification (v03: 32, v09: 135).
func party(b []byte, ind int, tag string, p Party) []byte {
	b = open(b, ind, tag)
	b = elem(b, ind+2, "Nm", p.Name)
	if p.Country != "" {
		b = open(b, ind+2, "PstlAdr")
		b = elem(b, ind+4, "Ctry", p.Country)
		b = closeTag(b, ind+2, "PstlAdr")
	}
	if p.OrgID != "" {
		b = open(b, ind+2, "Id")
		b = open(b, ind+4, "OrgId")
		b = open(b, ind+6, "Othr")
		b = elem(b, ind+8, "Id", p.OrgID)
		if p.Scheme != "" {
			b = open(b, ind+8, "SchmeNm")
			b = elem(b, ind+10, "Cd", p.Scheme)
			b = closeTag(b, ind+8, "SchmeNm")
		}
		b = closeTag(b, ind+6, "Othr")
		b = closeTag(b, ind+4, "OrgId")
		b = closeTag(b, ind+2, "Id")
	}
	return closeTag(b, ind, tag)
}

// agent writes a financial institution identified by its BIC.
func (e *Encoder) agent(b []byte, ind int, tag, bic string) []byte {
	b = open(b, ind, tag)
	b = open(b, ind+2, "FinInstnId")
	if e.v == V03 {
		b = elem(b, ind+4, "BIC", bic)
	} else {
		b = elem(b, ind+4, "BICFI", bic)
	}
	b = closeTag(b, ind+2, "FinInstnId")
	return closeTag(b, ind, tag)
}

func account(b []byte, ind int, tag string, a Account) []byte {
	b = open(b, ind, tag)
	b = open(b, ind+2, "Id")
	if a.IBAN != "" {
		b = elem(b, ind+4, "IBAN", a.IBAN)
	} else {
		b = open(b, ind+4, "Othr")
		b = elem(b, ind+6, "Id", a.Other)
		if a.Scheme != "" {
			b = open(b, ind+6, "SchmeNm")
			b = elem(b, ind+8, "Cd", a.Scheme)
			b = closeTag(b, ind+6, "SchmeNm")
		}
		b = closeTag(b, ind+4, "Othr")
	}
	b = closeTag(b, ind+2, "Id")
	if a.Currency != "" {
		b = elem(b, ind+2, "Ccy", a.Currency)
	}
	return closeTag(b, ind, tag)
}

const spaces = "                                                  "

func open(b []byte, ind int, tag string) []byte {
	b = append(b, spaces[:ind]...)
	b = append(b, '<')
	b = append(b, tag...)
	return append(b, ">\n"...)
}

func closeTag(b []byte, ind int, tag string) []byte {
	b = append(b, spaces[:ind]...)
	b = append(b, "</"...)
	b = append(b, tag...)
	return append(b, ">\n"...)
}

// elem writes <tag>text</tag> indented by ind. A character that XML 1.0
// does not allow becomes U+FFFD (xmlout.AppendEscaped); callers validate
// text before it gets here, so that never happens to a real refund.
func elem(b []byte, ind int, tag, text string) []byte {
	b = append(b, spaces[:ind]...)
	b = append(b, '<')
	b = append(b, tag...)
	b = append(b, '>')
	b = xmlout.AppendEscaped(b, text)
	b = append(b, "</"...)
	b = append(b, tag...)
	return append(b, ">\n"...)
}

// checkDecimal refuses a negative amount or control sum, one with more than
// sumScale decimals or more than 18 digits, and one that does not fit an
// int64 in units of 10^-sumScale (from 92 233 720 368 547.75808 up).
func checkDecimal(what string, d Decimal) error {
	if _, ok := d.Scaled(sumScale); !ok || d.Scale > sumScale || d.Units < 0 {
		return fmt.Errorf("pain001: %s: %d at scale %d is out of range", what, d.Units, d.Scale)
	}
	if d.Units > 999_999_999_999_999_999 {
		return fmt.Errorf("pain001: %s: more than 18 digits", what)
	}
	return nil
}

// CheckID reports whether id is a valid pain.001 identifier, see checkID.
func CheckID(id string) error { return checkID("id", id) }

// checkID enforces Max35Text and the character set that survives every leg
// of a payment: A-Z a-z 0-9 / - ? : ( ) . , ' +, no leading or trailing
// '/', no "//".
func checkID(what, id string) error {
	if id == "" || len(id) > 35 {
		return fmt.Errorf("pain001: %s %q: must have 1 to 35 characters", what, id)
	}
	if id[0] == '/' || id[len(id)-1] == '/' {
		return fmt.Errorf("pain001: %s %q: must not start or end with '/'", what, id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		switch c {
		case '/', '-', '?', ':', '(', ')', '.', ',', '\'', '+':
			ok = true
			if c == '/' && id[i+1] == '/' {
				ok = false
			}
		}
		if !ok {
			return fmt.Errorf("pain001: %s %q: character %q is not allowed in an id", what, id, c)
		}
	}
	return nil
}
