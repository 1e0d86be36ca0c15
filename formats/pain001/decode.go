package pain001

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"refundd/formats"
	"refundd/formats/internal/field"
	"refundd/formats/internal/xmlin"
)

// ErrNotPain001 is returned by Decode for a document that is not a
// supported pain.001.
var ErrNotPain001 = errors.New("not a supported pain.001 document")

// Handler receives the parts of a pain.001 as Decode meets them, each with
// the line its element starts on. A nil function is not called. The
// GroupHeader and each PaymentInfo are the handler's to keep; the
// Transaction is valid only until Transaction returns (Decode reuses it for
// the next one): copy it to keep it.
type Handler struct {
	Header      func(line int, h *GroupHeader) error
	PaymentInfo func(line int, p *PaymentInfo) error
	Transaction func(line int, t *Transaction) error
}

// Options bounds what Decode accepts; see formats.Options. A zero MaxBytes
// means DefaultMaxBytes, not the smaller default of the reply readers: a
// pain.001 holds a whole batch. MaxItems does not apply: Decode keeps
// nothing of a transaction or a block once its handler has returned.
type Options = formats.Options

// DefaultMaxBytes is the size limit of a pain.001 when Options leave
// MaxBytes zero: 1 GiB, about 1.7 million refunds as refundd writes them.
const DefaultMaxBytes = 1 << 30

// Decode is DecodeOptions with the default limits.
func Decode(r io.Reader, h Handler) (Version, error) {
	return DecodeOptions(r, Options{}, h)
}

// DecodeOptions reads a pain.001.001.03 or .09 document from r, one
// element at a time, and calls h for the group header, each
// payment-information block (before its transactions, with the block's
// fields that precede them) and each transaction. Memory does not grow
// with the number of transactions. It returns the version found.
//
// The document is read strictly, within the limits of o (size, nesting,
// token length). A document whose root is not a pain.001.001.03 or .09
// Document holding a CstmrCdtTrfInitn wraps ErrNotPain001. Also refused,
// each with the line and the path of the element: a DOCTYPE, content after
// the root element, an encoding other than UTF-8, bytes that are not
// UTF-8, an element outside the message's namespace, a single element
// given twice, a missing GrpHdr, MsgId, CreDtTm, NbOfTxs, PmtInfId,
// EndToEndId or InstdAmt, a count, sum, amount, currency, date or boolean
// that is not valid, and a block field after the block's transactions.
// Other errors wrap the sentinel errors of package formats; an error from
// a handler stops decoding and is returned as is.
//
// It does not compare the declared totals with the transactions; its
// caller adds them up. A block whose NbOfTxs or CtrlSum is absent has
// NbOfTxs -1 or CtrlSum.Units -1; a group header without CtrlSum has a
// zero CtrlSum.
func DecodeOptions(r io.Reader, o Options, h Handler) (Version, error) {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	d := xmlin.NewDecoder(r, o)
	space, local, err := d.Root()
	if err != nil {
		if errors.Is(err, xmlin.ErrTruncated) {
			return "", fmt.Errorf("%w: no root element: %w", ErrNotPain001, err)
		}
		return "", fmt.Errorf("pain001: decode: %w", err)
	}
	var v Version
	switch {
	case local != "Document":
		return "", fmt.Errorf("%w: root element is %s", ErrNotPain001, local)
	case space == V03.Namespace():
		v = V03
	case space == V09.Namespace():
		v = V09
	default:
		if m, ok := formats.Lookup(space); ok {
			return "", fmt.Errorf("%w: namespace %q (%s)", ErrNotPain001, space, m)
		}
		return "", fmt.Errorf("%w: namespace %q", ErrNotPain001, space)
	}
	if enc := d.Encoding(); enc != "" && !strings.EqualFold(enc, "UTF-8") {
		err := d.Fail(xmlin.ErrEncoding, "the document declares encoding %q; a pain.001 must be UTF-8", enc)
		return "", fmt.Errorf("pain001: decode: %w", err)
	}
	p := parser{d: d, v09: v == V09, h: h}
	if err := p.document(); err != nil {
		if p.herr != nil && err == p.herr {
			return v, err
		}
		return v, fmt.Errorf("pain001: decode pain.%s: %w", v, err)
	}
	return v, nil
}

