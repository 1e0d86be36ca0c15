package daemon

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/rs/zerolog"

	"refundd/daemon/erp"
	"refundd/daemon/reply"

	"refundd/daemon/failpoint"
	"refundd/daemon/obs"
	"refundd/daemon/refund"
	"refundd/daemon/spool"
	"refundd/daemon/store"
	"refundd/formats"
)

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
	if limit := d.cfg.Limits.MaxReplyBytes(); cl.Size > limit {
		// Refused before its content is recorded, so that the same file
		// is taken when it is dropped again under a raised limit.
		return d.refuseReply(cl, fmt.Errorf("%w: %w", reply.ErrBadReply, reply.TooLarge(cl.Name, cl.Size, limit)), log)
	}
	ok, err := d.knownFile(ctx, d.inbox, cl, store.FileReply, resumed, log)
	if err != nil || !ok {
		return err
	}
	if err := d.settleByBookings(ctx, cl.Path, log); err != nil {
		return err
	}
	if err := d.leading(); err != nil {
		return err // before the files for the ERP are written
	}
	look := storeRefunds{Lookup: d.store.Lookup(ctx), s: d.store, ctx: ctx}
	res, err := reply.Process(cl.Path, reply.Deps{Refunds: look, Seen: look, Ledger: d.cfg.LedgerAccounts(), Out: d.out, Now: d.now,
		Options: d.replyOptions()})
	if errors.Is(err, reply.ErrBadReply) {
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
		if !ok || res.DuplicateRefusal {
			// No group status refundd maps (none given: transaction
			// statuses only), or the refusal of a second delivery: either
			// way the bank has the message, which settles a batch in doubt
			// (or still sending); any later status stays.
			to = store.BatchSent
		}
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
			switch {
			case res.GroupStatus == "":
				reason = "pain.002 without a group status: the bank has the message"
			case !ok:
				reason = "pain.002 with group status " + res.GroupStatus + ", which refundd does not map: the bank has the message"
			}
			reply.Batches = append(reply.Batches, store.BatchStatusChange{MsgID: b.MsgID, To: to, Reason: reason})
		case b.Status != to && !ok:
			// A batch past sent: a report without a group status says
			// nothing new of it.
		case b.Status != to:
			log.Info().Str(obs.FieldMsgID, b.MsgID).Str(obs.FieldStatus, string(b.Status)).Str("reported", string(to)).
				Msg("batch status not changed: the report is older than what refundd knows")
		}
	}
	for _, s := range res.Statuses {
		reply.Refunds = append(reply.Refunds, store.RefundStatusChange{EndToEndID: s.EndToEndID, To: s.Status, Code: s.ReasonCode, Text: s.ReasonText})
	}
	reply.Keys = make([]store.AppliedKey, len(res.Keys))
	for i, k := range res.Keys {
		m := res.Matched[k]
		reply.Keys[i] = store.AppliedKey{Key: k, Kind: m.Kind, EndToEndID: m.EndToEndID}
	}
	res.Keys = nil // a statement's keys are held once, in reply.Keys
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
	if !applied.AlreadyApplied {
		for reason, n := range res.ExceptionReasons {
			for range n {
				d.metrics.Exception(refund.Reason(reason))
			}
		}
	}
	sum := logChanges(log, applied.Changes, res.Statuses)
	ev := log.Info().Str(obs.FieldStage, "apply").Str("message", res.Message.String()).Str(obs.FieldMsgID, res.MsgID).
		Int("changes", len(applied.Changes)).Int("payments", res.Counts.Payments).Int("returns", res.Counts.Returns).
		Int("exceptions", res.Counts.Exceptions).Int("duplicates", res.Counts.Duplicates)
	if res.OrgnlMsgID != "" {
		ev = ev.Str("orgnl_msg_id", res.OrgnlMsgID)
	}
	sum.add(ev)
	ev.Strs("written", res.Files.Names()).Str("archived", archived).Msg("reply applied")
	return nil
}

// changeSummary is what a reply changed, for its one summary line: the
// refunds by their new status, and the amounts booked and returned by
// currency.
type changeSummary struct {
	refunds  map[string]int
	booked   map[refund.Currency]int64
	returned map[refund.Currency]int64
}

