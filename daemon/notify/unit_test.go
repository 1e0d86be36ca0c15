package notify

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The systemd files that ship with refundd, next to this package's
// messages: the unit is what makes Ready, Reloading and Watchdog matter.
const (
	unitFile     = "../../systemd/refundd.service"
	templateFile = "../../systemd/refundd@.service"
	targetFile   = "../../systemd/refundd.target"
	sysusersFile = "../../systemd/refundd.sysusers"
	tmpfilesFile = "../../systemd/refundd.tmpfiles"
)

// maxExposure is the worst "systemd-analyze security" rating allowed.
const maxExposure = 2.0

// unit is a parsed unit file: section → key → values in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		case strings.HasSuffix(line, `\`):
			t.Fatalf("%s:%d: line continuations are not expected", path, n)
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: %q is no key=value in a section", path, n, line)
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			u[section][k] = append(u[section][k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// last returns the effective value of a key that takes one value.
func (u unit) last(section, key string) (string, bool) {
	vs, ok := u[section][key]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

// directive is a key a unit must set, and the value it must have.
type directive struct {
	section, key string
	want         string // a regular expression for the whole value
}

// commonDirectives are the directives both service units share.
var commonDirectives = []directive{
	{"Unit", "After", `.*\bnetwork-online\.target\b.*`},
	{"Unit", "Wants", `.*\bnetwork-online\.target\b.*`},
	{"Service", "Type", `notify`},
	{"Service", "NotifyAccess", `main`},
	{"Service", "WatchdogSec", `[1-9][0-9]*s`},
	{"Service", "ExecReload", `/bin/kill -HUP \$MAINPID`},
	{"Service", "RestartSec", `[1-9][0-9]*s`},
	{"Service", "RestartPreventExitStatus", `2`},
	// Lines refundd writes without a priority (before its log exists, a
	// crash) must not pass as info: journalctl -p warning would hide why
	// refundd does not start.
	{"Service", "SyslogLevel", `err`},
	{"Service", "User", `refundd`},
	{"Service", "Group", `refundd`},
	{"Service", "UMask", `0027`},
	{"Service", "StateDirectoryMode", `0750`},
	{"Service", "ConfigurationDirectory", `refundd`},
	{"Service", "NoNewPrivileges", `yes`},
	{"Service", "ProtectSystem", `strict`},
	{"Service", "ProtectHome", `yes`},
	{"Service", "PrivateTmp", `yes`},
	{"Service", "PrivateDevices", `yes`},
	{"Service", "CapabilityBoundingSet", ``},
	{"Service", "AmbientCapabilities", ``},
	{"Service", "RestrictAddressFamilies", `AF_UNIX AF_INET AF_INET6`},
	{"Service", "SystemCallArchitectures", `native`},
	{"Service", "SystemCallErrorNumber", `EPERM`},
}

// serviceUnit is one of the service units that ship with refundd.
type serviceUnit struct {
	name string
	path string
	// own holds the directives that set this unit apart from the other.
	own []directive
	// template marks refundd@.service, one instance per company.
	template bool
}

var (
	singleUnit = serviceUnit{name: "refundd.service", path: unitFile, own: []directive{
		{"Service", "ExecStart", `/usr/local/bin/refundd run -config /etc/refundd/refundd\.yaml`},
		{"Service", "Restart", `on-failure`},
		{"Service", "StateDirectory", `refundd`},
		{"Service", "ReadWritePaths", `/srv/refundd`},
		{"Install", "WantedBy", `multi-user\.target`},
	}}
	// Restart=, ExecStart=, StateDirectory= and WantedBy= of the template
	// are checked by checkTemplate.
	templateUnit = serviceUnit{name: "refundd@.service", path: templateFile, template: true, own: []directive{
		{"Unit", "Description", `refundd for %i: .+`},
		{"Unit", "RequiresMountsFor", `/srv/refunds`},
		{"Unit", "PartOf", `refundd\.target`},
		{"Service", "ReadWritePaths", `/srv/refunds`},
	}}
	serviceUnits = []serviceUnit{singleUnit, templateUnit}
)

// checkDirectives returns what is wrong with the directives of the unit at
// path.
func checkDirectives(t *testing.T, path string, own []directive) []string {
	t.Helper()
	u := parseUnit(t, path)
	var problems []string
	for _, d := range append(append([]directive{}, commonDirectives...), own...) {
		got, ok := u.last(d.section, d.key)
		if !ok {
			problems = append(problems, fmt.Sprintf("[%s] %s= is missing; want %q", d.section, d.key, d.want))
			continue
		}
		if !regexp.MustCompile(`^(?:` + d.want + `)$`).MatchString(got) {
			problems = append(problems, fmt.Sprintf("[%s] %s=%s; want %q", d.section, d.key, got, d.want))
		}
	}
	if filters := strings.Join(u["Service"]["SystemCallFilter"], "\n"); filters != "@system-service\n~@privileged @resources" {
		problems = append(problems, fmt.Sprintf("SystemCallFilter= lines:\n%s\nwant @system-service, then ~@privileged @resources", filters))
	}
	for _, key := range []string{"DynamicUser", "PrivateNetwork"} {
		if v, ok := u.last("Service", key); ok && v != "no" {
			problems = append(problems, fmt.Sprintf("%s=%s: the shared folders need a static user and SFTP the network", key, v))
		}
	}
	return problems
}

// checkTemplate returns what is wrong with the template at path as a unit
// for one company among many: it comes back after every exit, its
// configuration and state are the instance's, and enabling it adds it to
// refundd.target, which lies next to it and is started at boot.
func checkTemplate(t *testing.T, path string) []string {
	t.Helper()
	u := parseUnit(t, path)
	var problems []string
	if v, _ := u.last("Service", "Restart"); v != "always" {
		problems = append(problems, fmt.Sprintf("Restart=%s; want always: a leader that loses its lease exits and must come back as a standby", v))
	}
	execStart, _ := u.last("Service", "ExecStart")
	switch m := regexp.MustCompile(`^/usr/local/bin/refundd run -config (\S+)$`).FindStringSubmatch(execStart); {
	case m == nil:
		problems = append(problems, fmt.Sprintf("ExecStart=%s; want /usr/local/bin/refundd run -config /etc/refundd/%%i.yaml", execStart))
	case !strings.Contains(m[1], "%i"):
		problems = append(problems, fmt.Sprintf("ExecStart= -config %s: no %%i, every company would read the same; want /etc/refundd/%%i.yaml", m[1]))
	case m[1] != "/etc/refundd/%i.yaml":
		problems = append(problems, fmt.Sprintf("ExecStart= -config %s; want /etc/refundd/%%i.yaml", m[1]))
	}
	switch sd, _ := u.last("Service", "StateDirectory"); {
	case !strings.Contains(sd, "%i"):
		problems = append(problems, fmt.Sprintf("StateDirectory=%s: no %%i, every company would share it; want refundd/%%i", sd))
	case sd != "refundd/%i":
		problems = append(problems, fmt.Sprintf("StateDirectory=%s; want refundd/%%i", sd))
	}

	target, _ := u.last("Install", "WantedBy")
	if target != "refundd.target" {
		problems = append(problems, fmt.Sprintf("[Install] WantedBy=%s; want refundd.target", target))
		return problems
	}
	if partOf, _ := u.last("Unit", "PartOf"); partOf != target {
		problems = append(problems, fmt.Sprintf("PartOf=%s; want %s, the target WantedBy= names", partOf, target))
	}
	tpath := filepath.Join(filepath.Dir(path), target)
	if _, err := os.Stat(tpath); err != nil {
		return append(problems, fmt.Sprintf("[Install] WantedBy=%s, but: %v", target, err))
	}
	tu := parseUnit(t, tpath)
	if d, _ := tu.last("Unit", "Description"); d == "" {
		problems = append(problems, tpath+": [Unit] Description= is missing")
	}
	for _, key := range []string{"Wants", "Requires"} {
		if vs := tu["Unit"][key]; len(vs) > 0 {
			problems = append(problems, fmt.Sprintf("%s: %s=%s; the instances come through their own WantedBy=", tpath, key, strings.Join(vs, " ")))
		}
	}
	if wb, _ := tu.last("Install", "WantedBy"); wb != "multi-user.target" {
		problems = append(problems, fmt.Sprintf("%s: [Install] WantedBy=%s; want multi-user.target", tpath, wb))
	}
	return problems
}

func TestUnitDirectives(t *testing.T) {
	for _, su := range serviceUnits {
		t.Run(su.name, func(t *testing.T) {
			problems := checkDirectives(t, su.path, su.own)
			if su.template {
				problems = append(problems, checkTemplate(t, su.path)...)
			}
			for _, p := range problems {
				t.Error(p)
			}
		})
	}
}

// TestTemplateBroken breaks the template one way at a time and expects
// the checks to notice.
func TestTemplateBroken(t *testing.T) {
	orig, err := os.ReadFile(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	drop := func(prefixes ...string) func(string) string {
		return func(s string) string {
			var keep []string
			for _, line := range strings.Split(s, "\n") {
				if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(line, p) }) {
					keep = append(keep, line)
				}
			}
			return strings.Join(keep, "\n")
		}
	}
	replace := func(old, with string) func(string) string {
		return func(s string) string { return strings.ReplaceAll(s, old, with) }
	}
	for _, tc := range []struct {
		name     string
		mutate   func(string) string
		noTarget bool   // refundd.target is not next to the template
		want     string // a problem contains this
		security bool   // the systemd-analyze rating must fail instead
	}{
		{name: "no NoNewPrivileges", mutate: drop("NoNewPrivileges="), want: "NoNewPrivileges= is missing"},
		{name: "Restart=on-failure", mutate: replace("Restart=always", "Restart=on-failure"), want: "Restart=on-failure; want always"},
		{name: "one config for all", mutate: replace("/etc/refundd/%i.yaml", "/etc/refundd/refundd.yaml"), want: "-config /etc/refundd/refundd.yaml: no %i"},
		{name: "one state folder for all", mutate: replace("StateDirectory=refundd/%i", "StateDirectory=refundd"), want: "StateDirectory=refundd: no %i"},
		{name: "installed into multi-user.target", mutate: replace("WantedBy=refundd.target", "WantedBy=multi-user.target"), want: "WantedBy=multi-user.target; want refundd.target"},
		{name: "refundd.target missing", mutate: func(s string) string { return s }, noTarget: true, want: "WantedBy=refundd.target, but"},
		{name: "hardening stripped", mutate: drop("NoNewPrivileges=", "ProtectSystem=", "SystemCallFilter="), security: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			broken := tc.mutate(string(orig))
			if broken == string(orig) && !tc.noTarget {
				t.Fatal("the change left the template as it was")
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "refundd@.service")
			if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
				t.Fatal(err)
			}
			if !tc.noTarget {
				b, err := os.ReadFile(targetFile)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "refundd.target"), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.security {
				level, out, err := rate(t, analyzer(t), path, true)
				t.Logf("exposure %.1f", level)
				if level <= maxExposure && err == nil {
					t.Errorf("exposure level %.1f passes; want worse than %.1f:\n%s", level, maxExposure, out)
				}
				return
			}
			problems := append(checkDirectives(t, path, templateUnit.own), checkTemplate(t, path)...)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("no problem contains %q; got:\n%s", tc.want, strings.Join(problems, "\n"))
			}
		})
	}
}

