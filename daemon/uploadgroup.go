package daemon

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/rs/zerolog"

	"refundd/daemon/failpoint"
	"refundd/daemon/obs"
	"refundd/daemon/store"
	"refundd/sftpx"
)

// Batches that wait for their first upload are uploaded in groups: the
// attempts of a group are recorded in one store transaction, its files
// are in flight together over the one SFTP connection, and the batches it
// sent are recorded sent in one transaction. A burst of small batches
// then costs two flushes of the store to disk per group instead of two
// per batch, and the round trips of its uploads overlap.
//
// The flushes to disk left per group, and why each stays:
//
//   - the commit of the attempts: each must be durable before the SFTP
//     call that could create its file, so that after a crash the attempt
//     is settled from the server and never repeated blindly;
//   - the server's flush of each file (fsync@openssh.com, on the bank's
//     disk, one per file): the file must be whole there before it appears
//     under its final name, where AutoPay takes it at once;
//   - the commit of the batches sent: without it a crash leaves the
//     attempts open, and a file the bank took meanwhile puts the batch in
//     doubt for an operator.
const (
	// uploadGroup is the most batches uploaded as one group.
	uploadGroup = 64
	// uploadsInFlight is the most uploads of a group in flight at once.
	uploadsInFlight = 16
)

// uploads runs passes of uploadAll in a goroutine of its own while a step
// takes the files of the export folder, so that the uploads of the
// batches recorded first overlap the taking of the others (the waits for
// the disk and for the server). Only uploads touch the SFTP client and the
// retries; the store is safe for concurrent use.
type uploads struct {
	kicks chan struct{}
	done  chan struct{}
	last  bool // a last pass when done is closed; set before
	wg    sync.WaitGroup
	once  sync.Once
}

// startUploads starts the goroutine of the uploads of a step.
func (d *Daemon) startUploads(ctx, work context.Context) *uploads {
	u := &uploads{kicks: make(chan struct{}, 1), done: make(chan struct{})}
	u.wg.Go(func() {
		defer func() {
			if r := recover(); r != nil {
				d.log.Error().Str("panic", fmt.Sprint(r)).Bytes("stack", debug.Stack()).Msg("uploads failed with a panic; the next step runs as usual")
			}
		}()
		for {
			select {
			case <-u.kicks:
				d.uploadAll(ctx, work)
			case <-u.done:
				if u.last {
					d.uploadAll(ctx, work)
				}
				return
			}
		}
	})
	return u
}

// kick asks for a pass of uploadAll: batches were recorded.
func (u *uploads) kick() {
	select {
	case u.kicks <- struct{}{}:
	default: // a pass is asked for already
	}
}

// finish ends the uploads, after a last pass when last, and waits for
// them. Only the first call counts.
func (u *uploads) finish(last bool) {
	u.once.Do(func() {
		u.last = last
		close(u.done)
		u.wg.Wait()
	})
}

// groupItem is a batch of an upload group.
type groupItem struct {
	b    store.Batch
	data []byte // the recorded pain.001
	log  zerolog.Logger
	a    store.Attempt
}

