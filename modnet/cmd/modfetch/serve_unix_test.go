//go:build unix

package main

import (
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modkit/modkit/internal/testenv"
)

func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

// TestServeBackground: like ssh-agent, serve prints sh commands and
// returns, leaving the server running until it gets SIGTERM.
func TestServeBackground(t *testing.T) {
	g := testenv.NewGo(t)
	r := runCommand(modfetchCmd(t, g, "serve"))
	if r.err != nil {
		t.Fatalf("serve: %s", r)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if cmd, ok := strings.CutPrefix(line, "echo "); ok {
			if !strings.HasPrefix(cmd, "modfetch serve pid ") {
				t.Errorf("line %q", line)
			}
			continue
		}
		assign, export, ok := strings.Cut(line, "; export ")
		k, v, _ := strings.Cut(assign, "=")
		if !ok || export != k+";" || !strings.HasPrefix(v, "'") || !strings.HasSuffix(v, "'") {
			t.Fatalf("line %q is not NAME='value'; export NAME;", line)
		}
		vars[k] = strings.Trim(v, "'")
	}
	pid, err := strconv.Atoi(vars["MODFETCH_SERVE_PID"])
	if err != nil {
		t.Fatalf("output:\n%s", r.stdout)
	}
	proxy := vars["GOPROXY"]
	if code, _ := get(t, proxy+"/example.com/nope/@v/list"); code != 404 && code != 502 {
		t.Errorf("the background server answered %d", code)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// It is no child of this process: wait for its port to close.
	addr := strings.TrimPrefix(proxy, "http://")
	addr, _, _ = strings.Cut(addr, "/")
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the background server still listens 10s after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
