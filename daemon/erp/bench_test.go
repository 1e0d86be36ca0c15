package erp

import (
	"bytes"
	"fmt"
	"testing"
)

// batch100k returns a batch file of 100 000 refunds.
func batch100k(json bool) []byte {
	const n = 100_000
	var b bytes.Buffer
	if json {
		b.WriteString(`{"batch": "B-2024-001", "refunds": [` + "\n")
	} else {
		b.WriteString("Batch;DocType;RefNbr;CustomerID;CustomerName;PaymentMethod;AccountType;Account;BIC;Country;Amount;Currency;PaymentDate;CustomerOrderNbr;PaymentRef\r\n")
	}
	for i := range n {
		if json {
			if i > 0 {
				b.WriteString(",\n")
			}
			fmt.Fprintf(&b, `{"docType": "CreditNote", "refNbr": "CN%06d", "customerId": "C%d", "customerName": "Kunde %d AS", "paymentMethod": "AUTOPAY", "accountType": "BBAN", "account": "8601.11.17947", "amount": "%d %03d,%02d", "paymentDate": "2024-05-02", "customerOrderNbr": "ORD-%d"}`,
				i, i%5000, i, 1+i%97, i%1000, i%100, i)
		} else {
			fmt.Fprintf(&b, "B-2024-001;CreditNote;CN%06d;C%d;Kunde %d AS;AUTOPAY;BBAN;8601.11.17947;;NO;%d %03d,%02d;NOK;2024-05-02;ORD-%d;\r\n",
				i, i%5000, i, 1+i%97, i%1000, i%100, i)
		}
	}
	if json {
		b.WriteString("\n]}\n")
	}
	return b.Bytes()
}

func benchmarkScan(b *testing.B, name string, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		ps, err := Scan(name, bytes.NewReader(data), func(r Record) error {
			if len(r.Problems) != 0 {
				return fmt.Errorf("%v", r.Problems)
			}
			n++
			return nil
		})
		if err != nil || len(ps) != 0 || n != 100_000 {
			b.Fatalf("%d refunds, problems %v, error %v", n, ps, err)
		}
	}
}

// BenchmarkScanCSV reads a CSV batch of 100 000 refunds.
func BenchmarkScanCSV(b *testing.B) { benchmarkScan(b, "bench.csv", batch100k(false)) }

// BenchmarkScanJSON reads a JSON batch of 100 000 refunds.
func BenchmarkScanJSON(b *testing.B) { benchmarkScan(b, "bench.json", batch100k(true)) }
