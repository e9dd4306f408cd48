package modnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/sync/singleflight"

	"github.com/modkit/modkit/internal/goauth"
	"github.com/modkit/modkit/internal/web"
	"github.com/modkit/modkit/modnet/vcs"
	"github.com/modkit/modkit/retry"
)

// A Client performs the module proxy protocol operations (list, latest,
// info, go.mod, zip) for modules across their [Route], verifies what it
// downloads and stores it in the module cache, as the go command does
// (cmd/go/internal/modfetch: TryProxies, proxyRepo, cachingRepo, fetch.go).
//
// For every file the Route is walked afresh: after a source followed by ','
// the next one is tried only when the file was not found (404, 410, missing
// file), after '|' on any error; "off" and "direct" end the walk; a path
// matched by GONOPROXY goes direct and never reaches a proxy. When every
// source fails, the error reported is the one the go command would report:
// direct's error beats a proxy's, which beats "not found".
//
// Deliberate difference: every request goes through [retry.Client], so a
// transient failure (reset, refused, 429/503, a body cut short, a stall) is
// retried, with backoff and a retry budget, before the walk moves on; a zip
// cut short resumes where it stopped, and a corrupt transfer is downloaded
// once more. Set NoRetry (or HTTP.Disabled) to behave exactly like the go
// command.
//
// The zero Client loads the process environment on first use. A Client is
// safe for concurrent use; its fields must not change after first use.
type Client struct {
	// Env is the module-download environment. nil means [LoadEnv] on first
	// use; a load error is then returned by every operation.
	Env *Env

	// Cache is where downloads are stored and looked up. nil means the
	// module cache Env names (GOMODCACHE, read-only directories unless
	// GOFLAGS has -modcacherw).
	Cache *Cache

	// GoSum holds the expected hashes, as a main module's go.sum does. A
	// download whose hash differs is rejected with a *ChecksumError. Modules
	// missing from it are checked against the checksum database when their
	// Route says so (GOSUMDB, GONOSUMDB, GOPRIVATE). nil means the checksum
	// database alone.
	GoSum *GoSum

	// HTTP sends the requests. nil means a retry.Client with its defaults.
	// Its CheckRedirect is replaced by one that also keeps credentials from
	// leaving their host. With its Disabled set, the Client behaves exactly
	// like the go command: one attempt per request, no resume, no hedging,
	// and no re-download of a corrupt transfer either.
	HTTP *retry.Client

	// NoRetry is a shorthand for HTTP.Disabled, with the same meaning: it
	// switches off every retry, resume, hedge and re-download modkit adds.
	NoRetry bool

	// OnFetch, if set, is called after each request to a source finishes,
	// with its outcome; it may be called concurrently. modfetch download -x
	// prints these.
	OnFetch func(FetchEvent)

	// Logger receives debug records about route walks; nil means silent.
	// Credentials never appear in them.
	Logger *slog.Logger

	// GoVersion is the Go version, such as "1.22.1", whose "requires newer
	// go" rule the Client applies where the go command applies it:
	// Download and a direct-mode zip fail with a [*TooNewError] for a
	// module whose go.mod asks for a newer Go (cmd/go/internal/modfetch:
	// Download, codeRepo.Zip). Empty means the version of the toolchain
	// the go command would run in the current directory
	// ([Env.SelectToolchain]): GOROOT's, or a newer one that go.mod selects
	// when GOTOOLCHAIN allows switching. Without a go command to ask (no
	// GOROOT) the rule is not applied. Serving files (Info, GoMod, Zip
	// from a proxy) never applies it.
	GoVersion string

	// Dir is the directory the go command would run in, whose go.work or
	// go.mod selects the toolchain when GoVersion is empty. Empty means
	// the current directory.
	Dir string

	once    sync.Once
	initErr error
	running func() *runningGo
	env     *Env
	cache   *Cache
	http    *retry.Client
	auth    *goauth.Authenticator
	authErr error
	authMu  sync.Mutex
	sumdbs  sumDBSet
	routes  sync.Map // module path → *Route
	direct  sync.Map // module path → *directEntry
	flight  singleflight.Group
}

// A FetchEvent describes one finished request to a source.
type FetchEvent struct {
	Module  string        // module path
	URL     string        // the URL fetched, password redacted; "direct" for direct mode
	Status  string        // such as "200 OK" or "404 Not Found"; empty if no answer
	Err     error         // nil on success
	Elapsed time.Duration // wall time including retries
}

// A ModuleError reports that an operation failed for a module version after
// walking its route. Its message is the go command's ("path@version: ..."),
// and Tried lists what every source answered, in order.
type ModuleError struct {
	Path    string
	Version string // empty for list-based queries such as latest
	// Source names the source whose error is reported: a proxy URL with any
	// password redacted, "direct" or "off".
	Source string
	Err    error
	// Tried is every source tried, with its own error.
	Tried []SourceError
}

