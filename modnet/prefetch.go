package modnet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/sync/singleflight"

	"github.com/modkit/modkit/modnet/modload"
	"github.com/modkit/modkit/retry"
)

// A PrefetchRequest says what [Client.Prefetch] downloads and how hard it
// may push.
type PrefetchRequest struct {
	// ModFile is a main module's go.mod file. Prefetch loads the module
	// graph from it as the go command does and downloads what
	// 'go mod download all' would: every module of the build list in full
	// and the go.mod file of every module whose requirements the graph
	// needs. Its go.sum (GoSumFile) holds the expected hashes.
	ModFile string

	// WorkFile is a go.work file, instead of ModFile: Prefetch downloads
	// what 'go mod download' does in the workspace, the build list of the
	// workspace's graph (every use'd module's requirements, go.work's
	// replacements; see [modload.ReadWorkspace]), verified against go.work.sum and
	// the go.sum of every use'd module.
	WorkFile string

	// NoGoSum leaves go.sum (go.work.sum) untouched. By default Prefetch
	// adds the lines 'go mod download all' adds (see [Client.Prefetch]).
	NoGoSum bool

	// GoSumFile is the go.sum to verify against. Empty means the one the
	// go command pairs with ModFile (ModFile without ".mod", plus ".sum",
	// as for its -modfile flag: go.mod's is go.sum); without ModFile, the
	// Client's GoSum.
	GoSumFile string

	// Modules are module versions to download in full (.info, .mod, .zip
	// and the extracted directory), in addition to those ModFile implies.
	Modules []module.Version

	// Jobs bounds the transfers in flight at once. Downloads wait for the
	// network, not the CPU, so the default, 64, is far above GOMAXPROCS.
	Jobs int

	// PerHost bounds the transfers in flight to one host (the first
	// source of a module's route). Default: 32.
	PerHost int

	// Extractors bounds the zips being checked, hashed and extracted at
	// once; that work uses the CPU and the disk, not the network, and never
	// holds a transfer slot. Default: GOMAXPROCS.
	Extractors int

	// NoExtract leaves modules unextracted: only the download cache is
	// filled (.info, .mod, .zip and .ziphash under cache/download), every
	// zip still verified, which takes inflating it once to hash it. The go
	// command extracts a module from there on first use, without the
	// network (cmd/go/internal/modfetch.download), so GOPROXY=off builds
	// work on such a cache; it is what a CI cache should hold: a few files
	// per module instead of hundreds.
	NoExtract bool

	// NoReadAhead makes Prefetch fetch only what the graph walk has
	// confirmed, as the go command does. By default the go.mod and zip
	// of every module version go.sum lists are fetched and verified at
	// once and held back until the walk confirms them (see Prefetch),
	// so that a slow or throttled go.mod near the root does not delay
	// everything below it; a stale go.sum line then costs a transfer, but
	// never leaves a trace in the cache.
	NoReadAhead bool

	// Progress, if set, is kept up to date with the prefetch's totals:
	// modules done of how many, bytes received of how many.
	Progress *PrefetchProgress

	// OnEvent, if set, receives progress events. Calls are serialized, so
	// it needs no lock of its own, and should return quickly.
	OnEvent func(PrefetchEvent)

	// NoToolchain leaves toolchains alone. By default, when ModFile's go
	// or toolchain line asks for a newer Go than the local one and
	// GOTOOLCHAIN allows switching, Prefetch fetches the toolchain the go
	// command would switch to (golang.org/toolchain for this platform)
	// unless it is in PATH, so that the go command switches without
	// downloading it.
	NoToolchain bool
}

// A PrefetchEventKind names what a [PrefetchEvent] reports.
type PrefetchEventKind string

