package daemon

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"

	"refundd/daemon/obs"
	"refundd/daemon/refund"
	"refundd/daemon/sandbox"
	"refundd/daemon/store"
	"refundd/formats/pain002"
	"refundd/sftpx"
	"refundd/sftpx/sshdtest"
)

// The tests of this file check reliability cases (docs/reliability.md
// §8.2) through a running daemon.

// inDoubtConsumed brings the test batch into doubt (a file of another size
// under its name on the server), then takes that file away, as AutoPay
// does when it picks a file up: a run finds nothing on the server and the
// batch stays in doubt.
func (e *daemonEnv) inDoubtConsumed(t *testing.T) {
	t.Helper()
	e.intent(t)
	remote := filepath.Join(e.up, testMsgID+".xml")
	if err := os.WriteFile(remote, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.once(t)
	if err := os.Remove(remote); err != nil {
		t.Fatal(err)
	}
	e.once(t)
	if st, _ := e.statuses(t, testMsgID); st != store.BatchInDoubt {
		t.Fatalf("batch is %s, want in-doubt", st)
	}
	if got := files(t, e.up); len(got) != 0 {
		t.Fatalf("uploaded again while in doubt: %v", got)
	}
}

// importLines returns the lines of the import files whose names start
// with prefix.
func (e *daemonEnv) importLines(t *testing.T, prefix string) []string {
	t.Helper()
	var lines []string
	for _, name := range withPrefix(files(t, filepath.Join(e.dir, "import")), prefix) {
		text := strings.TrimSpace(string(readFile(t, filepath.Join(e.dir, "import", name))))
		rows := strings.Split(text, "\n")
		lines = append(lines, rows[1:]...) // without the header
	}
	return lines
}

// TestCasesInDoubtResolvedByStatus (A7, D12): a batch in doubt whose file
// the server took away is resolved by the bank's pain.002 for its MsgId:
// the batch leaves in-doubt, its refunds get their statuses, the ERP gets
// them, and nothing is uploaded again.
func TestCasesInDoubtResolvedByStatus(t *testing.T) {
	e := newDaemonEnv(t)
	e.inDoubtConsumed(t)
	drop(t, filepath.Join(e.dir, "inbox"), "pain002.xml", statusReport(t, testMsgID, e.sent(t, testMsgID)))
	e.once(t)
	e.once(t)
	st, rs := e.statuses(t, testMsgID)
	if st != store.BatchAccepted {
		t.Errorf("batch is %s after its pain.002, want %s", st, store.BatchAccepted)
	}
	for ref, want := range map[string]refund.Status{"CN10042": refund.StatusAccepted, "PP10043": refund.StatusRejected,
		"PY10044": refund.StatusAccepted, "CN10045": refund.StatusAccepted, "CN10046": refund.StatusAccepted} {
		if rs[ref] != want {
			t.Errorf("refund %s is %s, want %s", ref, rs[ref], want)
		}
	}
	if got := files(t, e.up); len(got) != 0 {
		t.Errorf("upload folder holds %v: the batch was uploaded again", got)
	}
	if n := len(e.importLines(t, "status-")); n != 5 {
		t.Errorf("status files for the ERP have %d lines, want 5", n)
	}
	s := e.openStore(t)
	evs, err := s.Events(t.Context(), store.SubjectBatch, testMsgID)
	if err != nil {
		t.Fatal(err)
	}
	var path []string
	for _, ev := range evs {
		path = append(path, ev.To)
	}
	if !slices.Contains(path, string(store.BatchInDoubt)) || path[len(path)-1] != string(store.BatchAccepted) {
		t.Errorf("batch went through %v, want in-doubt then accepted", path)
	}
}

// bankSteps steps the sandbox bank until it has nothing left to write.
func bankSteps(t *testing.T, b *sandbox.Bank) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := b.Step(); err != nil {
			t.Fatal(err)
		}
		if b.Idle() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the bank did not answer")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// moveAll moves the files of dir whose names contain part into to and
// returns their names.
func moveAll(t *testing.T, dir, to, part string) []string {
	t.Helper()
	var moved []string
	for _, name := range files(t, dir) {
		if !strings.Contains(name, part) {
			continue
		}
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(to, name)); err != nil {
			t.Fatal(err)
		}
		moved = append(moved, name)
	}
	return moved
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
	pain := readFile(t, filepath.Join(e.dir, "state", OutboxDir, testMsgID+".xml"))

	// The upload that ended in doubt had in fact arrived: the bank took it
	// and AutoPay took it away.
	remote := filepath.Join(e.up, testMsgID+".xml")
	if err := os.WriteFile(remote, pain, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := bank.Step(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(remote); err != nil {
		t.Fatal(err)
	}
	bankSteps(t, bank)
	held := t.TempDir() // the bank's answers, delivered later
	first := moveAll(t, e.down, held, "")
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
	if len(ex) != 1 || !strings.Contains(ex[0], ReasonDuplicateMessage) {
		t.Errorf("exception lines %q, want one %s", ex, ReasonDuplicateMessage)
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

// groupReport is a pain.002 for the message that gives only a group
// status, with a reason when code is not "".
func groupReport(t *testing.T, id, msgID string, st pain002.Status, code string) []byte {
	t.Helper()
	rep := &pain002.Report{
		MsgID:        id,
		CreationTime: time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC),
		Group:        pain002.Group{OrgnlMsgID: msgID, OrgnlMsgNmID: "pain.001.001.03", Status: st},
	}
	if code != "" {
		rep.Group.Reasons = []pain002.Reason{{Code: code, AdditionalInfo: []string{"reason " + code}}}
	}
	var b bytes.Buffer
	if err := pain002.Encode(&b, rep); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
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
				drop(t, inbox, "camt054.xml", notification(t, sent, ""))
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

// TestCasesServerRefused (B1, B2, B17): a server whose host key is not the
// pinned one, a server with no known host key, and a refused login. The
// batch stays sending and nothing reaches the server; the refusal is an
// alarm (a warning naming the server and the host key it presented,
// counted in refundd_alarms_total{alarm="sftp_refused"}); the server is
// not dialled again before the backoff (here longer than the test) however
// many rounds run; once the configuration is fixed and reloaded, the batch
// is uploaded exactly once.
func TestCasesServerRefused(t *testing.T) {
	for _, tc := range []struct {
		name, kind string
		// brk returns a file of the configuration and broken content for
		// it; the original content fixes it
		brk         func(t *testing.T, e *daemonEnv) (string, string)
		fingerprint bool // the alarm names the presented host key
	}{
		{"B1 wrong host key", "host key mismatch", func(t *testing.T, e *daemonEnv) (string, string) {
			other := sshdtest.Keygen(t, filepath.Join(t.TempDir(), "other"), "ed25519", "", "")
			return e.cfg.SFTP.KnownHosts, sshdtest.KnownHostsLine(e.srv.Addr, other) + "\n"
		}, true},
		{"B2 unknown host", "unknown host", func(t *testing.T, e *daemonEnv) (string, string) {
			var b strings.Builder
			for _, k := range e.srv.HostKeys {
				b.WriteString(sshdtest.KnownHostsLine("127.0.0.2:2222", k) + "\n")
			}
			return e.cfg.SFTP.KnownHosts, b.String()
		}, true},
		{"B17 login refused", "authentication failed", func(t *testing.T, e *daemonEnv) (string, string) {
			other := filepath.Join(t.TempDir(), "id")
			sshdtest.Keygen(t, other, "ed25519", "", "")
			return e.cfg.SFTP.PrivateKey, string(readFile(t, other))
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newDaemonEnv(t)
			changed, broken := tc.brk(t, e)
			good := readFile(t, changed)
			if err := os.WriteFile(changed, []byte(broken), 0o600); err != nil {
				t.Fatal(err)
			}
			log := &logBuf{t: t}
			opts := e.options(t)
			opts.Logger = zerolog.New(log)
			opts.Metrics = obs.NewMetrics()
			opts.RetryMin, opts.RetryMax = time.Hour, time.Hour // any second dial in this test is one too many
			d := e.daemon(t, opts)
			reload := make(chan struct{})
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- d.Run(ctx, reload) }()
			stopped := false
			stop := func() {
				if !stopped {
					stopped = true
					cancel()
					if err := <-done; err != nil {
						t.Errorf("Run: %v", err)
					}
				}
			}
			defer stop()

			export := filepath.Join(e.dir, "export")
			drop(t, export, "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
			const alarm = "SFTP server refused"
			waitFor(t, "the alarm", func() bool { return log.count(alarm) > 0 })
			// More rounds: each junk file is taken by one, and the
			// download schedule runs meanwhile.
			for i := range 3 {
				name := fmt.Sprintf("junk-%d.txt", i)
				drop(t, export, name, []byte("junk"))
				waitFor(t, name+" refused", func() bool { return fileExists(filepath.Join(export, "failed", name+".err")) })
			}
			if n := log.count(alarm); n != 1 {
				t.Errorf("the server was refused %d times: no backoff", n)
			}
			if n := metricValue(t, opts.Metrics, "refundd_alarms_total", obs.AlarmSFTPRefused); n != 1 {
				t.Errorf("sftp_refused alarms: %v, want 1", n)
			}
			line := firstLine(log, alarm)
			for _, want := range []string{`"alarm":true`, `"host":"` + e.srv.Addr + `"`, tc.kind} {
				if !strings.Contains(line, want) {
					t.Errorf("the alarm lacks %s: %s", want, line)
				}
			}
			if tc.fingerprint && !slices.ContainsFunc(e.srv.HostKeys, func(k ssh.PublicKey) bool {
				return strings.Contains(line, `"presented_host_key":"`+sftpx.Fingerprint(k)+`"`)
			}) {
				t.Errorf("the alarm does not name the presented host key: %s", line)
			}
			if got := files(t, e.up); len(got) != 0 {
				t.Errorf("upload folder holds %v", got)
			}
			if st, _ := e.statuses(t, testMsgID); st != store.BatchSending {
				t.Errorf("batch is %s while refused, want %s", st, store.BatchSending)
			}

			if err := os.WriteFile(changed, good, 0o600); err != nil {
				t.Fatal(err)
			}
			reload <- struct{}{}
			waitFor(t, "the upload after the fix", func() bool { return log.count("pain.001 uploaded") > 0 })
			stop()
			if n := log.count("pain.001 uploaded"); n != 1 {
				t.Errorf("%d uploads, want 1", n)
			}
			e.checkUploadedOnce(t)
		})
	}
}

// firstLine returns the first line of the log that contains s.
func firstLine(l *logBuf, s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for line := range strings.Lines(l.b.String()) {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
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
	cfg := testConfig(t, "001.001.03")
	cfg.Watch.MaxFileSize = 1 << 20
	for _, name := range []string{"endless.csv", "endless.json"} {
		var head []byte
		if strings.HasSuffix(name, ".csv") {
			head = []byte("Batch;DocType;RefNbr\nB1;CreditNote;")
		} else {
			head = []byte(`{"batch": "B1", "refunds": [{"refNbr": "`)
		}
		open := func() (io.ReadCloser, error) { return &endless{head: head, left: 64 << 20}, nil }
		p, err := cfg.PlanBatch(name, open, now)
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

// TestCasesStopDuringUpload (A13): the daemon is told to stop (SIGTERM
// cancels Run's context) while an upload is in flight over a path that
// has stopped forwarding: Run ends within about sftp.timeout, the batch
// is still sending, and after a restart it is uploaded exactly once,
// complete, with no temporary file left.
func TestCasesStopDuringUpload(t *testing.T) {
	e := newDaemonEnv(t)
	p := e.proxied(t)
	const timeout = 2 * time.Second
	e.cfg.SFTP.Timeout, e.cfg.SFTP.KeepAlive = timeout, 500*time.Millisecond
	p.Trickle(256, 20*time.Millisecond)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	log := &logBuf{t: t}
	opts := e.options(t)
	opts.Logger = zerolog.New(log)
	d := e.daemon(t, opts)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	waitFor(t, "the upload in flight", func() bool { return len(e.remoteTemps(t)) > 0 })
	p.Stall()
	p.Trickle(0, 0)
	stopped := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		t.Logf("Run ended %v after the stop", time.Since(stopped))
	case <-time.After(timeout + 5*time.Second):
		t.Fatalf("Run did not end within sftp.timeout (%v) of the stop", timeout)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if log.count("pain.001 uploaded") != 0 {
		t.Fatal("the stalled upload was logged as done")
	}
	if fileExists(filepath.Join(e.up, testMsgID+".xml")) {
		t.Error("the final file is on the server after the interrupted upload")
	}
	if st, _ := e.statuses(t, testMsgID); st != store.BatchSending {
		t.Errorf("batch is %s after the stop, want %s", st, store.BatchSending)
	}

	p.Resume()
	e.runUntil(t, opts, "the upload after the restart", func() bool { return log.count("pain.001 uploaded") > 0 })
	e.runUntil(t, opts, "another restart", func() bool { return true })
	if n := log.count("pain.001 uploaded"); n != 1 {
		t.Errorf("%d uploads logged, want 1", n)
	}
	e.checkUploadedOnce(t)
}

// damageStore changes the state database behind the store's back.
func damageStore(t *testing.T, path, kind string) {
	t.Helper()
	switch kind {
	case "sql":
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`UPDATE refunds SET status = 'booked' WHERE ref_nbr = 'CN10042'`); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	case "header":
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(bytes.Repeat([]byte{0xa5}, 100), 0); err != nil {
			t.Fatal(err)
		}
	case "pages":
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		// Every page but the first (the schema) overwritten.
		if _, err := f.WriteAt(bytes.Repeat([]byte{0x5a}, int(fi.Size())-4096), 4096); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCasesBrokenStore (A15): a state database that fails its checks (a
// refund's status changed behind the store's back) or cannot be read (a
// damaged header, damaged pages): the daemon refuses to start with an
// error naming the database file; nothing is uploaded, nothing written
// for the ERP, no file taken, and the database is not made anew.
func TestCasesBrokenStore(t *testing.T) {
	for _, kind := range []string{"sql", "header", "pages"} {
		t.Run(kind, func(t *testing.T) {
			e := newDaemonEnv(t)
			e.intent(t)
			db := filepath.Join(e.dir, "state", StoreFile)
			damageStore(t, db, kind)
			before := readFile(t, db)
			export := filepath.Join(e.dir, "export")
			drop(t, export, "batch-43.csv", bytes.ReplaceAll(readFile(t, "testdata/batch-ok.csv"), []byte("B2026-0042"), []byte("B2026-0043")))
			drop(t, filepath.Join(e.dir, "inbox"), "pain002.xml", groupReport(t, "STS-1", testMsgID, pain002.AcceptedCustomerProfile, ""))

			d, err := New(e.cfg, e.options(t))
			if err == nil {
				d.Close()
				t.Fatal("the daemon started on a broken state database")
			}
			t.Logf("New: %v", err)
			if !strings.Contains(err.Error(), db) {
				t.Errorf("the error does not name %s: %v", db, err)
			}
			if kind == "sql" && !errors.Is(err, store.ErrCorrupt) {
				t.Errorf("the error is not ErrCorrupt: %v", err)
			}
			if got := files(t, e.up); len(got) != 0 {
				t.Errorf("upload folder holds %v", got)
			}
			if got := files(t, filepath.Join(e.dir, "import")); len(got) != 0 {
				t.Errorf("import folder holds %v", got)
			}
			if got := files(t, export); !slices.Contains(got, "batch-43.csv") {
				t.Errorf("export folder holds %v: the batch was taken", got)
			}
			if got := files(t, filepath.Join(e.dir, "inbox")); !slices.Contains(got, "pain002.xml") {
				t.Errorf("inbox holds %v: the reply was taken", got)
			}
			if !bytes.Equal(readFile(t, db), before) {
				t.Error("the state database was changed")
			}
			// The lock is released: a fixed database can be started on.
			if _, err := os.Stat(filepath.Join(e.dir, "state", "work")); err == nil {
				if got := files(t, filepath.Join(e.dir, "state", "work")); len(got) != 0 {
					t.Errorf("work folder holds %v", got)
				}
			}
		})
	}
}

// longName returns a name of n bytes ending in ext.
func longName(prefix, ext string, n int) string {
	return prefix + strings.Repeat("n", n-len(prefix)-len(ext)) + ext
}

// folderNameMax is the longest name of a file dropped into the export
// folder or the inbox: the 255 bytes of a folder entry (no done marker and
// no "<name>.err" can exist beside it).
const folderNameMax = 255

// TestCasesFileNames (E15): names with spaces and names of 255 bytes, the
// longest a folder entry can have, in the export folder, the inbox and the
// server's download folder (such a reply gets a shorter name in the
// inbox). Each file is handled (a batch
// sent, a reply applied) or refused with a reason (a duplicate); none is
// lost, and nothing is written outside the folders.
func TestCasesFileNames(t *testing.T) {
	e := newDaemonEnv(t)
	export, inbox := filepath.Join(e.dir, "export"), filepath.Join(e.dir, "inbox")
	good := readFile(t, "testdata/batch-ok.csv")
	batch := func(n int) []byte {
		b := bytes.ReplaceAll(good, []byte("B2026-0042"), fmt.Appendf(nil, "B2026-%04d", n))
		for _, p := range []string{"CN100", "PP100", "PY100"} {
			b = bytes.ReplaceAll(b, []byte(p), fmt.Appendf(nil, "%s%d", p[:2], 300+n))
		}
		return b
	}
	spaced, long := "batch with spaces.csv", longName("batch-", ".csv", folderNameMax)
	for i, name := range []string{spaced, long} {
		if err := os.WriteFile(filepath.Join(export, name), batch(i+1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	msgIDs := []string{refund.MsgID("987654325", "B2026-0001", 0), refund.MsgID("987654325", "B2026-0002", 0)}
	e.once(t)
	for i, id := range msgIDs {
		if !fileExists(filepath.Join(e.up, id+".xml")) {
			t.Errorf("batch %d (%q) not uploaded; export %v, failed %v", i+1, []string{spaced, long}[i], files(t, export), dirFiles(t, filepath.Join(export, "failed")))
		}
	}

	// Replies: the pain.002 of each batch, one dropped into the inbox and
	// one on the server, each under a spaced and a long name.
	report := func(i int) []byte { return statusOnly(t, msgIDs[i], e.sent(t, msgIDs[i])) }
	for _, name := range []string{"reply with spaces.xml", longName("reply-", ".xml", folderNameMax)} {
		if err := os.WriteFile(filepath.Join(inbox, name), report(0), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"remote reply with spaces.xml", longName("remote-", ".xml", 255)} {
		if err := os.WriteFile(filepath.Join(e.down, name), report(1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := tree(t, e.dir)
	e.once(t)
	e.once(t)
	for i, id := range msgIDs {
		if st, _ := e.statuses(t, id); st != store.BatchAccepted {
			t.Errorf("batch %d is %s after its replies, want %s", i+1, st, store.BatchAccepted)
		}
	}
	if got := files(t, e.down); len(got) != 0 {
		t.Errorf("the server's download folder still holds %q", got)
	}
	if got := files(t, inbox); len(got) != 0 {
		t.Errorf("inbox holds %q", got)
	}
	// Two replies applied, two refused as duplicates of them: every one
	// is accounted for, in the archive or in failed/ with a reason.
	failed := dirFiles(t, filepath.Join(inbox, "failed"))
	if n := e.archivedReplies(t) + len(failed)/2; n != 4 {
		t.Errorf("%d replies archived and %q in failed/, want 4 accounted for", e.archivedReplies(t), failed)
	}
	for _, name := range failed {
		if strings.HasSuffix(name, ".err") && len(bytes.TrimSpace(readFile(t, filepath.Join(inbox, "failed", name)))) == 0 {
			t.Errorf("%s gives no reason", name)
		}
	}
	after := tree(t, e.dir)
	for p := range after {
		if before[p] {
			continue
		}
		rel, _ := filepath.Rel(e.dir, p)
		if top, _, _ := strings.Cut(rel, string(filepath.Separator)); !slices.Contains([]string{"export", "inbox", "import", "state"}, top) {
			t.Errorf("written outside the folders: %s", p)
		}
	}
}

// dirFiles lists the files of dir, none when it does not exist.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	if !fileExists(dir) {
		return nil
	}
	return files(t, dir)
}

// statusOnly is a pain.002 that accepts the whole message.
func statusOnly(t *testing.T, msgID string, _ []refund.Sent) []byte {
	return groupReport(t, "STS-"+msgID, msgID, pain002.AcceptedCustomerProfile, "")
}
