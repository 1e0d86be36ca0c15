package camt054

import (
	"bytes"
	"encoding/xml"
	"io"
	"testing"
	"time"
)

// benchDoc is a notification of 10 000 refund bookings, about 6.7 MB.
func benchDoc(b *testing.B) []byte {
	var buf bytes.Buffer
	if err := generate(&buf, 10_000); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func readEntries(doc []byte) (int, error) {
	r, err := NewReader(bytes.NewReader(doc), Options{})
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

// The plain encoding/xml way: Token until each Ntry, then DecodeElement
// into a struct with the same fields as Entry. It checks far less: no
// namespaces of children, no duplicates, no amount or code syntax, no
// content after the root.
type (
	stdAmt struct {
		Ccy   string `xml:"Ccy,attr"`
		Value string `xml:",chardata"`
	}
	stdDate struct {
		Dt   string `xml:"Dt"`
		DtTm string `xml:"DtTm"`
	}
	stdAcct struct {
		IBAN        string `xml:"Id>IBAN"`
		Other       string `xml:"Id>Othr>Id"`
		Scheme      string `xml:"Id>Othr>SchmeNm>Cd"`
		SchemePrtry string `xml:"Id>Othr>SchmeNm>Prtry"`
		Ccy         string `xml:"Ccy"`
	}
	stdParty struct {
		Nm    string `xml:"Nm"`
		PtyNm string `xml:"Pty>Nm"`
		AgtNm string `xml:"Agt>FinInstnId>Nm"`
	}
	stdBkTxCd struct {
		Domn  string `xml:"Domn>Cd"`
		Fmly  string `xml:"Domn>Fmly>Cd"`
		Sub   string `xml:"Domn>Fmly>SubFmlyCd"`
		Prtry string `xml:"Prtry>Cd"`
		Issr  string `xml:"Prtry>Issr"`
	}
	stdAmtDtls struct {
		Instd   stdAmt `xml:"InstdAmt>Amt"`
		Tx      stdAmt `xml:"TxAmt>Amt"`
		CntrVal stdAmt `xml:"CntrValAmt>Amt"`
	}
	stdCharge struct {
		Ttl   stdAmt `xml:"TtlChrgsAndTaxAmt"`
		Amt   stdAmt `xml:"Amt"`
		CDI   string `xml:"CdtDbtInd"`
		Incl  string `xml:"ChrgInclInd"`
		TpCd  string `xml:"Tp>Cd"`
		TpPr  string `xml:"Tp>Prtry>Id"`
		Br    string `xml:"Br"`
		Rcrds []struct {
			Amt  stdAmt `xml:"Amt"`
			CDI  string `xml:"CdtDbtInd"`
			Incl string `xml:"ChrgInclInd"`
			TpCd string `xml:"Tp>Cd"`
			TpPr string `xml:"Tp>Prtry>Id"`
			Br   string `xml:"Br"`
		} `xml:"Rcrd"`
	}
	stdTx struct {
		Refs struct {
			MsgID, AcctSvcrRef, PmtInfID, InstrID, EndToEndID, UETR, TxID, MndtID, ChqNb, ClrSysRef string
			AcctOwnrTxID, AcctSvcrTxID, MktInfrstrctrTxID, PrcgID                                   string
			Prtry                                                                                   []struct{ Tp, Ref string }
		} `xml:"Refs"`
		Amt      stdAmt      `xml:"Amt"`
		CDI      string      `xml:"CdtDbtInd"`
		AmtDtls  stdAmtDtls  `xml:"AmtDtls"`
		BkTxCd   stdBkTxCd   `xml:"BkTxCd"`
		Chrgs    []stdCharge `xml:"Chrgs"`
		Dbtr     stdParty    `xml:"RltdPties>Dbtr"`
		DbtrAcct stdAcct     `xml:"RltdPties>DbtrAcct"`
		Cdtr     stdParty    `xml:"RltdPties>Cdtr"`
		CdtrAcct stdAcct     `xml:"RltdPties>CdtrAcct"`
		Ustrd    []string    `xml:"RmtInf>Ustrd"`
		Strd     []struct {
			Cd    string `xml:"CdtrRefInf>Tp>CdOrPrtry>Cd"`
			Prtry string `xml:"CdtrRefInf>Tp>CdOrPrtry>Prtry"`
			Issr  string `xml:"CdtrRefInf>Tp>Issr"`
			Ref   string `xml:"CdtrRefInf>Ref"`
		} `xml:"RmtInf>Strd"`
		RtrInf *struct {
			Orgnl stdBkTxCd `xml:"OrgnlBkTxCd"`
			Orgtr string    `xml:"Orgtr>Nm"`
			Cd    string    `xml:"Rsn>Cd"`
			Prtry string    `xml:"Rsn>Prtry"`
			Addtl []string  `xml:"AddtlInf"`
		} `xml:"RtrInf"`
		AddtlTxInf string `xml:"AddtlTxInf"`
	}
	stdEntry struct {
		NtryRef string `xml:"NtryRef"`
		Amt     stdAmt `xml:"Amt"`
		CDI     string `xml:"CdtDbtInd"`
		RvslInd string `xml:"RvslInd"`
		Sts     struct {
			Text  string `xml:",chardata"`
			Cd    string `xml:"Cd"`
			Prtry string `xml:"Prtry"`
		} `xml:"Sts"`
		BookgDt     stdDate     `xml:"BookgDt"`
		ValDt       stdDate     `xml:"ValDt"`
		AcctSvcrRef string      `xml:"AcctSvcrRef"`
		BkTxCd      stdBkTxCd   `xml:"BkTxCd"`
		AmtDtls     stdAmtDtls  `xml:"AmtDtls"`
		Chrgs       []stdCharge `xml:"Chrgs"`
		NtryDtls    []struct {
			Btch *struct {
				MsgID    string `xml:"MsgId"`
				PmtInfID string `xml:"PmtInfId"`
				NbOfTxs  string `xml:"NbOfTxs"`
				TtlAmt   stdAmt `xml:"TtlAmt"`
				CDI      string `xml:"CdtDbtInd"`
			} `xml:"Btch"`
			TxDtls []stdTx `xml:"TxDtls"`
		} `xml:"NtryDtls"`
		AddtlNtryInf string `xml:"AddtlNtryInf"`
	}
)

func readEncodingXML(doc []byte) (int, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	n := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "Ntry" {
			var e stdEntry
			if err := d.DecodeElement(&e, &se); err != nil {
				return n, err
			}
			n++
		}
	}
}

// BenchmarkRead reads the same 10 000-entry notification with Reader and
// with the plain encoding/xml loop; compare their MB/s.
func BenchmarkRead(b *testing.B) {
	doc := benchDoc(b)
	for _, bc := range []struct {
		name string
		read func([]byte) (int, error)
	}{
		{"reader", readEntries},
		{"encoding-xml", readEncodingXML},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if n, err := bc.read(doc); err != nil || n != 10_000 {
					b.Fatalf("read %d entries: %v", n, err)
				}
			}
			b.ReportMetric(10_000*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkReadRatio reads the notification alternately with both and
// reports how many times faster Reader is.
func BenchmarkReadRatio(b *testing.B) {
	doc := benchDoc(b)
	var ours, std time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := readEntries(doc); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := readEncodingXML(doc); err != nil {
			b.Fatal(err)
		}
		ours += t1.Sub(t0)
		std += time.Since(t1)
	}
	mb := float64(len(doc)) * float64(b.N) / 1e6
	b.ReportMetric(mb/ours.Seconds(), "reader-MB/s")
	b.ReportMetric(mb/std.Seconds(), "encoding-xml-MB/s")
	b.ReportMetric(std.Seconds()/ours.Seconds(), "x-faster")
}
