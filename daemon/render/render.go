package render

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"refundd/daemon/config"

	"refundd/daemon/erp"
	"refundd/daemon/refund"
	"refundd/formats/pain001"
)

// ErrInvalidBatch marks a batch file that has problems; Plan returns the
// problems themselves in the Plan.
var ErrInvalidBatch = errors.New("invalid batch")

// ErrChanged is returned when a batch file changed between two passes
// over it.
var ErrChanged = errors.New("batch file changed while it was read")

// ErrClosed is returned by Render for a plan that was closed.
var ErrClosed = errors.New("plan closed")

// ErrFileTooLarge marks a batch file larger than watch.max_file_size. It is
// a problem of the file (it is refused whole), found while reading through
// the limit, so that a huge file or a single huge line is never held in
// memory.
var ErrFileTooLarge = errors.New("batch file larger than the limit")

// Opener opens a batch file for reading; it is called once per pass.
type Opener func() (io.ReadCloser, error)

// Plan is a batch file checked against every rule, with what is needed to
// render its pain.001 without reading the file again: the ids and the
// totals that precede the transactions in the document, and the
// transactions themselves, kept in a temporary file that has no name (so
// that nothing is left of it however the process ends). Close frees it.
type Plan struct {
	File    string
	Batch   string
	MsgID   string
	Created time.Time
	Groups  []*Group
	NbOfTxs int
	CtrlSum pain001.Decimal
	// Problems are the errors and warnings, in file order; none when
	// Options.Report took them.
	Problems []erp.Problem
	Hash     [sha256.Size]byte

	// Left are the refunds of the file left out of the batch (invalid
	// ones with batches.on_invalid: send-valid, held ones with
	// batches.account_guard: hold) and those sent with a flag, in file
	// order. None when Options.Report took the problems.
	Left []Left

	cfg   *config.Config
	rules *refund.Rules
	sel   *Selection // nil: every refund of the file, attempt 0, release 0
	opts  Options
	held  map[erp.Pos]bool // refunds held back: the later passes leave them out too
	left  map[erp.Pos]bool // refunds left out: held back or invalid
	fatal bool             // an error of the file, not of a refund that can be left out

	errs    int    // errors among the problems
	invalid int    // refunds left out as invalid
	spill   *spill // the transactions to render; nil when there are none, or once closed
	closed  bool
}

// Options are what planning a batch needs beyond the configuration.
type Options struct {
	// LastAccount returns the creditor account of the customer's last
	// booked refund, for the account guard (batches.account_guard); nil
	// turns the guard off.
	LastAccount func(customerID string) (account string, ok bool, err error)

	// Report, when set, takes every problem in file order instead of
	// Plan.Problems, and Plan.Left is not kept (Invalid still counts):
	// the plan's memory then does not grow with the batch, for a caller
	// that only reports the problems (the render command).
	Report func(erp.Problem)

	// noHash leaves Plan.Hash zero: the render command, which reads the
	// file once, has no use for it.
	noHash bool
}

// LeftKind says why a refund is in Plan.Left.
type LeftKind string

// The kinds of Plan.Left.
const (
	// LeftInvalid: the refund has errors and is left out.
	LeftInvalid LeftKind = "invalid"
	// LeftHeld: the refund goes to another account than the customer's
	// last booked refund and is held back (account_guard: hold).
	LeftHeld LeftKind = "held"
	// LeftFlagged: the same, sent with a flag (account_guard: warn).
	LeftFlagged LeftKind = "account-changed"
)

// Left is a refund of the file left out of the batch, or flagged in it.
type Left struct {
	Pos        erp.Pos
	Kind       LeftKind
	DocType    refund.DocType
	RefNbr     string
	CustomerID string
	// Reason says why: every error of an invalid refund with its place
	// ("b.csv:3: Account: …; b.csv:3: CustomerOrderNbr: …"), or the
	// accounts.
	Reason string
}

