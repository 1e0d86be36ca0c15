package refund

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The fixtures of the matching tests: our account, a block of three
// refunds (one rejected by the bank), and refunds in every status.
const (
	ourAccount = "86011117947"
	ourIBAN    = "NO9386011117947" // the same account as an IBAN
	msgB1      = "RFD-B1-ABCDEFGH"
	pmtB1      = "RFD-B1-ABCDEFGH-1"
	msgB2      = "RFD-B2-IJKLMNOP"
	pmtB2      = "RFD-B2-IJKLMNOP-1"
)

var (
	day1 = NewDate(2026, time.December, 7)
	day2 = NewDate(2026, time.December, 8)
)

func nok(minor int64) Amount { return Amount{Minor: minor, Currency: "NOK"} }
func eur(minor int64) Amount { return Amount{Minor: minor, Currency: "EUR"} }

// sent returns a refund sent from our account on day1, status sent.
func sent(ref string, a Amount, creditor string) Sent {
	return Sent{
		RefNbr: ref, Batch: "B9", CustomerID: "C" + ref,
		MsgID: "RFD-B9-QRSTUVWX", PmtInfID: "RFD-B9-QRSTUVWX-1",
		EndToEndID: "CN-" + ref + "-E2E", InstrID: "I-" + ref,
		Amount: a, ExecutionDate: day1, CreditorAccount: creditor,
		DebtorAccount: ourAccount, DebtorLedgerAccount: "1920", Status: StatusSent,
	}
}

func inBlock(s Sent, batch, msg, pmt string) Sent {
	s.Batch, s.MsgID, s.PmtInfID = batch, msg, pmt
	return s
}

func withStatus(s Sent, st Status) Sent { s.Status = st; return s }

func fixtures() *memLookup {
	return &memLookup{refunds: []Sent{
		inBlock(sent("1001", nok(150000), "12345678903"), "B1", msgB1, pmtB1),
		inBlock(sent("1002", nok(25050), "NO8330001234567"), "B1", msgB1, pmtB1),
		inBlock(withStatus(sent("1004", nok(9900), "11112222333"), StatusRejected), "B1", msgB1, pmtB1),
		sent("1003", nok(25050), "99998888777"),
		withStatus(sent("1005", nok(70000), "12121212121"), StatusBooked),
		withStatus(sent("1006", nok(80000), "13131313131"), StatusReturned),
		withStatus(sent("1007", nok(90000), "14141414141"), StatusBooked),
		sent("1008", nok(33300), "15151515151"),
		sent("1009", nok(33300), "15151515151"), // same amount, day and payee as 1008
		inBlock(sent("1010", nok(10000), "16161616161"), "B2", msgB2, pmtB2),
		inBlock(sent("1011", nok(10000), "17171717171"), "B2", msgB2, pmtB2),
		sent("1012", eur(10000), "DE89370400440532013000"),
		withStatus(sent("1013", nok(5000), "18181818181"), StatusNew),
		inBlock(withStatus(sent("1014", nok(5000), "19191919191"), StatusRejected), "B3", "RFD-B3-X", "RFD-B3-X-1"),
	}}
}

// debit returns a booked debit entry on our account with the given
// transactions; its amount is the sum of theirs.
func debit(txs ...BankTx) BankEntry {
	e := BankEntry{
		Position: "Ntry[1]", Account: ourAccount, Direction: Debit, Status: EntryBooked,
		BookingDate: day1, ValueDate: day1, AcctSvcrRef: "BANKREF1",
		Code: BankTxCode{"PMNT", "ICDT", "DMCT"}, Txs: txs,
	}
	e.Amount = Amount{Currency: "NOK"}
	for _, t := range txs {
		e.Amount.Minor += t.Amount.Minor
	}
	return e
}

// credit returns a booked credit entry with the given transactions.
func credit(txs ...BankTx) BankEntry {
	e := debit(txs...)
	e.Direction, e.AcctSvcrRef, e.BookingDate, e.ValueDate = Credit, "BANKREF2", day2, day2
	e.Code = BankTxCode{"PMNT", "RCDT", "DMCT"}
	return e
}

func byE2E(ref string, a Amount) BankTx { return BankTx{EndToEndID: "CN-" + ref + "-E2E", Amount: a} }

func returned(t BankTx) BankTx {
	t.Return = &ReturnInfo{Reason: "AC04", Info: "konto lukket"}
	return t
}

