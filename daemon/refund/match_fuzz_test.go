package refund

import (
	"testing"
)

// FuzzMatch builds bank entries from the fuzzer's choices against the
// fixtures and checks what must hold for any entry: every transaction is
// accounted for exactly once, Apply accounts for every outcome, and every
// voucher balances.
func FuzzMatch(f *testing.F) {
	f.Add(uint8(0), uint8(0), int64(150000), uint8(1), uint8(1), int64(0), uint8(0))
	f.Add(uint8(1), uint8(0), int64(90000), uint8(7), uint8(1), int64(100), uint8(3))
	f.Add(uint8(2), uint8(0), int64(175050), uint8(0), uint8(0), int64(500), uint8(1))
	f.Add(uint8(4), uint8(1), int64(33300), uint8(9), uint8(2), int64(-1), uint8(2))
	f.Add(uint8(8), uint8(2), int64(-5), uint8(3), uint8(5), int64(MaxMinor+1), uint8(4))
	f.Fuzz(func(t *testing.T, flags, status uint8, amount int64, ref, ntx uint8, charge int64, shape uint8) {
		refs := fixtures().refunds
		e := BankEntry{
			Position: "Ntry[1]", Account: ourAccount, Direction: Debit, Status: EntryBooked,
			BookingDate: day1, ValueDate: day1, AcctSvcrRef: "REF", Amount: nok(amount),
		}
		if flags&1 != 0 {
			e.Direction = Credit
		}
		if flags&2 != 0 {
			e.Batch = BatchRef{MsgID: msgB1, PmtInfID: pmtB1}
		}
		if flags&4 != 0 {
			e.Reversal = true
		}
		if flags&8 != 0 {
			e.Charges = []Charge{{Amount: nok(charge), Included: flags&16 != 0}}
		}
		e.Status = []EntryStatus{EntryBooked, EntryPending, EntryInfo, ""}[status%4]
		for i := range int(ntx % 6) {
			s := refs[(int(ref)+i)%len(refs)]
			tx := BankTx{Amount: nok(amount / int64(i+1))}
			switch (int(shape) + i) % 5 {
			case 0:
				tx.EndToEndID = s.EndToEndID
			case 1:
				tx.InstrID = s.InstrID
			case 2:
				tx.Counterparty = s.CreditorAccount
			case 3:
				tx.EndToEndID, tx.Return = s.EndToEndID, &ReturnInfo{Reason: "AC04"}
				tx.Charges = []Charge{{Amount: nok(charge), Included: true}}
			case 4:
				tx.Amount = Amount{}
			}
			e.Txs = append(e.Txs, tx)
		}
		outs, err := Match(e, fixtures())
		if err != nil {
			t.Fatal(err)
		}
		checkAccounted(t, e, outs)
		a, err := Apply(outs, func(Key) (bool, error) { return false, nil }, testLedger)
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		if n := len(a.Posted) + len(a.Exceptions) + len(a.NotBooked) + len(a.Duplicates); n != len(outs) {
			t.Fatalf("Apply accounted for %d of %d outcomes", n, len(outs))
		}
		balance(t, a.Vouchers)
		if e.Status != EntryBooked && len(a.Posted) != 0 {
			t.Fatalf("an entry with status %q posted %d vouchers", e.Status, len(a.Posted))
		}
	})
}
