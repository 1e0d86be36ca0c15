package reply

import (
	"fmt"
	"strings"
	"time"

	"refundd/daemon/erp"
	"refundd/daemon/refund"
	"refundd/formats/pain002"
)

// MessageRefunds finds the refunds of a pain.001 that refundd sent, for the
// status reports that answer it.
type MessageRefunds interface {
	// ByMsgID returns every refund of the pain.001 with GrpHdr/MsgId
	// msgID, with its PmtInfId, EndToEndId, InstrId and current status;
	// none when refundd sent no such message. An error is a failure of
	// the lookup itself.
	ByMsgID(msgID string) ([]refund.Sent, error)
}

// The reasons of the exception lines that a status report can give,
// besides refund.ReasonNoMatch (a listed transaction or block that is none
// of ours) and refund.ReasonRefundStatus (a status that would undo a later
// one: a rejected refund accepted, a booked one rejected).
const (
	// ReasonUnknownMessage: the report answers a MsgId refundd never sent.
	ReasonUnknownMessage = "unknown-message"
	// ReasonStatusConflict: the report contradicts itself for a refund (a
	// transaction accepted in a block or group that is rejected, a
	// transaction listed twice with different statuses, or listed in
	// another block than it was sent in); nothing is changed.
	ReasonStatusConflict = "status-conflict"
	// ReasonUnknownStatus: a status code that maps to no refund status,
	// such as the Verification-of-Payee codes of pain.002.001.10.
	ReasonUnknownStatus = "unknown-status"
	// ReasonDuplicateMessage: the bank refused a file as a duplicate of a
	// message it has received before (group RJCT, reason DU01), such as an
	// operator's resend of a batch in doubt. The refusal is of the second
	// delivery, not of the refunds: they keep their statuses.
	ReasonDuplicateMessage = "duplicate-message"
)

// DuplicateRefusal reports whether r refuses its whole message as a
// duplicate of a message with the same MsgId that the bank received
// before: group status RJCT with reason DU01.
func DuplicateRefusal(r *pain002.Report) bool {
	if r.Group.Status != pain002.Rejected {
		return false
	}
	for _, x := range r.Group.Reasons {
		if x.Code == "DU01" {
			return true
		}
	}
	return false
}

// StatusUpdate is what a status report changes for the refunds of the
// message it answers.
type StatusUpdate struct {
	// Changes are the refunds whose status changes, in the order of the
	// refunds given to ReportStatuses.
	Changes []erp.StatusRow
	// Exceptions are the lines for the exceptions file, each with the key
	// that records it as seen at the same index of Keys, so that the same
	// report read again does not list it twice.
	Exceptions []erp.ExceptionRow
	Keys       []refund.Key
	// Unchanged counts the refunds whose status the report leaves as it
	// is: not mentioned, a receipt (ACTC, RCVD), the status they have, or
	// an acceptance that comes after the booking.
	Unchanged int
}

// PainKeyAccount is the Account part of the de-duplication key of an
// exception line of a status report; it cannot be the AccountKey of a bank
// account. The Entry part is the report's MsgId, the Tx part the position
// of the line or the refund's EndToEndId.
const PainKeyAccount = "pain.002"

