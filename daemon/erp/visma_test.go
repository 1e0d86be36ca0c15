package erp

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math/big"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"refundd/internal/openapitest"
)

var vismaPostings = Postings{Format: PostingsVismaCSV, Branch: "1", Ledger: "L1",
	Subaccounts: map[string]string{"1500": "0", "1920": "0", "1921": "0", "7770": "CA-1-T32"}}

// TestEncodeVismaCSV: the postings CSV for a Visma.net import scenario
// has every column filled that Visma.net requires on every row, and each
// journal (BatchKey) balances.
func TestEncodeVismaCSV(t *testing.T) {
	var b bytes.Buffer
	if err := EncodeVismaCSV(&b, vismaPostings, vouchers(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "postings-visma.csv", b.Bytes())
	r := csv.NewReader(&b)
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := recs[0]
	col := func(name string) int {
		for i, h := range head {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	sums := map[string]*big.Rat{}
	keys := map[string]bool{}
	for n, rec := range recs[1:] {
		for _, req := range []string{"BatchKey", "Branch", "Ledger", "TransactionDate", "PostPeriod", "Currency", "LineNbr", "Account", "Subaccount"} {
			if rec[col(req)] == "" {
				t.Errorf("row %d: %s is empty: %q", n+2, req, rec)
			}
		}
		if !regexp.MustCompile(`^(0[1-9]|1[0-2])\d{4}$`).MatchString(rec[col("PostPeriod")]) {
			t.Errorf("row %d: PostPeriod %q is not MMYYYY", n+2, rec[col("PostPeriod")])
		}
		debit, credit := rec[col("DebitAmount")], rec[col("CreditAmount")]
		if (debit == "") == (credit == "") {
			t.Errorf("row %d: debit %q and credit %q; want exactly one", n+2, debit, credit)
		}
		key := rec[col("BatchKey")]
		keys[key] = true
		if sums[key] == nil {
			sums[key] = new(big.Rat)
		}
		if debit != "" {
			d, _ := new(big.Rat).SetString(debit)
			sums[key].Add(sums[key], d)
		} else {
			c, _ := new(big.Rat).SetString(credit)
			sums[key].Sub(sums[key], c)
		}
	}
	for k, s := range sums {
		if s.Sign() != 0 {
			t.Errorf("journal %s does not balance: debit - credit = %s", k, s.FloatString(2))
		}
	}
	// The voucher in JPY and KWD is two journals, one per currency.
	if len(keys) != 3 || !keys["RFD-BBBBBBBBBBBBBBBB-JPY"] || !keys["RFD-BBBBBBBBBBBBBBBB-KWD"] {
		t.Errorf("journals %v; want RFD-AAAAAAAAAAAAAAAA and RFD-BBBBBBBBBBBBBBBB per currency", keys)
	}
}

// TestEncodeVismaJSON: every journal is a document of its own that
// follows the request body of Visma.net's POST /v2/journaltransaction
// (testdata/visma/journaltransaction-openapi.json: property names, types,
// the line operation, the post period's format), and balances.
func TestEncodeVismaJSON(t *testing.T) {
	docs, err := EncodeVismaJSON(vismaPostings, vouchers(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 3 {
		t.Fatalf("%d documents; want 3 (one voucher, and one per currency of the other)", len(docs))
	}
	golden(t, "postings-visma-1.json", docs[0])
	api, err := openapitest.Load(vismaAPI)
	if err != nil {
		t.Fatal(err)
	}
	for i, doc := range docs {
		var v any
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		for _, p := range api.Check(doc) {
			t.Errorf("document %d: %s", i, p)
		}
		balance := new(big.Rat)
		for _, l := range v.(map[string]any)["journalTransactionLines"].([]any) {
			l := l.(map[string]any)
			for side, sign := range map[string]int{"debitAmountInCurrency": 1, "creditAmountInCurrency": -1} {
				if a, ok := l[side]; ok {
					r, ok := new(big.Rat).SetString(string(a.(map[string]any)["value"].(json.Number)))
					if !ok {
						t.Fatalf("document %d: amount %v", i, a)
					}
					balance.Add(balance, r.Mul(r, big.NewRat(int64(sign), 1)))
				}
			}
		}
		if balance.Sign() != 0 {
			t.Errorf("document %d does not balance: %s", i, balance.FloatString(3))
		}
	}
	// A mutation the check must see: a wrapper left out.
	bad := strings.Replace(string(docs[0]), `"postPeriod": {`, `"postPeriod": "122026", "x": {`, 1)
	if ps := api.Check([]byte(bad)); len(ps) < 2 {
		t.Errorf("the check found %v in a document with a bare post period and an unknown field", ps)
	}
}

// TestWritePostingsVisma: the JSON postings are one file per journal, and
// a second write of the same postings writes nothing new (a booking is
// posted once).
func TestWritePostingsVisma(t *testing.T) {
	dir := t.TempDir()
	p := vismaPostings
	p.Format = PostingsVismaJSON
	w := &Writer{Dir: dir, Now: func() time.Time { return at }, Postings: p}
	names, err := w.WritePostings(vouchers(t))
	if err != nil || len(names) != 3 {
		t.Fatalf("names %v, %v; want 3 files", names, err)
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "postings-") || !strings.HasSuffix(n, ".json") {
			t.Errorf("name %s", n)
		}
	}
	again, err := w.WritePostings(vouchers(t))
	if err != nil || strings.Join(again, " ") != strings.Join(names, " ") {
		t.Errorf("second write: %v, %v; want the same files %v", again, err, names)
	}
	if es, _ := os.ReadDir(dir); len(es) != 3 {
		t.Errorf("%d files in the folder; want 3", len(es))
	}
}

// vismaAPI is the fragment of Visma.net's OpenAPI description that the
// JSON postings follow: the request body of POST /v2/journaltransaction.
const vismaAPI = "testdata/visma/journaltransaction-openapi.json"
