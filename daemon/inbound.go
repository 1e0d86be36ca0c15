package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"refundd/daemon/failpoint"
	"refundd/daemon/obs"
	"refundd/daemon/refund"
	"refundd/daemon/spool"
	"refundd/daemon/store"
	"refundd/formats"
	"refundd/sftpx"
)

// download fetches every file in the remote download folder into the
// inbox folder, durably and with a done marker, and then removes it on the
// server, or moves it into sftp.download_archive_dir when that is set. A
// crash between the two fetches the file again next time; that copy is
// not placed, since its content is in the inbox, in work/ or in the store
// already.
func (d *Daemon) download(ctx context.Context) {
	if d.cfg.SFTP.Address == "" || d.cfg.SFTP.DownloadDir == "" {
		return
	}
	log := d.log.With().Str(obs.FieldComponent, "inbound").Str(obs.FieldStage, "download").Logger()
	failed := func(err error) {
		r := obs.ResultTransient
		if sftpx.IsPermanent(err) {
			r = obs.ResultPermanent
		}
		d.metrics.Download(r, time.Now())
		d.sftpState(err)
		log.Error().Err(err).Str("result", string(r)).Msg("download failed; tried again at the next scheduled download")
	}
	c, err := d.client(ctx)
	if err != nil {
		failed(err)
		return
	}
	files, err := c.List(ctx, d.cfg.SFTP.DownloadDir, "")
	if err != nil {
		failed(err)
		return
	}
	for _, fi := range files {
		if spool.Ignored(fi.Name()) {
			continue
		}
		d.beat()
		remote := path.Join(d.cfg.SFTP.DownloadDir, fi.Name())
		name := localName(fi.Name())
		tmp := filepath.Join(d.inbox.Dir(), "."+name+".download")
		if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			failed(err)
			return
		}
		n, err := c.Get(ctx, remote, tmp)
		if fileProblem(err) {
			// This file alone: the others are still downloaded.
			log.Error().Err(err).Str(obs.FieldFile, remote).Msg("reply on the server cannot be downloaded; the others are, and it is tried again at the next download")
			continue
		}
		if err != nil {
			failed(err)
			return
		}
		failpoint.Hit(failpoint.AfterDownload)
		// A file downloaded before (its removal on the server failed, or a
		// run stopped before it) is not placed again, whether it was taken
		// or still waits in the inbox or in work/: a second copy would only
		// be refused as a duplicate.
		if known, err := d.knownContent(ctx, tmp, name); err != nil {
			failed(err)
			return
		} else if known {
			if err := os.Remove(tmp); err != nil {
				failed(err)
				return
			}
			where, err := d.takeAway(ctx, c, remote)
			if fileProblem(err) {
				log.Error().Err(err).Str(obs.FieldFile, remote).Msg("reply taken before cannot be taken away on the server; the others are downloaded")
				continue
			}
			if err != nil {
				failed(err)
				return
			}
			log.Info().Str(obs.FieldFile, remote).Func(archivedAt(where)).Msg("reply downloaded before; taken away on the server")
			continue
		}
		local, err := placeDownload(tmp, d.inbox.Dir(), name)
		if err != nil {
			failed(err)
			return
		}
		failpoint.Hit(failpoint.AfterPlace)
		where, err := d.takeAway(ctx, c, remote)
		if fileProblem(err) {
			// Placed in the inbox; taken as a duplicate at the next round.
			log.Error().Err(err).Str(obs.FieldFile, remote).Str("local", filepath.Base(local)).
				Msg("reply downloaded but cannot be taken away on the server; the others are downloaded")
			continue
		}
		if err != nil {
			failed(err)
			return
		}
		log.Info().Str(obs.FieldFile, remote).Str("local", filepath.Base(local)).Func(archivedAt(where)).
			Int64(obs.FieldBytes, n).Msg("reply downloaded")
	}
	d.metrics.Download(obs.ResultOK, time.Now())
	d.sftpState(nil)
}

// takeAway takes a downloaded reply away from the remote download folder:
// it moves it into sftp.download_archive_dir when that is set (under a
// new name when its own is taken there; nothing is overwritten) and
// returns its new path, or else removes it and returns "".
func (d *Daemon) takeAway(ctx context.Context, c *sftpx.Client, remote string) (string, error) {
	if d.cfg.SFTP.DownloadArchiveDir == "" {
		return "", c.Remove(ctx, remote)
	}
	return c.Move(ctx, remote, d.cfg.SFTP.DownloadArchiveDir)
}

// archivedAt logs where on the server a reply was moved, if it was.
func archivedAt(where string) func(*zerolog.Event) {
	return func(e *zerolog.Event) {
		if where != "" {
			e.Str("remote_archive", where)
		}
	}
}

