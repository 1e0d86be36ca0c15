package erp

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"refundd/daemon/refund"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var (
	day  = refund.NewDate(2026, time.December, 7)
	oslo = time.FixedZone("CET", 3600)
	at   = time.Date(2026, time.December, 7, 9, 30, 0, 0, oslo)
)

func amt(minor int64, c refund.Currency) refund.Amount {
	return refund.Amount{Minor: minor, Currency: c}
}

func statusRows() []StatusRow {
	return []StatusRow{
		{RefNbr: "1001", Batch: "B1", MsgID: "RFD-B1-ABCDEFGH", EndToEndID: "CN-1001-ABCDEFGH", Status: refund.StatusAccepted, At: at},
		{RefNbr: "1002", Batch: "B1", MsgID: "RFD-B1-ABCDEFGH", EndToEndID: "CN-1002-IJKLMNOP", Status: refund.StatusRejected,
			ReasonCode: "AC04", ReasonText: "Konto avsluttet; kontakt kunden", At: at},
		{RefNbr: "1003", Batch: "B1", MsgID: "RFD-B1-ABCDEFGH", EndToEndID: "CN-1003-QRSTUVWX", Status: refund.StatusRejected,
			ReasonCode: "NARR", ReasonText: `=HYPERLINK("http://example.invalid")`, At: at},
		{RefNbr: "1004", Batch: "B1", MsgID: "RFD-B1-ABCDEFGH", EndToEndID: "CN-1004-YZ234567", Status: refund.StatusBooked,
			ReasonText: "linje 1\nlinje 2 med \"sitat\"", At: at.Add(time.Hour)},
		{RefNbr: "-5", Batch: "B2", Status: refund.StatusRejected, ReasonCode: "Amount", ReasonText: "-1 is not an amount"},
	}
}

