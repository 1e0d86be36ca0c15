package pain002

import (
	"fmt"
	"io"
	"slices"

	"refundd/formats"
	"refundd/formats/internal/field"
	"refundd/formats/internal/xmlin"
)

// Versions returns the messages Decode reads: pain.002.001.03, its Swiss
// SIX variant .ch.02, and pain.002.001.10.
func Versions() []formats.Message { return formats.Messages(formats.Pain002) }

// Decode reads a pain.002.001.03 or .001.10 report from r.
//
// The document is untrusted: it is read within the limits of o, and a
// DOCTYPE, content after the root element, an unsupported encoding (UTF-8,
// ISO-8859-1, ISO-8859-15 and windows-1252 are read), an element outside
// the message's namespace, a repeated single element, a missing required
// element, or a status, amount or date that is not valid for the version
// is an error. An unknown namespace is an error wrapping
// formats.ErrUnknownMessage that names it; another supported message is
// formats.ErrWrongMessage. No part of a report that fails is returned.
func Decode(r io.Reader, o formats.Options) (*Report, error) {
	d, m, err := formats.Open(r, o, formats.Pain002)
	if err != nil {
		return nil, fmt.Errorf("pain002: decode: %w", err)
	}
	p := parser{d: d, v10: m.Version == "001.10"}
	rep, err := p.document()
	if err != nil {
		return nil, fmt.Errorf("pain002: decode %s: %w", m, err)
	}
	rep.Message = m
	return rep, nil
}

type parser struct {
	d   *xmlin.Decoder
	v10 bool
}

func (p *parser) invalid(format string, args ...any) error {
	return p.d.Fail(xmlin.ErrInvalid, format, args...)
}

func (p *parser) document() (*Report, error) {
	d := p.d
	name, ok, err := d.Child()
	if err != nil {
		return nil, err
	}
	if !ok || string(name) != "CstmrPmtStsRpt" {
		return nil, p.invalid("Document must hold one CstmrPmtStsRpt")
	}
	rep, err := p.report()
	if err != nil {
		return nil, err
	}
	if _, ok, err := d.Child(); err != nil || ok {
		if err == nil {
			err = p.invalid("Document holds more than one message")
		}
		return nil, err
	}
	if err := d.End(); err != nil {
		return nil, err
	}
	return rep, nil
}

func (p *parser) report() (*Report, error) {
	d := p.d
	rep := &Report{}
	const (
		fGrpHdr = 1 << iota
		fGroup
	)
	var seen uint64
	for n := 0; ; n++ {
		name, ok, err := d.Child()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "GrpHdr":
			if err = field.Once(d, &seen, fGrpHdr); err == nil && n > 0 {
				err = p.invalid("GrpHdr must come first")
			}
			if err == nil {
				err = p.header(rep)
			}
		case "OrgnlGrpInfAndSts":
			if err = field.Once(d, &seen, fGroup); err == nil {
				err = p.group(&rep.Group)
			}
		case "OrgnlPmtInfAndSts":
			if err = d.Item(); err != nil {
				break
			}
			if seen&fGroup == 0 {
				err = p.invalid("OrgnlPmtInfAndSts before OrgnlGrpInfAndSts")
				break
			}
			rep.Payments = append(rep.Payments, Payment{})
			err = p.payment(&rep.Payments[len(rep.Payments)-1])
		case "SplmtryData":
			err = d.SkipAny()
		default:
			err = d.Skip()
		}
		if err != nil {
			return nil, err
		}
	}
	switch {
	case seen&fGrpHdr == 0:
		return nil, p.invalid("CstmrPmtStsRpt has no GrpHdr")
	case seen&fGroup == 0:
		return nil, p.invalid("CstmrPmtStsRpt has no OrgnlGrpInfAndSts")
	}
	return rep, nil
}

