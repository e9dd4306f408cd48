package analyzer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"

	"github.com/modkit/modkit/modnet/modload"
)

// The unused, inert, downgrade and placeholder checks, and every message
// that says what a replace does, are decided on the module graph as the go
// command computes it ([modload.Loader]: graph pruning, this
// module's replace and exclude directives), not on go.mod's require list:
// a module that go.mod does not require is often in the build all the
// same, required by a dependency, and very often by the go.mod of a local
// replacement directory. The go.mod files of directories are read from
// disk, those of module versions from the module cache, and from the
// network only when the retracted check is enabled, the one opt-in that
// lets modreplace go online.

// A GoModSource provides the go.mod files of module versions for the
// module graph. [*ModnetSource] is the default one.
type GoModSource interface {
	// CachedGoMod returns the go.mod of path@version from local storage
	// (the module cache), never from the network, or an error matching
	// fs.ErrNotExist if it is not there.
	CachedGoMod(path, version string) ([]byte, error)
	// GoMod returns the go.mod of path@version, fetching it if need be;
	// an error matching fs.ErrNotExist means it does not exist. It is
	// called only for what CachedGoMod lacks, and only when the
	// retracted check is enabled.
	GoMod(ctx context.Context, path, version string) ([]byte, error)
}

// graphLoaders are the two module graph loaders over one GoModSource,
// which keep what they read for every module checked with the source.
type graphLoaders struct {
	once            sync.Once
	offline, online *modload.Loader

	// parsed holds the go.mod files of local replacement directories,
	// parsed (parseOther), by content: the sibling modules of a repository
	// replace each other, so each is parsed once, not once per module.
	parsed sync.Map // string → *modfile.File
}

// parse returns the go.mod content data of name parsed by parseOther.
func (gl *graphLoaders) parse(name string, data []byte) *modfile.File {
	if f, ok := gl.parsed.Load(string(data)); ok {
		return f.(*modfile.File)
	}
	f, _ := gl.parsed.LoadOrStore(string(data), parseOther(name, data))
	return f.(*modfile.File)
}

func (gl *graphLoaders) get(src GoModSource, online bool) *modload.Loader {
	gl.once.Do(func() {
		gl.offline = &modload.Loader{Source: graphGoMods{src: src}}
		gl.online = &modload.Loader{Source: graphGoMods{src: src, fetch: make(chan struct{}, onlineFetches)}}
	})
	if online {
		return gl.online
	}
	return gl.offline
}

// onlineFetches bounds the go.mod files fetched at once for one module
// graph's walk, which may reach hundreds at one level.
const onlineFetches = 16

// graphGoMods is the modload.GoModSource of the graph: the module cache,
// then, when fetch is set, the network for what the cache lacks.
type graphGoMods struct {
	src   GoModSource
	fetch chan struct{} // nil: offline
}

func (g graphGoMods) GoMod(ctx context.Context, path, version string) ([]byte, error) {
	m := module.Version{Path: path, Version: version}
	if isPlaceholder(version) {
		// Nothing is ever published at the zero pseudo-version; the go
		// command fails asking for it ("unknown revision 000000000000").
		return nil, &unpublishedError{m, errors.New("placeholder version, never published")}
	}
	data, err := g.src.CachedGoMod(path, version)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return data, err
	}
	if g.fetch == nil {
		return nil, &notCachedError{m, err}
	}
	select {
	case g.fetch <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	data, err = g.src.GoMod(ctx, path, version)
	<-g.fetch
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &unpublishedError{m, err}
	}
	return data, err
}

// A notCachedError is a go.mod the module cache lacks, offline.
type notCachedError struct {
	mod module.Version
	err error
}

func (e *notCachedError) Error() string { return e.mod.String() + ": not in the module cache" }
func (e *notCachedError) Unwrap() error { return e.err }

// An unpublishedError is a module version that does not exist: a
// placeholder, or one the module's sources answer "not found" for.
type unpublishedError struct {
	mod module.Version
	err error
}

func (e *unpublishedError) Error() string { return e.mod.String() + ": " + e.err.Error() }
func (e *unpublishedError) Unwrap() error { return e.err }

// isPlaceholder reports whether v is a zero pseudo-version
// (module.ZeroPseudoVersion: v0.0.0-00010101000000-000000000000 and its
// major-version forms), the version the go command writes for a
// requirement that only a replace satisfies.
func isPlaceholder(v string) bool {
	if !module.IsPseudoVersion(v) {
		return false
	}
	rev, err := module.PseudoVersionRev(v)
	if err != nil || rev != "000000000000" {
		return false
	}
	t, err := module.PseudoVersionTime(v)
	return err == nil && t.Year() == 1
}

