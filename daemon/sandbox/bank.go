package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"refundd/daemon/refund"
	"refundd/formats"
	"refundd/formats/camt054"
	"refundd/formats/pain001"
	"refundd/formats/pain002"
)

// The documented test accounts (Norwegian BBANs with valid check digits).
// A refund to any other valid account is accepted and booked.
const (
	// AccountClosed is rejected in the status report with AC04 (closed
	// account).
	AccountClosed = "97100000044"
	// AccountReturned is accepted and booked, then returned by the payee's
	// bank: a camt.054 credit with RtrInf AC04.
	AccountReturned = "97100000052"
	// AccountPending is reported pending (PDNG) first and accepted in a
	// later status report, then booked.
	AccountPending = "97100000060"
)

// DefaultDelay is the time between the bank's steps: pick-up to receipt,
// receipt to status, status to booking, booking to return.
const DefaultDelay = 3 * time.Second

// DefaultTakeAfter is the time a complete upload stays in the upload
// folder before the bank takes it away, when BankConfig.TakenDir is set
// and BankConfig.TakeAfter is 0.
const DefaultTakeAfter = 500 * time.Millisecond

// TakeAtOnce, as BankConfig.TakeAfter, makes the bank take a complete
// upload away at the first Step that sees it.
const TakeAtOnce time.Duration = -1

// BankConfig configures a Bank.
type BankConfig struct {
	// UploadDir is the local folder the payment files are uploaded into.
	UploadDir string
	// DownloadDir is the local folder the replies are written into.
	DownloadDir string
	// TakenDir, when set, is a local folder outside UploadDir into which
	// the bank moves every complete upload it takes, as AutoPay does; its
	// files are the bank's memory of what it received (see Remember).
	// When "", uploads stay in UploadDir.
	TakenDir string
	// TakeAfter is the time between the bank first seeing a complete
	// upload and taking it away into TakenDir: 0 means DefaultTakeAfter,
	// a negative value (TakeAtOnce) the first Step that sees it.
	TakeAfter time.Duration
	// Delay is the time between two steps of the bank; 0 means
	// DefaultDelay.
	Delay time.Duration
	// Poll is how often UploadDir is looked at; 0 means 200ms.
	Poll time.Duration
	// Now is the bank's clock for the dates in its replies; nil means
	// time.Now.
	Now func() time.Time
	// Logger receives a line for every file taken and reply written.
	Logger zerolog.Logger
	// StateFile, when set, lists the uploads whose replies have all been
	// written, one name a line (the name in TakenDir when it is set), so
	// that a bank started again answers those not yet answered and no
	// others (see Remember).
	StateFile string
}

// Delivery is one file the bank took.
type Delivery struct {
	// File is the name the bank keeps the file under: its name in
	// TakenDir, or in UploadDir when uploads stay there.
	File string
	// Name is the name the file was uploaded under.
	Name string
	// MsgID is the file's GrpHdr/MsgId, "" when none could be read.
	MsgID string
	// EndToEndIDs are the EndToEndIds of its transactions, in file order,
	// as far as the file could be read.
	EndToEndIDs []string
	// Code is the reason code the bank rejected the whole file with (FF01
	// when it is not a valid pain.001, DU01, AM10, AM18), "" when it took
	// the file in; Detail explains it.
	Code, Detail string
}

// Key returns what Bank.Deliveries counts d under: its MsgId, or its
// upload name when it has none.
func (d Delivery) Key() string {
	if d.MsgID == "" {
		return d.Name
	}
	return d.MsgID
}

// Bank is a simulated bank behind AutoPay: it takes each pain.001 uploaded
// into its upload folder, checks it, and answers in its download folder
// with a pain.002 receipt, a pain.002 status and camt.054 bookings, and
// returns for AccountReturned. Its state is kept in memory, and in
// TakenDir and StateFile when they are set.
//
// With TakenDir set it behaves as AutoPay does towards the uploader:
//
//   - it takes every complete file away from the upload folder within
//     moments (TakeAfter), so that an uploader that looks for its file
//     after a restart does not find it;
//   - it ignores temporary names: hidden files (".name.part") and names
//     ending in .part or .tmp are never taken;
//   - it answers a file whose MsgId it received before, in this run or an
//     earlier one, with a pain.002 RJCT DU01, and a transaction whose
//     EndToEndId it received before with RJCT DU05;
//   - its replies come later than the upload, a Delay apart, and in their
//     own order, not in the order of the uploads.
//
// Without TakenDir, uploads stay in the upload folder, and a file taken
// away by someone else and uploaded again under the same name is taken
// again.
type Bank struct {
	cfg BankConfig
	log zerolog.Logger

	mu         sync.Mutex
	remembered bool
	seen       map[string]bool      // upload file names taken, when uploads stay
	waiting    map[string]time.Time // complete uploads not yet taken away, by when first seen
	takenSeq   int                  // the number of the last file moved into TakenDir
	msgIDs     map[string]bool
	e2eIDs     map[string]bool
	delivered  []Delivery
	queue      []reply
	pending    map[string]int // replies not yet written, by upload
	seq        int
	files      int
	answered   int
}

