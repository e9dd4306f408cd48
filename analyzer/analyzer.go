package analyzer

import (
	"context"
	_ "embed"
	"go/token"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"weak"

	"golang.org/x/mod/modfile"
	"golang.org/x/tools/go/analysis"

	"github.com/modkit/modkit/modnet/modload"
)

// Analyzer reports risky replace directives in the go.mod of the module
// holding the analyzed packages. It runs the default checks; its flags
// (-enable, -disable, -allow) configure it, as with every x/tools analyzer.
var Analyzer = New(Config{})

// retractedTimeout bounds the network questions of one analysis run, so
// that a stalled proxy cannot hold a go vet run forever.
const retractedTimeout = time.Minute

// New returns a modreplace analyzer configured by cfg. Its flags start
// from cfg and add to it. Each analyzer returned by New reports each
// module's findings once per driver run (see the package documentation).
func New(cfg Config) *analysis.Analyzer {
	src := cfg.Source
	if src == nil {
		// One source per analyzer, so that a driver run asks about each
		// module once.
		src = &ModnetSource{}
	}
	st := &runner{
		cfg: Config{
			Enable:  slices.Clone(cfg.Enable),
			Disable: slices.Clone(cfg.Disable),
			Allow:   slices.Clone(cfg.Allow),
			Source:  src,
			GoMods:  cfg.GoMods,
			OnNote:  cfg.OnNote,
		},
		runs: make(map[runKey]*modRun),
	}
	// One go.mod source per analyzer too, so that the graphs of the
	// modules of a driver run share what they read.
	st.cfg.GoMods = st.cfg.goMods()
	a := &analysis.Analyzer{
		Name: "modreplace",
		Doc:  analyzerDoc(),
		URL:  "https://pkg.go.dev/github.com/modkit/modkit/analyzer",
		Run:  st.run,
	}
	st.cfg.RegisterFlags(&a.Flags)
	return a
}

// docGo is this package's doc.go, whose "# Analyzer modreplace" section is
// the analyzer's Doc, as in the x/tools passes.
//
//go:embed doc.go
var docGo string

// analyzerDoc returns the "# Analyzer modreplace" section of the package
// documentation: its first line without the "modreplace: " prefix, then
// the rest of the section up to the next heading, as x/tools'
// analysisinternal.MustExtractDoc extracts it for its passes.
func analyzerDoc() string {
	var lines []string
	in := false
	for line := range strings.Lines(docGo) {
		text, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "//")
		if !ok {
			if strings.HasPrefix(line, "package ") {
				break
			}
			continue
		}
		text = strings.TrimPrefix(text, " ")
		if strings.HasPrefix(text, "# ") {
			if in {
				break
			}
			in = text == "# Analyzer modreplace"
			continue
		}
		if in {
			lines = append(lines, text)
		}
	}
	doc, ok := strings.CutPrefix(strings.TrimSpace(strings.Join(lines, "\n")), "modreplace: ")
	if !ok {
		panic("analyzer: doc.go has no \"# Analyzer modreplace\" section starting \"modreplace: \"")
	}
	return doc
}

// A runner is the state of one analyzer made by New.
type runner struct {
	cfg Config

	mu   sync.Mutex
	runs map[runKey]*modRun
}

// A driver run is identified by its token.FileSet: drivers share one across
// the packages of a run (go/packages, unitchecker, golangci-lint). The key
// holds the FileSet weakly and its entry goes when the FileSet does, so a
// long-lived process does not accumulate runs.
type runKey struct {
	fset  weak.Pointer[token.FileSet]
	gomod string
}

// A modRun is one module's analysis within one driver run.
type modRun struct {
	once  sync.Once
	m     *modState
	owner string // owner package directory; "" if none
	err   error

	claimed bool // guarded by runner.mu: a pass has reported for the module
}

func (st *runner) modRun(fset *token.FileSet, gomod string) *modRun {
	key := runKey{weak.Make(fset), gomod}
	st.mu.Lock()
	defer st.mu.Unlock()
	mr, ok := st.runs[key]
	if !ok {
		mr = new(modRun)
		st.runs[key] = mr
		runtime.AddCleanup(fset, func(k runKey) {
			st.mu.Lock()
			delete(st.runs, k)
			st.mu.Unlock()
		}, key)
	}
	return mr
}

