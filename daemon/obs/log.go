package obs

import (
	"fmt"
	"io"
	"os"
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
	return newLogger(w, level, format, isTerminal, time.Now)
}

// IsTerminal reports whether f is a terminal, for NewLogger's isTerminal.
// Under systemd, stdout is a socket to journald and not a terminal.
func IsTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd())
}

func newLogger(w io.Writer, level, format string, isTerminal bool, now func() time.Time) (zerolog.Logger, error) {
	lvl, err := parseLevel(level)
	if err != nil {
		return zerolog.Nop(), err
	}
	var out io.Writer
	switch format {
	case FormatJSON:
		out = zerolog.SyncWriter(w)
	case FormatConsole:
		out = consoleWriter(w, !isTerminal)
	case FormatAuto, "":
		if isTerminal {
			out = consoleWriter(w, false)
		} else {
			out = zerolog.SyncWriter(w)
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

func consoleWriter(w io.Writer, noColor bool) io.Writer {
	return zerolog.SyncWriter(zerolog.ConsoleWriter{
		Out:           w,
		NoColor:       noColor,
		TimeFormat:    TimeFormat,
		TimeLocation:  time.UTC,
		FieldsExclude: []string{FieldService},
	})
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
