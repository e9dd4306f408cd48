package modnet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"sync"
	"time"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/retry"
)

// A Fetcher serves module proxy requests from a [Client]. Its method set is
// that of the Fetcher interface of github.com/goproxy/goproxy, which it
// satisfies without importing it, so a Fetcher can back a goproxy.Goproxy
// (or any server built around that interface, such as examples/proxy):
//
//	Query(ctx context.Context, path, query string) (version string, time time.Time, err error)
//	List(ctx context.Context, path string) (versions []string, err error)
//	Download(ctx context.Context, path, version string) (info, mod, zip io.ReadSeekCloser, err error)
//
// Its errors follow goproxy's conventions, which decide the status a
// server answers with:
//
//   - "not found" matches [fs.ErrNotExist] (goproxy: 404): the module or
//     version does not exist at any source of the route, or the request
//     itself is malformed (an invalid module path, version or query);
//   - a timeout matches [context.DeadlineExceeded] and has a Timeout method
//     that reports true (goproxy: 404 with Cache-Control: no-store): an
//     upstream that stayed silent or stalled beyond the Client's limits,
//     after retries, or the caller's deadline;
//   - anything else (goproxy: 500) is the Client's error, such as a
//     [*ModuleError] whose [retry.Class] says why the upstream failed, or a
//     [*ChecksumError].
//
// Identical concurrent calls (same method and arguments) share one
// upstream fetch. The shared fetch is not tied to any one caller's context:
// a caller that gives up returns at once with its context's error, and the
// fetch is canceled only when every caller has given up.
//
// The zero Fetcher uses a zero [Client], which loads the process
// environment. A Fetcher is safe for concurrent use.
type Fetcher struct {
	// Client does the work. nil means a Client with default settings,
	// created on first use.
	Client *Client

	once    sync.Once
	client  *Client
	flights flightGroup
}

func (f *Fetcher) c() *Client {
	f.once.Do(func() {
		f.client = f.Client
		if f.client == nil {
			f.client = new(Client)
		}
	})
	return f.client
}

// Query resolves a version query ("latest", "v1.2.3", "v1", "<v1.5.0", a
// branch or revision a proxy can resolve) with [Client.Query] and returns
// the version and its commit time.
func (f *Fetcher) Query(ctx context.Context, path, query string) (string, time.Time, error) {
	if err := checkPathArg(path); err != nil {
		return "", time.Time{}, err
	}
	if _, err := newQueryMatcher(query); err != nil {
		return "", time.Time{}, badRequest(path, query, err)
	}
	v, err := f.flights.do(ctx, "query\x00"+path+"\x00"+query, func(ctx context.Context) (any, error) {
		return f.c().Query(ctx, path, query)
	})
	if err != nil {
		return "", time.Time{}, fetcherError(err)
	}
	info := v.(*Info)
	return info.Version, info.Time, nil
}

// List returns the module's tagged versions, sorted, without the versions
// retracted by the go.mod file of its latest version, as
// 'go list -m -versions' lists them (cmd/go/internal/modload: versions
// with CheckAllowed). As there, failing to load the retractions fails the
// list, unless the module has no version to load them from.
func (f *Fetcher) List(ctx context.Context, path string) ([]string, error) {
	if err := checkPathArg(path); err != nil {
		return nil, err
	}
	v, err := f.flights.do(ctx, "list\x00"+path, func(ctx context.Context) (any, error) {
		return f.list(ctx, path)
	})
	if err != nil {
		return nil, fetcherError(err)
	}
	return slices.Clone(v.([]string)), nil
}

func (f *Fetcher) list(ctx context.Context, path string) ([]string, error) {
	c := f.c()
	versions, err := c.List(ctx, path)
	if err != nil || len(versions) == 0 {
		return versions, err
	}
	// The retractions come from the go.mod of the version "latest" would
	// pick ignoring retractions (modload.CheckRetractions); it is found in
	// the list already fetched rather than by asking the source again.
	releases, prereleases, err := c.filterVersions(ctx, path, versions, &queryMatcher{mayUseLatest: true}, nil)
	if err != nil {
		return nil, err
	}
	var latest string
	switch {
	case len(releases) > 0:
		latest = releases[len(releases)-1]
	case len(prereleases) > 0:
		latest = prereleases[len(prereleases)-1]
	default:
		return versions, nil
	}
	rs, err := c.retractions(ctx, path, latest)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(versions, rs.covers), nil
}

// Download makes sure the version's .info, .mod and .zip are in the
// Client's cache, verified as [Client.Zip] and [Client.GoMod] verify them,
// and returns them for reading. The zip is read from its file in the
// module cache, never held in memory; the .info and go.mod are small and
// are returned from memory. The three are fetched at once, not one after
// another; a failure is reported as fetching them in the go command's
// order would report it. version must be canonical ("v1.2.3"); the module
// directory is not extracted. The caller must close all three.
func (f *Fetcher) Download(ctx context.Context, path, version string) (info, mod, zip io.ReadSeekCloser, err error) {
	if err := checkPathArg(path); err != nil {
		return nil, nil, nil, err
	}
	if err := checkVersion(path, version); err != nil {
		return nil, nil, nil, badRequest(path, version, err)
	}
	v, err := f.flights.do(ctx, "download\x00"+path+"\x00"+version, func(ctx context.Context) (any, error) {
		return f.download(ctx, path, version)
	})
	if err != nil {
		return nil, nil, nil, fetcherError(err)
	}
	d := v.(*downloaded)
	zf, err := os.Open(d.zip)
	if err != nil {
		// The cache lost the zip since it was verified (a cleaned cache).
		return nil, nil, nil, &ModuleError{Path: path, Version: version, Err: err}
	}
	return nopCloser{bytes.NewReader(d.info)}, nopCloser{bytes.NewReader(d.mod)}, zf, nil
}

