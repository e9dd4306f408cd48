package analyzer_test

import (
	"context"
	"fmt"
	"go/token"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modkit/modkit/analyzer"
	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modnettest"
)

// The differential tests below judge modreplace's graph verdicts with the
// go command itself, on generated repositories shaped like the corpus of
// real multi-module repositories that the checks were measured on: a
// root module that requires its sibling modules at the placeholder
// version and replaces them by their directories, and siblings that
// require the root the same way, each with replaces of modules that only
// the root's go.mod requires, modules a pruned graph never reaches,
// modules an unpruned dependency brings in, excluded versions, forks and
// local directories. For each replace line, 'go list -m all' runs with
// and without it (GOWORK=off, -mod=mod, from a loopback module proxy):
// every replace modreplace calls unused or inert must make no difference.

// diffModules are the dependency modules the generated trees use. p1
// requires p2, which requires p3, all pruned: which of them a sibling's
// graph holds depends on what it requires itself. u1 predates pruning, so
// below it the graph goes to the end (u2, u3, then u4). f is a fork, q is
// required by nothing, x has a version the siblings may exclude.
var diffModules = []modnettest.Module{
	{Path: "example.com/dep/p1", Version: "v1.0.0", GoMod: "module example.com/dep/p1\n\ngo 1.17\n\nrequire example.com/dep/p2 v1.0.0\n"},
	{Path: "example.com/dep/p1", Version: "v1.1.0", GoMod: "module example.com/dep/p1\n\ngo 1.17\n\nrequire example.com/dep/p2 v1.1.0\n"},
	{Path: "example.com/dep/p2", Version: "v1.0.0", GoMod: "module example.com/dep/p2\n\ngo 1.17\n\nrequire example.com/dep/p3 v1.0.0\n"},
	{Path: "example.com/dep/p2", Version: "v1.1.0", GoMod: "module example.com/dep/p2\n\ngo 1.17\n\nrequire example.com/dep/p3 v1.1.0\n"},
	{Path: "example.com/dep/p3", Version: "v1.0.0", GoMod: "module example.com/dep/p3\n\ngo 1.17\n"},
	{Path: "example.com/dep/p3", Version: "v1.1.0", GoMod: "module example.com/dep/p3\n\ngo 1.17\n"},
	{Path: "example.com/dep/p3", Version: "v1.2.0", GoMod: "module example.com/dep/p3\n\ngo 1.17\n"},
	{Path: "example.com/dep/u1", Version: "v1.0.0", GoMod: "module example.com/dep/u1\n\nrequire example.com/dep/u2 v1.0.0\n"},
	{Path: "example.com/dep/u2", Version: "v1.0.0", GoMod: "module example.com/dep/u2\n\ngo 1.17\n\nrequire example.com/dep/u3 v1.0.0\n"},
	{Path: "example.com/dep/u3", Version: "v1.0.0", GoMod: "module example.com/dep/u3\n\ngo 1.17\n\nrequire example.com/dep/u4 v1.0.0\n"},
	{Path: "example.com/dep/u4", Version: "v1.0.0", GoMod: "module example.com/dep/u4\n\ngo 1.17\n"},
	{Path: "example.com/dep/u4", Version: "v1.1.0", GoMod: "module example.com/dep/u4\n\ngo 1.17\n"},
	{Path: "example.com/dep/u3", Version: "v1.1.0", GoMod: "module example.com/dep/u3\n\ngo 1.17\n"},
	{Path: "example.com/dep/f", Version: "v1.0.0", GoMod: "module example.com/dep/f\n\ngo 1.17\n\nrequire example.com/dep/p3 v1.2.0\n"},
	{Path: "example.com/dep/q", Version: "v1.0.0", GoMod: "module example.com/dep/q\n\ngo 1.17\n"},
	{Path: "example.com/dep/x", Version: "v1.0.0", GoMod: "module example.com/dep/x\n\ngo 1.17\n"},
	{Path: "example.com/dep/x", Version: "v1.1.0", GoMod: "module example.com/dep/x\n\ngo 1.17\n"},
}

