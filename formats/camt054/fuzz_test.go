package camt054

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"refundd/formats"
)

// FuzzNext: whatever the input, the reader never panics, stays within its
// limits, ends with io.EOF or an error of one of the formats classes, and
// returns no more entries than the input has bytes; every entry it
// returns has a valid amount, direction and status.
func FuzzNext(f *testing.F) {
	f.Add([]byte(notification("02", entry(1, sts02))))
	f.Add([]byte(notification("08", entry(1, sts08))))
	f.Add([]byte(strings.Replace(strings.Replace(notification("02", entry(1, sts02)), "camt.054", "camt.053", 1), "BkToCstmrDbtCdtNtfctn", "BkToCstmrStmt", 2)))
	f.Add([]byte(`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.04"><BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>M</MsgId><CreDtTm>2020-01-01T00:00:00</CreDtTm></GrpHdr><Ntfctn><Id>N</Id><CreDtTm>2020-01-01T00:00:00</CreDtTm><Acct><Id><IBAN>NO9386011117947</IBAN></Id></Acct><Ntry><Amt Ccy="NOK">1</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><Chrgs><TtlChrgsAndTaxAmt Ccy="NOK">1</TtlChrgsAndTaxAmt><Rcrd><Amt Ccy="NOK">1</Amt><ChrgInclInd>1</ChrgInclInd></Rcrd></Chrgs><NtryDtls><TxDtls><RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf></TxDtls></NtryDtls></Ntry></Ntfctn></BkToCstmrDbtCdtNtfctn></Document>`))
	classes := []error{formats.ErrMalformed, formats.ErrDoctype, formats.ErrTrailing, formats.ErrTruncated, formats.ErrTooLarge,
		formats.ErrEncoding, formats.ErrLimit, formats.ErrInvalid, formats.ErrUnknownMessage, formats.ErrWrongMessage}
	class := func(t *testing.T, err error) {
		for _, c := range classes {
			if errors.Is(err, c) {
				return
			}
		}
		t.Fatalf("error %v has no class", err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), Options{MaxBytes: 1 << 20, MaxTokenBytes: 64 << 10, MaxItems: 1000})
		if err != nil {
			class(t, err)
			return
		}
		for n := 0; ; n++ {
			if n > len(data) {
				t.Fatalf("more than %d entries from %d bytes", n, len(data))
			}
			e, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				class(t, err)
				if _, again := r.Next(); again != err {
					t.Fatalf("error did not stick: %v then %v", err, again)
				}
				return
			}
			if e.Amount.Units < 0 || e.Amount.Scale > 5 || !formats.ValidCurrency(e.Amount.Currency) {
				t.Fatalf("bad amount %+v", e.Amount)
			}
			if e.CreditDebit != Credit && e.CreditDebit != Debit {
				t.Fatalf("bad direction %q", e.CreditDebit)
			}
			if (e.Status == "") == (e.StatusProprietary == "") {
				t.Fatalf("status %q, proprietary %q", e.Status, e.StatusProprietary)
			}
			if e.Report == nil || e.Report.ID == "" {
				t.Fatalf("entry without its report")
			}
		}
	})
}
