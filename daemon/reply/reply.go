package reply

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"refundd/daemon/erp"
	"refundd/daemon/failpoint"
	"refundd/daemon/refund"
	"refundd/formats"
	"refundd/formats/camt054"
	"refundd/formats/pain002"
)

// ErrBadReply marks a reply file that refundd refuses as a whole: not a
// pain.002, camt.054 or camt.053, or malformed, hostile (a DOCTYPE, too
// large, too deep), truncated, or invalid. Processing it again gives the
// same error; the file belongs with the failed ones, not in a retry. The
// error wraps the reader's, so errors.Is also sees formats.ErrTruncated
// and the other classes of package formats.
var ErrBadReply = errors.New("reply file refused")

// TooLarge returns the error of the reply file name of size bytes, larger
// than limit, the largest reply file refundd reads
// (limits.max_reply_size). It wraps formats.ErrTooLarge.
func TooLarge(name string, size, limit int64) error {
	return fmt.Errorf("%w: %s has %d bytes (%s), larger than the limit of %d bytes (%s) set by limits.max_reply_size; raise it to take the file",
		formats.ErrTooLarge, name, size, mib(size), limit, mib(limit))
}

// MaxBytes returns the size limit of o: o.MaxBytes, or
// formats.DefaultMaxBytes when it is zero.
func MaxBytes(o formats.Options) int64 {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return formats.DefaultMaxBytes
}

// mib writes n bytes in MiB for a person, to a tenth, e.g. "64 MiB",
// "70.5 MiB".
func mib(n int64) string {
	return strings.TrimSuffix(strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64), ".0") + " MiB"
}

// ErrNoLedger marks a camt that cannot be posted because Deps.Ledger names
// no receivables or charges account: a fault of the configuration, not of
// the file (refundd does not start without them).
var ErrNoLedger = errors.New("no ledger accounts")

// SentRefunds finds the refunds refundd sent: by their references, to match
// bank entries (refund.Lookup), and by message, for status reports.
type SentRefunds interface {
	refund.Lookup
	MessageRefunds
}

// SeenSet says whether a booking, or an exception line, was applied before
// under its key: the keys that Result.Keys listed for earlier files. An
// error is a failure of the store.
type SeenSet interface {
	Seen(k refund.Key) (bool, error)
}

// Deps is what Process needs besides the file.
type Deps struct {
	// Refunds finds the refunds refundd sent, with their status now.
	Refunds SentRefunds
	// Seen holds the keys of the bookings and exception lines applied
	// before.
	Seen SeenSet
	// Ledger names the receivables and charges accounts
	// (Config.LedgerAccounts).
	Ledger refund.Ledger
	// Out writes the files for the ERP into its import folder.
	Out *erp.Writer
	// Now is the time of the status changes; nil means time.Now.
	Now func() time.Time
	// Options bounds what is read from the untrusted file; zero fields
	// mean the defaults of package formats. A file larger than
	// Options.MaxBytes is refused before it is read (TooLarge).
	Options formats.Options
}

// Result is what Process did with one reply file. Every entry,
// transaction and status line is accounted for in Counts.
type Result struct {
	File    string          // the reply file
	Message formats.Message // its type and version
	MsgID   string          // its GrpHdr/MsgId
	// OrgnlMsgID and GroupStatus are those of a pain.002: the pain.001 it
	// answers and the status of that message as a whole ("" when the
	// report gives none; ACTC is the receipt).
	OrgnlMsgID  string
	GroupStatus string
	// DuplicateRefusal is set for a pain.002 that refuses a file as a
	// duplicate of a message the bank has (see DuplicateRefusal).
	DuplicateRefusal bool
	// CopyDuplicate is the CpyDplctInd of a camt report that has one
	// (DUPL: the bank sent the message before; COPY, CODU), "" when none.
	// Such a file is processed like any other: what was applied before is
	// a duplicate, the rest is applied once.
	CopyDuplicate string
	Counts        Counts
	// Files are the names of the files written into the import folder.
	Files Files
	// Statuses are the status changes written to the status file, for the
	// state store to record.
	Statuses []erp.StatusRow
	// ExceptionReasons counts the lines written to the exceptions file
	// by their reason.
	ExceptionReasons map[string]int
	// Matched gives the kind and the refund of each booking posted
	// (payment, return, charges) by its key, for the state store to
	// record with the key: a refund's bookings are then found by its
	// EndToEndId. Exception lines are not in it.
	Matched map[refund.Key]Match
	// Keys are the bookings and exception lines written, to be recorded
	// as seen (SeenSet) once the files are durable, so that reading the
	// file again, or a copy of it, applies nothing twice.
	Keys []refund.Key
}

// Match is what a booking posted was: its kind and the refund.
type Match struct {
	Kind       refund.Kind
	EndToEndID string
}

