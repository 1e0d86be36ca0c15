package reply

import (
	"testing"

	"refundd/daemon/erp"
	"refundd/daemon/refund"
)

// memRefunds is an in-memory SentRefunds over a list of refunds, standing
// in for the state store.
type memRefunds struct {
	refunds []refund.Sent
	err     error // returned by every method when set
}

var _ SentRefunds = (*memRefunds)(nil)

func (m *memRefunds) find(keep func(*refund.Sent) bool) ([]refund.Sent, error) {
	if m.err != nil {
		return nil, m.err
	}
	var out []refund.Sent
	for i := range m.refunds {
		if keep(&m.refunds[i]) {
			out = append(out, m.refunds[i])
		}
	}
	return out, nil
}

func (m *memRefunds) one(keep func(*refund.Sent) bool) (refund.Sent, bool, error) {
	ss, err := m.find(keep)
	if err != nil || len(ss) == 0 {
		return refund.Sent{}, false, err
	}
	return ss[0], true, nil
}

func (m *memRefunds) ByEndToEndID(id string) (refund.Sent, bool, error) {
	return m.one(func(s *refund.Sent) bool { return s.EndToEndID == id })
}

func (m *memRefunds) ByInstrID(id string) (refund.Sent, bool, error) {
	return m.one(func(s *refund.Sent) bool { return s.InstrID == id })
}

func (m *memRefunds) ByBatch(msgID, pmtInfID string) ([]refund.Sent, error) {
	return m.find(func(s *refund.Sent) bool { return s.MsgID == msgID && s.PmtInfID == pmtInfID })
}

func (m *memRefunds) ByAmountDate(a refund.Amount, d refund.Date, account string) ([]refund.Sent, error) {
	return m.find(func(s *refund.Sent) bool {
		return s.Amount == a && s.ExecutionDate == d && refund.AccountKey(s.CreditorAccount) == account
	})
}

func (m *memRefunds) ByMsgID(msgID string) ([]refund.Sent, error) {
	return m.find(func(s *refund.Sent) bool { return s.MsgID == msgID })
}

// record applies status changes, as the state store does after a reply.
func (m *memRefunds) record(t *testing.T, rows []erp.StatusRow) {
	t.Helper()
	for _, r := range rows {
		found := false
		for i := range m.refunds {
			if m.refunds[i].EndToEndID == r.EndToEndID {
				m.refunds[i].Status, found = r.Status, true
			}
		}
		if !found {
			t.Fatalf("status change for unknown refund %s", r.EndToEndID)
		}
	}
}

// status returns the status of the refund with RefNbr ref.
func (m *memRefunds) status(ref string) refund.Status {
	for _, s := range m.refunds {
		if s.RefNbr == ref {
			return s.Status
		}
	}
	return ""
}

// memSeen is an in-memory SeenSet.
type memSeen struct {
	keys map[refund.Key]bool
	err  error
}

func (m *memSeen) Seen(k refund.Key) (bool, error) {
	if m.err != nil {
		return false, m.err
	}
	return m.keys[k], nil
}

// record records keys as seen, as the state store does once the files are
// durable.
func (m *memSeen) record(keys []refund.Key) {
	if m.keys == nil {
		m.keys = map[refund.Key]bool{}
	}
	for _, k := range keys {
		m.keys[k] = true
	}
}
