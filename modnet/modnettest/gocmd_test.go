package modnettest

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goCmd runs the installed go command in a hermetic environment: every GO*
// variable of the outer environment is dropped, HOME, GOPATH, GOMODCACHE and
// GOCACHE are temporary, GOENV=off, and env adds the test's settings.
type goCmd struct {
	t        *testing.T
	bin      string
	dir      string // working directory
	modcache string
	env      []string
}

func newGoCmd(t *testing.T, env ...string) *goCmd {
	t.Helper()
	bin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	tmp := t.TempDir()
	g := &goCmd{t: t, bin: bin, dir: filepath.Join(tmp, "work"), modcache: filepath.Join(tmp, "modcache")}
	if err := os.MkdirAll(g.dir, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "GO") || k == "HOME" || k == "NETRC" || k == "SSL_CERT_FILE" {
			continue
		}
		g.env = append(g.env, kv)
	}
	g.env = append(g.env,
		"HOME="+filepath.Join(tmp, "home"),
		"GOPATH="+filepath.Join(tmp, "gopath"),
		"GOMODCACHE="+g.modcache,
		"GOCACHE="+filepath.Join(tmp, "gocache"),
		"GOENV=off",
		"GOFLAGS=-modcacherw",
		"GOTOOLCHAIN=local",
		"GO111MODULE=on",
	)
	g.env = append(g.env, env...)
	return g
}

// run runs go with args and returns stdout, stderr and the error.
func (g *goCmd) run(args ...string) (stdout, stderr string, err error) {
	g.t.Helper()
	cmd := exec.Command(g.bin, args...)
	cmd.Dir = g.dir
	cmd.Env = g.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// mustRun runs go and fails the test if it fails.
func (g *goCmd) mustRun(args ...string) string {
	g.t.Helper()
	out, errs, err := g.run(args...)
	if err != nil {
		g.t.Fatalf("go %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errs)
	}
	return out
}

// downloadJSON is one object of "go mod download -json".
type downloadJSON struct {
	Path, Version, Error, Info, GoMod, Zip, Dir, Sum, GoModSum string
}

func decodeDownloads(t *testing.T, out string) []downloadJSON {
	t.Helper()
	var list []downloadJSON
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var d downloadJSON
		if err := dec.Decode(&d); err == io.EOF {
			return list
		} else if err != nil {
			t.Fatalf("decoding go mod download -json output: %v\n%s", err, out)
		}
		list = append(list, d)
	}
}
