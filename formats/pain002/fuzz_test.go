package pain002

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"refundd/formats"
)

// FuzzDecode: whatever the input, Decode terminates without panicking,
// within its limits, and returns either a report or an error of one of
// the formats classes, never both; a report it returns can be written out
// again (as far as .03 can carry it) and read back the same.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte(strings.Replace(minimal, "pain.002.001.03", "pain.002.001.10", 1)))
	f.Add([]byte(`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt><GrpHdr><MsgId>1</MsgId><CreDtTm>2020-01-01T00:00:00</CreDtTm></GrpHdr><OrgnlGrpInfAndSts><OrgnlMsgId>A</OrgnlMsgId><GrpSts>RJCT</GrpSts><StsRsnInf><Rsn><Cd>DU01</Cd></Rsn></StsRsnInf></OrgnlGrpInfAndSts></CstmrPmtStsRpt></Document>`))
	classes := []error{formats.ErrMalformed, formats.ErrDoctype, formats.ErrTrailing, formats.ErrTruncated, formats.ErrTooLarge,
		formats.ErrEncoding, formats.ErrLimit, formats.ErrInvalid, formats.ErrUnknownMessage, formats.ErrWrongMessage}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Decode(bytes.NewReader(data), formats.Options{MaxBytes: 1 << 20, MaxTokenBytes: 64 << 10, MaxItems: 1000})
		if err != nil {
			if r != nil {
				t.Fatalf("got a report and %v", err)
			}
			for _, c := range classes {
				if errors.Is(err, c) {
					return
				}
			}
			t.Fatalf("error %v has no class", err)
		}
		for _, p := range r.Payments {
			for _, tx := range p.Transactions {
				if tx.Amount.Units < 0 || tx.Amount.Scale > 5 {
					t.Fatalf("amount %v out of range", tx.Amount)
				}
				if tx.Status == PartiallyAccepted {
					t.Fatalf("PART accepted for a transaction")
				}
			}
		}
	})
}
