package daemon

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"refundd/daemon/config"
	"refundd/daemon/refund"
	"refundd/daemon/render"
	"refundd/daemon/store"
	"refundd/internal/testutil"
)

// TestDaemonInvalidBatch: a batch with errors goes to failed/ with every
// problem, and the ERP gets every refund rejected with the reason.
func TestDaemonInvalidBatch(t *testing.T) {
	e := newDaemonEnv(t)
	export := filepath.Join(e.dir, "export")
	bad := bytes.Replace(readFile(t, "testdata/batch-ok.csv"), []byte("1234 56 78903"), []byte("1234 56 78904"), 1)
	bad = bytes.Replace(bad, []byte("SO-5002"), []byte(""), 1)
	drop(t, export, "bad.csv", bad)
	e.once(t)
	if got := files(t, e.up); len(got) != 0 {
		t.Errorf("upload folder holds %v", got)
	}
	report := string(readFile(t, filepath.Join(export, "failed", "bad.csv.err")))
	for _, want := range []string{"bad.csv:3: Account", "bad.csv:6: CustomerOrderNbr"} {
		if !strings.Contains(report, want) {
			t.Errorf("bad.csv.err lacks %q:\n%s", want, report)
		}
	}
	status := withPrefix(files(t, filepath.Join(e.dir, "import")), "status-")
	if len(status) != 1 {
		t.Fatalf("status files %v", status)
	}
	text := string(readFile(t, filepath.Join(e.dir, "import", status[0])))
	if n := strings.Count(text, ";rejected;"); n != 5 || !strings.Contains(text, "PP10043") || !strings.Contains(text, "Account") {
		t.Errorf("status file:\n%s", text)
	}
}

// TestDaemonDuplicates: the same batch under a new name is refused as a
// duplicate, and so is another file with the same batch number; nothing
// is sent twice and the ERP hears of the refusal.
func TestDaemonDuplicates(t *testing.T) {
	e := newDaemonEnv(t)
	export := filepath.Join(e.dir, "export")
	batch := readFile(t, "testdata/batch-ok.csv")
	drop(t, export, "batch-ok.csv", batch)
	e.once(t)
	drop(t, export, "again.csv", batch)
	drop(t, export, "changed.csv", bytes.Replace(batch, []byte("99,00"), []byte("98,00"), 1))
	e.once(t)

	if got := files(t, e.up); len(got) != 1 {
		t.Errorf("upload folder holds %v, want one file", got)
	}
	failed := filepath.Join(export, "failed")
	if err := string(readFile(t, filepath.Join(failed, "again.csv.err"))); !strings.Contains(err, "duplicate of batch-ok.csv") {
		t.Errorf("again.csv.err = %q", err)
	}
	if err := string(readFile(t, filepath.Join(failed, "changed.csv.err"))); !strings.Contains(err, "batch number B2026-0042 was recorded before") {
		t.Errorf("changed.csv.err = %q", err)
	}
	status := withPrefix(files(t, filepath.Join(e.dir, "import")), "status-")
	if len(status) != 1 {
		t.Fatalf("status files %v, want one for the refused batch", status)
	}
	text := string(readFile(t, filepath.Join(e.dir, "import", status[0])))
	if n := strings.Count(text, ";rejected;"); n != 5 {
		t.Errorf("status file rejects %d refunds, want 5:\n%s", n, text)
	}
}