// ReportStatuses works out what the status report r, read from the file
// named file, changes for sent, the refunds of the message it answers
// (MessageRefunds.ByMsgID of r.Group.OrgnlMsgID; none means refundd did not
// send that message), as of time at.
//
// Each refund gets the status that pain002.Effective gives it: its own
// transaction's status when the report lists it (by OrgnlEndToEndId, else
// OrgnlInstrId), else that of its payment block, else the group's; PART is
// never inherited. The statuses map to refund statuses: ACTC and RCVD are a
// receipt and change nothing; ACCP, ACSP, ACSC and ACWC mean accepted; PDNG
// pending; RJCT rejected, with the first reason's code and the additional
// information as the reason. A change is made only forward: a refund
// rejected, booked or returned is not made accepted or pending again (the
// report is late), and a rejection of a refund that is rejected already
// changes nothing. A rejection of a booked or returned refund, or an
// acceptance of a rejected one, is an exception, as are a report for a
// message refundd did not send, a block or a transaction that is none of
// ours, a report that contradicts itself and a status that maps to no
// refund status. Nothing is dropped silently.
func ReportStatuses(file string, r *pain002.Report, sent []refund.Sent, at time.Time) StatusUpdate {
	s := statuser{file: file, r: r, at: at}
	if len(sent) == 0 {
		s.exception("OrgnlGrpInfAndSts", "group", ReasonUnknownMessage, nil, nil,
			"original MsgId %q is no message refundd sent (group %s, %d payment block(s), %d transaction(s) listed)",
			r.Group.OrgnlMsgID, StatusText(r.Group.Status, r.Group.Reasons), len(r.Payments), CountTxs(r))
		return s.u
	}
	if DuplicateRefusal(r) {
		s.exception("OrgnlGrpInfAndSts", "group", ReasonDuplicateMessage, nil, nil,
			"the bank refused a delivery of message %s as a duplicate (%s): it has received the message before; the statuses of its %d refund(s) are unchanged",
			r.Group.OrgnlMsgID, StatusText(r.Group.Status, r.Group.Reasons), len(sent))
		s.u.Unchanged = len(sent)
		return s.u
	}
	s.index(sent)
	for i := range sent {
		s.refund(&sent[i])
	}
	return s.u
}

// statuser holds what ReportStatuses knows of one report.
type statuser struct {
	file string
	r    *pain002.Report
	at   time.Time
	u    StatusUpdate
	// blocks maps a PmtInfId to its last entry in the report.
	blocks map[string]*pain002.Payment
	// listed maps the EndToEndId of a refund to the report's entries for
	// its transaction, in document order.
	listed map[string][]listing
}

// listing is one TxInfAndSts of the report, with where it is.
type listing struct {
	tx       *pain002.Transaction
	pmtInfID string // of the block it is listed in
	pos      string
}

// index finds the report's blocks and transactions, and makes every block
// and transaction that is none of the refunds' an exception.
func (s *statuser) index(sent []refund.Sent) {
	ours := map[string]bool{}
	byE2E := map[string]*refund.Sent{}
	byInstr := map[string]*refund.Sent{}
	for i := range sent {
		x := &sent[i]
		ours[x.PmtInfID] = true
		byE2E[x.EndToEndID] = x
		if x.InstrID != "" {
			byInstr[x.InstrID] = x
		}
	}
	s.blocks = map[string]*pain002.Payment{}
	s.listed = map[string][]listing{}
	for i := range s.r.Payments {
		p := &s.r.Payments[i]
		bpos := fmt.Sprintf("OrgnlPmtInfAndSts[%d]", i+1)
		if ours[p.OrgnlPmtInfID] {
			s.blocks[p.OrgnlPmtInfID] = p
		} else {
			s.exception(bpos, bpos, string(refund.ReasonNoMatch), nil, nil,
				"PmtInfId %q is no payment block of message %s (block %s)", p.OrgnlPmtInfID, s.r.Group.OrgnlMsgID, StatusText(p.Status, p.Reasons))
		}
		for j := range p.Transactions {
			t := &p.Transactions[j]
			pos := fmt.Sprintf("%s/TxInfAndSts[%d]", bpos, j+1)
			var x *refund.Sent
			if id := t.OrgnlEndToEndID; id != "" && !strings.EqualFold(id, "NOTPROVIDED") {
				x = byE2E[id]
			}
			if x == nil && t.OrgnlInstrID != "" {
				x = byInstr[t.OrgnlInstrID]
			}
			if x == nil {
				s.exception(pos, pos, string(refund.ReasonNoMatch), nil, t,
					"%s: no refund of message %s (transaction %s)", TxRefs(t), s.r.Group.OrgnlMsgID, StatusText(t.Status, t.Reasons))
				continue
			}
			s.listed[x.EndToEndID] = append(s.listed[x.EndToEndID], listing{tx: t, pmtInfID: p.OrgnlPmtInfID, pos: pos})
		}
	}
}

