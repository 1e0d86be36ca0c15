package status

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"refundd/daemon/refund"
	"refundd/daemon/store"
)

// pageStore is a Store with one batch of two refunds, one of them
// rejected, and bank references; with n, of n booked refunds instead.
type pageStore struct{ n int }

var pageBatch = store.Batch{MsgID: "RFD-B1-X", Number: "B1", Status: store.BatchAccepted, NbOfTxs: 2,
	Sums: []refund.Amount{{Minor: 15000, Currency: "NOK"}}}

func (pageStore) ListBatches(context.Context) ([]store.Batch, error) {
	return []store.Batch{pageBatch}, nil
}
func (pageStore) BatchByNumber(_ context.Context, n string) ([]store.Batch, error) {
	if n != "B1" {
		return nil, store.ErrNotFound
	}
	return []store.Batch{pageBatch}, nil
}
func (pageStore) Batch(_ context.Context, id string) (store.Batch, error) {
	if id != pageBatch.MsgID {
		return store.Batch{}, store.ErrNotFound
	}
	return pageBatch, nil
}

func (p pageStore) refunds() []store.Refund {
	if p.n > 0 {
		rs := make([]store.Refund, p.n)
		for i := range rs {
			rs[i] = store.Refund{Sent: refund.Sent{RefNbr: fmt.Sprintf("CN%d", i+1), EndToEndID: fmt.Sprintf("CN-CN%d-AAAA", i+1),
				Status: refund.StatusBooked, Amount: refund.Amount{Minor: 100, Currency: "NOK"}}}
		}
		return rs
	}
	r1 := store.Refund{Sent: refund.Sent{RefNbr: "CN1", EndToEndID: "CN-CN1-AAAA", Status: refund.StatusBooked,
		Amount: refund.Amount{Minor: 10000, Currency: "NOK"}}}
	r2 := store.Refund{Sent: refund.Sent{RefNbr: "CN2", EndToEndID: "CN-CN2-BBBB", Status: refund.StatusRejected,
		Amount: refund.Amount{Minor: 5000, Currency: "NOK"}}, ReasonCode: "AC04", ReasonText: "Closed <account>"}
	return []store.Refund{r1, r2}
}

// RefundPage pages the refunds as the store does; the sequence number of
// the i-th refund is i+1.
func (p pageStore) RefundPage(_ context.Context, _ string, at store.PageAt) (store.RefundPage, error) {
	rs := p.refunds()
	lo, hi := int(at.After), min(len(rs), int(at.After)+at.Size)
	if at.Before != 0 {
		hi = int(at.Before) - 1
		lo = max(0, hi-at.Size)
	}
	out := store.RefundPage{Refunds: rs[lo:hi], BankRefs: map[string][]string{"CN-CN1-AAAA": {"BANKREF-1"}}}
	if lo > 0 {
		out.Prev = int64(lo + 1)
	}
	if hi < len(rs) {
		out.Next = int64(hi)
	}
	return out, nil
}

func (p pageStore) RefundCounts(context.Context, string) (map[refund.Status]int, error) {
	counts := map[refund.Status]int{}
	for _, r := range p.refunds() {
		counts[r.Status]++
	}
	return counts, nil
}

func get(t *testing.T, h http.Handler, url string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", url, nil))
	return rec
}

func TestStatusPage(t *testing.T) {
	mux := http.NewServeMux()
	Handle(mux, pageStore{}, nil)

	list := get(t, mux, "/status")
	body := list.Body.String()
	if list.Code != 200 || !strings.HasPrefix(list.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("/status: %d %s", list.Code, list.Header().Get("Content-Type"))
	}
	for _, want := range []string{"RFD-B1-X", "accepted", "150.00 NOK", `href="/status?batch=RFD-B1-X"`, "setTimeout(refresh,  3000 )"} {
		if !strings.Contains(body, want) {
			t.Errorf("/status lacks %q:\n%s", want, body)
		}
	}
	for _, external := range []string{"http://", "https://", "src=", "<link"} {
		if strings.Contains(body, external) {
			t.Errorf("/status refers to something outside (%q)", external)
		}
	}

	one := get(t, mux, "/status?batch=B1").Body.String()
	for _, want := range []string{"CN-CN1-AAAA", "BANKREF-1", "CN-CN2-BBBB", "AC04 Closed &lt;account&gt;", "rejected"} {
		if !strings.Contains(one, want) {
			t.Errorf("/status?batch=B1 lacks %q:\n%s", want, one)
		}
	}
	if rec := get(t, mux, "/status?batch=NOPE"); rec.Code != 404 {
		t.Errorf("unknown batch: %d", rec.Code)
	}

	var bs []Batch
	api := get(t, mux, "/api/batches")
	if err := json.Unmarshal(api.Body.Bytes(), &bs); err != nil || len(bs) != 1 || bs[0].MsgID != "RFD-B1-X" {
		t.Errorf("/api/batches: %v %+v", err, bs)
	}
	bs = nil
	api = get(t, mux, "/api/batches/B1")
	if err := json.Unmarshal(api.Body.Bytes(), &bs); err != nil || len(bs) != 1 || len(bs[0].Items) != 2 ||
		bs[0].Items[1].ReasonCode != "AC04" || bs[0].Items[0].BankRefs[0] != "BANKREF-1" {
		t.Errorf("/api/batches/B1: %v %+v", err, bs)
	}
	if text := get(t, mux, "/status?format=text").Body.String(); !strings.HasPrefix(text, "BATCH") {
		t.Errorf("?format=text: %s", text)
	}
}

