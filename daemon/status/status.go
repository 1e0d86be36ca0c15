package status

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"refundd/daemon/refund"
	"refundd/daemon/store"
)

// timeLayout is the layout of times in the status view.
const timeLayout = time.RFC3339

// Batch is a batch as the status command shows it.
type Batch struct {
	Batch   string    `json:"batch"`
	Attempt int       `json:"attempt"`
	MsgID   string    `json:"msgId"`
	Status  string    `json:"status"`
	Reason  string    `json:"reason,omitempty"`
	Refunds int       `json:"refunds"`
	Totals  []string  `json:"totals"`
	Created time.Time `json:"created"`
	Sent    time.Time `json:"sent,omitzero"`
	Updated time.Time `json:"updated"`
	File    string    `json:"file,omitempty"`
	// Counts are how many of its refunds are in each status, for one
	// batch only.
	Counts []Count `json:"counts,omitempty"`
	// Items are the refunds, shown for one batch only: all of them, or a
	// page of them between Prev and Next.
	Items []Refund `json:"items,omitempty"`
	// Prev and Next, on a page of the refunds, are where the pages
	// before and after it begin (?before=Prev, ?after=Next); 0 when there
	// is none.
	Prev int64 `json:"prev,omitempty"`
	Next int64 `json:"next,omitempty"`
	// Notes are the refunds of the ERP file left out of the batch
	// (invalid, held) or flagged in it, for one batch only.
	Notes []Note `json:"notes,omitempty"`
}

// Count is how many refunds of a batch are in a status.
type Count struct {
	Status  string `json:"status"`
	Refunds int    `json:"refunds"`
}

// Note is a refund left out of a batch, or flagged in it.
type Note struct {
	Position   string `json:"position"`
	RefNbr     string `json:"refNbr"`
	DocType    string `json:"docType,omitempty"`
	CustomerID string `json:"customerId,omitempty"`
	Kind       string `json:"kind"`
	Reason     string `json:"reason"`
	// ResolvedIn is the MsgId of the later batch that sent the document;
	// "" while open.
	ResolvedIn string `json:"resolvedIn,omitempty"`
}

// Refund is a refund as the status command shows it.
type Refund struct {
	RefNbr        string    `json:"refNbr"`
	DocType       string    `json:"docType"`
	Release       int       `json:"release"`
	CustomerID    string    `json:"customerId"`
	EndToEndID    string    `json:"endToEndId"`
	Amount        string    `json:"amount"`
	ExecutionDate string    `json:"executionDate"`
	Status        string    `json:"status"`
	ReasonCode    string    `json:"reasonCode,omitempty"`
	ReasonText    string    `json:"reasonText,omitempty"`
	Created       time.Time `json:"created"`
	Updated       time.Time `json:"updated"`
	// BankRefs are the bank's references of the refund's bookings (its
	// payment, then its return), when the store offers them.
	BankRefs []string `json:"bankRefs,omitempty"`
	// Batch, MsgID and Account (the creditor account, masked) are given
	// where a refund is shown apart from its batch.
	Batch   string `json:"batch,omitempty"`
	MsgID   string `json:"msgId,omitempty"`
	Account string `json:"account,omitempty"`
}

// PageSize is how many refunds of a batch the status page and its JSON
// API show at a time.
const PageSize = 500

// streamPage is how many refunds Stream reads at a time: a page, whose
// bank references PostgreSQL looks up one by one in their index, where
// for many more it may read every booking instead.
const streamPage = PageSize

// Store is what List reads from the state store (*store.Store).
type Store interface {
	ListBatches(ctx context.Context) ([]store.Batch, error)
	BatchByNumber(ctx context.Context, number string) ([]store.Batch, error)
	Batch(ctx context.Context, msgID string) (store.Batch, error)
	RefundPage(ctx context.Context, msgID string, at store.PageAt) (store.RefundPage, error)
	RefundCounts(ctx context.Context, msgID string) (map[refund.Status]int, error)
}

// NoteStore is what a Store may also offer: the refunds left out of a
// batch or flagged in it (*store.Store does).
type NoteStore interface {
	Notes(ctx context.Context, msgID string) ([]store.Note, error)
}

// List returns every batch, the newest first, or with batch (an ERP
// batch number or a MsgId) the attempts of that batch with all their
// refunds. An unknown batch is an error wrapping store.ErrNotFound.
func List(ctx context.Context, s Store, batch string) ([]Batch, error) {
	out, err := ListPage(ctx, s, batch, store.PageAt{Size: streamPage})
	if err != nil || batch == "" {
		return out, err
	}
	for i := range out {
		b := &out[i]
		for b.Next != 0 {
			p, err := s.RefundPage(ctx, b.MsgID, store.PageAt{After: b.Next, Size: streamPage})
			if err != nil {
				return nil, fmt.Errorf("status %s: %w", batch, err)
			}
			b.Items = append(b.Items, refunds(p)...)
			b.Next = p.Next
		}
	}
	return out, nil
}