// reply is a file the bank writes when its time comes.
type reply struct {
	upload string // the upload it answers
	at     time.Time
	name   string
	what   string
	render func(now time.Time) ([]byte, error)
}

// NewBank returns a Bank; it does nothing until Run or Step.
func NewBank(cfg BankConfig) *Bank {
	if cfg.Delay <= 0 {
		cfg.Delay = DefaultDelay
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 200 * time.Millisecond
	}
	if cfg.TakeAfter == 0 {
		cfg.TakeAfter = DefaultTakeAfter
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Bank{cfg: cfg, log: cfg.Logger.With().Str("component", "bank").Logger(),
		seen: map[string]bool{}, waiting: map[string]time.Time{}, pending: map[string]int{},
		msgIDs: map[string]bool{}, e2eIDs: map[string]bool{}}
}

// Run takes uploads and writes replies until ctx ends; it returns nil
// then, or the error that stopped it.
func (b *Bank) Run(ctx context.Context) error {
	if err := b.Remember(); err != nil {
		return err
	}
	t := time.NewTicker(b.cfg.Poll)
	defer t.Stop()
	for {
		if err := b.Step(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Remember restores what the bank of an earlier run received. Run calls
// it first, Step when it was not called; a second call does nothing.
//
// With TakenDir set, it goes through every file in TakenDir in the order
// they were taken and makes the same checks again, so that every MsgId
// and EndToEndId received before is known (a second delivery is answered
// with DU01 or DU05) and Deliveries counts every file. A file that
// StateFile, when set, does not list as answered is answered again; the
// others are not. A file in UploadDir that StateFile lists as answered
// (by a bank that left uploads where they were) is moved into TakenDir as
// taken and answered.
//
// Without TakenDir, it marks the files in the upload folder that the
// state file lists as answered as taken, and their MsgIds and EndToEndIds
// as received. The others are taken as new uploads.
func (b *Bank) Remember() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.remember()
}

// remember is Remember with b.mu held.
func (b *Bank) remember() error {
	if b.remembered {
		return nil
	}
	done := map[string]bool{}
	if b.cfg.StateFile != "" {
		data, err := os.ReadFile(b.cfg.StateFile)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("bank: %w", err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			done[l] = l != ""
		}
	}
	var err error
	if b.cfg.TakenDir != "" {
		err = b.rememberTaken(done)
	} else {
		err = b.rememberUploads(done)
	}
	if err != nil {
		return err
	}
	b.remembered = true
	return nil
}

// rememberUploads is remember when uploads stay in UploadDir.
func (b *Bank) rememberUploads(done map[string]bool) error {
	es, err := os.ReadDir(b.cfg.UploadDir)
	if err != nil {
		return fmt.Errorf("bank: read %s: %w", b.cfg.UploadDir, err)
	}
	for _, e := range es {
		name := e.Name()
		if !isUpload(e) || b.seen[name] || !done[name] {
			continue
		}
		b.seen[name] = true
		b.files++
		f, err := os.Open(filepath.Join(b.cfg.UploadDir, name))
		if err != nil {
			return fmt.Errorf("bank: read %s: %w", name, err)
		}
		pain001.Decode(f, pain001.Handler{ // a file that cannot be read was rejected
			Header:      func(_ int, h *pain001.GroupHeader) error { b.msgIDs[h.MsgID] = true; return nil },
			Transaction: func(_ int, t *pain001.Transaction) error { b.e2eIDs[t.EndToEndID] = true; return nil },
		})
		f.Close()
	}
	return nil
}

// rememberTaken is remember when uploads are taken away into TakenDir.
func (b *Bank) rememberTaken(done map[string]bool) error {
	if err := os.MkdirAll(b.cfg.TakenDir, 0o755); err != nil {
		return fmt.Errorf("bank: %w", err)
	}
	es, err := os.ReadDir(b.cfg.TakenDir)
	if err != nil {
		return fmt.Errorf("bank: read %s: %w", b.cfg.TakenDir, err)
	}
	var taken []string
	for _, e := range es {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			taken = append(taken, e.Name())
			if n, _, ok := takenNumber(e.Name()); ok {
				b.takenSeq = max(b.takenSeq, n)
			}
		}
	}
	// Answered by a bank that left its uploads in the upload folder.
	ups, err := os.ReadDir(b.cfg.UploadDir)
	if err != nil {
		return fmt.Errorf("bank: read %s: %w", b.cfg.UploadDir, err)
	}
	for _, e := range ups {
		if !isUpload(e) || !done[e.Name()] {
			continue
		}
		name, ok, err := b.moveOut(e.Name())
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := b.answeredAll(name); err != nil {
			return err
		}
		done[name] = true
		taken = append(taken, name)
	}
	slices.SortFunc(taken, compareTaken)
	for _, name := range taken {
		data, err := os.ReadFile(filepath.Join(b.cfg.TakenDir, name))
		if err != nil {
			return fmt.Errorf("bank: read %s: %w", name, err)
		}
		_, orig, _ := takenNumber(name)
		b.files++
		b.take(name, orig, data, b.cfg.StateFile != "" && !done[name])
	}
	return nil
}

// takenNumber splits the name of a file in TakenDir into its number and
// the name it was uploaded under; ok is false when it has no number.
func takenNumber(name string) (n int, orig string, ok bool) {
	num, rest, found := strings.Cut(name, "-")
	n, err := strconv.Atoi(num)
	if !found || err != nil || n < 0 || rest == "" {
		return 0, name, false
	}
	return n, rest, true
}

// compareTaken orders the files of TakenDir as they were taken: by
// number, the files without one last, by name.
func compareTaken(x, y string) int {
	nx, _, okx := takenNumber(x)
	ny, _, oky := takenNumber(y)
	switch {
	case okx && oky && nx != ny:
		return nx - ny
	case okx != oky:
		if okx {
			return -1
		}
		return 1
	}
	return strings.Compare(x, y)
}

// isUpload reports whether e is a complete upload: a regular file whose
// name is not hidden and not a temporary name (.part, .tmp).
func isUpload(e fs.DirEntry) bool {
	name := e.Name()
	return e.Type().IsRegular() && !strings.HasPrefix(name, ".") &&
		!strings.HasSuffix(name, ".part") && !strings.HasSuffix(name, ".tmp")
}

// Step takes the new uploads and writes the replies that are due.
func (b *Bank) Step() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.remember(); err != nil {
		return err
	}
	es, err := os.ReadDir(b.cfg.UploadDir)
	if err != nil {
		return fmt.Errorf("bank: read %s: %w", b.cfg.UploadDir, err)
	}
	if b.cfg.TakenDir != "" {
		err = b.takeAway(es)
	} else {
		err = b.takeInPlace(es)
	}
	if err != nil {
		return err
	}
	now := time.Now()
	slices.SortStableFunc(b.queue, func(x, y reply) int { return x.at.Compare(y.at) })
	for len(b.queue) > 0 && !b.queue[0].at.After(now) {
		r := b.queue[0]
		b.queue = b.queue[1:]
		data, err := r.render(b.cfg.Now())
		if err != nil {
			return fmt.Errorf("bank: write %s: %w", r.name, err)
		}
		if err := writeFile(b.cfg.DownloadDir, r.name, data); err != nil {
			return err
		}
		b.answered++
		b.log.Info().Str("file", r.name).Msg(r.what)
		if b.pending[r.upload]--; b.pending[r.upload] == 0 {
			delete(b.pending, r.upload)
			if err := b.answeredAll(r.upload); err != nil {
				return err
			}
		}
	}
	return nil
}

// takeInPlace takes the new uploads among es, the upload folder's
// entries, and leaves them where they are.
func (b *Bank) takeInPlace(es []fs.DirEntry) error {
	// A file taken away (picked up by AutoPay) and uploaded again under
	// the same name is a new delivery; the MsgId check answers it.
	present := map[string]bool{}
	for _, e := range es {
		present[e.Name()] = true
	}
	for name := range b.seen {
		if !present[name] {
			delete(b.seen, name)
		}
	}
	for _, e := range es {
		name := e.Name()
		if !isUpload(e) || b.seen[name] {
			continue
		}
		b.seen[name] = true
		data, err := os.ReadFile(filepath.Join(b.cfg.UploadDir, name))
		if err != nil {
			return fmt.Errorf("bank: read %s: %w", name, err)
		}
		b.files++
		b.take(name, name, data, true)
	}
	return nil
}

// takeAway moves the uploads among es, the upload folder's entries, that
// have been there for TakeAfter into TakenDir, and takes each.
func (b *Bank) takeAway(es []fs.DirEntry) error {
	now := time.Now()
	present := map[string]bool{}
	for _, e := range es {
		name := e.Name()
		if !isUpload(e) {
			continue
		}
		present[name] = true
		first, ok := b.waiting[name]
		if !ok {
			first = now
			b.waiting[name] = now
		}
		if now.Sub(first) < b.cfg.TakeAfter {
			continue
		}
		delete(b.waiting, name)
		delete(present, name)
		taken, ok, err := b.moveOut(name)
		if err != nil {
			return err
		}
		if !ok {
			continue // gone before the bank took it
		}
		// Read from where it is now: what the bank has is what it moved.
		data, err := os.ReadFile(filepath.Join(b.cfg.TakenDir, taken))
		if err != nil {
			return fmt.Errorf("bank: read %s: %w", taken, err)
		}
		b.files++
		b.log.Info().Str("file", name).Str("taken_as", taken).Msg("payment file taken away from the upload folder")
		b.take(taken, name, data, true)
	}
	for name := range b.waiting {
		if !present[name] {
			delete(b.waiting, name)
		}
	}
	return nil
}

// moveOut moves the upload name out of UploadDir into TakenDir under the
// next number, by a rename or, across file systems, by a copy that is
// synced before the upload is removed. It returns the name in TakenDir,
// and ok false when the upload was gone.
func (b *Bank) moveOut(name string) (taken string, ok bool, err error) {
	if err := os.MkdirAll(b.cfg.TakenDir, 0o755); err != nil {
		return "", false, fmt.Errorf("bank: take %s: %w", name, err)
	}
	taken = fmt.Sprintf("%06d-%s", b.takenSeq+1, name)
	src, dst := filepath.Join(b.cfg.UploadDir, name), filepath.Join(b.cfg.TakenDir, taken)
	err = os.Rename(src, dst)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		ok, err = copyOut(src, dst)
		if err != nil || !ok {
			return "", false, err
		}
	}
	b.takenSeq++
	return taken, true, nil
}

