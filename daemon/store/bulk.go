package store

import (
	"context"
	"fmt"
	"strings"

	"refundd/daemon/refund"
)

// The statements of a batch or a reply touch many rows. Sent one row at a
// time, each is a round trip to the server, which on PostgreSQL costs more
// than the work; so the store reads and writes rows in sets: multi-row
// VALUES lists and IN lists, which both engines accept, cut into chunks
// below their limits on parameters (SQLite 32,766, PostgreSQL 65,535).
const maxParams = 30000

// column is one column of rows to insert: its name, its type on
// PostgreSQL, and its values (a []string, []int64 or []*string, nil
// pointers for NULL).
type column struct {
	name, pgType string
	vals         any
}

// value returns the i-th value of c, as a statement argument.
func (c column) value(i int) any {
	switch v := c.vals.(type) {
	case []string:
		return v[i]
	case []int64:
		return v[i]
	case []*string:
		if v[i] == nil {
			return nil
		}
		return *v[i]
	}
	panic("store: column " + c.name + " of an unknown type")
}

// slice returns the rows [lo, hi) of c.
func (c column) slice(lo, hi int) column {
	switch v := c.vals.(type) {
	case []string:
		c.vals = v[lo:hi]
	case []int64:
		c.vals = v[lo:hi]
	case []*string:
		c.vals = v[lo:hi]
	}
	return c
}

// rowSet returns the rows [lo, hi) of cols as a parenthesized set of rows
// with columns column1, column2 …, for "x IN set", "(x, y) IN set" and
// "FROM set AS v", and its arguments: an array per column on PostgreSQL,
// a VALUES list on SQLite.
func rowSet(tx *txn, lo, hi int, cols []column) (string, []any) {
	if tx.d.pg {
		arrays, names := make([]string, len(cols)), make([]string, len(cols))
		args := make([]any, len(cols))
		for i, c := range cols {
			arrays[i] = "?::" + c.pgType + "[]"
			names[i] = fmt.Sprintf("column%d", i+1)
			args[i] = c.slice(lo, hi).vals
		}
		return `(SELECT * FROM unnest(` + strings.Join(arrays, ", ") + `) AS u(` + strings.Join(names, ", ") + `))`, args
	}
	args := make([]any, 0, (hi-lo)*len(cols))
	for i := lo; i < hi; i++ {
		for _, c := range cols {
			args = append(args, c.value(i))
		}
	}
	return `(VALUES ` + placeholders(hi-lo, len(cols)) + `)`, args
}

