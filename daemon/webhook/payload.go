package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"refundd/daemon/refund"
	"refundd/daemon/store"
)

// Body is the JSON body of an announcement. Fields that do not apply to
// the event are left out.
type Body struct {
	// ID is the event's id: the same on every attempt and after every
	// restart; a receiver removes duplicates by it.
	ID string `json:"id"`
	// Type is the event: refund-rejected, refund-returned,
	// batch-rejected, batch-in-doubt, alarm-raised or alarm-cleared.
	Type string `json:"type"`
	// OccurredAt is when refundd recorded the change (RFC 3339, UTC).
	OccurredAt time.Time `json:"occurred_at"`
	Company    Company   `json:"company"`
	Batch      *Batch    `json:"batch,omitempty"`
	Refund     *Refund   `json:"refund,omitempty"`
	Reason     *Reason   `json:"reason,omitempty"`
	Alarm      *Alarm    `json:"alarm,omitempty"`
	// StatusURL links to the batch on the status page (notify.status_url).
	StatusURL string `json:"status_url,omitempty"`
}

// Company is the paying company.
type Company struct {
	Name      string `json:"name"`
	OrgNumber string `json:"org_number"`
}

// Batch is the batch an event is about, or the batch of its refund.
type Batch struct {
	// MsgID and Number are "" for a batch file that refundd's checks
	// rejected: no batch was recorded for it (File names it).
	MsgID  string `json:"msg_id,omitempty"`
	Number string `json:"number,omitempty"`
	// File is the batch file refundd rejected, as it was named in the
	// export folder (it is in export/failed/ with a .err file beside).
	File *File `json:"file,omitempty"`
	// Status is the batch's status the event records (for a batch
	// event), or its status when the announcement was made.
	Status string `json:"status,omitempty"`
	// RejectedBy is "refundd" (its checks) or "bank", for batch-rejected.
	RejectedBy string `json:"rejected_by,omitempty"`
}

// File is a batch file.
type File struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// Refund is the refund an event is about.
type Refund struct {
	DocType    string `json:"doc_type"`
	RefNbr     string `json:"ref_nbr"`
	Release    int    `json:"release"`
	EndToEndID string `json:"end_to_end_id"`
	CustomerID string `json:"customer_id,omitempty"`
	// AmountMinor is the amount in minor units (øre, cent), Amount the
	// same as a decimal string ("1234.50"), in Currency (ISO 4217).
	AmountMinor int64  `json:"amount_minor"`
	Amount      string `json:"amount"`
	Currency    string `json:"currency"`
	// Account is the payee's account, masked but for its last four
	// characters (an IBAN keeps its country code).
	Account       string `json:"account,omitempty"`
	ExecutionDate string `json:"execution_date"`
	// Status is the status the event records.
	Status string `json:"status"`
}

// Reason is why: the bank's reason code, its text, and the code in words.
type Reason struct {
	Code  string `json:"code,omitempty"`
	Text  string `json:"text,omitempty"`
	Words string `json:"words,omitempty"`
}

// Alarm is an alarm raised or cleared.
type Alarm struct {
	// Kind is no_status, not_sent or no_booking.
	Kind string `json:"kind"`
	// State is raised or cleared.
	State string `json:"state"`
	// Subject is the batch's MsgId or the refund's EndToEndId.
	Subject string `json:"subject"`
	Detail  string `json:"detail,omitempty"`
}

// EventID is the id of the event row id of the company org: stable, and
// unique across the companies of one receiver.
func EventID(org string, id int64) string { return "refundd-" + org + "-" + strconv.FormatInt(id, 10) }

// reader is what building a body reads from the store.
type reader interface {
	File(ctx context.Context, hash string) (store.File, error)
	Refund(ctx context.Context, e2e string) (store.Refund, error)
	Batch(ctx context.Context, msgID string) (store.Batch, error)
}

