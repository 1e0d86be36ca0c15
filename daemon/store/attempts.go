package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AttemptOutcome is how an upload attempt ended; "" while it is open.
type AttemptOutcome string

// The outcomes of an upload attempt.
const (
	// AttemptOpen: the attempt began and nothing is known of its end. If
	// the process stopped during it, the file may be on the server under
	// its final name, or may have been there and been taken by the server.
	AttemptOpen AttemptOutcome = ""
	// AttemptNotUploaded: the file never reached its final name: the
	// upload failed before the rename was sent or the server refused the
	// rename, or the attempt's temporary file was removed from the server
	// (so its rename can never happen).
	AttemptNotUploaded AttemptOutcome = "not-uploaded"
	// AttemptSent, AttemptInDoubt: the batch went sent, or in doubt, with
	// this attempt open.
	AttemptSent    AttemptOutcome = "sent"
	AttemptInDoubt AttemptOutcome = "in-doubt"
	// AttemptSettled: the batch left sending otherwise (a reply from the
	// bank proved that the bank has the file).
	AttemptSettled AttemptOutcome = "settled"
)

// Attempt is one upload attempt of a batch: recorded before the first
// SFTP call that could create the file, so that after a crash the
// attempt can be settled from what the server holds instead of being
// repeated blindly.
type Attempt struct {
	MsgID string
	// N counts the attempts of the batch: 1, 2, …
	N int
	// Temp is the remote temporary name the attempt writes to before it
	// renames the file to the batch's RemoteName.
	Temp string
	// Epoch is the leadership epoch of the process that began it.
	Epoch   int64
	Started time.Time
	// Ended is zero and Outcome AttemptOpen while the attempt is open.
	Ended   time.Time
	Outcome AttemptOutcome
	// Detail says what ended the attempt, for people.
	Detail string
}

// Open reports whether the attempt has no recorded end.
func (a Attempt) Open() bool { return a.Outcome == AttemptOpen }

// BeginAttempt records that an upload attempt of the sending batch msgID
// begins: attempt N, one more than the last, writing to the temporary
// name temp(N, epoch), at the leadership epoch the write was fenced with. It also records an event of the batch. The error wraps
// ErrTransition when the batch is not sending or its last attempt is
// still open (settle it first, see EndAttempt), ErrNotFound for an
// unknown batch, ErrInvalid for an empty temporary name.
func (s *Store) BeginAttempt(ctx context.Context, msgID string, temp func(n int, epoch int64) string) (Attempt, error) {
	var a Attempt
	err := s.write(ctx, func(tx *txn) error {
		var err error
		a, err = s.beginAttempt(ctx, tx, msgID, temp)
		return err
	})
	if err != nil {
		return Attempt{}, fmt.Errorf("begin upload attempt of batch %s: %w", msgID, err)
	}
	return a, nil
}

