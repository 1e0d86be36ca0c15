package daemon

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"refundd/formats/xsdtest"
)

// TestDaemonSlowWriter: a batch written under its final name in pieces,
// over about 3.5 s with pauses shorter than watch.stable_for (1 s), is not
// taken while it is written: nothing is claimed (the file stays in
// export/) and nothing is uploaded. Once it is complete, exactly one
// pain.001 with every refund of the file goes up.
func TestDaemonSlowWriter(t *testing.T) {
	const (
		pieces = 8
		pause  = 500 * time.Millisecond
		look   = 50 * time.Millisecond
	)
	e := newDaemonEnv(t)
	e.cfg.Watch.StableFor = time.Second
	export := filepath.Join(e.dir, "export")
	batch := readFile(t, "testdata/batch-ok.csv")

	d := e.daemon(t, e.options(t))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	defer stop()

	f, err := os.OpenFile(filepath.Join(export, "batch-ok.csv"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checks := 0
	for i := range pieces {
		if _, err := f.Write(batch[i*len(batch)/pieces : (i+1)*len(batch)/pieces]); err != nil {
			t.Fatal(err)
		}
		if i == pieces-1 {
			break
		}
		for end := time.Now().Add(pause); time.Now().Before(end); time.Sleep(look) {
			checks++
			if got := files(t, e.up); len(got) != 0 {
				t.Fatalf("after %d of %d pieces the upload folder holds %v", i+1, pieces, got)
			}
			if got := files(t, export); !slices.Equal(got, []string{"batch-ok.csv"}) {
				t.Fatalf("after %d of %d pieces the export folder holds %v: the half-written file was taken", i+1, pieces, got)
			}
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if checks < pieces {
		t.Fatalf("only %d looks while writing", checks)
	}

	waitFor(t, "the upload", func() bool { return len(files(t, e.up)) > 0 })
	// One more rescan and settling round: still one file.
	time.Sleep(e.cfg.Watch.StableFor + 1500*time.Millisecond)
	stop()

	if got := files(t, e.up); !slices.Equal(got, []string{testMsgID + ".xml"}) {
		t.Fatalf("upload folder holds %v, want exactly %s.xml", got, testMsgID)
	}
	xml := filepath.Join(e.up, testMsgID+".xml")
	xsdtest.Validate(t, xsdtest.Schema(t, "pain.001.001.03.xsd"), xml)
	text := string(readFile(t, xml))
	if n := strings.Count(text, "<EndToEndId>"); n != 5 {
		t.Errorf("the pain.001 has %d transactions, want the file's 5", n)
	}
	if !strings.Contains(text, "<NbOfTxs>5</NbOfTxs>") {
		t.Error("the pain.001 does not count 5 transactions")
	}
	for _, ref := range []string{"CN10042", "PP10043", "PY10044", "CN10045", "CN10046"} {
		if !strings.Contains(text, ref) {
			t.Errorf("the pain.001 lacks refund %s", ref)
		}
	}
	if got := e.sent(t, testMsgID); len(got) != 5 {
		t.Errorf("the store has %d refunds of the batch, want 5", len(got))
	}
	if got := files(t, export); len(got) != 0 {
		t.Errorf("export folder still holds %v", got)
	}
	if _, err := os.Stat(filepath.Join(export, "failed")); err == nil {
		if got := files(t, filepath.Join(export, "failed")); len(got) != 0 {
			t.Errorf("export/failed holds %v", got)
		}
	}
}

// TestDaemonDownloadArchive: with sftp.download_archive_dir, a downloaded
// reply is moved on the server into that folder instead of being removed,
// under a new name when its own is taken there; the file there is not
// overwritten. A reply offered again after it was taken is moved too, and
// not applied twice.
func TestDaemonDownloadArchive(t *testing.T) {
	e := newDaemonEnv(t)
	archive := filepath.Join(e.srv.Root, "outbound-done")
	if err := os.MkdirAll(archive, 0o755); err != nil {
		t.Fatal(err)
	}
	older := []byte("<an older reply/>")
	if err := os.WriteFile(filepath.Join(archive, "pain002.xml"), older, 0o644); err != nil {
		t.Fatal(err)
	}
	e.cfg.SFTP.DownloadArchiveDir = archive
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	e.once(t)
	pain := statusReport(t, testMsgID, e.sent(t, testMsgID))
	if err := os.WriteFile(filepath.Join(e.down, "pain002.xml"), pain, 0o644); err != nil {
		t.Fatal(err)
	}
	e.once(t)

	if got := files(t, e.down); len(got) != 0 {
		t.Errorf("download folder holds %v", got)
	}
	if got := files(t, archive); !slices.Equal(got, []string{"pain002 (2).xml", "pain002.xml"}) {
		t.Fatalf("archive folder holds %v", got)
	}
	if got := readFile(t, filepath.Join(archive, "pain002.xml")); string(got) != string(older) {
		t.Error("the older file in the archive folder was overwritten")
	}
	if got := readFile(t, filepath.Join(archive, "pain002 (2).xml")); string(got) != string(pain) {
		t.Error("the archived reply is not the one downloaded")
	}
	if st, _ := e.statuses(t, testMsgID); st != "accepted" {
		t.Errorf("batch is %s after the pain.002, want accepted", st)
	}

	// Offered again: not applied twice, archived again.
	if err := os.WriteFile(filepath.Join(e.down, "pain002.xml"), pain, 0o644); err != nil {
		t.Fatal(err)
	}
	e.once(t)
	if got := files(t, e.down); len(got) != 0 {
		t.Errorf("download folder holds %v", got)
	}
	if got := files(t, archive); !slices.Equal(got, []string{"pain002 (2).xml", "pain002 (3).xml", "pain002.xml"}) {
		t.Errorf("archive folder holds %v", got)
	}
	if n := e.archivedReplies(t); n != 1 {
		t.Errorf("%d replies archived locally, want 1", n)
	}
}
