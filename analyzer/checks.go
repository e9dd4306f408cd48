package analyzer

import (
	"cmp"
	"context"
	"fmt"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/tools/go/analysis"
)

// CheckModFile runs the enabled checks of cfg on the go.mod file at gomod
// without loading any package: the mode for pre-commit hooks and for
// modules so broken that "go list" fails. The file is added to fset under
// the name gomod, and the diagnostics are positioned in it; a go.work a
// message points at is added under a name relative in the same way. The
// error is non-nil if go.mod cannot be read or parsed, or cfg names an
// unknown check. What the checks could not decide goes to cfg.OnNote.
func CheckModFile(ctx context.Context, fset *token.FileSet, gomod string, cfg Config) ([]analysis.Diagnostic, error) {
	on, err := cfg.enabled()
	if err != nil {
		return nil, err
	}
	m, err := loadModule(gomod)
	if err != nil {
		return nil, err
	}
	return runChecks(ctx, fset, gomod, m, on, &cfg), nil
}

// A modChecker runs the checks on one module snapshot.
type modChecker struct {
	ctx   context.Context
	m     *modState
	f     *modfile.File
	on    map[string]bool
	cfg   *Config
	fset  *token.FileSet
	name  string      // go.mod as named in fset
	tf    *token.File // go.mod
	workF *token.File // go.work, added on first use
	diags []analysis.Diagnostic
	notes []Note

	loaders *graphLoaders
	graph   *modGraph
	effects map[*modfile.Replace]*replaceEffect
	// undecided are the replaces of which the graph cannot tell whether
	// they apply.
	undecided []*modfile.Replace

	// conflicted holds the old module versions replaced differently by
	// two replaces, which the go command refuses. Lines replacing them get
	// no fixes: removing or pinning one could make the file load with the
	// other, which is no longer the same build.
	conflicted map[module.Version]bool
}

// runChecks reports the findings about m, positioned in a token.File named
// name that it adds to fset, and hands the notes to cfg.OnNote.
func runChecks(ctx context.Context, fset *token.FileSet, name string, m *modState, on map[string]bool, cfg *Config) []analysis.Diagnostic {
	c := &modChecker{ctx: ctx, m: m, f: m.file, on: on, cfg: cfg, fset: fset, name: name,
		effects: make(map[*modfile.Replace]*replaceEffect), conflicted: make(map[module.Version]bool)}
	c.tf = addFile(fset, name, m.data)
	src := cfg.goMods()
	c.loaders = loadersFor(src)
	c.graph = loadGraph(ctx, m, c.loaders.get(src, on[Retracted]))
	c.run()
	slices.SortStableFunc(c.diags, func(a, b analysis.Diagnostic) int {
		if d := cmp.Compare(a.Pos, b.Pos); d != 0 {
			return d
		}
		return cmp.Compare(checkIndex(a.Category), checkIndex(b.Category))
	})
	for _, n := range c.notes {
		if cfg.OnNote != nil {
			cfg.OnNote(n)
		} else {
			fmt.Fprintf(os.Stderr, "%s: note: %s\n", fset.Position(n.Pos), n.Message)
		}
	}
	return c.diags
}

// loadersFor returns the graph loaders of src: its own if it keeps them
// (a ModnetSource does), else new ones.
func loadersFor(src GoModSource) *graphLoaders {
	if s, ok := src.(interface{ loaders() *graphLoaders }); ok {
		return s.loaders()
	}
	return new(graphLoaders)
}

func addFile(fset *token.FileSet, name string, data []byte) *token.File {
	tf := fset.AddFile(name, -1, len(data))
	tf.SetLinesForContent(data)
	return tf
}

// report adds a diagnostic at the replace line; the message starts with
// the check ID so that every output shows which check to configure.
func (c *modChecker) report(id string, r *modfile.Replace, related []analysis.RelatedInformation, fixes []analysis.SuggestedFix, format string, args ...any) {
	c.reportAt(id, r.Syntax, related, fixes, format, args...)
}

// reportAt adds a diagnostic at a line of go.mod.
func (c *modChecker) reportAt(id string, line *modfile.Line, related []analysis.RelatedInformation, fixes []analysis.SuggestedFix, format string, args ...any) {
	if !c.on[id] {
		return
	}
	c.diags = append(c.diags, analysis.Diagnostic{
		Pos:            c.tf.Pos(line.Start.Byte),
		End:            c.tf.Pos(line.End.Byte),
		Category:       id,
		Message:        "[" + id + "] " + fmt.Sprintf(format, args...),
		Related:        related,
		SuggestedFixes: fixes,
	})
}