// A modGraph is the module graph of the module being checked, with what
// the checks need to know about it.
type modGraph struct {
	// Graph is the graph the go command builds with: loaded from
	// go.mod's requirements, and expanded if they are not at their
	// selected versions ([modload.Loader.Expand]).
	*modload.Graph
	// unexpanded is the graph of go.mod's requirements as written, if
	// expanding changed it: the go command without -mod=mod sees it (and
	// refuses to build), so a replace that applies in either graph is
	// not unused.
	unexpanded *modload.Graph
	// missing are the go.mod files the offline graph needed but the
	// module cache lacks; unusable those that failed otherwise (an
	// unreadable directory, an invalid file, a failed lookup).
	missing, unusable []modload.Failure
	// unpublished are the module versions the graph needed that do not
	// exist: placeholders, or not found upstream.
	unpublished []modload.Failure
	// err is why there is no graph at all (go.mod has no module line).
	err error
}

// versionsOf returns the versions of path in the graph, if there is one.
func (g *modGraph) versionsOf(path string) []string {
	if g.Graph == nil {
		return nil
	}
	return g.Versions(path)
}

// nodes returns every module version in the graph.
func (g *modGraph) nodes() []module.Version {
	var all []module.Version
	for _, m := range g.BuildList() {
		for _, v := range g.Versions(m.Path) {
			all = append(all, module.Version{Path: m.Path, Version: v})
		}
	}
	main := g.Main().Path
	for _, v := range g.Versions(main) {
		all = append(all, module.Version{Path: main, Version: v})
	}
	return all
}

// complete reports whether every go.mod the graph needed was read, so that
// a module path absent from it is absent from the build.
func (g *modGraph) complete() bool {
	return g.err == nil && len(g.missing)+len(g.unusable)+len(g.unpublished) == 0
}

// loadGraph loads the module graph of m through loader.
func loadGraph(ctx context.Context, m *modState, loader *modload.Loader) *modGraph {
	mm, err := modload.NewMainModule(m.file, m.dir)
	if err != nil {
		return &modGraph{err: err}
	}
	first := loader.Load(ctx, mm)
	g := &modGraph{Graph: first}
	failures := first.Failures()
	if len(failures) == 0 {
		// Only a complete graph tells the selected versions of the roots.
		if g.Graph = loader.Expand(ctx, first); g.Graph != first {
			g.unexpanded = first
			failures = g.Failures()
		}
	}
	for _, f := range failures {
		var nc *notCachedError
		var up *unpublishedError
		switch {
		case errors.As(f.Err, &nc):
			g.missing = append(g.missing, f)
		case errors.As(f.Err, &up):
			g.unpublished = append(g.unpublished, f)
		default:
			g.unusable = append(g.unusable, f)
		}
	}
	return g
}

// A replaceEffect is what one replace does in the module graph.
type replaceEffect struct {
	// applied are the versions of the replaced module in the graph that
	// the replace applies to, lowest first. A replace of every version
	// does not apply where a replace of that version wins.
	applied []string
	// selected is the version of the replaced module the build selects;
	// "" if the module is not in the graph, or is the main module.
	selected string
	// decided reports that the graph is complete: applied is all there
	// is, not only what the loadable part of the graph holds.
	decided bool
	// elsewhere reports that the replace applies in the graph of go.mod's
	// requirements as written, which expanding them changed.
	elsewhere bool
}

// built reports whether the replacement is what the build uses for the
// module: the replace applies to the selected version.
func (e *replaceEffect) built() bool {
	return e.selected != "" && slices.Contains(e.applied, e.selected)
}

// effectOf computes what r does in the graph.
func (c *modChecker) effectOf(r *modfile.Replace) *replaceEffect {
	g := c.graph
	e := &replaceEffect{decided: g.complete()}
	if g.Graph == nil {
		return e
	}
	if c.f.Module == nil || r.Old.Path != c.f.Module.Mod.Path {
		e.selected = g.Selected(r.Old.Path)
	}
	e.applied = c.appliedIn(g.Graph, r)
	if g.unexpanded != nil {
		e.elsewhere = len(c.appliedIn(g.unexpanded, r)) > 0
	}
	return e
}

// appliedIn returns the versions of r's module in mg that r replaces.
func (c *modChecker) appliedIn(mg *modload.Graph, r *modfile.Replace) []string {
	var applied []string
	for _, v := range mg.Versions(r.Old.Path) {
		switch {
		case r.Old.Version != "" && v != r.Old.Version:
		case r.Old.Version == "" && slices.ContainsFunc(c.f.Replace, func(o *modfile.Replace) bool { return o.Old == module.Version{Path: r.Old.Path, Version: v} }):
			// the replace of that very version wins (modload.replacement)
		default:
			applied = append(applied, v)
		}
	}
	return applied
}

