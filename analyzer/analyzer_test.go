package analyzer_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/modkit/modkit/analyzer"
	"github.com/modkit/modkit/modnet"
)

// The tests under testdata/src are analysistest-style, but for go.mod:
// analysistest reads "// want" comments from Go files only, and its
// RunWithSuggestedFixes formats results as Go. So each case here is a
// small repository, testdata/src/<case>/repo (a .git directory is created
// in it unless the case has a "novcs" file), whose go.mod files carry the
// expectations:
//
//	replace a => b // want check-id "regexp" [check-id "regexp"...]
//
//	replace a => b // want note check-id "regexp"
//
// The second form expects a note, what a check could not decide. The
// comments are removed before the analysis, keeping line numbers, so
// they do not count as documentation. "${CASE}" in go.mod stands for the
// case's temporary directory. An optional <case>/flags holds analyzer
// flags, <case>/owner the import path of the package expected to report,
// and go.mod.golden beside a go.mod the result of applying every fix.
//
// The module graph's go.mod files come from a module cache of the case's
// own (nothing is fetched): <case>/gomods/<module path>@<version>.mod,
// and "module <path>" for every other module version a go.mod of the case
// requires or replaces with, except those <case>/missing lists (one
// path@version a line).
//
// Every case runs twice: through CheckModFile on each go.mod, and through
// the analyzer on every package of each module that has packages, loaded
// with go/packages (tests included) and run by the x/tools checker. Both
// must report exactly the expectations, each once.
func TestCases(t *testing.T) {
	entries, err := os.ReadDir("testdata/src")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runCase(t, name)
		})
	}
}

type want struct {
	check string
	rx    *regexp.Regexp
	note  bool
}

type lineKey struct {
	file string
	line int
}

// A testCase is a prepared copy of testdata/src/<name>.
type testCase struct {
	root   string
	gomods []string           // every go.mod, absolute
	wants  map[lineKey][]want // expectations by go.mod line
	golden map[string][]byte  // go.mod → wanted content after fixes
	owner  string             // import path of the reporting package, if given
	cfg    analyzer.Config
}

func runCase(t *testing.T, name string) {
	tc := prepareCase(t, name)

	for _, gomod := range tc.gomods {
		fset := token.NewFileSet()
		cfg, notes := tc.config()
		diags, err := analyzer.CheckModFile(context.Background(), fset, gomod, cfg)
		if err != nil {
			t.Fatalf("CheckModFile(%s): %v", gomod, err)
		}
		tc.match(t, "CheckModFile", fset, diags, *notes, []string{gomod})
		tc.checkFixes(t, "CheckModFile", fset, gomod, diags)
	}

	for _, gomod := range tc.gomods {
		dir := filepath.Dir(gomod)
		if !hasPackages(dir) {
			continue
		}
		cfg, notes := tc.config()
		fset, diags, reporters := analyze(t, dir, analyzer.New(cfg))
		tc.match(t, "analyzer", fset, diags, *notes, []string{gomod})
		tc.checkFixes(t, "analyzer", fset, gomod, diags)
		if tc.owner != "" && len(diags) > 0 {
			for _, r := range reporters {
				if r != tc.owner {
					t.Errorf("analyzer: package %s reported; want only the owner %s", r, tc.owner)
				}
			}
		}
	}
}

func prepareCase(t *testing.T, name string) *testCase {
	src := filepath.Join("testdata", "src", name)
	root := filepath.Join(t.TempDir(), name)
	copyDir(t, src, root)
	if _, err := os.Stat(filepath.Join(src, "novcs")); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(filepath.Join(root, "repo", ".git"), 0o777); err != nil {
			t.Fatal(err)
		}
	}
	tc := &testCase{root: root, wants: make(map[lineKey][]want), golden: make(map[string][]byte)}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "go.mod" {
			return err
		}
		tc.gomods = append(tc.gomods, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		data = bytes.ReplaceAll(data, []byte("${CASE}"), []byte(root))
		lines := strings.SplitAfter(string(data), "\n")
		for i, line := range lines {
			at := strings.Index(line, "// want ")
			if at < 0 {
				continue
			}
			ws, err := parseWants(line[at+len("// want "):])
			if err != nil {
				t.Fatalf("%s:%d: %v", p, i+1, err)
			}
			key := lineKey{realPath(p), i + 1}
			tc.wants[key] = append(tc.wants[key], ws...)
			lines[i] = strings.TrimRight(line[:at], " \t") + "\n"
		}
		if err := os.WriteFile(p, []byte(strings.Join(lines, "")), 0o666); err != nil {
			return err
		}
		if g, err := os.ReadFile(p + ".golden"); err == nil {
			tc.golden[p] = g
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(src, "owner")); err == nil {
		tc.owner = strings.TrimSpace(string(data))
	}
	tc.cfg.Source = fakeSource{}
	tc.cfg.GoMods = &analyzer.ModnetSource{Client: &modnet.Client{Env: caseModCache(t, src, root, tc.gomods)}}
	if data, err := os.ReadFile(filepath.Join(src, "flags")); err == nil {
		fs := flag.NewFlagSet("flags", flag.ContinueOnError)
		tc.cfg.RegisterFlags(fs)
		if err := fs.Parse(strings.Fields(string(data))); err != nil {
			t.Fatalf("%s/flags: %v", src, err)
		}
	}
	return tc
}