// Counts counts what a reply file held and what became of it.
type Counts struct {
	Entries      int // camt entries read
	Transactions int // camt transaction details read
	Payments     int // refunds paid and posted
	Returns      int // refunds returned and posted
	Charges      int // separate postings of an entry's own charges
	Exceptions   int // lines in the exceptions file
	NotBooked    int // outcomes of pending and information-only entries: nothing written
	Duplicates   int // bookings and exception lines applied before: nothing written
	Changes      int // pain.002: refunds whose status changed
	Unchanged    int // pain.002: refunds whose status stays as it is
}

// Files are the names of the files a reply produced in the import folder,
// "" for a kind not written.
type Files struct {
	Status              string
	Postings            []string // one CSV file, or one JSON file per journal transaction
	Matches, Exceptions string
}

// Names lists the files written, in the order they were written.
func (f Files) Names() []string {
	var s []string
	for _, n := range append(append([]string{f.Status}, f.Postings...), f.Matches, f.Exceptions) {
		if n != "" {
			s = append(s, n)
		}
	}
	return s
}

// String summarises r in one line for the log.
func (r *Result) String() string {
	c := &r.Counts
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s %s", filepath.Base(r.File), r.Message, r.MsgID)
	if r.CopyDuplicate != "" {
		fmt.Fprintf(&b, " (CpyDplctInd %s)", r.CopyDuplicate)
	}
	if r.Message.Type == formats.Pain002 {
		fmt.Fprintf(&b, ", original MsgId %s: %d changed, %d unchanged", r.OrgnlMsgID, c.Changes, c.Unchanged)
	} else {
		fmt.Fprintf(&b, ": %d entries, %d transactions: %d paid, %d returned, %d charges, %d not booked",
			c.Entries, c.Transactions, c.Payments, c.Returns, c.Charges, c.NotBooked)
	}
	fmt.Fprintf(&b, ", %d exceptions, %d duplicates", c.Exceptions, c.Duplicates)
	return b.String()
}

// Process reads the reply file at path (a pain.002, camt.054 or
// camt.053, told by its root namespace), applies it to the refunds refundd
// sent, and writes what it changes for the ERP into the import folder
// (d.Out): a status file, and for a camt postings, matches and exceptions
// files. It records nothing: the caller records Result.Statuses and
// Result.Keys in the state store once it has them.
//
// A pain.002 is read whole and gives the status changes of
// ReportStatuses. A camt is read entry by entry; each entry is mapped
// (BankEntryOf), matched (refund.Match) and applied (refund.Apply) against
// d.Seen, the keys applied before in the file, and the refunds as this file
// leaves them: a return after the booking of the same refund in one file
// finds the refund booked. Nothing is written unless the whole file was
// read to its end without error: a truncated, hostile or invalid file is an
// error wrapping ErrBadReply, and no file is written.
//
// Errors of d.Refunds, d.Seen or d.Out are returned as they are (try
// again later). When a write fails after others succeeded, Result.Files
// names those written; their vouchers carry ids that are the same every
// time (refund.VoucherID), so that a second import of the same postings
// can be recognised when the file is processed again.
func Process(path string, d Deps) (Result, error) {
	res := Result{File: path}
	f, err := os.Open(path)
	if err != nil {
		return res, fmt.Errorf("process reply %s: %w", path, err)
	}
	defer f.Close()
	m, err := formats.Detect(f)
	if err != nil {
		return res, fmt.Errorf("process reply %s: %w: %w", path, ErrBadReply, err)
	}
	res.Message = m
	fi, err := f.Stat()
	if err != nil {
		return res, fmt.Errorf("process reply %s: %w", path, err)
	}
	if limit := MaxBytes(d.Options); fi.Size() > limit {
		return res, fmt.Errorf("process reply %s: %w: %w", path, ErrBadReply, TooLarge(filepath.Base(path), fi.Size(), limit))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return res, fmt.Errorf("process reply %s: %w", path, err)
	}
	p := &replyRun{path: path, file: filepath.Base(path), d: &d, res: &res}
	if d.Now == nil {
		p.now = time.Now()
	} else {
		p.now = d.Now()
	}
	switch m.Type {
	case formats.Pain002:
		err = p.pain002(f)
	case formats.Camt054, formats.Camt053:
		err = p.camt(f)
	default:
		err = fmt.Errorf("%w: a %s is not a reply from the bank", ErrBadReply, m)
	}
	if err != nil {
		// Nothing of a failed run counts but the files it wrote.
		return Result{File: path, Message: m, Files: res.Files}, fmt.Errorf("process reply %s: %w", path, err)
	}
	return res, nil
}

