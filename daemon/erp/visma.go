package erp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"refundd/daemon/refund"
)

// The formats of the postings files (ledger.format).
const (
	// PostingsRefundd is refundd's own postings CSV (EncodePostings).
	PostingsRefundd = "refundd"
	// PostingsVismaCSV is one CSV row per journal line for an import
	// scenario on Visma.net's Journal transactions window (GL301000).
	PostingsVismaCSV = "visma-csv"
	// PostingsVismaJSON is one file per voucher, shaped like the body of
	// Visma.net's POST /v2/journaltransaction (JournalTransactionUpdateDto).
	PostingsVismaJSON = "visma-json"
)

// Postings says how postings files are written: the format, and for
// Visma.net the branch, the ledger and the subaccount of each account
// ("" leaves a field to Visma.net's defaults).
type Postings struct {
	Format      string
	Branch      string
	Ledger      string
	Subaccounts map[string]string
}

// vismaCSVHeader is the header of the Visma.net postings CSV. A row is one
// journal line; the journal transaction's fields are repeated on each of
// its rows, and BatchKey (refundd's voucher id) groups them, as an import
// scenario needs. Never rename or reorder a column: the scenario's
// mapping names them.
func vismaCSVHeader() []string {
	return []string{"BatchKey", "Branch", "Ledger", "TransactionDate", "PostPeriod", "Currency", "BatchDescription",
		"LineNbr", "Account", "Subaccount", "RefNbr", "TransactionDescription", "DebitAmount", "CreditAmount"}
}

// journal is one journal transaction for Visma.net: the lines of a voucher
// in one currency. A voucher whose lines are all in one currency (all but
// a charge in another currency) is one journal, keyed by the voucher id;
// otherwise each currency is a journal keyed "<voucher id>-<currency>".
type journal struct {
	key   string
	v     *refund.Voucher
	cur   refund.Currency
	lines []refund.Line
}

// journals splits vouchers into Visma.net journal transactions.
func journals(vouchers []refund.Voucher) []journal {
	var js []journal
	for i := range vouchers {
		v := &vouchers[i]
		var order []refund.Currency
		by := map[refund.Currency][]refund.Line{}
		for _, l := range v.Lines() {
			c := l.Amount().Currency
			if _, ok := by[c]; !ok {
				order = append(order, c)
			}
			by[c] = append(by[c], l)
		}
		for _, c := range order {
			key := v.ID()
			if len(order) > 1 {
				key += "-" + string(c)
			}
			js = append(js, journal{key: key, v: v, cur: c, lines: by[c]})
		}
	}
	return js
}

// postPeriod is Visma.net's post period of a date: MMYYYY.
func postPeriod(d refund.Date) string {
	s := d.String() // YYYY-MM-DD
	return s[5:7] + s[0:4]
}

// description is the journal's description: its key first, so that a
// search for refundd's voucher id finds the journal in Visma.net, then
// what the first line says.
func (j *journal) description() string {
	return j.key + " " + j.lines[0].Text
}

// lineText is a line's transaction description: its text and the bank's
// reference, which has no column of its own in Visma.net.
func lineText(l *refund.Line) string {
	if l.BankRef == "" {
		return l.Text
	}
	return l.Text + " (bank ref. " + l.BankRef + ")"
}

// EncodeVismaCSV writes the postings of vouchers as the Visma.net postings
// CSV to w: semicolon-separated UTF-8 with a header row and CRLF line
// ends, dates YYYY-MM-DD, post periods MMYYYY, amounts with a decimal
// point and the currency's decimals and no thousands separator; the side
// of a line that is zero is left empty. Subaccounts are written without
// their segment separators ("CA-1-T32" as "CA1T32"), as Visma.net stores
// them.
func EncodeVismaCSV(w io.Writer, p Postings, vouchers []refund.Voucher) error {
	type row struct {
		j *journal
		n int
		l *refund.Line
	}
	js := journals(vouchers)
	var rows []row
	for i := range js {
		for n := range js[i].lines {
			rows = append(rows, row{&js[i], n + 1, &js[i].lines[n]})
		}
	}
	return encode(w, vismaCSVHeader(), len(rows), func(i int) []string {
		r := rows[i]
		a := r.l.Amount()
		debit, credit := a.String(), ""
		if r.l.Debit.Minor == 0 {
			debit, credit = "", a.String()
		}
		return []string{r.j.key, p.Branch, p.Ledger, dateCell(r.j.v.Date()), postPeriod(r.j.v.Date()), string(r.j.cur),
			text(r.j.description()), fmt.Sprint(r.n), r.l.Account, strings.ReplaceAll(p.Subaccounts[r.l.Account], "-", ""), r.l.RefNbr,
			text(lineText(r.l)), debit, credit}
	})
}

