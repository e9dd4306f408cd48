package analyzer

import (
	"cmp"
	"context"
	"fmt"
	"go/token"
	"go/version"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/tools/go/analysis"
)

// CheckModFile runs the enabled checks of cfg on the go.mod file at gomod
// without loading any package: the mode for pre-commit hooks and for
// modules so broken that "go list" fails. The file is added to fset under
// the name gomod, and the diagnostics are positioned in it. The error is
// non-nil if go.mod cannot be read or parsed, or cfg names an unknown check.
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
	tf    *token.File // go.mod
	workF *token.File // go.work, added on first use
	diags []analysis.Diagnostic

	required map[string]string // module path → highest required version
	pruned   bool              // go ≥ 1.17: go.mod lists every module in the build

	// conflicted holds the old module versions replaced differently by
	// two replaces, which the go command refuses. Lines replacing them get
	// no fixes: removing or pinning one could make the file load with the
	// other, which is no longer the same build.
	conflicted map[module.Version]bool
}

// runChecks reports the findings about m, positioned in a token.File named
// name that it adds to fset.
func runChecks(ctx context.Context, fset *token.FileSet, name string, m *modState, on map[string]bool, cfg *Config) []analysis.Diagnostic {
	c := &modChecker{ctx: ctx, m: m, f: m.file, on: on, cfg: cfg, fset: fset,
		required: make(map[string]string), conflicted: make(map[module.Version]bool)}
	c.tf = addFile(fset, name, m.data)
	for _, r := range c.f.Require {
		if v, ok := c.required[r.Mod.Path]; !ok || semver.Compare(r.Mod.Version, v) > 0 {
			c.required[r.Mod.Path] = r.Mod.Version
		}
	}
	// Since go 1.17 (module graph pruning) go.mod lists every module that
	// provides a package to the build, so "not required" means "not in the
	// build" (cmd/go/internal/modload/modfile.go, pruningForGoVersion).
	goVersion := "1.16" // the go command's assumption when there is no go directive
	if c.f.Go != nil {
		goVersion = c.f.Go.Version
	}
	c.pruned = version.Compare("go"+goVersion, "go1.17") >= 0
	c.run()
	slices.SortStableFunc(c.diags, func(a, b analysis.Diagnostic) int {
		if d := cmp.Compare(a.Pos, b.Pos); d != 0 {
			return d
		}
		return cmp.Compare(checkIndex(a.Category), checkIndex(b.Category))
	})
	return c.diags
}

func addFile(fset *token.FileSet, name string, data []byte) *token.File {
	tf := fset.AddFile(name, -1, len(data))
	tf.SetLinesForContent(data)
	return tf
}

// report adds a diagnostic at the replace line; the message starts with
// the check ID so that every output shows which check to configure.
func (c *modChecker) report(id string, r *modfile.Replace, related []analysis.RelatedInformation, fixes []analysis.SuggestedFix, format string, args ...any) {
	if !c.on[id] {
		return
	}
	c.diags = append(c.diags, analysis.Diagnostic{
		Pos:            c.tf.Pos(r.Syntax.Start.Byte),
		End:            c.tf.Pos(r.Syntax.End.Byte),
		Category:       id,
		Message:        "[" + id + "] " + fmt.Sprintf(format, args...),
		Related:        related,
		SuggestedFixes: fixes,
	})
}

// relatedLine points at another replace line of go.mod.
func (c *modChecker) relatedLine(r *modfile.Replace, msg string) []analysis.RelatedInformation {
	return []analysis.RelatedInformation{{Pos: c.tf.Pos(r.Syntax.Start.Byte), End: c.tf.Pos(r.Syntax.End.Byte), Message: msg}}
}

