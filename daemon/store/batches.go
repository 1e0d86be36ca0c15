package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"refundd/daemon/refund"
)

// Batch is one pain.001 message: an ERP refund batch, or an operator's
// re-release of refunds that the bank rejected (a later Attempt).
type Batch struct {
	// MsgID is the pain.001 GrpHdr/MsgId, the batch's identity.
	MsgID string
	// Number is the ERP's refund-batch number; Attempt is 0 for the batch
	// as exported, 1, 2, … for re-releases (see refund.MsgID).
	Number  string
	Attempt int
	// FileHash is the content hash of the ERP file the batch came from,
	// recorded with RecordFile; "" for a re-release.
	FileHash string
	Status   BatchStatus
	Reason   string
	// LocalPath is the pain.001 in the state folder; RemoteName the name
	// it is uploaded under. Both are set before the batch is sending.
	LocalPath  string
	RemoteName string
	// PainHash is the SHA-256 (lower-case hex) of the pain.001 bytes, so
	// that a resend can be checked to be identical; "" when not given.
	PainHash string
	// Pain is the pain.001 itself, given to CreateBatch so that it is
	// recorded with the intent: whichever instance uploads the batch sends
	// exactly these bytes. The reads of batches leave it out; see
	// Store.Pain.
	Pain []byte
	// MsgCreated is the pain.001 GrpHdr/CreDtTm, kept so that the message
	// can be rendered again byte for byte.
	MsgCreated time.Time
	// NbOfTxs and Sums (one amount per currency, ordered by currency) are
	// the batch's totals. CreateBatch computes them from the refunds; when
	// given, they must agree.
	NbOfTxs int
	Sums    []refund.Amount
	// Notes are the refunds of the ERP file left out of the batch or
	// flagged in it, recorded by CreateBatch with the batch; the reads
	// of batches leave them out (see Store.Notes).
	Notes []Note
	// Created is when the batch was recorded, Updated when it last
	// changed, Sent when refundd knew that the bank had the file (zero
	// until then).
	Created, Updated, Sent time.Time
}

// CreateBatch records a batch with status received or sending (as b
// says) and all its refunds with status new, with an event for each, in
// one transaction: all of it is recorded or none.
//
// A batch created sending is the write-ahead intent of its upload: the
// pain.001 is durable at LocalPath and the batch recorded as sending under
// RemoteName before any upload starts, so that a crash never loses or
// repeats a payment. It needs LocalPath and RemoteName. Each refund's MsgID
// and Batch may be left empty (they are b's); its Status must be new or
// empty.
//
// The error wraps ErrDuplicate when the MsgId, the batch number and attempt,
// or a refund (its EndToEndId, InstrId, or DocType, RefNbr and release) is
// recorded already, and also when another release of the same refund is
// still live (not rejected or returned): an operator re-releases only a
// refund the bank did not pay. The message says which. It wraps
// ErrNotFound when FileHash was not recorded with RecordFile, ErrInvalid
// for a batch or refund that is incomplete or whose totals disagree.
func (s *Store) CreateBatch(ctx context.Context, b Batch, rs []Refund) error {
	if err := s.createBatch(ctx, b, rs); err != nil {
		return fmt.Errorf("create batch %s: %w", b.MsgID, err)
	}
	return nil
}

func (s *Store) createBatch(ctx context.Context, b Batch, rs []Refund) error {
	rs = slices.Clone(rs) // checkBatch fills in fields; the caller's slice stays as it was
	sums, err := checkBatch(&b, rs)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error { return s.insertBatch(ctx, tx, b, rs, sums) })
}

