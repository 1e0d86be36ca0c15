package pain002

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"refundd/formats"
	"refundd/formats/xsdtest"
)

// full is a report that uses every field pain.002.001.03 can carry.
func full() *Report {
	oslo := time.FixedZone("", 3600)
	return &Report{
		Message:      V03,
		MsgID:        "BANK-PSR-2026-0001",
		CreationTime: time.Date(2026, 12, 2, 8, 15, 30, 0, oslo),
		Group: Group{
			OrgnlMsgID:        "RFD-B2026-0042-ABCDEFGH",
			OrgnlMsgNmID:      "pain.001.001.03",
			OrgnlCreationTime: time.Date(2026, 12, 1, 9, 0, 0, 0, oslo),
			OrgnlNbOfTxs:      3,
			OrgnlCtrlSum:      formats.Decimal{Units: 1244649, Scale: 2},
			Status:            PartiallyAccepted,
			Reasons:           []Reason{{Proprietary: "PARTIAL", AdditionalInfo: []string{"2 of 3 accepted", "see the blocks"}, OriginatorName: "DNB Bank ASA", OriginatorBIC: "DNBANOKK"}},
			StatusCounts:      []StatusCount{{Count: 2, Status: AcceptedCustomerProfile, CtrlSum: formats.Decimal{Units: 1244550, Scale: 2}}, {Count: 1, Status: Rejected}},
		},
		Payments: []Payment{{
			OrgnlPmtInfID: "RFD-B2026-0042-ABCDEFGH-1",
			OrgnlNbOfTxs:  2,
			OrgnlCtrlSum:  formats.Decimal{Units: 1234649, Scale: 2},
			Status:        PartiallyAccepted,
			Transactions: []Transaction{{
				StatusID:        "S-1",
				OrgnlInstrID:    "CN-10042-AAAAAAAA",
				OrgnlEndToEndID: "CN-10042-AAAAAAAA",
				Status:          AcceptedSettlementInProcess,
				AcctSvcrRef:     "DNB-REF-1",
				ClrSysRef:       "NICS-1",
				Amount:          formats.Amount{Decimal: formats.Decimal{Units: 1234550, Scale: 2}, Currency: "NOK"},
				ExecutionDate:   formats.DateTime{Time: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)},
			}, {
				OrgnlEndToEndID: "PY-10043-BBBBBBBB",
				Status:          Rejected,
				Reasons:         []Reason{{Code: "AC01", AdditionalInfo: []string{"Kontonummer ugyldig: Ærlig & Sønn <AS>"}}},
				Amount:          formats.Amount{Decimal: formats.Decimal{Units: 99, Scale: 2}, Currency: "NOK"},
			}},
		}, {
			OrgnlPmtInfID: "RFD-B2026-0042-ABCDEFGH-2",
			Status:        AcceptedCustomerProfile,
		}},
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	want := full()
	var buf bytes.Buffer
	if err := Encode(&buf, want); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "pain002.xml")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	xsdtest.Validate(t, xsdtest.Schema(t, "pain.002.001.03.xsd"), file)
	got, err := Decode(&buf, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %s\nwant %s", dump(got), dump(want))
	}
}

func TestV03(t *testing.T) {
	if m, ok := formats.Lookup(V03.Namespace); !ok || m != V03 || m.String() != "pain.002.001.03" {
		t.Errorf("got %v, %v; want %v", m, ok, V03)
	}
}

func TestEncodeRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(*Report)
		text   string
	}{
		{"v10", func(r *Report) { r.Message, _ = formats.Lookup("urn:iso:std:iso:20022:tech:xsd:pain.002.001.10") }, "cannot write"},
		{"UETR", func(r *Report) { r.Payments[0].Transactions[0].OrgnlUETR = "a34743b9-fb22-4ec6-9947-03b7e191584e" }, "OrgnlUETR"},
		{"date and time", func(r *Report) { r.Payments[0].Transactions[0].ExecutionDate.HasTime = true }, "ReqdExctnDt"},
		{"v10 status", func(r *Report) { r.Group.Status = "RVNM" }, "RVNM"},
		{"PART for a transaction", func(r *Report) { r.Payments[0].Transactions[0].Status = PartiallyAccepted }, "PART"},
		{"no OrgnlMsgNmId", func(r *Report) { r.Group.OrgnlMsgNmID = "" }, "OrgnlMsgNmId"},
		{"long MsgId", func(r *Report) { r.MsgID = strings.Repeat("M", 36) }, "MsgId"},
		{"long AddtlInf", func(r *Report) { r.Group.Reasons[0].AdditionalInfo[0] = strings.Repeat("x", 106) }, "AddtlInf"},
		{"control character", func(r *Report) { r.Group.Reasons[0].AdditionalInfo[0] = "a\x00b" }, "AddtlInf"},
		{"code and proprietary", func(r *Report) { r.Group.Reasons[0].Code = "NARR" }, "both"},
		{"bad BIC", func(r *Report) { r.Group.Reasons[0].OriginatorBIC = "JOHNDOE99" }, "BIC"},
		{"bad currency", func(r *Report) { r.Payments[0].Transactions[0].Amount.Currency = "nok" }, "currency"},
		{"negative amount", func(r *Report) { r.Payments[0].Transactions[0].Amount.Units = -1 }, "amount"},
		{"no creation time", func(r *Report) { r.CreationTime = time.Time{} }, "CreDtTm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := full()
			tc.modify(r)
			err := Encode(&bytes.Buffer{}, r)
			if !errors.Is(err, formats.ErrInvalid) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("got %v; want ErrInvalid containing %q", err, tc.text)
			}
		})
	}
}
