package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"refundd/daemon/config"
	"refundd/daemon/render"

	"refundd/daemon/atomicfile"
	"refundd/daemon/refund"
	"refundd/daemon/store"
)

// Resolution is an operator's decision on a batch in doubt.
type Resolution int

// The resolutions of a batch in doubt.
const (
	// ResolveSent: the operator confirmed (in AutoPay, with the bank)
	// that the file arrived; the batch is sent.
	ResolveSent Resolution = iota + 1
	// ResolveRelease: the file did not arrive; the batch goes back to
	// sending, and the daemon uploads the same file, with the same ids,
	// again.
	ResolveRelease
)

// ResolveStore is what Resolve needs of the state store (*store.Store).
type ResolveStore interface {
	Batch(ctx context.Context, msgID string) (store.Batch, error)
	SetBatchStatus(ctx context.Context, msgID string, to store.BatchStatus, reason string) ([]store.Change, error)
}

// Resolve records an operator's decision on the batch msgID, which must
// be in doubt, with an event that names the operator. It returns the new
// status.
func Resolve(ctx context.Context, s ResolveStore, msgID string, how Resolution) (store.BatchStatus, error) {
	b, err := s.Batch(ctx, msgID)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", msgID, err)
	}
	if b.Status != store.BatchInDoubt {
		return "", fmt.Errorf("resolve %s: %w: the batch is %s, not %s", msgID, store.ErrTransition, b.Status, store.BatchInDoubt)
	}
	to, reason := store.BatchSent, "operator confirmed that the file was sent"
	if how == ResolveRelease {
		to, reason = store.BatchSending, "operator released the same file for a resend"
	}
	reason += operator()
	if _, err := s.SetBatchStatus(ctx, msgID, to, reason); err != nil {
		return "", fmt.Errorf("resolve %s: %w", msgID, err)
	}
	return to, nil
}

// RereleaseStore is what Rerelease needs of the state store
// (*store.Store).
type RereleaseStore interface {
	intentStore
	Refund(ctx context.Context, e2e string) (store.Refund, error)
	NextRelease(ctx context.Context, docType refund.DocType, refNbr string) (int, error)
	NextAttempt(ctx context.Context, number string) (int, error)
	BatchByNumber(ctx context.Context, number string) ([]store.Batch, error)
	File(ctx context.Context, hash string) (store.File, error)
}

