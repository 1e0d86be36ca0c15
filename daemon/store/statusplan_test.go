package store_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"refundd/daemon/status"
	"refundd/daemon/store"
)

// statusPlanRefunds is the size of the batch TestStatusReadsIndexed views.
const statusPlanRefunds = 100_000

// statusPlanRefundsRace is its size on SQLite under the race detector,
// which runs SQLite (compiled from C to Go) some thirty times slower.
// Without statistics (refundd never runs ANALYZE on SQLite) SQLite plans
// a query by the schema alone, not by the number of rows, so that the
// plans checked are those of the bigger batch.
const statusPlanRefundsRace = 2_000

// TestStatusReadsIndexed: every read of the store behind the status
// command (all batches, one batch with all its refunds, as a table and as
// JSON), the status page and its JSON API (a batch's first page, a page
// after and before, the list) is served by indexes when a batch holds
// 100 000 booked refunds: no read scans a table that grows with the
// refunds, none sorts a whole batch to take a page of it, and on
// PostgreSQL none reads more rows of such a table than a page's worth.
// The same holds for the list's "needs attention", the search (an
// account's last digits match all 100 000) and a refund's timeline.
func TestStatusReadsIndexed(t *testing.T) {
	s := store.OpenTest(t)
	ctx := t.Context()
	n := statusPlanRefunds
	if raceDetector && !s.Postgres() {
		n = statusPlanRefundsRace
	}
	start := time.Now()
	store.BigBookedBatch(t, s, "SMALL", 30)
	msgID := store.BigBookedBatch(t, s, "BIG", n)
	t.Logf("recorded %d refunds in %v", n+30, time.Since(start).Round(time.Millisecond))

	type read struct {
		q    string
		args []any
	}
	var reads []read
	stop := store.ListenReads(t, s, func(q string, args []any) {
		if !slices.ContainsFunc(reads, func(r read) bool { return r.q == q }) {
			reads = append(reads, read{q, slices.Clone(args)})
		}
	})

	// The status command: every batch; one batch, as a table and as JSON
	// (the first pages: the reads of the others are the same).
	for _, batch := range []string{"", "BIG", msgID} {
		v, err := status.Read(ctx, s, batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, asJSON := range []bool{false, true} {
			if err := v.Stream(ctx, io.Discard, firstPages{s}, asJSON); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The page and its JSON API, with what needs attention, the search
	// (by RefNbr, CustomerID, EndToEndId, MsgId, batch number and an
	// account's last digits, every refund of BIG having the same
	// account) and a refund's timeline.
	mux := http.NewServeMux()
	status.Handle(mux, s, nil)
	mid := fmt.Sprint(n / 2)
	one, err := s.Refund(ctx, "CN-BIG-"+mid)
	if err != nil {
		t.Fatal(err)
	}
	tail := one.CreditorAccount[len(one.CreditorAccount)-6:]
	for _, url := range []string{"/status", "/api/batches", "/status?batch=BIG", "/status?batch=BIG&after=" + mid,
		"/status?batch=" + msgID + "&before=" + mid, "/api/batches/BIG?after=" + mid, "/status?batch=BIG&format=text",
		"/api/attention", "/status/search?q=BIG-" + mid, "/api/search?q=C-" + mid, "/api/search?q=CN-BIG-" + mid,
		"/api/search?q=" + msgID, "/api/search?q=BIG", "/api/search?q=" + mid, "/api/search?q=" + tail,
		"/status/refund/CN-BIG-" + mid, "/api/refunds/CN-BIG-" + mid} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", url, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", url, rec.Code, rec.Body.String())
		}
	}
	stop()

	if len(reads) < 12 {
		t.Fatalf("only %d reads seen", len(reads))
	}
	for _, r := range reads {
		plan, problems := store.PlanProblems(t, s, r.q, r.args, 10_000)
		if len(problems) > 0 {
			t.Errorf("the read\n%s\nwith %v: %s; plan:\n%s", r.q, r.args, strings.Join(problems, "; "), plan)
		}
	}
	t.Logf("%d reads checked", len(reads))
}

// firstPages is a store whose batches end after their second page.
type firstPages struct{ *store.Store }

func (s firstPages) RefundPage(ctx context.Context, msgID string, at store.PageAt) (store.RefundPage, error) {
	p, err := s.Store.RefundPage(ctx, msgID, at)
	if at.After != 0 {
		p.Next = 0
	}
	return p, err
}

// BenchmarkStatusPages serves the status pages over a batch of 100,000
// booked refunds (and 30 more in another batch): the list with what
// needs attention and each batch's counts, a search by RefNbr and by an
// account's last digits (which all 100,000 share), a refund's timeline,
// and, as the baseline, the first page of the big batch that the page
// served before.
func BenchmarkStatusPages(b *testing.B) {
	s := store.OpenTest(b)
	store.BigBookedBatch(b, s, "SMALL", 30)
	store.BigBookedBatch(b, s, "BIG", statusPlanRefunds)
	mux := http.NewServeMux()
	status.Handle(mux, s, nil)
	mid := fmt.Sprint(statusPlanRefunds / 2)
	one, err := s.Refund(b.Context(), "CN-BIG-"+mid)
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []struct{ name, url string }{
		{"batch-page-baseline", "/status?batch=BIG"},
		{"list-with-attention", "/status"},
		{"search-refnbr", "/status/search?q=BIG-" + mid},
		{"search-account-tail", "/status/search?q=" + one.CreditorAccount[len(one.CreditorAccount)-6:]},
		{"timeline", "/status/refund/CN-BIG-" + mid},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, httptest.NewRequest("GET", p.url, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d", p.url, rec.Code)
				}
			}
		})
	}
}
