package modnet

import (
	"context"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/modnet/modload"
)

// Prefetch loads its graph with a [modload.Loader] whose source is the
// prefetch itself: each go.mod is fetched with a transfer slot, verified,
// and stored in the cache at once, as the go command stores the go.mod
// files it reads while it loads the graph (modfetch.cachingRepo.GoMod).
type prefetchGoMods struct{ p *prefetcher }

func (s prefetchGoMods) GoMod(ctx context.Context, path, version string) ([]byte, error) {
	return s.p.loadGoMod(ctx, module.Version{Path: path, Version: version})
}

// replacement returns what the main module's replace directives put in
// m's place (see [modload.MainModule.Replacement]).
func (p *prefetcher) replacement(m module.Version) module.Version {
	return p.main.Replacement(m)
}

// loadGraph loads the module graph from the main module's requirements
// and returns when every go.mod it needs is loaded, or failed. Each
// failure is the outcome of the module whose go.mod failed.
func (p *prefetcher) loadGraph(ctx context.Context) {
	l := &modload.Loader{Source: prefetchGoMods{p}}
	p.graph = l.Load(ctx, p.main)
	for _, f := range p.graph.Failures() {
		p.graphFailure(f.Module, f.Err)
	}
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
func (p *prefetcher) buildList() []module.Version { return p.graph.BuildList() }

// mainPath is the main module's path, or "" if the request names none.
func (p *prefetcher) mainPath() string {
	if p.main == nil {
		return ""
	}
	return p.main.Path
}
