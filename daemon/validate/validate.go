package validate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"refundd/daemon/config"
	"refundd/daemon/erp"
	"refundd/daemon/render"
	"refundd/formats"

	"refundd/daemon/refund"
	"refundd/formats/pain001"
)

// Verdict says what a file is and everything wrong with it.
type Verdict struct {
	File     string
	Kind     string   // e.g. "refund batch (CSV)", "pain.001.001.03"
	Summary  string   // counts and totals
	Problems []string // "file:line: Field: reason", warnings marked; identical warnings once
	Invalid  bool     // at least one problem is an error
}

// File checks a batch file (.csv, .json), or an ISO 20022 file
// (.xml: a pain.001, pain.002, camt.054 or camt.053, told by its root
// namespace), and reports what it is and whether it is valid. An XML file
// of unknown type, hostile or truncated is invalid, with the reason; so is
// a reply larger than limits.max_reply_size of c (the default limit when c
// is nil). The error is for files that cannot be read at all.
func File(c *config.Config, path string, now time.Time) (*Verdict, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".json":
		return batch(c, path, now)
	case ".xml":
		o := formats.Options{MaxBytes: config.DefaultMaxReplySize}
		if c != nil {
			o.MaxBytes = c.Limits.MaxReplyBytes()
		}
		return validateXML(path, o)
	}
	return nil, fmt.Errorf("validate %s: unknown file type (want .csv or .json batch, or .xml)", path)
}

func batch(c *config.Config, path string, now time.Time) (*Verdict, error) {
	p, err := render.Batch(c, path, func() (io.ReadCloser, error) { return os.Open(path) }, now)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	r := &Verdict{File: path, Kind: "refund batch (" + strings.ToUpper(strings.TrimPrefix(filepath.Ext(path), ".")) + ")"}
	for q := range erp.Summarise(p.Problems) {
		r.Problems = append(r.Problems, q.String())
	}
	r.Invalid = !p.Valid()
	if r.Invalid {
		r.Summary = fmt.Sprintf("batch %s", p.Batch)
		return r, nil
	}
	n, sums := p.Totals()
	r.Summary = fmt.Sprintf("batch %s, %d refunds, %s, %d payment block(s), MsgId %s", p.Batch, n, "total "+refund.FormatTotals(sums), len(p.Groups), p.MsgID)
	return r, nil
}

