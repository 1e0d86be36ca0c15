package pain001

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// decodeStd is the reader Decode replaced, on encoding/xml, kept as the
// reference the tests compare Decode with: whatever it refuses, Decode must
// refuse, and what both accept must read the same. It calls h as Decode
// does, refuses a DOCTYPE, a second root element and content after the
// root element, and bounds neither the size of the document nor the length
// of a text.
func decodeStd(r io.Reader, h Handler) (Version, error) {
	d := xml.NewDecoder(r)
	d.Strict = true
	var v Version
	depth := 0
	var pmt *xmlPmtInf
	pmtSent := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if v == "" {
				return "", fmt.Errorf("%w: no root element", ErrNotPain001)
			}
			if depth != 0 {
				return v, fmt.Errorf("pain001: decode: %w", io.ErrUnexpectedEOF)
			}
			return v, nil
		}
		if err != nil {
			return v, fmt.Errorf("pain001: decode: %w", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			if strings.HasPrefix(strings.TrimSpace(string(t)), "DOCTYPE") {
				return v, errors.New("pain001: decode: a DOCTYPE is not allowed")
			}
		case xml.EndElement:
			depth--
			if depth == 2 && t.Name.Local == "PmtInf" {
				if !pmtSent && h.PaymentInfo != nil {
					if err := h.PaymentInfo(pmt.line, pmt.info()); err != nil {
						return v, err
					}
				}
				pmt = nil
			}
		case xml.CharData:
			if depth == 0 && len(strings.TrimSpace(string(t))) > 0 {
				return v, errors.New("pain001: decode: text outside the root element")
			}
		case xml.StartElement:
			depth++
			switch depth {
			case 1:
				if v != "" {
					return v, errors.New("pain001: decode: more than one root element")
				}
				ns := t.Name.Space
				switch {
				case t.Name.Local != "Document":
					return "", fmt.Errorf("%w: root element is %s", ErrNotPain001, t.Name.Local)
				case ns == V03.Namespace():
					v = V03
				case ns == V09.Namespace():
					v = V09
				default:
					return "", fmt.Errorf("%w: namespace %q", ErrNotPain001, ns)
				}
			case 2:
				if t.Name.Local != "CstmrCdtTrfInitn" {
					return v, fmt.Errorf("%w: %s is not CstmrCdtTrfInitn", ErrNotPain001, t.Name.Local)
				}
			case 3:
				switch t.Name.Local {
				case "GrpHdr":
					line, _ := d.InputPos()
					var x xmlGrpHdr
					if err := d.DecodeElement(&x, &t); err != nil {
						return v, fmt.Errorf("pain001: decode GrpHdr: %w", err)
					}
					depth--
					gh, err := x.header()
					if err != nil {
						return v, err
					}
					if h.Header != nil {
						if err := h.Header(line, gh); err != nil {
							return v, err
						}
					}
				case "PmtInf":
					line, _ := d.InputPos()
					pmt, pmtSent = &xmlPmtInf{line: line}, false
				default:
					if err := d.Skip(); err != nil {
						return v, fmt.Errorf("pain001: decode: %w", err)
					}
					depth--
				}
			case 4:
				if pmt == nil {
					if err := d.Skip(); err != nil {
						return v, fmt.Errorf("pain001: decode: %w", err)
					}
					depth--
					continue
				}
				if t.Name.Local == "CdtTrfTxInf" {
					if !pmtSent && h.PaymentInfo != nil {
						if err := h.PaymentInfo(pmt.line, pmt.info()); err != nil {
							return v, err
						}
					}
					pmtSent = true
					line, _ := d.InputPos()
					var x xmlTx
					if err := d.DecodeElement(&x, &t); err != nil {
						return v, fmt.Errorf("pain001: decode CdtTrfTxInf: %w", err)
					}
					depth--
					tx, err := x.transaction()
					if err != nil {
						return v, err
					}
					if h.Transaction != nil {
						if err := h.Transaction(line, tx); err != nil {
							return v, err
						}
					}
					continue
				}
				if err := pmt.decodeField(d, &t); err != nil {
					return v, fmt.Errorf("pain001: decode PmtInf/%s: %w", t.Name.Local, err)
				}
				depth--
			}
		}
	}
}

type xmlParty struct {
	Nm   string `xml:"Nm"`
	Ctry string `xml:"PstlAdr>Ctry"`
	Othr struct {
		ID string `xml:"Id"`
		Cd string `xml:"SchmeNm>Cd"`
	} `xml:"Id>OrgId>Othr"`
}

func (p *xmlParty) party() Party {
	return Party{Name: p.Nm, Country: p.Ctry, OrgID: p.Othr.ID, Scheme: p.Othr.Cd}
}

type xmlAccount struct {
	IBAN   string `xml:"Id>IBAN"`
	Other  string `xml:"Id>Othr>Id"`
	Scheme string `xml:"Id>Othr>SchmeNm>Cd"`
	Ccy    string `xml:"Ccy"`
}

func (a *xmlAccount) account() Account {
	return Account{IBAN: a.IBAN, Other: a.Other, Scheme: a.Scheme, Currency: a.Ccy}
}

type xmlAgent struct {
	BIC   string `xml:"FinInstnId>BIC"`
	BICFI string `xml:"FinInstnId>BICFI"`
}

func (a *xmlAgent) bic() string { return a.BIC + a.BICFI }

