package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"refundd/daemon/refund"
	"refundd/internal/pgtest"
)

// BenchmarkCreateBatch records batches of 1 000 refunds, each in one
// durable transaction (with 1 001 events and the uniqueness checks).
//
// Each benchmark runs on both engines, side by side in one run: SQLite in
// a temporary folder, PostgreSQL (when REFUNDD_TEST_PG names a server) in
// a new schema.
func BenchmarkCreateBatch(b *testing.B) {
	onBoth(b, benchCreateBatch)
}

// onBoth runs bench as the sub-benchmarks "sqlite" and "postgres", each
// with a new store of that engine.
func onBoth(b *testing.B, bench func(b *testing.B, open func(testing.TB) *Store)) {
	b.Run("sqlite", func(b *testing.B) {
		bench(b, func(tb testing.TB) *Store {
			s, err := Open(filepath.Join(tb.TempDir(), "state.db"))
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { s.Close() })
			return s
		})
	})
	b.Run("postgres", func(b *testing.B) {
		bench(b, func(tb testing.TB) *Store {
			url, schema := pgtest.Schema(tb)
			s, err := OpenPostgres(context.Background(), PostgresConfig{URL: url, Schema: schema})
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { s.Close() })
			return s
		})
	})
}

func benchCreateBatch(b *testing.B, open func(testing.TB) *Store) {
	ctx := b.Context()
	s := open(b)
	const n = 1000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		batch, rs := newBatch(fmt.Sprintf("BENCH%d", i), 0, n)
		b.StartTimer()
		if err := s.CreateBatch(ctx, batch, rs); err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/sec, "batches/s")
	b.ReportMetric(float64(b.N*n)/sec, "refunds/s")
}

// BenchmarkApplyReply applies replies that change a batch and each of its
// refunds and record one bank-entry key per refund, each in one durable
// transaction.
func BenchmarkApplyReply(b *testing.B) {
	onBoth(b, benchApplyReply)
}

func benchApplyReply(b *testing.B, open func(testing.TB) *Store) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("refunds=%d", n), func(b *testing.B) {
			ctx := b.Context()
			s := open(b)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				number := fmt.Sprintf("BENCH%d", i)
				batch, rs := sentBatch(b, s, number, n)
				h := claimReply(b, s, "reply "+number)
				r := Reply{Batches: []BatchStatusChange{{MsgID: batch.MsgID, To: BatchAccepted}}}
				for _, x := range rs {
					r.Refunds = append(r.Refunds, RefundStatusChange{EndToEndID: x.EndToEndID, To: refund.StatusBooked})
					r.Keys = append(r.Keys, AppliedKey{Key: key("E-"+number, x.EndToEndID), Kind: refund.KindPayment, EndToEndID: x.EndToEndID})
				}
				b.StartTimer()
				if _, err := s.ApplyReply(ctx, h, r); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "replies/s")
		})
	}
}

// BenchmarkWrite is the floor under every write: a transaction that
// checks the lease and commits, durably, and nothing else.
func BenchmarkWrite(b *testing.B) {
	onBoth(b, func(b *testing.B, open func(testing.TB) *Store) {
		ctx := b.Context()
		s := open(b)
		for i := 0; i < b.N; i++ {
			if err := s.write(ctx, func(*txn) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBatchGauges reads what the batch gauges of a step with a new
// event read: the counts by status (BatchCounts) and the refunds to
// re-release (ToRerelease), in a store with 5 batches settled with a
// rejected refund each and a history of paid batches of 10 refunds, 100
// or 1 000 of them: ToRerelease reads the open batches by index, so its
// cost should not grow with the history.
func BenchmarkBatchGauges(b *testing.B) {
	onBoth(b, func(b *testing.B, open func(testing.TB) *Store) {
		for _, paid := range []int{100, 1000} {
			s := open(b)
			ctx := b.Context()
			for i := range paid {
				batch, rs := newBatch(fmt.Sprintf("PAID%d", i), 0, 10)
				if err := s.CreateBatch(ctx, batch, rs); err != nil {
					b.Fatal(err)
				}
				mustSetBatch(b, s, batch.MsgID, BatchSent)
				mustSetBatch(b, s, batch.MsgID, BatchPaid)
			}
			for i := range 5 {
				batch, rs := newBatch(fmt.Sprintf("OPEN%d", i), 0, 2)
				if err := s.CreateBatch(ctx, batch, rs); err != nil {
					b.Fatal(err)
				}
				mustSetBatch(b, s, batch.MsgID, BatchSent)
				if _, err := s.SetRefundStatus(ctx, rs[0].EndToEndID, refund.StatusRejected, "AC04", ""); err != nil {
					b.Fatal(err)
				}
				mustSetBatch(b, s, batch.MsgID, BatchPartiallyAccepted)
			}
			b.Run(fmt.Sprintf("ToRerelease/paid=%d", paid), func(b *testing.B) {
				for b.Loop() {
					c, err := s.ToRerelease(ctx)
					if err != nil || c[refund.StatusRejected] != 5 {
						b.Fatalf("ToRerelease() = %v, %v; want 5 rejected", c, err)
					}
				}
			})
			b.Run(fmt.Sprintf("BatchCounts/paid=%d", paid), func(b *testing.B) {
				for b.Loop() {
					if _, err := s.BatchCounts(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	})
}
