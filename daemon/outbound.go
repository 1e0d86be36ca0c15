package daemon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"refundd/daemon/render"

	"github.com/rs/zerolog"

	"refundd/daemon/atomicfile"
	"refundd/daemon/erp"
	"refundd/daemon/failpoint"
	"refundd/daemon/obs"
	"refundd/daemon/refund"
	"refundd/daemon/spool"
	"refundd/daemon/store"
)

// outbound takes every batch file that is pending in work/ (claimed by an
// earlier run) or ready in the export folder and records it for upload,
// or rejects it. ctx ends the round between files; work is the context of
// the work on one file.
//
// recorded is called each time batches were recorded for upload.
func (d *Daemon) outbound(ctx, work context.Context, recorded func()) error {
	g := intakes{recorded: recorded}
	g.reset()
	err := d.takeFiles(ctx, d.export, "outbound", func(cl spool.Claimed, resumed bool) error {
		return d.takeOrGroup(work, &g, cl, resumed)
	})
	if err != nil {
		return err // the files of the group stay in work/ and are resumed
	}
	if err := d.recordIntakes(work, &g); err != nil {
		if fatal(err) {
			return err
		}
		log := d.log.With().Str(obs.FieldComponent, "outbound").Logger()
		if diskFull(err) {
			d.setFull(log, d.export.Dir(), err)
			return nil
		}
		log.Error().Err(err).Msg("batch files not finished; tried again later")
	}
	return nil
}

// takeBatch records one claimed batch file for upload, or rejects it.
func (d *Daemon) takeBatch(ctx context.Context, cl spool.Claimed, resumed bool) error {
	log := d.log.With().Str(obs.FieldComponent, "outbound").Str(obs.FieldFile, cl.Name).Logger()
	ok, err := d.knownFile(ctx, d.export, cl, store.FileBatch, resumed, log)
	if err != nil || !ok {
		return err
	}
	// A batch recorded from this very file by a run that stopped before
	// archiving it is finished as it was recorded, whatever today's
	// rules or configuration would make of the file.
	mine, err := d.store.BatchesByFile(ctx, cl.SHA256)
	if err != nil {
		return err
	}
	if len(mine) > 0 {
		b := mine[0]
		log = log.With().Str(obs.FieldBatch, b.Number).Logger()
		if err := d.reportLeftOut(ctx, cl, b, log); err != nil {
			return err
		}
		return d.finishBatchFile(ctx, cl, b, log)
	}
	failpoint.Hit(failpoint.BeforeIntent)
	open := func() (io.ReadCloser, error) { return os.Open(cl.Path) }
	plan, err := render.Guarded(d.cfg, cl.Name, open, d.now(), d.guardOptions(ctx))
	if err != nil {
		return err
	}
	defer func() { plan.Close() }() // plan may be replaced below
	log = log.With().Str(obs.FieldBatch, plan.Batch).Logger()
	for q := range erp.Summarise(plan.Problems) {
		if q.Warning {
			log.Warn().Str(obs.FieldStage, "validate").Str("problem", q.String()).Msg("batch warning")
		}
	}
	if !plan.Valid() {
		return d.rejectBatch(ctx, cl, plan, nil, log)
	}

	earlier, err := d.store.BatchByNumber(ctx, plan.Batch)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if len(earlier) > 0 {
		fixed, err := d.correction(ctx, cl, plan, earlier, open)
		if err != nil {
			return err
		}
		if fixed != nil {
			plan.Close()
			plan = fixed
			earlier = nil
		}
	}
	if len(earlier) > 0 {
		b := earlier[0]
		return d.rejectBatch(ctx, cl, plan, fmt.Errorf("%w: batch number %s was recorded before as MsgId %s (%s) from file %s",
			store.ErrDuplicate, plan.Batch, b.MsgID, b.Status, d.fileName(ctx, b.FileHash)), log)
	}

	b, err := writeIntent(ctx, d.store, d.files, d.outbox, d.uploadDir(), plan, open, cl.SHA256, "")
	if errors.Is(err, store.ErrDuplicate) || errors.Is(err, store.ErrInvalid) {
		return d.rejectBatch(ctx, cl, plan, err, log)
	}
	if err != nil {
		return err
	}
	failpoint.Hit(failpoint.AfterIntent)
	log.Info().Str(obs.FieldMsgID, b.MsgID).Str(obs.FieldStage, "record").Str(obs.FieldStatus, string(b.Status)).
		Int("refunds", b.NbOfTxs).Int("left_out", plan.Invalid()+plan.Held()).Msg("batch recorded for upload")
	if err := d.reportLeftOut(ctx, cl, b, log); err != nil {
		return err
	}
	return d.finishBatchFile(ctx, cl, b, log)
}