// config returns the case's configuration with the list its notes go to.
func (tc *testCase) config() (analyzer.Config, *[]analyzer.Note) {
	notes := new([]analyzer.Note)
	var mu sync.Mutex
	cfg := tc.cfg
	cfg.OnNote = func(n analyzer.Note) {
		mu.Lock()
		*notes = append(*notes, n)
		mu.Unlock()
	}
	return cfg, notes
}

// caseModCache writes the module cache of a case (see TestCases) and
// returns an environment that uses it, offline.
func caseModCache(t *testing.T, src, root string, gomods []string) *modnet.Env {
	t.Helper()
	dir := filepath.Join(root, "modcache")
	cache := &modnet.Cache{Dir: dir}
	missing := map[string]bool{}
	if data, err := os.ReadFile(filepath.Join(src, "missing")); err == nil {
		for _, l := range strings.Fields(string(data)) {
			missing[l] = true
		}
	}
	put := func(m module.Version, data string) {
		if missing[m.String()] || !semver.IsValid(m.Version) {
			return
		}
		if _, _, err := cache.ReadGoMod(m); err == nil {
			return
		}
		if _, err := cache.WriteGoMod(context.Background(), m, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	filepath.WalkDir(filepath.Join(src, "gomods"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(filepath.Join(src, "gomods"), p)
		path, version, _ := strings.Cut(strings.TrimSuffix(filepath.ToSlash(rel), ".mod"), "@")
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		put(module.Version{Path: path, Version: version}, string(data))
		return nil
	})
	for _, gomod := range gomods {
		data, err := os.ReadFile(gomod)
		if err != nil {
			t.Fatal(err)
		}
		f, err := modfile.Parse(gomod, data, nil)
		if err != nil {
			continue
		}
		for _, r := range f.Require {
			put(r.Mod, "module "+r.Mod.Path+"\n")
		}
		for _, r := range f.Replace {
			put(r.New, "module "+r.New.Path+"\n")
		}
	}
	env, err := modnet.LoadEnvFrom(map[string]string{
		"GOENV": "off", "GOROOT": t.TempDir(), "GOPATH": filepath.Join(root, "gopath"),
		"GOMODCACHE": dir, "GOPROXY": "off", "GOSUMDB": "off",
	})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// parseWants parses `[note] check-id "regexp"` groups.
func parseWants(s string) ([]want, error) {
	var ws []want
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		note := false
		if rest, ok := strings.CutPrefix(s, "note "); ok {
			note, s = true, strings.TrimSpace(rest)
		}
		id, rest, ok := strings.Cut(s, " ")
		if !ok {
			return nil, errors.New("want: check ID without pattern")
		}
		rest = strings.TrimSpace(rest)
		quoted, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return nil, err
		}
		pattern, _ := strconv.Unquote(quoted)
		rx, err := regexp.Compile(pattern)
		if err != nil {
			return nil, err
		}
		ws = append(ws, want{id, rx, note})
		s = rest[len(quoted):]
	}
	return ws, nil
}

// match checks diags and notes against the expectations on the given
// go.mod files: each diagnostic or note must match one expectation of its
// line and check, and each expectation must be matched once.
func (tc *testCase) match(t *testing.T, mode string, fset *token.FileSet, diags []analysis.Diagnostic, notes []analyzer.Note, files []string) {
	t.Helper()
	left := make(map[lineKey][]want)
	for _, f := range files {
		for k, ws := range tc.wants {
			if k.file == realPath(f) {
				left[k] = append([]want(nil), ws...)
			}
		}
	}
	type found struct {
		pos           token.Pos
		category, msg string
		note          bool
	}
	var all []found
	for _, d := range diags {
		all = append(all, found{d.Pos, d.Category, d.Message, false})
	}
	for _, n := range notes {
		all = append(all, found{n.Pos, n.Category, n.Message, true})
	}
	for _, d := range all {
		kind := "diagnostic"
		if d.note {
			kind = "note"
		}
		pos := fset.Position(d.pos)
		k := lineKey{realPath(pos.Filename), pos.Line}
		ws := left[k]
		i := 0
		for ; i < len(ws); i++ {
			if ws[i].note == d.note && ws[i].check == d.category && ws[i].rx.MatchString(d.msg) {
				break
			}
		}
		if i == len(ws) {
			t.Errorf("%s: %s: unexpected %s [%s] %s", mode, pos, kind, d.category, d.msg)
			continue
		}
		if !strings.HasPrefix(d.msg, "["+d.category+"] ") {
			t.Errorf("%s: %s: message does not start with [%s]: %s", mode, pos, d.category, d.msg)
		}
		left[k] = append(ws[:i], ws[i+1:]...)
	}
	for k, ws := range left {
		for _, w := range ws {
			kind := "diagnostic"
			if w.note {
				kind = "note"
			}
			t.Errorf("%s: %s:%d: no %s %s matching %q", mode, k.file, k.line, w.check, kind, w.rx)
		}
	}
}

// checkFixes applies the fixes for gomod and compares the result with its
// golden file; without a golden file there must be no fixes.
func (tc *testCase) checkFixes(t *testing.T, mode string, fset *token.FileSet, gomod string, diags []analysis.Diagnostic) {
	t.Helper()
	src, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	// The analyzer names go.mod as its driver reported it, maybe through
	// other symbolic links than gomod.
	name := gomod
	for _, d := range diags {
		if p := fset.Position(d.Pos).Filename; realPath(p) == realPath(gomod) {
			name = p
		}
	}
	got, n, err := analyzer.ApplyFixes(fset, name, src, diags)
	if err != nil {
		t.Fatalf("%s: ApplyFixes: %v", mode, err)
	}
	want, ok := tc.golden[gomod]
	switch {
	case !ok && n > 0:
		t.Errorf("%s: %s: %d unexpected fixes:\n%s", mode, gomod, n, got)
	case ok && string(got) != string(want):
		t.Errorf("%s: %s after fixes:\n%s\nwant:\n%s", mode, gomod, got, want)
	}
}

// analyze loads every package of the module in dir, tests included, and
// runs a on them with the x/tools checker. It returns the diagnostics and
// the import paths of the packages that reported.
func analyze(t *testing.T, dir string, a *analysis.Analyzer) (*token.FileSet, []analysis.Diagnostic, []string) {
	t.Helper()
	cfg := &packages.Config{
		Mode:  packages.LoadSyntax | packages.NeedModule,
		Dir:   dir,
		Tests: true,
		// GOWORK=off: the checks find the go.work above a module
		// themselves, whatever GOWORK says, and the gowork case holds a
		// workspace that does not load, on purpose.
		Env: append(os.Environ(), "GOPROXY=off", "GOWORK=off", "GOFLAGS=", "GO111MODULE=on"),
	}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		t.Fatal(err)
	}
	if n := packages.PrintErrors(pkgs); n > 0 {
		t.Fatalf("%d errors loading %s", n, dir)
	}
	graph, err := checker.Analyze([]*analysis.Analyzer{a}, pkgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	var diags []analysis.Diagnostic
	var reporters []string
	var fset *token.FileSet
	for _, act := range graph.Roots {
		if act.Err != nil {
			t.Errorf("%s: %v", act, act.Err)
		}
		fset = act.Package.Fset
		if len(act.Diagnostics) > 0 {
			reporters = append(reporters, act.Package.PkgPath)
		}
		diags = append(diags, act.Diagnostics...)
	}
	return fset, diags, reporters
}

// hasPackages reports whether the module in dir has a Go file outside
// nested modules.
func hasPackages(dir string) bool {
	found := false
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && p != dir {
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir
			}
		}
		if strings.HasSuffix(p, ".go") {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o777)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o666)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func realPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// fakeSource answers the retracted case without a network.
type fakeSource struct{}

func (fakeSource) Retraction(ctx context.Context, path, version string) (bool, string, error) {
	switch path {
	case "example.com/r":
		return version == "v1.0.1", "broken build", nil
	case "example.com/err":
		return false, "", errors.New("proxy unreachable")
	}
	return false, "", nil
}

func (fakeSource) Deprecation(ctx context.Context, path string) (string, error) {
	if path == "example.com/dep" {
		return "use example.com/dep2", nil
	}
	return "", nil
}
