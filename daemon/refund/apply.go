package refund

import (
	"errors"
	"fmt"
)

// Seen reports whether the booking with key k was applied before (posted or
// reported as an exception). An error is a failure of the store.
type Seen func(k Key) (bool, error)

// Applied is what Apply made of a list of outcomes. Every outcome is in
// exactly one of Posted, Exceptions, NotBooked and Duplicates.
type Applied struct {
	// Posted are the payments, returns and charges that book or post;
	// Vouchers are their vouchers, in the same order. A payment that the
	// ERP posts itself (Ledger.Release, no charges) has none.
	Posted   []Outcome
	Vouchers []Voucher
	// Exceptions are the outcomes for the exceptions file, including
	// second bookings of one refund that Apply found.
	Exceptions []Outcome
	// NotBooked are pending and information-only outcomes: nothing to
	// write; they are not recorded, so the booking that follows is posted.
	NotBooked []Outcome
	// Duplicates are the outcomes whose booking was applied before, or
	// that repeat a key earlier in the list: accounted for, nothing new.
	Duplicates []Outcome
	// Keys are the keys of Posted and Exceptions, to be recorded as seen
	// once the files that carry them are durable.
	Keys []Key
}

// Matches returns the payments and returns of Posted: the lines of the
// matches file.
func (a *Applied) Matches() []Outcome {
	var ms []Outcome
	for _, o := range a.Posted {
		if o.Kind == KindPayment || o.Kind == KindReturn {
			ms = append(ms, o)
		}
	}
	return ms
}

// Apply sorts outcomes into new postings, exceptions, not-booked outcomes
// and duplicates, so that applying the same reply twice posts and matches
// nothing the second time. It is pure: it records nothing; the caller
// records Applied.Keys as seen after writing the files.
//
// A booking is a duplicate when seen reports its key, or when its key
// repeats one earlier in outcomes. A second payment (or return) of the same
// refund under another key in one call is an exception
// (ReasonAlreadyPosted): the Lookup behind Match cannot know of the first
// one yet.
//
// Exceptions are recorded like postings, so a replayed reply does not
// list them again; an exception is resolved by a person, not by a later
// run.
//
// The error is that of seen, or of a voucher that cannot be built (a
// refund without a ledger account); then nothing is applied.
func Apply(outs []Outcome, seen Seen, l Ledger) (Applied, error) {
	var a Applied
	keys := map[Key]bool{}
	paid := map[string]bool{}     // EndToEndId of a refund paid in this call
	returned := map[string]bool{} // … returned in this call
	for _, o := range outs {
		if o.Kind == KindNotBooked {
			a.NotBooked = append(a.NotBooked, o)
			continue
		}
		dup := keys[o.Key]
		if !dup {
			var err error
			if dup, err = seen(o.Key); err != nil {
				return Applied{}, fmt.Errorf("apply %s: %w", o.Key, err)
			}
		}
		if dup {
			a.Duplicates = append(a.Duplicates, o)
			continue
		}
		keys[o.Key] = true
		a.Keys = append(a.Keys, o.Key)
		switch o.Kind {
		case KindPayment, KindReturn:
			done := paid
			if o.Kind == KindReturn {
				done = returned
			}
			if done[o.Refund.EndToEndID] {
				o.Detail = fmt.Sprintf("refund %s has a %s in this reply already", o.Refund.RefNbr, o.Kind)
				o.Kind, o.Reason = KindException, ReasonAlreadyPosted
				a.Exceptions = append(a.Exceptions, o)
				continue
			}
			done[o.Refund.EndToEndID] = true
		case KindCharges:
		default:
			a.Exceptions = append(a.Exceptions, o)
			continue
		}
		v, err := l.Voucher(&o)
		switch {
		case errors.Is(err, ErrPostedByERP):
			a.Posted = append(a.Posted, o) // booked: its status line tells the ERP to release the document
			continue
		case err != nil:
			return Applied{}, fmt.Errorf("apply: %w", err)
		}
		a.Posted = append(a.Posted, o)
		a.Vouchers = append(a.Vouchers, v)
	}
	return a, nil
}