// TestUnitMatchesSysusersAndTmpfiles checks that the three files agree: the
// unit's user is the one sysusers creates, and the shared folders tmpfiles
// creates lie inside the unit's ReadWritePaths.
func TestUnitMatchesSysusersAndTmpfiles(t *testing.T) {
	u := parseUnit(t, unitFile)
	user, _ := u.last("Service", "User")
	rw, _ := u.last("Service", "ReadWritePaths")

	users := map[string]string{} // name → home
	for _, f := range fields(t, sysusersFile) {
		if f[0] == "u" && len(f) >= 5 {
			users[f[1]] = f[4]
		}
	}
	if home, ok := users[user]; !ok {
		t.Errorf("%s creates no user %q (User= of the unit)", sysusersFile, user)
	} else if sd, _ := u.last("Service", "StateDirectory"); home != "/var/lib/"+sd {
		t.Errorf("%s: home of %s is %s; want the state directory /var/lib/%s", sysusersFile, user, home, sd)
	}

	dirs := map[string]string{} // path → "mode user group"
	for _, f := range fields(t, tmpfilesFile) {
		if len(f) < 5 || f[0] != "d" {
			t.Errorf("%s: %q: want only d lines", tmpfilesFile, strings.Join(f, " "))
			continue
		}
		dirs[f[1]] = strings.Join(f[2:5], " ")
	}
	for _, sub := range []string{"export", "export/failed", "inbox", "inbox/failed", "import"} {
		p := filepath.Join(rw, sub)
		if got, want := dirs[p], "2770 "+user+" "+user; got != want {
			t.Errorf("%s: %s is %q; want %q", tmpfilesFile, p, got, want)
		}
	}
	for p := range dirs {
		if p != rw && !strings.HasPrefix(p, rw+"/") {
			t.Errorf("%s creates %s, outside ReadWritePaths=%s", tmpfilesFile, p, rw)
		}
	}
}