func (st *runner) run(pass *analysis.Pass) (any, error) {
	on, err := st.cfg.enabled()
	if err != nil {
		return nil, err
	}
	gomod := moduleFile(pass)
	if gomod == "" {
		return nil, nil
	}
	mr := st.modRun(pass.Fset, gomod)
	mr.once.Do(func() {
		mr.m, mr.err = loadModule(gomod)
		if mr.err == nil {
			mr.owner, mr.err = ownerDir(mr.m)
		}
	})
	if !st.claim(mr, pass) {
		return nil, nil
	}
	if mr.err != nil {
		return nil, mr.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), retractedTimeout)
	defer cancel()
	diags := runChecks(ctx, pass.Fset, mr.m.path, mr.m, on, &st.cfg)
	if slices.ContainsFunc(diags, func(d analysis.Diagnostic) bool { return len(d.SuggestedFixes) > 0 }) {
		// The x/tools checker reads the files a fix edits through
		// Pass.ReadFile, which admits only the pass's own files; go.mod
		// must be among them for -fix to edit it. A fresh slice keeps
		// other analyzers' passes, which may share the array, untouched.
		pass.OtherFiles = append(slices.Clip(pass.OtherFiles), mr.m.path)
	}
	for _, d := range diags {
		pass.Report(d)
	}
	return nil, nil
}

// claim reports whether pass is the one to report for the module, and
// records it. When the module could not be loaded, the first pass reports
// the error; otherwise the first pass of the owner package, excluding its
// external test package, reports the findings.
func (st *runner) claim(mr *modRun, pass *analysis.Pass) bool {
	if mr.err == nil && (mr.owner == "" || !inDir(pass, mr.owner) || onlyTests(pass)) {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if mr.claimed {
		return false
	}
	mr.claimed = true
	return true
}

// moduleFile returns the go.mod of the main module holding the pass's
// package, or "" if the package belongs to a dependency (whose replace
// directives the go command ignores) or to no module.
func moduleFile(pass *analysis.Pass) string {
	mod := pass.Module
	if mod != nil {
		if mod.Version != "" {
			return "" // only dependencies have versions
		}
		if mod.GoMod != "" {
			return mod.GoMod // go/packages knows
		}
	}
	// go vet (before Go 1.27) tells only the module path: walk up from the
	// package's files as the go command does (modload.FindGoMod), and accept
	// the go.mod declaring that path. Generated files (cgo) live elsewhere.
	for _, dir := range packageDirs(pass) {
		gomod := modload.FindGoMod(dir)
		if gomod == "" {
			continue
		}
		if mod == nil || mod.Path == "" || modulePathOf(gomod) == mod.Path {
			return gomod
		}
	}
	return ""
}

func modulePathOf(gomod string) string {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return ""
	}
	return modfile.ModulePath(data)
}

// packageDirs returns the directories of the pass's files, in order, each
// once. A Go file counts under its own name and, if a //line directive
// moved it (cgo), under the name it reports.
func packageDirs(pass *analysis.Pass) []string {
	var dirs []string
	add := func(name string) {
		if name == "" || !filepath.IsAbs(name) {
			return
		}
		if d := filepath.Dir(name); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	for _, f := range pass.Files {
		add(pass.Fset.File(f.FileStart).Name())
		add(pass.Fset.PositionFor(f.Package, true).Filename)
	}
	for _, name := range pass.OtherFiles {
		add(name)
	}
	for _, name := range pass.IgnoredFiles {
		add(name)
	}
	return dirs
}

func inDir(pass *analysis.Pass, dir string) bool {
	return slices.Contains(packageDirs(pass), filepath.Clean(dir))
}

// onlyTests reports whether every Go file of the pass is a _test.go file:
// an external test package ("p_test"), which never owns its module.
func onlyTests(pass *analysis.Pass) bool {
	for _, f := range pass.Files {
		if !strings.HasSuffix(pass.Fset.PositionFor(f.Package, true).Filename, "_test.go") {
			return false
		}
	}
	return len(pass.Files) > 0
}
