package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// GoBin returns the installed go command, or skips t when there is none.
// Under 'go test' it is the go command running the tests, which puts its
// own GOROOT/bin first on PATH.
func GoBin(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	return bin
}

// passedThrough are the only variables of the outer environment a
// hermetic go command sees: what finds programs and temporary space, and
// what Windows needs to run them. Everything else, every GO* setting, the
// user's git configuration, proxies, credentials and certificates, is left
// out: a test that needs one sets it.
var passedThrough = []string{"PATH", "TMPDIR", "SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT"}

// GoEnv returns a hermetic environment for the go command: [Environ] for
// a fresh [Home], then kv.
func GoEnv(t testing.TB, kv ...string) []string {
	t.Helper()
	return Environ(Home(t), kv...)
}

// Environ returns a hermetic environment for the go command in home,
// which [PrepareHome] has prepared: no GOENV file, no toolchain switching,
// GOPATH and GOMODCACHE under home, the module cache writable so that it
// can be removed (GOFLAGS=-modcacherw), no system git configuration and no
// terminal prompts. The build cache is the host's, which is safe to share
// and spares compiling the standard library for every 'go build'. kv are
// further "KEY=value" settings; a later one overrides an earlier one, as
// in [exec.Cmd.Env]. Tests call GoEnv; programs that are not tests, such
// as the benchmarks in examples/, call Environ.
func Environ(home string, kv ...string) []string {
	config := filepath.Join(home, ".config")
	var env []string
	for _, k := range passedThrough {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	env = append(env,
		"HOME="+home, "USERPROFILE="+home, "XDG_CONFIG_HOME="+config, "AppData="+config,
		"GOENV=off", "GOTOOLCHAIN=local", "GO111MODULE=on", "GOFLAGS=-modcacherw",
		"GOPATH="+filepath.Join(home, "gopath"), "GOMODCACHE="+filepath.Join(home, "modcache"),
		"GOCACHE="+hostGOCACHE(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
	)
	if runtime.GOOS == "plan9" {
		env = append(env, "home="+home)
	}
	return append(env, kv...)
}

// Home returns a fresh home directory prepared by PrepareHome. Tests that
// build the go command's environment themselves set HOME to it, and
// XDG_CONFIG_HOME or AppData to its .config where they set those.
func Home(t testing.TB) string {
	t.Helper()
	home := t.TempDir()
	if err := PrepareHome(home); err != nil {
		t.Fatal(err)
	}
	return home
}

// PrepareHome turns the go command's telemetry off in home: otherwise the
// go command leaves a background process writing under it while the
// caller cleans up, and its timing includes that.
func PrepareHome(home string) error {
	// os.UserConfigDir: $HOME/.config (or $XDG_CONFIG_HOME) on Unix,
	// %AppData% on Windows, ~/Library/Application Support on macOS.
	for _, dir := range []string{filepath.Join(home, ".config"), filepath.Join(home, "Library", "Application Support")} {
		mode := filepath.Join(dir, "go", "telemetry", "mode")
		if err := os.MkdirAll(filepath.Dir(mode), 0o777); err != nil {
			return err
		}
		if err := os.WriteFile(mode, []byte("off"), 0o666); err != nil {
			return err
		}
	}
	return nil
}

// hostGOCACHE is the build cache of the user running the tests.
var hostGOCACHE = sync.OnceValue(func() string {
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	if dir := string(bytes.TrimSpace(out)); err == nil && dir != "" && dir != "off" {
		return dir
	}
	return filepath.Join(os.TempDir(), "modkit-test-gocache")
})

// A Go runs the installed go command hermetically (see [GoEnv]) in a
// working directory of its own.
type Go struct {
	Bin string   // the go command
	Dir string   // working directory, empty and temporary at first
	Env []string // the environment of every command; append to change it

	t testing.TB
}

// NewGo returns a hermetic go command with the further "KEY=value"
// settings kv, or skips t when there is no go command.
func NewGo(t testing.TB, kv ...string) *Go {
	t.Helper()
	return &Go{Bin: GoBin(t), Dir: t.TempDir(), Env: GoEnv(t, kv...), t: t}
}

// ModCache is the module cache the go command fills: the last GOMODCACHE
// setting in g.Env.
func (g *Go) ModCache() string {
	dir := ""
	for _, kv := range g.Env {
		if v, ok := strings.CutPrefix(kv, "GOMODCACHE="); ok {
			dir = v
		}
	}
	return dir
}

// Command returns the go command with args, to be started by the caller.
func (g *Go) Command(args ...string) *exec.Cmd {
	return g.CommandContext(context.Background(), args...)
}

// CommandContext is Command, killed when ctx is done.
func (g *Go) CommandContext(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, g.Bin, args...)
	cmd.Dir = g.Dir
	cmd.Env = g.Env[:len(g.Env):len(g.Env)]
	return cmd
}

// Run runs the go command with args and returns what it wrote to stdout
// and stderr, and how it exited.
func (g *Go) Run(args ...string) (stdout, stderr string, err error) {
	g.t.Helper()
	cmd := g.Command(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// MustRun runs the go command with args and returns its stdout; it fails
// the test, showing both outputs, if the command fails.
func (g *Go) MustRun(args ...string) string {
	g.t.Helper()
	out, errs, err := g.Run(args...)
	if err != nil {
		g.t.Fatalf("go %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errs)
	}
	return out
}

// DecodeAll decodes the stream of JSON values that a go command with -json
// prints, such as 'go mod download -json' or 'go list -m -json', failing
// the test if it is not one.
func DecodeAll[T any](t testing.TB, out string) []T {
	t.Helper()
	var all []T
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var v T
		if err := dec.Decode(&v); err == io.EOF {
			return all
		} else if err != nil {
			t.Fatalf("decoding the go command's JSON: %v\n%s", err, out)
		}
		all = append(all, v)
	}
}

// A ModDownload is one object of 'go mod download -json'
// (cmd/go/internal/modcmd/download.go, moduleJSON).
type ModDownload struct {
	Path, Version, Error                 string
	Info, GoMod, Zip, Dir, Sum, GoModSum string
}

// GOROOT is the installed go command's GOROOT, or "" without a go command:
// for tests that give modkit the environment the go command runs in.
var GOROOT = sync.OnceValue(func() string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
})
