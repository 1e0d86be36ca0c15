package validate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"refundd/daemon/refund"
	"refundd/daemon/reply"
	"refundd/formats"
	"refundd/formats/camt054"
	"refundd/formats/pain002"
)

// validateXML tells the message type of an XML file by its root namespace
// and checks it: a pain.001 as before, a pain.002, camt.054 or camt.053 by
// reading it whole with the untrusted-input rules of package formats. A
// file whose type cannot be told (an unknown namespace, a DOCTYPE, not
// XML) is invalid, with the reason. A reply is read within the limits of
// o; one larger than o.MaxBytes is invalid without being read.
func validateXML(path string, o formats.Options) (*Verdict, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("validate %s: %w", path, err)
	}
	m, err := formats.Detect(f)
	var size int64
	if fi, serr := f.Stat(); serr == nil {
		size = fi.Size()
	}
	f.Close()
	if err != nil {
		return refused(&Verdict{File: path, Kind: "XML"}, err), nil
	}
	if limit := reply.MaxBytes(o); m.Type != formats.Pain001 && size > limit {
		return refused(&Verdict{File: path, Kind: m.String()}, reply.TooLarge(filepath.Base(path), size, limit)), nil
	}
	switch m.Type {
	case formats.Pain001:
		return validatePain001(path)
	case formats.Pain002:
		return validatePain002(path, m, o)
	}
	return validateCamt(path, m, o)
}

// refused marks r invalid because of err, which names the line and the
// element: the summary is the class of the problem, the problem line the
// whole error with the file's name.
func refused(r *Verdict, err error) *Verdict {
	r.Invalid = true
	r.Summary = errorClass(err)
	r.Problems = append(r.Problems, fmt.Sprintf("%s: %v", r.File, err))
	return r
}

// errorClass returns the text of the sentinel error of package formats
// that err wraps, or err's own text.
func errorClass(err error) string {
	for _, c := range []error{formats.ErrUnknownMessage, formats.ErrWrongMessage, formats.ErrDoctype, formats.ErrTruncated,
		formats.ErrTrailing, formats.ErrTooLarge, formats.ErrEncoding, formats.ErrLimit, formats.ErrMalformed, formats.ErrInvalid} {
		if errors.Is(err, c) {
			return c.Error()
		}
	}
	return err.Error()
}

// validatePain002 reads a status report and summarises it: the message it
// answers, the status at each level with the reason codes, and the
// statuses of the transactions it lists. A transaction that the report
// accepts under a rejected block or group, or lists twice with different
// statuses, is a warning: refundd does not apply such a status.
func validatePain002(path string, m formats.Message, o formats.Options) (*Verdict, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("validate %s: %w", path, err)
	}
	defer f.Close()
	r := &Verdict{File: path, Kind: m.String()}
	rep, err := pain002.Decode(bufio.NewReader(f), o)
	if err != nil {
		return refused(r, err), nil
	}
	warn := func(pos, format string, args ...any) {
		r.Problems = append(r.Problems, fmt.Sprintf("%s: %s: warning: %s", path, pos, fmt.Sprintf(format, args...)))
	}
	g := &rep.Group
	var blocks, txs statusTally
	listed := map[string]pain002.Status{}
	for i := range rep.Payments {
		p := &rep.Payments[i]
		blocks.add(p.Status, p.Reasons)
		for j := range p.Transactions {
			t := &p.Transactions[j]
			pos := fmt.Sprintf("OrgnlPmtInfAndSts[%d]/TxInfAndSts[%d]", i+1, j+1)
			txs.add(t.Status, t.Reasons)
			if o := pain002.Effective(g, p, t); o.Conflict {
				warn(pos, "%s %s under a rejected %s", reply.TxRefs(t), o.Status, reply.Above(o.Level, p))
			}
			if id := t.OrgnlEndToEndID; id != "" && !strings.EqualFold(id, "NOTPROVIDED") {
				if s, ok := listed[id]; ok && s != t.Status {
					warn(pos, "EndToEndId %q is listed as %s and as %s", id, s, t.Status)
				}
				listed[id] = t.Status
			}
		}
	}
	group := "group " + reply.StatusText(g.Status, g.Reasons)
	if g.Status == "" {
		group = "no group status"
	}
	r.Summary = fmt.Sprintf("original MsgId %s, %s, %d payment block(s)", g.OrgnlMsgID, group, len(rep.Payments))
	if len(blocks.order) > 0 && !(len(blocks.order) == 1 && blocks.order[0] == "") {
		r.Summary += " [" + blocks.String() + "]"
	}
	r.Summary += fmt.Sprintf(", %d transaction(s)", reply.CountTxs(rep))
	if reply.CountTxs(rep) > 0 {
		r.Summary += ": " + txs.String()
	}
	return r, nil
}

// statusTally counts statuses with their reason codes.
type statusTally struct {
	order   []pain002.Status
	n       map[pain002.Status]int
	reasons map[pain002.Status][]string
}

// add counts one status with its reasons.
func (t *statusTally) add(s pain002.Status, rs []pain002.Reason) {
	if t.n == nil {
		t.n, t.reasons = map[pain002.Status]int{}, map[pain002.Status][]string{}
	}
	if t.n[s] == 0 {
		t.order = append(t.order, s)
	}
	t.n[s]++
	for _, r := range rs {
		c := r.Code
		if c == "" {
			c = r.Proprietary
		}
		if c != "" && !slices.Contains(t.reasons[s], c) {
			t.reasons[s] = append(t.reasons[s], c)
		}
	}
}