// beginAttempt is BeginAttempt in tx.
func (s *Store) beginAttempt(ctx context.Context, tx *txn, msgID string, temp func(n int, epoch int64) string) (Attempt, error) {
	b, err := batchByMsgID(ctx, tx, msgID)
	if err != nil {
		return Attempt{}, err
	}
	if b.Status != BatchSending {
		return Attempt{}, fmt.Errorf("%w: the batch is %s, not %s", ErrTransition, b.Status, BatchSending)
	}
	last, err := lastAttempt(ctx, tx, msgID)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return Attempt{}, err
	case last.Open():
		return Attempt{}, fmt.Errorf("%w: upload attempt %d is open; it is settled before another begins", ErrTransition, last.N)
	}
	a := Attempt{MsgID: msgID, N: last.N + 1, Epoch: tx.epoch}
	a.Temp = temp(a.N, a.Epoch)
	if a.Temp == "" {
		return Attempt{}, fmt.Errorf("%w: attempt %d has no temporary name", ErrInvalid, a.N)
	}
	at := s.stamp()
	if a.Started, err = parseTime(at); err != nil {
		return Attempt{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO upload_attempts (msg_id, attempt, temp_name, started, epoch) VALUES (?, ?, ?, ?, ?)`,
		msgID, a.N, a.Temp, at, a.Epoch); err != nil {
		return Attempt{}, err
	}
	return a, addEvent(ctx, tx, at, event{typ: SubjectBatch, id: msgID, from: string(b.Status), to: string(b.Status),
		reason: fmt.Sprintf("upload attempt %d begins", a.N), detail: "temporary name " + a.Temp})
}

// BeginAttempts is BeginAttempt for several batches in one transaction
// (one commit, one flush to disk, for all): all the attempts are
// recorded or none, and the error is the first batch's that could not
// begin one.
func (s *Store) BeginAttempts(ctx context.Context, msgIDs []string, temp func(msgID string, n int, epoch int64) string) ([]Attempt, error) {
	as := make([]Attempt, len(msgIDs))
	err := s.write(ctx, func(tx *txn) error {
		for i, id := range msgIDs {
			a, err := s.beginAttempt(ctx, tx, id, func(n int, epoch int64) string { return temp(id, n, epoch) })
			if err != nil {
				return fmt.Errorf("batch %s: %w", id, err)
			}
			as[i] = a
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("begin upload attempts of %d batches: %w", len(msgIDs), err)
	}
	return as, nil
}

// EndAttempt records the end of the open attempt n of batch msgID with
// outcome (AttemptNotUploaded: the only outcome a caller records itself;
// the others follow from SetBatchStatus). The error wraps ErrTransition
// when the attempt is not open, ErrNotFound when there is no such attempt,
// ErrInvalid for another outcome.
func (s *Store) EndAttempt(ctx context.Context, msgID string, n int, outcome AttemptOutcome, detail string) error {
	err := s.write(ctx, func(tx *txn) error {
		a, err := attempt(ctx, tx, msgID, n)
		if err != nil {
			return err
		}
		if !a.Open() {
			return fmt.Errorf("%w: attempt %d ended %s already", ErrTransition, n, a.Outcome)
		}
		if outcome != AttemptNotUploaded {
			return fmt.Errorf("%w: an attempt is ended %s only with the batch's status", ErrInvalid, outcome)
		}
		return endAttempt(ctx, tx, s.stamp(), msgID, outcome, detail)
	})
	if err != nil {
		return fmt.Errorf("end upload attempt %d of batch %s: %w", n, msgID, err)
	}
	return nil
}

// LastAttempt returns the last upload attempt of batch msgID; the error
// wraps ErrNotFound when it has none.
func (s *Store) LastAttempt(ctx context.Context, msgID string) (Attempt, error) {
	var a Attempt
	err := s.read(ctx, func(tx *txn) error {
		var err error
		a, err = lastAttempt(ctx, tx, msgID)
		return err
	})
	if err != nil {
		return Attempt{}, fmt.Errorf("last upload attempt of batch %s: %w", msgID, err)
	}
	return a, nil
}

// Attempts returns every upload attempt of batch msgID, in order.
func (s *Store) Attempts(ctx context.Context, msgID string) ([]Attempt, error) {
	var as []Attempt
	err := s.read(ctx, func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+attemptCols+` FROM upload_attempts WHERE msg_id = ? ORDER BY attempt`, msgID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAttempt(rows)
			if err != nil {
				return err
			}
			as = append(as, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("upload attempts of batch %s: %w", msgID, err)
	}
	return as, nil
}

const attemptCols = `msg_id, attempt, temp_name, started, ended, outcome, detail, epoch`

func scanAttempt(sc interface{ Scan(...any) error }) (Attempt, error) {
	var a Attempt
	var started, ended, outcome string
	if err := sc.Scan(&a.MsgID, &a.N, &a.Temp, &started, &ended, &outcome, &a.Detail, &a.Epoch); err != nil {
		return Attempt{}, err
	}
	a.Outcome = AttemptOutcome(outcome)
	var err error
	if a.Started, err = parseTime(started); err != nil {
		return Attempt{}, err
	}
	if a.Ended, err = parseTime(ended); err != nil {
		return Attempt{}, err
	}
	return a, nil
}

func attempt(ctx context.Context, q querier, msgID string, n int) (Attempt, error) {
	a, err := scanAttempt(q.QueryRowContext(ctx, `SELECT `+attemptCols+` FROM upload_attempts WHERE msg_id = ? AND attempt = ?`, msgID, n))
	if errors.Is(err, sql.ErrNoRows) {
		return Attempt{}, ErrNotFound
	}
	return a, err
}

func lastAttempt(ctx context.Context, q querier, msgID string) (Attempt, error) {
	a, err := scanAttempt(q.QueryRowContext(ctx, `SELECT `+attemptCols+` FROM upload_attempts WHERE msg_id = ? ORDER BY attempt DESC LIMIT 1`, msgID))
	if errors.Is(err, sql.ErrNoRows) {
		return Attempt{}, ErrNotFound
	}
	return a, err
}

// endAttempt ends the open attempt of batch msgID, if it has one.
func endAttempt(ctx context.Context, tx *txn, at, msgID string, outcome AttemptOutcome, detail string) error {
	_, err := tx.ExecContext(ctx, `UPDATE upload_attempts SET ended = ?, outcome = ?, detail = ? WHERE msg_id = ? AND ended = ''`,
		at, string(outcome), detail, msgID)
	return err
}
