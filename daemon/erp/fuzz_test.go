package erp

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"refundd/daemon/refund"
)

// seed adds the test files with the extension ext to the corpus of f.
func seed(f *testing.F, ext string) {
	names, err := filepath.Glob(filepath.Join("testdata", "*"+ext))
	if err != nil || len(names) == 0 {
		f.Fatalf("no testdata/*%s: %v", ext, err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzScanCSV(f *testing.F) {
	seed(f, ".csv")
	f.Add([]byte(header + row("R1") + row("R2")))
	f.Add([]byte(header + "B1;\"Payment\";R1;C1;\"Ola\r\nNordmann\";AUTOPAY;BBAN;86011117947;1 234,50;02.05.2024;\"REF\"\"\"\n"))
	// Windows-1252 read as UTF-8: "Bjørn Ærø" with the bytes 0xF8 and 0xC6.
	f.Add([]byte(header + "B1;Payment;R1;C1;Bj\xf8rn \xc6r\xf8;AUTOPAY;BBAN;86011117947;100;2024-05-02;REF\n" + row("R2")))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = roundTrip(t, "f.csv", data, writeCSV)
	})
}

func FuzzScanJSON(f *testing.F) {
	seed(f, ".json")
	f.Add([]byte(`{"batch": "B1", "refunds": [` + obj("R1", "") + `, ` + obj("R2", `, "amount": 12.5`) + `]}`))
	f.Add([]byte(`{"refunds": [` + obj("R1", `, "batch": "B7"`) + `], "batch": "B7"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, ps := roundTrip(t, "f.json", data, writeJSON)
		// On valid JSON the reader must never lose its way.
		if json.Valid(data) {
			for _, p := range ps {
				if strings.Contains(p.Msg, "JSON syntax") || strings.Contains(p.Msg, "end of file") {
					t.Errorf("valid JSON, but %v", p)
				}
			}
			if bytes.Count(data, []byte(`"refunds"`)) == 1 && len(recs) > bytes.Count(data, []byte("{")) {
				t.Errorf("%d records from %d objects", len(recs), bytes.Count(data, []byte("{")))
			}
		}
	})
}

// roundTrip scans data, checks what every scan must satisfy, then writes the
// valid refunds out again with write and checks that scanning that gives the
// same refunds.
// It returns the records and problems of data.
func roundTrip(t *testing.T, name string, data []byte, write func(*testing.T, []refund.Refund) []byte) ([]Record, []Problem) {
	recs, ps := scanChecked(t, name, data)
	var valid []refund.Refund
	for _, r := range recs {
		if !HasErrors(r.Problems) && r.Refund.Batch != "" {
			valid = append(valid, r.Refund)
		}
	}
	if len(valid) == 0 {
		return recs, ps
	}
	out := write(t, valid)
	again, _ := scanChecked(t, name, out)
	if len(again) != len(valid) {
		t.Fatalf("%d refunds written, %d read back from\n%s", len(valid), len(again), out)
	}
	for i, r := range again {
		if len(r.Problems) != 0 {
			t.Fatalf("%v: %v in\n%s", r.Pos, r.Problems, out)
		}
		if r.Refund != valid[i] {
			t.Fatalf("refund %d changed:\n was %+v\n now %+v\nwritten as\n%s", i, valid[i], r.Refund, out)
		}
	}
	return recs, ps
}

// scanChecked scans data and checks the invariants of every scan.
func scanChecked(t *testing.T, name string, data []byte) ([]Record, []Problem) {
	t.Helper()
	isJSON := filepath.Ext(name) == ".json"
	var recs []Record
	ps, err := Scan(name, bytes.NewReader(data), func(r Record) error {
		if n := len(recs); n > 0 {
			prev := recs[n-1].Pos
			if !isJSON && r.Pos.Line <= prev.Line || isJSON && r.Pos.Index <= prev.Index {
				t.Errorf("record at %v after %v", r.Pos, prev)
			}
		}
		if r.Pos.JSON != isJSON || r.Pos.File != name || (!isJSON && r.Pos.Line < 1) || (isJSON && r.Pos.Index < 0) {
			t.Errorf("record at %#v", r.Pos)
		}
		for _, p := range r.Problems {
			if p.Pos != r.Pos || p.Msg == "" {
				t.Errorf("record at %v has problem %#v", r.Pos, p)
			}
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	for _, p := range ps {
		if p.Pos.File != name || p.Pos.JSON != isJSON || p.Msg == "" || p.String() == "" {
			t.Errorf("problem %#v", p)
		}
	}
	if len(recs) == 0 && !HasErrors(ps) {
		t.Errorf("no refunds and no error")
	}
	return recs, ps
}

// fieldsOf returns the fields of r as the ERP would write them.
func fieldsOf(r refund.Refund) refund.Fields {
	return refund.Fields{
		Batch: r.Batch, DocType: string(r.DocType), RefNbr: r.RefNbr,
		CustomerID: r.CustomerID, CustomerName: r.CustomerName, PaymentMethod: r.PaymentMethod,
		AccountType: string(r.AccountType), Account: r.Account, BIC: r.BIC, Country: r.Country,
		Amount: r.Amount.String(), Currency: string(r.Amount.Currency), PaymentDate: r.PaymentDate.String(),
		CustomerOrderNbr: r.CustomerOrderNbr, PaymentRef: r.PaymentRef,
	}
}

// writeCSV writes refunds as a CSV batch export.
func writeCSV(t *testing.T, rs []refund.Refund) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma = ';'
	rec := make([]string, len(columns))
	for c := range columns {
		rec[c] = columns[c].name
	}
	_ = w.Write(rec)
	for _, r := range rs {
		f := fieldsOf(r)
		for c := range columns {
			rec[c] = *field(&f, c)
		}
		_ = w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// writeJSON writes refunds as a JSON batch export: the batch of the first
// refund at the top, and in every refund that has another; amounts as
// numbers and strings in turn.
func writeJSON(t *testing.T, rs []refund.Refund) []byte {
	refunds := make([]map[string]any, len(rs))
	for i, r := range rs {
		f := fieldsOf(r)
		m := map[string]any{}
		for c := range columns {
			if v := *field(&f, c); v != "" {
				m[columns[c].json] = v
			}
		}
		if r.Batch == rs[0].Batch {
			delete(m, "batch")
		}
		if i%2 == 1 {
			m["amount"] = json.Number(f.Amount)
		}
		refunds[i] = m
	}
	b, err := json.MarshalIndent(map[string]any{"batch": rs[0].Batch, "refunds": refunds}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"valid.csv", "valid.json", "invalid.csv", "invalid.json"} {
		t.Run(name, func(t *testing.T) {
			write := writeCSV
			if filepath.Ext(name) == ".json" {
				write = writeJSON
			}
			_, _ = roundTrip(t, name, readFile(t, name), write)
		})
	}
}
