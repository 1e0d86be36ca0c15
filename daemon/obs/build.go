package obs

import (
	"encoding/json"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"refundd/formats"
	"refundd/formats/camt054"
	"refundd/formats/pain001"
	"refundd/formats/pain002"
)

// develVersion is the version of a build that carries none.
const develVersion = "(devel)"

// Build says exactly which build of refundd runs: what refundd version
// prints, what GET /api/health reports and what the refundd_build_info
// metric carries as labels. Its JSON keys are stable.
type Build struct {
	// Version is the release version set when the binary was linked, else
	// the main module's version, else "(devel)".
	Version string `json:"version"`
	// Revision is the version-control revision the binary was built from,
	// "" when unknown.
	Revision string `json:"revision"`
	// Time is the time of that revision (RFC 3339), "" when unknown.
	Time string `json:"time"`
	// Modified reports that the working tree had changes that were not
	// committed when the binary was built.
	Modified bool `json:"modified"`
	// GoVersion is the Go toolchain that built the binary, e.g. go1.26.8.
	GoVersion string `json:"goVersion"`
	// Platform is GOOS/GOARCH, e.g. linux/amd64.
	Platform string `json:"platform"`
	// Writes are the messages refundd writes (the pain.001 versions that
	// pain001.version may choose), Reads those it reads from the bank.
	Writes []string `json:"writes"`
	Reads  []string `json:"reads"`
}

// BuildInfo returns the build of the running binary, from
// debug.ReadBuildInfo. A version that is not "" is the release version set
// at link time; it takes the place of the module version.
func BuildInfo(version string) Build {
	bi, _ := debug.ReadBuildInfo()
	return BuildOf(bi, version)
}

// BuildOf returns the build that bi describes (nil: nothing is known of
// it), with version as BuildInfo takes it. What bi does not say is taken
// from the running program: the Go version and the platform.
func BuildOf(bi *debug.BuildInfo, version string) Build {
	b := Build{Version: develVersion, GoVersion: runtime.Version(), Writes: []string{}, Reads: []string{}}
	goos, goarch := runtime.GOOS, runtime.GOARCH
	if bi != nil {
		if v := bi.Main.Version; v != "" {
			b.Version = v
		}
		if bi.GoVersion != "" {
			b.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.time":
				b.Time = s.Value
			case "vcs.modified":
				b.Modified, _ = strconv.ParseBool(s.Value)
			case "GOOS":
				goos = s.Value
			case "GOARCH":
				goarch = s.Value
			}
		}
	}
	if version != "" {
		b.Version = version
	}
	b.Platform = goos + "/" + goarch
	for _, v := range pain001.Versions() {
		if m, ok := formats.Lookup(v.Namespace()); ok {
			b.Writes = append(b.Writes, m.String())
		}
	}
	for _, m := range append(pain002.Versions(), camt054.Versions()...) {
		b.Reads = append(b.Reads, m.String())
	}
	return b
}

// healthHandler serves GET /api/health: r's Health now.
func healthHandler(r *HealthReport) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		h := r.Health(time.Now())
		hd := w.Header()
		hd.Set("Content-Type", "application/json")
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Content-Type-Options", "nosniff")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(h) // an error means the client went away
	}
}
