package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"refundd/daemon/obs"
	"refundd/daemon/refund"
	"refundd/daemon/store"
)

// Mux is where HandleStatus adds its routes (*obs.HTTPServer,
// *http.ServeMux).
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Handle adds the read-only status page and its JSON API to mux:
//
//   - GET /status: the batches with their status, counts and totals, as
//     HTML; ?batch=B shows the refunds of batch B (an ERP batch number or
//     a MsgId) with their status, reason, EndToEndId and bank references,
//     how many are in each status, and PageSize of them at a time:
//     &after=N shows those after the page that ends with N, &before=N
//     those before the page that begins with it, with links to both.
//     ?format=json gives the same as JSON, ?format=text as the status
//     command's table. The page refreshes itself every few seconds and
//     needs nothing from elsewhere.
//   - GET /api/batches: the batches as JSON.
//   - GET /api/batches/{batch}: one batch's attempts with a page of their
//     refunds as JSON, paged as /status (?after=N, ?before=N; each
//     attempt's "next" and "prev" say where its neighbour pages begin).
//   - GET /api/leader: who leads the company's instances (PostgreSQL
//     store) and this instance's role, as JSON; 404 with the SQLite store.
//
// self, when not nil, names the instance that serves the page and its
// role; the page's header shows them beside the leader. HandleWith adds
// what else the page shows.
func Handle(mux Mux, s Store, self Self) { HandleWith(mux, s, Options{Self: self}) }

// HandleWith adds the routes of Handle with what o gives, and:
//
//   - GET /status (the list) begins with what needs attention (refunds
//     rejected or returned and not paid again, batches in doubt,
//     exceptions written for the ERP, files in failed/, overdue alarms),
//     the health strip when o.Health is set, and a search box; each
//     batch shows how many of its refunds are in each status;
//   - GET /status/search?q=Q: the refunds whose RefNbr, CustomerID,
//     EndToEndId or account's last digits are Q, and the batch whose
//     MsgId or number it is; /api/search?q=Q as JSON;
//   - GET /status/refund/{e2e}: one refund's timeline, from the ERP file
//     to the bank's last word and any re-release; /api/refunds/{e2e} as
//     JSON;
//   - GET /api/attention: what needs attention, as JSON.
func HandleWith(mux Mux, s Store, o Options) {
	self := o.Self
	mux.Handle("GET /status", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		batch := r.URL.Query().Get("batch")
		switch r.URL.Query().Get("format") {
		case "json":
			serveStatus(w, r, s, o, batch, "json")
		case "text":
			serveStatus(w, r, s, o, batch, "text")
		default:
			serveStatus(w, r, s, o, batch, "html")
		}
	}))
	mux.Handle("GET /api/batches", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveStatus(w, r, s, o, "", "json")
	}))
	mux.Handle("GET /api/batches/{batch}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveStatus(w, r, s, o, r.PathValue("batch"), "json")
	}))
	mux.Handle("GET /api/leader", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l, err := LeaderOf(r.Context(), s, self)
		switch {
		case err != nil:
			http.Error(w, "status unavailable", http.StatusInternalServerError)
			return
		case l == nil:
			http.Error(w, "one instance with the SQLite store: no leadership", http.StatusNotFound)
			return
		}
		writeJSON(w, l)
	}))
	mux.Handle("GET /api/attention", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := NeedsAttention(r.Context(), s, o, o.health(), time.Now())
		if err != nil {
			http.Error(w, "status unavailable", http.StatusInternalServerError)
			return
		}
		writeJSON(w, a)
	}))
	mux.Handle("GET /status/search", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveSearch(w, r, s, o, "html")
	}))
	mux.Handle("GET /api/search", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveSearch(w, r, s, o, "json")
	}))
	mux.Handle("GET /status/refund/{e2e}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveRefund(w, r, s, o, r.PathValue("e2e"), "html")
	}))
	mux.Handle("GET /api/refunds/{e2e}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveRefund(w, r, s, o, r.PathValue("e2e"), "json")
	}))
}

// health returns the daemon's health now, nil without a daemon.
func (o Options) health() *obs.Health {
	if o.Health == nil {
		return nil
	}
	h := o.Health()
	return &h
}

// writeJSON writes v as indented JSON that no cache keeps.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v) // an error means the client went away
}

// pageCSP is the status page's Content-Security-Policy: nothing from
// elsewhere, its own inline style and refresh script, requests and form
// submissions (the search) to itself only.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'self'"

