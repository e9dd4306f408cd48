package modnet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// A MainModule is what the module graph needs of a main module's go.mod:
// its path and directory, whether its graph is pruned, its requirements
// (the roots of the graph) and its replace and exclude directives, which
// apply to the whole graph. The go command ignores the replace and exclude
// directives of every other module.
//
// A MainModule must not change while a graph is loaded from it.
type MainModule struct {
	// Path is the module path declared by go.mod's module directive.
	Path string
	// Dir is the directory holding go.mod. Relative directory
	// replacements are relative to it.
	Dir string
	// Pruned reports a go.mod at go 1.17 or later, whose graph is pruned:
	// the requirements of a pruned dependency are not followed further
	// (cmd/go/internal/modload.pruningForGoVersion; no go directive means
	// unpruned).
	Pruned bool
	// Require lists the requirements, less those on excluded versions.
	Require []module.Version
	// Replace maps each replaced module version, or a module path with an
	// empty version for "every version", to its replacement: a module
	// version, or a directory (empty Version).
	Replace map[module.Version]module.Version
	// Exclude holds the excluded module versions. Requirements on them are
	// dropped everywhere in the graph.
	Exclude map[module.Version]bool

	// Workspace, when set, makes this the main module of a go.work
	// workspace's graph (see [ReadWorkspace]): these are the workspace's
	// main modules, whose requirements are the roots, each loaded with its
	// own pruning, and no version of whose paths is ever selected. Path is
	// then empty, Require the union of their requirements, and Replace and
	// Exclude the workspace's, with every directory absolute.
	Workspace []*MainModule
}

// ReadMainModule reads the go.mod file at name strictly, as the go command
// reads a main module's go.mod, and returns the main module it describes.
func ReadMainModule(name string) (*MainModule, error) {
	abs, err := filepath.Abs(name)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, err
	}
	f, err := modfile.Parse(abs, data, nil)
	if err != nil {
		return nil, err
	}
	return NewMainModule(f, filepath.Dir(abs))
}

// NewMainModule returns the main module described by f, the parsed go.mod
// file in directory dir. Conflicting replacements are the caller's to
// diagnose (the go command refuses them); here the last one wins.
func NewMainModule(f *modfile.File, dir string) (*MainModule, error) {
	if f.Module == nil {
		return nil, fmt.Errorf("%s: no module declaration", f.Syntax.Name)
	}
	mm := &MainModule{
		Path:    f.Module.Mod.Path,
		Dir:     dir,
		Pruned:  f.Go != nil && goVersionAtLeast(f.Go.Version, 1, 17),
		Replace: make(map[module.Version]module.Version, len(f.Replace)),
		Exclude: make(map[module.Version]bool, len(f.Exclude)),
	}
	for _, r := range f.Replace {
		mm.Replace[r.Old] = r.New
	}
	for _, x := range f.Exclude {
		mm.Exclude[x.Mod] = true
	}
	for _, r := range f.Require {
		if !mm.Exclude[r.Mod] {
			mm.Require = append(mm.Require, r.Mod)
		}
	}
	return mm, nil
}

// Replacement returns what the main module's replace directives put in
// m's place: the replacement of m's version, else that of all its
// versions, else m itself (cmd/go/internal/modload.replacement). A
// replacement with an empty Version is a directory.
func (mm *MainModule) Replacement(m module.Version) module.Version {
	if r, ok := mm.Replace[m]; ok {
		return r
	}
	if r, ok := mm.Replace[module.Version{Path: m.Path}]; ok {
		return r
	}
	return m
}

// goVersionAtLeast reports whether a go directive's version ("1.16",
// "1.21.0", "1.22rc1") is at least major.minor.
func goVersionAtLeast(v string, major, minor int) bool {
	num := func(s string) (int, string) {
		n, i := 0, 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			n = n*10 + int(s[i]-'0')
		}
		return n, s[i:]
	}
	vmaj, rest := num(v)
	if vmaj != major {
		return vmaj > major
	}
	vmin := 0
	if strings.HasPrefix(rest, ".") {
		vmin, _ = num(rest[1:])
	}
	return vmin >= minor
}

// A GoModSource provides the go.mod files of module versions for a
// [ModGraphLoader]. [*Client] is one: it fetches through the module's
// route and verifies. A version's go.mod never changes, so a loader keeps
// what a source returned for the loads that follow. An answer matching
// [fs.ErrNotExist] means the source does not have that go.mod.
type GoModSource interface {
	GoMod(ctx context.Context, path, version string) ([]byte, error)
}

