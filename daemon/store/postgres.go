package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgresConfig says where a company's state lives on PostgreSQL.
type PostgresConfig struct {
	// URL is a libpq connection URL or key=value string.
	URL string
	// Schema is the company's schema; it is created when missing.
	Schema string
	// StatementTimeout and IdleInTransactionTimeout are set on every
	// connection unless the URL sets them: the second ends the session of
	// a leader stopped inside a transaction, so that its lock on the lease
	// row does not block a takeover (default 10 s and 5 s).
	StatementTimeout, IdleInTransactionTimeout time.Duration
	// Existing refuses a schema that refundd has not created yet
	// (ErrNoSchema) instead of creating it: commands beside the daemon
	// (status, resolve, doctor) never start a company afresh.
	Existing bool
}

// ErrNoSchema: the company's schema does not exist (or holds no refundd
// tables), and the caller asked not to create it.
var ErrNoSchema = errors.New("no such schema")

// The most connections of each pool on PostgreSQL: one writer, one for the
// lease, and a few readers that close when idle, so that a standby holds
// one connection and an idle leader two.
const (
	pgReaders     = 2
	pgIdleTimeout = 30 * time.Second
)

// schemaName is what a schema may be called: a plain lower-case
// identifier, so that it is never quoted wrongly.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// OpenPostgres opens the company's state in the schema cfg.Schema of the
// PostgreSQL database at cfg.URL, creating the schema when it does not
// exist, and brings it up to date. Two instances that start at once
// migrate one after the other (a transaction-scoped advisory lock per
// schema). Like Open it refuses a schema newer than this program's.
func OpenPostgres(ctx context.Context, cfg PostgresConfig) (*Store, error) {
	s, err := openPostgres(ctx, cfg, pgMigrations)
	if err != nil {
		return nil, fmt.Errorf("open store postgres schema %s: %w", cfg.Schema, err)
	}
	return s, nil
}

func openPostgres(ctx context.Context, cfg PostgresConfig, migs []string) (*Store, error) {
	if !schemaName.MatchString(cfg.Schema) {
		return nil, fmt.Errorf("%w: schema %q must be a lower-case identifier (a-z, 0-9, _)", ErrInvalid, cfg.Schema)
	}
	cc, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: url: %v", ErrInvalid, err)
	}
	setDefault := func(k string, d time.Duration) {
		if _, ok := cc.RuntimeParams[k]; !ok {
			cc.RuntimeParams[k] = fmt.Sprintf("%dms", d.Milliseconds())
		}
	}
	setDefault("statement_timeout", orDefault(cfg.StatementTimeout, 10*time.Second))
	setDefault("idle_in_transaction_session_timeout", orDefault(cfg.IdleInTransactionTimeout, 5*time.Second))
	if cc.ConnectTimeout == 0 {
		// A server that accepts and never answers (a network that holds
		// the packets) must not hold refundd for ever.
		cc.ConnectTimeout = 10 * time.Second
	}
	cc.RuntimeParams["search_path"] = `"` + cfg.Schema + `"`
	// A prepared statement's generic plan, made once for a connection,
	// cannot see how many EndToEndIds a set holds, nor that a company's
	// tables have grown since: it picked a sequential scan of refunds for
	// a reply's hundred. The statements are few and small, so each is
	// planned for its values.
	cc.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "refundd"
	}
	s := &Store{path: "postgres schema " + cfg.Schema, now: time.Now, d: &dialect{pg: true}}
	pool := func(max int, readOnly bool) *db {
		c := cc.Copy()
		if readOnly {
			c.RuntimeParams["default_transaction_read_only"] = "on"
		}
		p := stdlib.OpenDB(*c)
		p.SetMaxOpenConns(max)
		p.SetMaxIdleConns(max)
		p.SetConnMaxIdleTime(pgIdleTimeout)
		return &db{DB: p, d: s.d}
	}
	s.w, s.r, s.l = pool(1, false), pool(pgReaders, true), pool(1, false)
	if cfg.Existing {
		var ok bool
		err := s.r.QueryRowContext(ctx, `SELECT to_regclass(quote_ident(?) || '.schema_version') IS NOT NULL`, cfg.Schema).Scan(&ok)
		if err == nil && !ok {
			err = fmt.Errorf("%w: %s (has refundd run with this configuration?)", ErrNoSchema, cfg.Schema)
		}
		if err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	if err := migrate(ctx, s.w, migs, pgVersion(cfg.Schema)); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// pgVersion keeps the schema version in the table schema_version of the
// schema. Its get first takes a transaction-scoped advisory lock on the
// schema's name, so that a second instance starting at the same time
// waits until the first has committed its migration, then reads the new
// version.
func pgVersion(schema string) versioner {
	return versioner{
		get: func(ctx context.Context, tx *txn) (int, error) {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('refundd schema ' || ?))`, schema); err != nil {
				return 0, err
			}
			// The schema name is checked against schemaName; DDL takes no parameters.
			if _, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS "`+schema+`";
				CREATE TABLE IF NOT EXISTS schema_version (
					id      int PRIMARY KEY CHECK (id = 1),
					version int NOT NULL CHECK (version >= 0));
				INSERT INTO schema_version VALUES (1, 0) ON CONFLICT DO NOTHING`); err != nil {
				return 0, err
			}
			var v int
			err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
			return v, err
		},
		set: func(ctx context.Context, tx *txn, v int) error {
			_, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, v)
			return err
		},
	}
}

