package obs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

var testNow = time.Date(2026, 12, 1, 9, 0, 0, 123456789, time.FixedZone("CET", 3600))

func fixedClock() time.Time { return testNow }

func TestNewLoggerJSON(t *testing.T) {
	var buf bytes.Buffer
	l, err := newLogger(&buf, "info", "json", false, fixedClock)
	if err != nil {
		t.Fatal(err)
	}
	l.Info().Str(FieldBatch, "B1").Str(FieldMsgID, "M1").Int64(FieldBytes, 42).Msg("uploaded")
	l.Debug().Msg("hidden at info")

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d lines; want 1:\n%s", len(lines), buf.String())
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatalf("line is no JSON object: %v\n%s", err, lines[0])
	}
	want := map[string]any{
		"level":   "info",
		"service": "refundd",
		"time":    "2026-12-01T08:00:00.123Z",
		"batch":   "B1",
		"msg_id":  "M1",
		"bytes":   float64(42),
		"message": "uploaded",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("field %s = %#v; want %#v\n%s", k, got[k], v, lines[0])
		}
	}
	if len(got) != len(want) {
		t.Errorf("line has %d fields; want %d: %s", len(got), len(want), lines[0])
	}
}

func TestNewLoggerLevels(t *testing.T) {
	for _, tc := range []struct {
		level string
		want  string // the levels that are written, of debug, info, warn, error
	}{
		{"", "info warn error"},
		{"trace", "debug info warn error"},
		{"debug", "debug info warn error"},
		{"info", "info warn error"},
		{"warn", "warn error"},
		{"error", "error"},
	} {
		t.Run(tc.level, func(t *testing.T) {
			var buf bytes.Buffer
			l, err := newLogger(&buf, tc.level, "json", false, fixedClock)
			if err != nil {
				t.Fatal(err)
			}
			l.Trace().Msg("trace")
			l.Debug().Msg("debug")
			l.Info().Msg("info")
			l.Warn().Msg("warn")
			l.Error().Msg("error")
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				var m struct{ Level string }
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("%v: %s", err, line)
				}
				got = append(got, m.Level)
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("level %q writes %q; want %q", tc.level, g, tc.want)
			}
		})
	}
}

func TestNewLoggerFormats(t *testing.T) {
	const esc = "\x1b["
	for _, tc := range []struct {
		format   string
		terminal bool
		json     bool
		color    bool
	}{
		{"json", false, true, false},
		{"json", true, true, false},
		{"console", false, false, false},
		{"console", true, false, true},
		{"auto", false, true, false},
		{"auto", true, false, true},
		{"", false, true, false},
		{"", true, false, true},
	} {
		var buf bytes.Buffer
		l, err := newLogger(&buf, "info", tc.format, tc.terminal, fixedClock)
		if err != nil {
			t.Fatalf("format %q: %v", tc.format, err)
		}
		l.Info().Str(FieldFile, "a.xml").Msg("claimed")
		out := buf.String()
		if isJSON := json.Valid(buf.Bytes()); isJSON != tc.json {
			t.Errorf("format %q terminal %v: JSON %v; want %v: %q", tc.format, tc.terminal, isJSON, tc.json, out)
		}
		if color := strings.Contains(out, esc); color != tc.color {
			t.Errorf("format %q terminal %v: colours %v; want %v: %q", tc.format, tc.terminal, color, tc.color, out)
		}
		if !tc.json {
			plain := regexp.MustCompile(`\x1b\[[0-9;]*m`).ReplaceAllString(out, "")
			want := "2026-12-01T08:00:00.123Z INF claimed file=a.xml\n"
			if plain != want {
				t.Errorf("format %q terminal %v: %q; want %q", tc.format, tc.terminal, plain, want)
			}
		}
	}
}

func TestNewLoggerErrors(t *testing.T) {
	for _, tc := range []struct{ level, format, want string }{
		{"verbose", "json", `level "verbose"`},
		{"INFO", "json", `level "INFO"`},
		{"fatal", "json", `level "fatal"`},
		{"info", "text", `format "text"`},
	} {
		_, err := NewLogger(&bytes.Buffer{}, tc.level, tc.format, false)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "new logger: ") {
			t.Errorf("NewLogger(%q, %q) = %v; want an error \"new logger: …%s…\"", tc.level, tc.format, err, tc.want)
		}
	}
}

func TestNewLoggerRealClock(t *testing.T) {
	var buf bytes.Buffer
	l, err := NewLogger(&buf, "info", "json", false)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().UTC().Truncate(time.Millisecond)
	l.Info().Msg("x")
	var m struct{ Time string }
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	ts, err := time.Parse(TimeFormat, m.Time)
	if err != nil || !strings.HasSuffix(m.Time, "Z") || len(m.Time) != len("2026-12-01T08:00:00.000Z") {
		t.Fatalf("time %q: %v; want RFC 3339 UTC with milliseconds", m.Time, err)
	}
	if ts.Before(before) || ts.After(time.Now()) {
		t.Errorf("time %v; want between %v and now", ts, before)
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Errorf("IsTerminal(regular file) = true; want false")
	}
}

