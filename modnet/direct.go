package modnet

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/internal/web"
	"github.com/modkit/modkit/modnet/internal/codehost"
	"github.com/modkit/modkit/modnet/internal/coderepo"
	"github.com/modkit/modkit/modnet/vcs"
)

// This file is direct mode's glue: discovery (package vcs) with the Env's
// GOINSECURE, GOVCS and GOPRIVATE, a git mirror in the module cache
// (codehost), and the module-version mapping on top (coderepo), as
// cmd/go/internal/modfetch.lookupDirect puts them together.

// directProxyError says that the module's go-import tag names a module
// proxy ("mod" VCS) instead of a repository: the go command then fetches the
// module from that proxy with the proxy protocol, as a direct source
// (cmd/go/internal/modfetch.lookupDirect). Callers should do the same with
// URL.
type directProxyError struct {
	Root string // import path prefix the tag declares
	URL  string // the proxy's base URL
}

func (e *directProxyError) Error() string {
	return fmt.Sprintf("go-import tag for %s names module proxy %s", e.Root, web.Redact(e.URL))
}

// newDirectRepo looks up where modulePath's code lives and opens the
// repository, as the go command's direct mode does
// (cmd/go/internal/modfetch.lookupDirect): discovery with the route's
// GOINSECURE decision (route nil: the Env's GOINSECURE) and the environment's GOVCS and GOPRIVATE, then a
// bare git mirror under modCache/cache/vcs, the go command's layout and
// lock files, so the two share mirrors (modCache empty: the Env's
// GOMODCACHE).
//
// From dopts the caller supplies the HTTP clients: Do for discovery and
// for checking whether a repository URL exists (a retrying,
// credential-aware client), InsecureDo for the https attempt on GOINSECURE
// paths. Insecure is taken from route; CheckVCS (nil: the Env's GOVCS and
// GOPRIVATE), Environ (nil: the Env's process environment) and WorkDir
// (empty: modCache) are filled in when zero. Git runs with that
// environment: the user's git configuration, credential helpers and
// insteadOf rules apply; GIT_TERMINAL_PROMPT=0 unless set, and ssh runs in
// batch mode unless the user chose an ssh command (codehost.Environ).
//
// A failed discovery matches fs.ErrNotExist, as in the go command. A
// go-import tag naming a module proxy yields a *directProxyError. VCSs
// other than git yield an error matching errors.ErrUnsupported.
func newDirectRepo(ctx context.Context, env *Env, route *Route, modulePath string, dopts vcs.DiscoverOptions, modCache string) (repo, error) {
	if modCache == "" {
		modCache = env.Get("GOMODCACHE")
	}
	if modCache == "" {
		return nil, errors.New("neither GOPATH nor GOMODCACHE are set")
	}
	dopts = env.discoverOptions(route, modulePath, dopts)
	if dopts.WorkDir == "" {
		dopts.WorkDir = modCache
	}
	rr, err := vcs.ResolveImportPath(ctx, modulePath, dopts)
	if err != nil {
		// The go command cannot know where such a module lives: not found.
		return nil, &codehost.NotExistError{Err: err}
	}
	switch rr.VCS {
	case "mod":
		return nil, &directProxyError{Root: rr.Root, URL: rr.Repo}
	case "git":
	default:
		return nil, &vcsUnsupportedError{modulePath, rr.VCS, rr.Repo}
	}
	code, err := codehost.NewGitRepo(ctx, rr.Repo, filepath.Join(modCache, "cache", "vcs"), dopts.Environ, dopts.Do)
	if err != nil {
		return nil, fmt.Errorf("lookup %s: %w", rr.Root, err)
	}
	r, err := coderepo.New(code, rr.Root, rr.SubDir, modulePath)
	if err != nil {
		return nil, err
	}
	return codeRepo{r}, nil
}

// discoverOptions completes opts for finding modulePath's repository as
// direct mode finds it: GOINSECURE's decision (route's, when there is one),
// and, where opts leaves them nil, the Env's GOVCS and GOPRIVATE policy and
// its variables as the tools' environment.
func (e *Env) discoverOptions(route *Route, modulePath string, opts vcs.DiscoverOptions) vcs.DiscoverOptions {
	if route != nil {
		opts.Insecure = route.Insecure
	} else {
		opts.Insecure = module.MatchPrefixPatterns(e.Get("GOINSECURE"), modulePath)
	}
	if opts.CheckVCS == nil {
		opts.CheckVCS = e.CheckVCS
	}
	if opts.Environ == nil {
		opts.Environ = e.Environ()
	}
	return opts
}

// vcsUnsupportedError reports a repository in a version control system
// other than git. It matches errors.ErrUnsupported.
type vcsUnsupportedError struct{ modulePath, vcs, repo string }

func (e *vcsUnsupportedError) Error() string {
	return fmt.Sprintf("%s: %s repository %s: modkit fetches only git repositories directly; use the go command (GOPROXY=direct go mod download %s)", e.modulePath, e.vcs, e.repo, e.modulePath)
}

func (e *vcsUnsupportedError) Is(target error) bool { return target == errors.ErrUnsupported }

// CheckVCS applies the environment's GOVCS policy to a repository root, with
// GOPRIVATE deciding which roots are private, as the go command does before
// it runs a version control tool. A malformed GOVCS fails every check, as in
// the go command, with a [*SettingError] naming where the value came from.
// It suits [vcs.DiscoverOptions].CheckVCS.
//
// The go command reads GOVCS from its process environment, into which it
// copies GOENV-file settings at startup (cmd/go main.go); Env's layering
// gives the same result.
func (e *Env) CheckVCS(vcsName, root string) error {
	v := e.Lookup("GOVCS")
	p, err := vcs.ParseGOVCS(v.Value)
	if err != nil {
		return &SettingError{Value: v, Err: err, Fix: "use comma-separated pattern:vcs|vcs entries, such as GOVCS=private:all,public:git|hg"}
	}
	return p.Check(vcsName, root, module.MatchPrefixPatterns(e.Get("GOPRIVATE"), root))
}

// codeRepo is a coderepo.Repo as a repo: the same answers, with Info in
// modnet's type.
type codeRepo struct{ *coderepo.Repo }

func (r codeRepo) Stat(ctx context.Context, rev string) (*Info, error) {
	info, err := r.Repo.Stat(ctx, rev)
	return infoOf(info), err
}

func (r codeRepo) Latest(ctx context.Context) (*Info, error) {
	info, err := r.Repo.Latest(ctx)
	return infoOf(info), err
}

// infoOf converts coderepo's Info, whose Origin has modnet.Origin's fields.
func infoOf(i *coderepo.Info) *Info {
	if i == nil {
		return nil
	}
	return &Info{Version: i.Version, Time: i.Time, Origin: (*Origin)(i.Origin)}
}
