package depcheck

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// allowed lists, for each of refundd's packages, the packages of refundd
// it may import (not counting its tests). A name ending in "/..." stands
// for that package and every package below it. The flow reads top down:
//
//	cmd/refundd → daemon → {render, reply} → config → refund, erp, formats, sftpx
//
// with the operator's tools (status, validate, doctor) and the sandbox
// beside the service, used by the command only, and the leaves below.
var allowed = map[string][]string{
	"refundd/cmd/refundd": {"refundd/daemon/...", "refundd/formats/...", "refundd/sftpx"},
	"refundd/daemon": {"refundd/daemon/config", "refundd/daemon/render", "refundd/daemon/reply",
		"refundd/daemon/erp", "refundd/daemon/store", "refundd/daemon/spool", "refundd/daemon/atomicfile",
		"refundd/daemon/lock", "refundd/daemon/notify", "refundd/daemon/obs", "refundd/daemon/failpoint",
		"refundd/daemon/refund", "refundd/daemon/webhook", "refundd/formats", "refundd/sftpx", "refundd/internal/fsync"},
	"refundd/daemon/validate": {"refundd/daemon/config", "refundd/daemon/erp", "refundd/daemon/render", "refundd/daemon/reply",
		"refundd/daemon/refund", "refundd/formats/..."},
	"refundd/daemon/status":  {"refundd/daemon/store", "refundd/daemon/refund", "refundd/daemon/obs"},
	"refundd/daemon/webhook": {"refundd/daemon/store", "refundd/daemon/refund", "refundd/daemon/obs"},
	"refundd/daemon/doctor":  {"refundd/daemon/config", "refundd/daemon/store", "refundd/sftpx"},
	"refundd/daemon/render": {"refundd/daemon/config", "refundd/daemon/erp", "refundd/daemon/refund",
		"refundd/formats", "refundd/formats/pain001"},
	"refundd/daemon/reply": {"refundd/daemon/erp", "refundd/daemon/refund", "refundd/daemon/failpoint",
		"refundd/formats", "refundd/formats/camt054", "refundd/formats/pain002"},
	"refundd/daemon/config":     {"refundd/daemon/refund", "refundd/formats/pain001", "refundd/sftpx"},
	"refundd/daemon/sandbox":    {"refundd/daemon/refund", "refundd/formats/...", "refundd/sftpx"},
	"refundd/daemon/erp":        {"refundd/daemon/refund", "refundd/daemon/atomicfile", "refundd/daemon/failpoint", "refundd/internal/fsync"},
	"refundd/daemon/store":      {"refundd/daemon/refund", "refundd/daemon/failpoint", "refundd/internal/fsync"},
	"refundd/daemon/obs":        {"refundd/daemon/refund", "refundd/formats", "refundd/formats/pain001", "refundd/formats/pain002", "refundd/formats/camt054"},
	"refundd/daemon/spool":      {"refundd/daemon/failpoint", "refundd/internal/fsync"},
	"refundd/daemon/atomicfile": {"refundd/internal/fsync"},
	"refundd/daemon/refund":     {},
	"refundd/daemon/lock":       {},
	"refundd/daemon/notify":     {},
	"refundd/daemon/failpoint":  {},
	// Only tests import testutil.
	"refundd/internal/testutil":        {"refundd/daemon/...", "refundd/formats/...", "refundd/sftpx/...", "refundd/internal/pgtest"},
	"refundd/formats":                  {"refundd/formats/internal/..."},
	"refundd/formats/camt054":          {"refundd/formats", "refundd/formats/internal/..."},
	"refundd/formats/pain001":          {"refundd/formats", "refundd/formats/internal/..."},
	"refundd/formats/pain002":          {"refundd/formats", "refundd/formats/internal/..."},
	"refundd/formats/internal/field":   {"refundd/formats", "refundd/formats/internal/xmlin"},
	"refundd/formats/internal/samples": {"refundd/formats/xsdtest"},
	"refundd/formats/internal/xmlin":   {},
	"refundd/formats/internal/xmlout":  {},
	"refundd/formats/xsdtest":          {},
	"refundd/sftpx":                    {"refundd/internal/fsync"},
	"refundd/sftpx/sshdtest":           {},
	"refundd/internal/fsync":           {},
	"refundd/internal/depcheck":        {},
	"refundd/internal/pgtest":          {},
	"refundd/internal/openapitest":     {},
}

// testOnly are the packages that no package may import outside its tests.
var testOnly = []string{"refundd/internal/testutil", "refundd/internal/pgtest", "refundd/internal/openapitest", "refundd/formats/internal/samples", "refundd/formats/xsdtest", "refundd/sftpx/sshdtest"}

// TestImports fails on every import of a refundd package that allowed does
// not list, and on a package that allowed does not know.
func TestImports(t *testing.T) {
	for pkg, imports := range goList(t) {
		rules, known := allowed[pkg]
		if !known {
			t.Errorf("%s is not in the table of allowed imports: add it, with what it may import", pkg)
			continue
		}
		for _, imp := range imports {
			if !strings.HasPrefix(imp, "refundd/") {
				continue
			}
			if !permitted(rules, imp) {
				t.Errorf("%s imports %s, which it may not (allowed: %v)", pkg, imp, rules)
			}
			if slices.Contains(testOnly, imp) && !slices.Contains(testOnly, pkg) {
				t.Errorf("%s imports %s, which only tests may", pkg, imp)
			}
		}
	}
}

// permitted reports whether imp matches one of rules.
func permitted(rules []string, imp string) bool {
	for _, r := range rules {
		if base, ok := strings.CutSuffix(r, "/..."); ok {
			if imp == base || strings.HasPrefix(imp, base+"/") {
				return true
			}
		} else if imp == r {
			return true
		}
	}
	return false
}

// goList returns every package of the module with its imports (without
// those of its tests), from go list.
func goList(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "refundd/...").Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	pkgs := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkgs[fields[0]] = fields[1:]
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}
