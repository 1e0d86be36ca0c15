package failpoint

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestLoad: the settings are read, and bad ones refused.
func TestLoad(t *testing.T) {
	r, err := load(env(nil))
	if r != nil || err != nil {
		t.Errorf("empty environment: %v, %v", r, err)
	}
	r, err = load(env(map[string]string{EnvFailpoints: "before-upload, after-apply"}))
	if err != nil || !r.names[BeforeUpload] || !r.names[AfterApply] || r.names[AfterIntent] || r.rnd != nil {
		t.Errorf("names: %+v, %v", r, err)
	}
	r, err = load(env(map[string]string{EnvFailpoints: "random:42:12.5"}))
	if err != nil || r.rnd == nil || r.percent != 12.5 {
		t.Errorf("random: %+v, %v", r, err)
	}
	for _, bad := range []string{"no-such-point", "random:x:1", "random:1", "random:1:101", "before-upload,"} {
		if _, err := load(env(map[string]string{EnvFailpoints: bad})); !errors.Is(err, ErrSpec) {
			t.Errorf("%q: err %v, want ErrSpec", bad, err)
		}
	}
	// A mutation needs the second variable.
	r, err = load(env(map[string]string{EnvMutation: string(OutcomeBeforeUpload)}))
	if r != nil || err != nil {
		t.Errorf("mutation without %s: %+v, %v", EnvTestMutations, r, err)
	}
	r, err = load(env(map[string]string{EnvMutation: string(OutcomeBeforeUpload), EnvTestMutations: "1"}))
	if err != nil || !r.mutations[OutcomeBeforeUpload] {
		t.Errorf("mutation: %+v, %v", r, err)
	}
	if _, err := load(env(map[string]string{EnvMutation: "nope", EnvTestMutations: "1"})); !errors.Is(err, ErrSpec) {
		t.Errorf("unknown mutation: %v", err)
	}
}

// TestDisarmed: without the variables nothing happens.
func TestDisarmed(t *testing.T) {
	if armed != nil && os.Getenv("FAILPOINT_CHILD") == "" {
		t.Skip("the environment arms failpoints")
	}
	for _, n := range Names() {
		Hit(n)
	}
	if Mutated(OutcomeBeforeUpload) {
		t.Error("mutation on without the environment")
	}
}

// TestKill: an armed point kills the process with SIGKILL.
func TestKill(t *testing.T) {
	if os.Getenv("FAILPOINT_CHILD") == "1" {
		Hit(AfterIntent)
		Hit(BeforeUpload)
		os.Stdout.WriteString("survived\n")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill$")
	cmd.Env = append(os.Environ(), "FAILPOINT_CHILD=1", EnvFailpoints+"="+string(BeforeUpload))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child: %v\n%s", err, out)
	}
	ws := ee.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("child ended with %v, want SIGKILL\n%s", ws, out)
	}
	if strings.Contains(string(out), "survived") || !strings.Contains(string(out), "failpoint before-upload") {
		t.Errorf("output:\n%s", out)
	}
}