// The kinds of progress event.
const (
	// PrefetchStart: the first transfer for a module version begins.
	// Modules found complete in the cache have no start event.
	PrefetchStart PrefetchEventKind = "start"
	// PrefetchRetry: a request for one of the module's files failed and
	// is tried again, resumed or hedged.
	PrefetchRetry PrefetchEventKind = "retry"
	// PrefetchDone: a module version is complete in the cache and
	// verified; reported once per version.
	PrefetchDone PrefetchEventKind = "done"
	// PrefetchFail: a module version could not be completed; reported
	// once per version.
	PrefetchFail PrefetchEventKind = "fail"
	// PrefetchMismatch: a downloaded go.mod or zip failed verification:
	// it did not match its expected hash (Class "checksum", Err the
	// *ChecksumError) or the zip did not inflate (Class "corrupt"). It is
	// downloaded again on a fresh connection, within the retry attempt
	// limit, before the failure counts (a mismatch as the security error
	// it then is) in a fail event; the first failure of each file is
	// reported even when a later copy verifies, since corruption in
	// transit deserves a look.
	PrefetchMismatch PrefetchEventKind = "mismatch"
)

// A PrefetchEvent reports progress for one module version.
type PrefetchEvent struct {
	Kind    PrefetchEventKind
	Path    string // module path; empty for a checksum database request
	Version string
	// GoModOnly reports that only the module's go.mod file is needed: the
	// module is in the module graph but not in the build list.
	GoModOnly bool
	// File is the file a start or retry event concerns: "info", "mod",
	// "zip" or "sumdb".
	File string
	// Class says why: for a retry the retry.Class of the failure, or
	// "hedge" or "resume"; for a failure the module's PrefetchModule.Class.
	Class string
	// Delay is how long a retry waits first.
	Delay time.Duration
	// Bytes is what a done module stored in the cache (0 if it was cached).
	Bytes int64
	// Cached reports a done module that needed no transfer.
	Cached bool
	// Err is a failed module's error.
	Err error
	// Elapsed is the time from the module's start to its end (done, fail).
	Elapsed time.Duration
}

// A PrefetchResult lists what a prefetch did for every module version.
type PrefetchResult struct {
	// Main is the main module's path, if the request named a ModFile.
	Main string
	// Modules holds one entry per module version needed, sorted by path
	// and version.
	Modules []PrefetchModule
	// Bytes is the total stored in the cache.
	Bytes int64
	// Retries counts retried, resumed and hedged requests.
	Retries int
	// Elapsed is the wall time of the prefetch.
	Elapsed time.Duration
	// Toolchain is the toolchain the go command runs in the main module,
	// such as "go1.22.1", when go.mod's go or toolchain line selects a
	// newer one than the local toolchain; empty otherwise. Unless it is in
	// PATH (ToolchainPATH), its module is among Modules.
	Toolchain string
	// ToolchainPATH is the executable the go command runs for Toolchain
	// when it is in PATH; nothing is fetched for it then.
	ToolchainPATH string
	// Work is the go.work file of a workspace prefetch.
	Work string
	// GoSumFile is the go.sum (go.work.sum) whose lines were checked, and
	// GoSumAdded the lines added to it, sorted.
	GoSumFile  string
	GoSumAdded []string
}

// A PrefetchModule is the outcome for one module version.
type PrefetchModule struct {
	Path    string
	Version string
	// GoModOnly reports that only the go.mod file is needed.
	GoModOnly bool
	// Files are the module's files in the cache; for a GoModOnly module
	// only GoMod and GoModSum are set. They are set only on success.
	Files ModuleFiles
	// Cached reports that nothing had to be downloaded.
	Cached bool
	// Bytes is what was stored in the cache for it.
	Bytes int64
	// Retries counts its retried, resumed and hedged requests.
	Retries int
	// Err is why it failed, or nil.
	Err error
	// Toolchain is set for the module of a Go toolchain
	// (golang.org/toolchain): the toolchain's name, such as "go1.22.1".
	// Only its zip is fetched and extracted (Files has Zip, Dir and Sum),
	// as the go command fetches it.
	Toolchain string
	// Class classifies Err: "checksum" for a [*ChecksumError] (a security
	// error, never retried), the retry.Class identifier of a failed
	// request ("not-found", "throttled", "timeout", "reset", ...),
	// "corrupt" for a zip that is not a readable archive, "invalid" for a
	// go.mod that cannot be used, "toonew" for one that asks for a newer
	// Go than the one that runs ([*TooNewError]), "canceled", or "other".
	Class string
}

