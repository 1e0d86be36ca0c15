package daemon

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// writeBenchBatch writes a CSV batch of n domestic refunds and returns its
// path.
func writeBenchBatch(tb testing.TB, dir string, n int) string {
	tb.Helper()
	var b strings.Builder
	b.WriteString("Batch;DocType;RefNbr;CustomerID;CustomerName;PaymentMethod;AccountType;Account;Amount;PaymentDate;CustomerOrderNbr;PaymentRef\n")
	accounts := []string{"86011117947", "1234.56.78903", "15031234562", "97100000001", "30001234567"}
	for i := range n {
		doc, order, ref := "CreditNote", fmt.Sprintf("SO-%d", 500000+i), ""
		if i%3 == 0 {
			doc, order, ref = "Payment", "", fmt.Sprintf("INV-%d", 700000+i)
		}
		fmt.Fprintf(&b, "B-BENCH;%s;R%07d;C%d;Kari Nordmann Ærlig %d;AUTOPAY;BBAN;%s;%d,%02d;2026-12-0%d;%s;%s\n",
			doc, i, i%5000, i%97, accounts[i%len(accounts)], 100+i%90000, i%100, 2+i%3, order, ref)
	}
	path := filepath.Join(dir, fmt.Sprintf("bench-%d.csv", n))
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkRenderBatch measures the whole render path: read and check the
// CSV batch, plan, and render the pain.001 (one more read of the file per
// payment block; here three blocks, one per execution date).
func BenchmarkRenderBatch(b *testing.B) {
	c := testConfig(b, "")
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("refunds=%d", n), func(b *testing.B) {
			path := writeBenchBatch(b, b.TempDir(), n)
			open := func() (io.ReadCloser, error) { return os.Open(path) }
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				p, err := c.PlanBatch(path, open, now)
				if err != nil || !p.Valid() {
					b.Fatalf("%v %v", err, p.Problems[:min(3, len(p.Problems))])
				}
				if err := p.Render(open, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "refunds/s")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/float64(n), "allocB/refund")
		})
	}
}
