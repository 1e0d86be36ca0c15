package store

import (
	"context"
	"fmt"
)

// migrations is the schema's history: migrations[i] takes the database
// from version i to version i+1 (PRAGMA user_version). A released
// migration is never edited; a change is a new entry at the end.
var migrations = []string{
	schemaV1,
	schemaV2,
	schemaV3,
	schemaV4,
	schemaV5,
	schemaV6,
	schemaV7,
	schemaV8RefundsByBatch,
	schemaOpenWork,
	schemaStatusSearch,
	schemaWebhookOutbox,
}

// schemaV1 is the first schema. Times are TEXT in timeLayout (UTC), dates
// YYYY-MM-DD, money INTEGER minor units beside a TEXT ISO 4217 code. The
// status CHECKs repeat the Go tables of status.go; a new status needs a
// migration that rebuilds the table.
const schemaV1 = `
CREATE TABLE files (
	hash       TEXT NOT NULL PRIMARY KEY
	           CHECK (length(hash) = 64 AND hash NOT GLOB '*[^0-9a-f]*'),
	name       TEXT NOT NULL,
	kind       TEXT NOT NULL CHECK (kind IN ('batch', 'reply')),
	outcome    TEXT NOT NULL CHECK (outcome IN ('processing', 'done', 'duplicate', 'failed')),
	reason     TEXT NOT NULL DEFAULT '',
	first_seen TEXT NOT NULL,
	updated    TEXT NOT NULL
) STRICT;

CREATE TABLE batches (
	msg_id      TEXT NOT NULL PRIMARY KEY CHECK (msg_id <> ''),
	number      TEXT NOT NULL CHECK (number <> ''),
	attempt     INTEGER NOT NULL CHECK (attempt >= 0),
	file_hash   TEXT REFERENCES files (hash),
	status      TEXT NOT NULL CHECK (status IN ('received', 'rejected', 'sending', 'sent',
	            'in-doubt', 'receipt-ok', 'accepted', 'partially-accepted', 'rejected-by-bank',
	            'pending', 'paid', 'completed')),
	reason      TEXT NOT NULL DEFAULT '',
	local_path  TEXT NOT NULL DEFAULT '',
	remote_name TEXT NOT NULL DEFAULT '',
	pain_hash   TEXT NOT NULL DEFAULT '',
	msg_created TEXT NOT NULL DEFAULT '',
	nb_of_txs   INTEGER NOT NULL CHECK (nb_of_txs > 0),
	created     TEXT NOT NULL,
	updated     TEXT NOT NULL,
	sent        TEXT NOT NULL DEFAULT '',
	UNIQUE (number, attempt)
) STRICT;
CREATE INDEX batches_status ON batches (status);
CREATE INDEX batches_file ON batches (file_hash);

CREATE TABLE batch_totals (
	msg_id    TEXT NOT NULL REFERENCES batches (msg_id),
	currency  TEXT NOT NULL CHECK (length(currency) = 3),
	nb_of_txs INTEGER NOT NULL CHECK (nb_of_txs > 0),
	minor     INTEGER NOT NULL CHECK (minor > 0),
	PRIMARY KEY (msg_id, currency)
) STRICT, WITHOUT ROWID;

CREATE TABLE refunds (
	end_to_end_id         TEXT NOT NULL PRIMARY KEY CHECK (end_to_end_id <> ''),
	doc_type              TEXT NOT NULL CHECK (doc_type IN ('CreditNote', 'Prepayment', 'Payment')),
	ref_nbr               TEXT NOT NULL CHECK (ref_nbr <> ''),
	release_no            INTEGER NOT NULL CHECK (release_no >= 0),
	msg_id                TEXT NOT NULL REFERENCES batches (msg_id),
	pmt_inf_id            TEXT NOT NULL CHECK (pmt_inf_id <> ''),
	instr_id              TEXT UNIQUE CHECK (instr_id <> ''),
	amount_minor          INTEGER NOT NULL CHECK (amount_minor > 0),
	currency              TEXT NOT NULL CHECK (length(currency) = 3),
	execution_date        TEXT NOT NULL CHECK (date(execution_date) IS execution_date),
	creditor_account      TEXT NOT NULL CHECK (creditor_account <> ''),
	debtor_account        TEXT NOT NULL DEFAULT '',
	debtor_ledger_account TEXT NOT NULL DEFAULT '',
	customer_id           TEXT NOT NULL DEFAULT '',
	status                TEXT NOT NULL CHECK (status IN ('new', 'sent', 'accepted', 'pending',
	                      'rejected', 'booked', 'returned')),
	reason_code           TEXT NOT NULL DEFAULT '',
	reason_text           TEXT NOT NULL DEFAULT '',
	created               TEXT NOT NULL,
	updated               TEXT NOT NULL,
	UNIQUE (doc_type, ref_nbr, release_no)
) STRICT;
CREATE INDEX refunds_batch ON refunds (msg_id, pmt_inf_id);
CREATE INDEX refunds_amount_date ON refunds (execution_date, currency, amount_minor);

CREATE TABLE bank_entries (
	account       TEXT NOT NULL,
	entry         TEXT NOT NULL CHECK (entry <> ''),
	tx            TEXT NOT NULL CHECK (tx <> ''),
	file_hash     TEXT NOT NULL REFERENCES files (hash),
	kind          TEXT NOT NULL CHECK (kind IN ('', 'payment', 'return', 'charges', 'exception')),
	end_to_end_id TEXT NOT NULL DEFAULT '',
	applied       TEXT NOT NULL,
	PRIMARY KEY (account, entry, tx)
) STRICT, WITHOUT ROWID;
CREATE INDEX bank_entries_file ON bank_entries (file_hash);
CREATE INDEX bank_entries_refund ON bank_entries (end_to_end_id) WHERE end_to_end_id <> '';

CREATE TABLE events (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	at           TEXT NOT NULL,
	subject_type TEXT NOT NULL CHECK (subject_type IN ('batch', 'refund', 'file')),
	subject_id   TEXT NOT NULL,
	from_status  TEXT NOT NULL,
	to_status    TEXT NOT NULL,
	reason       TEXT NOT NULL DEFAULT '',
	detail       TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX events_subject ON events (subject_type, subject_id, id);

-- Append-only: no UPDATE, no DELETE, and no INSERT over an existing row
-- (INSERT OR REPLACE deletes without firing DELETE triggers).
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_replace BEFORE INSERT ON events
WHEN NEW.id IN (SELECT id FROM events)
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TRIGGER bank_entries_no_update BEFORE UPDATE ON bank_entries
BEGIN SELECT RAISE(ABORT, 'applied bank entries are append-only'); END;
CREATE TRIGGER bank_entries_no_delete BEFORE DELETE ON bank_entries
BEGIN SELECT RAISE(ABORT, 'applied bank entries are append-only'); END;
CREATE TRIGGER bank_entries_no_replace BEFORE INSERT ON bank_entries
WHEN EXISTS (SELECT 1 FROM bank_entries WHERE account = NEW.account AND entry = NEW.entry AND tx = NEW.tx)
BEGIN SELECT RAISE(ABORT, 'applied bank entries are append-only'); END;
`

