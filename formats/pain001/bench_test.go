package pain001

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// benchDoc returns a one-block message of n domestic refunds with distinct
// ids; building it is not measured.
func benchDoc(n int) (GroupHeader, PaymentInfo, []Transaction) {
	hdr, pmts, txs := sample()
	p := pmts[0]
	txs1 := make([]Transaction, n)
	var sum int64
	for i := range txs1 {
		t := txs[0][0]
		t.Creditor.Name = "Kari Nordmann Ærlig"
		t.EndToEndID = "CN-" + strconv.Itoa(100000+i) + "-ABCDEFGH"
		t.InstrID = t.EndToEndID
		t.Amount.Units = int64(10000 + i)
		sum += t.Amount.Units
		txs1[i] = t
	}
	hdr.NbOfTxs, hdr.CtrlSum = n, Decimal{Units: sum, Scale: 2}
	p.NbOfTxs, p.CtrlSum = n, Decimal{Units: sum, Scale: 2}
	return hdr, p, txs1
}

func BenchmarkEncode(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("refunds=%d", n), func(b *testing.B) {
			hdr, p, txs := benchDoc(n)
			var cw countWriter
			measure(b, n, func() {
				e := NewEncoder(&cw, V03)
				must(b, e.Header(hdr))
				must(b, e.PaymentInfo(p))
				for i := range txs {
					must(b, e.Transaction(&txs[i]))
				}
				must(b, e.Close())
			})
			b.ReportMetric(float64(cw.n)/float64(b.N)/float64(n), "xmlB/refund")
		})
	}
}

// BenchmarkEncodingXML streams the same document with encoding/xml's
// Encoder, one Encode per transaction, for comparison.
func BenchmarkEncodingXML(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("refunds=%d", n), func(b *testing.B) {
			hdr, p, txs := benchDoc(n)
			measure(b, n, func() {
				must(b, encodeStd(io.Discard, hdr, p, txs))
			})
		})
	}
}

// measure runs fn b.N times and reports refunds per second and bytes
// allocated per refund.
func measure(b *testing.B, n int, fn func()) {
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		fn()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "refunds/s")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/float64(n), "allocB/refund")
}

