package modnet

import (
	"sync"

	"golang.org/x/mod/module"
)

// A PrefetchProgress counts what a prefetch has done and has left, for a
// progress line with totals; set PrefetchRequest.Progress to one and read
// it with Snapshot while the prefetch runs. The zero value is ready to
// use; use one per prefetch.
type PrefetchProgress struct {
	mu       sync.Mutex
	totals   PrefetchTotals
	graphSet bool
	sizes    map[module.Version]int64 // announced zip sizes
	unsized  int                      // finished full modules without one: cached, or failed early
}

// PrefetchTotals is a snapshot of a [PrefetchProgress].
type PrefetchTotals struct {
	// Modules is the number of module versions to download in full:
	// counted from go.sum's zip lines at the start, exact once the module
	// graph is loaded.
	Modules int
	// ModulesDone counts those finished: in the cache, or failed.
	ModulesDone int
	// GoMods counts the finished module versions needed only for their
	// go.mod file.
	GoMods int
	// Bytes is what zip transfers have received so far.
	Bytes int64
	// ZipBytes is what the zips to download add up to: the sizes servers
	// announced, plus their average for each zip whose transfer has not
	// started (0 until a size is known).
	ZipBytes int64
	// Exact reports that Modules and ZipBytes are final: the graph is
	// loaded and every zip's size is known.
	Exact bool
}

// Snapshot returns the counts so far.
func (p *PrefetchProgress) Snapshot() PrefetchTotals {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.totals
	var known int64
	for _, n := range p.sizes {
		known += n
	}
	t.ZipBytes = known
	pending := t.Modules - len(p.sizes) - p.unsized
	if pending > 0 && len(p.sizes) > 0 {
		t.ZipBytes += known / int64(len(p.sizes)) * int64(pending)
	}
	t.Exact = p.graphSet && pending <= 0
	return t
}

// plan sets the number of modules to download in full; graph says the
// module graph is loaded, so the number is final.
func (p *PrefetchProgress) plan(modules int, graph bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.graphSet {
		return
	}
	p.totals.Modules, p.graphSet = modules, graph
}

func (p *PrefetchProgress) wrote(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.totals.Bytes += int64(n)
	p.mu.Unlock()
}

func (p *PrefetchProgress) sized(m module.Version, size int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	if p.sizes == nil {
		p.sizes = make(map[module.Version]int64)
	}
	p.sizes[m] = size
	p.mu.Unlock()
}

// done counts a finished module.
func (p *PrefetchProgress) done(m module.Version, goModOnly bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if goModOnly {
		p.totals.GoMods++
		return
	}
	p.totals.ModulesDone++
	if _, ok := p.sizes[m]; !ok {
		p.unsized++
	}
}