// Error formats the error as golang.org/x/mod/module.ModuleError does,
// which is how the go command reports it: "path@version: err", or
// "module path: err" for list-based queries such as latest.
func (e *ModuleError) Error() string {
	// An error that already names the module version, such as a checksum
	// failure from verification, is not prefixed twice.
	var xe *module.ModuleError
	var ce *ChecksumError
	var tn *TooNewError
	if errors.As(e.Err, &ce) || errors.As(e.Err, &tn) || (errors.As(e.Err, &xe) && xe.Path == e.Path) {
		return e.Err.Error()
	}
	if e.Version == "" {
		return "module " + e.Path + ": " + e.Err.Error()
	}
	return e.Path + "@" + e.Version + ": " + e.Err.Error()
}

func (e *ModuleError) Unwrap() error { return e.Err }

// Explain returns the error followed by one line per source tried, for
// people deciding what to fix.
func (e *ModuleError) Explain() string {
	var b strings.Builder
	b.WriteString(e.Error())
	if len(e.Tried) > 1 || (len(e.Tried) == 1 && e.Tried[0].Err != e.Err) {
		b.WriteString("\n\ttried:")
		for _, t := range e.Tried {
			fmt.Fprintf(&b, "\n\t  %s: %s", t.Source, oneLine(t.Err))
		}
	}
	return b.String()
}

func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// Errors a walk gives for sources that cannot serve a module; all match
// fs.ErrNotExist, as in cmd/go/internal/modfetch/repo.go.
var (
	errProxyOff = notExistError{errors.New("module lookup disabled by GOPROXY=off")}
)

// notExistError is an error that counts as "not found" for the walk.
type notExistError struct{ err error }

func (e notExistError) Error() string        { return e.err.Error() }
func (e notExistError) Unwrap() error        { return e.err }
func (e notExistError) Is(target error) bool { return target == fs.ErrNotExist }

func (c *Client) init() error {
	c.once.Do(func() {
		c.env = c.Env
		if c.env == nil {
			c.env, c.initErr = LoadEnv()
			if c.initErr != nil {
				return
			}
		}
		c.running = sync.OnceValue(c.findRunningGo)
		c.cache = c.Cache
		if c.cache == nil {
			c.cache, c.initErr = NewCache(c.env)
			if c.initErr != nil {
				return
			}
		}
		if c.HTTP != nil {
			c.http = c.HTTP.Clone()
		} else {
			c.http = &retry.Client{}
		}
		c.http.Disabled = c.http.Disabled || c.NoRetry
		base := c.http.Transport
		if base == nil {
			if t := retry.NewTransport(c.http.DialTimeout, c.http.TLSHandshakeTimeout); t != nil {
				t.Proxy = c.env.proxyFunc()
				base = t
			} else {
				base = http.DefaultTransport
			}
		}
		c.http.Transport = &authTransport{c: c, base: base}
		next := c.http.CheckRedirect
		c.http.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if err := c.checkRedirect(req, via); err != nil {
				return err
			}
			if next != nil {
				return next(req, via)
			}
			return nil
		}
	})
	return c.initErr
}

// authenticator returns the GOAUTH credential store, created on the first
// https request as the go command reports a bad GOAUTH only then.
func (c *Client) authenticator() (*goauth.Authenticator, error) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if c.auth == nil && c.authErr == nil {
		c.auth, c.authErr = newAuthenticator(c.env, c.Logger)
	}
	return c.auth, c.authErr
}

// checkRedirect keeps credentials on their host and refuses https→http
// redirects; without a credential store (a bad GOAUTH) it still refuses
// downgrades.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if a, err := c.authenticator(); err == nil {
		return a.CheckRedirect(req, via)
	}
	return web.CheckRedirect(req, via)
}

// Close releases the Client's idle connections and background work.
func (c *Client) Close() error {
	c.authMu.Lock()
	a := c.auth
	c.authMu.Unlock()
	if a != nil {
		a.Close()
	}
	if c.http != nil {
		c.http.CloseIdleConnections()
	}
	return nil
}

// Route returns the module's route in the Client's environment.
func (c *Client) Route(path string) (*Route, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	if r, ok := c.routes.Load(path); ok {
		return r.(*Route), nil
	}
	r, err := c.env.Route(path)
	if err != nil {
		return nil, err
	}
	c.routes.Store(path, r)
	return r, nil
}

