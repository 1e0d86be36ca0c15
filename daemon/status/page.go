package status

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

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
// role; the page's header shows them beside the leader.
func Handle(mux Mux, s Store, self Self) {
	mux.Handle("GET /status", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		batch := r.URL.Query().Get("batch")
		switch r.URL.Query().Get("format") {
		case "json":
			serveStatus(w, r, s, self, batch, "json")
		case "text":
			serveStatus(w, r, s, self, batch, "text")
		default:
			serveStatus(w, r, s, self, batch, "html")
		}
	}))
	mux.Handle("GET /api/batches", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveStatus(w, r, s, self, "", "json")
	}))
	mux.Handle("GET /api/batches/{batch}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveStatus(w, r, s, self, r.PathValue("batch"), "json")
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
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(l) // an error means the client went away
	}))
}

// statusRefresh is how often the status page reloads its content.
const statusRefresh = 3 * time.Second

func serveStatus(w http.ResponseWriter, r *http.Request, s Store, self Self, batch, format string) {
	at, err := pageAt(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	bs, err := ListPage(r.Context(), s, batch, at)
	var leader *Leader
	if err == nil && format != "json" {
		leader, err = LeaderOf(r.Context(), s, self)
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
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy",
			"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'")
		statusPage.Execute(w, statusView{Batch: batch, Batches: bs, Leader: leader, Now: time.Now(), RefreshMillis: statusRefresh.Milliseconds()})
	}
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
	Leader        *Leader // nil with the SQLite store
	Now           time.Time
	RefreshMillis int64
}

var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.Local().Format(timeLayout)
	},
	"join":     strings.Join,
	"pageSize": func() int { return PageSize },
	"seconds": func(f float64) string {
		return (time.Duration(f * float64(time.Second))).Round(time.Second).String()
	},
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
<title>refundd{{if .Batch}} – {{.Batch}}{{end}}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .2em; }
h2 { font-size: 1.1em; margin: 1.5em 0 .4em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f4f4f4; font-weight: 600; }
td.num { text-align: right; }
code { font: 12px ui-monospace, monospace; }
.good { color: #176b2c; } .bad { color: #a4161a; font-weight: 600; } .wait { color: #7a5d00; }
.meta { color: #666; font-size: .9em; }
a { color: #0b57d0; }
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
<h2>Attempt {{.Attempt}}: <code>{{.MsgID}}</code> <span class="{{statusClass .Status}}" data-batch-status="{{.Status}}">{{.Status}}</span></h2>
<p class="meta">{{.Refunds}} refunds{{range .Counts}} · <span class="{{statusClass .Status}}" data-count="{{.Status}}">{{.Refunds}} {{.Status}}</span>{{end}} · {{join .Totals ", "}} · created {{when .Created}} · sent {{when .Sent}} · updated {{when .Updated}}{{if .Reason}} · {{.Reason}}{{end}}</p>
{{- template "pager" .}}
<table>
<thead><tr><th>Ref</th><th>Type</th><th>Customer</th><th>EndToEndId</th><th>Amount</th><th>Execution</th><th>Status</th><th>Reason</th><th>Bank reference</th><th>Updated</th></tr></thead>
<tbody>
{{- range .Items}}
<tr data-ref="{{.RefNbr}}"><td>{{.RefNbr}}</td><td>{{.DocType}}</td><td>{{.CustomerID}}</td><td><code>{{.EndToEndID}}</code></td><td class="num">{{.Amount}}</td><td>{{.ExecutionDate}}</td><td class="{{statusClass .Status}}">{{.Status}}</td><td class="reason">{{if .ReasonCode}}{{.ReasonCode}} {{.ReasonText}}{{else}}–{{end}}</td><td>{{if .BankRefs}}<code>{{join .BankRefs ", "}}</code>{{else}}–{{end}}</td><td>{{when .Updated}}</td></tr>
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
{{- else}}
<h1>refundd – batches</h1>
<p class="meta">as of <span id="asof">{{when .Now}}</span> · <a href="/api/batches">JSON</a></p>
{{- if .Batches}}
<table>
<thead><tr><th>Batch</th><th>Attempt</th><th>MsgId</th><th>Status</th><th>Refunds</th><th>Total</th><th>Created</th><th>Sent</th><th>Updated</th></tr></thead>
<tbody>
{{- range .Batches}}
<tr><td><a href="/status?batch={{.MsgID}}">{{.Batch}}</a></td><td class="num">{{.Attempt}}</td><td><code>{{.MsgID}}</code></td><td class="{{statusClass .Status}}">{{.Status}}{{if .Reason}} ({{.Reason}}){{end}}</td><td class="num">{{.Refunds}}</td><td class="num">{{join .Totals ", "}}</td><td>{{when .Created}}</td><td>{{when .Sent}}</td><td>{{when .Updated}}</td></tr>
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
      if (next) { document.getElementById("content").innerHTML = next.innerHTML; }
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
`))
