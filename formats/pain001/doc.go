// Package pain001 writes ISO 20022 CustomerCreditTransferInitiation
// messages, pain.001.001.03 (the Norwegian banks' common guideline) and
// pain.001.001.09.
//
// The Encoder streams: the caller gives the group header with its totals,
// then each payment-information block with its totals, then that block's
// transactions one at a time. Nothing is kept in memory but the running
// totals, which Close checks against the declared ones, so a file with a
// wrong NbOfTxs or CtrlSum is never reported as written successfully.
package pain001