type parser struct {
	d    *xmlin.Decoder
	v09  bool
	h    Handler
	herr error       // the error a handler returned
	tx   Transaction // the transaction being read
}

func (p *parser) invalid(format string, args ...any) error {
	return p.d.Fail(xmlin.ErrInvalid, format, args...)
}

// handled records err, returned by a handler, so that it is passed on as
// it is.
func (p *parser) handled(err error) error {
	if err != nil {
		p.herr = err
	}
	return err
}

func (p *parser) document() error {
	d := p.d
	name, ok, err := d.Child()
	if err != nil {
		return err
	}
	if !ok {
		return p.invalid("Document must hold one CstmrCdtTrfInitn")
	}
	if string(name) != "CstmrCdtTrfInitn" {
		return fmt.Errorf("%w: %s is not CstmrCdtTrfInitn", ErrNotPain001, name)
	}
	if err := p.initiation(); err != nil {
		return err
	}
	if name, ok, err = d.Child(); err != nil || ok {
		if err == nil {
			err = p.invalid("Document holds more than one message (a second <%s>)", name)
		}
		return err
	}
	return d.End()
}

func (p *parser) initiation() error {
	d := p.d
	hdr := false
	for {
		name, ok, err := d.Child()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "GrpHdr":
			if hdr {
				err = p.invalid("a second GrpHdr")
				break
			}
			hdr = true
			err = p.header(d.Line())
		case "PmtInf":
			if !hdr {
				err = p.invalid("PmtInf before GrpHdr")
				break
			}
			err = p.paymentInfo(d.Line())
		case "SplmtryData":
			err = d.SkipAny()
		default:
			if !hdr {
				err = p.invalid("%s before GrpHdr", name)
				break
			}
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
	if !hdr {
		return p.invalid("CstmrCdtTrfInitn has no GrpHdr")
	}
	return nil
}

// children reads the children of the current element up to its end tag.
// A child named names[i] is handed to fn(i), which must read it whole; a
// second one is an error. Other children are skipped. It returns the set
// of names seen, bit i for names[i].
func (p *parser) children(names []string, fn func(i int) error) (uint64, error) {
	d := p.d
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil {
			return seen, err
		}
		if !ok {
			return seen, nil
		}
		i := 0
		for i < len(names) && names[i] != string(name) {
			i++
		}
		switch {
		case i < len(names) && seen&(1<<i) != 0:
			err = p.invalid("element appears more than once")
		case i < len(names):
			seen |= 1 << i
			err = fn(i)
		case string(name) == "SplmtryData":
			err = d.SkipAny()
		default:
			err = d.Skip()
		}
		if err != nil {
			return seen, err
		}
	}
}

// require fails unless seen, as returned by children, has every name of
// names that want marks; in is the element read.
func (p *parser) require(seen, want uint64, in string, names []string) error {
	for i, n := range names {
		if want&(1<<i) != 0 && seen&(1<<i) == 0 {
			return p.invalid("%s has no %s", in, n)
		}
	}
	return nil
}

func (p *parser) header(line int) error {
	d := p.d
	gh := &GroupHeader{}
	names := []string{"MsgId", "CreDtTm", "NbOfTxs", "CtrlSum", "InitgPty"}
	seen, err := p.children(names, func(i int) (err error) {
		switch i {
		case 0:
			gh.MsgID, err = d.Text()
		case 1:
			gh.CreationTime, err = p.dateTime("CreDtTm")
		case 2:
			gh.NbOfTxs, err = p.count("NbOfTxs")
		case 3:
			gh.CtrlSum, err = p.decimal("CtrlSum")
		case 4:
			gh.InitiatingParty, err = p.party()
		}
		return err
	})
	if err == nil {
		err = p.require(seen, 0b111, "GrpHdr", names)
	}
	if err != nil {
		return err
	}
	if p.h.Header != nil {
		return p.handled(p.h.Header(line, gh))
	}
	return nil
}