type xmlGrpHdr struct {
	MsgID    string   `xml:"MsgId"`
	CreDtTm  string   `xml:"CreDtTm"`
	NbOfTxs  string   `xml:"NbOfTxs"`
	CtrlSum  string   `xml:"CtrlSum"`
	InitgPty xmlParty `xml:"InitgPty"`
}

func (x *xmlGrpHdr) header() (*GroupHeader, error) {
	h := &GroupHeader{MsgID: x.MsgID, InitiatingParty: x.InitgPty.party()}
	var err error
	if h.NbOfTxs, err = parseCount(x.NbOfTxs); err != nil {
		return nil, fmt.Errorf("pain001: GrpHdr/NbOfTxs: %w", err)
	}
	if x.CtrlSum != "" {
		if h.CtrlSum, err = ParseDecimal(x.CtrlSum); err != nil {
			return nil, fmt.Errorf("pain001: GrpHdr/CtrlSum: %w", err)
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, x.CreDtTm); err == nil {
			h.CreationTime = t
			return h, nil
		}
	}
	return nil, fmt.Errorf("pain001: GrpHdr/CreDtTm %q is not an ISO date-time", x.CreDtTm)
}

type xmlPmtInf struct {
	PmtInfID  string
	BtchBookg string
	NbOfTxs   string
	CtrlSum   string
	SvcLvl    string
	CtgyPurp  string
	ExecDate  string
	Dbtr      xmlParty
	DbtrAcct  xmlAccount
	DbtrAgt   xmlAgent
	ChrgBr    string
	line      int
}

// decodeField decodes one child of PmtInf that is not a transaction.
func (p *xmlPmtInf) decodeField(d *xml.Decoder, t *xml.StartElement) error {
	switch t.Name.Local {
	case "PmtInfId":
		return d.DecodeElement(&p.PmtInfID, t)
	case "BtchBookg":
		return d.DecodeElement(&p.BtchBookg, t)
	case "NbOfTxs":
		return d.DecodeElement(&p.NbOfTxs, t)
	case "CtrlSum":
		return d.DecodeElement(&p.CtrlSum, t)
	case "PmtTpInf":
		var x struct {
			SvcLvl   string `xml:"SvcLvl>Cd"`
			CtgyPurp string `xml:"CtgyPurp>Cd"`
		}
		err := d.DecodeElement(&x, t)
		p.SvcLvl, p.CtgyPurp = x.SvcLvl, x.CtgyPurp
		return err
	case "ReqdExctnDt":
		var x struct {
			Text string `xml:",chardata"`
			Dt   string `xml:"Dt"`
		}
		err := d.DecodeElement(&x, t)
		p.ExecDate = strings.TrimSpace(x.Text) + x.Dt
		return err
	case "Dbtr":
		return d.DecodeElement(&p.Dbtr, t)
	case "DbtrAcct":
		return d.DecodeElement(&p.DbtrAcct, t)
	case "DbtrAgt":
		return d.DecodeElement(&p.DbtrAgt, t)
	case "ChrgBr":
		return d.DecodeElement(&p.ChrgBr, t)
	}
	return d.Skip()
}

func (p *xmlPmtInf) info() *PaymentInfo {
	pi := &PaymentInfo{
		PmtInfID:        p.PmtInfID,
		BatchBooking:    p.BtchBookg == "true" || p.BtchBookg == "1",
		ServiceLevel:    p.SvcLvl,
		CategoryPurpose: p.CtgyPurp,
		Debtor:          p.Dbtr.party(),
		DebtorAccount:   p.DbtrAcct.account(),
		DebtorAgentBIC:  p.DbtrAgt.bic(),
		ChargeBearer:    p.ChrgBr,
		NbOfTxs:         -1,
		CtrlSum:         Decimal{Units: -1},
	}
	if n, err := parseCount(p.NbOfTxs); err == nil {
		pi.NbOfTxs = n
	}
	if s, err := ParseDecimal(p.CtrlSum); err == nil {
		pi.CtrlSum = s
	}
	if t, err := time.Parse("2006-01-02", p.ExecDate); err == nil {
		pi.ExecutionDate = t
	}
	return pi
}

type xmlTx struct {
	InstrID    string `xml:"PmtId>InstrId"`
	EndToEndID string `xml:"PmtId>EndToEndId"`
	InstdAmt   struct {
		Ccy   string `xml:"Ccy,attr"`
		Value string `xml:",chardata"`
	} `xml:"Amt>InstdAmt"`
	CdtrAgt  xmlAgent   `xml:"CdtrAgt"`
	Cdtr     xmlParty   `xml:"Cdtr"`
	CdtrAcct xmlAccount `xml:"CdtrAcct"`
	Purp     string     `xml:"Purp>Cd"`
	Ustrd    string     `xml:"RmtInf>Ustrd"`
}

func (x *xmlTx) transaction() (*Transaction, error) {
	amt, err := ParseDecimal(x.InstdAmt.Value)
	if err != nil {
		return nil, fmt.Errorf("pain001: transaction %q: InstdAmt: %w", x.EndToEndID, err)
	}
	return &Transaction{
		InstrID:          x.InstrID,
		EndToEndID:       x.EndToEndID,
		Amount:           Amount{Decimal: amt, Currency: x.InstdAmt.Ccy},
		CreditorAgentBIC: x.CdtrAgt.bic(),
		Creditor:         x.Cdtr.party(),
		CreditorAccount:  x.CdtrAcct.account(),
		Purpose:          x.Purp,
		Remittance:       x.Ustrd,
	}, nil
}
