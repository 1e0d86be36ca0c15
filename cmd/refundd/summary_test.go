package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRepeatedWarningsSummarised: a batch of 2,000 refunds, all dated in
// the past, gets one line for the 2,000 identical warnings from validate and
// render, while a warning that occurs once keeps its own line.
func TestRepeatedWarningsSummarised(t *testing.T) {
	const n = 2000
	var b strings.Builder
	b.WriteString("Batch;DocType;RefNbr;CustomerID;CustomerName;PaymentMethod;AccountType;Account;BIC;Country;Amount;Currency;PaymentDate;CustomerOrderNbr;PaymentRef\n")
	for i := range n {
		date := "2026-11-20"
		if i == n-1 {
			date = "2026-11-19"
		}
		fmt.Fprintf(&b, "B2026-0042;CreditNote;CN%05d;C1005;Ola Hansen;DOMESTIC;BBAN;15031234562;;;10;;%s;SO-5002;\n", i, date)
	}
	path := filepath.Join(t.TempDir(), "batch.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	want := []string{
		path + ": 1,999 refunds: PaymentDate: warning: 2026-11-20 is in the past; moved to the next banking day 2026-12-01 (lines 2, 3, 4, 5, 6 …)",
		fmt.Sprintf("%s:%d: PaymentDate: warning: 2026-11-19 is in the past; moved to the next banking day 2026-12-01", path, n+1),
	}

	code, out, errs := runCmd("validate", "-config", cfg, "-now", "2026-12-01T09:00:00", path)
	if code != exitOK {
		t.Fatalf("validate: exit %d; want 0\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, fmt.Sprintf(": valid: batch B2026-0042, %d refunds", n)) {
		t.Errorf("validate gives no verdict:\n%s", out)
	}
	var problems []string // the problem lines, indented under the verdict
	for l := range strings.Lines(out) {
		if p, ok := strings.CutPrefix(l, "  "); ok {
			problems = append(problems, strings.TrimSuffix(p, "\n"))
		}
	}
	if !slices.Equal(problems, want) {
		t.Errorf("validate problems:\n%s\nwant\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}

	code, _, errs = runCmd("render", "-config", cfg, "-now", "2026-12-01T09:00:00", path)
	if code != exitOK {
		t.Fatalf("render: exit %d; want 0\n%s", code, errs)
	}
	if got, w := errs, strings.Join(want, "\n")+"\n"; got != w {
		t.Errorf("render stderr:\n%s\nwant\n%s", got, w)
	}
}