func (p *parser) header(rep *Report) error {
	d := p.d
	const (
		fMsgID = 1 << iota
		fCreDtTm
	)
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil || !ok {
			if err == nil && seen != fMsgID|fCreDtTm {
				err = p.invalid("GrpHdr needs MsgId and CreDtTm")
			}
			return err
		}
		switch string(name) {
		case "MsgId":
			if err = field.Once(d, &seen, fMsgID); err == nil {
				rep.MsgID, err = field.ID(d)
			}
		case "CreDtTm":
			if err = field.Once(d, &seen, fCreDtTm); err == nil {
				rep.CreationTime, err = field.DateTime(d)
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
}

func (p *parser) group(g *Group) error {
	d := p.d
	const (
		fMsgID = 1 << iota
		fMsgNmID
		fCreDtTm
		fNbOfTxs
		fCtrlSum
		fSts
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
		case "OrgnlMsgId":
			if err = field.Once(d, &seen, fMsgID); err == nil {
				g.OrgnlMsgID, err = field.ID(d)
			}
		case "OrgnlMsgNmId":
			if err = field.Once(d, &seen, fMsgNmID); err == nil {
				g.OrgnlMsgNmID, err = d.Text()
			}
		case "OrgnlCreDtTm":
			if err = field.Once(d, &seen, fCreDtTm); err == nil {
				g.OrgnlCreationTime, err = field.DateTime(d)
			}
		case "OrgnlNbOfTxs":
			if err = field.Once(d, &seen, fNbOfTxs); err == nil {
				g.OrgnlNbOfTxs, err = field.Count(d)
			}
		case "OrgnlCtrlSum":
			if err = field.Once(d, &seen, fCtrlSum); err == nil {
				g.OrgnlCtrlSum, err = field.DecimalNumber(d)
			}
		case "GrpSts":
			if err = field.Once(d, &seen, fSts); err == nil {
				g.Status, err = p.status(false)
			}
		case "StsRsnInf":
			if err = d.Item(); err != nil {
				break
			}
			var r Reason
			r, err = p.reason()
			g.Reasons = append(g.Reasons, r)
		case "NbOfTxsPerSts":
			if err = d.Item(); err != nil {
				break
			}
			var c StatusCount
			c, err = p.count()
			g.StatusCounts = append(g.StatusCounts, c)
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
	if seen&fMsgID == 0 {
		return p.invalid("OrgnlGrpInfAndSts has no OrgnlMsgId")
	}
	return nil
}

func (p *parser) payment(pm *Payment) error {
	d := p.d
	const (
		fID = 1 << iota
		fNbOfTxs
		fCtrlSum
		fSts
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
		case "OrgnlPmtInfId":
			if err = field.Once(d, &seen, fID); err == nil {
				pm.OrgnlPmtInfID, err = field.ID(d)
			}
		case "OrgnlNbOfTxs":
			if err = field.Once(d, &seen, fNbOfTxs); err == nil {
				pm.OrgnlNbOfTxs, err = field.Count(d)
			}
		case "OrgnlCtrlSum":
			if err = field.Once(d, &seen, fCtrlSum); err == nil {
				pm.OrgnlCtrlSum, err = field.DecimalNumber(d)
			}
		case "PmtInfSts":
			if err = field.Once(d, &seen, fSts); err == nil {
				pm.Status, err = p.status(false)
			}
		case "StsRsnInf":
			if err = d.Item(); err != nil {
				break
			}
			var r Reason
			r, err = p.reason()
			pm.Reasons = append(pm.Reasons, r)
		case "NbOfTxsPerSts":
			if err = d.Item(); err != nil {
				break
			}
			var c StatusCount
			c, err = p.count()
			pm.StatusCounts = append(pm.StatusCounts, c)
		case "TxInfAndSts":
			if err = d.Item(); err != nil {
				break
			}
			pm.Transactions = append(pm.Transactions, Transaction{})
			err = p.transaction(&pm.Transactions[len(pm.Transactions)-1])
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
	if seen&fID == 0 {
		return p.invalid("OrgnlPmtInfAndSts has no OrgnlPmtInfId")
	}
	return nil
}

func (p *parser) transaction(tx *Transaction) error {
	d := p.d
	const (
		fStsID = 1 << iota
		fInstrID
		fE2E
		fUETR
		fSts
		fAcctSvcrRef
		fClrSysRef
		fTxRef
	)
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil || !ok {
			return err
		}
		switch string(name) {
		case "StsId":
			if err = field.Once(d, &seen, fStsID); err == nil {
				tx.StatusID, err = d.Text()
			}
		case "OrgnlInstrId":
			if err = field.Once(d, &seen, fInstrID); err == nil {
				tx.OrgnlInstrID, err = d.Text()
			}
		case "OrgnlEndToEndId":
			if err = field.Once(d, &seen, fE2E); err == nil {
				tx.OrgnlEndToEndID, err = d.Text()
			}
		case "OrgnlUETR":
			if err = field.Once(d, &seen, fUETR); err == nil {
				tx.OrgnlUETR, err = d.Text()
			}
		case "TxSts":
			if err = field.Once(d, &seen, fSts); err == nil {
				tx.Status, err = p.status(true)
			}
		case "StsRsnInf":
			if err = d.Item(); err != nil {
				break
			}
			var r Reason
			r, err = p.reason()
			tx.Reasons = append(tx.Reasons, r)
		case "AcctSvcrRef":
			if err = field.Once(d, &seen, fAcctSvcrRef); err == nil {
				tx.AcctSvcrRef, err = d.Text()
			}
		case "ClrSysRef":
			if err = field.Once(d, &seen, fClrSysRef); err == nil {
				tx.ClrSysRef, err = d.Text()
			}
		case "OrgnlTxRef":
			if err = field.Once(d, &seen, fTxRef); err == nil {
				err = p.txRef(tx)
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
}

// txRef reads the parts of OrgnlTxRef that identify the original: its
// instructed amount and requested execution date.
func (p *parser) txRef(tx *Transaction) error {
	d := p.d
	const (
		fAmt = 1 << iota
		fExec
	)
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil || !ok {
			return err
		}
		switch string(name) {
		case "Amt":
			if err = field.Once(d, &seen, fAmt); err == nil {
				err = p.instructedAmount(tx)
			}
		case "ReqdExctnDt":
			if err = field.Once(d, &seen, fExec); err != nil {
				break
			}
			if p.v10 {
				tx.ExecutionDate, err = field.DateChoice(d, "ReqdExctnDt")
			} else {
				tx.ExecutionDate.Time, err = field.Date(d)
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
}

// instructedAmount reads OrgnlTxRef/Amt, a choice of InstdAmt and EqvtAmt;
// only InstdAmt is kept.
func (p *parser) instructedAmount(tx *Transaction) error {
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
		case "InstdAmt":
			n++
			tx.Amount, err = field.Amount(d)
		case "EqvtAmt":
			n++
			err = d.Skip()
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
		if n > 1 {
			return p.invalid("Amt has more than one of InstdAmt and EqvtAmt")
		}
	}
	return nil
}

func (p *parser) reason() (Reason, error) {
	d := p.d
	var r Reason
	const (
		fOrgtr = 1 << iota
		fRsn
	)
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil || !ok {
			return r, err
		}
		switch string(name) {
		case "Orgtr":
			if err = field.Once(d, &seen, fOrgtr); err == nil {
				err = p.originator(&r)
			}
		case "Rsn":
			if err = field.Once(d, &seen, fRsn); err == nil {
				r.Code, r.Proprietary, err = field.Choice(d, "Rsn", 4)
			}
		case "AddtlInf":
			if err = d.Item(); err == nil {
				r.AdditionalInfo, err = field.Texts(d, r.AdditionalInfo)
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return r, err
		}
	}
}

// originator reads the name and BIC of a StsRsnInf/Orgtr.
func (p *parser) originator(r *Reason) error {
	d := p.d
	for depth := 0; ; {
		name, ok, err := d.Child()
		if err != nil {
			return err
		}
		if !ok {
			if depth == 0 {
				return nil
			}
			depth--
			continue
		}
		switch {
		case depth == 0 && string(name) == "Nm":
			r.OriginatorName, err = d.Text()
		case depth == 0 && string(name) == "Id", depth == 1 && string(name) == "OrgId":
			depth++
		case depth == 2 && (string(name) == "BICOrBEI" || string(name) == "AnyBIC"):
			r.OriginatorBIC, err = d.Text()
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
}

func (p *parser) count() (StatusCount, error) {
	d := p.d
	var c StatusCount
	const (
		fNb = 1 << iota
		fSts
		fSum
	)
	var seen uint64
	for {
		name, ok, err := d.Child()
		if err != nil {
			return c, err
		}
		if !ok {
			break
		}
		switch string(name) {
		case "DtldNbOfTxs":
			if err = field.Once(d, &seen, fNb); err == nil {
				c.Count, err = field.Count(d)
			}
		case "DtldSts":
			if err = field.Once(d, &seen, fSts); err == nil {
				c.Status, err = p.status(true)
			}
		case "DtldCtrlSum":
			if err = field.Once(d, &seen, fSum); err == nil {
				c.CtrlSum, err = field.DecimalNumber(d)
			}
		default:
			err = d.Skip()
		}
		if err != nil {
			return c, err
		}
	}
	if seen&(fNb|fSts) != fNb|fSts {
		return c, p.invalid("NbOfTxsPerSts needs DtldNbOfTxs and DtldSts")
	}
	return c, nil
}

var (
	groupStatusV03 = []string{"ACTC", "RCVD", "PART", "RJCT", "PDNG", "ACCP", "ACSP", "ACSC", "ACWC"}
	txStatusV03    = []string{"ACTC", "RJCT", "PDNG", "ACCP", "ACSP", "ACSC", "ACWC"}
)

// status reads a status code: in .03 from the closed lists of the schema,
// in .10 any external code of up to four characters, but never PART for a
// transaction.
func (p *parser) status(tx bool) (Status, error) {
	code, err := field.Code(p.d, 4)
	if err != nil {
		return "", err
	}
	switch {
	case !p.v10 && !tx && !slices.Contains(groupStatusV03, code):
		return "", p.invalid("status %q is not one of %v", code, groupStatusV03)
	case !p.v10 && tx && !slices.Contains(txStatusV03, code):
		return "", p.invalid("transaction status %q is not one of %v", code, txStatusV03)
	case tx && code == string(PartiallyAccepted):
		return "", p.invalid("PART is not a transaction status")
	}
	return Status(code), nil
}