// want is the expected outcome, in short.
type want struct {
	kind   Kind
	rule   Rule
	reason Reason
	ref    string // RefNbr of the refund, "" for none
}

func (w want) String() string { return fmt.Sprintf("%s/%s/%s/%s", w.kind, w.rule, w.reason, w.ref) }

func short(o Outcome) want { return want{o.Kind, o.Rule, o.Reason, o.Refund.RefNbr} }

func paid(rule Rule, ref string) want { return want{KindPayment, rule, "", ref} }
func exc(rule Rule, r Reason, ref string) want {
	return want{KindException, rule, r, ref}
}

func TestMatch(t *testing.T) {
	mod := func(e BankEntry, f func(*BankEntry)) BankEntry { f(&e); return e }
	block1 := BatchRef{MsgID: msgB1, PmtInfID: pmtB1, NbOfTxs: 2, Total: nok(175050)}
	tests := []struct {
		name  string
		entry BankEntry
		want  []want
	}{
		// Rule 1.
		{"EndToEndId", debit(byE2E("1001", nok(150000))), []want{paid(RuleEndToEndID, "1001")}},
		{"EndToEndId, entry in IBAN form", mod(debit(byE2E("1001", nok(150000))), func(e *BankEntry) { e.Account = ourIBAN }),
			[]want{paid(RuleEndToEndID, "1001")}},
		{"EndToEndId, amount only on the entry", mod(debit(byE2E("1001", nok(150000))), func(e *BankEntry) { e.Txs[0].Amount = Amount{} }),
			[]want{paid(RuleEndToEndID, "1001")}},
		{"EndToEndId before InstrId", debit(BankTx{EndToEndID: "CN-1001-E2E", InstrID: "I-1002", Amount: nok(150000)}),
			[]want{paid(RuleEndToEndID, "1001")}},
		// Rule 2.
		{"InstrId, EndToEndId NOTPROVIDED", debit(BankTx{EndToEndID: "NOTPROVIDED", InstrID: "I-1001", Amount: nok(150000)}),
			[]want{paid(RuleInstrID, "1001")}},
		{"InstrId, EndToEndId unknown", debit(BankTx{EndToEndID: "SOMEONE-ELSES", InstrID: "I-1001", Amount: nok(150000)}),
			[]want{paid(RuleInstrID, "1001")}},
		// Rule 3.
		{"Batch without details", mod(debit(), func(e *BankEntry) { e.Amount, e.Batch = nok(175050), block1 }),
			[]want{paid(RuleBatch, "1001"), paid(RuleBatch, "1002")}},
		{"Batch without total or count", mod(debit(), func(e *BankEntry) { e.Amount, e.Batch = nok(175050), BatchRef{MsgID: msgB1, PmtInfID: pmtB1} }),
			[]want{paid(RuleBatch, "1001"), paid(RuleBatch, "1002")}},
		{"Batch, details without references",
			mod(debit(BankTx{Amount: nok(25050), Counterparty: "NO83 3000 1234 567"}, BankTx{Amount: nok(150000)}), func(e *BankEntry) { e.Batch = block1 }),
			[]want{paid(RuleBatch, "1002"), paid(RuleBatch, "1001")}},
		{"Batch, details with and without references",
			mod(debit(BankTx{Amount: nok(25050)}, byE2E("1001", nok(150000))), func(e *BankEntry) { e.Batch = block1 }),
			[]want{paid(RuleBatch, "1002"), paid(RuleEndToEndID, "1001")}},
		{"batch total differs", mod(debit(), func(e *BankEntry) {
			e.Amount, e.Batch = nok(184950), BatchRef{MsgID: msgB1, PmtInfID: pmtB1, Total: nok(184950)} // 1004 was rejected
		}), []want{exc(RuleBatch, ReasonBatchTotal, "")}},
		{"batch total differs from the entry", mod(debit(), func(e *BankEntry) { e.Amount, e.Batch = nok(175000), block1 }),
			[]want{exc(RuleBatch, ReasonBatchTotal, "")}},
		{"batch count differs", mod(debit(), func(e *BankEntry) { e.Amount, e.Batch = nok(175050), block1; e.Batch.NbOfTxs = 3 }),
			[]want{exc(RuleBatch, ReasonBatchTotal, "")}},
		{"batch total differs, details",
			mod(debit(BankTx{Amount: nok(25050)}, byE2E("1001", nok(150000))), func(e *BankEntry) { e.Batch = block1; e.Batch.Total = nok(1) }),
			[]want{exc(RuleBatch, ReasonBatchTotal, ""), paid(RuleEndToEndID, "1001")}},
		{"batch of rejected refunds only", mod(debit(), func(e *BankEntry) { e.Amount, e.Batch = nok(5000), BatchRef{MsgID: "RFD-B3-X", PmtInfID: "RFD-B3-X-1"} }),
			[]want{exc(RuleBatch, ReasonBatchTotal, "")}},
		{"batch unknown, no details", mod(debit(), func(e *BankEntry) { e.Amount, e.Batch = nok(175050), BatchRef{MsgID: "X", PmtInfID: "Y"} }),
			[]want{exc("", ReasonNoMatch, "")}},
		{"batch ambiguous", mod(debit(BankTx{Amount: nok(10000)}, BankTx{Amount: nok(10000)}), func(e *BankEntry) { e.Batch = BatchRef{MsgID: msgB2, PmtInfID: pmtB2} }),
			[]want{exc(RuleBatch, ReasonAmbiguous, ""), exc(RuleBatch, ReasonAmbiguous, "")}},
		{"batch told apart by counterparty",
			mod(debit(BankTx{Amount: nok(10000), Counterparty: "17171717171"}, BankTx{Amount: nok(10000), Counterparty: "16161616161"}), func(e *BankEntry) { e.Batch = BatchRef{MsgID: msgB2, PmtInfID: pmtB2} }),
			[]want{paid(RuleBatch, "1011"), paid(RuleBatch, "1010")}},
		{"batch known, transaction not in it, falls through to rule 4",
			mod(debit(BankTx{Amount: nok(25050), Counterparty: "99998888777"}), func(e *BankEntry) { e.Batch = BatchRef{MsgID: msgB2, PmtInfID: pmtB2, Total: nok(20000)} }),
			[]want{paid(RuleAmountDateAccount, "1003")}},
		// Rule 4.
		{"AmountDateAccount", debit(BankTx{Amount: nok(25050), Counterparty: "9999.88.88777"}), []want{paid(RuleAmountDateAccount, "1003")}},
		{"AmountDateAccount on the value date", mod(debit(BankTx{Amount: nok(25050), Counterparty: "99998888777"}), func(e *BankEntry) { e.BookingDate = day2 }),
			[]want{paid(RuleAmountDateAccount, "1003")}},
		{"AmountDateAccount, IBAN counterparty", debit(BankTx{Amount: nok(25050), Counterparty: "NO8330001234567"}), []want{paid(RuleAmountDateAccount, "1002")}},
		{"ambiguous", debit(BankTx{Amount: nok(33300), Counterparty: "15151515151"}), []want{exc(RuleAmountDateAccount, ReasonAmbiguous, "")}},
		{"wrong date", mod(debit(BankTx{Amount: nok(25050), Counterparty: "99998888777"}), func(e *BankEntry) { e.BookingDate, e.ValueDate = day2, day2 }),
			[]want{exc("", ReasonNoMatch, "")}},
		// No match.
		{"no match, unknown references", debit(BankTx{EndToEndID: "SOMEONE-ELSES", Amount: nok(150000)}), []want{exc("", ReasonNoMatch, "")}},
		{"no match, unknown references are not matched by amount",
			debit(BankTx{EndToEndID: "SOMEONE-ELSES", Amount: nok(25050), Counterparty: "99998888777"}), []want{exc("", ReasonNoMatch, "")}},
		{"no match, nothing to match by", debit(BankTx{Amount: nok(25050)}), []want{exc("", ReasonNoMatch, "")}},
		{"no match, no details", mod(debit(), func(e *BankEntry) { e.Amount = nok(100) }), []want{exc("", ReasonNoMatch, "")}},
		// Disagreements.
		{"amount differs", debit(byE2E("1001", nok(149900))), []want{exc(RuleEndToEndID, ReasonAmountDiffers, "1001")}},
		{"amount differs, InstrId", debit(BankTx{InstrID: "I-1001", Amount: nok(150001)}), []want{exc(RuleInstrID, ReasonAmountDiffers, "1001")}},
		{"amount missing", mod(debit(byE2E("1001", Amount{}), byE2E("1002", nok(25050))), func(e *BankEntry) { e.Amount = nok(175050) }),
			[]want{exc(RuleEndToEndID, ReasonAmountDiffers, "1001"), paid(RuleEndToEndID, "1002")}},
		{"currency differs", mod(debit(byE2E("1001", eur(150000))), func(e *BankEntry) { e.Amount = eur(150000) }),
			[]want{exc(RuleEndToEndID, ReasonCurrencyDiffers, "1001")}},
		{"currency differs, no instructed amount", debit(byE2E("1012", nok(115000))), []want{exc(RuleEndToEndID, ReasonCurrencyDiffers, "1012")}},
		{"instructed amount in the refund's currency",
			debit(BankTx{EndToEndID: "CN-1012-E2E", Amount: nok(115000), InstructedAmount: eur(10000)}), []want{paid(RuleEndToEndID, "1012")}},
		{"account differs", mod(debit(byE2E("1001", nok(150000))), func(e *BankEntry) { e.Account = "12345678903" }),
			[]want{exc(RuleEndToEndID, ReasonAccountDiffers, "1001")}},
		{"already booked", debit(byE2E("1005", nok(70000))), []want{exc(RuleEndToEndID, ReasonAlreadyPosted, "1005")}},
		{"already returned, debit", debit(byE2E("1006", nok(80000))), []want{exc(RuleEndToEndID, ReasonAlreadyPosted, "1006")}},
		{"debit of a rejected refund", debit(byE2E("1004", nok(9900))), []want{exc(RuleEndToEndID, ReasonRefundStatus, "1004")}},
		{"debit of a refund never sent", debit(byE2E("1013", nok(5000))), []want{exc(RuleEndToEndID, ReasonRefundStatus, "1013")}},
		{"same refund twice in one entry", debit(byE2E("1001", nok(150000)), byE2E("1001", nok(150000))),
			[]want{paid(RuleEndToEndID, "1001"), exc(RuleEndToEndID, ReasonAlreadyPosted, "1001")}},
		// Direction and returns.
		{"return by RtrInf", credit(returned(byE2E("1007", nok(90000)))), []want{{KindReturn, RuleEndToEndID, "", "1007"}}},
		{"return by bank transaction code", mod(credit(byE2E("1007", nok(90000))), func(e *BankEntry) { e.Code = BankTxCode{"PMNT", "ICDT", "RRTN"} }),
			[]want{{KindReturn, RuleEndToEndID, "", "1007"}}},
		{"return by reversal", mod(credit(BankTx{InstrID: "I-1007", Amount: nok(90000)}), func(e *BankEntry) { e.Reversal = true }),
			[]want{{KindReturn, RuleInstrID, "", "1007"}}},
		{"return less a fee", credit(func() BankTx {
			t := returned(byE2E("1007", nok(89000)))
			t.Charges = []Charge{{Amount: nok(1000), Included: true}}
			return t
		}()), []want{{KindReturn, RuleEndToEndID, "", "1007"}}},
		{"credit without return", credit(byE2E("1007", nok(90000))), []want{exc("", ReasonNotReturn, "")}},
		{"debit with return information", debit(returned(byE2E("1001", nok(150000)))), []want{exc("", ReasonDebitReturn, "")}},
		{"return of a refund not booked", credit(returned(byE2E("1001", nok(150000)))), []want{exc(RuleEndToEndID, ReasonRefundStatus, "1001")}},
		{"second return", credit(returned(byE2E("1006", nok(80000)))), []want{exc(RuleEndToEndID, ReasonAlreadyPosted, "1006")}},
		{"return amount differs", credit(returned(byE2E("1007", nok(89000)))), []want{exc(RuleEndToEndID, ReasonAmountDiffers, "1007")}},
		{"unknown direction", mod(debit(byE2E("1001", nok(150000))), func(e *BankEntry) { e.Direction = "" }), []want{exc("", ReasonInvalid, "")}},
		// Charges.
		{"charge included in the transaction", debit(func() BankTx {
			t := byE2E("1001", nok(150250))
			t.Charges = []Charge{{Amount: nok(250), Included: true}}
			return t
		}()), []want{paid(RuleEndToEndID, "1001")}},
		{"charge not included", debit(func() BankTx {
			t := byE2E("1001", nok(150000))
			t.Charges = []Charge{{Amount: nok(250)}}
			return t
		}()), []want{paid(RuleEndToEndID, "1001")}},
		{"charge of the entry, included", mod(debit(byE2E("1001", Amount{})), func(e *BankEntry) {
			e.Amount, e.Charges = nok(150500), []Charge{{Amount: nok(500), Included: true}}
		}), []want{paid(RuleEndToEndID, "1001"), {KindCharges, RuleEndToEndID, "", "1001"}}},
		{"charge of the entry, nothing matched", mod(debit(BankTx{EndToEndID: "X", Amount: nok(100)}), func(e *BankEntry) {
			e.Charges = []Charge{{Amount: nok(500)}}
		}), []want{exc("", ReasonNoMatch, ""), exc("", ReasonChargesUnmatched, "")}},
		{"charge in another currency included", mod(debit(byE2E("1001", Amount{})), func(e *BankEntry) {
			e.Amount, e.Charges = nok(150500), []Charge{{Amount: eur(500), Included: true}}
		}), []want{exc("", ReasonInvalid, ""), exc("", ReasonChargesUnmatched, "")}},
		// Not booked.
		{"pending entry", mod(debit(byE2E("1001", nok(150000))), func(e *BankEntry) { e.Status = EntryPending }),
			[]want{{KindNotBooked, RuleEndToEndID, ReasonNotBooked, "1001"}}},
		{"pending entry that would be an exception", mod(debit(byE2E("1001", nok(1))), func(e *BankEntry) { e.Status = EntryPending }),
			[]want{{KindNotBooked, RuleEndToEndID, ReasonNotBooked, "1001"}}},
		{"information entry", mod(debit(BankTx{EndToEndID: "X"}), func(e *BankEntry) { e.Status = EntryInfo }),
			[]want{{KindNotBooked, "", ReasonNotBooked, ""}}},
		{"entry without status", mod(debit(byE2E("1001", nok(150000))), func(e *BankEntry) { e.Status = "" }),
			[]want{{KindNotBooked, RuleEndToEndID, ReasonNotBooked, "1001"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outs, err := Match(tt.entry, fixtures())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range outs {
				got = append(got, short(o).String())
			}
			var exp []string
			for _, w := range tt.want {
				exp = append(exp, w.String())
			}
			if strings.Join(got, " ") != strings.Join(exp, " ") {
				t.Errorf("Match:\n got %s\nwant %s", strings.Join(got, " "), strings.Join(exp, " "))
				for _, o := range outs {
					t.Logf("  %s: %s", o.Reason, o.Detail)
				}
			}
			checkAccounted(t, tt.entry, outs)
		})
	}
}

// checkAccounted checks what holds for every entry: every transaction has
// exactly one outcome (an entry without details at least one), the keys are
// distinct, exceptions say why, matches say by which rule.
func checkAccounted(t *testing.T, e BankEntry, outs []Outcome) {
	t.Helper()
	perTx := make([]int, len(e.Txs))
	keys := map[Key]bool{}
	whole := 0
	for _, o := range outs {
		if keys[o.Key] {
			t.Errorf("key %s twice", o.Key)
		}
		keys[o.Key] = true
		switch {
		case o.Index >= 0:
			perTx[o.Index]++
		case o.Key.Tx != "charges":
			whole++
		}
		if o.Entry.Txs != nil {
			t.Errorf("outcome carries the entry's transactions")
		}
		switch o.Kind {
		case KindPayment, KindReturn, KindCharges:
			if o.Rule == "" || o.Reason != "" || o.Refund.RefNbr == "" {
				t.Errorf("%s outcome with rule %q, reason %q, refund %q", o.Kind, o.Rule, o.Reason, o.Refund.RefNbr)
			}
		case KindException, KindNotBooked:
			if o.Reason == "" || o.Detail == "" {
				t.Errorf("%s without reason or detail: %q %q", o.Kind, o.Reason, o.Detail)
			}
		default:
			t.Errorf("outcome of kind %q", o.Kind)
		}
		if (o.Kind == KindPayment || o.Kind == KindReturn) && o.compared() != o.Refund.Amount {
			t.Errorf("%s of %s %s for refund of %s", o.Kind, o.compared(), o.compared().Currency, o.Refund.Amount)
		}
	}
	for i, n := range perTx {
		if n != 1 {
			t.Errorf("transaction %d has %d outcomes; want 1", i, n)
		}
	}
	if len(e.Txs) == 0 && whole == 0 {
		t.Errorf("entry without details has no outcome")
	}
	if len(e.Txs) > 0 && whole != 0 {
		t.Errorf("entry with details has %d outcomes of its own", whole)
	}
}

func TestMatchAmounts(t *testing.T) {
	e := debit(func() BankTx {
		t := byE2E("1001", nok(150250))
		t.Charges = []Charge{{Amount: nok(250), Included: true}, {Amount: nok(100)}}
		return t
	}())
	outs, err := Match(e, fixtures())
	if err != nil {
		t.Fatal(err)
	}
	o := outs[0]
	if o.Booked != nok(150250) || o.Amount != nok(150000) || len(o.Charges) != 2 {
		t.Errorf("booked %v, principal %v, %d charges; want 1502.50, 1500.00, 2", o.Booked, o.Amount, len(o.Charges))
	}
	// A batch booking without details: one outcome per refund, each with
	// the refund's amount and references, keyed by its EndToEndId.
	e = debit()
	e.Amount, e.Batch = nok(175050), BatchRef{MsgID: msgB1, PmtInfID: pmtB1}
	outs, err = Match(e, fixtures())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Amount != o.Refund.Amount || o.Tx.EndToEndID != o.Refund.EndToEndID || o.Key.Tx != o.Refund.EndToEndID || o.Index != -1 {
			t.Errorf("batch outcome: amount %v, e2e %q, key %v, index %d; refund %v %q", o.Amount, o.Tx.EndToEndID, o.Key, o.Index, o.Refund.Amount, o.Refund.EndToEndID)
		}
	}
}