func vouchers(t testing.TB) []refund.Voucher {
	t.Helper()
	ref := refund.Line{RefNbr: "1001", CustomerID: "K-10", Batch: "B1", EndToEndID: "CN-1001-ABCDEFGH", BankRef: "NO2026120712345"}
	line := func(acct string, debit bool, a refund.Amount, text string) refund.Line {
		l := ref
		l.Account, l.Text = acct, text
		if debit {
			l.Debit = a
		} else {
			l.Credit = a
		}
		return l
	}
	mk := func(id string, lines ...refund.Line) refund.Voucher {
		v, err := refund.NewVoucher(id, day, lines)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return []refund.Voucher{
		mk("RFD-AAAAAAAAAAAAAAAA",
			line("1500", true, amt(150000, "NOK"), "Refund 1001 paid"),
			line("1920", false, amt(150000, "NOK"), "Refund 1001 paid"),
			line("7770", true, amt(250, "NOK"), "Bank charges, refund 1001"),
			line("1920", false, amt(250, "NOK"), "Bank charges, refund 1001")),
		mk("RFD-BBBBBBBBBBBBBBBB",
			line("1920", true, amt(5, "JPY"), "+ returned; see \"AC04\""),
			line("1500", false, amt(5, "JPY"), "+ returned; see \"AC04\""),
			line("1921", true, amt(1, "KWD"), "@kwd"),
			line("1500", false, amt(1, "KWD"), "@kwd")),
	}
}

func matchRows() []MatchRow {
	return []MatchRow{
		{BookingDate: day, Amount: amt(150000, "NOK"), BankRef: "NO2026120712345", EndToEndID: "CN-1001-ABCDEFGH", RefNbr: "1001", Batch: "B1", Rule: refund.RuleEndToEndID},
		{BookingDate: day, Amount: amt(25050, "NOK"), BankRef: "NO2026120712346", EndToEndID: "CN-1002-IJKLMNOP", RefNbr: "1002", Batch: "B1", Rule: refund.RuleInstrID},
		{BookingDate: day, Amount: amt(10000, "EUR"), BankRef: "BTCH;1", EndToEndID: "CN-1010-ABCDEFGH", RefNbr: "1010", Batch: "B2", Rule: refund.RuleBatch},
		{BookingDate: day, Amount: amt(1234567, "JPY"), BankRef: "X", EndToEndID: "PY-7-ABCDEFGH", RefNbr: "7", Batch: "B3", Rule: refund.RuleAmountDateAccount},
	}
}

// outcomes are exceptions as refund.Match reports them.
func outcomes() []refund.Outcome {
	entry := refund.BankEntry{Position: "Ntfctn[1]/Ntry[3]", Account: "86011117947", Amount: amt(420000, "NOK"),
		Direction: refund.Debit, Status: refund.EntryBooked, BookingDate: day, AcctSvcrRef: "NO2026120799999"}
	return []refund.Outcome{
		{Kind: refund.KindException, Reason: refund.ReasonNoMatch, Detail: `EndToEndId "SOMEONE-ELSES": no refund refundd sent`,
			Entry: entry, Index: 0, Tx: refund.BankTx{EndToEndID: "SOMEONE-ELSES", Amount: amt(4200, "NOK")}, Booked: amt(4200, "NOK")},
		{Kind: refund.KindException, Rule: refund.RuleEndToEndID, Reason: refund.ReasonAmountDiffers, Detail: "bank 1499.00 NOK, refund 1001 1500.00 NOK",
			Entry: entry, Index: 1, Tx: refund.BankTx{EndToEndID: "CN-1001-ABCDEFGH", Amount: amt(149900, "NOK")}, Booked: amt(149900, "NOK"),
			Refund: refund.Sent{RefNbr: "1001", EndToEndID: "CN-1001-ABCDEFGH"}},
		{Kind: refund.KindException, Rule: refund.RuleAmountDateAccount, Reason: refund.ReasonAmbiguous, Detail: "2 refunds of 333.00 NOK on 2026-12-07 to account *******5151: 1008, 1009",
			Entry: entry, Index: 2, Tx: refund.BankTx{Amount: amt(33300, "NOK")}},
		{Kind: refund.KindException, Reason: refund.ReasonChargesUnmatched, Detail: "charges of an entry none of whose transactions matched",
			Entry: entry, Index: -1, Key: refund.Key{Tx: "charges"}, Charges: []refund.Charge{{Amount: amt(500, "NOK")}, {Amount: amt(250, "NOK")}}},
		{Kind: refund.KindException, Rule: refund.RuleBatch, Reason: refund.ReasonBatchTotal, Detail: "-batch RFD-B1/RFD-B1-1 totals 1849.50 NOK",
			Entry: entry, Index: -1, Booked: amt(420000, "NOK")},
	}
}

func exceptionRows() []ExceptionRow {
	var rs []ExceptionRow
	for _, o := range outcomes() {
		rs = append(rs, ExceptionRowOf("camt054-2026-12-07.xml", &o))
	}
	// A line of a status report that names no refund refundd sent.
	rs = append(rs, ExceptionRow{File: "pain002-1.xml", Position: "OrgnlPmtInfAndSts[1]/TxInfAndSts[4]", EndToEndID: "CN-9999-ZZZZZZZZ",
		Reason: string(refund.ReasonNoMatch), Detail: "status RJCT (AC01) for an EndToEndId refundd did not send"})
	return rs
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\n%s", path, got)
	}
}

// readBack parses a file written for the ERP as the ERP will.
func readBack(t *testing.T, data []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("reading back: %v", err)
	}
	return recs
}

