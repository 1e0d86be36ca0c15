package main

import (
	"bytes"
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"

	"refundd/daemon/obs"
)

// TestVersionJSON: refundd version -json writes one JSON object with the
// documented keys, the revision a string and the modified flag a bool,
// also when the test binary carries no VCS settings.
func TestVersionJSON(t *testing.T) {
	code, out, errs := runCmd("version", "-json")
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d; want 0\n%s", code, errs)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if dec.More() {
		t.Errorf("more than one JSON value:\n%s", out)
	}
	for key, typ := range map[string]string{"version": "string", "revision": "string", "time": "string", "modified": "bool",
		"goVersion": "string", "platform": "string", "writes": "list", "reads": "list"} {
		var ok bool
		switch typ {
		case "string":
			_, ok = m[key].(string)
		case "bool":
			_, ok = m[key].(bool)
		case "list":
			var l []any
			l, ok = m[key].([]any)
			ok = ok && len(l) > 0
		}
		if !ok {
			t.Errorf("%q is %T (%v); want a %s", key, m[key], m[key], typ)
		}
	}
	if len(m) != 8 {
		t.Errorf("%d keys; want 8:\n%s", len(m), out)
	}
}

// TestWriteVersion formats the build of a binary linked with a version,
// from a VCS checkout with changes.
func TestWriteVersion(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "refundd", Version: "v0.0.0-20261207155912-1d395bd2a404+dirty"},
		Settings: []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"},
			{Key: "vcs.revision", Value: "1d395bd2a40457106b3ea56b000d80ee2f8ae56d"},
			{Key: "vcs.time", Value: "2026-12-07T15:59:12Z"}, {Key: "vcs.modified", Value: "true"}}}
	b := obs.BuildOf(bi, "1.4.2")
	for _, tc := range []struct {
		name   string
		asJSON bool
		want   string
	}{
		{"text", false, `refundd   1.4.2
revision  1d395bd2a40457106b3ea56b000d80ee2f8ae56d
time      2026-12-07T15:59:12Z
modified  true
go        go1.26.8
platform  linux/amd64
writes    pain.001.001.03, pain.001.001.09
reads     pain.002.001.03, pain.002.001.03.ch.02, pain.002.001.10, camt.053.001.02, camt.054.001.02, camt.054.001.04, camt.054.001.08
`},
		{"json", true, `{"version":"1.4.2","revision":"1d395bd2a40457106b3ea56b000d80ee2f8ae56d","time":"2026-12-07T15:59:12Z",` +
			`"modified":true,"goVersion":"go1.26.8","platform":"linux/amd64","writes":["pain.001.001.03","pain.001.001.09"],` +
			`"reads":["pain.002.001.03","pain.002.001.03.ch.02","pain.002.001.10","camt.053.001.02","camt.054.001.02","camt.054.001.04","camt.054.001.08"]}
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := writeVersion(&out, b, tc.asJSON); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", out.String(), tc.want)
			}
		})
	}
	var out bytes.Buffer
	if err := writeVersion(&out, obs.BuildOf(nil, ""), false); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"refundd   (devel)\n", "revision  unknown\n", "time      unknown\n", "modified  false\n"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("a build without VCS settings lacks %q:\n%s", w, out.String())
		}
	}
}

func TestVersionUsage(t *testing.T) {
	if code, _, _ := runCmd("version", "extra"); code != exitUsage {
		t.Errorf("version extra: exit %d; want %d", code, exitUsage)
	}
	if code, _, _ := runCmd("version", "-yaml"); code != exitUsage {
		t.Errorf("version -yaml: exit %d; want %d", code, exitUsage)
	}
}
