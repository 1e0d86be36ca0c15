package render_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"refundd/daemon/config"
	"refundd/daemon/render"
	"refundd/internal/testutil"
)

// latin1 returns s in ISO-8859-1, which for these characters is also
// Windows-1252; every character of s must be below U+0100.
func latin1(t *testing.T, s string) []byte {
	t.Helper()
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r >= 0x100 || r >= 0x80 && r < 0xA0 {
			t.Fatalf("%q has no single byte", r)
		}
		b = append(b, byte(r))
	}
	return b
}

// TestRenderEncodings: a batch file in Windows-1252 or ISO-8859-1, read in
// the encoding of batches.encoding, renders the same pain.001 as the UTF-8
// export; read as UTF-8 it is refused with a hint at the encoding.
func TestRenderEncodings(t *testing.T) {
	utf8File, err := os.ReadFile("../testdata/batch-ok.csv")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile("../testdata/batch-ok.v03.golden.xml")
	if err != nil {
		t.Fatal(err)
	}
	singleByte := latin1(t, string(utf8File))
	if bytes.Equal(singleByte, utf8File) {
		t.Fatal("batch-ok.csv has no character beyond ASCII")
	}
	tests := []struct {
		name     string
		encoding string
		file     []byte
		wantErr  string // in the diagnostics; "" renders the golden file
	}{
		{"UTF-8", config.EncodingUTF8, utf8File, ""},
		{"Windows-1252", config.EncodingWindows1252, singleByte, ""},
		{"ISO-8859-1", config.EncodingISO88591, singleByte, ""},
		{"Windows-1252 read as UTF-8", config.EncodingUTF8, singleByte,
			`batch-ok.csv:2: CustomerName: not valid UTF-8; the file looks like Windows-1252 (a spreadsheet's "CSV (semicolon)"): ` +
				`save it as "CSV UTF-8", or set batches.encoding: windows-1252`},
		{"UTF-8 with a byte order mark read as Windows-1252", config.EncodingWindows1252, append([]byte("\ufeff"), utf8File...),
			"batch-ok.csv: the file starts with a UTF-8 byte order mark, so it is UTF-8, not Windows-1252"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testutil.Config(t, "001.001.03")
			c.Batches.Encoding = tt.encoding
			path := filepath.Join(t.TempDir(), "batch-ok.csv")
			if err := os.WriteFile(path, tt.file, 0o644); err != nil {
				t.Fatal(err)
			}
			var out, diag bytes.Buffer
			err := render.File(c, path, now, &out, &diag)
			if tt.wantErr != "" {
				if err == nil || out.Len() != 0 || !strings.Contains(diag.String(), tt.wantErr) {
					t.Errorf("render.File = %v, %d bytes; want an error and %q in the diagnostics:\n%s", err, out.Len(), tt.wantErr, diag.String())
				}
				return
			}
			if err != nil {
				t.Fatalf("render.File: %v\n%s", err, diag.String())
			}
			if !bytes.Equal(out.Bytes(), golden) {
				t.Errorf("output differs from batch-ok.v03.golden.xml:\n%s", out.String())
			}
			for _, name := range []string{"<Nm>Ærlig &amp; Sønn AS</Nm>", "<Nm>Ola Hansen</Nm>"} {
				if !strings.Contains(out.String(), name) {
					t.Errorf("output lacks %s", name)
				}
			}
			if !strings.Contains(diag.String(), `transliterated for a foreign payment to "Jurgen Muller GmbH"`) {
				t.Errorf("diagnostics lack the transliteration of Jürgen Müller:\n%s", diag.String())
			}
		})
	}
}
