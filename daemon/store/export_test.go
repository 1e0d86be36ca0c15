package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"refundd/daemon/refund"
)

// What the package's external tests (which read the store through the
// packages that use it) need of its internals.

// OpenTest opens a new store for a test, on the engine of the run.
func OpenTest(t testing.TB) *Store { return openTest(t) }

// ListenReads makes s tell f of every query it reads with (as written,
// with its arguments), until Stop is called or the test ends.
func ListenReads(t testing.TB, s *Store, f func(q string, args []any)) (stop func()) {
	s.d.reads.Store(&f)
	stop = func() { s.d.reads.Store(nil) }
	t.Cleanup(stop)
	return stop
}

// BigBookedBatch records batch number with n refunds, all booked by the
// bank, and returns its MsgId. The batch and its first refund are recorded
// and booked through the store's API; the other refunds and their
// bookings are copies of those rows made in SQL, as many at once as the
// engine takes (the API's checks and events would take minutes for a
// hundred thousand under -race). Half the bookings are recorded with their
// refund's EndToEndId, as they are now; the other half without it, with it
// as their transaction key, as earlier versions recorded them.
func BigBookedBatch(t testing.TB, s *Store, number string, n int) string {
	t.Helper()
	ctx := context.Background()
	b, rs := newBatch(number, 0, 1)
	mustCreate(t, s, b, rs)
	mustSetBatch(t, s, b.MsgID, BatchSent)
	h := claimReply(t, s, "camt.054 "+number)
	first := rs[0].EndToEndID
	paid := Reply{Batches: []BatchStatusChange{{MsgID: b.MsgID, To: BatchPaid}},
		Refunds: []RefundStatusChange{{EndToEndID: first, To: refund.StatusBooked}},
		Keys:    []AppliedKey{{Key: key("BOOK-"+number+"-1", first), Kind: refund.KindPayment, EndToEndID: first}}}
	if _, err := s.ApplyReply(ctx, h, paid); err != nil {
		t.Fatal(err)
	}
	prefix := "CN-" + number + "-"
	steps := []struct {
		what, q string
		args    []any
	}{
		{"refunds", `WITH RECURSIVE n(i) AS (SELECT CAST(? AS integer) UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			INSERT INTO refunds (end_to_end_id, doc_type, ref_nbr, release_no, msg_id, pmt_inf_id, instr_id, amount_minor,
				currency, execution_date, creditor_account, debtor_account, debtor_ledger_account, customer_id, status,
				reason_code, reason_text, created, updated, base_minor, base_currency)
			SELECT ? || i, f.doc_type, ? || i, 0, f.msg_id, f.pmt_inf_id, ? || i, f.amount_minor + i, f.currency,
				f.execution_date, f.creditor_account, f.debtor_account, f.debtor_ledger_account, 'C-' || i, f.status,
				'', '', f.created, f.updated, 0, ''
			FROM n, refunds f WHERE f.end_to_end_id = ? ORDER BY i`,
			[]any{prefix, number + "-", prefix, first}},
		{"bookings", `WITH RECURSIVE n(i) AS (SELECT CAST(? AS integer) UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			INSERT INTO bank_entries (account, entry, tx, file_hash, kind, end_to_end_id, applied)
			SELECT ?, ? || i, ? || i, ?, CASE WHEN i % 2 = 0 THEN 'payment' ELSE '' END,
				CASE WHEN i % 2 = 0 THEN ? || i ELSE '' END, f.updated
			FROM n, refunds f WHERE f.end_to_end_id = ? ORDER BY i`,
			[]any{ourAccount, "BOOK-" + number + "-", prefix, h, prefix, first}},
	}
	const chunk = 10_000 // rows a statement, well within its time limit
	for _, st := range steps {
		for from := 2; from <= n; from += chunk {
			args := append([]any{from, min(n, from+chunk-1)}, st.args...)
			if _, err := s.w.ExecContext(ctx, st.q, args...); err != nil {
				t.Fatalf("copy %s: %v", st.what, err)
			}
		}
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE batches SET nb_of_txs = ? WHERE msg_id = ?`, n, b.MsgID); err != nil {
		t.Fatal(err)
	}
	if s.d.pg { // as autovacuum does after such a load
		if _, err := s.w.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
			t.Fatal(err)
		}
	}
	return b.MsgID
}

// largeTables are the tables that grow with every refund recorded.
var largeTables = []string{"refunds", "bank_entries", "events", "refund_notes", "files"}

// PlanProblems returns the plan of the read q with args, and what is
// wrong with it for a read of a view that must not grow with the tables:
//
//   - on SQLite (EXPLAIN QUERY PLAN, which names tables by their alias
//     in q) a SCAN of any table or an automatic index (built from a
//     scan) on one, but of batches and their totals in a read
//     of every batch (WHERE 1 = 1); a search of a rowid range (a scan of
//     what follows in disguise); and a sort in a read that takes a LIMIT
//     of what it sorts (it reads all of it first);
//   - on PostgreSQL (EXPLAIN ANALYZE, after ANALYZE) more than maxRows
//     rows of a large table read, unless q is the count of a batch's
//     refunds by status, which reads its batch's index entries.
func PlanProblems(t testing.TB, s *Store, q string, args []any, maxRows int) (plan string, problems []string) {
	t.Helper()
	ctx := context.Background()
	if s.d.pg {
		if err := s.r.QueryRowContext(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) `+q, args...).Scan(&plan); err != nil {
			t.Fatalf("explain %s: %v", q, err)
		}
		var nodes []struct{ Plan planNode }
		if err := json.Unmarshal([]byte(plan), &nodes); err != nil {
			t.Fatal(err)
		}
		if q == refundCountsQuery {
			return plan, nil
		}
		for _, table := range largeTables {
			if n := nodes[0].Plan.rowsRead(table); n > maxRows {
				problems = append(problems, fmt.Sprintf("reads %d rows of %s", n, table))
			}
		}
		return plan, problems
	}
	rows, err := s.r.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	everyBatch := strings.Contains(q, "WHERE 1 = 1")
	subqueries := map[string]bool{} // what a plan scans that is no table
	for _, l := range lines {
		if name, ok := strings.CutPrefix(l, "CO-ROUTINE "); ok {
			subqueries[name] = true
		}
		if name, ok := strings.CutPrefix(l, "MATERIALIZE "); ok {
			subqueries[name] = true
		}
	}
	for _, l := range lines {
		f := strings.Fields(l)
		switch {
		case f[0] == "SCAN" && len(f) > 1 && subqueries[f[1]]:
		case f[0] == "SCAN" && len(f) > 1 && everyBatch && (f[1] == "batches" || f[1] == "batch_totals"):
		case f[0] == "SCAN", strings.Contains(l, "AUTOMATIC"): // an automatic index reads the whole table first
			problems = append(problems, l)
		case strings.Contains(l, "INTEGER PRIMARY KEY (rowid>") || strings.Contains(l, "INTEGER PRIMARY KEY (rowid<"):
			problems = append(problems, l)
		case strings.Contains(l, "TEMP B-TREE") && strings.Contains(q, "LIMIT"):
			problems = append(problems, l+" before a LIMIT")
		}
	}
	return strings.Join(lines, "\n"), problems
}
