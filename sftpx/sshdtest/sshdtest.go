// Package sshdtest runs a real OpenSSH sshd for tests: on 127.0.0.1, on a
// free port, with its own configuration, throw-away host keys and
// authorised keys, serving SFTP; and a TCP proxy that can stall.
//
// When sshd or ssh-keygen is missing the test is skipped, except under
// CI=true, where it fails: CI must not pass without having run against
// OpenSSH. Debian: apt-get install openssh-server openssh-client.
package sshdtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Need returns the path of an OpenSSH program (sshd, ssh-keygen, sftp),
// failing the test under CI=true when it is missing and skipping it
// otherwise.
func Need(t testing.TB, program string) string {
	t.Helper()
	if p, err := exec.LookPath(program); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
		p := filepath.Join(dir, program)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	why := program + " is not installed (Debian: openssh-server openssh-client)"
	if os.Getenv("CI") == "true" {
		t.Fatalf("sshdtest: %s; CI=true, so this fails instead of skipping", why)
	}
	t.Skipf("sshdtest: %s", why)
	return ""
}

// Keygen makes a key pair with ssh-keygen (type "ed25519", "ecdsa" or
// "rsa"; an empty passphrase leaves it unencrypted; format "" is OpenSSH's,
// "PEM" the older one) and returns the public key. The private key is
// written to file with mode 0600, the public key to file.pub.
func Keygen(t testing.TB, file, keyType, passphrase, format string) ssh.PublicKey {
	t.Helper()
	keygen := Need(t, "ssh-keygen")
	args := []string{"-q", "-t", keyType, "-N", passphrase, "-C", "sshdtest", "-f", file}
	if keyType == "rsa" {
		args = append(args, "-b", "2048")
	}
	if format != "" {
		args = append(args, "-m", format)
	}
	if out, err := exec.Command(keygen, args...).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return ReadPublicKey(t, file+".pub")
}

// ReadPublicKey reads a public key file in authorized_keys format.
func ReadPublicKey(t testing.TB, file string) ssh.PublicKey {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return k
}

// Options configure a Server.
type Options struct {
	// HostKeyTypes are the types of the host keys, as ssh-keygen -t takes
	// them; default ed25519 only.
	HostKeyTypes []string
	// AuthorizedKeys may log in besides ClientKey.
	AuthorizedKeys []ssh.PublicKey
}

