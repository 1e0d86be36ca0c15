package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"refundd/daemon/refund"
)

func TestCreateBatch(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	h := hashOf("B1.csv")
	if _, err := s.RecordFile(ctx, h, "B1.csv", FileBatch); err != nil {
		t.Fatal(err)
	}
	b, rs := newBatch("B1", 0, 3)
	b.FileHash = h
	rs[2].Amount = refund.Amount{Minor: 5000, Currency: "EUR"}
	rs[2].InstrID = ""
	mustCreate(t, s, b, rs)

	got, err := s.Batch(ctx, b.MsgID)
	if err != nil {
		t.Fatal(err)
	}
	wantSums := []refund.Amount{{Minor: 5000, Currency: "EUR"}, {Minor: 300, Currency: "NOK"}}
	switch {
	case got.Number != "B1" || got.Attempt != 0 || got.FileHash != h || got.Status != BatchSending:
		t.Errorf("Batch() = %+v; want B1 attempt 0 from %s, sending", got, h)
	case got.LocalPath != b.LocalPath || got.RemoteName != b.RemoteName || got.PainHash != b.PainHash || !got.MsgCreated.Equal(b.MsgCreated):
		t.Errorf("Batch() = %+v; want the files and CreDtTm of %+v", got, b)
	case got.NbOfTxs != 3 || !slices.Equal(got.Sums, wantSums):
		t.Errorf("Batch() totals %d %v; want 3 %v", got.NbOfTxs, got.Sums, wantSums)
	case got.Created.IsZero() || got.Updated.IsZero() || !got.Sent.IsZero():
		t.Errorf("Batch() times %v %v %v; want created and updated, not sent", got.Created, got.Updated, got.Sent)
	}

	grs, err := s.Refunds(ctx, b.MsgID)
	if err != nil {
		t.Fatal(err)
	}
	if len(grs) != 3 {
		t.Fatalf("Refunds() = %d refunds; want 3", len(grs))
	}
	for i, r := range grs {
		want := rs[i]
		want.MsgID, want.Batch, want.Status = b.MsgID, "B1", refund.StatusNew
		want.Created, want.Updated = r.Created, r.Updated
		if r != want {
			t.Errorf("refund %d = %+v; want %+v", i, r, want)
		}
	}
	evs, err := s.Events(ctx, SubjectBatch, b.MsgID)
	if err != nil || len(evs) != 1 || evs[0].From != "" || evs[0].To != "sending" {
		t.Errorf("batch events %+v, %v; want one: → sending", evs, err)
	}
	if n := count(t, s, "events WHERE subject_type = 'refund' AND from_status = '' AND to_status = 'new'"); n != 3 {
		t.Errorf("%d refund creation events; want 3", n)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestCreateBatchDuplicates(t *testing.T) {
	b1, rs1 := newBatch("B1", 0, 3)
	tests := []struct {
		name string
		make func() (Batch, []Refund)
		want string // in the error
	}{
		{"same MsgId", func() (Batch, []Refund) {
			b, rs := newBatch("B2", 0, 1)
			b.MsgID = b1.MsgID
			return b, rs
		}, "MsgId " + b1.MsgID + " is batch B1 attempt 0"},
		{"same batch number and attempt", func() (Batch, []Refund) {
			b, rs := newBatch("B2", 0, 1)
			b.Number = "B1"
			return b, rs
		}, "batch B1 attempt 0 is MsgId " + b1.MsgID},
		{"same refund in another batch", func() (Batch, []Refund) {
			b, _ := newBatch("B2", 0, 1)
			return b, []Refund{rs1[1]}
		}, "refund CreditNote B1-2 release 0 is new in batch B1"},
		{"same EndToEndId for another document", func() (Batch, []Refund) {
			b, rs := newBatch("B2", 0, 1)
			rs[0].EndToEndID = rs1[0].EndToEndID
			return b, rs
		}, "EndToEndId " + rs1[0].EndToEndID + " is refund CreditNote B1-1 release 0 in batch B1"},
		{"same InstrId", func() (Batch, []Refund) {
			b, rs := newBatch("B2", 0, 1)
			rs[0].InstrID = rs1[2].InstrID
			return b, rs
		}, "InstrId " + rs1[2].InstrID + " is refund CreditNote B1-3"},
		{"a new release of a refund that is live", func() (Batch, []Refund) {
			b, _ := newBatch("B2", 0, 1)
			r := newRefund(refund.CreditNote, "B1-1", 1, 100)
			return b, []Refund{r}
		}, "refund CreditNote B1-1 release 0 is new in batch B1"},
		{"the same refund twice in the list", func() (Batch, []Refund) {
			b, rs := newBatch("B2", 0, 3)
			rs[2] = rs[0]
			return b, rs
		}, "refund CreditNote B2-1 release 0 is new in batch B2"},
		{"the same EndToEndId twice in the list", func() (Batch, []Refund) {
			b, rs := newBatch("B2", 0, 3)
			rs[2].EndToEndID = rs[0].EndToEndID
			return b, rs
		}, "EndToEndId " + refund.EndToEndID(refund.CreditNote, "B2-1", 0) + " is refund CreditNote B2-1 release 0 in batch B2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			s := openTest(t)
			mustCreate(t, s, b1, rs1)
			before := [...]int{count(t, s, "batches"), count(t, s, "refunds"), count(t, s, "events"), count(t, s, "batch_totals")}

			b, rs := tc.make()
			err := s.CreateBatch(ctx, b, rs)
			if !errors.Is(err, ErrDuplicate) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CreateBatch() = %v; want ErrDuplicate saying %q", err, tc.want)
			}
			after := [...]int{count(t, s, "batches"), count(t, s, "refunds"), count(t, s, "events"), count(t, s, "batch_totals")}
			if after != before {
				t.Errorf("rows (batches, refunds, events, totals) %v after a refused batch; want %v", after, before)
			}
			if b.MsgID != b1.MsgID {
				if _, err := s.Batch(ctx, b.MsgID); !errors.Is(err, ErrNotFound) {
					t.Errorf("Batch(refused) = %v; want ErrNotFound", err)
				}
			}
			if err := s.IntegrityCheck(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCreateBatchInvalid(t *testing.T) {
	tests := []struct {
		name   string
		change func(b *Batch, rs []Refund) []Refund
		want   error
	}{
		{"no MsgId", func(b *Batch, rs []Refund) []Refund { b.MsgID = ""; return rs }, ErrInvalid},
		{"no number", func(b *Batch, rs []Refund) []Refund { b.Number = ""; return rs }, ErrInvalid},
		{"negative attempt", func(b *Batch, rs []Refund) []Refund { b.Attempt = -1; return rs }, ErrInvalid},
		{"created sent", func(b *Batch, rs []Refund) []Refund { b.Status = BatchSent; return rs }, ErrInvalid},
		{"sending without a remote name", func(b *Batch, rs []Refund) []Refund { b.RemoteName = ""; return rs }, ErrInvalid},
		{"sending without a local path", func(b *Batch, rs []Refund) []Refund { b.LocalPath = ""; return rs }, ErrInvalid},
		{"no refunds", func(b *Batch, rs []Refund) []Refund { return nil }, ErrInvalid},
		{"wrong NbOfTxs", func(b *Batch, rs []Refund) []Refund { b.NbOfTxs = 3; return rs }, ErrInvalid},
		{"wrong sums", func(b *Batch, rs []Refund) []Refund {
			b.Sums = []refund.Amount{{Minor: 301, Currency: "NOK"}}
			return rs
		}, ErrInvalid},
		{"bad file hash", func(b *Batch, rs []Refund) []Refund { b.FileHash = "abc"; return rs }, ErrInvalid},
		{"unrecorded file", func(b *Batch, rs []Refund) []Refund { b.FileHash = hashOf("never seen"); return rs }, ErrNotFound},
		{"refund of another batch", func(b *Batch, rs []Refund) []Refund { rs[0].MsgID = "RFD-OTHER"; return rs }, ErrInvalid},
		{"refund not new", func(b *Batch, rs []Refund) []Refund { rs[0].Status = refund.StatusSent; return rs }, ErrInvalid},
		{"refund without EndToEndId", func(b *Batch, rs []Refund) []Refund { rs[1].EndToEndID = ""; return rs }, ErrInvalid},
		{"refund without PmtInfId", func(b *Batch, rs []Refund) []Refund { rs[1].PmtInfID = ""; return rs }, ErrInvalid},
		{"unknown document type", func(b *Batch, rs []Refund) []Refund { rs[1].DocType = "Invoice"; return rs }, ErrInvalid},
		{"zero amount", func(b *Batch, rs []Refund) []Refund { rs[1].Amount.Minor = 0; return rs }, ErrInvalid},
		{"no currency", func(b *Batch, rs []Refund) []Refund { rs[1].Amount.Currency = ""; return rs }, ErrInvalid},
		{"no execution date", func(b *Batch, rs []Refund) []Refund { rs[1].ExecutionDate = refund.Date{}; return rs }, ErrInvalid},
		{"no creditor account", func(b *Batch, rs []Refund) []Refund { rs[1].CreditorAccount = ""; return rs }, ErrInvalid},
		{"negative release", func(b *Batch, rs []Refund) []Refund { rs[1].Release = -1; return rs }, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			b, rs := newBatch("B1", 0, 2)
			rs = tc.change(&b, rs)
			if err := s.CreateBatch(t.Context(), b, rs); !errors.Is(err, tc.want) {
				t.Fatalf("CreateBatch() = %v; want %v", err, tc.want)
			}
			if n := count(t, s, "batches") + count(t, s, "refunds") + count(t, s, "events"); n != 0 {
				t.Errorf("%d rows after a refused batch; want none", n)
			}
		})
	}
}

func TestBatchReads(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	now := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	s.now = func() time.Time { now = now.Add(time.Minute); return now }

	b1, rs1 := newBatch("B1", 0, 2)
	b2, rs2 := newBatch("B2", 0, 1)
	mustCreate(t, s, b1, rs1)
	mustCreate(t, s, b2, rs2)
	mustSetBatch(t, s, b1.MsgID, BatchSent)
	for _, r := range rs1 {
		if _, err := s.SetRefundStatus(ctx, r.EndToEndID, refund.StatusRejected, "AC04", "closed account"); err != nil {
			t.Fatal(err)
		}
	}
	mustSetBatch(t, s, b1.MsgID, BatchRejectedByBank)

	// The operator re-releases the rejected refunds as attempt 1 of B1.
	attempt, err := s.NextAttempt(ctx, "B1")
	if err != nil || attempt != 1 {
		t.Fatalf("NextAttempt(B1) = %d, %v; want 1", attempt, err)
	}
	b3, _ := newBatch("B1", attempt, 0)
	var rs3 []Refund
	for _, r := range rs1 {
		rel, err := s.NextRelease(ctx, r.DocType, r.RefNbr)
		if err != nil || rel != 1 {
			t.Fatalf("NextRelease(%s) = %d, %v; want 1", r.RefNbr, rel, err)
		}
		rs3 = append(rs3, newRefund(r.DocType, r.RefNbr, rel, r.Amount.Minor))
	}
	mustCreate(t, s, b3, rs3)

	if n, err := s.NextAttempt(ctx, "B9"); err != nil || n != 0 {
		t.Errorf("NextAttempt(new number) = %d, %v; want 0", n, err)
	}
	if n, err := s.NextRelease(ctx, refund.CreditNote, "never"); err != nil || n != 0 {
		t.Errorf("NextRelease(new document) = %d, %v; want 0", n, err)
	}
	if _, err := s.NextRelease(ctx, refund.CreditNote, rs3[0].RefNbr); !errors.Is(err, ErrDuplicate) {
		t.Errorf("NextRelease(live release 1) = %v; want ErrDuplicate", err)
	}

	msgIDs := func(bs []Batch) []string {
		var ids []string
		for _, b := range bs {
			ids = append(ids, b.MsgID)
		}
		return ids
	}
	byNumber, err := s.BatchByNumber(ctx, "B1")
	if err != nil || !slices.Equal(msgIDs(byNumber), []string{b1.MsgID, b3.MsgID}) {
		t.Errorf("BatchByNumber(B1) = %v, %v; want [%s %s]", msgIDs(byNumber), err, b1.MsgID, b3.MsgID)
	}
	if _, err := s.BatchByNumber(ctx, "B9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("BatchByNumber(unknown) = %v; want ErrNotFound", err)
	}
	all, err := s.ListBatches(ctx)
	if err != nil || !slices.Equal(msgIDs(all), []string{b3.MsgID, b2.MsgID, b1.MsgID}) {
		t.Errorf("ListBatches() = %v, %v; want newest first", msgIDs(all), err)
	}
	if all[0].Sums == nil || all[2].Status != BatchRejectedByBank || all[2].Sent.IsZero() {
		t.Errorf("ListBatches() = %+v; want sums and statuses", all)
	}
	sending, err := s.BatchesByStatus(ctx, BatchSending, BatchInDoubt)
	if err != nil || !slices.Equal(msgIDs(sending), []string{b2.MsgID, b3.MsgID}) {
		t.Errorf("BatchesByStatus(sending, in-doubt) = %v, %v; want oldest first", msgIDs(sending), err)
	}
	if none, err := s.BatchesByStatus(ctx, BatchPaid); err != nil || len(none) != 0 {
		t.Errorf("BatchesByStatus(paid) = %v, %v; want none", none, err)
	}
	if _, err := s.Batch(ctx, "RFD-NONE"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Batch(unknown) = %v; want ErrNotFound", err)
	}
	if _, err := s.Refunds(ctx, "RFD-NONE"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Refunds(unknown) = %v; want ErrNotFound", err)
	}
	r, err := s.Refund(ctx, rs1[0].EndToEndID)
	if err != nil || r.Status != refund.StatusRejected || r.ReasonCode != "AC04" || r.ReasonText != "closed account" {
		t.Errorf("Refund() = %+v, %v; want rejected AC04 closed account", r, err)
	}
	if _, err := s.Refund(ctx, "CN-NONE"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Refund(unknown) = %v; want ErrNotFound", err)
	}
	counts, err := s.BatchCounts(ctx)
	if want := map[BatchStatus]int{BatchRejectedByBank: 1, BatchSending: 2}; err != nil || !maps.Equal(counts, want) {
		t.Errorf("BatchCounts() = %v, %v; want %v", counts, err, want)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestPain checks that the pain.001 is kept with the batch and read back
// checked against its hash: altered bytes are refused, a batch recorded
// without them (by an earlier version) reads as nil.
func TestPain(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	b, rs := newBatch("B1", 0, 1)
	b.Pain = []byte("<Document>pain B1</Document>")
	b.PainHash = hashOf(string(b.Pain))
	mustCreate(t, s, b, rs)
	got, err := s.Pain(ctx, b.MsgID)
	if err != nil || string(got) != string(b.Pain) {
		t.Fatalf("Pain() = %q, %v; want the recorded bytes", got, err)
	}
	if _, err := s.w.Exec(`UPDATE batches SET pain = ? WHERE msg_id = ?`, []byte("<Document>other</Document>"), b.MsgID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pain(ctx, b.MsgID); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Pain() of altered bytes: %v; want ErrCorrupt", err)
	}
	old, rs2 := newBatch("B2", 0, 1)
	mustCreate(t, s, old, rs2)
	if got, err := s.Pain(ctx, old.MsgID); err != nil || got != nil {
		t.Errorf("Pain() of a batch without bytes = %q, %v; want nil", got, err)
	}
	if _, err := s.Pain(ctx, "RFD-NONE"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Pain() of an unknown batch: %v; want ErrNotFound", err)
	}
}

// TestDuplicateCheckUsesIndexes: the check of a new batch against the
// refunds recorded before looks each EndToEndId, InstrId and document up
// in its index; it does not read every refund ever recorded, which on
// PostgreSQL "a IN x OR b IN y" does, and which grows with the years.
func TestDuplicateCheckUsesIndexes(t *testing.T) {
	s := openTest(t)
	if !s.d.pg {
		t.Skip("a plan of PostgreSQL's; SQLite uses its multi-index OR")
	}
	ctx := t.Context()
	const batches, per = 20, 1000
	for i := range batches {
		b, rs := newBatch(fmt.Sprintf("OLD%d", i), 0, per)
		mustCreate(t, s, b, rs)
	}
	if _, err := s.w.ExecContext(ctx, `ANALYZE refunds`); err != nil {
		t.Fatal(err)
	}
	_, rs := newBatch("NEW", 0, per)
	n := len(rs)
	e2e, instr, docType, refNbr := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, r := range rs {
		e2e[i], instr[i], docType[i], refNbr[i] = r.EndToEndID, r.InstrID, string(r.DocType), r.RefNbr
	}
	tx, err := s.w.begin(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	where, args := sharing(tx, 0, n, e2e, instr, docType, refNbr)
	var plan string
	if err := tx.QueryRowContext(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) SELECT `+refundCols+refundFrom+`WHERE `+where, args...).Scan(&plan); err != nil {
		t.Fatal(err)
	}
	var nodes []struct{ Plan planNode }
	if err := json.Unmarshal([]byte(plan), &nodes); err != nil {
		t.Fatal(err)
	}
	read := nodes[0].Plan.rowsRead("refunds")
	if read > n {
		t.Errorf("the check of %d new refunds read %d rows of the %d recorded; want at most %d. Plan:\n%s", n, read, batches*per, n, plan)
	}
}

// planNode is a node of PostgreSQL's EXPLAIN (ANALYZE, FORMAT JSON).
type planNode struct {
	Relation string     `json:"Relation Name"`
	Rows     float64    `json:"Actual Rows"`
	Loops    float64    `json:"Actual Loops"`
	Removed  float64    `json:"Rows Removed by Filter"`
	Plans    []planNode `json:"Plans"`
}

// rowsRead returns how many rows of table the plan read, kept or
// filtered out.
func (p planNode) rowsRead(table string) int {
	n := 0
	if p.Relation == table {
		n += int((p.Rows + p.Removed) * p.Loops)
	}
	for _, c := range p.Plans {
		n += c.rowsRead(table)
	}
	return n
}

// TestBatchesChangedBefore reads the batches of the statuses asked for
// whose last change is before the time given, and no other.
func TestBatchesChangedBefore(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	at := t0
	s.now = func() time.Time { return at }
	msgIDs := map[string]string{}
	for _, c := range []struct {
		number string
		day    int
		to     []BatchStatus
	}{
		{"B1", 0, []BatchStatus{BatchSent, BatchPaid}},
		{"B2", 2, []BatchStatus{BatchSent, BatchPaid}},
		{"B3", 0, []BatchStatus{BatchSent}},
	} {
		at = t0.AddDate(0, 0, c.day)
		b, rs := newBatch(c.number, 0, 1)
		mustCreate(t, s, b, rs)
		for _, to := range c.to {
			mustSetBatch(t, s, b.MsgID, to)
		}
		msgIDs[c.number] = b.MsgID
	}
	for _, c := range []struct {
		before   time.Time
		statuses []BatchStatus
		want     []string
	}{
		{t0, []BatchStatus{BatchPaid}, nil},
		{t0.Add(time.Nanosecond), []BatchStatus{BatchPaid}, []string{"B1"}},
		{t0.AddDate(0, 0, 2), []BatchStatus{BatchPaid, BatchSettledWithExceptions}, []string{"B1"}},
		{t0.AddDate(0, 0, 3), []BatchStatus{BatchPaid, BatchSettledWithExceptions}, []string{"B1", "B2"}},
		{t0.AddDate(0, 0, 3), []BatchStatus{BatchSent}, []string{"B3"}},
		{t0.AddDate(0, 0, 3), nil, nil},
	} {
		bs, err := s.BatchesChangedBefore(ctx, c.before, c.statuses...)
		var got []string
		for _, b := range bs {
			got = append(got, b.Number)
			if b.MsgID != msgIDs[b.Number] || len(b.Sums) != 1 {
				t.Errorf("batch %s: MsgId %s, sums %v; want %s with its one sum", b.Number, b.MsgID, b.Sums, msgIDs[b.Number])
			}
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("BatchesChangedBefore(%s, %v) = %v, %v; want %v", c.before.Format(time.RFC3339Nano), c.statuses, got, err, c.want)
		}
	}
}