// Failed returns the modules that failed.
func (r *PrefetchResult) Failed() []PrefetchModule {
	var failed []PrefetchModule
	for _, m := range r.Modules {
		if m.Err != nil {
			failed = append(failed, m)
		}
	}
	return failed
}

// A PrefetchError reports the module versions a prefetch could not
// complete; the others are in the cache.
type PrefetchError struct {
	Failed []PrefetchModule
	Total  int // module versions needed
}

func (e *PrefetchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "prefetch: %d of %d module versions failed", len(e.Failed), e.Total)
	for _, m := range e.Failed {
		fmt.Fprintf(&b, "\n\t%s@%s (%s): %s", m.Path, m.Version, m.Class, oneLine(m.Err))
	}
	return b.String()
}

// Unwrap returns the modules' errors.
func (e *PrefetchError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, m := range e.Failed {
		errs[i] = m.Err
	}
	return errs
}

// Prefetch fills the module cache with everything a module graph needs,
// as 'go mod download all' does, so that the go command can then work
// offline (GOPROXY=off); see [PrefetchRequest] for what it downloads.
//
// The module graph is loaded as the go command loads it
// (cmd/go/internal/modload: readModGraph and goModSummary): from the main
// module's requirements, reading the go.mod of each module reached, all
// of them below a module whose go.mod predates graph pruning (go < 1.17)
// and only the direct ones below a pruned module; replace directives of
// the main module apply (a module replaced by another version fetches the
// replacement, one replaced by a directory fetches nothing), exclude
// directives drop requirements, and the build list is the highest version
// required of each path (minimal version selection). Every go.mod and
// zip is verified against go.sum, or the checksum database for lines it
// lacks, exactly as [Client.Download] verifies; nothing unverified is
// stored.
//
// Unlike the go command, which downloads GOMAXPROCS modules at a time and
// each module's files one after the other, Prefetch keeps up to Jobs
// transfers in flight (PerHost per host) and fetches a module's .info,
// .mod and .zip at once. go.mod files go before zips and .info files (the
// graph walk waits for go.mod files); a quarter of the slots is kept free
// of zips for the small files, and a quarter free of small files for the
// zips, so that neither kind waits for the other to drain. A transfer gives its slot back while it waits to be
// retried: a throttled request told to come back in a second does not
// keep another file from starting. When the main module is pruned, its
// requirements start downloading before the walk ends: its go.mod then
// lists the selected version of every module that provides a package (an
// inconsistent go.mod can make this fetch a version the build list then
// does not use). Every other module whose zip hash go.sum has is
// downloaded ahead too, up to its verified (and extracted) zip in a
// temporary file and directory, where it waits for the walk: what the
// build list confirms is stored; what it does not (a stale go.sum line, a
// module needed for its go.mod only) is abandoned without a trace in the
// cache or the result, and without a start, done or fail event (its
// retries are reported as they happen), so the cache ends as 'go mod download all' leaves it, at the
// price of that transfer. A throttled go.mod on the walk's chain then no
// longer delays the zips below it (PrefetchRequest.NoReadAhead turns this
// read-ahead off, for go.mod files and zips alike). Each file is fetched once however many modules need it
// (singleflight). Zips are streamed to disk, then checked, inflated once
// into a temporary directory while they are hashed, verified, and renamed
// into place ([Cache.DownloadExtract]; NoExtract stops at the verified zip),
// off the transfer slots, Extractors at a time, the largest waiting zip
// first (so that a large zip is not left to the end, alone on one core). A go.mod or zip that
// arrives whole but fails verification is downloaded again on a fresh
// connection, within MaxAttempts, and reported (PrefetchMismatch) whether
// or not a later copy verifies. A module's .info and .mod are
// stored only after its zip has verified, so a module that fails leaves
// no partial entry, except the go.mod files the graph walk needed, which
// the go command stores as well. Whatever is already in the cache and
// verifies is not downloaded again.
//
// As 'go mod download all' does, Prefetch then adds to go.sum the hashes
// it verified that go.sum lacks and the go command keeps
// (modload.keepSums): the go.mod hash of every module whose requirements
// are in the graph, and the zip and go.mod hashes of every module of the
// build list (of its replacement, for a replaced module). Lines already
// there stay, and the file is written sorted, as the go command writes
// it; it is not touched when nothing is missing. In a workspace the lines
// go to go.work.sum, except those a use'd module's go.sum has.
// PrefetchRequest.NoGoSum leaves the file alone.
//
// Requests go through a retry.Client derived from c.HTTP and tuned so
// that a stalled or slow answer cannot hold the whole prefetch hostage:
// unless set there, MaxAttempts is 10, BaseDelay 100ms, ThrottleBaseDelay
// 250ms (for a 429 or 503 without Retry-After from a proxy failing
// broadly; one with Retry-After waits as long as the server asks, and the
// per-host retry budget still bounds the extra load), AdaptiveBackoff on
// (sporadic failures of a proxy that answers most requests, a 429 or 503
// without Retry-After included, are retried after at most twice the base
// delay; a proxy failing broadly is backed off exponentially),
// HedgeMinDelay 250ms (a GET whose headers are late compared with the
// host's observed latency is hedged, and so is a zip body of any size
// arriving at less than a tenth of the host's usual throughput, from its
// offset, once it has run that long and a second copy would finish well
// before it),
// StallTimeoutMin 2s (the stall timeout adapts to the host's observed
// throughput, up to StallTimeout) and
// ResponseHeaderTimeout 30s, the backstop behind hedging.
//
// When the main module's go or toolchain line asks for a newer Go than
// the local toolchain and GOTOOLCHAIN allows switching, the go command
// first switches to that toolchain, downloading it as a module; Prefetch
// fetches that toolchain too, with the same retries, and lists it among
// the modules (see [PrefetchRequest.NoToolchain]). A module of the graph
// whose go.mod asks for go 1.21 or later, newer than the Go that runs,
// fails with a [*TooNewError] in the go command's words (class "toonew"),
// unless GOTOOLCHAIN allows switching: then, as the go command switches to
// the release [Client.NewerToolchain] picks and runs again, Prefetch
// fetches that toolchain and fails nothing.
//
// A failure of one module does not stop the others. The result lists
// every module version with its outcome; the error is a *PrefetchError if
// any failed, or the reason nothing could start (an unreadable go.mod, a
// bad environment).
func (c *Client) Prefetch(ctx context.Context, req *PrefetchRequest) (*PrefetchResult, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	p, err := newPrefetcher(c, req)
	if err != nil {
		return nil, err
	}
	defer p.c.Close()
	return p.run(ctx)
}

