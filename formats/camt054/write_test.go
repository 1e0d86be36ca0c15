package camt054

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"refundd/formats"
	"refundd/formats/xsdtest"
)

func nok(units int64) formats.Amount {
	return formats.Amount{Decimal: formats.Decimal{Units: units, Scale: 2}, Currency: "NOK"}
}

func day(y, m, d int) formats.DateTime {
	return formats.DateTime{Time: time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)}
}

// sample returns two notifications that use every field camt.054.001.02
// can carry: a batch booking of two refunds with charges, a single booked
// refund and a returned refund.
func sample() (Header, []*Report, [][]*Entry) {
	oslo := time.FixedZone("", 3600)
	hdr := Header{Message: V02, MsgID: "DNB-NTF-20261203-1", CreationTime: time.Date(2026, 12, 3, 7, 0, 0, 0, oslo)}
	acct := Account{Other: "86011117947", Scheme: "BBAN", Currency: "NOK"}
	reps := []*Report{
		{ID: "NTF-1", CreationTime: time.Date(2026, 12, 3, 7, 0, 0, 0, oslo), ElectronicSeqNb: "41", LegalSeqNb: "41", Account: acct},
		{ID: "NTF-2", CreationTime: time.Date(2026, 12, 3, 7, 0, 1, 0, time.UTC), CopyDuplicate: Duplicate, Account: Account{IBAN: "NO9386011117947"}},
	}
	batch := &Entry{
		Ref: "1", Amount: nok(1234649 + 7500), CreditDebit: Debit, Status: Booked,
		BookingDate: day(2026, 12, 3), ValueDate: formats.DateTime{Time: time.Date(2026, 12, 3, 10, 30, 0, 0, oslo), HasTime: true},
		AcctSvcrRef:   "DNB-2026-12-03-0001",
		BankTxCode:    BankTxCode{Domain: "PMNT", Family: "ICDT", SubFamily: "DMCT", Proprietary: "N01", Issuer: "DNB"},
		AmountDetails: AmountDetails{Transaction: nok(1234649)},
		Charges: Charges{Records: []Charge{
			{Amount: nok(5000), CreditDebit: Debit, Type: "COMM", Bearer: "DEBT", TotalAndTax: nok(6250)},
			{Amount: nok(2500), TypeProprietary: "GEBYR & MVA"},
		}},
		Details: []Details{{
			Batch: &Batch{MsgID: "RFD-B2026-0042-ABCDEFGH", PmtInfID: "RFD-B2026-0042-ABCDEFGH-1", NbOfTxs: 2, Total: nok(1234649), CreditDebit: Debit},
			Transactions: []Transaction{{
				Refs: Refs{MsgID: "RFD-B2026-0042-ABCDEFGH", AcctSvcrRef: "T-1", PmtInfID: "RFD-B2026-0042-ABCDEFGH-1", InstrID: "CN-10042-AAAAAAAA",
					EndToEndID: "CN-10042-AAAAAAAA", TxID: "TX1", MandateID: "M1", ChequeNb: "C1", ClrSysRef: "NICS-1",
					Proprietary: []ProprietaryRef{{Type: "KID", Ref: "1234567890"}}},
				AmountDetails: AmountDetails{Instructed: nok(1234550), Transaction: nok(1234550), CounterValue: formats.Amount{Decimal: formats.Decimal{Units: 105000, Scale: 2}, Currency: "EUR"}},
				BankTxCode:    BankTxCode{Domain: "PMNT", Family: "ICDT", SubFamily: "DMCT"},
				Charges:       Charges{Records: []Charge{{Amount: nok(0), Bearer: "SLEV"}}},
				Parties: Parties{DebtorName: "Eksempel Handel AS", DebtorAccount: acct,
					CreditorName: "Ærlig & Sønn <AS> \"Ø\" 'Å'", CreditorAccount: Account{Other: "12345678903", Scheme: "BBAN"}},
				Remittance: Remittance{
					Unstructured: []string{"Refusjon ordre 5001", "linje\t2\nmed skift"},
					Structured:   []CreditorRef{{Type: "SCOR", Issuer: "ISO", Ref: "RF18539007547034"}, {TypeProprietary: "KID", Ref: "1234567890"}, {Ref: "uten type"}},
				},
				AdditionalInfo: "Refusjon til kunde 10042",
			}, {
				Refs:          Refs{EndToEndID: "PY-10043-BBBBBBBB"},
				AmountDetails: AmountDetails{Instructed: nok(99)},
				Parties:       Parties{CreditorName: "Kari Nordmann", CreditorAccount: Account{Other: "86011117947", SchemeProprietary: "KONTO"}},
			}},
		}},
		AdditionalInfo: "Samlebetaling refusjon",
	}
	single := &Entry{
		Amount: nok(10000), CreditDebit: Debit, Status: Pending, BookingDate: day(2026, 12, 3), AcctSvcrRef: "DNB-2",
		Details: []Details{{Transactions: []Transaction{{Refs: Refs{EndToEndID: "PP-10044-CCCCCCCC"}}}}},
	}
	returned := &Entry{
		Amount: nok(10000), CreditDebit: Credit, Reversal: true, Status: Booked, BookingDate: day(2026, 12, 10), ValueDate: day(2026, 12, 10),
		AcctSvcrRef: "DNB-3", BankTxCode: BankTxCode{Domain: "PMNT", Family: "ICDT", SubFamily: "RRTN"},
		Details: []Details{{Transactions: []Transaction{{
			Refs:          Refs{PmtInfID: "RFD-B2026-0042-ABCDEFGH-2", InstrID: "PP-10044-CCCCCCCC", EndToEndID: "PP-10044-CCCCCCCC"},
			AmountDetails: AmountDetails{Transaction: nok(10000)},
			Return: &Return{
				OriginalBankTxCode: BankTxCode{Domain: "PMNT", Family: "ICDT", SubFamily: "DMCT"},
				OriginatorName:     "Mottakers bank",
				Reason:             "AC04",
				AdditionalInfo:     []string{"Konto avsluttet", "Account closed"},
			},
		}, {
			Refs:   Refs{EndToEndID: "PP-10045-DDDDDDDD"},
			Return: &Return{ReasonProprietary: "UKJENT MOTTAKER"},
		}}}},
	}
	info := &Entry{Amount: formats.Amount{Decimal: formats.Decimal{Units: 5, Scale: 0}, Currency: "SEK"}, CreditDebit: Credit, Status: Info}
	return hdr, reps, [][]*Entry{{batch, single}, {returned, info}}
}

