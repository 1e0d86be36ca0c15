package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"refundd/daemon/atomicfile"
	"refundd/daemon/erp"
	"refundd/daemon/failpoint"
	"refundd/daemon/obs"
	"refundd/daemon/refund"
	"refundd/daemon/spool"
	"refundd/daemon/store"
	"refundd/sftpx"
)

// outbound takes every batch file that is pending in work/ (claimed by an
// earlier run) or ready in the export folder and records it for upload,
// or rejects it. ctx ends the round between files; work is the context of
// the work on one file.
func (d *Daemon) outbound(ctx, work context.Context) error {
	return d.takeFiles(ctx, d.export, "outbound", func(cl spool.Claimed, resumed bool) error {
		return d.takeBatch(work, cl, resumed)
	})
}

// takeFiles resumes the files pending in f's work folder, then claims and
// handles the files that are ready in f. An error of one file is logged
// and the next one is taken, unless the error is fatal.
func (d *Daemon) takeFiles(ctx context.Context, f *spool.Folder, component string, handle func(spool.Claimed, bool) error) error {
	log := d.log.With().Str(obs.FieldComponent, component).Logger()
	// do handles one file; stop is set when the disk is full, and no
	// further file is taken in this round.
	stop := false
	do := func(cl spool.Claimed, resumed bool) error {
		d.beat()
		err := handle(cl, resumed)
		switch {
		case err == nil:
			d.clearFull(log)
		case fatal(err):
			return err
		case diskFull(err):
			d.setFull(log, cl.Name, err)
			stop = true
		default:
			log.Error().Err(err).Str(obs.FieldFile, cl.Name).Msg("file not finished; tried again later")
		}
		return nil
	}
	pending, err := f.Pending()
	if err != nil {
		if fatal(err) {
			return err
		}
		log.Error().Err(err).Msg("listing pending files failed")
	}
	for _, cl := range pending {
		if ctx.Err() != nil || stop {
			return nil
		}
		if err := do(cl, true); err != nil {
			return err
		}
	}
	if d.full != nil {
		return nil // no new work while the disk is full
	}
	cands, err := f.Scan(time.Now())
	if err != nil {
		log.Error().Err(err).Str(obs.FieldFile, f.Dir()).Msg("scan incomplete")
	}
	for _, c := range cands {
		if ctx.Err() != nil || stop {
			return nil
		}
		cl, err := f.Claim(c)
		if errors.Is(err, spool.ErrSkipped) {
			log.Debug().Err(err).Str(obs.FieldFile, c.Name).Msg("file not taken yet")
			continue
		}
		if err != nil {
			if fatal(err) {
				return err
			}
			if diskFull(err) {
				d.setFull(log, c.Name, err)
				return nil
			}
			log.Error().Err(err).Str(obs.FieldFile, c.Name).Str(obs.FieldStage, "claim").Msg("claim failed")
			continue
		}
		if err := do(cl, false); err != nil {
			return err
		}
	}
	return nil
}

// knownFile records the claimed file in the store and decides what to do
// with a file seen before: it returns proceed when the file is new, or an
// earlier claim of it did not finish; otherwise it has moved the file on.
func (d *Daemon) knownFile(ctx context.Context, f *spool.Folder, cl spool.Claimed, kind store.FileKind, resumed bool, log zerolog.Logger) (proceed bool, err error) {
	prev, err := d.store.RecordFile(ctx, cl.SHA256, cl.Name, kind)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, store.ErrDuplicate) || prev == nil {
		return false, err
	}
	switch {
	case prev.Outcome == store.FileProcessing && prev.Name != cl.Name:
		// The same content was claimed under another name. If that file is
		// still in work/, its processing did not finish and it is tried
		// again: this is a copy, refused below, so the content is handled
		// once, from that file. Otherwise cl is that file, resumed.
		other, err := f.InWork(prev.Name)
		switch {
		case errors.Is(err, fs.ErrNotExist) || (err == nil && other.SHA256 != cl.SHA256):
			log.Info().Str(obs.FieldStage, "claim").Msg("resuming a file whose processing was interrupted")
			return true, nil
		case err != nil:
			return false, err
		}
	case prev.Outcome == store.FileProcessing:
		log.Info().Str(obs.FieldStage, "claim").Msg("resuming a file whose processing was interrupted")
		return true, nil
	case resumed && prev.Outcome == store.FileDone && prev.Name == cl.Name:
		// Finished by a run that stopped before archiving it.
		_, err := f.Done(cl, "")
		return false, err
	case resumed && prev.Outcome == store.FileFailed && prev.Name == cl.Name:
		_, err := f.Fail(cl, []string{prev.Reason})
		return false, err
	}
	log.Warn().Str(obs.FieldStage, "claim").Str("duplicate_of", prev.Name).Str("sha256", cl.SHA256).
		Time("first_seen", prev.FirstSeen).Msg("duplicate file refused: the same content was taken before; nothing done")
	if kind == store.FileReply {
		d.metrics.Reply("", obs.ReplyDuplicate)
	}
	_, err = f.Duplicate(cl, prev.Name, prev.FirstSeen)
	return false, err
}