// prefetcher is the state of one Prefetch.
type prefetcher struct {
	c   *Client // a child of the caller's Client, with the tuned retry.Client
	req PrefetchRequest

	main  *modload.MainModule // if the request names a ModFile
	graph *modload.Graph      // set by loadGraph

	ctx     context.Context // of run, for the retry hooks
	hosts   *hostSlots
	holds   sync.Map // holdKey → *hold: transfers in flight
	extract *slots

	emitMu sync.Mutex // serializes OnEvent

	mu      sync.Mutex
	mods    map[module.Version]*pmod
	paths   map[string]bool // module paths being fetched, to map retry URLs
	work    sync.WaitGroup  // module downloads
	retries atomic.Int64

	gomods onceMap[*goModResult]

	toolchain     *ToolchainSelection // for the main module; nil without one
	toolchainPATH string              // where the go command finds it in PATH

	sumFile  string                  // where go.sum lines go; "" for none
	workSums map[module.Version]bool // in a workspace, modules the use'd modules' go.sum files list
}

// pmod is the state of one module version.
type pmod struct {
	mod  module.Version
	full bool // in the build list (or requested): download in full
	// needed is set once the graph walk or the request needs the module;
	// until then its go.mod may be being fetched ahead, from go.sum.
	needed bool
	// ahead is set for a module downloaded ahead of the graph walk
	// because go.sum has its zip hash (see fetchZipsAhead); full is set
	// too once the walk confirms it.
	ahead   *aheadGate
	start   time.Time
	started atomic.Bool
	bytes   atomic.Int64
	retries atomic.Int64

	// Set by the graph walk.
	modErr error

	// Set when it ends.
	res PrefetchModule
}

