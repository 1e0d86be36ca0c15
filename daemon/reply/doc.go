// Package reply reads the bank's replies and says what they mean for the
// refunds refundd sent: pain.002 status reports become refund and batch
// statuses (ReportStatuses, with the rule that a transaction the report
// does not list takes its block's status), camt.054 notifications and
// camt.053 statements become bank entries (BankEntryOf), which package
// refund matches to refunds and turns into postings, matches and
// exceptions.
//
// Process is the whole step for one file: it reads the file to its end
// with the strict tokenizer (a truncated or hostile file is refused whole,
// ErrBadReply), and writes the files for the ERP (status, postings,
// matches, exceptions) into the import folder. It records nothing: the
// caller records the returned statuses and booking keys in the state store
// once the files are durable, so a file processed again posts nothing
// twice. Refs lists the references a camt names, so that a booking can
// settle a batch whose upload was in doubt before it is applied.
package reply