func write(t testing.TB, hdr Header, reps []*Report, entries [][]*Entry) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.Header(hdr); err != nil {
		return nil, err
	}
	for i, r := range reps {
		if err := w.Report(r); err != nil {
			return nil, err
		}
		for _, e := range entries[i] {
			if err := w.Entry(e); err != nil {
				return nil, err
			}
		}
	}
	err := w.Close()
	return buf.Bytes(), err
}

// TestWriteRoundTrip: what Writer writes is valid against the schema and
// reads back as exactly what was written.
func TestWriteRoundTrip(t *testing.T) {
	hdr, reps, entries := sample()
	out, err := write(t, hdr, reps, entries)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "camt054.xml")
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
	xsdtest.Validate(t, xsdtest.Schema(t, "camt.054.001.02.xsd"), file)

	r, err := NewReader(bytes.NewReader(out), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Header(); !reflect.DeepEqual(got, hdr) {
		t.Errorf("header: got %+v; want %+v", got, hdr)
	}
	for i, rep := range reps {
		for j, want := range entries[i] {
			got, err := r.Next()
			if err != nil {
				t.Fatalf("report %d entry %d: %v", i, j, err)
			}
			if !reflect.DeepEqual(got.Report, rep) {
				t.Errorf("report %d: got %+v; want %+v", i, *got.Report, *rep)
			}
			w := *want
			w.Report = got.Report
			if !reflect.DeepEqual(got, &w) {
				var g, e strings.Builder
				dumpEntry(&g, got)
				dumpEntry(&e, &w)
				t.Errorf("report %d entry %d:\n got %s\nwant %s", i, j, g.String(), e.String())
			}
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("got %v after the last entry; want io.EOF", err)
	}
}

func TestWriteRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(*Header, []*Report, [][]*Entry)
		text   string
	}{
		{"v08 header", func(h *Header, _ []*Report, _ [][]*Entry) {
			h.Message, _ = formats.Lookup("urn:iso:std:iso:20022:tech:xsd:camt.054.001.08")
		}, "cannot write"},
		{"transaction amount", func(_ *Header, _ []*Report, e [][]*Entry) { e[0][0].Details[0].Transactions[0].Amount = nok(1) }, "TxDtls/Amt"},
		{"UETR", func(_ *Header, _ []*Report, e [][]*Entry) {
			e[0][0].Details[0].Transactions[0].Refs.UETR = "3f2b9c1e-5d7a-4e8b-9c0d-1a2b3c4d5e6f"
		}, "UETR"},
		{"charges total", func(_ *Header, _ []*Report, e [][]*Entry) { e[0][0].Charges.Total = nok(7500) }, "charges total"},
		{"charge included", func(_ *Header, _ []*Report, e [][]*Entry) { b := true; e[0][0].Charges.Records[0].Included = &b }, "ChrgInclInd"},
		{"external status", func(_ *Header, _ []*Report, e [][]*Entry) { e[0][0].Status = "FUTR" }, "FUTR"},
		{"proprietary status", func(_ *Header, _ []*Report, e [][]*Entry) { e[0][0].StatusProprietary = "X" }, "status"},
		{"no direction", func(_ *Header, _ []*Report, e [][]*Entry) { e[0][0].CreditDebit = "" }, "CdtDbtInd"},
		{"negative amount", func(_ *Header, _ []*Report, e [][]*Entry) { e[0][0].Amount.Units = -1 }, "amount"},
		{"six decimals", func(_ *Header, _ []*Report, e [][]*Entry) { e[0][0].Amount.Scale = 6 }, "amount"},
		{"no currency", func(_ *Header, _ []*Report, e [][]*Entry) { e[0][0].Amount.Currency = "" }, "currency"},
		{"half a bank transaction code", func(_ *Header, _ []*Report, e [][]*Entry) { e[0][0].BankTxCode.SubFamily = "" }, "SubFmlyCd"},
		{"bad IBAN", func(_ *Header, r []*Report, _ [][]*Entry) { r[1].Account.IBAN = "NO93 8601 1117 947" }, "IBAN"},
		{"IBAN and other", func(_ *Header, r []*Report, _ [][]*Entry) { r[1].Account.Other = "86011117947" }, "exactly one"},
		{"bad copy indicator", func(_ *Header, r []*Report, _ [][]*Entry) { r[0].CopyDuplicate = "ORIG" }, "CpyDplctInd"},
		{"long end-to-end id", func(_ *Header, _ []*Report, e [][]*Entry) {
			e[0][1].Details[0].Transactions[0].Refs.EndToEndID = strings.Repeat("E", 36)
		}, "EndToEndId"},
		{"long remittance", func(_ *Header, _ []*Report, e [][]*Entry) {
			e[0][0].Details[0].Transactions[0].Remittance.Unstructured[0] = strings.Repeat("æ", 141)
		}, "Ustrd"},
		{"control character", func(_ *Header, _ []*Report, e [][]*Entry) { e[0][0].AdditionalInfo = "a\x01b" }, "AddtlNtryInf"},
		{"charge type", func(_ *Header, _ []*Report, e [][]*Entry) { e[0][0].Charges.Records[0].Type = "TAXE" }, "BRKF or COMM"},
		{"creditor reference type", func(_ *Header, _ []*Report, e [][]*Entry) {
			e[0][0].Details[0].Transactions[0].Remittance.Structured[0].Type = "KID"
		}, "DocumentType3Code"},
		{"no report time", func(_ *Header, r []*Report, _ [][]*Entry) { r[0].CreationTime = time.Time{} }, "CreDtTm"},
		{"bad sequence number", func(_ *Header, r []*Report, _ [][]*Entry) { r[0].LegalSeqNb = "4a" }, "LglSeqNb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr, reps, entries := sample()
			tc.modify(&hdr, reps, entries)
			_, err := write(t, hdr, reps, entries)
			if !errors.Is(err, formats.ErrInvalid) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("got %v; want ErrInvalid containing %q", err, tc.text)
			}
		})
	}
	if err := NewWriter(io.Discard).Entry(&Entry{}); !errors.Is(err, formats.ErrInvalid) {
		t.Errorf("Entry before Header: got %v; want ErrInvalid", err)
	}
}

