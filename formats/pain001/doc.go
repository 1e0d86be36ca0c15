// Package pain001 writes and reads ISO 20022 CustomerCreditTransferInitiation
// messages, pain.001.001.03 (the Norwegian banks' common guideline) and
// pain.001.001.09.
//
// The Encoder streams: the caller gives the group header with its totals,
// then each payment-information block with its totals, then that block's
// transactions one at a time. Nothing is kept in memory but the running
// totals, which Close checks against the declared ones, so a file with a
// wrong NbOfTxs or CtrlSum is never reported as written successfully.
//
// Decode reads a pain.001 back, one transaction at a time: refundd validate
// checks with it the files an operator hands it, and the sandbox bank reads
// the files refundd uploaded. It reads with the strict streaming reader
// that the readers of bank replies share, within its own limits (Options:
// 1 GiB by default, since a pain.001 holds a whole batch; nesting, token
// length as for replies): it refuses a DOCTYPE, a second root element,
// text after the root element, a document that is not UTF-8, elements
// outside the message's namespace, a single element given twice, and
// values that are not valid, each with the line and path of the element.
// It does not compare the declared totals with the transactions; its
// caller adds them up.
package pain001
