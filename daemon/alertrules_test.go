package daemon

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"refundd/daemon/obs"
	"refundd/internal/testutil"
)

// The alert rules shipped for Prometheus, and their unit tests.
var (
	alertRules     = filepath.Join("..", "configs", "prometheus", "refundd-rules.yml")
	alertRuleTests = filepath.Join("..", "configs", "prometheus", "refundd-rules.test.yml")
)

// alertRule is one rule of the rules file, as far as the tests read it.
type alertRule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// readAlertRules returns the rules of the rules file, in its order.
func readAlertRules(t *testing.T) []alertRule {
	t.Helper()
	var f struct {
		Groups []struct {
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(readFile(t, alertRules), &f); err != nil {
		t.Fatalf("%s: %v", alertRules, err)
	}
	var rules []alertRule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		t.Fatalf("%s holds no rules", alertRules)
	}
	return rules
}

// TestAlertRulesPromtool: promtool finds the rules file valid and its unit
// tests pass, and the unit tests have, for every alert, a case where it
// fires and one where it stays silent. Every alert has a severity and the
// annotations an operator reads. Without promtool the test is skipped,
// except in CI (CI=true), where it fails.
func TestAlertRulesPromtool(t *testing.T) {
	rules := readAlertRules(t)
	for _, r := range rules {
		if s := r.Labels["severity"]; s != "critical" && s != "warning" {
			t.Errorf("%s: severity %q, want critical or warning", r.Alert, s)
		}
		for _, a := range []string{"summary", "description", "status_page"} {
			if strings.TrimSpace(r.Annotations[a]) == "" {
				t.Errorf("%s: no %s annotation", r.Alert, a)
			}
		}
	}

	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(readFile(t, alertRuleTests), &tests); err != nil {
		t.Fatalf("%s: %v", alertRuleTests, err)
	}
	firing, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				firing[a.Alertname] = true
			} else {
				silent[a.Alertname] = true
			}
		}
	}
	for _, r := range rules {
		if !firing[r.Alert] || !silent[r.Alert] {
			t.Errorf("%s: the unit tests have a firing case %v, a silent case %v; want both", r.Alert, firing[r.Alert], silent[r.Alert])
		}
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("promtool is not installed (Debian package prometheus): %v", err)
		}
		t.Skipf("promtool is not installed (Debian package prometheus); CI installs it: %v", err)
	}
	for _, args := range [][]string{{"check", "rules", alertRules}, {"test", "rules", alertRuleTests}} {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		out, err := exec.CommandContext(ctx, promtool, args...).CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

var (
	// refunddSelector finds refundd's metrics in an expression, with the
	// label matchers in braces after one.
	refunddSelector = regexp.MustCompile(`\b(refundd_[a-zA-Z0-9_]+)(?:\s*\{([^}]*)\})?`)
	// labelMatcher is one matcher of a selector: name, operator, value.
	labelMatcher = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"`)
	// exposedSeries is a line of the text exposition: name, labels.
	exposedSeries = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? `)
	// exposedLabel is a label of an exposed series.
	exposedLabel = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// TestAlertRulesMetricsExist: every refundd metric an alert rule reads,
// with every label value it selects (name="value", or each value of
// name=~"a|b"), is in a scrape of /metrics of a daemon that has taken a
// batch, uploaded it and read a camt.054 with an entry that is not
// refundd's (an exception): a renamed metric, label or label value breaks
// the test, not the alert.
func TestAlertRulesMetricsExist(t *testing.T) {
	e := newDaemonEnv(t)
	opts := e.options(t)
	opts.Metrics = obs.NewMetrics()
	d := e.daemon(t, opts)
	drop(t, filepath.Join(e.dir, "export"), "batch-ok.csv", readFile(t, "testdata/batch-ok.csv"))
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	drop(t, filepath.Join(e.dir, "inbox"), "camt054.xml", testutil.Notification(t, e.sent(t, testMsgID), ""))
	if err := d.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	series := scrapeSeries(t, opts.Metrics.Handler())

	for _, r := range readAlertRules(t) {
		sels := refunddSelector.FindAllStringSubmatch(r.Expr, -1)
		if len(sels) == 0 && !strings.Contains(r.Expr, `up{job="refundd"}`) {
			t.Errorf("%s reads no refundd metric: %s", r.Alert, r.Expr)
		}
		for _, sel := range sels {
			name := sel[1]
			have := series[name]
			if len(have) == 0 {
				t.Errorf("%s reads %s, which /metrics does not have", r.Alert, name)
				continue
			}
			for _, m := range labelMatcher.FindAllStringSubmatch(sel[2], -1) {
				label, op, value := m[1], m[2], m[3]
				var want []string
				switch op {
				case "=":
					want = []string{value}
				case "=~":
					if strings.ContainsAny(value, `.*+?()[]{}^$\`) {
						t.Errorf("%s: %s{%s=~%q}: a regular expression the test cannot check; use a list a|b", r.Alert, name, label, value)
						continue
					}
					want = strings.Split(value, "|")
				default:
					want = nil // a negative matcher selects nothing by name
				}
				for _, v := range want {
					if !slices.ContainsFunc(have, func(ls map[string]string) bool { return ls[label] == v }) {
						t.Errorf("%s reads %s{%s=%q}, which /metrics does not have", r.Alert, name, label, v)
					}
				}
			}
		}
	}
}

// scrapeSeries GETs /metrics from h over HTTP and returns the label sets
// of its series by metric name.
func scrapeSeries(t *testing.T, h http.Handler) map[string][]map[string]string {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d, %v", resp.StatusCode, err)
	}
	series := map[string][]map[string]string{}
	for _, line := range strings.Split(string(body), "\n") {
		m := exposedSeries.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		labels := map[string]string{}
		for _, l := range exposedLabel.FindAllStringSubmatch(m[2], -1) {
			labels[l[1]] = l[2]
		}
		series[m[1]] = append(series[m[1]], labels)
	}
	if len(series["refundd_uploads_total"]) == 0 {
		t.Fatalf("GET /metrics has no refundd_uploads_total:\n%s", body)
	}
	return series
}
