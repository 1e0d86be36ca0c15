package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"refundd/internal/testutil"

	"refundd/daemon/failpoint"
	"refundd/daemon/refund"
	"refundd/daemon/sandbox"
	"refundd/daemon/spool"
	"refundd/daemon/store"
	"refundd/formats/pain001"
)

// readImport reads a CSV file written for the ERP; a file that does not
// end its last line (cut short) is an error.
func readImport(p string) ([][]string, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(data, []byte("\r\n")) {
		return nil, fmt.Errorf("%s does not end with a line end", filepath.Base(p))
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = ';'
	return cr.ReadAll()
}

// stopWithin bounds the wait for the last run to stop after SIGTERM, and
// waitDelay the wait for a run's output after it ended.
const (
	stopWithin = 60 * time.Second
	waitDelay  = 10 * time.Second
)

// crashLoop configures one crash loop.
type crashLoop struct {
	// batches is the number of batch files dropped, spread over the loop.
	batches int
	// budget is the time the killing is planned for (the batches are
	// dropped over its first two thirds); minKills is the number of kills
	// it aims for, maxKills the number it stops at. A loop that has not
	// reached minKills within its budget goes on up to three times it.
	budget             time.Duration
	minKills, maxKills int
	// points, when set, arms these failpoints in turn, one per run, and
	// nothing else; otherwise each run is armed at random.
	points []failpoint.Name
	// env is added to the daemon's environment.
	env []string
	// launch, when set, replaces the binary's "refundd run" armed as above:
	// it returns the command of run n (-1 for the last, clean run) and how
	// long the run may last before it is killed from outside.
	launch func(n int, config string, rnd *rand.Rand) (*exec.Cmd, time.Duration)
	// stopped, when set, is called after each killed run with its log, and
	// with n -1 after the last run stopped; an error ends the test.
	stopped func(n int, log string) error
	// waitTaken, when set, waits after each kill until the bank has taken
	// every complete upload away, so that the next run never finds the
	// file an earlier one put in place.
	waitTaken bool
}

// crashResult is what a crash loop did and found.
type crashResult struct {
	// seed is the seed of the loop's random choices (envCrashSeed).
	seed uint64
	// uploads counts the files the bank took.
	kills, fpKills, uploads int
	points                  map[failpoint.Name]int // kills by failpoint
	elapsed                 time.Duration
	violations              []string
}

// TestCrashLoop runs the real binary against a local sshd and a simulated
// bank while killing it with SIGKILL, hundreds of times, at random
// failpoints and at random moments, and restarts it each time; then lets
// it finish and checks that nothing was paid or posted twice and nothing
// was lost.
func TestCrashLoop(t *testing.T) {
	res := runCrashLoop(t, crashLoop{batches: 90, budget: 90 * time.Second, minKills: 220, maxKills: 320})
	for _, v := range res.violations {
		t.Error(v)
	}
	t.Logf("crash loop: %d kills (%d at failpoints), %d uploads, seed %d, %s", res.kills, res.fpKills, res.uploads, res.seed, res.elapsed.Round(time.Second))
	for _, n := range failpoint.Names() {
		t.Logf("  %-22s %d kills", n, res.points[n])
	}
	if res.kills < 200 {
		t.Errorf("only %d kills, want at least 200", res.kills)
	}
	if len(res.violations) == 0 {
		line := fmt.Sprintf("crash loop: %d kills, %d uploads, invariants hold (seed %d)", res.kills, res.uploads, res.seed)
		fmt.Println(line)
		appendSummary(t, line)
	}
}

// appendSummary adds line to the file named by REFUNDD_TEST_SUMMARY, if
// set, so that a CI run can show it: go test prints nothing of a passing
// package but its "ok" line.
func appendSummary(t *testing.T, line string) {
	name := os.Getenv("REFUNDD_TEST_SUMMARY")
	if name == "" {
		return
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Errorf("test summary: %v", err)
		return
	}
	if _, err := fmt.Fprintln(f, line); err != nil {
		t.Errorf("test summary: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("test summary: %v", err)
	}
}

// TestCrashLoopMutation runs short crash loops with deliberately broken
// daemons and asserts that the invariant checker sees each, and the same
// loops with the daemon as it is, which must hold:
//
//   - the outcome of an upload recorded before the upload;
//   - an interrupted upload attempt whose file the server took away
//     settled as never uploaded (refundd's behaviour before upload
//     attempts were recorded): killed after the rename, the bank takes the
//     file, the restart uploads it again.
func TestCrashLoopMutation(t *testing.T) {
	t.Run(string(failpoint.OutcomeBeforeUpload), testMutationOutcomeBeforeUpload)
	t.Run(string(failpoint.MissingIsNotUploaded), testMutationMissingIsNotUploaded)
}

func testMutationMissingIsNotUploaded(t *testing.T) {
	loop := func(env ...string) crashResult {
		return runCrashLoop(t, crashLoop{batches: 3, budget: 3 * time.Second, minKills: 3, maxKills: 3,
			points: []failpoint.Name{failpoint.AfterRemoteRename}, env: env, waitTaken: true})
	}
	m := failpoint.MissingIsNotUploaded
	res := loop(failpoint.EnvMutation+"="+string(m), failpoint.EnvTestMutations+"=1")
	t.Logf("mutation %s: %d kills, violations:\n%s", m, res.kills, strings.Join(res.violations, "\n"))
	if !slices.ContainsFunc(res.violations, func(v string) bool { return strings.Contains(v, "delivered to the bank") }) {
		t.Errorf("the checker did not see the mutation %s", m)
	}
	res = loop(failpoint.EnvMutation + "=" + string(m))
	for _, v := range res.violations {
		t.Errorf("without %s: %s", failpoint.EnvTestMutations, v)
	}
	if res.kills != 3 {
		t.Errorf("without %s: %d kills, want 3", failpoint.EnvTestMutations, res.kills)
	}
}

func testMutationOutcomeBeforeUpload(t *testing.T) {
	loop := func(env ...string) crashResult {
		return runCrashLoop(t, crashLoop{batches: 4, budget: 3 * time.Second, minKills: 3, maxKills: 3,
			points: []failpoint.Name{failpoint.BeforeUpload}, env: env})
	}
	res := loop(failpoint.EnvMutation+"="+string(failpoint.OutcomeBeforeUpload), failpoint.EnvTestMutations+"=1")
	t.Logf("mutation %s: %d kills, violations:\n%s", failpoint.OutcomeBeforeUpload, res.kills, strings.Join(res.violations, "\n"))
	if !slices.ContainsFunc(res.violations, func(v string) bool { return strings.Contains(v, "never uploaded") }) {
		t.Errorf("the checker did not see the mutation %s", failpoint.OutcomeBeforeUpload)
	}
	// The mutation needs the second variable: without it the daemon is
	// the real one.
	res = loop(failpoint.EnvMutation + "=" + string(failpoint.OutcomeBeforeUpload))
	for _, v := range res.violations {
		t.Errorf("without %s: %s", failpoint.EnvTestMutations, v)
	}
	if res.kills != 3 {
		t.Errorf("without %s: %d kills, want 3", failpoint.EnvTestMutations, res.kills)
	}
}

// crashBin builds refundd into a temporary folder of the test.
func crashBin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "refundd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// envCrashSeed, set to a number, is the seed of a crash loop's random
// choices (which run is killed when, at which failpoints), to replay a
// loop whose seed a failure printed; the timing of the runs is not
// replayed.
const envCrashSeed = "REFUNDD_CRASH_SEED"

// crashSeed returns the seed of envCrashSeed, or a new one.
func crashSeed(t *testing.T) uint64 {
	t.Helper()
	s := os.Getenv(envCrashSeed)
	if s == "" {
		return uint64(time.Now().UnixNano())
	}
	seed, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: want a number", envCrashSeed, s)
	}
	return seed
}

// bankTakeAfter is the time the crash loop's bank leaves a complete upload
// in the upload folder before it takes it away, as AutoPay does: short
// enough that files are taken between kills, so that a run started again
// does not find the file an earlier run uploaded.
const bankTakeAfter = 150 * time.Millisecond

// runCrashLoop runs one crash loop, then one clean run until everything is
// done, and checks the invariants.
func runCrashLoop(t *testing.T, cl crashLoop) crashResult {
	t.Helper()
	launch := cl.launch
	if launch == nil {
		bin := crashBin(t)
		launch = func(n int, config string, rnd *rand.Rand) (*exec.Cmd, time.Duration) {
			return cl.refunddRun(bin, n, config, rnd)
		}
	}
	config, dir, up := runEnv(t)
	down := filepath.Join(filepath.Dir(up), "outbound")
	data, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	// Replies are fetched every second, not every minute.
	if !bytes.Contains(data, []byte("timeout: 10s}")) {
		t.Fatalf("the test configuration changed; set sftp.download_schedule another way:\n%s", data)
	}
	data = bytes.Replace(data, []byte("timeout: 10s}"), []byte("timeout: 10s, download_schedule: \"@every 1s\"}"), 1)
	if err := os.WriteFile(config, data, 0o600); err != nil {
		t.Fatal(err)
	}

	br := startBank(t, dir, up, down)
	defer br.stop()
	bank := br.bank

	// The ERP drops the batches over the first part of the loop; every
	// fifth is dropped a second time under another name.
	export := filepath.Join(dir, "export")
	var dropped []string
	var mine []string // the reference numbers of the refunds dropped
	dropAt := func(i int) time.Duration { return cl.budget * 2 / 3 * time.Duration(i) / time.Duration(cl.batches) }
	next := 0
	drop := func(elapsed time.Duration) {
		for next < cl.batches && dropAt(next) <= elapsed {
			name, content, refs := crashBatch(next)
			dropBatch(t, export, name, content)
			dropped, mine = append(dropped, name), append(mine, refs...)
			if next%5 == 4 {
				again := "again-" + name
				dropBatch(t, export, again, content)
				dropped = append(dropped, again)
			}
			next++
		}
	}

	res := crashResult{seed: crashSeed(t), points: map[failpoint.Name]int{}}
	t.Logf("crash loop seed %d (replay: %s=%d)", res.seed, envCrashSeed, res.seed)
	rnd := rand.New(rand.NewPCG(res.seed, 1))
	start := time.Now()
	var logs *testutil.SyncBuffer
	for run := 0; res.kills < cl.maxKills; run++ {
		elapsed := time.Since(start)
		// On a loaded machine the runs are slower: the loop goes on past
		// its budget until it has its kills, up to three times the budget.
		if elapsed > cl.budget && res.kills >= cl.minKills || elapsed > 3*cl.budget {
			break
		}
		drop(elapsed)
		cmd, wait := launch(run, config, rnd)
		logs = &testutil.SyncBuffer{}
		cmd.Stdout, cmd.Stderr = logs, logs
		cmd.WaitDelay = waitDelay
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		var werr error
		select {
		case werr = <-exited:
		case <-time.After(wait):
			cmd.Process.Signal(syscall.SIGKILL)
			werr = <-exited
		}
		var ee *exec.ExitError
		if errors.As(werr, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				res.kills++
				if m := killedAt.FindStringSubmatch(logs.String()); m != nil {
					res.fpKills++
					res.points[failpoint.Name(m[1])]++
				}
				if cl.waitTaken {
					for deadline := time.Now().Add(10 * time.Second); pendingFiles(up) > 0; time.Sleep(20 * time.Millisecond) {
						if time.Now().After(deadline) {
							t.Fatalf("after run %d: the bank did not take the uploads within 10s", run)
						}
					}
				}
				if cl.stopped != nil {
					if err := cl.stopped(run, logs.String()); err != nil {
						t.Fatalf("after run %d: %v", run, err)
					}
				}
				continue
			}
		}
		t.Fatalf("refundd run ended by itself (%v); log:\n%s", werr, tail(logs))
	}
	drop(cl.budget) // the rest, if the kills came early

	// A clean run to the end: everything dropped is taken, uploaded,
	// answered and applied.
	cmd, _ := launch(-1, config, rnd)
	var last testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &last, &last
	cmd.WaitDelay = waitDelay
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitQuiet(dir, filepath.Join(dir, "state"), up, down, br)
	cmd.Process.Signal(syscall.SIGTERM)
	lastDone := make(chan error, 1)
	go func() { lastDone <- cmd.Wait() }()
	select {
	case err := <-lastDone:
		if err != nil {
			t.Errorf("the last run: %v\n%s", err, last.String())
		}
	case <-time.After(stopWithin):
		cmd.Process.Signal(syscall.SIGQUIT) // a Go program prints every goroutine's stack and exits
		select {
		case <-lastDone:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-lastDone
		}
		t.Fatalf("the last run did not stop within %v of SIGTERM; its log and goroutines:\n%s", stopWithin, last.String())
	}
	if cl.stopped != nil {
		if err := cl.stopped(-1, last.String()); err != nil {
			t.Fatalf("after the last run: %v", err)
		}
	}
	replies, bankErr := br.stop()
	res.elapsed = time.Since(start)
	if bankErr != nil {
		t.Fatalf("bank: %v", bankErr)
	}
	state := filepath.Join(dir, "state")
	res.violations, res.uploads = checkCrashInvariants(dir, up, state, func() (*store.Store, error) {
		return store.Open(filepath.Join(state, store.FileName))
	}, bank.Taken(), dropped, mine, replies)
	if len(res.violations) > 0 && cl.env == nil {
		t.Logf("last run's log:\n%s", last.String())
	}
	if len(res.violations) > 0 {
		t.Logf("crash loop seed %d: %d violations (replay: %s=%d)", res.seed, len(res.violations), envCrashSeed, res.seed)
		errs, _ := filepath.Glob(filepath.Join(export, "failed", "*.err"))
		for _, e := range errs {
			data, _ := os.ReadFile(e)
			t.Logf("%s: %s", filepath.Base(e), data)
		}
	}
	return res
}

