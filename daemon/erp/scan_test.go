package erp

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"refundd/daemon/refund"
)

// scan runs Scan over data and returns the records and the problems of the
// file.
func scan(t testing.TB, name string, data []byte) ([]Record, []Problem) {
	t.Helper()
	var recs []Record
	ps, err := Scan(name, bytes.NewReader(data), func(r Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(%s): %v", name, err)
	}
	return recs, ps
}

// all returns every problem of a scan, those of the records included, as
// strings in file order (records' problems before the file's problems at the
// same position; in JSON the problems outside any refund first).
func all(recs []Record, ps []Problem) []string {
	var out []Problem
	for _, r := range recs {
		out = append(out, r.Problems...)
	}
	out = append(out, ps...)
	slices.SortStableFunc(out, func(a, b Problem) int {
		ka, kb := a.Pos.Line, b.Pos.Line
		if a.Pos.JSON {
			ka, kb = a.Pos.Index, b.Pos.Index
		}
		return ka - kb
	})
	s := make([]string, len(out))
	for i, p := range out {
		s[i] = p.String()
	}
	return s
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestScanValid(t *testing.T) {
	nok := func(minor int64) refund.Amount { return refund.Amount{Minor: minor, Currency: "NOK"} }
	want := []struct {
		line, index int
		r           refund.Refund
	}{
		{2, 0, refund.Refund{
			Batch: "B-2024-001", DocType: refund.CreditNote, RefNbr: "CN0001", CustomerID: "C100",
			CustomerName: "Ola Nordmann", PaymentMethod: "AUTOPAY", AccountType: refund.BBAN,
			Account: "86011117947", Country: "NO", Amount: nok(123450),
			PaymentDate: refund.NewDate(2024, time.May, 2), CustomerOrderNbr: "ORD-77",
		}},
		{4, 1, refund.Refund{
			Batch: "B-2024-001", DocType: refund.Prepayment, RefNbr: "PP0002", CustomerID: "C200",
			CustomerName: "Kari; Hansen", PaymentMethod: "AUTOPAY", AccountType: refund.IBAN,
			Account: "DE89370400440532013000", BIC: "COBADEFFXXX", Country: "DE",
			Amount:      refund.Amount{Minor: 9995, Currency: "EUR"},
			PaymentDate: refund.NewDate(2024, time.May, 3), PaymentRef: "INV-9",
		}},
		{5, 2, refund.Refund{
			Batch: "B-2024-001", DocType: refund.Payment, RefNbr: "PY0003", CustomerID: "C300",
			CustomerName: "Åse Ødegård", PaymentMethod: "AUTOPAY", AccountType: refund.BBAN,
			Account: "86011117947", Country: "NO", Amount: nok(150000),
			PaymentDate: refund.NewDate(2024, time.May, 6), PaymentRef: "REF 3",
		}},
		{6, 3, refund.Refund{
			Batch: "B-2024-001", DocType: refund.CreditNote, RefNbr: "CN0004", CustomerID: "C400",
			CustomerName: `Per "Pelle" Berg`, PaymentMethod: "AUTOPAY", AccountType: refund.IBAN,
			Account: "NO9386011117947", Country: "NO", Amount: nok(50),
			PaymentDate: refund.NewDate(2024, time.May, 7), CustomerOrderNbr: "ORD-78",
		}},
	}
	for _, name := range []string{"valid.csv", "valid.json"} {
		t.Run(name, func(t *testing.T) {
			recs, ps := scan(t, name, readFile(t, name))
			if len(ps) != 0 {
				t.Errorf("problems: %q", all(nil, ps))
			}
			if len(recs) != len(want) {
				t.Fatalf("%d records, want %d", len(recs), len(want))
			}
			json := strings.HasSuffix(name, ".json")
			for i, w := range want {
				got := recs[i]
				wantPos := Pos{File: name, Line: w.line}
				if json {
					wantPos = Pos{File: name, Index: w.index, JSON: true}
				}
				if got.Pos != wantPos {
					t.Errorf("record %d at %v, want %v", i, got.Pos, wantPos)
				}
				if len(got.Problems) != 0 {
					t.Errorf("%v: problems %q", got.Pos, all([]Record{got}, nil))
				}
				if got.Refund != w.r {
					t.Errorf("%v:\n got %+v\nwant %+v", got.Pos, got.Refund, w.r)
				}
			}
		})
	}
}

// TestScanInvalid checks that every problem of a file is reported in one run,
// each with its position and field.
func TestScanInvalid(t *testing.T) {
	tests := []struct {
		file string
		want []string // prefixes, in file order
	}{
		{"invalid.csv", []string{
			`invalid.csv:1: warning: unknown column "Comment" (column 16) ignored`,
			"invalid.csv:3: CustomerOrderNbr: required for a credit note",
			"invalid.csv:4: PaymentRef: required for a prepayment",
			`invalid.csv:5: Account: "86011117948": check digit does not match`,
			`invalid.csv:6: Account: "NO9386011117947" is an IBAN but AccountType is BBAN`,
			`invalid.csv:7: Amount: "1,234.50": ambiguous separators`,
			`invalid.csv:8: PaymentDate: "2024-02-30" is not a date`,
			"invalid.csv:9: 11 fields, but the header has 16 columns",
			`invalid.csv:10: Batch: "B2" differs from the batch "B1" of line 2`,
			`invalid.csv:11: RefNbr: "R1" repeats the RefNbr of line 2`,
		}},
		{"invalid.json", []string{
			`invalid.json:line 3: unknown key "exported"`,
			"invalid.json:refunds[1]: customerOrderNbr: required for a credit note",
			"invalid.json:refunds[2]: paymentRef: required for a prepayment",
			`invalid.json:refunds[3]: account: "86011117948": check digit does not match`,
			`invalid.json:refunds[4]: account: "NO9386011117947" is an IBAN but AccountType is BBAN`,
			`invalid.json:refunds[5]: amount: "1,234.50": ambiguous separators`,
			`invalid.json:refunds[6]: paymentDate: "2024-02-30" is not a date`,
			"invalid.json:refunds[7]: account: required",
			`invalid.json:refunds[8]: batch: "B2" differs from the batch "B1" of the file`,
			`invalid.json:refunds[9]: refNbr: "R1" repeats the RefNbr of refunds[0]`,
			`invalid.json:refunds[10]: unknown field "comment"`,
			`invalid.json:refunds[11]: customerId: must be a JSON string, not the number 12`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			recs, ps := scan(t, tt.file, readFile(t, tt.file))
			got := all(recs, ps)
			if len(got) != len(tt.want) {
				t.Errorf("%d problems, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i := range min(len(got), len(tt.want)) {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("problem %d:\n got %s\nwant %s…", i, got[i], tt.want[i])
				}
			}
			if !HasErrors(ps) {
				t.Error("HasErrors(file problems) = false")
			}
		})
	}
}

const header = "Batch;DocType;RefNbr;CustomerID;CustomerName;PaymentMethod;AccountType;Account;Amount;PaymentDate;PaymentRef\n"

// row returns a valid CSV row for header with the RefNbr ref.
func row(ref string) string {
	return "B1;Payment;" + ref + ";C1;Ola Nordmann;AUTOPAY;BBAN;86011117947;100;2024-05-02;REF\n"
}

func TestScanCSV(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		n     int      // records
		lines []int    // their lines (when given)
		want  []string // all problems, as prefixes, in file order
	}{
		{"empty", "", 0, nil, []string{"x.csv: empty file"}},
		{"only a BOM", "\ufeff", 0, nil, []string{"x.csv: empty file"}},
		{"header only", header, 0, nil, []string{"x.csv: no refunds"}},
		{"UTF-16", "\xff\xfeB\x00", 0, nil, []string{"x.csv: the file is UTF-16"}},
		{"blank lines and quoted newlines", "\n" + header + "\n" + row("R1") + "\n\n" +
			"B1;Payment;R2;C1;\"Ola\nNordmann\";AUTOPAY;BBAN;86011117947;100;2024-05-02;REF\n" + row("R3"),
			3, []int{4, 7, 9}, nil},
		{"no final newline", header + strings.TrimSuffix(row("R1"), "\n"), 1, []int{2}, nil},
		{"CR LF", strings.ReplaceAll(header+row("R1")+row("R2"), "\n", "\r\n"), 2, []int{2, 3}, nil},
		{"missing columns", "Batch;DocType;RefNbr;CustomerID;CustomerName;PaymentMethod;AccountType;PaymentDate;PaymentRef\n" +
			"B1;Payment;R1;C1;Ola;AUTOPAY;BBAN;2024-05-02;REF\n" +
			"B1;Payment;R2;C1;Ola;AUTOPAY;BBAN;2024-13-02;REF\n",
			2, nil, []string{
				"x.csv:1: Account: required column missing",
				"x.csv:1: Amount: required column missing",
				"x.csv:2: Amount: required", // every refund stays unusable on its own
				"x.csv:2: Account: required",
				"x.csv:3: Amount: required",
				"x.csv:3: PaymentDate: ",
				"x.csv:3: Account: required",
			}},
		{"column given twice", "Batch;DocType;RefNbr;CustomerID;CustomerName;PaymentMethod;AccountType;Account;Amount;PaymentDate;PaymentRef;amount\n" +
			"B1;Payment;R1;C1;Ola;AUTOPAY;BBAN;86011117947;100;2024-05-02;REF;200\n",
			1, nil, []string{"x.csv:1: Amount: column given twice (columns 9 and 12)"}},
		{"unnamed column", strings.TrimSuffix(header, "\n") + ";\n" + strings.TrimSuffix(row("R1"), "\n") + ";\n",
			1, nil, []string{"x.csv:1: warning: column 12 has no name; ignored"}},
		{"too many fields", header + row("R1") + strings.TrimSuffix(row("R2"), "\n") + ";x\n" + row("R3"),
			2, []int{2, 4}, []string{"x.csv:3: 12 fields, but the header has 11 columns"}},
		{"invalid UTF-8", header + "B1;Payment;R1;C1;Ola \xff;AUTOPAY;BBAN;86011117947;100;2024-05-02;REF\n",
			1, nil, []string{"x.csv:2: CustomerName: not valid UTF-8"}},
		{"bare quote, then reading goes on", header + row("R1") +
			"B1;Payment;R2;C1;Ola \"Nordmann\";AUTOPAY;BBAN;86011117947;100;2024-05-02;REF\n" + row("R3"),
			2, []int{2, 4}, []string{`x.csv:3: CSV syntax: bare " in non-quoted-field`}},
		{"unterminated quote", header + row("R1") +
			"B1;Payment;R2;C1;\"Ola;AUTOPAY;BBAN;86011117947;100;2024-05-02;REF\n" + row("R3"),
			1, []int{2}, []string{`x.csv:3: CSV syntax: extraneous or missing " in quoted-field (on line 4, column 75`}},
		{"bad header", "Batch;\"DocType\n", 0, nil, []string{`x.csv:1: CSV syntax:`}},
		{"batch from the first row that has one", header +
			" ;Payment;R1;C1;Ola;AUTOPAY;BBAN;86011117947;100;2024-05-02;REF\n" + row("R2") +
			"B2;Payment;R3;C1;Ola;AUTOPAY;BBAN;86011117947;100;2024-05-02;REF\n",
			3, nil, []string{
				"x.csv:2: Batch: required",
				`x.csv:4: Batch: "B2" differs from the batch "B1" of line 3`,
			}},
		{"RefNbr repeated twice", header + row("R1") + row("R2") + row(" R1") + row("R1"),
			4, nil, []string{
				`x.csv:4: RefNbr: "R1" repeats the RefNbr of line 2`,
				`x.csv:5: RefNbr: "R1" repeats the RefNbr of line 2`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, ps := scan(t, "x.csv", []byte(tt.in))
			checkScan(t, recs, ps, tt.n, tt.lines, tt.want)
		})
	}
}

// TestScanCSVBaseAmount: the optional BaseAmount column reaches the
// refund as written, in any case of its header.
func TestScanCSVBaseAmount(t *testing.T) {
	in := strings.TrimSuffix(header, "\n") + ";baseamount\n" + strings.TrimSuffix(row("R1"), "\n") + ";1 120,50\n" +
		strings.TrimSuffix(row("R2"), "\n") + ";\n"
	recs, ps := scan(t, "x.csv", []byte(in))
	checkScan(t, recs, ps, 2, nil, nil)
	for i, want := range []string{"1 120,50", ""} {
		if i < len(recs) && recs[i].Refund.BaseAmount != want {
			t.Errorf("line %d: BaseAmount %q; want %q", recs[i].Pos.Line, recs[i].Refund.BaseAmount, want)
		}
	}
}

func checkScan(t *testing.T, recs []Record, ps []Problem, n int, lines []int, want []string) {
	t.Helper()
	if len(recs) != n {
		t.Errorf("%d records, want %d", len(recs), n)
	}
	if lines != nil {
		var got []int
		for _, r := range recs {
			if r.Pos.JSON {
				got = append(got, r.Pos.Index)
			} else {
				got = append(got, r.Pos.Line)
			}
		}
		if !slices.Equal(got, lines) {
			t.Errorf("records at %v, want %v", got, lines)
		}
	}
	got := all(recs, ps)
	if len(got) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range min(len(got), len(want)) {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s…", i, got[i], want[i])
		}
	}
}

