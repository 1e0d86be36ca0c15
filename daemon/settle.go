package daemon

import (
	"context"
	"fmt"
	"path/filepath"

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
	refs, err := reply.Refs(path)
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

// settleBatches moves a batch whose refunds the bank has all answered
// for good to paid: none is waiting (new, sent, accepted, pending) and at
// least one was booked.
func (d *Daemon) settleBatches(ctx context.Context) {
	bs, err := d.store.BatchesByStatus(ctx, store.BatchReceiptOK, store.BatchAccepted, store.BatchPartiallyAccepted, store.BatchPending)
	if err != nil {
		d.log.Warn().Err(err).Msg("reading the batches to settle failed")
		return
	}
	for _, b := range bs {
		rs, err := d.store.Refunds(ctx, b.MsgID)
		if err != nil {
			d.log.Warn().Err(err).Msg("reading the batches to settle failed")
			return
		}
		waiting, booked := false, false
		for _, r := range rs {
			switch r.Status {
			case refund.StatusBooked, refund.StatusReturned:
				booked = true
			case refund.StatusRejected:
			default:
				waiting = true
			}
		}
		if waiting || !booked || !store.AllowedBatch(b.Status, store.BatchPaid) {
			continue
		}
		log := d.log.With().Str(obs.FieldComponent, "inbound").Str(obs.FieldStage, "settle").
			Str(obs.FieldBatch, b.Number).Str(obs.FieldMsgID, b.MsgID).Logger()
		d.setBatch(ctx, b, store.BatchPaid, "every refund booked or rejected", log)
	}
}