// downloaded is the shared result of one Download.
type downloaded struct {
	info, mod []byte
	zip       string // file name in the module cache
}

func (f *Fetcher) download(ctx context.Context, path, version string) (*downloaded, error) {
	c := f.c()
	// The three files are fetched at once. goproxy answers each .info and
	// .mod request with Download, and the go command walks the module
	// graph asking for one go.mod after another, so every step of that
	// walk would otherwise wait for three round trips in a row (and for
	// their retries under faults). The go command's order (modfetch.Download
	// after Stat and GoMod: metadata first) survives in the errors: a
	// failure cancels only the files after it in that order, and the error
	// returned is the first in that order, the one fetching them one after
	// another would have returned. A version that does not exist costs a
	// zip request more, answered "not found" like the others.
	var (
		info   *Info
		mod    []byte
		zip    string
		errs   [3]error
		cancel [3]context.CancelFunc
		ctxs   [3]context.Context
		wg     sync.WaitGroup
	)
	for i := range ctxs {
		ctxs[i], cancel[i] = context.WithCancel(ctx)
		defer cancel[i]()
	}
	steps := [3]func(context.Context) error{
		func(ctx context.Context) (err error) { info, err = c.Info(ctx, path, version); return err },
		func(ctx context.Context) (err error) { mod, err = c.GoMod(ctx, path, version); return err },
		func(ctx context.Context) (err error) { zip, err = c.Zip(ctx, path, version); return err },
	}
	for i, step := range steps {
		wg.Go(func() {
			if errs[i] = step(ctxs[i]); errs[i] != nil {
				for _, later := range cancel[i+1:] {
					later()
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	js, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	return &downloaded{info: js, mod: mod, zip: zip}, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// checkPathArg rejects a module path no source could serve, as "not found".
func checkPathArg(path string) error {
	if err := module.CheckPath(path); err != nil {
		return notExistError{err}
	}
	return nil
}

// badRequest reports an argument no source could serve, as "not found",
// worded like the Client's errors.
func badRequest(path, version string, err error) error {
	var me *module.ModuleError
	if errors.As(err, &me) {
		return notExistError{err} // it names path@version already
	}
	return notExistError{&ModuleError{Path: path, Version: version, Err: err}}
}

// fetcherError makes a timeout recognisable the way goproxy recognises
// one (goproxy's isFetchTimedOutError: errors.Is context.DeadlineExceeded,
// or a Timeout method in the chain): the Client reports an upstream that
// stayed silent or stalled as a *retry.Error of class Timeout, whose cause
// need not say so (a stall cut short, an HTTP 408).
func fetcherError(err error) error {
	var re *retry.Error
	if errors.As(err, &re) && re.Class == retry.Timeout && !errors.Is(err, fs.ErrNotExist) {
		return &timeoutError{err}
	}
	// A query with no match stops the route walk, as in the go command,
	// but a proxy answers it with "not found", as goproxy does.
	var nm *noMatchingVersionError
	if errors.As(err, &nm) {
		return notExistError{err}
	}
	return err
}

// timeoutError marks an upstream timeout; it unwraps to the Client's
// error.
type timeoutError struct{ err error }

func (e *timeoutError) Error() string { return e.err.Error() }
func (e *timeoutError) Unwrap() error { return e.err }

// Timeout reports true, as net.Error timeouts do.
func (e *timeoutError) Timeout() bool { return true }

// Is reports whether target is context.DeadlineExceeded, which timeouts
// match throughout the standard library.
func (e *timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// A flightGroup runs one call per key at a time and hands its result to
// every caller that asked meanwhile, like golang.org/x/sync/singleflight,
// but with cancellation counted: the call runs on a context of its own,
// canceled when the last caller waiting for it gives up, so that one
// impatient caller cannot fail the others.
type flightGroup struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done    chan struct{}
	val     any
	err     error
	waiters int
	cancel  context.CancelFunc
}

func (g *flightGroup) do(ctx context.Context, key string, fn func(context.Context) (any, error)) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	g.mu.Lock()
	fl := g.m[key]
	if fl == nil {
		// The call keeps the first caller's values (loggers, traces) but
		// not its deadline or cancellation.
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		fl = &flight{done: make(chan struct{}), cancel: cancel}
		if g.m == nil {
			g.m = make(map[string]*flight)
		}
		g.m[key] = fl
		go func() {
			fl.val, fl.err = fn(fctx)
			g.mu.Lock()
			if g.m[key] == fl {
				delete(g.m, key)
			}
			g.mu.Unlock()
			cancel()
			close(fl.done)
		}()
	}
	fl.waiters++
	g.mu.Unlock()

	select {
	case <-fl.done:
		return fl.val, fl.err
	case <-ctx.Done():
		g.mu.Lock()
		fl.waiters--
		abandoned := fl.waiters == 0
		if abandoned && g.m[key] == fl {
			// Nobody wants the result: the next caller starts afresh
			// rather than joining a canceled call.
			delete(g.m, key)
		}
		g.mu.Unlock()
		if abandoned {
			fl.cancel()
		}
		return nil, context.Cause(ctx)
	}
}