// correction returns the plan of a batch file that corrects refunds left
// out of an earlier batch of the same number as invalid: every refund of
// the file is one of those, and the file is valid. Its batch is the next
// attempt of the number (a new MsgId), each refund its document's next
// release. nil when the file is not such a correction.
func (d *Daemon) correction(ctx context.Context, cl spool.Claimed, plan *render.Plan, earlier []store.Batch, open render.Opener) (*render.Plan, error) {
	if !plan.Valid() || plan.Invalid() > 0 {
		return nil, nil
	}
	open2 := map[render.DocRef]bool{}
	for _, b := range earlier {
		ns, err := d.store.Notes(ctx, b.MsgID)
		if err != nil {
			return nil, err
		}
		for _, n := range ns {
			if n.Kind == store.NoteInvalid && n.Open() {
				open2[render.DocRef{DocType: n.DocType, RefNbr: n.RefNbr}] = true
			}
		}
	}
	if len(open2) == 0 {
		return nil, nil
	}
	sel := &render.Selection{Releases: map[render.DocRef]int{}}
	fits := true
	_, err := plan.Scan(open, sha256.New(), func(erp.Problem) {}, func(rec erp.Record, t *refund.Transfer) error {
		ref := render.DocRef{DocType: rec.Refund.DocType, RefNbr: rec.Refund.RefNbr}
		if !open2[ref] {
			fits = false
			return nil
		}
		n, err := d.store.NextRelease(ctx, ref.DocType, ref.RefNbr)
		if errors.Is(err, store.ErrDuplicate) {
			fits = false // the document is live elsewhere: the file is refused below
			return nil
		}
		sel.Releases[ref] = n
		return err
	})
	if err != nil || !fits {
		return nil, err
	}
	if sel.Attempt, err = d.store.NextAttempt(ctx, plan.Batch); err != nil {
		return nil, err
	}
	// The account guard checks the corrected refunds as any others: a
	// corrected account is a changed account.
	fixed, err := render.SelectedWith(d.cfg, cl.Name, open, d.now(), sel, d.guardOptions(ctx))
	if err != nil {
		return nil, err
	}
	if !fixed.Valid() {
		fixed.Close()
		return nil, nil
	}
	return fixed, nil
}

// intentStore is what writeIntent needs of the state store.
type intentStore interface {
	Batch(ctx context.Context, msgID string) (store.Batch, error)
	CreateBatch(ctx context.Context, b store.Batch, rs []store.Refund) error
}

