package status

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"refundd/daemon/refund"
	"refundd/daemon/store"
)

// SearchStore is what a Store also offers for the search and a refund's
// timeline (*store.Store does).
type SearchStore interface {
	FindRefunds(ctx context.Context, by store.SearchBy, value string, limit int) ([]store.Refund, error)
	RefundHistory(ctx context.Context, e2e string) (store.History, error)
}

// searchMax is the most refunds a search lists for each way of finding
// them.
const searchMax = 100

// Found is the result of a search.
type Found struct {
	Query string `json:"query"`
	// Batches are the batches whose MsgId or ERP batch number is the
	// query.
	Batches []Batch `json:"batches"`
	// Refunds are the refunds whose RefNbr, CustomerID, EndToEndId or
	// creditor account's last digits are the query, the newest first.
	Refunds []Refund `json:"refunds"`
	// Note says why the search found nothing it could, when it could not
	// search (an account tail too short is searched as the other ways).
	Note string `json:"note,omitempty"`
}

// Search finds refunds by RefNbr, CustomerID, EndToEndId or the last
// digits (store.AccountTailMin or more) of their account, and batches by
// MsgId or ERP batch number. Each way reads an index.
func Search(ctx context.Context, s Store, query string) (*Found, error) {
	q := strings.TrimSpace(query)
	f := &Found{Query: q, Batches: []Batch{}, Refunds: []Refund{}}
	if q == "" {
		return f, nil
	}
	ss, ok := s.(SearchStore)
	if !ok {
		f.Note = "this store cannot be searched"
		return f, nil
	}
	ways := []struct {
		by    store.SearchBy
		value string
	}{{store.ByEndToEndID, q}, {store.ByRefNbr, q}, {store.ByCustomerID, q}}
	if tail, ok := store.AccountTail(q); ok {
		ways = append(ways, struct {
			by    store.SearchBy
			value string
		}{store.ByAccountTail, tail})
	}
	seen := map[string]bool{}
	for _, w := range ways {
		rs, err := ss.FindRefunds(ctx, w.by, w.value, searchMax)
		if err != nil {
			return nil, fmt.Errorf("status search: %w", err)
		}
		for _, r := range rs {
			if !seen[r.EndToEndID] {
				seen[r.EndToEndID] = true
				f.Refunds = append(f.Refunds, refundOf(r, nil))
			}
		}
	}
	slices.SortStableFunc(f.Refunds, func(a, b Refund) int { return b.Created.Compare(a.Created) })
	bs, err := batches(ctx, s, q)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		for _, b := range bs {
			b.Counts, b.Notes = nil, nil
			f.Batches = append(f.Batches, b)
		}
	}
	return f, nil
}

// Timeline is the history of one refund, from the ERP file it came in to
// the bank's last word and any re-release.
type Timeline struct {
	Refund Refund `json:"refund"`
	// Steps are what happened, in the order it was recorded.
	Steps []Step `json:"steps"`
	// Releases are every payment of the same ERP document (this one
	// among them), the first first.
	Releases []Refund `json:"releases"`
	// Command re-releases the refund, when the bank rejected or returned
	// it and no later release exists.
	Command string `json:"command,omitempty"`
}

// Step is one thing that happened to a refund, its batch or its file.
type Step struct {
	At time.Time `json:"at"`
	// Subject is what changed: file, batch, refund or bank (a booking).
	Subject string `json:"subject"`
	// What says it in words; From and To are the statuses of a change.
	What string `json:"what"`
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Reason is the reason recorded, a bank's in words.
	Reason string `json:"reason,omitempty"`
	// BankRef is the bank's reference of a booking.
	BankRef string `json:"bankRef,omitempty"`
	// File is the file that made the change: the ERP file, a reply.
	File string `json:"file,omitempty"`
	// EndToEndID names another release of the refund (a re-release).
	EndToEndID string `json:"endToEndId,omitempty"`
}