// replyRun is one run of Process.
type replyRun struct {
	path, file string
	d          *Deps
	res        *Result
	now        time.Time
}

// pain002 applies a status report.
func (p *replyRun) pain002(r io.Reader) error {
	rep, err := pain002.Decode(r, p.d.Options)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadReply, err)
	}
	res := p.res
	res.MsgID, res.OrgnlMsgID, res.GroupStatus = rep.MsgID, rep.Group.OrgnlMsgID, string(rep.Group.Status)
	res.DuplicateRefusal = DuplicateRefusal(rep)
	sent, err := p.d.Refunds.ByMsgID(rep.Group.OrgnlMsgID)
	if err != nil {
		return fmt.Errorf("look up message %s: %w", rep.Group.OrgnlMsgID, err)
	}
	u := ReportStatuses(p.file, rep, sent, p.now)
	res.Counts.Changes, res.Counts.Unchanged = len(u.Changes), u.Unchanged
	var rows []erp.ExceptionRow
	for i, k := range u.Keys {
		dup, err := p.d.Seen.Seen(k)
		if err != nil {
			return fmt.Errorf("seen %s: %w", k, err)
		}
		if dup {
			res.Counts.Duplicates++
			continue
		}
		rows = append(rows, u.Exceptions[i])
		res.Keys = append(res.Keys, k)
	}
	res.Counts.Exceptions = len(rows)
	ex, err := p.d.Out.StreamExceptions()
	if err != nil {
		return err
	}
	defer ex.Abort()
	for i := range rows {
		p.countException(&rows[i])
		if err := ex.Add(&rows[i]); err != nil {
			return err
		}
	}
	return p.write(u.Changes, nil, nil, ex)
}

// countException counts an exceptions-file line by its reason.
func (p *replyRun) countException(r *erp.ExceptionRow) {
	if p.res.ExceptionReasons == nil {
		p.res.ExceptionReasons = map[string]int{}
	}
	p.res.ExceptionReasons[r.Reason]++
}

// camt applies a notification or statement, entry by entry.
func (p *replyRun) camt(r io.Reader) error {
	d := p.d
	if d.Ledger.Receivables == "" || d.Ledger.Charges == "" {
		return fmt.Errorf("%w: ledger.receivables_account and ledger.charges_account are needed to post bookings", ErrNoLedger)
	}
	rd, err := camt054.NewReader(r, d.Options)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadReply, err)
	}
	res := p.res
	res.MsgID = rd.Header().MsgID
	look := &fileLookup{SentRefunds: d.Refunds, status: map[string]refund.Status{}}
	applied := map[refund.Key]bool{}
	seen := func(k refund.Key) (bool, error) {
		if applied[k] {
			return true, nil
		}
		return d.Seen.Seen(k)
	}
	// What is kept of an entry until the end of the file is what is
	// written for the ERP: the postings and the keys. The exceptions go
	// to their file as they come (a statement may hold 100,000 entries
	// that are not refundd's); not-booked outcomes and duplicates are
	// counted only.
	var all refund.Applied
	ex, err := d.Out.StreamExceptions()
	if err != nil {
		return err
	}
	defer ex.Abort()
	var rep *camt054.Report
	n := 0
	for {
		e, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadReply, err)
		}
		if e.Report != rep {
			rep, n = e.Report, 0
			if rep.CopyDuplicate != "" && res.CopyDuplicate == "" {
				res.CopyDuplicate = rep.CopyDuplicate
			}
		}
		n++
		res.Counts.Entries++
		res.Counts.Transactions += len(e.Transactions())
		pos := fmt.Sprintf("%s[Id='%s']/Ntry[%d]", ReportTag(res.Message), rep.ID, n)
		outs, err := p.outcomes(e, pos, look)
		if err != nil {
			return err
		}
		a, err := refund.Apply(outs, seen, d.Ledger)
		if err != nil {
			return err
		}
		for _, k := range a.Keys {
			applied[k] = true
		}
		for _, o := range a.Posted {
			if res.Matched == nil {
				res.Matched = map[refund.Key]Match{}
			}
			res.Matched[o.Key] = Match{Kind: o.Kind, EndToEndID: o.Refund.EndToEndID}
			switch o.Kind {
			case refund.KindPayment:
				look.status[o.Refund.EndToEndID] = refund.StatusBooked
			case refund.KindReturn:
				look.status[o.Refund.EndToEndID] = refund.StatusReturned
			}
		}
		all.Posted = append(all.Posted, a.Posted...)
		all.Vouchers = append(all.Vouchers, a.Vouchers...)
		for i := range a.Exceptions {
			row := erp.ExceptionRowOf(p.file, &a.Exceptions[i])
			p.countException(&row)
			if err := ex.Add(&row); err != nil {
				return err
			}
		}
		res.Counts.NotBooked += len(a.NotBooked)
		res.Counts.Duplicates += len(a.Duplicates)
		all.Keys = append(all.Keys, a.Keys...)
	}

	var statuses []erp.StatusRow
	for i := range all.Posted {
		o := &all.Posted[i]
		switch o.Kind {
		case refund.KindPayment:
			res.Counts.Payments++
		case refund.KindReturn:
			res.Counts.Returns++
		case refund.KindCharges:
			res.Counts.Charges++
		}
		if row, ok := erp.StatusRowOf(o, p.now); ok {
			statuses = append(statuses, row)
		}
	}
	var matches []erp.MatchRow
	for _, o := range all.Matches() {
		matches = append(matches, erp.MatchRowOf(&o))
	}
	res.Counts.Exceptions = ex.Len()
	res.Keys = all.Keys
	return p.write(statuses, all.Vouchers, matches, ex)
}

