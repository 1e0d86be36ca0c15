package pain002

// Level is the level of a report a status comes from.
type Level int

// The levels of a report.
const (
	LevelNone        Level = iota // the report says nothing about the transaction
	LevelGroup                    // OrgnlGrpInfAndSts/GrpSts
	LevelPayment                  // OrgnlPmtInfAndSts/PmtInfSts
	LevelTransaction              // TxInfAndSts/TxSts
)

// String returns "group", "payment", "transaction" or "none".
func (l Level) String() string {
	switch l {
	case LevelGroup:
		return "group"
	case LevelPayment:
		return "payment"
	case LevelTransaction:
		return "transaction"
	}
	return "none"
}

// Outcome is the status a report gives one transaction of the original
// message.
type Outcome struct {
	Status  Status   // "" when the report says nothing about the transaction
	Level   Level    // where Status comes from
	Reasons []Reason // the reasons given at that level
	// Conflict is true when a level above the one Status comes from is
	// RJCT but Status is not: the report contradicts itself and should go
	// to an operator, not be applied.
	Conflict bool
}

// Effective returns the status that a report gives one transaction of the
// original message. g is the report's group level; p is the report's entry
// for the transaction's payment-information block and tx its entry for the
// transaction, each nil when the report does not list it.
//
// The rule: a status comes from the most specific level that gives one.
//
//  1. The transaction's own TxSts, if the report lists the transaction
//     with a status.
//  2. Else its block's PmtInfSts, if the report lists the block with a
//     status other than PART.
//  3. Else the group's GrpSts, if it is given and is not PART.
//  4. Else none (LevelNone): the report changes nothing for the
//     transaction.
//
// So a transaction that a report does not list inherits its block's
// status, or the group's: a block ACCP with two transactions RJCT means
// every other transaction of the block is ACCP; a group RJCT with nothing
// below means every transaction is RJCT. PART is never inherited: it says
// "some accepted, some not — see the transactions", so a transaction not
// listed under a PART block takes the group's status (PART there too
// means none). RJCT above a different status at a lower level is reported
// as a Conflict; the status is still the lower level's.
func Effective(g *Group, p *Payment, tx *Transaction) Outcome {
	var o Outcome
	switch {
	case tx != nil && tx.Status != "":
		o = Outcome{Status: tx.Status, Level: LevelTransaction, Reasons: tx.Reasons}
	case p != nil && p.Status != "" && p.Status != PartiallyAccepted:
		o = Outcome{Status: p.Status, Level: LevelPayment, Reasons: p.Reasons}
	case g != nil && g.Status != "" && g.Status != PartiallyAccepted:
		o = Outcome{Status: g.Status, Level: LevelGroup, Reasons: g.Reasons}
	default:
		return Outcome{}
	}
	if o.Status != Rejected {
		o.Conflict = o.Level == LevelTransaction && p != nil && p.Status == Rejected ||
			o.Level >= LevelPayment && g != nil && g.Status == Rejected
	}
	return o
}

// StatusOf returns the status r gives the transaction with end-to-end id
// endToEndID in the block pmtInfID of the original message, by Effective.
// When the report lists the transaction more than once, the last entry
// counts and Conflict is set if the entries disagree.
func (r *Report) StatusOf(pmtInfID, endToEndID string) Outcome {
	var p *Payment
	var tx *Transaction
	disagree := false
	for i := range r.Payments {
		if r.Payments[i].OrgnlPmtInfID != pmtInfID {
			continue
		}
		p = &r.Payments[i]
		for j := range p.Transactions {
			if t := &p.Transactions[j]; t.OrgnlEndToEndID == endToEndID {
				if tx != nil && tx.Status != t.Status {
					disagree = true
				}
				tx = t
			}
		}
	}
	o := Effective(&r.Group, p, tx)
	o.Conflict = o.Conflict || disagree
	return o
}
