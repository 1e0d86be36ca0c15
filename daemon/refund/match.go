package refund

import (
	"fmt"
	"strconv"
	"strings"
)

// Match matches a bank entry to the refunds that refundd sent and returns
// one outcome for every transaction of the entry, in order; for an entry
// without transaction details one outcome for the entry, or for a batch
// booking one for each refund of the block; and, if the entry has charges
// of its own, one more outcome for them. Nothing is dropped: what does not
// match is an exception with its reason.
//
// The rules, in order (the first that identifies a refund fires):
// EndToEndId; InstrId; batch booking (the entry's Btch MsgId and PmtInfId
// name a block refundd sent whose refunds, less the rejected ones, add up
// to the batch total; a transaction is then the one refund of the block of
// its amount and counterparty account); amount + date + counterparty
// account (exactly one candidate). The fallback rules (batch, amount) are
// tried only for a transaction that carries neither an EndToEndId nor an
// InstrId: one whose references are unknown is someone else's payment.
//
// A debit is a payment of a refund; a credit is the return of one only with
// return information (RtrInf, bank transaction code RRTN, or reversal),
// otherwise it is not ours. A refund identified by a rule must agree with
// the bank in currency, amount, our account and status, or the outcome is
// an exception. An entry whose status is not BOOK yields KindNotBooked
// outcomes, matched as far as possible but never posted.
//
// The error is that of the Lookup; then there are no outcomes.
func Match(e BankEntry, l Lookup) ([]Outcome, error) {
	m := &matcher{e: &e, l: l, head: e, claimed: map[string]int{}}
	m.head.Txs = nil
	var outs []Outcome
	var err error
	if len(e.Txs) == 0 {
		outs, err = m.whole()
	} else {
		outs, err = m.details()
	}
	if err != nil {
		return nil, fmt.Errorf("match entry %s: %w", m.name(), err)
	}
	if o, ok := m.charges(outs); ok {
		outs = append(outs, o)
	}
	if e.Status != EntryBooked {
		for i := range outs {
			notBooked(&outs[i], e.Status)
		}
	}
	return outs, nil
}

// matcher holds what Match knows of one entry.
type matcher struct {
	e       *BankEntry
	l       Lookup
	head    BankEntry      // e without its transactions
	claimed map[string]int // EndToEndId of a refund → index of the tx that matched it
	blk     *block
}

// block is the payment block of a batch booking, as refundd sent it.
type block struct {
	refunds []Sent // those not rejected; nil if the block is unknown
	reason  Reason // ReasonBatchTotal when the block disagrees with the entry
	detail  string
}

// name names the entry in errors.
func (m *matcher) name() string {
	switch {
	case m.e.Position != "":
		return m.e.Position
	case m.e.BankRef() != "":
		return m.e.BankRef()
	}
	return "(unnamed)"
}

// details matches an entry with transaction details: first every
// transaction by its references, then the rest by the fallback rules, then
// checks every identified refund against the bank.
func (m *matcher) details() ([]Outcome, error) {
	keys := m.e.keys()
	outs := make([]Outcome, len(m.e.Txs))
	var rest []int
	for i := range m.e.Txs {
		o := &outs[i]
		m.start(o, i, keys[i])
		if o.Kind == KindException {
			continue
		}
		s, rule, found, err := m.byRefs(&m.e.Txs[i])
		switch {
		case err != nil:
			return nil, err
		case found:
			m.identify(o, s, rule)
		case m.e.Txs[i].e2e() == "" && m.e.Txs[i].InstrID == "":
			rest = append(rest, i)
		default:
			m.fail(o, ReasonNoMatch, "%s: no refund refundd sent", refsOf(&m.e.Txs[i]))
		}
	}
	for _, i := range rest {
		o := &outs[i]
		if m.e.Direction == Debit && !m.e.Batch.IsZero() {
			done, err := m.inBlock(o)
			if err != nil {
				return nil, err
			}
			if done {
				continue
			}
		}
		if err := m.byAmountDate(o); err != nil {
			return nil, err
		}
	}
	for i := range outs {
		if outs[i].Rule != "" && outs[i].Kind != KindException {
			m.check(&outs[i])
		}
	}
	return outs, nil
}