func TestV02(t *testing.T) {
	if m, ok := formats.Lookup(V02.Namespace); !ok || m != V02 || m.String() != "camt.054.001.02" {
		t.Errorf("got %v, %v; want %v", m, ok, V02)
	}
}

// TestChargesV08 reads charges in the camt.054.001.08 shape (Charges6: a
// total and records) at entry and transaction level.
func TestChargesV08(t *testing.T) {
	xsdtest.Validate(t, xsdtest.Schema(t, "camt.054.001.08.xsd"), "testdata/charges.v08.xml")
	f, err := os.Open("testdata/charges.v08.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := dumpAll(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `camt.054.001.08 CHG-08 2026-12-03T07:00:00+01:00
report CHG-08-1|2026-12-03T07:00:00+01:00|seq=-/-|COPY|othr:86011117947/BBAN NOK
ntry -|1075.00 NOK DBIT|BOOK|prtry=-|bookg=2026-12-03|val=2026-12-03T10:30:00+01:00|ref=DNB-2026-12-03-0001|btc=PMNT/ICDT/XBCT|amtdtls=-|addtl=""
  chrgs total=75.00 NOK
    chrg 50.00 NOK DBIT incl=true tp=COMM/- br=DEBT ttl=-
    chrg 25.00 NOK DBIT incl=false tp=-/UTLANDSGEBYR br=SHAR ttl=-
  dtls
    tx msg=RFD-B2026-0050-EEEEEEEE,pmtinf=RFD-B2026-0050-EEEEEEEE-2,e2e=CN-10050-DDDDDDDD,uetr=3f2b9c1e-5d7a-4e8b-9c0d-1a2b3c4d5e6f|1000.00 NOK DBIT|amtdtls=instd=85.00 EUR tx=1000.00 NOK cntrval=-|btc=-|addtl=""
      chrgs total=75.00 NOK
        chrg 75.00 NOK - incl=- tp=-/- br=DEBT ttl=-
      pties dbtr=-@- cdtr=Jürgen Müller@DE89370400440532013000
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
