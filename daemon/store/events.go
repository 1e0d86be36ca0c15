package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Event is one entry of the audit log: a status change of a batch, a
// refund or a file, recorded in the transaction that made it. Creation is
// an event from "". Events are never changed or deleted (triggers refuse
// it).
type Event struct {
	ID          int64
	At          time.Time
	SubjectType SubjectType
	// SubjectID is the batch's MsgId, the refund's EndToEndId or the
	// file's content hash.
	SubjectID string
	From, To  string
	// Reason is the reason of the change: a batch's or file's reason, a
	// refund's reason code.
	Reason string
	// Detail says more: a refund's reason text, the reply file that made
	// the change.
	Detail string
}

// event is an event to record.
type event struct {
	typ            SubjectType
	id, from, to   string
	reason, detail string
	at             string
}

// addEvent records e in tx at time at. The events of a transaction are
// inserted together, in order, when it commits (see write).
func addEvent(_ context.Context, tx *txn, at string, e event) error {
	e.at = at
	tx.events = append(tx.events, e)
	return nil
}

// Events returns the audit trail of one batch, refund or file, oldest
// first; none for an unknown subject.
func (s *Store) Events(ctx context.Context, typ SubjectType, id string) ([]Event, error) {
	es, err := eventsOf(ctx, s.r, typ, id)
	if err != nil {
		return nil, fmt.Errorf("read events of %s %s: %w", typ, id, err)
	}
	return es, nil
}

// eventsCols are the columns of an Event, as scanEvents reads them.
const eventsCols = `id, at, subject_type, subject_id, from_status, to_status, reason, detail`

// eventsOf reads the events of one subject, oldest first.
func eventsOf(ctx context.Context, q querier, typ SubjectType, id string) ([]Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+eventsCols+` FROM events WHERE subject_type = ? AND subject_id = ? ORDER BY id`,
		string(typ), id)
	if err != nil {
		return nil, err
	}
	return scanEvents(rows)
}

// scanEvents reads the events of rows, whose columns are eventsCols, and
// closes them.
func scanEvents(rows *sql.Rows) ([]Event, error) {
	defer rows.Close()
	var es []Event
	for rows.Next() {
		var e Event
		var at, st string
		if err := rows.Scan(&e.ID, &at, &st, &e.SubjectID, &e.From, &e.To, &e.Reason, &e.Detail); err != nil {
			return nil, err
		}
		e.SubjectType = SubjectType(st)
		var err error
		if e.At, err = parseTime(at); err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return es, rows.Err()
}

// LastEvent returns the id of the last event recorded, 0 for none: it
// changes whenever a batch, refund or file changes status.
func (s *Store) LastEvent(ctx context.Context) (int64, error) {
	var id int64
	if err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM events`).Scan(&id); err != nil {
		return 0, fmt.Errorf("read the last event: %w", err)
	}
	return id, nil
}
