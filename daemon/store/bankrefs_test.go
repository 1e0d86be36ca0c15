package store

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"refundd/daemon/refund"
)

func TestBankRefsEmpty(t *testing.T) {
	s := openTest(t)
	refs, err := s.BankRefs(t.Context(), "RFD-NONE")
	if err != nil || len(refs) != 0 {
		t.Errorf("BankRefs of an unknown batch: %v %v", refs, err)
	}
}

// TestBankRefs: a booking recorded with its refund, and one recorded
// without (before the daemon recorded the refund: its transaction key is
// the EndToEndId), are both found; an exception line is not. With many
// bookings recorded the read uses the indexes: SQLite's plan searches
// bank_entries, never scans it.
func TestBankRefs(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	b, rs := sentBatch(t, s, "BR", 3)
	keys := []AppliedKey{
		{Key: refund.Key{Account: ourAccount, Entry: "REF-A", Tx: "TX-A"}, Kind: refund.KindPayment, EndToEndID: rs[0].EndToEndID},
		{Key: refund.Key{Account: ourAccount, Entry: "REF-B", Tx: rs[1].EndToEndID}}, // as recorded before
		{Key: refund.Key{Account: ourAccount, Entry: "REF-C", Tx: rs[2].EndToEndID}, Kind: refund.KindException},
	}
	for i := range 2000 { // other bookings
		keys = append(keys, AppliedKey{Key: refund.Key{Account: ourAccount, Entry: fmt.Sprintf("X%d", i), Tx: fmt.Sprintf("T%d", i)}, Kind: refund.KindException})
	}
	if _, err := s.ApplyReply(ctx, claimReply(t, s, "camt"), Reply{Keys: keys}); err != nil {
		t.Fatal(err)
	}
	refs, err := s.BankRefs(ctx, b.MsgID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{rs[0].EndToEndID: {"REF-A"}, rs[1].EndToEndID: {"REF-B"}}
	if !maps.EqualFunc(refs, want, slices.Equal) {
		t.Errorf("BankRefs = %v; want %v", refs, want)
	}
	if s.d.pg {
		return
	}
	if _, err := s.w.ExecContext(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	rows, err := s.r.QueryContext(ctx, `EXPLAIN QUERY PLAN `+bankRefsQuery(3), rs[0].EndToEndID, rs[1].EndToEndID, rs[2].EndToEndID,
		rs[0].EndToEndID, rs[1].EndToEndID, rs[2].EndToEndID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	for _, l := range plan {
		if strings.HasPrefix(l, "SCAN e") || strings.HasPrefix(l, "SCAN bank_entries") || strings.HasPrefix(l, "SCAN r") {
			t.Errorf("the plan scans a table: %q\n%s", l, strings.Join(plan, "\n"))
		}
	}
}
