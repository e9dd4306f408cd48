package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet/modnettest"
)

// toolchainSetup serves a module that needs Go 1.99 and a stand-in for
// toolchain go1.99.1, and points the environment at them with the installed
// go command's GOROOT (whose version decides) and GOTOOLCHAIN=auto.
func toolchainSetup(t *testing.T) (*modnettest.Server, modnettest.Module) {
	t.Helper()
	goroot := testenv.GOROOT()
	if goroot == "" {
		t.Skip("no go command")
	}
	mod := modnettest.Module{Path: "127.0.0.1/cli/new", Version: "v1.0.0",
		Files: map[string]string{"go.mod": "module 127.0.0.1/cli/new\n\ngo 1.99\n", "n.go": "package n\n"}}
	tc, err := modnettest.Toolchain("go1.99.1", runtime.GOOS, runtime.GOARCH, "#!/bin/sh\necho stub\n")
	if err != nil {
		t.Fatal(err)
	}
	srv := modnettest.NewServer(mod, tc)
	t.Cleanup(srv.Close)
	setDownloadEnv(t, srv.URL)
	t.Setenv("GOROOT", goroot)
	t.Setenv("GOTOOLCHAIN", "auto")
	t.Setenv("GOSUMDB", srv.SumDB().GOSUMDB())
	return srv, mod
}

// download switches toolchains as 'go mod download' does for a module too
// new for the local go: it says so, fetches the toolchain and downloads
// again with it.
func TestDownloadSwitchesToolchain(t *testing.T) {
	_, mod := toolchainSetup(t)
	code, stdout, stderr := runCmd("download", "-json", mod.String())
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if want := "modfetch: " + mod.String() + " requires go >= 1.99; switching to go1.99.1\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	var m moduleJSON
	if err := json.Unmarshal([]byte(stdout), &m); err != nil || m.Error != "" || m.Dir == "" {
		t.Errorf("result %+v (%v)", m, err)
	}

	// With GOTOOLCHAIN=local there is no switch, and the go command's error.
	t.Setenv("GOTOOLCHAIN", "local")
	t.Setenv("GOMODCACHE", filepath.Join(t.TempDir(), "mod"))
	code, stdout, _ = runCmd("download", "-json", mod.String())
	m = moduleJSON{}
	if err := json.Unmarshal([]byte(stdout), &m); code != 1 || err != nil || !strings.Contains(m.Error, mod.String()+" requires go >= 1.99 (running go ") ||
		!strings.HasSuffix(m.Error, "; GOTOOLCHAIN=local)") || m.Dir != "" || m.Zip == "" {
		t.Errorf("GOTOOLCHAIN=local: exit %d, result %+v", code, m)
	}
}

// prefetch fetches the toolchain go.mod's go line switches to, and says so.
func TestPrefetchFetchesToolchain(t *testing.T) {
	toolchainSetup(t)
	dir := t.TempDir()
	modFile := filepath.Join(dir, "go.mod")
	if err := os.WriteFile(modFile, []byte("module example.com/m\n\ngo 1.99.1\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd("prefetch", "-json", "-modfile", modFile)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var sum eventJSON
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Toolchain != "go1.99.1" || sum.Modules != 1 {
		t.Errorf("summary %+v (%v)\n%s", sum, err, stdout)
	}
	code, _, stderr = runCmd("prefetch", "-modfile", modFile)
	if code != 0 || !strings.Contains(stderr, "go.mod switches the go command to go1.99.1, fetched with the modules") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	t.Setenv("GOMODCACHE", filepath.Join(t.TempDir(), "mod"))
	code, stdout, _ = runCmd("prefetch", "-json", "-toolchain=false", "-modfile", modFile)
	lines = strings.Split(strings.TrimSpace(stdout), "\n")
	sum = eventJSON{}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); code != 0 || err != nil || sum.Toolchain != "" || sum.Modules != 0 {
		t.Errorf("-toolchain=false: exit %d, summary %+v", code, sum)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.sum")); err == nil {
		t.Errorf("prefetch wrote a go.sum for the toolchain")
	}
}
