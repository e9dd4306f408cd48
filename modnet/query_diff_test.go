package modnet

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/semver"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet/modload"
	"github.com/modkit/modkit/modnet/modnettest"
)

// This file is the differential test of version queries made inside a
// main module, as 'go mod download path@query' makes them there: random
// version sets with retracted versions (the latest retracting itself,
// intervals), +incompatible versions with and without go.mod files in the
// compatible ones, a deprecated module, exclude directives and a current
// version (a pseudo-version, sometimes) in the main module's go.mod,
// GOFLAGS=-mod=mod, and queries
// latest, upgrade, patch, prefixes, comparisons and versions by name
// (retracted or excluded ones included). The go command and modkit must
// end the same way (the version, or the error's words) and ask the stubs
// for the same files in the same order, and leave the same module cache.

type queryScenario struct {
	mods     []modnettest.Module
	versions []string // sorted
	mainMod  string   // the main module's go.mod
	otherMod string   // with a go.work: the go.mod of its other module
	query    string
	goflags  string
	goproxy  string // letters: A serves, N answers 404, F answers 500
	describe string
}

const queryModule = "127.0.0.1/mod/q"

func randomQueryScenario(rng *rand.Rand) queryScenario {
	var sc queryScenario
	pool := []string{"v1.0.0", "v1.0.1", "v1.1.0", "v1.1.1", "v1.2.0-rc.1", "v1.2.0"}
	for _, v := range pool {
		if rng.IntN(3) > 0 {
			sc.versions = append(sc.versions, v)
		}
	}
	if len(sc.versions) == 0 {
		sc.versions = []string{"v1.0.0"}
	}
	incompatible := rng.IntN(4) == 0
	legacy := incompatible && rng.IntN(2) == 0 // the compatible versions have no go.mod
	if incompatible {
		sc.versions = append(sc.versions, "v2.0.0+incompatible", "v2.1.0+incompatible")
	}
	semver.Sort(sc.versions)

	// The highest version with a go.mod retracts some, maybe itself, and
	// maybe deprecates the module.
	var retracts []string
	for i := 0; i < rng.IntN(3); i++ {
		v := sc.versions[rng.IntN(len(sc.versions))]
		if strings.HasSuffix(v, "+incompatible") {
			continue
		}
		if rng.IntN(3) == 0 {
			retracts = append(retracts, "["+v+", "+v+"] // broken")
		} else {
			retracts = append(retracts, v)
		}
	}
	deprecated := rng.IntN(4) == 0
	top := ""
	for _, v := range sc.versions {
		if !strings.HasSuffix(v, "+incompatible") && !legacy {
			top = v
		}
	}
	for _, v := range sc.versions {
		m := modnettest.Module{Path: queryModule, Version: v, Files: map[string]string{"q.go": "package q\n\nconst V = \"" + v + "\"\n"}}
		if !strings.HasSuffix(v, "+incompatible") && !legacy {
			gomod := "module " + queryModule + "\n\ngo 1.21\n"
			if v == top && deprecated {
				gomod = "// Deprecated: use example.com/other instead.\n" + gomod
			}
			m.GoMod = gomod
			if v == top {
				m.Retract = retracts
			}
		}
		sc.mods = append(sc.mods, m)
	}

	// The main module: maybe a current version (sometimes a
	// pseudo-version newer than every tag, which proxies do not list),
	// maybe exclusions.
	var current string
	goLine := []string{"1.21", "1.21", "1.16"}[rng.IntN(3)] // 1.16: an unpruned graph
	sc.mainMod = "module example.com/main\n\ngo " + goLine + "\n"
	if rng.IntN(3) == 0 {
		// A dependency that requires the module, which puts a version of it
		// in the graph the main module's go.mod may not mention.
		dv := sc.versions[rng.IntN(len(sc.versions))]
		sc.mods = append(sc.mods, modnettest.Module{Path: "127.0.0.1/mod/d", Version: "v1.0.0",
			GoMod: "module 127.0.0.1/mod/d\n\ngo 1.21\n\nrequire " + queryModule + " " + dv + "\n", Files: map[string]string{"d.go": "package d\n"}})
		sc.mainMod += "\nrequire 127.0.0.1/mod/d v1.0.0\n"
	}
	switch rng.IntN(6) {
	case 0, 1:
	case 2:
		current = "v1.2.1-0.20240601000000-abcdefabcdef"
		sc.mods = append(sc.mods, modnettest.Module{Path: queryModule, Version: current, GoMod: "module " + queryModule + "\n\ngo 1.21\n",
			Files: map[string]string{"q.go": "package q\n"}})
	default:
		current = sc.versions[rng.IntN(len(sc.versions))]
	}
	if current != "" {
		sc.mainMod += "\nrequire " + queryModule + " " + current + "\n"
	}
	for i := 0; i < rng.IntN(3); i++ {
		if v := sc.versions[rng.IntN(len(sc.versions))]; v != current {
			sc.mainMod += "\nexclude " + queryModule + " " + v + "\n"
		}
	}
	if rng.IntN(4) == 0 {
		// A workspace: the main module and one that requires the module.
		sc.otherMod = "module example.com/other\n\ngo 1.21\n\nrequire " + queryModule + " " + sc.versions[rng.IntN(len(sc.versions))] + "\n"
	}
	queries := []string{"latest", "upgrade", "patch", "v1", "v1.1", "<v1.2.0", ">=v1.0.1", sc.versions[rng.IntN(len(sc.versions))]}
	sc.query = queries[rng.IntN(len(queries))]
	sc.goflags = []string{"-modcacherw", "-modcacherw -mod=mod"}[rng.IntN(2)]
	sc.goproxy = []string{"A", "A", "A", "N,A", "F|A"}[rng.IntN(5)]
	sc.describe = fmt.Sprintf("GOPROXY=%s GOFLAGS=%q versions=%v retract=%v deprecated=%v legacy=%v\ngo.mod:\n%sworkspace's other go.mod:\n%squery %s",
		sc.goproxy, sc.goflags, sc.versions, retracts, deprecated, legacy, sc.mainMod, sc.otherMod, sc.query)
	return sc
}

