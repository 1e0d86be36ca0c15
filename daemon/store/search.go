package store

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"refundd/daemon/refund"
)

// SearchBy is what FindRefunds looks a refund up by.
type SearchBy string

// The ways of finding refunds.
const (
	ByRefNbr     SearchBy = "refNbr"
	ByCustomerID SearchBy = "customerId"
	ByEndToEndID SearchBy = "endToEndId"
	// ByAccountTail: the last digits (AccountTailMin or more) of the
	// creditor account, as refund.AccountKey writes it.
	ByAccountTail SearchBy = "account"
)

// AccountTailMin is the fewest last digits of an account that
// FindRefunds searches by: refunds_account_tail indexes the last four.
const AccountTailMin = 4

// FindRefunds returns up to limit refunds whose RefNbr, CustomerID,
// EndToEndId or account tail (by) is value, every release of each, in
// no particular order. Each is read by an index: RefNbr by the documents'
// unique key, CustomerID by refunds_customer, the account's last four
// characters by refunds_account_tail, and then the longer tail among
// those. An account tail shorter than AccountTailMin is ErrInvalid.
func (s *Store) FindRefunds(ctx context.Context, by SearchBy, value string, limit int) ([]Refund, error) {
	var where string
	var args []any
	switch by {
	case ByRefNbr:
		where, args = `r.doc_type IN ('CreditNote', 'Prepayment', 'Payment') AND r.ref_nbr = ?`, []any{value}
	case ByCustomerID:
		where, args = `r.customer_id = ?`, []any{value}
	case ByEndToEndID:
		where, args = `r.end_to_end_id = ?`, []any{value}
	case ByAccountTail:
		if len(value) < AccountTailMin {
			return nil, fmt.Errorf("find refunds by account: %w: give at least %d last digits", ErrInvalid, AccountTailMin)
		}
		tail := func(n int) string { return fmt.Sprintf("substr(r.creditor_account, -%d)", n) }
		if s.d.pg {
			tail = func(n int) string { return fmt.Sprintf("right(r.creditor_account, %d)", n) }
		}
		// Only the digits that a masked account shows count: matching more
		// would tell whoever can search the digits the mask hides, one at
		// a time.
		where, args = tail(AccountTailMin)+` = ?`, []any{value[len(value)-AccountTailMin:]}
	default:
		return nil, fmt.Errorf("find refunds: %w: search by %q", ErrInvalid, by)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+refundCols+refundFrom+`WHERE `+where+` LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("find refunds by %s: %w", by, err)
	}
	defer rows.Close()
	var rs []Refund
	for rows.Next() {
		r, err := scanRefund(rows)
		if err != nil {
			return nil, fmt.Errorf("find refunds by %s: %w", by, err)
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find refunds by %s: %w", by, err)
	}
	return rs, nil
}

// Booking is an entry of the bank applied to a refund: its payment, its
// return, or its charges.
type Booking struct {
	// Kind is payment, return, charges or "" (recorded before kinds
	// were).
	Kind refund.Kind
	// BankRef is the bank's reference of the entry (AcctSvcrRef).
	BankRef string
	// File is the name of the reply file it came in.
	File    string
	Applied time.Time
}

// History is everything recorded about one refund, for its timeline.
type History struct {
	Refund Refund
	Batch  Batch
	// Events are those of the refund, of its batch and of the ERP file
	// the batch came from, in the order they were recorded.
	Events []Event
	// Bookings are the bank's entries applied to the refund, in the
	// order they were applied.
	Bookings []Booking
	// Releases are every release of the same ERP document (this one
	// among them), the first first.
	Releases []Refund
	// Files names the files whose content hashes the events give (a
	// reply's "reply HASH" detail), by hash.
	Files map[string]string
}

// replyHash finds the content hash of a reply in an event's detail.
var replyHash = regexp.MustCompile(`\breply ([0-9a-f]{64})\b`)

// RefundHistory returns what is recorded about the refund with
// EndToEndId e2e, each part read by an index (the events of each subject
// by events_subject, the bookings by the refund's EndToEndId, the
// releases by the document's unique key). ErrNotFound for an unknown
// refund.
func (s *Store) RefundHistory(ctx context.Context, e2e string) (History, error) {
	var h History
	err := s.read(ctx, func(tx *txn) error {
		var err error
		if h.Refund, err = refundWhere(ctx, tx, "r.end_to_end_id = ?", e2e); err != nil {
			return err
		}
		if h.Batch, err = batchByMsgID(ctx, tx, h.Refund.MsgID); err != nil {
			return err
		}
		subjects := []struct {
			typ SubjectType
			id  string
		}{{SubjectRefund, e2e}, {SubjectBatch, h.Batch.MsgID}}
		if h.Batch.FileHash != "" {
			subjects = append(subjects, struct {
				typ SubjectType
				id  string
			}{SubjectFile, h.Batch.FileHash})
		}
		for _, sj := range subjects {
			es, err := eventsOf(ctx, tx, sj.typ, sj.id)
			if err != nil {
				return err
			}
			h.Events = append(h.Events, es...)
		}
		slices.SortFunc(h.Events, func(a, b Event) int { return int(a.ID - b.ID) })
		if h.Bookings, err = bookingsOf(ctx, tx, e2e); err != nil {
			return err
		}
		if h.Releases, err = refundsWhere(ctx, tx, "r.doc_type = ? AND r.ref_nbr = ?", string(h.Refund.DocType), h.Refund.RefNbr); err != nil {
			return err
		}
		slices.SortFunc(h.Releases, func(a, b Refund) int { return a.Release - b.Release })
		h.Files = map[string]string{}
		for _, e := range h.Events {
			if m := replyHash.FindStringSubmatch(e.Detail); m != nil {
				h.Files[m[1]] = ""
			}
		}
		for hash := range h.Files {
			f, err := fileByHash(ctx, tx, hash)
			if err != nil {
				continue // named in an event, not recorded: shown by its hash
			}
			h.Files[hash] = f.Name
		}
		return nil
	})
	if err != nil {
		return History{}, fmt.Errorf("read history of refund %s: %w", e2e, err)
	}
	return h, nil
}

// bookingsOf reads the bank's entries applied to the refund e2e: those
// recorded with it, and those recorded without it whose transaction key
// is its EndToEndId (see bankRefs), in the order they were applied.
func bookingsOf(ctx context.Context, q querier, e2e string) ([]Booking, error) {
	rows, err := q.QueryContext(ctx, `SELECT kind, entry, name, applied FROM (
	SELECT e.kind AS kind, e.entry AS entry, coalesce(f.name, '') AS name, e.applied AS applied
	FROM bank_entries e LEFT JOIN files f ON f.hash = e.file_hash
	WHERE e.end_to_end_id = ? AND e.end_to_end_id <> '' AND e.kind IN ('', 'payment', 'return', 'charges') AND e.account <> 'pain.002'
	UNION ALL
	SELECT e.kind, e.entry, coalesce(f.name, ''), e.applied
	FROM bank_entries e LEFT JOIN files f ON f.hash = e.file_hash
	WHERE e.tx = ? AND e.end_to_end_id = '' AND e.kind IN ('', 'payment', 'return') AND e.account <> 'pain.002'
) x ORDER BY applied, entry`, e2e, e2e)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var bs []Booking
	for rows.Next() {
		var b Booking
		var kind, applied string
		if err := rows.Scan(&kind, &b.BankRef, &b.File, &applied); err != nil {
			return nil, err
		}
		b.Kind = refund.Kind(kind)
		if b.Applied, err = parseTime(applied); err != nil {
			return nil, err
		}
		bs = append(bs, b)
	}
	return bs, rows.Err()
}

// normalTail returns the characters of an account number that
// refund.AccountKey keeps, for a search by its last digits.
func normalTail(s string) string { return refund.AccountKey(strings.TrimSpace(s)) }

// AccountTail returns the account tail that FindRefunds searches by for
// what an operator typed (spaces, dots and dashes dropped), and whether
// it is one: AccountTailMin or more digits. FindRefunds matches the last
// AccountTailMin of them only, the digits a masked account shows.
func AccountTail(typed string) (string, bool) {
	t := normalTail(typed)
	if len(t) < AccountTailMin {
		return "", false
	}
	for _, c := range t {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return t, true
}
