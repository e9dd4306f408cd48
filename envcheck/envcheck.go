package envcheck

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/modkit/modkit/internal/goauth"
	"github.com/modkit/modkit/modnet"
)

// A Status is the outcome of one check.
type Status string

// The statuses, from best to worst. Only [StatusError] makes a run fail:
// warnings point at settings that work today but are fragile or leak.
const (
	StatusOK    Status = "ok"    // nothing to report
	StatusInfo  Status = "info"  // worth knowing, nothing to fix
	StatusWarn  Status = "warn"  // works, but is fragile, surprising or leaks private paths
	StatusError Status = "error" // module downloads fail (or will) until this is fixed
	StatusSkip  Status = "skip"  // the check did not apply or was not selected to run
)

// rank orders statuses for picking the worst of several findings.
func (s Status) rank() int {
	switch s {
	case StatusOK:
		return 1
	case StatusInfo:
		return 2
	case StatusWarn:
		return 3
	case StatusError:
		return 4
	}
	return 0
}

// A Result is the outcome of one check.
type Result struct {
	// ID is the check's stable identifier, such as "goproxy.syntax".
	ID string
	// Status is the outcome.
	Status Status
	// Summary is one line saying what was found.
	Summary string
	// Details are further lines: each finding, where a value came from,
	// phase timings.
	Details []string
	// Fix is what to run or edit to repair the problem, one command or
	// instruction per line, ready to copy; empty when there is nothing to do.
	Fix string
	// Duration is how long the check took.
	Duration time.Duration
}

// A Report is the outcome of a [Run]: one [Result] per check, in the
// order of [Checks].
type Report struct {
	Checks   []Result
	Errors   int           // results with StatusError
	Warnings int           // results with StatusWarn
	Duration time.Duration // the whole run
}

// Failed reports whether any check has [StatusError]. Warnings never fail
// a run, so that moddoctor can gate CI on real breakage only.
func (r *Report) Failed() bool { return r.Errors > 0 }

// Result returns the result of the check with the given ID.
func (r *Report) Result(id string) (Result, bool) {
	for _, c := range r.Checks {
		if c.ID == id {
			return c, true
		}
	}
	return Result{}, false
}

// Options configure a [Run]. The zero value checks the running process's
// environment and the module in the current directory, live probes
// included.
type Options struct {
	// Env is the environment to check; nil loads the process's with
	// [modnet.LoadEnv].
	Env *modnet.Env

	// Offline skips the live probes, which are the only checks that use the
	// network.
	Offline bool

	// Checks selects checks by ID ("tls.verify") or by the ID's first
	// element ("tls" selects every tls.* check); empty runs all of them.
	// An unknown name becomes an error result.
	Checks []string

	// CheckTimeout bounds each check; 0 means 2s. A probe of an endpoint
	// that accepts connections and never answers costs at most this long;
	// a check that ignores its deadline is abandoned 100ms later.
	CheckTimeout time.Duration
	// Timeout bounds the whole run; 0 means 5s. Checks still running at
	// the deadline are reported as errors.
	Timeout time.Duration

	// ModFile is the go.mod file whose go, toolchain and require lines are
	// checked, or a directory to look for it in and above, as the go command
	// does when run there. Empty means the current directory.
	ModFile string

	// LookupHost resolves host names for every probe; nil uses
	// net.DefaultResolver. Tests inject a fake resolver here.
	LookupHost func(ctx context.Context, host string) ([]string, error)
	// DialContext opens connections to the addresses LookupHost returned;
	// nil uses a net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Proxy selects the HTTP proxy for a request. Nil evaluates
	// HTTP_PROXY, HTTPS_PROXY and NO_PROXY (upper case first, as net/http
	// does) from Env on every run, rather than net/http's process-wide
	// cached choice.
	Proxy func(*http.Request) (*url.URL, error)
	// RootCAs are the certificate authorities TLS probes trust; nil uses
	// the system pool, as the go command does.
	RootCAs *x509.CertPool
	// Now is the clock for certificate validity and clock-skew checks;
	// nil uses time.Now.
	Now func() time.Time

	// freeSpace overrides the disk-space query in tests.
	freeSpace func(dir string) (uint64, error)
}

const (
	defaultCheckTimeout = 2 * time.Second
	defaultTimeout      = 5 * time.Second
	// lateGrace is how long a check whose context has expired may still take
	// to return its own, better explained, result.
	lateGrace = 100 * time.Millisecond
)

// Run runs the selected checks concurrently and returns their results.
// Every check is isolated: a check that panics or overruns its time
// becomes an error result and the others carry on.
func Run(ctx context.Context, opts Options) Report {
	return run(ctx, opts, registry)
}

func run(ctx context.Context, opts Options, reg []*check) Report {
	start := time.Now()
	r := newRunner(opts)
	defer r.close()

	selected, unknown := selectChecks(reg, opts.Checks)
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	r.stopped = ctx

	results := forEach(selected, func(c *check) Result { return r.runOne(ctx, c) })
	for _, name := range unknown {
		results = append(results, Result{ID: name, Status: StatusError,
			Summary: fmt.Sprintf("unknown check %q", name),
			Fix:     "choose from: " + strings.Join(checkIDs(reg), ", ")})
	}

	rep := Report{Checks: results, Duration: time.Since(start)}
	for _, res := range results {
		switch res.Status {
		case StatusError:
			rep.Errors++
		case StatusWarn:
			rep.Warnings++
		}
	}
	return rep
}

