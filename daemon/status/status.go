package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

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
	// Items are the refunds, shown for one batch only.
	Items []Refund `json:"items,omitempty"`
	// Notes are the refunds of the ERP file left out of the batch
	// (invalid, held) or flagged in it, for one batch only.
	Notes []Note `json:"notes,omitempty"`
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
}

// Store is what List reads from the state store (*store.Store).
type Store interface {
	ListBatches(ctx context.Context) ([]store.Batch, error)
	BatchByNumber(ctx context.Context, number string) ([]store.Batch, error)
	Batch(ctx context.Context, msgID string) (store.Batch, error)
	Refunds(ctx context.Context, msgID string) ([]store.Refund, error)
}

// BankRefStore is what a Store may also offer: the bank's
// references of the bookings of a batch's refunds (*store.Store does).
type BankRefStore interface {
	BankRefs(ctx context.Context, msgID string) (map[string][]string, error)
}

// NoteStore is what a Store may also offer: the refunds left out of a
// batch or flagged in it (*store.Store does).
type NoteStore interface {
	Notes(ctx context.Context, msgID string) ([]store.Note, error)
}

// List returns every batch, the newest first, or with batch (an ERP
// batch number or a MsgId) the attempts of that batch with their refunds.
// An unknown batch is an error wrapping store.ErrNotFound.
func List(ctx context.Context, s Store, batch string) ([]Batch, error) {
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
			rs, err := s.Refunds(ctx, b.MsgID)
			if err != nil {
				return nil, fmt.Errorf("status %s: %w", batch, err)
			}
			var refs map[string][]string
			if bs, ok := s.(BankRefStore); ok {
				if refs, err = bs.BankRefs(ctx, b.MsgID); err != nil {
					return nil, fmt.Errorf("status %s: %w", batch, err)
				}
			}
			for _, r := range rs {
				sb.Items = append(sb.Items, Refund{RefNbr: r.RefNbr, DocType: string(r.DocType), Release: r.Release,
					CustomerID: r.CustomerID, EndToEndID: r.EndToEndID, Amount: r.Amount.String() + " " + string(r.Amount.Currency),
					ExecutionDate: r.ExecutionDate.String(), Status: string(r.Status), ReasonCode: r.ReasonCode,
					ReasonText: r.ReasonText, BankRefs: refs[r.EndToEndID], Created: r.Created, Updated: r.Updated})
			}
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
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	when := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Local().Format(timeLayout)
	}
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
	for _, b := range batches {
		if len(b.Items) == 0 {
			continue
		}
		fmt.Fprintf(tw, "\nREFUNDS OF %s (%s)\n", b.Batch, b.MsgID)
		fmt.Fprintln(tw, "REF\tTYPE\tCUSTOMER\tENDTOENDID\tAMOUNT\tEXECUTION\tSTATUS\tREASON\tUPDATED")
		for _, r := range b.Items {
			reason := strings.TrimSpace(r.ReasonCode + " " + r.ReasonText)
			if reason == "" {
				reason = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.RefNbr, r.DocType, r.CustomerID, r.EndToEndID,
				r.Amount, r.ExecutionDate, r.Status, reason, when(r.Updated))
		}
	}
	for _, b := range batches {
		if len(b.Notes) == 0 {
			continue
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
	return tw.Flush()
}
