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
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"refundd/daemon/config"
	"refundd/daemon/failpoint"
	"refundd/daemon/obs"
	"refundd/daemon/store"
	"refundd/sftpx"
)

// uploadAll uploads every batch that is sending and due.
func (d *Daemon) uploadAll(ctx, work context.Context) {
	bs, err := d.store.BatchesByStatus(work, store.BatchSending)
	if err != nil {
		d.log.Error().Err(err).Str(obs.FieldComponent, "outbound").Msg("reading the batches to upload failed")
		return
	}
	var group []store.Batch
	for _, b := range bs {
		if ctx.Err() != nil {
			return
		}
		if r, ok := d.retries[b.MsgID]; ok && time.Now().Before(r.at) {
			continue
		}
		d.beat()
		if group = append(group, b); len(group) == uploadGroup {
			d.uploadMany(work, group)
			group = group[:0]
		}
	}
	d.uploadMany(work, group)
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
	if d.leading() != nil {
		return
	}
	data, ok := d.recordedPain(ctx, b, log)
	if !ok {
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
	if d.settledByFinal(ctx, c, b, "", int64(len(data)), log) {
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
	a, err := d.store.BeginAttempt(ctx, b.MsgID, func(n int, epoch int64) string {
		if !d.cfg.Postgres() {
			epoch = 0 // one instance: the attempt number alone tells attempts apart
		}
		tmp, err := attemptTemp(d.cfg, b.RemoteName, n, epoch)
		tempErr = err
		return tmp
	})
	if err != nil {
		if tempErr != nil {
			err = fmt.Errorf("begin upload attempt of batch %s: %w", b.MsgID, tempErr)
		}
		if errors.Is(err, store.ErrNotLeader) {
			d.lead.lose(fmt.Errorf("%w: %w", ErrLeadershipLost, err))
			log.Error().Err(err).Msg("not uploaded: this instance no longer leads")
			return
		}
		log.Error().Err(err).Msg("recording the upload attempt failed; tried again later")
		return
	}
	log = log.With().Int("attempt", a.N).Logger()
	failpoint.Hit(failpoint.AttemptRecorded)
	if d.leading() != nil {
		return // the attempt stays open: the next leader settles it from the server
	}
	err = c.PutChecked(ctx, b.RemoteName, a.Temp, &crashReader{data: data}, func() error {
		failpoint.Hit(failpoint.BeforeRename)
		return d.leading()
	})
	switch {
	case errors.Is(err, ErrLeadershipLost):
		// Stopped before the rename; its temporary file is removed (best
		// effort). Nothing is recorded: the next leader settles the open
		// attempt from the server.
		log.Error().Err(err).Msg("upload stopped before the rename: this instance no longer leads")
	case err == nil:
		failpoint.Hit(failpoint.AfterRemoteRename)
		delete(d.retries, b.MsgID)
		d.uploaded(obs.ResultOK)
		log.Info().Int(obs.FieldBytes, len(data)).Msg("pain.001 uploaded")
		if !early {
			d.setBatch(ctx, b, store.BatchSent, "", log)
		}
	case errors.Is(err, sftpx.ErrTargetExists), errors.Is(err, sftpx.ErrInDoubt):
		delete(d.retries, b.MsgID)
		d.uploaded(obs.ResultInDoubt)
		d.setBatch(ctx, b, store.BatchInDoubt, fmt.Sprintf("upload attempt %d: %v", a.N, err), log)
	default:
		// The file is not under its final name: the rename was never sent,
		// or the server refused it. Its temporary file is removed before
		// the next attempt if the server still has it.
		if eerr := d.store.EndAttempt(ctx, b.MsgID, a.N, store.AttemptNotUploaded, err.Error()); eerr != nil {
			log.Error().Err(eerr).Msg("recording the end of the upload attempt failed; it is settled from the server next time")
		}
		d.uploadFailed(b, err, sftpx.IsPermanent(err), log)
	}
}

// recordedPain returns the pain.001 recorded for batch b, checked against
// its recorded hash; false when there is none to upload now (the failure
// is logged, and a retry scheduled where one can help).
func (d *Daemon) recordedPain(ctx context.Context, b store.Batch, log zerolog.Logger) ([]byte, bool) {
	data, err := d.store.Pain(ctx, b.MsgID)
	if err != nil && !errors.Is(err, store.ErrCorrupt) {
		log.Error().Err(err).Msg("reading the recorded pain.001 failed; tried again later")
		return nil, false
	}
	if err == nil && data == nil { // recorded by an earlier version: the outbox holds it
		data, err = os.ReadFile(b.LocalPath)
	}
	if err == nil && b.PainHash != "" {
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != b.PainHash {
			err = fmt.Errorf("%s is not the pain.001 recorded for the batch (sha256 %s, recorded %s)", b.LocalPath, hex.EncodeToString(sum[:]), b.PainHash)
		}
	}
	if err != nil {
		d.uploadFailed(b, fmt.Errorf("upload %s: the recorded pain.001: %w", b.MsgID, err), true, log)
		return nil, false
	}
	return data, true
}

// settleAttempt settles the open upload attempt a of batch b, one whose
// outcome was never recorded (refundd stopped during it, or the store
// could not be written), from what the server holds, and reports whether
// a new attempt may begin:
//
//   - the final name with the recorded size: the upload completed; the
//     batch is sent;
//   - the final name with another size: in doubt;
//   - the attempt's temporary file, removed now: the rename never
//     happened and now never can; the batch is uploaded again under a new
//     attempt;
//   - neither: the upload may have completed and the server taken the
//     file away (AutoPay does within seconds), or it may never have
//     begun. The batch is in doubt: its pain.002, a booking of one of its
//     refunds, or an operator (refundd resolve) settles it. Never a blind
//     resend.
func (d *Daemon) settleAttempt(ctx context.Context, c *sftpx.Client, b store.Batch, a store.Attempt, size int64, log zerolog.Logger) bool {
	log = log.With().Str(obs.FieldStage, "settle").Int("attempt", a.N).Logger()
	how := fmt.Sprintf("upload attempt %d did not record its outcome: ", a.N)
	if d.settledByFinal(ctx, c, b, how, size, log) {
		return false
	}
	// The removal itself, not a look beforehand, tells whether the
	// temporary file was there: a rename of the attempt that was delayed in
	// the network could land between a look and the removal. The removal
	// is also the fence against an earlier leader that is still at work on
	// this attempt: its rename finds no file to rename.
	if d.leading() != nil {
		return false
	}
	err := c.Remove(ctx, a.Temp)
	switch {
	case err == nil:
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
	// No temporary file: look at the final name once more, in case the
	// rename landed since the first look.
	if d.settledByFinal(ctx, c, b, how, size, log) {
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

// settledByFinal looks for the pain.001 of batch b under its final name
// and settles the batch by what it finds, the reason starting with how:
// the recorded size is sent, another size in doubt. It reports whether it
// settled the batch, or could not look (the failure is scheduled for a
// retry); false means the final name does not exist.
func (d *Daemon) settledByFinal(ctx context.Context, c *sftpx.Client, b store.Batch, how string, size int64, log zerolog.Logger) bool {
	fi, err := c.Stat(ctx, b.RemoteName)
	switch {
	case err == nil && fi.Size() == size:
		d.setBatch(ctx, b, store.BatchSent, how+"found on the server with the recorded size", log)
	case err == nil:
		d.setBatch(ctx, b, store.BatchInDoubt, how+fmt.Sprintf("a file of %d bytes is on the server under the name, the pain.001 has %d: "+
			"check with AutoPay which file it has, then run refundd resolve", fi.Size(), size), log)
	case !errors.Is(err, fs.ErrNotExist):
		d.uploadFailed(b, err, sftpx.IsPermanent(err), log)
	default:
		return false
	}
	return true
}

// attemptTemp returns the remote temporary name of upload attempt n to
// remote at leadership epoch: the configured pattern applied to the name
// with the epoch and the attempt (".RFD-….xml.e3.a2.part" by default), so
// that each attempt, and each leader's, has its own.
func attemptTemp(cfg *config.Config, remote string, n int, epoch int64) (string, error) {
	name := remote
	if epoch > 0 {
		name += ".e" + strconv.FormatInt(epoch, 10)
	}
	return cfg.SFTPConfig().TempName(name + ".a" + strconv.Itoa(n))
}

// interruptedReason says, for an operator, why a batch whose upload
// attempt a was interrupted is in doubt and what to do.
func interruptedReason(a store.Attempt, b store.Batch) string {
	return fmt.Sprintf("upload attempt %d (begun %s) did not record its outcome (refundd stopped during it, or the store could not be written) and the file is not on the server, "+
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
	if to != store.BatchSending {
		delete(d.retries, b.MsgID) // nothing to upload any more
	}
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
		d.uploaded(obs.ResultPermanent)
		log.Error().Err(err).Bool("alarm", true).Str(obs.FieldStatus, string(b.Status)).Time("next_try", r.at).
			Msg("upload failed and needs an operator; the batch waits")
		return
	}
	d.uploaded(obs.ResultTransient)
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
