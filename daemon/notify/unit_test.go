package notify

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The systemd files that ship with refundd, next to this package's
// messages: the unit is what makes Ready, Reloading and Watchdog matter.
const (
	unitFile     = "../../systemd/refundd.service"
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

func TestUnitDirectives(t *testing.T) {
	u := parseUnit(t, unitFile)
	for _, tc := range []struct {
		section, key string
		want         string // a regular expression for the whole value
	}{
		{"Unit", "After", `.*\bnetwork-online\.target\b.*`},
		{"Unit", "Wants", `.*\bnetwork-online\.target\b.*`},
		{"Service", "Type", `notify`},
		{"Service", "NotifyAccess", `main`},
		{"Service", "WatchdogSec", `[1-9][0-9]*s`},
		{"Service", "ExecStart", `/usr/local/bin/refundd run -config /etc/refundd/refundd\.yaml`},
		{"Service", "ExecReload", `/bin/kill -HUP \$MAINPID`},
		{"Service", "Restart", `on-failure`},
		{"Service", "RestartSec", `[1-9][0-9]*s`},
		{"Service", "User", `refundd`},
		{"Service", "Group", `refundd`},
		{"Service", "UMask", `0027`},
		{"Service", "StateDirectory", `refundd`},
		{"Service", "StateDirectoryMode", `0750`},
		{"Service", "ConfigurationDirectory", `refundd`},
		{"Service", "ReadWritePaths", `/srv/refundd`},
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
		{"Install", "WantedBy", `multi-user\.target`},
	} {
		got, ok := u.last(tc.section, tc.key)
		if !ok {
			t.Errorf("[%s] %s= is missing; want %q", tc.section, tc.key, tc.want)
			continue
		}
		if !regexp.MustCompile(`^(?:` + tc.want + `)$`).MatchString(got) {
			t.Errorf("[%s] %s=%s; want %q", tc.section, tc.key, got, tc.want)
		}
	}
	if filters := strings.Join(u["Service"]["SystemCallFilter"], "\n"); filters != "@system-service\n~@privileged @resources" {
		t.Errorf("SystemCallFilter= lines:\n%s\nwant @system-service, then ~@privileged @resources", filters)
	}
	for _, key := range []string{"DynamicUser", "PrivateNetwork"} {
		if v, ok := u.last("Service", key); ok && v != "no" {
			t.Errorf("%s=%s: the shared folders need a static user and SFTP the network", key, v)
		}
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

// TestUnitSecurity rates the unit's hardening with systemd-analyze (Debian
// package systemd). It skips when the tool is missing, except in CI.
func TestUnitSecurity(t *testing.T) {
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("systemd-analyze is missing (apt-get install systemd): %v", err)
		}
		t.Skip("systemd-analyze is missing (apt-get install systemd)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	// --threshold is 10 × the exposure level: fail above 2.0.
	threshold := strconv.Itoa(int(maxExposure * 10))
	cmd := exec.CommandContext(ctx, bin, "security", "--offline=yes", "--threshold="+threshold, unitFile)
	out, err := cmd.CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9]+(?:\.[0-9]+)?)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security: no exposure level (%v):\n%s", err, out)
	}
	level, perr := strconv.ParseFloat(string(m[1]), 64)
	if perr != nil {
		t.Fatal(perr)
	}
	t.Logf("systemd-analyze security --offline=yes %s: exposure %.1f", unitFile, level)
	if level > maxExposure || err != nil {
		t.Errorf("exposure level %.1f (exit: %v); want %.1f or better:\n%s", level, err, maxExposure, out)
	}
}
