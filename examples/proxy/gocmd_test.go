package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet/modnettest"
	"github.com/modkit/modkit/retry"
)

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
	g := testenv.NewGo(t, "GOPROXY="+p.URL, "GOSUMDB="+upstream.SumDB().Key(), "GOPRIVATE=", "GONOSUMDB=", "GONOPROXY=")
	g.Dir = work
	g.MustRun("mod", "tidy")
	gosum, err := os.ReadFile(filepath.Join(work, "go.sum"))
	if err != nil || string(gosum) != graph.GoSum {
		t.Errorf("go.sum after go mod tidy differs from the graph's:\n%s\nwant:\n%s", gosum, graph.GoSum)
	}
	g.MustRun("mod", "download", "all")
	g.Env = append(g.Env, "GOPROXY=off")
	g.MustRun("build", "./...")

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
