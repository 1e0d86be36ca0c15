package store

import (
	"context"
	"fmt"

	"refundd/daemon/refund"
)

// Lookup is the store seen by the processing of one reply: it implements
// refund.Lookup (for refund.Match), its Seen method is a refund.Seen (for
// refund.Apply), and ByMsgID finds the refunds of a message (for a status
// report). Those interfaces take no context, so a Lookup carries the one
// it was made with; make a new one for each reply (Store.Lookup).
type Lookup struct {
	s   *Store
	ctx context.Context
}

var _ refund.Lookup = Lookup{}

// Lookup returns the refund.Lookup and refund.Seen of the store for work
// done under ctx.
func (s *Store) Lookup(ctx context.Context) Lookup { return Lookup{s: s, ctx: ctx} }

// ByEndToEndID returns the refund with this EndToEndId.
func (l Lookup) ByEndToEndID(id string) (refund.Sent, bool, error) {
	return l.one("by EndToEndId", id, "r.end_to_end_id = ?", id)
}

// ByInstrID returns the refund with this InstrId.
func (l Lookup) ByInstrID(id string) (refund.Sent, bool, error) {
	return l.one("by InstrId", id, "r.instr_id = ?", id)
}

// ByBatch returns every refund of the payment block pmtInfID of the
// pain.001 msgID, whatever its status; none if the block is unknown.
func (l Lookup) ByBatch(msgID, pmtInfID string) ([]refund.Sent, error) {
	rs, err := refundsWhere(l.ctx, l.s.r, "r.msg_id = ? AND r.pmt_inf_id = ?", msgID, pmtInfID)
	if err != nil {
		return nil, fmt.Errorf("look up refunds of block %s/%s: %w", msgID, pmtInfID, err)
	}
	return sents(rs, nil), nil
}

// ByMsgID returns every refund of the pain.001 with GrpHdr/MsgId msgID,
// in the order they were recorded, whatever their status; none when
// refundd sent no such message. It serves the status reports (pain.002)
// that answer the message.
func (l Lookup) ByMsgID(msgID string) ([]refund.Sent, error) {
	rs, err := refundsWhere(l.ctx, l.s.r, "r.msg_id = ?", msgID)
	if err != nil {
		return nil, fmt.Errorf("look up refunds of message %s: %w", msgID, err)
	}
	return sents(rs, nil), nil
}

// ByAmountDate returns the refunds of exactly amount a, executed on date
// d, to the creditor account whose refund.AccountKey is account.
func (l Lookup) ByAmountDate(a refund.Amount, d refund.Date, account string) ([]refund.Sent, error) {
	rs, err := refundsWhere(l.ctx, l.s.r, "r.execution_date = ? AND r.currency = ? AND r.amount_minor = ?",
		d.String(), string(a.Currency), a.Minor)
	if err != nil {
		return nil, fmt.Errorf("look up refunds of %s %s on %s: %w", a, a.Currency, d, err)
	}
	key := refund.AccountKey(account) // a no-op on a key; tolerant of a raw account
	return sents(rs, func(r *Refund) bool { return refund.AccountKey(r.CreditorAccount) == key }), nil
}

// Seen reports whether the booking with key k was applied before
// (ApplyReply recorded it). It is a refund.Seen.
func (l Lookup) Seen(k refund.Key) (bool, error) {
	var n int
	err := l.s.r.QueryRowContext(l.ctx, `SELECT count(*) FROM bank_entries WHERE account = ? AND entry = ? AND tx = ?`,
		k.Account, k.Entry, k.Tx).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up bank entry %s: %w", k, err)
	}
	return n > 0, nil
}

func (l Lookup) one(how, id, where string, args ...any) (refund.Sent, bool, error) {
	if id == "" {
		return refund.Sent{}, false, nil
	}
	rs, err := refundsWhere(l.ctx, l.s.r, where, args...)
	if err != nil {
		return refund.Sent{}, false, fmt.Errorf("look up refund %s %s: %w", how, id, err)
	}
	if len(rs) == 0 {
		return refund.Sent{}, false, nil
	}
	return rs[0].Sent, true, nil
}

// sents returns the Sent of each refund that keep accepts (all for nil).
func sents(rs []Refund, keep func(*Refund) bool) []refund.Sent {
	var ss []refund.Sent
	for i := range rs {
		if keep == nil || keep(&rs[i]) {
			ss = append(ss, rs[i].Sent)
		}
	}
	return ss
}
