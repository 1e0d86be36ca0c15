package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Notice is a kind of business event that a webhook announces. Each is
// derived from an event row that the store recorded in the transaction of
// the change it describes, so that none is lost between the change and
// its announcement.
type Notice string

// The notices.
const (
	// NoticeRefundRejected: the bank rejected a refund (pain.002 RJCT).
	NoticeRefundRejected Notice = "refund-rejected"
	// NoticeRefundReturned: the payee's bank returned a booked refund.
	NoticeRefundReturned Notice = "refund-returned"
	// NoticeBatchRejected: a batch was rejected, by refundd's checks (its
	// batch file failed: no batch is recorded for it) or by the bank
	// (rejected-by-bank).
	NoticeBatchRejected Notice = "batch-rejected"
	// NoticeBatchInDoubt: a batch's upload has an unknown outcome.
	NoticeBatchInDoubt Notice = "batch-in-doubt"
	// NoticeAlarm: an alarm raised or cleared.
	NoticeAlarm Notice = "alarm"
)

// Notices returns every notice, in the order the documentation lists them.
func Notices() []Notice {
	return []Notice{NoticeRefundRejected, NoticeRefundReturned, NoticeBatchRejected, NoticeBatchInDoubt, NoticeAlarm}
}

// noticeCond is the SQL condition on an event row of each notice; each
// implies notifiable.
var noticeCond = map[Notice]string{
	NoticeRefundRejected: `(subject_type = 'refund' AND to_status = 'rejected')`,
	NoticeRefundReturned: `(subject_type = 'refund' AND to_status = 'returned')`,
	NoticeBatchRejected: `(subject_type = 'batch' AND to_status IN ('rejected', 'rejected-by-bank'))
		OR (subject_type = 'file' AND to_status = 'failed' AND EXISTS (SELECT 1 FROM files f WHERE f.hash = subject_id AND f.kind = 'batch'))`,
	NoticeBatchInDoubt: `(subject_type = 'batch' AND to_status = 'in-doubt')`,
	NoticeAlarm:        `(subject_type = 'alarm')`,
}

// NoticeOf returns the notice an event gives, "" for an event that no
// webhook announces. A file's failure is taken to be a batch file's: of
// the files' failures, NoticesAfter returns those of batch files only.
func NoticeOf(e Event) Notice {
	switch {
	case e.SubjectType == SubjectFile && e.To == string(FileFailed):
		return NoticeBatchRejected
	case e.SubjectType == SubjectAlarm:
		return NoticeAlarm
	case e.SubjectType == SubjectRefund && e.To == "rejected":
		return NoticeRefundRejected
	case e.SubjectType == SubjectRefund && e.To == "returned":
		return NoticeRefundReturned
	case e.SubjectType == SubjectBatch && (e.To == string(BatchRejected) || e.To == string(BatchRejectedByBank)):
		return NoticeBatchRejected
	case e.SubjectType == SubjectBatch && e.To == string(BatchInDoubt):
		return NoticeBatchInDoubt
	}
	return ""
}

// noticesCond is the condition of the events of any of ns.
func noticesCond(ns []Notice) (string, error) {
	var cs []string
	for _, n := range ns {
		c, ok := noticeCond[n]
		if !ok {
			return "", fmt.Errorf("%w: notice %q", ErrInvalid, n)
		}
		cs = append(cs, "("+c+")")
	}
	if len(cs) == 0 {
		return "", fmt.Errorf("%w: no notices", ErrInvalid)
	}
	slices.Sort(cs)
	return "(" + strings.Join(slices.Compact(cs), " OR ") + ")", nil
}

// Alarm is an alarm as recorded: raised for a kind and subject (a batch's
// MsgId, a refund's EndToEndId), and cleared once no longer due.
type Alarm struct {
	// Key identifies the alarm: its kind and subject.
	Key     string
	Kind    string
	Subject string
	// Detail says what is overdue, in words.
	Detail  string
	Raised  time.Time
	Cleared time.Time // zero while raised
}

// AlarmKey is the key of the alarm of kind about subject.
func AlarmKey(kind, subject string) string { return kind + " " + subject }

const alarmCols = `key, kind, subject, detail, raised, cleared`

func scanAlarm(sc interface{ Scan(...any) error }) (Alarm, error) {
	var a Alarm
	var raised, cleared string
	if err := sc.Scan(&a.Key, &a.Kind, &a.Subject, &a.Detail, &raised, &cleared); err != nil {
		return Alarm{}, err
	}
	var err error
	if a.Raised, err = parseTime(raised); err != nil {
		return Alarm{}, err
	}
	if a.Cleared, err = parseTime(cleared); err != nil {
		return Alarm{}, err
	}
	return a, nil
}