// TestTemplateMatchesSysusers checks that the template's user is the one
// sysusers creates, and that its home holds every company's state folder.
// The template's shared folder is an NFS share set up once for both hosts,
// not by refundd.tmpfiles.
func TestTemplateMatchesSysusers(t *testing.T) {
	u := parseUnit(t, templateFile)
	user, _ := u.last("Service", "User")
	users := map[string]string{} // name → home
	for _, f := range fields(t, sysusersFile) {
		if f[0] == "u" && len(f) >= 5 {
			users[f[1]] = f[4]
		}
	}
	sd, _ := u.last("Service", "StateDirectory")
	if home, ok := users[user]; !ok {
		t.Errorf("%s creates no user %q (User= of the template)", sysusersFile, user)
	} else if want := "/var/lib/" + strings.TrimSuffix(sd, "/%i"); home != want {
		t.Errorf("%s: home of %s is %s; want %s, the parent of StateDirectory=%s", sysusersFile, user, home, want, sd)
	}
}

// fields returns the whitespace-separated fields of the lines of a
// sysusers.d or tmpfiles.d file that are not comments.
func fields(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		var f []string
		// A quoted GECOS field in sysusers.d may hold spaces.
		for _, m := range regexp.MustCompile(`"[^"]*"|\S+`).FindAllString(line, -1) {
			f = append(f, strings.Trim(m, `"`))
		}
		out = append(out, f)
	}
	return out
}

