package pain002

import (
	"testing"
)

func TestEffective(t *testing.T) {
	rjct := []Reason{{Code: "AC01"}}
	for _, tc := range []struct {
		name     string
		g        *Group
		p        *Payment
		tx       *Transaction
		want     Status
		level    Level
		conflict bool
	}{
		{"listed transaction", &Group{}, &Payment{Status: AcceptedCustomerProfile}, &Transaction{Status: Rejected, Reasons: rjct}, Rejected, LevelTransaction, false},
		{"block ACCP, transaction not listed: accepted", &Group{}, &Payment{Status: AcceptedCustomerProfile, Transactions: []Transaction{{Status: Rejected}, {Status: Rejected}}}, nil, AcceptedCustomerProfile, LevelPayment, false},
		{"group RJCT, nothing below: rejected", &Group{Status: Rejected}, nil, nil, Rejected, LevelGroup, false},
		{"group RJCT, block without status: rejected", &Group{Status: Rejected}, &Payment{}, nil, Rejected, LevelGroup, false},
		{"group ACTC, block RJCT: rejected", &Group{Status: AcceptedTechnical}, &Payment{Status: Rejected}, nil, Rejected, LevelPayment, false},
		{"block PART, transaction listed: its own", &Group{}, &Payment{Status: PartiallyAccepted}, &Transaction{Status: Rejected}, Rejected, LevelTransaction, false},
		{"block PART, not listed: the group's", &Group{Status: AcceptedTechnical}, &Payment{Status: PartiallyAccepted}, nil, AcceptedTechnical, LevelGroup, false},
		{"block PART, not listed, no group status: none", &Group{}, &Payment{Status: PartiallyAccepted}, nil, "", LevelNone, false},
		{"group PART, block not listed: none", &Group{Status: PartiallyAccepted}, nil, nil, "", LevelNone, false},
		{"group PART, block ACSP", &Group{Status: PartiallyAccepted}, &Payment{Status: AcceptedSettlementInProcess}, nil, AcceptedSettlementInProcess, LevelPayment, false},
		{"listed without a status: the block's", &Group{}, &Payment{Status: Pending}, &Transaction{Reasons: rjct}, Pending, LevelPayment, false},
		{"report says nothing", &Group{}, nil, nil, "", LevelNone, false},
		{"no group at all", nil, &Payment{Status: AcceptedCustomerProfile}, nil, AcceptedCustomerProfile, LevelPayment, false},
		{"v10 code", &Group{Status: "RCVC"}, nil, nil, "RCVC", LevelGroup, false},
		{"group RJCT, transaction ACCP: conflict", &Group{Status: Rejected}, &Payment{}, &Transaction{Status: AcceptedCustomerProfile}, AcceptedCustomerProfile, LevelTransaction, true},
		{"block RJCT, transaction ACSC: conflict", &Group{}, &Payment{Status: Rejected}, &Transaction{Status: AcceptedSettlementCompleted}, AcceptedSettlementCompleted, LevelTransaction, true},
		{"group RJCT, block ACCP: conflict", &Group{Status: Rejected}, &Payment{Status: AcceptedCustomerProfile}, nil, AcceptedCustomerProfile, LevelPayment, true},
		{"block RJCT, transaction RJCT: no conflict", &Group{Status: AcceptedTechnical}, &Payment{Status: Rejected}, &Transaction{Status: Rejected}, Rejected, LevelTransaction, false},
		{"block ACCP, transaction RJCT: no conflict", &Group{Status: AcceptedTechnical}, &Payment{Status: AcceptedCustomerProfile}, &Transaction{Status: Rejected}, Rejected, LevelTransaction, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Effective(tc.g, tc.p, tc.tx)
			if o.Status != tc.want || o.Level != tc.level || o.Conflict != tc.conflict {
				t.Errorf("got %q at %v conflict=%v; want %q at %v conflict=%v", o.Status, o.Level, o.Conflict, tc.want, tc.level, tc.conflict)
			}
			if o.Level == LevelTransaction && len(o.Reasons) != len(tc.tx.Reasons) {
				t.Errorf("got reasons %v; want the transaction's %v", o.Reasons, tc.tx.Reasons)
			}
		})
	}
}

func TestStatusOf(t *testing.T) {
	r := &Report{
		Group: Group{Status: AcceptedTechnical},
		Payments: []Payment{
			{OrgnlPmtInfID: "P1", Status: AcceptedCustomerProfile, Transactions: []Transaction{
				{OrgnlEndToEndID: "E1", Status: Rejected, Reasons: []Reason{{Code: "AC04"}}},
				{OrgnlEndToEndID: "E2", Status: Rejected, Reasons: []Reason{{Code: "AM04"}}},
			}},
			{OrgnlPmtInfID: "P2", Status: Rejected, Reasons: []Reason{{Code: "NARR", AdditionalInfo: []string{"CAP"}}}},
			{OrgnlPmtInfID: "P3", Transactions: []Transaction{
				{OrgnlEndToEndID: "E9", Status: Pending},
				{OrgnlEndToEndID: "E9", Status: AcceptedSettlementCompleted},
			}},
		},
	}
	for _, tc := range []struct {
		pmt, e2e string
		want     string
		conflict bool
	}{
		{"P1", "E1", "RJCT/transaction/AC04", false},
		{"P1", "E2", "RJCT/transaction/AM04", false},
		{"P1", "E3", "ACCP/payment/", false},
		{"P2", "E4", "RJCT/payment/NARR", false},
		{"P4", "E5", "ACTC/group/", false},
		{"P3", "E9", "ACSC/transaction/", true},
		{"P2", "E1", "RJCT/payment/NARR", false},
	} {
		t.Run(tc.pmt+"/"+tc.e2e, func(t *testing.T) {
			o := r.StatusOf(tc.pmt, tc.e2e)
			code := ""
			if len(o.Reasons) > 0 {
				code = o.Reasons[0].Code
			}
			if got := string(o.Status) + "/" + o.Level.String() + "/" + code; got != tc.want || o.Conflict != tc.conflict {
				t.Errorf("got %s conflict=%v; want %s conflict=%v", got, o.Conflict, tc.want, tc.conflict)
			}
		})
	}
}