// uploadMany uploads the sending batches bs. A batch with an upload
// attempt recorded before (one to settle, or one that failed) is uploaded
// on its own (upload); the others, that never had an attempt, as one
// group, with the same rules as upload: each attempt recorded before any
// SFTP call that could create its file, each file to its own temporary
// name, flushed, size-checked and renamed, and its outcome recorded after.
func (d *Daemon) uploadMany(ctx context.Context, bs []store.Batch) {
	if len(bs) == 0 || d.leading() != nil {
		return
	}
	var items []groupItem
	for _, b := range bs {
		log := d.log.With().Str(obs.FieldComponent, "outbound").Str(obs.FieldStage, "upload").
			Str(obs.FieldBatch, b.Number).Str(obs.FieldMsgID, b.MsgID).Str(obs.FieldFile, b.RemoteName).Logger()
		if _, err := d.store.LastAttempt(ctx, b.MsgID); !errors.Is(err, store.ErrNotFound) {
			d.upload(ctx, b) // an attempt to settle, or one that failed (or the store could not tell)
			continue
		}
		data, ok := d.recordedPain(ctx, b, log)
		if !ok {
			continue
		}
		items = append(items, groupItem{b: b, data: data, log: log})
	}
	if len(items) == 1 {
		d.upload(ctx, items[0].b)
		return
	}
	if len(items) == 0 {
		return
	}
	c, err := d.client(ctx)
	if err != nil {
		for _, it := range items {
			d.uploadFailed(it.b, err, sftpx.IsPermanent(err), it.log)
		}
		return
	}
	d.sftpState(nil)
	// The mutation is the bug the crash test must see: the outcome
	// recorded before the upload.
	early := failpoint.Mutated(failpoint.OutcomeBeforeUpload)
	if early {
		for _, it := range items {
			d.setBatch(ctx, it.b, store.BatchSent, "", it.log)
		}
	}
	failpoint.Hit(failpoint.BeforeUpload)
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.b.MsgID
	}
	remote := make(map[string]string, len(items))
	for _, it := range items {
		remote[it.b.MsgID] = it.b.RemoteName
	}
	var tempErr error
	as, err := d.store.BeginAttempts(ctx, ids, func(msgID string, n int, epoch int64) string {
		if !d.cfg.Postgres() {
			epoch = 0 // one instance: the attempt number alone tells attempts apart
		}
		tmp, err := attemptTemp(d.cfg, remote[msgID], n, epoch)
		if err != nil && tempErr == nil {
			tempErr = err
		}
		return tmp
	})
	log := d.log.With().Str(obs.FieldComponent, "outbound").Str(obs.FieldStage, "upload").Logger()
	switch {
	case err != nil && tempErr != nil:
		log.Error().Err(fmt.Errorf("%w: %w", err, tempErr)).Msg("recording the upload attempts failed; tried again later")
		return
	case errors.Is(err, store.ErrNotLeader):
		d.lead.lose(fmt.Errorf("%w: %w", ErrLeadershipLost, err))
		log.Error().Err(err).Msg("not uploaded: this instance no longer leads")
		return
	case err != nil:
		// A batch of the group could not begin its attempt (it left
		// sending meanwhile, or the store failed): nothing was recorded,
		// and each batch is uploaded on its own, which says why.
		log.Warn().Err(err).Int("batches", len(items)).Msg("recording the upload attempts of a group failed; the batches are uploaded one by one")
		for _, it := range items {
			d.upload(ctx, it.b)
		}
		return
	}
	failpoint.Hit(failpoint.AttemptRecorded)
	if d.leading() != nil {
		return // the attempts stay open: the next leader settles them from the server
	}
	ups := make([]sftpx.Upload, len(items))
	for i := range items {
		it := &items[i]
		it.a = as[i]
		it.log = it.log.With().Int("attempt", it.a.N).Logger()
		ups[i] = sftpx.Upload{Name: it.b.RemoteName, Tmp: it.a.Temp, R: &crashReader{data: it.data}, Check: func() error {
			failpoint.Hit(failpoint.BeforeRename)
			return d.leading()
		}}
	}
	errs := c.PutAll(ctx, ups, uploadsInFlight)
	var sent []groupItem
	for i, err := range errs {
		it := items[i]
		switch {
		case errors.Is(err, ErrLeadershipLost):
			it.log.Error().Err(err).Msg("upload stopped before the rename: this instance no longer leads")
		case err == nil:
			failpoint.Hit(failpoint.AfterRemoteRename)
			delete(d.retries, it.b.MsgID)
			d.uploaded(obs.ResultOK)
			it.log.Info().Int(obs.FieldBytes, len(it.data)).Msg("pain.001 uploaded")
			if !early {
				sent = append(sent, it)
			}
		case errors.Is(err, sftpx.ErrTargetExists) && d.settledByFinal(ctx, c, it.b, "", int64(len(it.data)), it.log):
			// A file under the final name (put there by an earlier
			// version that recorded no attempts): settled by its size.
		case errors.Is(err, sftpx.ErrTargetExists), errors.Is(err, sftpx.ErrInDoubt):
			delete(d.retries, it.b.MsgID)
			d.uploaded(obs.ResultInDoubt)
			d.setBatch(ctx, it.b, store.BatchInDoubt, fmt.Sprintf("upload attempt %d: %v", it.a.N, err), it.log)
		default:
			// The file is not under its final name: the rename was never
			// sent, or the server refused it.
			if eerr := d.store.EndAttempt(ctx, it.b.MsgID, it.a.N, store.AttemptNotUploaded, err.Error()); eerr != nil {
				it.log.Error().Err(eerr).Msg("recording the end of the upload attempt failed; it is settled from the server next time")
			}
			d.uploadFailed(it.b, err, sftpx.IsPermanent(err), it.log)
		}
	}
	d.setSent(ctx, sent)
}

// setSent records the batches of items sent, in one transaction; when
// that fails, each on its own (setBatch logs a batch that cannot change).
func (d *Daemon) setSent(ctx context.Context, items []groupItem) {
	if len(items) == 0 {
		return
	}
	failpoint.Hit(failpoint.BeforeBatchStatus)
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.b.MsgID
	}
	if err := d.store.SetBatchStatuses(ctx, ids, store.BatchSent, ""); err != nil {
		d.log.Warn().Err(err).Str(obs.FieldComponent, "outbound").Int("batches", len(items)).
			Msg("recording a group of batches sent failed; each is recorded on its own")
		for _, it := range items {
			d.setBatch(ctx, it.b, store.BatchSent, "", it.log)
		}
		return
	}
	failpoint.Hit(failpoint.AfterBatchStatus)
	for _, it := range items {
		delete(d.retries, it.b.MsgID)
		it.log.Info().Str(obs.FieldStatus, string(store.BatchSent)).Msg("batch status changed")
	}
}