// Defaults of a PrefetchRequest and of the retry.Client Prefetch tunes.
const (
	defaultJobs           = 64
	defaultPerHost        = 32
	prefetchMaxAttempts   = 10
	prefetchBaseDelay     = 100 * time.Millisecond
	prefetchThrottleBase  = 250 * time.Millisecond
	prefetchHedgeMin      = 250 * time.Millisecond
	prefetchStallMin      = 2 * time.Second
	prefetchHeaderTimeout = 30 * time.Second
)

func newPrefetcher(parent *Client, req *PrefetchRequest) (*prefetcher, error) {
	p := &prefetcher{
		req:   *req,
		mods:  make(map[module.Version]*pmod),
		paths: make(map[string]bool),
	}
	if p.req.Jobs <= 0 {
		p.req.Jobs = defaultJobs
	}
	if p.req.PerHost <= 0 {
		p.req.PerHost = defaultPerHost
	}
	if p.req.Extractors <= 0 {
		p.req.Extractors = runtime.GOMAXPROCS(0)
	}
	p.hosts = newHostSlots(p.req.Jobs, p.req.PerHost)
	p.extract = newSlots(p.req.Extractors)

	gosum, err := p.readMain(parent.GoSum)
	if err != nil {
		return nil, err
	}
	for _, m := range p.req.Modules {
		if err := checkVersion(m.Path, m.Version); err != nil {
			return nil, err
		}
	}
	// Until the graph is loaded, go.sum's zip lines are the best count of
	// the modules to download in full.
	if p.req.ModFile != "" {
		p.req.Progress.plan(len(gosum.zipVersions())+len(p.req.Modules), false)
	} else {
		p.req.Progress.plan(len(p.req.Modules), true)
	}
	p.c = &Client{
		Env:       parent.env,
		Cache:     parent.cache,
		GoSum:     gosum,
		HTTP:      p.tunedHTTP(parent.HTTP),
		NoRetry:   parent.NoRetry,
		OnFetch:   parent.OnFetch,
		Logger:    parent.Logger,
		GoVersion: parent.GoVersion,
		Dir:       parent.Dir,
	}
	if p.main != nil {
		// The go command would run 'go mod download all' there.
		p.c.Dir = p.main.Dir
	}
	if err := p.c.init(); err != nil {
		return nil, err
	}
	if err := p.selectToolchain(context.Background()); err != nil {
		return nil, err
	}
	return p, nil
}

// tunedHTTP returns the retry.Client a prefetch uses: base's knobs, the
// prefetch defaults for those base leaves at zero, a connection pool that
// keeps PerHost connections per host, and hooks that report retries as
// events (after base's own).
func (p *prefetcher) tunedHTTP(base *retry.Client) *retry.Client {
	h := &retry.Client{}
	if base != nil {
		h = base.Clone()
	}
	h.MaxAttempts = cmp.Or(h.MaxAttempts, prefetchMaxAttempts)
	h.BaseDelay = cmp.Or(h.BaseDelay, prefetchBaseDelay)
	h.ThrottleBaseDelay = cmp.Or(h.ThrottleBaseDelay, prefetchThrottleBase)
	// One proxy serving hundreds of files: an unlucky file that fails
	// several times while the proxy answers most requests must not wait
	// seconds; a proxy failing broadly is still backed off exponentially.
	h.AdaptiveBackoff = true
	h.HedgeMinDelay = cmp.Or(h.HedgeMinDelay, prefetchHedgeMin)
	h.StallTimeoutMin = cmp.Or(h.StallTimeoutMin, prefetchStallMin)
	h.ResponseHeaderTimeout = cmp.Or(h.ResponseHeaderTimeout, prefetchHeaderTimeout)
	if h.Transport == nil {
		// http.DefaultTransport keeps 2 idle connections per host: with
		// dozens of requests in flight to one proxy, every other request
		// would open a new connection (and TLS session).
		if t := retry.NewTransport(h.DialTimeout, h.TLSHandshakeTimeout); t != nil {
			t.MaxIdleConnsPerHost = p.req.PerHost
			h.Transport = t
		}
	}
	chain := func(prev func(retry.Event), hook func(retry.Event)) func(retry.Event) {
		return func(ev retry.Event) {
			if prev != nil {
				prev(ev)
			}
			hook(ev)
		}
	}
	h.OnRetry = chain(h.OnRetry, func(ev retry.Event) {
		p.retried(ev, ev.Class.String())
		p.pause(ev)
	})
	h.OnResume = chain(h.OnResume, func(ev retry.Event) { p.retried(ev, "resume") })
	h.OnHedge = chain(h.OnHedge, func(ev retry.Event) { p.retried(ev, "hedge") })
	h.OnAttempt = chain(h.OnAttempt, p.resume)
	return h
}

