package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modload"
	"github.com/modkit/modkit/modnet/modproxy"
	"github.com/modkit/modkit/retry"
)

// A loopbackProxy is the server of modfetch exec and serve: a
// modproxy.Server backed by a modnet.Client built from the user's whole
// environment (GOPROXY, GONOPROXY and GOPRIVATE fetched direct, GOVCS,
// GOINSECURE, GOAUTH, GOSUMDB), listening on loopback under an
// unguessable path prefix.
//
// It never touches the go command's module cache but to look whether a
// file is there (read-ahead skips what the go command has): its Client
// keeps direct mode's repositories and the checksum database's state in a
// directory of its own, and files are passed through unverified, so it
// takes no lock the go command may hold while it waits for the server.
type loopbackProxy struct {
	env     *modnet.Env // the user's
	db      modnet.ChecksumDB
	client  *modnet.Client
	srv     *modproxy.Server
	prefix  string                 // the secret path prefix
	list    []*proxyEntry          // the go command's proxy list, on the server
	entries map[string]*proxyEntry // by name
	hs      *http.Server
	ln      net.Listener
	served  chan error
	url     string // GOPROXY for the go command: its entries on the server
	dir     string // the server's own directory
	temp    bool   // dir is temporary, removed on close
	stats   *proxyStats
	closed  sync.Once
}

// proxyOptions configure a loopbackProxy.
type proxyOptions struct {
	listen    string // address to listen on; "" means 127.0.0.1:0
	cacheDir  string // the server's directory, kept; "" means a temporary one
	readAhead bool   // fetch requirements and go.sum entries ahead
	// aheadLatency is the upstream round trip below which nothing is
	// fetched ahead (modproxy.ReadAhead.MinLatency); 0: at any.
	aheadLatency time.Duration
	verbose      io.Writer // where -v writes each request and retry; nil: nowhere
}

// newEnvironMap returns the process environment as a map.
func environMap() map[string]string {
	m := make(map[string]string)
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			m[k] = v
		}
	}
	return m
}

// startProxy starts the server.
func startProxy(opts proxyOptions) (_ *loopbackProxy, err error) {
	env, err := modnet.LoadEnv()
	if err != nil {
		return nil, err
	}
	list, err := proxyEntries(env)
	if err != nil {
		return nil, err
	}
	p := &loopbackProxy{env: env, dir: opts.cacheDir, stats: newProxyStats(opts.verbose), list: list}
	if p.dir == "" {
		if p.dir, err = os.MkdirTemp("", "modfetch-proxy-"); err != nil {
			return nil, err
		}
		p.temp = true
	} else if p.dir, err = filepath.Abs(p.dir); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	for _, sub := range []string{"tmp", "store"} {
		if err := os.MkdirAll(filepath.Join(p.dir, sub), 0o777); err != nil {
			return nil, err
		}
	}

	// The server's environment is the user's with a module cache and a
	// GOPATH (for the checksum database's state) of its own.
	environ := environMap()
	environ["GOROOT"] = env.Get("GOROOT") // found once, not by running go env again
	environ["GOMODCACHE"] = filepath.Join(p.dir, "modcache")
	environ["GOPATH"] = filepath.Join(p.dir, "gopath")
	senv, err := modnet.LoadEnvFrom(environ)
	if err != nil {
		return nil, err
	}
	p.client = &modnet.Client{Env: senv, HTTP: p.stats.retryClient(senv)}

	sumdbs := map[string]modproxy.ChecksumDB{}
	if p.db, err = modnet.ParseGOSUMDB(env.Lookup("GOSUMDB")); err == nil && p.db.Name != "" {
		d, err := p.client.SumDB()
		if err != nil {
			return nil, err
		}
		sumdbs[d.Name()] = d
	}
	// A malformed GOSUMDB is left for the go command to report, as it
	// would without the server.

	if p.prefix, err = secretPrefix(); err != nil {
		return nil, err
	}
	p.srv = &modproxy.Server{
		Client:  p.client,
		Store:   &modproxy.DiskStore{Dir: filepath.Join(p.dir, "store")},
		TempDir: filepath.Join(p.dir, "tmp"),
		Prefix:  p.prefix,
		SumDBs:  sumdbs,
		// The go command's own messages go to its user; the server's
		// records are only wanted with -v, which prints its own lines.
		Logger:   discardLogger,
		OnAnswer: p.stats.answer,
	}
	if opts.readAhead {
		cache := env.Get("GOMODCACHE")
		p.srv.ReadAhead = &modproxy.ReadAhead{
			// One user's go command, not a proxy's many clients: as many
			// transfers in flight as modfetch prefetch keeps, since at a
			// round trip of tens of milliseconds it is their number that
			// decides how soon hundreds of files are there.
			Jobs:       64,
			PerHost:    32,
			MinLatency: opts.aheadLatency,
			Have:       func(m module.Version, ext string) bool { return inModCache(cache, m, ext) },
			OnFetch:    p.stats.aheadFetched,
		}
	}

	// Each entry's lookups, from its source alone (see exec_entries.go),
	// on the same HTTP stack: one retry budget and host health per host.
	p.entries = make(map[string]*proxyEntry)
	for _, e := range p.list {
		p.entries[e.name] = e
		if e.src.Kind == modnet.KindOff {
			continue
		}
		eenv, err := modnet.LoadEnvFrom(entryEnv(environ, e.src))
		if err != nil {
			return nil, err
		}
		e.client = &modnet.Client{Env: eenv, HTTP: p.client.HTTP}
		e.queries = &modproxy.Server{
			Client:   e.client,
			TempDir:  filepath.Join(p.dir, "tmp"),
			Prefix:   p.prefix + "/" + e.name,
			Logger:   discardLogger,
			OnAnswer: p.stats.answer,
		}
	}

	listen := opts.listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	if p.ln, err = net.Listen("tcp", listen); err != nil {
		return nil, err
	}
	p.hs = &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          discardLog,
	}
	p.served = make(chan error, 1)
	go func() { p.served <- p.hs.Serve(p.ln) }()
	p.url = goproxy("http://"+urlHost(p.ln.Addr())+p.prefix, p.list)
	return p, nil
}

