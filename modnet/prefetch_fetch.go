package modnet

import (
	"context"
	"errors"
	"net/url"
	"os"
	"sync"
	"time"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/retry"
)

// goModResult is a module's go.mod, verified, or why it could not be had.
type goModResult struct {
	data    []byte
	err     error
	fetched bool // downloaded, not read from the cache

	commit    sync.Once
	commitErr error
}

// goMod returns pm's go.mod, verified against go.sum or the checksum
// database: from the cache, else downloaded holding a transfer slot. It is
// fetched once however many callers want it, and not stored: see
// commitGoMod.
func (p *prefetcher) goMod(ctx context.Context, pm *pmod) *goModResult {
	return p.gomods.get(pm.mod, func() *goModResult { return p.fetchGoMod(ctx, pm) })
}

func (p *prefetcher) fetchGoMod(ctx context.Context, pm *pmod) *goModResult {
	m := pm.mod
	chk, err := p.c.checker(m.Path)
	if err != nil {
		return &goModResult{err: &ModuleError{Path: m.Path, Version: m.Version, Err: err}}
	}
	// As cmd/go/internal/modfetch.readDiskGoMod does, a cached go.mod is
	// checked again before it is used.
	if data, _, err := p.c.cache.ReadGoMod(m); err == nil {
		if err := chk.checkGoMod(ctx, m, data); err != nil {
			return &goModResult{err: err}
		}
		return &goModResult{data: data}
	}
	release, err := p.acquire(ctx, pm, "mod", false)
	if err != nil {
		return &goModResult{err: &ModuleError{Path: m.Path, Version: m.Version, Err: err}}
	}
	data, err := p.c.fetchGoMod(ctx, m, chk, p.mismatch(pm, "mod"))
	release()
	if err != nil {
		return &goModResult{err: err}
	}
	return &goModResult{data: data, fetched: true}
}

// commitGoMod stores a downloaded go.mod in the cache, once.
func (p *prefetcher) commitGoMod(ctx context.Context, pm *pmod, r *goModResult) error {
	r.commit.Do(func() {
		// Not in the cache when it was fetched; should another process
		// have stored it since, it stores the same verified bytes.
		if !r.fetched {
			return
		}
		if _, err := p.c.cache.WriteGoMod(ctx, pm.mod, r.data); err != nil {
			r.commitErr = &ModuleError{Path: pm.mod.Path, Version: pm.mod.Version, Err: err}
			return
		}
		pm.bytes.Add(int64(len(r.data)))
	})
	return r.commitErr
}

// fetchFull starts downloading m in full, unless it already is.
func (p *prefetcher) fetchFull(ctx context.Context, m module.Version) {
	p.mu.Lock()
	pm, reportStart := p.needLocked(m)
	if pm.full {
		p.mu.Unlock()
		return
	}
	pm.full = true
	ahead := pm.ahead
	p.mu.Unlock()
	if reportStart {
		p.emit(PrefetchEvent{Kind: PrefetchStart, Path: m.Path, Version: m.Version, File: "mod"})
	}
	if ahead != nil {
		ahead.decide(true) // already downloading
		return
	}
	p.work.Go(func() { p.download(ctx, pm) })
}

// fetchZipsAhead starts downloading in full, before the graph walk ends,
// every module version whose zip hash go.sum has, unless it is started
// already. In a tidy go.sum those are the build list's modules, so the
// walk's go.mod chain, slow under throttling, no longer delays their zips.
// Such a download runs up to the point where the zip has verified (and,
// unless NoExtract, has been extracted into its temporary directory):
// there it waits (without its extractor) until the walk decides; see
// aheadGate. What the walk does not confirm (a stale go.sum line, a
// module only the go.mod of which the graph needs) is abandoned and
// leaves nothing in the cache, so the end state stays that of 'go mod
// download all', at the price of its transfer.
func (p *prefetcher) fetchZipsAhead(ctx context.Context, sum *GoSum) {
	for _, m := range sum.zipVersions() {
		if m.Path == p.mainPath() || checkVersion(m.Path, m.Version) != nil {
			continue
		}
		p.mu.Lock()
		pm := p.moduleLocked(m)
		if pm.full || pm.ahead != nil {
			p.mu.Unlock()
			continue
		}
		actx, cancel := context.WithCancel(ctx)
		pm.ahead = &aheadGate{decided: make(chan struct{}), cancel: cancel}
		p.mu.Unlock()
		p.work.Go(func() { p.download(actx, pm) })
	}
}

// An aheadGate holds back a download started ahead of the graph walk
// until the walk confirms that the module is needed in full.
type aheadGate struct {
	once    sync.Once
	decided chan struct{} // closed once keep is set
	keep    bool
	cancel  context.CancelFunc // abandons the download
}

func (g *aheadGate) decide(keep bool) {
	g.once.Do(func() {
		g.keep = keep
		close(g.decided)
		if !keep {
			g.cancel()
		}
	})
}

