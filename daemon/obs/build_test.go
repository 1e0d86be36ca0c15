package obs

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// buildOf is a debug.BuildInfo as the linker writes it for a build from
// a VCS checkout.
func buildOf(module string, settings ...string) *debug.BuildInfo {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Path: "refundd/cmd/refundd", Main: debug.Module{Path: "refundd", Version: module}}
	for i := 0; i+1 < len(settings); i += 2 {
		bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
	}
	return bi
}

func TestBuildOf(t *testing.T) {
	const rev = "1d395bd2a40457106b3ea56b000d80ee2f8ae56d"
	vcs := []string{"GOOS", "linux", "GOARCH", "arm64", "vcs", "git", "vcs.revision", rev,
		"vcs.time", "2026-12-07T15:59:12Z", "vcs.modified", "true"}
	here := runtime.GOOS + "/" + runtime.GOARCH
	for _, tc := range []struct {
		name    string
		bi      *debug.BuildInfo
		version string
		want    Build // without Writes and Reads
	}{
		{"nothing known", nil, "", Build{Version: "(devel)", GoVersion: runtime.Version(), Platform: here}},
		{"test binary", buildOf(""), "", Build{Version: "(devel)", GoVersion: "go1.26.8", Platform: here}},
		{"go build in a checkout", buildOf("v0.0.0-20261207155912-1d395bd2a404+dirty", vcs...), "",
			Build{Version: "v0.0.0-20261207155912-1d395bd2a404+dirty", Revision: rev, Time: "2026-12-07T15:59:12Z", Modified: true,
				GoVersion: "go1.26.8", Platform: "linux/arm64"}},
		{"linked version", buildOf("(devel)", vcs...), "1.4.2",
			Build{Version: "1.4.2", Revision: rev, Time: "2026-12-07T15:59:12Z", Modified: true, GoVersion: "go1.26.8", Platform: "linux/arm64"}},
		{"clean tree", buildOf("v1.4.2", "vcs.revision", rev, "vcs.modified", "false"), "",
			Build{Version: "v1.4.2", Revision: rev, GoVersion: "go1.26.8", Platform: here}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := BuildOf(tc.bi, tc.version)
			if !slices.Equal(got.Writes, []string{"pain.001.001.03", "pain.001.001.09"}) {
				t.Errorf("Writes = %v", got.Writes)
			}
			wantReads := []string{"pain.002.001.03", "pain.002.001.03.ch.02", "pain.002.001.10",
				"camt.053.001.02", "camt.054.001.02", "camt.054.001.04", "camt.054.001.08"}
			if !slices.Equal(got.Reads, wantReads) {
				t.Errorf("Reads = %v; want %v", got.Reads, wantReads)
			}
			got.Writes, got.Reads = nil, nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("BuildOf = %+v\nwant      %+v", got, tc.want)
			}
		})
	}
}

// TestBuildJSON: the JSON keys of Build and the types of their values are
// stable; lists are lists even when empty.
func TestBuildJSON(t *testing.T) {
	for _, b := range []Build{
		BuildOf(buildOf("v1.4.2", "vcs.revision", "abc", "vcs.modified", "true"), ""),
		{},
	} {
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		checkBuildJSON(t, m)
	}
}

// checkBuildJSON checks the keys and the types of the values of a Build
// as JSON.
func checkBuildJSON(t *testing.T, m map[string]any) {
	t.Helper()
	keys := []string{"version", "revision", "time", "modified", "goVersion", "platform", "writes", "reads"}
	for k := range m {
		if !slices.Contains(keys, k) {
			t.Errorf("unexpected key %q", k)
		}
	}
	for _, k := range keys {
		v, ok := m[k]
		if !ok {
			t.Errorf("key %q missing", k)
			continue
		}
		var typeOK bool
		switch k {
		case "modified":
			_, typeOK = v.(bool)
		case "writes", "reads":
			_, typeOK = v.([]any)
			if v == nil {
				typeOK = true // the zero Build: null
			}
		default:
			_, typeOK = v.(string)
		}
		if !typeOK {
			t.Errorf("%q is %T (%v)", k, v, v)
		}
	}
}

func TestMetricsBuildInfo(t *testing.T) {
	m := NewMetrics()
	if !strings.Contains(scrape(t, m), "refundd_build_info{") {
		t.Error("no refundd_build_info on a fresh registry")
	}
	m.SetBuild(Build{Version: "1.4.2", Revision: "abc", Modified: true, GoVersion: "go1.26.8"})
	m.SetBuild(Build{Version: "1.4.3", Revision: "def", Modified: false, GoVersion: "go1.26.8"})
	out := scrape(t, m)
	want := `refundd_build_info{goversion="go1.26.8",modified="false",revision="def",version="1.4.3"} 1`
	if !strings.Contains(out, want) {
		t.Errorf("exposition lacks %s", want)
	}
	if n := strings.Count(out, "refundd_build_info{"); n != 1 {
		t.Errorf("%d series of refundd_build_info; want 1 (the build set last)", n)
	}
	if !strings.Contains(out, "go_build_info{") {
		t.Error("go_build_info is gone")
	}
}

func TestHTTPHealth(t *testing.T) {
	b := BuildOf(buildOf("v1.4.2", "vcs.revision", "abc", "vcs.modified", "true"), "")
	for _, tc := range []struct {
		name  string
		build *Build
		want  string // the version reported
	}{
		{"given build", &b, "v1.4.2"},
		{"default", nil, BuildInfo("").Version},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewHTTPServer(HTTPConfig{Addr: "127.0.0.1:0", Logger: zerolog.Nop(), Build: tc.build})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/health", nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("GET /api/health: %d; want 200", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var h map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, rec.Body)
			}
			build, ok := h["build"].(map[string]any)
			if !ok {
				t.Fatalf("no build object: %s", rec.Body)
			}
			checkBuildJSON(t, build)
			if build["version"] != tc.want {
				t.Errorf("version %v; want %s", build["version"], tc.want)
			}
			if up, ok := h["uptimeSeconds"].(float64); !ok || up < 0 || up > float64(time.Minute/time.Second) {
				t.Errorf("uptimeSeconds %v", h["uptimeSeconds"])
			}
			var got Health
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || (tc.build != nil && !reflect.DeepEqual(got.Build, b)) {
				t.Errorf("Health %+v, %v; want the build %+v", got, err, b)
			}
		})
	}
}