// whole matches an entry without transaction details: only a batch booking
// can be matched, to every refund of its block.
func (m *matcher) whole() ([]Outcome, error) {
	var o Outcome
	m.start(&o, -1, m.e.Key(-1))
	if o.Kind == KindException {
		return []Outcome{o}, nil
	}
	if m.e.Direction != Debit || m.e.Batch.IsZero() {
		m.fail(&o, ReasonNoMatch, "no transaction details and no batch booking of ours to match by")
		return []Outcome{o}, nil
	}
	b, err := m.block()
	if err != nil {
		return nil, err
	}
	switch {
	case b.refunds == nil:
		m.fail(&o, ReasonNoMatch, "batch MsgId %q PmtInfId %q is no block refundd sent", m.e.Batch.MsgID, m.e.Batch.PmtInfID)
		return []Outcome{o}, nil
	case b.reason != "":
		o.Rule = RuleBatch
		m.fail(&o, b.reason, "%s", b.detail)
		return []Outcome{o}, nil
	}
	if o.Amount != b.sum() {
		o.Rule = RuleBatch
		m.fail(&o, ReasonBatchTotal, "entry books %s %s, the refunds of the block add up to %s %s", o.Amount, o.Amount.Currency, b.sum(), b.sum().Currency)
		return []Outcome{o}, nil
	}
	outs := make([]Outcome, len(b.refunds))
	for i, s := range b.refunds {
		p := &outs[i]
		*p = o
		p.Key = m.e.subKey(s.EndToEndID)
		p.Tx = BankTx{EndToEndID: s.EndToEndID, InstrID: s.InstrID, MsgID: s.MsgID, PmtInfID: s.PmtInfID, Amount: s.Amount, Counterparty: s.CreditorAccount}
		p.Booked, p.Amount = s.Amount, s.Amount
		m.identify(p, s, RuleBatch)
		if p.Kind != KindException {
			m.check(p)
		}
	}
	return outs, nil
}

// start fills in the outcome of transaction i (or of the entry, for -1):
// its amounts, its charges, and its kind from the entry's direction; a
// direction that cannot be ours makes it an exception.
func (m *matcher) start(o *Outcome, i int, k Key) {
	e := m.e
	*o = Outcome{Entry: m.head, Index: i, Key: k}
	var included []Charge
	switch {
	case i < 0:
		o.Tx = BankTx{Amount: e.Amount}
		o.Booked = e.Amount
		included = e.Charges
	case e.Txs[i].Amount.Currency != "":
		o.Tx = e.Txs[i]
		o.Booked = o.Tx.Amount
		o.Charges = o.Tx.Charges
		included = o.Tx.Charges
	default:
		o.Tx = e.Txs[i]
		o.Charges = o.Tx.Charges
		if len(e.Txs) == 1 {
			// The entry's amount is this transaction's.
			o.Booked = e.Amount
			included = append(append([]Charge(nil), e.Charges...), o.Tx.Charges...)
		}
	}
	if bad := m.badAmount(i); bad != "" {
		m.fail(o, ReasonInvalid, "%s", bad)
		return
	}
	var marks []string
	if o.Tx.Return != nil {
		marks = append(marks, "RtrInf")
	}
	if e.Code.IsReturn() {
		marks = append(marks, "bank transaction code "+e.Code.String())
	}
	if e.Reversal {
		marks = append(marks, "reversal")
	}
	ret := len(marks) > 0
	switch e.Direction {
	case Debit:
		o.Kind = KindPayment
		if ret {
			m.fail(o, ReasonDebitReturn, "a debit marked as a return (%s) is not a refund paid", strings.Join(marks, ", "))
			return
		}
	case Credit:
		o.Kind = KindReturn
		if !ret {
			m.fail(o, ReasonNotReturn, "a credit without return information is not the return of a refund")
			return
		}
	default:
		m.fail(o, ReasonInvalid, "direction %q is neither DBIT nor CRDT", e.Direction)
		return
	}
	if o.Booked.Currency != "" {
		p, err := principal(o.Booked, included, e.Direction)
		if err != "" {
			m.fail(o, ReasonInvalid, "%s", err)
			return
		}
		o.Amount = p
	}
}