// copyOut copies src to dst under a hidden name, syncs it, renames it to
// dst, and removes src; ok is false when src was gone.
func copyOut(src, dst string) (ok bool, err error) {
	in, err := os.Open(src)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("bank: take %s: %w", filepath.Base(src), err)
	}
	defer in.Close()
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp")
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return false, fmt.Errorf("bank: take %s: %w", filepath.Base(src), err)
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return false, fmt.Errorf("bank: take %s: %w", filepath.Base(src), err)
	}
	if err := os.Remove(src); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("bank: take %s: %w", filepath.Base(src), err)
	}
	return true, nil
}

// Idle reports whether the bank has taken at least one file (in this run
// or, see Remember, an earlier one) and has nothing left to do: no reply
// to write and no upload it has seen waiting to be taken away.
func (b *Bank) Idle() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.files > 0 && len(b.queue) == 0 && len(b.waiting) == 0
}

// Deliveries returns, for each MsgId, the number of files carrying it
// that the bank took: with TakenDir, every file in it (see Remember) and
// those taken since; without, those taken in this run. A file without a
// readable MsgId is counted under its upload name.
func (b *Bank) Deliveries() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := map[string]int{}
	for _, d := range b.delivered {
		n[d.Key()]++
	}
	return n
}

// Taken returns the files that Deliveries counts, in the order the bank
// took them.
func (b *Bank) Taken() []Delivery {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Delivery, len(b.delivered))
	for i, d := range b.delivered {
		d.EndToEndIDs = slices.Clone(d.EndToEndIDs)
		out[i] = d
	}
	return out
}

