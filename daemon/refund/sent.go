package refund

// Status is the status of a refund: new → sent → accepted | pending |
// rejected → booked → returned.
type Status string

// The statuses of a refund.
const (
	StatusNew      Status = "new"
	StatusSent     Status = "sent"
	StatusAccepted Status = "accepted"
	StatusPending  Status = "pending"
	StatusRejected Status = "rejected"
	StatusBooked   Status = "booked"
	StatusReturned Status = "returned"
)

// The statuses that the ERP is told of a refund that was left out of its
// batch; the state store keeps such refunds as notes of the batch, never
// as refunds.
const (
	// StatusInvalid: the refund has errors; the batch's valid refunds
	// were sent without it. A corrected export is a new release.
	StatusInvalid Status = "invalid"
	// StatusHeld: the refund goes to another account than the customer's
	// last booked refund and is held until an operator releases it.
	StatusHeld Status = "held"
)

// Sent is what refundd knows of a refund that it sent to the bank.
type Sent struct {
	RefNbr     string
	Batch      string
	CustomerID string
	MsgID      string
	PmtInfID   string
	EndToEndID string
	InstrID    string
	Amount     Amount
	// BaseAmount is the refund in the currency of DebtorAccount at the
	// ERP document's rate, as exported; zero when not exported.
	BaseAmount Amount
	// ExecutionDate is the requested execution date of the payment.
	ExecutionDate Date
	// CreditorAccount is the payee's account in canonical form.
	CreditorAccount string
	// DebtorAccount is our bank account the refund is paid from; "" when
	// not known, and then not checked.
	DebtorAccount string
	// DebtorLedgerAccount is the general-ledger account of DebtorAccount.
	DebtorLedgerAccount string
	// Status is the refund's status now.
	Status Status
}

// Lookup finds the refunds that refundd sent. An error is a failure of the
// lookup itself (the state store), never "not found": Match stops and
// returns it, and the entry is to be matched again later.
type Lookup interface {
	// ByEndToEndID returns the refund with this EndToEndId.
	ByEndToEndID(id string) (Sent, bool, error)
	// ByInstrID returns the refund with this InstrId.
	ByInstrID(id string) (Sent, bool, error)
	// ByBatch returns every refund of the payment block pmtInfID of the
	// pain.001 msgID, whatever its status; none if the block is unknown.
	ByBatch(msgID, pmtInfID string) ([]Sent, error)
	// ByAmountDate returns the refunds of exactly this amount, executed on
	// date d, to the creditor account whose AccountKey is account.
	ByAmountDate(a Amount, d Date, account string) ([]Sent, error)
}