// build returns the body announcing e.
func build(ctx context.Context, s reader, co Company, statusURL string, e store.Event) ([]byte, error) {
	b := Body{ID: EventID(co.OrgNumber, e.ID), Type: string(store.NoticeOf(e)), OccurredAt: e.At.UTC(), Company: co}
	msgID := ""
	switch e.SubjectType {
	case store.SubjectRefund:
		r, err := s.Refund(ctx, e.SubjectID)
		if err != nil {
			return nil, err
		}
		b.Refund = &Refund{DocType: string(r.DocType), RefNbr: r.RefNbr, Release: r.Release, EndToEndID: r.EndToEndID,
			CustomerID: r.CustomerID, AmountMinor: r.Amount.Minor, Amount: r.Amount.String(), Currency: string(r.Amount.Currency),
			ExecutionDate: r.ExecutionDate.String(), Status: e.To}
		if r.CreditorAccount != "" {
			b.Refund.Account = refund.MaskAccount(r.CreditorAccount)
		}
		b.Reason = reasonOf(e.Reason, e.Detail, r)
		msgID = r.MsgID
	case store.SubjectBatch:
		msgID = e.SubjectID
		if e.Reason != "" {
			b.Reason = &Reason{Text: e.Reason}
		}
	case store.SubjectFile:
		f, err := s.File(ctx, e.SubjectID)
		if err != nil {
			return nil, err
		}
		b.Batch = &Batch{File: &File{Name: f.Name, SHA256: f.Hash}, RejectedBy: "refundd"}
		b.Reason = &Reason{Text: e.Reason}
	case store.SubjectAlarm:
		kind := e.Reason
		subject := strings.TrimPrefix(e.SubjectID, kind+" ")
		b.Type = "alarm-" + e.To
		b.Alarm = &Alarm{Kind: kind, State: e.To, Subject: subject, Detail: e.Detail}
		if kind == "no_booking" {
			if r, err := s.Refund(ctx, subject); err == nil {
				b.Refund = &Refund{DocType: string(r.DocType), RefNbr: r.RefNbr, Release: r.Release, EndToEndID: r.EndToEndID,
					CustomerID: r.CustomerID, AmountMinor: r.Amount.Minor, Amount: r.Amount.String(), Currency: string(r.Amount.Currency),
					ExecutionDate: r.ExecutionDate.String(), Status: string(r.Status)}
				if r.CreditorAccount != "" {
					b.Refund.Account = refund.MaskAccount(r.CreditorAccount)
				}
				msgID = r.MsgID
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		} else {
			msgID = subject
		}
	default:
		return nil, fmt.Errorf("event %d: %s events are not announced", e.ID, e.SubjectType)
	}
	if msgID != "" {
		bt, err := s.Batch(ctx, msgID)
		switch {
		case err == nil:
			b.Batch = &Batch{MsgID: bt.MsgID, Number: bt.Number, Status: string(bt.Status)}
			if e.SubjectType == store.SubjectBatch {
				b.Batch.Status = e.To
				switch store.BatchStatus(e.To) {
				case store.BatchRejected:
					b.Batch.RejectedBy = "refundd"
				case store.BatchRejectedByBank:
					b.Batch.RejectedBy = "bank"
				}
			}
		case errors.Is(err, store.ErrNotFound):
		default:
			return nil, err
		}
		if statusURL != "" {
			b.StatusURL = statusURL + "?batch=" + url.QueryEscape(msgID)
		}
	}
	return json.Marshal(b)
}

// reasonOf is a refund event's reason: its code, in words, and the bank's
// text as the refund records it (a rejection and a return are final), or
// else the event's detail (the text and what made the change).
func reasonOf(code, detail string, r store.Refund) *Reason {
	if code == "" && detail == "" {
		return nil
	}
	text := detail
	if r.ReasonCode == code && r.ReasonText != "" {
		text = r.ReasonText
	}
	return &Reason{Code: code, Text: text, Words: reasonWords[code]}
}

// reasonWords says in words what the usual ISO 20022 status and return
// reason codes of a refund mean.
var reasonWords = map[string]string{
	"AC01": "The account number is wrong.",
	"AC03": "The creditor account number is not valid.",
	"AC04": "The account is closed.",
	"AC06": "The account is blocked.",
	"AG01": "The account does not take this kind of payment.",
	"AM04": "Not enough money on the paying account.",
	"AM05": "A duplicate payment.",
	"BE04": "The payee's address is missing or wrong.",
	"DU01": "The message id was sent before (a duplicate).",
	"DU05": "The instruction was sent before (a duplicate).",
	"FF01": "The payment file's format is not valid.",
	"MD07": "The payee has died.",
	"MS02": "Refused by the payee.",
	"MS03": "Refused by the bank, no reason given.",
	"NARR": "See the bank's text.",
	"RC01": "The bank identifier (BIC) is wrong.",
	"RR01": "The payee's account or identification is missing.",
}

// Header names of an announcement.
const (
	HeaderSignature = "X-Refundd-Signature"
	HeaderTimestamp = "X-Refundd-Timestamp"
	HeaderEventID   = "X-Refundd-Event-Id"
	HeaderEventType = "X-Refundd-Event-Type"
)

// Sign returns the signature header's value of body sent at timestamp ts
// (Unix seconds) with secret: "sha256=" and the lower-case hex HMAC-SHA256
// of the timestamp, a '.', and the body as sent.
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header value sig of body sent at ts (the
// timestamp header, as sent), as a receiver does: it must be Sign's, in
// constant time, and ts within maxAge of now either way (a replay of an
// old request is refused).
func Verify(secret []byte, ts string, body []byte, sig string, now time.Time, maxAge time.Duration) error {
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("verify: timestamp %q: %w", ts, err)
	}
	if d := now.Sub(time.Unix(t, 0)); d > maxAge || d < -maxAge {
		return fmt.Errorf("verify: timestamp %s is %s from now", ts, d.Round(time.Second))
	}
	if !hmac.Equal([]byte(Sign(secret, t, body)), []byte(sig)) {
		return errors.New("verify: signature does not match")
	}
	return nil
}
