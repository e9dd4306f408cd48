package analyzer

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// Multi-module repositories require their sibling modules at versions
// that exist only because a replace points them at a directory: the
// placeholder v0.0.0-00010101000000-000000000000 that the go command
// writes for such requirements, or the next, unreleased version. The
// replace belongs to the module whose go.mod says so, and the go command
// ignores the replaces of every module but the main one. So a module that
// requires a sibling (through a local replacement, say) needs replaces of
// its own for every such requirement of the sibling: where one is
// missing, the go command tries to fetch a version that does not exist,
// and go list -m all, every build and every consumer fail.

// placeholders reports the module versions in the graph that were never
// published and that no replace of this module covers.
func (c *modChecker) placeholders() {
	g := c.graph
	if !c.on[Placeholder] || g.Graph == nil {
		return
	}
	mm := g.Main()
	reported := make(map[module.Version]bool)
	// go.mod files the graph walk needed that do not exist: the
	// placeholder, or what GOPROXY answers "not found" for online.
	for _, f := range g.unpublished {
		reported[f.Module] = true
		if r := c.replaceBuilding(f.Module); r != nil {
			c.report(Placeholder, r, nil, nil,
				"replacement %s %s does not exist (%s): every build of this module fails fetching it; replace with a published version or a directory",
				f.Module.Path, f.Module.Version, oneLine(f.Err))
			continue
		}
		c.reportUnpublished(f.Module, oneLine(f.Err))
	}
	// Selected versions whose go.mod the pruned graph did not need, but
	// go list -m all and builds do. Whether a placeholder is the selected
	// version only a complete graph tells: a go.mod it lacks may require
	// a published version that wins.
	var undecided []module.Version
	siblings := c.siblings()
	src := c.cfg.goMods()
	for _, m := range g.BuildList() {
		if reported[m] || mm.Replacement(m) != m {
			continue
		}
		switch {
		case isPlaceholder(m.Version):
			if len(g.missing)+len(g.unusable) > 0 {
				undecided = append(undecided, m)
				continue
			}
			c.reportUnpublished(m, "placeholder version, never published")
		case siblings[m.Path]:
			if _, known := g.RequiredBy(m); known {
				continue // its go.mod was read: it exists
			}
			if _, err := src.CachedGoMod(m.Path, m.Version); err == nil || !errors.Is(err, fs.ErrNotExist) {
				continue // in the module cache, so it was fetched once; or the cache is unusable, which the graph notes
			}
			if !c.on[Retracted] {
				undecided = append(undecided, m)
				continue
			}
			if _, err := src.GoMod(c.ctx, m.Path, m.Version); errors.Is(err, fs.ErrNotExist) {
				c.reportUnpublished(m, oneLine(err))
			}
		}
	}
	if len(undecided) > 0 {
		m := undecided[0]
		why := c.whyUndecided()
		if why == "" {
			why = fmt.Sprintf("its go.mod is not in the module cache; run 'go list -m all' in %s, or enable the retracted check (-enable=retracted), which lets modreplace ask GOPROXY", c.m.dir)
		}
		c.note(Placeholder, c.lineFor(m), "cannot tell whether %s %s %s, which no replace of this module covers, exists (%d such %s): %s",
			m.Path, m.Version, c.requiredBy(m), len(undecided), plural(len(undecided), "requirement", "requirements"), why)
	}
}

// reportUnpublished reports a requirement on m, which does not exist.
func (c *modChecker) reportUnpublished(m module.Version, why string) {
	fix := fmt.Sprintf("add a replace of %s with its directory in this repository, or require a published version", m.Path)
	if dir, from := c.siblingDir(m.Path); dir != "" {
		fix = fmt.Sprintf("add \"replace %s => %s\", as %s's go.mod does", m.Path, dir, from)
	}
	c.reportAt(Placeholder, c.lineFor(m), nil, nil,
		"%s %s, %s, was never published (%s), and this module does not replace %s: go list -m all, go build and go mod tidy fail fetching it, here and in every module that requires this one; %s",
		m.Path, m.Version, c.requiredBy(m), why, m.Path, fix)
}

// replaceBuilding returns the replace of this module whose replacement is
// the module version v, if one is.
func (c *modChecker) replaceBuilding(v module.Version) *modfile.Replace {
	for _, r := range c.f.Replace {
		if r.New == v && r.Old != v {
			return r
		}
	}
	return nil
}

// lineFor returns the go.mod line that brings m into the graph: its
// require line, else the replace or require line of the requirement of
// this module through which the graph reaches m (the shortest way).
func (c *modChecker) lineFor(m module.Version) *modfile.Line {
	if i := slices.IndexFunc(c.f.Require, func(r *modfile.Require) bool { return r.Mod == m }); i >= 0 {
		return c.f.Require[i].Syntax
	}
	root := c.rootTo(m)
	for _, r := range c.f.Replace {
		if r.Old == root || r.Old == (module.Version{Path: root.Path}) {
			return r.Syntax
		}
	}
	for _, r := range c.f.Require {
		if r.Mod == root {
			return r.Syntax
		}
	}
	if c.f.Module != nil {
		return c.f.Module.Syntax
	}
	return &modfile.Line{}
}

// rootTo returns the requirement of the main module from which the graph
// reaches m in the fewest steps, or the zero Version.
func (c *modChecker) rootTo(m module.Version) module.Version {
	g := c.graph
	main := module.Version{Path: g.Main().Path}
	from := map[module.Version]module.Version{}
	queue := []module.Version{main}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		reqs, _ := g.RequiredBy(cur)
		for _, r := range reqs {
			if _, seen := from[r]; seen || r == main {
				continue
			}
			from[r] = cur
			if r == m {
				for from[r] != main {
					r = from[r]
				}
				return r
			}
			queue = append(queue, r)
		}
	}
	return module.Version{}
}

// siblings returns the module paths this repository holds as far as the
// module can see: those its local replacement directories replace by
// directories, and the modules the go.work above it uses.
func (c *modChecker) siblings() map[string]bool {
	s := make(map[string]bool)
	for _, t := range c.m.targets {
		f := c.targetFile(t)
		if f == nil {
			continue
		}
		for _, r := range f.Replace {
			if r.New.Version == "" {
				s[r.Old.Path] = true
			}
		}
	}
	if w := c.m.work; w != nil {
		for p := range w.useByPath {
			s[p] = true
		}
	}
	return s
}

// siblingDir returns the directory of module path as one of this module's
// local replacement directories replaces it, relative to this module, and
// that directory's module path.
func (c *modChecker) siblingDir(path string) (dir, from string) {
	for _, p := range sortedKeys(c.m.targets) {
		t := c.m.targets[p]
		f := c.targetFile(t)
		if f == nil {
			continue
		}
		for _, r := range f.Replace {
			if r.Old.Path != path || r.New.Version != "" {
				continue
			}
			return relDir(c.m.dir, resolveTarget(r.New, t.dir).Path), t.modPath
		}
	}
	return "", ""
}

// targetFile returns the parsed go.mod of a local replacement directory,
// or nil if it has none.
func (c *modChecker) targetFile(t *localTarget) *modfile.File {
	if !t.hasMod {
		return nil
	}
	return c.loaders.parse(filepath.Join(t.dir, "go.mod"), t.data)
}