// kept reports whether the walk has confirmed the module.
func (g *aheadGate) kept() bool {
	select {
	case <-g.decided:
		return g.keep
	default:
		return false
	}
}

// waitAhead waits for the walk's decision about a verified zip of pm, a
// module downloaded ahead. If the download holds an extractor (limited),
// it gives it back meanwhile and takes one again, whatever the decision,
// before it returns, so that the download's own release stays balanced.
// It fails if the module is not confirmed.
func (p *prefetcher) waitAhead(ctx context.Context, pm *pmod, size int64, limited bool) error {
	g := pm.ahead
	if g == nil || g.kept() {
		return nil
	}
	select {
	case <-g.decided:
	default:
		if limited {
			p.extract.release()
		}
		select {
		case <-g.decided:
		case <-ctx.Done():
		}
		if limited {
			// Held again for the caller to release: an extractor is
			// always released eventually.
			_ = p.extract.acquireSized(context.WithoutCancel(ctx), prioRetry, size)
		}
	}
	if !g.keep {
		return &ModuleError{Path: pm.mod.Path, Version: pm.mod.Version, Err: errNotConfirmed}
	}
	return nil
}

// errNotConfirmed abandons a download started ahead that the graph walk
// did not confirm; it is never reported.
var errNotConfirmed = errors.New("downloaded ahead but not in the build list")

// download brings one module version into the cache as
// 'go mod download' does (cmd/go/internal/modcmd.DownloadModule), but
// with its .info, .mod and .zip fetched at once, and the .info and .mod
// stored only after the zip has verified. Extraction waits for an
// extractor, not a transfer slot.
func (p *prefetcher) download(ctx context.Context, pm *pmod) {
	m := pm.mod
	if pm.ahead != nil {
		defer pm.ahead.cancel() // its context, kept or not, ends with it
	}
	var (
		wg      sync.WaitGroup
		info    *Info
		infoErr error
		gm      *goModResult
	)
	wg.Go(func() { info, infoErr = p.info(ctx, pm) })
	wg.Go(func() { gm = p.goMod(ctx, pm) })
	zipfile, dir, sum, zipErr := p.zip(ctx, pm)
	wg.Wait()
	if g := pm.ahead; g != nil {
		// A download that ended before the walk decided (a failure, a
		// zip already in the cache) waits for the decision too.
		<-g.decided
		if !g.keep {
			return // not confirmed by the walk: abandoned, nothing stored
		}
	}

	res := PrefetchModule{Path: m.Path, Version: m.Version}
	err := firstError(zipErr, gm.err, infoErr)
	if err == nil {
		err = p.commitGoMod(ctx, pm, gm)
	}
	if err == nil && info != nil {
		err = p.commitInfo(ctx, pm, info)
	}
	if err == nil {
		res.Files = ModuleFiles{Path: m.Path, Version: m.Version, Zip: zipfile, Dir: dir, Sum: sum}
		res.Files.Info, _ = p.c.cache.Path(m, "info")
		res.Files.GoMod, _ = p.c.cache.Path(m, "mod")
		res.Files.GoModSum, _ = HashGoMod(gm.data)
	}
	if err != nil {
		res.Err, res.Class = err, failureClass(err)
	} else {
		res.Cached = !pm.started.Load()
	}
	res.Bytes = pm.bytes.Load()
	res.Retries = int(pm.retries.Load())
	p.mu.Lock()
	pm.res = res
	p.mu.Unlock()
	p.report(pm)
}