// String formats the tally as "1 ACCP, 2 RJCT (AC01, AC04)", statuses and
// reasons in alphabetical order, "1 without status" last.
func (t *statusTally) String() string {
	order := slices.Clone(t.order)
	slices.SortFunc(order, func(a, b pain002.Status) int {
		switch {
		case a == b:
			return 0
		case a == "":
			return 1
		case b == "":
			return -1
		}
		return strings.Compare(string(a), string(b))
	})
	var s []string
	for _, st := range order {
		rs := slices.Clone(t.reasons[st])
		slices.Sort(rs)
		name := string(st)
		if st == "" {
			name = "without status"
		}
		item := fmt.Sprintf("%d %s", t.n[st], name)
		if len(rs) > 0 {
			item += " (" + strings.Join(rs, ", ") + ")"
		}
		s = append(s, item)
	}
	return strings.Join(s, ", ")
}

// validateCamt reads a notification or statement entry by entry and
// summarises it: entries per direction with their totals per currency,
// transactions, returns with their reasons, entry statuses and a
// copy/duplicate indicator. An entry refundd could not book (an amount in
// an unknown currency or with more decimals than its currency has, ...)
// is a warning: it would be an exception.
func validateCamt(path string, m formats.Message, o formats.Options) (*Verdict, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("validate %s: %w", path, err)
	}
	defer f.Close()
	r := &Verdict{File: path, Kind: m.String()}
	rd, err := camt054.NewReader(bufio.NewReader(f), o)
	if err != nil {
		return refused(r, err), nil
	}
	var (
		entries, txs, returns int
		dirs                  = map[camt054.CreditDebit]*directionTally{}
		statuses              = map[string]int{}
		reasons               []string
		copies                []string
		rep                   *camt054.Report
		n                     int
	)
	for {
		e, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			refused(r, err)
			r.Summary += fmt.Sprintf(" after %d entries", entries)
			return r, nil
		}
		if e.Report != rep {
			rep, n = e.Report, 0
			if c := rep.CopyDuplicate; c != "" && !slices.Contains(copies, c) {
				copies = append(copies, c)
			}
		}
		n++
		entries++
		pos := fmt.Sprintf("%s[Id='%s']/Ntry[%d]", reply.ReportTag(m), rep.ID, n)
		d := dirs[e.CreditDebit]
		if d == nil {
			d = &directionTally{sums: map[string]*formats.Sum{}}
			dirs[e.CreditDebit] = d
		}
		d.n++
		d.add(e.Amount)
		st := e.Status
		if st == "" {
			st = "Prtry:" + e.StatusProprietary
		}
		statuses[st]++
		for _, t := range e.Transactions() {
			txs++
			if t.Return != nil {
				returns++
				c := t.Return.Reason
				if c == "" {
					c = t.Return.ReasonProprietary
				}
				if c != "" && !slices.Contains(reasons, c) {
					reasons = append(reasons, c)
				}
			}
		}
		if err := reply.EntryProblem(e, pos); err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("%s:%d: %s: warning: refundd cannot book this entry: %v", path, rd.Line(), pos, err))
		}
	}
	var parts []string
	for _, cd := range []camt054.CreditDebit{camt054.Debit, camt054.Credit} {
		if d := dirs[cd]; d != nil {
			parts = append(parts, fmt.Sprintf("%d %s %s", d.n, cd, d.String()))
		}
	}
	s := fmt.Sprintf("%d %s", entries, plural(entries, "entry", "entries"))
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	s += fmt.Sprintf(", %d %s, %d %s", txs, plural(txs, "transaction", "transactions"), returns, plural(returns, "return", "returns"))
	if len(reasons) > 0 {
		slices.Sort(reasons)
		s += " (" + strings.Join(reasons, ", ") + ")"
	}
	codes := make([]string, 0, len(statuses))
	for c := range statuses {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for i, c := range codes {
		codes[i] = fmt.Sprintf("%s %d", c, statuses[c])
	}
	if len(codes) > 0 {
		s += ", " + strings.Join(codes, ", ")
	}
	if len(copies) > 0 {
		s += ", CpyDplctInd " + strings.Join(copies, ", ")
	}
	r.Summary = s
	return r, nil
}

// plural returns one or many by n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// directionTally counts the entries of one direction and adds their
// amounts per currency.
type directionTally struct {
	n    int
	sums map[string]*formats.Sum
}

// add adds an amount to the sum of its currency.
func (t *directionTally) add(a formats.Amount) {
	s := t.sums[a.Currency]
	if s == nil {
		s = &formats.Sum{}
		t.sums[a.Currency] = s
	}
	s.Add(a.Decimal)
}

// String formats the sums as "1234.50 NOK + 10.00 EUR", by currency.
func (t *directionTally) String() string {
	cs := make([]string, 0, len(t.sums))
	for c := range t.sums {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	for i, c := range cs {
		exp, _ := refund.Currency(c).Exponent()
		cs[i] = string(t.sums[c].Append(nil, exp)) + " " + c
	}
	return strings.Join(cs, " + ")
}