// add adds the summary to ev: refunds {status: count}, and booked and
// returned {currency: amount} when there are any.
func (s changeSummary) add(ev *zerolog.Event) {
	counts := zerolog.Dict()
	for _, st := range slices.Sorted(maps.Keys(s.refunds)) {
		counts = counts.Int(st, s.refunds[st])
	}
	ev.Dict("refunds", counts)
	for _, t := range []struct {
		name   string
		totals map[refund.Currency]int64
	}{{"booked", s.booked}, {"returned", s.returned}} {
		name, totals := t.name, t.totals
		if len(totals) == 0 {
			continue
		}
		d := zerolog.Dict()
		for _, c := range slices.Sorted(maps.Keys(totals)) {
			d = d.Str(string(c), refund.Amount{Minor: totals[c], Currency: c}.String())
		}
		ev.Dict(name, d)
	}
}

// logChanges logs the status changes a reply made, so that a reply of
// 10,000 refunds is not 10,000 lines at info: a batch's change at info; a
// refund that needs someone to act (rejected or returned: fix the account,
// release it again) at warn, each with its RefNbr, EndToEndId and the
// bank's reason; every other refund's change at debug. It returns the
// summary for the reply's one info line.
func logChanges(log zerolog.Logger, changes []store.Change, rows []erp.StatusRow) changeSummary {
	byE2E := make(map[string]*erp.StatusRow, len(rows))
	for i := range rows {
		byE2E[rows[i].EndToEndID] = &rows[i]
	}
	sum := changeSummary{refunds: map[string]int{}, booked: map[refund.Currency]int64{}, returned: map[refund.Currency]int64{}}
	for _, c := range changes {
		if c.Subject == store.SubjectBatch {
			log.Info().Str(obs.FieldStage, "apply").Str("subject", string(c.Subject)).Str(obs.FieldStatus, c.To).Str("from", c.From).
				Str(obs.FieldMsgID, c.ID).Msg("status changed")
			continue
		}
		sum.refunds[c.To]++
		row := byE2E[c.ID]
		if row == nil {
			row = &erp.StatusRow{EndToEndID: c.ID}
		}
		switch refund.Status(c.To) {
		case refund.StatusBooked:
			if row.Booked.Currency != "" {
				sum.booked[row.Booked.Currency] += row.Booked.Minor
			}
		case refund.StatusReturned:
			if row.Booked.Currency != "" {
				sum.returned[row.Booked.Currency] += row.Booked.Minor
			}
		}
		switch refund.Status(c.To) {
		case refund.StatusRejected, refund.StatusReturned:
			what := "refund rejected by the bank"
			if c.To == string(refund.StatusReturned) {
				what = "refund returned by the payee's bank"
			}
			log.Warn().Str(obs.FieldStage, "apply").Str(obs.FieldRef, row.RefNbr).Str(obs.FieldE2E, c.ID).Str(obs.FieldBatch, row.Batch).
				Str(obs.FieldStatus, c.To).Str("from", c.From).Str("reason_code", row.ReasonCode).Str("reason", row.ReasonText).
				Str("action", "correct the payee's account in the ERP if the reason asks, then pay it again: refundd rerelease "+c.ID).
				Msg(what)
		default:
			log.Debug().Str(obs.FieldStage, "apply").Str("subject", string(c.Subject)).Str(obs.FieldStatus, c.To).Str("from", c.From).
				Str(obs.FieldE2E, c.ID).Msg("status changed")
		}
	}
	return sum
}

// replyOptions are the limits within which replies are read: the size
// limit of limits.max_reply_size, the defaults of package formats for the
// rest.
func (d *Daemon) replyOptions() formats.Options {
	return formats.Options{MaxBytes: d.cfg.Limits.MaxReplyBytes()}
}

// refuseReply moves a claimed reply that is refused before it is read
// to failed/, with err as its reason.
func (d *Daemon) refuseReply(cl spool.Claimed, err error, log zerolog.Logger) error {
	d.metrics.Reply("", obs.ReplyFailed)
	failed, ferr := d.inbox.Fail(cl, []string{err.Error()})
	if ferr != nil {
		return ferr
	}
	log.Error().Err(err).Str(obs.FieldStage, "claim").Int64(obs.FieldBytes, cl.Size).Str("failed", failed).Msg("reply refused")
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

// ByMsgID implements reply.MessageRefunds.
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