// run loads the graph, downloads, and collects the result.
func (p *prefetcher) run(ctx context.Context) (*PrefetchResult, error) {
	start := time.Now()
	p.ctx = ctx
	for _, m := range p.req.Modules {
		p.fetchFull(ctx, m)
	}
	p.fetchToolchain(ctx)
	if p.main != nil {
		if p.main.Pruned {
			// A pruned main module's go.mod lists the selected version of
			// every module providing a package: start those at once.
			for _, r := range p.main.Require {
				if r.Path == p.main.Path || modload.IsToolchain(r.Path) {
					continue
				}
				if actual := p.replacement(r); actual.Version != "" {
					p.fetchFull(ctx, actual)
				}
			}
		}
		if !p.req.NoReadAhead {
			p.fetchGoModsAhead(ctx, p.c.GoSum)
			p.fetchZipsAhead(ctx, p.c.GoSum)
		}
		p.loadGraph(ctx)
		p.checkGoVersions(ctx)
		for _, m := range p.buildList() {
			if actual := p.replacement(m); actual.Version != "" {
				p.fetchFull(ctx, actual)
			}
		}
		// The graph is loaded: what is not downloaded in full by now was
		// needed for its go.mod only, and is done; a download started
		// ahead that the graph does not confirm leaves no trace.
		p.mu.Lock()
		var goModOnly []*pmod
		full := 0
		for _, pm := range p.mods {
			if pm.ahead != nil && !pm.full {
				pm.ahead.decide(false)
			}
			if pm.needed && !pm.full {
				goModOnly = append(goModOnly, pm)
			}
			if pm.full {
				full++
			}
		}
		p.mu.Unlock()
		p.req.Progress.plan(full, true)
		for _, pm := range goModOnly {
			p.finishGoModOnly(pm)
		}
	}
	p.work.Wait()
	res, err := p.result(time.Since(start))
	res.Work = p.req.WorkFile
	if serr := p.updateGoSum(ctx, res); serr != nil && err == nil {
		err = serr
	}
	return res, err
}

// result collects every module's outcome.
func (p *prefetcher) result(elapsed time.Duration) (*PrefetchResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := &PrefetchResult{Main: p.mainPath(), Retries: int(p.retries.Load()), Elapsed: elapsed, ToolchainPATH: p.toolchainPATH}
	if p.toolchain != nil && p.toolchain.Switch() {
		r.Toolchain = p.toolchain.Name
	}
	for _, pm := range p.mods {
		if !pm.needed {
			continue // a go.mod fetched ahead that the graph did not need
		}
		if pm.modErr != nil && pm.res.Err == nil {
			// Downloaded, but its go.mod fails the graph, as the go
			// command's does.
			pm.res.Err, pm.res.Class = pm.modErr, failureClass(pm.modErr)
		}
		r.Modules = append(r.Modules, pm.res)
		r.Bytes += pm.res.Bytes
	}
	slices.SortFunc(r.Modules, func(a, b PrefetchModule) int {
		if a.Path != b.Path {
			return strings.Compare(a.Path, b.Path)
		}
		return semver.Compare(a.Version, b.Version)
	})
	if failed := r.Failed(); len(failed) > 0 {
		return r, &PrefetchError{Failed: failed, Total: len(r.Modules)}
	}
	return r, nil
}