func (p *parser) paymentInfo(line int) error {
	d := p.d
	pi := &PaymentInfo{NbOfTxs: -1, CtrlSum: Decimal{Units: -1}}
	names := []string{"PmtInfId", "BtchBookg", "NbOfTxs", "CtrlSum", "PmtTpInf", "ReqdExctnDt", "Dbtr", "DbtrAcct", "DbtrAgt", "ChrgBr"}
	var seen uint64
	sent := false
	send := func() error {
		if err := p.require(seen, 1, "PmtInf", names); err != nil {
			return err
		}
		sent = true
		if p.h.PaymentInfo != nil {
			return p.handled(p.h.PaymentInfo(line, pi))
		}
		return nil
	}
	for {
		name, ok, err := d.Child()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if string(name) == "CdtTrfTxInf" {
			if !sent {
				if err := send(); err != nil {
					return err
				}
			}
			if err := p.transaction(d.Line()); err != nil {
				return err
			}
			continue
		}
		if sent {
			return p.invalid("%s after the transactions of the block", name)
		}
		i := 0
		for i < len(names) && names[i] != string(name) {
			i++
		}
		switch {
		case i == len(names):
			err = d.Skip()
		case seen&(1<<i) != 0:
			err = p.invalid("element appears more than once")
		default:
			seen |= 1 << i
			switch i {
			case 0:
				pi.PmtInfID, err = d.Text()
			case 1:
				pi.BatchBooking, err = p.boolean("BtchBookg")
			case 2:
				pi.NbOfTxs, err = p.count("NbOfTxs")
			case 3:
				pi.CtrlSum, err = p.decimal("CtrlSum")
			case 4:
				err = p.paymentType(pi)
			case 5:
				pi.ExecutionDate, err = p.executionDate()
			case 6:
				pi.Debtor, err = p.party()
			case 7:
				pi.DebtorAccount, err = p.account()
			case 8:
				pi.DebtorAgentBIC, err = p.agent()
			case 9:
				pi.ChargeBearer, err = d.Text()
			}
		}
		if err != nil {
			return err
		}
	}
	if !sent {
		return send()
	}
	return nil
}

// paymentType reads PmtTpInf: the codes of SvcLvl and CtgyPurp.
func (p *parser) paymentType(pi *PaymentInfo) error {
	_, err := p.children([]string{"SvcLvl", "CtgyPurp"}, func(i int) (err error) {
		if i == 0 {
			pi.ServiceLevel, err = p.code()
		} else {
			pi.CategoryPurpose, err = p.code()
		}
		return err
	})
	return err
}

// code reads the Cd of a choice of a code and a proprietary text; "" when
// there is no Cd.
func (p *parser) code() (string, error) {
	var s string
	_, err := p.children([]string{"Cd"}, func(int) error {
		b, err := p.d.TextBytes()
		s = code(b)
		return err
	})
	return s, err
}

// code returns b as a string, without allocating for the codes of nearly
// every refund.
func code(b []byte) string {
	switch string(b) {
	case "REFU":
		return "REFU"
	case "CUST":
		return "CUST"
	case "BBAN":
		return "BBAN"
	case "SEPA":
		return "SEPA"
	case "SUPP":
		return "SUPP"
	}
	return string(b)
}

// executionDate reads ReqdExctnDt: an ISODate in .03, a choice of Dt and
// DtTm in .09, of which only Dt is read.
func (p *parser) executionDate() (time.Time, error) {
	if !p.v09 {
		return p.date("ReqdExctnDt", strings.TrimSpace)
	}
	var t time.Time
	names := []string{"Dt", "DtTm"}
	seen, err := p.children(names, func(i int) (err error) {
		if i == 1 {
			return p.invalid("an execution date and time is not read; give the date as Dt")
		}
		t, err = p.date("Dt", nil)
		return err
	})
	if err == nil {
		err = p.require(seen, 1, "ReqdExctnDt", names)
	}
	return t, err
}

