package modproxy

import (
	"context"
	"io"
	"slices"
	"sync"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"

	"github.com/modkit/modkit/modnet/modload"
)

// ReadAhead configures fetching files ahead of the requests for them
// ([Server.ReadAhead]). When the server serves a go.mod file, it queues
// the go.mod files of the module's requirements; when one of those comes
// from a go.mod without graph pruning (go < 1.17), whose requirements the
// go command loads transitively, their requirements too. [Server.FetchAhead]
// queues more. Queued files are fetched in the background through the
// same route walk and stored as if a request had asked for them: go.mod
// and .info files before zips, each file once, Jobs at a time and PerHost
// at a time from one upstream host (the module's first source: a proxy,
// or a repository host for direct mode). A request for a file being
// fetched ahead waits for that fetch rather than starting another.
// Failures are not reported to anyone: the request that needs the file
// fetches it again.
type ReadAhead struct {
	// Jobs bounds the files fetched ahead at once. Default: 16. Requests
	// are never held back by read-ahead.
	Jobs int
	// PerHost bounds those fetched ahead from one upstream host at once.
	// Default: 8.
	PerHost int
	// Max bounds how many files are fetched ahead over the server's life,
	// so that a huge graph cannot make it fetch without end. Default:
	// 20000.
	Max int
	// Have, if set, reports whether the clients already have a module
	// version's file (ext ".info", ".mod" or ".zip"), which is then not
	// fetched ahead: modfetch exec looks in the go command's module cache.
	Have func(mod module.Version, ext string) bool
	// OnFetch, if set, is called after each file fetched ahead, with the
	// error if it failed; it may be called concurrently.
	OnFetch func(mod module.Version, ext string, err error)
	// MinLatency, if positive, makes read-ahead adapt to the upstream: it
	// fetches ahead only while the upstream's round trip, the shortest of
	// the server's last 16 fetches of a go.mod or .info file (its own and
	// those requests asked for), is at least MinLatency. Until the
	// first such fetch, one file at a time is fetched ahead. Below
	// MinLatency (a mirror on the same machine or the next rack), a fetch
	// ahead saves the clients little waiting but takes CPU and bandwidth
	// they may need. Zero fetches ahead at any latency.
	MinLatency time.Duration
}

// Read-ahead defaults.
const (
	defaultAheadJobs    = 16
	defaultAheadPerHost = 8
	defaultAheadMax     = 20000
)

// readAhead is the state of a Server's read-ahead.
type readAhead struct {
	mu      sync.Mutex
	seen    map[aheadKey]bool // queued files → their requirements are followed
	small   []*aheadItem      // .mod and .info files waiting
	zips    []*aheadItem      // zips waiting
	running int
	zipsRun int
	hosts   map[string]int // running per host
	queued  int
	filled  sync.Map // store keys filled by read-ahead
	rtt     roundTrips
	// waiting are files of FetchAheadWhenAsked by extension, until a
	// client has asked for a file with it (asked).
	waiting map[string][]aheadKey
	asked   map[string]bool
}

// roundTrips are the durations of the last fetches of small files
// upstream: the round trip read-ahead adapts to (ReadAhead.MinLatency).
type roundTrips struct {
	last [16]time.Duration
	n    int // observed so far
}

// base returns the shortest of the last round trips, if any: the
// upstream's own, without the queueing that fetches in flight at once
// (read-ahead's own among them) add to the others, as TCP Vegas and BBR
// estimate a path's base round trip.
func (r *roundTrips) base() (time.Duration, bool) {
	n := min(r.n, len(r.last))
	if n == 0 {
		return 0, false
	}
	return slices.Min(r.last[:n]), true
}

// observe records the duration of a fetch of a go.mod or .info file
// upstream; read-ahead may start again if it had stopped for a short
// round trip.
func (a *readAhead) observe(s *Server, d time.Duration) {
	if s.ReadAhead == nil || s.ReadAhead.MinLatency <= 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rtt.last[a.rtt.n%len(a.rtt.last)] = d
	a.rtt.n++
	if a.seen != nil {
		a.dispatchLocked(s)
	}
}