func TestAccount(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"86011117947", "*******7947"},
		{"8601.11.17947", "*******7947"},
		{"NO93 8601 1117 947", "*******7947"},
		{"no9386011117947", "*******7947"},
		{"DE89 3704 0044 0532 0130 00", "DE****************3000"},
		{"SE4550000000058398257466", "SE******************7466"},
		{"GB29NWBK60161331926819", "GB****************6819"},
		{"123", "123"},
		{"", ""},
	} {
		if got := Account(tc.in); got != tc.want {
			t.Errorf("Account(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// TestNoAccountNumberInLogs writes log lines with account numbers through
// Account, in both formats and under the field names the daemon uses, and
// checks that no line holds an account number, or any five of its digits
// in a row.
func TestNoAccountNumberInLogs(t *testing.T) {
	accounts := []string{
		"86011117947",
		"8601.11.17947",
		"8601 11 17947",
		"NO9386011117947",
		"NO93 8601 1117 947",
		"DE89370400440532013000",
		"DE89 3704 0044 0532 0130 00",
		"FI2112345600000785",
		"SE4550000000058398257466",
	}
	for _, format := range []string{"json", "console"} {
		for _, terminal := range []bool{false, true} {
			var buf bytes.Buffer
			l, err := newLogger(&buf, "debug", format, terminal, fixedClock)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range accounts {
				l.Info().Str(FieldRef, "R1").Str(FieldAccount, Account(a)).Msg("refund sent")
				l.Warn().Str("debtor_account", Account(a)).Err(errors.New("rejected")).Msg("refund rejected to " + Account(a))
				sub := l.With().Str(FieldAccount, Account(a)).Logger()
				sub.Debug().Msg("sub-logger")
				l.Info().Dict("refund", zerolog.Dict().Str(FieldAccount, Account(a))).Msg("nested")
			}
			out := buf.String()
			if !strings.Contains(out, "7947") {
				t.Fatalf("%s: the lines hold no masked account at all:\n%s", format, out)
			}
			for _, a := range accounts {
				for _, leak := range leaks(a) {
					if strings.Contains(out, leak) {
						t.Errorf("%s (terminal %v): the log holds %q of account %q:\n%s", format, terminal, leak, a, out)
					}
				}
			}
		}
	}
}

// leaks returns what of an account number must not be seen: the number as
// written, without separators, and every run of five of its digits.
func leaks(a string) []string {
	digits := regexp.MustCompile(`[^0-9]`).ReplaceAllString(a, "")
	out := []string{a, strings.NewReplacer(" ", "", ".", "").Replace(a)}
	for i := 0; i+5 <= len(digits); i++ {
		out = append(out, digits[i:i+5])
	}
	return out
}

// TestJournalPriorities: with Output.Journal every line starts with the
// syslog priority of its level, which journald strips, and what is left is
// the line without it (JSON, or the console line).
func TestJournalPriorities(t *testing.T) {
	for _, format := range []string{"json", "console"} {
		var buf bytes.Buffer
		l, err := newLoggerTo(&buf, "debug", format, Output{Journal: true}, fixedClock)
		if err != nil {
			t.Fatal(err)
		}
		l.Debug().Msg("d")
		l.Info().Msg("i")
		l.Warn().Msg("w")
		l.Error().Msg("e")
		l.Log().Msg("none")
		want := []struct{ prio, level, msg string }{{"7", "debug", "d"}, {"6", "info", "i"}, {"4", "warn", "w"}, {"3", "error", "e"}, {"6", "", "none"}}
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		if len(lines) != len(want) {
			t.Fatalf("%s: %d lines, want %d:\n%s", format, len(lines), len(want), buf.String())
		}
		for i, line := range lines {
			prio, rest, ok := journalPrefix(line)
			if !ok || prio != want[i].prio {
				t.Errorf("%s: line %q: priority %q, want <%s>", format, line, prio, want[i].prio)
				continue
			}
			if format == "console" {
				if !strings.HasSuffix(rest, " "+want[i].msg) {
					t.Errorf("console line %q: want the message %q at its end", line, want[i].msg)
				}
				continue
			}
			var m struct{ Level, Message string }
			if err := json.Unmarshal([]byte(rest), &m); err != nil || m.Level != want[i].level || m.Message != want[i].msg {
				t.Errorf("json line %q without its prefix: %+v %v, want level %q message %q", line, m, err, want[i].level, want[i].msg)
			}
		}
	}
	// Fatal and panic, which refundd does not log, still map.
	for l, want := range map[zerolog.Level]string{zerolog.FatalLevel: "<2>", zerolog.PanicLevel: "<0>", zerolog.TraceLevel: "<7>"} {
		if got := Priority(l); got != want {
			t.Errorf("Priority(%s) = %s, want %s", l, got, want)
		}
	}
}

// journalPrefix splits a line as journald's stream reader does with
// SyslogLevelPrefix=yes: "<N>" with N a single digit 0-7 opens the line.
func journalPrefix(line string) (prio, rest string, ok bool) {
	if len(line) < 3 || line[0] != '<' || line[2] != '>' || line[1] < '0' || line[1] > '7' {
		return "", line, false
	}
	return line[1:2], line[3:], true
}

// TestDetectOutputJournal: the journal is detected only when
// JOURNAL_STREAM names the very file (its device and inode).
func TestDetectOutputJournal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	fi, err := w.Stat()
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	other, err := os.CreateTemp(t.TempDir(), "other")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for _, tc := range []struct {
		name, env string
		f         *os.File
		want      bool
	}{
		{"matching", fmt.Sprintf("%d:%d", st.Dev, st.Ino), w, true},
		{"unset", "", w, false},
		{"another file", fmt.Sprintf("%d:%d", st.Dev, st.Ino), other, false},
		{"another inode", fmt.Sprintf("%d:%d", st.Dev, st.Ino+1), w, false},
		{"malformed", "journal", w, false},
		{"not numbers", "a:b", w, false},
	} {
		if got := journalStream(tc.f, tc.env); got != tc.want {
			t.Errorf("%s: journalStream(%q) = %v, want %v", tc.name, tc.env, got, tc.want)
		}
	}
	t.Setenv("JOURNAL_STREAM", fmt.Sprintf("%d:%d", st.Dev, st.Ino))
	if o := DetectOutput(w); !o.Journal || o.Terminal {
		t.Errorf("DetectOutput = %+v, want the journal", o)
	}
}
