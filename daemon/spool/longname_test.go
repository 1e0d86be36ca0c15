package spool

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestLongNames: a file whose name has the 255 bytes a folder entry can
// have (so that no done marker and no "<name>.err" can exist beside it) is
// taken, and refused into failed/ with a report under a shorter name whose
// first line names the file; a second one of the same name gets a
// numbered name that fits.
func TestLongNames(t *testing.T) {
	f := newFolder(t, Config{})
	name := strings.Repeat("å", 100) + strings.Repeat("n", 251-200) + ".csv" // 255 bytes
	if len(name) != nameMax {
		t.Fatalf("name has %d bytes", len(name))
	}
	failed := filepath.Join(f.Dir(), "failed")
	for i, want := range []string{name, numbered(name, 2)} {
		writeFile(t, filepath.Join(f.Dir(), name), "batch "+string(rune('a'+i)))
		cl := claimOne(t, f, time.Now().Add(time.Hour))
		if cl.Name != name {
			t.Fatalf("claimed as %q", cl.Name)
		}
		p, err := f.Fail(cl, []string{"refused"})
		if err != nil {
			t.Fatalf("Fail: %v", err)
		}
		if filepath.Base(p) != want || len(filepath.Base(p)) > nameMax {
			t.Fatalf("failed/ holds %q (%d bytes), want %q", filepath.Base(p), len(filepath.Base(p)), want)
		}
		report := readFile(t, filepath.Join(failed, errName(want)))
		if wantReport := "file: " + want + "\nrefused\n"; report != wantReport {
			t.Errorf("report %q, want %q", report, wantReport)
		}
	}
	es, err := os.ReadDir(failed)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 4 {
		t.Errorf("failed/ holds %d entries, want 2 files and 2 reports", len(es))
	}
	for _, e := range es {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %q left", e.Name())
		}
	}
	if got := errName("a.csv"); got != "a.csv.err" {
		t.Errorf("errName(a.csv) = %q", got)
	}
}

func TestShortName(t *testing.T) {
	long := strings.Repeat("ø", 150) + ".xml" // 304 bytes
	for _, tc := range []struct {
		name string
		max  int
		ext  string
	}{
		{"a.xml", 200, ".xml"},
		{long, 200, ".xml"},
		{long + ".err", 255, ".err"},
		{strings.Repeat("x", 300) + "." + strings.Repeat("e", 20), 200, ""},
	} {
		got := ShortName(tc.name, tc.max)
		switch {
		case len(got) > tc.max, !utf8.ValidString(got), !strings.HasSuffix(got, tc.ext):
			t.Errorf("ShortName(%q…, %d) = %q (%d bytes)", tc.name[:10], tc.max, got, len(got))
		case len(tc.name) <= tc.max && got != tc.name:
			t.Errorf("ShortName(%q) changed a short name to %q", tc.name, got)
		case got != ShortName(tc.name, tc.max):
			t.Errorf("ShortName(%q…) is not the same twice", tc.name[:10])
		}
	}
	if a, b := strings.Repeat("ø", 150)+"1.xml", strings.Repeat("ø", 150)+"2.xml"; ShortName(a, 200) == ShortName(b, 200) {
		t.Error("two long names share a short name")
	}
}