// Selection picks refunds of a batch file for an operator's re-release: a
// new message (its Attempt, see refund.MsgID) with only these refunds,
// each under its release number (see refund.EndToEndID).
type Selection struct {
	Attempt  int
	Releases map[DocRef]int
}

// DocRef names an ERP document: its type and number.
type DocRef struct {
	DocType refund.DocType
	RefNbr  string
}

// Release returns the release number of a refund, and whether the plan
// takes it at all.
func (p *Plan) Release(r *refund.Refund) (int, bool) {
	if p.sel == nil {
		return 0, true
	}
	n, ok := p.sel.Releases[DocRef{r.DocType, r.RefNbr}]
	return n, ok
}

// Group is one payment-information block of a plan.
type Group struct {
	Key      refund.GroupKey
	PmtInfID string
	NbOfTxs  int
	Sum      int64 // minor units of Key.Currency
	Debtor   *refund.DebtorAccount
	SEPA     bool

	idx      int   // number of the group in the spill file
	from, to int64 // where its transactions are in the spill file
}

// Attempt is the attempt number of the message: 0 for a batch as
// exported, that of the Selection for a re-release.
func (p *Plan) Attempt() int {
	if p.sel == nil {
		return 0
	}
	return p.sel.Attempt
}

// Valid reports whether the plan can be rendered: it has no errors
// (warnings are allowed), or, with batches.on_invalid: send-valid, its
// errors are all of refunds that are left out (Left), the file as a
// whole is sound, and at least one refund is sent.
func (p *Plan) Valid() bool {
	if p.errs == 0 {
		return true
	}
	return p.partial() && !p.fatal && p.NbOfTxs > 0
}

// partial reports whether invalid refunds are left out rather than
// failing the batch: send-valid, for a batch as exported (an operator's
// selection is all or nothing).
func (p *Plan) partial() bool {
	return p.sel == nil && p.cfg != nil && p.cfg.Batches.OnInvalid == config.OnInvalidSendValid
}

// Invalid returns the number of refunds left out as invalid.
func (p *Plan) Invalid() int { return p.invalid }

// Errors returns the number of errors among the problems.
func (p *Plan) Errors() int { return p.errs }

// Close frees the transactions kept for Render. A closed plan cannot be
// rendered; closing it again does nothing.
func (p *Plan) Close() error {
	p.closed = true
	if p.spill == nil {
		return nil
	}
	err := p.spill.close()
	p.spill = nil
	if err != nil {
		return fmt.Errorf("close plan of %s: %w", p.File, err)
	}
	return nil
}

// problem records a problem of the batch: in Problems, or to
// Options.Report.
func (p *Plan) problem(q erp.Problem) {
	if !q.Warning {
		p.errs++
	}
	if p.opts.Report != nil {
		p.opts.Report(q)
		return
	}
	p.Problems = append(p.Problems, q)
}

// Totals returns the number of refunds and the sum per currency.
func (p *Plan) Totals() (n int, sums map[refund.Currency]int64) {
	sums = map[refund.Currency]int64{}
	for _, g := range p.Groups {
		n += g.NbOfTxs
		sums[g.Key.Currency] += g.Sum
	}
	return n, sums
}

// Batch reads the batch file named name once, checks every refund
// against the configuration and returns the plan. Problems with the file are
// in the plan, not in the error; the error is for I/O. The caller closes
// the plan.
func Batch(c *config.Config, name string, open Opener, now time.Time) (*Plan, error) {
	return plan(c, name, open, now, nil, Options{})
}

// Guarded is Batch with opts: the daemon's plan, with the account guard.
func Guarded(c *config.Config, name string, open Opener, now time.Time, opts Options) (*Plan, error) {
	return plan(c, name, open, now, nil, opts)
}

