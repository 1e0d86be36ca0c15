package store

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"refundd/daemon/refund"
)

// TestRefundPage pages through a batch of 7 refunds 3 at a time, forwards
// and backwards, beside another batch's refunds: each page holds the
// refunds it should, with their bank references, and names its
// neighbours.
func TestRefundPage(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	sentBatch(t, s, "OTHER1", 2)
	b, rs := sentBatch(t, s, "PAGED", 7)
	sentBatch(t, s, "OTHER2", 2)
	r := Reply{}
	for i, x := range rs {
		r.Keys = append(r.Keys, AppliedKey{Key: key(fmt.Sprintf("REF-%d", i+1), x.EndToEndID), Kind: refund.KindPayment, EndToEndID: x.EndToEndID})
	}
	if _, err := s.ApplyReply(ctx, claimReply(t, s, "camt PAGED"), r); err != nil {
		t.Fatal(err)
	}
	first, err := s.RefundPage(ctx, b.MsgID, PageAt{Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, p RefundPage, from, to int, prev, next bool) {
		t.Helper()
		var got []string
		for _, x := range p.Refunds {
			got = append(got, x.RefNbr)
			if want := "REF-" + x.RefNbr[len("PAGED-"):]; len(p.BankRefs[x.EndToEndID]) != 1 || p.BankRefs[x.EndToEndID][0] != want {
				t.Errorf("%s: bank references of %s = %v, want [%s]", name, x.RefNbr, p.BankRefs[x.EndToEndID], want)
			}
		}
		var want []string
		for i := from; i <= to; i++ {
			want = append(want, fmt.Sprintf("PAGED-%d", i))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || (p.Prev != 0) != prev || (p.Next != 0) != next || len(p.BankRefs) != len(got) {
			t.Errorf("%s: %v prev %d next %d; want %v, a page before %v, after %v", name, got, p.Prev, p.Next, want, prev, next)
		}
	}
	check("first", first, 1, 3, false, true)
	second, err := s.RefundPage(ctx, b.MsgID, PageAt{After: first.Next, Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	check("second", second, 4, 6, true, true)
	last, err := s.RefundPage(ctx, b.MsgID, PageAt{After: second.Next, Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	check("last", last, 7, 7, true, false)
	back, err := s.RefundPage(ctx, b.MsgID, PageAt{Before: last.Prev, Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	check("back from the last", back, 4, 6, true, true)
	back, err = s.RefundPage(ctx, b.MsgID, PageAt{Before: back.Prev, Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	check("back to the first", back, 1, 3, false, true)
	end, err := s.RefundPage(ctx, b.MsgID, PageAt{Before: math.MaxInt64, Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	check("before the end", end, 5, 7, true, false)
	whole, err := s.RefundPage(ctx, b.MsgID, PageAt{Size: 7})
	if err != nil {
		t.Fatal(err)
	}
	check("whole", whole, 1, 7, false, false)

	counts, err := s.RefundCounts(ctx, b.MsgID)
	if err != nil || len(counts) != 1 || counts[refund.StatusSent] != 7 {
		t.Errorf("RefundCounts = %v, %v; want 7 sent", counts, err)
	}
	if _, err := s.RefundPage(ctx, "RFD-NONE", PageAt{Size: 3}); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unknown batch: %v", err)
	}
	for _, at := range []PageAt{{Size: 0}, {After: 1, Before: 5, Size: 3}} {
		if _, err := s.RefundPage(ctx, b.MsgID, at); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", at, err)
		}
	}
}
