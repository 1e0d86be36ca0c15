package lock

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// holderEnv names the state folder in which the re-executed test binary
// takes the lock and holds it until it is killed or its stdin closes.
const holderEnv = "REFUNDD_LOCK_TEST_HOLD"

// TestMain turns the test binary into a lock holder when holderEnv is set.
func TestMain(m *testing.M) {
	if dir := os.Getenv(holderEnv); dir != "" {
		os.Exit(hold(dir))
	}
	os.Exit(m.Run())
}

func hold(dir string) int {
	l, err := Acquire(dir)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("locked")
	// Hold the lock until the parent closes stdin (or kills us).
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	if err := l.Release(); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	return 0
}

// startHolder runs a child process that holds the lock on dir. It returns
// once the child reports the lock taken.
func startHolder(t *testing.T, dir string) (*exec.Cmd, func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holderEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := false
	t.Cleanup(func() {
		if !done {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		t.Fatalf("holder: %q, %v; want \"locked\"", line, err)
	}
	finish := func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("holder: %v", err)
		}
		done = true
	}
	return cmd, finish
}

func TestAcquireRelease(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	if got, want := l.Path(), filepath.Join(dir, FileName); got != want {
		t.Errorf("Path() = %q; want %q", got, want)
	}
	b, err := os.ReadFile(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), strconv.Itoa(os.Getpid())+"\n"; got != want {
		t.Errorf("lock file holds %q; want %q", got, want)
	}

	// A second lock in the same process is refused too: flock locks
	// belong to the open file, not to the process.
	_, err = Acquire(dir)
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire: %v; want a *LockedError wrapping ErrLocked", err)
	}
	if le.PID != os.Getpid() || le.Dir != dir {
		t.Errorf("LockedError = %+v; want PID %d, Dir %q", le, os.Getpid(), dir)
	}
	// The refused attempt must not have wiped the holder's PID.
	if b2, _ := os.ReadFile(l.Path()); string(b2) != string(b) {
		t.Errorf("lock file holds %q after a refused Acquire; want %q", b2, b)
	}

	if err := l.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release: %v; want nil", err)
	}
	if b, _ := os.ReadFile(l.Path()); len(b) != 0 {
		t.Errorf("lock file holds %q after Release; want it empty", b)
	}
	l2, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	if err := l2.Release(); err != nil {
		t.Fatal(err)
	}
}

func TestAcquireErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the state folder to lock
		want  string
	}{
		{"missing folder", func(t *testing.T, dir string) string {
			return filepath.Join(dir, "missing")
		}, "no such file or directory"},
		{"lock file is a symlink", func(t *testing.T, dir string) string {
			if err := os.Symlink(filepath.Join(dir, "elsewhere"), filepath.Join(dir, FileName)); err != nil {
				t.Fatal(err)
			}
			return dir
		}, "too many levels of symbolic links"},
		{"lock file is a folder", func(t *testing.T, dir string) string {
			if err := os.Mkdir(filepath.Join(dir, FileName), 0o750); err != nil {
				t.Fatal(err)
			}
			return dir
		}, "is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.setup(t, t.TempDir())
			l, err := Acquire(dir)
			if err == nil {
				l.Release()
				t.Fatalf("Acquire(%s) succeeded; want an error containing %q", dir, tc.want)
			}
			if errors.Is(err, ErrLocked) {
				t.Errorf("Acquire(%s) = %v; want no ErrLocked", dir, err)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.HasPrefix(msg, "lock state folder "+dir) {
				t.Errorf("Acquire(%s) = %q; want \"lock state folder %s: …%s…\"", dir, msg, dir, tc.want)
			}
		})
	}
}

func TestLockedErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		err  LockedError
		want string
	}{
		{LockedError{Dir: "/var/lib/refundd", PID: 1234}, "another refundd (pid 1234) is running with state folder /var/lib/refundd"},
		{LockedError{Dir: "/var/lib/refundd"}, "another refundd is running with state folder /var/lib/refundd"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%+v.Error() = %q; want %q", tc.err, got, tc.want)
		}
	}
}

func TestOtherProcess(t *testing.T) {
	dir := t.TempDir()

	// A holder that releases the lock itself.
	cmd, finish := startHolder(t, dir)
	_, err := Acquire(dir)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Acquire while pid %d holds the lock: %v; want a *LockedError", cmd.Process.Pid, err)
	}
	want := fmt.Sprintf("another refundd (pid %d) is running with state folder %s", cmd.Process.Pid, dir)
	if err.Error() != want {
		t.Errorf("error = %q; want %q", err, want)
	}
	finish()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after the holder released: %v", err)
	}
	l.Release()

	// A holder that is killed: the kernel releases its lock, and the PID it
	// left in the file does not stop a new start.
	cmd, _ = startHolder(t, dir)
	if _, err := Acquire(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("Acquire while pid %d holds the lock: %v; want ErrLocked", cmd.Process.Pid, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // reaped: its files are closed
	if b, _ := os.ReadFile(filepath.Join(dir, FileName)); strings.TrimSpace(string(b)) != strconv.Itoa(cmd.Process.Pid) {
		t.Errorf("lock file holds %q after kill; want the dead holder's pid %d", b, cmd.Process.Pid)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err = Acquire(dir)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	defer l.Release()
	if b, _ := os.ReadFile(l.Path()); strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q; want our pid %d", b, os.Getpid())
	}
}