// jobsLocked is how many files may be fetched ahead at once now: Jobs,
// or with MinLatency one while no round trip has been observed and none
// while the round trip is shorter than MinLatency.
func (a *readAhead) jobsLocked(cfg *ReadAhead) int {
	jobs := orDefault(cfg.Jobs, defaultAheadJobs)
	if cfg.MinLatency <= 0 {
		return jobs
	}
	rtt, ok := a.rtt.base()
	switch {
	case !ok:
		return 1
	case rtt < cfg.MinLatency:
		return 0
	}
	return jobs
}

// RoundTrip returns the upstream round trip read-ahead adapts to (see
// ReadAhead.MinLatency), and whether one has been observed: it is only
// measured when MinLatency is set.
func (s *Server) RoundTrip() (time.Duration, bool) {
	s.init()
	s.ahead.mu.Lock()
	defer s.ahead.mu.Unlock()
	return s.ahead.rtt.base()
}

type aheadKey struct {
	mod module.Version
	ext string
}

type aheadItem struct {
	aheadKey
	host   string
	follow bool // queue its requirements when it is a go.mod
}

// FetchAhead queues mod's file (ext ".info", ".mod" or ".zip") to be
// fetched in the background and stored, if ReadAhead is set. modfetch exec
// queues what the working module's go.mod and go.sum list.
func (s *Server) FetchAhead(mod module.Version, ext string) {
	s.init()
	s.ahead.queue(s, aheadKey{mod, ext}, false)
}

