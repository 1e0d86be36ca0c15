package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"refundd/daemon/config"
	"refundd/daemon/refund"
	"refundd/daemon/store"
)

// TestPurge: the test batch is sent and then completed; years later its
// retention has ended. A dry run says what would go and changes nothing.
// The daily purge of the leader then purges the batch in the store, its
// archived batch file, its outbox copy and the replies of old months;
// files of newer months stay, and so do an unknown batch file and a
// reply archived after a batch that is kept was recorded. The purge is
// recorded, and a second one on the same day does nothing.
func TestPurge(t *testing.T) {
	ctx := t.Context()
	e := newDaemonEnv(t)
	batchFile := readFile(t, "testdata/batch-ok.csv")
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", batchFile)
	e.once(t)

	s := e.openStore(t)
	for _, r := range e.sent(t, testMsgID) {
		if _, err := s.SetRefundStatus(ctx, r.EndToEndID, refund.StatusBooked, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, to := range []store.BatchStatus{store.BatchPaid, store.BatchCompleted} {
		if _, err := s.SetBatchStatus(ctx, testMsgID, to, ""); err != nil {
			t.Fatal(err)
		}
	}
	// A batch of refunds the account guard held back: received, kept.
	kept := store.Batch{MsgID: refund.MsgID("987654325", "K1", 0), Number: "K1", Status: store.BatchReceived,
		Notes: []store.Note{{Position: "k1.csv:2", DocType: refund.CreditNote, RefNbr: "K1-1", CustomerID: "C9", Kind: store.NoteHeld, Reason: "account changed"}}}
	if err := s.CreateBatch(ctx, kept, nil); err != nil {
		t.Fatal(err)
	}

	// The cut-off is the start of the year after this one: the batches
	// settled now have expired, the archive's month folders of this year
	// (and the test clock's) are old, those of the cut-off's year new.
	year := max(time.Now().Year(), now.Year())
	later := time.Date(year+6, time.January, 1, 9, 0, 0, 0, e.cfg.Location())
	cutoff := time.Date(year+1, time.January, 1, 0, 0, 0, 0, e.cfg.Location())
	archive := func(kind string, y, m int, name string) string {
		return e.spool("archive", kind, fmt.Sprint(y), fmt.Sprintf("%02d", m), name)
	}
	archived, err := filepath.Glob(e.spool("archive", "export", "*", "*", "batch-ok.csv"))
	if err != nil || len(archived) != 1 {
		t.Fatalf("archived batch file: %v, %v", archived, err)
	}
	put := func(path string, data []byte) string {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	gone := []string{
		archived[0],
		e.outboxFile(testMsgID),
		put(archive("inbox", 2019, 3, "pain002.xml"), []byte("an old reply")),
	}
	stay := []string{
		put(archive("export", 2019, 3, "other.csv"), []byte("a batch file the store does not know")),
		put(archive("export", year+1, 1, "batch-ok.csv"), batchFile), // an expired batch's file, but archived since the cut-off
		put(archive("inbox", year, 12, "camt054.xml"), []byte("a reply of a month in which a kept batch was recorded")),
		put(archive("inbox", year+1, 2, "camt054.xml"), []byte("a newer reply")),
	}
	refundsBefore, err := s.Refunds(ctx, testMsgID)
	if err != nil {
		t.Fatal(err)
	}

	dry, err := Purge(ctx, e.cfg, s, later, true)
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, p := range gone {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("the dry run removed %s: %v", p, err)
		}
		size += fi.Size()
	}
	want := PurgeReport{Years: 5, Cutoff: cutoff, DryRun: true, Kept: 2, OldestKept: kept.MsgID,
		PurgeCount: store.PurgeCount{Batches: 1, Refunds: len(refundsBefore), Files: 3, Bytes: size}}
	if !dry.Cutoff.Equal(want.Cutoff) || dry.Cutoff.Format(time.RFC3339) != want.Cutoff.Format(time.RFC3339) {
		t.Errorf("cut-off %s; want %s", dry.Cutoff, want.Cutoff)
	}
	dry.Cutoff = want.Cutoff
	if dry != want {
		t.Errorf("dry run: %+v\nwant       %+v", dry, want)
	}
	if after, err := s.Refunds(ctx, testMsgID); err != nil || !slices.Equal(after, refundsBefore) {
		t.Errorf("the dry run changed the refunds: %+v, %v", after, err)
	}
	if evs, err := s.Events(ctx, store.SubjectPurge, store.PurgeSubject); err != nil || len(evs) != 0 {
		t.Errorf("the dry run recorded %+v, %v", evs, err)
	}

	opts := e.options(t)
	clock := later
	opts.Now = func() time.Time { return clock }
	d := e.daemon(t, opts)
	d.purgeDaily(ctx)
	for _, p := range gone {
		if fileExists(p) {
			t.Errorf("%s is still there", p)
		}
	}
	for _, p := range stay {
		if !fileExists(p) {
			t.Errorf("%s was removed", p)
		}
	}
	if fileExists(filepath.Dir(gone[2])) || fileExists(filepath.Dir(filepath.Dir(gone[2]))) {
		t.Errorf("the emptied folders of %s are still there", gone[2])
	}
	rs, err := s.Refunds(ctx, testMsgID)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if r.CreditorAccount != store.PurgedMarker || r.CustomerID != "" || r.Amount != refundsBefore[i].Amount || r.Status != refund.StatusBooked {
			t.Errorf("refund %s after the purge: %+v", r.RefNbr, r)
		}
	}
	if pain, err := s.Pain(ctx, testMsgID); err != nil || pain != nil {
		t.Errorf("pain.001 after the purge: %d bytes, %v", len(pain), err)
	}
	evs, err := s.Events(ctx, store.SubjectPurge, store.PurgeSubject)
	if err != nil || len(evs) != 1 {
		t.Fatalf("purge events %+v, %v; want 1", evs, err)
	}
	if w := fmt.Sprintf("1 batches, %d refunds, 0 notes; 3 files, %d bytes", len(rs), size); evs[0].Detail != w {
		t.Errorf("purge event says %q; want %q", evs[0].Detail, w)
	}

	clock = later.Add(23 * time.Hour)
	put(gone[0], batchFile) // as if restored from a backup
	d.purgeDaily(ctx)
	if !fileExists(gone[0]) {
		t.Error("a second purge within a day ran")
	}
	clock = later.Add(24 * time.Hour)
	d.purgeDaily(ctx)
	if fileExists(gone[0]) {
		t.Error("the purge of the next day did not run")
	}
	evs, _ = s.Events(ctx, store.SubjectPurge, store.PurgeSubject)
	if len(evs) != 2 || !strings.HasPrefix(evs[1].Detail, "0 batches, 0 refunds, 0 notes; 1 files") {
		t.Errorf("purge events after the next day: %+v", evs)
	}
}

// TestPurgeOff: with retention.keep off nothing is looked at.
func TestPurgeOff(t *testing.T) {
	src := string(readFile(t, "testdata/refundd.yaml")) + "retention: {keep: \"off\"}\n"
	cfg, err := config.Parse(strings.NewReader(src), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Purge(t.Context(), cfg, nil, now.AddDate(100, 0, 0), false)
	if err != nil || rep != (PurgeReport{}) {
		t.Errorf("Purge with retention off = %+v, %v; want nothing", rep, err)
	}
}
