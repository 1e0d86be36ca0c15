package validate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"refundd/internal/testutil"
)

// pain001Doc is a pain.001.001.03 with one payment block of two
// transactions: NbOfTxs and CtrlSum at both levels and the two amounts
// are filled in, in one currency.
const pain001Doc = `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">
  <CstmrCdtTrfInitn>
    <GrpHdr>
      <MsgId>RFD-SUMS-1</MsgId>
      <CreDtTm>2026-12-01T10:00:00+01:00</CreDtTm>
      <NbOfTxs>2</NbOfTxs>
      <CtrlSum>%[1]s</CtrlSum>
      <InitgPty><Nm>Eksempel Handel AS</Nm></InitgPty>
    </GrpHdr>
    <PmtInf>
      <PmtInfId>RFD-SUMS-1-1</PmtInfId>
      <PmtMtd>TRF</PmtMtd>
      <NbOfTxs>2</NbOfTxs>
      <CtrlSum>%[1]s</CtrlSum>
      <ReqdExctnDt>2026-12-01</ReqdExctnDt>
      <Dbtr><Nm>Eksempel Handel AS</Nm></Dbtr>
      <DbtrAcct><Id><Othr><Id>86011117947</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr></Id></DbtrAcct>
      <DbtrAgt><FinInstnId><BIC>DNBANOKK</BIC></FinInstnId></DbtrAgt>
      <CdtTrfTxInf>
        <PmtId><InstrId>CN-A-1</InstrId><EndToEndId>CN-A-1</EndToEndId></PmtId>
        <Amt><InstdAmt Ccy="%[4]s">%[2]s</InstdAmt></Amt>
        <Cdtr><Nm>Ola Hansen</Nm></Cdtr>
        <CdtrAcct><Id><Othr><Id>15031234562</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr></Id></CdtrAcct>
      </CdtTrfTxInf>
      <CdtTrfTxInf>
        <PmtId><InstrId>CN-B-2</InstrId><EndToEndId>CN-B-2</EndToEndId></PmtId>
        <Amt><InstdAmt Ccy="%[4]s">%[3]s</InstdAmt></Amt>
        <Cdtr><Nm>Kari Nordmann</Nm></Cdtr>
        <CdtrAcct><Id><Othr><Id>15031234562</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr></Id></CdtrAcct>
      </CdtTrfTxInf>
    </PmtInf>
  </CstmrCdtTrfInitn>
</Document>
`

// TestPain001ControlSums checks the control sums of a pain.001 exactly,
// also for the largest amounts the schema allows (18 digits): adding them
// must not overflow.
func TestPain001ControlSums(t *testing.T) {
	c := testutil.Config(t, "")
	for _, tc := range []struct {
		name, ctrl, a, b, cur string
		invalid               bool
		want                  string // in the summary, or in a problem when invalid
	}{
		{"two NOK amounts", "1244.50", "1234.50", "10.00", "NOK", false, "control sum 1244.50"},
		{"18-digit amounts", "999999999999999999", "499999999999999999", "500000000000000000", "JPY", false, "control sum 999999999999999999"},
		{"18-digit amounts, control sum one less", "999999999999999998", "499999999999999999", "500000000000000000", "JPY", true, "CtrlSum"},
		{"control sum wrong", "1244.51", "1234.50", "10.00", "NOK", true, "CtrlSum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "pain001.xml")
			if err := os.WriteFile(p, fmt.Appendf(nil, pain001Doc, tc.ctrl, tc.a, tc.b, tc.cur), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := File(c, p, now)
			if err != nil {
				t.Fatal(err)
			}
			if r.Invalid != tc.invalid {
				t.Fatalf("invalid %v, want %v: %s %q", r.Invalid, tc.invalid, r.Summary, r.Problems)
			}
			text := r.Summary
			if tc.invalid {
				text = strings.Join(r.Problems, "\n")
			}
			if !strings.Contains(text, tc.want) {
				t.Errorf("%q does not say %q (problems %q)", text, tc.want, r.Problems)
			}
		})
	}
}