// SQLSTATEs the store branches on.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
	pgDiskFull            = "53100"
	pgLockNotAvailable    = "55P03"
)

// pgCode returns the SQLSTATE of a PostgreSQL error, "" for another error.
func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// settleAsk bounds how long settleCommit asks whether a commit happened.
const settleAsk = 10 * time.Second

// settleCommit finds out whether the transaction xid committed after its
// COMMIT failed with cerr. A COMMIT that the server answered with an error
// or turned into a ROLLBACK did not commit; otherwise the connection
// broke and the answer is asked on another connection.
func (s *Store) settleCommit(xid string, cerr error) error {
	if xid == "" || pgCode(cerr) != "" || errors.Is(cerr, pgx.ErrTxCommitRollback) {
		return cerr
	}
	ctx, cancel := context.WithTimeout(context.Background(), settleAsk)
	defer cancel()
	for {
		var st sql.NullString
		err := s.r.QueryRowContext(ctx, `SELECT pg_xact_status(?::xid8)`, xid).Scan(&st)
		switch {
		case err == nil && st.String == "committed":
			s.stats.unknown.Add(1)
			s.stats.settled.Add(1)
			return nil
		case err == nil && st.String == "aborted":
			s.stats.unknown.Add(1)
			s.stats.settled.Add(1)
			return fmt.Errorf("commit (rolled back): %w", cerr)
		case err == nil && !st.Valid:
			s.stats.unknown.Add(1)
			return fmt.Errorf("%w: transaction %s is too old to know: %v", ErrCommitUnknown, xid, cerr)
		}
		// "in progress": the server has not yet seen the connection go;
		// or the server cannot be reached yet. Ask again.
		select {
		case <-ctx.Done():
			s.stats.unknown.Add(1)
			return fmt.Errorf("%w: transaction %s: %v (asked for %s: %v)", ErrCommitUnknown, xid, cerr, settleAsk, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// pgMigrations is the schema's history on PostgreSQL, version for version
// the same tables, constraints and rules as migrations on SQLite: times
// are text in the same layout, money bigint minor units. refunds.rowid is
// an identity column named as SQLite's implicit one, so that "ORDER BY
// rowid" (insertion order) reads the same on both.
var pgMigrations = []string{pgSchemaV1, pgSchemaV2, pgSchemaV3, pgSchemaV4, pgSchemaV5, pgSchemaV6, schemaV7, pgSchemaV8RefundsByBatch, pgSchemaOpenWork, pgSchemaStatusSearch, pgSchemaWebhookOutbox}

const pgSchemaV1 = `
CREATE TABLE files (
	hash       text NOT NULL PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
	name       text NOT NULL,
	kind       text NOT NULL CHECK (kind IN ('batch', 'reply')),
	outcome    text NOT NULL CHECK (outcome IN ('processing', 'done', 'duplicate', 'failed')),
	reason     text NOT NULL DEFAULT '',
	first_seen text NOT NULL,
	updated    text NOT NULL
);

CREATE TABLE batches (
	msg_id      text NOT NULL PRIMARY KEY CHECK (msg_id <> ''),
	number      text NOT NULL CHECK (number <> ''),
	attempt     bigint NOT NULL CHECK (attempt >= 0),
	file_hash   text REFERENCES files (hash),
	status      text NOT NULL CHECK (status IN ('received', 'rejected', 'sending', 'sent',
	            'in-doubt', 'receipt-ok', 'accepted', 'partially-accepted', 'rejected-by-bank',
	            'pending', 'paid', 'completed')),
	reason      text NOT NULL DEFAULT '',
	local_path  text NOT NULL DEFAULT '',
	remote_name text NOT NULL DEFAULT '',
	pain_hash   text NOT NULL DEFAULT '',
	msg_created text NOT NULL DEFAULT '',
	nb_of_txs   bigint NOT NULL CHECK (nb_of_txs > 0),
	created     text NOT NULL,
	updated     text NOT NULL,
	sent        text NOT NULL DEFAULT '',
	UNIQUE (number, attempt)
);
CREATE INDEX batches_status ON batches (status);
CREATE INDEX batches_file ON batches (file_hash);

CREATE TABLE batch_totals (
	msg_id    text NOT NULL REFERENCES batches (msg_id),
	currency  text NOT NULL CHECK (length(currency) = 3),
	nb_of_txs bigint NOT NULL CHECK (nb_of_txs > 0),
	minor     bigint NOT NULL CHECK (minor > 0),
	PRIMARY KEY (msg_id, currency)
);

CREATE TABLE refunds (
	rowid                 bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	end_to_end_id         text NOT NULL PRIMARY KEY CHECK (end_to_end_id <> ''),
	doc_type              text NOT NULL CHECK (doc_type IN ('CreditNote', 'Prepayment', 'Payment')),
	ref_nbr               text NOT NULL CHECK (ref_nbr <> ''),
	release_no            bigint NOT NULL CHECK (release_no >= 0),
	msg_id                text NOT NULL REFERENCES batches (msg_id),
	pmt_inf_id            text NOT NULL CHECK (pmt_inf_id <> ''),
	instr_id              text UNIQUE CHECK (instr_id <> ''),
	amount_minor          bigint NOT NULL CHECK (amount_minor > 0),
	currency              text NOT NULL CHECK (length(currency) = 3),
	execution_date        text NOT NULL CHECK (execution_date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
	                      AND to_char(to_date(execution_date, 'YYYY-MM-DD'), 'YYYY-MM-DD') = execution_date),
	creditor_account      text NOT NULL CHECK (creditor_account <> ''),
	debtor_account        text NOT NULL DEFAULT '',
	debtor_ledger_account text NOT NULL DEFAULT '',
	customer_id           text NOT NULL DEFAULT '',
	status                text NOT NULL CHECK (status IN ('new', 'sent', 'accepted', 'pending',
	                      'rejected', 'booked', 'returned')),
	reason_code           text NOT NULL DEFAULT '',
	reason_text           text NOT NULL DEFAULT '',
	created               text NOT NULL,
	updated               text NOT NULL,
	UNIQUE (doc_type, ref_nbr, release_no)
);
CREATE INDEX refunds_batch ON refunds (msg_id, pmt_inf_id);
CREATE INDEX refunds_amount_date ON refunds (execution_date, currency, amount_minor);

CREATE TABLE bank_entries (
	account       text NOT NULL,
	entry         text NOT NULL CHECK (entry <> ''),
	tx            text NOT NULL CHECK (tx <> ''),
	file_hash     text NOT NULL REFERENCES files (hash),
	kind          text NOT NULL CHECK (kind IN ('', 'payment', 'return', 'charges', 'exception')),
	end_to_end_id text NOT NULL DEFAULT '',
	applied       text NOT NULL,
	PRIMARY KEY (account, entry, tx)
);
CREATE INDEX bank_entries_file ON bank_entries (file_hash);
CREATE INDEX bank_entries_refund ON bank_entries (end_to_end_id) WHERE end_to_end_id <> '';

CREATE TABLE events (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at           text NOT NULL,
	subject_type text NOT NULL CHECK (subject_type IN ('batch', 'refund', 'file')),
	subject_id   text NOT NULL,
	from_status  text NOT NULL,
	to_status    text NOT NULL,
	reason       text NOT NULL DEFAULT '',
	detail       text NOT NULL DEFAULT ''
);
CREATE INDEX events_subject ON events (subject_type, subject_id, id);

-- Append-only: no UPDATE, no DELETE, no TRUNCATE (an INSERT over an
-- existing row fails on the key; ON CONFLICT DO UPDATE is an UPDATE).
CREATE FUNCTION refundd_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation'; END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION refundd_refuse('events are append-only');
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
FOR EACH STATEMENT EXECUTE FUNCTION refundd_refuse('events are append-only');
CREATE TRIGGER bank_entries_append_only BEFORE UPDATE OR DELETE ON bank_entries
FOR EACH ROW EXECUTE FUNCTION refundd_refuse('applied bank entries are append-only');
CREATE TRIGGER bank_entries_no_truncate BEFORE TRUNCATE ON bank_entries
FOR EACH STATEMENT EXECUTE FUNCTION refundd_refuse('applied bank entries are append-only');
`

const pgSchemaV2 = `
CREATE TABLE upload_attempts (
	msg_id    text NOT NULL REFERENCES batches (msg_id),
	attempt   bigint NOT NULL CHECK (attempt > 0),
	temp_name text NOT NULL CHECK (temp_name <> ''),
	started   text NOT NULL,
	ended     text NOT NULL DEFAULT '',
	outcome   text NOT NULL DEFAULT '' CHECK (outcome IN ('', 'not-uploaded', 'sent', 'in-doubt', 'settled')),
	detail    text NOT NULL DEFAULT '',
	PRIMARY KEY (msg_id, attempt),
	CHECK ((ended = '') = (outcome = ''))
);
CREATE UNIQUE INDEX upload_attempts_open ON upload_attempts (msg_id) WHERE ended = '';
CREATE TRIGGER upload_attempts_kept BEFORE DELETE ON upload_attempts
FOR EACH ROW EXECUTE FUNCTION refundd_refuse('upload attempts are kept');
CREATE TRIGGER upload_attempts_no_truncate BEFORE TRUNCATE ON upload_attempts
FOR EACH STATEMENT EXECUTE FUNCTION refundd_refuse('upload attempts are kept');
CREATE FUNCTION refundd_attempt_end_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.ended <> '' OR (NEW.msg_id, NEW.attempt, NEW.temp_name, NEW.started)
		IS DISTINCT FROM (OLD.msg_id, OLD.attempt, OLD.temp_name, OLD.started) THEN
		RAISE EXCEPTION 'an upload attempt is ended once and not changed otherwise' USING ERRCODE = 'restrict_violation';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER upload_attempts_end_once BEFORE UPDATE ON upload_attempts
FOR EACH ROW EXECUTE FUNCTION refundd_attempt_end_once();
`

const pgSchemaV3 = `
-- A refund's status changes a few times (new, sent, accepted, booked);
-- none of its indexed columns does. With room left on each page, those
-- updates stay on the row's page and touch none of the table's indexes
-- (heap-only tuples); on full pages every change adds an entry to each
-- of the six indexes.
ALTER TABLE refunds SET (fillfactor = 50);
ALTER TABLE batches ADD COLUMN pain bytea;
ALTER TABLE events ADD COLUMN epoch bigint NOT NULL DEFAULT 0;
ALTER TABLE upload_attempts ADD COLUMN epoch bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION refundd_attempt_end_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.ended <> '' OR (NEW.msg_id, NEW.attempt, NEW.temp_name, NEW.started, NEW.epoch)
		IS DISTINCT FROM (OLD.msg_id, OLD.attempt, OLD.temp_name, OLD.started, OLD.epoch) THEN
		RAISE EXCEPTION 'an upload attempt is ended once and not changed otherwise' USING ERRCODE = 'restrict_violation';
	END IF;
	RETURN NEW;
END $$;

-- The lease: times on the database's clock, which alone decides expiry.
CREATE TABLE lease (
	id          int NOT NULL PRIMARY KEY CHECK (id = 1),
	holder      text NOT NULL DEFAULT '',
	epoch       bigint NOT NULL DEFAULT 0 CHECK (epoch >= 0),
	acquired_at timestamptz NOT NULL DEFAULT '-infinity',
	renewed_at  timestamptz NOT NULL DEFAULT '-infinity',
	expires_at  timestamptz NOT NULL DEFAULT '-infinity'
);
INSERT INTO lease (id) VALUES (1);
CREATE TRIGGER lease_kept BEFORE DELETE ON lease
FOR EACH ROW EXECUTE FUNCTION refundd_refuse('the lease row is kept');
CREATE TRIGGER lease_no_truncate BEFORE TRUNCATE ON lease
FOR EACH STATEMENT EXECUTE FUNCTION refundd_refuse('the lease row is kept');
CREATE FUNCTION refundd_epoch_grows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.epoch < OLD.epoch THEN
		RAISE EXCEPTION 'the lease epoch only grows' USING ERRCODE = 'restrict_violation';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER lease_epoch_grows BEFORE UPDATE ON lease
FOR EACH ROW EXECUTE FUNCTION refundd_epoch_grows();
`

// pgSchemaV4 is schemaV4: a refund's BaseAmount.
const pgSchemaV4 = `
ALTER TABLE refunds ADD COLUMN base_minor bigint NOT NULL DEFAULT 0 CHECK (base_minor >= 0);
ALTER TABLE refunds ADD COLUMN base_currency text NOT NULL DEFAULT '' CHECK (base_currency = '' OR length(base_currency) = 3);
`

// pgSchemaV5 is schemaV5: the batch status settled-with-exceptions, the
// refunds left out of or flagged in a batch, refunds by customer.
const pgSchemaV5 = `
ALTER TABLE batches DROP CONSTRAINT batches_status_check;
ALTER TABLE batches ADD CONSTRAINT batches_status_check CHECK (status IN ('received', 'rejected', 'sending', 'sent',
	'in-doubt', 'receipt-ok', 'accepted', 'partially-accepted', 'rejected-by-bank',
	'pending', 'paid', 'settled-with-exceptions', 'completed'));
ALTER TABLE batches DROP CONSTRAINT batches_nb_of_txs_check;
ALTER TABLE batches ADD CONSTRAINT batches_nb_of_txs_check CHECK (nb_of_txs >= 0);

CREATE TABLE refund_notes (
	rowid       bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	msg_id      text NOT NULL REFERENCES batches (msg_id),
	position    text NOT NULL CHECK (position <> ''),
	doc_type    text NOT NULL,
	ref_nbr     text NOT NULL,
	customer_id text NOT NULL DEFAULT '',
	kind        text NOT NULL CHECK (kind IN ('invalid', 'held', 'account-changed')),
	reason      text NOT NULL,
	resolved_in text NOT NULL DEFAULT '',
	created     text NOT NULL,
	updated     text NOT NULL,
	PRIMARY KEY (msg_id, position, kind)
);
CREATE INDEX refund_notes_open ON refund_notes (doc_type, ref_nbr) WHERE resolved_in = '';
CREATE INDEX refunds_customer ON refunds (customer_id, status);
`

// pgSchemaV6 is schemaV6: when a batch was purged, and purge events.
const pgSchemaV6 = `
ALTER TABLE batches ADD COLUMN purged text NOT NULL DEFAULT '';
ALTER TABLE events DROP CONSTRAINT events_subject_type_check;
ALTER TABLE events ADD CONSTRAINT events_subject_type_check CHECK (subject_type IN ('batch', 'refund', 'file', 'purge'));
`

// pgSchemaV8RefundsByBatch is schemaV8RefundsByBatch: the refunds of
// each batch in the order they were recorded, and their statuses.
const pgSchemaV8RefundsByBatch = `
CREATE INDEX refunds_batch_order ON refunds (msg_id, rowid);
CREATE INDEX refunds_batch_status ON refunds (msg_id, status);
`

// pgSchemaOpenWork is schemaOpenWork.
const pgSchemaOpenWork = `
CREATE INDEX batches_status_updated ON batches (status, updated);
CREATE INDEX batches_created ON batches (created, msg_id);
CREATE TABLE integrity_checked (
	id            integer NOT NULL PRIMARY KEY CHECK (id = 1),
	full_at       text NOT NULL,
	through_event bigint NOT NULL CHECK (through_event >= 0),
	at            text NOT NULL
);
`

// pgSchemaStatusSearch is schemaStatusSearch; the account's last four
// characters are right(), which SQLite lacks.
const pgSchemaStatusSearch = `
CREATE INDEX bank_entries_exceptions ON bank_entries (applied) WHERE kind = 'exception' OR account = 'pain.002';
CREATE INDEX refunds_account_tail ON refunds (right(creditor_account, 4));
`

// pgSchemaWebhookOutbox is schemaWebhookOutbox: alarm events, the alarms,
// the notifiable events by id and each webhook's cursor.
const pgSchemaWebhookOutbox = `
ALTER TABLE events DROP CONSTRAINT events_subject_type_check;
ALTER TABLE events ADD CONSTRAINT events_subject_type_check CHECK (subject_type IN ('batch', 'refund', 'file', 'purge', 'alarm'));

CREATE TABLE alarms (
	key     text NOT NULL PRIMARY KEY CHECK (key <> ''),
	kind    text NOT NULL CHECK (kind <> ''),
	subject text NOT NULL,
	detail  text NOT NULL DEFAULT '',
	raised  text NOT NULL,
	cleared text NOT NULL DEFAULT ''
);
CREATE INDEX alarms_open ON alarms (key) WHERE cleared = '';

CREATE INDEX events_notify ON events (id) WHERE ` + notifiable + `;

CREATE TABLE webhooks (
	hook          text NOT NULL PRIMARY KEY CHECK (hook <> ''),
	through_event bigint NOT NULL CHECK (through_event >= 0),
	created       text NOT NULL,
	delivered     bigint NOT NULL DEFAULT 0 CHECK (delivered >= 0),
	failures      bigint NOT NULL DEFAULT 0 CHECK (failures >= 0),
	last_success  text NOT NULL DEFAULT '',
	last_error    text NOT NULL DEFAULT '',
	last_error_at text NOT NULL DEFAULT ''
);
CREATE FUNCTION refundd_cursor_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.through_event < OLD.through_event THEN
		RAISE EXCEPTION 'a webhook cursor only moves forward' USING ERRCODE = 'restrict_violation';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER webhooks_forward BEFORE UPDATE ON webhooks
FOR EACH ROW EXECUTE FUNCTION refundd_cursor_forward();
`