// outcomes maps and matches one entry; an entry that cannot be mapped is
// one exception.
func (p *replyRun) outcomes(e *camt054.Entry, pos string, look refund.Lookup) ([]refund.Outcome, error) {
	b, err := mapEntry(e, pos)
	if err != nil {
		o := refund.Outcome{
			Kind:   refund.KindException,
			Reason: refund.ReasonInvalid,
			Detail: err.Error(),
			Key:    b.Key(-1),
			Entry:  b,
			Index:  -1,
			Tx:     refund.BankTx{Amount: b.Amount},
			Booked: b.Amount,
		}
		return []refund.Outcome{o}, nil
	}
	outs, err := refund.Match(b, look)
	if err != nil {
		return nil, err
	}
	return outs, nil
}

// ReportTag is the element of one report of a camt: Ntfctn or Stmt.
func ReportTag(m formats.Message) string {
	if m.Type == formats.Camt053 {
		return "Stmt"
	}
	return "Ntfctn"
}

// write writes the files for the ERP, in the order status, postings,
// matches, exceptions; a kind without lines is not written.
func (p *replyRun) write(statuses []erp.StatusRow, vouchers []refund.Voucher, matches []erp.MatchRow, exceptions *erp.ExceptionStream) error {
	res, out := p.res, p.d.Out
	failpoint.Hit(failpoint.ReplyParsed)
	var err error
	if res.Files.Status, err = out.WriteStatus(statuses); err != nil {
		return err
	}
	res.Statuses = statuses
	failpoint.Hit(failpoint.AfterLedgerWrite)
	if res.Files.Postings, err = out.WritePostings(vouchers); err != nil {
		return err
	}
	failpoint.Hit(failpoint.AfterLedgerWrite)
	if res.Files.Matches, err = out.WriteMatches(matches); err != nil {
		return err
	}
	failpoint.Hit(failpoint.AfterLedgerWrite)
	if res.Files.Exceptions, err = exceptions.Close(); err != nil {
		return err
	}
	failpoint.Hit(failpoint.AfterLedgerWrite)
	return nil
}

// fileLookup is the Lookup of the refunds as the file being processed
// leaves them: the status of a refund booked or returned earlier in the
// file replaces the one in the store.
type fileLookup struct {
	SentRefunds
	status map[string]refund.Status // by EndToEndId
}

// fix returns refunds with the file's statuses applied, in a new slice.
func (l *fileLookup) fix(ss []refund.Sent) []refund.Sent {
	ss = slices.Clone(ss)
	for i := range ss {
		if st, ok := l.status[ss[i].EndToEndID]; ok {
			ss[i].Status = st
		}
	}
	return ss
}

// ByEndToEndID implements refund.Lookup.
func (l *fileLookup) ByEndToEndID(id string) (refund.Sent, bool, error) {
	s, ok, err := l.SentRefunds.ByEndToEndID(id)
	if ok {
		s = l.fix([]refund.Sent{s})[0]
	}
	return s, ok, err
}

// ByInstrID implements refund.Lookup.
func (l *fileLookup) ByInstrID(id string) (refund.Sent, bool, error) {
	s, ok, err := l.SentRefunds.ByInstrID(id)
	if ok {
		s = l.fix([]refund.Sent{s})[0]
	}
	return s, ok, err
}

// ByBatch implements refund.Lookup.
func (l *fileLookup) ByBatch(msgID, pmtInfID string) ([]refund.Sent, error) {
	ss, err := l.SentRefunds.ByBatch(msgID, pmtInfID)
	return l.fix(ss), err
}

// ByAmountDate implements refund.Lookup.
func (l *fileLookup) ByAmountDate(a refund.Amount, d refund.Date, account string) ([]refund.Sent, error) {
	ss, err := l.SentRefunds.ByAmountDate(a, d, account)
	return l.fix(ss), err
}
