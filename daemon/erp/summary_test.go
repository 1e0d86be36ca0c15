package erp

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSummarise(t *testing.T) {
	const past = "2026-12-02 is in the past; moved to the next banking day 2026-12-07"
	// csvWarn and jsonWarn are warnings of the refund on line n or at index n.
	csvWarn := func(n int, field, msg string) Problem {
		return Problem{Pos: Pos{File: "b.csv", Line: n}, Field: field, Msg: msg, Warning: true}
	}
	jsonWarn := func(n int, field, msg string) Problem {
		return Problem{Pos: Pos{File: "b.json", Index: n, JSON: true}, Field: field, Msg: msg, Warning: true}
	}
	csvErr := func(n int, field, msg string) Problem {
		return Problem{Pos: Pos{File: "b.csv", Line: n}, Field: field, Msg: msg}
	}
	// pastFrom returns the past-date warning for n refunds from line 2.
	pastFrom := func(n int) []Problem {
		ps := make([]Problem, n)
		for i := range ps {
			ps[i] = csvWarn(i+2, "PaymentDate", past)
		}
		return ps
	}
	// distinct returns n warnings of different texts from line 2.
	distinct := func(n int) []Problem {
		ps := make([]Problem, n)
		for i := range ps {
			ps[i] = csvWarn(i+2, "CustomerName", fmt.Sprintf("transliterated to \"Name %d\"", i))
		}
		return ps
	}

	tests := []struct {
		name string
		ps   []Problem
		want []string
	}{
		{"none", nil, nil},
		{
			"single warning as today",
			[]Problem{csvWarn(6, "PaymentDate", past)},
			[]string{"b.csv:6: PaymentDate: warning: " + past},
		},
		{
			"three identical",
			pastFrom(3),
			[]string{"b.csv: 3 refunds: PaymentDate: warning: " + past + " (lines 2, 3, 4)"},
		},
		{
			"five identical list all",
			pastFrom(5),
			[]string{"b.csv: 5 refunds: PaymentDate: warning: " + past + " (lines 2, 3, 4, 5, 6)"},
		},
		{
			"six identical list five",
			pastFrom(6),
			[]string{"b.csv: 6 refunds: PaymentDate: warning: " + past + " (lines 2, 3, 4, 5, 6 …)"},
		},
		{
			"100,000 identical",
			pastFrom(100_000),
			[]string{"b.csv: 100,000 refunds: PaymentDate: warning: " + past + " (lines 2, 3, 4, 5, 6 …)"},
		},
		{
			"same text in two fields",
			[]Problem{
				csvWarn(2, "PaymentRef", "transliterated"), csvWarn(2, "CustomerName", "transliterated"),
				csvWarn(3, "CustomerName", "transliterated"), csvWarn(3, "PaymentRef", "transliterated"),
			},
			[]string{
				"b.csv: 2 refunds: PaymentRef: warning: transliterated (lines 2, 3)",
				"b.csv: 2 refunds: CustomerName: warning: transliterated (lines 2, 3)",
			},
		},
		{
			"different texts",
			distinct(3),
			[]string{
				`b.csv:2: CustomerName: warning: transliterated to "Name 0"`,
				`b.csv:3: CustomerName: warning: transliterated to "Name 1"`,
				`b.csv:4: CustomerName: warning: transliterated to "Name 2"`,
			},
		},
		{
			"same text in two files",
			[]Problem{
				csvWarn(2, "PaymentDate", past), csvWarn(3, "PaymentDate", past),
				{Pos: Pos{File: "c.csv", Line: 2}, Field: "PaymentDate", Msg: past, Warning: true},
			},
			[]string{
				"b.csv: 2 refunds: PaymentDate: warning: " + past + " (lines 2, 3)",
				"c.csv:2: PaymentDate: warning: " + past,
			},
		},
		{
			"errors keep file order and are not grouped",
			[]Problem{
				csvErr(2, "Amount", "required"),
				csvWarn(2, "PaymentDate", past),
				csvErr(3, "Amount", "required"),
				csvWarn(3, "PaymentDate", past),
				csvWarn(4, "PaymentDate", past),
				csvErr(4, "Account", "check digit does not match"),
				csvErr(5, "Amount", "required"),
			},
			[]string{
				"b.csv:2: Amount: required",
				"b.csv: 3 refunds: PaymentDate: warning: " + past + " (lines 2, 3, 4)",
				"b.csv:3: Amount: required",
				"b.csv:4: Account: check digit does not match",
				"b.csv:5: Amount: required",
			},
		},
		{
			"group at its first warning",
			[]Problem{
				csvWarn(2, "CustomerName", "a"),
				csvWarn(3, "PaymentDate", past),
				csvWarn(4, "CustomerName", "b"),
				csvWarn(5, "PaymentDate", past),
			},
			[]string{
				"b.csv:2: CustomerName: warning: a",
				"b.csv: 2 refunds: PaymentDate: warning: " + past + " (lines 3, 5)",
				"b.csv:4: CustomerName: warning: b",
			},
		},
		{
			"JSON positions and field names",
			[]Problem{
				jsonWarn(0, "PaymentDate", past), jsonWarn(1, "PaymentDate", past),
				jsonWarn(2, "PaymentDate", past), jsonWarn(7, "CustomerName", "x"),
			},
			[]string{
				"b.json: 3 refunds: paymentDate: warning: " + past + " (refunds[0], refunds[1], refunds[2])",
				"b.json:refunds[7]: customerName: warning: x",
			},
		},
		{
			"JSON beyond five",
			[]Problem{
				jsonWarn(0, "", "m"), jsonWarn(1, "", "m"), jsonWarn(2, "", "m"),
				jsonWarn(3, "", "m"), jsonWarn(4, "", "m"), jsonWarn(5, "", "m"),
			},
			[]string{"b.json: 6 refunds: warning: m (refunds[0], refunds[1], refunds[2], refunds[3], refunds[4] …)"},
		},
		{
			"warning without a field",
			[]Problem{csvWarn(2, "", "m"), csvWarn(3, "", "m")},
			[]string{"b.csv: 2 refunds: warning: m (lines 2, 3)"},
		},
		{
			"warnings of the file as a whole are not grouped",
			[]Problem{
				{Pos: Pos{File: "b.csv"}, Msg: "m", Warning: true},
				{Pos: Pos{File: "b.csv"}, Msg: "m", Warning: true},
				{Pos: Pos{File: "b.json", Index: -1, JSON: true, Line: 3}, Msg: "m", Warning: true},
				{Pos: Pos{File: "b.json", Index: -1, JSON: true, Line: 3}, Msg: "m", Warning: true},
			},
			[]string{"b.csv: warning: m", "b.csv: warning: m", "b.json:line 3: warning: m", "b.json:line 3: warning: m"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := lines(Summarise(tc.ps))
			if !slices.Equal(got, tc.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			// A second range gives the same lines.
			if again := lines(Summarise(tc.ps)); !slices.Equal(again, got) {
				t.Errorf("second range got\n%s", strings.Join(again, "\n"))
			}
		})
	}
}

// TestSummariseCap: once maxGroups distinct warnings are known, a new text
// is reported on every line it occurs, while the known ones still group.
func TestSummariseCap(t *testing.T) {
	var ps []Problem
	warn := func(line int, msg string) {
		ps = append(ps, Problem{Pos: Pos{File: "b.csv", Line: line}, Field: "CustomerName", Msg: msg, Warning: true})
	}
	line := 2
	for i := range maxGroups {
		warn(line, fmt.Sprint("text ", i))
		line++
	}
	for range 3 {
		warn(line, "late")
		line++
		warn(line, "text 0")
		line++
	}
	var want []string
	want = append(want, fmt.Sprintf("b.csv: 4 refunds: CustomerName: warning: text 0 (lines 2, %d, %d, %d)", maxGroups+3, maxGroups+5, maxGroups+7))
	for i := 1; i < maxGroups; i++ {
		want = append(want, fmt.Sprintf("b.csv:%d: CustomerName: warning: text %d", i+2, i))
	}
	for i := range 3 {
		want = append(want, fmt.Sprintf("b.csv:%d: CustomerName: warning: late", maxGroups+2+2*i))
	}
	if got := lines(Summarise(ps)); !slices.Equal(got, want) {
		t.Errorf("got %d lines, want %d; first differences:\n%s", len(got), len(want), firstDiff(got, want))
	}
}

// TestSummariseStop: a range over the lines may stop early.
func TestSummariseStop(t *testing.T) {
	ps := []Problem{
		{Pos: Pos{File: "b.csv", Line: 2}, Msg: "a"},
		{Pos: Pos{File: "b.csv", Line: 3}, Msg: "b"},
	}
	n := 0
	for range Summarise(ps) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("ranged %d times; want 1", n)
	}
}

