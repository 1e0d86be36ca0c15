package refund

import "errors"

// memLookup is an in-memory Lookup over a list of refunds, for tests.
type memLookup struct {
	refunds []Sent
	err     error // returned by every method when set
}

var _ Lookup = (*memLookup)(nil)

func (l *memLookup) ByEndToEndID(id string) (Sent, bool, error) {
	if l.err != nil {
		return Sent{}, false, l.err
	}
	for _, s := range l.refunds {
		if s.EndToEndID == id {
			return s, true, nil
		}
	}
	return Sent{}, false, nil
}

func (l *memLookup) ByInstrID(id string) (Sent, bool, error) {
	if l.err != nil {
		return Sent{}, false, l.err
	}
	for _, s := range l.refunds {
		if s.InstrID == id {
			return s, true, nil
		}
	}
	return Sent{}, false, nil
}

func (l *memLookup) ByBatch(msgID, pmtInfID string) ([]Sent, error) {
	if l.err != nil {
		return nil, l.err
	}
	var out []Sent
	for _, s := range l.refunds {
		if s.MsgID == msgID && s.PmtInfID == pmtInfID {
			out = append(out, s)
		}
	}
	return out, nil
}

func (l *memLookup) ByAmountDate(a Amount, d Date, account string) ([]Sent, error) {
	if l.err != nil {
		return nil, l.err
	}
	var out []Sent
	for _, s := range l.refunds {
		if s.Amount == a && s.ExecutionDate == d && AccountKey(s.CreditorAccount) == account {
			out = append(out, s)
		}
	}
	return out, nil
}

// setStatus sets the status of the refund with EndToEndId e2e, as the state
// store will after a posting.
func (l *memLookup) setStatus(e2e string, st Status) error {
	for i := range l.refunds {
		if l.refunds[i].EndToEndID == e2e {
			l.refunds[i].Status = st
			return nil
		}
	}
	return errors.New("no refund " + e2e)
}