// Server is a running sshd.
type Server struct {
	// Addr is 127.0.0.1:port.
	Addr string
	// Dir is the server's own folder: configuration, keys.
	Dir string
	// Root is an empty folder for the test's files; SFTP paths are absolute,
	// so Root is also its path on the server.
	Root string
	// User is the login name (the current user).
	User string
	// HostKeys are the server's public host keys, in the order of
	// Options.HostKeyTypes.
	HostKeys []ssh.PublicKey
	// ClientKey is an unencrypted ed25519 private key file (mode 0600) that
	// may log in.
	ClientKey string

	t      testing.TB
	sshd   string
	config string
	log    *tail
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start starts sshd on a free port of 127.0.0.1 and stops it, with every
// session it forked, when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	sshd := Need(t, "sshd")
	Need(t, "ssh-keygen")
	if os.Geteuid() == 0 {
		// sshd checks that its privilege-separation folder exists.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("sshdtest: create /run/sshd: %v", err)
		}
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &Server{Dir: dir, Root: filepath.Join(dir, "files"), User: u.Username, t: t, sshd: sshd, log: &tail{}}
	if err := os.Mkdir(s.Root, 0o755); err != nil {
		t.Fatal(err)
	}
	types := opts.HostKeyTypes
	if len(types) == 0 {
		types = []string{"ed25519"}
	}
	var hostKeyLines []string
	for _, kt := range types {
		file := filepath.Join(dir, "ssh_host_"+kt+"_key")
		s.HostKeys = append(s.HostKeys, Keygen(t, file, kt, "", ""))
		hostKeyLines = append(hostKeyLines, "HostKey "+file)
	}
	s.ClientKey = filepath.Join(dir, "id_ed25519")
	var auth bytes.Buffer
	auth.Write(ssh.MarshalAuthorizedKey(Keygen(t, s.ClientKey, "ed25519", "", "")))
	for _, k := range opts.AuthorizedKeys {
		auth.Write(ssh.MarshalAuthorizedKey(k))
	}
	authFile := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authFile, auth.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			t.Logf("sshd log (end):\n%s", s.log)
		}
	})
	s.config = filepath.Join(dir, "sshd_config")
	for attempt := 1; ; attempt++ {
		port := freePort(t)
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		conf := strings.Join(append(hostKeyLines,
			"Port "+strconv.Itoa(port),
			"ListenAddress 127.0.0.1",
			"AuthorizedKeysFile "+authFile,
			"AuthenticationMethods publickey",
			"PubkeyAuthentication yes",
			"PasswordAuthentication no",
			"KbdInteractiveAuthentication no",
			"PermitRootLogin yes",
			"StrictModes no",
			"UsePAM no",
			"UseDNS no",
			"PidFile none",
			"Subsystem sftp internal-sftp",
			"AllowTcpForwarding no",
			"X11Forwarding no",
			"PrintMotd no",
			"MaxStartups 100",
			"LoginGraceTime 30",
			"LogLevel INFO",
		), "\n") + "\n"
		if err := os.WriteFile(s.config, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		err := s.start()
		if err == nil {
			return s
		}
		if !strings.Contains(s.log.String(), "Address already in use") || attempt == 5 {
			t.Fatalf("sshdtest: %v\n%s", err, s.log)
		}
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs sshd and waits until it listens.
func (s *Server) start() error {
	cmd := exec.Command(s.sshd, "-D", "-e", "-f", s.config)
	ready := make(chan struct{})
	s.log.watch("Server listening on", ready)
	cmd.Stdout = s.log
	cmd.Stderr = s.log
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start sshd: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	select {
	case <-ready:
		return nil
	case <-exited:
		s.cmd = nil
		return fmt.Errorf("sshd exited: %v", cmd.ProcessState)
	case <-time.After(20 * time.Second):
		s.Kill()
		return errors.New("sshd did not listen within 20s")
	}
}

// Kill kills sshd and every process it forked (the sessions), as a crash
// of the server would, and waits for sshd to end. It does nothing if sshd
// is not running.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	pids := append(descendants(s.cmd.Process.Pid), s.cmd.Process.Pid)
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.t.Errorf("sshdtest: sshd pid %d did not end", s.cmd.Process.Pid)
	}
	s.cmd = nil
}

// Restart starts sshd again, after Kill, on the same address with the same
// keys.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	var err error
	for attempt := 0; attempt < 50; attempt++ { // the port may linger briefly
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("sshdtest: restart: %v\n%s", err, s.log)
}

// KnownHosts writes a known_hosts file (mode 0600) with one line per key for
// the server's address, and returns its path.
func (s *Server) KnownHosts(t testing.TB, keys ...ssh.PublicKey) string {
	t.Helper()
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(KnownHostsLine(s.Addr, k) + "\n")
	}
	f := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(f, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// KnownHostsLine formats a known_hosts line for addr ("[127.0.0.1]:2222").
func KnownHostsLine(addr string, k ssh.PublicKey) string {
	host, port, _ := net.SplitHostPort(addr)
	if port != "22" {
		host = "[" + host + "]:" + port
	}
	return host + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

// descendants lists the processes below pid, from /proc.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 && len(out) < 10000 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// tail keeps the last part of sshd's log and signals when a line appears.
type tail struct {
	mu      sync.Mutex
	buf     []byte
	partial []byte
	want    string
	ready   chan struct{}
}

const tailSize = 64 << 10

func (l *tail) watch(want string, ready chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.want, l.ready = want, ready
}

func (l *tail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if len(l.buf) > tailSize {
		l.buf = l.buf[len(l.buf)-tailSize:]
	}
	l.partial = append(l.partial, p...)
	sc := bufio.NewScanner(bytes.NewReader(l.partial))
	for sc.Scan() {
		if l.ready != nil && strings.Contains(sc.Text(), l.want) {
			close(l.ready)
			l.ready = nil
		}
	}
	if i := bytes.LastIndexByte(l.partial, '\n'); i >= 0 {
		l.partial = append(l.partial[:0], l.partial[i+1:]...)
	}
	return len(p), nil
}

func (l *tail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}

// Proxy forwards TCP connections to a target until stalled: then it
// forwards nothing more in either direction and keeps the connections open,
// like a server or network path that stops answering. It can also refuse
// new connections (Drop), reset the open ones (Reset) and forward slowly
// (Trickle).
type Proxy struct {
	// Addr is the proxy's address on 127.0.0.1.
	Addr string

	target string
	l      net.Listener
	wg     sync.WaitGroup

	mu      sync.Mutex
	stalled bool
	drop    bool
	chunk   int           // when > 0, the most forwarded at once
	pause   time.Duration // after each chunk
	conns   map[net.Conn]bool
	release chan struct{} // closed to end the stalled copies
	// cutAfter, when set, ends the first connection that sends it to the
	// target, right after forwarding it.
	cutAfter []byte
	cuts     int
}

// NewProxy starts a proxy to target; it stops when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: l.Addr().String(), target: target, l: l, conns: map[net.Conn]bool{}, release: make(chan struct{})}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

// Stall stops all forwarding, on open and on new connections.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = true
}

// Resume closes the stalled connections and forwards new ones again.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = false
	for c := range p.conns {
		c.Close()
	}
	close(p.release)
	p.release = make(chan struct{})
}