func TestEncodeGolden(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		rows   int
		enc    func(io.Writer) error
	}{
		{"status.csv", statusHeader(), len(statusRows()), func(w io.Writer) error { return EncodeStatus(w, statusRows()) }},
		{"postings.csv", postingsHeader(), 8, func(w io.Writer) error { return EncodePostings(w, vouchers(t)) }},
		{"matches.csv", matchesHeader(), len(matchRows()), func(w io.Writer) error { return EncodeMatches(w, matchRows()) }},
		{"exceptions.csv", exceptionsHeader(), len(exceptionRows()), func(w io.Writer) error { return EncodeExceptions(w, exceptionRows()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.enc(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, b.Bytes())
			recs := readBack(t, b.Bytes())
			if !slices.Equal(recs[0], tt.header) {
				t.Errorf("header %q; want %q", recs[0], tt.header)
			}
			if len(recs)-1 != tt.rows {
				t.Errorf("%d records; want %d", len(recs)-1, tt.rows)
			}
			if bytes.HasPrefix(b.Bytes(), []byte("\xef\xbb\xbf")) {
				t.Error("file starts with a BOM")
			}
		})
	}
}

// TestEncodeHeaders pins the column names and order that the ERP's import
// expects.
func TestEncodeHeaders(t *testing.T) {
	for _, tt := range []struct {
		got  []string
		want string
	}{
		{statusHeader(), "RefNbr;Batch;MsgId;EndToEndId;Status;ReasonCode;ReasonText;At;BookingDate;BankRef;BookedAmount;BookedCurrency"},
		{vismaCSVHeader(), "BatchKey;Branch;Ledger;TransactionDate;PostPeriod;Currency;BatchDescription;LineNbr;Account;Subaccount;RefNbr;TransactionDescription;DebitAmount;CreditAmount"},
		{postingsHeader(), "Voucher;PostingDate;Account;Debit;Credit;Currency;Text;RefNbr;CustomerID;Batch;EndToEndId;BankRef"},
		{matchesHeader(), "BookingDate;Amount;Currency;BankRef;EndToEndId;RefNbr;Batch;Rule"},
	} {
		if got := strings.Join(tt.got, ";"); got != tt.want {
			t.Errorf("header %s; want %s", got, tt.want)
		}
	}
}

// TestEncodeValues reads the files back and checks the values that are
// easy to get wrong: quoting, formula neutralising, amounts, dates, times.
func TestEncodeValues(t *testing.T) {
	var b bytes.Buffer
	if err := EncodeStatus(&b, statusRows()); err != nil {
		t.Fatal(err)
	}
	st := readBack(t, b.Bytes())
	for _, c := range []struct {
		row, col int
		want     string
	}{
		{1, 7, "2026-12-07T08:30:00Z"},            // RFC 3339, UTC
		{2, 6, "Konto avsluttet; kontakt kunden"}, // a ';' survives
		{3, 6, `'=HYPERLINK("http://example.invalid")`},
		{4, 6, "linje 1\nlinje 2 med \"sitat\""}, // a line break survives
		{5, 0, "-5"},                             // an identifier is never altered
		{5, 6, "'-1 is not an amount"},           // text is
		{5, 7, ""},                               // no time
	} {
		if got := st[c.row][c.col]; got != c.want {
			t.Errorf("status row %d column %s = %q; want %q", c.row, st[0][c.col], got, c.want)
		}
	}

	b.Reset()
	if err := EncodePostings(&b, vouchers(t)); err != nil {
		t.Fatal(err)
	}
	po := readBack(t, b.Bytes())
	for _, c := range []struct {
		row, col int
		want     string
	}{
		{1, 3, "1500.00"}, {1, 4, ""}, {1, 5, "NOK"}, {1, 1, "2026-12-07"},
		{2, 3, ""}, {2, 4, "1500.00"},
		{5, 3, "5"}, {5, 5, "JPY"}, // no decimals
		{7, 3, "0.001"}, {7, 5, "KWD"}, // three
		{5, 6, `'+ returned; see "AC04"`},
		{7, 6, "'@kwd"},
	} {
		if got := po[c.row][c.col]; got != c.want {
			t.Errorf("postings row %d column %s = %q; want %q", c.row, po[0][c.col], got, c.want)
		}
	}

	rows := exceptionRows()
	for i, want := range []struct{ pos, amount, e2e, ref string }{
		{"Ntfctn[1]/Ntry[3]/TxDtls[0]", "42.00 NOK", "SOMEONE-ELSES", ""},
		{"Ntfctn[1]/Ntry[3]/TxDtls[1]", "1499.00 NOK", "CN-1001-ABCDEFGH", "1001"},
		{"Ntfctn[1]/Ntry[3]/TxDtls[2]", "333.00 NOK", "", ""},
		{"Ntfctn[1]/Ntry[3]/Chrgs", "7.50 NOK", "", ""},
		{"Ntfctn[1]/Ntry[3]", "4200.00 NOK", "", ""},
	} {
		r := rows[i]
		if r.Position != want.pos || r.Amount.String()+" "+string(r.Amount.Currency) != want.amount || r.EndToEndID != want.e2e || r.RefNbr != want.ref {
			t.Errorf("exception %d: %q %s %s %q %q; want %q %s %q %q", i, r.Position, r.Amount, r.Amount.Currency, r.EndToEndID, r.RefNbr, want.pos, want.amount, want.e2e, want.ref)
		}
		if r.BankRef != "NO2026120799999" || r.File != "camt054-2026-12-07.xml" || r.BookingDate != day || r.Direction != refund.Debit {
			t.Errorf("exception %d: %+v", i, r)
		}
	}
}