// schedule queues r as a reply to the upload named upload.
func (b *Bank) schedule(upload string, r reply) {
	r.upload = upload
	b.pending[upload]++
	b.queue = append(b.queue, r)
}

// answeredAll records in the state file that every reply to upload has
// been written.
func (b *Bank) answeredAll(upload string) error {
	if b.cfg.StateFile == "" {
		return nil
	}
	f, err := os.OpenFile(b.cfg.StateFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("bank: record %s answered: %w", upload, err)
	}
	_, err = f.WriteString(upload + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("bank: record %s answered: %w", upload, err)
	}
	return nil
}

// Answered returns how many reply files the bank has written.
func (b *Bank) Answered() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.answered
}

// writeFile writes data durably under a hidden name and renames it to
// name, so that a reader never sees a partial file.
func writeFile(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("bank: write %s: %w", name, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("bank: write %s: %w", name, err)
	}
	return nil
}

// payment is one PmtInf of an upload with its transactions.
type payment struct {
	info pain001.PaymentInfo
	txs  []*txState
}

// txState is one transaction and what the bank makes of it.
type txState struct {
	tx      pain001.Transaction
	pmt     *payment
	account string // the creditor account, electronic form
	reason  string // rejection code, "" when accepted
	detail  string
	pending bool
	ref     string // the bank's reference of the booking
}

