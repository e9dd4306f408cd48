package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modnettest"
	"github.com/modkit/modkit/retry"
)

// prefetchSetup serves a small generated graph, writes its main module and
// points the environment at the proxy and a new module cache.
func prefetchSetup(t *testing.T) (*modnettest.Graph, *modnettest.Server, string) {
	t.Helper()
	g, err := modnettest.GenerateGraph(modnettest.GraphConfig{Seed: 11, Modules: 8, ZipBytes: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	srv := modnettest.NewServer(g.Modules...)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	if err := g.WriteMain(dir); err != nil {
		t.Fatal(err)
	}
	modcache := filepath.Join(t.TempDir(), "modcache")
	t.Cleanup(func() { modnet.RemoveAll(modcache) })
	setEnv(t, "GOPROXY", srv.URL, "GOSUMDB", srv.SumDB().GOSUMDB(), "GOMODCACHE", modcache,
		"GOPATH", filepath.Join(t.TempDir(), "gopath"), "GOFLAGS", "")
	return g, srv, dir
}

func TestPrefetchCommand(t *testing.T) {
	g, _, dir := prefetchSetup(t)
	code, stdout, stderr := runCmd("prefetch", "-modfile", filepath.Join(dir, "go.mod"))
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	// Not a terminal: no progress line, only the summary.
	want := fmt.Sprintf("modfetch prefetch: %d modules and ", len(g.BuildList))
	if !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "\r") {
		t.Errorf("stderr %q, want one summary line starting %q", stderr, want)
	}

	// Again, from the module's directory: everything is cached.
	t.Chdir(dir)
	code, _, stderr = runCmd("prefetch")
	if code != 0 || !strings.Contains(stderr, "0.0 MiB downloaded") {
		t.Errorf("second run: exit %d, stderr %q; want nothing downloaded", code, stderr)
	}
}

// In a workspace prefetch fetches the workspace's build list, as
// 'go mod download' does there: here a second module adds a requirement
// the first one's graph lacks. GOWORK=off prefetches the module alone.
func TestPrefetchWorkspace(t *testing.T) {
	g, srv, dir := prefetchSetup(t)
	extra := modnettest.Module{Path: "127.0.0.1/cli/extra", Version: "v1.0.0", Files: map[string]string{"e.go": "package e\n"}}
	if err := srv.Add(extra); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(filepath.Dir(dir), "other")
	if err := os.MkdirAll(other, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n\ngo 1.21\n\nrequire "+extra.Path+" "+extra.Version+"\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(filepath.Dir(dir), "go.work")
	if err := os.WriteFile(work, []byte("go 1.25\n\nuse (\n\t./"+filepath.Base(dir)+"\n\t./other\n)\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	code, stdout, stderr := runCmd("prefetch", "-json")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var sum eventJSON
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); code != 0 || err != nil || sum.Work != work || sum.Modules != len(g.BuildList)+1 {
		t.Errorf("exit %d, summary %+v (%v), want %d modules from %s\n%s", code, sum, err, len(g.BuildList)+1, work, stderr)
	}
	if len(sum.GoSumAdded) == 0 || !strings.HasPrefix(sum.GoSumAdded[0], extra.Path+" ") {
		t.Errorf("go.work.sum lines added: %q", sum.GoSumAdded)
	}
	t.Setenv("GOWORK", "off")
	t.Setenv("GOMODCACHE", filepath.Join(t.TempDir(), "mod"))
	code, stdout, _ = runCmd("prefetch", "-json")
	lines = strings.Split(strings.TrimSpace(stdout), "\n")
	sum = eventJSON{}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); code != 0 || err != nil || sum.Work != "" || sum.Modules != len(g.BuildList) {
		t.Errorf("GOWORK=off: exit %d, summary %+v", code, sum)
	}
}

func TestPrefetchJSON(t *testing.T) {
	g, _, dir := prefetchSetup(t)
	code, stdout, stderr := runCmd("prefetch", "-json", "-j", "4", "-modfile", filepath.Join(dir, "go.mod"))
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	var last eventJSON
	done := map[string]bool{}
	for i, line := range lines {
		var ev eventJSON
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %d is not a JSON object: %q", i+1, line)
		}
		switch ev.Kind {
		case "start", "retry":
		case "done":
			done[ev.Path+"@"+ev.Version] = true
		case "summary":
			if i != len(lines)-1 {
				t.Errorf("summary on line %d of %d", i+1, len(lines))
			}
		default:
			t.Errorf("line %d: unexpected kind %q", i+1, ev.Kind)
		}
		last = ev
	}
	if last.Kind != "summary" || last.Modules != len(g.BuildList) || last.Failed != 0 || last.Bytes <= 0 || last.Main != g.Path {
		t.Errorf("summary %+v, want %d modules of %s, none failed", last, len(g.BuildList), g.Path)
	}
	for _, m := range g.BuildList {
		if !done[m.String()] {
			t.Errorf("no done event for %s", m)
		}
	}
}

func TestPrefetchFailureExit(t *testing.T) {
	g, srv, dir := prefetchSetup(t)
	gone := g.BuildList[0]
	srv.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{{Module: gone.Path, Kind: modnettest.KindZip, Fault: modnettest.Status(404)}}})
	code, _, stderr := runCmd("prefetch", "-modfile", filepath.Join(dir, "go.mod"))
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		fmt.Sprintf("modfetch: %s (not-found): %s: reading %s/%s/@v/%s.zip: 404 Not Found\n", gone, gone, srv.URL, gone.Path, gone.Version),
		"; 1 FAILED\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	code, stdout, _ := runCmd("prefetch", "-json", "-modfile", filepath.Join(dir, "go.mod"))
	if code != 1 || !strings.Contains(stdout, `"Kind":"fail","Path":"`+gone.Path+`"`) || !strings.Contains(stdout, `"Class":"not-found"`) {
		t.Errorf("-json: exit %d, output:\n%s\nwant exit 1 and a fail event with class not-found", code, stdout)
	}
}

