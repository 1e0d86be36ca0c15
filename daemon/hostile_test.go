package daemon

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"refundd/daemon/refund"
	"refundd/daemon/store"
)

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
	p002, c054 := statusReport(t, testMsgID, sent), notification(t, sent, "")
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

// TestDaemonHostileBatches drops hostile batch files into the export
// folder: each ends in failed/ with an .err naming the reason, and nothing
// is uploaded.
func TestDaemonHostileBatches(t *testing.T) {
	e := newDaemonEnv(t)
	export := filepath.Join(e.dir, "export")
	good := readFile(t, "testdata/batch-ok.csv")
	amount := func(a string) []byte {
		return bytes.Replace(good, []byte(";99,00;"), []byte(";"+a+";"), 1)
	}
	u := utf16.Encode([]rune(string(good)))
	u16 := []byte{0xff, 0xfe}
	for _, c := range u {
		u16 = binary.LittleEndian.AppendUint16(u16, c)
	}
	hostile := map[string]string{ // name: a word of the reason
		"amount-exp.csv":   "amount",
		"amount-neg.csv":   "amount",
		"amount-minor.csv": "amount",
		"amount-long.csv":  "amount",
		"truncated.csv":    "fields",
		"utf16.csv":        "utf-16",
		"binary.csv":       "utf-8",
		"deep.json":        "nested more than",
		"x.pdf":            "format",
	}
	data := map[string][]byte{
		"amount-exp.csv":   amount("1e3"),
		"amount-neg.csv":   amount("-5,00"),
		"amount-minor.csv": amount("0,001"),
		"amount-long.csv":  amount("12345678901234567890"),
		"truncated.csv":    good[:bytes.IndexByte(good, '\n')+40],
		"utf16.csv":        u16,
		"binary.csv":       {0x00, 0xff, 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00},
		"deep.json":        []byte(`{"Batch":"B1","Refunds":[{"X":` + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + `}]}`),
		"x.pdf":            []byte("%PDF-1.4\n"),
	}
	for name := range hostile {
		drop(t, export, name, data[name])
	}
	failed := filepath.Join(export, "failed")
	var missing []string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("not in failed/: %v", missing)
		}
	})
	e.runUntil(t, e.options(t), "every hostile batch in failed/", func() bool {
		missing = missingErr(failed, hostile)
		return len(missing) == 0
	})
	for name, reason := range hostile {
		report := strings.ToLower(string(readFile(t, filepath.Join(failed, name+".err"))))
		if strings.TrimSpace(report) == "" || !strings.Contains(report, reason) {
			t.Errorf("%s.err does not name the reason (%q):\n%s", name, reason, report)
		}
	}
	if got := files(t, e.up); len(got) != 0 {
		t.Errorf("upload folder holds %v", got)
	}
}

// missingErr returns the names of m that have no .err report in failed.
func missingErr[V any](failed string, m map[string]V) []string {
	var names []string
	for name := range m {
		if !fileExists(filepath.Join(failed, name+".err")) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
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
	c054 := notification(t, e.sent(t, testMsgID), "")
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