// diffReplaces is the pool of replace directives a sibling draws from.
var diffReplaces = []string{
	"example.com/dep/p1 => example.com/dep/p1 v1.0.0",
	"example.com/dep/p1 => example.com/dep/p1 v1.1.0",
	"example.com/dep/p1 v1.0.0 => example.com/dep/p1 v1.1.0",
	"example.com/dep/p1 v1.1.0 => example.com/dep/p1 v1.0.0",
	"example.com/dep/p2 => example.com/dep/f v1.0.0",
	"example.com/dep/p2 v1.0.0 => example.com/dep/f v1.0.0",
	"example.com/dep/p2 v1.1.0 => example.com/dep/p2 v1.0.0",
	"example.com/dep/p3 => example.com/dep/p3 v1.2.0",
	"example.com/dep/p3 v1.0.0 => example.com/dep/p3 v1.2.0",
	"example.com/dep/p3 v1.1.0 => example.com/dep/p3 v1.2.0",
	"example.com/dep/p3 => ../localp3",
	"example.com/dep/u2 => example.com/dep/u2 v1.0.0",
	"example.com/dep/u3 => example.com/dep/u3 v1.1.0",
	"example.com/dep/u3 v1.0.0 => example.com/dep/u3 v1.1.0",
	"example.com/dep/u4 => example.com/dep/u4 v1.1.0",
	"example.com/dep/q => example.com/dep/q v1.0.0",
	"example.com/dep/x v1.1.0 => example.com/dep/x v1.0.0",
	"example.com/dep/x => example.com/dep/x v1.1.0",
}

// diffRequires is the pool of direct requirements of a sibling.
var diffRequires = []string{
	"example.com/dep/p1 v1.1.0",
	"example.com/dep/p2 v1.0.0",
	"example.com/dep/u1 v1.0.0",
	"example.com/dep/x v1.0.0",
}

// A siblingSpec is what a generated sibling module requires, replaces and
// excludes.
type siblingSpec struct {
	requires, replaces []string
	exclude            bool
	// want maps replaces to what the go command's graph makes of them:
	// "unused", "inert" or "applies". Only the fixed shapes have one.
	want map[string]string
}

// diffShapes are siblings every generated tree has, one per rule of the
// graph, with the verdict each replace must get: the random siblings test
// that no verdict is false, these that each rule is followed.
var diffShapes = []siblingSpec{
	// Below an unpruned module the graph goes to the end: u1 → u2 → u3 → u4.
	{requires: []string{"example.com/dep/u1 v1.0.0"}, replaces: []string{"example.com/dep/u4 => example.com/dep/u4 v1.1.0"},
		want: map[string]string{"example.com/dep/u4 => example.com/dep/u4 v1.1.0": "applies"}},
	// Below a pruned module it stops: p1 brings p2 in, not p3.
	{requires: []string{"example.com/dep/p1 v1.1.0"}, replaces: []string{"example.com/dep/p3 => example.com/dep/p3 v1.2.0", "example.com/dep/p2 => example.com/dep/f v1.0.0"},
		want: map[string]string{"example.com/dep/p3 => example.com/dep/p3 v1.2.0": "unused", "example.com/dep/p2 => example.com/dep/f v1.0.0": "applies"}},
	// A root below its selected version is raised (-mod=mod): p2 v1.1.0
	// becomes a root, so p3 v1.1.0 joins the graph.
	{requires: []string{"example.com/dep/p1 v1.1.0", "example.com/dep/p2 v1.0.0"}, replaces: []string{"example.com/dep/p3 v1.1.0 => example.com/dep/p3 v1.2.0"},
		want: map[string]string{"example.com/dep/p3 v1.1.0 => example.com/dep/p3 v1.2.0": "applies"}},
	// Excluded versions leave the graph: the root's x v1.1.0 goes.
	{requires: []string{"example.com/dep/x v1.0.0"}, exclude: true, replaces: []string{"example.com/dep/x v1.1.0 => example.com/dep/x v1.0.0"},
		want: map[string]string{"example.com/dep/x v1.1.0 => example.com/dep/x v1.0.0": "inert"}},
	// What only the root's go.mod requires is in the graph; what its
	// requirements require is not (the root is pruned).
	{replaces: []string{"example.com/dep/p1 => example.com/dep/p1 v1.1.0", "example.com/dep/p2 v1.0.0 => example.com/dep/f v1.0.0", "example.com/dep/u2 => example.com/dep/u2 v1.0.0"},
		want: map[string]string{"example.com/dep/p1 => example.com/dep/p1 v1.1.0": "applies", "example.com/dep/p2 v1.0.0 => example.com/dep/f v1.0.0": "unused", "example.com/dep/u2 => example.com/dep/u2 v1.0.0": "unused"}},
	// A local replacement's go.mod requirements are in the graph.
	{requires: []string{"example.com/dep/p3 v1.0.0"}, replaces: []string{"example.com/dep/p3 => ../localp3", "example.com/dep/u3 => example.com/dep/u3 v1.1.0"},
		want: map[string]string{"example.com/dep/p3 => ../localp3": "applies", "example.com/dep/u3 => example.com/dep/u3 v1.1.0": "applies"}},
}