// defaultAheadLatency is the round trip below which exec and serve do
// not read ahead: none, so they read ahead at any latency. Against a
// mirror on the same machine (0 ms) a pause below 2ms left 'go mod tidy'
// of the real 139-module graph as fast (1.10x plain either way, 7 runs
// each on two cores) and made 'go mod download all' slower (1.17x against
// 1.10x): fetching the go.sum's zips ahead hides the hop through the
// server, which stores each zip before serving it.
const defaultAheadLatency = 0

// secretPrefix returns an unguessable path prefix: 130 random bits.
func secretPrefix() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "/" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}

// urlHost is the host[:port] clients use for a listener's address: an
// unspecified address (listening on all interfaces) is reached on
// loopback.
func urlHost(addr net.Addr) string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := ta.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(ta.Port))
}

// inModCache reports whether the go command's module cache has mod's
// file (ext ".info", ".mod" or ".zip") or, for ext "", mod extracted: a
// plain stat, never a lock.
func inModCache(cache string, mod module.Version, ext string) bool {
	if cache == "" {
		return false
	}
	esc, err1 := module.EscapePath(mod.Path)
	ev, err2 := module.EscapeVersion(mod.Version)
	if err1 != nil || err2 != nil {
		return false
	}
	name := filepath.Join(cache, "cache", "download", filepath.FromSlash(esc), "@v", ev+ext)
	if ext == "" {
		name = filepath.Join(cache, filepath.FromSlash(esc)+"@"+ev)
	}
	_, err := os.Stat(name)
	return err == nil
}

