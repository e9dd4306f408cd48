package modload_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modload"
	"github.com/modkit/modkit/modnet/modnettest"
)

// graphModules is a module graph with every shape the loader must get
// right: a pruned dependency below which the graph stops (c v1.1.0 is in
// it, its requirements are not), an unpruned one below which it goes on
// to the end (u, then e, f and g), a module the main module replaces by a
// fork with requirements of its own (b), a directory replacement (h) and
// an excluded version (j v1.0.0). No go.mod says go 1.21 or later, and the
// main module requires the selected versions, so the go command has no
// reason to rewrite the main go.mod.
var graphModules = []modnettest.Module{
	{Path: "example.com/a", Version: "v1.0.0", GoMod: "module example.com/a\n\ngo 1.17\n\nrequire (\n\texample.com/b v1.0.0\n\texample.com/c v1.1.0\n)\n"},
	{Path: "example.com/b", Version: "v1.0.0", GoMod: "module example.com/b\n\ngo 1.17\n\nrequire example.com/d v1.0.0\n"},
	{Path: "example.com/bfork", Version: "v1.0.0", GoMod: "module example.com/b\n\ngo 1.17\n\nrequire example.com/k v1.0.0\n"},
	{Path: "example.com/c", Version: "v1.1.0", GoMod: "module example.com/c\n\ngo 1.16\n\nrequire example.com/e v1.0.0\n"},
	{Path: "example.com/d", Version: "v1.0.0", GoMod: "module example.com/d\n\ngo 1.17\n"},
	{Path: "example.com/e", Version: "v1.0.0", GoMod: "module example.com/e\n\ngo 1.17\n\nrequire example.com/f v1.0.0\n"},
	{Path: "example.com/f", Version: "v1.0.0", GoMod: "module example.com/f\n\ngo 1.17\n\nrequire example.com/g v1.0.0\n"},
	{Path: "example.com/g", Version: "v1.0.0", GoMod: "module example.com/g\n\ngo 1.17\n"},
	{Path: "example.com/i", Version: "v1.0.0", GoMod: "module example.com/i\n\ngo 1.17\n"},
	{Path: "example.com/j", Version: "v1.0.0", GoMod: "module example.com/j\n\ngo 1.17\n"},
	{Path: "example.com/k", Version: "v1.0.0", GoMod: "module example.com/k\n\ngo 1.17\n"},
	{Path: "example.com/u", Version: "v1.0.0", GoMod: "module example.com/u\n\nrequire example.com/e v1.0.0\n"},
}

const graphMainGoMod = `module example.com/main

go 1.17

require (
	example.com/a v1.0.0
	example.com/b v1.0.0
	example.com/h v0.0.0-00010101000000-000000000000
	example.com/u v1.0.0
)

replace example.com/b v1.0.0 => example.com/bfork v1.0.0

replace example.com/h => ./h

exclude example.com/j v1.0.0
`

// TestGraphMatchesGoModGraph loads the graph of graphModules with a
// Client as the source and compares it with the go command's: the edges
// 'go mod graph' prints and the build list of 'go list -m all', pruned
// and unpruned.
func TestGraphMatchesGoModGraph(t *testing.T) {
	testenv.GoBin(t)
	srv := modnettest.NewServer(graphModules...)
	t.Cleanup(srv.Close)
	for _, tc := range []struct{ name, goVersion string }{{"pruned", "1.17"}, {"unpruned", "1.16"}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			mainGoMod := strings.Replace(graphMainGoMod, "\ngo 1.17\n", "\ngo "+tc.goVersion+"\n", 1)
			writeFile(t, filepath.Join(dir, "go.mod"), mainGoMod)
			writeFile(t, filepath.Join(dir, "h", "go.mod"), "module example.com/h\n\ngo 1.17\n\nrequire (\n\texample.com/i v1.0.0\n\texample.com/j v1.0.0\n)\n")
			matchGoModGraph(t, srv, dir, mainGoMod)
		})
	}
}

// modGraphEdges returns the module edges 'go mod graph' printed, less
// those to the go and toolchain lines.
func modGraphEdges(out string) []string {
	var edges []string
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) == 2 && !strings.HasPrefix(f[1], "go@") && !strings.HasPrefix(f[1], "toolchain@") {
			edges = append(edges, f[0]+" "+f[1])
		}
	}
	return edges
}

// listedModules returns the path@version of every module 'go list -m all'
// printed ("path version [=> replacement]") but the main module, which has
// no version.
func listedModules(out string) []string {
	var list []string
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) >= 2 {
			list = append(list, f[0]+"@"+f[1])
		}
	}
	return list
}

