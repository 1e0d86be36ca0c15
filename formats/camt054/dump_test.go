package camt054

import (
	"fmt"
	"io"
	"strings"

	"refundd/formats"
)

// dumpAll reads a whole document and writes every field read, one element
// per line, "-" for empty.
func dumpAll(r *Reader) (string, error) {
	var b strings.Builder
	h := r.Header()
	fmt.Fprintf(&b, "%s %s %s\n", h.Message, h.MsgID, formats.FormatDateTime(h.CreationTime))
	var rep *Report
	for {
		e, err := r.Next()
		if err == io.EOF {
			return b.String(), nil
		}
		if err != nil {
			return b.String(), err
		}
		if e.Report != rep {
			rep = e.Report
			tm := "-"
			if !rep.CreationTime.IsZero() {
				tm = formats.FormatDateTime(rep.CreationTime)
			}
			fmt.Fprintf(&b, "report %s|%s|seq=%s/%s|%s|%s\n", s(rep.ID), tm, s(rep.ElectronicSeqNb), s(rep.LegalSeqNb), s(rep.CopyDuplicate), acct(rep.Account))
		}
		dumpEntry(&b, e)
	}
}

func s(v string) string {
	if v == "" {
		return "-"
	}
	return v
}

func amt(a formats.Amount) string {
	if a.IsZero() {
		return "-"
	}
	return a.String()
}

func date(d formats.DateTime) string {
	if d.IsZero() {
		return "-"
	}
	return d.String()
}

func acct(a Account) string {
	if a.IsZero() {
		return "-"
	}
	id := a.IBAN
	if id == "" {
		id = "othr:" + a.Other
		if a.Scheme != "" {
			id += "/" + a.Scheme
		}
		if a.SchemeProprietary != "" {
			id += "/prtry:" + a.SchemeProprietary
		}
	}
	if a.Currency != "" {
		id += " " + a.Currency
	}
	return id
}

func btc(c BankTxCode) string {
	if c.IsZero() {
		return "-"
	}
	v := c.Domain + "/" + c.Family + "/" + c.SubFamily
	if c.Proprietary != "" || c.Issuer != "" {
		v += "+" + c.Proprietary + "@" + c.Issuer
	}
	return v
}

func amtDtls(a AmountDetails) string {
	if a == (AmountDetails{}) {
		return "-"
	}
	return fmt.Sprintf("instd=%s tx=%s cntrval=%s", amt(a.Instructed), amt(a.Transaction), amt(a.CounterValue))
}

func charges(b *strings.Builder, ind string, c Charges) {
	if !c.Total.IsZero() || len(c.Records) > 0 {
		fmt.Fprintf(b, "%schrgs total=%s\n", ind, amt(c.Total))
	}
	for _, r := range c.Records {
		incl := "-"
		if r.Included != nil {
			incl = fmt.Sprint(*r.Included)
		}
		fmt.Fprintf(b, "%s  chrg %s %s incl=%s tp=%s/%s br=%s ttl=%s\n", ind, amt(r.Amount), s(string(r.CreditDebit)), incl, s(r.Type), s(r.TypeProprietary), s(r.Bearer), amt(r.TotalAndTax))
	}
}

func dumpEntry(b *strings.Builder, e *Entry) {
	rvsl := ""
	if e.Reversal {
		rvsl = " REVERSAL"
	}
	fmt.Fprintf(b, "ntry %s|%s %s%s|%s|prtry=%s|bookg=%s|val=%s|ref=%s|btc=%s|amtdtls=%s|addtl=%q\n",
		s(e.Ref), e.Amount, e.CreditDebit, rvsl, s(e.Status), s(e.StatusProprietary), date(e.BookingDate), date(e.ValueDate),
		s(e.AcctSvcrRef), btc(e.BankTxCode), amtDtls(e.AmountDetails), e.AdditionalInfo)
	charges(b, "  ", e.Charges)
	for _, d := range e.Details {
		b.WriteString("  dtls\n")
		if bt := d.Batch; bt != nil {
			fmt.Fprintf(b, "    btch msg=%s pmtinf=%s n=%d ttl=%s %s\n", s(bt.MsgID), s(bt.PmtInfID), bt.NbOfTxs, amt(bt.Total), s(string(bt.CreditDebit)))
		}
		for _, tx := range d.Transactions {
			r := tx.Refs
			var refs []string
			for _, kv := range [][2]string{{"msg", r.MsgID}, {"acctsvcr", r.AcctSvcrRef}, {"pmtinf", r.PmtInfID}, {"instr", r.InstrID}, {"e2e", r.EndToEndID},
				{"uetr", r.UETR}, {"tx", r.TxID}, {"mndt", r.MandateID}, {"chq", r.ChequeNb}, {"clrsys", r.ClrSysRef}, {"acctownrtx", r.AcctOwnrTxID},
				{"acctsvcrtx", r.AcctSvcrTxID}, {"mktinfr", r.MktInfrstrctrTxID}, {"prcg", r.PrcgID}} {
				if kv[1] != "" {
					refs = append(refs, kv[0]+"="+kv[1])
				}
			}
			for _, p := range r.Proprietary {
				refs = append(refs, "prtry="+p.Type+":"+p.Ref)
			}
			fmt.Fprintf(b, "    tx %s|%s %s|amtdtls=%s|btc=%s|addtl=%q\n", strings.Join(refs, ","), amt(tx.Amount), s(string(tx.CreditDebit)), amtDtls(tx.AmountDetails), btc(tx.BankTxCode), tx.AdditionalInfo)
			charges(b, "      ", tx.Charges)
			if p := tx.Parties; p != (Parties{}) {
				fmt.Fprintf(b, "      pties dbtr=%s@%s cdtr=%s@%s\n", s(p.DebtorName), acct(p.DebtorAccount), s(p.CreditorName), acct(p.CreditorAccount))
			}
			if m := tx.Remittance; len(m.Unstructured) > 0 || len(m.Structured) > 0 {
				var strd []string
				for _, c := range m.Structured {
					strd = append(strd, s(c.Type)+"/"+s(c.TypeProprietary)+"/"+s(c.Issuer)+":"+c.Ref)
				}
				fmt.Fprintf(b, "      rmt ustrd=%q strd=%q\n", m.Unstructured, strd)
			}
			if rt := tx.Return; rt != nil {
				fmt.Fprintf(b, "      rtr %s/%s orgnl=%s by=%s %q\n", s(rt.Reason), s(rt.ReasonProprietary), btc(rt.OriginalBankTxCode), s(rt.OriginatorName), rt.AdditionalInfo)
			}
		}
	}
}