// badAmount checks the amounts of the entry, of its charges and of
// transaction i (if i >= 0): zero or positive, at most MaxMinor, in a known
// currency when given. It returns what is wrong, or "".
func (m *matcher) badAmount(i int) string {
	check := func(what string, a Amount) string {
		if a.Currency == "" && a.Minor == 0 {
			return ""
		}
		if _, ok := a.Currency.Exponent(); !ok {
			return fmt.Sprintf("%s in unknown currency %q", what, a.Currency)
		}
		if a.Minor < 0 || a.Minor > MaxMinor {
			return fmt.Sprintf("%s %s %s out of range", what, a, a.Currency)
		}
		return ""
	}
	type named struct {
		what string
		a    Amount
	}
	all := []named{{"entry amount", m.e.Amount}}
	for _, c := range m.e.Charges {
		all = append(all, named{"charge", c.Amount})
	}
	if i >= 0 {
		t := &m.e.Txs[i]
		all = append(all, named{"amount", t.Amount}, named{"instructed amount", t.InstructedAmount})
		for _, c := range t.Charges {
			all = append(all, named{"charge", c.Amount})
		}
	}
	for _, x := range all {
		if bad := check(x.what, x.a); bad != "" {
			return bad
		}
	}
	return ""
}

// principal returns booked less the included charges for a debit, plus them
// for a credit, or a reason why it cannot.
func principal(booked Amount, charges []Charge, d Direction) (Amount, string) {
	p := booked
	for _, c := range charges {
		if !c.Included || c.Amount.Minor == 0 {
			continue
		}
		if c.Amount.Currency != booked.Currency {
			return Amount{}, fmt.Sprintf("a charge of %s %s is included in an amount in %s", c.Amount, c.Amount.Currency, booked.Currency)
		}
		v := -c.Amount.Minor
		if d == Credit {
			v = c.Amount.Minor
		}
		var ok bool
		if p.Minor, ok = addMinor(p.Minor, v); !ok || p.Minor < 0 {
			return Amount{}, fmt.Sprintf("charges of %s %s do not fit the amount %s", c.Amount, c.Amount.Currency, booked)
		}
	}
	return p, ""
}

// addMinor adds two amounts in minor units and reports whether the sum
// stays within MaxMinor·10⁴ (so far below overflow).
func addMinor(a, b int64) (int64, bool) {
	const limit = MaxMinor * 10_000
	s := a + b
	if s > limit || s < -limit || a > limit || a < -limit || b > limit || b < -limit {
		return 0, false
	}
	return s, true
}

// byRefs looks a transaction up by its EndToEndId, then by its InstrId.
func (m *matcher) byRefs(t *BankTx) (Sent, Rule, bool, error) {
	if id := t.e2e(); id != "" {
		s, ok, err := m.l.ByEndToEndID(id)
		if err != nil {
			return Sent{}, "", false, fmt.Errorf("look up EndToEndId %q: %w", id, err)
		}
		if ok {
			return s, RuleEndToEndID, true, nil
		}
	}
	if id := t.InstrID; id != "" {
		s, ok, err := m.l.ByInstrID(id)
		if err != nil {
			return Sent{}, "", false, fmt.Errorf("look up InstrId %q: %w", id, err)
		}
		if ok {
			return s, RuleInstrID, true, nil
		}
	}
	return Sent{}, "", false, nil
}

// compared returns the amount of o to compare with the refund's: the
// instructed amount if the bank gave one, else the principal.
func (o *Outcome) compared() Amount {
	if o.Tx.InstructedAmount.Currency != "" {
		return o.Tx.InstructedAmount
	}
	return o.Amount
}