// Rerelease puts refunds that the bank rejected (or returned) into a new
// batch: the same ERP batch number with the next attempt, so a new MsgId,
// and each refund with its next release, so a new EndToEndId. The refunds
// are read again from the archived ERP batch file and checked against
// today's rules; the pain.001 is written to the outbox and the batch is
// recorded as sending, with an event, for the daemon to upload. All the
// refunds must come from one ERP batch.
func Rerelease(ctx context.Context, cfg *config.Config, s RereleaseStore, e2es []string, now time.Time) (store.Batch, error) {
	if len(e2es) == 0 {
		return store.Batch{}, fmt.Errorf("re-release: %w: no EndToEndId given", store.ErrInvalid)
	}
	sel := &render.Selection{Releases: map[render.DocRef]int{}}
	var number string
	var from []string // the MsgIds of the refunds' batches
	for _, id := range e2es {
		r, err := s.Refund(ctx, id)
		if err != nil {
			return store.Batch{}, fmt.Errorf("re-release %s: %w", id, err)
		}
		if r.Status != refund.StatusRejected && r.Status != refund.StatusReturned {
			return store.Batch{}, fmt.Errorf("re-release %s: %w: the refund is %s; only a refund the bank rejected or returned is paid again",
				id, store.ErrTransition, r.Status)
		}
		if number != "" && r.Batch != number {
			return store.Batch{}, fmt.Errorf("re-release %s: %w: refund of batch %s, the others are of batch %s; re-release one batch at a time",
				id, store.ErrInvalid, r.Batch, number)
		}
		number = r.Batch
		from = append(from, r.MsgID)
		next, err := s.NextRelease(ctx, r.DocType, r.RefNbr)
		if err != nil {
			return store.Batch{}, fmt.Errorf("re-release %s: %w", id, err)
		}
		sel.Releases[render.DocRef{DocType: r.DocType, RefNbr: r.RefNbr}] = next
	}
	bs, err := s.BatchByNumber(ctx, number)
	if err != nil {
		return store.Batch{}, fmt.Errorf("re-release: batch %s: %w", number, err)
	}
	// The refunds are read from the ERP file of their own batch; a batch
	// that is itself a re-release has none, and then the newest file of
	// the number is taken (a correction of refunds left out as invalid
	// comes after the first file).
	var source store.File
	slices.SortFunc(bs, func(a, b store.Batch) int {
		ai, bi := slices.Contains(from, a.MsgID), slices.Contains(from, b.MsgID)
		switch {
		case ai && !bi:
			return -1
		case bi && !ai:
			return 1
		}
		return b.Attempt - a.Attempt
	})
	for _, b := range bs {
		if b.FileHash != "" {
			if source, err = s.File(ctx, b.FileHash); err != nil {
				return store.Batch{}, fmt.Errorf("re-release: batch %s: %w", number, err)
			}
			break
		}
	}
	if source.Hash == "" {
		return store.Batch{}, fmt.Errorf("re-release: batch %s: %w: no ERP file recorded", number, store.ErrNotFound)
	}
	file, err := archivedFile(filepath.Join(cfg.SpoolDir(), "archive", "export"), source)
	if err != nil {
		return store.Batch{}, fmt.Errorf("re-release: batch %s: %w", number, err)
	}
	if sel.Attempt, err = s.NextAttempt(ctx, number); err != nil {
		return store.Batch{}, fmt.Errorf("re-release: %w", err)
	}
	open := func() (io.ReadCloser, error) { return os.Open(file) }
	plan, err := render.Selected(cfg, source.Name, open, now, sel)
	if err != nil {
		return store.Batch{}, fmt.Errorf("re-release: %w", err)
	}
	defer plan.Close()
	if !plan.Valid() {
		var ps []string
		for _, q := range plan.Problems {
			if !q.Warning {
				ps = append(ps, q.String())
			}
		}
		return store.Batch{}, fmt.Errorf("re-release: %w: %s", render.ErrInvalidBatch, strings.Join(ps, "; "))
	}
	if plan.NbOfTxs != len(sel.Releases) {
		return store.Batch{}, fmt.Errorf("re-release: %w: found %d of the %d refunds in %s", store.ErrNotFound, plan.NbOfTxs, len(sel.Releases), file)
	}
	outbox := Outbox(cfg)
	if err := os.MkdirAll(outbox, 0o750); err != nil {
		return store.Batch{}, fmt.Errorf("re-release: %w", err)
	}
	upload := cfg.SFTP.UploadDir
	if upload == "" {
		upload = "/"
	}
	b, err := writeIntent(ctx, s, &atomicfile.Writer{}, outbox, upload, plan, open, "", "operator re-release of "+strings.Join(e2es, ", ")+operator())
	if err != nil {
		return store.Batch{}, fmt.Errorf("re-release: %w", err)
	}
	return b, nil
}

// ReleaseStore is what Release needs of the state store (*store.Store).
type ReleaseStore interface {
	RereleaseStore
	OpenNotes(ctx context.Context, kinds ...store.NoteKind) ([]store.Note, error)
}