// childEnv returns environ changed so that all of a go command's module
// traffic goes to the server, with the go command's rules otherwise
// unchanged (cmd/go/internal/cfg, modfetch/proxy.go, modfetch/sumdb.go,
// auth):
//
//   - GOPROXY is the user's list, each entry on the server under the
//     secret prefix (exec_entries.go): the go command falls back from one
//     entry to the next as it would without exec, while the server
//     retries each.
//   - GONOPROXY=none when it matches paths (it defaults to GOPRIVATE), the
//     go command's documented idiom for "a proxy serves the private
//     modules too" ('go help module-private'): private paths then go to the
//     server too, which fetches them direct, with GOVCS, GOINSECURE and
//     GOAUTH. An empty GONOPROXY stays empty: any value puts an implicit
//     "noproxy" entry first in the go command's proxy list, whose errors
//     rank above the proxy's (modfetch.TryProxies), which changes what
//     some queries answer (go get m@patch fails with it).
//   - GOPRIVATE and GONOSUMDB are left alone, so the checksum database is
//     consulted for exactly the paths it is consulted for without exec.
//   - GOSUMDB "name+key url" bypasses proxies, so it becomes the key
//     alone: the go command then asks the server's /sumdb/<name>/supported
//     and reads the database through it, verifying with the same key; the
//     server reaches the database at the URL.
//   - GOAUTH=off: the go command's only network peer is the server, on
//     plain http, which needs no credentials; the go command sends none
//     over http anyway, and now runs no GOAUTH command either.
//
// GOFLAGS, GOWORK, GOTOOLCHAIN and the rest pass through.
func (p *loopbackProxy) childEnv(environ []string) []string {
	set := p.exports()
	out := slices.DeleteFunc(slices.Clone(environ), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		_, ok := set[k]
		return ok
	})
	for _, k := range slices.Sorted(maps.Keys(set)) {
		out = append(out, k+"="+set[k])
	}
	return out
}

// exports are the variables childEnv sets.
func (p *loopbackProxy) exports() map[string]string {
	set := map[string]string{"GOPROXY": p.url, "GOAUTH": "off"}
	if p.env.Get("GONOPROXY") != "" {
		set["GONOPROXY"] = "none"
	}
	if p.db.Explicit && p.db.Key != "" {
		set["GOSUMDB"] = p.db.Key
	}
	return set
}

// readAheadModule queues what the module containing dir (or the workspace
// it is in) will need: its requirements' go.mod files and what its go.sum
// lists.
func (p *loopbackProxy) readAheadModule(dir string) {
	if p.srv.ReadAhead == nil {
		return
	}
	var gomods, sums []string
	switch file, work, _ := p.env.FindMain(dir); { // a bad GOWORK is the go command's to report
	case work:
		sums = append(sums, modload.WorkSumFile(file))
		gomods, _ = modload.WorkGoMods(file)
	case file != "":
		gomods = append(gomods, file)
	}
	for _, gomod := range gomods {
		p.readAheadGoMod(gomod)
		sums = append(sums, modload.GoSumFile(gomod))
	}
	for _, name := range sums {
		sum, err := modnet.ReadGoSum(name)
		if err != nil {
			continue // no go.sum yet
		}
		for _, l := range sum.Lines() {
			if v, ok := strings.CutSuffix(l.Version, "/go.mod"); ok {
				p.srv.FetchAhead(module.Version{Path: l.Path, Version: v}, ".mod")
			}
		}
		// .info files and zips once the go command asks for its first:
		// it needs the graph first, and many commands need neither
		// (go mod tidy asks for no .info file, go list -m for no zip).
		for _, l := range sum.Lines() {
			if !strings.HasSuffix(l.Version, "/go.mod") {
				m := module.Version{Path: l.Path, Version: l.Version}
				p.srv.FetchAheadWhenAsked(m, ".info")
				p.srv.FetchAheadWhenAsked(m, ".zip")
			}
		}
	}
}

