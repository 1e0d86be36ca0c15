// Package pain002 reads and writes ISO 20022 CustomerPaymentStatusReport
// messages: it reads pain.002.001.03 and pain.002.001.10 (and the Swiss
// SIX pain.002.001.03.ch.02, which has the .03 schema under its own
// namespace), and writes pain.002.001.03.
//
// A report answers one pain.001 at up to three levels: the group (the
// whole message, GrpSts), payment-information blocks (PmtInfSts) and
// transactions (TxSts), each with reasons. Decode reads the whole report,
// which is small, with the same untrusted-input rules as the streaming
// camt.054 reader: see package formats. Effective works out the status a
// report gives one transaction, including the transactions it does not
// list.
package pain002
