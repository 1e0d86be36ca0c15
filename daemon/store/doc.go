// Package store is refundd's durable state: the files it took in, the
// batches and refunds it sent, the bank bookings it applied, and an audit
// log of every status change. It is one SQLite database (modernc.org/sqlite,
// pure Go) in the state folder (Open), or one schema per company on a
// PostgreSQL server (OpenPostgres, through pgx's database/sql driver); its
// uniqueness constraints are what keeps refundd from paying or posting
// twice.
//
// # Two engines, one code
//
// Both engines run the same Go code on database/sql: every statement is
// written once, with "?" parameters, and rebound to "$1"… for PostgreSQL
// (db.go). What differs is small: the DDL of each schema version (the same
// tables, CHECKs and append-only rules; PostgreSQL's triggers are
// functions), the version (PRAGMA user_version or a schema_version table),
// the error codes, and sets of rows sent as arrays (unnest) rather than
// VALUES lists (bulk.go). A write transaction sends few statements
// whatever the number of refunds: a round trip to a server costs more
// than the work.
//
// # Leadership
//
// A company may run two instances, one leading. The lease row (lease.go)
// names the holder and an epoch, the fencing token, which grows at every
// acquisition. Every write transaction first reads the lease row (on
// PostgreSQL with FOR UPDATE, which also serializes every writer of the
// company, operator commands included) and, while the Store leads, fails
// with ErrNotLeader when the lease is no longer its own. Events record the
// epoch of their writer; IntegrityCheck finds an event written at a lower
// epoch than one before it. On PostgreSQL a COMMIT whose reply is lost is
// settled by asking the server (pg_xact_status) on another connection,
// never retried blindly. With SQLite one process runs (the state folder's
// lock file); it takes the lease at every start, so the epoch counts the
// runs.
//
// # Schema
//
//   - files: every batch export and bank reply, by the SHA-256 of its
//     content (PRIMARY KEY), with the name it was first seen under, its
//     kind (batch, reply) and outcome (processing, done, duplicate,
//     failed) with a reason. RecordFile is the claim: a second file with
//     the same content is refused with ErrDuplicate.
//   - batches: one row per pain.001, keyed by MsgId, UNIQUE (ERP batch
//     number, attempt); status (BatchStatus), the pain.001 itself, its
//     path in the outbox and its remote name (the write-ahead intent), the
//     hash and GrpHdr/CreDtTm of the pain.001, NbOfTxs, and the times
//     created, updated, sent and purged (when the retention ended and
//     Purge replaced the personal data of the batch, its refunds and its
//     notes). batch_totals holds the sum per currency.
//   - upload_attempts: every upload attempt of a batch, recorded before
//     it begins, with its temporary name and epoch, ended once.
//   - lease: the company's one leadership row (see Leadership).
//   - refunds: keyed by EndToEndId, UNIQUE (DocType, RefNbr, release) and
//     UNIQUE InstrId; the batch (MsgId, PmtInfId), amount in integer minor
//     units beside its currency, execution date, creditor and debtor
//     accounts, debtor ledger account, customer, status (refund.Status),
//     and the bank's last reason code and text. Beyond the constraints,
//     CreateBatch refuses a new release of a document while an earlier
//     release is live (not rejected or returned): only a refund that the
//     bank did not pay is paid again.
//   - bank_entries: the bookings applied, keyed by refund.Key (account,
//     entry, transaction), with the reply file, the outcome's kind and the
//     refund.
//   - events: the audit log: one row per status change of a batch, refund
//     or file, written in the transaction that made the change; creation
//     is a change from "". A purge is an event too (SubjectPurge).
//
// events and bank_entries are append-only: triggers abort an UPDATE, a
// DELETE and an INSERT over an existing row (INSERT OR REPLACE deletes
// without firing DELETE triggers). They guard against mistakes, also in an
// operator's sqlite3 shell, not against someone who drops the triggers.
//
// Times are UTC text, RFC 3339 with nanoseconds and a fixed width, so that
// text order is time order; dates are YYYY-MM-DD. Money is never a float.
// The tables are STRICT, and CHECK constraints repeat the status sets.
//
// Status changes are allowed only along the tables in status.go (batchNext,
// refundNext, AllowedFile; AllowedBatch and AllowedRefund let a caller
// test a change first); each change writes an event; a change to the
// status a subject has already is a no-op without an event. Two batch
// changes carry their refunds along: a batch that reaches the bank (from
// sending or in-doubt) takes its new refunds to sent, and a batch rejected
// before sending takes them to rejected.
//
// # Migrations
//
// The schema version is PRAGMA user_version (on PostgreSQL the table
// schema_version, read under a transaction-scoped advisory lock on the
// schema's name, so that two instances starting at once migrate one after
// the other). Open applies the migrations
// the database lacks, each in its own write transaction together with its
// new version, so a crash leaves the schema at one version or the next.
// A database newer than the program is refused (ErrSchemaTooNew) and left
// as it is.
//
// # Durability
//
// The database runs in WAL mode with synchronous=FULL: when a write
// method returns nil its transaction is on disk, and survives a crash of
// the process or of the machine (if the disk honours fsync). A crash in
// the middle of a transaction leaves none of it. foreign_keys is on and
// busy_timeout is set; the settings are in the DSN, so every connection
// has them, and Open reads them back (a journal_mode that cannot be WAL,
// as on a network file system, is an error). A new database file is
// created with mode 0600 and its folder synced.
//
// There is one writer: a *sql.DB limited to one connection, whose
// transactions begin IMMEDIATE. A transaction that reads and then writes
// (every status change) thus holds the write lock from its first read and
// cannot fail with SQLITE_BUSY when it upgrades, and writers wait for the
// one connection in database/sql, where the wait honours their context,
// rather than in SQLite's busy handler: the pool is the write mutex. A
// mutex over one shared pool was the alternative; it is not used because
// the driver chooses BEGIN IMMEDIATE per DSN, not per transaction, so
// reads would take the write lock too, and because a forgotten lock
// would go unnoticed. Reads go through a second pool of a few read-only
// (query_only) connections: in WAL mode a reader sees the last committed
// snapshot and never waits for the writer, so the status screen and the
// matching of a camt.054 do not hold up an upload, and a read that tries
// to write fails.
//
// IntegrityCheck runs PRAGMA integrity_check and foreign_key_check and
// checks refundd's own invariants. Run it at start-up and refuse to start
// on an error: a damaged state is never replaced by a fresh one, which
// would send everything again.
//
// The package declares no interface for its users. The daemon holds a
// *Store; where a function needs only part of it, that function's package
// declares a small interface of just those methods (the daemon's
// intentStore, for one), which *Store satisfies. refund.Match and
// refund.Apply take no context, so Store.Lookup(ctx) returns a small value
// bound to one reply's context that implements refund.Lookup and
// refund.Seen.
package store
