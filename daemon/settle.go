package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"refundd/daemon/obs"
	"refundd/daemon/refund"
	"refundd/daemon/reply"
	"refundd/daemon/store"
)

// settleByBookings settles the batches whose upload is not known to have
// reached the bank (in doubt, or still sending) when the camt.054 or
// camt.053 at path books or mentions one of their refunds (EndToEndId or
// InstrId) or the batch itself (Btch/MsgId): the bank has the file, so
// the batch is sent. It runs before the reply is applied, so that the
// booking finds its refund sent and is posted, not turned into an
// exception. A file that cannot be read as a camt is left to reply.Process,
// which applies or refuses it.
func (d *Daemon) settleByBookings(ctx context.Context, path string, log zerolog.Logger) error {
	waiting, err := d.store.BatchesByStatus(ctx, store.BatchInDoubt, store.BatchSending)
	if err != nil || len(waiting) == 0 {
		return err
	}
	refs, err := reply.Refs(path, d.replyOptions())
	if err != nil {
		return nil // reply.Process refuses the file and says why
	}
	for _, b := range waiting {
		why := ""
		if refs[b.MsgID] {
			why = "MsgId " + b.MsgID
		} else {
			rs, err := d.store.Refunds(ctx, b.MsgID)
			if err != nil {
				return err
			}
			for _, r := range rs {
				if refs[r.EndToEndID] || (r.InstrID != "" && refs[r.InstrID]) {
					why = "EndToEndId " + r.EndToEndID
					break
				}
			}
		}
		if why == "" {
			continue
		}
		l := log.With().Str(obs.FieldBatch, b.Number).Str(obs.FieldMsgID, b.MsgID).Str(obs.FieldStage, "settle").Logger()
		d.setBatch(ctx, b, store.BatchSent, fmt.Sprintf("%s names %s of the batch: the bank has the file", filepath.Base(path), why), l)
	}
	return nil
}

// settleBatches moves the batches whose refunds the bank has all answered
// for good (none is new, sent, accepted or pending):
//
//   - to paid when every refund was booked;
//   - to settled-with-exceptions when some were booked and others
//     rejected or returned, and one of those has not been re-released;
//   - to completed when nothing is left to do (see store.BatchCompleted):
//     every refund booked, or rejected or returned and re-released since,
//     no refund left out of the batch still open, and the last booking
//     store.CompleteAfter banking days old.
//
// A batch of held refunds only (received, without refunds) is completed
// once every one was released.
func (d *Daemon) settleBatches(ctx context.Context) {
	today := refund.DateOf(d.now().In(d.cfg.Location()))
	cal := d.cfg.BankingCalendar()
	bs, err := d.store.BatchesByStatus(ctx, store.BatchReceived, store.BatchReceiptOK, store.BatchAccepted,
		store.BatchPartiallyAccepted, store.BatchPending)
	if err != nil {
		d.log.Warn().Err(err).Msg("reading the batches to settle failed")
		return
	}
	// A paid or settled batch changes only by a return, which moves it in
	// the reply's own transaction, or by being completed, which is not due
	// before CompleteAfter banking days after its last change: at least as
	// many calendar days. Only those that changed before then are read
	// (by index), so that a step's cost does not grow with the batches
	// paid.
	due, err := d.store.BatchesChangedBefore(ctx, completableBefore(today, d.cfg.Location()),
		store.BatchPaid, store.BatchSettledWithExceptions)
	if err != nil {
		d.log.Warn().Err(err).Msg("reading the batches to settle failed")
		return
	}
	for _, b := range append(bs, due...) {
		if (b.Status == store.BatchPaid || b.Status == store.BatchSettledWithExceptions) &&
			bankingDaysSince(cal, refund.DateOf(b.Updated.In(d.cfg.Location())), today) < store.CompleteAfter {
			continue
		}
		to, reason, err := d.settled(ctx, b, today)
		if err != nil {
			d.log.Warn().Err(err).Str(obs.FieldMsgID, b.MsgID).Msg("reading a batch to settle failed")
			continue
		}
		if to == "" || to == b.Status || !store.AllowedBatch(b.Status, to) {
			continue
		}
		log := d.log.With().Str(obs.FieldComponent, "inbound").Str(obs.FieldStage, "settle").
			Str(obs.FieldBatch, b.Number).Str(obs.FieldMsgID, b.MsgID).Logger()
		d.setBatch(ctx, b, to, reason, log)
	}
}

// settled returns the status batch b has earned, with the reason, or ""
// when it has none beyond its own.
func (d *Daemon) settled(ctx context.Context, b store.Batch, today refund.Date) (store.BatchStatus, string, error) {
	rs, err := d.store.Refunds(ctx, b.MsgID)
	if err != nil {
		return "", "", err
	}
	open, err := d.openNotes(ctx, b)
	if err != nil {
		return "", "", err
	}
	if b.Status == store.BatchReceived {
		if len(rs) == 0 && open == 0 {
			return store.BatchCompleted, "every refund held back was released in a later batch", nil
		}
		return "", "", nil
	}
	var booked, failed, redone int
	var last time.Time
	for _, r := range rs {
		switch r.Status {
		case refund.StatusBooked:
			booked++
			if r.Updated.After(last) {
				last = r.Updated
			}
		case refund.StatusRejected, refund.StatusReturned:
			failed++
			later, err := d.store.LaterRelease(ctx, r.DocType, r.RefNbr, r.Release)
			if err != nil {
				return "", "", err
			}
			if later {
				redone++
			}
			if r.Updated.After(last) {
				last = r.Updated
			}
		default:
			return "", "", nil // the bank has not answered for every refund yet
		}
	}
	if booked == 0 && failed == len(rs) && b.Status != store.BatchPaid && b.Status != store.BatchSettledWithExceptions {
		return "", "", nil // nothing booked: the bank's group status says it
	}
	to, reason := store.BatchPaid, "every refund booked"
	if failed > 0 {
		to, reason = store.BatchSettledWithExceptions, fmt.Sprintf("%d booked, %d rejected or returned", booked, failed)
	}
	if redone == failed && open == 0 && !last.IsZero() &&
		bankingDaysSince(d.cfg.BankingCalendar(), refund.DateOf(last.In(d.cfg.Location())), today) >= store.CompleteAfter {
		to, reason = store.BatchCompleted, fmt.Sprintf("nothing left to do: %d booked, %d paid again in later batches, last booking %d banking days ago or more",
			booked, redone, store.CompleteAfter)
	}
	return to, reason, nil
}

// openNotes returns the number of refunds left out of batch b that are
// still open.
func (d *Daemon) openNotes(ctx context.Context, b store.Batch) (int, error) {
	ns, err := d.store.Notes(ctx, b.MsgID)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range ns {
		if ns[i].Open() {
			n++
		}
	}
	return n, nil
}

// completableBefore returns the instant before which a paid or settled
// batch must have last changed for store.CompleteAfter banking days to
// have passed by today in loc: a banking day is a calendar day, so its
// last change was on today-CompleteAfter or before, before the start of
// the day after that.
func completableBefore(today refund.Date, loc *time.Location) time.Time {
	y, m, day := today.AddDays(-store.CompleteAfter + 1).Time().Date()
	return time.Date(y, m, day, 0, 0, 0, 0, loc)
}

// bankingDaysSince returns the number of banking days of cal after from,
// up to and including today.
func bankingDaysSince(cal refund.Calendar, from, today refund.Date) int {
	n := 0
	for d := from.AddDays(1); !today.Before(d) && n < 1000; d = d.AddDays(1) {
		if cal.IsBankingDay(d) {
			n++
		}
	}
	return n
}