// TestCasesRefundInTwoBatches (F3): a refund (DocType and RefNbr) that is
// in a batch already comes again in another batch: the second batch is
// refused whole, with the reason naming the refund in failed/<name>.err
// and in a status file for the ERP; nothing of it is sent, and the first
// batch goes on unaffected.
func TestCasesRefundInTwoBatches(t *testing.T) {
	e := newDaemonEnv(t)
	export := filepath.Join(e.dir, "export")
	good := readFile(t, "testdata/batch-ok.csv")
	drop(t, export, "batch-ok.csv", good)
	e.once(t)
	// Batch 43: refund CN10042 again, and a new one.
	header, rows, _ := bytes.Cut(good, []byte("\n"))
	lines := bytes.Split(rows, []byte("\n"))
	second := slices.Concat(header, []byte("\n"), lines[0], []byte("\n"), bytes.ReplaceAll(lines[1], []byte("PP10043"), []byte("PP20043")), []byte("\n"))
	second = bytes.ReplaceAll(second, []byte("B2026-0042"), []byte("B2026-0043"))
	drop(t, export, "batch-43.csv", second)
	e.once(t)

	report := string(readFile(t, filepath.Join(export, "failed", "batch-43.csv.err")))
	for _, want := range []string{"batch-43.csv", "CN10042"} {
		if !strings.Contains(report, want) {
			t.Errorf("batch-43.csv.err lacks %q:\n%s", want, report)
		}
	}
	var status []string
	for _, line := range e.importLines(t, "status-") {
		if strings.Contains(line, "B2026-0043") {
			status = append(status, line)
		}
	}
	if len(status) != 2 {
		t.Errorf("status lines for the refused batch: %q, want 2", status)
	}
	for _, line := range status {
		if !strings.Contains(line, ";rejected;") || !strings.Contains(line, "CN10042") {
			t.Errorf("status line %q does not reject with the reason", line)
		}
	}
	if got := files(t, e.up); !slices.Equal(got, []string{testMsgID + ".xml"}) {
		t.Errorf("upload folder holds %v, want only the first batch", got)
	}
	st, rs := e.statuses(t, testMsgID)
	if st != store.BatchSent || len(rs) != 5 {
		t.Errorf("first batch %s with %d refunds, want sent with 5", st, len(rs))
	}
	for ref, s := range rs {
		if s != refund.StatusSent {
			t.Errorf("refund %s of the first batch is %s", ref, s)
		}
	}
	s := e.openStore(t)
	if bs, err := s.BatchByNumber(t.Context(), "B2026-0043"); err == nil && len(bs) > 0 {
		t.Errorf("the refused batch was recorded: %+v", bs)
	}
}

// TestCasesBatchSizeLimit (E3, export side): a batch file just over
// watch.max_file_size goes to failed/ with an .err naming the file, its
// size and the limit; nothing of it is sent. A batch within the limit
// goes through.
func TestCasesBatchSizeLimit(t *testing.T) {
	e := newDaemonEnv(t)
	const limit = 4096
	e.cfg.Watch.MaxFileSize = limit
	export := filepath.Join(e.dir, "export")
	good := readFile(t, "testdata/batch-ok.csv")
	header, rows, _ := bytes.Cut(good, []byte("\n"))
	big := append(slices.Clip(header), '\n')
	for i := 0; len(big) <= limit; i++ {
		row := bytes.ReplaceAll(bytes.SplitN(rows, []byte("\n"), 2)[0], []byte("CN10042"), fmt.Appendf(nil, "CN2%04d", i))
		big = append(append(big, bytes.ReplaceAll(row, []byte("B2026-0042"), []byte("B2026-0099"))...), '\n')
	}
	drop(t, export, "big.csv", big)
	drop(t, export, "line.csv", append(append(slices.Clip(header), '\n'), bytes.Repeat([]byte("x"), limit)...))
	drop(t, export, "batch-ok.csv", good)
	e.once(t)
	for name, size := range map[string]int{"big.csv": len(big), "line.csv": len(header) + 1 + limit} {
		report := string(readFile(t, filepath.Join(export, "failed", name+".err")))
		for _, want := range []string{name, fmt.Sprintf("%d bytes", size), fmt.Sprintf("%d bytes", limit), "max_file_size"} {
			if !strings.Contains(report, want) {
				t.Errorf("%s.err lacks %q:\n%s", name, want, report)
			}
		}
	}
	if got := files(t, e.up); !slices.Equal(got, []string{testMsgID + ".xml"}) {
		t.Errorf("upload folder holds %v, want only the batch within the limit", got)
	}
	if got := files(t, export); len(got) != 0 {
		t.Errorf("export folder holds %v", got)
	}
}

// endless is a batch file that does not end: a header, then one line of
// left bytes (far more than the limit of the test).
type endless struct {
	head []byte
	left int
}

func (r *endless) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	p = p[:min(len(p), r.left)]
	n := copy(p, r.head)
	r.head = r.head[n:]
	for i := n; i < len(p); i++ {
		p[i] = 'x'
	}
	r.left -= len(p)
	return len(p), nil
}

func (r *endless) Close() error { return nil }

