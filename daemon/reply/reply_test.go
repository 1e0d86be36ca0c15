package reply

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"refundd/internal/testutil"

	"refundd/daemon/config"

	"refundd/daemon/erp"
	"refundd/daemon/refund"
	"refundd/formats"
	"refundd/formats/camt054"
	"refundd/formats/xsdtest"
)

// replyNow is the clock of the reply tests: the morning the replies are
// read.
var replyNow = time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)

// replyEnv is a state store, a seen-set and an import folder, with the
// reply files of the batch.
type replyEnv struct {
	refunds *memRefunds
	seen    *memSeen
	out     *erp.Writer
	dir     string // the folder of the reply files
	cfg     *config.Config
}

func newReplyEnv(t *testing.T) *replyEnv {
	t.Helper()
	c := testutil.Config(t, "")
	_, sent := testutil.Sent(t, c)
	return &replyEnv{
		refunds: &memRefunds{refunds: sent},
		seen:    &memSeen{},
		out:     &erp.Writer{Dir: t.TempDir(), Now: func() time.Time { return replyNow }},
		dir:     t.TempDir(),
		cfg:     c,
	}
}

func (e *replyEnv) deps() Deps {
	return Deps{Refunds: e.refunds, Seen: e.seen, Ledger: e.cfg.LedgerAccounts(), Out: e.out, Now: func() time.Time { return replyNow }}
}