// refund works out the status of one refund.
func (s *statuser) refund(x *refund.Sent) {
	p := s.blocks[x.PmtInfID]
	pos := "OrgnlGrpInfAndSts"
	if p != nil {
		pos = s.blockPos(p)
	}
	var tx *pain002.Transaction
	disagree := ""
	for _, l := range s.listed[x.EndToEndID] {
		pos = l.pos
		if l.pmtInfID != x.PmtInfID {
			s.exception(pos, "e2e:"+x.EndToEndID, ReasonStatusConflict, x, l.tx,
				"refund %s was sent in block %s; the report lists it in block %s", x.RefNbr, x.PmtInfID, l.pmtInfID)
			return
		}
		if tx != nil && tx.Status != l.tx.Status {
			disagree = fmt.Sprintf("the report lists refund %s as %s and as %s", x.RefNbr, tx.Status, l.tx.Status)
		}
		tx = l.tx
	}
	o := pain002.Effective(&s.r.Group, p, tx)
	switch {
	case disagree != "":
		s.exception(pos, "e2e:"+x.EndToEndID, ReasonStatusConflict, x, tx, "%s; not applied", disagree)
		return
	case o.Conflict:
		s.exception(pos, "e2e:"+x.EndToEndID, ReasonStatusConflict, x, tx,
			"refund %s is %s at %s level under a rejected %s; not applied", x.RefNbr, o.Status, o.Level, Above(o.Level, p))
		return
	case o.Level == pain002.LevelNone:
		s.u.Unchanged++
		return
	}
	to, known := refundStatus(o.Status)
	if !known {
		s.exception(pos, "e2e:"+x.EndToEndID, ReasonUnknownStatus, x, tx,
			"status %s (%s level) maps to no refund status; refund %s left %s", StatusText(o.Status, o.Reasons), o.Level, x.RefNbr, statusName(x.Status))
		return
	}
	change, conflict := transition(x.Status, to)
	switch {
	case conflict:
		s.exception(pos, "e2e:"+x.EndToEndID, string(refund.ReasonRefundStatus), x, tx,
			"refund %s is %s; the report says %s (%s level); not applied", x.RefNbr, statusName(x.Status), StatusText(o.Status, o.Reasons), o.Level)
		return
	case !change:
		s.u.Unchanged++
		return
	}
	row := erp.StatusRow{RefNbr: x.RefNbr, Batch: x.Batch, MsgID: x.MsgID, EndToEndID: x.EndToEndID, Status: to, At: s.at}
	row.ReasonCode, row.ReasonText = reasonOf(o.Reasons)
	s.u.Changes = append(s.u.Changes, row)
}

// blockPos returns the position of a block of the report.
func (s *statuser) blockPos(p *pain002.Payment) string {
	for i := range s.r.Payments {
		if &s.r.Payments[i] == p {
			return fmt.Sprintf("OrgnlPmtInfAndSts[%d]", i+1)
		}
	}
	return "OrgnlPmtInfAndSts"
}

// exception adds an exception line at position pos, keyed by the report's
// MsgId and key, for refund x (if known) and listed transaction t (if any).
func (s *statuser) exception(pos, key, reason string, x *refund.Sent, t *pain002.Transaction, format string, args ...any) {
	row := erp.ExceptionRow{File: s.file, Position: pos, Reason: reason, Detail: fmt.Sprintf(format, args...)}
	if x != nil {
		row.RefNbr, row.EndToEndID = x.RefNbr, x.EndToEndID
	}
	if t != nil {
		row.BankRef = t.AcctSvcrRef
		if row.EndToEndID == "" {
			row.EndToEndID = t.OrgnlEndToEndID
		}
		if a, err := amountOf("Amt", t.Amount); err == nil {
			row.Amount = a
		}
	}
	if row.Amount.Currency == "" && x != nil {
		row.Amount = x.Amount
	}
	s.u.Exceptions = append(s.u.Exceptions, row)
	s.u.Keys = append(s.u.Keys, refund.Key{Account: PainKeyAccount, Entry: s.r.MsgID, Tx: key})
}