// schemaV2 records every upload attempt of a batch before it begins, with
// the remote temporary name it writes to: after a crash an open attempt
// is settled from the server's listing, never repeated blindly. An
// attempt is ended once (its outcome recorded) and never deleted; at most
// one attempt of a batch is open.
//
// A batch that was sending when an earlier version stopped may have been
// uploaded by it (that version recorded no attempts): it gets an open
// attempt 1 whose temporary name is that of the default pattern
// (".NAME.part"), so it is settled like any interrupted attempt: found
// under its final name → sent, its temporary file found → removed and
// uploaded again, nothing there → in doubt.
const schemaV2 = `
CREATE TABLE upload_attempts (
	msg_id    TEXT NOT NULL REFERENCES batches (msg_id),
	attempt   INTEGER NOT NULL CHECK (attempt > 0),
	temp_name TEXT NOT NULL CHECK (temp_name <> ''),
	started   TEXT NOT NULL,
	ended     TEXT NOT NULL DEFAULT '',
	outcome   TEXT NOT NULL DEFAULT '' CHECK (outcome IN ('', 'not-uploaded', 'sent', 'in-doubt', 'settled')),
	detail    TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (msg_id, attempt),
	CHECK ((ended = '') = (outcome = ''))
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX upload_attempts_open ON upload_attempts (msg_id) WHERE ended = '';

CREATE TRIGGER upload_attempts_no_delete BEFORE DELETE ON upload_attempts
BEGIN SELECT RAISE(ABORT, 'upload attempts are kept'); END;
CREATE TRIGGER upload_attempts_end_once BEFORE UPDATE ON upload_attempts
WHEN OLD.ended <> '' OR NEW.msg_id IS NOT OLD.msg_id OR NEW.attempt IS NOT OLD.attempt
	OR NEW.temp_name IS NOT OLD.temp_name OR NEW.started IS NOT OLD.started
BEGIN SELECT RAISE(ABORT, 'an upload attempt is ended once and not changed otherwise'); END;

INSERT INTO upload_attempts (msg_id, attempt, temp_name, started)
SELECT msg_id, 1,
	rtrim(remote_name, replace(remote_name, '/', '')) || '.' ||
	replace(remote_name, rtrim(remote_name, replace(remote_name, '/', '')), '') || '.part',
	updated
FROM batches WHERE status = 'sending';
`

