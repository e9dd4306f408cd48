package modload

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// A GoModSource provides the go.mod files of module versions for a
// [Loader]. A modnet.Client is one: it fetches through the module's
// route and verifies. A version's go.mod never changes, so a loader keeps
// what a source returned for the loads that follow. An answer matching
// [fs.ErrNotExist] means the source does not have that go.mod.
type GoModSource interface {
	GoMod(ctx context.Context, path, version string) ([]byte, error)
}

// A Loader loads module graphs as the go command does
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
// A Loader is safe for concurrent use and keeps the parsed go.mod
// file of every module version Source gave it, so that loading the graphs
// of many modules that share dependencies reads each go.mod once; the
// go.mod files of directories are read on every load and parsed once per
// content.
type Loader struct {
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

// ErrInvalidGoMod is matched by the [Failure] of a go.mod that cannot be
// used in the module graph: one that does not parse, or declares another
// module path.
var ErrInvalidGoMod = errors.New("invalid go.mod")

// An invalidGoModError is a go.mod that cannot be used in the module
// graph: unparsable, or declaring another module path.
type invalidGoModError struct {
	mod module.Version
	err error
}

func (e *invalidGoModError) Error() string        { return e.mod.String() + ": " + e.err.Error() }
func (e *invalidGoModError) Unwrap() error        { return e.err }
func (e *invalidGoModError) Is(target error) bool { return target == ErrInvalidGoMod }

// A Graph is a main module's module graph: every module version its
// requirements reach, the requirements of each version whose go.mod was
// read, and the version of each module path that minimal version
// selection picks (cmd/go/internal/modload.ModuleGraph). Module versions
// are the required ones, before replacement.
type Graph struct {
	main *MainModule

	mu       sync.Mutex
	reqs     map[module.Version][]module.Version // loaded modules' requirements; the main module's under {Path: main path}
	versions map[string][]string                 // module path → versions in the graph
	selected map[string]string
	failures map[module.Version]error

	requirersOnce sync.Once
	requirers     map[module.Version][]module.Version
}

// A Failure is a go.mod file the graph needed but could not use.
type Failure struct {
	// Module is the module version whose go.mod failed: the replacement
	// that was read, or the replaced module for a directory replacement.
	Module module.Version
	// Err says why. It matches [fs.ErrNotExist] when the file is missing
	// (from the source, or in the replacement directory), and
	// [ErrInvalidGoMod] when it cannot be used.
	Err error
}

// graphLoad is the state of one Load.
type graphLoad struct {
	l         *Loader
	g         *Graph
	walk      sync.WaitGroup
	loading   sync.Map // loadKey → struct{}
	summaries sync.Map // module.Version → func() *summaryResult, run once
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
// needs has been read, or has failed: see [Graph.Failures]. It stops
// early, with the remaining go.mod files failed, when ctx is done.
func (l *Loader) Load(ctx context.Context, main *MainModule) *Graph {
	g := &Graph{
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
				if IsToolchain(r.Path) || g.isMain(r.Path) {
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
	if IsToolchain(m.Path) || m.Version == "none" || m.Version == "" {
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
func (g *Graph) isMain(path string) bool {
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
func (l *Loader) Expand(ctx context.Context, g *Graph) *Graph {
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
func (g *Graph) consistentRoots() []module.Version {
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
		if !IsToolchain(r.Path) {
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
func (g *Graph) require(m module.Version, reqs []module.Version) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reqs[m] = reqs
	for _, r := range reqs {
		if IsToolchain(r.Path) {
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

func (g *Graph) fail(m module.Version, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.failures[m]; !ok {
		g.failures[m] = err
	}
}

// enqueue loads m's requirements, and, when m or the subgraph it is in is
// unpruned, their requirements in turn (modload.readModGraph's enqueue).
func (ld *graphLoad) enqueue(ctx context.Context, m module.Version, unpruned bool) {
	if IsToolchain(m.Path) || m.Version == "none" {
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
	once, ok := ld.summaries.Load(m)
	if !ok {
		once, _ = ld.summaries.LoadOrStore(m, sync.OnceValue(func() *summaryResult {
			s := ld.readSummary(ctx, m)
			if s.err == nil {
				ld.g.require(m, s.require)
			}
			return s
		}))
	}
	return once.(func() *summaryResult)()
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
func (l *Loader) rawGoMod(ctx context.Context, m module.Version) (*rawGoMod, error) {
	if raw, ok := l.raw.Load(m); ok {
		return raw.(*rawGoMod), nil
	}
	if err := ctx.Err(); err != nil {
		return nil, &module.ModuleError{Path: m.Path, Version: m.Version, Err: err}
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
	raw := &rawGoMod{pruned: Pruned(f)}
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
func (g *Graph) Main() *MainModule { return g.main }

// Selected returns the version minimal version selection picks for the
// module path, or "" if the path is not in the graph. The main module's
// own path has no selected version: the main module is chosen over every
// version of itself.
func (g *Graph) Selected(path string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.selected[path]
}

// BuildList returns the selected version of every module path in the
// graph but the main module, sorted by path (mvs.Graph.BuildList). Each is
// built from its replacement, if the main module replaces it.
func (g *Graph) BuildList() []module.Version {
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
func (g *Graph) Versions(path string) []string {
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
func (g *Graph) RequiredBy(m module.Version) ([]module.Version, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	reqs, ok := g.reqs[m]
	return slices.Clip(reqs), ok
}

// Requirers returns the module versions in the graph whose go.mod requires
// m, sorted by path and version; the main module appears as {Path: its
// path}.
func (g *Graph) Requirers(m module.Version) []module.Version {
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

// Loaded returns the module versions whose go.mod the graph read, the
// main modules left out, sorted by path and version: the versions whose
// go.mod checksums the go command needs ('go mod download all' adds their
// /go.mod lines to go.sum).
func (g *Graph) Loaded() []module.Version {
	g.mu.Lock()
	list := make([]module.Version, 0, len(g.reqs))
	for m := range g.reqs {
		if m.Version != "" && !g.isMain(m.Path) {
			list = append(list, m)
		}
	}
	g.mu.Unlock()
	slices.SortFunc(list, compareVersions)
	return list
}

// FindPath returns the shortest chain of requirements from the main
// module to m, the main module left out, found breadth first in
// requirement order, as cmd/go/internal/mvs.Graph.FindPath finds it; just
// m when no chain reaches it. Errors about m's go.mod read best with it,
// as the go command's do (mvs.BuildListError).
func (g *Graph) FindPath(m module.Version) []module.Version {
	type step struct {
		m    module.Version
		prev *step
	}
	var queue []*step
	seen := map[module.Version]bool{}
	for _, r := range g.mainRequirements() {
		if !seen[r] {
			seen[r] = true
			queue = append(queue, &step{m: r})
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if s.m == m {
			var chain []module.Version
			for ; s != nil; s = s.prev {
				chain = append([]module.Version{s.m}, chain...)
			}
			return chain
		}
		reqs, _ := g.RequiredBy(s.m)
		for _, r := range reqs {
			if !seen[r] && !IsToolchain(r.Path) {
				seen[r] = true
				queue = append(queue, &step{m: r, prev: s})
			}
		}
	}
	return []module.Version{m}
}

// mainRequirements are the requirements of the main module, or of every
// main module of a workspace, in order.
func (g *Graph) mainRequirements() []module.Version {
	if len(g.main.Workspace) == 0 {
		reqs, _ := g.RequiredBy(module.Version{Path: g.main.Path})
		return reqs
	}
	var all []module.Version
	for _, wm := range g.main.Workspace {
		reqs, _ := g.RequiredBy(module.Version{Path: wm.Path})
		all = append(all, reqs...)
	}
	return all
}

// Failures returns the go.mod files the graph needed but could not use,
// sorted by module. When there are any, the graph may lack the module
// versions those files would have added.
func (g *Graph) Failures() []Failure {
	g.mu.Lock()
	defer g.mu.Unlock()
	list := make([]Failure, 0, len(g.failures))
	for m, err := range g.failures {
		list = append(list, Failure{m, err})
	}
	slices.SortFunc(list, func(a, b Failure) int { return compareVersions(a.Module, b.Module) })
	return list
}

func compareVersions(a, b module.Version) int {
	if c := cmp.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	return semver.Compare(a.Version, b.Version)
}

// IsToolchain reports the go and toolchain pseudo-modules of go.mod's go
// and toolchain lines, which are not modules of the graph and have
// nothing to download (cmd/go/internal/gover.IsToolchain).
func IsToolchain(modPath string) bool { return modPath == "go" || modPath == "toolchain" }