// insertRows inserts n rows into table, given by columns. On PostgreSQL it
// is one statement with an array per column (unnest), whatever n; on
// SQLite multi-row VALUES lists.
func insertRows(ctx context.Context, tx *txn, table string, n int, cols []column) error {
	if n == 0 {
		return nil
	}
	if tx.d.pg {
		q, args := pgInsert(table, cols)
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	head := `INSERT INTO ` + table + ` (` + strings.Join(names, ", ") + `) `
	return chunked(n, len(cols), func(lo, hi int) error {
		args := make([]any, 0, (hi-lo)*len(cols))
		for i := lo; i < hi; i++ {
			for _, c := range cols {
				args = append(args, c.value(i))
			}
		}
		_, err := tx.ExecContext(ctx, head+`VALUES `+placeholders(hi-lo, len(cols)), args...)
		return err
	})
}

// pgInsert is the PostgreSQL statement that inserts the rows of cols into
// table, one array per column, and its arguments.
func pgInsert(table string, cols []column) (string, []any) {
	names, arrays, args := make([]string, len(cols)), make([]string, len(cols)), make([]any, len(cols))
	for i, c := range cols {
		names[i], arrays[i], args[i] = c.name, "?::"+c.pgType+"[]", c.vals
	}
	return `INSERT INTO ` + table + ` (` + strings.Join(names, ", ") + `) SELECT * FROM unnest(` + strings.Join(arrays, ", ") + `)`, args
}

// chunked calls fn for consecutive ranges [lo, hi) of n rows of cols
// parameters each, as large as maxParams allows.
func chunked(n, cols int, fn func(lo, hi int) error) error {
	per := max(1, maxParams/cols)
	for lo := 0; lo < n; lo += per {
		if err := fn(lo, min(n, lo+per)); err != nil {
			return err
		}
	}
	return nil
}

// params returns n parameters: "?, ?, ?".
func params(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// placeholders returns rows groups of cols parameters: "(?, ?), (?, ?)".
func placeholders(rows, cols int) string {
	return repeatRow(rows, "("+params(cols)+")")
}

// repeatRow returns rows copies of one, comma-separated.
func repeatRow(rows int, one string) string {
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

// insertEvents records es in tx at time at, in order, with the other
// events of the transaction.
func insertEvents(_ context.Context, tx *txn, at string, es []event) error {
	for _, e := range es {
		e.at = at
		tx.events = append(tx.events, e)
	}
	return nil
}

// flushEvents inserts the events the transaction recorded, in order, and
// forgets them.
func flushEvents(ctx context.Context, tx *txn) error {
	es := tx.events
	tx.events = nil
	n := len(es)
	at, typ, id, from, to, reason, detail := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	epoch := make([]int64, n)
	for i, e := range es {
		at[i], typ[i], id[i], from[i], to[i], reason[i], detail[i], epoch[i] =
			e.at, string(e.typ), e.id, e.from, e.to, e.reason, e.detail, tx.epoch
	}
	// unnest keeps the order of the arrays, and the identity column
	// numbers the rows in the order they are inserted.
	err := insertRows(ctx, tx, "events", n, []column{
		{"at", "text", at}, {"subject_type", "text", typ}, {"subject_id", "text", id}, {"from_status", "text", from},
		{"to_status", "text", to}, {"reason", "text", reason}, {"detail", "text", detail}, {"epoch", "bigint", epoch},
	})
	if err != nil {
		return fmt.Errorf("record events: %w", err)
	}
	return nil
}

// refundChange is a status change of one refund, with the bank's reason.
type refundChange struct {
	e2e        string
	to         refund.Status
	code, text string
	// detail says what made the change (a reply file, the batch's change).
	detail string
}

// refundError is why the change c of a refund cannot be made.
type refundError struct {
	c   refundChange
	err error
}

func (e *refundError) Error() string {
	return fmt.Sprintf("refund %s to %s: %v", e.c.e2e, e.c.to, e.err)
}

func (e *refundError) Unwrap() error { return e.err }

// setRefundStatuses makes the changes cs in order, as if one after the
// other, with a few statements for all: each refund's change must be
// allowed from its status at that point (a change to the status it has
// is skipped without an event); it keeps the last change's reason. The
// error (a *refundError) names the first refund that cannot change, and
// nothing is then written.
func (s *Store) setRefundStatuses(ctx context.Context, tx *txn, cs []refundChange) ([]Change, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(cs))
	seen := make(map[string]bool, len(cs))
	for _, c := range cs {
		if !validRefund(c.to) {
			return nil, &refundError{c, fmt.Errorf("%w: unknown refund status %q", ErrInvalid, c.to)}
		}
		if !seen[c.e2e] {
			seen[c.e2e] = true
			ids = append(ids, c.e2e)
		}
	}
	cur := make(map[string]refund.Status, len(ids))
	err := chunked(len(ids), 1, func(lo, hi int) error {
		set, args := rowSet(tx, lo, hi, []column{{"end_to_end_id", "text", ids}})
		rows, err := tx.QueryContext(ctx, `SELECT end_to_end_id, status FROM refunds WHERE end_to_end_id IN `+set, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, st string
			if err := rows.Scan(&id, &st); err != nil {
				return err
			}
			cur[id] = refund.Status(st)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}

	var changes []Change
	var events []event
	last := make(map[string]refundChange, len(ids)) // the final state of each refund that changes
	for _, c := range cs {
		from, ok := cur[c.e2e]
		switch {
		case !ok:
			return nil, &refundError{c, ErrNotFound}
		case from == c.to:
			continue
		case !AllowedRefund(from, c.to):
			return nil, &refundError{c, fmt.Errorf("%w: %s → %s", ErrTransition, from, c.to)}
		}
		cur[c.e2e] = c.to
		last[c.e2e] = c
		detail := c.detail
		if c.text != "" && detail != "" {
			detail = c.text + "; " + detail
		} else if c.text != "" {
			detail = c.text
		}
		events = append(events, event{typ: SubjectRefund, id: c.e2e, from: string(from), to: string(c.to), reason: c.code, detail: detail})
		changes = append(changes, Change{Subject: SubjectRefund, ID: c.e2e, From: string(from), To: string(c.to)})
	}
	if len(changes) == 0 {
		return nil, nil
	}

	at := s.stamp()
	final := make([]refundChange, 0, len(last))
	for _, id := range ids {
		if c, ok := last[id]; ok {
			final = append(final, c)
		}
	}
	n := len(final)
	e2e, to, code, text := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, c := range final {
		e2e[i], to[i], code[i], text[i] = c.e2e, string(c.to), c.code, c.text
	}
	cols := []column{{"e2e", "text", e2e}, {"to", "text", to}, {"code", "text", code}, {"text", "text", text}}
	err = chunked(n, len(cols), func(lo, hi int) error {
		set, args := rowSet(tx, lo, hi, cols)
		_, err := tx.ExecContext(ctx, `UPDATE refunds SET status = v.column2, reason_code = v.column3, reason_text = v.column4, updated = ?
			FROM `+set+` AS v WHERE refunds.end_to_end_id = v.column1`, append([]any{at}, args...)...)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := insertEvents(ctx, tx, at, events); err != nil {
		return nil, err
	}
	return changes, nil
}
