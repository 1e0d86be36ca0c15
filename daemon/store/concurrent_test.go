package store

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"refundd/daemon/refund"
)

// TestConcurrentReaders reads while one goroutine writes (run it with
// -race): every batch a reader sees has all its refunds, every refund it
// finds is one of a batch it can read, and no read waits for the writer
// or fails with SQLITE_BUSY.
func TestConcurrentReaders(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	const batches, perBatch, readers = 12, 20, 3
	var done atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup

	wg.Go(func() {
		defer done.Store(true)
		for i := range batches {
			number := fmt.Sprintf("C%d", i)
			b, rs := newBatch(number, 0, perBatch)
			if err := s.CreateBatch(ctx, b, rs); err != nil {
				t.Error(err)
				return
			}
			if _, err := s.SetBatchStatus(ctx, b.MsgID, BatchSent, ""); err != nil {
				t.Error(err)
				return
			}
			h := hashOf("reply " + number)
			if _, err := s.RecordFile(ctx, h, number+".xml", FileReply); err != nil {
				t.Error(err)
				return
			}
			r := Reply{Batches: []BatchStatusChange{{MsgID: b.MsgID, To: BatchAccepted}}}
			for _, x := range rs {
				r.Refunds = append(r.Refunds, RefundStatusChange{EndToEndID: x.EndToEndID, To: refund.StatusAccepted})
				r.Keys = append(r.Keys, AppliedKey{Key: key("E-"+number, x.EndToEndID), Kind: refund.KindPayment})
			}
			if _, err := s.ApplyReply(ctx, h, r); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range readers {
		wg.Go(func() {
			for !done.Load() {
				bs, err := s.ListBatches(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				for _, b := range bs[:min(len(bs), 3)] { // the newest: those being written
					rs, err := s.Refunds(ctx, b.MsgID)
					if err != nil {
						t.Error(err)
						return
					}
					if len(rs) != b.NbOfTxs || len(rs) != perBatch {
						t.Errorf("batch %s: %d refunds, NbOfTxs %d; want %d", b.MsgID, len(rs), b.NbOfTxs, perBatch)
					}
					l := s.Lookup(ctx)
					sent, ok, err := l.ByEndToEndID(rs[0].EndToEndID)
					if err != nil || !ok || sent.MsgID != b.MsgID {
						t.Errorf("ByEndToEndID(%s) = %+v, %v, %v", rs[0].EndToEndID, sent, ok, err)
					}
					if _, err := l.Seen(key("E-"+b.Number, rs[0].EndToEndID)); err != nil {
						t.Error(err)
					}
					if evs, err := s.Events(ctx, SubjectBatch, b.MsgID); err != nil || len(evs) == 0 {
						t.Errorf("Events(%s) = %d, %v", b.MsgID, len(evs), err)
					}
					reads.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d batch reads during %d batches written", reads.Load(), batches)
}