// takeBatch records one claimed batch file for upload, or rejects it.
func (d *Daemon) takeBatch(ctx context.Context, cl spool.Claimed, resumed bool) error {
	log := d.log.With().Str(obs.FieldComponent, "outbound").Str(obs.FieldFile, cl.Name).Logger()
	ok, err := d.knownFile(ctx, d.export, cl, store.FileBatch, resumed, log)
	if err != nil || !ok {
		return err
	}
	failpoint.Hit(failpoint.BeforeIntent)
	open := func() (io.ReadCloser, error) { return os.Open(cl.Path) }
	plan, err := d.cfg.PlanBatch(cl.Name, open, d.now())
	if err != nil {
		return err
	}
	log = log.With().Str(obs.FieldBatch, plan.Batch).Logger()
	for _, q := range plan.Problems {
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
	for _, b := range earlier {
		if b.FileHash == cl.SHA256 { // recorded by a run that stopped before archiving
			return d.finishBatchFile(ctx, cl, b, log)
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
	log.Info().Str(obs.FieldMsgID, b.MsgID).Str(obs.FieldStage, "record").Str(obs.FieldStatus, string(store.BatchSending)).
		Int("refunds", b.NbOfTxs).Msg("batch recorded for upload")
	return d.finishBatchFile(ctx, cl, b, log)
}

// intentStore is what writeIntent needs of the state store.
type intentStore interface {
	Batch(ctx context.Context, msgID string) (store.Batch, error)
	CreateBatch(ctx context.Context, b store.Batch, rs []store.Refund) error
}

// writeIntent renders the pain.001 of a valid plan durably into the
// outbox folder and then records the batch as sending, with all its
// refunds, the file and its remote name, in one transaction: the
// write-ahead intent of the upload. fileHash is the content hash of the
// ERP file ("" for a re-release), reason the reason of the batch's first
// event ("" for none). A refused batch (a duplicate) leaves no
// file in the outbox.
func writeIntent(ctx context.Context, s intentStore, files *atomicfile.Writer, outbox, uploadDir string, plan *Plan, open Opener, fileHash, reason string) (store.Batch, error) {
	refunds, err := planRefunds(plan, open)
	if err != nil {
		return store.Batch{}, err
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
	h := sha256.New()
	err = files.Write(outbox, name, func(w io.Writer) error { return plan.Render(open, io.MultiWriter(w, h)) })
	if err != nil {
		return store.Batch{}, err
	}
	failpoint.Hit(failpoint.IntentRendered)
	attempt := 0
	if plan.sel != nil {
		attempt = plan.sel.Attempt
	}
	b := store.Batch{
		MsgID: plan.MsgID, Number: plan.Batch, Attempt: attempt, FileHash: fileHash, Status: store.BatchSending,
		LocalPath: local, RemoteName: path.Join(uploadDir, name), PainHash: hex.EncodeToString(h.Sum(nil)),
		MsgCreated: plan.Created, NbOfTxs: len(refunds), Reason: reason,
	}
	if err := s.CreateBatch(ctx, b, refunds); err != nil {
		if rmErr := files.Remove(local); rmErr != nil {
			err = errors.Join(err, rmErr)
		}
		return store.Batch{}, err
	}
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
func (d *Daemon) rejectBatch(ctx context.Context, cl spool.Claimed, plan *Plan, cause error, log zerolog.Logger) error {
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
	_, err := plan.scan(open, sha256.New(), func(erp.Problem) {}, func(rec erp.Record, _ *refund.Transfer) error {
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
func planRefunds(p *Plan, open Opener) ([]store.Refund, error) {
	pmtInf := map[refund.GroupKey]string{}
	for _, g := range p.Groups {
		pmtInf[g.Key] = g.PmtInfID
	}
	var rs []store.Refund
	_, err := p.scan(open, sha256.New(), func(erp.Problem) {}, func(rec erp.Record, t *refund.Transfer) error {
		if t == nil {
			return fmt.Errorf("%w: %s changed", ErrChanged, rec.Pos)
		}
		release, _ := p.release(&t.Refund)
		e2e := refund.EndToEndID(t.DocType, t.RefNbr, release)
		rs = append(rs, store.Refund{
			Sent: refund.Sent{
				RefNbr: t.RefNbr, Batch: p.Batch, CustomerID: t.CustomerID, MsgID: p.MsgID,
				PmtInfID: pmtInf[t.Key()], EndToEndID: e2e, InstrID: e2e, Amount: t.Amount,
				ExecutionDate: t.ExecutionDate, CreditorAccount: t.Account,
				DebtorAccount: t.Debtor.Account, DebtorLedgerAccount: t.Debtor.LedgerAccount,
			},
			DocType: t.DocType,
			Release: release,
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("refunds of %s: %w", p.File, err)
	}
	return rs, nil
}

// client returns the SFTP client, dialling when there is none. After the
// server was refused for good (its host key, or the login), it is not
// dialled again before the backoff of d.refused has passed: the error of
// the refused dial is returned meanwhile.
func (d *Daemon) client(ctx context.Context) (*sftpx.Client, error) {
	if d.sftp != nil {
		return d.sftp, nil
	}
	if d.cfg.SFTP.Address == "" {
		return nil, fmt.Errorf("sftp: %w: sftp.address is not set", ErrConfig)
	}
	if d.refused.err != nil && time.Now().Before(d.refused.until) {
		return nil, fmt.Errorf("%w (not dialled again before %s)", d.refused.err, d.refused.until.Format(time.RFC3339))
	}
	c, err := sftpx.Dial(ctx, d.cfg.SFTPConfig())
	d.sftpState(err)
	if err != nil {
		if refusedDial(err) {
			d.refusedAlarm(err)
		}
		return nil, err
	}
	d.refused = dialHold{}
	d.sftp = c
	return c, nil
}

// dialHold is the backoff after the SFTP server was refused for good.
type dialHold struct {
	err   error
	wait  time.Duration
	until time.Time
}

// refusedDial reports whether a dial failed for a reason that only a
// person can fix: a host key that is wrong, unknown or revoked, a refused
// login, an unusable key.
func refusedDial(err error) bool {
	for _, target := range []error{sftpx.ErrHostKeyMismatch, sftpx.ErrUnknownHost, sftpx.ErrHostKeyRevoked,
		sftpx.ErrAuth, sftpx.ErrKey, sftpx.ErrKeyPermissions} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// refusedAlarm holds dialling back (doubling from Options.RetryMin to
// RetryMax) and raises the alarm: a warning naming the server and the host
// key it presented, and the sftp_refused count.
func (d *Daemon) refusedAlarm(err error) {
	h := &d.refused
	switch {
	case h.wait == 0:
		h.wait = d.opts.RetryMin
	default:
		h.wait = min(2*h.wait, d.opts.RetryMax)
	}
	h.err, h.until = err, time.Now().Add(h.wait)
	d.metrics.Raise(obs.AlarmSFTPRefused)
	ev := d.log.Warn().Err(err).Bool("alarm", true).Str("alarm_kind", string(obs.AlarmSFTPRefused)).
		Str(obs.FieldComponent, "sftp").Str("host", d.cfg.SFTP.Address).Str("user", d.cfg.SFTP.User).Time("next_try", h.until)
	var hke *sftpx.HostKeyError
	if errors.As(err, &hke) {
		ev = ev.Str("presented_host_key", hke.Presented)
	}
	ev.Msg("SFTP server refused: nothing is sent to it until the configuration is fixed (refundd doctor); batches wait")
}

// uploadAll uploads every batch that is sending and due.
func (d *Daemon) uploadAll(ctx, work context.Context) {
	bs, err := d.store.BatchesByStatus(work, store.BatchSending)
	if err != nil {
		d.log.Error().Err(err).Str(obs.FieldComponent, "outbound").Msg("reading the batches to upload failed")
		return
	}
	for _, b := range bs {
		if ctx.Err() != nil {
			return
		}
		if r, ok := d.retries[b.MsgID]; ok && time.Now().Before(r.at) {
			continue
		}
		d.beat()
		d.upload(work, b)
	}
}

// upload uploads the pain.001 of a batch that is sending: the same file,
// under the same name, every time, exactly once.
//
// Every attempt is recorded in the store (with the temporary name it
// writes to) before its first SFTP call that could create a file. An
// attempt whose end was never recorded (refundd stopped during it) is
// settled from the server before anything else is done (settleAttempt):
// a server that takes complete files away, as AutoPay does within
// seconds, may have taken it, so a missing file is never taken to mean
// "not uploaded". Without an open attempt, a file under the final name
// with the recorded size is this batch (sent), one of another size puts
// the batch in doubt.
func (d *Daemon) upload(ctx context.Context, b store.Batch) {
	log := d.log.With().Str(obs.FieldComponent, "outbound").Str(obs.FieldStage, "upload").
		Str(obs.FieldBatch, b.Number).Str(obs.FieldMsgID, b.MsgID).Str(obs.FieldFile, b.RemoteName).Logger()
	data, err := os.ReadFile(b.LocalPath)
	if err == nil && b.PainHash != "" {
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != b.PainHash {
			err = fmt.Errorf("%s is not the pain.001 recorded for the batch (sha256 %s, recorded %s)", b.LocalPath, hex.EncodeToString(sum[:]), b.PainHash)
		}
	}
	if err != nil {
		d.uploadFailed(b, fmt.Errorf("upload %s: %w: %w", b.MsgID, ErrConfig, err), true, log)
		return
	}
	c, err := d.client(ctx)
	if err != nil {
		d.uploadFailed(b, err, sftpx.IsPermanent(err), log)
		return
	}
	d.sftpState(nil)
	last, err := d.store.LastAttempt(ctx, b.MsgID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		log.Error().Err(err).Msg("reading the batch's upload attempts failed; tried again later")
		return
	case last.Open():
		if !d.settleAttempt(ctx, c, b, last, int64(len(data)), log) {
			return
		}
	case last.Outcome != store.AttemptSent:
		// An attempt that failed when its connection was gone could not
		// remove its temporary file, nor one that ended in doubt; the next
		// attempt writes to another name.
		if err := c.Remove(ctx, last.Temp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			log.Warn().Err(err).Str("temp", last.Temp).Msg("removing the temporary file of an earlier upload attempt failed")
		}
	}
	if fi, err := c.Stat(ctx, b.RemoteName); err == nil {
		if fi.Size() == int64(len(data)) {
			d.setBatch(ctx, b, store.BatchSent, "found on the server with the recorded size", log)
			return
		}
		d.setBatch(ctx, b, store.BatchInDoubt, fmt.Sprintf("a file of %d bytes is on the server under the name, the pain.001 has %d: "+
			"check with AutoPay which file it has, then run refundd resolve", fi.Size(), len(data)), log)
		return
	} else if !errors.Is(err, fs.ErrNotExist) {
		d.uploadFailed(b, err, sftpx.IsPermanent(err), log)
		return
	}
	// The mutation is the bug the crash test must see: the outcome
	// recorded before the upload.
	early := failpoint.Mutated(failpoint.OutcomeBeforeUpload)
	if early {
		d.setBatch(ctx, b, store.BatchSent, "", log)
	}
	failpoint.Hit(failpoint.BeforeUpload)
	var tempErr error
	a, err := d.store.BeginAttempt(ctx, b.MsgID, func(n int) string {
		tmp, err := d.cfg.SFTPConfig().TempName(b.RemoteName + ".a" + strconv.Itoa(n))
		tempErr = err
		return tmp
	})
	if err != nil {
		if tempErr != nil {
			err = tempErr
		}
		log.Error().Err(err).Msg("recording the upload attempt failed; tried again later")
		return
	}
	log = log.With().Int("attempt", a.N).Logger()
	failpoint.Hit(failpoint.AttemptRecorded)
	err = c.PutAs(ctx, b.RemoteName, a.Temp, &crashReader{data: data})
	switch {
	case err == nil:
		failpoint.Hit(failpoint.AfterRemoteRename)
		delete(d.retries, b.MsgID)
		d.metrics.Upload(obs.ResultOK, time.Now())
		log.Info().Int(obs.FieldBytes, len(data)).Msg("pain.001 uploaded")
		if !early {
			d.setBatch(ctx, b, store.BatchSent, "", log)
		}
	case errors.Is(err, sftpx.ErrTargetExists), errors.Is(err, sftpx.ErrInDoubt):
		delete(d.retries, b.MsgID)
		d.metrics.Upload(obs.ResultPermanent, time.Now())
		d.setBatch(ctx, b, store.BatchInDoubt, fmt.Sprintf("upload attempt %d: %v", a.N, err), log)
	default:
		// The rename was never sent: the file is not under its final
		// name. Its temporary file is removed by the next attempt if the
		// server still has it.
		if eerr := d.store.EndAttempt(ctx, b.MsgID, a.N, store.AttemptNotUploaded, err.Error()); eerr != nil {
			log.Error().Err(eerr).Msg("recording the end of the upload attempt failed; it is settled from the server next time")
		}
		d.uploadFailed(b, err, sftpx.IsPermanent(err), log)
	}
}

// settleAttempt settles the open upload attempt a of batch b, one that
// refundd stopped during (killed, power lost), from what the server
// holds, and reports whether a new attempt may begin:
//
//   - the final name with the recorded size: the upload completed; the
//     batch is sent;
//   - the final name with another size: in doubt;
//   - the attempt's temporary file: the rename never happened; the file
//     is removed, so that it never can, and the batch is uploaded again
//     under a new attempt;
//   - neither: the upload may have completed and the server taken the
//     file away (AutoPay does within seconds), or it may never have
//     begun. The batch is in doubt: its pain.002, a booking of one of its
//     refunds, or an operator (refundd resolve) settles it. Never a blind
//     resend.
func (d *Daemon) settleAttempt(ctx context.Context, c *sftpx.Client, b store.Batch, a store.Attempt, size int64, log zerolog.Logger) bool {
	log = log.With().Str(obs.FieldStage, "settle").Int("attempt", a.N).Logger()
	fi, err := c.Stat(ctx, b.RemoteName)
	switch {
	case err == nil && fi.Size() == size:
		d.setBatch(ctx, b, store.BatchSent, fmt.Sprintf("upload attempt %d was interrupted after the file was in place: found on the server with the recorded size", a.N), log)
		return false
	case err == nil:
		d.setBatch(ctx, b, store.BatchInDoubt, fmt.Sprintf("upload attempt %d was interrupted; a file of %d bytes is on the server under the name, the pain.001 has %d: "+
			"check with AutoPay which file it has, then run refundd resolve", a.N, fi.Size(), size), log)
		return false
	case !errors.Is(err, fs.ErrNotExist):
		d.uploadFailed(b, err, sftpx.IsPermanent(err), log)
		return false
	}
	_, err = c.Stat(ctx, a.Temp)
	switch {
	case err == nil:
		if err := c.Remove(ctx, a.Temp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			d.uploadFailed(b, err, sftpx.IsPermanent(err), log)
			return false
		}
		if err := d.store.EndAttempt(ctx, b.MsgID, a.N, store.AttemptNotUploaded, "interrupted before the rename: its temporary file "+a.Temp+" was on the server and was removed"); err != nil {
			log.Error().Err(err).Msg("recording the end of the upload attempt failed; tried again later")
			return false
		}
		log.Info().Str("temp", a.Temp).Msg("interrupted upload attempt settled: its temporary file was removed before the rename; uploaded again")
		return true
	case !errors.Is(err, fs.ErrNotExist):
		d.uploadFailed(b, err, sftpx.IsPermanent(err), log)
		return false
	}
	if failpoint.Mutated(failpoint.MissingIsNotUploaded) {
		// The bug the crash loop must see: a missing file taken as never
		// uploaded.
		if err := d.store.EndAttempt(ctx, b.MsgID, a.N, store.AttemptNotUploaded, "mutation"); err != nil {
			return false
		}
		return true
	}
	d.setBatch(ctx, b, store.BatchInDoubt, interruptedReason(a, b), log)
	return false
}

// interruptedReason says, for an operator, why a batch whose upload
// attempt a was interrupted is in doubt and what to do.
func interruptedReason(a store.Attempt, b store.Batch) string {
	return fmt.Sprintf("refundd stopped during upload attempt %d (begun %s) and the file is not on the server, "+
		"neither as %s nor as its temporary file: AutoPay may have taken it. "+
		"Wait for its pain.002 (or a booking), which settles the batch, or ask AutoPay and run "+
		"refundd resolve -sent %s (it has the file) or -release %s (it does not)",
		a.N, a.Started.Format(time.RFC3339), b.RemoteName, b.MsgID, b.MsgID)
}

// setBatch changes a batch's status and logs it.
func (d *Daemon) setBatch(ctx context.Context, b store.Batch, to store.BatchStatus, reason string, log zerolog.Logger) {
	failpoint.Hit(failpoint.BeforeBatchStatus)
	if _, err := d.store.SetBatchStatus(ctx, b.MsgID, to, reason); err != nil {
		log.Error().Err(err).Msg("recording the batch status failed")
		return
	}
	failpoint.Hit(failpoint.AfterBatchStatus)
	ev := log.Info()
	if to == store.BatchInDoubt {
		ev = log.Warn()
	}
	if reason != "" {
		ev = ev.Str("reason", reason)
	}
	ev.Str(obs.FieldStatus, string(to)).Msg("batch status changed")
}

// uploadFailed schedules the next try of a failed upload. A permanent
// failure is an alarm: it needs an operator.
func (d *Daemon) uploadFailed(b store.Batch, err error, permanent bool, log zerolog.Logger) {
	d.sftpState(err)
	r := d.retries[b.MsgID]
	switch {
	case permanent:
		r.wait = d.opts.RetryMax
	case r.wait == 0:
		r.wait = d.opts.RetryMin
	default:
		r.wait = min(2*r.wait, d.opts.RetryMax)
	}
	r.at = time.Now().Add(r.wait)
	d.retries[b.MsgID] = r
	if permanent {
		d.metrics.Upload(obs.ResultPermanent, time.Now())
		log.Error().Err(err).Bool("alarm", true).Str(obs.FieldStatus, string(b.Status)).Time("next_try", r.at).
			Msg("upload failed and needs an operator; the batch waits")
		return
	}
	d.metrics.Upload(obs.ResultTransient, time.Now())
	log.Warn().Err(err).Str(obs.FieldStatus, string(b.Status)).Time("next_try", r.at).Msg("upload failed; tried again later")
}

// resolveInDoubt looks for the pain.001 of every in-doubt batch on the
// server: there with the recorded size, the batch is sent. Otherwise it
// stays in doubt, for a pain.002 or an operator: a file the server took
// away is not proof that the bank does not have it.
func (d *Daemon) resolveInDoubt(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	bs, err := d.store.BatchesByStatus(ctx, store.BatchInDoubt)
	if err != nil || len(bs) == 0 || d.cfg.SFTP.Address == "" {
		return
	}
	log := d.log.With().Str(obs.FieldComponent, "outbound").Str(obs.FieldStage, "resolve").Logger()
	c, err := d.client(ctx)
	if err != nil {
		log.Warn().Err(err).Msg("cannot look for in-doubt batches on the server")
		return
	}
	for _, b := range bs {
		l := log.With().Str(obs.FieldBatch, b.Number).Str(obs.FieldMsgID, b.MsgID).Str(obs.FieldFile, b.RemoteName).Logger()
		fi, err := c.Stat(ctx, b.RemoteName)
		local, lerr := os.Stat(b.LocalPath)
		switch {
		case err == nil && lerr == nil && fi.Size() == local.Size():
			d.setBatch(ctx, b, store.BatchSent, "found on the server with the recorded size", l)
		default:
			l.Warn().Str(obs.FieldStatus, string(b.Status)).Msg("batch in doubt: waiting for a pain.002 or an operator (refundd resolve)")
		}
	}
}

// crashReader reads data in two halves, with the crash point DuringUpload
// between them: killed there, the server holds at most part of the
// temporary file.
type crashReader struct {
	data []byte
	off  int
}

// Read implements io.Reader.
func (r *crashReader) Read(p []byte) (int, error) {
	if r.off >= len(r.data) {
		return 0, io.EOF
	}
	half := len(r.data) / 2
	if r.off == half && half > 0 {
		failpoint.Hit(failpoint.DuringUpload)
	}
	end := len(r.data)
	if r.off < half {
		end = half
	}
	n := copy(p, r.data[r.off:end])
	r.off += n
	return n, nil
}
