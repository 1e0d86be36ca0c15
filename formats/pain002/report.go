package pain002

import (
	"time"

	"refundd/formats"
)

// Status is a payment status code: in pain.002.001.03 one of the closed
// lists TransactionGroupStatus3Code (group and payment level) and
// TransactionIndividualStatus3Code (transaction level); in .001.10 a code
// of the external lists ExternalPaymentGroupStatus1Code and
// ExternalPaymentTransactionStatus1Code, which adds codes such as the
// Verification-of-Payee RCVC, RVMC, RVNM and RVNA.
type Status string

// The status codes of pain.002.001.03.
const (
	Received                    Status = "RCVD" // group level only
	AcceptedTechnical           Status = "ACTC" // authentication and syntax checks passed
	AcceptedCustomerProfile     Status = "ACCP" // customer profile checks passed
	AcceptedSettlementInProcess Status = "ACSP" // accepted for execution
	AcceptedSettlementCompleted Status = "ACSC" // debtor's account debited
	AcceptedWithChange          Status = "ACWC" // accepted, something changed (e.g. the date)
	PartiallyAccepted           Status = "PART" // group and payment level only: see the transactions
	Pending                     Status = "PDNG"
	Rejected                    Status = "RJCT"
)

// Report is one pain.002 message.
type Report struct {
	Message      formats.Message // the version read; Encode writes pain.002.001.03
	MsgID        string          // GrpHdr/MsgId: the report's own id
	CreationTime time.Time       // GrpHdr/CreDtTm
	Group        Group           // OrgnlGrpInfAndSts
	Payments     []Payment       // OrgnlPmtInfAndSts, in document order
}

// Group is the report on the original message as a whole.
type Group struct {
	OrgnlMsgID        string          // the pain.001's GrpHdr/MsgId
	OrgnlMsgNmID      string          // e.g. "pain.001.001.03"; required by the schema but missing in some banks' reports
	OrgnlCreationTime time.Time       // zero when absent
	OrgnlNbOfTxs      int             // 0 when absent
	OrgnlCtrlSum      formats.Decimal // zero when absent
	Status            Status          // GrpSts; "" when absent (the level says nothing)
	Reasons           []Reason
	StatusCounts      []StatusCount // NbOfTxsPerSts
}

// Payment is the report on one payment-information block of the original
// message.
type Payment struct {
	OrgnlPmtInfID string
	OrgnlNbOfTxs  int             // 0 when absent
	OrgnlCtrlSum  formats.Decimal // zero when absent
	Status        Status          // PmtInfSts; "" when absent
	Reasons       []Reason
	StatusCounts  []StatusCount
	Transactions  []Transaction // TxInfAndSts: only the transactions the bank chose to list
}

// Transaction is the report on one transaction of the original message.
type Transaction struct {
	StatusID        string // StsId, the bank's id of this status
	OrgnlInstrID    string
	OrgnlEndToEndID string
	OrgnlUETR       string // .001.10 only
	Status          Status // TxSts; "" when absent
	Reasons         []Reason
	AcctSvcrRef     string
	ClrSysRef       string
	// From OrgnlTxRef, where the bank repeats the original: the
	// instructed amount (Amt/InstdAmt) and the requested execution date
	// (a date in .03; a date or date and time in .10). Zero when absent.
	Amount        formats.Amount
	ExecutionDate formats.DateTime
}

// Reason is one StsRsnInf: a reason code or a proprietary reason, every
// line of additional information, and who gave it.
type Reason struct {
	Code           string   // Rsn/Cd, e.g. AC01, AM04, DU01, NARR
	Proprietary    string   // Rsn/Prtry
	AdditionalInfo []string // AddtlInf, every line in order
	OriginatorName string   // Orgtr/Nm
	OriginatorBIC  string   // Orgtr/Id/OrgId/BICOrBEI (.03) or AnyBIC (.10)
}

// StatusCount is one NbOfTxsPerSts: how many transactions have a status.
type StatusCount struct {
	Count   int
	Status  Status
	CtrlSum formats.Decimal // zero when absent
}
