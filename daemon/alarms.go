package daemon

import (
	"context"
	"fmt"
	"time"

	"refundd/daemon/obs"
	"refundd/daemon/refund"
	"refundd/daemon/store"
)

// checkAlarms warns about answers from the bank that are overdue: a batch
// recorded for upload that is not known to be on the bank's server after
// alarms.status_within (still sending, or in doubt), a batch
// sent without a pain.002 for longer than alarms.status_within, and a
// refund accepted without a booking for more than
// alarms.booking_within_days banking days after its execution date. Each
// batch or refund is warned about once per run; the overdue gauges hold
// how many are overdue now. The alarms due are recorded in the store: each
// new one raised, each no longer due cleared, with an event each that the
// webhooks announce.
func (d *Daemon) checkAlarms(ctx context.Context) {
	now := d.now()
	log := d.log.With().Str(obs.FieldComponent, "alarms").Logger()
	// due are the alarms due now; once every check is done they are
	// recorded, each raised or cleared with its event, for the webhooks.
	var due []store.Alarm
	alarm := func(kind obs.Alarm, subject, detail string) {
		due = append(due, store.Alarm{Key: store.AlarmKey(string(kind), subject), Kind: string(kind), Subject: subject, Detail: detail})
	}
	sent, err := d.store.BatchesByStatus(ctx, store.BatchSent)
	if err != nil {
		log.Warn().Err(err).Msg("checking the alarms failed")
		return
	}
	var overdue []obs.Overdue
	noStatus := 0
	for _, b := range sent {
		if !statusOverdue(b.Sent, now, d.cfg.Alarms.StatusWithin) {
			continue
		}
		noStatus++
		overdue = append(overdue, obs.Overdue{Kind: obs.AlarmNoStatus, Batch: b.Number, MsgID: b.MsgID, Since: b.Sent,
			Detail: "no status report from the bank within " + d.cfg.Alarms.StatusWithin.String() + " of the upload"})
		alarm(obs.AlarmNoStatus, b.MsgID, "no status report from the bank for batch "+b.Number+" sent "+
			b.Sent.UTC().Format(time.RFC3339)+" (alarms.status_within "+d.cfg.Alarms.StatusWithin.String()+")")
		if key := "status " + b.MsgID; !d.alarmed[key] {
			d.alarmed[key] = true
			d.metrics.Raise(obs.AlarmNoStatus)
			log.Warn().Bool("alarm", true).Str("alarm_kind", string(obs.AlarmNoStatus)).Str(obs.FieldBatch, b.Number).
				Str(obs.FieldMsgID, b.MsgID).Time("sent", b.Sent).Str("status_within", d.cfg.Alarms.StatusWithin.String()).
				Msg("no status report from the bank for a sent batch")
		}
	}
	d.metrics.SetOverdue(obs.AlarmNoStatus, noStatus)

	unsent, err := d.store.BatchesByStatus(ctx, store.BatchSending, store.BatchInDoubt)
	if err != nil {
		log.Warn().Err(err).Msg("checking the alarms failed")
		return
	}
	notSent := 0
	for _, b := range unsent {
		if !statusOverdue(b.Created, now, d.cfg.Alarms.StatusWithin) {
			continue
		}
		notSent++
		detail := "not known to be at the bank " + d.cfg.Alarms.StatusWithin.String() + " after it was recorded: its uploads keep failing"
		if b.Status == store.BatchInDoubt {
			detail = "in doubt, not known to be at the bank: " + b.Reason
		}
		overdue = append(overdue, obs.Overdue{Kind: obs.AlarmNotSent, Batch: b.Number, MsgID: b.MsgID, Since: b.Created, Detail: detail})
		if b.Status == store.BatchInDoubt {
			alarm(obs.AlarmNotSent, b.MsgID, "batch "+b.Number+" in doubt, not known to be at the bank: "+b.Reason)
		} else {
			alarm(obs.AlarmNotSent, b.MsgID, "batch "+b.Number+" not known to be at the bank: its uploads keep failing")
		}
		if key := "unsent " + b.MsgID; !d.alarmed[key] {
			d.alarmed[key] = true
			d.metrics.Raise(obs.AlarmNotSent)
			ev := log.Warn().Bool("alarm", true).Str("alarm_kind", string(obs.AlarmNotSent)).Str(obs.FieldBatch, b.Number).
				Str(obs.FieldMsgID, b.MsgID).Str(obs.FieldStatus, string(b.Status)).Time("recorded", b.Created).
				Str("status_within", d.cfg.Alarms.StatusWithin.String())
			if b.Status == store.BatchInDoubt {
				ev.Str("reason", b.Reason).Msg("batch in doubt, not known to be at the bank: " + b.Reason)
			} else {
				ev.Msg("batch not known to be at the bank: its uploads keep failing (see the upload errors)")
			}
		}
	}
	d.metrics.SetOverdue(obs.AlarmNotSent, notSent)

	open, err := d.store.BatchesByStatus(ctx, store.BatchReceiptOK, store.BatchAccepted, store.BatchPartiallyAccepted,
		store.BatchPending, store.BatchSent)
	if err != nil {
		log.Warn().Err(err).Msg("checking the alarms failed")
		return
	}
	today := alarmDay(now, d.cfg.Location())
	noBooking := 0
	for _, b := range open {
		rs, err := d.store.Refunds(ctx, b.MsgID)
		if err != nil {
			log.Warn().Err(err).Msg("checking the alarms failed")
			return
		}
		for _, r := range rs {
			if r.Status != refund.StatusAccepted || !bookingOverdue(d.cfg.BankingCalendar(), r.ExecutionDate, today, d.cfg.Alarms.BookingWithinDays) {
				continue
			}
			noBooking++
			overdue = append(overdue, obs.Overdue{Kind: obs.AlarmNoBooking, Batch: r.Batch, MsgID: r.MsgID, EndToEndID: r.EndToEndID,
				RefNbr: r.RefNbr, Since: r.ExecutionDate.Time(),
				Detail: fmt.Sprintf("accepted, no booking from the bank within %d banking days of the execution date %s",
					d.cfg.Alarms.BookingWithinDays, r.ExecutionDate)})
			alarm(obs.AlarmNoBooking, r.EndToEndID, "no booking from the bank for refund "+r.RefNbr+" of batch "+r.Batch+
				" accepted for "+r.ExecutionDate.String())
			if key := "booking " + r.EndToEndID; !d.alarmed[key] {
				d.alarmed[key] = true
				d.metrics.Raise(obs.AlarmNoBooking)
				log.Warn().Bool("alarm", true).Str("alarm_kind", string(obs.AlarmNoBooking)).Str(obs.FieldBatch, r.Batch).
					Str(obs.FieldMsgID, r.MsgID).Str(obs.FieldRef, r.RefNbr).Str(obs.FieldE2E, r.EndToEndID).
					Str("execution_date", r.ExecutionDate.String()).Int("booking_within_days", d.cfg.Alarms.BookingWithinDays).
					Msg("no booking from the bank for an accepted refund")
			}
		}
	}
	d.metrics.SetOverdue(obs.AlarmNoBooking, noBooking)
	d.overdueHealth(overdue)
	raised, cleared, err := d.store.SyncAlarms(ctx, due)
	if err != nil {
		log.Warn().Err(err).Msg("recording the alarms failed; tried again at the next step")
		return
	}
	for _, a := range cleared {
		log.Info().Str("alarm_kind", a.Kind).Str("subject", a.Subject).Msg("alarm cleared: " + a.Detail)
	}
	if len(raised)+len(cleared) > 0 && d.hooks != nil {
		d.hooks.Kick()
	}
}

// statusOverdue reports whether a batch sent at sent and still without a
// status report has waited longer than within at now. Both are instants:
// a daylight-saving change between them does not count. sent comes from
// the store, without a monotonic clock reading, so the difference is one
// of wall-clock times: a wall clock set forward an hour brings the alarm
// an hour sooner, one set back delays it an hour.
func statusOverdue(sent, now time.Time, within time.Duration) bool {
	return !sent.IsZero() && now.Sub(sent) > within
}

// alarmDay is the calendar day of now in loc (pain001.timezone), which
// counts the banking days of the booking alarm.
func alarmDay(now time.Time, loc *time.Location) refund.Date {
	return refund.DateOf(now.In(loc))
}

// bookingOverdue reports whether today is more than days banking days of
// cal after the execution date exec.
func bookingOverdue(cal refund.Calendar, exec, today refund.Date, days int) bool {
	if exec.IsZero() {
		return false
	}
	n := 0
	for d := exec.AddDays(1); !today.Before(d); d = d.AddDays(1) {
		if cal.IsBankingDay(d) {
			n++
			if n > days {
				return true
			}
		}
	}
	return false
}