func TestQueryMatchesGoCommand(t *testing.T) {
	testenv.GoBin(t)
	if testing.Short() {
		t.Skip("runs the go command many times")
	}
	rng := rand.New(rand.NewPCG(16, 17))
	for i := 0; i < queryScenarios; i++ {
		sc := randomQueryScenario(rng)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			runQueryScenario(t, sc)
		})
	}
}

func runQueryScenario(t *testing.T, sc queryScenario) {
	servers := map[string]*modnettest.Server{}
	urls := map[string]string{}
	for _, name := range strings.FieldsFunc(sc.goproxy, func(r rune) bool { return r == ',' || r == '|' }) {
		s := modnettest.NewUnstartedServer(sc.mods...)
		s.Name = name
		s.Start()
		t.Cleanup(s.Close)
		switch name {
		case "N":
			s.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{{Module: "127.0.0.1", Fault: modnettest.Status(404)}}})
		case "F":
			s.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{{Module: "127.0.0.1", Fault: modnettest.Status(500)}}})
		}
		servers[name], urls[name] = s, s.URL
	}
	goproxy := expandProxy(sc.goproxy, urls)
	arg := queryModule + "@" + sc.query

	// The go command, in the main module.
	goCache := filepath.Join(t.TempDir(), "go")
	g := testenv.NewGo(t, "GOPROXY="+goproxy, "GOSUMDB=off", "GOFLAGS="+sc.goflags, "GOMODCACHE="+goCache)
	g.Dir = sc.writeMain(t)
	out, _, _ := g.Run("mod", "download", "-json", arg)
	var goRes struct{ Version, Error string }
	json.Unmarshal([]byte(out), &goRes)
	goAsked := requestOrder(servers)
	for _, s := range servers {
		s.ResetRequests()
	}

	// modkit, with the main module's view: its current version and its
	// exclusions.
	dir := sc.writeMain(t)
	mm, err := modload.ReadMainModule(filepath.Join(dir, "go.mod"))
	if sc.otherMod != "" {
		mm, err = modload.ReadWorkspace(filepath.Join(dir, "..", "go.work"))
	}
	if err != nil {
		t.Fatal(err)
	}
	mkCache := filepath.Join(t.TempDir(), "modkit")
	env, err := LoadEnvFrom(map[string]string{"GOENV": "off", "GOROOT": t.TempDir(), "HOME": t.TempDir(), "GOPROXY": goproxy,
		"GOSUMDB": "off", "GOFLAGS": sc.goflags, "GOMODCACHE": mkCache, "PATH": os.Getenv("PATH")})
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Env: env, HTTP: fastRetry(), Dir: dir}
	defer c.Close()
	ctx := context.Background()
	opts := mm.QueryOptions(ctx, &modload.Loader{Source: c}, queryModule, sc.query)
	var version string
	info, mkErr := c.QueryFor(ctx, queryModule, sc.query, opts)
	if mkErr == nil {
		var m *ModuleFiles
		if m, mkErr = c.Download(ctx, queryModule, info.Version); mkErr == nil {
			version = m.Version
		}
	}
	mkAsked := requestOrder(servers)

	switch {
	case goRes.Error == "" && mkErr != nil:
		t.Errorf("%s\ngo succeeded (%s), modkit failed: %v", sc.describe, goRes.Version, mkErr)
	case goRes.Error != "" && mkErr == nil:
		t.Errorf("%s\ngo failed, modkit succeeded (%s)\ngo: %s", sc.describe, version, goRes.Error)
	case mkErr == nil && version != goRes.Version:
		t.Errorf("%s\ngo resolved %s, modkit %s", sc.describe, goRes.Version, version)
	case mkErr != nil && firstLineOf(mkErr.Error()) != firstLineOf(goRes.Error):
		t.Errorf("%s\nerrors differ\ngo:     %s\nmodkit: %v", sc.describe, goRes.Error, mkErr)
	}
	if goAsked != mkAsked {
		t.Errorf("%s\nrequests differ\ngo:     %s\nmodkit: %s", sc.describe, goAsked, mkAsked)
	}
	goFiles, _ := modnettest.CacheFiles(goCache)
	mkFiles, _ := modnettest.CacheFiles(mkCache)
	if d := modnettest.DiffCaches(goFiles, mkFiles, "go", "modkit"); len(d) > 0 {
		t.Errorf("%s\nmodule caches differ:\n%s", sc.describe, strings.Join(d, "\n"))
	}
}

