package reply

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"refundd/internal/testutil"

	"refundd/daemon/refund"
	"refundd/formats"
	"refundd/formats/camt054"
)

// TestBankEntryOf: every field of a camt entry that matching and posting
// use, and the entries that cannot be booked.
func TestBankEntryOf(t *testing.T) {
	nok := func(minor int64) refund.Amount { return refund.Amount{Minor: minor, Currency: "NOK"} }
	yes, no := true, false
	ours := &camt054.Report{ID: "N1", Account: camt054.Account{IBAN: "NO9386011117947"}}
	base := func() camt054.Entry {
		return camt054.Entry{
			Report: ours, Ref: "NTRY-1", Amount: testutil.Dec(t, "1500.00", "NOK"), CreditDebit: camt054.Debit, Status: camt054.Booked,
			BookingDate: testutil.Day(3),
			ValueDate:   formats.DateTime{Time: time.Date(2026, 12, 3, 23, 30, 0, 0, time.FixedZone("", 3600)), HasTime: true},
			AcctSvcrRef: "REF-1",
			BankTxCode:  camt054.BankTxCode{Domain: "PMNT", Family: "ICDT", SubFamily: "DMCT", Proprietary: "Z24"},
			Details: []camt054.Details{{Transactions: []camt054.Transaction{{
				Refs:          camt054.Refs{MsgID: "M", PmtInfID: "P", InstrID: "I", EndToEndID: "E", AcctSvcrRef: "TXREF"},
				AmountDetails: camt054.AmountDetails{Instructed: testutil.Dec(t, "1500.00", "NOK"), Transaction: testutil.Dec(t, "1500.00", "NOK")},
				Parties: camt054.Parties{
					DebtorAccount:   camt054.Account{IBAN: "NO9386011117947"},
					CreditorAccount: camt054.Account{Other: "12345678903", Scheme: "BBAN"},
				},
				Remittance: camt054.Remittance{Unstructured: []string{"Refusjon", "SO-5001"}},
			}}}},
		}
	}
	baseWant := func() refund.BankEntry {
		return refund.BankEntry{
			Position: "POS", Account: "NO9386011117947", Amount: nok(150000), Direction: refund.Debit, Status: refund.EntryBooked,
			BookingDate: refund.NewDate(2026, 12, 3), ValueDate: refund.NewDate(2026, 12, 3),
			AcctSvcrRef: "REF-1", EntryRef: "NTRY-1",
			Code: refund.BankTxCode{Domain: "PMNT", Family: "ICDT", SubFamily: "DMCT"},
			Txs: []refund.BankTx{{
				EndToEndID: "E", InstrID: "I", MsgID: "M", PmtInfID: "P", AcctSvcrRef: "TXREF",
				Amount: nok(150000), InstructedAmount: nok(150000), Counterparty: "12345678903", Remittance: "Refusjon SO-5001",
			}},
		}
	}
	tx0 := func(e *camt054.Entry) *camt054.Transaction { return &e.Details[0].Transactions[0] }

	for _, tc := range []struct {
		name string
		mod  func(*camt054.Entry)
		want func(*refund.BankEntry) // nil: want an error
		err  string
	}{
		{"a booked debit", func(*camt054.Entry) {}, func(*refund.BankEntry) {}, ""},
		{"pending", func(e *camt054.Entry) { e.Status = camt054.Pending }, func(b *refund.BankEntry) { b.Status = refund.EntryPending }, ""},
		{"information", func(e *camt054.Entry) { e.Status = camt054.Info }, func(b *refund.BankEntry) { b.Status = refund.EntryInfo }, ""},
		{"a proprietary status is never BOOK", func(e *camt054.Entry) { e.Status, e.StatusProprietary = "", "BOOK" },
			func(b *refund.BankEntry) { b.Status = "Prtry:BOOK" }, ""},
		{"the amount of a currency without decimals", func(e *camt054.Entry) {
			e.Amount = testutil.Dec(t, "1500", "JPY")
			tx0(e).AmountDetails = camt054.AmountDetails{Instructed: testutil.Dec(t, "1500", "JPY"), Transaction: testutil.Dec(t, "1500.0", "JPY")}
		}, func(b *refund.BankEntry) {
			jpy := refund.Amount{Minor: 1500, Currency: "JPY"}
			b.Amount, b.Txs[0].Amount, b.Txs[0].InstructedAmount = jpy, jpy, jpy
		}, ""},
		{"trailing zeros are not more precision", func(e *camt054.Entry) { e.Amount = testutil.Dec(t, "1500.000", "NOK") }, func(*refund.BankEntry) {}, ""},
		{"more decimals than the currency has", func(e *camt054.Entry) { e.Amount = testutil.Dec(t, "1500.005", "NOK") }, nil,
			"Amt 1500.005 NOK: more decimals than NOK has (2); not rounded"},
		{"decimals in a currency without", func(e *camt054.Entry) { tx0(e).AmountDetails.Instructed = testutil.Dec(t, "1500.5", "JPY") }, nil,
			"TxDtls[0]/AmtDtls/InstdAmt 1500.5 JPY: more decimals than JPY has (0)"},
		{"unknown currency", func(e *camt054.Entry) { e.Amount = testutil.Dec(t, "1500.00", "XXX") }, nil, `unknown currency "XXX"`},
		{"too large", func(e *camt054.Entry) { e.Amount = testutil.Dec(t, "99999999999999999", "NOK") }, nil, "too large"},
		{"a return: the payee is the debtor; return info; reversal", func(e *camt054.Entry) {
			e.CreditDebit, e.Reversal = camt054.Credit, true
			e.BankTxCode.SubFamily = "RRTN"
			tx0(e).Parties = camt054.Parties{DebtorAccount: camt054.Account{Other: "12345678903"}, CreditorAccount: camt054.Account{IBAN: "NO9386011117947"}}
			tx0(e).Return = &camt054.Return{Reason: "AC04", AdditionalInfo: []string{"Konto", "avsluttet"}}
		}, func(b *refund.BankEntry) {
			b.Direction, b.Reversal, b.Code.SubFamily = refund.Credit, true, "RRTN"
			b.Txs[0].Return = &refund.ReturnInfo{Reason: "AC04", Info: "Konto avsluttet"}
		}, ""},
		{"a return that repeats the original parties: the payee is the creditor", func(e *camt054.Entry) {
			e.CreditDebit = camt054.Credit
			tx0(e).Return = &camt054.Return{ReasonProprietary: "X1"}
		}, func(b *refund.BankEntry) {
			b.Direction = refund.Credit
			b.Txs[0].Return = &refund.ReturnInfo{Reason: "X1"}
		}, ""},
		{"a return without the payee's account", func(e *camt054.Entry) {
			e.CreditDebit = camt054.Credit
			tx0(e).Parties = camt054.Parties{DebtorAccount: camt054.Account{IBAN: "NO9386011117947"}}
		}, func(b *refund.BankEntry) { b.Direction, b.Txs[0].Counterparty = refund.Credit, "" }, ""},
		{"a transaction of the other direction", func(e *camt054.Entry) { tx0(e).CreditDebit = camt054.Credit }, nil, "TxDtls[0] is CRDT in a DBIT entry"},
		{"TxDtls/Amt before AmtDtls", func(e *camt054.Entry) { tx0(e).Amount = testutil.Dec(t, "1400.00", "NOK") },
			func(b *refund.BankEntry) { b.Txs[0].Amount = nok(140000) }, ""},
		{"AmtDtls/TxAmt in another currency than the entry is not the booked amount", func(e *camt054.Entry) {
			tx0(e).AmountDetails = camt054.AmountDetails{Instructed: testutil.Dec(t, "130.00", "EUR"), Transaction: testutil.Dec(t, "130.00", "EUR"), CounterValue: testutil.Dec(t, "1500.00", "NOK")}
		}, func(b *refund.BankEntry) {
			b.Txs[0].Amount, b.Txs[0].InstructedAmount = nok(150000), refund.Amount{Minor: 13000, Currency: "EUR"}
		}, ""},
		{"charges: ours, the payee's left out, zero left out, included", func(e *camt054.Entry) {
			tx0(e).Charges = camt054.Charges{Records: []camt054.Charge{
				{Amount: testutil.Dec(t, "25.00", "NOK"), Bearer: "DEBT", Included: &yes},
				{Amount: testutil.Dec(t, "30.00", "NOK"), Bearer: "CRED"},
				{Amount: testutil.Dec(t, "5.00", "NOK"), Bearer: "SHAR", Included: &no},
				{Amount: testutil.Dec(t, "0.00", "NOK")},
				{Amount: testutil.Dec(t, "2.00", "NOK"), CreditDebit: camt054.Debit},
			}}
		}, func(b *refund.BankEntry) {
			b.Txs[0].Charges = []refund.Charge{{Amount: nok(2500), Included: true}, {Amount: nok(500)}, {Amount: nok(200)}}
		}, ""},
		{"a charges total without records", func(e *camt054.Entry) { e.Charges = camt054.Charges{Total: testutil.Dec(t, "7.50", "NOK")} },
			func(b *refund.BankEntry) { b.Charges = []refund.Charge{{Amount: nok(750)}} }, ""},
		{"the entry's charges as the total of its transactions': posted once", func(e *camt054.Entry) {
			e.Charges = camt054.Charges{Total: testutil.Dec(t, "75.00", "NOK"), Records: []camt054.Charge{
				{Amount: testutil.Dec(t, "50.00", "NOK"), Bearer: "DEBT", Included: &yes}, {Amount: testutil.Dec(t, "25.00", "NOK"), Bearer: "SHAR"}}}
			tx0(e).Charges = camt054.Charges{Records: []camt054.Charge{{Amount: testutil.Dec(t, "75.00", "NOK"), Bearer: "DEBT"}}}
		}, func(b *refund.BankEntry) { b.Txs[0].Charges = []refund.Charge{{Amount: nok(7500)}} }, ""},
		{"the entry's charges disagree with its transactions'", func(e *camt054.Entry) {
			e.Charges = camt054.Charges{Records: []camt054.Charge{{Amount: testutil.Dec(t, "50.00", "NOK")}}}
			tx0(e).Charges = camt054.Charges{Records: []camt054.Charge{{Amount: testutil.Dec(t, "75.00", "NOK")}}}
		}, nil, "the entry's charges (50.00 NOK) are not the sum of its transactions' charges (75.00 NOK)"},
		{"a fee credited", func(e *camt054.Entry) {
			e.Charges = camt054.Charges{Records: []camt054.Charge{{Amount: testutil.Dec(t, "5.00", "NOK"), CreditDebit: camt054.Credit}}}
		}, nil, "credited to the account"},
		{"a charge with too many decimals", func(e *camt054.Entry) {
			tx0(e).Charges = camt054.Charges{Records: []camt054.Charge{{Amount: testutil.Dec(t, "5.001", "NOK")}}}
		}, nil, "TxDtls[0]/Chrgs[0] 5.001 NOK: more decimals"},
		{"a batch booking", func(e *camt054.Entry) {
			e.Details[0].Batch = &camt054.Batch{MsgID: "M", PmtInfID: "P", NbOfTxs: 1, Total: testutil.Dec(t, "1500.00", "NOK")}
		}, func(b *refund.BankEntry) {
			b.Batch = refund.BatchRef{MsgID: "M", PmtInfID: "P", NbOfTxs: 1, Total: nok(150000)}
		}, ""},
		{"two blocks in one entry: no batch rule", func(e *camt054.Entry) {
			e.Details[0].Batch = &camt054.Batch{MsgID: "M", PmtInfID: "P"}
			e.Details = append(e.Details, camt054.Details{Batch: &camt054.Batch{MsgID: "M", PmtInfID: "Q"}})
		}, func(*refund.BankEntry) {}, ""},
		{"a batch without the block's ids", func(e *camt054.Entry) { e.Details[0].Batch = &camt054.Batch{NbOfTxs: 1} },
			func(*refund.BankEntry) {}, ""},
		{"only a proprietary code: the transactions' shared code", func(e *camt054.Entry) {
			e.BankTxCode = camt054.BankTxCode{Proprietary: "RET"}
			tx0(e).BankTxCode = camt054.BankTxCode{Domain: "PMNT", Family: "ICDT", SubFamily: "RRTN"}
		}, func(b *refund.BankEntry) { b.Code.SubFamily = "RRTN" }, ""},
		{"no transaction details", func(e *camt054.Entry) { e.Details = nil }, func(b *refund.BankEntry) { b.Txs = nil }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := base()
			tc.mod(&e)
			got, err := BankEntryOf(&e, "POS")
			if tc.want == nil {
				if !errors.Is(err, ErrBadEntry) || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "POS") {
					t.Fatalf("got %v; want ErrBadEntry with %q", err, tc.err)
				}
				if got.AcctSvcrRef != "REF-1" || got.Position != "POS" || got.Txs != nil {
					t.Errorf("the entry of an error lacks its references or has transactions: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := baseWant()
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got\n  %+v\nwant\n  %+v", got, want)
			}
		})
	}
}

