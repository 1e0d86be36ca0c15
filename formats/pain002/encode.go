package pain002

import (
	"fmt"
	"io"
	"slices"
	"strconv"

	"refundd/formats"
	"refundd/formats/internal/field"
	"refundd/formats/internal/xmlout"
)

// V03 is the message Encode writes, pain.002.001.03.
var V03 = formats.Message{Type: formats.Pain002, Version: "001.03", Namespace: "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"}

// Encode writes r to w as a pain.002.001.03 that validates against the
// schema, streaming. r.Message must be zero or V03. What the version
// cannot carry (an OrgnlUETR, an execution date with a time, a status
// outside the .03 lists) and what the schema forbids (a missing
// OrgnlMsgNmId, a text too long) is an error wrapping formats.ErrInvalid,
// never dropped silently. Decode(Encode(r)) gives r back.
func Encode(w io.Writer, r *Report) error {
	e := encoder{x: xmlout.New(w)}
	e.x.Wrap = func(err error) error { return &formats.Error{Msg: err.Error(), Err: formats.ErrInvalid} }
	if err := e.report(r); err != nil {
		return fmt.Errorf("pain002: encode: %w", err)
	}
	return nil
}

type encoder struct {
	x *xmlout.Writer
}

func (e *encoder) report(r *Report) error {
	x := e.x
	if !r.Message.IsZero() && r.Message != V03 {
		return x.Fail("cannot write %s, only %s", r.Message, V03)
	}
	if r.CreationTime.IsZero() {
		return x.Fail("GrpHdr/CreDtTm is required")
	}
	x.Declaration(V03.Namespace)
	x.Start("CstmrPmtStsRpt")
	x.Start("GrpHdr")
	x.Text("MsgId", r.MsgID, 35)
	x.Text("CreDtTm", formats.FormatDateTime(r.CreationTime), 0)
	x.End("GrpHdr")

	g := &r.Group
	x.Start("OrgnlGrpInfAndSts")
	x.Text("OrgnlMsgId", g.OrgnlMsgID, 35)
	x.Text("OrgnlMsgNmId", g.OrgnlMsgNmID, 35)
	if !g.OrgnlCreationTime.IsZero() {
		x.Text("OrgnlCreDtTm", formats.FormatDateTime(g.OrgnlCreationTime), 0)
	}
	e.totals(g.OrgnlNbOfTxs, g.OrgnlCtrlSum)
	e.status("GrpSts", g.Status, groupStatusV03)
	e.reasons(g.Reasons)
	e.counts(g.StatusCounts)
	x.End("OrgnlGrpInfAndSts")

	for i := range r.Payments {
		p := &r.Payments[i]
		x.Start("OrgnlPmtInfAndSts")
		x.Text("OrgnlPmtInfId", p.OrgnlPmtInfID, 35)
		e.totals(p.OrgnlNbOfTxs, p.OrgnlCtrlSum)
		e.status("PmtInfSts", p.Status, groupStatusV03)
		e.reasons(p.Reasons)
		e.counts(p.StatusCounts)
		for j := range p.Transactions {
			e.transaction(&p.Transactions[j])
		}
		x.End("OrgnlPmtInfAndSts")
	}
	x.End("CstmrPmtStsRpt")
	return x.Close()
}

func (e *encoder) totals(n int, sum formats.Decimal) {
	if n < 0 || n > 999_999_999_999_999 {
		e.x.Fail("OrgnlNbOfTxs %d is out of range", n)
	}
	if n > 0 {
		e.x.Text("OrgnlNbOfTxs", strconv.Itoa(n), 15)
	}
	if sum != (formats.Decimal{}) {
		if err := field.CheckDecimalNumber(sum); err != nil {
			e.x.Fail("OrgnlCtrlSum: %v", err)
		}
		e.x.Text("OrgnlCtrlSum", sum.String(), 0)
	}
}

func (e *encoder) status(tag string, s Status, allowed []string) {
	if s == "" {
		return
	}
	if !slices.Contains(allowed, string(s)) {
		e.x.Fail("%s %q is not one of %v", tag, s, allowed)
		return
	}
	e.x.Text(tag, string(s), 4)
}