// note records what the check id could not decide about the line r.
func (c *modChecker) note(id string, line *modfile.Line, format string, args ...any) {
	if !c.on[id] {
		return
	}
	c.notes = append(c.notes, Note{Pos: c.tf.Pos(line.Start.Byte), Category: id, Message: "[" + id + "] " + fmt.Sprintf(format, args...)})
}

// relatedLine points at another replace line of go.mod.
func (c *modChecker) relatedLine(r *modfile.Replace, msg string) []analysis.RelatedInformation {
	return []analysis.RelatedInformation{{Pos: c.tf.Pos(r.Syntax.Start.Byte), End: c.tf.Pos(r.Syntax.End.Byte), Message: msg}}
}

// run runs every check on every replace: each judges the replace on its
// own, and no verdict keeps another check from running.
func (c *modChecker) run() {
	c.duplicates()
	var hasMain *bool
	for _, r := range c.f.Replace {
		e := c.effectOf(r)
		c.effects[r] = e
		c.noop(r)
		c.neverApplies(r, e)
		c.target(r, e)
		if c.on[Undocumented] && !documented(c.f, r) {
			c.report(Undocumented, r, nil, nil,
				"replace of %s has no comment saying why: replaces outlive their reason; add a comment above or beside it (what it fixes, the upstream issue, when it can go)", r.Old.Path)
		}
		if c.on[Library] {
			if hasMain == nil {
				b, err := hasMainPackage(c.m)
				b = b || err != nil // unknown: say nothing rather than guess
				hasMain = &b
			}
			if !*hasMain {
				name := "this module"
				if c.f.Module != nil {
					name = c.f.Module.Mod.Path
				}
				c.report(Library, r, nil, nil,
					"%s has no main package, so it is only ever built as a dependency, and the go command ignores the replace directives of dependencies: its consumers do not get this replacement of %s; get the change released and require it instead",
					name, r.Old.Path)
			}
		}
	}
	c.placeholders()
	if len(c.undecided) > 0 {
		var lines []string
		for _, r := range c.undecided[1:] {
			lines = append(lines, strconv.Itoa(r.Syntax.Start.Line))
		}
		also := ""
		if len(lines) > 0 {
			also = fmt.Sprintf(" (nor about the replaces at %s %s)", plural(len(lines), "line", "lines"), strings.Join(lines, ", "))
		}
		r := c.undecided[0]
		id := Unused
		if !c.on[Unused] {
			id = Inert
		}
		c.note(id, r.Syntax, "cannot tell whether the replace of %s applies%s: %s",
			oldString(r), also, c.whyUndecided())
	}
}

// noop reports "m v1 => m v1", unless a replace of every version of m
// exists: then it keeps v1 from that replacement, which the duplicate
// check reports as an overlap, and removing it would change the build.
func (c *modChecker) noop(r *modfile.Replace) {
	if r.Old != r.New || slices.ContainsFunc(c.f.Replace, func(o *modfile.Replace) bool {
		return o.Old == module.Version{Path: r.Old.Path} && o.New != r.New
	}) {
		return
	}
	var fixes []analysis.SuggestedFix
	if !c.conflicted[r.Old] {
		fixes = append(fixes, deleteFix(c.tf, c.f, c.m.data, r, "Remove the no-op replace"))
	}
	c.report(Noop, r, nil, fixes, "replace of %s %s with itself has no effect; remove it", r.Old.Path, r.Old.Version)
}