// file writes a reply file and returns its path.
func (e *replyEnv) file(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// process runs Process and records what it returns, as the daemon
// does once the files are durable.
func (e *replyEnv) process(t *testing.T, path string) Result {
	t.Helper()
	res, err := Process(path, e.deps())
	if err != nil {
		t.Fatalf("%v", err)
	}
	e.refunds.record(t, res.Statuses)
	e.seen.record(res.Keys)
	return res
}

// golden compares the file name in the import folder with the golden file
// testdata/replies/golden, or rewrites it under -update.
func (e *replyEnv) golden(t *testing.T, name, golden string) []byte {
	t.Helper()
	if name == "" {
		t.Errorf("no file for %s", golden)
		return nil
	}
	got, err := os.ReadFile(filepath.Join(e.out.Dir, name))
	if err != nil {
		t.Fatal(err)
	}
	testutil.CompareGolden(t, got, testutil.Testdata(filepath.Join("replies", golden)), *update)
	return got
}

// TestProcessReplyEndToEnd sends the example batch and reads the bank's
// replies: a pain.002 that accepts the batch and rejects one refund, and a
// camt.054 that books the others, returns one, and has an entry that is
// not refundd's. Then it reads both again.
func TestProcessReplyEndToEnd(t *testing.T) {
	e := newReplyEnv(t)
	msgID := e.refunds.refunds[0].MsgID
	painXML := testutil.StatusReport(t, msgID, e.refunds.refunds)
	camtXML := testutil.Notification(t, e.refunds.refunds, "")
	testutil.CompareGolden(t, painXML, "../testdata/replies/pain002.xml", *update)
	testutil.CompareGolden(t, camtXML, "../testdata/replies/camt054.xml", *update)
	xsdtest.Validate(t, xsdtest.Schema(t, "pain.002.001.03.xsd"), "../testdata/replies/pain002.xml")
	xsdtest.Validate(t, xsdtest.Schema(t, "camt.054.001.02.xsd"), "../testdata/replies/camt054.xml")
	pain := e.file(t, "pain002.xml", painXML)
	camt := e.file(t, "camt054.xml", camtXML)

	// The status report.
	res := e.process(t, pain)
	if res.Message.String() != "pain.002.001.03" || res.OrgnlMsgID != msgID || res.GroupStatus != "ACCP" {
		t.Errorf("got %s, original %s, group %s", res.Message, res.OrgnlMsgID, res.GroupStatus)
	}
	if want := (Counts{Changes: 5}); res.Counts != want {
		t.Errorf("counts %+v; want %+v", res.Counts, want)
	}
	if len(res.Files.Postings) != 0 || res.Files.Matches != "" || res.Files.Exceptions != "" || len(res.Keys) != 0 {
		t.Errorf("a status report wrote %+v, keys %v", res.Files, res.Keys)
	}
	e.golden(t, res.Files.Status, "status-pain002.csv")
	for ref, want := range map[string]refund.Status{"CN10046": "accepted", "PY10044": "accepted", "CN10042": "accepted", "CN10045": "accepted", "PP10043": "rejected"} {
		if got := e.refunds.status(ref); got != want {
			t.Errorf("refund %s is %s; want %s", ref, got, want)
		}
	}

	// The notification.
	res = e.process(t, camt)
	if want := (Counts{Entries: 7, Transactions: 7, Payments: 4, Returns: 1, Charges: 0, Exceptions: 1, NotBooked: 1}); res.Counts != want {
		t.Errorf("counts %+v; want %+v", res.Counts, want)
	}
	if len(res.Keys) != 6 {
		t.Errorf("%d keys to record; want 6 (5 postings, 1 exception): %v", len(res.Keys), res.Keys)
	}
	e.golden(t, res.Files.Status, "status-camt054.csv")
	postings := e.golden(t, onlyFile(t, res.Files.Postings), "postings.csv")
	e.golden(t, res.Files.Matches, "matches.csv")
	exceptions := e.golden(t, res.Files.Exceptions, "exceptions.csv")
	for ref, want := range map[string]refund.Status{"CN10046": "booked", "PY10044": "booked", "CN10042": "returned", "CN10045": "booked", "PP10043": "rejected"} {
		if got := e.refunds.status(ref); got != want {
			t.Errorf("refund %s is %s; want %s", ref, got, want)
		}
	}
	checkPostings(t, postings, map[string]int{"CN10046": 1, "CN10042": 2, "CN10045": 1, "PY10044": 1, "PP10043": 0})
	if !strings.Contains(string(exceptions), "SOMEONE-ELSES-1") || !strings.Contains(string(exceptions), "no-match") {
		t.Errorf("the entry of an unknown EndToEndId is not an exception:\n%s", exceptions)
	}

	// Both again: nothing new is written, and every line is a duplicate.
	before := testutil.Names(t, e.out.Dir)
	res = e.process(t, pain)
	if want := (Counts{Unchanged: 5}); res.Counts != want || len(res.Files.Names()) != 0 {
		t.Errorf("pain.002 again: counts %+v, files %v; want %+v, none", res.Counts, res.Files.Names(), want)
	}
	res = e.process(t, camt)
	if want := (Counts{Entries: 7, Transactions: 7, NotBooked: 1, Duplicates: 6}); res.Counts != want || len(res.Files.Names()) != 0 || len(res.Keys) != 0 {
		t.Errorf("camt.054 again: counts %+v, files %v, keys %v; want %+v, none", res.Counts, res.Files.Names(), res.Keys, want)
	}
	if after := testutil.Names(t, e.out.Dir); !slices.Equal(before, after) {
		t.Errorf("reading the replies again wrote files: %v, then %v", before, after)
	}
}

// checkPostings checks that every voucher of a postings file balances per
// currency, and counts the vouchers of each refund.
func checkPostings(t *testing.T, data []byte, vouchers map[string]int) {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ voucher, currency string }
	bal := map[key]int64{}
	refs := map[string]map[string]bool{}
	for _, rec := range recs[1:] {
		v, debit, credit, cur, ref := rec[0], rec[3], rec[4], rec[5], rec[7]
		a, err := refund.ParseAmount(debit+credit, refund.Currency(cur))
		if err != nil || (debit == "") == (credit == "") {
			t.Fatalf("line %q: debit %q, credit %q: %v", rec, debit, credit, err)
		}
		if debit != "" {
			bal[key{v, cur}] += a.Minor
		} else {
			bal[key{v, cur}] -= a.Minor
		}
		if refs[ref] == nil {
			refs[ref] = map[string]bool{}
		}
		refs[ref][v] = true
	}
	for k, b := range bal {
		if b != 0 {
			t.Errorf("voucher %s does not balance in %s: %d", k.voucher, k.currency, b)
		}
	}
	for ref, n := range vouchers {
		if len(refs[ref]) != n {
			t.Errorf("refund %s has %d vouchers; want %d", ref, len(refs[ref]), n)
		}
	}
}