// diffRandom is the number of random siblings of a generated tree.
const diffRandom = 4

// genTree returns the files of a generated repository: the root module,
// siblings s0, s1, ... (diffRandom random ones, then diffShapes), the
// local directories they replace modules with, and the specs of the
// siblings.
func genTree(seed uint64) (map[string]string, []siblingSpec) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var specs []siblingSpec
	for i := range diffRandom {
		var sp siblingSpec
		for _, r := range diffRequires {
			if rng.IntN(3) == 0 {
				sp.requires = append(sp.requires, r)
			}
		}
		// Two replaces of one module version make the go command refuse
		// the go.mod (the duplicate check's case), so each old module
		// version is replaced once.
		replaced := map[string]bool{}
		if i == 0 {
			sp.replaces = append(sp.replaces, "example.com/dep/p3 => ../localp3") // the go.work cases need it
			replaced["example.com/dep/p3"] = true
		}
		for _, r := range rng.Perm(len(diffReplaces))[:10] {
			line := diffReplaces[r]
			if old, _, _ := strings.Cut(line, " =>"); !replaced[old] {
				replaced[old] = true
				sp.replaces = append(sp.replaces, line)
			}
		}
		sp.exclude = rng.IntN(2) == 0
		specs = append(specs, sp)
	}
	specs = append(specs, diffShapes...)

	files := map[string]string{
		"localp3/go.mod": "module example.com/dep/p3\n\ngo 1.17\n\nrequire example.com/dep/u3 v1.0.0\n",
		"otherp3/go.mod": "module example.com/dep/p3\n\ngo 1.17\n",
	}
	var root strings.Builder
	root.WriteString("module example.com/root\n\ngo 1.17\n\nrequire (\n\texample.com/dep/p1 v1.0.0\n\texample.com/dep/u1 v1.0.0\n\texample.com/dep/x v1.1.0\n")
	for i := range specs {
		fmt.Fprintf(&root, "\texample.com/root/s%d v0.0.0-00010101000000-000000000000\n", i)
	}
	root.WriteString(")\n")
	for i := range specs {
		fmt.Fprintf(&root, "\nreplace example.com/root/s%d => ./s%d\n", i, i)
	}
	files["go.mod"] = root.String()
	for i, sp := range specs {
		var b strings.Builder
		fmt.Fprintf(&b, "module example.com/root/s%d\n\ngo 1.17\n\nrequire (\n\texample.com/root v0.0.0-00010101000000-000000000000\n", i)
		for _, r := range sp.requires {
			fmt.Fprintf(&b, "\t%s\n", r)
		}
		b.WriteString(")\n\nreplace example.com/root => ../\n")
		for j := range specs {
			// Siblings replace all the others, as they must, but for the
			// last random one, which forgets one: the placeholder case.
			if j != i && !(i == diffRandom-1 && j == 0) {
				fmt.Fprintf(&b, "\nreplace example.com/root/s%d => ../s%d\n", j, j)
			}
		}
		for _, r := range sp.replaces {
			fmt.Fprintf(&b, "\nreplace %s\n", r)
		}
		if sp.exclude {
			b.WriteString("\nexclude example.com/dep/x v1.1.0\n")
		}
		files[fmt.Sprintf("s%d/go.mod", i)] = b.String()
	}
	return files, specs
}

// diffEnv is a go command and modreplace configuration over one loopback
// proxy and one module cache.
type diffEnv struct {
	srv      *modnettest.Server
	modcache string
}

func newDiffEnv(t *testing.T) *diffEnv {
	srv := modnettest.NewServer(diffModules...)
	t.Cleanup(srv.Close)
	return &diffEnv{srv: srv, modcache: filepath.Join(t.TempDir(), "modcache")}
}

// goCmd returns the go command for the module in dir: the proxy, its
// checksum database, -mod=mod outside workspaces (no go.sum files in the
// tree), and the workspace setting gowork.
func (e *diffEnv) goCmd(t *testing.T, dir, gowork string) *testenv.Go {
	flags := "-modcacherw -mod=mod"
	if gowork != "off" {
		flags = "-modcacherw" // workspace mode refuses -mod=mod
	}
	g := testenv.NewGo(t, "GOMODCACHE="+e.modcache, "GOPROXY="+e.srv.URL, "GOSUMDB="+e.srv.SumDB().GOSUMDB(),
		"GOFLAGS="+flags, "GOWORK="+gowork)
	g.Dir = dir
	return g
}

