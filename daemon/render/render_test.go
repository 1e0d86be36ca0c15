package render_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"refundd/daemon/render"
	"refundd/daemon/validate"

	"refundd/internal/testutil"

	"refundd/formats/xsdtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// now is the fixed clock of the render tests: Tuesday 1 December 2026.
var now = testutil.Now()

func TestRenderGolden(t *testing.T) {
	for _, tc := range []struct {
		version, batch, golden, xsd string
	}{
		{"001.001.03", "../testdata/batch-ok.csv", "../testdata/batch-ok.v03.golden.xml", "pain.001.001.03.xsd"},
		{"001.001.09", "../testdata/batch-ok.csv", "../testdata/batch-ok.v09.golden.xml", "pain.001.001.09.xsd"},
		// The JSON export of the same batch renders the same bytes.
		{"001.001.03", "../testdata/batch-ok.json", "../testdata/batch-ok.v03.golden.xml", "pain.001.001.03.xsd"},
	} {
		t.Run(tc.version+"/"+filepath.Base(tc.batch), func(t *testing.T) {
			c := testutil.Config(t, tc.version)
			var out, diag bytes.Buffer
			if err := render.File(c, tc.batch, now, &out, &diag); err != nil {
				t.Fatalf("%v\n%s", err, diag.String())
			}
			if *update && strings.HasSuffix(tc.batch, ".csv") {
				if err := os.WriteFile(tc.golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(tc.golden)
			if err != nil {
				t.Fatalf("%v (go test -update creates it)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("output differs from %s:\n%s", tc.golden, out.String())
			}
			// The warnings name line (or index) and field.
			for _, w := range []string{
				":3: PaymentDate: warning: 2026-12-05 is a Saturday; moved to the next banking day 2026-12-07",
				":4: CustomerName: warning: transliterated for a foreign payment to \"Jurgen Muller GmbH\"",
				":6: PaymentDate: warning: 2026-11-20 is in the past; moved to the next banking day 2026-12-01",
			} {
				if strings.HasSuffix(tc.batch, ".json") {
					continue
				}
				if !strings.Contains(diag.String(), w) {
					t.Errorf("diagnostics lack %q:\n%s", w, diag.String())
				}
			}
			xsdtest.Validate(t, xsdtest.Schema(t, tc.xsd), tc.golden)
			r, err := validate.File(c, tc.golden, now)
			if err != nil || r.Invalid {
				t.Errorf("validate golden: %v %+v", err, r)
			}
		})
	}
}

// TestRenderDeterministic: the same batch renders the same bytes, and a
// different clock changes only CreDtTm.
func TestRenderDeterministic(t *testing.T) {
	c := testutil.Config(t, "")
	renderAt := func(at time.Time) string {
		var out bytes.Buffer
		if err := render.File(c, "../testdata/batch-ok.csv", at, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	a, b := renderAt(now), renderAt(now)
	if a != b {
		t.Fatal("two renders of the same batch differ")
	}
	later := renderAt(now.Add(time.Hour))
	if strings.Replace(later, "2026-12-01T11:00:00+01:00", "2026-12-01T10:00:00+01:00", 1) != a {
		t.Error("a later clock changed more than CreDtTm")
	}
}

// TestERPRules: every rule violation of the ERP guide is reported, each
// naming file, line and field, all in one run, and nothing is rendered.
func TestERPRules(t *testing.T) {
	c := testutil.Config(t, "")
	const header = "Batch;DocType;RefNbr;CustomerID;CustomerName;PaymentMethod;AccountType;Account;BIC;Country;Amount;Currency;PaymentDate;CustomerOrderNbr;PaymentRef\n"
	rows := []struct{ row, want string }{
		{"B1;CreditNote;R1;C1;Kari;AUTOPAY;BBAN;86011117947;;;10;;2026-12-02;;", "bad.csv:2: CustomerOrderNbr: required for a credit note"},
		{"B1;Prepayment;R2;C1;Kari;AUTOPAY;BBAN;86011117947;;;10;;2026-12-02;;", "bad.csv:3: PaymentRef: required for a prepayment"},
		{"B1;Payment;R3;C1;Kari;NOSUCH;BBAN;86011117947;;;10;;2026-12-02;;X1", "bad.csv:4: PaymentMethod: \"NOSUCH\" is not a configured payment method"},
		{"B1;Payment;R4;C1;Kari;MANUAL;BBAN;86011117947;;;10;;2026-12-02;;X1", "bad.csv:5: PaymentMethod: \"MANUAL\" does not have batch payment enabled"},
		{"B1;Payment;R5;C1;Kari;DOMESTIC;IBAN;NO9386011117947;;;10;;2026-12-02;;X1", "bad.csv:6: AccountType: IBAN is not allowed by payment method \"DOMESTIC\""},
		{"B1;Payment;R6;C1;Kari;AUTOPAY;BBAN;NO9386011117947;;;10;;2026-12-02;;X1", "bad.csv:7: Account: \"NO9386011117947\" is an IBAN but AccountType is BBAN"},
		{"B1;Payment;R7;C1;Kari;AUTOPAY;BBAN;86011117948;;;10;;2026-12-02;;X1", "bad.csv:8: Account: \"86011117948\": check digit does not match"},
		{"B1;Payment;R8;C1;Kari;AUTOPAY;IBAN;NO9386011117948;;;10;;2026-12-02;;X1", "bad.csv:9: Account: \"NO9386011117948\": check digit does not match"},
		{"B1;Payment;R9;C1;Kari;AUTOPAY;BBAN;86011117947;;;1,234.50;;2026-12-02;;X1", "bad.csv:10: Amount: \"1,234.50\": ambiguous separators"},
		{"B1;Payment;R10;C1;Kari;AUTOPAY;BBAN;86011117947;;;10;;2026-12-02;;" + strings.Repeat("x", 140), "bad.csv:11: PaymentRef: payment message"},
		{"B1;Payment;R11;C1;Kari 😀;AUTOPAY;BBAN;86011117947;;;10;;2026-12-02;;X1", "bad.csv:12: CustomerName: character '😀' at position 6 is not allowed"},
		{"B1;Payment;R12;C1;Kari;AUTOPAY;IBAN;GB82WEST12345698765432;;GB;10;USD;2026-12-02;;X1", ""},
		{"B1;Payment;R13;C1;Kari;AUTOPAY;IBAN;BR1800360305000010009795493C1;;BR;10;USD;2026-12-02;;X1", "bad.csv:14: BIC: required for an IBAN outside the SEPA area"},
	}
	var b strings.Builder
	b.WriteString(header)
	for _, r := range rows {
		b.WriteString(r.row + "\n")
	}
	path := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, diag bytes.Buffer
	err := render.File(c, path, now, &out, &diag)
	if err == nil {
		t.Fatal("got nil; want an error")
	}
	if out.Len() != 0 {
		t.Errorf("stdout got %d bytes; want none", out.Len())
	}
	for _, r := range rows {
		if r.want == "" {
			continue
		}
		want := filepath.Join(filepath.Dir(path), r.want)
		if !strings.Contains(diag.String(), want) {
			t.Errorf("diagnostics lack %q", want)
		}
	}
	if !strings.Contains(diag.String(), "12 problem(s); nothing rendered") {
		t.Errorf("diagnostics do not count 12 problems:\n%s", diag.String())
	}
}

// TestRandomBatches renders random valid batches and checks each against
// the XSD, the totals computed here, and the pain.001 checks of validate.
func TestRandomBatches(t *testing.T) {
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(1, seed))
	var files []string
	for _, version := range []string{"001.001.03", "001.001.09"} {
		c := testutil.Config(t, version)
		for i := range 10 {
			csv, n, sums := randomBatch(rng, fmt.Sprintf("RB-%d", i), 1+rng.IntN(60))
			in := filepath.Join(dir, fmt.Sprintf("batch-%s-%d.csv", version, i))
			if err := os.WriteFile(in, []byte(csv), 0o644); err != nil {
				t.Fatal(err)
			}
			var out, diag bytes.Buffer
			if err := render.File(c, in, now, &out, &diag); err != nil {
				t.Fatalf("%s: %v\n%s\n%s", in, err, diag.String(), csv)
			}
			xml := strings.TrimSuffix(in, ".csv") + ".xml"
			if err := os.WriteFile(xml, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := validate.File(c, xml, now)
			if err != nil || r.Invalid {
				t.Fatalf("validate %s: %v %+v", xml, err, r)
			}
			if !strings.Contains(r.Summary, fmt.Sprintf(" %d transactions", n)) {
				t.Errorf("%s: summary %q; want %d transactions", xml, r.Summary, n)
			}
			for cur, sum := range sums {
				if !strings.Contains(out.String(), fmt.Sprintf("<InstdAmt Ccy=\"%s\">", cur)) || sum <= 0 {
					t.Errorf("%s: no %s transactions", xml, cur)
				}
			}
			if version == "001.001.03" {
				files = append(files, xml)
			} else {
				xsdtest.Validate(t, xsdtest.Schema(t, "pain.001.001.09.xsd"), xml)
			}
		}
	}
	xsdtest.Validate(t, xsdtest.Schema(t, "pain.001.001.03.xsd"), files...)
}

// randomBatch returns a valid CSV batch of n refunds with awkward but
// allowed names and messages, and the sum per currency in minor units.
func randomBatch(rng *rand.Rand, batch string, n int) (string, int, map[string]int64) {
	bbans := []string{"86011117947", "1234.56.78903", "1503 12 34562", "97100000001", "30001234567"}
	type foreign struct{ iban, country, cur, method string }
	foreigns := []foreign{
		{"DE89 3704 0044 0532 0130 00", "DE", "EUR", "AUTOPAYEUR"},
		{"SE4550000000058398257466", "SE", "SEK", "AUTOPAY"},
		{"dk5000400440116243", "DK", "DKK", "AUTOPAY"},
		{"NO9386011117947", "NO", "NOK", "AUTOPAY"},
	}
	nameChars := []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ æøåÆØÅéüß&")
	text := func(max int) string {
		k := 1 + rng.IntN(max)
		r := make([]rune, k)
		for i := range r {
			r[i] = nameChars[rng.IntN(len(nameChars))]
		}
		s := strings.TrimSpace(string(r))
		if s == "" {
			s = "x"
		}
		return s
	}
	sums := map[string]int64{}
	var b strings.Builder
	b.WriteString("batch;doctype;refnbr;customerid;customername;paymentmethod;accounttype;account;bic;country;amount;currency;paymentdate;customerordernbr;paymentref\n")
	for i := range n {
		doc := []string{"CreditNote", "Kreditnota", "Prepayment", "Betaling"}[rng.IntN(4)]
		minor := 1 + rng.Int64N(10_000_000)
		cur, country, method, typ, acct := "NOK", "", "AUTOPAY", "BBAN", bbans[rng.IntN(len(bbans))]
		if rng.IntN(3) == 0 {
			f := foreigns[rng.IntN(len(foreigns))]
			cur, country, method, typ, acct = f.cur, f.country, f.method, "IBAN", f.iban
		}
		amount := fmt.Sprintf("%d,%02d", minor/100, minor%100)
		if rng.IntN(2) == 0 {
			amount = fmt.Sprintf("%d.%02d", minor/100, minor%100)
		}
		sums[cur] += minor
		date := now.AddDate(0, 0, rng.IntN(40)-5).Format("2006-01-02")
		ref := text(40)
		order, pref := ref, ""
		if doc == "Prepayment" || doc == "Betaling" {
			order, pref = "", ref
		}
		fmt.Fprintf(&b, "%s;%s;R%d-%d;C%d;%s;%s;%s;%s;;%s;%s;%s;%s;%s;%s\n",
			batch, doc, i, rng.IntN(1000), i, quote(text(60)), method, typ, acct, country, amount, cur, date, quote(order), quote(pref))
	}
	return b.String(), n, sums
}

func quote(s string) string {
	if strings.ContainsAny(s, ";\"") {
		return "\"" + strings.ReplaceAll(s, "\"", "\"\"") + "\""
	}
	return s
}

// TestRenderFromPlan: Render writes the document of the bytes that
// planning checked, without opening the batch file again, so a file that
// changes after planning cannot put unchecked refunds into the document.
func TestRenderFromPlan(t *testing.T) {
	c := testutil.Config(t, "")
	orig, err := os.ReadFile("../testdata/batch-ok.csv")
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := render.File(c, "../testdata/batch-ok.csv", now, &want, io.Discard); err != nil {
		t.Fatal(err)
	}
	changed := bytes.Replace(orig, []byte("1 234,50"), []byte("9 234,50"), 1)
	calls := 0
	open := func() (io.ReadCloser, error) {
		calls++
		if calls > 1 {
			return io.NopCloser(bytes.NewReader(changed)), nil
		}
		return io.NopCloser(bytes.NewReader(orig)), nil
	}
	p, err := render.Batch(c, "../testdata/batch-ok.csv", open, now)
	if err != nil || !p.Valid() {
		t.Fatalf("plan: %v %v", err, p.Problems)
	}
	var got bytes.Buffer
	if err := p.Render(&got); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("the batch file was opened %d times; want once", calls)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("Render differs from render.File:\n%s", got.String())
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Render(io.Discard); !errors.Is(err, render.ErrClosed) {
		t.Errorf("Render after Close: %v; want render.ErrClosed", err)
	}
}

// failWriter fails the test at the first byte written to it.
type failWriter struct{ t *testing.T }

func (w failWriter) Write(b []byte) (int, error) {
	w.t.Errorf("%d bytes written for an invalid batch: %.60q", len(b), b)
	return len(b), nil
}

// TestRenderInvalidWritesNothing: a batch whose only error is in its last
// line, after thousands of valid refunds (more than any buffer holds),
// writes not one byte to the destination, also with send-valid when the
// error is one of the whole batch; the problem is reported.
func TestRenderInvalidWritesNothing(t *testing.T) {
	const header = "Batch;DocType;RefNbr;CustomerID;CustomerName;PaymentMethod;AccountType;Account;BIC;Country;Amount;Currency;PaymentDate;CustomerOrderNbr;PaymentRef\n"
	var b strings.Builder
	b.WriteString(header)
	for i := range 5000 {
		fmt.Fprintf(&b, "B1;CreditNote;R%d;C%d;Kari Nordmann;AUTOPAY;BBAN;86011117947;;;%d,00;;2026-12-0%d;SO-%d;\n", i, i, 1+i, 2+i%3, i)
	}
	for _, tc := range []struct{ name, last, onInvalid, want string }{
		{"bad account", "B1;CreditNote;RX;C1;Kari;AUTOPAY;BBAN;86011117948;;;10,00;;2026-12-02;SO-X;\n", "", ":5002: Account:"},
		{"RefNbr twice", "B1;CreditNote;R7;C1;Kari;AUTOPAY;BBAN;86011117947;;;10,00;;2026-12-02;SO-X;\n", "send-valid", ":5002: RefNbr: \"R7\" repeats the RefNbr of line 9"},
		{"another batch", "B2;CreditNote;RY;C1;Kari;AUTOPAY;BBAN;86011117947;;;10,00;;2026-12-02;SO-Y;\n", "send-valid", ":5002: Batch:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testutil.Config(t, "")
			c.Batches.OnInvalid = tc.onInvalid
			path := filepath.Join(t.TempDir(), "late.csv")
			if err := os.WriteFile(path, []byte(b.String()+tc.last), 0o644); err != nil {
				t.Fatal(err)
			}
			var diag bytes.Buffer
			err := render.File(c, path, now, failWriter{t}, &diag)
			if !errors.Is(err, render.ErrInvalidBatch) {
				t.Errorf("got %v; want render.ErrInvalidBatch", err)
			}
			if !strings.Contains(diag.String(), tc.want) {
				t.Errorf("diagnostics lack %q:\n%s", tc.want, diag.String())
			}
		})
	}
}