// FetchAheadWhenAsked is FetchAhead once a client has asked for a module
// version's file with the same extension as mod's: a client that asks
// for no .info file (go mod tidy) then costs no fetch of one, and one that
// asks for no zip (go list -m) none of a zip. modfetch exec queues so the
// .info files and zips of what the working module's go.sum lists: the go
// command asks for .info files only when it downloads modules (go mod
// download, go get) and for zips only when it loads packages or downloads
// them, both once it has the module graph, whose go.mod files are fetched
// ahead at once.
func (s *Server) FetchAheadWhenAsked(mod module.Version, ext string) {
	s.init()
	k := aheadKey{mod, ext}
	if s.ReadAhead == nil || !validFile(k) {
		return
	}
	a := &s.ahead
	a.mu.Lock()
	if !a.asked[ext] {
		if a.waiting == nil {
			a.waiting = make(map[string][]aheadKey)
		}
		a.waiting[ext] = append(a.waiting[ext], k)
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	a.queue(s, k, false)
}

// askedFor notes that a client asked for a module version's file with
// extension ext, and queues the files that waited for it.
func (a *readAhead) askedFor(s *Server, ext string) {
	if s.ReadAhead == nil {
		return
	}
	a.mu.Lock()
	if a.asked[ext] {
		a.mu.Unlock()
		return
	}
	if a.asked == nil {
		a.asked = make(map[string]bool)
	}
	a.asked[ext] = true
	waiting := a.waiting[ext]
	delete(a.waiting, ext)
	a.mu.Unlock()
	for _, k := range waiting {
		a.queue(s, k, false)
	}
}

// fetched reports whether read-ahead filled key.
func (a *readAhead) fetched(key string) bool {
	_, ok := a.filled.Load(key)
	return ok
}

// queue adds a file to the queue unless it was queued before, with follow
// set if its requirements are to be queued too, and starts what can run.
func (a *readAhead) queue(s *Server, k aheadKey, follow bool) {
	cfg := s.ReadAhead
	if cfg == nil || !validFile(k) {
		return
	}
	host := s.up.Host(k.mod.Path)
	a.mu.Lock()
	defer a.mu.Unlock()
	followed, seen := a.seen[k]
	if seen && (followed || !follow) {
		return
	}
	if a.seen == nil {
		a.seen = make(map[aheadKey]bool)
		a.hosts = make(map[string]int)
	}
	if !seen {
		if a.queued >= orDefault(cfg.Max, defaultAheadMax) {
			return
		}
		a.queued++
	}
	a.seen[k] = follow
	it := &aheadItem{aheadKey: k, host: host, follow: follow}
	if k.ext == ".zip" {
		a.zips = append(a.zips, it)
	} else {
		a.small = append(a.small, it)
	}
	a.dispatchLocked(s)
}

// validFile reports whether a request could ask for the file: a protocol
// file of a canonical module version.
func validFile(k aheadKey) bool {
	_, err := fileKey(k.mod, k.ext)
	return err == nil && (k.ext == ".info" || k.ext == ".mod" || k.ext == ".zip") &&
		module.Check(k.mod.Path, k.mod.Version) == nil && module.CanonicalVersion(k.mod.Version) == k.mod.Version
}

// dispatchLocked starts queued items while slots are free: small files
// first, and zips in at most three quarters of the slots, so that a go.mod
// the go command is about to ask for never waits behind a long zip.
func (a *readAhead) dispatchLocked(s *Server) {
	jobs := a.jobsLocked(s.ReadAhead)
	perHost := orDefault(s.ReadAhead.PerHost, defaultAheadPerHost)
	maxZips := max(1, jobs*3/4)
	for a.running < jobs {
		it := a.takeLocked(&a.small, perHost)
		if it == nil && a.zipsRun < maxZips {
			it = a.takeLocked(&a.zips, perHost)
		}
		if it == nil {
			return
		}
		ctx, end, err := s.work(context.Background())
		if err != nil {
			return // closed: nothing more starts
		}
		a.running++
		a.hosts[it.host]++
		if it.ext == ".zip" {
			a.zipsRun++
		}
		go func() {
			defer end()
			a.run(ctx, s, it)
			a.mu.Lock()
			a.running--
			a.hosts[it.host]--
			if it.ext == ".zip" {
				a.zipsRun--
			}
			a.dispatchLocked(s)
			a.mu.Unlock()
		}()
	}
}

// takeLocked removes and returns the first item of q whose host has a
// free slot.
func (a *readAhead) takeLocked(q *[]*aheadItem, perHost int) *aheadItem {
	for i, it := range *q {
		if a.hosts[it.host] < perHost {
			*q = append((*q)[:i], (*q)[i+1:]...)
			return it
		}
	}
	return nil
}

// run fetches one file ahead, unless the clients or the store have it.
func (a *readAhead) run(ctx context.Context, s *Server, it *aheadItem) {
	cfg := s.ReadAhead
	if cfg.Have != nil && cfg.Have(it.mod, it.ext) {
		return
	}
	key, _ := fileKey(it.mod, it.ext)
	if _, err := s.store.Stat(ctx, key); err != nil {
		err := s.fetchFile(ctx, it.mod, it.ext, key, true)
		if cfg.OnFetch != nil {
			cfg.OnFetch(it.mod, it.ext, err)
		}
		if err != nil {
			return
		}
	}
	if it.ext == ".mod" && it.follow {
		a.queueRequirements(ctx, s, key, true)
	}
}

// requirements queues, in the background, the go.mod files of the
// requirements of the go.mod stored under key, once it has been served.
func (a *readAhead) requirements(s *Server, key string) {
	if s.ReadAhead == nil {
		return
	}
	ctx, end, err := s.work(context.Background())
	if err != nil {
		return
	}
	go func() {
		defer end()
		a.queueRequirements(ctx, s, key, false)
	}()
}

// queueRequirements queues the go.mod files of the requirements of the
// go.mod stored under key. Below a go.mod without graph pruning, or one
// reached only through such go.mods (follow), the go command loads the
// requirements' go.mod files transitively (cmd/go/internal/modload:
// readModGraph), so theirs are followed too.
func (a *readAhead) queueRequirements(ctx context.Context, s *Server, key string, follow bool) {
	f, _, err := s.store.Get(ctx, key)
	if err != nil {
		return
	}
	data, err := io.ReadAll(io.LimitReader(f, maxGoMod))
	f.Close()
	if err != nil {
		return
	}
	mf, err := modfile.ParseLax(key, data, nil)
	if err != nil {
		return
	}
	follow = follow || !modload.Pruned(mf)
	for _, r := range mf.Require {
		a.queue(s, aheadKey{r.Mod, ".mod"}, follow)
	}
}

// maxGoMod is the largest go.mod read, as cmd/go/internal/modfetch/codehost
// limits them.
const maxGoMod = 16 << 20

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}
