package reply

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"refundd/daemon/refund"
	"refundd/formats"
	"refundd/formats/pain002"
)

// TestReportStatuses: the status a report gives each refund of the message
// it answers, the inheritance rule included, and the lines it cannot apply.
func TestReportStatuses(t *testing.T) {
	// Message M with block B1 (R1, R2, R3) and block B2 (R4).
	refunds := func(mod ...func([]refund.Sent)) []refund.Sent {
		var ss []refund.Sent
		for i, b := range []string{"B1", "B1", "B1", "B2"} {
			n := i + 1
			ss = append(ss, refund.Sent{
				RefNbr: fmt.Sprint("R", n), Batch: "BATCH", MsgID: "M", PmtInfID: b,
				EndToEndID: fmt.Sprint("E", n), InstrID: fmt.Sprint("I", n),
				Amount: refund.Amount{Minor: int64(n) * 100, Currency: "NOK"}, Status: refund.StatusSent,
			})
		}
		for _, m := range mod {
			m(ss)
		}
		return ss
	}
	reason := func(code string, info ...string) []pain002.Reason {
		return []pain002.Reason{{Code: code, AdditionalInfo: info}}
	}
	tx := func(e2e string, st pain002.Status, rs ...pain002.Reason) pain002.Transaction {
		return pain002.Transaction{OrgnlEndToEndID: e2e, Status: st, Reasons: rs}
	}
	block := func(id string, st pain002.Status, txs ...pain002.Transaction) pain002.Payment {
		return pain002.Payment{OrgnlPmtInfID: id, Status: st, Transactions: txs}
	}
	report := func(g pain002.Status, ps ...pain002.Payment) *pain002.Report {
		return &pain002.Report{MsgID: "REP", Group: pain002.Group{OrgnlMsgID: "M", Status: g}, Payments: ps}
	}
	rjct := func(e2e, code string) pain002.Transaction {
		return tx(e2e, pain002.Rejected, reason(code, "why "+code)...)
	}

	for _, tc := range []struct {
		name       string
		report     *pain002.Report
		sent       []refund.Sent
		changes    []string // RefNbr=status/code/text
		exceptions []string // position: reason
		unchanged  int
	}{
		{
			name:      "block ACCP and two transactions RJCT: the others of the block accepted",
			report:    report("", block("B1", pain002.AcceptedCustomerProfile, rjct("E1", "AC04"), rjct("E2", "AC01"))),
			sent:      refunds(),
			changes:   []string{"R1=rejected/AC04/why AC04", "R2=rejected/AC01/why AC01", "R3=accepted//"},
			unchanged: 1, // R4: its block is not in the report, the group has no status
		},
		{
			name:    "group RJCT: every refund rejected with the group's reason",
			report:  report(pain002.Rejected),
			sent:    refunds(),
			changes: []string{"R1=rejected/FF01/", "R2=rejected/FF01/", "R3=rejected/FF01/", "R4=rejected/FF01/"},
		},
		{
			name: "group RJCT DU01: a delivery refused as a duplicate; the refunds keep their statuses, one exception",
			report: func() *pain002.Report {
				r := report(pain002.Rejected)
				r.Group.Reasons = reason("DU01")
				return r
			}(),
			sent:       refunds(),
			exceptions: []string{"OrgnlGrpInfAndSts: duplicate-message"},
			unchanged:  4,
		},
		{
			name:       "a transaction ACCP inside a block RJCT: a conflict, not applied; the others of the block rejected",
			report:     report("", block("B1", pain002.Rejected, tx("E2", pain002.AcceptedCustomerProfile))),
			sent:       refunds(),
			changes:    []string{"R1=rejected/NARR/block", "R3=rejected/NARR/block"},
			exceptions: []string{"OrgnlPmtInfAndSts[1]/TxInfAndSts[1]: status-conflict"},
			unchanged:  1,
		},
		{
			name:    "block PART is not inherited: the unlisted take the group's status",
			report:  report(pain002.AcceptedSettlementInProcess, block("B1", pain002.PartiallyAccepted, rjct("E1", "AM04"))),
			sent:    refunds(),
			changes: []string{"R1=rejected/AM04/why AM04", "R2=accepted//", "R3=accepted//", "R4=accepted//"},
		},
		{
			name:      "block PART under group PART: the unlisted keep their status",
			report:    report(pain002.PartiallyAccepted, block("B1", pain002.PartiallyAccepted, rjct("E1", "AM04"))),
			sent:      refunds(),
			changes:   []string{"R1=rejected/AM04/why AM04"},
			unchanged: 3,
		},
		{
			name:      "group ACTC is a receipt: nothing changes",
			report:    report(pain002.AcceptedTechnical),
			sent:      refunds(),
			unchanged: 4,
		},
		{
			name:    "pending, and accepted with change with its reason",
			report:  report("", block("B1", pain002.Pending), block("B2", pain002.AcceptedWithChange, tx("E4", pain002.AcceptedWithChange, reason("DT06", "date moved")...))),
			sent:    refunds(),
			changes: []string{"R1=pending//", "R2=pending//", "R3=pending//", "R4=accepted/DT06/date moved"},
		},
		{
			name:       "unknown original MsgId: one exception, nothing changes",
			report:     &pain002.Report{MsgID: "REP", Group: pain002.Group{OrgnlMsgID: "OTHER", Status: pain002.Rejected}},
			sent:       nil,
			exceptions: []string{"OrgnlGrpInfAndSts: unknown-message"},
		},
		{
			name: "a block and a transaction that are none of ours",
			report: report("", block("B9", pain002.Rejected),
				block("B2", "", rjct("E9", "AC01"), rjct("E4", "AC01"))),
			sent:       refunds(),
			changes:    []string{"R4=rejected/AC01/why AC01"},
			exceptions: []string{"OrgnlPmtInfAndSts[1]: no-match", "OrgnlPmtInfAndSts[2]/TxInfAndSts[1]: no-match"},
			unchanged:  3,
		},
		{
			name: "by InstrId when the EndToEndId is NOTPROVIDED",
			report: report("", block("B2", "", pain002.Transaction{OrgnlEndToEndID: "NOTPROVIDED", OrgnlInstrID: "I4",
				Status: pain002.Rejected, Reasons: reason("AC06")})),
			sent:      refunds(),
			changes:   []string{"R4=rejected/AC06/"},
			unchanged: 3,
		},
		{
			name:   "forward only: a rejected refund is not accepted, a booked one not rejected; a late acceptance changes nothing",
			report: report(pain002.AcceptedSettlementCompleted, block("B2", "", rjct("E4", "AC04"))),
			sent: refunds(func(ss []refund.Sent) {
				ss[0].Status = refund.StatusRejected
				ss[1].Status = refund.StatusBooked
				ss[2].Status = refund.StatusAccepted
				ss[3].Status = refund.StatusReturned
			}),
			exceptions: []string{"OrgnlGrpInfAndSts: refund-status", "OrgnlPmtInfAndSts[1]/TxInfAndSts[1]: refund-status"},
			unchanged:  2, // R2 booked, R3 accepted already
		},
		{
			name:       "a transaction listed twice with different statuses",
			report:     report("", block("B1", "", tx("E1", pain002.AcceptedCustomerProfile), rjct("E1", "AC04"))),
			sent:       refunds(),
			exceptions: []string{"OrgnlPmtInfAndSts[1]/TxInfAndSts[2]: status-conflict"},
			unchanged:  3,
		},
		{
			name:       "a transaction listed in another block than it was sent in",
			report:     report("", block("B2", "", rjct("E1", "AC04"))),
			sent:       refunds(),
			exceptions: []string{"OrgnlPmtInfAndSts[1]/TxInfAndSts[1]: status-conflict"},
			unchanged:  3,
		},
		{
			name:       "a Verification-of-Payee status maps to no refund status",
			report:     report("", block("B2", "", tx("E4", "RVNM"))),
			sent:       refunds(),
			exceptions: []string{"OrgnlPmtInfAndSts[1]/TxInfAndSts[1]: unknown-status"},
			unchanged:  3,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.report
			// The reasons of the levels, where the case does not give them.
			if r.Group.Status == pain002.Rejected && r.Group.Reasons == nil {
				r.Group.Reasons = reason("FF01")
			}
			for i := range r.Payments {
				if p := &r.Payments[i]; p.Status == pain002.Rejected && p.Reasons == nil {
					p.Reasons = reason("NARR", "block")
				}
			}
			u := ReportStatuses("sts.xml", r, tc.sent, replyNow)
			var changes, exceptions []string
			for _, c := range u.Changes {
				changes = append(changes, fmt.Sprintf("%s=%s/%s/%s", c.RefNbr, c.Status, c.ReasonCode, c.ReasonText))
				if c.At != replyNow || c.MsgID != "M" || c.Batch != "BATCH" || !strings.HasPrefix(c.EndToEndID, "E") {
					t.Errorf("row %+v lacks its references or time", c)
				}
			}
			for _, x := range u.Exceptions {
				exceptions = append(exceptions, x.Position+": "+x.Reason)
				if x.File != "sts.xml" || x.Detail == "" {
					t.Errorf("exception %+v lacks its file or detail", x)
				}
			}
			if !slices.Equal(changes, tc.changes) {
				t.Errorf("changes\n  %q\nwant\n  %q", changes, tc.changes)
			}
			if !slices.Equal(exceptions, tc.exceptions) {
				t.Errorf("exceptions\n  %q\nwant\n  %q", exceptions, tc.exceptions)
			}
			if u.Unchanged != tc.unchanged {
				t.Errorf("unchanged %d; want %d", u.Unchanged, tc.unchanged)
			}
			if len(u.Keys) != len(u.Exceptions) {
				t.Fatalf("%d keys for %d exceptions", len(u.Keys), len(u.Exceptions))
			}
			keys := map[refund.Key]bool{}
			for _, k := range u.Keys {
				if keys[k] || k.Account != PainKeyAccount || k.Entry != "REP" {
					t.Errorf("key %v repeats or is not the report's", k)
				}
				keys[k] = true
			}
			// Every refund is accounted for exactly once.
			perRefund := len(u.Changes) + u.Unchanged
			for _, x := range u.Exceptions {
				if x.RefNbr != "" {
					perRefund++
				}
			}
			if len(tc.sent) > 0 && perRefund != len(tc.sent) {
				t.Errorf("%d refunds accounted for; want %d", perRefund, len(tc.sent))
			}
		})
	}
}

// TestReportStatusesAmount: an exception line of a listed transaction
// carries the amount the bank repeats, exactly.
func TestReportStatusesAmount(t *testing.T) {
	r := &pain002.Report{MsgID: "REP", Group: pain002.Group{OrgnlMsgID: "M"}, Payments: []pain002.Payment{{
		OrgnlPmtInfID: "B1",
		Transactions: []pain002.Transaction{{OrgnlEndToEndID: "X", Status: pain002.Rejected, AcctSvcrRef: "BANKREF",
			Amount: formats.Amount{Decimal: formats.Decimal{Units: 123450, Scale: 2}, Currency: "NOK"}}},
	}}}
	sent := []refund.Sent{{RefNbr: "R1", MsgID: "M", PmtInfID: "B1", EndToEndID: "E1"}}
	u := ReportStatuses("f.xml", r, sent, replyNow)
	if len(u.Exceptions) != 1 {
		t.Fatalf("got %+v", u)
	}
	x := u.Exceptions[0]
	if x.Amount != (refund.Amount{Minor: 123450, Currency: "NOK"}) || x.BankRef != "BANKREF" || x.EndToEndID != "X" {
		t.Errorf("got %+v", x)
	}
}
