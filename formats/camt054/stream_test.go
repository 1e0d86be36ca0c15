package camt054

import (
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"
)

// generate writes a notification of n refund bookings, one entry each,
// with a writer: the document is never held in memory.
func generate(w io.Writer, n int) error {
	cw := NewWriter(w)
	oslo := time.FixedZone("", 3600)
	if err := cw.Header(Header{MsgID: "BANK-NTF-1", CreationTime: time.Date(2026, 12, 3, 7, 0, 0, 0, oslo)}); err != nil {
		return err
	}
	if err := cw.Report(&Report{ID: "NTF-1", CreationTime: time.Date(2026, 12, 3, 7, 0, 0, 0, oslo),
		Account: Account{Other: "86011117947", Scheme: "BBAN", Currency: "NOK"}}); err != nil {
		return err
	}
	e := Entry{
		CreditDebit: Debit, Status: Booked, BookingDate: day(2026, 12, 3), ValueDate: day(2026, 12, 3),
		BankTxCode: BankTxCode{Domain: "PMNT", Family: "ICDT", SubFamily: "DMCT"},
		Details: []Details{{Transactions: []Transaction{{
			Parties: Parties{CreditorName: "Kari Nordmann Ærlig", CreditorAccount: Account{Other: "12345678903", Scheme: "BBAN"}},
		}}}},
	}
	tx := &e.Details[0].Transactions[0]
	for i := range n {
		id := "CN-" + strconv.Itoa(100000+i) + "-ABCDEFGH"
		e.Amount = nok(int64(10000 + i))
		e.AcctSvcrRef = "DNB" + strconv.Itoa(900000000+i)
		tx.Refs = Refs{MsgID: "RFD-B2026-0042-ABCDEFGH", PmtInfID: "RFD-B2026-0042-ABCDEFGH-1", InstrID: id, EndToEndID: id}
		tx.AmountDetails = AmountDetails{Instructed: e.Amount}
		tx.Remittance = Remittance{Unstructured: []string{"Refusjon ordre " + strconv.Itoa(5000+i)}}
		if err := cw.Entry(&e); err != nil {
			return err
		}
	}
	return cw.Close()
}

// heapBytes returns the bytes of heap objects, live or not yet swept.
func heapBytes(s []metrics.Sample) uint64 {
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// streamPeak writes n entries into a pipe, reads them back and returns the
// highest heap size seen while reading.
func streamPeak(t *testing.T, n int) (peak uint64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(generate(pw, n)) }()
	runtime.GC()
	// 100 000 entries of this shape are about 67 MB, more than the
	// default limit.
	r, err := NewReader(pr, Options{MaxBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	var sum int64
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sum += e.Amount.Units
		if got++; got%100 == 0 {
			peak = max(peak, heapBytes(s))
		}
	}
	if want := int64(n)*10000 + int64(n)*int64(n-1)/2; got != n || sum != want {
		t.Fatalf("read %d entries summing to %d; want %d summing to %d", got, sum, n, want)
	}
	return peak
}

// TestStreamingMemory: reading 100 000 entries takes no more memory than
// reading 10 000; a reader that kept entries would need 100 MB more.
func TestStreamingMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 100 000 entries")
	}
	p10 := streamPeak(t, 10_000)
	p100 := streamPeak(t, 100_000)
	t.Logf("peak heap: %.1f MiB for 10 000 entries, %.1f MiB for 100 000", float64(p10)/(1<<20), float64(p100)/(1<<20))
	if p100 > 2*p10+(2<<20) || p100 > 32<<20 {
		t.Errorf("peak heap %d bytes for 100 000 entries against %d for 10 000: memory grows with the entries", p100, p10)
	}
}

func ExampleReader() {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(generate(pw, 3)) }()
	r, err := NewReader(pr, Options{MaxBytes: 64 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	var booked []*Entry
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			// Nothing read from this document may be used.
			fmt.Println(err)
			return
		}
		booked = append(booked, e)
	}
	// Only now is the document known to be complete.
	for _, e := range booked {
		fmt.Println(e.Status, e.CreditDebit, e.Amount, e.Details[0].Transactions[0].Refs.EndToEndID)
	}
	// Output:
	// BOOK DBIT 100.00 NOK CN-100000-ABCDEFGH
	// BOOK DBIT 100.01 NOK CN-100001-ABCDEFGH
	// BOOK DBIT 100.02 NOK CN-100002-ABCDEFGH
}
