package pain002

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"refundd/formats"
	"refundd/formats/internal/samples"
)

// TestDecodeSamples reads every public pain.002 sample and compares every
// field read with the values in the file.
func TestDecodeSamples(t *testing.T) {
	want := map[string]string{}
	for _, s := range []struct{ name, dump string }{
		{"goldmansachs-v03-group-actc.xml", `pain.002.001.03 13991356 2023-09-06T12:50:56.162Z
grp CLIENT NAME_2023-09-06:04|CHECK_DEPOSIT|-|n=1|sum=27.0|ACTC
  rsn - ["File accepted post technical and profile validations" "Original File Name: 26951.json"] by -/-
`},
		{"goldmansachs-v03-pmtinf-accp.xml", `pain.002.001.03 1744XXX 2022-03-15T19:38:16Z
grp     XXX001_20220315_B_DZSOXXXX|NACHA|-|n=8|sum=72.5400|-
pmt     xxx001220315B000XXXX|n=0|sum=-|ACCP
  rsn NARR ["Accepted post profile and tech validations"] by -/-
`},
		{"goldmansachs-v03-tx-accp-acctsvcrref.xml", `pain.002.001.03 1036XXX 2020-08-20T15:25:48Z
grp 10280093XXXX|-|-|n=2|sum=20.0000|-
pmt 3B-CCY|n=0|sum=-|-
  tx -|-|GSDGFKfLURaHb|-|ACCP|I200820000XXXXX|-|10.00 USD|-
    rsn NARR [] by -/-
`},
		{"hypovereinsbank-v10-vop-RVMC-tx-RVNM-name-mismatch.xml", `pain.002.001.10 8fe2133db36b4026ba7d6766583d434e 2025-10-20T21:33:51.999511Z
grp 2025-10-20T23:33:49:0045|pain.001|-|n=1|sum=100.00|RVMC
  rsn - ["RVNM Der Name des Empfaengers und die angegebene IBAN wurde abgeglichen (Empfaengerueberpruefung). Der" "RVNM Name des oder der Kontoinhaber(s) zur angegebenen IBAN stimmt nicht ueberein. Beachte: die" "RVNM Autorisierung der Ueberweisung kann dazu fuehren, dass das Geld an eine falsche Person ueberwiesen" "RVNM wird."] by -/-
  cnt 0 RCVC -
  cnt 1 RVNM -
  cnt 0 RVMC -
  cnt 0 RVNA -
  cnt 0 PDNG -
pmt 2025-10-20T23:33:49:0045|n=1|sum=100.00|RVMC
  cnt 0 RCVC -
  cnt 1 RVNM -
  cnt 0 RVMC -
  cnt 0 RVNA -
  cnt 0 PDNG -
  tx -|-|NOTPROVIDED|a34743b9-fb22-4ec6-9947-03b7e191584e|RVNM|-|-|-|-
`},
		{"hypovereinsbank-v10-vop-group-RCVC-name-match.xml", `pain.002.001.10 dc6f9da5b431-4956-8e23-1bef7d23f948 2025-11-02T18:33:13.303+01:00
grp 2025-11-02T18:33:03:0287|pain.001|-|n=2|sum=488|RCVC
  rsn - ["RCVC Der angegebene Empfaengername stimmt mit dem Namen des Kontoinhabers ueberein." "RCVC Hier besteht kein Handlungsbedarf."] by -/-
  cnt 2 RCVC -
pmt 2025-11-02T18:33:03:0287|n=2|sum=488|RCVC
  cnt 2 RCVC -
`},
		{"iso-mdr-example-v03-group-accp.xml", `pain.002.001.03 BBBB/100928-PSR/001 2010-09-28T14:09:00Z
grp ABC/100928/CCT001|pain.001.001.03|2010-09-28T14:07:00Z|n=3|sum=11500000|ACCP
`},
		{"lacaixa-v03-tx-rjct-AM04-MD01-direct-debit.xml", `pain.002.001.03 DAG35008770033201512080511490000677 2015-12-08T06:00:01Z
grp 2015-12-08DEV0801000010G35008770033|pain.008|-|n=4|sum=1006.65|-
pmt 2015-12-0112205515Rem.150 Ord.1|n=2|sum=657.73|-
  tx 088914833000000056|15M/025450120151203|15M/025450120151203|-|RJCT|-|-|193.45 EUR|-
    rsn AM04 [] by -/-
  tx 088914833000000084|15M/025720120151203|15M/025720120151203|-|RJCT|-|-|464.28 EUR|-
    rsn AM04 [] by -/-
pmt 2015-12-0113442815Rem.151 Ord.1|n=1|sum=277.45|-
  tx 088916239000000009|15M/022581120151204|15M/022581120151204|-|RJCT|-|-|277.45 EUR|-
    rsn AM04 [] by -/-
pmt 2015-12-0115153115Rem.152 Ord.1|n=1|sum=71.47|-
  tx 088917677000000029|15M/026530120151204|15M/026530120151204|-|RJCT|-|-|71.47 EUR|-
    rsn MD01 [] by -/-
`},
		{"nordea-v03-group-rjct-DU01-duplicate-msgid.xml", `pain.002.001.03 XML990920150810101909283 2015-08-10T10:19:09Z
grp MSGID-PS-TEST-0708-01|pain.001.001.03|2015-08-10T10:48:47Z|n=0|sum=-|RJCT
  rsn DU01 ["ISO Duplicate Message ID"] by -/-
`},
		{"nordea-v03-pmtinf-rjct-NARR.xml", `pain.002.001.03 XML990920150717170814238 2015-07-17T15:08:14Z
grp MSGID-COM-SCE25-1707-01|pain.001.001.03|-|n=0|sum=-|-
pmt PMTINFID-COM-SCE25-1707-01|n=0|sum=-|RJCT
  rsn NARR ["CAP Invalid code or combinations in CategoryPurpose or ServiceLevel"] by -/-
`},
		{"nordea-v03-tx-rjct-NARR-two-txs.xml", `pain.002.001.03 XML990920150728124014189 2015-07-28T10:40:14Z
grp MSGID-950-TEST2-2807-01|pain.001.001.03|-|n=0|sum=-|-
pmt PMTINFID-950-TEST2-2807-01|n=0|sum=-|RJCT
  tx -|INSTRID-950-TEST2-2807-02|ENDTOENDID-950-TEST2-2807-02|-|RJCT|-|-|-|-
    rsn NARR ["CAP Invalid code or combinations in CategoryPurpose or ServiceLevel"] by -/-
  tx -|INSTRID-950-TEST2-2807-01|ENDTOENDID-950-TEST2-2807-01|-|RJCT|-|-|-|-
    rsn NARR ["CAP Invalid code or combinations in CategoryPurpose or ServiceLevel"] by -/-
`},
		{"postfinance-v03ch-pmtinf-PART-tx-rjct-AC01.xml", `pain.002.001.03.ch.02 20180315375204222822452 2018-03-15T11:25:12Z
grp MsgId-001|pain.001.001.03.ch.02|-|n=0|sum=-|-
pmt PmtInfId-001-03|n=0|sum=-|PART
  tx -|InstrId-001-03-04|EndToEndId-001-03-04|-|RJCT|-|-|-|-
    rsn AC01 ["1301813;Konto ungültig"] by -/-
`},
		{"postfinance-v03ch-pmtinf-rjct-NARR-tx-rjct-AC01.xml", `pain.002.001.03.ch.02 20180326375204011678275 2018-03-26T12:09:48Z
grp MsgId-006|pain.001.001.03.ch.02|-|n=0|sum=-|-
pmt PmtInfId-006-01|n=0|sum=-|RJCT
  rsn NARR ["1297193;Sammelauftrag ohne ausführbaren Einzelauftrag"] by -/POFICHBE
  tx -|InstrId-006-01-01|EndToEndId-006-01-01|-|RJCT|-|-|-|-
    rsn AC01 ["1301813;Konto ungültig"] by -/-
`},
		{"postfinance-v10-group-actc.xml", `pain.002.001.10 20180315375204222821684 2022-05-02T10:49:10Z
grp MsgId-001|pain.001.001.09.ch.03|-|n=0|sum=-|ACTC
`},
		{"postfinance-v10-group-rjct-AM10-ctrlsum.xml", `pain.002.001.10 20180326375204011685776 2022-05-02T14:40:00Z
grp MsgId-005|pain.001.001.09.ch.03|-|n=0|sum=-|RJCT
  rsn AM10 ["904114;ControlSum fehlerhaft"] by -/-
`},
		{"postfinance-v10-pmtinf-accp.xml", `pain.002.001.10 204691ACFC/071125/023228 2022-05-02T05:11:25Z
grp MSG-02-QRR-SCOR|pain.001.001.09.ch.03|-|n=0|sum=-|-
pmt PMTINF-01|n=0|sum=-|ACCP
`},
		{"postfinance-v10-pmtinf-rjct-AC01.xml", `pain.002.001.10 204691ACFC/071125/023362 2022-05-02T05:11:25Z
grp MSG-02-QRR-SCOR|pain.001.001.09.ch.03|-|n=0|sum=-|-
pmt PMTINF-02|n=0|sum=-|RJCT
  rsn AC01 ["0999;CH7280005000088877766 Lastkonto unbekannt"] by -/-
`},
	} {
		want[s.name] = s.dump
	}
	for _, path := range samples.Files(t, "pain.002") {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			r, err := Decode(samples.Open(t, "pain.002", name), formats.Options{})
			if strings.Contains(name, "BROKEN-NAMESPACE") {
				// The root says Xmlns= instead of xmlns=, so the document
				// has no namespace at all.
				if !errors.Is(err, formats.ErrUnknownMessage) || !strings.Contains(err.Error(), `attribute "Xmlns"`) {
					t.Fatalf("got %v; want ErrUnknownMessage naming the attribute Xmlns", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w, ok := want[name]
			if !ok {
				t.Fatalf("sample %s is not in the table; add it:\n%s", name, dump(r))
			}
			if got := dump(r); got != w {
				t.Errorf("got\n%s\nwant\n%s", got, w)
			}
		})
	}
}

// TestSampleStatuses applies Effective to the samples' transactions,
// listed or not.
func TestSampleStatuses(t *testing.T) {
	for _, tc := range []struct {
		file, pmtInfID, e2e string
		want                string // status/level/first reason code
		conflict            bool
	}{
		{"nordea-v03-tx-rjct-NARR-two-txs.xml", "PMTINFID-950-TEST2-2807-01", "ENDTOENDID-950-TEST2-2807-02", "RJCT/transaction/NARR", false},
		{"nordea-v03-tx-rjct-NARR-two-txs.xml", "PMTINFID-950-TEST2-2807-01", "ENDTOENDID-950-TEST2-2807-03", "RJCT/payment/", false},
		{"nordea-v03-pmtinf-rjct-NARR.xml", "PMTINFID-COM-SCE25-1707-01", "ANY", "RJCT/payment/NARR", false},
		{"nordea-v03-pmtinf-rjct-NARR.xml", "OTHER-BLOCK", "ANY", "/none/", false},
		{"nordea-v03-group-rjct-DU01-duplicate-msgid.xml", "ANY", "ANY", "RJCT/group/DU01", false},
		{"postfinance-v03ch-pmtinf-PART-tx-rjct-AC01.xml", "PmtInfId-001-03", "EndToEndId-001-03-04", "RJCT/transaction/AC01", false},
		{"postfinance-v03ch-pmtinf-PART-tx-rjct-AC01.xml", "PmtInfId-001-03", "EndToEndId-001-03-01", "/none/", false},
		{"goldmansachs-v03-pmtinf-accp.xml", "    xxx001220315B000XXXX", "ANY", "ACCP/payment/NARR", false},
		{"goldmansachs-v03-group-actc.xml", "ANY", "ANY", "ACTC/group/", false},
		{"postfinance-v10-pmtinf-rjct-AC01.xml", "PMTINF-02", "ANY", "RJCT/payment/AC01", false},
		{"lacaixa-v03-tx-rjct-AM04-MD01-direct-debit.xml", "2015-12-0115153115Rem.152 Ord.1", "15M/026530120151204", "RJCT/transaction/MD01", false},
		{"lacaixa-v03-tx-rjct-AM04-MD01-direct-debit.xml", "2015-12-0112205515Rem.150 Ord.1", "NOT-LISTED", "/none/", false},
	} {
		t.Run(tc.file+"/"+tc.e2e, func(t *testing.T) {
			r, err := Decode(samples.Open(t, "pain.002", tc.file), formats.Options{})
			if err != nil {
				t.Fatal(err)
			}
			o := r.StatusOf(tc.pmtInfID, tc.e2e)
			code := ""
			if len(o.Reasons) > 0 {
				code = o.Reasons[0].Code
			}
			if got := string(o.Status) + "/" + o.Level.String() + "/" + code; got != tc.want || o.Conflict != tc.conflict {
				t.Errorf("got %s conflict=%v; want %s conflict=%v", got, o.Conflict, tc.want, tc.conflict)
			}
		})
	}
}

const minimal = `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
  <CstmrPmtStsRpt>
    <GrpHdr><MsgId>R1</MsgId><CreDtTm>2026-12-02T08:00:00</CreDtTm></GrpHdr>
    <OrgnlGrpInfAndSts><OrgnlMsgId>RFD-1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId></OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>RFD-1-1</OrgnlPmtInfId>
      <TxInfAndSts>
        <OrgnlEndToEndId>CN-1</OrgnlEndToEndId>
        <TxSts>RJCT</TxSts>
        <StsRsnInf><Rsn><Cd>AC01</Cd></Rsn><AddtlInf>Kontonummer ugyldig</AddtlInf></StsRsnInf>
        <OrgnlTxRef><Amt><InstdAmt Ccy="NOK">100.00</InstdAmt></Amt></OrgnlTxRef>
      </TxInfAndSts>
    </OrgnlPmtInfAndSts>
  </CstmrPmtStsRpt>
</Document>
`

func TestDecodeMinimal(t *testing.T) {
	r, err := Decode(strings.NewReader(minimal), formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `pain.002.001.03 R1 2026-12-02T08:00:00Z
grp RFD-1|pain.001.001.03|-|n=0|sum=-|-
pmt RFD-1-1|n=0|sum=-|-
  tx -|-|CN-1|-|RJCT|-|-|100.00 NOK|-
    rsn AC01 ["Kontonummer ugyldig"] by -/-
`
	if got := dump(r); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestDecodeLatin1: a report declared ISO-8859-1 is decoded, æøå included.
func TestDecodeLatin1(t *testing.T) {
	doc := strings.Replace(minimal, "UTF-8", "ISO-8859-1", 1)
	doc = strings.Replace(doc, "Kontonummer ugyldig", "Kontonummer ugyldig: \xe6\xf8\xe5 \xc6\xd8\xc5", 1)
	r, err := Decode(strings.NewReader(doc), formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Payments[0].Transactions[0].Reasons[0].AdditionalInfo[0], "Kontonummer ugyldig: æøå ÆØÅ"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

func TestDecodeRefuses(t *testing.T) {
	tx := "<TxSts>RJCT</TxSts>"
	for _, tc := range []struct {
		name string
		in   string
		o    formats.Options
		err  error
		text string
	}{
		{"doctype", strings.Replace(minimal, "<Document", "<!DOCTYPE Document [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<Document", 1), formats.Options{}, formats.ErrDoctype, "DOCTYPE"},
		{"entity", strings.Replace(minimal, "ugyldig", "&x;", 1), formats.Options{}, formats.ErrMalformed, "&x;"},
		{"second root", minimal + "<Document/>", formats.Options{}, formats.ErrTrailing, "second root"},
		{"text after root", minimal + "junk", formats.Options{}, formats.ErrTrailing, "text"},
		{"truncated", minimal[:len(minimal)/2], formats.Options{}, formats.ErrTruncated, ""},
		{"truncated at the last tag", strings.TrimSuffix(minimal, "</Document>\n"), formats.Options{}, formats.ErrTruncated, "</Document>"},
		{"empty", "", formats.Options{}, formats.ErrTruncated, "empty"},
		{"too large", minimal, formats.Options{MaxBytes: 500}, formats.ErrTooLarge, "500"},
		{"too deep", strings.Replace(minimal, "<Rsn>", strings.Repeat("<X>", 70), 1), formats.Options{}, formats.ErrLimit, "nested"},
		{"UTF-16", "\xfe\xff\x00<", formats.Options{}, formats.ErrEncoding, "UTF-16"},
		{"UTF-16 declared", strings.Replace(minimal, "UTF-8", "UTF-16", 1), formats.Options{}, formats.ErrEncoding, "UTF-16"},
		{"unknown encoding", strings.Replace(minimal, "UTF-8", "Shift_JIS", 1), formats.Options{}, formats.ErrEncoding, "Shift_JIS"},
		{"invalid UTF-8", strings.Replace(minimal, "ugyldig", "ugyldig \xe6", 1), formats.Options{}, formats.ErrEncoding, "UTF-8"},
		{"unknown namespace", strings.Replace(minimal, "pain.002.001.03\"", "pain.002.001.14\"", 1), formats.Options{}, formats.ErrUnknownMessage, "pain.002.001.14"},
		{"camt.054", strings.Replace(minimal, "pain.002.001.03\"", "camt.054.001.02\"", 1), formats.Options{}, formats.ErrWrongMessage, "camt.054"},
		{"foreign namespace", strings.Replace(minimal, tx, `<x:TxSts xmlns:x="urn:evil">ACCP</x:TxSts>`, 1), formats.Options{}, formats.ErrInvalid, "urn:evil"},
		{"foreign default namespace", strings.Replace(minimal, tx, `<TxSts xmlns="urn:evil">ACCP</TxSts>`, 1), formats.Options{}, formats.ErrInvalid, "urn:evil"},
		{"status twice", strings.Replace(minimal, tx, tx+"<TxSts>ACCP</TxSts>", 1), formats.Options{}, formats.ErrInvalid, "more than once"},
		{"end-to-end id twice", strings.Replace(minimal, "<OrgnlEndToEndId>CN-1</OrgnlEndToEndId>", "<OrgnlEndToEndId>CN-1</OrgnlEndToEndId><OrgnlEndToEndId>CN-2</OrgnlEndToEndId>", 1), formats.Options{}, formats.ErrInvalid, "more than once"},
		{"RCVD for a transaction", strings.Replace(minimal, tx, "<TxSts>RCVD</TxSts>", 1), formats.Options{}, formats.ErrInvalid, "RCVD"},
		{"v10 code in v03", strings.Replace(minimal, tx, "<TxSts>RVNM</TxSts>", 1), formats.Options{}, formats.ErrInvalid, "RVNM"},
		{"PART for a transaction in v10", strings.Replace(strings.Replace(minimal, "pain.002.001.03\"", "pain.002.001.10\"", 1), tx, "<TxSts>PART</TxSts>", 1), formats.Options{}, formats.ErrInvalid, "PART"},
		{"lower-case status", strings.Replace(minimal, tx, "<TxSts>rjct</TxSts>", 1), formats.Options{}, formats.ErrInvalid, "rjct"},
		{"reason code and proprietary", strings.Replace(minimal, "<Cd>AC01</Cd>", "<Cd>AC01</Cd><Prtry>X</Prtry>", 1), formats.Options{}, formats.ErrInvalid, "more than one"},
		{"amount with exponent", strings.Replace(minimal, ">100.00<", ">1e2<", 1), formats.Options{}, formats.ErrInvalid, "1e2"},
		{"negative amount", strings.Replace(minimal, ">100.00<", ">-100.00<", 1), formats.Options{}, formats.ErrInvalid, "-100.00"},
		{"amount without currency", strings.Replace(minimal, ` Ccy="NOK"`, "", 1), formats.Options{}, formats.ErrInvalid, "Ccy"},
		{"currency twice", strings.Replace(minimal, ` Ccy="NOK"`, ` Ccy="NOK" Ccy="SEK"`, 1), formats.Options{}, formats.ErrMalformed, "twice"},
		{"no GrpHdr", strings.Replace(minimal, "<GrpHdr><MsgId>R1</MsgId><CreDtTm>2026-12-02T08:00:00</CreDtTm></GrpHdr>", "", 1), formats.Options{}, formats.ErrInvalid, "GrpHdr"},
		{"no OrgnlGrpInfAndSts", strings.Replace(minimal, "<OrgnlGrpInfAndSts><OrgnlMsgId>RFD-1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId></OrgnlGrpInfAndSts>", "", 1), formats.Options{}, formats.ErrInvalid, "OrgnlGrpInfAndSts"},
		{"text between elements", strings.Replace(minimal, tx, tx+"oops", 1), formats.Options{}, formats.ErrInvalid, "oops"},
		{"too many reasons", strings.Replace(minimal, "<AddtlInf>Kontonummer ugyldig</AddtlInf>", strings.Repeat("<AddtlInf>x</AddtlInf>", 11), 1), formats.Options{MaxItems: 10}, formats.ErrLimit, "more than 10"},
		{"bad date", strings.Replace(minimal, "2026-12-02T08:00:00", "02.12.2026 08:00", 1), formats.Options{}, formats.ErrInvalid, "02.12.2026"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Decode(strings.NewReader(tc.in), tc.o)
			if r != nil || !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("got %v, %v; want nil and an error wrapping %v containing %q", r, err, tc.err, tc.text)
			}
		})
	}
}

// TestDecodeOneByteAtATime: the reader does not depend on how the input
// arrives.
func TestDecodeOneByteAtATime(t *testing.T) {
	r, err := Decode(&oneByte{bytes.NewReader([]byte(minimal))}, formats.Options{})
	if err != nil || r.Payments[0].Transactions[0].OrgnlEndToEndID != "CN-1" {
		t.Fatalf("got %v, %v", r, err)
	}
}

type oneByte struct{ r *bytes.Reader }

func (o *oneByte) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}