// forEach runs fn for every item concurrently and returns the results in
// order.
func forEach[T, R any](items []T, fn func(T) R) []R {
	out := make([]R, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = fn(it)
		}()
	}
	wg.Wait()
	return out
}

// selectChecks returns the checks named by sel (all when sel is empty), in
// registry order, and the names that match no check.
func selectChecks(reg []*check, sel []string) (chosen []*check, unknown []string) {
	if len(sel) == 0 {
		return reg, nil
	}
	want := make(map[*check]bool)
	for _, name := range sel {
		found := false
		for _, c := range reg {
			if c.id == name || strings.HasPrefix(c.id, name+".") {
				want[c], found = true, true
			}
		}
		if !found {
			unknown = append(unknown, name)
		}
	}
	for _, c := range reg {
		if want[c] {
			chosen = append(chosen, c)
		}
	}
	return chosen, unknown
}

func checkIDs(reg []*check) []string {
	ids := make([]string, len(reg))
	for i, c := range reg {
		ids[i] = c.id
	}
	return ids
}

// runOne runs one check in its own goroutine, so that a check stuck in a
// system call cannot hold up the report beyond its deadline.
func (r *runner) runOne(ctx context.Context, c *check) (res Result) {
	start := time.Now()
	defer func() {
		res.ID = c.id
		res.Duration = time.Since(start)
	}()
	if c.live && r.opts.Offline {
		return Result{Status: StatusSkip, Summary: "live probe skipped (offline)"}
	}
	cctx, cancel := context.WithTimeout(ctx, r.checkTimeout)
	defer cancel()

	done := make(chan Result, 1) // buffered: a late check must not leak blocked
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- Result{Status: StatusError,
					Summary: fmt.Sprintf("check failed: panic: %v", p),
					Details: firstN(strings.Split(strings.TrimSpace(string(debug.Stack())), "\n"), 24),
					Fix:     "this is a bug in moddoctor; please report it with the details above"}
			}
		}()
		done <- c.run(cctx, r)
	}()

	select {
	case res = <-done:
		return res
	case <-cctx.Done():
	}
	timer := time.NewTimer(lateGrace)
	defer timer.Stop()
	select {
	case res = <-done:
		return res
	case <-timer.C:
	}
	if ctx.Err() != nil {
		return Result{Status: StatusError,
			Summary: fmt.Sprintf("did not finish before the overall deadline (%v)", r.timeout),
			Fix:     "run again with a longer -timeout, or select fewer checks with -check"}
	}
	return Result{Status: StatusError,
		Summary: fmt.Sprintf("did not finish within %v", r.checkTimeout),
		Fix:     "something this check waits for hangs; run again with -check " + c.id + " -v"}
}

// A runner holds what checks share during one Run: the environment and
// lazily computed, concurrency-safe views of it.
type runner struct {
	// stopped is the run's context. Its end means the caller or the overall
	// deadline stopped the run; a check's own deadline ending is a probe
	// timeout, and failures are classified accordingly.
	stopped context.Context

	opts         Options
	env          *modnet.Env
	envErr       error // loading the environment (an unreadable GOENV file)
	now          func() time.Time
	checkTimeout time.Duration
	timeout      time.Duration

	gomod   func() (*gomod, error)
	netrc   func() (*netrcFile, error)
	auth    func() (*goauth.Authenticator, error) // GOAUTH for live probes
	proxyFn func(*http.Request) (*url.URL, error)

	mu         sync.Mutex
	transports []*http.Transport
}

func newRunner(opts Options) *runner {
	r := &runner{opts: opts, env: opts.Env, now: opts.Now,
		checkTimeout: opts.CheckTimeout, timeout: opts.Timeout}
	if r.env == nil {
		r.env, r.envErr = modnet.LoadEnv()
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.checkTimeout <= 0 {
		r.checkTimeout = defaultCheckTimeout
	}
	if r.timeout <= 0 {
		r.timeout = defaultTimeout
	}
	r.gomod = sync.OnceValues(func() (*gomod, error) { return findGoMod(opts.ModFile) })
	r.netrc = sync.OnceValues(func() (*netrcFile, error) { return readNetrc(r.env) })
	r.auth = sync.OnceValues(func() (*goauth.Authenticator, error) {
		return goauth.New(goauth.Config{GOAUTH: r.env.Get("GOAUTH"), Environ: r.env.Environ()})
	})
	r.proxyFn = opts.Proxy
	if r.proxyFn == nil {
		r.proxyFn = envProxyFunc(r.env)
	}
	return r
}

// close releases the connections probes kept open and GOAUTH's
// background work.
func (r *runner) close() {
	if a, err := r.auth(); err == nil {
		a.Close()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.transports {
		t.CloseIdleConnections()
	}
}
