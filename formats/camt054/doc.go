// Package camt054 reads ISO 20022 bank-to-customer notifications and
// statements entry by entry, and writes notifications.
//
// Reader reads camt.054.001.02, camt.054.001.04 and camt.054.001.08
// (BankToCustomerDebitCreditNotification) and camt.053.001.02
// (BankToCustomerStatement) into the same Entry type, one entry at a time
// in constant memory. Writer writes camt.054.001.02.
//
// The documents are untrusted; see NewReader for what is refused. A
// document is only complete when Next has returned io.EOF: a truncated
// file fails at its end, after the entries before the cut were returned,
// so nothing read from a document may be committed before that.
package camt054