func TestMatchLookupError(t *testing.T) {
	boom := errors.New("database is locked")
	l := fixtures()
	l.err = boom
	for _, e := range []BankEntry{
		debit(byE2E("1001", nok(150000))),
		debit(BankTx{InstrID: "I-1001"}),
		debit(BankTx{Amount: nok(25050), Counterparty: "99998888777"}),
		func() BankEntry { e := debit(); e.Batch = BatchRef{MsgID: msgB1, PmtInfID: pmtB1}; return e }(),
	} {
		outs, err := Match(e, l)
		if !errors.Is(err, boom) || outs != nil {
			t.Errorf("Match with a failing lookup = %d outcomes, %v; want none, %v", len(outs), err, boom)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "match entry Ntry[1]: look up ") {
			t.Errorf("error %q; want it to start with %q", err, "match entry Ntry[1]: look up ")
		}
	}
}

func TestKey(t *testing.T) {
	e := debit(
		BankTx{EndToEndID: "E1"},
		BankTx{EndToEndID: "NOTPROVIDED", AcctSvcrRef: "TXREF"},
		BankTx{InstrID: "I3"},
		BankTx{},
		BankTx{EndToEndID: "E1"},
	)
	e.Account = ourIBAN
	want := []Key{
		{ourAccount, "BANKREF1", "E1"},
		{ourAccount, "BANKREF1", "ref:TXREF"},
		{ourAccount, "BANKREF1", "instr:I3"},
		{ourAccount, "BANKREF1", "#3"},
		{ourAccount, "BANKREF1", "E1#4"},
	}
	ks := e.keys()
	for i := range e.Txs {
		if got := e.Key(i); got != want[i] || ks[i] != want[i] {
			t.Errorf("Key(%d) = %v, keys()[%d] = %v; want %v", i, got, i, ks[i], want[i])
		}
	}
	if got := e.Key(-1); got != (Key{ourAccount, "BANKREF1", "#-1"}) {
		t.Errorf("Key(-1) = %v", got)
	}
	e.AcctSvcrRef, e.EntryRef = "", "NTRY9"
	if got := e.Key(0).Entry; got != "ntry:NTRY9" {
		t.Errorf("entry key without AcctSvcrRef = %q; want %q", got, "ntry:NTRY9")
	}
	e.EntryRef = ""
	if got := e.Key(0).Entry; got != "booking:2026-12-07:DBIT:0.00NOK" {
		t.Errorf("entry key without references = %q", got)
	}
	if got := (Key{"A", "B", "C"}).String(); got != "A/B/C" {
		t.Errorf("Key.String = %q", got)
	}
}

func TestAccountKeyAndMask(t *testing.T) {
	for in, want := range map[string]string{
		"86011117947":                 "86011117947",
		"8601.11.17947":               "86011117947",
		"NO93 8601 1117 947":          "86011117947",
		"no9386011117947":             "86011117947",
		"NO9386011117948":             "NO9386011117948", // bad check digits: kept as it is
		"DE89 3704 0044 0532 0130 00": "DE89370400440532013000",
		"":                            "",
	} {
		if got := AccountKey(in); got != want {
			t.Errorf("AccountKey(%q) = %q; want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"86011117947":            "*******7947",
		"DE89370400440532013000": "DE****************3000",
		"123":                    "123",
	} {
		if got := MaskAccount(in); got != want {
			t.Errorf("MaskAccount(%q) = %q; want %q", in, got, want)
		}
	}
}
