package envcheck

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
)

// goCommand returns the installed go command with args, run hermetically
// with the further settings extraEnv ("KEY=value") in an empty directory,
// or skips the test without a go command.
func goCommand(t *testing.T, extraEnv []string, args ...string) *exec.Cmd {
	t.Helper()
	return testenv.NewGo(t, append([]string{"GOFLAGS="}, extraEnv...)...).Command(args...)
}

// TestGOTOOLCHAINAgainstGo compares which GOTOOLCHAIN values the go
// command rejects, and with what words, with go.version. Only values that
// never select another toolchain are tried: anything else would download
// one.
func TestGOTOOLCHAINAgainstGo(t *testing.T) {
	for _, v := range []string{"local", "auto", "path", "local+auto", "local+path", "bash", "local+foo", "auto+auto", "Auto", "go1.x+auto", "go1.2.3+"} {
		out, err := goCommand(t, []string{"GOTOOLCHAIN=" + v}, "version").CombinedOutput()
		goErr := ""
		if err != nil {
			goErr = strings.TrimPrefix(strings.TrimSpace(string(out)), "go: ")
		}
		env, dir := probeEnv(t, vars("GOROOT", testenv.GOROOT(), "GOTOOLCHAIN", v))
		res := runOne(t, "go.version", Options{Env: env, Offline: true, ModFile: dir})
		switch {
		case goErr == "" && res.Status == StatusError:
			t.Errorf("GOTOOLCHAIN=%q: the go command accepts it, go.version says %q", v, res.Summary)
		case goErr != "" && res.Status != StatusError:
			t.Errorf("GOTOOLCHAIN=%q: the go command says %q, go.version %s %q", v, goErr, res.Status, res.Summary)
		case goErr != "" && !strings.HasPrefix(res.Summary, goErr+"; "):
			t.Errorf("GOTOOLCHAIN=%q: the go command says %q, go.version %q", v, goErr, res.Summary)
		}
	}
}

// TestKnownVarsAgainstGo checks that every variable 'go env' reports is
// known, so env.unknown-vars never flags a real one.
func TestKnownVarsAgainstGo(t *testing.T) {
	out, err := goCommand(t, nil, "env", "-json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var vars map[string]any
	if err := json.Unmarshal(out, &vars); err != nil {
		t.Fatal(err)
	}
	for name := range vars {
		if !knownVars[name] {
			t.Errorf("go env reports %s, which knownVars lacks", name)
		}
		if suggestVar(name) != "" && !knownVars[name] {
			t.Errorf("%s would be reported as a typo", name)
		}
	}
}

// TestGoLineAgainstGo compares go.version's complaint about a go line
// newer than the local toolchain with the go command's own.
func TestGoLineAgainstGo(t *testing.T) {
	cmd := goCommand(t, []string{"GOTOOLCHAIN=local"}, "list", "-m")
	writeFile(t, filepath.Join(cmd.Dir, "go.mod"), "module m\n\ngo 1.99\n")
	out, _ := cmd.CombinedOutput()
	want := strings.TrimPrefix(strings.TrimSpace(string(out)), "go: ")

	env, _ := probeEnv(t, vars("GOROOT", testenv.GOROOT(), "GOTOOLCHAIN", "local"))
	res := runOne(t, "go.version", Options{Env: env, Offline: true, ModFile: cmd.Dir})
	if res.Status != StatusError || res.Summary != want {
		t.Errorf("go.version = %s %q\nthe go command: %q", res.Status, res.Summary, want)
	}
}
