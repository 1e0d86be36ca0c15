package validate

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"refundd/daemon/config"
	"refundd/internal/testutil"
)

// TestValidateReplySizeLimit: validate checks a reply against
// limits.max_reply_size of the configuration, the default without one; a
// larger reply is invalid, with its size, the limit and the key.
func TestValidateReplySizeLimit(t *testing.T) {
	c := testutil.Config(t, "")
	_, sent := testutil.Sent(t, c)
	camt := testutil.Notification(t, sent, "")
	path := filepath.Join(t.TempDir(), "camt.xml")
	if err := os.WriteFile(path, camt, 0o644); err != nil {
		t.Fatal(err)
	}
	withLimit := func(limit string) *config.Config {
		data, err := os.ReadFile(testutil.Testdata("refundd.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, "limits: {max_reply_size: "+limit+"}\n"...)
		lc, err := config.Parse(bytes.NewReader(data), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return lc
	}
	size := strconv.Itoa(len(camt))
	for _, tc := range []struct {
		name    string
		cfg     *config.Config
		invalid bool
	}{
		{"default", c, false},
		{"no configuration", nil, false},
		{"at the limit", withLimit(size), false},
		{"over the limit", withLimit(strconv.Itoa(len(camt) - 1)), true},
		{"1KiB", withLimit("1KiB"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := File(tc.cfg, path, now)
			if err != nil {
				t.Fatal(err)
			}
			if r.Invalid != tc.invalid || r.Kind != "camt.054.001.02" {
				t.Fatalf("%s invalid %v, %q %q; want invalid %v", r.Kind, r.Invalid, r.Summary, r.Problems, tc.invalid)
			}
			if !tc.invalid {
				return
			}
			if r.Summary != "document too large" || len(r.Problems) != 1 {
				t.Fatalf("summary %q, problems %q", r.Summary, r.Problems)
			}
			for _, w := range []string{path + ": document too large: camt.xml has " + size + " bytes", "limits.max_reply_size"} {
				if !strings.Contains(r.Problems[0], w) {
					t.Errorf("problem %q lacks %q", r.Problems[0], w)
				}
			}
		})
	}
}