// take checks one upload and records it as delivered; with answer, it
// also schedules its replies, recorded under key when written; without,
// it only learns the MsgId and EndToEndIds as it did when it answered
// them. name is the name the upload came under.
func (b *Bank) take(key, name string, data []byte, answer bool) {
	var hdr *pain001.GroupHeader
	var pmts []*payment
	dl := Delivery{File: key, Name: name}
	_, err := pain001.Decode(bytes.NewReader(data), pain001.Handler{
		Header: func(_ int, h *pain001.GroupHeader) error { hdr = h; return nil },
		PaymentInfo: func(_ int, p *pain001.PaymentInfo) error {
			pmts = append(pmts, &payment{info: *p})
			return nil
		},
		Transaction: func(_ int, t *pain001.Transaction) error {
			dl.EndToEndIDs = append(dl.EndToEndIDs, t.EndToEndID)
			if len(pmts) == 0 {
				return errors.New("transaction outside a payment block")
			}
			p := pmts[len(pmts)-1]
			p.txs = append(p.txs, &txState{tx: *t, pmt: p})
			return nil
		},
	})
	msgID := ""
	if hdr != nil {
		msgID = hdr.MsgID
	}
	dl.MsgID = msgID
	log := b.log.With().Str("file", name).Str("msg_id", msgID).Logger()
	if !answer {
		log = zerolog.Nop()
	}
	if err == nil && hdr == nil {
		err = errors.New("no group header")
	}
	start := time.Now()
	if err != nil {
		dl.Code, dl.Detail = "FF01", err.Error()
		b.delivered = append(b.delivered, dl)
		log.Warn().Err(err).Msg("payment file rejected: not a valid pain.001 (FF01)")
		if answer {
			b.groupReject(start, key, name, msgID, "FF01", err.Error())
		}
		return
	}
	if code, detail := b.checkGroup(hdr, pmts); code != "" {
		dl.Code, dl.Detail = code, detail
		b.delivered = append(b.delivered, dl)
		log.Warn().Str("reason", code).Msg("payment file rejected: " + detail)
		if answer {
			b.groupReject(start, key, name, msgID, code, detail)
		}
		return
	}
	b.delivered = append(b.delivered, dl)
	b.msgIDs[msgID] = true
	var all []*txState
	for _, p := range pmts {
		all = append(all, p.txs...)
	}
	for _, t := range all {
		b.checkTx(t)
		if t.reason == "" {
			t.ref = bankRef("P", msgID, t.tx.EndToEndID)
		}
	}
	if !answer {
		return
	}
	log.Info().Int("transactions", len(all)).Msg("payment file taken")

	d := b.cfg.Delay
	b.schedule(key, reply{at: start.Add(d), name: "pain002-" + msgID + "-1-receipt.xml",
		what: "receipt written (pain.002 ACTC)", render: func(now time.Time) ([]byte, error) {
			return b.report(now, hdr, pain002.AcceptedTechnical, nil)
		}})
	b.schedule(key, reply{at: start.Add(2 * d), name: "pain002-" + msgID + "-2-status.xml",
		what: "status written (pain.002)", render: func(now time.Time) ([]byte, error) {
			return b.statusReport(now, hdr, pmts)
		}})
	anyPending := slices.ContainsFunc(all, func(t *txState) bool { return t.pending && t.reason == "" })
	bookAt := start.Add(3 * d)
	if anyPending {
		b.schedule(key, reply{at: start.Add(3 * d), name: "pain002-" + msgID + "-3-accepted.xml",
			what: "pending refunds accepted (pain.002 ACCP)", render: func(now time.Time) ([]byte, error) {
				return b.acceptPending(now, hdr, pmts)
			}})
		bookAt = start.Add(4 * d)
	}
	if slices.ContainsFunc(all, func(t *txState) bool { return t.reason == "" }) {
		b.schedule(key, reply{at: bookAt, name: "camt054-" + msgID + "-booked.xml",
			what: "bookings written (camt.054 debit)", render: func(now time.Time) ([]byte, error) {
				return b.bookings(now, hdr, pmts)
			}})
	}
	var returned []*txState
	for _, t := range all {
		if t.reason == "" && t.account == AccountReturned {
			returned = append(returned, t)
		}
	}
	if len(returned) > 0 {
		b.schedule(key, reply{at: bookAt.Add(d), name: "camt054-" + msgID + "-returned.xml",
			what: "return written (camt.054 credit, AC04)", render: func(now time.Time) ([]byte, error) {
				return b.returns(now, hdr, returned)
			}})
	}
}