// obj returns a valid JSON refund with the RefNbr ref and the given extra
// members (a leading comma included).
func obj(ref, extra string) string {
	return `{"docType": "Payment", "refNbr": "` + ref + `", "customerId": "C1", "customerName": "Ola", "paymentMethod": "AUTOPAY", "accountType": "BBAN", "account": "86011117947", "amount": "100", "paymentDate": "2024-05-02", "paymentRef": "REF"` + extra + `}`
}

func TestScanJSON(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		n     int
		want  []string
		check func(t *testing.T, recs []Record)
	}{
		{"empty", "  \n", 0, []string{"x.json: empty file"}, nil},
		{"UTF-8 BOM", "\ufeff" + `{"batch": "B1", "refunds": [` + obj("R1", "") + `]}`, 1, nil, nil},
		{"UTF-16", "\xfe\xff\x00{", 0, []string{"x.json: the file is UTF-16"}, nil},
		{"not an object", `["B1"]`, 0, []string{"x.json:line 1: a batch file is a JSON object"}, nil},
		{"no refunds", `{"batch": "B1", "refunds": []}`, 0, []string{"x.json: no refunds"}, nil},
		{"no refunds key", `{"batch": "B1"}`, 0, []string{"x.json: no refunds"}, nil},
		{"no batch", `{"refunds": [` + obj("R1", "") + `, ` + obj("R2", `, "batch": "B2"`) + `]}`, 2,
			[]string{`x.json: batch: required: the file has no top-level "batch"`, "x.json:refunds[0]: batch: required"}, nil},
		{"empty batch", `{"batch": " ", "refunds": [` + obj("R1", "") + `]}`, 1,
			[]string{`x.json:line 1: batch: required`, "x.json:refunds[0]: batch: required"}, nil},
		{"batch after refunds", "{\"refunds\": [" + obj("R1", "") + "],\n\"batch\": \"B1\"}", 1,
			[]string{`x.json:line 2: batch: must come before "refunds"`, "x.json:refunds[0]: batch: required"}, nil},
		{"batch not a string", `{"batch": 42, "refunds": [` + obj("R1", "") + `]}`, 1,
			[]string{"x.json:line 1: batch: must be a JSON string, not a number", "x.json:refunds[0]: batch: required"}, nil},
		{"batch twice", `{"batch": "B1", "batch": "B2", "refunds": [` + obj("R1", "") + `]}`, 1,
			[]string{"x.json:line 1: batch: given twice"}, nil},
		{"refunds not an array", "{\"batch\": \"B1\",\n \"refunds\": {\"a\": [1, {}]}}", 0,
			[]string{`x.json:line 2: "refunds" must be an array, not an object`, "x.json: no refunds"}, nil},
		{"nulls at the top", `{"batch": null, "batch": null, "refunds": null, "x": null, "refunds": [` + obj("R1", "") + `]}`, 1,
			[]string{
				"x.json:line 1: batch: must be a JSON string, not null",
				"x.json:line 1: batch: given twice",
				`x.json:line 1: "refunds" must be an array, not null`,
				`x.json:line 1: unknown key "x"`,
				"x.json:refunds[0]: batch: required",
			}, nil},
		{"refunds twice", `{"batch": "B1", "refunds": [` + obj("R1", "") + `], "refunds": [` + obj("R2", "") + `]}`, 1,
			[]string{`x.json:line 1: "refunds" given twice`}, nil},
		{"unknown key, nested", "{\"batch\": \"B1\",\n\"Meta\": {\"a\": [1, 2, {\"b\": null}]},\n\"refunds\": [" + obj("R1", "") + "]}", 1,
			[]string{`x.json:line 2: unknown key "Meta"`}, nil},
		{"unknown key, too deep", `{"batch": "B1", "x": ` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`, 0,
			[]string{`x.json:line 1: unknown key "x"`, "x.json:line 1: a value nested more than 100 deep"}, nil},
		{"trailing data", `{"batch": "B1", "refunds": [` + obj("R1", "") + "]}\n{}", 1,
			[]string{"x.json:line 2: trailing data after the top-level object: an object"}, nil},
		{"trailing garbage", `{"batch": "B1", "refunds": [` + obj("R1", "") + "]}\n\n garbage", 1,
			[]string{"x.json:line 3: trailing data after the top-level object: invalid JSON"}, nil},
		{"trailing half a value", `{"batch": "B1", "refunds": [` + obj("R1", "") + `]} "`, 1,
			[]string{"x.json:line 1: trailing data after the top-level object: invalid JSON"}, nil},
		{"empty object", `{}`, 0, []string{`x.json: batch: required: the file has no top-level "batch"`, "x.json: no refunds"}, nil},
		{"trailing white space", `{"batch": "B1", "refunds": [` + obj("R1", "") + "]}\n \t\r\n", 1, nil, nil},
		{"truncated", `{"batch": "B1", "refunds": [` + obj("R1", "") + ",\n" + obj("R2", "") + "\n", 2,
			[]string{"x.json:line 2: unexpected end of file"}, nil},
		{"truncated in a refund", `{"batch": "B1", "refunds": [` + obj("R1", "") + ",\n" + obj("R2", "")[:40], 1,
			[]string{"x.json:line 2: unexpected end of file"}, nil},
		{"syntax error in a refund", "{\"batch\": \"B1\", \"refunds\": [\n" + obj("R1", "") + ",\n\n" +
			strings.Replace(obj("R2", ""), `, "customerId"`, `,`+"\n"+` "customerId" :: `, 1) + "]}", 1,
			[]string{"x.json:line 5: JSON syntax error in refunds[1]: invalid character ':' looking for beginning of value"}, nil},
		{"syntax error in a string at the top", "{\"batch\": \n\n\"B1\n\", \"refunds\": []}", 0,
			[]string{"x.json:line 3: JSON syntax error: invalid character '\\n' in string literal"}, nil},
		{"syntax error in a literal at the top", "{\"batch\": \"B1\", \n\"x\": \n\n tru}", 0,
			[]string{`x.json:line 2: unknown key "x"`, "x.json:line 4: JSON syntax error: invalid character '}' in literal true"}, nil},
		{"syntax error at the top", "{\"batch\": \"B1\"\n\"refunds\": []}", 0,
			[]string{"x.json:line 2: JSON syntax error: invalid character '\"' after object key:value pair"}, nil},
		{"refund not an object", `{"batch": "B1", "refunds": [` + obj("R1", "") + `, "R2", ` + obj("R3", "") + `]}`, 2,
			[]string{"x.json:refunds[1]: a refund must be a JSON object, not a string"}, nil},
		{"field twice", `{"batch": "B1", "refunds": [` + obj("R1", `, "amount": "200"`) + `]}`, 1,
			[]string{"x.json:refunds[0]: amount: given twice"},
			func(t *testing.T, recs []Record) {
				if got := recs[0].Refund.Amount.Minor; got != 10000 {
					t.Errorf("amount %d, want the first one", got)
				}
			}},
		{"unknown fields, all of them", `{"batch": "B1", "refunds": [` + obj("R1", `, "Bic": "DNBANOKK", "note": {"x": [1]}, "extra": null`) + `]}`, 1,
			[]string{
				`x.json:refunds[0]: unknown field "Bic" (did you mean "bic"?)`,
				`x.json:refunds[0]: unknown field "note"`,
				`x.json:refunds[0]: unknown field "extra"`,
			}, nil},
		{"wrong types", `{"batch": "B1", "refunds": [{"docType": "Payment", "refNbr": "R1", "customerId": true, "customerName": ["Ola"], "paymentMethod": "AUTOPAY", "accountType": "BBAN", "account": 86011117947, "amount": {"v": 1}, "paymentDate": "2024-05-02", "paymentRef": "REF", "bic": 7}]}`, 1,
			[]string{
				"x.json:refunds[0]: customerId: must be a JSON string, not a boolean",
				"x.json:refunds[0]: customerName: must be a JSON string, not an array",
				"x.json:refunds[0]: account: must be a JSON string, not the number 86011117947",
				"x.json:refunds[0]: amount: must be a JSON string or number, not an object",
				"x.json:refunds[0]: bic: must be a JSON string, not the number 7",
			}, nil},
		{"null is not given", `{"batch": "B1", "refunds": [` + obj("R1", `, "bic": null, "country": null, "currency": null, "customerOrderNbr": null`) + `]}`, 1, nil, nil},
		{"amount as a number keeps its text", `{"batch": "B1", "refunds": [` + strings.Replace(obj("R1", ""), `"100"`, `1234.50`, 1) + `, ` +
			strings.Replace(obj("R2", ""), `"100"`, `1e3`, 1) + `, ` + strings.Replace(obj("R3", ""), `"100"`, `0.1`, 1) + `]}`, 3,
			[]string{`x.json:refunds[1]: amount: "1e3": not an amount`},
			func(t *testing.T, recs []Record) {
				if got := recs[0].Refund.Amount.Minor; got != 123450 {
					t.Errorf("amount 1234.50 read as %d minor units", got)
				}
				if got := recs[2].Refund.Amount.Minor; got != 10 {
					t.Errorf("amount 0.1 read as %d minor units", got)
				}
			}},
		{"BaseAmount as a number or a string", `{"batch": "B1", "refunds": [` + obj("R1", `, "baseAmount": 1120.50`) + `, ` +
			obj("R2", `, "baseAmount": "1 120,50"`) + `, ` + obj("R3", `, "baseAmount": true`) + `]}`, 3,
			[]string{"x.json:refunds[2]: baseAmount: must be a JSON string or number, not a boolean"},
			func(t *testing.T, recs []Record) {
				for i, want := range []string{"1120.50", "1 120,50", ""} {
					if got := recs[i].Refund.BaseAmount; got != want {
						t.Errorf("refunds[%d]: BaseAmount %q; want %q", i, got, want)
					}
				}
			}},
		{"invalid UTF-8", `{"batch": "B1", "refunds": [` + strings.Replace(obj("R1", ""), "Ola", "Ola \xff", 1) + `]}`, 1,
			[]string{"x.json:refunds[0]: not valid UTF-8"}, nil},
		{"own batch, same or empty", `{"batch": "B1", "refunds": [` + obj("R1", `, "batch": " B1 "`) + `, ` + obj("R2", `, "batch": ""`) + `]}`, 2, nil,
			func(t *testing.T, recs []Record) {
				for _, r := range recs {
					if r.Refund.Batch != "B1" {
						t.Errorf("%v: batch %q", r.Pos, r.Refund.Batch)
					}
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, ps := scan(t, "x.json", []byte(tt.in))
			checkScan(t, recs, ps, tt.n, nil, tt.want)
			if tt.check != nil && len(recs) == tt.n {
				tt.check(t, recs)
			}
		})
	}
}

func TestScanFormat(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"batch.csv", true}, {"BATCH.CSV", true}, {"/srv/export/b.Json", true}, {"b.json", true},
		{"batch.txt", false}, {"batch", false}, {"batch.csv.gz", false}, {"csv", false},
	}
	for _, tt := range tests {
		_, err := Scan(tt.name, strings.NewReader(""), func(Record) error { return nil })
		if (err == nil) != tt.ok {
			t.Errorf("Scan(%q): error %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "read batch "+tt.name+": ") {
			t.Errorf("Scan(%q): error %q not wrapped", tt.name, err)
		}
	}
}

// failingReader returns data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestScanErrors(t *testing.T) {
	errIO := errors.New("disk on fire")
	errStop := errors.New("stop")
	csvData := header + row("R1") + row("R2")
	jsonData := `{"batch": "B1", "refunds": [` + obj("R1", "") + `, ` + obj("R2", "") + `]}`
	for _, tt := range []struct{ name, data string }{{"b.csv", csvData}, {"b.json", jsonData}} {
		t.Run(tt.name+" I/O", func(t *testing.T) {
			for cut := 0; cut < len(tt.data); cut += 7 {
				r := &failingReader{data: []byte(tt.data[:cut]), err: errIO}
				_, err := Scan(tt.name, r, func(Record) error { return nil })
				if !errors.Is(err, errIO) || !strings.HasPrefix(err.Error(), "read batch "+tt.name+": ") {
					t.Fatalf("cut at %d: error %v, want the I/O error wrapped", cut, err)
				}
			}
		})
		t.Run(tt.name+" fn", func(t *testing.T) {
			calls := 0
			_, err := Scan(tt.name, strings.NewReader(tt.data), func(Record) error { calls++; return errStop })
			if !errors.Is(err, errStop) || err.Error() != "read batch "+tt.name+": stop" {
				t.Errorf("error %v, want fn's error wrapped", err)
			}
			if calls != 1 {
				t.Errorf("fn called %d times after an error", calls)
			}
		})
	}
}

func TestPosString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{Pos: Pos{File: "b.csv", Line: 12}, Field: "Amount", Msg: "bad"}, "b.csv:12: Amount: bad"},
		{Problem{Pos: Pos{File: "b.csv", Line: 12}, Field: "PaymentDate", Msg: "moved", Warning: true}, "b.csv:12: PaymentDate: warning: moved"},
		{Problem{Pos: Pos{File: "b.csv", Line: 3}, Msg: "bad"}, "b.csv:3: bad"},
		{Problem{Pos: Pos{File: "b.csv"}, Msg: "no refunds"}, "b.csv: no refunds"},
		{Problem{Pos: Pos{File: "b.json", Index: 3, JSON: true}, Field: "CustomerID", Msg: "bad"}, "b.json:refunds[3]: customerId: bad"},
		{Problem{Pos: Pos{File: "b.json", Index: 0, JSON: true}, Field: "Nonesuch", Msg: "bad"}, "b.json:refunds[0]: Nonesuch: bad"},
		{Problem{Pos: Pos{File: "b.json", Index: -1, Line: 7, JSON: true}, Field: "Batch", Msg: "bad"}, "b.json:line 7: batch: bad"},
		{Problem{Pos: Pos{File: "dir/b.json", Index: -1, JSON: true}, Msg: "bad", Warning: true}, "dir/b.json: warning: bad"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%#v: got %q, want %q", tt.p, got, tt.want)
		}
	}
	if HasErrors(nil) || HasErrors([]Problem{{Warning: true}}) || !HasErrors([]Problem{{Warning: true}, {}}) {
		t.Error("HasErrors wrong")
	}
}

