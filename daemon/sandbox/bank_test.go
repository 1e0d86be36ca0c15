package sandbox

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"refundd/formats"
	"refundd/formats/camt054"
	"refundd/formats/pain001"
	"refundd/formats/pain002"
	"refundd/formats/xsdtest"
)

type testBank struct {
	*Bank
	up, down, state, taken string
}

func newTestBank(t *testing.T) *testBank {
	t.Helper()
	dir := t.TempDir()
	tb := &testBank{up: filepath.Join(dir, "in"), down: filepath.Join(dir, "out")}
	for _, d := range []string{tb.up, tb.down} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tb.state = filepath.Join(dir, "answered")
	tb.Bank = NewBank(BankConfig{UploadDir: tb.up, DownloadDir: tb.down, Delay: time.Nanosecond, StateFile: tb.state})
	return tb
}

// upload puts a file into the upload folder and lets the bank answer it.
func (tb *testBank) upload(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(tb.up, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	if err := tb.Step(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	if err := tb.Step(); err != nil { // what is due a delay later
		t.Fatal(err)
	}
}

// report reads the pain.002 named name.
func (tb *testBank) report(t *testing.T, name string) *pain002.Report {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(tb.down, name))
	if err != nil {
		t.Fatal(err)
	}
	r, err := pain002.Decode(bytes.NewReader(data), formats.Options{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return r
}

type testTx struct {
	e2e, account string
	amount       int64 // in øre
}

// painFile renders a pain.001 with one payment block.
func painFile(t *testing.T, msgID string, batch bool, txs ...testTx) []byte {
	t.Helper()
	var buf bytes.Buffer
	var sum int64
	for _, x := range txs {
		sum += x.amount
	}
	e := pain001.NewEncoder(&buf, pain001.V03)
	when := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	party := pain001.Party{Name: "Sandbox Handel AS", OrgID: "987654325", Scheme: "CUST"}
	if err := e.Header(pain001.GroupHeader{MsgID: msgID, CreationTime: when, NbOfTxs: len(txs),
		CtrlSum: pain001.Decimal{Units: sum, Scale: 2}, InitiatingParty: party}); err != nil {
		t.Fatal(err)
	}
	if err := e.PaymentInfo(pain001.PaymentInfo{PmtInfID: msgID + "-1", BatchBooking: batch, NbOfTxs: len(txs),
		CtrlSum: pain001.Decimal{Units: sum, Scale: 2}, ExecutionDate: when, Debtor: party,
		DebtorAccount: pain001.Account{Other: "86011117947", Scheme: "BBAN", Currency: "NOK"}, DebtorAgentBIC: "DNBANOKK"}); err != nil {
		t.Fatal(err)
	}
	for _, x := range txs {
		if err := e.Transaction(&pain001.Transaction{InstrID: x.e2e, EndToEndID: x.e2e,
			Amount:   pain001.Amount{Decimal: pain001.Decimal{Units: x.amount, Scale: 2}, Currency: "NOK"},
			Creditor: pain001.Party{Name: "Kari Nordmann"}, CreditorAccount: pain001.Account{Other: x.account, Scheme: "BBAN"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// txStatus returns the status and first reason code that r gives e2e.
func txStatus(r *pain002.Report, e2e string) (pain002.Status, string) {
	for _, p := range r.Payments {
		for _, tx := range p.Transactions {
			if tx.OrgnlEndToEndID == e2e {
				code := ""
				if len(tx.Reasons) > 0 {
					code = tx.Reasons[0].Code
				}
				return tx.Status, code
			}
		}
	}
	return "", ""
}

func TestBankChecksTransactions(t *testing.T) {
	tb := newTestBank(t)
	tb.upload(t, "m1.xml", painFile(t, "MSG-1", false,
		testTx{"E2E-OK", "12345678903", 10000},
		testTx{"E2E-CLOSED", AccountClosed, 5000},
		testTx{"E2E-BADCHECK", "12345678904", 2500},
		testTx{"E2E-PENDING", AccountPending, 1000},
		testTx{"E2E-OK", "12345678903", 100}, // the same EndToEndId again
	))
	if r := tb.report(t, "pain002-MSG-1-1-receipt.xml"); r.Group.Status != pain002.AcceptedTechnical || r.Group.OrgnlMsgID != "MSG-1" {
		t.Errorf("receipt: %+v", r.Group)
	}
	st := tb.report(t, "pain002-MSG-1-2-status.xml")
	if st.Group.Status != pain002.AcceptedCustomerProfile {
		t.Errorf("status: group %s, want ACCP", st.Group.Status)
	}
	for e2e, want := range map[string]string{"E2E-CLOSED": "RJCT AC04", "E2E-BADCHECK": "RJCT AC01", "E2E-PENDING": "PDNG "} {
		s, code := txStatus(st, e2e)
		if got := string(s) + " " + code; got != want {
			t.Errorf("%s: %q, want %q", e2e, got, want)
		}
	}
	// The duplicate is listed last under the same EndToEndId.
	var dup bool
	for _, tx := range st.Payments[0].Transactions {
		dup = dup || tx.OrgnlEndToEndID == "E2E-OK" && tx.Status == pain002.Rejected && tx.Reasons[0].Code == "DU05"
	}
	if !dup {
		t.Errorf("the repeated EndToEndId is not rejected with DU05: %+v", st.Payments)
	}
	if s, code := txStatus(tb.report(t, "pain002-MSG-1-3-accepted.xml"), "E2E-PENDING"); s != pain002.AcceptedCustomerProfile || code != "" {
		t.Errorf("pending refund: later %s %s, want ACCP", s, code)
	}

	// One debit entry per accepted transaction (no batch booking).
	f, err := os.Open(filepath.Join(tb.down, "camt054-MSG-1-booked.xml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := camt054.NewReader(f, camt054.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var booked []string
	for {
		e, err := rd.Next()
		if err != nil {
			break
		}
		if e.CreditDebit != camt054.Debit || e.Status != camt054.Booked || e.AcctSvcrRef == "" {
			t.Errorf("entry %+v", e)
		}
		for _, tx := range e.Transactions() {
			booked = append(booked, tx.Refs.EndToEndID)
		}
	}
	if got := strings.Join(booked, ","); got != "E2E-OK,E2E-PENDING" {
		t.Errorf("booked %s, want E2E-OK,E2E-PENDING", got)
	}

	// The same MsgId again: the whole file is rejected.
	tb.upload(t, "m1-again.xml", painFile(t, "MSG-1", false, testTx{"E2E-NEW", "12345678903", 100}))
	if r := tb.report(t, "pain002-MSG-1-rejected.xml"); r.Group.Status != pain002.Rejected || r.Group.Reasons[0].Code != "DU01" {
		t.Errorf("repeated MsgId: %+v", r.Group)
	}
}

func TestBankBatchBookingAndReturn(t *testing.T) {
	tb := newTestBank(t)
	tb.upload(t, "m2.xml", painFile(t, "MSG-2", true,
		testTx{"E2E-A", "12345678903", 10000},
		testTx{"E2E-R", AccountReturned, 5000},
		testTx{"E2E-C", AccountClosed, 700},
	))
	read := func(name string) []*camt054.Entry {
		data, err := os.ReadFile(filepath.Join(tb.down, name))
		if err != nil {
			t.Fatal(err)
		}
		rd, err := camt054.NewReader(bytes.NewReader(data), camt054.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var es []*camt054.Entry
		for {
			e, err := rd.Next()
			if err != nil {
				return es
			}
			es = append(es, e)
		}
	}
	es := read("camt054-MSG-2-booked.xml")
	if len(es) != 1 || es[0].Amount.Decimal.String() != "150.00" || len(es[0].Transactions()) != 2 ||
		es[0].Details[0].Batch == nil || es[0].Details[0].Batch.PmtInfID != "MSG-2-1" {
		t.Fatalf("batch booking: want one entry of 150.00 for two transactions, got %d entries %+v", len(es), es)
	}
	rs := read("camt054-MSG-2-returned.xml")
	if len(rs) != 1 || rs[0].CreditDebit != camt054.Credit || rs[0].Amount.Decimal.String() != "50.00" {
		t.Fatalf("return: %+v", rs)
	}
	tx := rs[0].Transactions()[0]
	if tx.Refs.EndToEndID != "E2E-R" || tx.Return == nil || tx.Return.Reason != "AC04" {
		t.Errorf("return details: %+v", tx)
	}
	if !tb.Idle() {
		t.Error("the bank is not idle after answering everything")
	}
}

func TestBankRejectsFiles(t *testing.T) {
	good := painFile(t, "MSG-3", false, testTx{"E2E-1", "12345678903", 10000}, testTx{"E2E-2", "12345678903", 2000})
	for _, c := range []struct {
		name, msgID, code string
		data              []byte
	}{
		{"garbage.xml", "garbage", "FF01", []byte("<Document>not a payment file")},
		{"sum.xml", "MSG-3", "AM10", bytes.Replace(good, []byte("<CtrlSum>120.00</CtrlSum>"), []byte("<CtrlSum>121.00</CtrlSum>"), 1)},
		{"count.xml", "MSG-3", "AM18", bytes.Replace(good, []byte("<NbOfTxs>2</NbOfTxs>"), []byte("<NbOfTxs>3</NbOfTxs>"), 1)},
	} {
		tb2 := newTestBank(t)
		tb2.upload(t, c.name, c.data)
		r := tb2.report(t, "pain002-"+c.msgID+"-rejected.xml")
		if r.Group.Status != pain002.Rejected || len(r.Group.Reasons) == 0 || r.Group.Reasons[0].Code != c.code {
			t.Errorf("%s: %+v, want RJCT %s", c.name, r.Group, c.code)
		}
		if _, err := os.Stat(filepath.Join(tb2.down, "pain002-"+c.msgID+"-1-receipt.xml")); err == nil {
			t.Errorf("%s: a receipt was written for a rejected file", c.name)
		}
	}
}

func TestBankRemembersEarlierUploads(t *testing.T) {
	tb := newTestBank(t)
	// A bank answers an upload in full and stops.
	tb.upload(t, "old.xml", painFile(t, "MSG-OLD", false, testTx{"E2E-OLD", "12345678903", 100}))
	if data, err := os.ReadFile(tb.state); err != nil || string(data) != "old.xml\n" {
		t.Fatalf("state file: %q %v", data, err)
	}
	for _, e := range files(t, tb.down) {
		os.Remove(filepath.Join(tb.down, e))
	}
	// An upload that the bank took but did not answer before it stopped.
	if err := os.WriteFile(filepath.Join(tb.up, "cut.xml"), painFile(t, "MSG-CUT", false, testTx{"E2E-CUT", "12345678903", 100}), 0o644); err != nil {
		t.Fatal(err)
	}
	tb.Bank = NewBank(BankConfig{UploadDir: tb.up, DownloadDir: tb.down, Delay: time.Nanosecond, StateFile: tb.state})
	if err := tb.Remember(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		time.Sleep(time.Millisecond)
		if err := tb.Step(); err != nil {
			t.Fatal(err)
		}
	}
	got := strings.Join(files(t, tb.down), ",")
	if strings.Contains(got, "MSG-OLD") || !strings.Contains(got, "pain002-MSG-CUT-2-status.xml") {
		t.Errorf("after a restart the bank wrote %s; want the replies to MSG-CUT only", got)
	}
	tb.upload(t, "new.xml", painFile(t, "MSG-NEW", false, testTx{"E2E-OLD", "12345678903", 100}))
	if s, code := txStatus(tb.report(t, "pain002-MSG-NEW-2-status.xml"), "E2E-OLD"); s != pain002.Rejected || code != "DU05" {
		t.Errorf("an EndToEndId of an earlier upload: %s %s, want RJCT DU05", s, code)
	}
}

// files returns the names of the files in dir that are not hidden.
func files(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestBankRepliesValidate checks every reply of the bank against the
// official schemas.
func TestBankRepliesValidate(t *testing.T) {
	tb := newTestBank(t)
	tb.upload(t, "m.xml", painFile(t, "MSG-X", true,
		testTx{"E2E-A", "12345678903", 10000}, testTx{"E2E-C", AccountClosed, 500},
		testTx{"E2E-R", AccountReturned, 700}, testTx{"E2E-P", AccountPending, 900}))
	tb.upload(t, "m-again.xml", painFile(t, "MSG-X", false, testTx{"E2E-Z", "12345678903", 100}))
	var pain, camt []string
	for _, name := range files(t, tb.down) {
		p := filepath.Join(tb.down, name)
		if strings.HasPrefix(name, "camt054") {
			camt = append(camt, p)
		} else {
			pain = append(pain, p)
		}
	}
	if len(pain) != 4 || len(camt) != 2 {
		t.Fatalf("replies %v %v, want 4 pain.002 and 2 camt.054", pain, camt)
	}
	xsdtest.Validate(t, xsdtest.Schema(t, "pain.002.001.03.xsd"), pain...)
	xsdtest.Validate(t, xsdtest.Schema(t, "camt.054.001.02.xsd"), camt...)
}

// newTakingBank is newTestBank with the bank taking uploads away into a
// folder of its own after takeAfter.
func newTakingBank(t *testing.T, takeAfter time.Duration) *testBank {
	t.Helper()
	tb := newTestBank(t)
	tb.taken = filepath.Join(filepath.Dir(tb.up), "taken")
	tb.Bank = NewBank(tb.takingConfig(takeAfter))
	return tb
}

// takingConfig is the configuration of a bank on tb's folders that takes
// uploads away after takeAfter.
func (tb *testBank) takingConfig(takeAfter time.Duration) BankConfig {
	return BankConfig{UploadDir: tb.up, DownloadDir: tb.down, TakenDir: tb.taken, TakeAfter: takeAfter,
		Delay: time.Nanosecond, StateFile: tb.state}
}

// put writes a file into the upload folder.
func (tb *testBank) put(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(tb.up, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// stepUntil steps the bank until done reports true, for at most 5s.
func (tb *testBank) stepUntil(t *testing.T, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := tb.Step(); err != nil {
			t.Fatal(err)
		}
		if done() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5s: %s: no", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestBankTakesUploadsAway(t *testing.T) {
	const after = 60 * time.Millisecond
	pain := painFile(t, "MSG-T", false, testTx{"E2E-T", "12345678903", 100})
	for _, c := range []struct {
		name  string
		taken bool
	}{
		{"RFD-T.xml", true},
		{".RFD-T.xml.part", false}, // the uploader's temporary name
		{"RFD-T.xml.part", false},
		{"RFD-T.xml.tmp", false},
		{".hidden.xml", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tb := newTakingBank(t, after)
			tb.put(t, c.name, pain)
			first := time.Now()
			if err := tb.Step(); err != nil {
				t.Fatal(err)
			}
			src := filepath.Join(tb.up, c.name)
			if !c.taken {
				// Stepped for well past the delay, it is still there.
				for time.Since(first) < 3*after {
					if err := tb.Step(); err != nil {
						t.Fatal(err)
					}
					time.Sleep(5 * time.Millisecond)
				}
				if !exists(src) || len(files(t, tb.taken)) != 0 || len(tb.Deliveries()) != 0 || len(files(t, tb.down)) != 0 {
					t.Errorf("a temporary file was taken: upload folder %v, taken %v, replies %v",
						files(t, tb.up), files(t, tb.taken), files(t, tb.down))
				}
				return
			}
			if !exists(src) && time.Since(first) < after {
				t.Fatal("the upload was taken before TakeAfter")
			}
			if tb.Idle() {
				t.Error("the bank is idle with an upload waiting to be taken")
			}
			tb.stepUntil(t, "the upload taken away", func() bool { return !exists(src) })
			if took := time.Since(first); took < after {
				t.Errorf("taken after %s, want at least %s", took, after)
			}
			if got := files(t, tb.taken); len(got) != 1 || got[0] != "000001-"+c.name {
				t.Fatalf("taken folder holds %v, want 000001-%s", got, c.name)
			}
			if data, err := os.ReadFile(filepath.Join(tb.taken, "000001-"+c.name)); err != nil || !bytes.Equal(data, pain) {
				t.Errorf("the taken file is not the upload: %v", err)
			}
			tb.stepUntil(t, "the upload answered", tb.Idle)
			if r := tb.report(t, "pain002-MSG-T-1-receipt.xml"); r.Group.Status != pain002.AcceptedTechnical {
				t.Errorf("receipt %+v", r.Group)
			}
			if d := tb.Deliveries(); len(d) != 1 || d["MSG-T"] != 1 {
				t.Errorf("deliveries %v, want MSG-T once", d)
			}
		})
	}
}

func TestBankSecondDeliveryAfterTakeAway(t *testing.T) {
	tb := newTakingBank(t, TakeAtOnce)
	pain := painFile(t, "MSG-D", false, testTx{"E2E-D1", "12345678903", 100}, testTx{"E2E-D2", "12345678903", 200})
	src := filepath.Join(tb.up, "RFD-D.xml")
	tb.put(t, "RFD-D.xml", pain)
	tb.stepUntil(t, "the first delivery answered", func() bool { return !exists(src) && tb.Idle() })
	if exists(filepath.Join(tb.down, "pain002-MSG-D-rejected.xml")) {
		t.Fatal("the first delivery was rejected")
	}
	// The uploader finds no file and uploads the same one again.
	tb.put(t, "RFD-D.xml", pain)
	tb.stepUntil(t, "the second delivery answered", func() bool {
		return !exists(src) && exists(filepath.Join(tb.down, "pain002-MSG-D-rejected.xml"))
	})
	if r := tb.report(t, "pain002-MSG-D-rejected.xml"); r.Group.Status != pain002.Rejected || r.Group.Reasons[0].Code != "DU01" {
		t.Errorf("second delivery: %+v, want RJCT DU01", r.Group)
	}
	if d := tb.Deliveries(); d["MSG-D"] != 2 {
		t.Errorf("deliveries %v, want MSG-D twice", d)
	}
	taken := tb.Taken()
	if len(taken) != 2 || taken[0].File != "000001-RFD-D.xml" || taken[1].File != "000002-RFD-D.xml" ||
		taken[0].Code != "" || taken[1].Code != "DU01" || taken[1].Name != "RFD-D.xml" ||
		strings.Join(taken[1].EndToEndIDs, ",") != "E2E-D1,E2E-D2" {
		t.Errorf("taken %+v", taken)
	}

	// A file that is not a pain.001 is a delivery too, under its name.
	tb.put(t, "junk.xml", []byte("<Document>not a payment file"))
	tb.stepUntil(t, "the junk answered", func() bool { return exists(filepath.Join(tb.down, "pain002-junk-rejected.xml")) })
	if r := tb.report(t, "pain002-junk-rejected.xml"); r.Group.Reasons[0].Code != "FF01" {
		t.Errorf("junk: %+v, want RJCT FF01", r.Group)
	}
	if d := tb.Deliveries(); d["junk.xml"] != 1 || d["MSG-D"] != 2 || len(d) != 2 {
		t.Errorf("deliveries %v, want MSG-D twice and junk.xml once", d)
	}
}

func TestBankRestartRemembersTaken(t *testing.T) {
	for _, c := range []struct {
		name      string
		stateFile bool
	}{{"with state file", true}, {"without state file", false}} {
		t.Run(c.name, func(t *testing.T) {
			tb := newTakingBank(t, TakeAtOnce)
			cfg := tb.takingConfig(TakeAtOnce)
			if !c.stateFile {
				cfg.StateFile = ""
			}
			tb.Bank = NewBank(cfg)
			tb.put(t, "RFD-R.xml", painFile(t, "MSG-R", false, testTx{"E2E-R", "12345678903", 100}))
			tb.stepUntil(t, "answered", tb.Idle)
			for _, e := range files(t, tb.down) {
				os.Remove(filepath.Join(tb.down, e))
			}

			// The bank starts again on the same folders.
			tb.Bank = NewBank(cfg)
			if err := tb.Remember(); err != nil {
				t.Fatal(err)
			}
			if d := tb.Deliveries(); d["MSG-R"] != 1 {
				t.Errorf("after a restart: deliveries %v, want MSG-R once", d)
			}
			if err := tb.Step(); err != nil {
				t.Fatal(err)
			}
			if got := files(t, tb.down); len(got) != 0 {
				t.Errorf("after a restart the bank answered again: %v", got)
			}
			tb.put(t, "RFD-R.xml", painFile(t, "MSG-R", false, testTx{"E2E-R2", "12345678903", 100}))
			tb.put(t, "RFD-S.xml", painFile(t, "MSG-S", false, testTx{"E2E-R", "12345678903", 100}))
			tb.stepUntil(t, "the new uploads answered", func() bool {
				return exists(filepath.Join(tb.down, "pain002-MSG-R-rejected.xml")) && exists(filepath.Join(tb.down, "pain002-MSG-S-2-status.xml"))
			})
			if r := tb.report(t, "pain002-MSG-R-rejected.xml"); r.Group.Reasons[0].Code != "DU01" {
				t.Errorf("a MsgId taken before the restart: %+v, want RJCT DU01", r.Group)
			}
			if s, code := txStatus(tb.report(t, "pain002-MSG-S-2-status.xml"), "E2E-R"); s != pain002.Rejected || code != "DU05" {
				t.Errorf("an EndToEndId taken before the restart: %s %s, want RJCT DU05", s, code)
			}
			if d := tb.Deliveries(); d["MSG-R"] != 2 || d["MSG-S"] != 1 {
				t.Errorf("deliveries %v, want MSG-R twice, MSG-S once", d)
			}
			if got := strings.Join(files(t, tb.taken), ","); got != "000001-RFD-R.xml,000002-RFD-R.xml,000003-RFD-S.xml" {
				t.Errorf("taken folder %s", got)
			}
		})
	}
}

func TestBankRestartAnswersTakenNotAnswered(t *testing.T) {
	tb := newTakingBank(t, TakeAtOnce)
	// The bank of an earlier run took MSG-OLD and answered it in full,
	// then took MSG-CUT and stopped before answering it.
	if err := os.Mkdir(tb.taken, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, msgID := range map[string]string{"000001-old.xml": "MSG-OLD", "000002-cut.xml": "MSG-CUT"} {
		data := painFile(t, msgID, false, testTx{"E2E-" + msgID, "12345678903", 100})
		if err := os.WriteFile(filepath.Join(tb.taken, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(tb.state, []byte("000001-old.xml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// An upload answered by a bank that left its uploads in place.
	tb.put(t, "stayed.xml", painFile(t, "MSG-STAYED", false, testTx{"E2E-STAYED", "12345678903", 100}))
	if err := os.WriteFile(tb.state, []byte("000001-old.xml\nstayed.xml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tb.stepUntil(t, "answered", tb.Idle)
	got := strings.Join(files(t, tb.down), ",")
	if strings.Contains(got, "MSG-OLD") || strings.Contains(got, "MSG-STAYED") || !strings.Contains(got, "pain002-MSG-CUT-2-status.xml") {
		t.Errorf("after a restart the bank wrote %s; want the replies to MSG-CUT only", got)
	}
	if got := strings.Join(files(t, tb.taken), ","); got != "000001-old.xml,000002-cut.xml,000003-stayed.xml" || len(files(t, tb.up)) != 0 {
		t.Errorf("taken folder %s, upload folder %v", got, files(t, tb.up))
	}
	if d := tb.Deliveries(); d["MSG-OLD"] != 1 || d["MSG-CUT"] != 1 || d["MSG-STAYED"] != 1 || len(d) != 3 {
		t.Errorf("deliveries %v", d)
	}
	data, err := os.ReadFile(tb.state)
	if err != nil || !strings.Contains(string(data), "000002-cut.xml\n") || !strings.Contains(string(data), "000003-stayed.xml\n") {
		t.Errorf("state file %q %v", data, err)
	}
}