// ListPage is List with one page of the refunds of each attempt: at
// names it, and each attempt's Prev and Next name its neighbours.
func ListPage(ctx context.Context, s Store, batch string, at store.PageAt) ([]Batch, error) {
	out, err := batches(ctx, s, batch)
	if err != nil || batch == "" {
		return out, err
	}
	for i := range out {
		if err := page(ctx, s, &out[i], at); err != nil {
			return nil, fmt.Errorf("status %s: %w", batch, err)
		}
	}
	return out, nil
}

// batches returns every batch, or with batch the attempts of that batch
// with their counts and notes but without their refunds.
func batches(ctx context.Context, s Store, batch string) ([]Batch, error) {
	var bs []store.Batch
	var err error
	switch {
	case batch == "":
		bs, err = s.ListBatches(ctx)
	default:
		bs, err = s.BatchByNumber(ctx, batch)
		if errors.Is(err, store.ErrNotFound) {
			var b store.Batch
			b, err = s.Batch(ctx, batch)
			bs = []store.Batch{b}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("status %s: %w", batch, err)
	}
	out := make([]Batch, 0, len(bs))
	for _, b := range bs {
		sb := Batch{Batch: b.Number, Attempt: b.Attempt, MsgID: b.MsgID, Status: string(b.Status), Reason: b.Reason,
			Refunds: b.NbOfTxs, Created: b.Created, Sent: b.Sent, Updated: b.Updated, File: filepath.Base(b.LocalPath)}
		for _, a := range b.Sums {
			sb.Totals = append(sb.Totals, a.String()+" "+string(a.Currency))
		}
		if batch != "" {
			counts, err := s.RefundCounts(ctx, b.MsgID)
			if err != nil {
				return nil, fmt.Errorf("status %s: %w", batch, err)
			}
			for st, n := range counts {
				sb.Counts = append(sb.Counts, Count{Status: string(st), Refunds: n})
			}
			slices.SortFunc(sb.Counts, func(a, b Count) int { return strings.Compare(a.Status, b.Status) })
			if ns, ok := s.(NoteStore); ok {
				notes, err := ns.Notes(ctx, b.MsgID)
				if err != nil {
					return nil, fmt.Errorf("status %s: %w", batch, err)
				}
				for _, n := range notes {
					sb.Notes = append(sb.Notes, Note{Position: n.Position, RefNbr: n.RefNbr, DocType: string(n.DocType),
						CustomerID: n.CustomerID, Kind: string(n.Kind), Reason: n.Reason, ResolvedIn: n.ResolvedIn})
				}
			}
		}
		out = append(out, sb)
	}
	return out, nil
}

// page reads the page at of b's refunds into b.
func page(ctx context.Context, s Store, b *Batch, at store.PageAt) error {
	p, err := s.RefundPage(ctx, b.MsgID, at)
	if err != nil {
		return err
	}
	b.Items, b.Prev, b.Next = refunds(p), p.Prev, p.Next
	return nil
}

// refunds returns the refunds of p as the status command shows them.
func refunds(p store.RefundPage) []Refund {
	out := make([]Refund, 0, len(p.Refunds))
	for _, r := range p.Refunds {
		out = append(out, itemOf(r, p.BankRefs[r.EndToEndID]))
	}
	return out
}

// itemOf returns r, with its bank references refs, as a row of its
// batch's refunds.
func itemOf(r store.Refund, refs []string) Refund {
	return Refund{RefNbr: r.RefNbr, DocType: string(r.DocType), Release: r.Release,
		CustomerID: r.CustomerID, EndToEndID: r.EndToEndID, Amount: r.Amount.String() + " " + string(r.Amount.Currency),
		ExecutionDate: r.ExecutionDate.String(), Status: string(r.Status), ReasonCode: r.ReasonCode,
		ReasonText: r.ReasonText, BankRefs: refs, Created: r.Created, Updated: r.Updated}
}

// refundOf returns r, with its bank references refs, shown on its own:
// with its batch and its creditor account, masked.
func refundOf(r store.Refund, refs []string) Refund {
	out := itemOf(r, refs)
	out.Batch, out.MsgID, out.Account = r.Batch, r.MsgID, refund.MaskAccount(r.CreditorAccount)
	return out
}

// Write writes batches as a table, or as JSON when asJSON.
func Write(w io.Writer, batches []Batch, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if batches == nil {
			batches = []Batch{}
		}
		return enc.Encode(batches)
	}
	tw := newTable(w)
	writeBatches(tw, batches)
	for _, b := range batches {
		if len(b.Items) == 0 {
			continue
		}
		writeItemsHead(tw, b)
		writeItems(tw, b.Items)
	}
	for _, b := range batches {
		writeNotes(tw, b)
	}
	return tw.Flush()
}

// View is what the status command shows: every batch, or the attempts
// of one batch, whose refunds Stream reads.
type View struct {
	batch   string // "" for every batch
	Batches []Batch
}

// Read reads the batches List returns, without their refunds. An
// unknown batch is an error wrapping store.ErrNotFound.
func Read(ctx context.Context, s Store, batch string) (*View, error) {
	bs, err := batches(ctx, s, batch)
	if err != nil {
		return nil, err
	}
	return &View{batch: batch, Batches: bs}, nil
}