// writeIntent renders the pain.001 of a valid plan durably into the
// outbox folder (a copy for operators) and then records the batch as
// sending, with all its refunds, the pain.001's bytes and its remote
// name, in one transaction: the write-ahead intent of the upload. Every
// upload sends the recorded bytes; none renders the batch again. fileHash is the content hash of the
// ERP file ("" for a re-release), reason the reason of the batch's first
// event ("" for none). A refused batch (a duplicate) leaves no
// file in the outbox.
func writeIntent(ctx context.Context, s intentStore, files *atomicfile.Writer, outbox, uploadDir string, plan *render.Plan, open render.Opener, fileHash, reason string) (store.Batch, error) {
	refunds, err := planRefunds(plan, open)
	if err != nil {
		return store.Batch{}, err
	}
	if len(refunds) == 0 && plan.Held() > 0 {
		// Every refund is held back by the account guard: the batch is
		// recorded with its notes, to be released in a later batch; there
		// is nothing to send.
		b := store.Batch{MsgID: plan.MsgID, Number: plan.Batch, Attempt: plan.Attempt(), FileHash: fileHash,
			Status: store.BatchReceived, MsgCreated: plan.Created, Notes: notesOf(plan),
			Reason: "every refund held back by the account guard"}
		if err := s.CreateBatch(ctx, b, nil); err != nil {
			return store.Batch{}, err
		}
		return b, nil
	}
	name := plan.MsgID + ".xml"
	local := filepath.Join(outbox, name)
	if _, err := s.Batch(ctx, plan.MsgID); err == nil {
		return store.Batch{}, fmt.Errorf("record batch %s: %w: MsgId %s", plan.Batch, store.ErrDuplicate, plan.MsgID)
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Batch{}, err
	}
	// No batch has this MsgId, so a file under its name is what a run
	// that stopped before recording the batch left; it was never uploaded.
	if err := files.Remove(local); err != nil {
		return store.Batch{}, err
	}
	var pain bytes.Buffer
	if err := plan.Render(&pain); err != nil {
		return store.Batch{}, err
	}
	err = files.Write(outbox, name, func(w io.Writer) error { _, err := w.Write(pain.Bytes()); return err })
	if err != nil {
		return store.Batch{}, err
	}
	failpoint.Hit(failpoint.IntentRendered)
	sum := sha256.Sum256(pain.Bytes())
	attempt := plan.Attempt()
	b := store.Batch{
		MsgID: plan.MsgID, Number: plan.Batch, Attempt: attempt, FileHash: fileHash, Status: store.BatchSending,
		LocalPath: local, RemoteName: path.Join(uploadDir, name), PainHash: hex.EncodeToString(sum[:]),
		Pain: pain.Bytes(), MsgCreated: plan.Created, NbOfTxs: len(refunds), Reason: reason, Notes: notesOf(plan),
	}
	if err := s.CreateBatch(ctx, b, refunds); err != nil {
		// A batch the store refused leaves no file in the outbox. After any
		// other error the batch may have been recorded (a COMMIT whose
		// outcome is unknown): the file stays, and the next look settles it.
		if errors.Is(err, store.ErrDuplicate) || errors.Is(err, store.ErrInvalid) {
			if rmErr := files.Remove(local); rmErr != nil {
				err = errors.Join(err, rmErr)
			}
		}
		return store.Batch{}, err
	}
	b.Pain = nil // kept in the store
	return b, nil
}

// finishBatchFile marks the batch file done and archives it.
func (d *Daemon) finishBatchFile(ctx context.Context, cl spool.Claimed, b store.Batch, log zerolog.Logger) error {
	if err := d.store.FinishFile(ctx, cl.SHA256, store.FileDone, ""); err != nil {
		return err
	}
	failpoint.Hit(failpoint.BatchFileFinished)
	archived, err := d.export.Done(cl, "")
	if err != nil {
		return err
	}
	log.Debug().Str(obs.FieldMsgID, b.MsgID).Str("archived", archived).Msg("batch file archived")
	return nil
}

// fileName returns the name a file was first seen under, or its hash.
func (d *Daemon) fileName(ctx context.Context, hash string) string {
	if f, err := d.store.File(ctx, hash); err == nil {
		return f.Name
	}
	return hash
}

// uploadDir returns the remote folder of the uploads.
func (d *Daemon) uploadDir() string {
	if d.cfg.SFTP.UploadDir == "" {
		return "/"
	}
	return d.cfg.SFTP.UploadDir
}