// schemaV3 makes the store fit for more than one instance of a company:
//
//   - batches.pain holds the pain.001 itself, written with the intent,
//     so that any instance sends exactly the recorded bytes and none
//     renders a batch again;
//   - lease is the company's one leadership row: the holder, and an
//     epoch that only grows (the fencing token), with when it was
//     acquired and renewed and when it expires. It is never deleted;
//   - events and upload attempts record the epoch they were written at.
const schemaV3 = `
ALTER TABLE batches ADD COLUMN pain BLOB;
ALTER TABLE events ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE upload_attempts ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;

DROP TRIGGER upload_attempts_end_once;
CREATE TRIGGER upload_attempts_end_once BEFORE UPDATE ON upload_attempts
WHEN OLD.ended <> '' OR NEW.msg_id IS NOT OLD.msg_id OR NEW.attempt IS NOT OLD.attempt
	OR NEW.temp_name IS NOT OLD.temp_name OR NEW.started IS NOT OLD.started OR NEW.epoch IS NOT OLD.epoch
BEGIN SELECT RAISE(ABORT, 'an upload attempt is ended once and not changed otherwise'); END;

CREATE TABLE lease (
	id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	holder   TEXT NOT NULL DEFAULT '',
	epoch    INTEGER NOT NULL DEFAULT 0 CHECK (epoch >= 0),
	acquired TEXT NOT NULL DEFAULT '',
	renewed  TEXT NOT NULL DEFAULT '',
	expires  TEXT NOT NULL DEFAULT ''
) STRICT;
INSERT INTO lease (id) VALUES (1);
CREATE TRIGGER lease_kept BEFORE DELETE ON lease
BEGIN SELECT RAISE(ABORT, 'the lease row is kept'); END;
CREATE TRIGGER lease_epoch_grows BEFORE UPDATE ON lease WHEN NEW.epoch < OLD.epoch
BEGIN SELECT RAISE(ABORT, 'the lease epoch only grows'); END;
`

// schemaV4 keeps a refund's BaseAmount, its amount in the currency of the
// bank account it is paid from at the ERP document's rate, for the
// currency difference of its payment: base_minor in base_currency, both
// zero when not exported.
const schemaV4 = `
ALTER TABLE refunds ADD COLUMN base_minor INTEGER NOT NULL DEFAULT 0 CHECK (base_minor >= 0);
ALTER TABLE refunds ADD COLUMN base_currency TEXT NOT NULL DEFAULT '' CHECK (base_currency = '' OR length(base_currency) = 3);
`