// writeMain writes the main module, in a workspace if the scenario has
// one, and returns its directory.
func (sc *queryScenario) writeMain(t *testing.T) string {
	root := t.TempDir()
	dir := filepath.Join(root, "main")
	writeFile(t, filepath.Join(dir, "go.mod"), sc.mainMod)
	if sc.otherMod != "" {
		writeFile(t, filepath.Join(root, "other", "go.mod"), sc.otherMod)
		writeFile(t, filepath.Join(root, "go.work"), "go 1.21\n\nuse (\n\t./main\n\t./other\n)\n")
	}
	return dir
}

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSuffix(line, ")") // modkit adds what it tried after the go command's words
}

// requestOrder lists every stub request for a module file in arrival
// order, as "stub file", with repeated requests collapsed (modkit's
// retries of a 500). The go.mod files read before anything else are the
// module graph's, which both load concurrently: they are listed once
// each, sorted, in braces.
func requestOrder(servers map[string]*modnettest.Server) string {
	var all modnettest.Log
	for _, s := range servers {
		all = append(all, s.Requests()...)
	}
	sortLogByTime(all)
	var graph, seq []string
	for _, r := range all {
		if r.Kind == modnettest.KindSumDB {
			continue
		}
		e := r.Server + " " + r.Path[strings.LastIndex(r.Path, "/")+1:]
		if len(seq) == 0 && r.Kind == modnettest.KindMod {
			if !slices.Contains(graph, e) {
				graph = append(graph, e)
			}
			continue
		}
		if len(seq) > 0 && seq[len(seq)-1] == e {
			continue
		}
		seq = append(seq, e)
	}
	slices.Sort(graph)
	return "{" + strings.Join(graph, ", ") + "} " + strings.Join(seq, ", ")
}

// queryScenarios is how many random scenarios TestQueryMatchesGoCommand
// runs.
var queryScenarios = 64