// A ModGraphLoader loads module graphs as the go command does
// (cmd/go/internal/modload: readModGraph and goModSummary), reading the
// go.mod files of module versions from Source and those of directory
// replacements from the file system.
//
// The graph starts from the main module's requirements. The go.mod of
// each module reached is read; below a module whose go.mod predates graph
// pruning (go < 1.17), and everywhere when the main module itself is
// unpruned, the requirements are followed to the end; below a pruned
// module, only its direct requirements join the graph. The main module's
// replace directives apply to every module reached (a module replaced by
// another version is read from the replacement, one replaced by a
// directory from the directory's go.mod), its exclude directives drop
// requirements, and the selected version of each module path is the
// highest one in the graph (minimal version selection). go.mod files are
// read concurrently, each once per load; one that cannot be had or used
// is recorded as a failure and the walk goes on around it.
//
// A workspace's graph is loaded from the [MainModule] [ReadWorkspace]
// returns.
//
// A ModGraphLoader is safe for concurrent use and keeps the parsed go.mod
// file of every module version Source gave it, so that loading the graphs
// of many modules that share dependencies reads each go.mod once; the
// go.mod files of directories are read on every load and parsed once per
// content.
type ModGraphLoader struct {
	// Source provides the go.mod files of module versions. It is
	// required.
	Source GoModSource

	raw  sync.Map // module.Version → *rawGoMod: parsed go.mod files of versions
	dirs sync.Map // dirGoMod → *rawGoMod: parsed go.mod files of directories
}

// dirGoMod is a directory's go.mod as read: read again for every load,
// since it may change, but parsed once per content.
type dirGoMod struct{ name, data string }

// rawGoMod is what the graph needs of a module version's go.mod, before
// the main module's exclusions apply (modload.rawGoModSummary).
type rawGoMod struct {
	module  string // declared module path; "" without a module directive
	pruned  bool
	require []module.Version
	err     error // the file does not parse
}

// summaryResult is what the graph needs of a module's go.mod once the
// main module's replacements and exclusions apply (modload.goModSummary).
type summaryResult struct {
	require []module.Version
	pruned  bool
	err     error
}

// An invalidGoModError is a go.mod that cannot be used in the module
// graph: unparsable, or declaring another module path.
type invalidGoModError struct {
	mod module.Version
	err error
}

func (e *invalidGoModError) Error() string { return e.mod.String() + ": " + e.err.Error() }
func (e *invalidGoModError) Unwrap() error { return e.err }

// A ModGraph is a main module's module graph: every module version its
// requirements reach, the requirements of each version whose go.mod was
// read, and the version of each module path that minimal version
// selection picks (cmd/go/internal/modload.ModuleGraph). Module versions
// are the required ones, before replacement.
type ModGraph struct {
	main *MainModule

	mu       sync.Mutex
	reqs     map[module.Version][]module.Version // loaded modules' requirements; the main module's under {Path: main path}
	versions map[string][]string                 // module path → versions in the graph
	selected map[string]string
	failures map[module.Version]error

	requirersOnce sync.Once
	requirers     map[module.Version][]module.Version
}

// A ModGraphFailure is a go.mod file the graph needed but could not use.
type ModGraphFailure struct {
	// Module is the module version whose go.mod failed: the replacement
	// that was read, or the replaced module for a directory replacement.
	Module module.Version
	// Err says why. It matches [fs.ErrNotExist] when the file is missing
	// (from the source, or in the replacement directory).
	Err error
}

// graphLoad is the state of one Load.
type graphLoad struct {
	l         *ModGraphLoader
	g         *ModGraph
	walk      sync.WaitGroup
	loading   sync.Map // loadKey → struct{}
	summaries onceMap[*summaryResult]
}

// loadKey is a module loaded with a pruning mode: the go command loads a
// module once as the child of a pruned module and once more, further down,
// as part of an unpruned subgraph (modload.readModGraph's dedupKey); in a
// workspace, once more as a dependency of the main modules whose
// requirements must be loaded too.
type loadKey struct {
	mod       module.Version
	unpruned  bool
	workspace bool
}

