//go:build unix

package main

import (
	"bufio"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
)

// checkSignals: a command killed by a signal kills modfetch with it, and
// SIGTERM and SIGHUP sent to modfetch reach the command.
func checkSignals(t *testing.T, g *testenv.Go) {
	r := runCommand(modfetchCmd(t, g, "exec", "--", "sh", "-c", "kill -TERM $$"))
	var ee *exec.ExitError
	if !errors.As(r.err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Errorf("command killed by SIGTERM: modfetch ended with %v, want killed by SIGTERM\n%s", r.err, r)
	}

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1} {
		cmd := modfetchCmd(t, g, "exec", "--", "sh", "-c", "trap 'echo got; exit 42' TERM HUP USR1; echo ready; while :; do sleep 1 & wait $!; done")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		if !lines.Scan() || lines.Text() != "ready" {
			t.Fatalf("the command did not start: %q", lines.Text())
		}
		cmd.Process.Signal(sig)
		var rest strings.Builder
		for lines.Scan() {
			rest.WriteString(lines.Text())
		}
		err = cmd.Wait()
		if !errors.As(err, &ee) || ee.ExitCode() != 42 || rest.String() != "got" {
			t.Errorf("%v sent to modfetch: %v, output %q; want the command to get it and exit 42", sig, err, rest.String())
		}
	}
}
