package obs

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"refundd/daemon/refund"
)

// Service is the value of the service field on every log line.
const Service = "refundd"

// The field names of refundd's log lines. They are a contract with the
// operators' log queries and alerts: add new ones, never rename.
const (
	FieldService   = "service"    // always "refundd"
	FieldComponent = "component"  // the part of refundd that logs: watch, outbound, inbound, http, …
	FieldBatch     = "batch"      // batch ID (the ERP's batch number)
	FieldMsgID     = "msg_id"     // pain.001 MsgId of the batch
	FieldRef       = "ref"        // refund reference (the ERP's RefNbr)
	FieldE2E       = "e2e"        // EndToEndId of a payment
	FieldFile      = "file"       // a local file, or a remote one on the AutoPay server
	FieldStage     = "stage"      // pipeline stage: claim, render, upload, download, apply, post, …
	FieldStatus    = "status"     // batch or refund status (store.BatchStatus, refund.Status)
	FieldRemote    = "remote"     // the remote address (host:port)
	FieldBytes     = "bytes"      // a size in bytes
	FieldElapsedMS = "elapsed_ms" // a duration in whole milliseconds: Int64(FieldElapsedMS, d.Milliseconds())
	FieldAccount   = "account"    // an account number, always through Account
)

// TimeFormat is the layout of the time field: RFC 3339 in UTC with
// milliseconds, e.g. 2026-12-01T08:00:00.000Z.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Log formats.
const (
	FormatJSON    = "json"    // one JSON object per line, for journald and log shippers
	FormatConsole = "console" // human-readable lines
	FormatAuto    = "auto"    // console on a terminal, JSON otherwise
)

// NewLogger returns refundd's logger. It writes JSON lines to w, or
// human-readable lines when format is "console", or when format is "auto"
// (or empty) and isTerminal says that w is a terminal; colours only on a
// terminal. Every line has the fields time (see TimeFormat), level, service
// and message.
//
// level is trace, debug, info, warn or error (empty: info). refundd writes
// nothing at trace level: trace is accepted as the configuration allows it
// and shows what debug shows. NewLogger changes none of zerolog's
// package-level settings; w may be written from many goroutines.
func NewLogger(w io.Writer, level, format string, isTerminal bool) (zerolog.Logger, error) {
	return NewLoggerTo(w, level, format, Output{Terminal: isTerminal})
}

// Output says what a log's writer is connected to (see DetectOutput).
type Output struct {
	// Terminal: a terminal, where "auto" means human-readable lines in
	// colour.
	Terminal bool
	// Journal: systemd-journald's stream socket. Every line then starts
	// with its level as a syslog priority, "<3>" for an error, "<4>" a
	// warning, "<6>" info and "<7>" debug (see Priority), which journald
	// takes off the line and records as the entry's PRIORITY, so that
	// journalctl -p warning shows warnings and errors only. The rest of
	// the line, the JSON object, is the entry's MESSAGE unchanged.
	Journal bool
}

// NewLoggerTo is NewLogger for a writer connected to out.
func NewLoggerTo(w io.Writer, level, format string, out Output) (zerolog.Logger, error) {
	return newLoggerTo(w, level, format, out, time.Now)
}

// IsTerminal reports whether f is a terminal, for NewLogger's isTerminal.
// Under systemd, stdout is a socket to journald and not a terminal.
func IsTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd())
}

// DetectOutput reports what f, the log's file (stdout), is connected to:
// a terminal, or the journal. systemd sets JOURNAL_STREAM to the device
// and inode numbers ("dev:ino") of the stream it connects to stdout or
// stderr with StandardOutput=journal; f is the journal's stream when its
// own numbers are those, so that output redirected elsewhere by a child of
// the service (or a shell under it) is not taken for the journal.
func DetectOutput(f *os.File) Output {
	return Output{Terminal: IsTerminal(f), Journal: journalStream(f, os.Getenv("JOURNAL_STREAM"))}
}