// TestStatusPagePaged: a batch bigger than a page is shown PageSize
// refunds at a time, with its counts on top and links to the pages
// before and after, in HTML and JSON alike.
func TestStatusPagePaged(t *testing.T) {
	const n = 2*PageSize + 200
	mux := http.NewServeMux()
	Handle(mux, pageStore{n: n}, nil)

	rows := func(body string) int { return strings.Count(body, `<tr data-ref=`) }
	tests := []struct {
		url            string
		first, last    int // the refunds shown: CN<first> … CN<last>
		prev, next     string
		noPrev, noNext bool
	}{
		{url: "/status?batch=B1", first: 1, last: PageSize, next: fmt.Sprintf("after=%d", PageSize), noPrev: true},
		{url: fmt.Sprintf("/status?batch=B1&after=%d", PageSize), first: PageSize + 1, last: 2 * PageSize,
			prev: fmt.Sprintf("before=%d", PageSize+1), next: fmt.Sprintf("after=%d", 2*PageSize)},
		{url: fmt.Sprintf("/status?batch=B1&after=%d", 2*PageSize), first: 2*PageSize + 1, last: n,
			prev: fmt.Sprintf("before=%d", 2*PageSize+1), noNext: true},
		{url: fmt.Sprintf("/status?batch=RFD-B1-X&before=%d", 2*PageSize+1), first: PageSize + 1, last: 2 * PageSize,
			prev: fmt.Sprintf("before=%d", PageSize+1), next: fmt.Sprintf("after=%d", 2*PageSize)},
	}
	for _, tt := range tests {
		rec := get(t, mux, tt.url)
		body := rec.Body.String()
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", tt.url, rec.Code, body)
		}
		if got := rows(body); got != tt.last-tt.first+1 {
			t.Errorf("%s: %d refunds shown, want %d", tt.url, got, tt.last-tt.first+1)
		}
		for _, want := range []string{fmt.Sprintf(`data-ref="CN%d"`, tt.first), fmt.Sprintf(`data-ref="CN%d"`, tt.last),
			fmt.Sprintf(`<span class="good" data-count="booked">%d booked</span>`, n)} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", tt.url, want)
			}
		}
		for _, absent := range []string{fmt.Sprintf(`data-ref="CN%d"`, tt.first-1), fmt.Sprintf(`data-ref="CN%d"`, tt.last+1)} {
			if strings.Contains(body, absent) {
				t.Errorf("%s shows %q", tt.url, absent)
			}
		}
		if tt.next != "" && !strings.Contains(body, `href="/status?batch=RFD-B1-X&amp;`+tt.next+`" rel="next"`) {
			t.Errorf("%s: no link to the next page (%s)", tt.url, tt.next)
		}
		if tt.prev != "" && !strings.Contains(body, `href="/status?batch=RFD-B1-X&amp;`+tt.prev+`" rel="prev"`) {
			t.Errorf("%s: no link to the page before (%s)", tt.url, tt.prev)
		}
		if tt.noNext && strings.Contains(body, `rel="next"`) || tt.noPrev && strings.Contains(body, `rel="prev"`) {
			t.Errorf("%s: a link to a page that does not exist", tt.url)
		}
	}

	var bs []Batch
	api := get(t, mux, fmt.Sprintf("/api/batches/B1?after=%d", PageSize))
	if err := json.Unmarshal(api.Body.Bytes(), &bs); err != nil || len(bs) != 1 || len(bs[0].Items) != PageSize ||
		bs[0].Items[0].RefNbr != fmt.Sprintf("CN%d", PageSize+1) || bs[0].Prev != PageSize+1 || bs[0].Next != 2*PageSize ||
		len(bs[0].Counts) != 1 || bs[0].Counts[0] != (Count{Status: "booked", Refunds: n}) {
		t.Errorf("/api/batches/B1?after=%d: %v %s", PageSize, err, api.Body.String()[:min(api.Body.Len(), 400)])
	}
	for _, bad := range []string{"after=x", "after=-1", "before=0", "after=1&before=3"} {
		if rec := get(t, mux, "/status?batch=B1&"+bad); rec.Code != http.StatusBadRequest {
			t.Errorf("?%s: %d, want 400", bad, rec.Code)
		}
	}
}

// TestStream: the status command's output of a batch of several reads'
// worth of refunds holds every refund, once and in order, as a table and
// as JSON that reads back as List's.
func TestStream(t *testing.T) {
	const n = 2*streamPage + 7
	ctx := t.Context()
	s := pageStore{n: n}
	v, err := Read(ctx, s, "B1")
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := v.Stream(ctx, &text, s, false); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(text.String(), "\n")
	var refs []string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], "CN") {
			refs = append(refs, f[0])
		}
	}
	if len(refs) != n || refs[0] != "CN1" || refs[n-1] != fmt.Sprintf("CN%d", n) || refs[streamPage] != fmt.Sprintf("CN%d", streamPage+1) {
		t.Errorf("the table holds %d refunds (%v … %v), want CN1 … CN%d", len(refs), refs[:min(len(refs), 2)], refs[max(0, len(refs)-2):], n)
	}

	var js strings.Builder
	if err := v.Stream(ctx, &js, s, true); err != nil {
		t.Fatal(err)
	}
	var got []Batch
	if err := json.Unmarshal([]byte(js.String()), &got); err != nil {
		t.Fatalf("the JSON does not read: %v\n%s", err, js.String()[:min(js.Len(), 2000)])
	}
	want, err := List(ctx, s, "B1")
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	if err := Write(&buf, want, true); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Items) != n || !reflect.DeepEqual(got, want) {
		t.Errorf("streamed JSON differs from List's: %d items", len(got[0].Items))
	}
	if js.String() != buf.String() {
		t.Errorf("streamed JSON is not written as Write writes it")
	}
}