// Drop makes the proxy close new connections as soon as it accepts them
// (drop true), or forward them again (drop false).
func (p *Proxy) Drop(drop bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drop = drop
}

// Reset ends every open connection at once with a TCP reset, on both
// sides; new connections are forwarded.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
}

// CutAfter makes the proxy reset the first connection whose client sends
// pattern (within one read), right after the pattern has been forwarded to
// the target: the target acts on it, and its answer is lost. Then the
// proxy forwards as before. Cuts counts the connections cut so.
func (p *Proxy) CutAfter(pattern []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutAfter = pattern
}

// Cuts returns how many connections CutAfter has cut.
func (p *Proxy) Cuts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts
}

// Trickle forwards at most chunk bytes at a time in each direction and
// waits pause after each; a chunk of 0 forwards at full speed again.
func (p *Proxy) Trickle(chunk int, pause time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.chunk, p.pause = chunk, pause
}

func (p *Proxy) close() {
	p.l.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	close(p.release)
	p.release = make(chan struct{})
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[c] = true
}

func (p *Proxy) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		drop := p.drop
		p.mu.Unlock()
		if drop {
			c.Close()
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var d net.Dialer
		up, err := d.DialContext(ctx, "tcp", p.target)
		cancel()
		if err != nil {
			c.Close()
			continue
		}
		p.track(c)
		p.track(up)
		p.wg.Go(func() { p.copy(up, c, true) })
		p.wg.Go(func() { p.copy(c, up, false) })
	}
}

// copy forwards src to dst until either fails or the proxy stalls; once
// stalled it holds the data and waits for Resume.
func (p *Proxy) copy(dst, src net.Conn, toTarget bool) {
	defer func() {
		dst.Close()
		src.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			stalled, release := p.stalled, p.release
			p.mu.Unlock()
			if stalled {
				<-release
				return
			}
			if err := p.forward(dst, buf[:n]); err != nil {
				return
			}
			if toTarget && p.cut(buf[:n]) {
				for _, c := range []net.Conn{src, dst} {
					if tc, ok := c.(*net.TCPConn); ok {
						tc.SetLinger(0)
					}
				}
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cut reports whether b holds the pattern of CutAfter, and disarms it.
func (p *Proxy) cut(b []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cutAfter == nil || !bytes.Contains(b, p.cutAfter) {
		return false
	}
	p.cutAfter = nil
	p.cuts++
	return true
}

// forward writes b to dst, in chunks with pauses while trickling.
func (p *Proxy) forward(dst net.Conn, b []byte) error {
	for len(b) > 0 {
		p.mu.Lock()
		chunk, pause := p.chunk, p.pause
		p.mu.Unlock()
		n := len(b)
		if chunk > 0 {
			n = min(n, chunk)
		}
		if _, err := dst.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
		if chunk > 0 {
			time.Sleep(pause)
		}
	}
	return nil
}
