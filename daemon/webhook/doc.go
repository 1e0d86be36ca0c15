// Package webhook announces refundd's business events to other systems:
// a JSON POST to each configured receiver for every event it takes (a
// refund rejected or returned, a batch rejected or in doubt, an alarm
// raised or cleared), signed with HMAC-SHA256.
//
// The events come from the state store's append-only event log, which
// records each in the transaction of the change it describes; each
// receiver has a cursor in the store that moves past an event only after
// the receiver answered 2xx. So an event is delivered at least once, in
// order, whatever stops in between (refundd killed, the receiver down or
// failing); the receiver removes duplicates by the event's id, which is
// the same on every attempt.
//
// Delivery runs beside the daemon's work, one request at a time per
// receiver, each bounded by its timeout; a failed attempt is tried again
// after a wait that doubles, with jitter, up to a cap, for ever: no event
// is dropped. A receiver that answers 4xx (other than 408 and 429) is
// misconfigured or refuses the event; that is logged as an error, and the
// event is still tried again, holding back the later ones, until the
// receiver is fixed.
package webhook