// A replace that never takes effect is reported once, by the check that
// says why (noop, unused, inert, duplicate); the other checks skip it.
func (c *modChecker) run() {
	dead := c.duplicates()
	var hasMain *bool
	for i, r := range c.f.Replace {
		if dead[i] || !c.effect(r) {
			continue
		}
		c.target(r)
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
}

// effect reports noop, inert and unused replaces and returns whether r
// takes effect.
func (c *modChecker) effect(r *modfile.Replace) bool {
	if r.Old == r.New {
		var fixes []analysis.SuggestedFix
		if !c.conflicted[r.Old] {
			fixes = append(fixes, deleteFix(c.tf, c.f, c.m.data, r, "Remove the no-op replace"))
		}
		c.report(Noop, r, nil, fixes, "replace of %s %s with itself has no effect; remove it", r.Old.Path, r.Old.Version)
		return false
	}
	if c.f.Module != nil && r.Old.Path == c.f.Module.Mod.Path {
		if r.Old.Version == "" {
			c.report(Inert, r, nil, nil,
				"replace of the main module %s never takes effect: the go command does not replace the module it is building; remove it", r.Old.Path)
			return false
		}
		return true // replaces this module where a dependency requires it
	}
	if !c.pruned {
		return true // go < 1.17: the build list is not in go.mod
	}
	req, ok := c.required[r.Old.Path]
	if !ok {
		c.report(Unused, r, nil, nil,
			"%s is not required by this module: the replace has no effect, and go mod tidy leaves it in place; remove it, or add the requirement it was meant for", r.Old.Path)
		return false
	}
	if r.Old.Version != "" && r.Old.Version != req {
		c.report(Inert, r, nil, nil,
			"replace applies only to %s %s, but go.mod requires %s: it never takes effect; change its version to %s, or remove it", r.Old.Path, r.Old.Version, req, req)
		return false
	}
	return true
}

// duplicates reports replaces of one module that repeat, conflict, overlap
// or chain, and returns the indexes of the ones that add nothing.
func (c *modChecker) duplicates() map[int]bool {
	dead := make(map[int]bool)
	first := make(map[module.Version]*modfile.Replace)
	wildcard := make(map[string]*modfile.Replace)
	for i, r := range c.f.Replace {
		if prev, ok := first[r.Old]; ok {
			dead[i] = true
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
		if dead[i] {
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
		if dead[i] || r.New.Version == "" || r.New.Path == r.Old.Path {
			continue
		}
		// Replacements do not chain: the go command looks up the
		// replacement of a module once (cmd/go's modload.Replacement).
		for j, next := range c.f.Replace {
			if i == j || dead[j] || next.Old.Path != r.New.Path || next.Old.Version != "" && next.Old.Version != r.New.Version {
				continue
			}
			c.report(Duplicate, next, c.relatedLine(r, "replace whose target this replaces"), nil,
				"replace of %s does not apply to the replacement at line %d (%s => %s %s): replacements do not chain, so %s is built from %s %s itself; replace %s with the final target directly if that was the intent",
				next.Old.Path, r.Syntax.Start.Line, oldString(r), r.New.Path, r.New.Version, r.Old.Path, r.New.Path, r.New.Version, r.Old.Path)
			if _, ok := c.required[next.Old.Path]; !ok && c.on[Duplicate] {
				dead[j] = true // the chain explains it; "unused" would only repeat it
			}
		}
	}
	return dead
}

func oldString(r *modfile.Replace) string {
	if r.Old.Version == "" {
		return r.Old.Path
	}
	return r.Old.Path + " " + r.Old.Version
}

// target runs the checks about what r replaces its module with.
func (c *modChecker) target(r *modfile.Replace) {
	if r.New.Version == "" {
		c.local(r)
	} else {
		c.remote(r)
	}
	c.goworkShadow(r)
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
			"replacement directory %s is outside the repository (%s): a fresh clone, CI or another developer cannot build this module; move the module into the repository, use a go.work for local development, or replace with a published version", r.New.Path, c.m.vcsRoot)
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
func (c *modChecker) remote(r *modfile.Replace) {
	req, required := c.required[r.Old.Path]
	samePath := r.New.Path == r.Old.Path
	if !samePath && !(len(c.cfg.Allow) > 0 && module.MatchPrefixPatterns(strings.Join(c.cfg.Allow, ","), r.New.Path)) {
		c.report(Fork, r, nil, nil,
			"%s is replaced by a different module, %s %s: vulnerability scanners and go list -m all still name %s, so advisories against the replacement go unnoticed; upstream the change, or allow a trusted fork with -allow=%s",
			r.Old.Path, r.New.Path, r.New.Version, r.Old.Path, r.New.Path)
	}
	downgrade := samePath && required && semver.Compare(r.New.Version, req) < 0
	if downgrade {
		c.report(Downgrade, r, nil, nil,
			"replace pins %s to %s, below the required %s: builds use the older code while go.mod and go list -m report %s, silently dropping the fixes in between; replace with %s or later, or lower the requirement and remove the replace",
			r.Old.Path, r.New.Version, req, req, req)
	}
	if r.Old.Version == "" && !downgrade {
		switch {
		case samePath && required && r.New.Version == req:
			var fixes []analysis.SuggestedFix
			if !c.conflicted[r.Old] {
				fixes = append(fixes, deleteFix(c.tf, c.f, c.m.data, r, "Remove the replace"))
			}
			c.report(Wildcard, r, nil, fixes,
				"replace of every version of %s by its required version %s does nothing today and silently holds back upgrades (go get %s@latest keeps building %s); remove it",
				r.Old.Path, req, r.Old.Path, req)
		default:
			var fixes []analysis.SuggestedFix
			pin := "the version it is meant for"
			if required {
				pin = req
				// Pinning must not collide with a replace of that very
				// version (already reported as an overlap).
				if !c.conflicted[r.Old] && !slices.ContainsFunc(c.f.Replace, func(o *modfile.Replace) bool { return o.Old.Path == r.Old.Path && o.Old.Version == req }) {
					fixes = append(fixes, pinFix(c.tf, c.m.data, r, req))
				}
			}
			c.report(Wildcard, r, nil, fixes,
				"replace of every version of %s by %s %s also captures future upgrades (go get %s@latest still builds %s %s) and hides retractions; pin it to %s: replace %s %s => %s %s",
				r.Old.Path, r.New.Path, r.New.Version, r.Old.Path, r.New.Path, r.New.Version, pin, r.Old.Path, cmp.Or(req, "vX.Y.Z"), r.New.Path, r.New.Version)
		}
	}
	if module.IsPseudoVersion(r.New.Version) {
		c.report(PseudoVersion, r, nil, nil,
			"replacement %s %s is a pseudo-version, an untagged commit: if its branch is rebased or deleted the commit can vanish from the origin, and nothing tells readers what it holds; tag a release and replace with the tag",
			r.New.Path, r.New.Version)
	}
	if c.on[Retracted] {
		c.retracted(r)
	}
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

// goworkShadow reports a replace that the go.work above the module overrides.
func (c *modChecker) goworkShadow(r *modfile.Replace) {
	w := c.m.work
	if w == nil || !w.usesModule {
		return
	}
	// cmd/go's modload.MakeMainModules (modload/init.go) skips a go.mod
	// replace of any path the go.work replaces.
	for _, wr := range w.file.Replace {
		if wr.Old.Path == r.Old.Path {
			c.report(GoworkShadow, r, c.relatedWork(wr.Syntax, "the go.work replace"), nil,
				"%s also replaces %s (line %d): in workspace mode the go command ignores this replace, so local builds use %s while builds without the workspace (CI, GOWORK=off) use %s; make them agree or remove one",
				c.workName(), r.Old.Path, wr.Syntax.Start.Line, targetString(wr.New), targetString(r.New))
			return
		}
	}
	// A workspace module is never replaced (modload.replacementFrom).
	if u, ok := w.useByPath[r.Old.Path]; ok {
		c.report(GoworkShadow, r, c.relatedWork(u.Syntax, "the go.work use"), nil,
			"%s uses %s as module %s (line %d): in workspace mode that directory wins and this replace is ignored, so local builds differ from builds without the workspace (CI, GOWORK=off); make them agree or remove one",
			c.workName(), u.Path, r.Old.Path, u.Syntax.Start.Line)
	}
}

func (c *modChecker) workName() string {
	if rel, err := filepath.Rel(c.m.dir, c.m.work.path); err == nil {
		return rel
	}
	return c.m.work.path
}

func (c *modChecker) relatedWork(line *modfile.Line, msg string) []analysis.RelatedInformation {
	if c.workF == nil {
		c.workF = addFile(c.fset, c.m.work.path, c.m.work.data)
	}
	return []analysis.RelatedInformation{{Pos: c.workF.Pos(line.Start.Byte), End: c.workF.Pos(line.End.Byte), Message: msg}}
}

func targetString(v module.Version) string {
	if v.Version == "" {
		return v.Path
	}
	return v.Path + " " + v.Version
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