// writePage writes the HTML page of v.
func writePage(w http.ResponseWriter, v statusView) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	v.Now, v.RefreshMillis = time.Now(), statusRefresh.Milliseconds()
	statusPage.Execute(w, v)
}

// serveSearch serves a search as a page or as JSON.
func serveSearch(w http.ResponseWriter, r *http.Request, s Store, o Options, format string) {
	f, err := Search(r.Context(), s, r.URL.Query().Get("q"))
	if err != nil {
		http.Error(w, "status unavailable", http.StatusInternalServerError)
		return
	}
	if format == "json" {
		writeJSON(w, f)
		return
	}
	writePage(w, statusView{Found: f, Query: f.Query, Health: o.health()})
}

// serveRefund serves a refund's timeline as a page or as JSON.
func serveRefund(w http.ResponseWriter, r *http.Request, s Store, o Options, e2e, format string) {
	t, err := RefundTimeline(r.Context(), s, o, e2e)
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "no such refund", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "status unavailable", http.StatusInternalServerError)
		return
	}
	if format == "json" {
		writeJSON(w, t)
		return
	}
	writePage(w, statusView{Timeline: t, Health: o.health()})
}

// statusRefresh is how often the status page reloads its content.
const statusRefresh = 3 * time.Second

func serveStatus(w http.ResponseWriter, r *http.Request, s Store, o Options, batch, format string) {
	at, err := pageAt(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	bs, err := ListPage(r.Context(), s, batch, at)
	var leader *Leader
	if err == nil && format != "json" {
		leader, err = LeaderOf(r.Context(), s, o.Self)
	}
	var attention *Attention
	health := o.health()
	if err == nil && format == "html" && batch == "" {
		attention, err = NeedsAttention(r.Context(), s, o, health, time.Now())
		if err == nil {
			err = addCounts(r.Context(), s, bs)
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "no such batch", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "status unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch format {
	case "json":
		w.Header().Set("Content-Type", "application/json")
		Write(w, bs, true) // an error means the client went away
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		WriteLeader(w, leader)
		Write(w, bs, false)
	default:
		writePage(w, statusView{Batch: batch, Batches: bs, Leader: leader, Attention: attention, Health: health})
	}
}

// countsMax is how many batches of the list, the newest, show how many
// of their refunds are in each status.
const countsMax = 100

// addCounts adds to the newest countsMax batches of bs how many of their
// refunds are in each status.
func addCounts(ctx context.Context, s Store, bs []Batch) error {
	for i := range bs[:min(len(bs), countsMax)] {
		counts, err := s.RefundCounts(ctx, bs[i].MsgID)
		if err != nil {
			return fmt.Errorf("status: %w", err)
		}
		bs[i].Counts = sortedCounts(counts)
	}
	return nil
}

// countOrder is the order in which the counts of a batch's refunds are
// shown: the bank's final words first.
var countOrder = []refund.Status{refund.StatusBooked, refund.StatusRejected, refund.StatusReturned, refund.StatusAccepted,
	refund.StatusPending, refund.StatusSent, refund.StatusNew}

// sortedCounts returns counts in countOrder, then any other status by
// name.
func sortedCounts(counts map[refund.Status]int) []Count {
	var out []Count
	for _, st := range countOrder {
		if n := counts[st]; n > 0 {
			out = append(out, Count{Status: string(st), Refunds: n})
		}
	}
	var rest []Count
	for st, n := range counts {
		if !slices.Contains(countOrder, st) && n > 0 {
			rest = append(rest, Count{Status: string(st), Refunds: n})
		}
	}
	slices.SortFunc(rest, func(a, b Count) int { return strings.Compare(a.Status, b.Status) })
	return append(out, rest...)
}

// pageAt reads the page of a batch's refunds that r asks for (after=N or
// before=N, neither for the first).
func pageAt(r *http.Request) (store.PageAt, error) {
	at := store.PageAt{Size: PageSize}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"after", &at.After}, {"before", &at.Before}} {
		v := r.URL.Query().Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return store.PageAt{}, fmt.Errorf("%s=%q: want a positive number", p.name, v)
		}
		*p.dst = n
	}
	if at.After != 0 && at.Before != 0 {
		return store.PageAt{}, errors.New("after and before: give one")
	}
	return at, nil
}