// listAll runs 'go list -m all' on gomod with content: its output, or its
// error. It writes content first, since -mod=mod may rewrite go.mod.
func (e *diffEnv) listAll(t *testing.T, gomod, content string) string {
	if err := os.WriteFile(gomod, []byte(content), 0o666); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := e.goCmd(t, filepath.Dir(gomod), "off").Run("list", "-m", "all")
	if err != nil {
		return "error: " + stderr
	}
	return stdout
}

// check runs modreplace on gomod, offline on the module cache, and returns
// the checks reported at each line and the notes.
func (e *diffEnv) check(t *testing.T, gomod, modcache string) (map[int][]string, []analyzer.Note) {
	t.Helper()
	env, err := modnet.LoadEnvFrom(map[string]string{
		"GOENV": "off", "GOROOT": t.TempDir(), "GOPATH": filepath.Join(t.TempDir(), "gopath"),
		"GOMODCACHE": modcache, "GOPROXY": "off", "GOSUMDB": "off",
	})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var notes []analyzer.Note
	cfg := analyzer.Config{
		GoMods: &analyzer.ModnetSource{Client: &modnet.Client{Env: env}},
		OnNote: func(n analyzer.Note) { mu.Lock(); notes = append(notes, n); mu.Unlock() },
	}
	fset := token.NewFileSet()
	diags, err := analyzer.CheckModFile(context.Background(), fset, gomod, cfg)
	if err != nil {
		t.Fatal(err)
	}
	byLine := map[int][]string{}
	for _, d := range diags {
		line := fset.Position(d.Pos).Line
		byLine[line] = append(byLine[line], d.Category)
	}
	return byLine, notes
}

// writeTree writes files under a new repository root (with a .git).
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	files[".git/HEAD"] = "ref: refs/heads/main\n"
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestGraphVerdictsMatchGoCommand is the differential test of unused,
// inert and placeholder on generated trees (see above).
func TestGraphVerdictsMatchGoCommand(t *testing.T) {
	testenv.GoBin(t)
	e := newDiffEnv(t)
	var mu sync.Mutex
	counts := map[string]int{}
	count := func(k string) { mu.Lock(); counts[k]++; mu.Unlock() }
	t.Run("seeds", func(t *testing.T) {
		for seed := range uint64(4) {
			t.Run(fmt.Sprint(seed), func(t *testing.T) {
				t.Parallel()
				files, specs := genTree(seed)
				root := writeTree(t, files)
				for i, spec := range specs {
					name := fmt.Sprintf("s%d/go.mod", i)
					gomod := filepath.Join(root, filepath.FromSlash(name))
					content := files[name]
					with := e.listAll(t, gomod, content) // also fills the module cache
					if rewritten, _ := os.ReadFile(gomod); string(rewritten) != content && !strings.HasPrefix(with, "error: ") {
						count("roots raised by the go command") // modnet's Expand
					}
					if err := os.WriteFile(gomod, []byte(content), 0o666); err != nil {
						t.Fatal(err)
					}
					verdicts, notes := e.check(t, gomod, e.modcache)
					for _, n := range notes {
						t.Errorf("%s: note with a warm module cache: %s", name, n.Message)
					}
					// Offline on an empty module cache, the graph is
					// complete only if local go.mod files are all it
					// needs: what modreplace claims then must be what it
					// claims with the cache, and where it cannot tell, it
					// claims nothing and says so.
					offline, offNotes := e.check(t, gomod, filepath.Join(t.TempDir(), "empty"))
					for line, ids := range offline {
						claims := slices.Contains(ids, analyzer.Unused) || slices.Contains(ids, analyzer.Inert)
						if claims && (len(offNotes) > 0 || !slices.Equal(ids, verdicts[line])) {
							t.Errorf("%s:%d: %v on an empty module cache (notes %v), %v on the warm one", name, line, ids, offNotes, verdicts[line])
						}
					}
					for _, n := range offNotes {
						if !strings.Contains(n.Message, "not in the module cache") || !strings.Contains(n.Message, "'go list -m all'") {
							t.Errorf("%s: offline note does not say what is missing and how to fetch it: %s", name, n.Message)
						}
						count("undecided offline")
					}

					// placeholder ⇔ the go command fails fetching a placeholder.
					placeholder := false
					for _, ids := range verdicts {
						placeholder = placeholder || slices.Contains(ids, analyzer.Placeholder)
					}
					broken := strings.HasPrefix(with, "error: ") && strings.Contains(with, "v0.0.0-00010101000000-000000000000")
					if placeholder != broken {
						t.Errorf("%s: placeholder reported %v, but go list -m all %s\n%s", name, placeholder, map[bool]string{true: "fails", false: "works"}[broken], content)
					}
					if placeholder {
						count("placeholder")
					}

					lines := strings.SplitAfter(content, "\n")
					for n, line := range lines {
						if !strings.HasPrefix(line, "replace ") {
							continue
						}
						without := strings.Join(slices.Concat(lines[:n], lines[n+1:]), "")
						same := e.listAll(t, gomod, without) == with
						ids := verdicts[n+1]
						claims := slices.Contains(ids, analyzer.Unused) || slices.Contains(ids, analyzer.Inert)
						if want, ok := spec.want[strings.TrimSpace(strings.TrimPrefix(line, "replace "))]; ok {
							got := "applies"
							switch {
							case slices.Contains(ids, analyzer.Unused):
								got = "unused"
							case slices.Contains(ids, analyzer.Inert):
								got = "inert"
							}
							if got != want || (want == "applies") == same {
								t.Errorf("%s:%d: %s: modreplace says %s, want %s; go list -m all changes without it: %v", name, n+1, strings.TrimSpace(line), got, want, !same)
							}
						}
						switch {
						case claims && !same:
							t.Errorf("%s:%d: %s reported %v, but go list -m all changes without it:\n%s", name, n+1, strings.TrimSpace(line), ids, content)
						case claims:
							count("no effect, and reported")
						case !same:
							count("changes the build list")
						}
					}
					os.WriteFile(gomod, []byte(content), 0o666)
				}
			})
		}
	})
	// The trees must exercise both outcomes, or the test proves nothing.
	t.Logf("verdicts: %v", counts)
	for _, k := range []string{"no effect, and reported", "changes the build list", "placeholder", "undecided offline", "roots raised by the go command"} {
		if counts[k] == 0 {
			t.Errorf("no replace line %s: the generated trees do not exercise the checks", k)
		}
	}
}

