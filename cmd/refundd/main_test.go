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

func TestValidateReplies(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "broken.xml")
	if err := os.WriteFile(broken, []byte(`<?xml version="1.0"?><Document Xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"/>`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCmd("validate", "-config", cfg,
		"../../daemon/testdata/replies/pain002.xml", "../../daemon/testdata/replies/camt054.xml", broken)
	if code != exitFailure {
		t.Errorf("exit %d; want 1", code)
	}
	for _, w := range []string{
		"replies/pain002.xml: pain.002.001.03: valid: original MsgId RFD-B2026-0042-XPJ243KZ, group ACCP, 1 payment block(s), 1 transaction(s): 1 RJCT (AC04)\n",
		"replies/camt054.xml: camt.054.001.02: valid: 7 entries (6 DBIT 100.00 EUR + 4256.00 NOK, 1 CRDT 1234.50 NOK), 7 transactions, 1 return (AC04), BOOK 6, PDNG 1\n",
		broken + ": XML: INVALID: unknown message type or version\n  " + broken + ": formats: detect: root element <Document> has no namespace",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	code, out, _ = runCmd("-h")
	if code != exitOK || !strings.Contains(out, "check batch, pain.001, pain.002, camt.054 and camt.053 files") {
		t.Errorf("usage does not name the reply files:\n%s", out)
	}
}
