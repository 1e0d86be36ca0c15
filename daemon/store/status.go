package store

import (
	"slices"

	"refundd/daemon/refund"
)

// BatchStatus is the status of a batch. The statuses are listed below, and
// the changes allowed between them in batchNext.
type BatchStatus string

// The statuses of a batch.
const (
	// BatchReceived: recorded, not yet handed to the uploader.
	BatchReceived BatchStatus = "received"
	// BatchRejected: refused by refundd before it was sent.
	BatchRejected BatchStatus = "rejected"
	// BatchSending: the write-ahead intent: the pain.001 is durable in
	// the state folder and about to be uploaded under RemoteName.
	BatchSending BatchStatus = "sending"
	// BatchSent: the upload is complete and verified.
	BatchSent BatchStatus = "sent"
	// BatchInDoubt: the upload's outcome is unknown (a crash or a lost
	// connection during it). Never resent blindly.
	BatchInDoubt BatchStatus = "in-doubt"
	// BatchReceiptOK: the bank's technical acceptance (pain.002 ACTC).
	BatchReceiptOK BatchStatus = "receipt-ok"
	// BatchAccepted: every transaction accepted (ACCP, ACSP, …).
	BatchAccepted BatchStatus = "accepted"
	// BatchPartiallyAccepted: some transactions accepted, some rejected.
	BatchPartiallyAccepted BatchStatus = "partially-accepted"
	// BatchRejectedByBank: the bank rejected the whole batch.
	BatchRejectedByBank BatchStatus = "rejected-by-bank"
	// BatchPending: the bank holds the batch (PDNG), e.g. for approval.
	BatchPending BatchStatus = "pending"
	// BatchPaid: the bank booked every refund of the batch.
	BatchPaid BatchStatus = "paid"
	// BatchSettledWithExceptions: the bank answered for every refund for
	// good, and booked some, but rejected or returned others: those need
	// an operator (fix the account, re-release).
	BatchSettledWithExceptions BatchStatus = "settled-with-exceptions"
	// BatchCompleted: nothing is left to do for the batch: every refund
	// was booked, or rejected or returned and then re-released in a later
	// batch (where it is followed), no refund left out of it is still
	// open, and the batch's last change (and so its last booking) is
	// CompleteAfter banking days old, past
	// the usual time for a return. A return that still comes moves it
	// back to settled-with-exceptions.
	BatchCompleted BatchStatus = "completed"
)

// reached is the set of statuses that a reply from the bank can give a
// batch: the bank has the file.
var reached = []BatchStatus{BatchReceiptOK, BatchAccepted, BatchPartiallyAccepted, BatchRejectedByBank, BatchPending, BatchPaid}

// batchNext is the table of allowed batch status changes, from → to.
//
//	received           → rejected, sending, completed (a batch of held
//	                     refunds only, once they are all released)
//	sending            → sent, in-doubt, and every status of a reply
//	in-doubt           → sending (an operator's resend of the same bytes), sent,
//	                     and every status of a reply
//	sent               → receipt-ok, accepted, partially-accepted,
//	                     rejected-by-bank, pending, paid
//	receipt-ok         → accepted, partially-accepted, rejected-by-bank, pending, paid
//	pending            → accepted, partially-accepted, rejected-by-bank, paid
//	accepted           → partially-accepted, rejected-by-bank, paid
//	partially-accepted → paid, settled-with-exceptions, completed
//	paid               → settled-with-exceptions (a return), completed
//	settled-with-exceptions → completed
//	completed          → settled-with-exceptions (a late return)
//	rejected, rejected-by-bank: final
//
// receipt-ok, pending and accepted also go to settled-with-exceptions
// when the bank answers for every refund without a group status.
//
// A reply proves that the bank has the file, so it may move a batch that is
// still sending or in doubt. A reply that would move a batch backwards (a
// late receipt after an acceptance) is refused; the caller drops that
// change (see AllowedBatch).
var batchNext = map[BatchStatus][]BatchStatus{
	BatchReceived:              {BatchRejected, BatchSending, BatchCompleted},
	BatchSending:               append([]BatchStatus{BatchSent, BatchInDoubt}, reached...),
	BatchInDoubt:               append([]BatchStatus{BatchSending, BatchSent}, reached...),
	BatchSent:                  reached,
	BatchReceiptOK:             {BatchAccepted, BatchPartiallyAccepted, BatchRejectedByBank, BatchPending, BatchPaid, BatchSettledWithExceptions},
	BatchPending:               {BatchAccepted, BatchPartiallyAccepted, BatchRejectedByBank, BatchPaid, BatchSettledWithExceptions},
	BatchAccepted:              {BatchPartiallyAccepted, BatchRejectedByBank, BatchPaid, BatchSettledWithExceptions},
	BatchPartiallyAccepted:     {BatchPaid, BatchSettledWithExceptions, BatchCompleted},
	BatchPaid:                  {BatchSettledWithExceptions, BatchCompleted},
	BatchSettledWithExceptions: {BatchCompleted},
	BatchCompleted:             {BatchSettledWithExceptions},
	BatchRejected:              nil,
	BatchRejectedByBank:        nil,
}

