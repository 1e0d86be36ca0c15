package camt054

import (
	"time"

	"refundd/formats"
)

// Header is the message's group header (GrpHdr).
type Header struct {
	Message      formats.Message // the version read; Writer writes camt.054.001.02
	MsgID        string
	CreationTime time.Time
}

// Report is one notification (Ntfctn) or statement (Stmt): the account the
// entries are on. Every Entry points to the Report it is in; a Report is
// not changed once its first entry has been returned.
type Report struct {
	ID           string
	CreationTime time.Time // zero when absent (optional in camt.054.001.08)
	// ElectronicSeqNb and LegalSeqNb are the sequence numbers as written
	// (up to 18 digits); "" when absent.
	ElectronicSeqNb string
	LegalSeqNb      string
	// CopyDuplicate is CpyDplctInd: "COPY", "DUPL" (a duplicate of a
	// message sent before), "CODU" (copy of a duplicate), or "".
	CopyDuplicate string
	Account       Account
}

// The values of Report.CopyDuplicate.
const (
	Copy          = "COPY"
	Duplicate     = "DUPL"
	CopyDuplicate = "CODU"
)

// Account is a cash account: an IBAN, or another identifier with a scheme.
type Account struct {
	IBAN              string
	Other             string // Othr/Id when there is no IBAN
	Scheme            string // Othr/SchmeNm/Cd, e.g. BBAN
	SchemeProprietary string // Othr/SchmeNm/Prtry
	Currency          string // Ccy; "" when absent
}

// IsZero reports whether a is the zero Account, that is, absent.
func (a Account) IsZero() bool { return a == Account{} }

// CreditDebit is a CdtDbtInd.
type CreditDebit string

// The values of CreditDebit.
const (
	Credit CreditDebit = "CRDT"
	Debit  CreditDebit = "DBIT"
)

// The entry status codes of camt.054.001.02 and .04 (EntryStatus2Code);
// camt.054.001.08 uses an external code list that has these and more.
const (
	Booked  = "BOOK"
	Pending = "PDNG"
	Info    = "INFO"
)

// Entry is one Ntry: a movement on the account.
type Entry struct {
	Report      *Report
	Ref         string         // NtryRef
	Amount      formats.Amount // always present and not negative; the direction is CreditDebit
	CreditDebit CreditDebit
	Reversal    bool // RvslInd
	// Status is the entry status code: BOOK, PDNG, INFO (and in .08 other
	// external codes). Only a BOOK entry is booked on the account. Read
	// from <Sts>BOOK</Sts> in .02 and .04 and <Sts><Cd>BOOK</Cd></Sts> in
	// .08; a proprietary .08 status (Sts/Prtry) leaves Status empty and
	// sets StatusProprietary.
	Status            string
	StatusProprietary string
	BookingDate       formats.DateTime // zero when absent
	ValueDate         formats.DateTime // zero when absent
	AcctSvcrRef       string           // the bank's reference of the booking
	BankTxCode        BankTxCode
	AmountDetails     AmountDetails
	Charges           Charges
	Details           []Details // NtryDtls, in document order
	AdditionalInfo    string    // AddtlNtryInf
}

// Transactions returns the transactions of every NtryDtls of e, in order.
func (e *Entry) Transactions() []*Transaction {
	var txs []*Transaction
	for i := range e.Details {
		for j := range e.Details[i].Transactions {
			txs = append(txs, &e.Details[i].Transactions[j])
		}
	}
	return txs
}

// BankTxCode is a bank transaction code (BkTxCd), e.g. PMNT/ICDT/DMCT for
// a domestic credit transfer or PMNT/ICDT/RRTN for a returned one.
type BankTxCode struct {
	Domain      string // Domn/Cd
	Family      string // Domn/Fmly/Cd
	SubFamily   string // Domn/Fmly/SubFmlyCd
	Proprietary string // Prtry/Cd
	Issuer      string // Prtry/Issr
}

// IsZero reports whether c is the zero BankTxCode.
func (c BankTxCode) IsZero() bool { return c == BankTxCode{} }

// String returns e.g. "PMNT/ICDT/DMCT", or the proprietary code.
func (c BankTxCode) String() string {
	if c.Domain != "" {
		return c.Domain + "/" + c.Family + "/" + c.SubFamily
	}
	return c.Proprietary
}