// inBlock applies the batch rule to a transaction without references. done
// is false when the rule does not apply or finds nothing, so that the next
// rule is tried.
func (m *matcher) inBlock(o *Outcome) (done bool, err error) {
	b, err := m.block()
	if err != nil || b.refunds == nil {
		return false, err
	}
	if b.reason != "" {
		o.Rule = RuleBatch
		m.fail(o, b.reason, "%s", b.detail)
		return true, nil
	}
	want := o.compared()
	if want.Currency == "" {
		return false, nil
	}
	cp := AccountKey(o.Tx.Counterparty)
	var cands []Sent
	for _, s := range b.refunds {
		if _, taken := m.claimed[s.EndToEndID]; taken || s.Amount != want {
			continue
		}
		if cp != "" && AccountKey(s.CreditorAccount) != cp {
			continue
		}
		cands = append(cands, s)
	}
	switch len(cands) {
	case 0:
		return false, nil
	case 1:
		m.identify(o, cands[0], RuleBatch)
	default:
		o.Rule = RuleBatch
		m.fail(o, ReasonAmbiguous, "%d refunds of batch %s/%s have amount %s %s%s: %s", len(cands), m.e.Batch.MsgID, m.e.Batch.PmtInfID, want, want.Currency, accountNote(cp), refNbrs(cands))
	}
	return true, nil
}

// block returns the payment block of the entry's batch booking, checked
// against the batch total and number of transactions; it asks the Lookup
// once per entry.
func (m *matcher) block() (*block, error) {
	if m.blk != nil {
		return m.blk, nil
	}
	bt := m.e.Batch
	list, err := m.l.ByBatch(bt.MsgID, bt.PmtInfID)
	if err != nil {
		return nil, fmt.Errorf("look up batch %s/%s: %w", bt.MsgID, bt.PmtInfID, err)
	}
	b := &block{}
	m.blk = b
	if len(list) == 0 {
		return b, nil
	}
	b.refunds = []Sent{}
	for _, s := range list {
		if s.Status != StatusRejected && s.Status != StatusNew {
			b.refunds = append(b.refunds, s)
		}
	}
	name := bt.MsgID + "/" + bt.PmtInfID
	if len(b.refunds) == 0 {
		b.reason, b.detail = ReasonBatchTotal, fmt.Sprintf("batch %s: every refund of the block was rejected or never sent", name)
		return b, nil
	}
	sum, ok := sumAmounts(b.refunds)
	total := bt.Total
	if total.Currency == "" {
		total = m.entryPrincipal()
	}
	switch {
	case !ok:
		b.reason, b.detail = ReasonBatchTotal, fmt.Sprintf("batch %s: the refunds of the block cannot be added up (currencies %s)", name, currencies(b.refunds))
	case sum != total:
		b.reason, b.detail = ReasonBatchTotal, fmt.Sprintf("batch %s totals %s %s, its %d refunds not rejected add up to %s %s", name, total, total.Currency, len(b.refunds), sum, sum.Currency)
	case bt.NbOfTxs > 0 && bt.NbOfTxs != len(b.refunds):
		b.reason, b.detail = ReasonBatchTotal, fmt.Sprintf("batch %s has %d transactions, the block has %d refunds not rejected", name, bt.NbOfTxs, len(b.refunds))
	}
	return b, nil
}

// sum returns the sum of the refunds of a block that block() accepted.
func (b *block) sum() Amount {
	s, _ := sumAmounts(b.refunds)
	return s
}

// sumAmounts adds the amounts of refunds; ok is false for mixed currencies,
// an empty list or a sum out of range.
func sumAmounts(ss []Sent) (Amount, bool) {
	if len(ss) == 0 {
		return Amount{}, false
	}
	sum := Amount{Currency: ss[0].Amount.Currency}
	for _, s := range ss {
		var ok bool
		if s.Amount.Currency != sum.Currency {
			return Amount{}, false
		}
		if sum.Minor, ok = addMinor(sum.Minor, s.Amount.Minor); !ok {
			return Amount{}, false
		}
	}
	return sum, true
}