// graphEdges lists g's edges as 'go mod graph' prints them.
func graphEdges(g *modload.Graph) []string {
	name := func(m module.Version) string {
		if m.Version == "" {
			return m.Path
		}
		return m.Path + "@" + m.Version
	}
	var edges []string
	seen := map[module.Version]bool{}
	queue := []module.Version{{Path: g.Main().Path}}
	for len(queue) > 0 {
		m := queue[0]
		queue = queue[1:]
		reqs, _ := g.RequiredBy(m)
		for _, r := range reqs {
			edges = append(edges, name(m)+" "+name(r))
			if !seen[r] {
				seen[r] = true
				queue = append(queue, r)
			}
		}
	}
	return edges
}

// mapSource is a GoModSource over a map, counting its calls.
type mapSource struct {
	files map[module.Version]string
	calls atomic.Int32
}

func (s *mapSource) GoMod(ctx context.Context, path, version string) ([]byte, error) {
	s.calls.Add(1)
	data, ok := s.files[module.Version{Path: path, Version: version}]
	if !ok {
		return nil, &modnet.ModuleError{Path: path, Version: version, Err: fs.ErrNotExist}
	}
	return []byte(data), nil
}

// TestGraphFailures checks what a graph records when go.mod files are
// missing or wrong, that the walk goes on around them, and that a loader
// remembers only the go.mod files it got.
func TestGraphFailures(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), `module example.com/main

go 1.21

require (
	example.com/a v1.0.0
	example.com/b v1.0.0
	example.com/c v1.0.0
	example.com/d v1.0.0
	example.com/e v1.0.0
)

replace example.com/d => ./nowhere
`)
	src := &mapSource{files: map[module.Version]string{
		{Path: "example.com/a", Version: "v1.0.0"}: "module example.com/a\n\ngo 1.21\n\nrequire example.com/x v1.0.0\n",
		{Path: "example.com/b", Version: "v1.0.0"}: "module example.com/other\n",
		{Path: "example.com/c", Version: "v1.0.0"}: "module example.com/c\n\nrequire\n",
	}}
	mm, err := modload.ReadMainModule(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	l := &modload.Loader{Source: src}
	g := l.Load(context.Background(), mm)
	var got []string
	for _, f := range g.Failures() {
		got = append(got, f.Module.String()+": "+f.Err.Error())
		if f.Module.Path == "example.com/d" || f.Module.Path == "example.com/e" {
			if !errors.Is(f.Err, fs.ErrNotExist) {
				t.Errorf("%s: %v does not match fs.ErrNotExist", f.Module, f.Err)
			}
		}
	}
	want := []string{
		"example.com/b@v1.0.0: example.com/b@v1.0.0: parsing go.mod:\n\tmodule declares its path as: example.com/other\n\t        but was required as: example.com/b",
		"example.com/c@v1.0.0: example.com/c@v1.0.0: example.com/c@v1.0.0/go.mod:3: usage: require module/path v1.2.3",
		"example.com/d@v1.0.0: replaced by directory ./nowhere: open " + filepath.Join(dir, "nowhere", "go.mod") + ": no such file or directory",
		"example.com/e@v1.0.0: example.com/e@v1.0.0: file does not exist",
	}
	if !slices.Equal(got, want) {
		t.Errorf("failures:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if v := g.Selected("example.com/x"); v != "v1.0.0" {
		t.Errorf("Selected(x) = %q: the walk did not go on past the failures", v)
	}
	if r := g.Requirers(module.Version{Path: "example.com/x", Version: "v1.0.0"}); !slices.Equal(r, []module.Version{{Path: "example.com/a", Version: "v1.0.0"}}) {
		t.Errorf("Requirers(x) = %v", r)
	}
	if _, ok := g.RequiredBy(module.Version{Path: "example.com/b", Version: "v1.0.0"}); ok {
		t.Errorf("RequiredBy(b) known for a go.mod that failed")
	}

	// A second load asks again only for what the source did not have.
	calls := src.calls.Load()
	l.Load(context.Background(), mm)
	if again := src.calls.Load() - calls; again != 1 {
		t.Errorf("second load made %d source calls; want 1 (example.com/e, which was missing)", again)
	}
}

// TestLoaderExpand checks Expand against the go command with -mod=mod
// on a main module whose roots are not at their selected versions: b is
// required at v1.0.0 by the main module and at v1.1.0 by a, so b v1.1.0
// becomes a root, and its requirement on c joins the graph.
func TestLoaderExpand(t *testing.T) {
	testenv.GoBin(t)
	srv := modnettest.NewServer(
		modnettest.Module{Path: "example.com/a", Version: "v1.0.0", GoMod: "module example.com/a\n\ngo 1.17\n\nrequire example.com/b v1.1.0\n"},
		modnettest.Module{Path: "example.com/b", Version: "v1.0.0", GoMod: "module example.com/b\n\ngo 1.17\n\nrequire example.com/d v1.0.0\n"},
		modnettest.Module{Path: "example.com/b", Version: "v1.1.0", GoMod: "module example.com/b\n\ngo 1.17\n\nrequire example.com/c v1.0.0\n"},
		modnettest.Module{Path: "example.com/c", Version: "v1.0.0", GoMod: "module example.com/c\n\ngo 1.17\n"},
		modnettest.Module{Path: "example.com/d", Version: "v1.0.0", GoMod: "module example.com/d\n\ngo 1.17\n"},
	)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	gomod := filepath.Join(dir, "go.mod")
	writeFile(t, gomod, "module example.com/main\n\ngo 1.17\n\nrequire (\n\texample.com/a v1.0.0\n\texample.com/b v1.0.0\n)\n")
	mm, err := modload.ReadMainModule(gomod)
	if err != nil {
		t.Fatal(err)
	}
	c := proxyClient(t, srv)
	l := &modload.Loader{Source: c}
	g := l.Load(context.Background(), mm)
	if got := g.Versions("example.com/c"); got != nil {
		t.Fatalf("before expanding, c is in the graph at %v", got)
	}
	if got := g.Versions("example.com/d"); len(got) != 1 {
		t.Fatalf("before expanding, d is not in the graph (the root b v1.0.0 requires it)")
	}
	x := l.Expand(context.Background(), g)

	modcache := filepath.Join(t.TempDir(), "modcache")
	goEnv := []string{"GOMODCACHE=" + modcache, "GOPROXY=" + srv.URL, "GOSUMDB=" + srv.SumDB().GOSUMDB(), "GOFLAGS=-modcacherw -mod=mod"}
	out, err := goOutput(t, dir, goEnv, "list", "-m", "all")
	if err != nil {
		t.Fatalf("go list -m all: %v\n%s", err, out)
	}
	wantList := listedModules(out)
	var gotList []string
	for _, m := range x.BuildList() {
		gotList = append(gotList, m.String())
	}
	if !slices.Equal(gotList, wantList) {
		t.Errorf("expanded build list %v; want (go list -m all) %v", gotList, wantList)
	}
	out, err = goOutput(t, dir, goEnv, "mod", "graph")
	if err != nil {
		t.Fatalf("go mod graph: %v\n%s", err, out)
	}
	wantEdges := modGraphEdges(out)
	gotEdges := graphEdges(x)
	slices.Sort(gotEdges)
	slices.Sort(wantEdges)
	if !slices.Equal(gotEdges, wantEdges) {
		t.Errorf("expanded edges:\n%s\nwant (go mod graph):\n%s", strings.Join(gotEdges, "\n"), strings.Join(wantEdges, "\n"))
	}
	// The go command wrote the expanded roots.
	if got := readFile(t, gomod); !strings.Contains(got, "example.com/b v1.1.0") {
		t.Errorf("the go command did not raise the root; go.mod:\n%s", got)
	}
	if again := l.Expand(context.Background(), x); again != x {
		t.Errorf("Expand of a consistent graph loaded it again")
	}
}

// proxyClient is a Client that fetches from srv into a module cache of its
// own, in an environment of nothing but the test's settings.
func proxyClient(t testing.TB, srv *modnettest.Server) *modnet.Client {
	t.Helper()
	env, err := modnet.LoadEnvFrom(map[string]string{
		"GOENV": "off", "GOROOT": t.TempDir(), "GOPATH": filepath.Join(t.TempDir(), "gopath"),
		"GOMODCACHE": filepath.Join(t.TempDir(), "modcache"), "GOFLAGS": "-modcacherw",
		"GOPROXY": srv.URL, "GOSUMDB": srv.SumDB().GOSUMDB(), "GONOSUMDB": "", "GOPRIVATE": "",
	})
	if err != nil {
		t.Fatal(err)
	}
	c := &modnet.Client{Env: env}
	t.Cleanup(func() { c.Close() })
	return c
}

// goOutput runs the go command in dir with the settings env (NAME=value)
// and args, and returns its combined output.
func goOutput(t testing.TB, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	g := testenv.NewGo(t, env...)
	g.Dir = dir
	out, err := g.Command(args...).CombinedOutput()
	return string(out), err
}

func writeFile(t testing.TB, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestGraphPrereleaseGoLine compares the graph below a dependency whose go
// line is a prerelease of 1.17 with the go command's, which orders
// 1.17beta1 and 1.17rc1 before 1.17: their graphs are unpruned, so that
// example.com/y, which only example.com/x's go.mod requires, is in the
// graph below them and not below a dependency at go 1.17.
func TestGraphPrereleaseGoLine(t *testing.T) {
	testenv.GoBin(t)
	for _, tc := range []struct {
		goLine string
		wantY  bool
	}{{"1.17rc1", true}, {"1.17beta1", true}, {"1.17", false}} {
		t.Run(tc.goLine, func(t *testing.T) {
			srv := modnettest.NewServer(
				modnettest.Module{Path: "example.com/pre", Version: "v1.0.0", GoMod: "module example.com/pre\n\ngo " + tc.goLine + "\n\nrequire example.com/x v1.0.0\n"},
				modnettest.Module{Path: "example.com/x", Version: "v1.0.0", GoMod: "module example.com/x\n\ngo 1.17\n\nrequire example.com/y v1.0.0\n"},
				modnettest.Module{Path: "example.com/y", Version: "v1.0.0", GoMod: "module example.com/y\n\ngo 1.17\n"},
			)
			t.Cleanup(srv.Close)
			dir := t.TempDir()
			mainGoMod := "module example.com/main\n\ngo 1.17\n\nrequire example.com/pre v1.0.0\n"
			writeFile(t, filepath.Join(dir, "go.mod"), mainGoMod)
			wantEdges := matchGoModGraph(t, srv, dir, mainGoMod)
			// The comparison must see the difference pruning makes.
			if hasY := slices.Contains(wantEdges, "example.com/x@v1.0.0 example.com/y@v1.0.0"); hasY != tc.wantY {
				t.Errorf("go mod graph has x → y: %v, want %v (go %s below example.com/pre)", hasY, tc.wantY, tc.goLine)
			}
		})
	}
}

// matchGoModGraph loads the graph of the main module in dir, whose go.mod
// is mainGoMod, with a Client of srv as the source, and compares it with
// the go command's: the edges 'go mod graph' prints, which it returns,
// and the build list of 'go list -m all'.
func matchGoModGraph(t *testing.T, srv *modnettest.Server, dir, mainGoMod string) []string {
	t.Helper()
	modcache := filepath.Join(t.TempDir(), "modcache")
	goEnv := []string{"GOMODCACHE=" + modcache, "GOPROXY=" + srv.URL, "GOSUMDB=" + srv.SumDB().GOSUMDB(), "GOFLAGS=-modcacherw -mod=mod"}
	out, err := goOutput(t, dir, goEnv, "mod", "graph")
	if err != nil {
		t.Fatalf("go mod graph: %v\n%s", err, out)
	}
	wantEdges := modGraphEdges(out)
	out, err = goOutput(t, dir, goEnv, "list", "-m", "all")
	if err != nil {
		t.Fatalf("go list -m all: %v\n%s", err, out)
	}
	wantList := listedModules(out)
	if got := readFile(t, filepath.Join(dir, "go.mod")); got != mainGoMod {
		t.Fatalf("the go command rewrote go.mod, so the comparison is not of this graph:\n%s", got)
	}

	mm, err := modload.ReadMainModule(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	g := (&modload.Loader{Source: proxyClient(t, srv)}).Load(context.Background(), mm)
	if f := g.Failures(); len(f) > 0 {
		t.Fatalf("failures: %v", f)
	}
	gotEdges := graphEdges(g)
	slices.Sort(gotEdges)
	slices.Sort(wantEdges)
	if !slices.Equal(gotEdges, wantEdges) {
		t.Errorf("edges:\n%s\nwant (go mod graph):\n%s", strings.Join(gotEdges, "\n"), strings.Join(wantEdges, "\n"))
	}
	var gotList []string
	for _, m := range g.BuildList() {
		gotList = append(gotList, m.Path+"@"+m.Version)
	}
	if !slices.Equal(gotList, wantList) {
		t.Errorf("build list:\n%v\nwant (go list -m all):\n%v", gotList, wantList)
	}
	return wantEdges
}