// neverApplies reports replaces that never apply: of a module the module graph
// does not hold (unused), or of a version of it the graph does not hold
// (inert), or of the main module itself. A graph that could not be
// loaded whole cannot tell; the replace is then noted as undecided.
func (c *modChecker) neverApplies(r *modfile.Replace, e *replaceEffect) {
	if c.f.Module != nil && r.Old.Path == c.f.Module.Mod.Path && r.Old.Version == "" {
		c.report(Inert, r, nil, nil,
			"replace of the main module %s never takes effect: the go command does not replace the module it is building; remove it", r.Old.Path)
		return
	}
	if len(e.applied) > 0 || e.elsewhere || c.conflicted[r.Old] {
		return // a conflict stops the go command; the duplicate check says so
	}
	if !e.decided {
		if c.on[Unused] || c.on[Inert] {
			c.undecided = append(c.undecided, r)
		}
		return
	}
	versions := c.graph.Versions(r.Old.Path)
	if len(versions) == 0 {
		c.report(Unused, r, nil, nil,
			"%s is not in this module's graph (no module of the %d in it requires %s): the replace has no effect, and go mod tidy leaves it in place; remove it, or add the requirement it was meant for",
			r.Old.Path, len(c.graph.BuildList())+1, r.Old.Path)
		return
	}
	// A version-less replace applies to every version, unless each has a
	// replace of its own; then the duplicate check reports the overlap.
	if r.Old.Version == "" {
		return
	}
	want := c.graph.Selected(r.Old.Path)
	if want == "" {
		want = versions[len(versions)-1]
	}
	var held []string
	for _, v := range versions {
		held = append(held, v+" "+c.requiredBy(module.Version{Path: r.Old.Path, Version: v}))
	}
	c.report(Inert, r, nil, nil,
		"replace applies only to %s %s, but the module graph holds %s at %s, not %s: it never takes effect; change its version to %s, or remove it",
		r.Old.Path, r.Old.Version, r.Old.Path, strings.Join(held, ", "), r.Old.Version, want)
}

// duplicates reports replaces of one module that repeat, conflict, overlap
// or chain.
func (c *modChecker) duplicates() {
	repeat := make(map[int]bool)
	first := make(map[module.Version]*modfile.Replace)
	wildcard := make(map[string]*modfile.Replace)
	for i, r := range c.f.Replace {
		if prev, ok := first[r.Old]; ok {
			repeat[i] = true
			if prev.New == r.New {
				var fixes []analysis.SuggestedFix
				if r.New.Version != "" { // never remove a local replacement automatically
					fixes = append(fixes, deleteFix(c.tf, c.f, c.m.data, r, "Remove the duplicate replace"))
				}
				c.report(Duplicate, r, c.relatedLine(prev, "first replace"), fixes,
					"replace of %s repeats line %d; remove the repeat", oldString(r), prev.Syntax.Start.Line)
			} else {
				c.conflicted[r.Old] = true
				// cmd/go's modload.toReplaceMap (modload/modfile.go) fails the build.
				c.report(Duplicate, r, c.relatedLine(prev, "other replace"), nil,
					"%s is replaced again, differently than at line %d: the go command refuses to load the module (\"conflicting replacements for %s\"); keep one", oldString(r), prev.Syntax.Start.Line, oldString(r))
			}
			continue
		}
		first[r.Old] = r
		if r.Old.Version == "" {
			wildcard[r.Old.Path] = r
		}
	}
	for i, r := range c.f.Replace {
		if repeat[i] {
			continue
		}
		// A replace of a specific version wins over one of every version
		// (cmd/go's modload.replacement, modload/modfile.go).
		if w, ok := wildcard[r.Old.Path]; ok && r.Old.Version != "" {
			c.report(Duplicate, r, c.relatedLine(w, "replace of every version"), nil,
				"replace of %s %s overlaps the replace of every version of %s at line %d: this one wins for %s, line %d for every other version; keep one replace per module",
				r.Old.Path, r.Old.Version, r.Old.Path, w.Syntax.Start.Line, r.Old.Version, w.Syntax.Start.Line)
		}
	}
	for i, r := range c.f.Replace {
		if repeat[i] || r.New.Version == "" || r.New.Path == r.Old.Path {
			continue
		}
		// Replacements do not chain: the go command looks up the
		// replacement of a module once (cmd/go's modload.Replacement).
		for j, next := range c.f.Replace {
			if i == j || repeat[j] || next.Old.Path != r.New.Path || next.Old.Version != "" && next.Old.Version != r.New.Version {
				continue
			}
			c.report(Duplicate, next, c.relatedLine(r, "replace whose target this replaces"), nil,
				"replace of %s does not apply to the replacement at line %d (%s => %s %s): replacements do not chain, so %s is built from %s %s itself; replace %s with the final target directly if that was the intent",
				next.Old.Path, r.Syntax.Start.Line, oldString(r), r.New.Path, r.New.Version, r.Old.Path, r.New.Path, r.New.Version, r.Old.Path)
		}
	}
}

func oldString(r *modfile.Replace) string {
	if r.Old.Version == "" {
		return r.Old.Path
	}
	return r.Old.Path + " " + r.Old.Version
}