func TestThousands(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "0"}, {2, "2"}, {999, "999"}, {1000, "1,000"}, {12345, "12,345"},
		{100000, "100,000"}, {1234567, "1,234,567"},
	} {
		if got := thousands(tc.n); got != tc.want {
			t.Errorf("thousands(%d) = %q; want %q", tc.n, got, tc.want)
		}
	}
}

func lines(seq iter.Seq[Summary]) []string {
	var ls []string
	for s := range seq {
		ls = append(ls, s.String())
	}
	return ls
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("line %d: got %q, want %q", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(got), len(want))
}

// TestSummariser: problems given one at a time to a Summariser give the
// lines Summarise gives for all of them, for random mixes of errors,
// repeated and single warnings, file warnings and more distinct warnings
// than are grouped; beyond its limit it keeps the first lines and counts
// the problems of the others.
func TestSummariser(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(4, seed))
	lines := func(seq iter.Seq[Summary]) []string {
		var out []string
		for s := range seq {
			out = append(out, s.String())
		}
		return out
	}
	random := func(n, texts int) []Problem {
		ps := make([]Problem, n)
		for i := range ps {
			p := Problem{Pos: Pos{File: "b.csv", Line: 2 + i}, Field: "PaymentDate", Msg: fmt.Sprintf("text %d", rng.IntN(texts))}
			switch rng.IntN(6) {
			case 0:
				p.Field = "Account" // an error
			case 1:
				p.Pos.Line, p.Warning = 0, true // of the file
			case 2:
				p.Pos, p.Warning = Pos{File: "b.json", Index: i, JSON: true}, true
			default:
				p.Warning = true
			}
			ps[i] = p
		}
		return ps
	}
	for _, tc := range []struct{ n, texts int }{{0, 1}, {1, 1}, {50, 3}, {500, 40}, {5000, 2 * maxGroups}} {
		ps := random(tc.n, tc.texts)
		s := NewSummariser(1 << 30)
		for _, p := range ps {
			s.Add(p)
		}
		if got, want := lines(s.Lines()), lines(Summarise(ps)); !slices.Equal(got, want) || s.Unlisted() != 0 {
			t.Fatalf("%d problems of %d texts: Summariser gives %d lines, %d unlisted; Summarise %d lines\n%q\n%q",
				tc.n, tc.texts, len(got), s.Unlisted(), len(want), got[:min(len(got), 5)], want[:min(len(want), 5)])
		}
		// With a limit: the first lines, and every problem of the others
		// counted.
		const limit = 7
		s = NewSummariser(limit)
		for _, p := range ps {
			s.Add(p)
		}
		all := lines(Summarise(ps))
		got := lines(s.Lines())
		if len(all) > limit && !slices.Equal(got, all[:limit]) {
			t.Errorf("%d problems: limited lines %q; want %q", tc.n, got, all[:limit])
		}
		listed := 0
		for sm := range s.Lines() {
			listed += sm.Count
		}
		if listed+s.Unlisted() != tc.n {
			t.Errorf("%d problems: %d listed and %d unlisted", tc.n, listed, s.Unlisted())
		}
	}
}