// fetchToolchain starts fetching, before the command runs, the toolchain
// the go command run in dir is about to switch to and download
// (cmd/go/internal/toolchain.Exec), as [modnet.Env.SelectToolchain] decides
// from GOTOOLCHAIN and the go.work or go.mod file's go and toolchain
// lines: the zip of golang.org/toolchain for this GOOS and GOARCH, and its
// checksum database record, which the go command reads to verify it. The
// go command's own requests for them then wait on these fetches or find
// them stored. Nothing is fetched when the go command would not download:
// no switch, GOTOOLCHAIN=path or +path, the toolchain in PATH, or already
// in the go command's module cache. A switch for a dependency too new for
// the local Go (the go command's TooNewError) is not foreseen: the go
// command's own request fetches that toolchain, retried and resumed as
// every file.
func (p *loopbackProxy) fetchToolchain(dir string) {
	sel, err := p.env.SelectToolchain(context.Background(), dir)
	if err != nil || !sel.Switch() || sel.Mode != "auto" {
		return // a bad setting is the go command's to report
	}
	if _, err := p.env.LookPath(sel.Name); err == nil {
		return
	}
	m := module.Version{Path: modnet.ToolchainModule, Version: modnet.ToolchainModuleVersion(sel.Name, runtime.GOOS, runtime.GOARCH)}
	if cache := p.env.Get("GOMODCACHE"); inModCache(cache, m, ".zip") || inModCache(cache, m, "") {
		return
	}
	p.stats.printf("modfetch: toolchain %s (%s): fetching %s ahead\n", sel.Name, sel.Reason, m)
	fetched := p.srv.StartFetch(m, ".zip")
	go func() { p.stats.aheadFetched(m, ".zip", <-fetched) }()
}

// readAheadGoMod queues the go.mod files of a main module's requirements,
// the first the go command loads, as replaced by its replace directives.
func (p *loopbackProxy) readAheadGoMod(gomod string) {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return
	}
	f, err := modfile.ParseLax(gomod, data, nil)
	if err != nil {
		return
	}
	replaced := func(m module.Version) (module.Version, bool) {
		for _, r := range f.Replace {
			if r.Old.Path == m.Path && (r.Old.Version == "" || r.Old.Version == m.Version) {
				return r.New, r.New.Version != "" // a directory has nothing to fetch
			}
		}
		return m, true
	}
	for _, r := range f.Require {
		if m, ok := replaced(r.Mod); ok {
			p.srv.FetchAhead(m, ".mod")
		}
	}
}

// aheadNote says, for -v, how read-ahead adapted to the upstream's round
// trip; "" when it does not adapt.
func (p *loopbackProxy) aheadNote() string {
	ra := p.srv.ReadAhead
	if ra == nil || ra.MinLatency <= 0 {
		return ""
	}
	rtt, ok := p.srv.RoundTrip()
	switch {
	case !ok:
		return "read-ahead: no round trip upstream observed"
	case rtt < ra.MinLatency:
		return fmt.Sprintf("read-ahead: paused, the upstream's round trip (%s) being under %s (-readahead-latency)", rtt.Round(10*time.Microsecond), ra.MinLatency)
	}
	return fmt.Sprintf("read-ahead: on, the upstream's round trip (%s) being at least %s (-readahead-latency)", rtt.Round(10*time.Microsecond), ra.MinLatency)
}

// close stops the server and removes its directory if it was temporary.
// Later calls do nothing.
func (p *loopbackProxy) close() { p.closed.Do(p.stop) }

func (p *loopbackProxy) stop() {
	if p.hs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if p.hs.Shutdown(ctx) != nil {
			p.hs.Close()
		}
		cancel()
	}
	if p.srv != nil {
		p.srv.Close()
	}
	for _, e := range p.list {
		if e.queries != nil {
			e.queries.Close()
			e.client.Close()
		}
	}
	if p.client != nil {
		p.client.Close()
	}
	if p.temp {
		modnet.RemoveAll(p.dir)
	}
}

// proxyStats counts what the server did, for the summary and -v.
type proxyStats struct {
	verbose io.Writer
	mu      sync.Mutex // serialises verbose lines and retries

	requests, failed atomic.Int64
	fromAhead        atomic.Int64
	aheadFetches     atomic.Int64
	hedges, resumes  atomic.Int64
	retries          map[string]int // by class
}

func newProxyStats(verbose io.Writer) *proxyStats {
	return &proxyStats{verbose: verbose, retries: map[string]int{}}
}

func (s *proxyStats) printf(format string, args ...any) {
	if s.verbose == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.verbose, format, args...)
}

