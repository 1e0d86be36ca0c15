package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// dialect is what differs between the two engines in the SQL the store
// sends. The statements are written once, with SQLite's "?" parameters;
// on PostgreSQL they are rebound to "$1", "$2" … before they are sent.
type dialect struct {
	pg    bool
	bound sync.Map // query → rebound query (PostgreSQL only)
	// reads, when set, is told every query that reads (as written, with
	// its arguments) before it is sent: the tests check the plans of the
	// reads of a view with it.
	reads atomic.Pointer[func(q string, args []any)]
}

// read tells d.reads of the query q, if it listens.
func (d *dialect) read(q string, args []any) {
	if f := d.reads.Load(); f != nil {
		(*f)(q, args)
	}
}

// bind returns q as the engine wants it.
func (d *dialect) bind(q string) string {
	if !d.pg {
		return q
	}
	if b, ok := d.bound.Load(q); ok {
		return b.(string)
	}
	b := rebind(q)
	d.bound.Store(q, b)
	return b
}

// rebind replaces every "?" outside quotes in q by $1, $2 … in order.
func rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// db is a connection pool whose statements are rebound for its engine.
type db struct {
	*sql.DB
	d *dialect
}

func (p *db) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return p.DB.ExecContext(ctx, p.d.bind(q), args...)
}

func (p *db) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	p.d.read(q, args)
	return p.DB.QueryContext(ctx, p.d.bind(q), args...)
}

func (p *db) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	p.d.read(q, args)
	return p.DB.QueryRowContext(ctx, p.d.bind(q), args...)
}

func (p *db) QueryRow(q string, args ...any) *sql.Row {
	return p.QueryRowContext(context.Background(), q, args...)
}

func (p *db) Exec(q string, args ...any) (sql.Result, error) {
	return p.ExecContext(context.Background(), q, args...)
}

// begin starts a transaction on the pool.
func (p *db) begin(ctx context.Context, opts *sql.TxOptions) (*txn, error) {
	tx, err := p.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &txn{Tx: tx, d: p.d}, nil
}

// txn is a transaction whose statements are rebound for its engine. epoch
// is the leadership epoch the write was fenced with (0 for reads and for
// writes of a process that does not lead), recorded with its events.
type txn struct {
	*sql.Tx
	d     *dialect
	epoch int64
	// events are the events recorded in the transaction, inserted
	// together before it commits.
	events []event
}

func (t *txn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, t.d.bind(q), args...)
}

func (t *txn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	t.d.read(q, args)
	return t.Tx.QueryContext(ctx, t.d.bind(q), args...)
}

func (t *txn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	t.d.read(q, args)
	return t.Tx.QueryRowContext(ctx, t.d.bind(q), args...)
}
