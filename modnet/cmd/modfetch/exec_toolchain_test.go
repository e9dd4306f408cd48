package main

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modnettest"
)

// TestExecFetchesToolchain: in a module whose go line asks for a newer Go,
// with GOTOOLCHAIN=auto, the go command switches to that toolchain at
// startup, downloading it from its GOPROXY. Where the toolchain's zip is
// cut twice and its checksum database lookup reset once, the plain go
// command fails; under exec the server has started fetching both before
// the go command runs, the go command's requests are answered by those
// fetches (read-ahead, in -v), and it runs the switched toolchain. With
// -toolchain=false the go command's own request fetches it, retried just
// the same; once it is in the module cache, or with GOTOOLCHAIN=local,
// nothing is fetched.
func TestExecFetchesToolchain(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stub toolchain's go is a shell script")
	}
	const name = "go1.99.0"
	tc, err := modnettest.Toolchain(name, runtime.GOOS, runtime.GOARCH,
		"#!/bin/sh\necho \"stub "+name+" switch=$GOTOOLCHAIN_INTERNAL_SWITCH_VERSION args=$*\"\n")
	if err != nil {
		t.Fatal(err)
	}
	srv, env := stub(t, tc)
	faults := modnettest.Faults{Rules: []modnettest.Rule{
		{Module: modnet.ToolchainModule, Kind: modnettest.KindZip, First: 2, Fault: modnettest.Cut(modnettest.Half)},
		{Module: modnet.ToolchainModule, Kind: modnettest.KindSumDB, First: 1, Fault: modnettest.Reset()},
	}}
	newGo := func(kv ...string) *testenv.Go {
		g := testenv.NewGo(t, append(append(env, "GOTOOLCHAIN=auto"), kv...)...)
		if err := os.WriteFile(filepath.Join(g.Dir, "go.mod"), []byte("module example.com/m\n\ngo 1.99.0\n"), 0o666); err != nil {
			t.Fatal(err)
		}
		return g
	}
	if testing.Short() {
		t.Skip("runs the go command")
	}
	switched := "stub " + name + " switch=" + name + " args=version\n"
	zip := "GET /" + modnet.ToolchainModule + "/@v/" + tc.Version + ".zip 200 "

	srv.SetFaults(faults)
	if out, stderr, err := newGo().Run("version"); err == nil {
		t.Fatalf("plain go version switched through the faults:\n%s%s", out, stderr)
	}

	for _, tt := range []struct {
		flags []string
		from  string
	}{
		{[]string{"-v"}, "read-ahead"},
		{[]string{"-v", "-toolchain=false"}, "upstream"},
	} {
		srv.SetFaults(faults)
		g := newGo()
		r := execGo(t, g, tt.flags, "version")
		if r.err != nil || r.stdout != switched {
			t.Fatalf("exec %q: %s\nwant the switched toolchain's output %q", tt.flags, r, switched)
		}
		if !regexp.MustCompile(`modfetch: ` + regexp.QuoteMeta(zip) + `\d+B \S+ \(` + tt.from + `\)\n`).MatchString(r.stderr) {
			t.Errorf("exec %q: stderr\n%s\nwant the go command's %s... answered from %s", tt.flags, r.stderr, zip, tt.from)
		}
		// The go command has it now: it switches with no proxy at all.
		offline := g.Command("version")
		offline.Env = append(offline.Env, "GOPROXY=off")
		if r := runCommand(offline); r.err != nil || r.stdout != switched {
			t.Errorf("exec %q, then offline: %s", tt.flags, r)
		}
		// Nor does exec fetch it again.
		if r := execGo(t, g, []string{"-v"}, "version"); r.err != nil || r.stdout != switched || strings.Contains(r.stderr, "fetching "+modnet.ToolchainModule) {
			t.Errorf("exec %q again: %s\nwant the cached toolchain, not fetched", tt.flags, r)
		}
	}

	// No switch: nothing fetched.
	srv.SetFaults(modnettest.Faults{})
	srv.ResetRequests()
	r := execGo(t, newGo("GOTOOLCHAIN=local"), []string{"-v"}, "version")
	if r.err != nil || strings.Contains(r.stdout, "stub") || strings.Contains(r.stderr, modnet.ToolchainModule) {
		t.Errorf("GOTOOLCHAIN=local: %s\nwant the local go and no toolchain fetched", r)
	}
	if log := srv.Requests(); len(log) != 0 {
		t.Errorf("GOTOOLCHAIN=local: upstream asked %s", log)
	}
}
