package modnet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet/modnettest"
	"github.com/modkit/modkit/retry"
)

// prefetchFixture is a generated module graph served on loopback, with the
// main module written to a directory.
type prefetchFixture struct {
	graph   *modnettest.Graph
	srv     *modnettest.Server
	mainDir string
}

func newPrefetchFixture(t testing.TB, cfg modnettest.GraphConfig) *prefetchFixture {
	t.Helper()
	g, err := modnettest.GenerateGraph(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := modnettest.NewServer(g.Modules...)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	if err := g.WriteMain(dir); err != nil {
		t.Fatal(err)
	}
	return &prefetchFixture{graph: g, srv: srv, mainDir: dir}
}

// smallGraph is quick to generate and serve: a few dozen files.
var smallGraph = modnettest.GraphConfig{Seed: 3, Modules: 12, ZipBytes: 1 << 20}

// client returns a Client that fetches from the fixture's proxy into a new
// module cache, verifying against its checksum database for what go.sum
// lacks.
func (f *prefetchFixture) client(t testing.TB, modcache string, kv ...string) *Client {
	t.Helper()
	environ := map[string]string{
		"GOENV": "off", "GOROOT": t.TempDir(), "GOPATH": filepath.Join(t.TempDir(), "gopath"),
		"GOMODCACHE": modcache, "GOFLAGS": "-modcacherw",
		"GOPROXY": f.srv.URL, "GOSUMDB": f.srv.SumDB().GOSUMDB(), "GONOSUMDB": "", "GOPRIVATE": "",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		environ[kv[i]] = kv[i+1]
	}
	env, err := LoadEnvFrom(environ)
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Env: env}
	t.Cleanup(func() { c.Close() })
	return c
}

func (f *prefetchFixture) prefetch(t testing.TB, c *Client, req *PrefetchRequest) (*PrefetchResult, error) {
	t.Helper()
	if req == nil {
		req = &PrefetchRequest{}
	}
	if req.ModFile == "" && req.Modules == nil {
		req.ModFile = filepath.Join(f.mainDir, "go.mod")
	}
	return c.Prefetch(context.Background(), req)
}

// goRun runs the go command in dir on the module cache modcache.
func goRun(t testing.TB, dir, modcache string, kv ...string) (string, error) {
	t.Helper()
	g := testenv.NewGo(t, "GOMODCACHE="+modcache)
	for i := 0; i+2 < len(kv); i += 2 {
		g.Env = append(g.Env, kv[i]+"="+kv[i+1])
	}
	g.Dir = dir
	out, err := g.Command(strings.Fields(kv[len(kv)-1])...).CombinedOutput()
	return string(out), err
}

// cacheState describes a module cache for comparison with another
// (modnettest.CacheFiles).
func cacheState(t testing.TB, modcache string) map[string]string {
	t.Helper()
	files, err := modnettest.CacheFiles(modcache)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestPrefetchMatchesGoModDownloadAll prefetches a generated graph, then
// checks that the go command works offline on the result and that the
// cache holds exactly what 'go mod download all' leaves, for a pruned main
// module (go 1.21) and an unpruned one (go 1.16, whose whole graph is
// loaded, with go.mod hashes go.sum lacks checked against the checksum
// database).
func TestPrefetchMatchesGoModDownloadAll(t *testing.T) {
	testenv.GoBin(t)
	for _, tc := range []struct {
		name      string
		goVersion string
	}{
		{"pruned", "1.21"},
		{"unpruned", "1.16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newPrefetchFixture(t, smallGraph)
			modFile := filepath.Join(f.mainDir, "go.mod")
			writeFile(t, modFile, strings.Replace(f.graph.GoMod, "\ngo 1.21\n", "\ngo "+tc.goVersion+"\n", 1))
			modcache := filepath.Join(t.TempDir(), "modcache")
			res, err := f.prefetch(t, f.client(t, modcache), nil)
			if err != nil {
				t.Fatal(err)
			}
			var full []module.Version
			for _, m := range res.Modules {
				if !m.GoModOnly {
					full = append(full, module.Version{Path: m.Path, Version: m.Version})
					if m.Files.Dir == "" || m.Files.Sum == "" || m.Files.Info == "" || m.Cached {
						t.Errorf("%s@%s: files %+v, cached %v", m.Path, m.Version, m.Files, m.Cached)
					}
				}
			}
			if !slices.Equal(full, f.graph.BuildList) {
				t.Errorf("downloaded in full:\n%v\nwant the build list:\n%v", full, f.graph.BuildList)
			}

			goCache := filepath.Join(t.TempDir(), "modcache")
			if out, err := goRun(t, f.mainDir, goCache, "GOPROXY", f.srv.URL, "GOSUMDB", f.srv.SumDB().GOSUMDB(), "GOFLAGS", "-modcacherw", "mod download all"); err != nil {
				t.Fatalf("go mod download all: %v\n%s", err, out)
			}
			if diffs := modnettest.DiffCaches(cacheState(t, modcache), cacheState(t, goCache), "modkit", "go"); len(diffs) > 0 {
				t.Errorf("module cache after prefetch differs from go mod download all's:\n%s", strings.Join(diffs, "\n"))
			}
			// go mod download all may have added go.sum lines; the offline
			// checks use them too.
			for _, args := range []string{"mod download all", "build ./..."} {
				if out, err := goRun(t, f.mainDir, modcache, "GOPROXY", "off", "GOFLAGS", "-modcacherw -mod=mod", args); err != nil {
					t.Fatalf("GOPROXY=off go %s after prefetch: %v\n%s", args, err, out)
				}
			}
		})
	}
}