// TestBankEntryOfSamples maps every entry of the shared camt.054 and
// camt.053 samples: amounts exact, statuses read from both shapes (.02 and
// .08), returns with their reason and the payee as counterparty.
func TestBankEntryOfSamples(t *testing.T) {
	for _, kind := range []string{"camt.054", "camt.053"} {
		for _, path := range testutil.Samples(t, kind) {
			t.Run(filepath.Base(path), func(t *testing.T) {
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				rd, err := camt054.NewReader(f, formats.Options{})
				if err != nil {
					t.Fatal(err)
				}
				for n := 1; ; n++ {
					e, err := rd.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					b, err := BankEntryOf(e, "P")
					if strings.HasPrefix(filepath.Base(path), "genkgo-v08") {
						// Its transactions are CRDT in a DBIT entry.
						if !errors.Is(err, ErrBadEntry) {
							t.Errorf("entry %d: got %v; want ErrBadEntry", n, err)
						}
						continue
					}
					if err != nil {
						t.Fatalf("entry %d: %v", n, err)
					}
					if b.Status != refund.EntryBooked || b.Amount.Minor <= 0 || b.BookingDate.IsZero() || b.Account == "" {
						t.Errorf("entry %d: %+v", n, b)
					}
					if want := refund.Direction(e.CreditDebit); b.Direction != want {
						t.Errorf("entry %d: direction %s; want %s", n, b.Direction, want)
					}
				}
			})
		}
	}

	// The return of a credit transfer.
	var ret refund.BankEntry
	for _, path := range testutil.Samples(t, "camt.054") {
		if filepath.Base(path) != "postfinance-v08-credit-return-RtrInf-AC01-single-booking.xml" {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rd, err := camt054.NewReader(f, formats.Options{})
		if err != nil {
			t.Fatal(err)
		}
		e, err := rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ret, err = BankEntryOf(e, "P"); err != nil {
			t.Fatal(err)
		}
	}
	want := refund.BankTx{
		EndToEndID: "EndToEndId-001-03-04", InstrID: "InstrId-001-03-04", PmtInfID: "PmtInfId-001-03", AcctSvcrRef: "190520CH02ZZTJR1",
		Amount: refund.Amount{Minor: 50000, Currency: "CHF"}, Counterparty: "CH8709000000929471495",
		Return: &refund.ReturnInfo{Reason: "AC01", Info: "Kontonummer falsch"}, Remittance: "Kontouebertrag",
	}
	if len(ret.Txs) != 1 || !reflect.DeepEqual(ret.Txs[0], want) || ret.Direction != refund.Credit || !ret.Reversal || !ret.Code.IsReturn() {
		t.Errorf("return sample: %+v\nwant transaction %+v", ret, want)
	}
}
