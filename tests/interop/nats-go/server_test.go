// Process control for the nats.go interop suite: start the server named by
// NATS_SERVER_BIN (cnatsd or nats-server) on a free port, learn the port from
// the ports file both servers write, restart it on the same port, signal it.
// Also a tiny raw-socket client for the cases the library will not produce.
package interop

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

type server struct {
	t    *testing.T
	bin  string
	dir  string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
	port int
	url  string
	args []string // extra flags after the common ones (e.g. -c <conf>)
	env  []string // extra environment (config $VARIABLES)
}

func serverBin() string {
	if b := os.Getenv("NATS_SERVER_BIN"); b != "" {
		return b
	}
	return "/usr/sbin/nats-server"
}

// startServer starts a fresh server on a free port; it is stopped at cleanup.
func startServer(t *testing.T) *server {
	t.Helper()
	return startServerWith(t, nil, nil)
}

// startServerWith starts a server with extra flags and environment.
func startServerWith(t *testing.T, args, env []string) *server {
	t.Helper()
	s := &server{t: t, bin: serverBin(), dir: t.TempDir(), args: args, env: env}
	s.log = filepath.Join(s.dir, "server.log")
	if err := s.spawn(-1); err != nil {
		t.Fatalf("start %s: %v", s.bin, err)
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() || os.Getenv("INTEROP_VERBOSE") != "" {
			if b, err := os.ReadFile(s.log); err == nil {
				t.Logf("server log:\n%s", b)
			}
		}
	})
	return s
}

func (s *server) spawn(port int) error {
	lf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer lf.Close()
	argv := append([]string{"-a", "127.0.0.1", "-p", fmt.Sprint(port),
		"--ports_file_dir", s.dir}, s.args...)
	cmd := exec.Command(s.bin, argv...)
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	// A crashed test must not leave servers behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	s.done = make(chan struct{})
	go func(c *exec.Cmd, d chan struct{}) { c.Wait(); close(d) }(cmd, s.done)

	pf := filepath.Join(s.dir, fmt.Sprintf("%s_%d.ports", filepath.Base(s.bin), cmd.Process.Pid))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			s.cmd = nil
			return fmt.Errorf("server exited early: %v", cmd.ProcessState)
		default:
		}
		if p := readPortsFile(pf); p > 0 {
			s.port = p
			s.url = fmt.Sprintf("nats://127.0.0.1:%d", p)
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.kill()
	return fmt.Errorf("no ports file %s after 5s", pf)
}

// readPortsFile returns the client port, or 0 if the file is not (fully) there.
// nats-server names the key "nats"; "client" is accepted too.
func readPortsFile(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var m map[string][]string
	if json.Unmarshal(b, &m) != nil {
		return 0
	}
	for _, k := range []string{"nats", "client"} {
		if urls := m[k]; len(urls) > 0 {
			i := strings.LastIndexByte(urls[0], ':')
			var p int
			if i >= 0 {
				fmt.Sscan(urls[0][i+1:], &p)
			}
			return p
		}
	}
	return 0
}

func (s *server) wait(d time.Duration) bool {
	select {
	case <-s.done:
		s.cmd = nil
		return true
	case <-time.After(d):
		return false
	}
}

// stop: SIGTERM, then SIGKILL after 5 s.
func (s *server) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	if !s.wait(5 * time.Second) {
		s.kill()
	}
}

func (s *server) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.wait(5 * time.Second)
}

func (s *server) signal(sig syscall.Signal) {
	s.t.Helper()
	if s.cmd == nil || s.cmd.Process.Signal(sig) != nil {
		s.t.Fatalf("cannot send %v to server", sig)
	}
}

// restart stops the server and starts a new process on the same port.
func (s *server) restart() {
	s.t.Helper()
	port := s.port
	s.stop()
	if err := s.spawn(port); err != nil {
		s.t.Fatalf("restart on port %d: %v", port, err)
	}
	if s.port != port {
		s.t.Fatalf("restarted on port %d, want %d", s.port, port)
	}
}

// rawConn is a protocol-level connection for what client libraries refuse to do.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

func rawDial(t *testing.T, port int, rcvbuf int) *rawConn {
	t.Helper()
	d := net.Dialer{}
	if rcvbuf > 0 {
		d.Control = func(network, address string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) {
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
		}
	}
	c, err := d.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("raw dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, r: bufio.NewReader(c)}
}

func (c *rawConn) line(t *testing.T, d time.Duration) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	l, err := c.r.ReadString('\n')
	if err != nil {
		t.Fatalf("raw read: %v (got %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

func (c *rawConn) send(t *testing.T, s string) {
	t.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		t.Fatalf("raw write: %v", err)
	}
}

// waitClosed reads and discards until EOF/reset; false on timeout.
func (c *rawConn) waitClosed(d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 64*1024)
	for {
		if _, err := c.r.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return false
			}
			return true
		}
	}
}