// RefundTimeline returns the timeline of the refund with EndToEndId e2e.
// An unknown refund, or a store that keeps no history, is an error
// wrapping store.ErrNotFound.
func RefundTimeline(ctx context.Context, s Store, o Options, e2e string) (*Timeline, error) {
	ss, ok := s.(SearchStore)
	if !ok {
		return nil, fmt.Errorf("status refund %s: %w", e2e, store.ErrNotFound)
	}
	h, err := ss.RefundHistory(ctx, e2e)
	if err != nil {
		return nil, fmt.Errorf("status refund %s: %w", e2e, err)
	}
	var refs []string
	for _, b := range h.Bookings {
		if b.BankRef != "" && b.Kind != refund.KindCharges {
			refs = append(refs, b.BankRef)
		}
	}
	t := &Timeline{Refund: refundOf(h.Refund, refs), Steps: []Step{}, Releases: []Refund{}}
	file := func(detail string) string {
		if m := replyHashOf(detail); m != "" {
			if name := h.Files[m]; name != "" {
				return name
			}
			return m
		}
		return ""
	}
	used := make([]bool, len(h.Bookings))
	for _, e := range h.Events {
		st := Step{At: e.At, Subject: string(e.SubjectType), From: e.From, To: e.To, File: file(e.Detail)}
		switch e.SubjectType {
		case store.SubjectFile:
			st.What, st.Reason = fileWords(e), ""
			if e.From == "" {
				st.File = strings.TrimPrefix(e.Detail, "batch ")
			}
		case store.SubjectBatch:
			st.What, st.Reason = batchWords(h.Batch, e), e.Reason
			if e.From == "" {
				st.File = "pain.001 " + h.Batch.MsgID
			}
		case store.SubjectRefund:
			st.What = refundWords(e)
			if e.Reason != "" {
				st.Reason = e.Reason + " " + ReasonWords(e.Reason, reasonTextOf(e.Detail))
			}
			if kind := bookingKind(e.To); kind != "" {
				for i, b := range h.Bookings {
					if !used[i] && (b.Kind == kind || b.Kind == "") && (st.File == "" || b.File == st.File) {
						used[i], st.BankRef = true, b.BankRef
						break
					}
				}
			}
		}
		t.Steps = append(t.Steps, st)
	}
	for i, b := range h.Bookings {
		if !used[i] {
			t.Steps = append(t.Steps, Step{At: b.Applied, Subject: "bank", What: bookingWords(b.Kind), BankRef: b.BankRef, File: b.File})
		}
	}
	for _, r := range h.Releases {
		t.Releases = append(t.Releases, refundOf(r, nil))
		if r.Release > h.Refund.Release {
			t.Steps = append(t.Steps, Step{At: r.Created, Subject: "refund", What: fmt.Sprintf("re-released as %s in batch %s (MsgId %s), release %d",
				r.EndToEndID, r.Batch, r.MsgID, r.Release), EndToEndID: r.EndToEndID})
		}
	}
	slices.SortStableFunc(t.Steps, func(a, b Step) int { return a.At.Compare(b.At) })
	last := h.Releases[len(h.Releases)-1]
	if last.EndToEndID == e2e && (h.Refund.Status == refund.StatusRejected || h.Refund.Status == refund.StatusReturned) {
		t.Command = o.command("rerelease", e2e)
	}
	return t, nil
}

// replyHashOf returns the content hash of a reply that an event's detail
// names ("reply HASH"), "" for none.
func replyHashOf(detail string) string {
	i := strings.Index(detail, "reply ")
	if i < 0 || len(detail) < i+6+64 {
		return ""
	}
	h := detail[i+6 : i+6+64]
	if strings.Trim(h, "0123456789abcdef") != "" {
		return ""
	}
	return h
}

// reasonTextOf returns the bank's reason text of a refund's event, whose
// detail is "TEXT; reply HASH" or "TEXT".
func reasonTextOf(detail string) string {
	if i := strings.Index(detail, "reply "); i >= 0 && replyHashOf(detail) != "" {
		detail = detail[:i]
	}
	return strings.TrimSuffix(strings.TrimSpace(detail), ";")
}

// bookingKind is the kind of booking that moves a refund to status to, ""
// for none.
func bookingKind(to string) refund.Kind {
	switch refund.Status(to) {
	case refund.StatusBooked:
		return refund.KindPayment
	case refund.StatusReturned:
		return refund.KindReturn
	}
	return ""
}

// fileWords says what an event of the ERP file means.
func fileWords(e store.Event) string {
	switch {
	case e.From == "":
		return "taken from the ERP's export folder"
	case e.To == string(store.FileDone):
		return "validated and recorded"
	case e.To == string(store.FileFailed):
		return "refused: " + e.Reason
	case e.To == string(store.FileDuplicate):
		return "refused as a duplicate: " + e.Reason
	}
	return "file " + e.From + " → " + e.To
}

// batchWords says what an event of the refund's batch means.
func batchWords(b store.Batch, e store.Event) string {
	switch {
	case e.From == "":
		return fmt.Sprintf("in pain.001 %s (batch %s, attempt %d), written for upload", b.MsgID, b.Number, b.Attempt)
	case e.From == e.To:
		return "batch: " + e.Reason
	case e.To == string(store.BatchSent):
		return "uploaded to the bank"
	case e.To == string(store.BatchInDoubt):
		return "upload in doubt"
	case e.To == string(store.BatchReceiptOK):
		return "receipt from the bank"
	case e.To == string(store.BatchSettledWithExceptions):
		return "batch settled with exceptions"
	}
	return "batch " + e.To
}

// refundWords says what an event of the refund means.
func refundWords(e store.Event) string {
	switch refund.Status(e.To) {
	case refund.StatusNew:
		return "recorded in the batch"
	case refund.StatusSent:
		return "sent"
	case refund.StatusAccepted:
		return "accepted by the bank"
	case refund.StatusPending:
		return "pending at the bank"
	case refund.StatusRejected:
		return "rejected by the bank"
	case refund.StatusBooked:
		return "booked by the bank"
	case refund.StatusReturned:
		return "returned by the bank"
	}
	return e.To
}

// bookingWords says what a booking of a kind is.
func bookingWords(k refund.Kind) string {
	switch k {
	case refund.KindPayment, "":
		return "booking of the payment"
	case refund.KindReturn:
		return "booking of the return"
	case refund.KindCharges:
		return "bank charges booked"
	}
	return "booking (" + string(k) + ")"
}