// checkGroup checks the message as a whole: a MsgId not seen before, and
// the declared counts and control sums. It returns a reason code and its
// explanation, or "" when the message passes.
func (b *Bank) checkGroup(h *pain001.GroupHeader, pmts []*payment) (string, string) {
	if b.msgIDs[h.MsgID] {
		return "DU01", fmt.Sprintf("MsgId %s was received before", h.MsgID)
	}
	n, sum := 0, int64(0)
	for _, p := range pmts {
		psum := int64(0)
		for _, t := range p.txs {
			psum += units(t.tx.Amount.Decimal)
		}
		if len(p.txs) != p.info.NbOfTxs {
			return "AM18", fmt.Sprintf("PmtInf %s declares %d transactions and has %d", p.info.PmtInfID, p.info.NbOfTxs, len(p.txs))
		}
		if psum != units(p.info.CtrlSum) {
			return "AM10", fmt.Sprintf("PmtInf %s declares control sum %s, its transactions add up to %s", p.info.PmtInfID, p.info.CtrlSum, decimal(psum))
		}
		n += len(p.txs)
		sum += psum
	}
	if n != h.NbOfTxs {
		return "AM18", fmt.Sprintf("the header declares %d transactions, the file has %d", h.NbOfTxs, n)
	}
	if sum != units(h.CtrlSum) {
		return "AM10", fmt.Sprintf("the header declares control sum %s, the transactions add up to %s", h.CtrlSum, decimal(sum))
	}
	return "", ""
}

// checkTx checks one transaction: its EndToEndId not seen before, the
// check digits of its account, and the test accounts.
func (b *Bank) checkTx(t *txState) {
	e2e := t.tx.EndToEndID
	a := t.tx.CreditorAccount
	var err error
	if a.IBAN != "" {
		t.account, err = refund.ParseIBAN(a.IBAN)
		if err == nil && strings.HasPrefix(t.account, "NO") && len(t.account) == 15 {
			t.account = t.account[4:] // a Norwegian IBAN holds the BBAN
		}
	} else {
		t.account, err = refund.ParseBBAN(a.Other)
	}
	switch {
	case b.e2eIDs[e2e]:
		t.reason, t.detail = "DU05", "EndToEndId "+e2e+" was received before"
	case err != nil:
		t.reason, t.detail = "AC01", "Incorrect account number"
	case t.account == AccountClosed:
		t.reason, t.detail = "AC04", "Closed account"
	case t.account == AccountPending:
		t.pending = true
	}
	b.e2eIDs[e2e] = true
}

// units returns d in units of 10^-5.
func units(d pain001.Decimal) int64 {
	v, _ := formats.Decimal{Units: d.Units, Scale: d.Scale}.Scaled(5)
	return v
}

// decimal returns v, in units of 10^-5, with two decimals when it has
// no more.
func decimal(v int64) formats.Decimal {
	if v%1000 == 0 {
		return formats.Decimal{Units: v / 1000, Scale: 2}
	}
	return formats.Decimal{Units: v, Scale: 5}
}

// amount converts a pain.001 amount.
func amount(a pain001.Amount) formats.Amount {
	return formats.Amount{Decimal: formats.Decimal{Units: a.Units, Scale: a.Scale}, Currency: a.Currency}
}

// groupReject schedules the pain.002 that rejects the whole upload with
// code: the upload recorded under key, uploaded as name.
func (b *Bank) groupReject(start time.Time, key, name, msgID, code, detail string) {
	if msgID == "" {
		msgID = strings.TrimSuffix(name, filepath.Ext(name))
	}
	b.schedule(key, reply{at: start.Add(b.cfg.Delay), name: "pain002-" + msgID + "-rejected.xml",
		what: "file rejected (pain.002 RJCT " + code + ")", render: func(now time.Time) ([]byte, error) {
			h := &pain001.GroupHeader{MsgID: msgID}
			return b.report(now, h, pain002.Rejected, []pain002.Reason{{Code: code, AdditionalInfo: lines(detail)}})
		}})
}

// lines cuts s into lines of AddtlInf (at most 105 characters each, at
// most two).
func lines(s string) []string {
	var out []string
	r := []rune(s)
	for len(r) > 0 && len(out) < 2 {
		n := min(len(r), 105)
		out = append(out, string(r[:n]))
		r = r[n:]
	}
	return out
}