func openAlarms(ctx context.Context, q querier) (map[string]Alarm, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+alarmCols+` FROM alarms WHERE cleared = ''`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	open := map[string]Alarm{}
	for rows.Next() {
		a, err := scanAlarm(rows)
		if err != nil {
			return nil, err
		}
		open[a.Key] = a
	}
	return open, rows.Err()
}

// OpenAlarms returns the alarms raised and not cleared, by key.
func (s *Store) OpenAlarms(ctx context.Context) (map[string]Alarm, error) {
	open, err := openAlarms(ctx, s.r)
	if err != nil {
		return nil, fmt.Errorf("read open alarms: %w", err)
	}
	return open, nil
}

// Alarm returns the alarm key as recorded; ErrNotFound for none.
func (s *Store) Alarm(ctx context.Context, key string) (Alarm, error) {
	a, err := scanAlarm(s.r.QueryRowContext(ctx, `SELECT `+alarmCols+` FROM alarms WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Alarm{}, fmt.Errorf("read alarm %s: %w", key, err)
	}
	return a, nil
}

// SyncAlarms records that the alarms due are the ones raised now: each of
// due that is not raised yet is raised, each raised alarm not in due is
// cleared, each change with its event (subject type alarm, to "raised" or
// "cleared") in the same transaction. It returns the alarms it raised and
// cleared; when nothing changes it writes nothing.
func (s *Store) SyncAlarms(ctx context.Context, due []Alarm) (raised, cleared []Alarm, err error) {
	diff := func(open map[string]Alarm) (raise, clear []Alarm) {
		want := map[string]bool{}
		for _, a := range due {
			want[a.Key] = true
			if _, ok := open[a.Key]; !ok {
				raise = append(raise, a)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(open)) {
			if !want[k] {
				clear = append(clear, open[k])
			}
		}
		return raise, clear
	}
	for _, a := range due {
		if a.Key == "" || a.Kind == "" {
			return nil, nil, fmt.Errorf("record alarms: %w: an alarm without key or kind", ErrInvalid)
		}
	}
	open, err := s.OpenAlarms(ctx)
	if err != nil {
		return nil, nil, err
	}
	if r, c := diff(open); len(r) == 0 && len(c) == 0 {
		return nil, nil, nil
	}
	err = s.write(ctx, func(tx *txn) error {
		open, err := openAlarms(ctx, tx)
		if err != nil {
			return err
		}
		raised, cleared = diff(open)
		at := s.stamp()
		for i, a := range raised {
			from := ""
			var was string
			err := tx.QueryRowContext(ctx, `SELECT cleared FROM alarms WHERE key = ?`, a.Key).Scan(&was)
			switch {
			case err == nil:
				from = "cleared"
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO alarms (key, kind, subject, detail, raised) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, subject = excluded.subject, detail = excluded.detail,
				raised = excluded.raised, cleared = ''`, a.Key, a.Kind, a.Subject, a.Detail, at); err != nil {
				return err
			}
			raised[i].Raised, raised[i].Cleared = s.now(), time.Time{}
			if err := addEvent(ctx, tx, at, event{typ: SubjectAlarm, id: a.Key, from: from, to: "raised", reason: a.Kind, detail: a.Detail}); err != nil {
				return err
			}
		}
		for i, a := range cleared {
			if _, err := tx.ExecContext(ctx, `UPDATE alarms SET cleared = ? WHERE key = ?`, at, a.Key); err != nil {
				return err
			}
			cleared[i].Cleared = s.now()
			if err := addEvent(ctx, tx, at, event{typ: SubjectAlarm, id: a.Key, from: "raised", to: "cleared", reason: a.Kind, detail: a.Detail}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("record alarms: %w", err)
	}
	return raised, cleared, nil
}

// StartWebhook records the webhook hook (its URL) when it is not recorded
// yet, with its cursor at the last event recorded: it announces what
// happens from now on, not the history before it was configured. Call it
// before the first change it should announce is made.
func (s *Store) StartWebhook(ctx context.Context, hook string) error {
	if hook == "" {
		return fmt.Errorf("start webhook: %w: no URL", ErrInvalid)
	}
	err := s.write(ctx, func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO webhooks (hook, through_event, created)
			SELECT ?, coalesce(max(id), 0), ? FROM events WHERE true ON CONFLICT (hook) DO NOTHING`, hook, s.stamp())
		return err
	})
	if err != nil {
		return fmt.Errorf("start webhook %s: %w", hook, err)
	}
	return nil
}

// WebhookCursor returns the last event that hook was given or does not
// take; ErrNotFound when StartWebhook did not record it.
func (s *Store) WebhookCursor(ctx context.Context, hook string) (int64, error) {
	var through int64
	err := s.r.QueryRowContext(ctx, `SELECT through_event FROM webhooks WHERE hook = ?`, hook).Scan(&through)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("read webhook %s: %w", hook, err)
	}
	return through, nil
}

// NoticesAfter returns up to limit events of the notices ns after the
// event after, oldest first. Event ids grow in the order the events are
// committed (every write holds the one write lock, or on PostgreSQL the
// company's lease row, from its first event to its commit), so an event
// committed later never has a smaller id than one read before it.
func (s *Store) NoticesAfter(ctx context.Context, after int64, ns []Notice, limit int) ([]Event, error) {
	cond, err := noticesCond(ns)
	if err != nil {
		return nil, fmt.Errorf("read notices: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+eventsCols+`
		FROM `+s.notifyEvents()+` WHERE id > ? AND `+notifiable+` AND `+cond+` ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read notices after event %d: %w", after, err)
	}
	es, err := scanEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("read notices after event %d: %w", after, err)
	}
	return es, nil
}

