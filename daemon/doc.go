// Package daemon is the refundd service: its configuration, the mapping
// between refunds and ISO 20022 messages, and the pipelines that move
// batches to the bank and replies back to the ERP.
//
// # Outbound
//
// A batch file claimed from the export folder is recorded by its content
// hash (the same content again is refused as a duplicate), checked, and
// rendered durably into <state>/outbox/<MsgId>.xml. One store transaction
// then records the batch as sending with all its refunds, the file and its
// remote name: the write-ahead intent. Only then is the file uploaded; the
// outcome is recorded after (sent, or in-doubt when the server may or may
// not have it). A failed upload is tried again later with the same file
// under the same name, never rendered again. Before every upload, and at
// start for batches in doubt, the remote folder is looked at: the file
// there with the recorded size is the batch, sent by a run that stopped
// before recording it. A batch in doubt otherwise waits for a pain.002 or
// an operator (Resolve).
//
// # Inbound
//
// Replies are downloaded from AutoPay into the inbox folder (durably,
// with a done marker) and removed on the server, or moved there into
// sftp.download_archive_dir (never over a file of the same name); files
// dropped into the inbox by others are taken too. Each is recorded by its hash, processed
// (ProcessReply writes the files for the ERP), and only then applied to
// the store in one transaction with the keys of the bookings it posted,
// so that nothing is posted twice.
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
