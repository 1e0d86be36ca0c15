package refund

// Rule names the matching rule that identified the refund of a bank
// transaction; the matches file says which one fired.
type Rule string

// The matching rules, in the order they are tried.
const (
	RuleEndToEndID        Rule = "EndToEndId"
	RuleInstrID           Rule = "InstrId"
	RuleBatch             Rule = "Batch"
	RuleAmountDateAccount Rule = "AmountDateAccount"
)

// Kind says what an outcome of matching leads to.
type Kind string

// The kinds of outcome.
const (
	// KindPayment is a booked debit matched to a refund: posted, matched.
	KindPayment Kind = "payment"
	// KindReturn is a booked credit matched as the return of a booked
	// refund: the posting is reversed, matched.
	KindReturn Kind = "return"
	// KindCharges is the entry's own charges, posted in a voucher of
	// their own that carries the references of the entry's first posted
	// refund.
	KindCharges Kind = "charges"
	// KindNotBooked is an entry that is pending or information only: not
	// posted now; the bank will report the booking later.
	KindNotBooked Kind = "not-booked"
	// KindException is an entry or transaction that matched nothing or
	// disagrees with its refund: not posted, written to the exceptions
	// file.
	KindException Kind = "exception"
)

// Reason says why an outcome is an exception (or not booked).
type Reason string

// The reasons of exceptions.
const (
	// ReasonNoMatch: no rule identified a refund.
	ReasonNoMatch Reason = "no-match"
	// ReasonAmbiguous: a fallback rule found several candidate refunds.
	ReasonAmbiguous Reason = "ambiguous"
	// ReasonAmountDiffers: the bank's amount is not the refund's (or the
	// bank gave none).
	ReasonAmountDiffers Reason = "amount-differs"
	// ReasonCurrencyDiffers: the bank's currency is not the refund's.
	ReasonCurrencyDiffers Reason = "currency-differs"
	// ReasonAccountDiffers: the entry is on another of our accounts than
	// the one the refund was paid from.
	ReasonAccountDiffers Reason = "account-differs"
	// ReasonBatchTotal: a batch booking whose total or number of
	// transactions is not that of the refunds of its payment block.
	ReasonBatchTotal Reason = "batch-total-differs"
	// ReasonNotReturn: a credit without return information: not ours.
	ReasonNotReturn Reason = "credit-without-return"
	// ReasonDebitReturn: a debit marked as a return or a reversal: a
	// reversal of money received, not a refund paid.
	ReasonDebitReturn Reason = "debit-with-return"
	// ReasonAlreadyPosted: the refund is already booked (for a debit) or
	// returned (for a credit), or another transaction of the same entry
	// matched it: a second booking of one refund.
	ReasonAlreadyPosted Reason = "already-posted"
	// ReasonRefundStatus: the refund's status does not allow this booking:
	// a debit for a refund never sent or rejected by the bank, a return of
	// a refund not booked.
	ReasonRefundStatus Reason = "refund-status"
	// ReasonChargesUnmatched: charges of an entry none of whose
	// transactions matched.
	ReasonChargesUnmatched Reason = "charges-unmatched"
	// ReasonInvalid: the entry cannot be read as a booking (unknown
	// direction, charges in another currency than an amount they are
	// included in, an amount too large).
	ReasonInvalid Reason = "invalid-entry"
	// ReasonNotBooked: the entry's status is not BOOK (for KindNotBooked).
	ReasonNotBooked Reason = "not-booked"
)

// Outcome is what matching made of one transaction of a bank entry, of an
// entry without transaction details, or of an entry's own charges.
type Outcome struct {
	Kind Kind
	// Rule is the rule that identified Refund; "" when none did.
	Rule Rule
	// Reason and Detail say why the outcome is an exception or not booked;
	// Detail is for people.
	Reason Reason
	Detail string
	// Key is the de-duplication key of the booking.
	Key Key
	// Entry is the bank entry, without its transactions (Txs is nil).
	Entry BankEntry
	// Index is the index of the transaction in the entry's Txs, -1 for the
	// entry as a whole.
	Index int
	// Tx is the transaction. For an entry without transaction details it
	// holds the entry's amount; for a batch booking without transaction
	// details, one outcome per refund of the block holds that refund's
	// references and amount.
	Tx BankTx
	// Refund is the refund identified (when Rule is set).
	Refund Sent
	// Booked is the amount booked for the transaction, charges included
	// where the bank included them; zero Currency when not known.
	Booked Amount
	// Amount is the principal: Booked less the included charges for a
	// debit, plus them for a credit; what the refund moved on our account.
	// Zero Currency when not known.
	Amount Amount
	// Charges are the charges that this outcome posts.
	Charges []Charge
}

// Postable reports whether o leads to a ledger posting.
func (o *Outcome) Postable() bool {
	return o.Kind == KindPayment || o.Kind == KindReturn || o.Kind == KindCharges
}