// validatePain001 checks what the XSD cannot: totals, ids, amounts in the
// currency's minor units, account check digits.
func validatePain001(path string) (*Verdict, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("validate %s: %w", path, err)
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	r := &Verdict{File: path, Kind: "pain.001"}
	bad := func(line int, field, format string, args ...any) {
		r.Problems = append(r.Problems, fmt.Sprintf("%s:%d: %s: %s", path, line, field, fmt.Sprintf(format, args...)))
		r.Invalid = true
	}
	var (
		hdr        *pain001.GroupHeader
		hdrLine    int
		pmt        *pain001.PaymentInfo
		pmtLine    int
		nTx, nPmt  int
		sum, pmSum formats.Sum
		pmtIDs     = map[string]int{}
		e2eIDs     = map[string]int{}
		blocks     int
	)
	checkID := func(line int, field, id string) {
		if err := pain001.CheckID(id); err != nil {
			bad(line, field, "%q is not a valid id (1 to 35 of A-Z a-z 0-9 / - ? : ( ) . , ' +)", id)
		}
	}
	closePmt := func() {
		if pmt == nil {
			return
		}
		if pmt.NbOfTxs != nPmt {
			bad(pmtLine, "PmtInf/NbOfTxs", "declares %d transactions, the block has %d", pmt.NbOfTxs, nPmt)
		}
		if pmSum.Cmp(pmt.CtrlSum) != 0 {
			bad(pmtLine, "PmtInf/CtrlSum", "declares %s, the transactions sum to %s", pmt.CtrlSum, pmSum)
		}
	}
	v, err := pain001.Decode(bufio.NewReaderSize(f, 64<<10), pain001.Handler{
		Header: func(line int, h *pain001.GroupHeader) error {
			hdr, hdrLine = h, line
			// Room for the EndToEndIds the header declares, as many as
			// the file can hold (a transaction takes more than 200
			// bytes), so that the map is not rebuilt as it grows.
			e2eIDs = make(map[string]int, max(0, min(int64(h.NbOfTxs), size/200)))
			checkID(line, "GrpHdr/MsgId", h.MsgID)
			if h.InitiatingParty.Name == "" {
				bad(line, "GrpHdr/InitgPty/Nm", "required")
			}
			return nil
		},
		PaymentInfo: func(line int, p *pain001.PaymentInfo) error {
			closePmt()
			pmt, pmtLine, nPmt, pmSum = p, line, 0, formats.Sum{}
			blocks++
			checkID(line, "PmtInf/PmtInfId", p.PmtInfID)
			if first, ok := pmtIDs[p.PmtInfID]; ok {
				bad(line, "PmtInf/PmtInfId", "%q repeats the block at line %d", p.PmtInfID, first)
			}
			pmtIDs[p.PmtInfID] = line
			if p.ExecutionDate.IsZero() {
				bad(line, "PmtInf/ReqdExctnDt", "missing or not a date")
			}
			checkAccount(line, "PmtInf/DbtrAcct", p.DebtorAccount, bad)
			if _, err := refund.ParseBIC(p.DebtorAgentBIC); err != nil {
				bad(line, "PmtInf/DbtrAgt", "%v", err)
			}
			return nil
		},
		Transaction: func(line int, t *pain001.Transaction) error {
			nTx++
			nPmt++
			checkID(line, "PmtId/EndToEndId", t.EndToEndID)
			if t.InstrID != "" {
				checkID(line, "PmtId/InstrId", t.InstrID)
			}
			if first, ok := e2eIDs[t.EndToEndID]; ok {
				bad(line, "PmtId/EndToEndId", "%q repeats the transaction at line %d", t.EndToEndID, first)
			} else {
				e2eIDs[t.EndToEndID] = line
			}
			exp, ok := refund.Currency(t.Amount.Currency).Exponent()
			switch {
			case !ok:
				bad(line, "InstdAmt/@Ccy", "unknown currency %q", t.Amount.Currency)
			case t.Amount.Units <= 0:
				bad(line, "InstdAmt", "must be greater than zero")
			case t.Amount.Scale > exp && t.Amount.Units%pow10(t.Amount.Scale-exp) != 0:
				bad(line, "InstdAmt", "%s has more decimals than %s has", t.Amount.Decimal, t.Amount.Currency)
			}
			sum.Add(t.Amount.Decimal)
			pmSum.Add(t.Amount.Decimal)
			if t.Creditor.Name == "" {
				bad(line, "Cdtr/Nm", "required")
			}
			checkAccount(line, "CdtrAcct", t.CreditorAccount, bad)
			if t.CreditorAgentBIC != "" {
				if _, err := refund.ParseBIC(t.CreditorAgentBIC); err != nil {
					bad(line, "CdtrAgt", "%v", err)
				}
			}
			if len(t.Remittance) > 140 && utf8.RuneCountInString(t.Remittance) > 140 {
				bad(line, "RmtInf/Ustrd", "longer than 140 characters")
			}
			return nil
		},
	})
	if err != nil {
		if errors.Is(err, pain001.ErrNotPain001) {
			return nil, fmt.Errorf("validate %s: %w", path, err)
		}
		r.Problems = append(r.Problems, fmt.Sprintf("%s: %v", path, err))
		r.Invalid = true
		return r, nil
	}
	closePmt()
	r.Kind = "pain." + string(v)
	if hdr == nil {
		bad(0, "GrpHdr", "missing")
		return r, nil
	}
	if hdr.NbOfTxs != nTx {
		bad(hdrLine, "GrpHdr/NbOfTxs", "declares %d transactions, the file has %d", hdr.NbOfTxs, nTx)
	}
	if sum.Cmp(hdr.CtrlSum) != 0 {
		bad(hdrLine, "GrpHdr/CtrlSum", "declares %s, the transactions sum to %s", hdr.CtrlSum, sum)
	}
	if blocks == 0 {
		bad(hdrLine, "PmtInf", "the file has no payment block")
	}
	r.Summary = fmt.Sprintf("MsgId %s, %d transactions in %d payment block(s), control sum %s", hdr.MsgID, nTx, blocks, sum)
	return r, nil
}

func checkAccount(line int, field string, a pain001.Account, bad func(int, string, string, ...any)) {
	switch {
	case a.IBAN != "":
		if _, err := refund.ParseIBAN(a.IBAN); err != nil {
			bad(line, field+"/Id/IBAN", "%v", err)
		}
	case a.Scheme == "BBAN":
		if _, err := refund.ParseBBAN(a.Other); err != nil {
			bad(line, field+"/Id/Othr/Id", "%v", err)
		}
	case a.Other == "":
		bad(line, field+"/Id", "no account number")
	}
}

func pow10(n int) int64 {
	v := int64(1)
	for range n {
		v *= 10
	}
	return v
}