// Stream writes the view as Write writes what List returns, reading and
// writing the refunds of each attempt a page at a time: a batch of any
// size is never held in memory whole. The columns of the refunds' table
// line up within each page.
func (v *View) Stream(ctx context.Context, w io.Writer, s Store, asJSON bool) error {
	batch, bs := v.batch, v.Batches
	if batch == "" {
		return Write(w, bs, asJSON)
	}
	if asJSON {
		return streamJSON(ctx, w, s, batch, bs)
	}
	bw := bufio.NewWriter(w)
	tw := newTable(bw)
	writeBatches(tw, bs)
	for _, b := range bs {
		at := store.PageAt{Size: streamPage}
		for first := true; ; first = false {
			if err := page(ctx, s, &b, at); err != nil {
				return fmt.Errorf("status %s: %w", batch, err)
			}
			if first && len(b.Items) > 0 {
				writeItemsHead(tw, b)
			}
			writeItems(tw, b.Items)
			if err := tw.Flush(); err != nil {
				return err
			}
			if b.Next == 0 {
				break
			}
			at.After = b.Next
		}
	}
	for _, b := range bs {
		writeNotes(tw, b)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// streamJSON writes bs with all their refunds as Write does as JSON,
// each refund as soon as it is read.
func streamJSON(ctx context.Context, w io.Writer, s Store, batch string, bs []Batch) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("[")
	for i, b := range bs {
		head, err := json.MarshalIndent(b, "  ", "  ")
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n  ")
		// The batch without its refunds, then its refunds before its
		// closing brace.
		bw.Write(bytes.TrimSuffix(head, []byte("\n  }")))
		at := store.PageAt{Size: streamPage}
		for n := 0; ; {
			if err := page(ctx, s, &b, at); err != nil {
				return fmt.Errorf("status %s: %w", batch, err)
			}
			for _, r := range b.Items {
				item, err := json.MarshalIndent(r, "      ", "  ")
				if err != nil {
					return err
				}
				if n == 0 {
					bw.WriteString(",\n    \"items\": [")
				} else {
					bw.WriteString(",")
				}
				bw.WriteString("\n      ")
				bw.Write(item)
				n++
			}
			if b.Next == 0 {
				if n > 0 {
					bw.WriteString("\n    ]")
				}
				break
			}
			at.After = b.Next
		}
		bw.WriteString("\n  }")
	}
	if len(bs) > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// when formats a time of the table.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(timeLayout)
}

// writeBatches writes the table of batches and the in-doubt ones.
func writeBatches(tw io.Writer, batches []Batch) {
	fmt.Fprintln(tw, "BATCH\tATTEMPT\tMSGID\tSTATUS\tREFUNDS\tTOTAL\tCREATED\tSENT\tUPDATED")
	for _, b := range batches {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", b.Batch, b.Attempt, b.MsgID, b.Status, b.Refunds,
			strings.Join(b.Totals, ", "), when(b.Created), when(b.Sent), when(b.Updated))
	}
	first := true
	for _, b := range batches {
		if b.Status != string(store.BatchInDoubt) {
			continue
		}
		if first {
			fmt.Fprintln(tw, "\nIN DOUBT: the upload's outcome is unknown; refundd never sends these again by itself")
			first = false
		}
		reason := b.Reason
		if reason == "" {
			reason = "no reason recorded"
		}
		fmt.Fprintf(tw, "%s (%s): %s\n", b.MsgID, b.Batch, reason)
	}
}

// writeItemsHead writes the heading of the table of b's refunds.
func writeItemsHead(tw io.Writer, b Batch) {
	fmt.Fprintf(tw, "\nREFUNDS OF %s (%s)\n", b.Batch, b.MsgID)
	fmt.Fprintln(tw, "REF\tTYPE\tCUSTOMER\tENDTOENDID\tAMOUNT\tEXECUTION\tSTATUS\tREASON\tUPDATED")
}

// writeItems writes rows of the table of a batch's refunds.
func writeItems(tw io.Writer, items []Refund) {
	for _, r := range items {
		reason := strings.TrimSpace(r.ReasonCode + " " + r.ReasonText)
		if reason == "" {
			reason = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.RefNbr, r.DocType, r.CustomerID, r.EndToEndID,
			r.Amount, r.ExecutionDate, r.Status, reason, when(r.Updated))
	}
}

// writeNotes writes the table of b's notes, if it has any.
func writeNotes(tw io.Writer, b Batch) {
	if len(b.Notes) == 0 {
		return
	}
	fmt.Fprintf(tw, "\nLEFT OUT OF OR FLAGGED IN %s (%s)\n", b.Batch, b.MsgID)
	fmt.Fprintln(tw, "WHERE\tREF\tCUSTOMER\tKIND\tSENT IN\tREASON")
	for _, n := range b.Notes {
		sent := n.ResolvedIn
		if sent == "" {
			sent = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", n.Position, n.RefNbr, n.CustomerID, n.Kind, sent, n.Reason)
	}
}