// target runs the checks about what r replaces its module with.
func (c *modChecker) target(r *modfile.Replace, e *replaceEffect) {
	if r.New.Version == "" {
		c.local(r)
	} else {
		c.remote(r, e)
	}
	c.goworkShadow(r)
}

// repoRootName names the repository root relative to go.mod's directory.
// Relative, because an absolute path says nothing to the other developers
// who read the finding, and golangci-lint deletes its working directory
// from every message, which left "outside the repository ()".
func (c *modChecker) repoRootName() string {
	rel, err := filepath.Rel(c.m.dir, c.m.vcsRoot)
	switch {
	case err != nil:
		return c.m.vcsRoot
	case rel == ".":
		return "this go.mod's directory"
	}
	return filepath.ToSlash(rel)
}

// local checks a replacement by a directory.
func (c *modChecker) local(r *modfile.Replace) {
	t := c.m.targets[r.New.Path]
	switch {
	case !t.exists:
		c.report(LocalEscape, r, nil, nil,
			"replacement directory %s does not exist: every build of this module fails (\"replacement directory %s does not exist\"); restore it, or replace with a published version", r.New.Path, r.New.Path)
		return
	case !t.isDir:
		c.report(LocalEscape, r, nil, nil,
			"replacement %s is not a directory: every build of this module fails; point the replace at a module directory, or replace with a published version", r.New.Path)
		return
	case isRooted(r.New.Path):
		c.report(LocalEscape, r, nil, nil,
			"replacement directory %s is an absolute path: the build works only where exactly that directory exists; use a path relative to go.mod inside the repository, a go.work for local development, or a published version", r.New.Path)
	case c.m.vcsRoot != "" && !within(c.m.vcsRoot, t.dir):
		c.report(LocalEscape, r, nil, nil,
			"replacement directory %s is outside the repository whose root is %s: a fresh clone, CI or another developer cannot build this module; move the module into the repository, use a go.work for local development, or replace with a published version", r.New.Path, c.repoRootName())
	}
	// cmd/go's modload.goModSummary (modload/modfile.go) checks nothing
	// about local replacements: "Anything goes."
	switch {
	case !t.hasMod:
		c.report(LocalMismatch, r, nil, nil,
			"replacement directory %s has no go.mod: the go command cannot load it as module %s; add a go.mod with \"module %s\"", r.New.Path, r.Old.Path, r.Old.Path)
	case t.modPath != r.Old.Path:
		declared := t.modPath
		if declared == "" {
			declared = "no module path"
		}
		c.report(LocalMismatch, r, nil, nil,
			"replacement directory %s declares %s, not %s: the go command does not check this, but the directory's own imports of its packages then resolve somewhere else; point the replace at a checkout of %s, or correct its module line", r.New.Path, declared, r.Old.Path, r.Old.Path)
	}
}

// isRooted reports whether a go.mod directory path is absolute on any
// system (go.mod files move between systems): every directory path that
// modfile.IsDirectoryPath accepts is either relative, starting with ".",
// or rooted.
func isRooted(p string) bool {
	return modfile.IsDirectoryPath(p) && !strings.HasPrefix(p, ".")
}

// remote checks a replacement by a module version.
func (c *modChecker) remote(r *modfile.Replace, e *replaceEffect) {
	samePath := r.New.Path == r.Old.Path
	does := c.appliesTo(r, e)
	// A fork is a risk where it is built: for the selected version. Where
	// the replace applies to no module, or to one whose code is not built,
	// there is no advisory to miss (and where the graph cannot tell, the
	// note about the replace says so).
	if !samePath && e.built() && !(len(c.cfg.Allow) > 0 && module.MatchPrefixPatterns(strings.Join(c.cfg.Allow, ","), r.New.Path)) {
		c.report(Fork, r, nil, nil,
			"replace %s: builds a different module, %s %s, in place of %s; vulnerability scanners and go list -m all still name %s, so advisories against the replacement go unnoticed; upstream the change, or allow a trusted fork with -allow=%s",
			does, r.New.Path, r.New.Version, r.Old.Path, r.Old.Path, r.New.Path)
	}
	// A replace of every version downgrades whatever version is selected,
	// which is at least the one the loadable graph selects; a replace of
	// one version downgrades the build only if that version is selected,
	// which only a complete graph tells.
	downgrade := samePath && e.built() && (r.Old.Version == "" || e.decided) && semver.Compare(r.New.Version, e.selected) < 0
	if downgrade {
		c.report(Downgrade, r, nil, nil,
			"replace %s: downgrades it to %s, so builds use older code than the module graph requires while go.mod files, go.sum and vulnerability scanners see %s, silently dropping the fixes in between; replace with %s or later, or lower the requirements and remove the replace",
			does, r.New.Version, e.selected, e.selected)
	}
	if r.Old.Version == "" {
		c.wildcard(r, e, does)
	}
	// A pseudo-version is a risk wherever it is fetched, for its code or
	// for its go.mod alone.
	if module.IsPseudoVersion(r.New.Version) && (len(e.applied) > 0 || e.elsewhere) {
		c.report(PseudoVersion, r, nil, nil,
			"replace %s: builds %s %s, a pseudo-version, an untagged commit: if its branch is rebased or deleted the commit can vanish from the origin, and nothing tells readers what it holds; tag a release and replace with the tag",
			does, r.New.Path, r.New.Version)
	}
	if c.on[Retracted] {
		c.retracted(r)
	}
}

