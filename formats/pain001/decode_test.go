package pain001

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"refundd/formats"
)

func TestDecodeRefuses(t *testing.T) {
	golden, err := os.ReadFile("testdata/sample.v03.golden.xml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(golden)
	for _, tc := range []struct {
		name, in, want string
		is             error
	}{
		{"doctype", strings.Replace(doc, "<Document", "<!DOCTYPE d [<!ENTITY x \"y\">]>\n<Document", 1), "DOCTYPE", formats.ErrDoctype},
		{"second root", doc + "<Document/>", "a second root element", formats.ErrTrailing},
		{"text after root", doc + "junk", "after the root element", formats.ErrTrailing},
		{"truncated", doc[:len(doc)/2], "the document ends before", formats.ErrTruncated},
		{"other namespace", strings.Replace(doc, "pain.001.001.03", "pain.002.001.03", 1), "namespace \"urn:iso:std:iso:20022:tech:xsd:pain.002.001.03\"", ErrNotPain001},
		{"bad amount", strings.Replace(doc, ">12345.50<", ">12,345.50<", 1), "not a decimal", formats.ErrInvalid},
		{"empty", "", "no root element", ErrNotPain001},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tc.in), Handler{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.is) {
				t.Errorf("got %v; want an error containing %q, wrapping %v", err, tc.want, tc.is)
			}
			if _, err := decodeStd(strings.NewReader(tc.in), Handler{}); err == nil {
				t.Errorf("the encoding/xml reader accepts it")
			}
		})
	}
	if _, err := Decode(strings.NewReader("<Document xmlns=\"urn:x\"/>"), Handler{}); !errors.Is(err, ErrNotPain001) {
		t.Errorf("unknown namespace: got %v; want ErrNotPain001", err)
	}
}

// TestDecodeHandlerError: an error from a handler stops decoding and is
// returned as is.
func TestDecodeHandlerError(t *testing.T) {
	golden, err := os.ReadFile("testdata/sample.v09.golden.xml")
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	n := 0
	_, err = Decode(bytes.NewReader(golden), Handler{Transaction: func(int, *Transaction) error { n++; return stop }})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("got %v after %d transactions; want stop after 1", err, n)
	}
}

// FuzzDecode: the reader never panics and always terminates, whatever the
// input; what it accepts has sane totals; it refuses whatever the
// encoding/xml reader it replaced refused, and what both accept they read
// the same.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"testdata/sample.v03.golden.xml", "testdata/sample.v09.golden.xml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\"><CstmrCdtTrfInitn><PmtInf><CdtTrfTxInf/></PmtInf></CstmrCdtTrfInitn></Document>"))
	f.Add([]byte("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\"><CstmrCdtTrfInitn><GrpHdr><MsgId>M</MsgId><CreDtTm>2026-12-01T09:00:00</CreDtTm><NbOfTxs>1</NbOfTxs></GrpHdr>" +
		"<PmtInf><PmtInfId>P</PmtInfId><ReqdExctnDt><Dt>2026-12-02</Dt></ReqdExctnDt><CdtTrfTxInf><PmtId><EndToEndId>E</EndToEndId></PmtId><Amt><InstdAmt Ccy=\"NOK\">1.5</InstdAmt></Amt></CdtTrfTxInf></PmtInf></CstmrCdtTrfInitn></Document>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		_, err := Decode(bytes.NewReader(data), Handler{
			Transaction: func(_ int, tx *Transaction) error {
				n++
				if tx.Amount.Scale < 0 || tx.Amount.Scale > 5 {
					t.Fatalf("scale %d out of range", tx.Amount.Scale)
				}
				return nil
			},
		})
		if err == nil && n > len(data) {
			t.Fatalf("%d transactions from %d bytes", n, len(data))
		}
		differ(t, "input", data)
	})
}