func TestStatusRowOf(t *testing.T) {
	s := refund.Sent{RefNbr: "1001", Batch: "B1", MsgID: "RFD-B1-ABCDEFGH", EndToEndID: "CN-1001-ABCDEFGH"}
	for _, tt := range []struct {
		o    refund.Outcome
		want StatusRow
		ok   bool
	}{
		{refund.Outcome{Kind: refund.KindPayment, Refund: s},
			StatusRow{RefNbr: "1001", Batch: "B1", MsgID: "RFD-B1-ABCDEFGH", EndToEndID: "CN-1001-ABCDEFGH", Status: refund.StatusBooked, At: at}, true},
		{refund.Outcome{Kind: refund.KindReturn, Refund: s, Tx: refund.BankTx{Return: &refund.ReturnInfo{Reason: "AC04", Info: "Konto lukket"}}},
			StatusRow{RefNbr: "1001", Batch: "B1", MsgID: "RFD-B1-ABCDEFGH", EndToEndID: "CN-1001-ABCDEFGH", Status: refund.StatusReturned, ReasonCode: "AC04", ReasonText: "Konto lukket", At: at}, true},
		{refund.Outcome{Kind: refund.KindReturn, Refund: s}, // returned by reversal, no RtrInf
			StatusRow{RefNbr: "1001", Batch: "B1", MsgID: "RFD-B1-ABCDEFGH", EndToEndID: "CN-1001-ABCDEFGH", Status: refund.StatusReturned, At: at}, true},
		{refund.Outcome{Kind: refund.KindCharges, Refund: s}, StatusRow{}, false},
		{refund.Outcome{Kind: refund.KindException, Refund: s}, StatusRow{}, false},
		{refund.Outcome{Kind: refund.KindNotBooked, Refund: s}, StatusRow{}, false},
	} {
		got, ok := StatusRowOf(&tt.o, at)
		if got != tt.want || ok != tt.ok {
			t.Errorf("StatusRowOf(%s) = %+v, %v; want %+v, %v", tt.o.Kind, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMatchRowOf(t *testing.T) {
	o := refund.Outcome{
		Kind: refund.KindPayment, Rule: refund.RuleBatch,
		Entry:  refund.BankEntry{BookingDate: day, EntryRef: "NTRY1"},
		Amount: amt(150000, "NOK"), Booked: amt(150250, "NOK"),
		Refund: refund.Sent{RefNbr: "1001", Batch: "B1", EndToEndID: "CN-1001-ABCDEFGH"},
	}
	want := MatchRow{BookingDate: day, Amount: amt(150000, "NOK"), BankRef: "NTRY1", EndToEndID: "CN-1001-ABCDEFGH", RefNbr: "1001", Batch: "B1", Rule: refund.RuleBatch}
	if got := MatchRowOf(&o); got != want {
		t.Errorf("MatchRowOf = %+v; want %+v", got, want)
	}
}

var nameRE = regexp.MustCompile(`^(status|postings|matches|exceptions)-\d{8}T\d{6}\.\d{9}Z-[A-Z2-7]{8}\.csv$`)

func TestWriterWrites(t *testing.T) {
	dir := t.TempDir()
	w := &Writer{Dir: dir, Now: func() time.Time { return at }}
	var names []string
	for _, write := range []func() (string, error){
		func() (string, error) { return w.WriteStatus(statusRows()) },
		func() (string, error) { return one(w.WritePostings(vouchers(t))) },
		func() (string, error) { return w.WriteMatches(matchRows()) },
		func() (string, error) { return w.WriteExceptions(exceptionRows()) },
		func() (string, error) { return w.WriteStatus(statusRows()) }, // the same again: a new file
	} {
		name, err := write()
		if err != nil {
			t.Fatal(err)
		}
		if !nameRE.MatchString(name) {
			t.Errorf("file name %q; want kind-time-id.csv", name)
		}
		names = append(names, name)
	}
	if got := names[0]; got != "status-20261207T083000.000000000Z-"+contentID(encoded(t, EncodeStatus, statusRows()))+".csv" {
		t.Errorf("first name %q", got)
	}
	// The clock stood still; the names still sort in the order written.
	if !slices.IsSortedFunc(names, func(a, b string) int { return strings.Compare(stampOf(a), stampOf(b)) }) {
		t.Errorf("names do not sort by time: %q", names)
	}
	if names[0] == names[4] {
		t.Errorf("the same rows written twice share the name %q", names[0])
	}
	// Each file holds what its golden file does.
	for _, name := range names {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, strings.Split(name, "-")[0]+".csv", got)
	}
	es, _ := os.ReadDir(dir)
	if len(es) != 5 {
		t.Errorf("%d files in the folder; want 5 (no temporary files)", len(es))
	}
}

func TestWriterEmpty(t *testing.T) {
	dir := t.TempDir()
	w := &Writer{Dir: dir}
	for _, write := range []func() (string, error){
		func() (string, error) { return w.WriteStatus(nil) },
		func() (string, error) { return one(w.WritePostings(nil)) },
		func() (string, error) { return w.WriteMatches([]MatchRow{}) },
		func() (string, error) { return w.WriteExceptions(nil) },
	} {
		if name, err := write(); name != "" || err != nil {
			t.Errorf("writing nothing = %q, %v; want no file", name, err)
		}
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("%d files written for empty lists", len(es))
	}
}

func TestWriterClockStepsBack(t *testing.T) {
	times := []time.Time{at, at.Add(-time.Hour), at.Add(time.Millisecond)}
	i := 0
	w := &Writer{Dir: t.TempDir(), Now: func() time.Time { i++; return times[i-1] }}
	var stamps []string
	for range times {
		name, err := w.WriteStatus(statusRows())
		if err != nil {
			t.Fatal(err)
		}
		stamps = append(stamps, stampOf(name))
	}
	want := []string{"20261207T083000.000000000Z", "20261207T083000.000000001Z", "20261207T083000.001000000Z"}
	if !slices.Equal(stamps, want) {
		t.Errorf("stamps %q; want %q", stamps, want)
	}
}

func TestWriterConcurrent(t *testing.T) {
	dir := t.TempDir()
	w := &Writer{Dir: dir, Now: func() time.Time { return at }}
	var wg sync.WaitGroup
	names := make([]string, 20)
	errs := make([]error, 20)
	for i := range names {
		wg.Go(func() { names[i], errs[i] = w.WriteStatus(statusRows()) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	if len(slices.Compact(names)) != 20 {
		t.Errorf("concurrent writes share names")
	}
}

func TestWriterError(t *testing.T) {
	w := &Writer{Dir: filepath.Join(t.TempDir(), "missing")}
	name, err := w.WriteMatches(matchRows())
	if !errors.Is(err, fs.ErrNotExist) || name != "" {
		t.Errorf("writing into a missing folder = %q, %v; want fs.ErrNotExist", name, err)
	}
	if err != nil && !strings.HasPrefix(err.Error(), "write ") {
		t.Errorf("error %q does not say what it did", err)
	}
}

// stampOf returns the time part of a file name.
func stampOf(name string) string { return strings.Split(name, "-")[1] }

// encoded returns what enc writes for rows.
func encoded[R any](t *testing.T, enc func(io.Writer, []R) error, rows []R) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := enc(&b, rows); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestWriterOnce: the same postings, matches or exceptions again (a reply
// processed a second time after a crash) name the file written before and
// write no second one; once that file is gone, they are written again.
// Status files are written each time.
func TestWriterOnce(t *testing.T) {
	for _, tc := range []struct {
		kind  string
		write func(w *Writer) (string, error)
		once  bool
	}{
		{KindPostings, func(w *Writer) (string, error) { return one(w.WritePostings(vouchers(t))) }, true},
		{KindMatches, func(w *Writer) (string, error) { return w.WriteMatches(matchRows()) }, true},
		{KindExceptions, func(w *Writer) (string, error) { return w.WriteExceptions(exceptionRows()) }, true},
		{KindStatus, func(w *Writer) (string, error) { return w.WriteStatus(statusRows()) }, false},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			dir := t.TempDir()
			w := &Writer{Dir: dir, Now: func() time.Time { return at }}
			first, err := tc.write(w)
			if err != nil {
				t.Fatal(err)
			}
			again, err := tc.write(w)
			if err != nil {
				t.Fatal(err)
			}
			es, _ := os.ReadDir(dir)
			if !tc.once {
				if again == first || len(es) != 2 {
					t.Errorf("second write named %s (first %s), %d files: want a second file", again, first, len(es))
				}
				return
			}
			if again != first {
				t.Errorf("second write named %s, want %s", again, first)
			}
			if len(es) != 1 {
				t.Errorf("%d files in the folder, want 1", len(es))
			}
			if err := os.Remove(filepath.Join(dir, first)); err != nil {
				t.Fatal(err)
			}
			third, err := tc.write(w)
			if err != nil || third == "" || third == first {
				t.Errorf("after the ERP took the file: %q, %v", third, err)
			}
		})
	}
}

// one returns the one name of a single-file write, "" for none.
func one(names []string, err error) (string, error) {
	switch {
	case err != nil:
		return "", err
	case len(names) > 1:
		return "", fmt.Errorf("%d files written: %v", len(names), names)
	case len(names) == 1:
		return names[0], nil
	}
	return "", nil
}

// TestStatusRowOfBooking: the status line of a booked refund carries the
// bank's booking: date, reference, and the amount in our account's
// currency, also for a refund paid in another currency (the release in
// the ERP takes the bank's rate from it).
func TestStatusRowOfBooking(t *testing.T) {
	o := refund.Outcome{Kind: refund.KindPayment, Amount: amt(115000, "NOK"),
		Refund: refund.Sent{RefNbr: "1012", EndToEndID: "CN-1012-E2E", Amount: amt(10000, "EUR")}}
	o.Entry.BookingDate, o.Entry.AcctSvcrRef = day, "BANKREF1"
	row, ok := StatusRowOf(&o, at)
	if !ok || row.Status != refund.StatusBooked || row.BookingDate != day || row.BankRef != "BANKREF1" || row.Booked != amt(115000, "NOK") {
		t.Errorf("row %+v, %v; want booked on %v, BANKREF1, NOK 1150.00", row, ok, day)
	}
}