// wildcard reports a version-less replace by a module version. Its fixes
// change one line and must build the same graph: pinning the replace to a
// version, or removing "m => m v" that rebuilds the selected v, is only
// the same when that version is the only one of m in a complete graph
// (every other version of m would otherwise read its own go.mod again).
func (c *modChecker) wildcard(r *modfile.Replace, e *replaceEffect, does string) {
	only := ""
	if e.decided && e.selected != "" && slices.Equal(c.graph.Versions(r.Old.Path), []string{e.selected}) && slices.Equal(e.applied, []string{e.selected}) && !c.conflicted[r.Old] {
		only = e.selected
	}
	if r.New.Path == r.Old.Path && e.built() && r.New.Version == e.selected {
		var fixes []analysis.SuggestedFix
		if only != "" {
			fixes = append(fixes, deleteFix(c.tf, c.f, c.m.data, r, "Remove the replace"))
		}
		c.report(Wildcard, r, nil, fixes,
			"replace of every version of %s %s: builds the selected version %s itself, which does nothing today and silently holds back upgrades (go get %s@latest keeps building %s); remove it",
			r.Old.Path, does, e.selected, r.Old.Path, e.selected)
		return
	}
	var fixes []analysis.SuggestedFix
	pin := "the version it is meant for"
	if e.selected != "" && e.built() {
		pin = e.selected
		if only != "" {
			fixes = append(fixes, pinFix(c.tf, c.m.data, r, only))
		}
	}
	c.report(Wildcard, r, nil, fixes,
		"replace of every version of %s %s: builds %s %s in place of every version, today's and every future upgrade (go get %s@latest still builds %s %s), and hides retractions; pin it to %s: replace %s %s => %s %s",
		r.Old.Path, does, r.New.Path, r.New.Version, r.Old.Path, r.New.Path, r.New.Version, pin, r.Old.Path, cmp.Or(e.selected, "vX.Y.Z"), r.New.Path, r.New.Version)
}

// retracted asks the module's proxy about the replacement version.
func (c *modChecker) retracted(r *modfile.Replace) {
	src := c.cfg.Source
	if src == nil {
		src = &ModnetSource{} // callers that check many modules pass a shared Source
	}
	yes, why, err := src.Retraction(c.ctx, r.New.Path, r.New.Version)
	if err != nil {
		c.report(Retracted, r, nil, nil, "cannot check whether %s %s is retracted: %v", r.New.Path, r.New.Version, err)
		return
	}
	if yes {
		if why == "" {
			why = "no rationale given"
		}
		c.report(Retracted, r, nil, nil,
			"replacement %s %s is retracted by its authors (%s): it has a known problem; replace with a version that is not retracted", r.New.Path, r.New.Version, why)
	}
	msg, err := src.Deprecation(c.ctx, r.New.Path)
	if err == nil && msg != "" {
		c.report(Retracted, r, nil, nil,
			"replacement module %s is deprecated: %s; move to what the deprecation recommends", r.New.Path, msg)
	}
}

// documented reports whether a comment explains r: one above or beside it,
// or above the replace block holding it.
func documented(f *modfile.File, r *modfile.Replace) bool {
	if len(r.Syntax.Before) > 0 || len(r.Syntax.Suffix) > 0 {
		return true
	}
	if b := enclosingBlock(f, r.Syntax); b != nil {
		return len(b.Before) > 0 || len(b.LParen.Suffix) > 0
	}
	return false
}