// bankRun is the simulated bank of a crash or failover loop at work: it
// takes each complete upload away into a folder of its own, and writes its
// replies into a staging folder, from which they are moved into the
// download folder, each name recorded.
type bankRun struct {
	bank   *sandbox.Bank
	stage  string
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	replies []string
	err     error
}

// startBank starts the bank on the server's folders up and down, with its
// own folders in dir.
func startBank(t *testing.T, dir, up, down string) *bankRun {
	return startBankDelay(t, dir, up, down, 100*time.Millisecond)
}

// startBankDelay is startBank with the bank answering after delay.
func startBankDelay(t *testing.T, dir, up, down string, delay time.Duration) *bankRun {
	t.Helper()
	br := &bankRun{stage: filepath.Join(dir, "bank-stage")}
	if err := os.MkdirAll(br.stage, 0o700); err != nil {
		t.Fatal(err)
	}
	br.bank = sandbox.NewBank(sandbox.BankConfig{UploadDir: up, DownloadDir: br.stage, TakenDir: filepath.Join(dir, "bank-taken"),
		TakeAfter: bankTakeAfter, Delay: delay, Poll: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	br.cancel = cancel
	br.wg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			err := br.bank.Step()
			es, rerr := os.ReadDir(br.stage)
			err = errors.Join(err, rerr)
			for _, e := range es {
				if strings.HasPrefix(e.Name(), ".") {
					continue
				}
				if rerr := os.Rename(filepath.Join(br.stage, e.Name()), filepath.Join(down, e.Name())); rerr != nil {
					err = errors.Join(err, rerr)
					continue
				}
				br.mu.Lock()
				br.replies = append(br.replies, e.Name())
				br.mu.Unlock()
			}
			if err != nil {
				br.mu.Lock()
				br.err = err
				br.mu.Unlock()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	return br
}

// stop stops the bank and returns the names of the replies it wrote and
// the error that stopped it early, if one did.
func (br *bankRun) stop() ([]string, error) {
	br.cancel()
	br.wg.Wait()
	br.mu.Lock()
	defer br.mu.Unlock()
	return br.replies, br.err
}

// waitQuiet waits (at most a minute) until everything dropped into dir's
// export and inbox folders has been taken, uploaded, answered and applied,
// and nothing has moved for 2.5 s; spool is the folder of work/.
func waitQuiet(dir, spool, up, down string, br *bankRun) {
	quiet := func() bool {
		return pendingFiles(filepath.Join(dir, "export")) == 0 && pendingFiles(filepath.Join(dir, "inbox")) == 0 && pendingFiles(down) == 0 &&
			pendingFiles(br.stage) == 0 && (pendingFiles(up) == 0 || br.bank.Idle()) && pendingFiles(filepath.Join(spool, "work", "export")) == 0 &&
			pendingFiles(filepath.Join(spool, "work", "inbox")) == 0
	}
	settled, deadline := time.Time{}, time.Now().Add(60*time.Second)
	for time.Now().Before(deadline) {
		if !quiet() {
			settled = time.Time{}
		} else if settled.IsZero() {
			settled = time.Now()
		} else if time.Since(settled) > 2500*time.Millisecond {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// refunddRun returns the command of run n of the binary bin: "refundd
// run", armed as crashLoop describes, and how long it may last; n is -1
// for the last, clean run.
func (cl crashLoop) refunddRun(bin string, n int, config string, rnd *rand.Rand) (*exec.Cmd, time.Duration) {
	env := slices.Clone(cl.env)
	var wait time.Duration
	switch {
	case n < 0:
	case cl.points != nil:
		env = append(env, failpoint.EnvFailpoints+"="+string(cl.points[n%len(cl.points)]))
		wait = 3 * time.Second
	case n%3 == 0:
		// A kill at a random moment from outside.
		wait = time.Duration(50+rnd.IntN(500)) * time.Millisecond
	case n%3 == 1:
		// Three points at once, so that a run with little to do still
		// meets one.
		env = append(env, failpoint.EnvFailpoints+"="+randomPoints(rnd, 3))
		wait = time.Duration(200+rnd.IntN(800)) * time.Millisecond
	default:
		env = append(env, fmt.Sprintf("%s=random:%d:%d", failpoint.EnvFailpoints, rnd.Uint64(), 2+rnd.IntN(10)))
		wait = time.Duration(200+rnd.IntN(800)) * time.Millisecond
	}
	cmd := exec.Command(bin, "run", "-config", config)
	cmd.Env = append(os.Environ(), env...)
	return cmd, wait
}

// randomPoints returns n crash points drawn at random, as a value of
// failpoint.EnvFailpoints.
func randomPoints(rnd *rand.Rand, n int) string {
	var names []string
	for _, i := range rnd.Perm(len(failpoint.Names()))[:n] {
		names = append(names, string(failpoint.Names()[i]))
	}
	return strings.Join(names, ",")
}

// killedAt matches the line a failpoint writes before it kills.
var killedAt = regexp.MustCompile(`failpoint (\S+): killing the process`)

// tail returns the last part of a log.
func tail(b *testutil.SyncBuffer) []byte {
	s := b.String()
	return []byte(s[max(0, len(s)-4000):])
}

// crashBatch returns the name and content of batch i and the reference
// numbers of its refunds.
func crashBatch(i int) (name string, content []byte, refs []string) {
	var b strings.Builder
	b.WriteString("Batch;DocType;RefNbr;CustomerID;CustomerName;PaymentMethod;AccountType;Account;BIC;Country;Amount;Currency;PaymentDate;CustomerOrderNbr;PaymentRef\r\n")
	batch := fmt.Sprintf("CL%04d", i)
	for j, acct := range []string{"1234 56 78903", "15031234562", "1234 56 78903"} {
		ref := fmt.Sprintf("CN%d%04d", j+3, i)
		method := "AUTOPAY"
		if j == 1 {
			method = "DOMESTIC"
		}
		fmt.Fprintf(&b, "%s;CreditNote;%s;C%d;Kari Nordmann;%s;BBAN;%s;;NO;%d,%02d;NOK;2026-12-02;SO-%d;\r\n", batch, ref, 1000+i, method, acct, 10+i, j, i)
		refs = append(refs, ref)
	}
	return "batch-" + batch + ".csv", []byte(b.String()), refs
}

// dropBatch drops a file into the export folder: written, renamed into
// place, then marked done.
func dropBatch(t *testing.T, dir, name string, content []byte) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, content, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+spool.DoneSuffix), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// pendingFiles counts the files in dir that are not hidden, not markers
// and not .err files (a missing folder has none).
func pendingFiles(dir string) int {
	es, _ := os.ReadDir(dir)
	n := 0
	for _, e := range es {
		if e.Type().IsRegular() && !spool.Ignored(e.Name()) {
			n++
		}
	}
	return n
}

// numberedName matches the "name (2).ext" that spool and the download
// give a file whose name is taken.
var numberedName = regexp.MustCompile(` \(\d+\)(\.[^.]*)?$`)

// baseName returns name without its number.
func baseName(name string) string {
	return numberedName.ReplaceAllString(name, "$1")
}

// checkCrashInvariants checks the state a crash loop left: dir is the
// test's folder (export, inbox, import, state), up the remote upload
// folder, taken the files the bank took, dropped the batch files dropped,
// refs the reference numbers of every refund in them, replies the files
// the bank wrote. It returns every violation and the number of uploads:
// the files the bank took, and those complete in the upload folder that
// it had not taken yet.
//
// spool is the folder of work/ and archive/; open opens the state store.
func checkCrashInvariants(dir, up, spool string, open func() (*store.Store, error), taken []sandbox.Delivery, dropped, refs, replies []string) (violations []string, uploads int) {
	bad := func(format string, args ...any) { violations = append(violations, fmt.Sprintf(format, args...)) }

	// The bank: every file it took a complete pain.001 under its MsgId's
	// name, no MsgId delivered twice, no EndToEndId in the files of two
	// MsgIds. (A MsgId delivered twice carries its EndToEndIds twice too;
	// that is reported once, as the MsgId.)
	delivered := map[string][]string{} // MsgId → the files that carry it
	inMsgs := map[string][]string{}    // EndToEndId → the MsgIds of the files that carry it
	booked := map[string]bool{}        // EndToEndIds in a file the bank took in, which it books
	deliver := func(file, msgID string, e2es []string) {
		delivered[msgID] = append(delivered[msgID], file)
		for _, e2e := range e2es {
			if !slices.Contains(inMsgs[e2e], msgID) {
				inMsgs[e2e] = append(inMsgs[e2e], msgID)
			}
		}
	}
	for _, d := range taken {
		uploads++
		deliver(d.File, d.Key(), d.EndToEndIDs)
		switch {
		case d.Code == "FF01":
			bad("the bank took %s (uploaded as %s), which is not a complete pain.001: %s", d.File, d.Name, d.Detail)
		case d.Name != d.MsgID+".xml":
			bad("the bank took %s, uploaded as %s, which holds MsgId %s", d.File, d.Name, d.MsgID)
		case d.Code == "DU01": // a second delivery, reported below
		case d.Code != "":
			bad("the bank rejected %s with %s: %s", d.File, d.Code, d.Detail)
		default:
			for _, e2e := range d.EndToEndIDs {
				booked[e2e] = true
			}
		}
	}

	// The remote upload folder at the end: the bank has taken every file,
	// but for complete ones under their final names that it had not yet
	// (AutoPay has them: they count as delivered, not yet booked). A
	// temporary file left there is allowed only for a batch still sending
	// or in doubt: the daemon removes it when it puts that batch again,
	// which an in-doubt batch waits for an operator to allow; of any other
	// batch it is a leftover nobody will remove.
	es, err := os.ReadDir(up)
	if err != nil {
		bad("read the upload folder: %v", err)
	}
	temps := map[string][]string{} // MsgId → its temporary files in the upload folder
	for _, e := range es {
		name := e.Name()
		// A temporary name is ".<MsgId>.xml<anything>.part".
		if msgID, _, ok := strings.Cut(strings.TrimPrefix(name, "."), ".xml"); ok && strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".part") {
			temps[msgID] = append(temps[msgID], name)
			continue
		}
		if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".xml") {
			bad("remote upload folder holds %s: a foreign file", name)
			continue
		}
		var msgID string
		var e2es []string
		f, err := os.Open(filepath.Join(up, name))
		if err != nil {
			bad("open %s: %v", name, err)
			continue
		}
		_, err = pain001.Decode(f, pain001.Handler{
			Header:      func(_ int, h *pain001.GroupHeader) error { msgID = h.MsgID; return nil },
			Transaction: func(_ int, tx *pain001.Transaction) error { e2es = append(e2es, tx.EndToEndID); return nil },
		})
		f.Close()
		switch {
		case err != nil:
			bad("remote %s is not a complete pain.001: %v", name, err)
		case name != msgID+".xml":
			bad("remote %s holds MsgId %s", name, msgID)
		default:
			uploads++
			deliver("upload folder "+name, msgID, e2es)
		}
	}
	for msgID, files := range delivered {
		if len(files) > 1 {
			bad("MsgId %s delivered to the bank %d times: %s", msgID, len(files), strings.Join(files, ", "))
		}
	}
	for e2e, ids := range inMsgs {
		if len(ids) > 1 {
			bad("refund %s delivered in the files of %d MsgIds: %s", e2e, len(ids), strings.Join(ids, ", "))
		}
	}

	// The store: sound; a batch the bank has is settled by its pain.002,
	// one it does not have is in doubt for an operator, with a reason, or
	// was rejected before it was sent; nothing of it is booked.
	ctx := context.Background()
	s, err := open()
	if err != nil {
		bad("open the store: %v", err)
		return violations, uploads
	}
	defer s.Close()
	if err := s.IntegrityCheck(ctx); err != nil {
		bad("store integrity: %v", err)
	}
	bs, err := s.BatchesByStatus(ctx, store.BatchStatuses()...)
	if err != nil {
		bad("read the batches: %v", err)
	}
	byRef := map[string]string{}   // RefNbr → EndToEndId
	bookedNow := map[string]bool{} // EndToEndIds the store says are booked
	for _, b := range bs {
		// The pain.001 recorded for a batch stays in the outbox, as
		// recorded: a batch is never on record without its file.
		if b.LocalPath != "" {
			switch data, err := os.ReadFile(b.LocalPath); {
			case errors.Is(err, fs.ErrNotExist):
				bad("batch %s is %s but its pain.001 %s is missing", b.MsgID, b.Status, filepath.Base(b.LocalPath))
			case err != nil:
				bad("read the pain.001 of batch %s: %v", b.MsgID, err)
			case b.PainHash != "" && fmt.Sprintf("%x", sha256.Sum256(data)) != b.PainHash:
				bad("batch %s is %s but its pain.001 %s (%d bytes) is not the file recorded", b.MsgID, b.Status, filepath.Base(b.LocalPath), len(data))
			}
		}
		has := len(delivered[b.MsgID]) > 0
		switch {
		case has && (b.Status == store.BatchSending || b.Status == store.BatchInDoubt):
			bad("batch %s is %s but the bank has it: its pain.002 did not settle it", b.MsgID, b.Status)
		case has && (b.Status == store.BatchReceived || b.Status == store.BatchRejected):
			bad("batch %s is %s but the bank has it", b.MsgID, b.Status)
		case !has && b.Status == store.BatchInDoubt && b.Reason == "":
			bad("batch %s is in-doubt without a reason", b.MsgID)
		case !has && b.Status != store.BatchInDoubt && b.Status != store.BatchRejected:
			bad("batch %s is %s but was never uploaded: the bank does not have it", b.MsgID, b.Status)
		}
		if tmp, ok := temps[b.MsgID]; ok {
			if b.Status != store.BatchSending && b.Status != store.BatchInDoubt {
				bad("remote upload folder holds %s, temporary of batch %s, which is %s", strings.Join(tmp, ", "), b.MsgID, b.Status)
			}
			delete(temps, b.MsgID)
		}
		rs, err := s.Refunds(ctx, b.MsgID)
		if err != nil {
			bad("refunds of %s: %v", b.MsgID, err)
			continue
		}
		for _, r := range rs {
			if prev, ok := byRef[r.RefNbr]; ok {
				bad("refund %s recorded twice: %s and %s", r.RefNbr, prev, r.EndToEndID)
			}
			byRef[r.RefNbr] = r.EndToEndID
			if r.Status == refund.StatusBooked {
				bookedNow[r.EndToEndID] = true
			}
			switch {
			case !has && (r.Status == refund.StatusBooked || r.Status == refund.StatusReturned):
				bad("refund %s (%s) is %s but the bank does not have its batch %s", r.RefNbr, r.EndToEndID, r.Status, b.MsgID)
			case has && !slices.Contains(inMsgs[r.EndToEndID], b.MsgID):
				bad("refund %s (%s) of batch %s is not in the file the bank has", r.RefNbr, r.EndToEndID, b.MsgID)
			}
		}
	}
	for _, ref := range refs {
		if _, ok := byRef[ref]; !ok {
			bad("refund %s was dropped but is not recorded", ref)
		}
	}
	for _, tmp := range temps {
		bad("remote upload folder holds %s, temporary of no batch", strings.Join(tmp, ", "))
	}

	// The postings: each booking exactly once.
	vouchers := map[string]map[string]bool{} // EndToEndId → voucher ids
	files, _ := filepath.Glob(filepath.Join(dir, "import", "postings-*.csv"))
	voucherFile := map[string]string{}
	for _, p := range files {
		recs, err := readImport(p)
		if err != nil || len(recs) < 2 || recs[0][0] != "Voucher" {
			bad("postings file %s is partial or unreadable: %v", filepath.Base(p), err)
			continue
		}
		for _, r := range recs[1:] {
			voucher, e2e := r[0], r[10]
			if f, ok := voucherFile[voucher]; ok && f != p {
				bad("voucher %s posted twice: in %s and %s", voucher, filepath.Base(f), filepath.Base(p))
			}
			voucherFile[voucher] = p
			if e2e == "" {
				continue
			}
			if vouchers[e2e] == nil {
				vouchers[e2e] = map[string]bool{}
			}
			vouchers[e2e][voucher] = true
		}
	}
	for e2e := range booked {
		if n := len(vouchers[e2e]); n != 1 {
			bad("refund %s booked by the bank has %d postings, want 1", e2e, n)
		}
	}
	for e2e := range vouchers {
		if !booked[e2e] {
			bad("posting for %s, which the bank did not take in", e2e)
		}
	}

	// The status files: a refund recorded as booked was told to the ERP.
	told := map[string]bool{} // EndToEndIds with a status line "booked"
	files, _ = filepath.Glob(filepath.Join(dir, "import", "status-*.csv"))
	for _, p := range files {
		recs, err := readImport(p)
		if err != nil || len(recs) < 2 || len(recs[0]) < 5 || recs[0][3] != "EndToEndId" || recs[0][4] != "Status" {
			bad("status file %s is partial or unreadable: %v", filepath.Base(p), err)
			continue
		}
		for _, r := range recs[1:] {
			if r[4] == string(refund.StatusBooked) {
				told[r[3]] = true
			}
		}
	}
	for e2e := range bookedNow {
		if !told[e2e] {
			bad("refund %s is recorded as booked but no status file tells the ERP", e2e)
		}
	}

	// The files: each batch file and each reply accounted for, once done,
	// the rest duplicates or failed with an .err.
	account := func(kind string, names []string, failedDir string) {
		done := map[string]int{}
		filepath.WalkDir(filepath.Join(spool, "archive", kind), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				done[baseName(d.Name())]++
			}
			return nil
		})
		failed := map[string]int{}
		fes, _ := os.ReadDir(failedDir)
		for _, e := range fes {
			if strings.HasSuffix(e.Name(), ".err") {
				continue
			}
			if _, err := os.Stat(filepath.Join(failedDir, e.Name()+".err")); err != nil {
				bad("%s/failed/%s has no .err", kind, e.Name())
			}
			failed[baseName(e.Name())]++
		}
		for _, n := range names {
			switch {
			case done[n] == 1:
			case done[n] == 0 && failed[n] > 0 && kind == "export":
			default:
				bad("%s file %s: archived %d times, failed %d times", kind, n, done[n], failed[n])
			}
		}
		if n := pendingFiles(filepath.Join(spool, "work", kind)); n > 0 {
			bad("%d %s file(s) left in work/", n, kind)
		}
	}
	account("export", dropped, filepath.Join(dir, "export", "failed"))
	account("inbox", replies, filepath.Join(dir, "inbox", "failed"))
	slices.Sort(violations)
	return violations, uploads
}