// finishGoModOnly records and reports the outcome of a module needed only
// for its go.mod, once the graph is loaded.
func (p *prefetcher) finishGoModOnly(pm *pmod) {
	res := PrefetchModule{Path: pm.mod.Path, Version: pm.mod.Version, GoModOnly: true,
		Bytes: pm.bytes.Load(), Retries: int(pm.retries.Load())}
	if pm.modErr != nil {
		res.Err, res.Class = pm.modErr, failureClass(pm.modErr)
	} else {
		res.Cached = !pm.started.Load()
		file, _ := p.c.cache.Path(pm.mod, "mod")
		res.Files = ModuleFiles{Path: pm.mod.Path, Version: pm.mod.Version, GoMod: file}
		if r, ok := p.gomods.peek(pm.mod); ok {
			res.Files.GoModSum, _ = HashGoMod(r.data)
		}
	}
	p.mu.Lock()
	pm.res = res
	p.mu.Unlock()
	p.report(pm)
}

// report emits a module's done or fail event.
func (p *prefetcher) report(pm *pmod) {
	p.req.Progress.done(pm.mod, pm.res.GoModOnly)
	ev := PrefetchEvent{Kind: PrefetchDone, Path: pm.mod.Path, Version: pm.mod.Version, GoModOnly: pm.res.GoModOnly,
		Bytes: pm.res.Bytes, Cached: pm.res.Cached}
	if pm.started.Load() {
		ev.Elapsed = time.Since(pm.start)
	}
	if pm.res.Err != nil {
		ev.Kind, ev.Err, ev.Class = PrefetchFail, pm.res.Err, pm.res.Class
	}
	p.emit(ev)
}

func (p *prefetcher) emit(ev PrefetchEvent) {
	if p.req.OnEvent == nil {
		return
	}
	p.emitMu.Lock()
	defer p.emitMu.Unlock()
	p.req.OnEvent(ev)
}

// moduleLocked returns the state of m, creating it; p.mu is held.
func (p *prefetcher) moduleLocked(m module.Version) *pmod {
	pm := p.mods[m]
	if pm == nil {
		pm = &pmod{mod: m}
		p.mods[m] = pm
		p.paths[m.Path] = true
	}
	return pm
}

// started marks the module's first transfer, and reports it once the
// module is needed.
func (p *prefetcher) started(pm *pmod, file string) {
	p.mu.Lock()
	first := !pm.started.Load()
	if first {
		pm.start = time.Now()
		pm.started.Store(true)
	}
	report := first && pm.needed
	p.mu.Unlock()
	if report {
		p.emit(PrefetchEvent{Kind: PrefetchStart, Path: pm.mod.Path, Version: pm.mod.Version, File: file})
	}
}

// need marks m as needed and returns its state. A go.mod fetched ahead of
// the walk is reported as started only now that it is known to be needed.
func (p *prefetcher) need(m module.Version) *pmod {
	p.mu.Lock()
	pm, reportStart := p.needLocked(m)
	p.mu.Unlock()
	if reportStart {
		p.emit(PrefetchEvent{Kind: PrefetchStart, Path: m.Path, Version: m.Version, File: "mod"})
	}
	return pm
}

// needLocked is need with p.mu held; the caller reports the start if told.
func (p *prefetcher) needLocked(m module.Version) (pm *pmod, reportStart bool) {
	pm = p.moduleLocked(m)
	if !pm.needed {
		pm.needed = true
		reportStart = pm.started.Load()
	}
	return pm, reportStart
}