// Above names the level above l that is rejected.
func Above(l pain002.Level, p *pain002.Payment) string {
	if l == pain002.LevelTransaction && p != nil && p.Status == pain002.Rejected {
		return "payment block"
	}
	return "group"
}

// refundStatus maps a pain.002 status to the refund status it leads to; ""
// for a receipt, which changes nothing. known is false for a code that maps
// to no refund status.
func refundStatus(s pain002.Status) (to refund.Status, known bool) {
	switch s {
	case pain002.AcceptedTechnical, pain002.Received:
		return "", true
	case pain002.AcceptedCustomerProfile, pain002.AcceptedSettlementInProcess,
		pain002.AcceptedSettlementCompleted, pain002.AcceptedWithChange:
		return refund.StatusAccepted, true
	case pain002.Pending:
		return refund.StatusPending, true
	case pain002.Rejected:
		return refund.StatusRejected, true
	}
	return "", false
}

// transition decides whether a refund of status from moves to to (not ""):
// change when it does; conflict when the report would undo a later status
// in a way that needs a person (a rejected refund accepted or pending, a
// booked or returned refund rejected).
func transition(from, to refund.Status) (change, conflict bool) {
	if to == "" || to == from {
		return false, false
	}
	switch from {
	case refund.StatusRejected:
		return false, true
	case refund.StatusBooked, refund.StatusReturned:
		return false, to == refund.StatusRejected
	}
	// new (never confirmed), sent, accepted, pending, or unknown: the
	// report moves it.
	return true, false
}

// reasonOf returns the reason code and text of a status: the first
// reason's code (or proprietary reason), and the additional information of
// every reason, those after the first introduced by their code.
func reasonOf(rs []pain002.Reason) (code, text string) {
	var parts []string
	for i, r := range rs {
		c := r.Code
		if c == "" {
			c = r.Proprietary
		}
		info := strings.Join(r.AdditionalInfo, " ")
		if i == 0 {
			code = c
			if info != "" {
				parts = append(parts, info)
			}
			continue
		}
		switch {
		case c != "" && info != "":
			parts = append(parts, c+": "+info)
		case c != "":
			parts = append(parts, c)
		case info != "":
			parts = append(parts, info)
		}
	}
	return code, strings.Join(parts, "; ")
}

// StatusText formats a status with its reason codes, e.g. "RJCT (AC04)";
// "without status" for none.
func StatusText(s pain002.Status, rs []pain002.Reason) string {
	if s == "" {
		return "without status"
	}
	var codes []string
	for _, r := range rs {
		switch {
		case r.Code != "":
			codes = append(codes, r.Code)
		case r.Proprietary != "":
			codes = append(codes, r.Proprietary)
		}
	}
	if len(codes) == 0 {
		return string(s)
	}
	return string(s) + " (" + strings.Join(codes, ", ") + ")"
}

// statusName formats a refund status for a message.
func statusName(s refund.Status) string {
	if s == "" {
		return "without status"
	}
	return string(s)
}

// TxRefs formats the references of a listed transaction.
func TxRefs(t *pain002.Transaction) string {
	var s []string
	if t.OrgnlEndToEndID != "" {
		s = append(s, fmt.Sprintf("EndToEndId %q", t.OrgnlEndToEndID))
	}
	if t.OrgnlInstrID != "" {
		s = append(s, fmt.Sprintf("InstrId %q", t.OrgnlInstrID))
	}
	if len(s) == 0 {
		return "a transaction without references"
	}
	return strings.Join(s, ", ")
}

// CountTxs counts the transactions a report lists.
func CountTxs(r *pain002.Report) int {
	n := 0
	for i := range r.Payments {
		n += len(r.Payments[i].Transactions)
	}
	return n
}