// entryPrincipal returns the entry's amount less (debit) or plus (credit)
// every charge included in it, the entry's own and its transactions'.
func (m *matcher) entryPrincipal() Amount {
	all := append([]Charge(nil), m.e.Charges...)
	for i := range m.e.Txs {
		all = append(all, m.e.Txs[i].Charges...)
	}
	p, bad := principal(m.e.Amount, all, m.e.Direction)
	if bad != "" {
		return Amount{}
	}
	return p
}

// byAmountDate applies the last rule: the one refund of the transaction's
// amount, executed on the booking (or value) date, to its counterparty.
func (m *matcher) byAmountDate(o *Outcome) error {
	want := o.compared()
	cp := AccountKey(o.Tx.Counterparty)
	if want.Currency == "" || cp == "" {
		m.fail(o, ReasonNoMatch, "no references, and no amount and counterparty account to match by")
		return nil
	}
	var cands []Sent
	seen := map[string]bool{}
	for _, d := range []Date{m.e.BookingDate, m.e.ValueDate} {
		if d.IsZero() {
			continue
		}
		list, err := m.l.ByAmountDate(want, d, cp)
		if err != nil {
			return fmt.Errorf("look up amount %s %s on %s: %w", want, want.Currency, d, err)
		}
		for _, s := range list {
			if _, taken := m.claimed[s.EndToEndID]; taken || seen[s.EndToEndID] {
				continue
			}
			seen[s.EndToEndID] = true
			cands = append(cands, s)
		}
	}
	switch len(cands) {
	case 0:
		m.fail(o, ReasonNoMatch, "no refund of %s %s on %s to that account", want, want.Currency, m.dates())
	case 1:
		m.identify(o, cands[0], RuleAmountDateAccount)
	default:
		o.Rule = RuleAmountDateAccount
		m.fail(o, ReasonAmbiguous, "%d refunds of %s %s on %s%s: %s", len(cands), want, want.Currency, m.dates(), accountNote(cp), refNbrs(cands))
	}
	return nil
}

// dates formats the booking and value date of the entry.
func (m *matcher) dates() string {
	b, v := m.e.BookingDate, m.e.ValueDate
	switch {
	case v.IsZero() || v == b:
		return b.String()
	case b.IsZero():
		return v.String()
	}
	return b.String() + " or " + v.String()
}

// identify records that rule identified refund s for o, unless another
// transaction of the entry did already.
func (m *matcher) identify(o *Outcome, s Sent, rule Rule) {
	o.Rule, o.Refund = rule, s
	if j, taken := m.claimed[s.EndToEndID]; taken {
		m.fail(o, ReasonAlreadyPosted, "refund %s is matched by transaction %s of this entry too", s.RefNbr, txName(j))
		return
	}
	m.claimed[s.EndToEndID] = o.Index
}

// refsOf formats the references of a transaction for a message.
func refsOf(t *BankTx) string {
	var s []string
	if id := t.e2e(); id != "" {
		s = append(s, "EndToEndId "+strconv.Quote(id))
	}
	if t.InstrID != "" {
		s = append(s, "InstrId "+strconv.Quote(t.InstrID))
	}
	return strings.Join(s, ", ")
}

// txName names transaction i of an entry.
func txName(i int) string {
	if i < 0 {
		return "(the entry)"
	}
	return "TxDtls[" + strconv.Itoa(i) + "]"
}

