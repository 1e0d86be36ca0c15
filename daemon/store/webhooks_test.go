package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"refundd/daemon/refund"
)

// TestWebhookOutbox: the notifiable events (a refund rejected or
// returned, a batch in doubt or rejected, an alarm raised and cleared)
// are read after a webhook's cursor, oldest first, filtered by the
// notices it takes; the cursor moves only forward and only when told of a
// delivery; a webhook started later begins at the last event; the
// backlog and delivery state are read back.
func TestWebhookOutbox(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	const hook, alarmsOnly = "https://erp.example/hooks/refundd", "https://chat.example/hook"
	if err := s.StartWebhook(ctx, hook); err != nil {
		t.Fatal(err)
	}
	if err := s.StartWebhook(ctx, hook); err != nil { // again: kept as it is
		t.Fatal(err)
	}
	if through, err := s.WebhookCursor(ctx, hook); err != nil || through != 0 {
		t.Fatalf("WebhookCursor() = %d, %v; want 0", through, err)
	}

	b, rs := newBatch("W1", 0, 3)
	mustCreate(t, s, b, rs)
	mustSetBatch(t, s, b.MsgID, BatchInDoubt)
	for _, st := range refundPath[refund.StatusRejected] {
		if _, err := s.SetRefundStatus(ctx, rs[0].EndToEndID, st, "AC04", "closed"); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range refundPath[refund.StatusReturned] {
		if _, err := s.SetRefundStatus(ctx, rs[1].EndToEndID, st, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	b2, rs2 := newBatch("W2", 0, 1)
	b2.Status = BatchReceived
	mustCreate(t, s, b2, rs2)
	mustSetBatch(t, s, b2.MsgID, BatchRejected)
	// A batch file that failed refundd's checks is a rejected batch; a
	// reply file that failed is not announced.
	for _, f := range []struct {
		name string
		kind FileKind
	}{{"batch-bad.csv", FileBatch}, {"pain002-bad.xml", FileReply}} {
		if _, err := s.RecordFile(ctx, hashOf(f.name), f.name, f.kind); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishFile(ctx, hashOf(f.name), FileFailed, "2 problem(s)"); err != nil {
			t.Fatal(err)
		}
	}
	due := []Alarm{{Key: AlarmKey("no_status", b.MsgID), Kind: "no_status", Subject: b.MsgID, Detail: "no status report"}}
	if raised, cleared, err := s.SyncAlarms(ctx, due); err != nil || len(raised) != 1 || len(cleared) != 0 {
		t.Fatalf("SyncAlarms(raise) = %v, %v, %v; want one raised", raised, cleared, err)
	}
	last, _ := s.LastEvent(ctx)
	if raised, cleared, err := s.SyncAlarms(ctx, due); err != nil || len(raised)+len(cleared) != 0 {
		t.Fatalf("SyncAlarms(same) = %v, %v, %v; want no change", raised, cleared, err)
	}
	if again, _ := s.LastEvent(ctx); again != last {
		t.Errorf("SyncAlarms without a change recorded events %d..%d", last, again)
	}
	if raised, cleared, err := s.SyncAlarms(ctx, nil); err != nil || len(raised) != 0 || len(cleared) != 1 {
		t.Fatalf("SyncAlarms(clear) = %v, %v, %v; want one cleared", raised, cleared, err)
	}
	if a, err := s.Alarm(ctx, due[0].Key); err != nil || a.Cleared.IsZero() || a.Subject != b.MsgID {
		t.Errorf("Alarm() = %+v, %v; want it cleared", a, err)
	}
	if err := s.StartWebhook(ctx, alarmsOnly); err != nil {
		t.Fatal(err)
	}
	if raised, _, err := s.SyncAlarms(ctx, due); err != nil || len(raised) != 1 { // raised again
		t.Fatalf("SyncAlarms(raise again) = %v, %v", raised, err)
	}

	type got struct {
		n        Notice
		subject  string
		from, to string
	}
	want := []got{
		{NoticeBatchInDoubt, b.MsgID, "sending", "in-doubt"},
		{NoticeRefundRejected, rs[0].EndToEndID, "new", "rejected"},
		{NoticeRefundReturned, rs[1].EndToEndID, "booked", "returned"},
		{NoticeBatchRejected, b2.MsgID, "received", "rejected"},
		{NoticeRefundRejected, rs2[0].EndToEndID, "new", "rejected"}, // with its batch
		{NoticeBatchRejected, hashOf("batch-bad.csv"), "processing", "failed"},
		{NoticeAlarm, due[0].Key, "", "raised"},
		{NoticeAlarm, due[0].Key, "raised", "cleared"},
		{NoticeAlarm, due[0].Key, "cleared", "raised"},
	}
	es, err := s.NoticesAfter(ctx, 0, Notices(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var have []got
	for i, e := range es {
		have = append(have, got{NoticeOf(e), e.SubjectID, e.From, e.To})
		if i > 0 && e.ID <= es[i-1].ID {
			t.Errorf("events out of order: %d after %d", e.ID, es[i-1].ID)
		}
	}
	if !slices.Equal(have, want) {
		t.Fatalf("NoticesAfter(0) =\n%v\nwant\n%v", have, want)
	}
	if es[1].Reason != "AC04" || es[1].Detail != "closed" {
		t.Errorf("rejection event %+v; want its reason AC04, closed", es[1])
	}
	// A page, and a filter.
	page, err := s.NoticesAfter(ctx, es[1].ID, Notices(), 2)
	if err != nil || len(page) != 2 || page[0].ID != es[2].ID {
		t.Errorf("NoticesAfter(page) = %v, %v; want events %d and %d", page, err, es[2].ID, es[3].ID)
	}
	refunds, err := s.NoticesAfter(ctx, 0, []Notice{NoticeRefundReturned, NoticeRefundRejected}, 100)
	if err != nil || len(refunds) != 3 || refunds[0].ID != es[1].ID || refunds[1].ID != es[2].ID || refunds[2].ID != es[4].ID {
		t.Errorf("NoticesAfter(refunds) = %v, %v; want the three refund events", refunds, err)
	}
	if _, err := s.NoticesAfter(ctx, 0, []Notice{"refund-lost"}, 1); !errors.Is(err, ErrInvalid) {
		t.Errorf("NoticesAfter(unknown notice) = %v; want ErrInvalid", err)
	}

	// The state: all pending; the later webhook sees only what came after
	// it started.
	st, err := s.WebhookStatus(ctx, hook, Notices())
	if err != nil || st.Pending != int64(len(want)) || !st.Oldest.Equal(es[0].At) || st.Delivered != 0 {
		t.Errorf("WebhookStatus() = %+v, %v; want %d pending since %v", st, err, len(want), es[0].At)
	}
	st, err = s.WebhookStatus(ctx, alarmsOnly, []Notice{NoticeAlarm})
	if err != nil || st.Pending != 1 || st.Through != es[7].ID {
		t.Errorf("WebhookStatus(later) = %+v, %v; want 1 pending after event %d", st, err, es[7].ID)
	}

	// A failure keeps the cursor; a delivery moves it, and only forward.
	if err := s.WebhookFailed(ctx, hook, "connection refused"); err != nil {
		t.Fatal(err)
	}
	if err := s.WebhookDelivered(ctx, hook, es[2].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.WebhookDelivered(ctx, hook, es[0].ID); err != nil {
		t.Fatal(err)
	}
	st, err = s.WebhookStatus(ctx, hook, Notices())
	if err != nil || st.Through != es[2].ID || st.Pending != int64(len(want)-3) || st.Delivered != 2 || st.Failures != 0 ||
		st.LastError != "connection refused" || st.LastErrorAt.IsZero() || st.LastSuccess.IsZero() {
		t.Errorf("WebhookStatus(after) = %+v, %v; want through %d, %d pending, 2 delivered, the last error kept", st, err, es[2].ID, len(want)-3)
	}
	if _, err := s.w.Exec(`UPDATE webhooks SET through_event = 0 WHERE hook = ?`, hook); err == nil {
		t.Error("a webhook cursor moved back")
	}
	if err := s.WebhookDelivered(ctx, "https://unknown.example/", 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("WebhookDelivered(unknown) = %v; want ErrNotFound", err)
	}
	if _, err := s.WebhookStatus(ctx, "https://unknown.example/", Notices()); !errors.Is(err, ErrNotFound) {
		t.Errorf("WebhookStatus(unknown) = %v; want ErrNotFound", err)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkRejectReply applies replies that reject every refund of a
// batch of 1 000: each rejection is an event that a webhook announces, so
// each enters the partial index events_notify. The sub-benchmark
// without-index drops that index first: the same work without the
// outbox's cost, side by side in one run.
func BenchmarkRejectReply(b *testing.B) {
	onBoth(b, func(b *testing.B, open func(testing.TB) *Store) {
		for _, index := range []bool{true, false} {
			name := "outbox"
			if !index {
				name = "without-index"
			}
			b.Run(name, func(b *testing.B) {
				ctx := b.Context()
				s := open(b)
				if !index {
					if _, err := s.w.Exec(`DROP INDEX events_notify`); err != nil {
						b.Fatal(err)
					}
				}
				const n = 1000
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					number := fmt.Sprintf("BENCH%d", i)
					batch, rs := sentBatch(b, s, number, n)
					h := claimReply(b, s, "reply "+number)
					r := Reply{Batches: []BatchStatusChange{{MsgID: batch.MsgID, To: BatchRejectedByBank}}}
					for _, x := range rs {
						r.Refunds = append(r.Refunds, RefundStatusChange{EndToEndID: x.EndToEndID, To: refund.StatusRejected, Code: "AC04", Text: "closed"})
					}
					b.StartTimer()
					if _, err := s.ApplyReply(ctx, h, r); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "refunds/s")
			})
		}
	})
}

// TestNoticesReadByIndex: a webhook's next events and its backlog are read
// from the partial index of the notifiable events, from its cursor on,
// without a sort: not every refund event of the history (SQLite's planner
// takes events_subject for the OR of subject types unless told).
func TestNoticesReadByIndex(t *testing.T) {
	sqliteOnly(t)
	s := openTest(t)
	cond, err := noticesCond(Notices())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`SELECT id FROM ` + s.notifyEvents() + ` WHERE id > ? AND ` + notifiable + ` AND ` + cond + ` ORDER BY id LIMIT ?`,
		`SELECT count(*), min(at) FROM ` + s.notifyEvents() + ` WHERE id > ? AND ` + notifiable + ` AND ` + cond,
	} {
		plan := explain(t, s, q)
		if len(plan) == 0 || plan[0] != "SEARCH events USING INDEX events_notify (id>?)" || slices.ContainsFunc(plan, func(p string) bool {
			return strings.Contains(p, "TEMP B-TREE") || strings.Contains(p, "events_subject")
		}) {
			t.Errorf("plan of %s:\n%s", q, strings.Join(plan, "\n"))
		}
	}
}
