package daemon

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/rs/zerolog"

	"refundd/formats/pain002"
)

// TestDownloadSkipsUnreadableReply: one reply on the server that refundd
// may not read, and one it may read but not remove, do not hold up the
// others: each round downloads what it can and names the file it cannot.
func TestDownloadSkipsUnreadableReply(t *testing.T) {
	const locked, sticky = "/outbound/a-locked.xml", "/outbound/b-sticky.xml"
	e := newDoctorEnv(t, func(_ context.Context, op, path string) error {
		if (path == locked && (op == "open" || op == "read")) || (path == sticky && op == "remove") {
			return &fs.PathError{Op: op, Path: path, Err: syscall.EACCES}
		}
		return nil
	})
	out := filepath.Join(e.dir, "bank", "outbound")
	for name, msgID := range map[string]string{"a-locked.xml": "RFD-X-1", "b-sticky.xml": "RFD-X-2", "c-report.xml": "RFD-X-3"} {
		data := groupReport(t, "STS-"+msgID, msgID, pain002.AcceptedCustomerProfile, "")
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := LoadConfig(e.config)
	if err != nil {
		t.Fatal(err)
	}
	log := &logBuf{t: t}
	for range 2 {
		d, err := New(cfg, Options{Logger: zerolog.New(log)})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		d.Close()
	}
	if got := files(t, out); !slices.Equal(got, []string{"a-locked.xml", "b-sticky.xml"}) {
		t.Errorf("server holds %v, want the two files refundd may not take away", got)
	}
	if n := archivedIn(e.dir); n != 2 {
		t.Errorf("%d replies archived, want 2 (b-sticky.xml and c-report.xml, once each)", n)
	}
	if n := log.lines("a-locked.xml", "cannot be downloaded"); n != 2 {
		t.Errorf("%d lines name a-locked.xml as not downloadable, want one per round", n)
	}
	if n := log.lines("b-sticky.xml", "cannot be taken away"); n != 2 {
		t.Errorf("%d lines name b-sticky.xml as not removable, want one per round", n)
	}
}