// TestGoworkShadowMatchesGoCommand checks gowork-shadow against what the
// go command builds for a replaced module with and without the go.work:
// 'go list -m' of the module, its directory or version, must differ
// exactly when the check reports.
func TestGoworkShadowMatchesGoCommand(t *testing.T) {
	testenv.GoBin(t)
	e := newDiffEnv(t)
	for _, tc := range []struct {
		name, gowork string
		shadow       bool
	}{
		{"uses the replacement directory", "use (\n\t./s0\n\t./localp3\n)\n", false},
		{"uses another directory", "use (\n\t./s0\n\t./otherp3\n)\n", true},
		{"replaces with the same directory", "use ./s0\n\nreplace example.com/dep/p3 => ./localp3\n", false},
		{"replaces with a version", "use ./s0\n\nreplace example.com/dep/p3 => example.com/dep/p3 v1.2.0\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{
				"go.work":        "go 1.22\n\n" + tc.gowork,
				"s0/go.mod":      "module example.com/root/s0\n\ngo 1.17\n\nrequire example.com/dep/p3 v1.0.0\n\nreplace example.com/dep/p3 => ../localp3\n",
				"localp3/go.mod": "module example.com/dep/p3\n\ngo 1.17\n",
				"otherp3/go.mod": "module example.com/dep/p3\n\ngo 1.17\n",
			}
			root := writeTree(t, files)
			dir := filepath.Join(root, "s0")
			what := func(gowork string) string {
				g := e.goCmd(t, dir, gowork)
				return strings.TrimSpace(g.MustRun("list", "-m", "-f", "{{with .Replace}}{{.Version}} {{.Dir}}{{else}}{{.Version}} {{.Dir}}{{end}}", "example.com/dep/p3"))
			}
			outside, inside := what("off"), what(filepath.Join(root, "go.work"))
			verdicts, _ := e.check(t, filepath.Join(dir, "go.mod"), e.modcache)
			line := slices.Index(strings.SplitAfter(files["s0/go.mod"], "\n"), "replace example.com/dep/p3 => ../localp3\n") + 1
			reported := slices.Contains(verdicts[line], analyzer.GoworkShadow)
			if differs := realDirs(outside) != realDirs(inside); reported != differs || reported != tc.shadow {
				t.Errorf("gowork-shadow reported %v; the go command builds %q without the workspace and %q in it (want reported %v)", reported, outside, inside, tc.shadow)
			}
		})
	}
}

// realDirs resolves symbolic links in the directory of a "version dir"
// answer, so that /tmp and its real path compare equal.
func realDirs(s string) string {
	v, dir, _ := strings.Cut(s, " ")
	if dir != "" {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			dir = r
		}
	}
	return v + " " + dir
}
