package daemon

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"refundd/daemon/config"
	"refundd/daemon/refund"
	"refundd/daemon/sandbox"
	"refundd/daemon/store"
	"refundd/formats/xsdtest"
)

// configure appends yaml to the test's configuration and loads it again.
func (e *daemonEnv) configure(t *testing.T, yaml string) {
	t.Helper()
	f, err := os.OpenFile(e.config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(yaml); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if e.cfg, err = config.Load(e.config); err != nil {
		t.Fatal(err)
	}
}

// consumingBank is the sandbox bank as AutoPay behaves: it takes every
// upload away and answers it (receipt, status, booking).
func (e *daemonEnv) consumingBank(t *testing.T) *sandbox.Bank {
	return sandbox.NewBank(sandbox.BankConfig{UploadDir: e.up, DownloadDir: e.down, TakenDir: t.TempDir(),
		TakeAfter: sandbox.TakeAtOnce, Delay: time.Millisecond, Poll: time.Millisecond, Now: e.clock,
		Logger: zerolog.New(zerolog.NewTestWriter(t))})
}

// round uploads what is pending, lets the bank answer, and applies the
// answers.
func (e *daemonEnv) round(t *testing.T, bank *sandbox.Bank) {
	t.Helper()
	e.once(t)
	bankSteps(t, bank)
	e.once(t)
}

// batchOf returns the batches of an ERP batch number, by attempt.
func (e *daemonEnv) batchOf(t *testing.T, number string) []store.Batch {
	t.Helper()
	s := e.openStore(t)
	defer s.Close()
	bs, err := s.BatchByNumber(t.Context(), number)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(bs, func(a, b store.Batch) int { return a.Attempt - b.Attempt })
	return bs
}

// notes returns the notes of batch msgID.
func (e *daemonEnv) notes(t *testing.T, msgID string) []store.Note {
	t.Helper()
	s := e.openStore(t)
	defer s.Close()
	ns, err := s.Notes(t.Context(), msgID)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

const sendValidBatch = `Batch;DocType;RefNbr;CustomerID;CustomerName;PaymentMethod;AccountType;Account;Amount;PaymentDate;CustomerOrderNbr;PaymentRef
B7;CreditNote;CN1;C1;Kari Nordmann;AUTOPAY;BBAN;86011117947;100,00;2026-12-02;SO-1;
B7;CreditNote;CN2;C2;Ola Hansen;AUTOPAY;BBAN;86011117948;200,00;2026-12-02;SO-2;
B7;CreditNote;CN3;C3;Per Olsen;AUTOPAY;BBAN;12345678903;300,00;2026-12-02;;
B7;Payment;PY4;C4;Lise Berg;AUTOPAY;BBAN;15031234562;400,00;2026-12-02;;INV-4
B7;CreditNote;CN5;C5;Anne Lie;AUTOPAY;BBAN;86011117947;500,00;2026-12-02;SO-5;
B7;Prepayment;PP6;C6;Nils Dahl;AUTOPAY;BBAN;12345678903;600,00;2026-12-02;;INV-6
`

const sendValidCorrection = `Batch;DocType;RefNbr;CustomerID;CustomerName;PaymentMethod;AccountType;Account;Amount;PaymentDate;CustomerOrderNbr;PaymentRef
B7;CreditNote;CN2;C2;Ola Hansen;AUTOPAY;BBAN;86011117947;200,00;2026-12-02;SO-2;
B7;CreditNote;CN3;C3;Per Olsen;AUTOPAY;BBAN;12345678903;300,00;2026-12-02;SO-3;
`

// TestSendValid: with batches.on_invalid: send-valid, a batch of six
// refunds of which two are invalid (a bad check digit, a credit note
// without its order number) is sent with the four valid ones, XSD-valid
// with their control sum; the ERP gets a status line and an exception
// line for each of the two, with the problem, and failed/ a report. The
// two corrected and exported again as the same ERP batch go out in a
// second batch (the next attempt), and the bank pays each of the six
// refunds once.
func TestSendValid(t *testing.T) {
	e := newDaemonEnv(t)
	e.configure(t, "batches: {on_invalid: send-valid, account_guard: off}\n")
	bank := e.consumingBank(t)
	export := filepath.Join(e.dir, "export")

	drop(t, export, "b7.csv", []byte(sendValidBatch))
	e.once(t)
	bs := e.batchOf(t, "B7")
	if len(bs) != 1 || bs[0].NbOfTxs != 4 {
		t.Fatalf("batches %+v; want one of 4 refunds", bs)
	}
	first := bs[0]
	pain := readFile(t, e.outboxFile(first.MsgID))
	xsdtest.Validate(t, xsdtest.Schema(t, "pain.001.001.03.xsd"), e.outboxFile(first.MsgID))
	for _, want := range []string{"<NbOfTxs>4</NbOfTxs>", "<CtrlSum>1600.00</CtrlSum>"} {
		if !strings.Contains(string(pain), want) {
			t.Errorf("the pain.001 lacks %s", want)
		}
	}
	for _, ref := range []string{"CN2", "CN3"} {
		if strings.Contains(string(pain), "-"+ref+"-") {
			t.Errorf("the invalid refund %s is in the pain.001", ref)
		}
	}

	status := e.importLines(t, "status-")
	invalid := regexp.MustCompile(`^(CN2|CN3);B7;` + first.MsgID + `;[^;]*;invalid;invalid;(.*)$`)
	reasons := map[string]string{}
	for _, l := range status {
		if m := invalid.FindStringSubmatch(l); m != nil {
			reasons[m[1]] = m[2]
		}
	}
	if !strings.Contains(reasons["CN2"], "Account:") || !strings.Contains(reasons["CN3"], "CustomerOrderNbr:") || len(reasons) != 2 {
		t.Errorf("status lines %q; want CN2 invalid for its Account and CN3 for its CustomerOrderNbr", status)
	}
	if ex := e.importLines(t, "exceptions-"); len(ex) != 2 || !strings.Contains(ex[0], "b7.csv:3") || !strings.Contains(ex[1], "b7.csv:4") {
		t.Errorf("exception lines %q; want b7.csv:3 and b7.csv:4", ex)
	}
	report := string(readFile(t, filepath.Join(export, "failed", "b7.csv."+first.MsgID+".err")))
	if !strings.Contains(report, "without 2 refund(s)") || !strings.Contains(report, "b7.csv:3: CN2") || !strings.Contains(report, "b7.csv:4: CN3") {
		t.Errorf("failed/b7.csv.%s.err:\n%s", first.MsgID, report)
	}

	bankSteps(t, bank)
	e.once(t)
	st, rs := e.statuses(t, first.MsgID)
	if st != store.BatchPaid || len(rs) != 4 {
		t.Fatalf("first batch %s with %v; want paid with 4", st, rs)
	}

	drop(t, export, "b7-fixed.csv", []byte(sendValidCorrection))
	e.round(t, bank)
	bs = e.batchOf(t, "B7")
	if len(bs) != 2 || bs[1].Attempt != 1 || bs[1].NbOfTxs != 2 {
		t.Fatalf("batches %+v; want the correction as attempt 1 with 2 refunds", bs)
	}
	st, rs = e.statuses(t, bs[1].MsgID)
	if st != store.BatchPaid || rs["CN2"] != refund.StatusBooked || rs["CN3"] != refund.StatusBooked {
		t.Fatalf("correction %s with %v; want paid, both booked", st, rs)
	}
	for _, n := range e.notes(t, first.MsgID) {
		if n.ResolvedIn != bs[1].MsgID {
			t.Errorf("note %+v not resolved by the correction", n)
		}
	}
	taken := bank.Taken()
	if len(taken) != 2 {
		t.Errorf("the bank took %d files, want 2", len(taken))
	}
	// The bank refuses an EndToEndId it has seen (DU05); every refund
	// was booked, so each was paid once.
	s := e.openStore(t)
	booked := 0
	for _, b := range bs {
		rs, err := s.Refunds(t.Context(), b.MsgID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.Status == refund.StatusBooked {
				booked++
			}
		}
	}
	if booked != 6 {
		t.Errorf("%d refunds booked, want 6", booked)
	}
}

// TestSendValidNothingValid: with send-valid, a batch without a single
// valid refund is rejected whole, as with reject.
func TestSendValidNothingValid(t *testing.T) {
	e := newDaemonEnv(t)
	e.configure(t, "batches: {on_invalid: send-valid}\n")
	export := filepath.Join(e.dir, "export")
	lines := strings.Split(sendValidBatch, "\n")
	drop(t, export, "bad.csv", []byte(strings.Join([]string{lines[0], lines[2], lines[3], ""}, "\n")))
	e.once(t)
	if got := files(t, e.up); len(got) != 0 {
		t.Errorf("uploaded %v", got)
	}
	if !fileExists(filepath.Join(export, "failed", "bad.csv")) {
		t.Error("the batch was not rejected")
	}
}

// TestSendValidBatchProblem: a problem of the whole file (a row of
// another batch) rejects it even with send-valid.
func TestSendValidBatchProblem(t *testing.T) {
	e := newDaemonEnv(t)
	e.configure(t, "batches: {on_invalid: send-valid}\n")
	export := filepath.Join(e.dir, "export")
	drop(t, export, "mixed.csv", []byte(sendValidBatch+"B8;CreditNote;CN9;C9;Eva Ek;AUTOPAY;BBAN;86011117947;10,00;2026-12-02;SO-9;\n"))
	e.once(t)
	if got := files(t, e.up); len(got) != 0 {
		t.Errorf("uploaded %v", got)
	}
	if !fileExists(filepath.Join(export, "failed", "mixed.csv")) {
		t.Error("the batch was not rejected")
	}
}

// guardBatch is a one-refund batch file: number, RefNbr, customer, account.
func guardBatch(number, ref, customer, account string) []byte {
	return []byte("Batch;DocType;RefNbr;CustomerID;CustomerName;PaymentMethod;AccountType;Account;Amount;PaymentDate;CustomerOrderNbr\n" +
		number + ";CreditNote;" + ref + ";" + customer + ";Kari Nordmann;AUTOPAY;BBAN;" + account + ";100,00;2026-12-02;SO-" + ref + "\n")
}

// TestAccountGuardHold: a customer's refund to another account than the
// one its last booked refund went to is held back: not uploaded, a status
// line "held" for the ERP; a first refund to a customer is not. An
// operator's release sends it in a follow-up batch with its own MsgId and
// records who and why. A batch whose every refund is held is recorded
// without a pain.001, and completed once its refunds were released.
func TestAccountGuardHold(t *testing.T) {
	e := newDaemonEnv(t)
	e.configure(t, "batches: {account_guard: hold}\n")
	bank := e.consumingBank(t)
	export := filepath.Join(e.dir, "export")

	drop(t, export, "h1.csv", guardBatch("B20", "CN1", "C1", "86011117947"))
	e.round(t, bank)
	if st, rs := e.statuses(t, e.batchOf(t, "B20")[0].MsgID); st != store.BatchPaid || rs["CN1"] != refund.StatusBooked {
		t.Fatalf("first refund of C1: batch %s, %v", st, rs)
	}

	two := append(guardBatch("B21", "CN2", "C1", "12345678903"), []byte("B21;CreditNote;CN3;C2;Ola Hansen;AUTOPAY;BBAN;15031234562;50,00;2026-12-02;SO-CN3\n")...)
	drop(t, export, "h2.csv", two)
	e.once(t)
	b21 := e.batchOf(t, "B21")[0]
	if b21.NbOfTxs != 1 || strings.Contains(string(readFile(t, e.outboxFile(b21.MsgID))), "-CN2-") {
		t.Fatalf("batch B21 %+v; want CN3 alone sent", b21)
	}
	ns := e.notes(t, b21.MsgID)
	if len(ns) != 1 || ns[0].Kind != store.NoteHeld || ns[0].RefNbr != "CN2" || !ns[0].Open() ||
		strings.Contains(ns[0].Reason, "12345678903") || !strings.Contains(ns[0].Reason, "C1") {
		t.Fatalf("notes %+v; want CN2 held, accounts masked", ns)
	}
	held := false
	for _, l := range e.importLines(t, "status-") {
		held = held || strings.HasPrefix(l, "CN2;B21;"+b21.MsgID+";;held;held;")
	}
	if !held {
		t.Errorf("no held status line for CN2: %q", e.importLines(t, "status-"))
	}
	bankSteps(t, bank)
	e.once(t)

	s := e.openStore(t)
	if _, err := Release(t.Context(), e.cfg, s, []string{"CN2"}, "", e.clock()); err == nil {
		t.Error("a release without a reason was taken")
	}
	rb, err := Release(t.Context(), e.cfg, s, []string{"CN2"}, "customer confirmed the new account by phone", e.clock())
	if err != nil {
		t.Fatal(err)
	}
	if rb.Number != "B21" || rb.Attempt != 1 || rb.NbOfTxs != 1 || rb.MsgID == b21.MsgID {
		t.Errorf("release batch %+v; want B21 attempt 1 with CN2", rb)
	}
	evs, err := s.Events(t.Context(), store.SubjectBatch, rb.MsgID)
	if err != nil || len(evs) == 0 || !strings.Contains(evs[0].Reason, "customer confirmed the new account by phone") {
		t.Errorf("events of the release %+v, %v; want the reason", evs, err)
	}
	if _, err := Release(t.Context(), e.cfg, s, []string{"CN2"}, "again", e.clock()); err == nil {
		t.Error("a released refund was released again")
	}
	s.Close()
	e.round(t, bank)
	if st, rs := e.statuses(t, rb.MsgID); st != store.BatchPaid || rs["CN2"] != refund.StatusBooked {
		t.Errorf("release batch %s, %v; want paid", st, rs)
	}
	if ns := e.notes(t, b21.MsgID); ns[0].ResolvedIn != rb.MsgID {
		t.Errorf("note %+v; want resolved in %s", ns[0], rb.MsgID)
	}

	// Every refund of the file held: the batch is recorded, nothing sent.
	drop(t, export, "h3.csv", guardBatch("B22", "CN4", "C1", "15031234562"))
	uploads := len(bank.Taken())
	e.once(t)
	b22 := e.batchOf(t, "B22")[0]
	if b22.Status != store.BatchReceived || b22.NbOfTxs != 0 {
		t.Fatalf("batch B22 %+v; want received without refunds", b22)
	}
	s = e.openStore(t)
	if _, err := Release(t.Context(), e.cfg, s, []string{"CN4"}, "new account confirmed", e.clock()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	e.round(t, bank)
	e.once(t)
	if got := len(bank.Taken()); got != uploads+1 {
		t.Errorf("the bank took %d files for B22, want 1", got-uploads)
	}
	if st, _ := e.statuses(t, b22.MsgID); st != store.BatchCompleted {
		t.Errorf("batch B22 (all held, then released) is %s, want completed", st)
	}

	// Completed: the paid batches CompleteAfter banking days on.
	opts := e.options(t)
	opts.Now = func() time.Time { return e.clock().Add(30 * 24 * time.Hour) }
	d := e.daemon(t, opts)
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	d.Close()
	for _, n := range []string{"B20", "B21"} {
		for _, b := range e.batchOf(t, n) {
			if st, _ := e.statuses(t, b.MsgID); st != store.BatchCompleted {
				t.Errorf("batch %s attempt %d is %s a month on, want completed", n, b.Attempt, st)
			}
		}
	}
}

// TestAccountGuardWarn: with warn, a refund to a changed account is sent,
// and flagged: an exception line for the ERP and a note on the batch.
func TestAccountGuardWarn(t *testing.T) {
	e := newDaemonEnv(t)
	bank := e.consumingBank(t)
	export := filepath.Join(e.dir, "export")
	if e.cfg.Batches.AccountGuard != config.GuardWarn {
		t.Fatalf("account_guard defaults to %q, want warn", e.cfg.Batches.AccountGuard)
	}
	drop(t, export, "w1.csv", guardBatch("B30", "CN1", "C1", "86011117947"))
	e.round(t, bank)
	drop(t, export, "w2.csv", guardBatch("B31", "CN2", "C1", "12345678903"))
	e.once(t)
	b := e.batchOf(t, "B31")[0]
	if b.NbOfTxs != 1 {
		t.Fatalf("batch B31 %+v; want CN2 sent", b)
	}
	ns := e.notes(t, b.MsgID)
	if len(ns) != 1 || ns[0].Kind != store.NoteAccountChanged || ns[0].Open() {
		t.Errorf("notes %+v; want one account-changed flag", ns)
	}
	flagged := false
	for _, l := range e.importLines(t, "exceptions-") {
		flagged = flagged || (strings.Contains(l, ";CN2;") && strings.Contains(l, "account-changed"))
	}
	if !flagged {
		t.Errorf("no exception line for CN2: %q", e.importLines(t, "exceptions-"))
	}
	for _, l := range e.importLines(t, "status-") {
		if strings.Contains(l, "held") {
			t.Errorf("status line %q with warn", l)
		}
	}
}