// analyzer returns the path of systemd-analyze (Debian package systemd).
// It skips the test when the tool is missing, except in CI.
func analyzer(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("systemd-analyze is missing (apt-get install systemd): %v", err)
		}
		t.Skip("systemd-analyze is missing (apt-get install systemd)")
	}
	return bin
}

// instance is the company a template is rated as: systemd-analyze rates a
// unit, and a template becomes one only with an instance name.
const instance = "acme"

// rate runs "systemd-analyze security" on the unit at path and returns its
// overall exposure level, the output and the exit error, which is not nil
// when the level is worse than maxExposure. A template is rated through a
// copy named for the instance.
func rate(t *testing.T, bin, path string, template bool) (float64, []byte, error) {
	t.Helper()
	if template {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.Replace(filepath.Base(path), "@.", "@"+instance+".", 1)
		path = filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	// --threshold is 10 × the exposure level: fail above maxExposure.
	threshold := strconv.Itoa(int(maxExposure * 10))
	cmd := exec.CommandContext(ctx, bin, "security", "--offline=yes", "--threshold="+threshold, path)
	out, err := cmd.CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for (\S+): ([0-9]+(?:\.[0-9]+)?)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security: no exposure level (%v):\n%s", err, out)
	}
	if want := filepath.Base(path); string(m[1]) != want {
		t.Fatalf("systemd-analyze security rated %s; want %s:\n%s", m[1], want, out)
	}
	level, perr := strconv.ParseFloat(string(m[2]), 64)
	if perr != nil {
		t.Fatal(perr)
	}
	return level, out, err
}

// TestUnitSecurity rates the hardening of each service unit with
// systemd-analyze.
func TestUnitSecurity(t *testing.T) {
	bin := analyzer(t)
	for _, su := range serviceUnits {
		t.Run(su.name, func(t *testing.T) {
			level, out, err := rate(t, bin, su.path, su.template)
			as := ""
			if su.template {
				as = " as " + strings.Replace(su.name, "@.", "@"+instance+".", 1)
			}
			t.Logf("systemd-analyze security --offline=yes %s%s: exposure %.1f", su.path, as, level)
			if level > maxExposure || err != nil {
				t.Errorf("exposure level %.1f (exit: %v); want %.1f or better:\n%s", level, err, maxExposure, out)
			}
		})
	}
}
