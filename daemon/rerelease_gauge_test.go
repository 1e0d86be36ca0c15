package daemon

import (
	"os"
	"path/filepath"
	"testing"

	"refundd/daemon/obs"
	"refundd/internal/testutil"
)

// TestToRereleaseGauge: a refund the bank rejects makes
// refundd_refunds_to_rerelease{status="rejected"} 1 at the step that
// applies the pain.002, and the operator's re-release (a command beside
// the running daemon) brings it back to 0 at the next step.
func TestToRereleaseGauge(t *testing.T) {
	e := newDaemonEnv(t)
	opts := e.options(t)
	opts.Metrics = obs.NewMetrics()
	d := e.daemon(t, opts)
	gauge := func(status string) float64 {
		return metric(t, opts.Metrics, "refundd_refunds_to_rerelease", "status", status)
	}
	step := func() {
		t.Helper()
		if err := d.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	step()
	if got := gauge("rejected"); got != 0 {
		t.Fatalf("after the upload: %v refunds rejected to re-release, want 0", got)
	}
	sent := e.sent(t, testMsgID)
	if err := os.WriteFile(filepath.Join(e.down, "pain002.xml"), testutil.StatusReport(t, testMsgID, sent), 0o644); err != nil {
		t.Fatal(err)
	}
	step()
	if got, ret := gauge("rejected"), gauge("returned"); got != 1 || ret != 0 {
		t.Fatalf("after the pain.002 rejecting PP10043: rejected %v, returned %v to re-release, want 1, 0", got, ret)
	}

	s := e.openStore(t)
	if _, err := Rerelease(t.Context(), e.cfg, s, []string{testutil.ByRef(t, sent, "PP10043").EndToEndID}, e.clock()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	step()
	if got := gauge("rejected"); got != 0 {
		t.Errorf("after the re-release: %v refunds rejected to re-release, want 0", got)
	}
}