// bankRef returns the bank's reference of a booking: the same for the
// same booking whenever it is made, so that a booking sent again after a
// restart is known to the daemon as the one it applied.
func bankRef(kind string, ids ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(ids, "\x00")))
	return "SBX" + kind + strings.ToUpper(hex.EncodeToString(sum[:8]))
}

func (b *Bank) reportID(now time.Time) string {
	b.seq++
	return fmt.Sprintf("SBX-%s-%06d", now.UTC().Format("20060102T150405"), b.seq)
}

// report renders a pain.002 with a group status only.
func (b *Bank) report(now time.Time, h *pain001.GroupHeader, st pain002.Status, reasons []pain002.Reason) ([]byte, error) {
	r := &pain002.Report{MsgID: b.reportID(now), CreationTime: now,
		Group: pain002.Group{OrgnlMsgID: h.MsgID, OrgnlMsgNmID: "pain.001.001.03", Status: st, Reasons: reasons}}
	return encodeReport(r)
}

func encodeReport(r *pain002.Report) ([]byte, error) {
	var buf bytes.Buffer
	if err := pain002.Encode(&buf, r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// statusReport renders the status report: the group accepted (rejected
// when every transaction is), each rejected and pending transaction
// listed.
func (b *Bank) statusReport(now time.Time, h *pain001.GroupHeader, pmts []*payment) ([]byte, error) {
	r := &pain002.Report{MsgID: b.reportID(now), CreationTime: now,
		Group: pain002.Group{OrgnlMsgID: h.MsgID, OrgnlMsgNmID: "pain.001.001.03", Status: pain002.AcceptedCustomerProfile}}
	accepted := 0
	for _, p := range pmts {
		var listed []pain002.Transaction
		for _, t := range p.txs {
			switch {
			case t.reason != "":
				listed = append(listed, pain002.Transaction{OrgnlInstrID: t.tx.InstrID, OrgnlEndToEndID: t.tx.EndToEndID,
					Status: pain002.Rejected, Reasons: []pain002.Reason{{Code: t.reason, AdditionalInfo: lines(t.detail)}}})
			case t.pending:
				accepted++
				listed = append(listed, pain002.Transaction{OrgnlInstrID: t.tx.InstrID, OrgnlEndToEndID: t.tx.EndToEndID,
					Status: pain002.Pending})
			default:
				accepted++
			}
		}
		if len(listed) > 0 {
			r.Payments = append(r.Payments, pain002.Payment{OrgnlPmtInfID: p.info.PmtInfID, Transactions: listed})
		}
	}
	if accepted == 0 {
		r.Group.Status = pain002.Rejected
	}
	return encodeReport(r)
}

// acceptPending renders the report that accepts the pending
// transactions; it has no group status, so that it says nothing of the
// others.
func (b *Bank) acceptPending(now time.Time, h *pain001.GroupHeader, pmts []*payment) ([]byte, error) {
	r := &pain002.Report{MsgID: b.reportID(now), CreationTime: now,
		Group: pain002.Group{OrgnlMsgID: h.MsgID, OrgnlMsgNmID: "pain.001.001.03"}}
	for _, p := range pmts {
		var listed []pain002.Transaction
		for _, t := range p.txs {
			if t.pending && t.reason == "" {
				listed = append(listed, pain002.Transaction{OrgnlInstrID: t.tx.InstrID, OrgnlEndToEndID: t.tx.EndToEndID,
					Status: pain002.AcceptedCustomerProfile})
			}
		}
		if len(listed) > 0 {
			r.Payments = append(r.Payments, pain002.Payment{OrgnlPmtInfID: p.info.PmtInfID, Transactions: listed})
		}
	}
	return encodeReport(r)
}

// account converts a pain.001 account.
func account(a pain001.Account) camt054.Account {
	return camt054.Account{IBAN: a.IBAN, Other: a.Other, Scheme: a.Scheme, Currency: a.Currency}
}

var (
	codePayment = camt054.BankTxCode{Domain: "PMNT", Family: "ICDT", SubFamily: "DMCT"}
	codeReturn  = camt054.BankTxCode{Domain: "PMNT", Family: "ICDT", SubFamily: "RRTN"}
)

// txDetails are the details of one booked transaction.
func txDetails(h *pain001.GroupHeader, t *txState, credit bool) camt054.Transaction {
	a := amount(t.tx.Amount)
	ct := camt054.Transaction{
		Refs: camt054.Refs{MsgID: h.MsgID, AcctSvcrRef: t.ref, PmtInfID: t.pmt.info.PmtInfID, InstrID: t.tx.InstrID,
			EndToEndID: t.tx.EndToEndID},
		AmountDetails: camt054.AmountDetails{Instructed: a, Transaction: a},
	}
	if credit {
		ct.Parties.DebtorAccount = account(t.tx.CreditorAccount)
		ct.Parties.DebtorName = t.tx.Creditor.Name
	} else {
		ct.Parties.CreditorAccount = account(t.tx.CreditorAccount)
		ct.Parties.CreditorName = t.tx.Creditor.Name
	}
	return ct
}

// bookings renders the camt.054 that books the accepted transactions: one
// entry per payment block with batch booking, else one per transaction,
// in one notification per debtor account.
func (b *Bank) bookings(now time.Time, h *pain001.GroupHeader, pmts []*payment) ([]byte, error) {
	var buf bytes.Buffer
	w := camt054.NewWriter(&buf)
	if err := w.Header(camt054.Header{MsgID: b.reportID(now), CreationTime: now}); err != nil {
		return nil, err
	}
	day := formats.DateTime{Time: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)}
	for i, p := range pmts {
		var ok []*txState
		for _, t := range p.txs {
			if t.reason == "" {
				ok = append(ok, t)
			}
		}
		if len(ok) == 0 {
			continue
		}
		acct := account(p.info.DebtorAccount)
		if acct.Currency == "" {
			acct.Currency = ok[0].tx.Amount.Currency
		}
		if err := w.Report(&camt054.Report{ID: fmt.Sprintf("%s-%d", h.MsgID, i+1), CreationTime: now, Account: acct}); err != nil {
			return nil, err
		}
		entry := func(a formats.Amount, ref string, d camt054.Details) *camt054.Entry {
			return &camt054.Entry{Amount: a, CreditDebit: camt054.Debit, Status: camt054.Booked, BookingDate: day,
				ValueDate: day, AcctSvcrRef: ref, BankTxCode: codePayment, Details: []camt054.Details{d}}
		}
		if p.info.BatchBooking {
			sum := int64(0)
			d := camt054.Details{}
			for _, t := range ok {
				sum += units(t.tx.Amount.Decimal)
				d.Transactions = append(d.Transactions, txDetails(h, t, false))
			}
			total := formats.Amount{Decimal: decimal(sum), Currency: ok[0].tx.Amount.Currency}
			d.Batch = &camt054.Batch{MsgID: h.MsgID, PmtInfID: p.info.PmtInfID, NbOfTxs: len(ok), Total: total,
				CreditDebit: camt054.Debit}
			ref := bankRef("B", h.MsgID, p.info.PmtInfID)
			if err := w.Entry(entry(total, ref, d)); err != nil {
				return nil, err
			}
			continue
		}
		for _, t := range ok {
			d := camt054.Details{Transactions: []camt054.Transaction{txDetails(h, t, false)}}
			if err := w.Entry(entry(amount(t.tx.Amount), t.ref, d)); err != nil {
				return nil, err
			}
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// returns renders the camt.054 that credits the returned transactions
// back, each with RtrInf AC04.
func (b *Bank) returns(now time.Time, h *pain001.GroupHeader, txs []*txState) ([]byte, error) {
	var buf bytes.Buffer
	w := camt054.NewWriter(&buf)
	if err := w.Header(camt054.Header{MsgID: b.reportID(now), CreationTime: now}); err != nil {
		return nil, err
	}
	day := formats.DateTime{Time: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)}
	for i, t := range txs {
		acct := account(t.pmt.info.DebtorAccount)
		if acct.Currency == "" {
			acct.Currency = t.tx.Amount.Currency
		}
		if err := w.Report(&camt054.Report{ID: fmt.Sprintf("%s-R%d", h.MsgID, i+1), CreationTime: now, Account: acct}); err != nil {
			return nil, err
		}
		ct := txDetails(h, t, true)
		ct.Refs.AcctSvcrRef = bankRef("R", h.MsgID, t.tx.EndToEndID)
		ct.Return = &camt054.Return{Reason: "AC04", AdditionalInfo: []string{"Closed account"}}
		e := &camt054.Entry{Amount: amount(t.tx.Amount), CreditDebit: camt054.Credit, Status: camt054.Booked,
			BookingDate: day, ValueDate: day, AcctSvcrRef: ct.Refs.AcctSvcrRef, BankTxCode: codeReturn,
			Details: []camt054.Details{{Transactions: []camt054.Transaction{ct}}}}
		if err := w.Entry(e); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
