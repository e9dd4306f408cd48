package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modkit/modkit/modnet/modnettest"
	"github.com/modkit/modkit/retry"
)

// goCommand runs the installed go command in an isolated environment: a
// fresh HOME with telemetry off (else it leaves a process writing there),
// no GOENV file, no toolchain switching, empty caches under home, and the
// module cache writable so that the test can remove it.
type goCommand struct {
	t    *testing.T
	bin  string
	dir  string
	home string
	env  []string
}

func newGoCommand(t *testing.T, dir string, env ...string) *goCommand {
	t.Helper()
	bin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	home := t.TempDir()
	mode := filepath.Join(home, ".config", "go", "telemetry", "mode")
	if err := os.MkdirAll(filepath.Dir(mode), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mode, []byte("off"), 0o666); err != nil {
		t.Fatal(err)
	}
	return &goCommand{t: t, bin: bin, dir: dir, home: home, env: append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "GOENV=off", "GOTOOLCHAIN=local",
		"GOFLAGS=-modcacherw", "GO111MODULE=on", "GOPATH=" + filepath.Join(home, "gopath"),
		"GOMODCACHE=" + filepath.Join(home, "modcache"), "GOCACHE=" + filepath.Join(home, "gocache"),
	}, env...)}
}

// run runs go with args and extra environment settings, and fails the
// test if it fails.
func (g *goCommand) run(extraEnv []string, args ...string) string {
	g.t.Helper()
	cmd := exec.Command(g.bin, args...)
	cmd.Dir = g.dir
	cmd.Env = append(g.env[:len(g.env):len(g.env)], extraEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		g.t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	g.t.Logf("go %s: %v", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	return out.String()
}

// TestGoCommandThroughProxy: the go command resolves, downloads and
// verifies a module graph through the proxy, whose upstream fails in the
// standard mix of ways, into an empty module cache, reaching the checksum
// database through the proxy too; then it builds offline.
func TestGoCommandThroughProxy(t *testing.T) {
	graph, err := modnettest.GenerateGraph(modnettest.GraphConfig{Seed: 9, Modules: 12, ZipBytes: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	upstream := modnettest.NewServer(graph.Modules...)
	defer upstream.Close()
	faults := modnettest.StandardMix(9)
	for i := range faults.Mix {
		if faults.Mix[i].Fault.Kind == modnettest.FaultStall {
			faults.Mix[i].Fault.Duration = 5 * time.Second // cut short by the response header timeout
		}
	}
	upstream.SetFaults(faults)

	hc := &retry.Client{BaseDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond,
		ResponseHeaderTimeout: 500 * time.Millisecond, StallTimeout: 500 * time.Millisecond}
	// The proxy finds the checksum database through its upstream's
	// /sumdb/<name>/supported, as the go command would.
	p := startProxy(t, upstream, hc, func(c *config, _ map[string]string) {
		c.gosumdb = upstream.SumDB().Key()
	})

	work := t.TempDir()
	if err := graph.WriteMain(work); err != nil {
		t.Fatal(err)
	}
	// Without go.sum, every hash comes from the checksum database, through
	// the proxy.
	if err := os.Remove(filepath.Join(work, "go.sum")); err != nil {
		t.Fatal(err)
	}
	g := newGoCommand(t, work, "GOPROXY="+p.URL, "GOSUMDB="+upstream.SumDB().Key(), "GOPRIVATE=", "GONOSUMDB=", "GONOPROXY=")
	g.run(nil, "mod", "tidy")
	gosum, err := os.ReadFile(filepath.Join(work, "go.sum"))
	if err != nil || string(gosum) != graph.GoSum {
		t.Errorf("go.sum after go mod tidy differs from the graph's:\n%s\nwant:\n%s", gosum, graph.GoSum)
	}
	g.run(nil, "mod", "download", "all")
	g.run([]string{"GOPROXY=off"}, "build", "./...")

	var faulted, sumdbFromProxy int
	for _, r := range upstream.Requests() {
		if r.Fault.Kind != modnettest.NoFault {
			faulted++
		}
		if r.Kind == modnettest.KindSumDB {
			sumdbFromProxy++
		}
	}
	lookups := strings.Count(p.logText(t), "path=/sumdb/"+upstream.SumDB().Name()+"/lookup/")
	t.Logf("upstream: %d requests, %d with faults, %d to the checksum database; go command: %d lookups through the proxy",
		len(upstream.Requests()), faulted, sumdbFromProxy, lookups)
	if faulted == 0 {
		t.Error("no fault was injected; the test proves less than it claims")
	}
	if lookups < len(graph.BuildList) {
		t.Errorf("the go command made %d checksum database lookups through the proxy, want at least %d", lookups, len(graph.BuildList))
	}
}