// appliesTo says, for messages, what module versions r applies to: "applies
// to go.temporal.io/sdk v1.44.0 required by go.temporal.io/server (../..)".
func (c *modChecker) appliesTo(r *modfile.Replace, e *replaceEffect) string {
	held := c.graph.versionsOf(r.Old.Path)
	switch {
	case len(e.applied) == 0 && len(held) > 0 && r.Old.Version == "":
		return fmt.Sprintf("applies to no version of %s in this module's graph (replaces of those very versions win)", r.Old.Path)
	case len(e.applied) == 0 && len(held) > 0:
		return fmt.Sprintf("applies to no module in this module's graph, which holds %s only at %s", r.Old.Path, strings.Join(held, ", "))
	case len(e.applied) == 0 && e.decided:
		return "applies to no module in this module's graph"
	case len(e.applied) == 0:
		return "applies to no module in the part of the module graph that could be loaded"
	}
	v := e.applied[len(e.applied)-1]
	if e.built() {
		v = e.selected
	}
	s := fmt.Sprintf("applies to %s %s %s", r.Old.Path, v, c.requiredBy(module.Version{Path: r.Old.Path, Version: v}))
	if n := len(e.applied) - 1; n > 0 {
		s += fmt.Sprintf(" (and to %d other %s of %s in the graph)", n, plural(n, "version", "versions"), r.Old.Path)
	}
	if !e.built() && e.selected != "" {
		s += fmt.Sprintf(", but the build selects %s %s, so only the replacement's go.mod counts", r.Old.Path, e.selected)
	}
	return s
}

// requiredBy names the modules of the graph that require m: "required by
// this module", "required by example.com/x v1.2.0 and 3 more",
// "required by go.temporal.io/server (../..)" for a module this module
// replaces by a directory.
func (c *modChecker) requiredBy(m module.Version) string {
	if c.graph.Graph == nil {
		return ""
	}
	reqs := c.graph.Requirers(m)
	if len(reqs) == 0 {
		return ""
	}
	main := c.graph.Main().Path
	first := reqs[0]
	if i := slices.IndexFunc(reqs, func(r module.Version) bool { return r.Path == main && r.Version == "" }); i >= 0 {
		first = reqs[i]
	}
	s := "required by " + c.moduleName(first)
	if n := len(reqs) - 1; n > 0 {
		s += fmt.Sprintf(" and %d more", n)
	}
	return s
}

// moduleName names a module of the graph for messages: "this module", the
// directory of a module this module replaces by one, or path and version.
func (c *modChecker) moduleName(m module.Version) string {
	g := c.graph
	if m.Path == g.Main().Path && m.Version == "" {
		return "this module"
	}
	if r := g.Main().Replacement(m); r.Version == "" {
		return m.Path + " (" + r.Path + ")"
	}
	return m.Path + " " + m.Version
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// whyUndecided explains, for a note, why the graph cannot tell whether a
// replace applies, and how to let it.
func (c *modChecker) whyUndecided() string {
	g := c.graph
	if g.err != nil {
		return fmt.Sprintf("the module graph cannot be loaded: %v", g.err)
	}
	var parts []string
	if n := len(g.missing); n > 0 {
		what := fmt.Sprintf("%d go.mod %s of the module graph %s not in the module cache (%s",
			n, plural(n, "file", "files"), plural(n, "is", "are"), g.missing[0].Module)
		if n > 1 {
			what += ", ..."
		}
		what += ")"
		parts = append(parts, what)
	}
	if n := len(g.unusable); n > 0 {
		parts = append(parts, fmt.Sprintf("%d go.mod %s could not be used (%s)", n, plural(n, "file", "files"), oneLine(g.unusable[0].Err)))
	}
	if n := len(g.unpublished); n > 0 {
		parts = append(parts, fmt.Sprintf("%d required %s not exist (%s)", n, plural(n, "version does", "versions do"), oneLine(g.unpublished[0].Err)))
	}
	s := strings.Join(parts, "; ")
	if len(g.missing) > 0 {
		s += fmt.Sprintf("; run 'go list -m all' in %s once to fill the module cache, or enable the retracted check (-enable=retracted), which lets modreplace fetch them through GOPROXY", c.m.dir)
	}
	return s
}

// oneLine keeps the first line of an error, for messages of one line.
func oneLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
