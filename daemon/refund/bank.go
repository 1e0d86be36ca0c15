package refund

import (
	"strconv"
	"strings"
)

// Direction says whether a bank entry takes money from the account or
// brings money to it (camt CdtDbtInd).
type Direction string

// The directions of a bank entry. A refund paid out is a Debit; a refund
// that comes back is a Credit.
const (
	Debit  Direction = "DBIT"
	Credit Direction = "CRDT"
)

// EntryStatus is the status of a bank entry (camt Ntry/Sts). Only a booked
// entry is posted to the ledger.
type EntryStatus string

// The statuses of a bank entry.
const (
	EntryBooked  EntryStatus = "BOOK"
	EntryPending EntryStatus = "PDNG"
	EntryInfo    EntryStatus = "INFO"
)

// BankTxCode is the bank transaction code of an entry (camt BkTxCd/Domn):
// domain, family and sub-family, e.g. PMNT/ICDT/DMCT.
type BankTxCode struct {
	Domain, Family, SubFamily string
}

// String formats c as "PMNT/ICDT/RRTN", or "" for the zero code.
func (c BankTxCode) String() string {
	if c == (BankTxCode{}) {
		return ""
	}
	return c.Domain + "/" + c.Family + "/" + c.SubFamily
}

// IsReturn reports whether c marks a returned credit transfer: sub-family
// RRTN in domain PMNT, family ICDT (issued credit transfers, the usual code
// of a returned refund) or RCDT (some banks file the returned money under
// received credit transfers).
func (c BankTxCode) IsReturn() bool {
	return c.Domain == "PMNT" && (c.Family == "ICDT" || c.Family == "RCDT") && c.SubFamily == "RRTN"
}

// Charge is a fee that the bank took from our account for an entry or a
// transaction (camt Chrgs). Only the charges that our account bears belong
// here; charges borne by the payee are left out by whoever maps the bank
// message to a BankEntry.
type Charge struct {
	Amount Amount
	// Included is true when the fee is part of the amount booked (camt
	// ChrgInclInd): a debit then booked the refund plus the fee, a credit
	// the returned money less the fee.
	Included bool
}

// ReturnInfo is the return information of a transaction (camt TxDtls/RtrInf).
type ReturnInfo struct {
	Reason string // Rsn/Cd, an ISO external return reason code such as AC04
	Info   string // AddtlInf, free text
}

// BatchRef identifies the pain.001 payment block that a batch booking
// (camt NtryDtls/Btch) booked as one entry.
type BatchRef struct {
	MsgID    string
	PmtInfID string
	NbOfTxs  int    // 0 when not given
	Total    Amount // TtlAmt; zero Currency when not given
}

// IsZero reports whether b names no block.
func (b BatchRef) IsZero() bool { return b.MsgID == "" || b.PmtInfID == "" }

// BankTx is one transaction of a bank entry (camt NtryDtls/TxDtls).
type BankTx struct {
	// References (TxDtls/Refs). EndToEndID "NOTPROVIDED" counts as absent.
	EndToEndID  string
	InstrID     string
	MsgID       string
	PmtInfID    string
	AcctSvcrRef string
	// Amount is the transaction amount as booked on our account
	// (TxDtls/Amt or AmtDtls/TxAmt); a zero Currency means not given.
	Amount Amount
	// InstructedAmount is the amount as instructed in the payment
	// (AmtDtls/InstdAmt), in the refund's currency; a zero Currency means
	// not given. It differs from Amount for a payment in a currency other
	// than the account's.
	InstructedAmount Amount
	// Counterparty is the account of the other party: the creditor's for
	// a refund paid out, as the bank wrote it.
	Counterparty string
	Charges      []Charge
	Return       *ReturnInfo // nil when the transaction has no RtrInf
	Remittance   string      // RmtInf/Ustrd
}

// BankEntry is one entry of a bank-to-customer notification or statement
// (camt.054, camt.053 Ntry): money booked, or about to be booked, on one of
// our accounts.
type BankEntry struct {
	// Position says where the entry is in its file, for the exceptions
	// file, e.g. "Ntfctn[1]/Ntry[3]".
	Position    string
	Account     string // our account, as the bank wrote it
	Amount      Amount
	Direction   Direction
	Status      EntryStatus
	BookingDate Date
	ValueDate   Date
	AcctSvcrRef string // the bank's reference of the booking
	EntryRef    string // NtryRef
	Code        BankTxCode
	Reversal    bool     // RvslInd
	Batch       BatchRef // zero when the entry is not a batch booking
	Charges     []Charge // charges of the entry as a whole
	Txs         []BankTx // transaction details; may be empty
}

