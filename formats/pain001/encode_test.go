package pain001

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"refundd/formats/xsdtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var oslo = time.FixedZone("CET", 3600)

// sample is a message with a domestic block (BBAN, two refunds) and a SEPA
// block (IBAN with BIC), with text that needs escaping.
func sample() (GroupHeader, []PaymentInfo, [][]Transaction) {
	hdr := GroupHeader{
		MsgID:        "RFD-B2026-0042-ABCDEFGH",
		CreationTime: time.Date(2026, 12, 1, 9, 0, 0, 0, oslo),
		NbOfTxs:      3,
		CtrlSum:      Decimal{Units: 1234550 + 99 + 10000, Scale: 2},
		InitiatingParty: Party{
			Name: "Eksempel Handel AS", OrgID: "987654325", Scheme: "CUST",
		},
	}
	debtor := Party{Name: "Eksempel Handel AS", OrgID: "987654325", Scheme: "CUST"}
	pmts := []PaymentInfo{{
		PmtInfID:       "RFD-B2026-0042-ABCDEFGH-1",
		NbOfTxs:        2,
		CtrlSum:        Decimal{Units: 1234550 + 99, Scale: 2},
		ExecutionDate:  time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC),
		Debtor:         debtor,
		DebtorAccount:  Account{Other: "86011117947", Scheme: "BBAN", Currency: "NOK"},
		DebtorAgentBIC: "DNBANOKK",
	}, {
		PmtInfID:       "RFD-B2026-0042-ABCDEFGH-2",
		BatchBooking:   true,
		NbOfTxs:        1,
		CtrlSum:        Decimal{Units: 10000, Scale: 2},
		ServiceLevel:   "SEPA",
		ExecutionDate:  time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC),
		Debtor:         debtor,
		DebtorAccount:  Account{IBAN: "NO9386011117947", Currency: "NOK"},
		DebtorAgentBIC: "DNBANOKK",
		ChargeBearer:   "SLEV",
	}}
	txs := [][]Transaction{{{
		InstrID: "CN-10042-AAAAAAAA", EndToEndID: "CN-10042-AAAAAAAA",
		Amount:          Amount{Decimal{Units: 1234550, Scale: 2}, "NOK"},
		Creditor:        Party{Name: "Ærlig & Sønn <AS> \"Ø\" 'Å'"},
		CreditorAccount: Account{Other: "12345678903", Scheme: "BBAN"},
		Purpose:         "REFU", Remittance: "Refusjon ordre 5001",
	}, {
		EndToEndID:      "PY-10043-BBBBBBBB",
		Amount:          Amount{Decimal{Units: 99, Scale: 2}, "NOK"},
		Creditor:        Party{Name: "Kari Nordmann"},
		CreditorAccount: Account{Other: "86011117947", Scheme: "BBAN"},
		Purpose:         "REFU", Remittance: "Refusjon KID 123",
	}}, {{
		InstrID: "PP-10044-CCCCCCCC", EndToEndID: "PP-10044-CCCCCCCC",
		Amount:           Amount{Decimal{Units: 10000, Scale: 2}, "EUR"},
		CreditorAgentBIC: "COBADEFFXXX",
		Creditor:         Party{Name: "Jurgen Muller", Country: "DE"},
		CreditorAccount:  Account{IBAN: "DE89370400440532013000"},
		Purpose:          "REFU", Remittance: "Refusjon 7788",
	}}}
	return hdr, pmts, txs
}

func encode(t testing.TB, v Version, hdr GroupHeader, pmts []PaymentInfo, txs [][]Transaction) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	e := NewEncoder(&buf, v)
	if err := e.Header(hdr); err != nil {
		return nil, err
	}
	for i, p := range pmts {
		if err := e.PaymentInfo(p); err != nil {
			return nil, err
		}
		for j := range txs[i] {
			if err := e.Transaction(&txs[i][j]); err != nil {
				return nil, err
			}
		}
	}
	err := e.Close()
	return buf.Bytes(), err
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		v      Version
		golden string
		xsd    string
	}{
		{V03, "testdata/sample.v03.golden.xml", "pain.001.001.03.xsd"},
		{V09, "testdata/sample.v09.golden.xml", "pain.001.001.09.xsd"},
	} {
		t.Run(string(tc.v), func(t *testing.T) {
			hdr, pmts, txs := sample()
			got, err := encode(t, tc.v, hdr, pmts, txs)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(tc.golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(tc.golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run go test -update after checking the change):\n%s", tc.golden, got)
			}
			xsdtest.Validate(t, xsdtest.Schema(t, tc.xsd), tc.golden)
		})
	}
}