// rejectBatch refuses a batch file: the ERP gets a status file with every
// refund of it rejected and the reason, the file goes to failed/ with
// every problem in its .err, and the store records the file as failed.
// cause is the reason when the file itself is valid.
func (d *Daemon) rejectBatch(ctx context.Context, cl spool.Claimed, plan *render.Plan, cause error, log zerolog.Logger) error {
	var problems []string
	byPos := map[erp.Pos][]erp.Problem{}
	var general []string
	for _, q := range plan.Problems {
		if q.Warning {
			continue
		}
		problems = append(problems, q.String())
		byPos[q.Pos] = append(byPos[q.Pos], q)
		if q.Pos.Line == 0 && q.Pos.Index == 0 {
			general = append(general, q.Msg)
		}
	}
	if cause != nil {
		problems = append(problems, cl.Name+": "+cause.Error())
		general = append(general, cause.Error())
	}
	open := func() (io.ReadCloser, error) { return os.Open(cl.Path) }
	var rows []erp.StatusRow
	at := d.now()
	_, err := plan.Scan(open, sha256.New(), func(erp.Problem) {}, func(rec erp.Record, _ *refund.Transfer) error {
		row := erp.StatusRow{RefNbr: rec.Refund.RefNbr, Batch: rec.Refund.Batch, Status: refund.StatusRejected, At: at}
		if rec.Refund.DocType != "" && rec.Refund.RefNbr != "" {
			row.EndToEndID = refund.EndToEndID(rec.Refund.DocType, rec.Refund.RefNbr, 0)
		}
		var texts []string
		for _, q := range byPos[rec.Pos] {
			if row.ReasonCode == "" {
				row.ReasonCode = q.Field
			}
			if q.Field != "" {
				texts = append(texts, q.Field+": "+q.Msg)
			} else {
				texts = append(texts, q.Msg)
			}
		}
		texts = append(texts, general...)
		if len(texts) == 0 {
			texts = []string{"batch rejected: other refunds of the file have errors"}
		}
		row.ReasonText = strings.Join(texts, "; ")
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return err
	}
	status, err := d.out.WriteStatus(rows)
	if err != nil {
		return err
	}
	reason := fmt.Sprintf("%d problem(s)", len(problems))
	if cause != nil {
		reason = cause.Error()
	}
	if err := d.store.FinishFile(ctx, cl.SHA256, store.FileFailed, reason); err != nil {
		return err
	}
	failed, err := d.export.Fail(cl, problems)
	if err != nil {
		return err
	}
	// The problems themselves are in the .err file: they may quote account
	// numbers, which the log never shows.
	var fields []string
	for _, q := range plan.Problems {
		if !q.Warning && q.Field != "" && !slices.Contains(fields, q.Field) {
			fields = append(fields, q.Field)
		}
	}
	ev := log.Error().Str(obs.FieldStage, "validate").Str(obs.FieldStatus, string(store.BatchRejected)).
		Int("problems", len(problems)).Strs("fields", fields).Str("failed", failed).Str("status_file", status)
	if cause != nil {
		ev = ev.Err(cause)
	}
	ev.Msg("batch rejected")
	return nil
}

// planRefunds returns the refunds of a valid plan as the store records
// them, in file order.
func planRefunds(p *render.Plan, open render.Opener) ([]store.Refund, error) {
	pmtInf := map[refund.GroupKey]string{}
	for _, g := range p.Groups {
		pmtInf[g.Key] = g.PmtInfID
	}
	var rs []store.Refund
	h := sha256.New()
	_, err := p.Scan(open, h, func(erp.Problem) {}, func(rec erp.Record, t *refund.Transfer) error {
		if t == nil && p.IsLeft(rec.Pos) {
			return nil
		}
		if t == nil {
			return fmt.Errorf("%w: %s changed", render.ErrChanged, rec.Pos)
		}
		release, _ := p.Release(&t.Refund)
		e2e := refund.EndToEndID(t.DocType, t.RefNbr, release)
		rs = append(rs, store.Refund{
			Sent: refund.Sent{
				RefNbr: t.RefNbr, Batch: p.Batch, CustomerID: t.CustomerID, MsgID: p.MsgID,
				PmtInfID: pmtInf[t.Key()], EndToEndID: e2e, InstrID: e2e, Amount: t.Amount,
				BaseAmount: t.BaseAmount, ExecutionDate: t.ExecutionDate, CreditorAccount: t.Account,
				DebtorAccount: t.Debtor.Account, DebtorLedgerAccount: t.Debtor.LedgerAccount,
			},
			DocType: t.DocType,
			Release: release,
		})
		return nil
	})
	if err == nil && [sha256.Size]byte(h.Sum(nil)) != p.Hash {
		// The document is rendered from what planning read: the refunds
		// recorded must be of the same bytes.
		err = render.ErrChanged
	}
	if err != nil {
		return nil, fmt.Errorf("refunds of %s: %w", p.File, err)
	}
	return rs, nil
}