// CompleteAfter is the number of banking days after a batch's last
// booking at which it is completed, when nothing else is left to do:
// returns of credit transfers come within days, seldom later.
const CompleteAfter = 10

// BatchStatuses returns every batch status, in the order of their
// declaration, which roughly follows a batch's life.
func BatchStatuses() []BatchStatus {
	return []BatchStatus{BatchReceived, BatchRejected, BatchSending, BatchSent, BatchInDoubt,
		BatchReceiptOK, BatchAccepted, BatchPartiallyAccepted, BatchRejectedByBank,
		BatchPending, BatchPaid, BatchSettledWithExceptions, BatchCompleted}
}

// Valid reports whether s is a batch status.
func (s BatchStatus) Valid() bool { _, ok := batchNext[s]; return ok }

// AllowedBatch reports whether a batch may go from status from to status
// to. A status to itself is allowed (and changes nothing).
func AllowedBatch(from, to BatchStatus) bool {
	next, ok := batchNext[from]
	return ok && to.Valid() && (from == to || slices.Contains(next, to))
}

// reachesBank reports whether a batch going from → to has just been
// proven to be at the bank: its new refunds are sent.
func reachesBank(from, to BatchStatus) bool {
	return (from == BatchSending || from == BatchInDoubt) && (to == BatchSent || slices.Contains(reached, to))
}

// refundNext is the table of allowed refund status changes, from → to.
//
//	new      → sent, accepted, pending, rejected
//	sent     → accepted, pending, rejected, booked
//	pending  → accepted, rejected, booked
//	accepted → pending, rejected, booked
//	booked   → returned
//	rejected, returned: final (a re-release is a new refund)
//
// A new refund may take a reply's status directly: its batch may be in
// doubt when the reply proves that the bank has it. Until a refund is
// booked, rejected or returned, a status report moves it as the bank says
// (accepted → pending too: ACCP, then PDNG). A refund goes to booked only
// from a status in which refund.Match posts a debit.
var refundNext = map[refund.Status][]refund.Status{
	refund.StatusNew:      {refund.StatusSent, refund.StatusAccepted, refund.StatusPending, refund.StatusRejected},
	refund.StatusSent:     {refund.StatusAccepted, refund.StatusPending, refund.StatusRejected, refund.StatusBooked},
	refund.StatusPending:  {refund.StatusAccepted, refund.StatusRejected, refund.StatusBooked},
	refund.StatusAccepted: {refund.StatusPending, refund.StatusRejected, refund.StatusBooked},
	refund.StatusBooked:   {refund.StatusReturned},
	refund.StatusRejected: nil,
	refund.StatusReturned: nil,
}

// validRefund reports whether s is a refund status.
func validRefund(s refund.Status) bool { _, ok := refundNext[s]; return ok }

// AllowedRefund reports whether a refund may go from status from to status
// to. A status to itself is allowed (and changes nothing).
func AllowedRefund(from, to refund.Status) bool {
	next, ok := refundNext[from]
	return ok && validRefund(to) && (from == to || slices.Contains(next, to))
}

// released reports whether a refund in status st is finished with for
// good without money having stayed with the payee, so that an operator may
// release it again under a new EndToEndId.
func released(st refund.Status) bool {
	return st == refund.StatusRejected || st == refund.StatusReturned
}

// FileKind says what a file is: an ERP batch export or a bank reply.
type FileKind string

// The kinds of file.
const (
	FileBatch FileKind = "batch"
	FileReply FileKind = "reply"
)

// FileOutcome is what became of a file.
type FileOutcome string

// The outcomes of a file.
const (
	// FileProcessing: claimed, not finished (after a crash: to resume).
	FileProcessing FileOutcome = "processing"
	// FileDone: processed.
	FileDone FileOutcome = "done"
	// FileDuplicate: new content, but what it carries is known (a batch
	// number already sent, a reply already applied under another file).
	FileDuplicate FileOutcome = "duplicate"
	// FileFailed: refused, with a reason.
	FileFailed FileOutcome = "failed"
)

// valid reports whether o is a file outcome.
func (o FileOutcome) valid() bool {
	return o == FileProcessing || o == FileDone || o == FileDuplicate || o == FileFailed
}

// AllowedFile reports whether a file may go from outcome from to outcome
// to: processing → done, duplicate or failed; an outcome to itself.
func AllowedFile(from, to FileOutcome) bool {
	return from.valid() && to.valid() && (from == to || from == FileProcessing)
}

// SubjectType names what an event is about.
type SubjectType string

// The subjects of events.
const (
	SubjectBatch  SubjectType = "batch"
	SubjectRefund SubjectType = "refund"
	SubjectFile   SubjectType = "file"
	// SubjectPurge: a purge of the personal data whose retention ended;
	// its subject id is PurgeSubject.
	SubjectPurge SubjectType = "purge"
	// SubjectAlarm: an alarm raised or cleared; its subject id is the
	// alarm's key (see SyncAlarms).
	SubjectAlarm SubjectType = "alarm"
)
