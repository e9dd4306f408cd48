package analyzer

import (
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/tools/go/analysis"

	"github.com/modkit/modkit/modnet/modload"
)

// goworkShadow reports a replace that the go.work above the module
// overrides with something else, so that builds in the workspace use
// other code than builds without it (CI, GOWORK=off). A go.work that
// replaces the module with the same thing, or uses the very directory the
// replace names, changes nothing and is not reported.
func (c *modChecker) goworkShadow(r *modfile.Replace) {
	w := c.m.work
	if w == nil || !w.usesModule || !c.on[GoworkShadow] {
		return
	}
	mine := resolveTarget(r.New, c.m.dir)

	// A workspace module is never replaced (modload.replacementFrom), and
	// minimal version selection picks it over every version of itself:
	// the used directory is what the workspace builds.
	if u, ok := w.useByPath[r.Old.Path]; ok {
		dir := modload.UseDir(w.path, u)
		if mine.Version == "" && sameDir(mine.Path, dir) {
			return
		}
		c.report(GoworkShadow, r, c.relatedWork(u.Syntax, "the go.work use"), nil,
			"%s uses %s as module %s (line %d): in workspace mode the go command builds that directory and ignores this replace, so workspace builds use %s while builds without the workspace (CI, GOWORK=off) use %s; make them agree or remove one",
			c.workName(), u.Path, r.Old.Path, u.Syntax.Start.Line, c.describe(module.Version{Path: dir}), c.describe(mine))
		return
	}

	// A go.work replace of the module's path voids every go.mod replace
	// of that path (modload.makeMainModules); the go.work's own replaces
	// then decide, relative to the go.work's directory.
	var theirs *modfile.Replace
	for _, wr := range w.file.Replace {
		switch {
		case wr.Old.Path != r.Old.Path:
		case wr.Old == r.Old:
			theirs = wr
		case wr.Old.Version == "" && theirs == nil:
			theirs = wr // modload.replacement: a version's replace, else every version's
		}
	}
	if theirs == nil {
		for _, wr := range w.file.Replace {
			if wr.Old.Path == r.Old.Path {
				c.report(GoworkShadow, r, c.relatedWork(wr.Syntax, "the go.work replace"), nil,
					"%s replaces %s (line %d), so in workspace mode the go command ignores this replace: %s builds %s there, unreplaced, while builds without the workspace (CI, GOWORK=off) build %s; make them agree or remove one",
					c.workName(), oldString(wr), wr.Syntax.Start.Line, oldString(r), oldString(r), c.describe(mine))
				return
			}
		}
	} else {
		work := resolveTarget(theirs.New, filepath.Dir(w.path))
		if sameTarget(mine, work) {
			return
		}
		c.report(GoworkShadow, r, c.relatedWork(theirs.Syntax, "the go.work replace"), nil,
			"%s also replaces %s (line %d): in workspace mode the go command ignores this replace, so workspace builds use %s while builds without the workspace (CI, GOWORK=off) use %s; make them agree or remove one",
			c.workName(), oldString(theirs), theirs.Syntax.Start.Line, c.describe(work), c.describe(mine))
		return
	}

	// Every workspace module's go.mod replaces apply in the workspace, and
	// two that differ for one module version stop it from loading
	// (modload.makeMainModules: "conflicting replacements"). The go command
	// compares the replacements as written, joined with their module's
	// directory.
	for _, wm := range w.uses {
		if wm.dir == c.m.dir || wm.file == nil {
			continue
		}
		for _, or := range wm.file.Replace {
			if or.Old != r.Old {
				continue
			}
			if other := resolveTarget(or.New, wm.dir); other != mine {
				c.report(GoworkShadow, r, c.relatedWork(wm.use.Syntax, "the go.work use of the other module"), nil,
					"%s also uses %s, whose go.mod replaces %s with %s: in workspace mode the go command refuses to load the workspace (\"conflicting replacements for %s\"), while builds without it (CI, GOWORK=off) use %s; make the replaces agree, or replace %s in %s",
					c.workName(), wm.use.Path, oldString(r), c.describe(other), oldString(r), c.describe(mine), r.Old.Path, c.workName())
				return
			}
		}
	}
}

// resolveTarget returns a replacement with a relative directory made
// absolute against dir, as the go command makes it in workspace mode.
func resolveTarget(v module.Version, dir string) module.Version {
	if v.Version == "" && !filepath.IsAbs(v.Path) {
		v.Path = filepath.Join(dir, filepath.FromSlash(v.Path))
	}
	return v
}

// sameTarget reports whether two resolved replacements build the same code.
func sameTarget(a, b module.Version) bool {
	if a.Version != "" || b.Version != "" {
		return a == b
	}
	return sameDir(a.Path, b.Path)
}

// sameDir reports whether two absolute directories are the same, also
// through symbolic links.
func sameDir(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

// describe names a resolved replacement for messages: "directory ../api"
// (relative to the module) or "example.com/m v1.2.0".
func (c *modChecker) describe(v module.Version) string {
	if v.Version != "" {
		return v.Path + " " + v.Version
	}
	return "directory " + relDir(c.m.dir, v.Path)
}

// relDir writes the directory dir relative to base as go.mod writes a
// local replacement: "./x", "../x", or absolute if there is no relative
// path.
func relDir(base, dir string) string {
	rel, err := filepath.Rel(base, dir)
	if err != nil {
		return dir
	}
	rel = filepath.ToSlash(rel)
	if rel != ".." && !strings.HasPrefix(rel, "../") {
		rel = "./" + rel
	}
	return rel
}

// workName names the go.work for messages, relative to the module.
func (c *modChecker) workName() string {
	if rel, err := filepath.Rel(c.m.dir, c.m.work.path); err == nil {
		return rel
	}
	return c.m.work.path
}

// relatedWork points at a line of the go.work. The go.work is named in the
// FileSet the way go.mod is: relative to the same directory when go.mod's
// name is relative, else absolute.
func (c *modChecker) relatedWork(line *modfile.Line, msg string) []analysis.RelatedInformation {
	if c.workF == nil {
		name := c.m.work.path
		if !filepath.IsAbs(c.name) {
			if rel, err := filepath.Rel(c.m.dir, c.m.work.path); err == nil {
				name = filepath.Join(filepath.Dir(c.name), rel)
			}
		}
		c.workF = addFile(c.fset, name, c.m.work.data)
	}
	return []analysis.RelatedInformation{{Pos: c.workF.Pos(line.Start.Byte), End: c.workF.Pos(line.End.Byte), Message: msg}}
}