// schemaV5 adds:
//
//   - the batch status settled-with-exceptions, and batches without
//     refunds (every refund of the file held back). SQLite cannot change a
//     CHECK constraint in place; a constraint that allows more values
//     than before leaves every stored row valid, so the table's recorded
//     definition is edited (writable_schema), and the schema version is
//     raised with the migration so that every connection reads it anew;
//   - refund_notes: the refunds of an ERP batch file that were left out
//     of its batch (invalid, or held by the account guard) or sent with
//     a flag (account changed), each with the batch it belongs to, its
//     place in the file and why; resolved_in is the MsgId of the later
//     batch that recorded the same document, "" while open;
//   - an index of refunds by customer, for the account guard.
const schemaV5 = `
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(replace(sql, '''pending'', ''paid'', ''completed''',
	'''pending'', ''paid'', ''settled-with-exceptions'', ''completed'''), 'CHECK (nb_of_txs > 0)', 'CHECK (nb_of_txs >= 0)')
WHERE type = 'table' AND name = 'batches';
PRAGMA writable_schema = OFF;
-- The edit must have taken: a definition written otherwise than expected
-- fails the migration here, not a later write.
CREATE TEMP TABLE schema_edit (ok INTEGER NOT NULL CHECK (ok = 1));
INSERT INTO schema_edit SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'batches'
	AND sql LIKE '%''settled-with-exceptions''%' AND sql LIKE '%CHECK (nb_of_txs >= 0)%';
DROP TABLE schema_edit;

CREATE TABLE refund_notes (
	msg_id      TEXT NOT NULL REFERENCES batches (msg_id),
	position    TEXT NOT NULL CHECK (position <> ''),
	doc_type    TEXT NOT NULL,
	ref_nbr     TEXT NOT NULL,
	customer_id TEXT NOT NULL DEFAULT '',
	kind        TEXT NOT NULL CHECK (kind IN ('invalid', 'held', 'account-changed')),
	reason      TEXT NOT NULL,
	resolved_in TEXT NOT NULL DEFAULT '',
	created     TEXT NOT NULL,
	updated     TEXT NOT NULL,
	PRIMARY KEY (msg_id, position, kind)
) STRICT;
CREATE INDEX refund_notes_open ON refund_notes (doc_type, ref_nbr) WHERE resolved_in = '';
CREATE INDEX refunds_customer ON refunds (customer_id, status);
`

// schemaV6 records what the retention purges (see Purge):
//
//   - batches.purged is when the personal data of the batch, its refunds
//     and its notes was purged, "" until then;
//   - events of subject type purge record each purge with its counts.
//     The CHECK of events.subject_type allows more values than before,
//     which leaves every stored row valid: it is edited as schemaV5 edits
//     that of batches.
const schemaV6 = `
ALTER TABLE batches ADD COLUMN purged TEXT NOT NULL DEFAULT '';
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql, '''refund'', ''file'')', '''refund'', ''file'', ''purge'')')
WHERE type = 'table' AND name = 'events';
PRAGMA writable_schema = OFF;
CREATE TEMP TABLE schema_edit (ok INTEGER NOT NULL CHECK (ok = 1));
INSERT INTO schema_edit SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'events'
	AND sql LIKE '%''purge''%';
DROP TABLE schema_edit;
`

// schemaV7 indexes the bookings recorded without the refund they were
// matched to (before the daemon recorded it), by their transaction key,
// which is then the refund's EndToEndId: the reads of a batch's bank
// references use it instead of reading every booking.
const schemaV7 = `
CREATE INDEX bank_entries_tx ON bank_entries (tx) WHERE end_to_end_id = '' AND kind IN ('', 'payment', 'return');
`