// retryClient is the server's retry policy: the go command waits for
// every answer, so a stalled or slow upstream must be given up on (and
// hedged) within a second or two rather than the defaults' tens of
// seconds, and sporadic failures of a proxy that answers most requests
// are retried at once; a proxy failing broadly is still backed off.
func (s *proxyStats) retryClient(env *modnet.Env) *retry.Client {
	hc := &retry.Client{
		MaxAttempts:           10,
		BaseDelay:             100 * time.Millisecond,
		ThrottleBaseDelay:     250 * time.Millisecond,
		AdaptiveBackoff:       true,
		HedgeMinDelay:         250 * time.Millisecond,
		StallTimeoutMin:       2 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		OnRetry: func(ev retry.Event) {
			why := ev.Class.String()
			s.mu.Lock()
			s.retries[why]++
			s.mu.Unlock()
			if ev.StatusCode != 0 {
				why = fmt.Sprintf("%s, status %d", why, ev.StatusCode)
			}
			s.printf("modfetch: retry %s: %s; attempt %d in %s\n", ev.URL, why, ev.Attempt+1, ev.Delay.Round(time.Millisecond))
		},
		OnHedge: func(ev retry.Event) {
			s.hedges.Add(1)
			s.printf("modfetch: hedge %s after %s\n", ev.URL, ev.Delay.Round(time.Millisecond))
		},
		OnResume: func(ev retry.Event) {
			s.resumes.Add(1)
			s.printf("modfetch: resume %s at byte %d\n", ev.URL, ev.Offset)
		},
	}
	// Dozens of requests in flight to one proxy: keep their connections.
	if t := retry.NewTransport(0, 0); t != nil {
		pf := env.ProxyConfig().ProxyFunc()
		t.Proxy = func(r *http.Request) (*url.URL, error) { return pf(r.URL) }
		t.MaxIdleConnsPerHost = 32
		hc.Transport = t
	}
	return hc
}

func (s *proxyStats) answer(a modproxy.Answer) {
	s.requests.Add(1)
	if a.Status >= 500 {
		s.failed.Add(1)
	}
	if a.From == "read-ahead" {
		s.fromAhead.Add(1)
	}
	from := a.From
	if from != "" {
		from = " (" + from + ")"
	}
	s.printf("modfetch: %s %s %d %dB %.3fs%s\n", a.Method, a.Path, a.Status, a.Bytes, a.Elapsed.Seconds(), from)
	if a.Err != nil && a.Status >= 500 {
		s.printf("modfetch: \t%s\n", firstLine(a.Err.Error()))
	}
}

func (s *proxyStats) aheadFetched(m module.Version, ext string, err error) {
	s.aheadFetches.Add(1)
	if err != nil {
		s.printf("modfetch: read-ahead %s%s: %s\n", m, ext, firstLine(err.Error()))
	}
}

// summary is the one line printed on exit: empty when nothing went wrong
// and not verbose.
func (s *proxyStats) summary(verbose bool) string {
	s.mu.Lock()
	type count struct {
		class string
		n     int
	}
	var counts []count
	retries := 0
	for c, n := range s.retries {
		counts = append(counts, count{c, n})
		retries += n
	}
	s.mu.Unlock()
	slices.SortFunc(counts, func(a, b count) int { return cmp.Or(b.n-a.n, strings.Compare(a.class, b.class)) })
	var classes []string
	for _, c := range counts {
		classes = append(classes, fmt.Sprintf("%d %s", c.n, c.class))
	}
	hedges, resumes, failed := s.hedges.Load(), s.resumes.Load(), s.failed.Load()
	if !verbose && retries == 0 && hedges == 0 && resumes == 0 && failed == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests, %d failed", s.requests.Load(), failed)
	if s.aheadFetches.Load() > 0 {
		fmt.Fprintf(&b, ", %d answered from %d files read ahead", s.fromAhead.Load(), s.aheadFetches.Load())
	}
	fmt.Fprintf(&b, "; upstream: %d retries", retries)
	if len(classes) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(classes, ", "))
	}
	fmt.Fprintf(&b, ", %d hedges, %d resumes", hedges, resumes)
	return b.String()
}

// The server's logs: -v prints lines of its own instead.
var (
	discardLogger = slog.New(slog.DiscardHandler)
	discardLog    = log.New(io.Discard, "", 0)
)