// TestRoundTrip decodes what the encoder wrote and compares every field.
func TestRoundTrip(t *testing.T) {
	for _, v := range []Version{V03, V09} {
		t.Run(string(v), func(t *testing.T) {
			hdr, pmts, txs := sample()
			out, err := encode(t, v, hdr, pmts, txs)
			if err != nil {
				t.Fatal(err)
			}
			var gotH *GroupHeader
			var gotP []PaymentInfo
			var gotT [][]Transaction
			gotV, err := Decode(bytes.NewReader(out), Handler{
				Header:      func(_ int, h *GroupHeader) error { gotH = h; return nil },
				PaymentInfo: func(_ int, p *PaymentInfo) error { gotP = append(gotP, *p); gotT = append(gotT, nil); return nil },
				Transaction: func(_ int, tx *Transaction) error { gotT[len(gotT)-1] = append(gotT[len(gotT)-1], *tx); return nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			if gotV != v {
				t.Errorf("version: got %s; want %s", gotV, v)
			}
			if !gotH.CreationTime.Equal(hdr.CreationTime) {
				t.Errorf("CreDtTm: got %v; want %v", gotH.CreationTime, hdr.CreationTime)
			}
			gotH.CreationTime = hdr.CreationTime
			if !reflect.DeepEqual(*gotH, hdr) {
				t.Errorf("header:\n got %+v\nwant %+v", *gotH, hdr)
			}
			if !reflect.DeepEqual(gotP, pmts) {
				t.Errorf("payment info:\n got %+v\nwant %+v", gotP, pmts)
			}
			if !reflect.DeepEqual(gotT, txs) {
				t.Errorf("transactions:\n got %+v\nwant %+v", gotT, txs)
			}
		})
	}
}

func TestTotalsChecked(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(*GroupHeader, []PaymentInfo, [][]Transaction)
	}{
		{"group count", func(h *GroupHeader, _ []PaymentInfo, _ [][]Transaction) { h.NbOfTxs++ }},
		{"group sum", func(h *GroupHeader, _ []PaymentInfo, _ [][]Transaction) { h.CtrlSum.Units-- }},
		{"block count", func(_ *GroupHeader, p []PaymentInfo, _ [][]Transaction) { p[0].NbOfTxs = 3 }},
		{"block sum", func(_ *GroupHeader, p []PaymentInfo, _ [][]Transaction) { p[1].CtrlSum.Units++ }},
		{"amount changed", func(_ *GroupHeader, _ []PaymentInfo, tx [][]Transaction) { tx[0][1].Amount.Units = 100 }},
		{"sums beyond an int64", func(h *GroupHeader, p []PaymentInfo, tx [][]Transaction) {
			// Each amount and total fits, the sums of the written amounts
			// do not: they are exact, and disagree with the declared ones.
			big := Decimal{Units: 90_000_000_000_000_00, Scale: 2}
			tx[0][0].Amount.Decimal, tx[0][1].Amount.Decimal = big, big
			p[0].CtrlSum, h.CtrlSum = big, big
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr, pmts, txs := sample()
			tc.modify(&hdr, pmts, txs)
			_, err := encode(t, V03, hdr, pmts, txs)
			if !errors.Is(err, ErrTotals) {
				t.Errorf("got %v; want ErrTotals", err)
			}
		})
	}
}

func TestRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(*GroupHeader, []PaymentInfo, [][]Transaction)
		want   string
	}{
		{"long MsgId", func(h *GroupHeader, _ []PaymentInfo, _ [][]Transaction) { h.MsgID = strings.Repeat("A", 36) }, "1 to 35"},
		{"space in EndToEndId", func(_ *GroupHeader, _ []PaymentInfo, tx [][]Transaction) { tx[0][0].EndToEndID = "A B" }, "not allowed"},
		{"slash first", func(_ *GroupHeader, p []PaymentInfo, _ [][]Transaction) { p[0].PmtInfID = "/A" }, "start or end"},
		{"double slash", func(_ *GroupHeader, _ []PaymentInfo, tx [][]Transaction) { tx[0][0].InstrID = "A//B" }, "not allowed"},
		{"zero amount", func(_ *GroupHeader, _ []PaymentInfo, tx [][]Transaction) { tx[0][0].Amount.Units = 0 }, "greater than zero"},
		{"no debtor BIC", func(_ *GroupHeader, p []PaymentInfo, _ [][]Transaction) { p[0].DebtorAgentBIC = "" }, "BIC is required"},
		{"bad currency", func(_ *GroupHeader, _ []PaymentInfo, tx [][]Transaction) { tx[0][0].Amount.Currency = "NORSK" }, "ISO 4217"},
		{"six decimals", func(_ *GroupHeader, _ []PaymentInfo, tx [][]Transaction) {
			tx[0][0].Amount.Decimal = Decimal{Units: 1, Scale: 6}
		}, "out of range"},
		{"amount beyond an int64 at 5 decimals", func(_ *GroupHeader, _ []PaymentInfo, tx [][]Transaction) {
			tx[0][0].Amount.Decimal = Decimal{Units: 92_233_720_368_548} // 9 223 372 036 854 800 000 units of 10^-5
		}, "out of range"},
		{"negative control sum", func(h *GroupHeader, _ []PaymentInfo, _ [][]Transaction) { h.CtrlSum.Units = -1 }, "out of range"},
		{"19 digits", func(_ *GroupHeader, p []PaymentInfo, _ [][]Transaction) {
			p[0].CtrlSum = Decimal{Units: 1_000_000_000_000_000_000, Scale: 5}
		}, "18 digits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr, pmts, txs := sample()
			tc.modify(&hdr, pmts, txs)
			_, err := encode(t, V03, hdr, pmts, txs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestNoBlock: a message without payment blocks is refused at Close.
func TestNoBlock(t *testing.T) {
	hdr, _, _ := sample()
	e := NewEncoder(&bytes.Buffer{}, V03)
	if err := e.Header(hdr); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err == nil {
		t.Error("Close without PmtInf: got nil; want an error")
	}
}

// failWriter fails after n bytes.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteErrorReported(t *testing.T) {
	hdr, pmts, txs := sample()
	e := NewEncoder(&failWriter{n: 100}, V03)
	err := e.Header(hdr)
	for i := 0; err == nil && i < len(pmts); i++ {
		err = e.PaymentInfo(pmts[i])
		for j := 0; err == nil && j < len(txs[i]); j++ {
			err = e.Transaction(&txs[i][j])
		}
	}
	if err == nil {
		err = e.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("got %v; want the write error", err)
	}
}

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Decimal
		ok   bool
	}{
		{"1234.50", Decimal{Units: 123450, Scale: 2}, true},
		{"0.01", Decimal{Units: 1, Scale: 2}, true},
		{"12", Decimal{Units: 12, Scale: 0}, true},
		{".5", Decimal{Units: 5, Scale: 1}, true},
		{"1.00001", Decimal{Units: 100001, Scale: 5}, true},
		{"1.000001", Decimal{}, false},
		{"1,5", Decimal{}, false},
		{"", Decimal{}, false},
		{"1e3", Decimal{}, false},
		{"--1", Decimal{}, false},
		{"1234567890123456789", Decimal{}, false},
	} {
		got, err := ParseDecimal(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDecimal(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	if *update {
		_ = os.MkdirAll(filepath.Join("testdata"), 0o755)
	}
	os.Exit(m.Run())
}