// schemaV8RefundsByBatch indexes the refunds of each batch for the
// status view, which reads a big batch a page at a time from any point
// and counts its refunds by status: refunds_batch_order holds them in the
// order they were recorded (an index on msg_id holds the rowid after it),
// refunds_batch_status their statuses, so that neither read sorts or
// visits every refund of the batch's table rows.
const schemaV8RefundsByBatch = `
CREATE INDEX refunds_batch_order ON refunds (msg_id);
CREATE INDEX refunds_batch_status ON refunds (msg_id, status);
`

// schemaOpenWork (version 9) lets a step read only the work that is still
// open, whatever the history:
//
//   - batches_status_updated: the batches in a status whose last change
//     is before a time, by index (the paid and settled batches old
//     enough to be completed), not every paid batch;
//   - batches_created: the batches in the order they were recorded, so
//     that the retention finds the oldest batch it keeps by walking from
//     the oldest, past those that expired, not by reading them all;
//   - integrity_checked: the last start-up check of the store, so that
//     the next one checks only what changed since (and all of it again
//     once a day). One row.
const schemaOpenWork = `
CREATE INDEX batches_status_updated ON batches (status, updated);
CREATE INDEX batches_created ON batches (created, msg_id);
CREATE TABLE integrity_checked (
	id            INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	full_at       TEXT NOT NULL,
	through_event INTEGER NOT NULL CHECK (through_event >= 0),
	at            TEXT NOT NULL
) STRICT;
`

// schemaStatusSearch lets the status page find what needs an operator
// and search refunds without reading every row:
//
//   - bank_entries_exceptions: the entries written to an exceptions file
//     for the ERP (kind exception, and the exception lines of status
//     reports, account "pain.002"), by the time they were applied, so
//     that the page lists the recent ones;
//   - refunds_account_tail: the refunds by the last four characters of
//     the creditor account, for a search by an account's last digits
//     (the account itself is shown masked).
const schemaStatusSearch = `
CREATE INDEX bank_entries_exceptions ON bank_entries (applied) WHERE kind = 'exception' OR account = 'pain.002';
CREATE INDEX refunds_account_tail ON refunds (substr(creditor_account, -4));
`

// schemaWebhookOutbox (version 11) makes the business events that
// webhooks announce durable and deliverable:
//
//   - events of subject type alarm: an alarm raised or cleared, recorded
//     in the transaction that changes the alarm's row. The CHECK of
//     events.subject_type allows more values than before, which leaves
//     every stored row valid: it is edited as schemaV5 edits that of
//     batches;
//   - alarms: each alarm raised (kind and subject), and when it was
//     cleared ("" while raised);
//   - events_notify: the events a webhook may announce, by id, so that
//     a receiver's next events and its backlog are read from them alone;
//   - webhooks: per receiver (its URL), the last event it was given or
//     does not take (through_event), and its delivery state. The delivery
//     reads the notifiable events after through_event and moves it past
//     each only once the receiver answered 2xx; it never moves back.
const schemaWebhookOutbox = `
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql, '''file'', ''purge'')', '''file'', ''purge'', ''alarm'')')
WHERE type = 'table' AND name = 'events';
PRAGMA writable_schema = OFF;
CREATE TEMP TABLE schema_edit (ok INTEGER NOT NULL CHECK (ok = 1));
INSERT INTO schema_edit SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'events'
	AND sql LIKE '%''alarm''%';
DROP TABLE schema_edit;

CREATE TABLE alarms (
	key     TEXT NOT NULL PRIMARY KEY CHECK (key <> ''),
	kind    TEXT NOT NULL CHECK (kind <> ''),
	subject TEXT NOT NULL,
	detail  TEXT NOT NULL DEFAULT '',
	raised  TEXT NOT NULL,
	cleared TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX alarms_open ON alarms (key) WHERE cleared = '';

CREATE INDEX events_notify ON events (id) WHERE ` + notifiable + `;

CREATE TABLE webhooks (
	hook          TEXT NOT NULL PRIMARY KEY CHECK (hook <> ''),
	through_event INTEGER NOT NULL CHECK (through_event >= 0),
	created       TEXT NOT NULL,
	delivered     INTEGER NOT NULL DEFAULT 0 CHECK (delivered >= 0),
	failures      INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
	last_success  TEXT NOT NULL DEFAULT '',
	last_error    TEXT NOT NULL DEFAULT '',
	last_error_at TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE TRIGGER webhooks_forward BEFORE UPDATE ON webhooks WHEN NEW.through_event < OLD.through_event
BEGIN SELECT RAISE(ABORT, 'a webhook cursor only moves forward'); END;
`