// TestProcessReplyDuplicateCopy: a notification marked as a duplicate
// (CpyDplctInd DUPL) is processed with the same de-duplication: applied
// once when its original was never seen, a duplicate of everything when
// it was; and the result says so.
func TestProcessReplyDuplicateCopy(t *testing.T) {
	e := newReplyEnv(t)
	e.process(t, e.file(t, "pain002.xml", testutil.StatusReport(t, e.refunds.refunds[0].MsgID, e.refunds.refunds)))
	dupl := e.file(t, "camt054-dupl.xml", testutil.Notification(t, e.refunds.refunds, camt054.Duplicate))
	orig := e.file(t, "camt054.xml", testutil.Notification(t, e.refunds.refunds, ""))

	res := e.process(t, dupl)
	if res.CopyDuplicate != "DUPL" || res.Counts.Payments != 4 || res.Counts.Returns != 1 || len(res.Files.Postings) == 0 {
		t.Errorf("duplicate of a notification never seen: %s, files %+v", res.String(), res.Files)
	}
	if !strings.Contains(res.String(), "CpyDplctInd DUPL") {
		t.Errorf("summary does not say it is a duplicate: %s", res.String())
	}
	before := testutil.Names(t, e.out.Dir)
	res = e.process(t, orig)
	if res.CopyDuplicate != "" || res.Counts.Duplicates != 6 || res.Counts.Payments != 0 || len(res.Files.Names()) != 0 {
		t.Errorf("original after its duplicate: %s, files %+v", res.String(), res.Files)
	}
	res = e.process(t, dupl)
	if res.Counts.Duplicates != 6 || len(res.Files.Names()) != 0 {
		t.Errorf("duplicate again: %s, files %+v", res.String(), res.Files)
	}
	if after := testutil.Names(t, e.out.Dir); !slices.Equal(before, after) {
		t.Errorf("files written: %v, then %v", before, after)
	}
}