// TestPrefetchReplace checks replace directives against the go command: a
// module replaced by another module version fetches the replacement, one
// replaced by a directory fetches nothing but contributes its
// requirements, and the go command then builds offline.
func TestPrefetchReplace(t *testing.T) {
	testenv.GoBin(t)
	mods := []modnettest.Module{
		{Path: "example.com/a", Version: "v1.0.0", Files: map[string]string{"a.go": "package a\n"}},
		{Path: "example.com/afork", Version: "v1.1.0", GoMod: "module example.com/a\n\ngo 1.21\n\nrequire example.com/c v1.0.0\n",
			Files: map[string]string{"a.go": "package a\n\nimport _ \"example.com/c\"\n"}},
		{Path: "example.com/c", Version: "v1.0.0", Files: map[string]string{"c.go": "package c\n"}},
		{Path: "example.com/d", Version: "v1.0.0", Files: map[string]string{"d.go": "package d\n"}},
	}
	srv := modnettest.NewServer(mods...)
	t.Cleanup(srv.Close)
	f := &prefetchFixture{srv: srv, mainDir: t.TempDir()}
	writeFile(t, filepath.Join(f.mainDir, "go.mod"), `module example.com/main

go 1.21

require (
	example.com/a v1.0.0
	example.com/b v1.0.0
	example.com/c v1.0.0
	example.com/d v1.0.0
)

replace example.com/a v1.0.0 => example.com/afork v1.1.0

replace example.com/b => ./b
`)
	sum, err := modnettest.GoSum(mods[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(f.mainDir, "go.sum"), sum)
	writeFile(t, filepath.Join(f.mainDir, "main.go"), "package main\n\nimport (\n\t_ \"example.com/a\"\n\t_ \"example.com/b\"\n)\n\nfunc main() {}\n")
	writeFile(t, filepath.Join(f.mainDir, "b", "go.mod"), "module example.com/b\n\ngo 1.21\n\nrequire example.com/d v1.0.0\n")
	writeFile(t, filepath.Join(f.mainDir, "b", "b.go"), "package b\n\nimport _ \"example.com/d\"\n")

	modcache := filepath.Join(t.TempDir(), "modcache")
	res, err := f.prefetch(t, f.client(t, modcache), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range res.Modules {
		got = append(got, fmt.Sprintf("%s@%s full=%v", m.Path, m.Version, !m.GoModOnly))
	}
	want := []string{"example.com/afork@v1.1.0 full=true", "example.com/c@v1.0.0 full=true", "example.com/d@v1.0.0 full=true"}
	if !slices.Equal(got, want) {
		t.Errorf("modules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range srv.Requests() {
		if r.Module == "example.com/a" || r.Module == "example.com/b" {
			t.Errorf("requested %s, which is replaced", r.Path)
		}
	}
	goCache := filepath.Join(t.TempDir(), "modcache")
	if out, err := goRun(t, f.mainDir, goCache, "GOPROXY", srv.URL, "GOSUMDB", srv.SumDB().GOSUMDB(), "GOFLAGS", "-modcacherw", "mod download all"); err != nil {
		t.Fatalf("go mod download all: %v\n%s", err, out)
	}
	if diffs := modnettest.DiffCaches(cacheState(t, modcache), cacheState(t, goCache), "modkit", "go"); len(diffs) > 0 {
		t.Errorf("module cache after prefetch differs from go mod download all's:\n%s", strings.Join(diffs, "\n"))
	}
	if out, err := goRun(t, f.mainDir, modcache, "GOPROXY", "off", "GOFLAGS", "-modcacherw", "build ./..."); err != nil {
		t.Fatalf("GOPROXY=off go build after prefetch: %v\n%s", err, out)
	}
}

// faultMix is modnettest.StandardMix with stalls that last until the
// client gives up, so that a test never waits for one to end by itself.
func faultMix(seed uint64) modnettest.Faults {
	f := modnettest.StandardMix(seed)
	for i := range f.Mix {
		if f.Mix[i].Fault.Kind == modnettest.FaultStall {
			f.Mix[i].Fault = modnettest.Stall(0)
		}
	}
	return f
}

// TestPrefetchUnderFaults prefetches through resets, throttling, cuts and
// stalls, and checks that the cache ends up as after a fault-free run.
func TestPrefetchUnderFaults(t *testing.T) {
	f := newPrefetchFixture(t, smallGraph)
	clean := filepath.Join(t.TempDir(), "modcache")
	if _, err := f.prefetch(t, f.client(t, clean), nil); err != nil {
		t.Fatal(err)
	}
	for _, seed := range []uint64{1, 2} {
		f.srv.SetFaults(faultMix(seed))
		f.srv.ResetRequests()
		modcache := filepath.Join(t.TempDir(), "modcache")
		res, err := f.prefetch(t, f.client(t, modcache), nil)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		faults := map[modnettest.FaultKind]int{}
		for _, r := range f.srv.Requests() {
			faults[r.Fault.Kind]++
		}
		if faults[modnettest.FaultReset] == 0 || faults[modnettest.FaultStatus] == 0 || res.Retries == 0 {
			t.Errorf("seed %d: faults injected %v, %d retries: the mix did not bite", seed, faults, res.Retries)
		}
		if diffs := modnettest.DiffCaches(cacheState(t, modcache), cacheState(t, clean), "with faults", "without"); len(diffs) > 0 {
			t.Errorf("seed %d: cache differs from a fault-free prefetch's:\n%s", seed, strings.Join(diffs, "\n"))
		}
	}
}

// TestPrefetchReportsFailures: a module that cannot be had fails with its
// class while every other module completes.
func TestPrefetchReportsFailures(t *testing.T) {
	f := newPrefetchFixture(t, smallGraph)
	gone, broken := f.graph.BuildList[0], f.graph.BuildList[1]
	f.srv.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{
		{Module: gone.Path, Kind: modnettest.KindZip, Fault: modnettest.Status(404)},
		{Module: broken.Path, Kind: modnettest.KindInfo, Fault: modnettest.Status(500)},
	}})
	c := f.client(t, filepath.Join(t.TempDir(), "modcache"))
	c.HTTP = &retry.Client{MaxAttempts: 2, BaseDelay: time.Millisecond}
	res, err := f.prefetch(t, c, nil)
	var perr *PrefetchError
	if !errors.As(err, &perr) {
		t.Fatalf("err = %v, want a *PrefetchError", err)
	}
	classes := map[string]string{}
	for _, m := range perr.Failed {
		classes[m.Path] = m.Class
	}
	want := map[string]string{gone.Path: "not-found", broken.Path: "server"}
	if fmt.Sprint(classes) != fmt.Sprint(want) {
		t.Errorf("failed modules and classes %v, want %v", classes, want)
	}
	for _, line := range []string{
		fmt.Sprintf("prefetch: 2 of %d module versions failed", len(res.Modules)),
		fmt.Sprintf("\n\t%s (not-found): %s: reading %s/%s/@v/%s.zip: 404 Not Found", gone, gone, f.srv.URL, gone.Path, gone.Version),
		fmt.Sprintf("\n\t%s (server): %s: reading %s/%s/@v/%s.info: 500 Internal Server Error", broken, broken, f.srv.URL, broken.Path, broken.Version),
	} {
		if !strings.Contains(err.Error(), line) {
			t.Errorf("error message lacks %q:\n%s", line, err)
		}
	}
	for _, m := range res.Modules {
		if m.Err == nil && !m.GoModOnly {
			if _, err := os.Stat(filepath.Join(m.Files.Dir, "go.mod")); err != nil {
				t.Errorf("%s@%s did not complete: %v", m.Path, m.Version, err)
			}
		}
	}
	if n := len(res.Failed()); n != 2 {
		t.Errorf("Failed() has %d modules, want 2", n)
	}
}

// TestPrefetchChecksumMismatch: a zip that does not match go.sum is a
// security error, reported as such, and nothing of its module is stored.
func TestPrefetchChecksumMismatch(t *testing.T) {
	f := newPrefetchFixture(t, smallGraph)
	good, bad := f.graph.BuildList[0], f.graph.BuildList[1]
	for _, m := range f.graph.Modules {
		if m.Path == bad.Path && m.Version == bad.Version {
			m.Zip = nil
			m.Files = map[string]string{"tampered.go": "package tampered\n"}
			if err := f.srv.Add(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	modcache := filepath.Join(t.TempDir(), "modcache")
	c := f.client(t, modcache)
	res, err := f.prefetch(t, c, &PrefetchRequest{Modules: []module.Version{good, bad}, GoSumFile: filepath.Join(f.mainDir, "go.sum")})
	if err == nil {
		t.Fatal("no error for a tampered zip")
	}
	var ce *ChecksumError
	if len(res.Modules) != 2 || res.Modules[0].Err != nil || res.Modules[1].Class != "checksum" || !errors.As(res.Modules[1].Err, &ce) {
		t.Fatalf("modules %+v; want %s complete and %s failed with class checksum", res.Modules, good, bad)
	}
	if msg := res.Modules[1].Err.Error(); !strings.Contains(msg, "checksum mismatch") || !strings.Contains(msg, "SECURITY ERROR") {
		t.Errorf("error message %q does not say it is a checksum mismatch and a security error", msg)
	}
	cache := c.cache
	for _, suffix := range []string{"zip", "ziphash", "info", "mod"} {
		name, _ := cache.Path(bad, suffix)
		if _, err := os.Stat(name); err == nil {
			t.Errorf("%s of the tampered module was stored", filepath.Base(name))
		}
	}
	if dir, err := cache.ModuleDir(bad); err == nil || fileExists(dir) {
		t.Errorf("the tampered module was extracted to %s", dir)
	}
	if _, err := cache.ModuleDir(good); err != nil {
		t.Errorf("the good module is not complete: %v", err)
	}
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// TestPrefetchFetchesEachFileOnce: modules that share requirements, and
// modules listed twice, cost one request per file.
func TestPrefetchFetchesEachFileOnce(t *testing.T) {
	f := newPrefetchFixture(t, smallGraph)
	twice := []module.Version{f.graph.BuildList[0], f.graph.BuildList[0], f.graph.BuildList[2]}
	c := f.client(t, filepath.Join(t.TempDir(), "modcache"))
	// What this test is about is that no file is fetched twice for two
	// modules that need it. On a busy machine a request may still be
	// retried (a stall timeout) or hedged (late headers): hedging is off,
	// and a retried or resumed request counts once more for its file.
	var mu sync.Mutex
	again := map[string]int{}
	count := func(ev retry.Event) {
		u, err := url.Parse(ev.URL)
		if err != nil {
			t.Errorf("retry event URL %q: %v", ev.URL, err)
			return
		}
		mu.Lock()
		again[u.Path]++
		mu.Unlock()
	}
	c.HTTP = &retry.Client{HedgeDisabled: true, OnRetry: count, OnResume: count}
	if _, err := f.prefetch(t, c, &PrefetchRequest{
		ModFile: filepath.Join(f.mainDir, "go.mod"), Modules: twice}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	zips, zipsAgain := 0, 0
	for _, r := range f.srv.Requests() {
		seen[r.Path]++
		if r.Kind == modnettest.KindZip {
			zips++
		}
	}
	for path, n := range seen {
		if n != 1+again[path] {
			t.Errorf("%s requested %d times, retried %d times", path, n, again[path])
		}
		if strings.HasSuffix(path, ".zip") {
			zipsAgain += again[path]
		}
	}
	if zips-zipsAgain != len(f.graph.BuildList) {
		t.Errorf("%d zip requests (%d retried), want one per build list module (%d)", zips, zipsAgain, len(f.graph.BuildList))
	}
}

// TestPrefetchSkipsCached: a second prefetch into the same cache sends no
// request at all, and reports every module as cached.
func TestPrefetchSkipsCached(t *testing.T) {
	f := newPrefetchFixture(t, smallGraph)
	modcache := filepath.Join(t.TempDir(), "modcache")
	if _, err := f.prefetch(t, f.client(t, modcache), nil); err != nil {
		t.Fatal(err)
	}
	f.srv.ResetRequests()
	var kinds []PrefetchEventKind
	res, err := f.prefetch(t, f.client(t, modcache), &PrefetchRequest{OnEvent: func(ev PrefetchEvent) { kinds = append(kinds, ev.Kind) }})
	if err != nil {
		t.Fatal(err)
	}
	if log := f.srv.Requests(); len(log) > 0 {
		t.Errorf("a prefetch into a complete cache sent requests:\n%s", log)
	}
	for _, m := range res.Modules {
		if !m.Cached || m.Bytes != 0 {
			t.Errorf("%s@%s: cached %v, %d bytes", m.Path, m.Version, m.Cached, m.Bytes)
		}
	}
	if res.Bytes != 0 || len(kinds) != len(res.Modules) || slices.ContainsFunc(kinds, func(k PrefetchEventKind) bool { return k != PrefetchDone }) {
		t.Errorf("%d bytes, events %v; want only one done event per module", res.Bytes, kinds)
	}
}

// TestPrefetchEvents checks the event sequence: one start before one done
// or fail per module, retries in between, bytes on done.
func TestPrefetchEvents(t *testing.T) {
	f := newPrefetchFixture(t, smallGraph)
	flaky, gone := f.graph.BuildList[0], f.graph.BuildList[1]
	f.srv.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{
		// Not a reset: http.Transport itself resends a request whose
		// reused connection was reset, unseen by the retry layer.
		{Module: flaky.Path, Kind: modnettest.KindZip, First: 1, Fault: modnettest.Status(500)},
		{Module: gone.Path, Kind: modnettest.KindZip, Fault: modnettest.Status(410)},
	}})
	var events []PrefetchEvent
	res, _ := f.prefetch(t, f.client(t, filepath.Join(t.TempDir(), "modcache")), &PrefetchRequest{OnEvent: func(ev PrefetchEvent) {
		events = append(events, ev) // calls are serialized
	}})
	type state struct{ started, ended, retries int }
	states := map[module.Version]*state{}
	for i, ev := range events {
		m := module.Version{Path: ev.Path, Version: ev.Version}
		st := states[m]
		if st == nil {
			st = new(state)
			states[m] = st
		}
		switch ev.Kind {
		case PrefetchStart:
			if st.started++; st.started > 1 || st.ended > 0 {
				t.Errorf("event %d: %s started again, or after its end", i, m)
			}
			if ev.File == "" {
				t.Errorf("event %d: start of %s names no file", i, m)
			}
		case PrefetchRetry:
			if st.started == 0 || st.ended > 0 {
				t.Errorf("event %d: retry of %s outside its start and end", i, m)
			}
			st.retries++
			if m == flaky && (ev.File != "zip" || ev.Class != "server") {
				t.Errorf("event %d: retry %+v, want the zip, class server", i, ev)
			}
		case PrefetchDone, PrefetchFail:
			if st.ended++; st.ended > 1 || st.started != 1 {
				t.Errorf("event %d: %s ended twice, or without a start", i, m)
			}
			if ev.Kind == PrefetchDone && (ev.Bytes <= 0 || ev.Elapsed <= 0) {
				t.Errorf("event %d: done %+v without bytes or elapsed time", i, ev)
			}
			if ev.Kind == PrefetchFail && (m != gone || ev.Class != "not-found" || ev.Err == nil) {
				t.Errorf("event %d: fail %+v, want only %s, class not-found", i, ev, gone)
			}
		}
	}
	if len(states) != len(res.Modules) {
		t.Errorf("events for %d modules, want %d", len(states), len(res.Modules))
	}
	if st := states[flaky]; st == nil || st.retries != 1 {
		t.Errorf("flaky module: %+v, want one retry", st)
	}
	if st := states[gone]; st == nil || st.ended != 1 {
		t.Errorf("gone module: %+v, want one fail", st)
	}
}

// TestPrefetchStreams checks that zips stream to disk: while a graph whose
// zips are several times the memory budget is prefetched, the program
// allocates a small fraction of their size.
func TestPrefetchStreams(t *testing.T) {
	f := newPrefetchFixture(t, modnettest.GraphConfig{Seed: 5, Modules: 3, Direct: 3, ZipBytes: 24 << 20})
	var largest int64
	for _, m := range f.graph.Modules {
		largest = max(largest, int64(len(m.Zip)))
	}
	c := f.client(t, filepath.Join(t.TempDir(), "modcache"))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := f.prefetch(t, c, nil)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	// The server side, in this process, copies through small buffers too.
	alloc := int64(after.TotalAlloc - before.TotalAlloc)
	t.Logf("downloaded %d bytes (largest zip %d), allocated %d", res.Bytes, largest, alloc)
	if alloc > largest/2 {
		t.Errorf("allocated %d bytes while downloading %d (largest zip %d): zips are held in memory", alloc, res.Bytes, largest)
	}
}

// FuzzURLModule: the module and file a retry event's URL names are the
// ones the URL was built for, and no input makes urlModule panic.
func FuzzURLModule(f *testing.F) {
	f.Add("example.com/Upper/v2", "v2.0.0-20240101000000-abcdefabcdef", "https://proxy.example/prefix")
	f.Add("127.0.0.1/gen/m001", "v1.2.0", "http://127.0.0.1:1234")
	f.Fuzz(func(t *testing.T, path, version, base string) {
		p := &prefetcher{paths: map[string]bool{path: true}}
		p.urlModule(base + "/" + path + "/@v/" + version + ".zip")
		if module.Check(path, version) != nil || !strings.HasPrefix(base, "http") {
			return
		}
		src := Source{Kind: KindProxy, URL: base}
		u, err := src.ZipURL(path, version)
		if err != nil || strings.ContainsAny(base[strings.Index(base, "://")+3:], "?#@") {
			return
		}
		mod, file := p.urlModule(u)
		if mod.Path != path || mod.Version != version || file != "zip" {
			t.Errorf("urlModule(%q) = %v, %q; want %s@%s, zip", u, mod, file, path, version)
		}
	})
}

// BenchmarkPrefetch measures a cold prefetch of a small generated graph
// from an in-process proxy: the whole pipeline, network to extraction.
func BenchmarkPrefetch(b *testing.B) {
	f := newPrefetchFixture(b, modnettest.GraphConfig{Seed: 7, Modules: 30, ZipBytes: 8 << 20})
	b.SetBytes(f.graph.ZipBytes)
	for b.Loop() {
		modcache := filepath.Join(b.TempDir(), "modcache")
		if _, err := f.prefetch(b, f.client(b, modcache), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrefetchCached measures a prefetch that finds everything in the
// cache: planning (the graph walk over cached go.mod files, minimal
// version selection) and the verification of what is there.
func BenchmarkPrefetchCached(b *testing.B) {
	f := newPrefetchFixture(b, modnettest.GraphConfig{Seed: 7, Modules: 120, ZipBytes: 4 << 20})
	modcache := filepath.Join(b.TempDir(), "modcache")
	if _, err := f.prefetch(b, f.client(b, modcache), nil); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := f.prefetch(b, f.client(b, modcache), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPrefetchCanceled: a canceled prefetch returns at once, every module
// failed with class canceled.
func TestPrefetchCanceled(t *testing.T) {
	f := newPrefetchFixture(t, smallGraph)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := f.client(t, filepath.Join(t.TempDir(), "modcache")).Prefetch(ctx, &PrefetchRequest{ModFile: filepath.Join(f.mainDir, "go.mod")})
	var perr *PrefetchError
	if !errors.As(err, &perr) || len(perr.Failed) != len(res.Modules) || len(res.Modules) == 0 {
		t.Fatalf("err = %v; want every module failed", err)
	}
	for _, m := range perr.Failed {
		if m.Class != "canceled" {
			t.Errorf("%s@%s: class %q (%v), want canceled", m.Path, m.Version, m.Class, m.Err)
		}
	}
}

// TestPrefetchNoExtract: with NoExtract only the download cache is filled,
// exactly as 'go mod download all' fills it, and the go command then
// builds offline, extracting what it needs from the zips.
func TestPrefetchNoExtract(t *testing.T) {
	testenv.GoBin(t)
	f := newPrefetchFixture(t, smallGraph)
	modcache := filepath.Join(t.TempDir(), "modcache")
	res, err := f.prefetch(t, f.client(t, modcache), &PrefetchRequest{NoExtract: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range res.Modules {
		if !m.GoModOnly && (m.Files.Dir != "" || m.Files.Sum == "" || m.Files.Zip == "") {
			t.Errorf("%s@%s: files %+v; want a zip and its hash, no directory", m.Path, m.Version, m.Files)
		}
	}
	goCache := filepath.Join(t.TempDir(), "modcache")
	if out, err := goRun(t, f.mainDir, goCache, "GOPROXY", f.srv.URL, "GOSUMDB", f.srv.SumDB().GOSUMDB(), "GOFLAGS", "-modcacherw", "mod download all"); err != nil {
		t.Fatalf("go mod download all: %v\n%s", err, out)
	}
	downloadOnly := func(files map[string]string) map[string]string {
		maps.DeleteFunc(files, func(k, _ string) bool { return !strings.HasPrefix(k, "cache/download/") })
		return files
	}
	got := cacheState(t, modcache)
	if diffs := modnettest.DiffCaches(got, downloadOnly(cacheState(t, goCache)), "modkit", "go"); len(diffs) > 0 {
		t.Errorf("download cache after prefetch -extract=false differs from go mod download all's:\n%s", strings.Join(diffs, "\n"))
	}
	if out, err := goRun(t, f.mainDir, modcache, "GOPROXY", "off", "GOFLAGS", "-modcacherw -mod=mod", "build ./..."); err != nil {
		t.Fatalf("GOPROXY=off go build ./... on the download cache: %v\n%s", err, out)
	}
}

// TestPrefetchHealsCorruption: zips and go.mod files corrupted in transit
// (one byte flipped, the right length) on their first two downloads are
// downloaded again; every module completes, each first failure is
// reported as a mismatch event, and the cache holds what the go command
// would store.
func TestPrefetchHealsCorruption(t *testing.T) {
	f := newPrefetchFixture(t, smallGraph)
	f.srv.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{
		{Kind: modnettest.KindZip, First: 2, Fault: modnettest.Corrupt()},
		{Kind: modnettest.KindMod, First: 2, Fault: modnettest.Corrupt()},
	}})
	modcache := filepath.Join(t.TempDir(), "modcache")
	var mu sync.Mutex
	mismatches := map[string]int{}
	res, err := f.prefetch(t, f.client(t, modcache), &PrefetchRequest{OnEvent: func(ev PrefetchEvent) {
		if ev.Kind == PrefetchMismatch {
			mu.Lock()
			mismatches[ev.File]++
			mu.Unlock()
			if ev.Err == nil || (ev.Class != "checksum" && ev.Class != "corrupt") {
				t.Errorf("mismatch event %+v: want an error of class checksum or corrupt", ev)
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	full, gomods := 0, 0
	for _, m := range res.Modules {
		if m.GoModOnly {
			gomods++
		} else {
			full++
		}
	}
	// Every go.mod the graph fetched (read ahead from go.sum too) and every
	// zip failed once.
	if mismatches["zip"] != full || mismatches["mod"] < full+gomods {
		t.Errorf("mismatch events %v; want one per zip (%d) and at least one per go.mod (%d)", mismatches, full, full+gomods)
	}
	for _, m := range res.Modules {
		if m.GoModOnly {
			continue
		}
		if h, err := os.ReadFile(m.Files.Zip + "hash"); err != nil || !strings.Contains(f.graph.GoSum, m.Path+" "+m.Version+" "+string(h)) {
			t.Errorf("%s@%s: .ziphash %q (%v) is not the go.sum hash", m.Path, m.Version, h, err)
		}
	}
}

// TestPrefetchProgressTotals: the totals a progress line shows end exact:
// every module of the build list done, every zip byte received, the sizes
// the server announced adding up to the graph's zips.
func TestPrefetchProgressTotals(t *testing.T) {
	f := newPrefetchFixture(t, smallGraph)
	prog := new(PrefetchProgress)
	var early PrefetchTotals
	var once sync.Once
	_, err := f.prefetch(t, f.client(t, filepath.Join(t.TempDir(), "modcache")), &PrefetchRequest{Progress: prog,
		OnEvent: func(PrefetchEvent) { once.Do(func() { early = prog.Snapshot() }) }})
	if err != nil {
		t.Fatal(err)
	}
	n := len(f.graph.BuildList)
	if early.Modules != n {
		t.Errorf("at the first event, %d modules planned; want go.sum's %d zip lines", early.Modules, n)
	}
	got := prog.Snapshot()
	want := PrefetchTotals{Modules: n, ModulesDone: n, GoMods: got.GoMods, Bytes: f.graph.ZipBytes, ZipBytes: f.graph.ZipBytes, Exact: true}
	if got != want || got.GoMods == 0 {
		t.Errorf("final totals %+v, want %+v with go.mod files", got, want)
	}
}

// TestPrefetchFaultClasses: each fault class of the benchmark's matrix on
// its own, at its rate there, on a small graph: the prefetch completes
// with the end state of a fault-free one. The cuts run against a server
// without Range too, where a cut download starts over; the corruption
// hits a file's first three downloads; the trickles are hedged.
func TestPrefetchFaultClasses(t *testing.T) {
	// Real files: compressible, so that a flipped byte breaks inflation,
	// not only a CRC.
	f := newPrefetchFixture(t, modnettest.GraphConfig{Seed: 4, Modules: 6, ZipBytes: 1 << 20, RealFiles: true})
	clean := filepath.Join(t.TempDir(), "modcache")
	if _, err := f.prefetch(t, f.client(t, clean), nil); err != nil {
		t.Fatal(err)
	}
	want := cacheState(t, clean)
	var biggest modnettest.Module
	for _, m := range f.graph.Modules {
		if len(m.Zip) > len(biggest.Zip) {
			biggest = m
		}
	}
	for _, tc := range []struct {
		name   string
		faults modnettest.Faults
	}{
		{"resets", modnettest.Faults{Mix: []modnettest.Chance{{Rate: 0.3, Fault: modnettest.Reset()}}}},
		{"503", modnettest.Faults{Mix: []modnettest.Chance{{Rate: 0.3, Fault: modnettest.Status(503)}}}},
		{"429", modnettest.Faults{Mix: []modnettest.Chance{{Rate: 0.3, Fault: modnettest.Status(429)}}}},
		{"cuts", modnettest.Faults{Mix: []modnettest.Chance{{Rate: 0.3, Fault: modnettest.Cut(modnettest.Half)}}}},
		{"cuts without Range", modnettest.Faults{NoRange: true, Mix: []modnettest.Chance{{Rate: 0.3, Fault: modnettest.Cut(modnettest.Half)}}}},
		{"corrupt", modnettest.Faults{Mix: []modnettest.Chance{
			{Rate: 0.3, Kind: modnettest.KindZip, First: 3, Fault: modnettest.Corrupt()},
			{Rate: 0.3, Kind: modnettest.KindMod, First: 3, Fault: modnettest.Corrupt()},
		}}},
		{"trickles", modnettest.Faults{Rules: []modnettest.Rule{{Module: biggest.Path, Kind: modnettest.KindZip, First: 1, Fault: modnettest.Trickle(20_000)}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.faults.Seed = 3
			f.srv.SetFaults(tc.faults)
			defer f.srv.SetFaults(modnettest.Faults{})
			f.srv.ResetRequests()
			modcache := filepath.Join(t.TempDir(), "modcache")
			start := time.Now()
			res, err := f.prefetch(t, f.client(t, modcache), nil)
			if err != nil {
				t.Fatal(err)
			}
			faulted := 0
			for _, r := range f.srv.Requests() {
				if r.Fault.Kind != "" {
					faulted++
				}
			}
			if faulted == 0 || res.Retries == 0 && tc.name != "corrupt" {
				t.Errorf("%d faults injected, %d retries: the class did not bite", faulted, res.Retries)
			}
			diffs := modnettest.DiffCaches(cacheState(t, modcache), want, "with faults", "without")
			if tc.name == "corrupt" {
				// A byte flipped in a zip's headers outside what the h1:
				// hash covers (names and contents), such as a file's
				// modification time, verifies, for modkit as for the go
				// command; the contents and hashes must still agree.
				diffs = slices.DeleteFunc(diffs, func(d string) bool {
					return strings.HasPrefix(d, "content differs: ") && strings.HasSuffix(d, ".zip")
				})
			}
			if len(diffs) > 0 {
				t.Errorf("cache differs from a fault-free prefetch's:\n%s", strings.Join(diffs, "\n"))
			}
			// A trickled zip alone would take tens of seconds.
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestPrefetchZipsAhead: the zips go.sum lists are requested before the
// graph walk can confirm them (here, before any go.mod has been answered),
// while a zip line of a module the walk does not confirm (one needed for
// its go.mod only, and a version the proxy does not have) leaves the cache
// exactly as 'go mod download all' does (its download cache, with
// NoExtract) and is not reported.
func TestPrefetchZipsAhead(t *testing.T) {
	testenv.GoBin(t)
	for _, noExtract := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoExtract=%v", noExtract), func(t *testing.T) { testPrefetchZipsAhead(t, noExtract) })
	}
}

func testPrefetchZipsAhead(t *testing.T, noExtract bool) {
	f := newPrefetchFixture(t, smallGraph)
	// Unpruned, so that nothing but the go.mod files is known to be needed
	// before the walk.
	writeFile(t, filepath.Join(f.mainDir, "go.mod"), strings.Replace(f.graph.GoMod, "\ngo 1.21\n", "\ngo 1.16\n", 1))
	inBuildList := map[string]bool{}
	for _, m := range f.graph.BuildList {
		inBuildList[m.String()] = true
	}
	var stale []string
	for _, m := range f.graph.Modules {
		if inBuildList[m.Path+"@"+m.Version] {
			continue
		}
		sums, err := m.GoSum()
		if err != nil {
			t.Fatal(err)
		}
		zipLine, _, _ := strings.Cut(sums, "\n")
		stale = append(stale, zipLine, m.Path+" "+missingVersion(m.Version)+" h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
		break
	}
	if stale == nil {
		t.Fatal("the graph has no module outside the build list")
	}
	writeFile(t, filepath.Join(f.mainDir, "go.sum"), f.graph.GoSum+strings.Join(stale, "\n")+"\n")
	// No go.mod before a second of throttling.
	f.srv.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{
		{Kind: modnettest.KindMod, First: 1, Fault: modnettest.RetryAfter(503, time.Second)},
	}})

	modcache := filepath.Join(t.TempDir(), "modcache")
	var events []PrefetchEvent
	res, err := f.prefetch(t, f.client(t, modcache), &PrefetchRequest{NoExtract: noExtract,
		OnEvent: func(ev PrefetchEvent) { events = append(events, ev) }})
	if err != nil {
		t.Fatal(err)
	}
	var firstMod time.Time
	firstZip := map[string]time.Time{}
	for _, r := range f.srv.Requests() {
		switch {
		case r.Kind == modnettest.KindMod && r.Status == 200 && (firstMod.IsZero() || r.Time.Before(firstMod)):
			firstMod = r.Time
		case r.Kind == modnettest.KindZip:
			if t0, ok := firstZip[r.Module+"@"+r.Version]; !ok || r.Time.Before(t0) {
				firstZip[r.Module+"@"+r.Version] = r.Time
			}
		}
	}
	for _, m := range f.graph.BuildList {
		if t0, ok := firstZip[m.String()]; !ok || !t0.Before(firstMod) {
			t.Errorf("zip of %s requested at %v, not before the first go.mod answer at %v", m, t0, firstMod)
		}
	}
	var full []module.Version
	for _, m := range res.Modules {
		if !m.GoModOnly {
			full = append(full, module.Version{Path: m.Path, Version: m.Version})
		}
		if m.Version == missingVersion(m.Version) {
			t.Errorf("result lists %s@%s, a stale go.sum line", m.Path, m.Version)
		}
	}
	if !slices.Equal(full, f.graph.BuildList) {
		t.Errorf("downloaded in full:\n%v\nwant the build list:\n%v", full, f.graph.BuildList)
	}
	for _, ev := range events {
		// A retry of a transfer started ahead is reported (and counted)
		// when it happens, before the walk decides.
		if ev.Kind != PrefetchRetry && ev.Version != "" && ev.Version == missingVersion(ev.Version) || ev.Kind == PrefetchFail {
			t.Errorf("event %+v", ev)
		}
	}

	f.srv.SetFaults(modnettest.Faults{})
	goCache := filepath.Join(t.TempDir(), "modcache")
	if out, err := goRun(t, f.mainDir, goCache, "GOPROXY", f.srv.URL, "GOSUMDB", f.srv.SumDB().GOSUMDB(), "GOFLAGS", "-modcacherw", "mod download all"); err != nil {
		t.Fatalf("go mod download all: %v\n%s", err, out)
	}
	want := cacheState(t, goCache)
	if noExtract {
		maps.DeleteFunc(want, func(k, _ string) bool { return !strings.HasPrefix(k, "cache/download/") })
	}
	if diffs := modnettest.DiffCaches(cacheState(t, modcache), want, "modkit", "go"); len(diffs) > 0 {
		t.Errorf("module cache after prefetch differs from go mod download all's:\n%s", strings.Join(diffs, "\n"))
	}
}

// TestPrefetchNoReadAhead: with NoReadAhead nothing is fetched that the
// graph walk has not confirmed: no request for a module version only a
// stale go.sum line names.
func TestPrefetchNoReadAhead(t *testing.T) {
	f := newPrefetchFixture(t, smallGraph)
	writeFile(t, filepath.Join(f.mainDir, "go.mod"), strings.Replace(f.graph.GoMod, "\ngo 1.21\n", "\ngo 1.16\n", 1))
	m := f.graph.BuildList[0]
	stale := m.Path + " " + missingVersion(m.Version) + " h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n" +
		m.Path + " " + missingVersion(m.Version) + "/go.mod h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	writeFile(t, filepath.Join(f.mainDir, "go.sum"), f.graph.GoSum+stale)
	for _, noReadAhead := range []bool{false, true} {
		f.srv.ResetRequests()
		modcache := filepath.Join(t.TempDir(), "modcache")
		if _, err := f.prefetch(t, f.client(t, modcache), &PrefetchRequest{NoReadAhead: noReadAhead}); err != nil {
			t.Fatal(err)
		}
		var staleReqs []string
		for _, r := range f.srv.Requests() {
			if r.Version == missingVersion(m.Version) {
				staleReqs = append(staleReqs, r.String())
			}
		}
		if noReadAhead && len(staleReqs) > 0 {
			t.Errorf("NoReadAhead: requests for what only a stale go.sum line names:\n%s", strings.Join(staleReqs, "\n"))
		}
		if !noReadAhead && len(staleReqs) == 0 {
			t.Errorf("read-ahead on: no request for the stale go.sum line's version; the test no longer tests NoReadAhead")
		}
	}
}

// missingVersion is a version of the module at version v that the
// fixture's proxy does not have: same major version, minor 999.
func missingVersion(v string) string { return semver.Major(v) + ".999.0" }