func (p *parser) transaction(line int) error {
	d := p.d
	p.tx = Transaction{}
	tx := &p.tx
	names := []string{"PmtId", "Amt", "CdtrAgt", "Cdtr", "CdtrAcct", "Purp", "RmtInf"}
	seen, err := p.children(names, func(i int) (err error) {
		switch i {
		case 0:
			err = p.paymentID(tx)
		case 1:
			tx.Amount, err = p.amount()
		case 2:
			tx.CreditorAgentBIC, err = p.agent()
		case 3:
			tx.Creditor, err = p.party()
		case 4:
			tx.CreditorAccount, err = p.account()
		case 5:
			tx.Purpose, err = p.code()
		case 6:
			_, err = p.children([]string{"Ustrd"}, func(int) (err error) {
				tx.Remittance, err = d.Text()
				return err
			})
		}
		return err
	})
	if err == nil {
		err = p.require(seen, 0b11, "CdtTrfTxInf", names)
	}
	if err != nil {
		return err
	}
	if p.h.Transaction != nil {
		return p.handled(p.h.Transaction(line, tx))
	}
	return nil
}

func (p *parser) paymentID(tx *Transaction) error {
	d := p.d
	names := []string{"InstrId", "EndToEndId"}
	seen, err := p.children(names, func(i int) (err error) {
		if i == 0 {
			tx.InstrID, err = d.Text()
			return err
		}
		b, err := d.TextBytes()
		if string(b) == tx.InstrID {
			// refundd writes the same id twice: one string for both.
			tx.EndToEndID = tx.InstrID
		} else {
			tx.EndToEndID = string(b)
		}
		return err
	})
	if err == nil {
		err = p.require(seen, 0b10, "PmtId", names)
	}
	return err
}

// amount reads Amt, which must hold an InstdAmt: a currency of three
// capital letters in its Ccy attribute, and a decimal of at most 5
// decimals and 18 digits, not negative.
func (p *parser) amount() (Amount, error) {
	d := p.d
	var a Amount
	names := []string{"InstdAmt"}
	seen, err := p.children(names, func(int) error {
		ccy, ok := d.Attr("Ccy")
		if !ok {
			return p.invalid("InstdAmt has no Ccy attribute")
		}
		if !formats.ValidCurrency(string(ccy)) {
			return p.invalid("currency %q is not three capital letters", ccy)
		}
		a.Currency = field.Intern(ccy)
		b, err := d.TextBytes()
		if err != nil {
			return err
		}
		if a.Decimal, err = ParseDecimal(string(b)); err != nil {
			return p.invalid("InstdAmt: %v", err)
		}
		if a.Units < 0 {
			return p.invalid("InstdAmt %q is negative", b)
		}
		return nil
	})
	if err == nil {
		err = p.require(seen, 1, "Amt", names)
	}
	return a, err
}

// party reads a PartyIdentification: Nm, PstlAdr/Ctry and
// Id/OrgId/Othr with its Id and SchmeNm/Cd.
func (p *parser) party() (Party, error) {
	d := p.d
	var pt Party
	_, err := p.children([]string{"Nm", "PstlAdr", "Id"}, func(i int) (err error) {
		switch i {
		case 0:
			pt.Name, err = d.Text()
		case 1:
			_, err = p.children([]string{"Ctry"}, func(int) (err error) {
				pt.Country, err = d.Text()
				return err
			})
		case 2:
			_, err = p.children([]string{"OrgId"}, func(int) error {
				_, err := p.children([]string{"Othr"}, func(int) error {
					_, err := p.children([]string{"Id", "SchmeNm"}, func(i int) (err error) {
						if i == 0 {
							pt.OrgID, err = d.Text()
						} else {
							pt.Scheme, err = p.code()
						}
						return err
					})
					return err
				})
				return err
			})
		}
		return err
	})
	return pt, err
}