// check makes an identified outcome an exception if the bank disagrees
// with the refund: currency, amount, our account, status.
func (m *matcher) check(o *Outcome) {
	s := &o.Refund
	got := o.compared()
	switch {
	case got.Currency == "":
		m.fail(o, ReasonAmountDiffers, "the bank gives no amount for the transaction; refund %s is %s %s", s.RefNbr, s.Amount, s.Amount.Currency)
	case got.Currency != s.Amount.Currency:
		m.fail(o, ReasonCurrencyDiffers, "bank %s %s, refund %s %s %s", got, got.Currency, s.RefNbr, s.Amount, s.Amount.Currency)
	case got.Minor != s.Amount.Minor:
		m.fail(o, ReasonAmountDiffers, "bank %s %s, refund %s %s %s", got, got.Currency, s.RefNbr, s.Amount, s.Amount.Currency)
	case o.Amount.Currency == "":
		m.fail(o, ReasonAmountDiffers, "the bank gives no booked amount for the transaction")
	case s.DebtorAccount != "" && m.e.Account != "" && AccountKey(s.DebtorAccount) != AccountKey(m.e.Account):
		m.fail(o, ReasonAccountDiffers, "entry on account %s, refund %s paid from %s", MaskAccount(m.e.Account), s.RefNbr, MaskAccount(s.DebtorAccount))
	case o.Kind == KindPayment:
		switch s.Status {
		case StatusSent, StatusAccepted, StatusPending:
		case StatusBooked, StatusReturned:
			m.fail(o, ReasonAlreadyPosted, "refund %s is %s already; a second debit", s.RefNbr, s.Status)
		default:
			m.fail(o, ReasonRefundStatus, "refund %s is %s; a debit needs sent, accepted or pending", s.RefNbr, statusName(s.Status))
		}
	case o.Kind == KindReturn:
		switch s.Status {
		case StatusBooked:
		case StatusReturned:
			m.fail(o, ReasonAlreadyPosted, "refund %s is returned already; a second return", s.RefNbr)
		default:
			m.fail(o, ReasonRefundStatus, "refund %s is %s; a return needs it booked", s.RefNbr, statusName(s.Status))
		}
	}
}

// statusName formats a status for a message.
func statusName(s Status) string {
	if s == "" {
		return "without status"
	}
	return string(s)
}

// fail makes o an exception.
func (m *matcher) fail(o *Outcome, r Reason, format string, args ...any) {
	o.Kind, o.Reason, o.Detail = KindException, r, fmt.Sprintf(format, args...)
}

// charges returns the outcome for the entry's own charges, if it has any
// that are not zero. They are posted with the refund of the first
// transaction that is posted; when none is, they are an exception.
func (m *matcher) charges(outs []Outcome) (Outcome, bool) {
	var cs []Charge
	for _, c := range m.e.Charges {
		if c.Amount.Minor != 0 {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return Outcome{}, false
	}
	o := Outcome{Kind: KindCharges, Entry: m.head, Index: -1, Key: m.e.subKey("charges"), Charges: cs}
	for i := range outs {
		if outs[i].Postable() {
			o.Rule, o.Refund = outs[i].Rule, outs[i].Refund
			return o, true
		}
	}
	m.fail(&o, ReasonChargesUnmatched, "charges of an entry none of whose transactions matched")
	return o, true
}

// notBooked turns an outcome of an entry with status st into KindNotBooked,
// saying what it would have been.
func notBooked(o *Outcome, st EntryStatus) {
	if o.Kind == KindException {
		o.Detail = fmt.Sprintf("entry status %q, not posted; would be an exception: %s: %s", st, o.Reason, o.Detail)
	} else {
		o.Detail = fmt.Sprintf("entry status %q, not posted; would be a %s", st, o.Kind)
	}
	o.Kind, o.Reason = KindNotBooked, ReasonNotBooked
}

// accountNote formats " to account …" for a counterparty, masked.
func accountNote(cp string) string {
	if cp == "" {
		return ""
	}
	return " to account " + MaskAccount(cp)
}

// refNbrs lists the RefNbrs of refunds.
func refNbrs(ss []Sent) string {
	s := ""
	for i, x := range ss {
		if i > 0 {
			s += ", "
		}
		s += x.RefNbr
	}
	return s
}

// currencies lists the currencies of refunds.
func currencies(ss []Sent) string {
	seen := map[Currency]bool{}
	s := ""
	for _, x := range ss {
		if seen[x.Amount.Currency] {
			continue
		}
		seen[x.Amount.Currency] = true
		if s != "" {
			s += ", "
		}
		s += string(x.Amount.Currency)
	}
	return s
}