// Load loads the module graph of main and returns when every go.mod it
// needs has been read, or has failed: see [ModGraph.Failures]. It stops
// early, with the remaining go.mod files failed, when ctx is done.
func (l *ModGraphLoader) Load(ctx context.Context, main *MainModule) *ModGraph {
	g := &ModGraph{
		main:     main,
		reqs:     make(map[module.Version][]module.Version),
		versions: make(map[string][]string),
		selected: make(map[string]string),
		failures: make(map[module.Version]error),
	}
	ld := &graphLoad{l: l, g: g}
	if len(main.Workspace) > 0 {
		ld.loadWorkspace(ctx)
		return g
	}
	g.require(module.Version{Path: main.Path}, main.Require)
	for _, r := range main.Require {
		ld.enqueue(ctx, r, !main.Pruned)
	}
	ld.walk.Wait()
	return g
}

// loadWorkspace loads a workspace's graph (modload.readModGraph with
// workspace pruning): each main module's requirements, with its pruning;
// then, until nothing changes, the requirements of the version selected
// for each dependency of a main module, or of such a version, that is
// higher than the one required, since those requirements were not in any
// main module's go.mod.
func (ld *graphLoad) loadWorkspace(ctx context.Context) {
	g := ld.g
	for _, wm := range g.main.Workspace {
		g.require(module.Version{Path: wm.Path}, wm.Require)
		for _, r := range wm.Require {
			ld.enqueue(ctx, r, !wm.Pruned)
		}
	}
	ld.walk.Wait()
	hasDeps := map[string]bool{}
	seen := map[module.Version]bool{}
	for _, wm := range g.main.Workspace {
		hasDeps[wm.Path] = true
		seen[module.Version{Path: wm.Path}] = true // loaded above
	}
	for {
		need := map[module.Version]bool{}
		for p := range hasDeps {
			m := module.Version{Path: p, Version: g.Selected(p)}
			if !seen[m] {
				need[m] = true
				continue
			}
			reqs, _ := g.RequiredBy(m)
			for _, r := range reqs {
				if isToolchain(r.Path) || g.isMain(r.Path) {
					continue
				}
				if s := (module.Version{Path: r.Path, Version: g.Selected(r.Path)}); semver.Compare(s.Version, r.Version) > 0 && !seen[s] {
					need[s] = true
				}
			}
		}
		if len(need) == 0 {
			return
		}
		for m := range need {
			ld.enqueueWorkspace(ctx, m)
			seen[m] = true
			hasDeps[m.Path] = true
		}
		ld.walk.Wait()
	}
}

// enqueueWorkspace loads m's requirements and their go.mod files, as the
// go command loads a main module's (workspace pruning).
func (ld *graphLoad) enqueueWorkspace(ctx context.Context, m module.Version) {
	if isToolchain(m.Path) || m.Version == "none" || m.Version == "" {
		return
	}
	if _, dup := ld.loading.LoadOrStore(loadKey{mod: m, workspace: true}, struct{}{}); dup {
		return
	}
	ld.walk.Go(func() {
		s := ld.summary(ctx, m)
		if s.err != nil {
			return
		}
		for _, r := range s.require {
			ld.enqueue(ctx, r, !s.pruned)
		}
	})
}

// isMain reports whether path is a main module's: the main module, or one
// of a workspace's.
func (g *ModGraph) isMain(path string) bool {
	if path == g.main.Path {
		return true
	}
	for _, wm := range g.main.Workspace {
		if wm.Path == path {
			return true
		}
	}
	return false
}

// Expand returns the graph the go command builds with when g's roots, the
// main module's requirements, are not all at their selected versions:
// with -mod=mod, and once 'go mod tidy' has written go.mod, the roots are
// raised to the selected versions, each path once, and the graph is
// loaded again until they agree (modload.expandGraph and
// updatePrunedRoots). In a pruned graph that can bring in requirements the
// old roots' go.mod files did not have, and drop those only a replaced
// root had. Without -mod=mod, the go command refuses such a go.mod
// ("updates to go.mod needed"). If g's roots are consistent, or its main
// module is unpruned (where raising roots leaves the build list as it
// is), Expand returns g.
func (l *ModGraphLoader) Expand(ctx context.Context, g *ModGraph) *ModGraph {
	if !g.main.Pruned {
		return g
	}
	for {
		roots := g.consistentRoots()
		if roots == nil {
			return g
		}
		mm := *g.main
		mm.Require = roots
		g = l.Load(ctx, &mm)
	}
}

// consistentRoots returns the selected version of each root path, in the
// roots' order, or nil if that is what the roots already are.
func (g *ModGraph) consistentRoots() []module.Version {
	var roots []module.Version
	seen := map[string]bool{g.main.Path: true}
	changed := false
	for _, r := range g.main.Require {
		if seen[r.Path] {
			changed = true // a redundant root: the go command keeps one
			continue
		}
		seen[r.Path] = true
		v := r.Version
		if !isToolchain(r.Path) {
			v = g.Selected(r.Path)
		}
		changed = changed || v != r.Version
		roots = append(roots, module.Version{Path: r.Path, Version: v})
	}
	if !changed {
		return nil
	}
	return roots
}