// TestCasesBatchSizeLimitReader (E3, export side): a batch file is read
// through watch.max_file_size: a file that never ends (a single line that
// goes on for ever, not a file that can be measured first) ends as a
// problem of the file naming the limit, once the limit is read.
func TestCasesBatchSizeLimitReader(t *testing.T) {
	cfg := testutil.Config(t, "001.001.03")
	cfg.Watch.MaxFileSize = 1 << 20
	for _, name := range []string{"endless.csv", "endless.json"} {
		var head []byte
		if strings.HasSuffix(name, ".csv") {
			head = []byte("Batch;DocType;RefNbr\nB1;CreditNote;")
		} else {
			head = []byte(`{"batch": "B1", "refunds": [{"refNbr": "`)
		}
		open := func() (io.ReadCloser, error) { return &endless{head: head, left: 64 << 20}, nil }
		p, err := render.Batch(cfg, name, open, now)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.Valid() || len(p.Problems) != 1 {
			t.Fatalf("%s: problems %v, want the size", name, p.Problems)
		}
		if q := p.Problems[0].String(); !strings.Contains(q, name) || !strings.Contains(q, "1048576 bytes") {
			t.Errorf("%s: problem %q does not name the file and the limit", name, q)
		}
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

// TestExecutionDateDST: "today" for execution dates is the date in
// pain001.timezone on the change days and in the first hour of a day.
func TestExecutionDateDST(t *testing.T) {
	cfg := &config.Config{Pain001: config.Pain001{Timezone: "Europe/Oslo"}}
	tests := []struct {
		name     string
		now      time.Time
		want     refund.Date // the payment date asked for
		today    refund.Date
		exec     refund.Date
		moved    bool
		timezone string
	}{
		{"spring, 02:00", springForward, refund.NewDate(2026, 3, 29), refund.NewDate(2026, 3, 29), refund.NewDate(2026, 3, 30), true, ""},
		{"spring, Friday asked on Sunday", springForward, refund.NewDate(2026, 3, 27), refund.NewDate(2026, 3, 29), refund.NewDate(2026, 3, 30), true, ""},
		{"spring, Sunday 00:30 CET", time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC), refund.NewDate(2026, 3, 28), refund.NewDate(2026, 3, 29), refund.NewDate(2026, 3, 30), true, ""},
		{"spring, Monday 00:30 CEST", time.Date(2026, 3, 29, 22, 30, 0, 0, time.UTC), refund.NewDate(2026, 3, 30), refund.NewDate(2026, 3, 30), refund.NewDate(2026, 3, 30), false, ""},
		{"autumn, 03:00 CET", fallBack.Add(time.Hour), refund.NewDate(2026, 10, 26), refund.NewDate(2026, 10, 25), refund.NewDate(2026, 10, 26), false, ""},
		{"autumn, in the repeated hour", fallBack.Add(-30 * time.Minute), refund.NewDate(2026, 10, 25), refund.NewDate(2026, 10, 25), refund.NewDate(2026, 10, 26), true, ""},
		{"autumn, Monday 00:30 CET", time.Date(2026, 10, 25, 23, 30, 0, 0, time.UTC), refund.NewDate(2026, 10, 23), refund.NewDate(2026, 10, 26), refund.NewDate(2026, 10, 26), true, ""},
		{"autumn, Monday 00:30 CET in UTC", time.Date(2026, 10, 25, 23, 30, 0, 0, time.UTC), refund.NewDate(2026, 10, 23), refund.NewDate(2026, 10, 25), refund.NewDate(2026, 10, 26), true, "UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *cfg
			if tt.timezone != "" {
				c.Pain001.Timezone = tt.timezone
			}
			rules := c.Rules(tt.now)
			if rules.Today != tt.today {
				t.Errorf("today at %s = %s, want %s", tt.now, rules.Today, tt.today)
			}
			exec, moved, err := rules.Calendar.ExecutionDate(tt.want, rules.Today, refund.NextBankingDayPolicy)
			if err != nil {
				t.Fatal(err)
			}
			if exec != tt.exec || (moved != "") != tt.moved {
				t.Errorf("execution date for %s = %s (%q), want %s (moved %v)", tt.want, exec, moved, tt.exec, tt.moved)
			}
		})
	}
}

// TestPlanRefundsChangedFile: the refunds recorded with a batch are read
// from the bytes that were checked and rendered: a batch file whose bytes
// changed after planning (here one amount, still a valid batch) is
// refused with render.ErrChanged, never recorded with other refunds than
// its document holds.
func TestPlanRefundsChangedFile(t *testing.T) {
	cfg := testutil.Config(t, "001.001.03")
	orig := readFile(t, "testdata/batch-ok.csv")
	changed := bytes.Replace(orig, []byte(";99,00;"), []byte(";98,00;"), 1)
	if bytes.Equal(orig, changed) {
		t.Fatal("the test batch has no amount 99,00")
	}
	content := orig
	open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil }
	p, err := render.Batch(cfg, "batch-ok.csv", open, now)
	if err != nil || !p.Valid() {
		t.Fatalf("plan: %v %v", err, p.Problems)
	}
	defer p.Close()
	if _, err := planRefunds(p, open); err != nil {
		t.Fatalf("refunds of the unchanged file: %v", err)
	}
	content = changed
	if _, err := planRefunds(p, open); !errors.Is(err, render.ErrChanged) {
		t.Errorf("refunds of the changed file: %v; want render.ErrChanged", err)
	}
}