// Key identifies one booking of one transaction, so that a booking is
// posted once however often the bank reports it: the account, the entry's
// account servicer reference and the transaction's EndToEndId, with the
// fallbacks below. It is comparable and may key a map.
type Key struct {
	// Account is AccountKey of the entry's account.
	Account string
	// Entry is the entry's AcctSvcrRef; when the bank gave none,
	// "ntry:" and the NtryRef; failing that, "booking:" and the booking
	// date, direction and amount.
	Entry string
	// Tx identifies the transaction within the entry: its EndToEndId;
	// failing that "ref:" and its own AcctSvcrRef, "instr:" and its
	// InstrId, or "#" and its index. A transaction whose Tx part repeats
	// an earlier one of the same entry gets "#" and its index appended, so
	// that a repeat in one entry is reported, not taken for a replay. The
	// entry's own charges have Tx "charges".
	Tx string
}

// String formats k as "account/entry/tx".
func (k Key) String() string { return k.Account + "/" + k.Entry + "/" + k.Tx }

// Key returns the de-duplication key of transaction i of e, or of e as a
// whole (without transaction details) for i = -1.
func (e *BankEntry) Key(i int) Key {
	k := Key{Account: AccountKey(e.Account), Entry: e.entryKey()}
	if i < 0 || i >= len(e.Txs) {
		k.Tx = "#-1"
		return k
	}
	k.Tx = e.Txs[i].keyPart(i)
	for j := range i {
		if e.Txs[j].keyPart(j) == k.Tx {
			k.Tx += "#" + strconv.Itoa(i)
			break
		}
	}
	return k
}

// keys returns Key(i) for every transaction of e, in linear time.
func (e *BankEntry) keys() []Key {
	ks := make([]Key, len(e.Txs))
	seen := make(map[string]bool, len(e.Txs))
	base := Key{Account: AccountKey(e.Account), Entry: e.entryKey()}
	for i := range e.Txs {
		k := base
		k.Tx = e.Txs[i].keyPart(i)
		if seen[k.Tx] {
			k.Tx += "#" + strconv.Itoa(i)
		} else {
			seen[k.Tx] = true
		}
		ks[i] = k
	}
	return ks
}

// subKey returns the key of e with the transaction part tx.
func (e *BankEntry) subKey(tx string) Key {
	return Key{Account: AccountKey(e.Account), Entry: e.entryKey(), Tx: tx}
}

// entryKey is the entry part of a Key.
func (e *BankEntry) entryKey() string {
	switch {
	case e.AcctSvcrRef != "":
		return e.AcctSvcrRef
	case e.EntryRef != "":
		return "ntry:" + e.EntryRef
	}
	return "booking:" + e.BookingDate.String() + ":" + string(e.Direction) + ":" + e.Amount.String() + string(e.Amount.Currency)
}

// keyPart is the transaction part of a Key for the transaction at index i.
func (t *BankTx) keyPart(i int) string {
	switch {
	case t.e2e() != "":
		return t.e2e()
	case t.AcctSvcrRef != "":
		return "ref:" + t.AcctSvcrRef
	case t.InstrID != "":
		return "instr:" + t.InstrID
	}
	return "#" + strconv.Itoa(i)
}

// e2e returns the EndToEndId of t, "" when absent or NOTPROVIDED.
func (t *BankTx) e2e() string {
	id := strings.TrimSpace(t.EndToEndID)
	if strings.EqualFold(id, "NOTPROVIDED") {
		return ""
	}
	return id
}

// BankRef returns the bank's reference of the entry for the files written
// for the ERP: the AcctSvcrRef, else the NtryRef.
func (e *BankEntry) BankRef() string {
	if e.AcctSvcrRef != "" {
		return e.AcctSvcrRef
	}
	return e.EntryRef
}

// AccountKey returns the form in which account numbers are compared: upper
// case without spaces, dots or hyphens, and a Norwegian IBAN reduced to the
// 11-digit account number inside it, so that "NO93 8601 1117 947",
// "8601.11.17947" and "86011117947" are the same account.
func AccountKey(account string) string {
	var b strings.Builder
	for i := 0; i < len(account); i++ {
		switch c := account[i]; {
		case c == ' ' || c == '.' || c == '-':
		case c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		default:
			b.WriteByte(c)
		}
	}
	k := b.String()
	if len(k) == 15 && strings.HasPrefix(k, "NO") {
		if _, err := ParseIBAN(k); err == nil {
			return k[4:]
		}
	}
	return k
}

// MaskAccount returns an account number fit for logs and reports: all but
// the last four characters replaced by '*' (an IBAN keeps its country code
// as well).
func MaskAccount(a string) string {
	k := AccountKey(a)
	if len(k) <= 4 {
		return k
	}
	keep := 0
	if len(k) > 2 && k[0] >= 'A' && k[0] <= 'Z' && k[1] >= 'A' && k[1] <= 'Z' {
		keep = 2
	}
	b := []byte(k)
	for i := keep; i < len(b)-4; i++ {
		b[i] = '*'
	}
	return string(b)
}
