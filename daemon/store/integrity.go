package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// maxProblems is how many problems IntegrityCheck lists.
const maxProblems = 20

// IntegrityCheck checks the database: SQLite's own structure check
// (PRAGMA integrity_check), every foreign key (PRAGMA foreign_key_check),
// (on SQLite) and refundd's invariants, on one snapshot:
//
//   - every batch has as many refunds as its NbOfTxs, and its totals per
//     currency are the sums of its refunds;
//   - the status of every batch, refund and file is the last status its
//     events record, so no change went unrecorded;
//   - only a batch that is sending has an open upload attempt;
//   - the leadership epoch of the events never decreases.
//
// A problem wraps ErrCorrupt and lists what was found. Run it at start-up
// and refuse to start on an error: a damaged journal is never replaced by
// a fresh one automatically, which would send everything again.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	_, err := s.integrityCheck(ctx, checks, nil)
	return err
}

// integrityCheck runs the checks cs on one snapshot, each with args, and
// returns the id of the last event in it (0 for none).
func (s *Store) integrityCheck(ctx context.Context, cs []check, args []any) (int64, error) {
	var problems []string
	var through int64
	err := s.read(ctx, func(tx *txn) error {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM events`).Scan(&through); err != nil {
			return fmt.Errorf("last event: %w", err)
		}
		for _, c := range cs {
			if c.sqliteOnly && s.d.pg {
				continue
			}
			// Every parameter of a query is the same value: as many as
			// it has.
			ps, err := collect(ctx, tx, c.query, c.format, args[:strings.Count(c.query, "?")]...)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			problems = append(problems, ps...)
			if len(problems) >= maxProblems {
				break
			}
		}
		return nil
	})
	if err == nil && len(problems) > 0 {
		if len(problems) > maxProblems {
			problems = append(problems[:maxProblems], "…")
		}
		err = fmt.Errorf("%w:\n\t%s", ErrCorrupt, strings.Join(problems, "\n\t"))
	}
	if err != nil {
		return 0, fmt.Errorf("check store %s: %w", s.path, err)
	}
	return through, nil
}

// FullCheckEvery is how often StartCheck checks the whole store.
const FullCheckEvery = 24 * time.Hour

// StartCheck checks the store at start-up, as IntegrityCheck does, but
// reads the whole store only when the last full check that passed is
// FullCheckEvery old or older, there was none, or whole is set (the
// caller's last run did not stop cleanly: a kill or a power cut may have
// left damage that only the whole check sees): otherwise it checks
// what changed since the last check that passed (the batches, refunds
// and files with a later event, their counts, totals and statuses, the
// open upload attempts and the epochs of the later events), so that a
// start costs the same however long the history. A passing check is
// recorded. full reports that the whole store was checked.
//
// A row changed without an event (which no refundd writes) is found by
// the next full check, as is damage to the file that SQLite's own
// structure check sees.
func (s *Store) StartCheck(ctx context.Context, whole bool) (full bool, err error) {
	var fullAt, at string
	var since int64
	err = s.r.QueryRowContext(ctx, `SELECT full_at, through_event, at FROM integrity_checked WHERE id = 1`).Scan(&fullAt, &since, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows), err == nil && whole:
		full = true
	case err != nil:
		return false, fmt.Errorf("check store %s: read the last check: %w", s.path, err)
	default:
		t, perr := parseTime(fullAt)
		full = perr != nil || s.now().Sub(t) >= FullCheckEvery || s.now().Before(t)
	}
	cs, args := checks, []any(nil)
	if !full {
		cs, args = sinceChecks, []any{since, since, since, since, since}
	}
	through, err := s.integrityCheck(ctx, cs, args)
	if err != nil {
		return full, err
	}
	now := s.stamp()
	if full {
		fullAt = now
	}
	// The record is bookkeeping of this check, not the state of a refund:
	// one statement on its own, not a write under the lease, so that a
	// standby records its start too without waiting on the leader's lease
	// row (and without a write that the leader's fence would refuse).
	_, err = s.w.ExecContext(ctx, `INSERT INTO integrity_checked (id, full_at, through_event, at) VALUES (1, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET full_at = excluded.full_at, through_event = excluded.through_event, at = excluded.at`,
		fullAt, through, now)
	if err != nil {
		return full, fmt.Errorf("check store %s: record the check: %w", s.path, err)
	}
	return full, nil
}

// checks are the queries of IntegrityCheck: each row is a problem,
// formatted from its columns.
var checks = []check{
	{"integrity_check", `PRAGMA integrity_check`, func(c []string) string {
		if c[0] == "ok" {
			return ""
		}
		return c[0]
	}, true},
	{"foreign_key_check", `PRAGMA foreign_key_check`, func(c []string) string {
		return fmt.Sprintf("%s row %s refers to a missing %s", c[0], c[1], c[2])
	}, true},
	{"refund count", `SELECT b.msg_id, b.nb_of_txs, count(r.end_to_end_id) FROM batches b
		LEFT JOIN refunds r ON r.msg_id = b.msg_id GROUP BY b.msg_id HAVING b.nb_of_txs <> count(r.end_to_end_id)`,
		func(c []string) string { return fmt.Sprintf("batch %s has %s refunds, NbOfTxs %s", c[0], c[2], c[1]) }, false},
	{"totals", totalsQuery("1 = 1"),
		func(c []string) string {
			return fmt.Sprintf("batch %s: %s total %s, refunds add up to %s", c[0], c[1], c[2], c[3])
		}, false},
	{"batch events", `SELECT b.msg_id, b.status, coalesce(e.to_status, '') FROM batches b
		LEFT JOIN events e ON e.id = (SELECT max(id) FROM events WHERE subject_type = 'batch' AND subject_id = b.msg_id)
		WHERE e.to_status IS DISTINCT FROM b.status`,
		func(c []string) string {
			return fmt.Sprintf("batch %s is %s, its last event says %q", c[0], c[1], c[2])
		}, false},
	{"refund events", `SELECT r.end_to_end_id, r.status, coalesce(e.to_status, '') FROM refunds r
		LEFT JOIN events e ON e.id = (SELECT max(id) FROM events WHERE subject_type = 'refund' AND subject_id = r.end_to_end_id)
		WHERE e.to_status IS DISTINCT FROM r.status`,
		func(c []string) string {
			return fmt.Sprintf("refund %s is %s, its last event says %q", c[0], c[1], c[2])
		}, false},
	{"open upload attempts", `SELECT a.msg_id, a.attempt, b.status FROM upload_attempts a JOIN batches b ON b.msg_id = a.msg_id
		WHERE a.ended = '' AND b.status <> 'sending'`,
		func(c []string) string {
			return fmt.Sprintf("batch %s is %s with upload attempt %s still open", c[0], c[2], c[1])
		}, false},
	{"epochs", `SELECT id, epoch, prev FROM (SELECT id, epoch,
			max(epoch) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev FROM events) e
		WHERE epoch < prev`,
		func(c []string) string {
			return fmt.Sprintf("event %s was written at leadership epoch %s, after one at epoch %s", c[0], c[1], c[2])
		}, false},
	{"file events", `SELECT f.hash, f.outcome, coalesce(e.to_status, '') FROM files f
		LEFT JOIN events e ON e.id = (SELECT max(id) FROM events WHERE subject_type = 'file' AND subject_id = f.hash)
		WHERE e.to_status IS DISTINCT FROM f.outcome`,
		func(c []string) string { return fmt.Sprintf("file %s is %s, its last event says %q", c[0], c[1], c[2]) }, false},
}

// check is one query of IntegrityCheck: each row is a problem,
// formatted from its columns.
type check struct {
	name, query string
	format      func(cols []string) string
	// sqliteOnly: PostgreSQL checks its own structure and enforces
	// foreign keys as it writes.
	sqliteOnly bool
}

// totalsQuery is the check of the totals of the batches whose msg_id
// meets cond (a condition on a column msg_id, for batch_totals and refunds): a total
// whose refunds have another count or sum, and the refunds of a currency
// without a total. Each total looks its refunds up by index (a FULL JOIN
// of the totals with the grouped refunds takes SQLite time that grows
// with the square of the history).
func totalsQuery(cond string) string {
	return `SELECT msg_id, currency, minor, sum_minor FROM (
			SELECT t.msg_id, t.currency, t.nb_of_txs, t.minor,
				(SELECT count(*) FROM refunds r WHERE r.msg_id = t.msg_id AND r.currency = t.currency) AS n,
				(SELECT sum(r.amount_minor) FROM refunds r WHERE r.msg_id = t.msg_id AND r.currency = t.currency) AS sum_minor
			FROM batch_totals t WHERE ` + cond + `) x
		WHERE nb_of_txs IS DISTINCT FROM n OR minor IS DISTINCT FROM sum_minor
		UNION ALL
		SELECT r.msg_id, r.currency, NULL, sum(r.amount_minor) FROM refunds r
		WHERE ` + cond + ` AND NOT EXISTS (SELECT 1 FROM batch_totals t WHERE t.msg_id = r.msg_id AND t.currency = r.currency)
		GROUP BY r.msg_id, r.currency`
}

// eventsAfter selects the subjects of type typ of the events after an
// id (the parameter), read in the events' own order: the type is
// compared after a concatenation with the empty string, so that SQLite
// does not read every event of the type by the index of subjects instead.
func eventsAfter(typ string) string {
	return `(SELECT subject_id FROM events WHERE id > ? AND subject_type || '' = '` + typ + `')`
}

// changedBatches are the batches with an event after the one given, or
// with a refund that has one.
var changedBatches = `(SELECT subject_id FROM events WHERE id > ? AND subject_type || '' = 'batch'
	UNION SELECT msg_id FROM refunds WHERE end_to_end_id IN ` + eventsAfter("refund") + `)`

// sinceChecks are the checks of StartCheck between two full ones: those
// of checks on what has an event after the one given (their parameters,
// all the same), and the open upload attempts, which their index finds.
var sinceChecks = []check{
	{"refund count", `SELECT b.msg_id, b.nb_of_txs, count(r.end_to_end_id) FROM batches b
		LEFT JOIN refunds r ON r.msg_id = b.msg_id WHERE b.msg_id IN ` + changedBatches + `
		GROUP BY b.msg_id HAVING b.nb_of_txs <> count(r.end_to_end_id)`, checks[2].format, false},
	{"totals", totalsQuery("msg_id IN " + changedBatches), checks[3].format, false},
	{"batch events", `SELECT b.msg_id, b.status, coalesce(e.to_status, '') FROM batches b
		LEFT JOIN events e ON e.id = (SELECT max(id) FROM events WHERE subject_type = 'batch' AND subject_id = b.msg_id)
		WHERE b.msg_id IN ` + eventsAfter("batch") + `
		AND e.to_status IS DISTINCT FROM b.status`, checks[4].format, false},
	{"refund events", `SELECT r.end_to_end_id, r.status, coalesce(e.to_status, '') FROM refunds r
		LEFT JOIN events e ON e.id = (SELECT max(id) FROM events WHERE subject_type = 'refund' AND subject_id = r.end_to_end_id)
		WHERE r.end_to_end_id IN ` + eventsAfter("refund") + `
		AND e.to_status IS DISTINCT FROM r.status`, checks[5].format, false},
	checks[6], // open upload attempts
	{"epochs", `SELECT id, epoch, prev FROM (SELECT id, epoch,
			max(epoch) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev FROM events WHERE id >= ?) e
		WHERE epoch < prev`, checks[7].format, false},
	{"file events", `SELECT f.hash, f.outcome, coalesce(e.to_status, '') FROM files f
		LEFT JOIN events e ON e.id = (SELECT max(id) FROM events WHERE subject_type = 'file' AND subject_id = f.hash)
		WHERE f.hash IN ` + eventsAfter("file") + `
		AND e.to_status IS DISTINCT FROM f.outcome`, checks[8].format, false},
}

// collect runs query and formats each row that is a problem.
func collect(ctx context.Context, tx *txn, query string, format func([]string) string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var problems []string
	for rows.Next() {
		vals := make([]sql.NullString, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		cols := make([]string, len(vals))
		for i, v := range vals {
			cols[i] = v.String
			if !v.Valid {
				cols[i] = "none"
			}
		}
		if p := format(cols); p != "" {
			problems = append(problems, p)
		}
		if len(problems) > maxProblems {
			break
		}
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return problems, nil
}