// Selected is Batch for the refunds of the file that sel picks,
// as a message with sel's attempt number; refunds that sel does not pick
// are passed over, their problems too. A nil sel picks every refund, as
// Batch does.
func Selected(c *config.Config, name string, open Opener, now time.Time, sel *Selection) (*Plan, error) {
	return plan(c, name, open, now, sel, Options{})
}

// SelectedWith is Selected with opts: the account guard checks the
// selected refunds too (a corrected export); an operator's release or
// re-release passes none.
func SelectedWith(c *config.Config, name string, open Opener, now time.Time, sel *Selection, opts Options) (*Plan, error) {
	return plan(c, name, open, now, sel, opts)
}

func plan(c *config.Config, name string, open Opener, now time.Time, sel *Selection, opts Options) (*Plan, error) {
	p := &Plan{File: name, Created: now.In(c.Location()), cfg: c, rules: c.Rules(now), sel: sel, opts: opts}
	// A file of another kind is a problem of the file, not an error: it
	// would otherwise be tried again for ever.
	if q, ok := unknownFormat(name); ok {
		p.problem(q)
		return p, nil
	}
	ok := false
	defer func() {
		if !ok {
			p.Close()
		}
	}()
	groups := map[refund.GroupKey]*Group{}
	var total3 int64 // the batch total in thousandths, to keep every sum in range
	var h hash.Hash
	if !opts.noHash {
		h = sha256.New()
	}
	// The problems of a refund are reported just before fn is called for
	// it; recent keeps them, for the reason of an invalid refund.
	var recent []erp.Problem
	report := func(q erp.Problem) {
		p.problem(q)
		if len(recent) > 0 && recent[0].Pos != q.Pos {
			recent = recent[:0]
		}
		recent = append(recent, q)
	}
	guard := c.Batches.AccountGuard
	if opts.LastAccount == nil {
		guard = config.GuardOff
	}
	var tx pain001.Transaction
	fileProblems, err := p.Scan(open, h, report, func(rec erp.Record, t *refund.Transfer) error {
		if p.Batch == "" {
			p.Batch = rec.Refund.Batch
		}
		var mine []erp.Problem
		if len(recent) > 0 && recent[0].Pos == rec.Pos {
			mine = recent
		}
		if t == nil {
			p.leaveOut(rec, mine)
			return nil
		}
		if guard != config.GuardOff {
			if err := p.guard(rec, t, guard); err != nil || p.held[rec.Pos] {
				return err
			}
		}
		k := t.Key()
		g := groups[k]
		if g == nil {
			g = &Group{Key: k, Debtor: t.Debtor, SEPA: t.SEPA, idx: len(groups)}
			groups[k] = g
		}
		exp, _ := k.Currency.Exponent()
		total3 += t.Amount.Minor * pow10(3-exp)
		if t.Amount.Minor > refund.MaxMinor-g.Sum || total3 > refund.MaxMinor*10 {
			p.problem(erp.Problem{Pos: rec.Pos, Field: refund.FieldAmount,
				Msg: fmt.Sprintf("the batch total would exceed %s; split the batch", refund.Amount{Minor: refund.MaxMinor, Currency: "NOK"})})
			p.fatal = true // a problem of the batch, not of this refund
			return nil
		}
		g.NbOfTxs++
		g.Sum += t.Amount.Minor
		if p.fatal || p.errs > 0 && !p.partial() {
			return nil // nothing will be rendered
		}
		if p.spill == nil {
			sp, err := newSpill()
			if err != nil {
				return err
			}
			p.spill = sp
		}
		release, _ := p.Release(&t.Refund)
		transaction(&tx, t, release)
		from, to, err := p.spill.add(g.idx, &tx)
		if g.NbOfTxs == 1 {
			g.from = from
		}
		g.to = to
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, q := range fileProblems {
		p.problem(q)
		if !q.Warning {
			p.fatal = true
		}
	}
	if h != nil {
		copy(p.Hash[:], h.Sum(nil))
	}
	if p.Batch == "" && p.errs == 0 {
		p.problem(erp.Problem{Pos: erp.Pos{File: name}, Msg: "the batch has no refunds"})
	}
	for _, g := range groups {
		p.NbOfTxs += g.NbOfTxs
	}
	if !p.Valid() || (p.NbOfTxs == 0 && !p.allHeld()) {
		p.NbOfTxs = 0
		return p, nil
	}
	if p.spill != nil {
		if err := p.spill.done(); err != nil {
			return nil, err
		}
	}

	attempt := 0
	if sel != nil {
		attempt = sel.Attempt
	}
	p.MsgID = refund.MsgID(c.Company.OrgNumber, p.Batch, attempt)
	for _, g := range groups {
		p.Groups = append(p.Groups, g)
	}
	slices.SortFunc(p.Groups, func(a, b *Group) int { return a.Key.Compare(b.Key) })
	maxExp := 0
	var sum3 int64 // in thousandths, enough for every supported currency
	for i, g := range p.Groups {
		g.PmtInfID = refund.PmtInfID(p.MsgID, i+1)
		exp, _ := g.Key.Currency.Exponent()
		maxExp = max(maxExp, exp)
		sum3 += g.Sum * pow10(3-exp)
	}
	p.CtrlSum = pain001.Decimal{Units: sum3 / pow10(3-maxExp), Scale: maxExp}
	ok = true
	return p, nil
}

// leaveOut records a refund with errors: with send-valid it is left out
// of the batch (Left), unless its problem is one of the batch as a whole
// (a row of another batch, a document twice in the file), which fails
// the batch.
func (p *Plan) leaveOut(rec erp.Record, ps []erp.Problem) {
	p.invalid++
	var texts []string
	for _, q := range ps {
		if q.Warning {
			continue
		}
		if wholeBatch(q) {
			p.fatal = true
		}
		if p.opts.Report == nil {
			texts = append(texts, q.String())
		}
	}
	if p.opts.Report != nil {
		return
	}
	if len(texts) == 0 {
		// Its errors came before this pass (not seen here) or it was
		// passed over: nothing to say of it on its own.
		texts = []string{"invalid"}
	}
	r := &rec.Refund
	p.markLeft(rec.Pos)
	p.Left = append(p.Left, Left{Pos: rec.Pos, Kind: LeftInvalid, DocType: r.DocType, RefNbr: r.RefNbr,
		CustomerID: r.CustomerID, Reason: strings.Join(texts, "; ")})
}

// wholeBatch reports whether a refund's problem makes the whole file
// invalid even when invalid refunds may be left out: a row that belongs
// to another batch, or a document that the file holds twice (which of
// the two the ERP meant cannot be known).
func wholeBatch(q erp.Problem) bool {
	return q.Field == refund.FieldBatch || (q.Field == refund.FieldRefNbr && strings.Contains(q.Msg, "repeats the RefNbr"))
}

// guard applies the account guard to a valid refund: a refund to another
// account than the customer's last booked refund is held back (hold) or
// flagged with a warning (warn). A customer's first refund is neither.
func (p *Plan) guard(rec erp.Record, t *refund.Transfer, mode string) error {
	if t.CustomerID == "" {
		return nil
	}
	last, ok, err := p.opts.LastAccount(t.CustomerID)
	if err != nil || !ok || refund.AccountKey(last) == refund.AccountKey(t.Account) {
		return err
	}
	reason := fmt.Sprintf("account %s differs from %s, the account of customer %s's last booked refund",
		refund.MaskAccount(t.Account), refund.MaskAccount(last), t.CustomerID)
	l := Left{Pos: rec.Pos, Kind: LeftFlagged, DocType: t.DocType, RefNbr: t.RefNbr, CustomerID: t.CustomerID, Reason: reason}
	msg := reason + "; sent (batches.account_guard: warn)"
	if mode == config.GuardHold {
		l.Kind = LeftHeld
		msg = reason + "; held back until an operator runs refundd release " + t.RefNbr
		if p.held == nil {
			p.held = map[erp.Pos]bool{}
		}
		p.held[rec.Pos] = true
		p.markLeft(rec.Pos)
	}
	if p.opts.Report == nil {
		p.Left = append(p.Left, l)
	}
	p.problem(erp.Problem{Pos: rec.Pos, Field: refund.FieldAccount, Msg: msg, Warning: true})
	return nil
}

// allHeld reports whether every refund of a valid file is held back: the
// batch is recorded without a pain.001, to be released later.
func (p *Plan) allHeld() bool {
	return !p.fatal && len(p.held) > 0 && p.errs == 0
}

// IsLeft reports whether the refund at pos was left out of the batch
// (invalid or held), so that a pass over the file expects no transfer
// for it.
func (p *Plan) IsLeft(pos erp.Pos) bool { return p.left[pos] }

func (p *Plan) markLeft(pos erp.Pos) {
	if p.left == nil {
		p.left = map[erp.Pos]bool{}
	}
	p.left[pos] = true
}

// Held returns the number of refunds held back.
func (p *Plan) Held() int { return len(p.held) }

func pow10(n int) int64 {
	v := int64(1)
	for range n {
		v *= 10
	}
	return v
}

// Scan reads the batch file once, feeding its bytes to h (unless nil),
// and calls fn for every refund with the transfer it becomes, or nil when
// the refund has errors. Problems of refunds go to report; those of the
// file as a whole are returned.
func (p *Plan) Scan(open Opener, h hash.Hash, report func(erp.Problem), fn func(erp.Record, *refund.Transfer) error) ([]erp.Problem, error) {
	if q, ok := unknownFormat(p.File); ok {
		return []erp.Problem{q}, nil
	}
	f, err := open()
	if err != nil {
		return nil, fmt.Errorf("open batch %s: %w", p.File, err)
	}
	defer f.Close()
	limit := p.maxFileSize()
	opt := p.scanOptions()
	if fi, ok := statOf(f); ok && fi.Mode().IsRegular() {
		if fi.Size() > limit {
			return []erp.Problem{tooLarge(p.File, fi.Size(), limit)}, nil
		}
		opt.SizeHint = fi.Size()
	}
	lr := &limitedReader{r: f, left: limit}
	var in io.Reader = lr
	if h != nil {
		in = io.TeeReader(lr, h)
	}
	var t refund.Transfer // reused: fn does not keep it
	var ps []refund.Problem
	problems, err := erp.ScanWith(p.File, in, opt, func(rec erp.Record) error {
		if _, ok := p.Release(&rec.Refund); !ok {
			return nil
		}
		for _, q := range rec.Problems {
			report(q)
		}
		if erp.HasErrors(rec.Problems) {
			return fn(rec, nil)
		}
		t, ps = p.rules.Check(rec.Refund)
		for _, q := range ps {
			report(erp.Problem{Pos: rec.Pos, Field: q.Field, Msg: q.Msg, Warning: q.Warning})
		}
		if slices.ContainsFunc(ps, func(q refund.Problem) bool { return !q.Warning }) {
			return fn(rec, nil)
		}
		if p.held[rec.Pos] {
			// Held back by the account guard when the plan was made:
			// not rendered, as a refund with errors is not.
			return fn(rec, nil)
		}
		return fn(rec, &t)
	})
	if errors.Is(err, ErrFileTooLarge) || lr.over {
		// The file grew past the limit while it was read.
		return []erp.Problem{tooLarge(p.File, limit-lr.left+lr.extra, limit)}, nil
	}
	return problems, err
}

// scanOptions returns how the batch file is read: in the encoding of
// batches.encoding, UTF-8 without a configuration.
func (p *Plan) scanOptions() erp.Options {
	if p.cfg == nil {
		return erp.Options{}
	}
	return erp.Options{Encoding: erp.Encoding(p.cfg.Batches.Encoding)}
}

// maxFileSize returns the size limit of a batch file.
func (p *Plan) maxFileSize() int64 {
	if p.cfg != nil && p.cfg.Watch.MaxFileSize > 0 {
		return p.cfg.Watch.MaxFileSize
	}
	return config.DefaultMaxBatchFileSize
}

// statOf returns the file information of r when it is a file.
func statOf(r io.Reader) (os.FileInfo, bool) {
	s, ok := r.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return nil, false
	}
	fi, err := s.Stat()
	return fi, err == nil
}

// tooLarge is the problem of a batch file over the size limit; size is
// what is known of its size (at least limit+1).
func tooLarge(name string, size, limit int64) erp.Problem {
	return erp.Problem{Pos: erp.Pos{File: name}, Msg: fmt.Sprintf("%v: %s has %d bytes or more, the limit (watch.max_file_size) is %d bytes; nothing of it was taken",
		ErrFileTooLarge, name, size, limit)}
}

// limitedReader reads at most left bytes of r; one byte more is the error
// ErrFileTooLarge, so that a reader never gets a silently cut file.
type limitedReader struct {
	r     io.Reader
	left  int64
	extra int64 // bytes read beyond the limit (at most 1)
	over  bool
}

// Read implements io.Reader.
func (l *limitedReader) Read(b []byte) (int, error) {
	if l.over {
		return 0, ErrFileTooLarge
	}
	if int64(len(b)) > l.left+1 {
		b = b[:l.left+1]
	}
	n, err := l.r.Read(b)
	if int64(n) > l.left {
		l.extra = int64(n) - l.left
		l.left = 0
		l.over = true
		return 0, ErrFileTooLarge
	}
	l.left -= int64(n)
	return n, err
}

// Render writes the pain.001 of a valid plan to w, from what planning
// kept: the batch file is not read again. It writes nothing for a plan
// that is not valid; an error after the first byte (of w, or of reading
// the temporary file) leaves a partial document in w.
func (p *Plan) Render(w io.Writer) error {
	if !p.Valid() {
		return fmt.Errorf("render %s: %w", p.File, ErrInvalidBatch)
	}
	if p.closed || p.spill == nil && len(p.Groups) > 0 {
		return fmt.Errorf("render %s: %w", p.File, ErrClosed)
	}
	c := p.cfg
	enc := pain001.NewEncoder(w, c.Pain001Version())
	err := enc.Header(pain001.GroupHeader{
		MsgID:        p.MsgID,
		CreationTime: p.Created,
		NbOfTxs:      p.NbOfTxs,
		CtrlSum:      p.CtrlSum,
		InitiatingParty: pain001.Party{
			Name: c.Company.Name, OrgID: c.Company.OrgNumber, Scheme: c.Pain001.InitiatorScheme,
		},
	})
	if err != nil {
		return fmt.Errorf("render %s: %w", p.File, err)
	}
	var r *bufio.Reader
	if p.spill != nil {
		r = bufio.NewReaderSize(nil, 64<<10)
	}
	for _, g := range p.Groups {
		if err := enc.PaymentInfo(paymentInfo(c, g)); err != nil {
			return fmt.Errorf("render %s: %w", p.File, err)
		}
		if err := p.spill.each(r, g.idx, g.from, g.to, enc.Transaction); err != nil {
			return fmt.Errorf("render %s: %w", p.File, err)
		}
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("render %s: %w", p.File, err)
	}
	return nil
}

// paymentInfo maps a group to its PmtInf block.
func paymentInfo(c *config.Config, g *Group) pain001.PaymentInfo {
	exp, _ := g.Key.Currency.Exponent()
	pi := pain001.PaymentInfo{
		PmtInfID:        g.PmtInfID,
		BatchBooking:    c.Pain001.BatchBooking,
		NbOfTxs:         g.NbOfTxs,
		CtrlSum:         pain001.Decimal{Units: g.Sum, Scale: exp},
		CategoryPurpose: c.Pain001.CategoryPurpose,
		ExecutionDate:   g.Key.ExecutionDate.Time(),
		Debtor:          pain001.Party{Name: c.Company.Name, OrgID: c.Company.OrgNumber, Scheme: c.Pain001.InitiatorScheme},
		DebtorAccount:   account(g.Debtor.Type, g.Debtor.Account),
		DebtorAgentBIC:  g.Debtor.BIC,
		ChargeBearer:    g.Key.ChargeBearer,
	}
	pi.DebtorAccount.Currency = string(g.Debtor.Currency)
	if g.SEPA {
		pi.ServiceLevel = "SEPA"
	}
	return pi
}

// transaction maps a transfer to a CdtTrfTxInf, reusing tx's memory.
func transaction(tx *pain001.Transaction, t *refund.Transfer, release int) {
	exp, _ := t.Amount.Currency.Exponent()
	e2e := refund.EndToEndID(t.DocType, t.RefNbr, release)
	*tx = pain001.Transaction{
		InstrID:          e2e,
		EndToEndID:       e2e,
		Amount:           pain001.Amount{Decimal: pain001.Decimal{Units: t.Amount.Minor, Scale: exp}, Currency: string(t.Amount.Currency)},
		CreditorAgentBIC: t.BIC,
		Creditor:         pain001.Party{Name: t.Name},
		CreditorAccount:  account(t.AccountType, t.Account),
		Purpose:          "REFU",
		Remittance:       t.Message,
	}
	if !t.Domestic() {
		tx.Creditor.Country = t.Country
	}
}

func account(t refund.AccountType, number string) pain001.Account {
	if t == refund.IBAN {
		return pain001.Account{IBAN: number}
	}
	return pain001.Account{Other: number, Scheme: "BBAN"}
}

// maxListed is the most lines of problems File writes; the rest are
// counted.
const maxListed = 10_000

// File validates the batch file at path and writes its pain.001 to
// out. On invalid input it writes the problems to diag, one per line, and
// nothing to out, and returns an error wrapping ErrInvalidBatch. The batch
// is checked whole before the first byte goes to out, so out never
// receives a document of an invalid batch. Warnings go to diag too,
// identical ones once (see erp.Summarise); beyond maxListed lines the
// problems are counted, not listed.
func File(c *config.Config, path string, now time.Time, out, diag io.Writer) error {
	open := func() (io.ReadCloser, error) { return os.Open(path) }
	sum := erp.NewSummariser(maxListed)
	p, err := plan(c, path, open, now, nil, Options{Report: sum.Add, noHash: true})
	if err != nil {
		return err
	}
	defer p.Close()
	for q := range sum.Lines() {
		fmt.Fprintln(diag, q.String())
	}
	if n := sum.Unlisted(); n > 0 {
		fmt.Fprintf(diag, "%s: %d more problem(s) not listed (at most %d lines are)\n", path, n, maxListed)
	}
	if !p.Valid() {
		fmt.Fprintf(diag, "%s: %d problem(s); nothing rendered\n", path, p.Errors())
		return fmt.Errorf("render %s: %w", path, ErrInvalidBatch)
	}
	if n := p.Invalid(); n > 0 {
		fmt.Fprintf(diag, "%s: %d invalid refund(s) left out, %d rendered (batches.on_invalid: send-valid)\n", path, n, p.NbOfTxs)
	}
	return p.Render(out)
}

// unknownFormat returns the problem of a batch file whose name is neither
// .csv nor .json.
func unknownFormat(name string) (erp.Problem, bool) {
	ext := strings.ToLower(filepath.Ext(name))
	if ext == ".csv" || ext == ".json" {
		return erp.Problem{}, false
	}
	return erp.Problem{Pos: erp.Pos{File: name}, Msg: fmt.Sprintf("unknown format %q: a batch file is .csv or .json", ext)}, true
}