// fileProblem reports whether err is about one remote file (refused to
// refundd, or gone since the listing) rather than the connection, so that
// the other files are still downloaded.
func fileProblem(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist)
}

// sftpState tells the readiness whether the last SFTP call worked.
func (d *Daemon) sftpState(err error) {
	if d.opts.Readiness != nil {
		d.opts.Readiness.Set("sftp", err)
	}
}

// knownContent reports whether the content of the local file path was
// taken before (the store has it) or waits to be taken under name, the
// inbox name of the reply: this very file was placed by a run that stopped
// before it took it away on the server, and is still in the inbox or in
// work/. (The same content under another name on the server is placed,
// and refused as a duplicate.)
func (d *Daemon) knownContent(ctx context.Context, path, name string) (bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	b := sha256.Sum256(data)
	sum := hex.EncodeToString(b[:])
	_, err = d.store.File(ctx, sum)
	if !errors.Is(err, store.ErrNotFound) {
		return err == nil, err
	}
	waiting, err := d.inbox.Waiting(name, int64(len(data)), sum)
	return waiting != "", err
}

// maxLocalName is the longest name a downloaded reply gets in the inbox:
// with the suffixes of its done marker, its temporary names and its .err
// report it stays within the 255 bytes of a folder entry.
const maxLocalName = 200

// localName returns the inbox name of a reply downloaded as name: name
// itself, or when it is longer than maxLocalName, spool.ShortName of it.
// The same remote name gives the same local name every time.
func localName(name string) string { return spool.ShortName(name, maxLocalName) }

// placeDownload gives the downloaded file tmp its name in dir, "name" or
// "name (2)" and so on when that is taken, never replacing a file, then
// adds its done marker and makes the folder durable.
func placeDownload(tmp, dir, name string) (string, error) {
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	for i := 1; i < 1000; i++ {
		final := filepath.Join(dir, name)
		if i > 1 {
			final = filepath.Join(dir, base+" ("+strconv.Itoa(i)+")"+ext)
		}
		err := os.Link(tmp, final)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("place download %s: %w", name, err)
		}
		if err := os.Remove(tmp); err != nil {
			return "", fmt.Errorf("place download %s: %w", name, err)
		}
		if err := os.WriteFile(final+spool.DoneSuffix, nil, 0o640); err != nil {
			return "", fmt.Errorf("place download %s: %w", name, err)
		}
		if err := syncDir(dir); err != nil {
			return "", fmt.Errorf("place download %s: %w", name, err)
		}
		return final, nil
	}
	return "", fmt.Errorf("place download %s: %w: no free name in %s", name, fs.ErrExist, dir)
}

// syncDir makes the entries of a folder durable. Its error wraps
// spool.ErrSync, which is fatal.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%w: %s: %w", spool.ErrSync, dir, err)
	}
	return nil
}

// inbound takes every reply pending in work/ or ready in the inbox.
func (d *Daemon) inbound(ctx, work context.Context) error {
	return d.takeFiles(ctx, d.inbox, "inbound", func(cl spool.Claimed, resumed bool) error {
		return d.takeReply(work, cl, resumed)
	})
}