func (e *encoder) reasons(rs []Reason) {
	x := e.x
	for _, r := range rs {
		x.Start("StsRsnInf")
		if r.OriginatorName != "" || r.OriginatorBIC != "" {
			x.Start("Orgtr")
			x.Opt("Nm", r.OriginatorName, 140)
			if r.OriginatorBIC != "" {
				if !field.ValidBIC(r.OriginatorBIC) {
					x.Fail("Orgtr BIC %q is not a BIC", r.OriginatorBIC)
				}
				x.Start("Id")
				x.Start("OrgId")
				x.Text("BICOrBEI", r.OriginatorBIC, 11)
				x.End("OrgId")
				x.End("Id")
			}
			x.End("Orgtr")
		}
		switch {
		case r.Code != "" && r.Proprietary != "":
			x.Fail("StsRsnInf has both a reason code %q and a proprietary reason %q", r.Code, r.Proprietary)
		case r.Code != "":
			x.Start("Rsn")
			x.Text("Cd", r.Code, 4)
			x.End("Rsn")
		case r.Proprietary != "":
			x.Start("Rsn")
			x.Text("Prtry", r.Proprietary, 35)
			x.End("Rsn")
		}
		for _, s := range r.AdditionalInfo {
			x.Text("AddtlInf", s, 105)
		}
		x.End("StsRsnInf")
	}
}

func (e *encoder) counts(cs []StatusCount) {
	x := e.x
	for _, c := range cs {
		x.Start("NbOfTxsPerSts")
		if c.Count < 0 || c.Count > 999_999_999_999_999 {
			x.Fail("DtldNbOfTxs %d is out of range", c.Count)
		}
		x.Text("DtldNbOfTxs", strconv.Itoa(c.Count), 15)
		if !slices.Contains(txStatusV03, string(c.Status)) {
			x.Fail("DtldSts %q is not one of %v", c.Status, txStatusV03)
		}
		x.Text("DtldSts", string(c.Status), 4)
		if c.CtrlSum != (formats.Decimal{}) {
			if err := field.CheckDecimalNumber(c.CtrlSum); err != nil {
				x.Fail("DtldCtrlSum: %v", err)
			}
			x.Text("DtldCtrlSum", c.CtrlSum.String(), 0)
		}
		x.End("NbOfTxsPerSts")
	}
}

func (e *encoder) transaction(tx *Transaction) {
	x := e.x
	if tx.OrgnlUETR != "" {
		x.Fail("transaction %s: pain.002.001.03 has no OrgnlUETR", tx.OrgnlEndToEndID)
	}
	x.Start("TxInfAndSts")
	x.Opt("StsId", tx.StatusID, 35)
	x.Opt("OrgnlInstrId", tx.OrgnlInstrID, 35)
	x.Opt("OrgnlEndToEndId", tx.OrgnlEndToEndID, 35)
	e.status("TxSts", tx.Status, txStatusV03)
	e.reasons(tx.Reasons)
	x.Opt("AcctSvcrRef", tx.AcctSvcrRef, 35)
	x.Opt("ClrSysRef", tx.ClrSysRef, 35)
	if !tx.Amount.IsZero() || !tx.ExecutionDate.IsZero() {
		x.Start("OrgnlTxRef")
		if !tx.Amount.IsZero() {
			if err := field.CheckAmount(tx.Amount); err != nil {
				x.Fail("transaction %s: %v", tx.OrgnlEndToEndID, err)
			}
			x.Start("Amt")
			x.TextAttr("InstdAmt", "Ccy", tx.Amount.Currency, tx.Amount.Decimal.String(), 0)
			x.End("Amt")
		}
		if !tx.ExecutionDate.IsZero() {
			if tx.ExecutionDate.HasTime {
				x.Fail("transaction %s: pain.002.001.03 has a date, not a date and time, as ReqdExctnDt", tx.OrgnlEndToEndID)
			}
			x.Text("ReqdExctnDt", tx.ExecutionDate.String(), 0)
		}
		x.End("OrgnlTxRef")
	}
	x.End("TxInfAndSts")
}
