// Package testutil holds what the tests of refundd's daemon packages share:
// the test configuration and clock, the shared fixtures in daemon/testdata,
// golden-file comparison, and the bank's replies to the example batch
// (testdata/batch-ok.csv). Only tests import it.
package testutil

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"refundd/daemon/config"
	"refundd/daemon/erp"
	"refundd/daemon/refund"
	"refundd/daemon/render"
	"refundd/formats"
	"refundd/formats/camt054"
	"refundd/formats/pain001"
	"refundd/formats/pain002"
	"refundd/formats/xsdtest"
	"refundd/internal/pgtest"
)

// Now returns the fixed clock of the tests: Tuesday 1 December 2026,
// 09:00 UTC.
func Now() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) }

// Testdata returns the path of name in daemon/testdata, the fixtures the
// daemon packages share (the test configuration, the example batch, its
// golden pain.001 files and the bank's replies to it).
func Testdata(name string) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("testutil: no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "daemon", "testdata", name)
}

// Config loads the test configuration testdata/refundd.yaml; a version
// other than "" replaces its pain001.version.
func Config(t testing.TB, version string) *config.Config {
	t.Helper()
	path := Testdata("refundd.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if version != "" {
		const was = `version: "001.001.03"`
		if !bytes.Contains(data, []byte(was)) {
			t.Fatalf("%s does not say %s", path, was)
		}
		data = bytes.Replace(data, []byte(was), []byte(`version: "`+version+`"`), 1)
	}
	c, err := config.Parse(bytes.NewReader(data), filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	c.File = path
	if os.Getenv(StoreEnv) == config.DriverPostgres {
		url, schema := pgtest.Schema(t)
		c.Store.Driver, c.Store.URL, c.Store.Schema = config.DriverPostgres, url, schema
		c.HA.Instance = "test-" + schema
	}
	return c
}

// StoreEnv selects the state store of the test configuration: "postgres"
// puts it in a new schema of the PostgreSQL server that REFUNDD_TEST_PG
// names; otherwise it is SQLite in paths.state.
const StoreEnv = pgtest.StoreEnv

// CompareGolden compares got with the golden file at path, or rewrites the
// file first when update is set (go test -update).
func CompareGolden(t testing.TB, got []byte, path string, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// ByRef returns the refund with RefNbr ref.
func ByRef(t testing.TB, sent []refund.Sent, ref string) refund.Sent {
	t.Helper()
	for _, s := range sent {
		if s.RefNbr == ref {
			return s
		}
	}
	t.Fatalf("no refund %s", ref)
	return refund.Sent{}
}

// StatusReport is the bank's pain.002 for the example batch msgID: the
// message accepted (ACCP), refund PP10043 rejected (AC04).
func StatusReport(t testing.TB, msgID string, sent []refund.Sent) []byte {
	t.Helper()
	rj := ByRef(t, sent, "PP10043")
	rep := &pain002.Report{
		MsgID:        "STS-20261201-0001",
		CreationTime: time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC),
		Group:        pain002.Group{OrgnlMsgID: msgID, OrgnlMsgNmID: "pain.001.001.03", Status: pain002.AcceptedCustomerProfile},
		Payments: []pain002.Payment{{
			OrgnlPmtInfID: rj.PmtInfID,
			Transactions: []pain002.Transaction{{
				OrgnlInstrID: rj.InstrID, OrgnlEndToEndID: rj.EndToEndID, Status: pain002.Rejected,
				Reasons: []pain002.Reason{{Code: "AC04", AdditionalInfo: []string{"Konto avsluttet"}}},
			}},
		}},
	}
	var b bytes.Buffer
	if err := pain002.Encode(&b, rep); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Sent renders the pain.001 of testdata/batch-ok.csv with the test
// configuration and returns the refunds it sent, read back from the
// rendered pain.001 (ids, amounts, accounts, dates) and from the batch
// (RefNbr, customer, batch), in the order of the pain.001, with status
// sent.
func Sent(t testing.TB, c *config.Config) (msgID string, sent []refund.Sent) {
	t.Helper()
	var doc bytes.Buffer
	if err := render.File(c, Testdata("batch-ok.csv"), Now(), &doc, io.Discard); err != nil {
		t.Fatal(err)
	}
	type row struct{ refNbr, customer, batch string }
	rows := map[string]row{}
	f, err := os.Open(Testdata("batch-ok.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := erp.Scan("batch-ok.csv", f, func(r erp.Record) error {
		rows[refund.EndToEndID(r.Refund.DocType, r.Refund.RefNbr, 0)] = row{r.Refund.RefNbr, r.Refund.CustomerID, r.Refund.Batch}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	account := func(a pain001.Account) string {
		if a.IBAN != "" {
			return a.IBAN
		}
		return a.Other
	}
	var pmt pain001.PaymentInfo
	_, err = pain001.Decode(&doc, pain001.Handler{
		Header: func(_ int, h *pain001.GroupHeader) error { msgID = h.MsgID; return nil },
		PaymentInfo: func(_ int, p *pain001.PaymentInfo) error {
			pmt = *p
			return nil
		},
		Transaction: func(_ int, tx *pain001.Transaction) error {
			r, ok := rows[tx.EndToEndID]
			if !ok {
				return fmt.Errorf("EndToEndId %s is no refund of the batch", tx.EndToEndID)
			}
			amt, err := minorOf(tx.Amount)
			if err != nil {
				return err
			}
			debtor := account(pmt.DebtorAccount)
			sent = append(sent, refund.Sent{
				RefNbr: r.refNbr, Batch: r.batch, CustomerID: r.customer,
				MsgID: msgID, PmtInfID: pmt.PmtInfID, EndToEndID: tx.EndToEndID, InstrID: tx.InstrID,
				Amount: amt, ExecutionDate: refund.DateOf(pmt.ExecutionDate),
				CreditorAccount: account(tx.CreditorAccount), DebtorAccount: debtor,
				DebtorLedgerAccount: ledgerAccountOf(t, c, debtor),
				Status:              refund.StatusSent,
			})
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 5 {
		t.Fatalf("read %d refunds back from the pain.001; want 5", len(sent))
	}
	return msgID, sent
}

// ledgerAccountOf returns the ledger account of a configured debtor
// account.
func ledgerAccountOf(t testing.TB, c *config.Config, account string) string {
	t.Helper()
	for _, d := range c.DebtorAccounts {
		if refund.AccountKey(d.Account) == refund.AccountKey(account) {
			return d.LedgerAccount
		}
	}
	t.Fatalf("account %s is no configured debtor account", account)
	return ""
}

// minorOf returns a pain.001 amount in minor units of its currency.
func minorOf(a pain001.Amount) (refund.Amount, error) {
	cur := refund.Currency(a.Currency)
	exp, ok := cur.Exponent()
	if !ok || a.Scale > exp {
		return refund.Amount{}, fmt.Errorf("amount %v %s: not in minor units", a.Decimal, a.Currency)
	}
	m := a.Units
	for range exp - a.Scale {
		m *= 10
	}
	return refund.Amount{Minor: m, Currency: cur}, nil
}

// Dec returns the amount of a decimal string in currency c, or fails the
// test.
func Dec(t testing.TB, s string, c string) formats.Amount {
	t.Helper()
	d, err := formats.ParseAmount(s)
	if err != nil {
		t.Fatal(err)
	}
	return formats.Amount{Decimal: d, Currency: c}
}

// Day returns a date of December 2026.
func Day(d int) formats.DateTime {
	return formats.DateTime{Time: time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC)}
}

// BankAccount returns a camt account for an account number: an IBAN when
// it starts with a letter, else a BBAN.
func BankAccount(a string) camt054.Account {
	if a == "" {
		return camt054.Account{}
	}
	if a[0] >= 'A' && a[0] <= 'Z' {
		return camt054.Account{IBAN: a}
	}
	return camt054.Account{Other: a, Scheme: "BBAN"}
}

// Paid returns a booked debit of one refund on day d of December, with the
// bank reference ref, its references and the payee's account.
func Paid(t testing.TB, s refund.Sent, ref string, d int, amount formats.Amount) camt054.Entry {
	t.Helper()
	instd := Dec(t, s.Amount.String(), string(s.Amount.Currency))
	return camt054.Entry{
		Amount: amount, CreditDebit: camt054.Debit, Status: camt054.Booked,
		BookingDate: Day(d), ValueDate: Day(d), AcctSvcrRef: ref,
		BankTxCode: camt054.BankTxCode{Domain: "PMNT", Family: "ICDT", SubFamily: "DMCT"},
		Details: []camt054.Details{{Transactions: []camt054.Transaction{{
			Refs:          camt054.Refs{MsgID: s.MsgID, PmtInfID: s.PmtInfID, InstrID: s.InstrID, EndToEndID: s.EndToEndID},
			AmountDetails: camt054.AmountDetails{Instructed: instd, Transaction: amount},
			Parties:       camt054.Parties{CreditorAccount: BankAccount(s.CreditorAccount)},
		}}}},
	}
}

// Notification is the bank's camt.054 for the example batch, with the copy
// indicator cpy: the accepted refunds booked, one entry each (the SEK
// refund from the NOK account, in NOK, with a fee); the return of CN10042
// (AC04); a payment that is not refundd's; a pending entry of the rejected
// refund; the EUR refund on the EUR account.
func Notification(t testing.TB, sent []refund.Sent, cpy string) []byte {
	t.Helper()
	cn46, cn42, cn45 := ByRef(t, sent, "CN10046"), ByRef(t, sent, "CN10042"), ByRef(t, sent, "CN10045")
	pp43, py44 := ByRef(t, sent, "PP10043"), ByRef(t, sent, "PY10044")

	sek := Paid(t, cn45, "NO2026120200003", 2, Dec(t, "2412.50", "NOK"))
	sek.BankTxCode.SubFamily = "XBCT"
	sek.Details[0].Transactions[0].Charges = camt054.Charges{Records: []camt054.Charge{
		{Amount: Dec(t, "25.00", "NOK"), CreditDebit: camt054.Debit, Type: "COMM", Bearer: "SHAR"},
		{Amount: Dec(t, "30.00", "NOK"), CreditDebit: camt054.Debit, Bearer: "CRED"}, // the payee's: not ours
	}}

	ret := Paid(t, cn42, "NO2026120400004", 4, Dec(t, "1234.50", "NOK"))
	ret.CreditDebit, ret.Reversal = camt054.Credit, false
	ret.BankTxCode.SubFamily = "RRTN"
	rt := &ret.Details[0].Transactions[0]
	rt.Parties = camt054.Parties{DebtorAccount: BankAccount(cn42.CreditorAccount)}
	rt.Return = &camt054.Return{Reason: "AC04", AdditionalInfo: []string{"Konto avsluttet"}}

	other := Paid(t, refund.Sent{EndToEndID: "SOMEONE-ELSES-1", Amount: refund.Amount{Minor: 50000, Currency: "NOK"}, CreditorAccount: "12345678903"},
		"NO2026120200005", 2, Dec(t, "500.00", "NOK"))

	pending := Paid(t, pp43, "NO2026120700006", 7, Dec(t, "99.00", "NOK"))
	pending.Status, pending.BookingDate = camt054.Pending, formats.DateTime{}

	euro := Paid(t, py44, "NO2026120200007", 2, Dec(t, "100.00", "EUR"))
	euro.BankTxCode.SubFamily = "ESCT"

	var b bytes.Buffer
	w := camt054.NewWriter(&b)
	created := time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC)
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	check(w.Header(camt054.Header{MsgID: "NTF-20261204-0001", CreationTime: created}))
	check(w.Report(&camt054.Report{ID: "NTF-20261204-NOK", CreationTime: created, CopyDuplicate: cpy, Account: camt054.Account{Other: "86011117947", Scheme: "BBAN", Currency: "NOK"}}))
	for _, e := range []camt054.Entry{
		Paid(t, cn46, "NO2026120100001", 1, Dec(t, "10.00", "NOK")),
		Paid(t, cn42, "NO2026120200002", 2, Dec(t, "1234.50", "NOK")),
		sek, ret, other, pending,
	} {
		check(w.Entry(&e))
	}
	check(w.Report(&camt054.Report{ID: "NTF-20261204-EUR", CreationTime: created, CopyDuplicate: cpy, Account: camt054.Account{IBAN: "NO7112345678903", Currency: "EUR"}}))
	check(w.Entry(&euro))
	check(w.Close())
	return b.Bytes()
}

// Samples returns the official XML samples of one message type
// ("camt.054", "pain.002", …) from the shared folder beside the
// repository. Without that folder the test is skipped, except under
// CI=true, where it fails: CI must read the samples.
func Samples(t testing.TB, message string) []string {
	t.Helper()
	dir := xsdtest.Shared(t, "iso20022", "samples", message)
	files, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s samples in %s (%v)", message, dir, err)
	}
	return files
}

// BenchBatch writes a CSV batch of n domestic refunds and returns its
// path.
func BenchBatch(tb testing.TB, dir string, n int) string {
	tb.Helper()
	var b strings.Builder
	b.WriteString("Batch;DocType;RefNbr;CustomerID;CustomerName;PaymentMethod;AccountType;Account;Amount;PaymentDate;CustomerOrderNbr;PaymentRef\n")
	accounts := []string{"86011117947", "1234.56.78903", "15031234562", "97100000001", "30001234567"}
	for i := range n {
		doc, order, ref := "CreditNote", fmt.Sprintf("SO-%d", 500000+i), ""
		if i%3 == 0 {
			doc, order, ref = "Payment", "", fmt.Sprintf("INV-%d", 700000+i)
		}
		fmt.Fprintf(&b, "B-BENCH;%s;R%07d;C%d;Kari Nordmann Ærlig %d;AUTOPAY;BBAN;%s;%d,%02d;2026-12-0%d;%s;%s\n",
			doc, i, i%5000, i%97, accounts[i%len(accounts)], 100+i%90000, i%100, 2+i%3, order, ref)
	}
	path := filepath.Join(dir, fmt.Sprintf("bench-%d.csv", n))
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// SyncBuffer is a bytes.Buffer that may be written and read from several
// goroutines: the log of a daemon under test.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Names returns the names of the entries of dir, sorted; a missing folder
// fails the test.
func Names(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(es))
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}