// TestColumns checks the column table against refund.Fields.
func TestColumns(t *testing.T) {
	var f refund.Fields
	seen := map[*string]bool{}
	for c := range columns {
		p := field(&f, c)
		if seen[p] {
			t.Errorf("column %d: field used twice", c)
		}
		seen[p] = true
		*p = columns[c].name
	}
	if got := fmt.Sprint(f); strings.Count(got, " ") != len(columns)-1 {
		t.Errorf("refund.Fields has fields the table misses: %s", got)
	}
	if columns[colAmount].name != refund.FieldAmount {
		t.Error("colAmount is wrong")
	}
	if columns[colBaseAmount].name != refund.FieldBaseAmount {
		t.Error("colBaseAmount is wrong")
	}
}

// genReader produces a batch file of n refunds on the fly, so that a test can
// see how much of it Scan has read.
type genReader struct {
	json bool
	n, i int
	buf  bytes.Buffer
	read int64 // bytes handed out
}

func (g *genReader) Read(p []byte) (int, error) {
	for g.buf.Len() < len(p) && g.i <= g.n+1 {
		g.fill()
	}
	n, err := g.buf.Read(p)
	g.read += int64(n)
	return n, err
}

func (g *genReader) fill() {
	switch {
	case g.i == 0 && g.json:
		g.buf.WriteString(`{"batch": "B1", "refunds": [` + "\n")
	case g.i == 0:
		g.buf.WriteString(header)
	case g.i <= g.n && g.json:
		if g.i > 1 {
			g.buf.WriteString(",\n")
		}
		g.buf.WriteString(obj(fmt.Sprintf("R%d", g.i), ""))
	case g.i <= g.n:
		g.buf.WriteString(row(fmt.Sprintf("R%d", g.i)))
	case g.json:
		g.buf.WriteString("\n]}\n")
	}
	g.i++
}