// statusView is what the status page shows.
type statusView struct {
	Batch         string // the batch shown, "" for the list
	Batches       []Batch
	Leader        *Leader     // nil with the SQLite store
	Attention     *Attention  // the list only
	Health        *obs.Health // nil without a daemon
	Query         string      // the search box's text
	Found         *Found      // a search's result
	Timeline      *Timeline   // a refund's page
	Now           time.Time
	RefreshMillis int64
}

// batchWordsOf says what a batch status means, where the status alone
// does not say it.
var batchWordsOf = map[string]string{
	string(store.BatchSettledWithExceptions): "settled, but some refunds were rejected or returned: re-release them",
	string(store.BatchPartiallyAccepted):     "some refunds rejected by the bank",
	string(store.BatchRejectedByBank):        "the bank rejected the whole batch",
	string(store.BatchInDoubt):               "upload in doubt: check AutoPay and resolve",
	string(store.BatchPaid):                  "every refund booked",
	string(store.BatchCompleted):             "nothing left to do",
}

var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.Local().Format(timeLayout)
	},
	"age": func(secs *int64) string {
		if secs == nil {
			// The daemon keeps the time of its last upload and download
			// while it runs; an earlier run's are in the batches' times.
			return "none since start"
		}
		return (time.Duration(*secs) * time.Second).String() + " ago"
	},
	"uptime":   func(secs int64) string { return (time.Duration(secs) * time.Second).String() },
	"join":     strings.Join,
	"pageSize": func() int { return PageSize },
	"seconds": func(f float64) string {
		return (time.Duration(f * float64(time.Second))).Round(time.Second).String()
	},
	"batchWords": func(s string) string { return batchWordsOf[s] },
	"statusClass": func(s string) string {
		switch s {
		case "rejected", "rejected-by-bank", "returned", "in-doubt", "settled-with-exceptions", "invalid", "held", "account-changed":
			return "bad"
		case "booked", "paid", "completed", "accepted":
			return "good"
		}
		return "wait"
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>refundd{{if .Batch}} – {{.Batch}}{{else if .Timeline}} – {{.Timeline.Refund.RefNbr}}{{else if .Found}} – search{{end}}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .2em; }
h2 { font-size: 1.1em; margin: 1.5em 0 .4em; }
h3 { font-size: 1em; margin: 1em 0 .3em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f4f4f4; font-weight: 600; }
td.num { text-align: right; }
code { font: 12px ui-monospace, monospace; }
.good { color: #176b2c; } .bad { color: #a4161a; font-weight: 600; } .wait { color: #7a5d00; }
.meta { color: #666; font-size: .9em; }
a { color: #0b57d0; }
#health { display: flex; flex-wrap: wrap; gap: .4em 1.4em; padding: .5em .8em; background: #f6f8fa; border: 1px solid #ddd; border-radius: 4px; margin: .6em 0; }
#health span b { font-weight: 600; }
#attention { border: 2px solid #a4161a; border-radius: 4px; padding: .2em .9em .8em; margin: .8em 0 1.2em; }
#attention.calm { border-color: #176b2c; }
#attention h2 { margin-top: .6em; }
code.cmd { display: inline-block; background: #f4f4f4; padding: .1em .4em; user-select: all; }
form.search { margin: .6em 0; }
form.search input[type=search] { width: 36em; max-width: 70%; padding: .3em; }
</style>
</head>
<body>
<div id="content">
{{- with .Leader}}
<p class="meta" id="leader">{{if not .Holder}}No instance has led yet.{{else}}Leader: <strong data-leader="{{.Holder}}">{{.Holder}}</strong> · epoch <span data-epoch="{{.Epoch}}">{{.Epoch}}</span> · leading since {{when .Since}} · {{if gt .LeftSeconds 0.0}}lease runs {{seconds .LeftSeconds}} more{{else}}<span class="bad">lease expired</span>; a standby takes over{{end}}{{end}}{{if .Role}} · this instance: {{.Instance}}, <span data-role="{{.Role}}">{{.Role}}</span>{{end}}</p>
{{- end}}
{{- if .Batch}}
<h1>refundd – batch {{.Batch}}</h1>
<p class="meta"><a href="/status">all batches</a> · as of <span id="asof">{{when .Now}}</span></p>
{{- range .Batches}}
<h2>Attempt {{.Attempt}}: <code>{{.MsgID}}</code> <span class="{{statusClass .Status}}" data-batch-status="{{.Status}}">{{.Status}}</span>{{with batchWords .Status}} <span class="meta">({{.}})</span>{{end}}</h2>
<p class="meta">{{.Refunds}} refunds{{range .Counts}} · <span class="{{statusClass .Status}}" data-count="{{.Status}}">{{.Refunds}} {{.Status}}</span>{{end}} · {{join .Totals ", "}} · created {{when .Created}} · sent {{when .Sent}} · updated {{when .Updated}}{{if .Reason}} · {{.Reason}}{{end}}</p>
{{- template "pager" .}}
<table>
<thead><tr><th>Ref</th><th>Type</th><th>Customer</th><th>EndToEndId</th><th>Amount</th><th>Execution</th><th>Status</th><th>Reason</th><th>Bank reference</th><th>Updated</th></tr></thead>
<tbody>
{{- range .Items}}
<tr data-ref="{{.RefNbr}}"><td>{{.RefNbr}}</td><td>{{.DocType}}</td><td>{{.CustomerID}}</td><td><a href="/status/refund/{{.EndToEndID}}"><code>{{.EndToEndID}}</code></a></td><td class="num">{{.Amount}}</td><td>{{.ExecutionDate}}</td><td class="{{statusClass .Status}}">{{.Status}}</td><td class="reason">{{if .ReasonCode}}{{.ReasonCode}} {{.ReasonText}}{{else}}–{{end}}</td><td>{{if .BankRefs}}<code>{{join .BankRefs ", "}}</code>{{else}}–{{end}}</td><td>{{when .Updated}}</td></tr>
{{- end}}
</tbody>
</table>
{{- template "pager" .}}
{{- if .Notes}}
<h3>Left out of this batch, or flagged</h3>
<table>
<thead><tr><th>Where</th><th>Ref</th><th>Customer</th><th>Kind</th><th>Sent in</th><th>Reason</th></tr></thead>
<tbody>
{{- range .Notes}}
<tr data-note="{{.RefNbr}}"><td><code>{{.Position}}</code></td><td>{{.RefNbr}}</td><td>{{.CustomerID}}</td><td class="{{statusClass .Kind}}">{{.Kind}}</td><td>{{if .ResolvedIn}}<code>{{.ResolvedIn}}</code>{{else}}–{{end}}</td><td class="reason">{{.Reason}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- end}}
{{- else if .Timeline}}
{{- with .Timeline}}
<h1>refundd – refund {{.Refund.RefNbr}}</h1>
<p class="meta"><a href="/status">all batches</a> · <a href="/status?batch={{.Refund.MsgID}}">batch {{.Refund.Batch}}</a> · <a href="/api/refunds/{{.Refund.EndToEndID}}">JSON</a> · as of <span id="asof">{{when $.Now}}</span></p>
{{- template "health" $.Health}}
{{- template "search" $.Query}}
{{- with .Refund}}
<table id="refund">
<tbody>
<tr><th>Ref</th><td>{{.RefNbr}} ({{.DocType}}, release {{.Release}})</td><th>Customer</th><td>{{.CustomerID}}</td></tr>
<tr><th>EndToEndId</th><td><code>{{.EndToEndID}}</code></td><th>Account</th><td><code>{{.Account}}</code></td></tr>
<tr><th>Amount</th><td>{{.Amount}}, execution {{.ExecutionDate}}</td><th>Batch</th><td><a href="/status?batch={{.MsgID}}">{{.Batch}}</a> <code>{{.MsgID}}</code></td></tr>
<tr><th>Status</th><td class="{{statusClass .Status}}" data-status="{{.Status}}">{{.Status}}{{if .ReasonCode}} – {{.ReasonCode}} {{.ReasonText}}{{end}}</td><th>Bank reference</th><td>{{if .BankRefs}}<code data-bankrefs>{{join .BankRefs ", "}}</code>{{else}}–{{end}}</td></tr>
</tbody>
</table>
{{- end}}
{{- if .Command}}
<p class="bad">Needs a re-release (fix the account in the ERP first): <code class="cmd">{{.Command}}</code></p>
{{- end}}
<h2>Timeline</h2>
<table id="timeline">
<thead><tr><th>At</th><th>What</th><th>Status</th><th>Reason</th><th>Bank reference</th><th>File</th></tr></thead>
<tbody>
{{- range .Steps}}
<tr data-subject="{{.Subject}}"><td>{{when .At}}</td><td>{{.What}}{{if .EndToEndID}} (<a href="/status/refund/{{.EndToEndID}}">follow</a>){{end}}</td><td>{{if .To}}{{if .From}}{{.From}} → {{end}}<span class="{{statusClass .To}}">{{.To}}</span>{{end}}</td><td class="reason">{{.Reason}}</td><td>{{if .BankRef}}<code class="bankref">{{.BankRef}}</code>{{end}}</td><td>{{if .File}}<code>{{.File}}</code>{{end}}</td></tr>
{{- end}}
</tbody>
</table>
{{- if gt (len .Releases) 1}}
<h2>Every payment of this document</h2>
<table>
<thead><tr><th>Release</th><th>EndToEndId</th><th>Batch</th><th>Status</th><th>Updated</th></tr></thead>
<tbody>
{{- range .Releases}}
<tr><td class="num">{{.Release}}</td><td><a href="/status/refund/{{.EndToEndID}}"><code>{{.EndToEndID}}</code></a></td><td><a href="/status?batch={{.MsgID}}">{{.Batch}}</a></td><td class="{{statusClass .Status}}">{{.Status}}</td><td>{{when .Updated}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- end}}
{{- else if .Found}}
{{- with .Found}}
<h1>refundd – search</h1>
<p class="meta"><a href="/status">all batches</a> · <a href="/api/search?q={{.Query}}">JSON</a> · as of <span id="asof">{{when $.Now}}</span></p>
{{- template "health" $.Health}}
{{- template "search" $.Query}}
{{- if .Note}}<p class="meta">{{.Note}}</p>{{end}}
{{- if .Batches}}
<h2>Batches</h2>
<table>
<thead><tr><th>Batch</th><th>Attempt</th><th>MsgId</th><th>Status</th><th>Refunds</th><th>Total</th></tr></thead>
<tbody>
{{- range .Batches}}
<tr><td><a href="/status?batch={{.MsgID}}">{{.Batch}}</a></td><td class="num">{{.Attempt}}</td><td><code>{{.MsgID}}</code></td><td class="{{statusClass .Status}}">{{.Status}}</td><td class="num">{{.Refunds}}</td><td class="num">{{join .Totals ", "}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
<h2>Refunds</h2>
{{- if .Refunds}}
<table id="found">
<thead><tr><th>Ref</th><th>Customer</th><th>EndToEndId</th><th>Account</th><th>Amount</th><th>Batch</th><th>Status</th><th>Reason</th></tr></thead>
<tbody>
{{- range .Refunds}}
<tr data-ref="{{.RefNbr}}"><td><a href="/status/refund/{{.EndToEndID}}">{{.RefNbr}}</a></td><td>{{.CustomerID}}</td><td><a href="/status/refund/{{.EndToEndID}}"><code>{{.EndToEndID}}</code></a></td><td><code>{{.Account}}</code></td><td class="num">{{.Amount}}</td><td><a href="/status?batch={{.MsgID}}">{{.Batch}}</a></td><td class="{{statusClass .Status}}">{{.Status}}</td><td class="reason">{{if .ReasonCode}}{{.ReasonCode}} {{.ReasonText}}{{else}}–{{end}}</td></tr>
{{- end}}
</tbody>
</table>
{{- else}}
<p>No refund found{{if .Query}} for “{{.Query}}”{{end}}. Search by RefNbr, CustomerID, EndToEndId, MsgId, batch number, or at least 4 last digits of an account.</p>
{{- end}}
{{- end}}
{{- else}}
<h1>refundd – status</h1>
<p class="meta">as of <span id="asof">{{when .Now}}</span> · <a href="/api/batches">JSON</a> · <a href="/api/attention">needs attention as JSON</a>{{if .Health}} · <a href="/api/health">health as JSON</a>{{end}}</p>
{{- template "health" .Health}}
{{- template "search" .Query}}
{{- with .Attention}}
<section id="attention"{{if .Empty}} class="calm"{{end}}>
<h2>Needs attention</h2>
{{- if .Empty}}
<p class="good">Nothing needs attention.</p>
{{- end}}
{{- if .Refunds}}
<h3>Refunds the bank rejected or returned, not paid again</h3>
<table id="unpaid">
<thead><tr><th>Ref</th><th>Customer</th><th>Amount</th><th>Batch</th><th>Status</th><th>Bank's reason</th><th>To pay it again (after fixing the account)</th></tr></thead>
<tbody>
{{- range .Refunds}}
<tr data-ref="{{.RefNbr}}"><td><a href="/status/refund/{{.EndToEndID}}">{{.RefNbr}}</a></td><td>{{.CustomerID}}</td><td class="num">{{.Amount}}</td><td><a href="/status?batch={{.MsgID}}">{{.Batch}}</a></td><td class="bad">{{.Status}}</td><td class="reason"><code>{{.ReasonCode}}</code> {{.Words}}</td><td><code class="cmd">{{.Command}}</code></td></tr>
{{- end}}
</tbody>
</table>
{{- if .MoreRefunds}}<p class="meta">More than these; see the batches below.</p>{{end}}
{{- end}}
{{- if .InDoubt}}
<h3>Batches in doubt</h3>
<table id="indoubt">
<thead><tr><th>Batch</th><th>Why</th><th>What to check</th><th>Then</th></tr></thead>
<tbody>
{{- range .InDoubt}}
<tr data-msgid="{{.MsgID}}"><td><a href="/status?batch={{.MsgID}}">{{.Batch}}</a><br><code>{{.MsgID}}</code></td><td class="reason">{{.Reason}}</td><td>{{.Check}}</td><td>it arrived: <code class="cmd">{{.Sent}}</code><br>it did not: <code class="cmd">{{.Release}}</code></td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- if .Overdue}}
<h3>Overdue answers from the bank</h3>
<table id="overdue">
<thead><tr><th>Alarm</th><th>Batch or refund</th><th>Since</th><th>What</th></tr></thead>
<tbody>
{{- range .Overdue}}
<tr data-alarm="{{.Kind}}"><td class="bad">{{.Kind}}</td><td>{{if .EndToEndID}}<a href="/status/refund/{{.EndToEndID}}">{{.RefNbr}}</a> in {{end}}<a href="/status?batch={{.MsgID}}">{{.Batch}}</a></td><td>{{when .Since}}</td><td>{{.Detail}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- if .Webhooks}}
<h3>Notifications not delivered</h3>
<table id="webhooks">
<thead><tr><th>Webhook</th><th>Waiting</th><th>Oldest</th><th>Last error</th><th>Last delivered</th></tr></thead>
<tbody>
{{- range .Webhooks}}
<tr data-webhook="{{.Name}}"><td>{{.Name}}</td><td class="bad">{{.Pending}}</td><td>{{when .OldestPending}}</td><td class="reason">{{.LastError}} ({{when .LastErrorAt}})</td><td>{{if .LastSuccess.IsZero}}never{{else}}{{when .LastSuccess}}{{end}}</td></tr>
{{- end}}
</tbody>
</table>
<p class="meta">Nothing is dropped: each waits until its receiver answers 2xx (GET /api/webhooks has the details).</p>
{{- end}}
{{- if .Exceptions}}
<h3>Written to an exceptions file for the ERP (last 7 days)</h3>
<table id="exceptions">
<thead><tr><th>Applied</th><th>Reply file</th><th>Account</th><th>Bank reference</th><th>Transaction</th><th>Refund</th></tr></thead>
<tbody>
{{- range .Exceptions}}
<tr><td>{{when .Applied}}</td><td><code>{{.File}}</code></td><td><code>{{.Account}}</code></td><td><code>{{.BankRef}}</code></td><td><code>{{.Tx}}</code></td><td>{{if .EndToEndID}}<a href="/status/refund/{{.EndToEndID}}"><code>{{.EndToEndID}}</code></a>{{else}}–{{end}}</td></tr>
{{- end}}
</tbody>
</table>
<p class="meta">The exceptions-*.csv files in the import folder say why each was not posted.</p>
{{- end}}
{{- if .Failed}}
<h3>Files refused (failed/)</h3>
<table id="failed">
<thead><tr><th>Folder</th><th>File</th><th>Why (first line of its .err)</th><th>When</th></tr></thead>
<tbody>
{{- range .Failed}}
<tr><td>{{.Kind}}/failed</td><td><code>{{.Name}}</code></td><td class="reason">{{.Reason}}</td><td>{{when .Modified}}</td></tr>
{{- end}}
</tbody>
</table>
<p class="meta">Fix a file and drop it into its folder again; remove it from failed/ once handled.</p>
{{- end}}
</section>
{{- end}}
<h2>Batches</h2>
{{- if .Batches}}
<table id="batches">
<thead><tr><th>Batch</th><th>Attempt</th><th>MsgId</th><th>Status</th><th>Refunds</th><th>Total</th><th>Created</th><th>Sent</th><th>Updated</th></tr></thead>
<tbody>
{{- range .Batches}}
<tr data-msgid="{{.MsgID}}"><td><a href="/status?batch={{.MsgID}}">{{.Batch}}</a></td><td class="num">{{.Attempt}}</td><td><code>{{.MsgID}}</code></td><td><span class="{{statusClass .Status}}" data-batch-status="{{.Status}}">{{.Status}}</span>{{with batchWords .Status}}<br><span class="meta">{{.}}</span>{{end}}{{if .Reason}} ({{.Reason}}){{end}}</td><td class="num">{{.Refunds}}{{if .Counts}}<br><span class="meta counts">{{range $i, $c := .Counts}}{{if $i}} · {{end}}<span class="{{statusClass $c.Status}}">{{$c.Status}} {{$c.Refunds}}</span>{{end}}</span>{{end}}</td><td class="num">{{join .Totals ", "}}</td><td>{{when .Created}}</td><td>{{when .Sent}}</td><td>{{when .Updated}}</td></tr>
{{- end}}
</tbody>
</table>
{{- else}}
<p>No batches yet.</p>
{{- end}}
{{- end}}
</div>
<script>
(function () {
  function refresh() {
    fetch(location.href, {cache: "no-store"}).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var next = doc.getElementById("content");
      var box = document.activeElement;
      if (next && !(box && box.name === "q")) { document.getElementById("content").innerHTML = next.innerHTML; }
    }).catch(function () {}).finally(function () { setTimeout(refresh, {{.RefreshMillis}}); });
  }
  setTimeout(refresh, {{.RefreshMillis}});
})();
</script>
</body>
</html>
{{- define "pager"}}
{{- if or .Prev .Next}}
<p class="meta pager">{{if .Prev}}<a href="/status?batch={{.MsgID}}" rel="first">first</a> · <a href="/status?batch={{.MsgID}}&amp;before={{.Prev}}" rel="prev">previous {{pageSize}}</a>{{else}}first page{{end}}{{if .Next}} · <a href="/status?batch={{.MsgID}}&amp;after={{.Next}}" rel="next">next {{pageSize}}</a>{{end}}</p>
{{- end}}
{{- end}}
{{- define "search"}}
<form class="search" method="get" action="/status/search" role="search"><input type="search" name="q" value="{{.}}" placeholder="RefNbr, customer, EndToEndId, MsgId or last 4+ digits of an account" aria-label="search refunds"> <button type="submit">Search</button></form>
{{- end}}
{{- define "health"}}
{{- with .}}
<div id="health">
{{- with .Daemon}}
<span data-health="upload">last upload: <b>{{age .Upload.AgeSeconds}}</b></span>
<span data-health="download">last download: <b>{{age .Download.AgeSeconds}}</b></span>
<span data-health="sftp">SFTP: {{if .SFTP.Reachable}}<b class="good">reachable</b>{{else if .SFTP.LastError}}<b class="bad">failing</b> ({{.SFTP.LastError}}){{else}}<b>not tried yet</b>{{end}}</span>
<span data-health="disk">disk: {{if .DiskFull}}<b class="bad">full</b> ({{.DiskFullError}}){{else}}<b class="good">ok</b>{{end}}</span>
{{- range .Webhooks}}
<span data-health="webhook">webhook {{.Name}}: {{if and .Failing .Pending}}<b class="bad">failing</b>, {{.Pending}} waiting{{else if .Pending}}<b>{{.Pending}} waiting</b>{{else}}<b class="good">delivered</b>{{end}}</span>
{{- end}}
<span data-health="watch">new files by: <b>{{if eq .Watch "events"}}file events{{else if eq .Watch "rescans"}}rescans only{{else}}–{{end}}</b></span>
{{- end}}
<span data-health="version">version <b>{{.Build.Version}}</b>{{if .Build.Revision}} ({{printf "%.12s" .Build.Revision}}{{if .Build.Modified}}, modified{{end}}){{end}}</span>
<span data-health="uptime">up <b>{{uptime .UptimeSeconds}}</b></span>
</div>
{{- end}}
{{- end}}
`))