// notifyEvents is the events table as the reads of notifiable events
// name it: on SQLite by the partial index events_notify, which its
// planner would otherwise pass over for events_subject (every refund
// event, then sorted); PostgreSQL takes the partial index by itself.
func (s *Store) notifyEvents() string {
	if s.d.pg {
		return "events"
	}
	return "events INDEXED BY events_notify"
}

// WebhookDelivered records that hook's receiver took the event through
// (answered 2xx): its cursor moves to it, never back, and it counts as
// delivered. Call it only after the receiver answered: a cursor moved
// before would lose the event if refundd stopped before the answer.
func (s *Store) WebhookDelivered(ctx context.Context, hook string, through int64) error {
	err := s.write(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhooks SET
			through_event = CASE WHEN through_event < ? THEN ? ELSE through_event END,
			delivered = delivered + 1, failures = 0, last_success = ? WHERE hook = ?`, through, through, s.stamp(), hook)
		return oneRow(res, err)
	})
	if err != nil {
		return fmt.Errorf("record delivery of event %d to webhook %s: %w", through, hook, err)
	}
	return nil
}

// WebhookFailed records a failed attempt to give hook's receiver its next
// event, with why; the cursor stays.
func (s *Store) WebhookFailed(ctx context.Context, hook, why string) error {
	err := s.write(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhooks SET failures = failures + 1, last_error = ?, last_error_at = ?
			WHERE hook = ?`, why, s.stamp(), hook)
		return oneRow(res, err)
	})
	if err != nil {
		return fmt.Errorf("record failed delivery to webhook %s: %w", hook, err)
	}
	return nil
}

// oneRow checks that an UPDATE changed one row: ErrNotFound for none.
func oneRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return ErrNotFound
	}
	return nil
}

// WebhookState is the delivery state of one webhook.
type WebhookState struct {
	Hook string
	// Through is the last event given to the receiver or not taken by it.
	Through int64
	// Pending is the number of events waiting for the receiver, Oldest
	// when the oldest of them happened (zero for none).
	Pending int64
	Oldest  time.Time
	// Delivered counts the events the receiver took; Failures the
	// failed attempts since the last one it took.
	Delivered, Failures int64
	LastSuccess         time.Time
	// LastError is the last failed attempt's error, at LastErrorAt; it
	// stays after later successes (compare the times).
	LastError   string
	LastErrorAt time.Time
}

// Failing reports whether the receiver's last attempt failed.
func (w WebhookState) Failing() bool {
	return !w.LastErrorAt.IsZero() && w.LastErrorAt.After(w.LastSuccess)
}

// WebhookStatus returns the delivery state of hook, whose receiver takes
// the notices ns; ErrNotFound when StartWebhook did not record it.
func (s *Store) WebhookStatus(ctx context.Context, hook string, ns []Notice) (WebhookState, error) {
	cond, err := noticesCond(ns)
	if err != nil {
		return WebhookState{}, fmt.Errorf("read webhook %s: %w", hook, err)
	}
	st := WebhookState{Hook: hook}
	err = s.read(ctx, func(tx *txn) error {
		var success, errAt string
		err := tx.QueryRowContext(ctx, `SELECT through_event, delivered, failures, last_success, last_error, last_error_at
			FROM webhooks WHERE hook = ?`, hook).Scan(&st.Through, &st.Delivered, &st.Failures, &success, &st.LastError, &errAt)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if st.LastSuccess, err = parseTime(success); err != nil {
			return err
		}
		if st.LastErrorAt, err = parseTime(errAt); err != nil {
			return err
		}
		var oldest sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT count(*), min(at) FROM `+s.notifyEvents()+` WHERE id > ? AND `+notifiable+` AND `+cond,
			st.Through).Scan(&st.Pending, &oldest); err != nil {
			return err
		}
		st.Oldest, err = parseTime(oldest.String)
		return err
	})
	if err != nil {
		return WebhookState{}, fmt.Errorf("read webhook %s: %w", hook, err)
	}
	return st, nil
}
