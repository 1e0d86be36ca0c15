package daemon

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/rs/zerolog"

	"refundd/daemon/config"
	"refundd/daemon/refund"
	"refundd/daemon/reply"
	"refundd/daemon/sandbox"
	"refundd/daemon/store"
	"refundd/formats/camt054"
	"refundd/formats/pain002"
	"refundd/internal/testutil"
)

// TestDaemonBadReply: a reply that is not one goes to failed/ with the
// reason.
func TestDaemonBadReply(t *testing.T) {
	e := newDaemonEnv(t)
	drop(t, filepath.Join(e.dir, "inbox"), "junk.xml", []byte("<?xml version=\"1.0\"?><Document xmlns=\"urn:example\"/>"))
	e.once(t)
	report := string(readFile(t, filepath.Join(e.dir, "inbox", "failed", "junk.xml.err")))
	if !strings.Contains(report, "reply file refused") {
		t.Errorf("junk.xml.err = %q", report)
	}
}

// hostileReplies returns replies from outside that a running daemon must
// refuse as a whole, by file name, with a word the .err report must hold
// (lower case). They are made from the good pain.002 and camt.054 of the
// batch, so that a parser that let any through would apply something.
func hostileReplies(t *testing.T, p002, c054 []byte) map[string]struct {
	data   []byte
	reason string
} {
	t.Helper()
	const decl = `<?xml version="1.0" encoding="UTF-8"?>`
	if !bytes.HasPrefix(p002, []byte(decl)) || !bytes.HasPrefix(c054, []byte(decl)) {
		t.Fatal("the replies do not start with the expected XML declaration")
	}
	body := func(b []byte) string { return strings.TrimPrefix(string(b), decl) }
	replace := func(b []byte, old, new string) []byte {
		t.Helper()
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("reply lacks %q", old)
		}
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	}
	orgnl := func(b []byte) string {
		i := bytes.Index(b, []byte("<OrgnlMsgId>"))
		j := bytes.Index(b, []byte("</OrgnlMsgId>"))
		return string(b[i : j+len("</OrgnlMsgId>")])
	}
	utf16le := func(s string) []byte {
		u := utf16.Encode([]rune(strings.Replace(s, `encoding="UTF-8"`, `encoding="UTF-16"`, 1)))
		out := []byte{0xff, 0xfe}
		for _, c := range u {
			out = binary.LittleEndian.AppendUint16(out, c)
		}
		return out
	}
	amount := func(a string) []byte {
		return replace(c054, `<Amt Ccy="NOK">10.00</Amt>`, `<Amt Ccy="NOK">`+a+`</Amt>`)
	}
	deep := strings.Repeat("<X>", 100_000) + strings.Repeat("</X>", 100_000)

	type hostile = struct {
		data   []byte
		reason string
	}
	return map[string]hostile{
		"xxe.xml": {[]byte(decl + `<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
			strings.Replace(body(p002), "Konto avsluttet", "&xxe;", 1)), "doctype"},
		"laughs.xml": {[]byte(decl + `<!DOCTYPE Document [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>` +
			strings.Replace(body(p002), "Konto avsluttet", "&c;", 1)), "doctype"},
		"deep.xml":         {replace(p002, "<CstmrPmtStsRpt>", "<CstmrPmtStsRpt>"+deep), "nested deeper"},
		"truncated.xml":    {p002[:len(p002)/2], "ends before"},
		"twice.xml":        {append(slices.Clip(p002), body(p002)...), "second root"},
		"foreign-ns.xml":   {replace(p002, orgnl(p002), strings.NewReplacer("<OrgnlMsgId>", `<x:OrgnlMsgId xmlns:x="urn:evil">`, "</OrgnlMsgId>", "</x:OrgnlMsgId>").Replace(orgnl(p002))), "namespace"},
		"duplicate.xml":    {replace(p002, orgnl(p002), orgnl(p002)+orgnl(p002)), "more than once"},
		"charset.xml":      {replace(p002, `encoding="UTF-8"`, `encoding="KOI8-R"`), "koi8-r"},
		"utf16.xml":        {utf16le(string(p002)), "utf-16"},
		"other-ns.xml":     {replace(p002, "pain.002.001.03", "pain.002.001.99"), "pain.002.001.99"},
		"amount-exp.xml":   {amount("1e3"), "not a decimal"},
		"amount-neg.xml":   {amount("-5.00"), "-5.00"},
		"amount-comma.xml": {amount("10,00"), "10,00"},
		"amount-long.xml":  {amount("12345678901234567890"), "12345678901234567890"},
		"camt-dup-amt.xml": {replace(c054, `<Amt Ccy="NOK">10.00</Amt>`, `<Amt Ccy="NOK">10.00</Amt><Amt Ccy="NOK">99.00</Amt>`), "more than once"},
		"camt-trunc.xml":   {c054[:len(c054)*2/3], "ends before"},
		"empty.xml":        {nil, "is empty"},
		"report.pdf":       {[]byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), "not valid utf-8"},
	}
}

// TestDaemonHostileReplies drops hostile replies for a sent batch into the
// inbox of a running daemon: each ends in failed/ with an .err naming the
// reason, and nothing of them is applied or written for the ERP. The good
// pain.002 dropped afterwards is applied (the test can see an applied
// reply).
func TestDaemonHostileReplies(t *testing.T) {
	e := newDaemonEnv(t)
	inbox := filepath.Join(e.dir, "inbox")
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	e.once(t)
	sent := e.sent(t, testMsgID)
	p002, c054 := testutil.StatusReport(t, testMsgID, sent), testutil.Notification(t, sent, "")
	hostile := hostileReplies(t, p002, c054)
	for name, h := range hostile {
		drop(t, inbox, name, h.data)
	}
	// Larger than the size limit (64 MiB), made of tokens each within the
	// limits of a single text or comment.
	writeBig(t, filepath.Join(inbox, "big.xml"), p002, 64<<20)
	if err := os.WriteFile(filepath.Join(inbox, "big.xml.done"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	hostile["big.xml"] = struct {
		data   []byte
		reason string
	}{nil, "larger than the limit"}

	failed := filepath.Join(inbox, "failed")
	var missing []string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("not in failed/: %v", missing)
		}
	})
	e.runUntil(t, e.options(t), "every hostile reply in failed/", func() bool {
		missing = missingErr(failed, hostile)
		return len(missing) == 0
	})
	for name, h := range hostile {
		report := strings.ToLower(string(readFile(t, filepath.Join(failed, name+".err"))))
		if !strings.Contains(report, h.reason) {
			t.Errorf("%s.err does not name the reason (%q):\n%s", name, h.reason, report)
		}
		if !fileExists(filepath.Join(failed, name)) {
			t.Errorf("%s is not in failed/", name)
		}
	}
	st, rs := e.statuses(t, testMsgID)
	if st != store.BatchSent {
		t.Errorf("batch is %s after the hostile replies, want %s", st, store.BatchSent)
	}
	for ref, s := range rs {
		if s != refund.StatusSent {
			t.Errorf("refund %s is %s after the hostile replies", ref, s)
		}
	}
	for _, name := range files(t, filepath.Join(e.dir, "import")) {
		if !strings.HasPrefix(name, "status-") {
			t.Errorf("import folder holds %s after the hostile replies", name)
		}
	}

	drop(t, inbox, "good.xml", p002)
	e.once(t)
	if st, _ := e.statuses(t, testMsgID); st != store.BatchAccepted {
		t.Errorf("batch is %s after the good pain.002, want %s", st, store.BatchAccepted)
	}
}

// writeBig writes the reply with comments inside its root element until
// the file is larger than size.
func writeBig(t *testing.T, name string, reply []byte, size int) {
	t.Helper()
	i := bytes.Index(reply, []byte("<CstmrPmtStsRpt>"))
	if i < 0 {
		t.Fatal("not a pain.002")
	}
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	w.Write(reply[:i])
	comment := []byte("<!--" + strings.Repeat("x", 4000) + "-->\n")
	for n := i; n <= size; n += len(comment) {
		w.Write(comment)
	}
	w.Write(reply[i:])
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDaemonReplyAmountTooFine: a camt.054 entry of 0.001 NOK is valid
// ISO 20022 (five decimals) but not an amount of NOK: the file is applied,
// that entry goes to the exceptions file and is not posted.
func TestDaemonReplyAmountTooFine(t *testing.T) {
	e := newDaemonEnv(t)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	e.once(t)
	c054 := testutil.Notification(t, e.sent(t, testMsgID), "")
	const good = `<Amt Ccy="NOK">10.00</Amt>`
	if bytes.Count(c054, []byte(good)) < 3 {
		t.Fatal("the camt.054 has not the entry of 10.00 NOK")
	}
	// The entry's amount, not those of its transaction details.
	drop(t, filepath.Join(e.dir, "inbox"), "camt054.xml", bytes.Replace(c054, []byte(good), []byte(`<Amt Ccy="NOK">0.001</Amt>`), 1))
	e.once(t)
	imp := files(t, filepath.Join(e.dir, "import"))
	for _, name := range withPrefix(imp, "postings-") {
		if text := string(readFile(t, filepath.Join(e.dir, "import", name))); strings.Contains(text, "CN10046") {
			t.Errorf("the entry of 0.001 NOK was posted:\n%s", text)
		}
	}
	ex := withPrefix(imp, "exceptions-")
	if len(ex) != 1 {
		t.Fatalf("exceptions files %v", ex)
	}
	if text := string(readFile(t, filepath.Join(e.dir, "import", ex[0]))); !strings.Contains(text, "NO2026120100001") {
		t.Errorf("the entry of 0.001 NOK is not an exception:\n%s", text)
	}
	if _, rs := e.statuses(t, testMsgID); rs["CN10046"] != refund.StatusSent {
		t.Errorf("refund CN10046 is %s, want %s", rs["CN10046"], refund.StatusSent)
	}
}

// TestCasesLateAcceptance (D10): an ACCP that arrives after a final
// status, end to end through the daemon. After a rejection of the whole
// batch (RJCT), the acceptance changes nothing: the batch stays
// rejected-by-bank, every refund rejected; each refund is an exception
// line for the ERP and the log says why. After a settlement (ACSC) and the
// bookings, a late ACCP changes nothing either. Every reply is applied
// and archived: nothing is lost.
func TestCasesLateAcceptance(t *testing.T) {
	for _, tc := range []struct {
		name      string
		final     []byte // what comes first
		bookings  bool
		wantBatch store.BatchStatus
		wantRef   refund.Status // every refund but those the camt.054 returns or leaves
		wantEx    int           // exception lines of the late ACCP
	}{
		{name: "after RJCT", wantBatch: store.BatchRejectedByBank, wantRef: refund.StatusRejected, wantEx: 5},
		// PP10043 is only pending in the camt.054: the batch stays accepted.
		{name: "after ACSC and bookings", bookings: true, wantBatch: store.BatchAccepted, wantRef: refund.StatusBooked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newDaemonEnv(t)
			inbox := filepath.Join(e.dir, "inbox")
			drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
			e.once(t)
			sent := e.sent(t, testMsgID)
			log := &logBuf{t: t}
			opts := e.options(t)
			opts.Logger = zerolog.New(log)
			run := func() {
				t.Helper()
				d := e.daemon(t, opts)
				if err := d.RunOnce(t.Context()); err != nil {
					t.Fatal(err)
				}
				if err := d.Close(); err != nil {
					t.Fatal(err)
				}
			}
			exBefore := 0
			if tc.bookings {
				drop(t, inbox, "acsc.xml", groupReport(t, "STS-ACSC", testMsgID, pain002.AcceptedSettlementCompleted, ""))
				run()
				drop(t, inbox, "camt054.xml", testutil.Notification(t, sent, ""))
				run()
				exBefore = len(e.importLines(t, "exceptions-"))
			} else {
				drop(t, inbox, "rjct.xml", groupReport(t, "STS-RJCT", testMsgID, pain002.Rejected, "AM04"))
				run()
			}
			stBefore, before := e.statuses(t, testMsgID)
			if stBefore != tc.wantBatch {
				t.Fatalf("batch is %s before the late ACCP, want %s", stBefore, tc.wantBatch)
			}
			statusLines := len(e.importLines(t, "status-"))

			drop(t, inbox, "accp-late.xml", groupReport(t, "STS-ACCP-LATE", testMsgID, pain002.AcceptedCustomerProfile, ""))
			run()
			st, after := e.statuses(t, testMsgID)
			if st != stBefore {
				t.Errorf("the late ACCP moved the batch from %s to %s", stBefore, st)
			}
			for ref, s := range before {
				if after[ref] != s {
					t.Errorf("the late ACCP moved refund %s from %s to %s", ref, s, after[ref])
				}
			}
			if n := countStatus(after, tc.wantRef); n < 3 {
				t.Errorf("refunds %v, want most %s", after, tc.wantRef)
			}
			if n := len(e.importLines(t, "status-")); n != statusLines {
				t.Errorf("the late ACCP wrote %d status lines for the ERP", n-statusLines)
			}
			ex := e.importLines(t, "exceptions-")[exBefore:]
			if len(ex) != tc.wantEx {
				t.Errorf("the late ACCP gave %d exception lines, want %d: %q", len(ex), tc.wantEx, ex)
			}
			for _, line := range ex {
				if !strings.Contains(line, string(refund.ReasonRefundStatus)) || !strings.Contains(line, "accp-late.xml") {
					t.Errorf("exception line %q does not name the file and the conflict", line)
				}
			}
			if st != store.BatchAccepted && log.count(`"status":"`+string(stBefore)+`","reported":"accepted"`) != 1 {
				t.Error("the log does not say that the batch status was kept")
			}
			if log.count(`"file":"accp-late.xml","stage":"apply","message":"pain.002.001.03","msg_id":"STS-ACCP-LATE","changes":0,`) != 1 {
				t.Error("the log does not say that the late ACCP was applied without a change")
			}
			if got := files(t, inbox); len(got) != 0 {
				t.Errorf("inbox holds %v", got)
			}
			if fileExists(filepath.Join(inbox, "failed")) {
				if got := files(t, filepath.Join(inbox, "failed")); len(got) != 0 {
					t.Errorf("inbox/failed holds %v", got)
				}
			}
			if n := e.archivedReplies(t); n != 2+btoi(tc.bookings) {
				t.Errorf("%d replies archived, want every one", n)
			}
		})
	}
}

func countStatus(m map[string]refund.Status, s refund.Status) int {
	n := 0
	for _, v := range m {
		if v == s {
			n++
		}
	}
	return n
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestCasesResendRefusedAsDuplicate (A7): the batch reached the bank, but
// its upload ended in doubt and AutoPay took the file away. An operator
// releases it; the resend is the same file, which the bank refuses as a
// duplicate (pain.002 RJCT DU01). That refusal is of the second delivery:
// the refunds keep the statuses of the first, the ERP gets an exception
// line, the log a warning, and nothing is paid or rejected twice.
func TestCasesResendRefusedAsDuplicate(t *testing.T) {
	e := newDaemonEnv(t)
	e.inDoubtConsumed(t)
	var banklog bytes.Buffer
	bank := sandbox.NewBank(sandbox.BankConfig{UploadDir: e.up, DownloadDir: e.down, Delay: time.Millisecond,
		Poll: time.Millisecond, Now: e.clock, Logger: zerolog.New(&banklog)})
	pain := readFile(t, e.outboxFile(testMsgID))
	remote := filepath.Join(e.up, testMsgID+".xml")

	// The upload that ended in doubt had in fact arrived: the bank took it
	// and AutoPay took it away. Its answers are delivered later.
	held, first := e.bankHadFirstDelivery(t, bank)
	if len(withPrefix(first, "pain002-")) == 0 || len(withPrefix(first, "camt054-")) == 0 {
		t.Fatalf("the bank answered the first delivery with %v", first)
	}
	e.once(t)
	if st, _ := e.statuses(t, testMsgID); st != store.BatchInDoubt {
		t.Fatalf("batch is %s, want in-doubt", st)
	}

	s := e.openStore(t)
	if to, err := Resolve(t.Context(), s, testMsgID, ResolveRelease); err != nil || to != store.BatchSending {
		t.Fatalf("release: %s, %v", to, err)
	}
	s.Close()
	e.once(t)
	if !bytes.Equal(readFile(t, remote), pain) {
		t.Fatal("the resend is not the recorded pain.001")
	}
	bankSteps(t, bank)
	refused := moveAll(t, e.down, held, "")
	if len(refused) != 1 || !strings.Contains(string(readFile(t, filepath.Join(held, refused[0]))), "DU01") {
		t.Fatalf("the bank answered the resend with %v, want one refusal DU01", refused)
	}

	// The status reports of the first delivery, then the refusal of the
	// second, then the bookings.
	log := &logBuf{t: t}
	opts := e.options(t)
	opts.Logger = zerolog.New(log)
	deliver := func(names ...string) {
		t.Helper()
		for _, name := range names {
			drop(t, filepath.Join(e.dir, "inbox"), name, readFile(t, filepath.Join(held, name)))
		}
		d := e.daemon(t, opts)
		if err := d.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
	deliver(withPrefix(first, "pain002-")...)
	stBefore, before := e.statuses(t, testMsgID)
	if stBefore == store.BatchInDoubt || stBefore == store.BatchSending {
		t.Fatalf("batch is %s after the bank's status reports", stBefore)
	}
	deliver(refused...)
	stAfter, after := e.statuses(t, testMsgID)
	if stAfter != stBefore {
		t.Errorf("the refusal of the resend moved the batch from %s to %s", stBefore, stAfter)
	}
	for ref, st := range before {
		if after[ref] != st {
			t.Errorf("the refusal of the resend moved refund %s from %s to %s", ref, st, after[ref])
		}
	}
	if log.count("refused a delivery of the batch as a duplicate") != 1 {
		t.Error("no warning about the refused resend")
	}
	ex := e.importLines(t, "exceptions-")
	if len(ex) != 1 || !strings.Contains(ex[0], reply.ReasonDuplicateMessage) {
		t.Errorf("exception lines %q, want one %s", ex, reply.ReasonDuplicateMessage)
	}

	deliver(withPrefix(first, "camt054-")...)
	if st, _ := e.statuses(t, testMsgID); st != store.BatchPaid {
		t.Errorf("batch is %s after the bookings, want %s", st, store.BatchPaid)
	}
	_, final := e.statuses(t, testMsgID)
	for ref, st := range final {
		if before[ref] == refund.StatusAccepted && st != refund.StatusBooked && st != refund.StatusReturned {
			t.Errorf("accepted refund %s is %s after the bookings", ref, st)
		}
	}
	if n := strings.Count(string(readFile(t, remote)), "<MsgId>"+testMsgID+"</MsgId>"); n != 1 {
		t.Errorf("the file on the server names the MsgId %d times", n)
	}
	if got := files(t, e.up); !slices.Equal(got, []string{testMsgID + ".xml"}) {
		t.Errorf("upload folder holds %v", got)
	}
}

// TestDaemonReplySizeLimit: a reply larger than limits.max_reply_size
// goes to failed/ with an .err that names its size, the limit and the key,
// and nothing of it is recorded; dropped again under a raised limit, it is
// applied, every entry booked or written as an exception, read as a stream.
//
// The limit of the test stands in for the default of 64 MiB (which
// TestDaemonHostileReplies checks) so that the test stays fast under the
// race detector: 4 MiB, and a camt.054 of more than 5 MiB (about 4,200
// entries). The code path is the one of any other limit.
func TestDaemonReplySizeLimit(t *testing.T) {
	e := newDaemonEnv(t)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	e.once(t)
	cn46 := testutil.ByRef(t, e.sent(t, testMsgID), "CN10046")
	e.setLimits(t, "limits: {max_reply_size: 4MiB}\n")

	inbox := filepath.Join(e.dir, "inbox")
	big := filepath.Join(inbox, "camt054-big.xml")
	entries := writeBigNotification(t, big, cn46, 5<<20)
	fi, err := os.Stat(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big+".done", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e.once(t)
	failed := filepath.Join(inbox, "failed")
	report := string(readFile(t, filepath.Join(failed, "camt054-big.xml.err")))
	for _, w := range []string{fmt.Sprintf("has %d bytes", fi.Size()), "larger than the limit of 4194304 bytes (4 MiB)", "limits.max_reply_size"} {
		if !strings.Contains(report, w) {
			t.Errorf(".err lacks %q:\n%s", w, report)
		}
	}
	if got := files(t, filepath.Join(e.dir, "import")); len(withPrefix(got, "exceptions-")) != 0 || len(withPrefix(got, "postings-")) != 0 {
		t.Errorf("import folder holds %v after the refusal", got)
	}

	// Raised, and the file dropped again: taken, not refused as a
	// duplicate of the refused one.
	e.setLimits(t, "limits: {max_reply_size: 200MiB}\n")
	if err := os.Rename(filepath.Join(failed, "camt054-big.xml"), big); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big+".done", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	live, objects := heapPeak(t, func() { e.once(t) })
	t.Logf("camt.054 of %d bytes (%.1f MiB), %d entries: peak live heap %.1f MiB, peak heap objects %.1f MiB, above the start",
		fi.Size(), float64(fi.Size())/(1<<20), entries, float64(live)/(1<<20), float64(objects)/(1<<20))
	if n := e.archivedReplies(t); n != 1 {
		t.Fatalf("%d replies archived, want 1", n)
	}
	if n := len(e.importLines(t, "exceptions-")); n != entries-1 {
		t.Errorf("%d exception lines, want %d (every entry but the booking of CN10046)", n, entries-1)
	}
	if _, rs := e.statuses(t, testMsgID); rs["CN10046"] != refund.StatusBooked {
		t.Errorf("CN10046 is %s, want booked", rs["CN10046"])
	}
	// The file is read as a stream: what stays in memory until the end of
	// the file is what is written for the ERP (here about 1 KiB an entry),
	// not the file, let alone a tree of it.
	// (A tree of the document would be many times the file; the bound is
	// loose, since the other tests' goroutines may still allocate.)
	if live > 4*fi.Size() {
		t.Errorf("peak live heap %d bytes is more than 4 times the file (%d bytes)", live, fi.Size())
	}
}

// setLimits replaces the limits section of the test's configuration.
func (e *daemonEnv) setLimits(t *testing.T, yaml string) {
	t.Helper()
	var kept []string
	for _, l := range strings.SplitAfter(string(readFile(t, e.config)), "\n") {
		if !strings.HasPrefix(l, "limits:") {
			kept = append(kept, l)
		}
	}
	if err := os.WriteFile(e.config, []byte(strings.Join(kept, "")+yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	if e.cfg, err = config.Load(e.config); err != nil {
		t.Fatal(err)
	}
}

// writeBigNotification streams to name a camt.054 larger than size: the
// booking of paid, then entries that match no refund. It returns the
// number of entries.
func writeBigNotification(t *testing.T, name string, paid refund.Sent, size int64) int {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cw := &countWriter{w: bufio.NewWriterSize(f, 1<<20)}
	w := camt054.NewWriter(cw)
	created := time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC)
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	check(w.Header(camt054.Header{MsgID: "NTF-BIG-1", CreationTime: created}))
	check(w.Report(&camt054.Report{ID: "NTF-BIG-NOK", CreationTime: created, Account: camt054.Account{Other: "86011117947", Scheme: "BBAN", Currency: "NOK"}}))
	e := testutil.Paid(t, paid, "NO2026120100001", 1, testutil.Dec(t, "10.00", "NOK"))
	check(w.Entry(&e))
	n := 1
	for ; cw.n <= size; n++ {
		other := refund.Sent{EndToEndID: fmt.Sprintf("SOMEONE-ELSES-%d", n), Amount: refund.Amount{Minor: int64(10000 + n), Currency: "NOK"},
			CreditorAccount: "12345678903"}
		e := testutil.Paid(t, other, fmt.Sprintf("NO20261202%07d", n), 2, testutil.Dec(t, other.Amount.String(), "NOK"))
		check(w.Entry(&e))
	}
	check(w.Close())
	check(cw.w.Flush())
	check(f.Close())
	return n
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w *bufio.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// heapPeak runs fn and returns the peak of the live heap while it ran
// (as each garbage collection found it), above what it was before, and
// the peak of the heap's objects, dead ones not yet swept included,
// sampled every millisecond.
func heapPeak(t *testing.T, fn func()) (live, objects int64) {
	t.Helper()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	read := func() (int64, int64) {
		metrics.Read(sample)
		return int64(sample[0].Value.Uint64()), int64(sample[1].Value.Uint64())
	}
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	runtime.GC()
	baseLive, baseObjects := read()
	type peaks struct{ live, objects int64 }
	stop, done := make(chan struct{}), make(chan peaks)
	go func() {
		p := peaks{baseLive, baseObjects}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			l, o := read()
			p = peaks{max(p.live, l), max(p.objects, o)}
			select {
			case <-stop:
				done <- p
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	runtime.GC() // the live heap at the end of fn
	close(stop)
	p := <-done
	return p.live - baseLive, p.objects - baseObjects
}
