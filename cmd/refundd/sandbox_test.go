package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"refundd/internal/openapitest"
	"refundd/internal/testutil"

	"refundd/daemon/config"
	"refundd/daemon/refund"
	"refundd/daemon/status"
	"refundd/daemon/store"

	"refundd/daemon/sandbox"
)

// readCSVs reads every file of kind (status, postings, matches,
// exceptions) in dir, in name order (which is time order), as records
// keyed by the header's column names.
func readCSVs(t *testing.T, dir, kind string) []map[string]string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, kind+"-*.csv"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	var out []map[string]string
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(f)
		r.Comma = ';'
		recs, err := r.ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		for _, rec := range recs[1:] {
			m := map[string]string{}
			for i, h := range recs[0] {
				m[h] = rec[i]
			}
			out = append(out, m)
		}
	}
	return out
}

func TestSandboxOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sandbox")
	var out, errb testutil.SyncBuffer
	start := time.Now()
	code := run([]string{"sandbox", "-once", "-dir", dir, "-delay", "500ms"}, &out, &errb)
	took := time.Since(start)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	if took > time.Minute {
		t.Errorf("sandbox -once took %s", took)
	}
	imp := filepath.Join(dir, "import")
	if !strings.Contains(out.String(), imp) {
		t.Errorf("the output does not say where the files are (%s):\n%s", imp, out.String())
	}

	// The last status of each refund.
	last := map[string]map[string]string{}
	for _, s := range readCSVs(t, imp, "status") {
		last[s["RefNbr"]] = s
	}
	want := map[string]string{"CN20001": "booked", "CN20002": "booked", sandbox.ExampleRejected: "rejected",
		sandbox.ExampleReturned: "returned", sandbox.ExamplePending: "booked"}
	for ref, st := range want {
		if got := last[ref]["Status"]; got != st {
			t.Errorf("%s: last status %q, want %q", ref, got, st)
		}
	}
	if r := last[sandbox.ExampleRejected]; r["ReasonCode"] != "AC04" {
		t.Errorf("rejected refund: reason %q, want AC04", r["ReasonCode"])
	}

	// Postings: every booked refund paid once, the rejected one never,
	// the returned one paid and reversed.
	type voucher struct{ paid, returned int }
	vouchers := map[string]*voucher{}
	seen := map[string]bool{}
	for _, p := range readCSVs(t, imp, "postings") {
		ref := p["RefNbr"]
		if vouchers[ref] == nil {
			vouchers[ref] = &voucher{}
		}
		if seen[p["Voucher"]] {
			continue // the voucher's other line
		}
		seen[p["Voucher"]] = true
		switch {
		case strings.Contains(p["Text"], "paid") && p["Account"] == "1500" && p["Debit"] != "":
			vouchers[ref].paid++
		case strings.Contains(p["Text"], "returned") && p["Account"] == "1920" && p["Debit"] != "":
			vouchers[ref].returned++
		default:
			t.Errorf("unexpected posting %v", p)
		}
	}
	for _, ref := range []string{"CN20001", "CN20002", sandbox.ExamplePending} {
		if v := vouchers[ref]; v == nil || v.paid != 1 || v.returned != 0 {
			t.Errorf("%s: postings %+v, want paid once", ref, v)
		}
	}
	if v := vouchers[sandbox.ExampleReturned]; v == nil || v.paid != 1 || v.returned != 1 {
		t.Errorf("%s: postings %+v, want paid once and returned once", sandbox.ExampleReturned, v)
	}
	if v := vouchers[sandbox.ExampleRejected]; v != nil {
		t.Errorf("the rejected refund was posted: %+v", v)
	}

	// Matches: one per booking, each with the bank's reference.
	matched := map[string]int{}
	for _, m := range readCSVs(t, imp, "matches") {
		matched[m["RefNbr"]]++
		if !strings.HasPrefix(m["BankRef"], "SBX") {
			t.Errorf("match without the bank's reference: %v", m)
		}
	}
	wantMatches := map[string]int{"CN20001": 1, "CN20002": 1, sandbox.ExamplePending: 1, sandbox.ExampleReturned: 2}
	for ref, n := range wantMatches {
		if matched[ref] != n {
			t.Errorf("%s: %d matches, want %d", ref, matched[ref], n)
		}
	}
	if matched[sandbox.ExampleRejected] != 0 {
		t.Errorf("the rejected refund was matched")
	}
	if ex := readCSVs(t, imp, "exceptions"); len(ex) != 0 {
		t.Errorf("exceptions: %v", ex)
	}

	// The status shows the bank's references: the booking's, and the
	// return's for the returned refund.
	cfg, err := config.Load(filepath.Join(dir, sandbox.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenExisting(cfg.Paths.State)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	bs, err := status.List(t.Context(), st, sandbox.ExampleBatchNumber)
	if err != nil || len(bs) != 1 {
		t.Fatalf("status: %v %+v", err, bs)
	}
	for _, r := range bs[0].Items {
		want := map[string]int{sandbox.ExampleRejected: 0, sandbox.ExampleReturned: 2}[r.RefNbr]
		if _, special := map[string]bool{sandbox.ExampleRejected: true, sandbox.ExampleReturned: true}[r.RefNbr]; !special {
			want = 1
		}
		if len(r.BankRefs) != want {
			t.Errorf("%s: bank references %v, want %d", r.RefNbr, r.BankRefs, want)
		}
	}
}

// TestSandboxVismaPostings: the sandbox writes its postings in each of
// Visma.net's formats: the import-scenario CSV with every column Visma.net
// requires filled, balancing per journal, and the JSON bodies of POST
// /v2/journaltransaction, one file per journal. The same refunds are
// posted as with refundd's own format (TestSandboxOnce): the booked ones
// paid once, the returned one paid and reversed.
func TestSandboxVismaPostings(t *testing.T) {
	for _, format := range []string{"visma-csv", "visma-json"} {
		t.Run(format, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "sandbox")
			var out, errb testutil.SyncBuffer
			if code := run([]string{"sandbox", "-once", "-dir", dir, "-delay", "500ms", "-postings", format}, &out, &errb); code != exitOK {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
			}
			imp := filepath.Join(dir, "import")
			type line struct{ journal, account, debit, credit, ref, text string }
			var lines []line
			if format == "visma-csv" {
				for _, r := range readCSVs(t, imp, "postings") {
					for _, c := range []string{"BatchKey", "Branch", "Ledger", "TransactionDate", "PostPeriod", "Currency", "LineNbr", "Account", "Subaccount"} {
						if r[c] == "" {
							t.Errorf("column %s empty: %v", c, r)
						}
					}
					lines = append(lines, line{r["BatchKey"], r["Account"], r["DebitAmount"], r["CreditAmount"], r["RefNbr"], r["TransactionDescription"]})
				}
			} else {
				api, err := openapitest.Load("../../daemon/erp/testdata/visma/journaltransaction-openapi.json")
				if err != nil {
					t.Fatal(err)
				}
				names, _ := filepath.Glob(filepath.Join(imp, "postings-*.json"))
				if len(names) == 0 {
					t.Fatal("no JSON postings written")
				}
				if others, _ := filepath.Glob(filepath.Join(imp, "postings-*.csv")); len(others) != 0 {
					t.Errorf("CSV postings beside the JSON: %v", others)
				}
				for _, n := range names {
					data, err := os.ReadFile(n)
					if err != nil {
						t.Fatal(err)
					}
					type val struct {
						Value json.RawMessage `json:"value"`
					}
					var doc struct {
						Description val `json:"description"`
						PostPeriod  val `json:"postPeriod"`
						Lines       []struct {
							Operation string `json:"operation"`
							Account   val    `json:"accountNumber"`
							Ref       val    `json:"referenceNumber"`
							Text      val    `json:"transactionDescription"`
							Debit     *val   `json:"debitAmountInCurrency"`
							Credit    *val   `json:"creditAmountInCurrency"`
						} `json:"journalTransactionLines"`
					}
					if err := json.Unmarshal(data, &doc); err != nil {
						t.Fatalf("%s: %v", n, err)
					}
					for _, p := range api.Check(data) {
						t.Errorf("%s does not follow the request body of POST /v2/journaltransaction: %s", filepath.Base(n), p)
					}
					unq := func(v val) string { s, _ := strconv.Unquote(string(v.Value)); return s }
					for _, l := range doc.Lines {
						if l.Operation != "Insert" {
							t.Errorf("%s: operation %q", n, l.Operation)
						}
						x := line{journal: n, account: unq(l.Account), ref: unq(l.Ref), text: unq(l.Text)}
						if l.Debit != nil {
							x.debit = string(l.Debit.Value)
						}
						if l.Credit != nil {
							x.credit = string(l.Credit.Value)
						}
						lines = append(lines, x)
					}
				}
			}
			paid, returned := map[string]int{}, map[string]int{}
			balance := map[string]int64{}
			for _, l := range lines {
				a, err := refund.ParseAmount(l.debit+l.credit, "NOK")
				if err != nil || (l.debit == "") == (l.credit == "") {
					t.Fatalf("line %+v: %v", l, err)
				}
				if l.debit != "" {
					balance[l.journal] += a.Minor
				} else {
					balance[l.journal] -= a.Minor
				}
				switch {
				case strings.Contains(l.text, "paid") && l.account == "1500" && l.debit != "":
					paid[l.ref]++
				case strings.Contains(l.text, "returned") && l.account == "1920" && l.debit != "":
					returned[l.ref]++
				}
			}
			for j, b := range balance {
				if b != 0 {
					t.Errorf("journal %s does not balance: %d", j, b)
				}
			}
			for _, ref := range []string{"CN20001", "CN20002", sandbox.ExamplePending, sandbox.ExampleReturned} {
				if paid[ref] != 1 {
					t.Errorf("%s paid %d times; want once", ref, paid[ref])
				}
			}
			if returned[sandbox.ExampleReturned] != 1 || paid[sandbox.ExampleRejected] != 0 {
				t.Errorf("returned %v, paid %v; want the returned refund reversed once and the rejected one never posted", returned, paid)
			}
		})
	}
}