// AmountDetails are the amounts of an AmtDtls; each is zero when absent.
type AmountDetails struct {
	Instructed   formats.Amount // InstdAmt/Amt: as the debtor instructed it
	Transaction  formats.Amount // TxAmt/Amt: as exchanged between the banks
	CounterValue formats.Amount // CntrValAmt/Amt
}

// Charges are the charges of an entry or a transaction. In .02 each Chrgs
// element is one record; .04 and .08 have one Chrgs with a total and
// records.
type Charges struct {
	Total   formats.Amount // TtlChrgsAndTaxAmt (.04, .08); zero when absent
	Records []Charge
}

// Charge is one charge record.
type Charge struct {
	Amount      formats.Amount
	CreditDebit CreditDebit // "" when absent
	// Included is ChrgInclInd (.04, .08): whether the charge is included
	// in the entry amount; nil when absent.
	Included        *bool
	Type            string         // Tp/Cd, e.g. COMM, BRKF
	TypeProprietary string         // Tp/Prtry/Id
	Bearer          string         // Br: DEBT, CRED, SHAR or SLEV
	TotalAndTax     formats.Amount // the record's own TtlChrgsAndTaxAmt (.02)
}

// Details is one NtryDtls: an optional batch and its transactions.
type Details struct {
	Batch        *Batch // nil when absent
	Transactions []Transaction
}

// Batch is a Btch: the original payment-information block of a batch
// booking.
type Batch struct {
	MsgID       string
	PmtInfID    string
	NbOfTxs     int            // 0 when absent
	Total       formats.Amount // TtlAmt; zero when absent
	CreditDebit CreditDebit    // "" when absent
}

// Transaction is one TxDtls.
type Transaction struct {
	Refs Refs
	// Amount and CreditDebit are TxDtls/Amt and CdtDbtInd (.04, .08);
	// zero when absent. In .02 the amounts are in AmountDetails only.
	Amount         formats.Amount
	CreditDebit    CreditDebit
	AmountDetails  AmountDetails
	BankTxCode     BankTxCode
	Charges        Charges
	Parties        Parties
	Remittance     Remittance
	Return         *Return // RtrInf; nil when absent
	AdditionalInfo string  // AddtlTxInf
}

// Refs are the references of a transaction (Refs). A return repeats the
// original payment's references.
type Refs struct {
	MsgID             string
	AcctSvcrRef       string
	PmtInfID          string
	InstrID           string
	EndToEndID        string
	UETR              string // .08
	TxID              string
	MandateID         string
	ChequeNb          string
	ClrSysRef         string
	AcctOwnrTxID      string // .04, .08
	AcctSvcrTxID      string // .04, .08
	MktInfrstrctrTxID string // .04, .08
	PrcgID            string // .04, .08
	Proprietary       []ProprietaryRef
}

// ProprietaryRef is a Refs/Prtry.
type ProprietaryRef struct {
	Type string
	Ref  string
}

// Parties are the related parties of a transaction (RltdPties).
type Parties struct {
	DebtorName      string // Dbtr/Nm (.08: Dbtr/Pty/Nm or Dbtr/Agt/FinInstnId/Nm)
	DebtorAccount   Account
	CreditorName    string
	CreditorAccount Account
}

// Remittance is the remittance information of a transaction (RmtInf).
type Remittance struct {
	Unstructured []string      // every Ustrd, in order
	Structured   []CreditorRef // the CdtrRefInf of every Strd that has one
}

// CreditorRef is a structured creditor reference (Strd/CdtrRefInf), such
// as a KID or an RF reference (type SCOR).
type CreditorRef struct {
	Type            string // Tp/CdOrPrtry/Cd, e.g. SCOR
	TypeProprietary string // Tp/CdOrPrtry/Prtry, e.g. QRR
	Issuer          string // Tp/Issr
	Ref             string
}

// Return is the return information of a transaction (RtrInf): why the
// payment came back.
type Return struct {
	OriginalBankTxCode BankTxCode
	OriginatorName     string   // Orgtr/Nm
	Reason             string   // Rsn/Cd, e.g. AC01, AC04, MD07
	ReasonProprietary  string   // Rsn/Prtry
	AdditionalInfo     []string // every AddtlInf line
}
