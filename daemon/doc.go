// Package daemon is the refundd service: the pipelines that move batches
// from the ERP's export folder to the bank and the bank's replies back to
// the ERP, and the operator's actions on them (Resolve, Rerelease). What
// the pipelines translate lives beside it: package config (the
// configuration), render (a batch file to a pain.001), reply (the bank's
// replies to statuses, postings, matches and exceptions); the operator's
// view is package status, the checks packages validate and doctor.
//
// # Outbound
//
// A batch file claimed from the export folder (outbound.go; claiming is
// take.go) is recorded by its content hash (the same content again is
// refused as a duplicate), checked, and rendered durably into
// <state>/outbox/<MsgId>.xml. One store transaction then records the batch
// as sending with all its refunds, the file and its remote name: the
// write-ahead intent. Only then is the file uploaded (upload.go), the same
// bytes under the same name every time. Each upload attempt is recorded
// before its first SFTP call, with the temporary name it writes to; the
// outcome is recorded after (sent, or in-doubt when the server may or may
// not have it). An attempt whose outcome was never recorded (refundd
// stopped during it) is settled from the server before anything else: the
// final name with the recorded size is sent, the attempt's temporary file
// is removed and the batch uploaded again, nothing there is in doubt —
// AutoPay takes complete files away within seconds, so a missing file
// proves nothing. A batch in doubt waits for a pain.002 for its MsgId or a
// booking of one of its refunds (settle.go), or an operator (Resolve).
//
// # Inbound
//
// Replies are downloaded from AutoPay into the inbox folder (durably,
// with a done marker) and removed on the server, or moved there into
// sftp.download_archive_dir (never over a file of the same name); files
// dropped into the inbox by others are taken too (download.go). Each is
// recorded by its hash, processed (reply.Process writes the files for the
// ERP), and only then applied to the store in one transaction with the
// keys of the bookings it posted, so that nothing is posted twice
// (inbound.go).
//
// # Crash points
//
// Every step boundary of both pipelines carries a crash point of package
// failpoint (before and after the upload intent, during the upload, after
// the remote rename, around every status commit, during and after each
// file written for the ERP, around applying a reply). They do nothing
// unless the environment arms them; a test then has the process killed
// there and checks that a restart neither pays nor posts twice.
//
// # Lifecycle
//
// New locks the state folder (one daemon per state folder) and checks the
// store; Run works until its context ends, finishing the file in
// progress, and reloads the configuration on request; RunOnce does what
// is pending and returns.
package daemon
