package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const cfg = "../../daemon/testdata/refundd.yaml"

func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRender(t *testing.T) {
	code, out, errs := runCmd("render", "-config", cfg, "-now", "2026-12-01T09:00:00", "../../daemon/testdata/batch-ok.csv")
	if code != exitOK {
		t.Fatalf("exit %d; want 0\n%s", code, errs)
	}
	want, err := os.ReadFile("../../daemon/testdata/batch-ok.v03.golden.xml")
	if err != nil {
		t.Fatal(err)
	}
	// -now is local time in Oslo: 09:00 there is 08:00 UTC; the golden
	// file was made at 09:00 UTC.
	out = strings.Replace(out, "2026-12-01T09:00:00+01:00", "2026-12-01T10:00:00+01:00", 1)
	if out != string(want) {
		t.Errorf("stdout differs from the golden file:\n%s", out)
	}
	if !strings.Contains(errs, "warning:") {
		t.Errorf("stderr has no warnings:\n%s", errs)
	}
}

func TestRenderInvalid(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	src := "Batch;DocType;RefNbr;CustomerID;CustomerName;PaymentMethod;AccountType;Account;Amount;PaymentDate\n" +
		"B1;CreditNote;R1;C1;Kari;AUTOPAY;BBAN;86011117947;10;2026-12-02\n" +
		"B1;Payment;R2;C1;Kari;AUTOPAY;BBAN;86011117948;0;2026-12-02\n"
	if err := os.WriteFile(bad, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd("render", "-config", cfg, bad)
	if code != exitFailure {
		t.Errorf("exit %d; want 1", code)
	}
	if out != "" {
		t.Errorf("stdout got %q; want nothing", out)
	}
	for _, w := range []string{
		bad + ":2: CustomerOrderNbr: required for a credit note",
		bad + ":3: PaymentRef: required for a payment",
		bad + ":3: Account: \"86011117948\": check digit does not match",
		bad + ":3: Amount: \"0\": must be greater than zero",
		"4 problem(s); nothing rendered",
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errs)
		}
	}
}

func TestValidate(t *testing.T) {
	code, out, _ := runCmd("validate", "-config", cfg, "-now", "2026-12-01T09:00:00",
		"../../daemon/testdata/batch-ok.csv", "../../daemon/testdata/batch-ok.v03.golden.xml", "../../daemon/testdata/batch-ok.v09.golden.xml")
	if code != exitOK {
		t.Fatalf("exit %d; want 0\n%s", code, out)
	}
	for _, w := range []string{
		"batch-ok.csv: refund batch (CSV): valid: batch B2026-0042, 5 refunds",
		"batch-ok.v03.golden.xml: pain.001.001.03: valid: MsgId RFD-B2026-0042-",
		"batch-ok.v09.golden.xml: pain.001.001.09: valid:",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}

	// A pain.001 whose control sum and an account were tampered with.
	golden, err := os.ReadFile("../../daemon/testdata/batch-ok.v03.golden.xml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(golden), "<InstdAmt Ccy=\"NOK\">99.00</InstdAmt>", "<InstdAmt Ccy=\"NOK\">98.00</InstdAmt>", 1)
	bad = strings.Replace(bad, "<Id>15031234562</Id>", "<Id>15031234563</Id>", 1)
	if bad == string(golden) {
		t.Fatal("tampering changed nothing")
	}
	path := filepath.Join(t.TempDir(), "tampered.xml")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCmd("validate", "-config", cfg, path)
	if code != exitFailure {
		t.Errorf("exit %d; want 1", code)
	}
	for _, w := range []string{"INVALID", "GrpHdr/CtrlSum: declares", "PmtInf/CtrlSum: declares", "CdtrAcct/Id/Othr/Id: \"15031234563\": check digit does not match"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}, {"render"}, {"render", "-config"}, {"validate", "-config", cfg}} {
		if code, _, _ := runCmd(args...); code != exitUsage {
			t.Errorf("%q: exit %d; want 2", args, code)
		}
	}
	if code, _, errs := runCmd("render", "-config", "/nonexistent.yaml", "x.csv"); code != exitFailure || !strings.Contains(errs, "nonexistent.yaml") {
		t.Errorf("missing config: exit %d, %q", code, errs)
	}
}
