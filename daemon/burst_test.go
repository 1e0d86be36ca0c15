package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"refundd/daemon/refund"
	"refundd/daemon/store"
)

// envBurst sets the number of batches TestBurst drops (1000 for the
// figure of a burst; the default keeps the test short but spans several
// groups, the last one partial).
const envBurst = "REFUNDD_BURST_N"

// burstBatch returns batch file k of a burst: one refund, its own batch
// number, document and customer.
func burstBatch(k int) (data []byte, msgID string) {
	number := fmt.Sprintf("BU-%05d", k)
	data = fmt.Appendf(nil, "Batch;DocType;RefNbr;CustomerID;CustomerName;PaymentMethod;AccountType;Account;BIC;Country;Amount;Currency;PaymentDate;CustomerOrderNbr;PaymentRef\n"+
		"%s;CreditNote;CNB%05d;C%05d;Kari Nordmann;AUTOPAY;BBAN;8601.11.17947;;NO;1 234,50;NOK;2026-12-02;SO-%d;\n", number, k, k, k)
	return data, refund.MsgID("987654325", number, 0)
}

var msgIDElem = regexp.MustCompile(`<MsgId>([^<]+)</MsgId>`)

// taker stands in for AutoPay: it takes every complete file out of the
// upload folder as soon as it sees it and counts the MsgIds it took.
type taker struct {
	up, to string
	counts map[string]int // by MsgId; read after stop
	stop   chan struct{}
	done   chan error
}

func startTaker(t *testing.T, up string) *taker {
	tk := &taker{up: up, to: t.TempDir(), counts: map[string]int{}, stop: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		for {
			if err := tk.sweep(); err != nil {
				tk.done <- err
				return
			}
			select {
			case <-tk.stop:
				tk.done <- tk.sweep()
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return tk
}

func (tk *taker) sweep() error {
	entries, err := os.ReadDir(tk.up)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue // a temporary name: not complete
		}
		data, err := os.ReadFile(filepath.Join(tk.up, e.Name()))
		if err != nil {
			return err
		}
		m := msgIDElem.FindSubmatch(data)
		if m == nil {
			return fmt.Errorf("%s has no MsgId", e.Name())
		}
		if err := os.Rename(filepath.Join(tk.up, e.Name()), filepath.Join(tk.to, fmt.Sprintf("%d-%s", len(tk.counts), e.Name()))); err != nil {
			return err
		}
		tk.counts[string(m[1])]++
	}
	return nil
}

func (tk *taker) taken() int {
	return len(tk.counts)
}

// TestBurst drops a burst of one-refund batch files into the export folder
// at once while the daemon runs, uploading to a real sshd whose upload
// folder is emptied as AutoPay empties it, and checks that every batch
// reached the bank exactly once, none was lost, and each is recorded sent.
func TestBurst(t *testing.T) {
	n := 150
	if s := os.Getenv(envBurst); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			t.Fatalf("%s=%q: want a positive number", envBurst, s)
		}
		n = v
	}
	e := newDaemonEnv(t)
	d := e.daemon(t, Options{Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel), Now: e.clock, RetryMin: 50 * time.Millisecond})
	tk := startTaker(t, e.up)

	export := filepath.Join(e.dir, "export")
	want := make(map[string]bool, n)
	for k := range n {
		data, msgID := burstBatch(k)
		want[msgID] = true
		if err := os.WriteFile(filepath.Join(export, fmt.Sprintf(".b%05d.csv.tmp", k)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	start := time.Now()
	for k := range n {
		if err := os.Rename(filepath.Join(export, fmt.Sprintf(".b%05d.csv.tmp", k)), filepath.Join(export, fmt.Sprintf("b%05d.csv", k))); err != nil {
			t.Fatal(err)
		}
	}
	// Bounded: a generous allowance per batch on a loaded machine.
	deadline := time.Now().Add(time.Minute + time.Duration(n)*100*time.Millisecond)
	s := e.openStore(t)
	for {
		bs, err := s.BatchesByStatus(t.Context(), store.BatchSent)
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) == n {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("after %s: %d of %d batches sent", time.Since(start).Round(time.Millisecond), len(bs), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d batches sent %s after the drop", n, time.Since(start).Round(time.Millisecond))
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	close(tk.stop)
	if err := <-tk.done; err != nil {
		t.Fatal(err)
	}
	for id, c := range tk.counts {
		switch {
		case !want[id]:
			t.Errorf("the bank took %s, which is no batch of the burst", id)
		case c != 1:
			t.Errorf("the bank took %s %d times", id, c)
		}
	}
	if tk.taken() != n {
		for id := range want {
			if tk.counts[id] == 0 {
				t.Errorf("%s never reached the bank", id)
			}
		}
	}
	bs, err := s.ListBatches(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.Status != store.BatchSent {
			t.Errorf("batch %s is %s, want %s", b.MsgID, b.Status, store.BatchSent)
		}
	}
	if left := files(t, export); len(left) != 0 {
		t.Errorf("files left in the export folder: %v", left)
	}
	if left := files(t, e.spool("work", "export")); len(left) != 0 {
		t.Errorf("files left in work/: %v", left)
	}
}

// TestBurstCopyInGroup drops a batch file and a copy of it at once, with
// other files around them, so that the copy comes up while the original
// waits in a group to be recorded: one of the two is refused as a duplicate,
// and the pain.001 in the outbox stays the one recorded for the batch.
func TestBurstCopyInGroup(t *testing.T) {
	e := newDaemonEnv(t)
	opts := e.options(t)
	// A clock that moves a second at each reading: a pain.001 rendered
	// again differs from the first (its creation time).
	var tick atomic.Int64
	opts.Now = func() time.Time { return now.Add(time.Duration(tick.Add(1)) * time.Second) }
	d := e.daemon(t, opts)
	export := filepath.Join(e.dir, "export")
	var msgIDs []string
	for k := range 4 {
		data, msgID := burstBatch(k)
		msgIDs = append(msgIDs, msgID)
		drop(t, export, fmt.Sprintf("b%d.csv", k), data)
		if k == 1 {
			drop(t, export, "b1-copy.csv", data)
		}
	}
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	s := e.openStore(t)
	for _, id := range msgIDs {
		b, err := s.Batch(t.Context(), id)
		if err != nil {
			t.Fatalf("batch %s: %v", id, err)
		}
		sum := sha256.Sum256(readFile(t, e.outboxFile(id)))
		if hex.EncodeToString(sum[:]) != b.PainHash {
			t.Errorf("the outbox file of %s is not the pain.001 recorded for it", id)
		}
	}
	// Which of the two comes first depends on their times; the other is
	// the duplicate.
	got := files(t, filepath.Join(export, "failed"))
	if !slices.Equal(got, []string{"b1-copy.csv", "b1-copy.csv.err"}) && !slices.Equal(got, []string{"b1.csv", "b1.csv.err"}) {
		t.Errorf("failed/ holds %v, want one of the two copies and its .err", got)
	}
}
