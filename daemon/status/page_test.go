package status

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"refundd/daemon/refund"
	"refundd/daemon/store"
)

// pageStore is a Store with one batch of two refunds, one of them
// rejected, and bank references.
type pageStore struct{}

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
func (pageStore) Refunds(context.Context, string) ([]store.Refund, error) {
	r1 := store.Refund{Sent: refund.Sent{RefNbr: "CN1", EndToEndID: "CN-CN1-AAAA", Status: refund.StatusBooked,
		Amount: refund.Amount{Minor: 10000, Currency: "NOK"}}}
	r2 := store.Refund{Sent: refund.Sent{RefNbr: "CN2", EndToEndID: "CN-CN2-BBBB", Status: refund.StatusRejected,
		Amount: refund.Amount{Minor: 5000, Currency: "NOK"}}, ReasonCode: "AC04", ReasonText: "Closed <account>"}
	return []store.Refund{r1, r2}, nil
}
func (pageStore) BankRefs(context.Context, string) (map[string][]string, error) {
	return map[string][]string{"CN-CN1-AAAA": {"BANKREF-1"}}, nil
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