// repoFor returns the repository that serves path from one source.
func (c *Client) repoFor(ctx context.Context, src Source, r *Route) (repo, error) {
	switch src.Kind {
	case KindOff:
		return nil, errProxyOff
	case KindDirect:
		return c.directRepo(ctx, r)
	}
	return &proxyRepo{c: c, src: src, path: r.Module}, nil
}

// walk calls f with the repository of each source of path's route in turn
// ([Walk]), and returns nil or the error the go command would report,
// wrapped in a *ModuleError.
func (c *Client) walk(ctx context.Context, path, version string, f func(repo) error) error {
	r, err := c.Route(path)
	if err != nil {
		return &ModuleError{Path: path, Version: version, Err: err}
	}
	memo := &sourceMemo{} // a proxy listed twice is asked once
	err = Walk(ctx, r.Sources, func(src Source) error {
		rp, err := c.repoFor(ctx, src, r)
		if err != nil {
			return err
		}
		return f(memo.wrap(rp, ""))
	})
	var we *WalkError
	if !errors.As(err, &we) {
		return err
	}
	if c.Logger != nil {
		c.Logger.Debug("route walk failed", "module", path, "version", version, "tried", len(we.Tried))
	}
	return &ModuleError{Path: path, Version: version, Source: we.Source, Err: we.Err, Tried: we.Tried}
}

// A repo serves one module from one source, a proxy or the module's
// version control repository, like cmd/go's modfetch.Repo. Errors for
// versions or files that do not exist match fs.ErrNotExist.
type repo interface {
	// Versions lists the module's tagged versions (Repo.Versions with an
	// empty prefix); a repository's are sorted by semver, with
	// "+incompatible" versions where they are allowed.
	Versions(ctx context.Context) ([]string, error)
	// Latest answers @latest; a repository resolves its default branch's
	// head, though a version query for "latest" prefers the highest of
	// Versions, as the go command's query does.
	Latest(ctx context.Context) (*Info, error)
	// Stat resolves a version or, where the source can, a tag, branch or
	// commit hash (Repo.Stat).
	Stat(ctx context.Context, rev string) (*Info, error)
	// GoMod returns a canonical version's go.mod; a repository synthesises
	// "module <path>" when the commit has none.
	GoMod(ctx context.Context, version string) ([]byte, error)
	// Zip writes a canonical version's module zip.
	Zip(ctx context.Context, dst io.Writer, version string) error
}

// directTTL is how long a direct-mode repository's view of its tags is
// reused, so that a long-running Client (a proxy) sees new tags.
const directTTL = 5 * time.Minute

type directEntry struct {
	once    sync.Once
	repo    repo
	err     error
	created time.Time
}

// directRepo returns the version control repository for a module, found by
// go-get discovery as the go command does (modfetch.lookupDirect). One
// repository serves every request for the module for directTTL. A go-import
// tag naming a module proxy ("mod") turns into that proxy.
func (c *Client) directRepo(ctx context.Context, r *Route) (repo, error) {
	now := time.Now()
	v, _ := c.direct.LoadOrStore(r.Module, &directEntry{created: now})
	e := v.(*directEntry)
	if now.Sub(e.created) > directTTL {
		fresh := &directEntry{created: now}
		if c.direct.CompareAndSwap(r.Module, e, fresh) {
			e = fresh
		} else if v, ok := c.direct.Load(r.Module); ok {
			e = v.(*directEntry)
		}
	}
	e.once.Do(func() {
		dopts := vcs.DiscoverOptions{Do: c.http.Do}
		var rp repo
		rp, e.err = newDirectRepo(ctx, c.env, r, r.Module, dopts, c.cache.Dir)
		var pe *directProxyError
		if errors.As(e.err, &pe) {
			e.repo, e.err = &proxyRepo{c: c, src: Source{Kind: KindProxy, URL: pe.URL, Entry: pe.URL}, path: r.Module}, nil
			return
		}
		if cr, ok := rp.(codeRepo); ok {
			cr.CheckGoLine = c.checkGoLine
		}
		if e.err == nil {
			e.repo = rp
		}
	})
	if e.err != nil && ctx.Err() == nil && errors.Is(e.err, context.Canceled) {
		// The first caller gave up; let the next one try again.
		c.direct.CompareAndDelete(r.Module, e)
	}
	return e.repo, e.err
}

// checkVersion reports whether version is a canonical semantic version
// valid for path, the precondition of info, go.mod and zip downloads.
func checkVersion(path, version string) error {
	if err := module.Check(path, version); err != nil {
		return err
	}
	if module.CanonicalVersion(version) != version {
		return &module.ModuleError{Path: path, Version: version, Err: fmt.Errorf("version %q is not canonical (want %q)", version, module.CanonicalVersion(version))}
	}
	return nil
}