// account reads a CashAccount: Id (IBAN, or Othr with Id and SchmeNm/Cd)
// and Ccy.
func (p *parser) account() (Account, error) {
	d := p.d
	var a Account
	_, err := p.children([]string{"Id", "Ccy"}, func(i int) (err error) {
		if i == 1 {
			a.Currency, err = d.Text()
			return err
		}
		seen, err := p.children([]string{"IBAN", "Othr"}, func(i int) (err error) {
			if i == 0 {
				a.IBAN, err = d.Text()
				return err
			}
			_, err = p.children([]string{"Id", "SchmeNm"}, func(i int) (err error) {
				if i == 0 {
					a.Other, err = d.Text()
				} else {
					a.Scheme, err = p.code()
				}
				return err
			})
			return err
		})
		if err == nil && seen == 0b11 {
			err = p.invalid("account Id has both IBAN and Othr")
		}
		return err
	})
	return a, err
}

// agent reads the BIC of a BranchAndFinancialInstitutionIdentification:
// FinInstnId/BIC in .03, FinInstnId/BICFI in .09 (either is read in both).
func (p *parser) agent() (string, error) {
	d := p.d
	var bic string
	_, err := p.children([]string{"FinInstnId"}, func(int) error {
		seen, err := p.children([]string{"BIC", "BICFI"}, func(int) (err error) {
			bic, err = d.Text()
			return err
		})
		if err == nil && seen == 0b11 {
			err = p.invalid("FinInstnId has both BIC and BICFI")
		}
		return err
	})
	return bic, err
}

// count reads a Max15NumericText count, the element name.
func (p *parser) count(name string) (int, error) {
	b, err := p.d.TextBytes()
	if err != nil {
		return 0, err
	}
	n, err := parseCount(string(b))
	if err != nil {
		return 0, p.invalid("%s: %v", name, err)
	}
	return n, nil
}

// decimal reads a DecimalNumber of at most 5 decimals, the element name.
func (p *parser) decimal(name string) (Decimal, error) {
	b, err := p.d.TextBytes()
	if err != nil {
		return Decimal{}, err
	}
	v, err := ParseDecimal(string(b))
	if err != nil {
		return Decimal{}, p.invalid("%s: %v", name, err)
	}
	return v, nil
}

// boolean reads an xs:boolean as written: true, false, 1 or 0.
func (p *parser) boolean(name string) (bool, error) {
	b, err := p.d.TextBytes()
	if err != nil {
		return false, err
	}
	switch string(b) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, p.invalid("%s %q is not true, false, 1 or 0", name, b)
}

// date reads an ISODate, the element name, after trim (nil: as written).
func (p *parser) date(name string, trim func(string) string) (time.Time, error) {
	s, err := p.d.Text()
	if err != nil {
		return time.Time{}, err
	}
	if trim != nil {
		s = trim(s)
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, p.invalid("%s %q is not an ISO date (YYYY-MM-DD)", name, s)
	}
	return t, nil
}

// dateTime reads an ISODateTime, the element name: with or without
// fractional seconds, with or without a zone.
func (p *parser) dateTime(name string) (time.Time, error) {
	s, err := p.d.Text()
	if err != nil {
		return time.Time{}, err
	}
	for _, layout := range []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, p.invalid("%s %q is not an ISO date-time", name, s)
}

func parseCount(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 15 || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a count of 1 to 15 digits", s)
	}
	return strconv.Atoi(s)
}

// ParseDecimal reads an xs:decimal with at most 5 fraction digits and 18
// digits in all, exactly (no float).
func ParseDecimal(s string) (Decimal, error) {
	d, err := formats.ParseDecimalNumber(s)
	if err != nil {
		return Decimal{}, err
	}
	if d.Scale > sumScale {
		return Decimal{}, fmt.Errorf("%q has more than %d decimals", s, sumScale)
	}
	return d, nil
}
