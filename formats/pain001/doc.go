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
// the files refundd uploaded. It is not meant for untrusted input. It is
// built on encoding/xml, not on the strict reader that the readers of bank
// replies share, and has none of their limits (formats.Options): it bounds
// neither the size of the document nor the length of a text, and nesting
// only as far as encoding/xml does (10 000 levels within an element it
// decodes), and it does not check the namespace of elements below the
// root. It refuses a DOCTYPE, a second root element, text after the root
// element, and a document that is not UTF-8 (another declared encoding, or
// bytes that are not valid UTF-8). It does not compare the declared totals
// with the transactions; its caller adds them up.
package pain001