func TestPrefetchUsage(t *testing.T) {
	setEnv(t)
	for _, args := range [][]string{
		{"prefetch", "extra"},
		{"prefetch", "-j", "-1"},
		{"prefetch", "-nosuchflag"},
	} {
		code, _, stderr := runCmd(args...)
		if code != 2 || !strings.Contains(stderr, "usage: modfetch prefetch [-json] [-j N] [-modfile PATH] [-extract=false] [-toolchain=false] [-gosum=false]") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and the usage", args, code, stderr)
		}
	}
	t.Chdir(t.TempDir())
	code, _, stderr := runCmd("prefetch")
	if code != 1 || !strings.Contains(stderr, "go.mod file not found in current directory or any parent directory; use -modfile") {
		t.Errorf("outside a module: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCmd("prefetch", "-modfile", filepath.Join(t.TempDir(), "go.mod"))
	if code != 1 || !strings.Contains(stderr, "no such file or directory") {
		t.Errorf("missing -modfile: exit %d, stderr %q", code, stderr)
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) || isTerminal(&strings.Builder{}) {
		t.Error("a regular file or a buffer taken for a terminal")
	}
}

// TestProgressDraw drives the live progress line as a terminal would see
// it: one line rewritten in place, then cleared for the summary.
func TestProgressDraw(t *testing.T) {
	var out strings.Builder
	p := &progress{w: &out, totals: new(modnet.PrefetchProgress), done: make(chan struct{})}
	p.event(modnet.PrefetchEvent{Kind: modnet.PrefetchStart, Path: "a.test/m", Version: "v1.0.0", File: "zip"})
	p.event(modnet.PrefetchEvent{Kind: modnet.PrefetchRetry, Path: "a.test/m", Version: "v1.0.0", File: "zip", Class: "reset"})
	p.draw(false)
	p.event(modnet.PrefetchEvent{Kind: modnet.PrefetchFail, Path: "a.test/m", Version: "v1.0.0", Elapsed: 1})
	p.draw(false)
	close(p.done)
	p.draw(true)
	frames := strings.Split(out.String(), "\r\033[K")
	if len(frames) != 5 || frames[0] != "" || frames[4] != "" {
		t.Fatalf("output %q: want three frames, then a cleared line", out.String())
	}
	if !strings.Contains(frames[1], ", 1 in flight, 1 retries, 0 failed") ||
		!strings.Contains(frames[2], ", 0 in flight, 1 retries, 1 failed") {
		t.Errorf("frames %q", frames)
	}
}

// -extract=false fills only the download cache: no module directory.
func TestPrefetchNoExtract(t *testing.T) {
	g, _, dir := prefetchSetup(t)
	code, _, stderr := runCmd("prefetch", "-extract=false", "-modfile", filepath.Join(dir, "go.mod"))
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	modcache := os.Getenv("GOMODCACHE")
	entries, err := os.ReadDir(modcache)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "cache" {
			t.Errorf("%s in the module cache; want only cache/", e.Name())
		}
	}
	for _, m := range g.BuildList {
		if _, err := os.Stat(filepath.Join(modcache, "cache", "download", m.Path, "@v", m.Version+".ziphash")); err != nil {
			t.Errorf("%s: %v", m, err)
		}
	}
}

// A corrupted download is announced as a warning before it heals.
func TestPrefetchMismatchWarning(t *testing.T) {
	g, srv, dir := prefetchSetup(t)
	// On a busy machine a hedge (a second request, which the fault spares)
	// could beat the corrupted first answer: the warning is about that
	// answer, so hedging is off.
	prefetchHTTP = &retry.Client{HedgeDisabled: true}
	t.Cleanup(func() { prefetchHTTP = nil })
	victim := g.BuildList[0]
	srv.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{{Module: victim.Path, Kind: modnettest.KindZip, First: 1, Fault: modnettest.Corrupt()}}})
	code, _, stderr := runCmd("prefetch", "-modfile", filepath.Join(dir, "go.mod"))
	want := "modfetch prefetch: warning: " + victim.String() + ": downloaded zip failed verification (corrupt), downloading it again: "
	if code != 0 || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr %q; want it to contain %q", code, stderr, want)
	}
}

func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		t       modnet.PrefetchTotals
		elapsed time.Duration
		want    string
	}{
		{modnet.PrefetchTotals{Modules: 139}, 0,
			"prefetch: modules 0/~139, go.mod 0, 0.0 of ~0.0 MiB, 0 in flight, 0 retries, 0 failed, 0.0s"},
		{modnet.PrefetchTotals{Modules: 139, ModulesDone: 40, GoMods: 3, Bytes: 20 << 20, ZipBytes: 100 << 20}, 2 * time.Second,
			"prefetch: modules 40/~139, go.mod 3, 20.0 of ~100.0 MiB, 10.0 MiB/s, ETA 8s, 0 in flight, 0 retries, 0 failed, 2.0s"},
		{modnet.PrefetchTotals{Modules: 139, ModulesDone: 139, Bytes: 100 << 20, ZipBytes: 100 << 20, Exact: true}, 4 * time.Second,
			"prefetch: modules 139/139, go.mod 0, 100.0 of 100.0 MiB, 25.0 MiB/s, ETA 0s, 0 in flight, 0 retries, 0 failed, 4.0s"},
	} {
		if got := progressLine(tc.t, tc.elapsed, 0, 0, 0); got != tc.want {
			t.Errorf("progressLine(%+v, %v) =\n%q\nwant\n%q", tc.t, tc.elapsed, got, tc.want)
		}
	}
}
