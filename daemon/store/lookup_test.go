package store

import (
	"context"
	"errors"
	"slices"
	"testing"

	"refundd/daemon/refund"
)

var _ refund.Seen = Lookup{}.Seen

func TestLookup(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	b, rs := newBatch("L1", 0, 4)
	rs[0].CreditorAccount = "NO93 8601 1117 947" // an IBAN of a Norwegian account
	rs[1].Amount.Minor = rs[0].Amount.Minor
	rs[1].CreditorAccount = "8601.11.17947" // the same account, written another way
	rs[2].Amount.Minor = rs[0].Amount.Minor
	rs[2].CreditorAccount = "12345678903" // the same amount to someone else
	rs[3].PmtInfID = refund.PmtInfID(b.MsgID, 2)
	rs[3].InstrID = "INSTR-4"
	rs[3].Amount = refund.Amount{Minor: 10000, Currency: "EUR"}
	rs[3].BaseAmount = refund.Amount{Minor: 112050, Currency: "NOK"}
	mustCreate(t, s, b, rs)
	mustSetBatch(t, s, b.MsgID, BatchSent)
	l := s.Lookup(ctx)

	got, ok, err := l.ByEndToEndID(rs[1].EndToEndID)
	if err != nil || !ok || got.EndToEndID != rs[1].EndToEndID || got.RefNbr != "L1-2" || got.Batch != "L1" ||
		got.MsgID != b.MsgID || got.Status != refund.StatusSent || got.ExecutionDate != execDay ||
		got.DebtorLedgerAccount != ledgerAcct || got.Amount != rs[1].Amount {
		t.Errorf("ByEndToEndID() = %+v, %v, %v", got, ok, err)
	}
	if _, ok, err := l.ByEndToEndID("CN-NONE"); ok || err != nil {
		t.Errorf("ByEndToEndID(unknown) = %v, %v; want not found, no error", ok, err)
	}
	if _, ok, err := l.ByEndToEndID(""); ok || err != nil {
		t.Errorf("ByEndToEndID(\"\") = %v, %v; want not found, no error", ok, err)
	}
	if got, ok, err := l.ByInstrID("INSTR-4"); err != nil || !ok || got.EndToEndID != rs[3].EndToEndID ||
		got.Amount != rs[3].Amount || got.BaseAmount != rs[3].BaseAmount {
		t.Errorf("ByInstrID() = %+v, %v, %v", got, ok, err)
	}
	if _, ok, err := l.ByInstrID("INSTR-NONE"); ok || err != nil {
		t.Errorf("ByInstrID(unknown) = %v, %v; want not found", ok, err)
	}

	e2es := func(ss []refund.Sent) []string {
		var ids []string
		for _, s := range ss {
			ids = append(ids, s.EndToEndID)
		}
		return ids
	}
	block1, err := l.ByBatch(b.MsgID, rs[0].PmtInfID)
	if want := []string{rs[0].EndToEndID, rs[1].EndToEndID, rs[2].EndToEndID}; err != nil || !slices.Equal(e2es(block1), want) {
		t.Errorf("ByBatch(block 1) = %v, %v; want %v", e2es(block1), err, want)
	}
	if none, err := l.ByBatch(b.MsgID, "NONE"); err != nil || len(none) != 0 {
		t.Errorf("ByBatch(unknown block) = %v, %v; want none", none, err)
	}
	all, err := l.ByMsgID(b.MsgID)
	if want := []string{rs[0].EndToEndID, rs[1].EndToEndID, rs[2].EndToEndID, rs[3].EndToEndID}; err != nil || !slices.Equal(e2es(all), want) {
		t.Errorf("ByMsgID() = %v, %v; want %v", e2es(all), err, want)
	}
	if none, err := l.ByMsgID("RFD-NONE"); err != nil || len(none) != 0 {
		t.Errorf("ByMsgID(unknown) = %v, %v; want none", none, err)
	}

	tests := []struct {
		name    string
		amount  refund.Amount
		date    refund.Date
		account string
		want    []string
	}{
		{"one account, two spellings", rs[0].Amount, execDay, refund.AccountKey("86011117947"), []string{rs[0].EndToEndID, rs[1].EndToEndID}},
		{"another payee", rs[0].Amount, execDay, "12345678903", []string{rs[2].EndToEndID}},
		{"a raw account is keyed too", rs[0].Amount, execDay, "NO9386011117947", []string{rs[0].EndToEndID, rs[1].EndToEndID}},
		{"another day", rs[0].Amount, execDay.AddDays(1), "12345678903", nil},
		{"another currency", refund.Amount{Minor: rs[0].Amount.Minor, Currency: "SEK"}, execDay, "12345678903", nil},
		{"another amount", refund.Amount{Minor: 1, Currency: "NOK"}, execDay, "12345678903", nil},
	}
	for _, tc := range tests {
		got, err := l.ByAmountDate(tc.amount, tc.date, tc.account)
		if err != nil || !slices.Equal(e2es(got), tc.want) {
			t.Errorf("%s: ByAmountDate() = %v, %v; want %v", tc.name, e2es(got), err, tc.want)
		}
	}

	// A lookup made with a context that ends fails, so Match stops rather
	// than taking "not found" for an answer.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.Lookup(cctx).ByEndToEndID(rs[0].EndToEndID); !errors.Is(err, context.Canceled) {
		t.Errorf("ByEndToEndID(canceled) = %v; want context.Canceled", err)
	}
	if _, err := s.Lookup(cctx).Seen(key("E", "T")); !errors.Is(err, context.Canceled) {
		t.Errorf("Seen(canceled) = %v; want context.Canceled", err)
	}
}
