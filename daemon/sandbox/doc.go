// Package sandbox is a stand-in for AutoPay on 127.0.0.1, for trying
// refundd without a bank: the embedded SFTP server of package sftpx with a
// generated host key, and a simulated bank behind it.
//
// As AutoPay does, the bank takes each complete pain.001 uploaded into
// /inbound away from there within moments (into bank-taken/ of the
// working folder, which the SFTP server does not serve; temporary upload
// names are left alone), and checks it: the XML against the pain.001
// rules (a file that cannot be read is rejected with FF01), the counts
// (AM18) and control sums (AM10) of the group and of each payment block,
// a MsgId received before (the group is rejected with DU01), an
// EndToEndId received before (the transaction is rejected with DU05) and
// the check digits of each creditor account (AC01). Into /outbound it
// writes, a delay apart: a pain.002 receipt (ACTC), a pain.002 status
// (ACCP, with each rejected transaction RJCT), and a camt.054 debit
// booking with a bank reference for every accepted refund, one entry per
// payment block when the block asks for batch booking (BtchBookg), else
// one per transaction.
//
// Test accounts:
//
//   - AccountClosed (9710.00.00044): rejected with AC04, closed account.
//   - AccountReturned (9710.00.00052): booked, then returned by the payee's
//     bank, a camt.054 credit with RtrInf AC04.
//   - AccountPending (9710.00.00060): pending (PDNG) in the status report,
//     accepted in a later one, then booked.
//
// Start prepares a working folder with keys, known_hosts, a refundd
// configuration pointing at the stand-in, and an example batch in the
// export folder with one refund of each kind.
package sandbox
