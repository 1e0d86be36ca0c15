package daemon

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"refundd/daemon/refund"
	"refundd/daemon/store"
	"refundd/formats/xsdtest"
	"refundd/internal/testutil"
)

// TestDaemonReleaseInDoubt: an operator releases an in-doubt batch whose
// file is gone from the server; the same file is uploaded again.
func TestDaemonReleaseInDoubt(t *testing.T) {
	e := newDaemonEnv(t)
	e.inDoubtConsumed(t) // in doubt until an operator decides
	s := e.openStore(t)
	if to, err := Resolve(t.Context(), s, testMsgID, ResolveRelease); err != nil || to != store.BatchSending {
		t.Fatalf("release: %s, %v", to, err)
	}
	s.Close()
	e.once(t)
	if !bytes.Equal(readFile(t, filepath.Join(e.up, testMsgID+".xml")), readFile(t, e.outboxFile(testMsgID))) {
		t.Error("the resend is not the recorded pain.001")
	}
}

// TestDaemonRerelease: a refund the bank rejected is paid again in a new
// batch (next attempt, new MsgId) under a new EndToEndId (next release);
// a refund that is not rejected is refused.
func TestDaemonRerelease(t *testing.T) {
	e := newDaemonEnv(t)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	e.once(t)
	sent := e.sent(t, testMsgID)
	if err := os.WriteFile(filepath.Join(e.down, "pain002.xml"), testutil.StatusReport(t, testMsgID, sent), 0o644); err != nil {
		t.Fatal(err)
	}
	e.once(t)
	rejected, accepted := testutil.ByRef(t, sent, "PP10043").EndToEndID, testutil.ByRef(t, sent, "CN10046").EndToEndID

	s := e.openStore(t)
	if _, err := Rerelease(t.Context(), e.cfg, s, []string{accepted}, e.clock()); !errors.Is(err, store.ErrTransition) {
		t.Errorf("re-release of an accepted refund: %v, want ErrTransition", err)
	}
	b, err := Rerelease(t.Context(), e.cfg, s, []string{rejected}, e.clock())
	if err != nil {
		t.Fatal(err)
	}
	wantMsgID := refund.MsgID("987654325", "B2026-0042", 1)
	if b.MsgID != wantMsgID || b.Attempt != 1 || b.Status != store.BatchSending {
		t.Errorf("new batch %+v, want MsgId %s attempt 1 sending", b, wantMsgID)
	}
	rs, err := s.Refunds(t.Context(), b.MsgID)
	if err != nil {
		t.Fatal(err)
	}
	wantE2E := refund.EndToEndID(refund.Prepayment, "PP10043", 1)
	if len(rs) != 1 || rs[0].EndToEndID != wantE2E || rs[0].Release != 1 || rs[0].Amount.Minor != 9900 {
		t.Errorf("refunds of the new batch: %+v, want one %s", rs, wantE2E)
	}
	if _, err := Rerelease(t.Context(), e.cfg, s, []string{rejected}, e.clock()); err == nil {
		t.Error("a second re-release of the same refund was accepted")
	}
	evs, err := s.Events(t.Context(), store.SubjectBatch, b.MsgID)
	if err != nil || len(evs) == 0 || !strings.Contains(evs[0].Reason, "re-release") {
		t.Errorf("events %+v, %v", evs, err)
	}
	s.Close()

	e.once(t)
	up := files(t, e.up)
	if !slices.Contains(up, wantMsgID+".xml") || len(up) != 2 {
		t.Fatalf("upload folder holds %v", up)
	}
	xml := filepath.Join(e.up, wantMsgID+".xml")
	xsdtest.Validate(t, xsdtest.Schema(t, "pain.001.001.03.xsd"), xml)
	if text := string(readFile(t, xml)); !strings.Contains(text, wantE2E) || strings.Contains(text, "CN10046") {
		t.Errorf("the new pain.001 does not hold just the re-released refund:\n%s", text)
	}
}