// TestProcessReplyRefused: a reply file that is truncated, hostile, of an
// unknown or the wrong type is refused whole: an error wrapping
// ErrBadReply and the reader's class of error, naming the file, and no
// file written, not even for the entries read before the problem.
func TestProcessReplyRefused(t *testing.T) {
	e := newReplyEnv(t)
	camt := testutil.Notification(t, e.refunds.refunds, "")
	pain := testutil.StatusReport(t, e.refunds.refunds[0].MsgID, e.refunds.refunds)
	cut := bytes.LastIndex(camt, []byte("<Ntry>")) // after several complete entries
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"truncated.xml", camt[:cut+20], formats.ErrTruncated},
		{"truncated-pain002.xml", pain[:len(pain)/2], formats.ErrTruncated},
		{"doctype.xml", []byte(`<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]>` + string(camt[bytes.Index(camt, []byte("<Document")):])), formats.ErrDoctype},
		{"second-root.xml", append(slices.Clone(camt), "<Document/>"...), formats.ErrTrailing},
		{"unknown-namespace.xml", bytes.Replace(camt, []byte("camt.054.001.02"), []byte("camt.054.001.99"), 1), formats.ErrUnknownMessage},
		{"pain001.xml", mustRead(t, "../testdata/batch-ok.v03.golden.xml"), ErrBadReply},
		{"too-large.xml", camt, formats.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := e.file(t, tc.name, tc.data)
			d := e.deps()
			if tc.name == "too-large.xml" {
				d.Options.MaxBytes = 2048
			}
			res, err := Process(path, d)
			if !errors.Is(err, ErrBadReply) || !errors.Is(err, tc.want) {
				t.Errorf("got %v; want ErrBadReply and %v", err, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), path) {
				t.Errorf("error does not name the file: %v", err)
			}
			if names := testutil.Names(t, e.out.Dir); len(names) != 0 || len(res.Keys) != 0 || len(res.Statuses) != 0 {
				t.Errorf("files %v, keys %v, statuses %v; want none", names, res.Keys, res.Statuses)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestProcessReplyStoreErrors: a failure of the lookup, of the seen-set or
// of the ledger configuration is an error that is not ErrBadReply (try
// again), with nothing written.
func TestProcessReplyStoreErrors(t *testing.T) {
	errStore := errors.New("database is locked")
	for _, tc := range []struct {
		name  string
		setup func(*replyEnv, *Deps)
		want  error
	}{
		{"lookup", func(e *replyEnv, _ *Deps) { e.refunds.err = errStore }, errStore},
		{"seen", func(e *replyEnv, _ *Deps) { e.seen.err = errStore }, errStore},
		{"no ledger", func(_ *replyEnv, d *Deps) { d.Ledger = refund.Ledger{} }, ErrNoLedger},
	} {
		for _, file := range []string{"camt054.xml", "pain002.xml"} {
			t.Run(tc.name+"/"+file, func(t *testing.T) {
				e := newReplyEnv(t)
				data := testutil.Notification(t, e.refunds.refunds, "")
				if file == "pain002.xml" {
					if tc.want == ErrNoLedger {
						t.Skip("a status report posts nothing")
					}
					// An exception line, so that the seen-set is asked.
					data = bytes.Replace(testutil.StatusReport(t, e.refunds.refunds[0].MsgID, e.refunds.refunds), []byte("<OrgnlMsgId>RFD-"), []byte("<OrgnlMsgId>XXX-"), 1)
				}
				path := e.file(t, file, data)
				d := e.deps()
				tc.setup(e, &d)
				_, err := Process(path, d)
				if !errors.Is(err, tc.want) || errors.Is(err, ErrBadReply) {
					t.Errorf("got %v; want %v and not ErrBadReply", err, tc.want)
				}
				if names := testutil.Names(t, e.out.Dir); len(names) != 0 {
					t.Errorf("files written: %v", names)
				}
			})
		}
	}
}

// TestProcessReplyExceptions: bank entries that cannot be booked or match
// no refund refundd may post are exceptions, each with its reason, and
// nothing is posted for them.
func TestProcessReplyExceptions(t *testing.T) {
	e := newReplyEnv(t)
	cn46 := testutil.ByRef(t, e.refunds.refunds, "CN10046")
	pp43 := testutil.ByRef(t, e.refunds.refunds, "PP10043")
	e.refunds.record(t, []erp.StatusRow{{EndToEndID: pp43.EndToEndID, Status: refund.StatusRejected}})

	for _, tc := range []struct {
		name   string
		entry  func() camt054.Entry
		reason string
		detail string
	}{
		{"unknown EndToEndId", func() camt054.Entry {
			return testutil.Paid(t, refund.Sent{EndToEndID: "NOT-OURS-1", Amount: cn46.Amount}, "R1", 2, testutil.Dec(t, "10.00", "NOK"))
		}, "no-match", `EndToEndId "NOT-OURS-1": no refund refundd sent`},
		{"booking of a rejected refund", func() camt054.Entry {
			return testutil.Paid(t, pp43, "R2", 7, testutil.Dec(t, "99.00", "NOK"))
		}, "refund-status", "refund PP10043 is rejected"},
		{"more decimals than the currency", func() camt054.Entry {
			return testutil.Paid(t, cn46, "R3", 1, testutil.Dec(t, "10.001", "NOK"))
		}, "invalid-entry", "Amt 10.001 NOK: more decimals than NOK has (2); not rounded"},
		{"unknown currency", func() camt054.Entry {
			x := testutil.Paid(t, cn46, "R4", 1, testutil.Dec(t, "10.00", "NOK"))
			x.Details[0].Transactions[0].AmountDetails.Instructed = testutil.Dec(t, "10.00", "XAU")
			return x
		}, "invalid-entry", `TxDtls[0]/AmtDtls/InstdAmt 10.00 XAU: unknown currency "XAU"`},
		{"amount differs", func() camt054.Entry {
			x := testutil.Paid(t, cn46, "R5", 1, testutil.Dec(t, "10.50", "NOK"))
			x.Details[0].Transactions[0].AmountDetails.Instructed = formats.Amount{}
			return x
		}, "amount-differs", "bank 10.50 NOK, refund CN10046 10.00 NOK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			w := camt054.NewWriter(&b)
			_ = w.Header(camt054.Header{MsgID: "X", CreationTime: replyNow})
			_ = w.Report(&camt054.Report{ID: "N", CreationTime: replyNow, Account: testutil.BankAccount("86011117947")})
			x := tc.entry()
			if err := w.Entry(&x); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			res, err := Process(e.file(t, "x.xml", b.Bytes()), e.deps())
			if err != nil {
				t.Fatal(err)
			}
			if res.Counts.Exceptions != 1 || len(res.Files.Postings) != 0 || res.Files.Matches != "" || res.Files.Status != "" {
				t.Fatalf("counts %+v, files %+v; want one exception, nothing else", res.Counts, res.Files)
			}
			r := csv.NewReader(bytes.NewReader(mustRead(t, filepath.Join(e.out.Dir, res.Files.Exceptions))))
			r.Comma = ';'
			recs, err := r.ReadAll()
			if err != nil || len(recs) != 2 {
				t.Fatalf("exceptions file: %v, %q", err, recs)
			}
			row := recs[1]
			if row[0] != "x.xml" || row[1] != "Ntfctn[Id='N']/Ntry[1]" && row[1] != "Ntfctn[Id='N']/Ntry[1]/TxDtls[0]" ||
				row[10] != tc.reason || !strings.Contains(row[11], tc.detail) {
				t.Errorf("exception %q; want file x.xml, the entry's position, reason %s, detail with %q", row, tc.reason, tc.detail)
			}
		})
	}
}

// TestProcessReplyOnce: a booking repeated within one file is posted once;
// the exception lines of a status report are listed once however often the
// report is read.
func TestProcessReplyOnce(t *testing.T) {
	e := newReplyEnv(t)
	cn46 := testutil.ByRef(t, e.refunds.refunds, "CN10046")
	var b bytes.Buffer
	w := camt054.NewWriter(&b)
	_ = w.Header(camt054.Header{MsgID: "X", CreationTime: replyNow})
	_ = w.Report(&camt054.Report{ID: "N", CreationTime: replyNow, Account: testutil.BankAccount("86011117947")})
	x := testutil.Paid(t, cn46, "NO2026120100001", 1, testutil.Dec(t, "10.00", "NOK"))
	for range 2 {
		if err := w.Entry(&x); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	res := e.process(t, e.file(t, "twice.xml", b.Bytes()))
	if want := (Counts{Entries: 2, Transactions: 2, Payments: 1, Duplicates: 1}); res.Counts != want || len(res.Keys) != 1 {
		t.Errorf("counts %+v, keys %v; want %+v and one key", res.Counts, res.Keys, want)
	}

	unknown := bytes.Replace(testutil.StatusReport(t, cn46.MsgID, e.refunds.refunds), []byte("<OrgnlMsgId>RFD-"), []byte("<OrgnlMsgId>XXX-"), 1)
	path := e.file(t, "unknown.xml", unknown)
	res = e.process(t, path)
	if want := (Counts{Exceptions: 1}); res.Counts != want || res.Files.Exceptions == "" || res.Files.Status != "" || len(res.Keys) != 1 {
		t.Errorf("first: counts %+v, files %+v, keys %v; want one exception", res.Counts, res.Files, res.Keys)
	}
	got := string(mustRead(t, filepath.Join(e.out.Dir, res.Files.Exceptions)))
	if !strings.Contains(got, `unknown.xml;OrgnlGrpInfAndSts;;;;;;;;;unknown-message;"original MsgId ""XXX-B2026-0042-XPJ243KZ"" is no message refundd sent (group ACCP, 1 payment block(s), 1 transaction(s) listed)"`) {
		t.Errorf("exceptions file:\n%s", got)
	}
	res = e.process(t, path)
	if want := (Counts{Duplicates: 1}); res.Counts != want || len(res.Files.Names()) != 0 {
		t.Errorf("again: counts %+v, files %+v; want a duplicate, no file", res.Counts, res.Files)
	}
}

// onlyFile returns the one name in names.
func onlyFile(t *testing.T, names []string) string {
	t.Helper()
	if len(names) != 1 {
		t.Fatalf("postings files %v; want one", names)
	}
	return names[0]
}

// TestProcessReplyRelease: with ledger.post: release the ERP releases the
// refund documents, which posts the payments; refundd posts the return
// and the bank charges alone, and the status file gives each booked refund the
// bank's booking date and reference that the release needs.
func TestProcessReplyRelease(t *testing.T) {
	e := newReplyEnv(t)
	e.cfg.Ledger.Post = config.PostRelease
	msgID := e.refunds.refunds[0].MsgID
	e.process(t, e.file(t, "pain002.xml", testutil.StatusReport(t, msgID, e.refunds.refunds)))
	res := e.process(t, e.file(t, "camt054.xml", testutil.Notification(t, e.refunds.refunds, "")))
	if want := (Counts{Entries: 7, Transactions: 7, Payments: 4, Returns: 1, Exceptions: 1, NotBooked: 1}); res.Counts != want {
		t.Errorf("counts %+v; want %+v", res.Counts, want)
	}
	postings := e.golden(t, onlyFile(t, res.Files.Postings), "postings-release.csv")
	// CN10045 was booked with a bank charge: the charge is posted.
	checkPostings(t, postings, map[string]int{"CN10046": 0, "CN10042": 1, "CN10045": 1, "PY10044": 0, "PP10043": 0})
	if strings.Contains(string(postings), " paid") {
		t.Errorf("a payment was posted although the ERP posts it:\n%s", postings)
	}
	status := e.golden(t, res.Files.Status, "status-camt054.csv")
	r := csv.NewReader(bytes.NewReader(status))
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs[1:] {
		if (rec[4] == "booked" || rec[4] == "returned") && (rec[8] == "" || rec[9] == "" || rec[10] == "" || rec[11] == "") {
			t.Errorf("%s refund %s without the bank's booking date, reference or amount: %q", rec[4], rec[0], rec)
		}
	}
}

// TestProcessReplyCurrencyDifference: CN10045, SEK 2,500.00 paid from the
// NOK account, was NOK 2,400.00 at the credit note's rate (BaseAmount); the
// bank books NOK 2,412.50 and a fee. With currency accounts the NOK 12.50
// difference is posted as a loss: in journal mode beside receivables at
// the document's rate, in release mode against the bank, whose ledger
// account the ERP's release credited with NOK 2,400.00.
func TestProcessReplyCurrencyDifference(t *testing.T) {
	const head = "RFD-XYVPIILLGWU6IL6K;2026-12-02;"
	const tail = ";CN10045;C1004;B2026-0042;CN-CN10045-YPEYMFPD;NO2026120200003"
	diff := "Currency difference, refund CN10045 (2500.00 SEK)"
	tests := []struct {
		post string
		want []string
	}{
		{config.PostJournal, []string{
			head + "1500;2400.00;;NOK;Refund CN10045 paid" + tail,
			head + "1920;;2412.50;NOK;Refund CN10045 paid" + tail,
			head + "8160;12.50;;NOK;" + diff + tail,
			head + "7770;25.00;;NOK;Bank charges, refund CN10045" + tail,
			head + "1920;;25.00;NOK;Bank charges, refund CN10045" + tail,
		}},
		{config.PostRelease, []string{
			head + "8160;12.50;;NOK;" + diff + tail,
			head + "1920;;12.50;NOK;" + diff + tail,
			head + "7770;25.00;;NOK;Bank charges, refund CN10045" + tail,
			head + "1920;;25.00;NOK;Bank charges, refund CN10045" + tail,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.post, func(t *testing.T) {
			e := newReplyEnv(t)
			e.cfg.Ledger.Post = tt.post
			e.cfg.Ledger.CurrencyGainAccount, e.cfg.Ledger.CurrencyLossAccount = "8060", "8160"
			for i := range e.refunds.refunds {
				if e.refunds.refunds[i].RefNbr == "CN10045" {
					e.refunds.refunds[i].BaseAmount = refund.Amount{Minor: 240000, Currency: "NOK"}
				}
			}
			msgID := e.refunds.refunds[0].MsgID
			e.process(t, e.file(t, "pain002.xml", testutil.StatusReport(t, msgID, e.refunds.refunds)))
			res := e.process(t, e.file(t, "camt054.xml", testutil.Notification(t, e.refunds.refunds, "")))
			data, err := os.ReadFile(filepath.Join(e.out.Dir, onlyFile(t, res.Files.Postings)))
			if err != nil {
				t.Fatal(err)
			}
			checkPostings(t, data, map[string]int{"CN10045": 1})
			var got []string
			for _, l := range strings.Split(string(data), "\n") {
				if strings.Contains(l, ";CN10045;") {
					got = append(got, strings.TrimSuffix(l, "\r"))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("postings of CN10045:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