// takeReply applies one claimed reply file: the files for the ERP are
// written (ProcessReply), then the status changes and the bank entries are
// recorded in one transaction, then the file is archived.
func (d *Daemon) takeReply(ctx context.Context, cl spool.Claimed, resumed bool) error {
	if !resumed {
		failpoint.Hit(failpoint.ReplyClaimed)
	}
	log := d.log.With().Str(obs.FieldComponent, "inbound").Str(obs.FieldFile, cl.Name).Logger()
	ok, err := d.knownFile(ctx, d.inbox, cl, store.FileReply, resumed, log)
	if err != nil || !ok {
		return err
	}
	if err := d.settleByBookings(ctx, cl.Path, log); err != nil {
		return err
	}
	look := storeRefunds{Lookup: d.store.Lookup(ctx), s: d.store, ctx: ctx}
	res, err := ProcessReply(cl.Path, ReplyDeps{Refunds: look, Seen: look, Ledger: d.cfg.LedgerAccounts(), Out: d.out, Now: d.now})
	if errors.Is(err, ErrBadReply) {
		d.metrics.Reply(res.Message.Type, obs.ReplyFailed)
		if err := d.store.FinishFile(ctx, cl.SHA256, store.FileFailed, err.Error()); err != nil {
			return err
		}
		failed, ferr := d.inbox.Fail(cl, []string{err.Error()})
		if ferr != nil {
			return ferr
		}
		log.Error().Err(err).Str(obs.FieldStage, "apply").Str("failed", failed).Msg("reply refused")
		return nil
	}
	if err != nil {
		return err
	}
	reply := store.Reply{}
	if res.Message.Type == formats.Pain002 && res.OrgnlMsgID != "" {
		to, ok := groupStatus(res.GroupStatus)
		if !ok {
			// A report of transaction statuses only: the bank has the
			// message all the same, which settles a batch in doubt.
			to, ok = store.BatchSent, true
		}
		if res.DuplicateRefusal {
			// The bank has the message: a batch in doubt (or still
			// sending) is sent; any later status stays.
			to = store.BatchSent
		}
		if ok {
			b, err := d.store.Batch(ctx, res.OrgnlMsgID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				log.Warn().Str(obs.FieldMsgID, res.OrgnlMsgID).Msg("status report for a pain.001 refundd did not send")
			case err != nil:
				return err
			case res.DuplicateRefusal:
				ev := log.Warn().Str(obs.FieldMsgID, b.MsgID).Str(obs.FieldStatus, string(b.Status)).Str("reason", "DU01")
				if b.Status != to && store.AllowedBatch(b.Status, to) {
					reply.Batches = append(reply.Batches, store.BatchStatusChange{MsgID: b.MsgID, To: to, Reason: "pain.002 RJCT DU01: the bank has the message"})
					ev = ev.Str("to", string(to))
				}
				ev.Msg("the bank refused a delivery of the batch as a duplicate: it has the message already; the refunds keep their statuses")
			case b.Status != to && store.AllowedBatch(b.Status, to):
				reason := "pain.002 " + res.GroupStatus
				if res.GroupStatus == "" {
					reason = "pain.002 without a group status: the bank has the message"
				}
				reply.Batches = append(reply.Batches, store.BatchStatusChange{MsgID: b.MsgID, To: to, Reason: reason})
			case b.Status != to && res.GroupStatus == "":
			case b.Status != to:
				log.Info().Str(obs.FieldMsgID, b.MsgID).Str(obs.FieldStatus, string(b.Status)).Str("reported", string(to)).
					Msg("batch status not changed: the report is older than what refundd knows")
			}
		}
	}
	for _, s := range res.Statuses {
		reply.Refunds = append(reply.Refunds, store.RefundStatusChange{EndToEndID: s.EndToEndID, To: s.Status, Code: s.ReasonCode, Text: s.ReasonText})
	}
	for _, k := range res.Keys {
		reply.Keys = append(reply.Keys, store.AppliedKey{Key: k})
	}
	failpoint.Hit(failpoint.BeforeApply)
	applied, err := d.store.ApplyReply(ctx, cl.SHA256, reply)
	if err != nil {
		return err
	}
	failpoint.Hit(failpoint.AfterApply)
	archived, err := d.inbox.Done(cl, "")
	if err != nil {
		return err
	}
	d.metrics.Reply(res.Message.Type, obs.ReplyProcessed)
	d.metrics.Postings(res.Counts.Payments + res.Counts.Returns + res.Counts.Charges)
	for _, c := range applied.Changes {
		ev := log.Info().Str(obs.FieldStage, "apply").Str("subject", string(c.Subject)).Str(obs.FieldStatus, c.To).Str("from", c.From)
		if c.Subject == store.SubjectBatch {
			ev = ev.Str(obs.FieldMsgID, c.ID)
		} else {
			ev = ev.Str(obs.FieldE2E, c.ID)
		}
		ev.Msg("status changed")
	}
	log.Info().Str(obs.FieldStage, "apply").Str("message", res.Message.String()).Str(obs.FieldMsgID, res.MsgID).
		Int("changes", len(applied.Changes)).Int("payments", res.Counts.Payments).Int("returns", res.Counts.Returns).
		Int("exceptions", res.Counts.Exceptions).Int("duplicates", res.Counts.Duplicates).
		Strs("written", res.Files.Names()).Str("archived", archived).Msg("reply applied")
	return nil
}

// groupStatus maps a pain.002 group status to the batch status.
func groupStatus(code string) (store.BatchStatus, bool) {
	switch code {
	case "ACTC":
		return store.BatchReceiptOK, true
	case "ACCP", "ACSP", "ACSC", "ACWC", "ACFC":
		return store.BatchAccepted, true
	case "PART":
		return store.BatchPartiallyAccepted, true
	case "RJCT":
		return store.BatchRejectedByBank, true
	case "PDNG":
		return store.BatchPending, true
	}
	return "", false
}

// storeRefunds is the store as ProcessReply needs it: the store's Lookup
// with the refunds of a message.
type storeRefunds struct {
	store.Lookup
	s interface {
		Refunds(ctx context.Context, msgID string) ([]store.Refund, error)
	}
	ctx context.Context
}

// ByMsgID implements MessageRefunds.
func (l storeRefunds) ByMsgID(msgID string) ([]refund.Sent, error) {
	rs, err := l.s.Refunds(l.ctx, msgID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]refund.Sent, len(rs))
	for i := range rs {
		out[i] = rs[i].Sent
	}
	return out, nil
}