// TestScanStreams checks that Scan hands out refunds as it reads them: it
// never reads far ahead of the refund it is at.
func TestScanStreams(t *testing.T) {
	for _, json := range []bool{false, true} {
		g := &genReader{json: json, n: 20000}
		name := "big.csv"
		if json {
			name = "big.json"
		}
		n := 0
		ps, err := Scan(name, g, func(r Record) error {
			n++
			if len(r.Problems) != 0 {
				return fmt.Errorf("%v: %v", r.Pos, r.Problems)
			}
			if n == 1 && g.read > 128<<10 {
				return fmt.Errorf("%d bytes read before the first refund", g.read)
			}
			return nil
		})
		if err != nil || len(ps) != 0 || n != g.n {
			t.Errorf("%s: %d refunds, problems %v, error %v", name, n, ps, err)
		}
		if g.read < 1<<20 {
			t.Errorf("%s: the file is only %d bytes", name, g.read)
		}
	}
}

// TestScanManyProblems checks that a file full of garbage cannot fill the
// memory with problems.
func TestScanManyProblems(t *testing.T) {
	data := header + row("R1") + strings.Repeat("x\n", maxProblems+500)
	recs, ps := scan(t, "x.csv", []byte(data))
	if len(recs) != 1 || len(ps) != maxProblems+1 {
		t.Fatalf("%d records, %d problems", len(recs), len(ps))
	}
	last := ps[len(ps)-1]
	if last.String() != "x.csv: 500 more problems not listed (at most 10000 are)" || last.Warning {
		t.Errorf("last problem %#v", last)
	}
}