// require records m's requirements, the graph's edges, for minimal version
// selection. The main module always wins over any version of itself
// (modload.cmpVersion), and the go and toolchain lines are not modules.
func (g *ModGraph) require(m module.Version, reqs []module.Version) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reqs[m] = reqs
	for _, r := range reqs {
		if isToolchain(r.Path) {
			continue
		}
		if vs := g.versions[r.Path]; !slices.Contains(vs, r.Version) {
			g.versions[r.Path] = append(vs, r.Version)
		}
		if g.isMain(r.Path) {
			continue
		}
		if v, ok := g.selected[r.Path]; !ok || semver.Compare(v, r.Version) < 0 {
			g.selected[r.Path] = r.Version
		}
	}
}

func (g *ModGraph) fail(m module.Version, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.failures[m]; !ok {
		g.failures[m] = err
	}
}

// enqueue loads m's requirements, and, when m or the subgraph it is in is
// unpruned, their requirements in turn (modload.readModGraph's enqueue).
func (ld *graphLoad) enqueue(ctx context.Context, m module.Version, unpruned bool) {
	if isToolchain(m.Path) || m.Version == "none" {
		return
	}
	if _, dup := ld.loading.LoadOrStore(loadKey{mod: m, unpruned: unpruned}, struct{}{}); dup {
		return
	}
	ld.walk.Go(func() {
		s := ld.summary(ctx, m)
		if s.err != nil {
			return
		}
		// Below a module that predates pruning, the go command loads the
		// whole transitive graph; below a pruned one, nothing more.
		if unpruned || !s.pruned {
			for _, r := range s.require {
				ld.enqueue(ctx, r, true)
			}
		}
	})
}

// summary reads m's go.mod once per load: that of its replacement if the
// main module replaces it, from the directory for a directory replacement
// (modload.goModSummary and rawGoModSummary), and records its
// requirements in the graph.
func (ld *graphLoad) summary(ctx context.Context, m module.Version) *summaryResult {
	return ld.summaries.get(m, func() *summaryResult {
		s := ld.readSummary(ctx, m)
		if s.err == nil {
			ld.g.require(m, s.require)
		}
		return s
	})
}

func (ld *graphLoad) readSummary(ctx context.Context, m module.Version) *summaryResult {
	main := ld.g.main
	actual := main.Replacement(m)
	var raw *rawGoMod
	who := actual
	if actual.Version == "" {
		who = m // a directory's go.mod is reported under the module it replaces
		dir := actual.Path
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(main.Dir, dir)
		}
		name := filepath.Join(dir, "go.mod")
		data, err := os.ReadFile(name)
		if err != nil {
			return ld.failed(m, fmt.Errorf("replaced by directory %s: %w", actual.Path, err))
		}
		key := dirGoMod{name, string(data)}
		r, ok := ld.l.dirs.Load(key)
		if !ok {
			r, _ = ld.l.dirs.LoadOrStore(key, parseRawGoMod(name, data))
		}
		raw = r.(*rawGoMod)
	} else {
		var err error
		if raw, err = ld.l.rawGoMod(ctx, actual); err != nil {
			return ld.failed(actual, err)
		}
	}
	if raw.err != nil {
		return ld.failed(who, &invalidGoModError{who, raw.err})
	}
	if actual.Version != "" {
		// modload.goModSummary: the go.mod of a module version must
		// declare the path it was required as, or that of its
		// replacement; a directory's may declare anything.
		if raw.module == "" {
			return ld.failed(actual, &invalidGoModError{actual, errors.New("parsing go.mod: missing module line")})
		}
		if raw.module != m.Path && raw.module != actual.Path {
			return ld.failed(actual, &invalidGoModError{actual,
				fmt.Errorf("parsing go.mod:\n\tmodule declares its path as: %s\n\t        but was required as: %s", raw.module, m.Path)})
		}
	}
	s := &summaryResult{pruned: raw.pruned, require: raw.require}
	if slices.ContainsFunc(raw.require, func(r module.Version) bool { return main.Exclude[r] }) {
		// Since Go 1.16, requirements on excluded versions are dropped.
		s.require = slices.DeleteFunc(slices.Clone(raw.require), func(r module.Version) bool { return main.Exclude[r] })
	}
	return s
}