// fetchGoModsAhead starts fetching the go.mod of every "/go.mod" line of
// go.sum at once. The graph walk needs them a level at a time, so a slow
// or throttled answer near the root would otherwise hold up everything
// below it; fetched ahead, a go.mod is ready when the walk gets there. A
// go.mod fetched ahead is verified but not stored, and not reported, until
// the walk needs it: a go.sum line for a module outside the graph (kept by
// 'go mod tidy -compat', or stale) leaves no trace in the cache, so the
// end state stays that of 'go mod download all'.
func (p *prefetcher) fetchGoModsAhead(ctx context.Context, sum *GoSum) {
	for _, m := range sum.goModVersions() {
		if m.Path == p.mainPath() || checkVersion(m.Path, m.Version) != nil {
			continue
		}
		p.mu.Lock()
		pm := p.moduleLocked(m)
		p.mu.Unlock()
		p.work.Go(func() { p.goMod(ctx, pm) })
	}
}

// retried reports a retried, resumed or hedged request, found by its URL.
func (p *prefetcher) retried(ev retry.Event, class string) {
	p.retries.Add(1)
	mod, file := p.urlModule(ev.URL)
	out := PrefetchEvent{Kind: PrefetchRetry, Path: mod.Path, Version: mod.Version, File: file, Class: class, Delay: ev.Delay}
	if mod.Path != "" {
		p.mu.Lock()
		pm := p.mods[mod]
		p.mu.Unlock()
		if pm != nil {
			pm.retries.Add(1)
		}
	}
	p.emit(out)
}

// urlModule finds the module version and file a proxy URL asks for:
// <proxy>/<escaped path>/@v/<escaped version>.<ext>. The proxy URL may
// have a path of its own, so the module path is the longest suffix of the
// part before /@v/ that names a module being fetched.
func (p *prefetcher) urlModule(rawURL string) (module.Version, string) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return module.Version{}, ""
	}
	at := strings.LastIndex(u.Path, "/@v/")
	if at < 0 {
		if strings.Contains(u.Path, "/sumdb/") {
			return module.Version{}, "sumdb"
		}
		return module.Version{}, ""
	}
	name := u.Path[at+len("/@v/"):]
	ext := path.Ext(name)
	file := strings.TrimPrefix(ext, ".")
	version, err := module.UnescapeVersion(strings.TrimSuffix(name, ext))
	if err != nil {
		return module.Version{}, file
	}
	prefix := u.Path[:at]
	p.mu.Lock()
	defer p.mu.Unlock()
	for j := 0; ; {
		k := strings.IndexByte(prefix[j:], '/')
		if k < 0 {
			return module.Version{}, file
		}
		j += k + 1
		if mp, err := module.UnescapePath(prefix[j:]); err == nil && p.paths[mp] {
			return module.Version{Path: mp, Version: version}, file
		}
	}
}

// failureClass classifies a module's failure for PrefetchModule.Class.
func failureClass(err error) string {
	var ce *ChecksumError
	var re *retry.Error
	switch {
	case errors.As(err, &ce):
		return "checksum"
	case errors.Is(err, ErrTooNew):
		return "toonew"
	case errors.As(err, &re):
		return re.Class.String()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	case errors.Is(err, ErrCorruptZip):
		return "corrupt"
	case errors.Is(err, modload.ErrInvalidGoMod):
		return "invalid"
	case errors.Is(err, fs.ErrNotExist):
		return "not-found"
	}
	return "other"
}

// onceMap computes one value per module version, once: concurrent callers
// share the computation (singleflight), later ones get the stored value.
type onceMap[V any] struct {
	done   sync.Map // module.Version → V
	flight singleflight.Group
}

func (o *onceMap[V]) get(m module.Version, compute func() V) V {
	if v, ok := o.peek(m); ok {
		return v
	}
	v, _, _ := o.flight.Do(m.String(), func() (any, error) {
		if v, ok := o.peek(m); ok {
			return v, nil
		}
		v := compute()
		o.done.Store(m, v)
		return v, nil
	})
	return v.(V)
}

// peek returns the value for m, if it has been computed.
func (o *onceMap[V]) peek(m module.Version) (V, bool) {
	v, ok := o.done.Load(m)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}
