package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateBankingDays: validate names the next banking days from the
// time given, by the configured calendar.
func TestValidateBankingDays(t *testing.T) {
	base, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	closed := filepath.Join(t.TempDir(), "refundd.yaml")
	if err := os.WriteFile(closed, append(base, "calendar: {closed: [\"2026-12-02\", \"2026-12-31\"]}\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, config, now, want string
	}{
		{"built-in", cfg, "2026-12-01T09:00:00", "next banking days: Tue 2026-12-01, Wed 2026-12-02, Thu 2026-12-03\n"},
		{"late evening in Oslo", cfg, "2026-12-04T23:30:00Z", "next banking days: Mon 2026-12-07, Tue 2026-12-08, Wed 2026-12-09\n"},
		{"closed days", closed, "2026-12-01T09:00:00",
			"next banking days: Tue 2026-12-01, Thu 2026-12-03, Fri 2026-12-04 (closed by configuration: 2026-12-02, 2026-12-31)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCmd("validate", "-config", tc.config, "-now", tc.now, "../../daemon/testdata/batch-ok.csv")
			if code != exitOK {
				t.Fatalf("exit %d; want 0\n%s%s", code, out, errs)
			}
			if !strings.HasPrefix(out, tc.want) {
				t.Errorf("output does not begin with %q:\n%s", tc.want, out)
			}
		})
	}
}