// firstError picks the error to report for a module: a checksum mismatch
// first, as the security error it is, then the first in order.
func firstError(errs ...error) error {
	for _, err := range errs {
		var ce *ChecksumError
		if errors.As(err, &ce) {
			return err
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// info returns pm's .info to store, or nil if the cache has it.
func (p *prefetcher) info(ctx context.Context, pm *pmod) (*Info, error) {
	m := pm.mod
	if _, _, err := p.c.cache.ReadInfo(m); err == nil {
		return nil, nil
	}
	release, err := p.acquire(ctx, pm, "info", false)
	if err != nil {
		return nil, &ModuleError{Path: m.Path, Version: m.Version, Err: err}
	}
	defer release()
	return p.c.statInfo(ctx, m.Path, m.Version)
}

// commitInfo stores a downloaded .info (cmd/go/internal/modfetch.InfoFile).
func (p *prefetcher) commitInfo(ctx context.Context, pm *pmod, info *Info) error {
	file, err := p.c.cache.WriteInfo(ctx, pm.mod, info)
	if err != nil {
		return &ModuleError{Path: pm.mod.Path, Version: pm.mod.Version, Err: err}
	}
	if fi, err := os.Stat(file); err == nil {
		pm.bytes.Add(fi.Size())
	}
	return nil
}

// zip makes sure pm's zip is in the cache and verified, and extracted
// unless the request says not to, holding a transfer slot only while it
// downloads and an extractor while it inflates, hashes and extracts. It
// returns the zip, the directory ("" if not extracted) and the hash.
func (p *prefetcher) zip(ctx context.Context, pm *pmod) (file, dir, sum string, err error) {
	fetched := false
	job := zipJob{
		acquire: func(ctx context.Context) (func(), error) {
			fetched = true
			return p.acquire(ctx, pm, "zip", true)
		},
		extract: !p.req.NoExtract,
		limit: func(ctx context.Context, size int64) (func(), error) {
			if err := p.extract.acquireSized(ctx, prioBulk, size); err != nil {
				return nil, err
			}
			return p.extract.release, nil
		},
		mismatch: p.mismatch(pm, "zip"),
	}
	if pm.ahead != nil {
		job.hold = func(ctx context.Context, size int64, limited bool) error { return p.waitAhead(ctx, pm, size, limited) }
	}
	if prog := p.req.Progress; prog != nil {
		job.written = prog.wrote
		job.sized = func(size int64) { prog.sized(pm.mod, size) }
	}
	file, dir, sum, err = p.c.zip(ctx, pm.mod.Path, pm.mod.Version, job)
	if err == nil && fetched {
		if fi, err := os.Stat(file); err == nil {
			pm.bytes.Add(fi.Size())
		}
	}
	return file, dir, sum, err
}

// mismatch returns the hook that reports the first copy of one of pm's
// files that failed verification, as a warning event, whether or not a
// later copy verifies.
func (p *prefetcher) mismatch(pm *pmod, file string) func(error) {
	return func(err error) {
		p.emit(PrefetchEvent{Kind: PrefetchMismatch, Path: pm.mod.Path, Version: pm.mod.Version, File: file, Class: failureClass(err), Err: err})
	}
}

// acquire waits for a transfer slot for one of pm's files (a zip is bulk),
// and reports the module's start with its first transfer. While the retry
// loop waits before another attempt, the slot goes back to the pool (see
// pause).
func (p *prefetcher) acquire(ctx context.Context, pm *pmod, file string, bulk bool) (release func(), err error) {
	h := &hold{p: p, host: p.hostOf(pm.mod.Path), bulk: bulk}
	prio := prioSmall
	if bulk || file == "info" {
		// Nothing waits for a .info but the end of its module, which
		// waits for the zip: it queues with the zips, behind the go.mod
		// files the graph walk waits for.
		prio = prioBulk
	}
	if err := h.take(ctx, prio); err != nil {
		return nil, err
	}
	key := holdKey{pm.mod, file}
	p.holds.Store(key, h)
	p.started(pm, file)
	return func() {
		p.holds.Delete(key)
		h.give()
	}, nil
}

// holdKey names one file's transfer: at most one is in flight.
type holdKey struct {
	mod  module.Version
	file string
}

// A hold is the transfer slot of one file's download.
type hold struct {
	p    *prefetcher
	host string
	bulk bool

	mu      sync.Mutex
	release func() // nil while not held
}

func (h *hold) take(ctx context.Context, prio int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.release != nil {
		return nil
	}
	r, err := h.p.hosts.acquire(ctx, h.host, h.bulk, prio)
	if err != nil {
		return err
	}
	h.release = r
	return nil
}

func (h *hold) give() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.release != nil {
		h.release()
		h.release = nil
	}
}

// minPause is the shortest wait before a retry for which a transfer gives
// its slot back: a throttled request told to come back in a second should
// not keep another file from starting meanwhile.
const minPause = 50 * time.Millisecond

// pause gives back the slot of the transfer a retry is scheduled for,
// if the wait is long enough to matter. The retry client calls its hooks
// on the requesting goroutine, before it sleeps.
func (p *prefetcher) pause(ev retry.Event) {
	if ev.Delay < minPause {
		return
	}
	if h := p.holdFor(ev.URL); h != nil {
		h.give()
	}
}

// resume takes a slot again before a retry's attempt, ahead of transfers
// that have not started: their wait is not over a second attempt's.
func (p *prefetcher) resume(ev retry.Event) {
	if ev.Attempt <= 1 {
		return
	}
	if h := p.holdFor(ev.URL); h != nil {
		// On cancellation the attempt goes out without a slot and fails.
		_ = h.take(p.ctx, prioRetry)
	}
}

func (p *prefetcher) holdFor(url string) *hold {
	mod, file := p.urlModule(url)
	if mod.Path == "" {
		return nil
	}
	if h, ok := p.holds.Load(holdKey{mod, file}); ok {
		return h.(*hold)
	}
	return nil
}

// hostOf names the host a module's files come from, for the per-host
// limit: that of the first source of its route.
func (p *prefetcher) hostOf(path string) string {
	r, err := p.c.Route(path)
	if err != nil || len(r.Sources) == 0 {
		return ""
	}
	s := r.Sources[0]
	if s.Kind != KindProxy {
		return string(s.Kind)
	}
	if u, err := url.Parse(s.URL); err == nil {
		return u.Host
	}
	return s.URL
}
