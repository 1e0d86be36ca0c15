package pain002

import (
	"fmt"
	"strings"
	"time"

	"refundd/formats"
)

// dump writes every field of a report, one level per line, "-" for empty.
func dump(r *Report) string {
	var b strings.Builder
	s := func(v string) string {
		if v == "" {
			return "-"
		}
		return v
	}
	tm := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return formats.FormatDateTime(t)
	}
	dec := func(d formats.Decimal) string {
		if d == (formats.Decimal{}) {
			return "-"
		}
		return d.String()
	}
	reasons := func(ind string, rs []Reason, cs []StatusCount) {
		for _, r := range rs {
			code := r.Code
			if r.Proprietary != "" {
				code = "prtry:" + r.Proprietary
			}
			fmt.Fprintf(&b, "%srsn %s %q by %s/%s\n", ind, s(code), r.AdditionalInfo, s(r.OriginatorName), s(r.OriginatorBIC))
		}
		for _, c := range cs {
			fmt.Fprintf(&b, "%scnt %d %s %s\n", ind, c.Count, c.Status, dec(c.CtrlSum))
		}
	}
	fmt.Fprintf(&b, "%s %s %s\n", r.Message, r.MsgID, tm(r.CreationTime))
	g := &r.Group
	fmt.Fprintf(&b, "grp %s|%s|%s|n=%d|sum=%s|%s\n", s(g.OrgnlMsgID), s(g.OrgnlMsgNmID), tm(g.OrgnlCreationTime), g.OrgnlNbOfTxs, dec(g.OrgnlCtrlSum), s(string(g.Status)))
	reasons("  ", g.Reasons, g.StatusCounts)
	for _, p := range r.Payments {
		fmt.Fprintf(&b, "pmt %s|n=%d|sum=%s|%s\n", s(p.OrgnlPmtInfID), p.OrgnlNbOfTxs, dec(p.OrgnlCtrlSum), s(string(p.Status)))
		reasons("  ", p.Reasons, p.StatusCounts)
		for _, tx := range p.Transactions {
			amt, exec := "-", "-"
			if !tx.Amount.IsZero() {
				amt = tx.Amount.String()
			}
			if !tx.ExecutionDate.IsZero() {
				exec = tx.ExecutionDate.String()
			}
			fmt.Fprintf(&b, "  tx %s|%s|%s|%s|%s|%s|%s|%s|%s\n", s(tx.StatusID), s(tx.OrgnlInstrID), s(tx.OrgnlEndToEndID), s(tx.OrgnlUETR),
				s(string(tx.Status)), s(tx.AcctSvcrRef), s(tx.ClrSysRef), amt, exec)
			reasons("    ", tx.Reasons, nil)
		}
	}
	return b.String()
}