func must(b testing.TB, err error) {
	if err != nil {
		b.Fatal(err)
	}
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

type stdOthr struct {
	ID     string `xml:"Id"`
	Scheme string `xml:"SchmeNm>Cd,omitempty"`
}

type stdParty struct {
	Nm   string   `xml:"Nm"`
	Othr *stdOthr `xml:"Id>OrgId>Othr,omitempty"`
}

type stdAcct struct {
	IBAN string   `xml:"Id>IBAN,omitempty"`
	Othr *stdOthr `xml:"Id>Othr,omitempty"`
	Ccy  string   `xml:"Ccy,omitempty"`
}

type stdAmt struct {
	Ccy   string `xml:"Ccy,attr"`
	Value string `xml:",chardata"`
}

type stdTx struct {
	XMLName    xml.Name `xml:"CdtTrfTxInf"`
	InstrID    string   `xml:"PmtId>InstrId,omitempty"`
	EndToEndID string   `xml:"PmtId>EndToEndId"`
	InstdAmt   stdAmt   `xml:"Amt>InstdAmt"`
	Cdtr       stdParty `xml:"Cdtr"`
	CdtrAcct   stdAcct  `xml:"CdtrAcct"`
	Purp       string   `xml:"Purp>Cd,omitempty"`
	Ustrd      string   `xml:"RmtInf>Ustrd,omitempty"`
}

type stdHdr struct {
	XMLName  xml.Name `xml:"GrpHdr"`
	MsgID    string   `xml:"MsgId"`
	CreDtTm  string   `xml:"CreDtTm"`
	NbOfTxs  int      `xml:"NbOfTxs"`
	CtrlSum  string   `xml:"CtrlSum"`
	InitgPty stdParty `xml:"InitgPty"`
}

type stdPmtHead struct {
	PmtInfID  string   `xml:"PmtInfId"`
	PmtMtd    string   `xml:"PmtMtd"`
	BtchBookg bool     `xml:"BtchBookg"`
	NbOfTxs   int      `xml:"NbOfTxs"`
	CtrlSum   string   `xml:"CtrlSum"`
	Exec      string   `xml:"ReqdExctnDt"`
	Dbtr      stdParty `xml:"Dbtr"`
	DbtrAcct  stdAcct  `xml:"DbtrAcct"`
	DbtrAgt   string   `xml:"DbtrAgt>FinInstnId>BIC"`
}

func start(name string) xml.StartElement { return xml.StartElement{Name: xml.Name{Local: name}} }

func encodeStd(w io.Writer, hdr GroupHeader, p PaymentInfo, txs []Transaction) error {
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	doc := start("Document")
	doc.Attr = []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: V03.Namespace()}}
	for _, t := range []xml.Token{xml.ProcInst{Target: "xml", Inst: []byte(`version="1.0" encoding="UTF-8"`)}, doc, start("CstmrCdtTrfInitn")} {
		if err := enc.EncodeToken(t); err != nil {
			return err
		}
	}
	party := func(p Party) stdParty {
		return stdParty{Nm: p.Name, Othr: &stdOthr{ID: p.OrgID, Scheme: p.Scheme}}
	}
	if err := enc.Encode(stdHdr{MsgID: hdr.MsgID, CreDtTm: hdr.CreationTime.Format(time.RFC3339), NbOfTxs: hdr.NbOfTxs,
		CtrlSum: hdr.CtrlSum.String(), InitgPty: party(hdr.InitiatingParty)}); err != nil {
		return err
	}
	if err := enc.EncodeToken(start("PmtInf")); err != nil {
		return err
	}
	head := stdPmtHead{PmtInfID: p.PmtInfID, PmtMtd: "TRF", NbOfTxs: p.NbOfTxs, CtrlSum: p.CtrlSum.String(),
		Exec: p.ExecutionDate.Format("2006-01-02"), Dbtr: party(p.Debtor),
		DbtrAcct: stdAcct{Othr: &stdOthr{ID: p.DebtorAccount.Other, Scheme: "BBAN"}, Ccy: "NOK"}, DbtrAgt: p.DebtorAgentBIC}
	if err := enc.EncodeElement(head, xml.StartElement{Name: xml.Name{Local: "PmtInfHead"}}); err != nil {
		return err
	}
	for i := range txs {
		t := &txs[i]
		if err := enc.Encode(stdTx{InstrID: t.InstrID, EndToEndID: t.EndToEndID,
			InstdAmt: stdAmt{Ccy: t.Amount.Currency, Value: t.Amount.Decimal.String()},
			Cdtr:     stdParty{Nm: t.Creditor.Name}, CdtrAcct: stdAcct{Othr: &stdOthr{ID: t.CreditorAccount.Other, Scheme: t.CreditorAccount.Scheme}},
			Purp: t.Purpose, Ustrd: t.Remittance}); err != nil {
			return err
		}
	}
	for _, name := range []string{"PmtInf", "CstmrCdtTrfInitn", "Document"} {
		if err := enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: name}}); err != nil {
			return err
		}
	}
	return enc.Close()
}

// encoded returns n refunds as the Encoder writes them in version v.
func encoded(b *testing.B, v Version, n int) []byte {
	hdr, p, txs := benchDoc(n)
	var buf bytes.Buffer
	e := NewEncoder(&buf, v)
	must(b, e.Header(hdr))
	must(b, e.PaymentInfo(p))
	for i := range txs {
		must(b, e.Transaction(&txs[i]))
	}
	must(b, e.Close())
	return buf.Bytes()
}

// BenchmarkDecode reads a document of n refunds with Decode, handing each
// transaction to a handler that keeps its EndToEndId as refundd validate
// does.
func BenchmarkDecode(b *testing.B) {
	benchDecode(b, Decode)
}

// BenchmarkDecodeEncodingXML is BenchmarkDecode with the encoding/xml
// reader that Decode replaced, for comparison.
func BenchmarkDecodeEncodingXML(b *testing.B) {
	benchDecode(b, decodeStd)
}

func benchDecode(b *testing.B, decode func(io.Reader, Handler) (Version, error)) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("refunds=%d", n), func(b *testing.B) {
			doc := encoded(b, V03, n)
			b.SetBytes(int64(len(doc)))
			measure(b, n, func() {
				ids := make(map[string]int, n)
				_, err := decode(bytes.NewReader(doc), Handler{Transaction: func(line int, t *Transaction) error {
					ids[t.EndToEndID] = line
					return nil
				}})
				must(b, err)
				if len(ids) != n {
					b.Fatalf("read %d transactions; want %d", len(ids), n)
				}
			})
		})
	}
}