func (ld *graphLoad) failed(m module.Version, err error) *summaryResult {
	ld.g.fail(m, err)
	return &summaryResult{err: err}
}

// rawGoMod returns the parsed go.mod of module version m from the
// loader's memory or its Source. Only answers are remembered: a go.mod the
// source could not give may be there next time.
func (l *ModGraphLoader) rawGoMod(ctx context.Context, m module.Version) (*rawGoMod, error) {
	if raw, ok := l.raw.Load(m); ok {
		return raw.(*rawGoMod), nil
	}
	if err := ctx.Err(); err != nil {
		return nil, &ModuleError{Path: m.Path, Version: m.Version, Err: err}
	}
	data, err := l.Source.GoMod(ctx, m.Path, m.Version)
	if err != nil {
		return nil, err
	}
	raw, _ := l.raw.LoadOrStore(m, parseRawGoMod(m.String()+"/go.mod", data))
	return raw.(*rawGoMod), nil
}

// parseRawGoMod parses a dependency's go.mod leniently, as the go command
// does (modfile.ParseLax: unknown directives and the replace and exclude
// directives of dependencies are ignored).
func parseRawGoMod(name string, data []byte) *rawGoMod {
	f, err := modfile.ParseLax(name, data, nil)
	if err != nil {
		return &rawGoMod{err: err}
	}
	raw := &rawGoMod{pruned: f.Go != nil && goVersionAtLeast(f.Go.Version, 1, 17)}
	if f.Module != nil {
		raw.module = f.Module.Mod.Path
	}
	raw.require = make([]module.Version, len(f.Require))
	for i, r := range f.Require {
		raw.require[i] = r.Mod
	}
	return raw
}

// Main returns the main module the graph was loaded from.
func (g *ModGraph) Main() *MainModule { return g.main }

// Selected returns the version minimal version selection picks for the
// module path, or "" if the path is not in the graph. The main module's
// own path has no selected version: the main module is chosen over every
// version of itself.
func (g *ModGraph) Selected(path string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.selected[path]
}

// BuildList returns the selected version of every module path in the
// graph but the main module, sorted by path (mvs.Graph.BuildList). Each is
// built from its replacement, if the main module replaces it.
func (g *ModGraph) BuildList() []module.Version {
	g.mu.Lock()
	defer g.mu.Unlock()
	list := make([]module.Version, 0, len(g.selected))
	for path, v := range g.selected {
		list = append(list, module.Version{Path: path, Version: v})
	}
	slices.SortFunc(list, func(a, b module.Version) int { return cmp.Compare(a.Path, b.Path) })
	return list
}

// Versions returns the versions of the module path in the graph, lowest
// first: every version some module in the graph requires.
func (g *ModGraph) Versions(path string) []string {
	g.mu.Lock()
	vs := slices.Clone(g.versions[path])
	g.mu.Unlock()
	semver.Sort(vs)
	return vs
}

// RequiredBy returns the requirements of m in the graph, after the main
// module's exclusions, and whether they are known: false if m's go.mod
// was not read, because the graph is pruned below it or it failed. The
// main module is m = {Path: its path}.
func (g *ModGraph) RequiredBy(m module.Version) ([]module.Version, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	reqs, ok := g.reqs[m]
	return slices.Clip(reqs), ok
}

// Requirers returns the module versions in the graph whose go.mod requires
// m, sorted by path and version; the main module appears as {Path: its
// path}.
func (g *ModGraph) Requirers(m module.Version) []module.Version {
	g.requirersOnce.Do(func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.requirers = make(map[module.Version][]module.Version)
		for from, reqs := range g.reqs {
			for _, r := range reqs {
				g.requirers[r] = append(g.requirers[r], from)
			}
		}
		for _, list := range g.requirers {
			slices.SortFunc(list, compareVersions)
		}
	})
	return slices.Clip(g.requirers[m])
}

// Failures returns the go.mod files the graph needed but could not use,
// sorted by module. When there are any, the graph may lack the module
// versions those files would have added.
func (g *ModGraph) Failures() []ModGraphFailure {
	g.mu.Lock()
	defer g.mu.Unlock()
	list := make([]ModGraphFailure, 0, len(g.failures))
	for m, err := range g.failures {
		list = append(list, ModGraphFailure{m, err})
	}
	slices.SortFunc(list, func(a, b ModGraphFailure) int { return compareVersions(a.Module, b.Module) })
	return list
}

func compareVersions(a, b module.Version) int {
	if c := cmp.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	return semver.Compare(a.Version, b.Version)
}
