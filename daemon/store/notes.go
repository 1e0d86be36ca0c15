package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"refundd/daemon/refund"
)

// NoteKind says why a refund of an ERP batch file has a note: it was left
// out of the batch, or sent with a flag.
type NoteKind string

// The kinds of notes.
const (
	// NoteInvalid: the refund has errors and was left out of its batch,
	// whose valid refunds were sent (batches.on_invalid: send-valid).
	NoteInvalid NoteKind = "invalid"
	// NoteHeld: the refund goes to another account than the customer's
	// last booked refund, and was held back until an operator releases it.
	NoteHeld NoteKind = "held"
	// NoteAccountChanged: the refund goes to another account than the
	// customer's last booked refund, and was sent with this flag.
	NoteAccountChanged NoteKind = "account-changed"
)

// Note is a refund of an ERP batch file that was left out of the batch
// or flagged in it.
type Note struct {
	// MsgID is the batch the refund belongs to; Position where it is in
	// the ERP file ("batch.csv:12").
	MsgID, Position string
	DocType         refund.DocType // as exported; may be empty for an invalid refund
	RefNbr          string
	CustomerID      string
	Kind            NoteKind
	// Reason says why, in words: the problems of an invalid refund, the
	// accounts of a changed one.
	Reason string
	// ResolvedIn is the MsgId of the later batch that recorded a refund
	// of the same document (a corrected export, an operator's release);
	// "" while the note is open. Flags are never resolved.
	ResolvedIn       string
	Created, Updated time.Time
}

// Open reports whether the note still needs an operator or the ERP: a
// refund left out and not recorded in a later batch.
func (n *Note) Open() bool { return n.Kind != NoteAccountChanged && n.ResolvedIn == "" }

// insertNotes records the notes of batch b, after its refunds.
func insertNotes(ctx context.Context, tx *txn, at string, b *Batch) error {
	n := len(b.Notes)
	if n == 0 {
		return nil
	}
	msg, pos, doc, ref, cust, kind, reason, times := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	es := make([]event, 0, n)
	for i, x := range b.Notes {
		if x.Position == "" || x.Reason == "" {
			return fmt.Errorf("%w: a note without position or reason", ErrInvalid)
		}
		switch x.Kind {
		case NoteInvalid, NoteHeld, NoteAccountChanged:
		default:
			return fmt.Errorf("%w: note kind %q", ErrInvalid, x.Kind)
		}
		msg[i], pos[i], doc[i], ref[i], cust[i] = b.MsgID, x.Position, string(x.DocType), x.RefNbr, x.CustomerID
		kind[i], reason[i], times[i] = string(x.Kind), x.Reason, at
		// The event names the refund, not the reason: a reason may quote
		// an account number, and events are never purged.
		es = append(es, event{typ: SubjectBatch, id: b.MsgID, to: string(b.Status),
			reason: string(x.Kind) + ": " + x.Position, detail: string(x.DocType) + " " + x.RefNbr})
	}
	err := insertRows(ctx, tx, "refund_notes", n, []column{
		{"msg_id", "text", msg}, {"position", "text", pos}, {"doc_type", "text", doc}, {"ref_nbr", "text", ref},
		{"customer_id", "text", cust}, {"kind", "text", kind}, {"reason", "text", reason},
		{"created", "text", times}, {"updated", "text", times},
	})
	if isUnique(err) {
		return fmt.Errorf("%w: a note given twice: %w", ErrInvalid, err)
	}
	if err != nil {
		return err
	}
	return insertEvents(ctx, tx, at, es)
}

// resolveNotes resolves the open notes (invalid or held) of the
// documents of batch msgID's refunds: the document is recorded again, in
// this batch.
func resolveNotes(ctx context.Context, tx *txn, at, msgID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE refund_notes SET resolved_in = ?, updated = ?
		WHERE resolved_in = '' AND kind IN ('invalid', 'held')
		AND (doc_type, ref_nbr) IN (SELECT doc_type, ref_nbr FROM refunds WHERE msg_id = ?)`, msgID, at, msgID)
	return err
}

const noteCols = `msg_id, position, doc_type, ref_nbr, customer_id, kind, reason, resolved_in, created, updated`

// Notes returns the notes of batch msgID, in the order of the file.
func (s *Store) Notes(ctx context.Context, msgID string) ([]Note, error) {
	ns, err := s.notes(ctx, `msg_id = ?`, msgID)
	if err != nil {
		return nil, fmt.Errorf("notes of batch %s: %w", msgID, err)
	}
	return ns, nil
}

// OpenNotes returns the open notes of the given kinds (all kinds for
// none): the refunds left out of their batches and not recorded since.
func (s *Store) OpenNotes(ctx context.Context, kinds ...NoteKind) ([]Note, error) {
	where, args := `resolved_in = '' AND kind <> 'account-changed'`, []any{}
	if len(kinds) > 0 {
		where += ` AND kind IN (?` + strings.Repeat(`, ?`, len(kinds)-1) + `)`
		for _, k := range kinds {
			args = append(args, string(k))
		}
	}
	ns, err := s.notes(ctx, where, args...)
	if err != nil {
		return nil, fmt.Errorf("open notes: %w", err)
	}
	return ns, nil
}

func (s *Store) notes(ctx context.Context, where string, args ...any) ([]Note, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+noteCols+` FROM refund_notes WHERE `+where+` ORDER BY created, msg_id, rowid`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ns []Note
	for rows.Next() {
		var n Note
		var doc, kind, created, updated string
		if err := rows.Scan(&n.MsgID, &n.Position, &doc, &n.RefNbr, &n.CustomerID, &kind, &n.Reason, &n.ResolvedIn, &created, &updated); err != nil {
			return nil, err
		}
		n.DocType, n.Kind = refund.DocType(doc), NoteKind(kind)
		if n.Created, err = parseTime(created); err != nil {
			return nil, err
		}
		if n.Updated, err = parseTime(updated); err != nil {
			return nil, err
		}
		ns = append(ns, n)
	}
	return ns, rows.Err()
}

// LastBookedAccount returns the creditor account of the customer's refund
// booked most recently, and false when none was booked.
func (s *Store) LastBookedAccount(ctx context.Context, customerID string) (string, bool, error) {
	var acct string
	err := s.r.QueryRowContext(ctx, `SELECT creditor_account FROM refunds
		WHERE customer_id = ? AND status = 'booked' ORDER BY updated DESC, rowid DESC LIMIT 1`, customerID).Scan(&acct)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("last booked account of customer %s: %w", customerID, err)
	}
	return acct, true, nil
}
