package store

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// grows are the tables that grow with the history, and openIndexes the
// (partial) indexes of them that hold only what is still open.
var (
	grows       = []string{"batches", "refunds", "events", "batch_totals", "bank_entries", "files", "refund_notes", "upload_attempts"}
	openIndexes = []string{"upload_attempts_open"}
)

// tableAlias finds "FROM table alias" and "JOIN table alias".
var tableAlias = regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+(\w+)(?:\s+(\w+))?`)

// TestIdleStepReadsByIndex: the store's reads of a step with nothing to
// do, and of a start-up between two full checks, find what is still open
// by index: SQLite's plan of none of them reads a table that grows with
// the history from end to end, or every event of a subject type, so that
// their cost does not grow with the batches settled.
func TestIdleStepReadsByIndex(t *testing.T) {
	sqliteOnly(t)
	ctx := t.Context()
	s := openTest(t)
	b, rs := newBatch("B1", 0, 2)
	mustCreate(t, s, b, rs)
	mustSetBatch(t, s, b.MsgID, BatchSent)
	if _, err := s.StartCheck(ctx, false); err != nil {
		t.Fatal(err)
	}
	var qs []string
	ListenReads(t, s, func(q string, _ []any) {
		if !slices.Contains(qs, q) {
			qs = append(qs, q)
		}
	})
	now := time.Now()
	reads := []struct {
		name string
		read func() error
	}{
		{"the start-up check between full ones", func() error { _, err := s.StartCheck(ctx, false); return err }},
		{"uploads and batches in doubt", func() error { _, err := s.BatchesByStatus(ctx, BatchSending, BatchInDoubt); return err }},
		{"batches to settle", func() error {
			_, err := s.BatchesByStatus(ctx, BatchReceived, BatchReceiptOK, BatchAccepted, BatchPartiallyAccepted, BatchPending)
			return err
		}},
		{"paid batches to complete", func() error {
			_, err := s.BatchesChangedBefore(ctx, now.AddDate(0, 0, -9), BatchPaid, BatchSettledWithExceptions)
			return err
		}},
		{"alarms", func() error { _, err := s.BatchesByStatus(ctx, BatchSent); return err }},
		{"batch gauge", func() error { _, err := s.LastEvent(ctx); return err }},
		{"refunds to re-release (gauge)", func() error { _, err := s.ToRerelease(ctx); return err }},
		{"retention", func() error { _, err := s.Retention(ctx, RetentionCutoff(now, 5, time.UTC)); return err }},
	}
	for _, r := range reads {
		qs = qs[:0]
		if err := r.read(); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		for _, q := range qs {
			if !strings.HasPrefix(strings.TrimSpace(q), "SELECT") && !strings.HasPrefix(strings.TrimSpace(q), "WITH") {
				continue // the check's record, the lease
			}
			for _, p := range explain(t, s, q) {
				if why := growing(q, p); why != "" {
					t.Errorf("%s: %s in the plan of\n%s\n(%s)", r.name, p, q, why)
				}
			}
		}
	}
}

// explain returns SQLite's plan of q, every parameter NULL.
func explain(t *testing.T, s *Store, q string) []string {
	t.Helper()
	rows, err := s.r.Query("EXPLAIN QUERY PLAN "+q, make([]any, strings.Count(q, "?"))...)
	if err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// growing says why plan line p of query q reads what grows with the
// history, "" when it does not.
func growing(q, p string) string {
	if strings.Contains(p, "events_subject (subject_type=?)") {
		return "every event of a subject type"
	}
	f := strings.Fields(p)
	if len(f) < 2 || f[0] != "SCAN" {
		return ""
	}
	table := f[1]
	for _, m := range tableAlias.FindAllStringSubmatch(q, -1) {
		if m[2] == f[1] {
			table = m[1]
		}
	}
	if !slices.Contains(grows, table) {
		return ""
	}
	for _, ix := range openIndexes {
		if strings.Contains(p, "INDEX "+ix) {
			return ""
		}
	}
	if table == "batches" && strings.Contains(p, "INDEX batches_created") && strings.HasSuffix(strings.TrimSpace(q), "LIMIT 1") {
		// The retention's oldest batch kept: from the oldest on, past
		// the batches that expired, to the first one kept; once a day.
		return ""
	}
	return "all of " + table
}