// insertBatch is CreateBatch in tx, after checkBatch.
func (s *Store) insertBatch(ctx context.Context, tx *txn, b Batch, rs []Refund, sums []total) error {
	if o, err := batchByMsgID(ctx, tx, b.MsgID); err == nil {
		return fmt.Errorf("%w: MsgId %s is batch %s attempt %d, %s", ErrDuplicate, o.MsgID, o.Number, o.Attempt, o.Status)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	var other string
	err := tx.QueryRowContext(ctx, `SELECT msg_id FROM batches WHERE number = ? AND attempt = ?`, b.Number, b.Attempt).Scan(&other)
	if err == nil {
		return fmt.Errorf("%w: batch %s attempt %d is MsgId %s", ErrDuplicate, b.Number, b.Attempt, other)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return err
	}

	at := s.stamp()
	var pain any // NULL when not given
	if b.Pain != nil {
		pain = b.Pain
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO batches (msg_id, number, attempt, file_hash, status, reason,
		local_path, remote_name, pain_hash, msg_created, nb_of_txs, created, updated, sent, pain)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?)`,
		b.MsgID, b.Number, b.Attempt, nullIfEmpty(b.FileHash), string(b.Status), b.Reason,
		b.LocalPath, b.RemoteName, b.PainHash, formatTime(b.MsgCreated), len(rs), at, at, pain)
	if isForeignKey(err) {
		return fmt.Errorf("%w: file %s (record it with RecordFile first)", ErrNotFound, b.FileHash)
	}
	if err != nil {
		return err
	}
	for _, t := range sums {
		if _, err := tx.ExecContext(ctx, `INSERT INTO batch_totals (msg_id, currency, nb_of_txs, minor) VALUES (?, ?, ?, ?)`,
			b.MsgID, string(t.currency), t.n, t.minor); err != nil {
			return err
		}
	}
	if err := addEvent(ctx, tx, at, event{typ: SubjectBatch, id: b.MsgID, to: string(b.Status), reason: b.Reason,
		detail: fmt.Sprintf("batch %s attempt %d, %d refunds", b.Number, b.Attempt, len(rs))}); err != nil {
		return err
	}
	if err := insertRefunds(ctx, tx, at, &b, rs); err != nil {
		return err
	}
	if err := resolveNotes(ctx, tx, at, b.MsgID); err != nil {
		return err
	}
	return insertNotes(ctx, tx, at, &b)
}

// held reports whether some note is of a refund held back.
func held(ns []Note) bool {
	return slices.ContainsFunc(ns, func(n Note) bool { return n.Kind == NoteHeld })
}

// insertRefunds inserts the refunds of batch b, each with its event,
// after refundCollision found none that collides with a recorded refund
// or one before it in rs.
func insertRefunds(ctx context.Context, tx *txn, at string, b *Batch, rs []Refund) error {
	if len(rs) == 0 {
		return nil
	}
	if err := refundCollision(ctx, tx, rs); err != nil {
		return err
	}
	n := len(rs)
	e2e, docType, refNbr, msgID, pmtInf, cur, date := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	cred, debt, ledger, cust, created, status := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n)
	release, minor, baseMinor, baseCur := make([]int64, n), make([]int64, n), make([]int64, n), make([]string, n)
	instr := make([]*string, n)
	for i := range rs {
		r := &rs[i]
		e2e[i], docType[i], refNbr[i], msgID[i], pmtInf[i] = r.EndToEndID, string(r.DocType), r.RefNbr, b.MsgID, r.PmtInfID
		cur[i], date[i], cred[i], debt[i], ledger[i] = string(r.Amount.Currency), r.ExecutionDate.String(), r.CreditorAccount, r.DebtorAccount, r.DebtorLedgerAccount
		cust[i], created[i], status[i] = r.CustomerID, at, string(refund.StatusNew)
		release[i], minor[i] = int64(r.Release), r.Amount.Minor
		baseMinor[i], baseCur[i] = r.BaseAmount.Minor, string(r.BaseAmount.Currency)
		if r.InstrID != "" {
			instr[i] = &r.InstrID
		}
	}
	err := insertRows(ctx, tx, "refunds", n, []column{
		{"end_to_end_id", "text", e2e}, {"doc_type", "text", docType}, {"ref_nbr", "text", refNbr}, {"release_no", "bigint", release},
		{"msg_id", "text", msgID}, {"pmt_inf_id", "text", pmtInf}, {"instr_id", "text", instr}, {"amount_minor", "bigint", minor},
		{"currency", "text", cur}, {"execution_date", "text", date}, {"creditor_account", "text", cred},
		{"debtor_account", "text", debt}, {"debtor_ledger_account", "text", ledger}, {"customer_id", "text", cust},
		{"status", "text", status}, {"created", "text", created}, {"updated", "text", created},
		{"base_minor", "bigint", baseMinor}, {"base_currency", "text", baseCur},
	})
	if isUnique(err) {
		// refundCollision looked at every identity; only a writer that
		// does not take the write lock gets here.
		return fmt.Errorf("%w: %w", ErrDuplicate, err)
	}
	if err != nil {
		return err
	}
	detail := "batch " + b.Number + " MsgId " + b.MsgID
	es := make([]event, len(rs))
	for i, r := range rs {
		es[i] = event{typ: SubjectRefund, id: r.EndToEndID, to: string(refund.StatusNew), detail: detail}
	}
	return insertEvents(ctx, tx, at, es)
}

// refundCollision returns ErrDuplicate naming the first refund of rs that
// collides with a recorded refund or one before it in rs: another release
// of its document that is still live (not rejected or returned), or the
// same EndToEndId, DocType, RefNbr and release, or InstrId.
func refundCollision(ctx context.Context, tx *txn, rs []Refund) error {
	type doc struct {
		t   refund.DocType
		ref string
	}
	byDoc := make(map[doc][]Refund)
	byE2E := make(map[string]Refund)
	byInstr := make(map[string]Refund)
	add := func(o Refund) {
		d := doc{o.DocType, o.RefNbr}
		byDoc[d] = append(byDoc[d], o)
		if _, ok := byE2E[o.EndToEndID]; !ok {
			byE2E[o.EndToEndID] = o
		}
		if _, ok := byInstr[o.InstrID]; !ok && o.InstrID != "" {
			byInstr[o.InstrID] = o
		}
	}
	// The recorded refunds that share a document, an EndToEndId or an
	// InstrId with one of rs, in the order they were recorded.
	n := len(rs)
	e2e, instr, docType, refNbr := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, r := range rs {
		e2e[i], instr[i], docType[i], refNbr[i] = r.EndToEndID, r.InstrID, string(r.DocType), r.RefNbr
	}
	err := chunked(n, 4, func(lo, hi int) error {
		where, args := sharing(tx, lo, hi, e2e, instr, docType, refNbr)
		os, err := refundsWhere(ctx, tx, where, args...)
		for _, o := range os {
			add(o)
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, r := range rs {
		for _, o := range byDoc[doc{r.DocType, r.RefNbr}] {
			if o.Status != refund.StatusRejected && o.Status != refund.StatusReturned {
				return fmt.Errorf("%w: refund %s %s release %d is %s in batch %s (MsgId %s, EndToEndId %s); only a rejected or returned refund is released again",
					ErrDuplicate, r.DocType, r.RefNbr, o.Release, o.Status, o.Batch, o.MsgID, o.EndToEndID)
			}
		}
		dup := func(what string, o Refund) error {
			return fmt.Errorf("%w: refund %s: %s is refund %s %s release %d in batch %s (MsgId %s), %s",
				ErrDuplicate, r.EndToEndID, what, o.DocType, o.RefNbr, o.Release, o.Batch, o.MsgID, o.Status)
		}
		if o, ok := byE2E[r.EndToEndID]; ok {
			return dup("EndToEndId "+r.EndToEndID, o)
		}
		for _, o := range byDoc[doc{r.DocType, r.RefNbr}] {
			if o.Release == r.Release {
				return dup(fmt.Sprintf("%s %s release %d", r.DocType, r.RefNbr, r.Release), o)
			}
		}
		if o, ok := byInstr[r.InstrID]; ok && r.InstrID != "" {
			return dup("InstrId "+r.InstrID, o)
		}
		o := r
		o.Status = refund.StatusNew
		add(o)
	}
	return nil
}

// sharing is the condition on refunds r for the rows [lo, hi) of the
// lists: a recorded refund with one of the EndToEndIds or InstrIds, or of
// one of the documents. Each part is looked up in its own index and the
// parts are joined by rowid: PostgreSQL answers "a IN x OR b IN y" by
// reading every refund ever recorded.
func sharing(tx *txn, lo, hi int, e2e, instr, docType, refNbr []string) (string, []any) {
	ids, idArgs := rowSet(tx, lo, hi, []column{{"e2e", "text", e2e}})
	instrs, instrArgs := rowSet(tx, lo, hi, []column{{"instr", "text", instr}})
	docs, docArgs := rowSet(tx, lo, hi, []column{{"doc_type", "text", docType}, {"ref_nbr", "text", refNbr}})
	return `r.rowid IN (SELECT rowid FROM refunds WHERE end_to_end_id IN ` + ids + `
		UNION ALL SELECT rowid FROM refunds WHERE instr_id IN ` + instrs + `
		UNION ALL SELECT rowid FROM refunds WHERE (doc_type, ref_nbr) IN ` + docs + `)`,
		append(append(idArgs, instrArgs...), docArgs...)
}

// total is the sum of a batch's refunds in one currency.
type total struct {
	currency refund.Currency
	n        int
	minor    int64
}

// checkBatch checks b and its refunds before anything is written, fills
// in each refund's MsgID and Batch, and returns the totals per currency.
func checkBatch(b *Batch, rs []Refund) ([]total, error) {
	bad := func(format string, args ...any) ([]total, error) {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	switch {
	case b.MsgID == "" || b.Number == "":
		return bad("a batch needs a MsgId and a number")
	case b.Attempt < 0:
		return bad("attempt %d", b.Attempt)
	case b.Status != BatchReceived && b.Status != BatchSending:
		return bad("a batch is created received or sending, not %q", b.Status)
	case b.Status == BatchSending && (b.LocalPath == "" || b.RemoteName == ""):
		return bad("a batch created sending needs its local path and remote name (the write-ahead intent)")
	case b.FileHash != "" && !validHash(b.FileHash):
		return bad("file hash %q is not a lower-case hex SHA-256", b.FileHash)
	case b.PainHash != "" && !validHash(b.PainHash):
		return bad("pain.001 hash %q is not a lower-case hex SHA-256", b.PainHash)
	case len(rs) == 0 && (b.Status != BatchReceived || !held(b.Notes)):
		// A batch whose every refund is held back is recorded, received,
		// for its notes; its refunds follow in a later batch.
		return bad("a batch without refunds")
	case b.NbOfTxs != 0 && b.NbOfTxs != len(rs):
		return bad("NbOfTxs %d, but %d refunds", b.NbOfTxs, len(rs))
	}
	byCur := map[refund.Currency]*total{}
	for i := range rs {
		r := &rs[i]
		if r.MsgID == "" {
			r.MsgID = b.MsgID
		}
		if r.Batch == "" {
			r.Batch = b.Number
		}
		if err := checkRefund(b, r); err != nil {
			return nil, fmt.Errorf("%w: refund %d (%s %s): %w", ErrInvalid, i+1, r.DocType, r.RefNbr, err)
		}
		t := byCur[r.Amount.Currency]
		if t == nil {
			t = &total{currency: r.Amount.Currency}
			byCur[r.Amount.Currency] = t
		}
		if t.minor > math.MaxInt64-r.Amount.Minor {
			return bad("the %s total overflows", r.Amount.Currency)
		}
		t.n++
		t.minor += r.Amount.Minor
	}
	totals := make([]total, 0, len(byCur))
	for _, t := range byCur {
		totals = append(totals, *t)
	}
	slices.SortFunc(totals, func(x, y total) int { return cmp.Compare(x.currency, y.currency) })
	if b.Sums != nil {
		given := slices.Clone(b.Sums)
		slices.SortFunc(given, func(x, y refund.Amount) int { return cmp.Compare(x.Currency, y.Currency) })
		computed := sumsOf(totals)
		if !slices.Equal(given, computed) {
			return bad("sums %s, but the refunds add up to %s", formatSums(given), formatSums(computed))
		}
	}
	return totals, nil
}

// checkRefund checks one refund of batch b.
func checkRefund(b *Batch, r *Refund) error {
	switch {
	case r.EndToEndID == "" || r.RefNbr == "" || r.PmtInfID == "":
		return errors.New("needs an EndToEndId, a RefNbr and a PmtInfId")
	case r.DocType != refund.CreditNote && r.DocType != refund.Prepayment && r.DocType != refund.Payment:
		return fmt.Errorf("document type %q", r.DocType)
	case r.Release < 0:
		return fmt.Errorf("release %d", r.Release)
	case r.MsgID != b.MsgID || r.Batch != b.Number:
		return fmt.Errorf("belongs to batch %s (MsgId %s)", r.Batch, r.MsgID)
	case r.Status != "" && r.Status != refund.StatusNew:
		return fmt.Errorf("a refund is created new, not %s", r.Status)
	case r.Amount.Minor <= 0 || r.Amount.Minor > refund.MaxMinor:
		return fmt.Errorf("amount %d minor units", r.Amount.Minor)
	case len(r.Amount.Currency) != 3:
		return fmt.Errorf("currency %q", r.Amount.Currency)
	case r.ExecutionDate.IsZero():
		return errors.New("needs an execution date")
	case r.CreditorAccount == "":
		return errors.New("needs a creditor account")
	}
	return nil
}

func sumsOf(ts []total) []refund.Amount {
	as := make([]refund.Amount, len(ts))
	for i, t := range ts {
		as[i] = refund.Amount{Minor: t.minor, Currency: t.currency}
	}
	return as
}

func formatSums(as []refund.Amount) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String() + " " + string(a.Currency)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// nullIfEmpty stores "" as NULL, for optional columns under a UNIQUE or
// FOREIGN KEY constraint.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