// TestScanJSONLines checks the line numbers of problems after many lines
// that the Decoder skips or buffers.
func TestScanJSONLines(t *testing.T) {
	data := "{\n\"x\": [" + strings.Repeat("1,\n", 100_000) + "1],\n" + strings.Repeat("\n", 100_000) +
		"\"y\": 1,\n \"batch\": \"B1\", \"refunds\": [" + obj("R1", "") + "]\n\n}\n\n x"
	_, ps := scan(t, "x.json", []byte(data))
	want := []string{
		`x.json:line 2: unknown key "x"`,
		`x.json:line 200003: unknown key "y"`,
		"x.json:line 200008: trailing data after the top-level object: invalid JSON",
	}
	if len(ps) != len(want) {
		t.Fatalf("problems %v", ps)
	}
	for i, p := range ps {
		if !strings.HasPrefix(p.String(), want[i]) {
			t.Errorf("got %v, want %s…", p, want[i])
		}
	}
}

// TestScanMemoryFlat reads 100 000 refunds and checks that the live heap
// grows only by the RefNbr index, not by what was read.
func TestScanMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	for _, json := range []bool{false, true} {
		g := &genReader{json: json, n: 100_000}
		name := map[bool]string{false: "big.csv", true: "big.json"}[json]
		var heap [2]uint64
		n := 0
		_, err := Scan(name, g, func(r Record) error {
			if n++; n == 1_000 || n == 100_000 {
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				heap[min(n/100_000, 1)] = m.HeapAlloc
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		growth := int64(heap[1]) - int64(heap[0])
		t.Logf("%s: %d bytes read, live heap grew by %d bytes", name, g.read, growth)
		// The RefNbr index takes about 50 bytes a refund; the Refund alone
		// takes over 300.
		if growth > 80*100_000 {
			t.Errorf("%s: live heap grew by %d bytes for a file of %d bytes", name, growth, g.read)
		}
	}
}
