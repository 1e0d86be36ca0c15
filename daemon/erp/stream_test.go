package erp

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"refundd/daemon/refund"
)

// TestExceptionStream: a streamed exceptions file is byte for byte what
// WriteExceptions writes, under a name of the same shape; the same
// contents a second time keep the first file; no rows, or Abort, leave
// nothing, not even the temporary file.
func TestExceptionStream(t *testing.T) {
	rows := []ExceptionRow{
		{File: "camt.xml", Position: "Ntry[1]", BookingDate: refund.NewDate(2026, 12, 2), Direction: refund.Debit, BankRef: "R1",
			Amount: refund.Amount{Minor: 12345, Currency: "NOK"}, Rule: refund.RuleEndToEndID, Reason: "no-match", Detail: "=cmd|' /C calc'!A0"},
		{File: "camt.xml", Position: "Ntry[2]", Reason: "invalid", Detail: "no amount"},
	}
	dir := t.TempDir()
	clock := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	w := &Writer{Dir: dir, Now: func() time.Time { return clock }}
	stream := func() string {
		t.Helper()
		s, err := w.StreamExceptions()
		if err != nil {
			t.Fatal(err)
		}
		for i := range rows {
			if err := s.Add(&rows[i]); err != nil {
				t.Fatal(err)
			}
		}
		name, err := s.Close()
		if err != nil {
			t.Fatal(err)
		}
		s.Abort() // after Close: nothing
		return name
	}
	name := stream()
	var want bytes.Buffer
	if err := EncodeExceptions(&want, rows); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("streamed file %s (%v):\n%s\nwant:\n%s", name, err, got, want.Bytes())
	}
	if !strings.HasPrefix(name, "exceptions-20261207T090000") || !strings.HasSuffix(name, "-"+contentID(want.Bytes())+".csv") {
		t.Errorf("name %s", name)
	}
	if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, %v; want 0640 like the other files for the ERP", fi.Mode(), err)
	}
	if again := stream(); again != name {
		t.Errorf("the same contents again: %s, want the first file %s", again, name)
	}
	s, err := w.StreamExceptions()
	if err != nil {
		t.Fatal(err)
	}
	if name, err := s.Close(); name != "" || err != nil {
		t.Errorf("no rows: %q, %v", name, err)
	}
	s, _ = w.StreamExceptions()
	_ = s.Add(&rows[0])
	s.Abort()
	es, _ := os.ReadDir(dir)
	if len(es) != 1 {
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v, want the one file", names)
	}
}