// notifiable is the condition of the events a webhook may announce: a
// refund rejected or returned, a batch rejected (by the bank; or by
// refundd's checks: its file failed) or in doubt, an alarm raised or
// cleared. The partial index events_notify holds them; a query that reads
// them repeats it as it is.
const notifiable = `(subject_type = 'alarm' OR (subject_type = 'refund' AND to_status IN ('rejected', 'returned'))
	OR (subject_type = 'batch' AND to_status IN ('rejected', 'rejected-by-bank', 'in-doubt'))
	OR (subject_type = 'file' AND to_status = 'failed'))`

// migrate brings the database to version len(migs). Each migration runs in
// its own write transaction together with the new user_version, so a crash
// leaves the database at one version or the next, never in between. A
// database at a version above len(migs) is refused with ErrSchemaTooNew and
// left untouched.
func migrate(ctx context.Context, db *db, migs []string, v versioner) error {
	for {
		done, err := migrateOne(ctx, db, migs, v)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next migration, if any; done reports that there
// was none.
func migrateOne(ctx context.Context, db *db, migs []string, vr versioner) (done bool, err error) {
	tx, err := db.begin(ctx, nil) // SQLite: BEGIN IMMEDIATE; PostgreSQL: vr.get locks; the version read below stays true
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil || done {
			_ = tx.Rollback() // nothing written, or err is the one to report
		}
	}()
	v, err := vr.get(ctx, tx)
	if err != nil {
		return false, err
	}
	switch {
	case v > len(migs):
		return false, fmt.Errorf("%w: the database is at schema version %d, this program knows versions up to %d; run a newer refundd", ErrSchemaTooNew, v, len(migs))
	case v == len(migs):
		return true, nil
	}
	if _, err := tx.ExecContext(ctx, migs[v]); err != nil {
		return false, fmt.Errorf("migrate to schema version %d: %w", v+1, err)
	}
	if err := vr.set(ctx, tx, v+1); err != nil {
		return false, fmt.Errorf("migrate to schema version %d: %w", v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate to schema version %d: %w", v+1, err)
	}
	return false, nil
}

// versioner reads and writes the schema version in a migration's
// transaction.
type versioner struct {
	get func(ctx context.Context, tx *txn) (int, error)
	set func(ctx context.Context, tx *txn, v int) error
}

// sqliteVersion keeps the version in PRAGMA user_version.
var sqliteVersion = versioner{
	get: func(ctx context.Context, tx *txn) (v int, err error) {
		err = tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
		return v, err
	},
	set: func(ctx context.Context, tx *txn, v int) error {
		// PRAGMA takes no parameters; v is an integer we formatted.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v)); err != nil {
			return err
		}
		// One more than the schema version makes every connection read
		// the schema again, as a migration that edits a table's
		// recorded definition needs (schemaV5).
		var sv int
		if err := tx.QueryRowContext(ctx, "PRAGMA schema_version").Scan(&sv); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA schema_version = %d", sv+1))
		return err
	},
}

// Version returns the schema version of the open database.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	q := "PRAGMA user_version"
	if s.d.pg {
		q = "SELECT version FROM schema_version"
	}
	if err := s.r.QueryRowContext(ctx, q).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version %s: %w", s.path, err)
	}
	return v, nil
}