// The JSON shapes of Visma.net's JournalTransactionUpdateDto: every scalar
// is wrapped as {"value": …}; a line says it is inserted; a subaccount is
// a list of segments.
type (
	vStr struct {
		Value string `json:"value"`
	}
	vNum struct {
		Value json.Number `json:"value"`
	}
	vInt struct {
		Value int `json:"value"`
	}
	vBool struct {
		Value bool `json:"value"`
	}

	vismaSegment struct {
		SegmentID    int    `json:"segmentId"`
		SegmentValue string `json:"segmentValue"`
	}
	vismaLine struct {
		Operation              string         `json:"operation"`
		LineNumber             vInt           `json:"lineNumber"`
		AccountNumber          vStr           `json:"accountNumber"`
		Subaccount             []vismaSegment `json:"subaccount,omitempty"`
		ReferenceNumber        *vStr          `json:"referenceNumber,omitempty"`
		TransactionDescription vStr           `json:"transactionDescription"`
		DebitAmountInCurrency  *vNum          `json:"debitAmountInCurrency,omitempty"`
		CreditAmountInCurrency *vNum          `json:"creditAmountInCurrency,omitempty"`
		Branch                 *vStr          `json:"branch,omitempty"`
	}
	vismaJournal struct {
		Hold                    vBool       `json:"hold"`
		TransactionDate         vStr        `json:"transactionDate"`
		PostPeriod              vStr        `json:"postPeriod"`
		Ledger                  *vStr       `json:"ledger,omitempty"`
		CurrencyID              vStr        `json:"currencyId"`
		Description             vStr        `json:"description"`
		Branch                  *vStr       `json:"branch,omitempty"`
		JournalTransactionLines []vismaLine `json:"journalTransactionLines"`
	}
)

// optional returns s wrapped, or nil for "".
func optional(s string) *vStr {
	if s == "" {
		return nil
	}
	return &vStr{s}
}

// segments splits a subaccount such as "CA-1-T32" into Visma.net's
// segments, numbered from 1; "" has none.
func segments(sub string) []vismaSegment {
	if sub == "" {
		return nil
	}
	var ss []vismaSegment
	for i, v := range strings.Split(sub, "-") {
		ss = append(ss, vismaSegment{SegmentID: i + 1, SegmentValue: v})
	}
	return ss
}

// EncodeVismaJSON returns the postings of vouchers as Visma.net journal
// transactions, one JSON document per journal (see journals), each ready
// to be sent as the body of POST /v2/journaltransaction. Amounts are JSON
// numbers written from the minor units, exactly; the transaction date is
// the voucher's date at midnight, without a zone.
func EncodeVismaJSON(p Postings, vouchers []refund.Voucher) ([][]byte, error) {
	var docs [][]byte
	for _, j := range journals(vouchers) {
		doc := vismaJournal{
			TransactionDate: vStr{j.v.Date().String() + "T00:00:00"},
			PostPeriod:      vStr{postPeriod(j.v.Date())},
			Ledger:          optional(p.Ledger),
			CurrencyID:      vStr{string(j.cur)},
			Description:     vStr{j.description()},
			Branch:          optional(p.Branch),
		}
		for n, l := range j.lines {
			vl := vismaLine{
				Operation:              "Insert",
				LineNumber:             vInt{n + 1},
				AccountNumber:          vStr{l.Account},
				Subaccount:             segments(p.Subaccounts[l.Account]),
				ReferenceNumber:        optional(l.RefNbr),
				TransactionDescription: vStr{lineText(&l)},
				Branch:                 optional(p.Branch),
			}
			if l.Debit.Minor != 0 {
				vl.DebitAmountInCurrency = &vNum{json.Number(l.Debit.String())}
			} else {
				vl.CreditAmountInCurrency = &vNum{json.Number(l.Credit.String())}
			}
			doc.JournalTransactionLines = append(doc.JournalTransactionLines, vl)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return nil, fmt.Errorf("journal %s: %w", j.key, err)
		}
		docs = append(docs, buf.Bytes())
	}
	return docs, nil
}
