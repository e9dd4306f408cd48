package modnet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// loadKey is a module loaded with a pruning mode: the go command loads a
// module once as the child of a pruned module and once more, further down,
// as part of an unpruned subgraph (modload.readModGraph's dedupKey).
type loadKey struct {
	mod      module.Version
	unpruned bool
}

// summaryResult is what the graph needs of a module's go.mod
// (modload.modFileSummary).
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

// replacement returns what the main module's replace directives put in
// m's place: the replacement for m's version, else for all its versions,
// else m (modload.replacement). A replacement with an empty Version is a
// directory.
func (p *prefetcher) replacement(m module.Version) module.Version {
	if r, ok := p.replace[m]; ok {
		return r
	}
	if r, ok := p.replace[module.Version{Path: m.Path}]; ok {
		return r
	}
	return m
}

// loadGraph loads the module graph from the main module's requirements
// and returns when every go.mod it needs is loaded, or failed
// (modload.readModGraph).
func (p *prefetcher) loadGraph(ctx context.Context) {
	p.mu.Lock()
	for _, r := range p.roots {
		p.require(r)
	}
	p.mu.Unlock()
	for _, r := range p.roots {
		p.enqueue(ctx, r, !p.pruned)
	}
	p.walk.Wait()
}

// require records a requirement for minimal version selection; p.mu is
// held. The main module always wins over any version of itself
// (modload.cmpVersion).
func (p *prefetcher) require(r module.Version) {
	if r.Path == p.mainPath || isToolchain(r.Path) {
		return
	}
	if v, ok := p.selected[r.Path]; !ok || semver.Compare(v, r.Version) < 0 {
		p.selected[r.Path] = r.Version
	}
}

// enqueue loads m's requirements, and, when m or the subgraph it is in is
// unpruned, their requirements in turn (modload.readModGraph's enqueue).
func (p *prefetcher) enqueue(ctx context.Context, m module.Version, unpruned bool) {
	if isToolchain(m.Path) || m.Version == "none" {
		return
	}
	p.mu.Lock()
	key := loadKey{m, unpruned}
	if p.loading[key] {
		p.mu.Unlock()
		return
	}
	p.loading[key] = true
	p.mu.Unlock()
	p.walk.Go(func() {
		s := p.summary(ctx, m)
		if s.err != nil {
			return
		}
		p.mu.Lock()
		for _, r := range s.require {
			p.require(r)
		}
		p.mu.Unlock()
		// Below a module that predates pruning, the go command loads the
		// whole transitive graph; below a pruned one, nothing more.
		if unpruned || !s.pruned {
			for _, r := range s.require {
				p.enqueue(ctx, r, true)
			}
		}
	})
}

// summary reads m's go.mod once: that of its replacement if the main
// module replaces it, from the directory for a directory replacement
// (modload.goModSummary and rawGoModSummary).
func (p *prefetcher) summary(ctx context.Context, m module.Version) *summaryResult {
	return p.summaries.get(m, func() *summaryResult { return p.readSummary(ctx, m) })
}

func (p *prefetcher) readSummary(ctx context.Context, m module.Version) *summaryResult {
	actual := p.replacement(m)
	var (
		name string
		data []byte
		err  error
	)
	if actual.Version == "" {
		dir := actual.Path
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(p.mainDir, dir)
		}
		name = filepath.Join(dir, "go.mod")
		if data, err = os.ReadFile(name); err != nil {
			err = fmt.Errorf("replaced by directory %s: %w", actual.Path, err)
			return &summaryResult{err: p.graphFailure(m, err)}
		}
	} else {
		name = actual.String() + "/go.mod"
		if data, err = p.loadGoMod(ctx, actual); err != nil {
			return &summaryResult{err: err}
		}
	}
	f, err := modfile.ParseLax(name, data, nil)
	if err != nil {
		who := actual
		if actual.Version == "" {
			who = m // report a directory's go.mod under the module it replaces
		}
		return &summaryResult{err: p.graphFailure(who, &invalidGoModError{who, err})}
	}
	if actual.Version != "" {
		// modload.goModSummary: the go.mod must declare the path it was
		// required as, or that of its replacement.
		if f.Module == nil {
			return &summaryResult{err: p.graphFailure(actual, &invalidGoModError{actual, errors.New("parsing go.mod: missing module line")})}
		}
		if mp := f.Module.Mod.Path; mp != m.Path && mp != actual.Path {
			return &summaryResult{err: p.graphFailure(actual, &invalidGoModError{actual,
				fmt.Errorf("parsing go.mod:\n\tmodule declares its path as: %s\n\t        but was required as: %s", mp, m.Path)})}
		}
	}
	s := &summaryResult{pruned: f.Go != nil && goVersionAtLeast(f.Go.Version, 1, 17)}
	for _, r := range f.Require {
		// Since Go 1.16, requirements on excluded versions are dropped.
		if !p.exclude[r.Mod] {
			s.require = append(s.require, r.Mod)
		}
	}
	return s
}

// graphFailure records that m's go.mod could not be used and returns err.
func (p *prefetcher) graphFailure(m module.Version, err error) error {
	pm := p.need(m)
	p.mu.Lock()
	defer p.mu.Unlock()
	if pm.modErr == nil {
		pm.modErr = err
	}
	return err
}

// loadGoMod returns m's verified go.mod for the graph, storing it in the
// cache at once, as the go command does while it loads the graph
// (modfetch.cachingRepo.GoMod).
func (p *prefetcher) loadGoMod(ctx context.Context, m module.Version) ([]byte, error) {
	pm := p.need(m)
	r := p.goMod(ctx, pm)
	err := r.err
	if err == nil {
		err = p.commitGoMod(ctx, pm, r)
	}
	if err != nil {
		return nil, p.graphFailure(m, err)
	}
	return r.data, nil
}

// buildList returns the selected version of every module path in the
// graph but the main module, sorted by path (mvs.Graph.BuildList).
func (p *prefetcher) buildList() []module.Version {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := make([]module.Version, 0, len(p.selected))
	for path, v := range p.selected {
		list = append(list, module.Version{Path: path, Version: v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	return list
}