// journalStream reports whether f is the stream that the value of
// JOURNAL_STREAM, env, names.
func journalStream(f *os.File, env string) bool {
	devS, inoS, ok := strings.Cut(env, ":")
	if !ok {
		return false
	}
	dev, err1 := strconv.ParseUint(devS, 10, 64)
	ino, err2 := strconv.ParseUint(inoS, 10, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && uint64(st.Dev) == dev && uint64(st.Ino) == ino
}

// Priority returns the syslog priority of a zerolog level, as the prefix
// of a line to the journal: "<3>" (err) for error, "<4>" (warning) for
// warn, "<6>" (info) for info and for lines without a level, "<7>" (debug)
// for debug and trace, "<2>" (crit) for fatal and "<0>" (emerg) for panic.
// refundd logs neither fatal nor panic; they are mapped for completeness.
func Priority(l zerolog.Level) string {
	switch l {
	case zerolog.TraceLevel, zerolog.DebugLevel:
		return "<7>"
	case zerolog.WarnLevel:
		return "<4>"
	case zerolog.ErrorLevel:
		return "<3>"
	case zerolog.FatalLevel:
		return "<2>"
	case zerolog.PanicLevel:
		return "<0>"
	}
	return "<6>"
}

func newLogger(w io.Writer, level, format string, isTerminal bool, now func() time.Time) (zerolog.Logger, error) {
	return newLoggerTo(w, level, format, Output{Terminal: isTerminal}, now)
}

func newLoggerTo(w io.Writer, level, format string, o Output, now func() time.Time) (zerolog.Logger, error) {
	lvl, err := parseLevel(level)
	if err != nil {
		return zerolog.Nop(), err
	}
	json := zerolog.SyncWriter(w)
	if o.Journal {
		json = zerolog.SyncWriter(priorityWriter{w: w})
	}
	var out io.Writer
	switch format {
	case FormatJSON:
		out = json
	case FormatConsole:
		out = consoleWriter(w, !o.Terminal, o.Journal)
	case FormatAuto, "":
		if o.Terminal {
			out = consoleWriter(w, false, o.Journal)
		} else {
			out = json
		}
	default:
		return zerolog.Nop(), fmt.Errorf("new logger: format %q is not json, console or auto", format)
	}
	return zerolog.New(out).
		Level(lvl).
		Hook(timeHook{now: now}).
		With().Str(FieldService, Service).
		Logger(), nil
}

// priorityWriter writes each line with its level's syslog priority
// before it, in one write, as the journal's stream protocol reads it.
type priorityWriter struct{ w io.Writer }

// Write writes p, a line of no known level, at info.
func (p priorityWriter) Write(b []byte) (int, error) {
	return p.WriteLevel(zerolog.NoLevel, b)
}

// WriteLevel writes b after the priority of l.
func (p priorityWriter) WriteLevel(l zerolog.Level, b []byte) (int, error) {
	prio := Priority(l)
	line := make([]byte, 0, len(prio)+len(b))
	line = append(append(line, prio...), b...)
	if _, err := p.w.Write(line); err != nil {
		return 0, err
	}
	return len(b), nil
}

func parseLevel(s string) (zerolog.Level, error) {
	switch s {
	case "trace", "debug":
		// zerolog drops trace events below its package-level setting,
		// which is debug; changing it would change it for everyone.
		return zerolog.DebugLevel, nil
	case "info", "":
		return zerolog.InfoLevel, nil
	case "warn":
		return zerolog.WarnLevel, nil
	case "error":
		return zerolog.ErrorLevel, nil
	}
	return zerolog.NoLevel, fmt.Errorf("new logger: level %q is not trace, debug, info, warn or error", s)
}

// consoleWriter writes human-readable lines to w; with journal, each
// starts with its level's syslog priority (the time follows the level
// then, as the prefix must open the line).
func consoleWriter(w io.Writer, noColor, journal bool) io.Writer {
	cw := zerolog.ConsoleWriter{
		Out:           w,
		NoColor:       noColor,
		TimeFormat:    TimeFormat,
		TimeLocation:  time.UTC,
		FieldsExclude: []string{FieldService},
	}
	if journal {
		cw.PartsOrder = []string{zerolog.LevelFieldName, zerolog.TimestampFieldName, zerolog.MessageFieldName}
		cw.FormatLevel = func(i any) string {
			s, _ := i.(string)
			l, err := zerolog.ParseLevel(s)
			if err != nil {
				l = zerolog.NoLevel
			}
			name, ok := zerolog.FormattedLevels[l]
			if !ok {
				name = "???"
			}
			return Priority(l) + name
		}
	}
	return zerolog.SyncWriter(cw)
}

// timeHook adds the time field in UTC with milliseconds without touching
// zerolog's package-level TimeFieldFormat and TimestampFunc.
type timeHook struct{ now func() time.Time }

// Run adds the time field to e.
func (h timeHook) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	e.Str(zerolog.TimestampFieldName, h.now().UTC().Format(TimeFormat))
}

// Account returns an account number fit for a log line: all but its last
// four characters replaced by '*', an IBAN keeping its country code, e.g.
// DE****************3000. A Norwegian IBAN is shown as its BBAN,
// NO93 8601 1117 947 as *******7947, so that the same account looks the same
// in every log line and in the exception files refundd writes for the ERP,
// whichever form it came in. Log every account number through Account,
// under FieldAccount or a name ending in "_account".
func Account(s string) string {
	return refund.MaskAccount(s)
}