// Release sends refunds that the account guard held back, named by their
// RefNbr (or DocType:RefNbr when two documents share a number), in a new
// batch: the next attempt of their ERP batch (a new MsgId), read again
// from the archived batch file and checked against today's rules. why is
// the operator's reason; the batch's event records it with the user the
// command runs as. All the refunds must be of one ERP batch.
func Release(ctx context.Context, cfg *config.Config, s ReleaseStore, refs []string, why string, now time.Time) (store.Batch, error) {
	if len(refs) == 0 {
		return store.Batch{}, fmt.Errorf("release: %w: no RefNbr given", store.ErrInvalid)
	}
	if strings.TrimSpace(why) == "" {
		return store.Batch{}, fmt.Errorf("release: %w: say why the new account is right (-reason)", store.ErrInvalid)
	}
	held, err := s.OpenNotes(ctx, store.NoteHeld)
	if err != nil {
		return store.Batch{}, fmt.Errorf("release: %w", err)
	}
	sel := &render.Selection{Releases: map[render.DocRef]int{}}
	var msgID string
	for _, ref := range refs {
		docType, refNbr, typed := strings.Cut(ref, ":")
		if !typed {
			docType, refNbr = "", ref
		}
		var found []store.Note
		for _, n := range held {
			if n.RefNbr == refNbr && (docType == "" || strings.EqualFold(string(n.DocType), docType)) {
				found = append(found, n)
			}
		}
		switch {
		case len(found) == 0:
			return store.Batch{}, fmt.Errorf("release %s: %w: no refund held back with this number", ref, store.ErrNotFound)
		}
		for _, f := range found[1:] {
			if f.DocType != found[0].DocType {
				return store.Batch{}, fmt.Errorf("release %s: %w: %s and %s are both held; write DocType:RefNbr", ref, store.ErrInvalid,
					found[0].DocType, f.DocType)
			}
		}
		n := found[len(found)-1] // the latest batch that held it
		if msgID != "" && n.MsgID != msgID {
			return store.Batch{}, fmt.Errorf("release %s: %w: held in batch %s, the others in %s; release one batch at a time",
				ref, store.ErrInvalid, n.MsgID, msgID)
		}
		msgID = n.MsgID
		next, err := s.NextRelease(ctx, n.DocType, n.RefNbr)
		if err != nil {
			return store.Batch{}, fmt.Errorf("release %s: %w", ref, err)
		}
		sel.Releases[render.DocRef{DocType: n.DocType, RefNbr: n.RefNbr}] = next
	}
	orig, err := s.Batch(ctx, msgID)
	if err != nil {
		return store.Batch{}, fmt.Errorf("release: %w", err)
	}
	if orig.FileHash == "" {
		return store.Batch{}, fmt.Errorf("release: batch %s: %w: no ERP file recorded", msgID, store.ErrNotFound)
	}
	source, err := s.File(ctx, orig.FileHash)
	if err != nil {
		return store.Batch{}, fmt.Errorf("release: batch %s: %w", orig.Number, err)
	}
	file, err := archivedFile(filepath.Join(cfg.SpoolDir(), "archive", "export"), source)
	if err != nil {
		return store.Batch{}, fmt.Errorf("release: batch %s: %w", orig.Number, err)
	}
	if sel.Attempt, err = s.NextAttempt(ctx, orig.Number); err != nil {
		return store.Batch{}, fmt.Errorf("release: %w", err)
	}
	open := func() (io.ReadCloser, error) { return os.Open(file) }
	plan, err := render.Selected(cfg, source.Name, open, now, sel)
	if err != nil {
		return store.Batch{}, fmt.Errorf("release: %w", err)
	}
	defer plan.Close()
	if !plan.Valid() {
		var ps []string
		for _, q := range plan.Problems {
			if !q.Warning {
				ps = append(ps, q.String())
			}
		}
		return store.Batch{}, fmt.Errorf("release: %w: %s", render.ErrInvalidBatch, strings.Join(ps, "; "))
	}
	if plan.NbOfTxs != len(sel.Releases) {
		return store.Batch{}, fmt.Errorf("release: %w: found %d of the %d refunds in %s", store.ErrNotFound, plan.NbOfTxs, len(sel.Releases), file)
	}
	outbox := Outbox(cfg)
	if err := os.MkdirAll(outbox, 0o750); err != nil {
		return store.Batch{}, fmt.Errorf("release: %w", err)
	}
	upload := cfg.SFTP.UploadDir
	if upload == "" {
		upload = "/"
	}
	reason := "operator release of held refunds " + strings.Join(refs, ", ") + operator() + ": " + strings.TrimSpace(why)
	b, err := writeIntent(ctx, s, &atomicfile.Writer{}, outbox, upload, plan, open, "", reason)
	if err != nil {
		return store.Batch{}, fmt.Errorf("release: %w", err)
	}
	return b, nil
}

// archivedFile finds the archived copy of an ERP file below dir: a file
// named as it was dropped (perhaps with a " (n)") with its content hash.
func archivedFile(dir string, f store.File) (string, error) {
	ext := filepath.Ext(f.Name)
	stem := strings.TrimSuffix(f.Name, ext)
	var found string
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil || found != "" || !de.Type().IsRegular() {
			return err
		}
		n := de.Name()
		if n != f.Name && !(strings.HasPrefix(n, stem+" (") && strings.HasSuffix(n, ext)) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) == f.Hash {
			found = p
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if found == "" {
		return "", fmt.Errorf("%w: the archived copy of %s (sha256 %s) below %s", store.ErrNotFound, f.Name, f.Hash, dir)
	}
	return found, nil
}

// operator returns " (<user name>)" for the events of an operator's
// command, "" when the user is not known.
func operator() string {
	if u, err := user.Current(); err == nil {
		return " (" + u.Username + ")"
	}
	return ""
}

// OpenStore opens the state store of cfg for a command that runs beside
// the daemon (status, resolve, rerelease): the SQLite file in paths.state
// or the company's PostgreSQL schema, which must exist (these commands
// never create one). Such a command never leads: its writes wait for the
// leader's and are not fenced.
func OpenStore(ctx context.Context, cfg *config.Config) (*store.Store, error) {
	if cfg.Postgres() {
		pc := postgresConfig(cfg)
		pc.Existing = true
		return store.OpenPostgres(ctx, pc)
	}
	return store.OpenExisting(cfg.Paths.State)
}
