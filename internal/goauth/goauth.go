package goauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/singleflight"

	"github.com/modkit/modkit/internal/osenv"
	"github.com/modkit/modkit/internal/web"
)

// An Authenticator holds the credentials GOAUTH yields and adds them to
// HTTPS requests as the go command does since Go 1.24
// (cmd/go/internal/auth.AddCredentials, used by cmd/go/internal/web.get):
//
//   - Before the first HTTPS request, every GOAUTH command runs once
//     without a URL: netrc loads the .netrc file, a custom command runs with
//     no argument, and git waits for a URL (git credential cannot list).
//   - A request gets the headers stored for the longest matching prefix of
//     its URL: host[:port], then host[:port]/path/elements, as
//     cmd/go/internal/auth.loadCredential walks up the path. Plain http
//     requests never get credentials.
//   - When an HTTPS request is answered with any 4xx, every GOAUTH command
//     runs again with the request URL (a custom command also gets the
//     response on stdin) and the request may be retried once.
//
// Credential values are never logged and never put into errors.
//
// Deliberate differences from the go command, all to send less and leak
// less:
//
//   - After a 4xx, the go command retries even when GOAUTH found nothing
//     new; [Authenticator.RetryAfter] only asks for a retry when the
//     credentials for the URL differ from those the failed request carried,
//     since the same request would get the same answer.
//   - Credentials never follow a redirect to another host[:port]
//     ([Authenticator.CheckRedirect]); net/http alone keeps Authorization on
//     a redirect to the same host name on another port or to a subdomain,
//     and keeps every other header (such as a token header from a GOAUTH
//     command) on any redirect.
//   - 'git credential approve/reject' runs in the GOAUTH git directory,
//     like 'git credential fill', not in the current directory.
//   - Errors show URLs with the whole userinfo replaced by "xxxxx" and never
//     quote a GOAUTH command's standard output, which may hold a secret (nor
//     'git credential fill' output, which the go command mixes with its
//     standard error). They do quote up to 1 KiB of standard error, where
//     a program explains its failure, as the go command does.
//   - Commands are found and run with the environment of [Config], so
//     that of an Env that is not the process's is honoured; the go command
//     uses its own.
//
// An Authenticator is safe for concurrent use. Concurrent runs of the
// GOAUTH commands for the same URL share one run.
type Authenticator struct {
	cmds     []Command // in GOAUTH order; nil for GOAUTH=off
	environ  []string  // environment of GOAUTH commands
	lookPath func(string) (string, error)
	netrc    func() ([]netrcEntry, error)
	logger   *slog.Logger

	mu    sync.RWMutex
	creds map[string]http.Header // prefix (no "https://", no trailing "/") → headers
	names map[string]bool        // every header name ever stored, canonical

	initDone atomic.Bool        // the URL-less first run has completed
	flights  singleflight.Group // runs of the GOAUTH commands, by URL

	bgMu     sync.Mutex      // orders starting background work before close waits
	bgCtx    context.Context // background credential validation (git)
	bgCancel context.CancelFunc
	bg       sync.WaitGroup
}

// A Config is what an Authenticator needs to know, as plain values.
type Config struct {
	// GOAUTH is the setting's value, such as "netrc" (its default) or
	// "git /home/me/src;netrc".
	GOAUTH string
	// Environ is the environment ("KEY=value") GOAUTH commands run in.
	// Its NETRC, HOME (USERPROFILE on Windows, home on Plan 9) locate the
	// .netrc file (NetrcPath); git prompts are turned off in it unless
	// GIT_TERMINAL_PROMPT or GCM_INTERACTIVE says otherwise, as
	// cmd/go/internal/modload.Init does for everything the go command runs.
	// Git and custom commands named without a directory are found in its
	// PATH.
	Environ []string
	// Logger, if not nil, receives debug records about GOAUTH commands,
	// never credential values.
	Logger *slog.Logger
}

// New returns the credential store for cfg. A malformed GOAUTH is an
// *EntryError here, as it is for the go command before its first HTTPS
// request (cmd/go/internal/auth.runGoAuth). Close it when done.
func New(cfg Config) (*Authenticator, error) {
	cmds, err := Parse(cfg.GOAUTH)
	if err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	environ := osenv.NoPrompts(cfg.Environ)
	path := getenv(environ)("PATH")
	a := &Authenticator{
		cmds:     cmds,
		environ:  environ,
		lookPath: func(file string) (string, error) { return osenv.LookPath(file, path) },
		netrc: sync.OnceValues(func() ([]netrcEntry, error) {
			path, err := NetrcPath(getenv(environ))
			if err != nil {
				return nil, err
			}
			return readNetrc(path)
		}),
		logger: logger,
		creds:  make(map[string]http.Header),
		names:  map[string]bool{"Authorization": true},
	}
	a.bgCtx, a.bgCancel = context.WithCancel(context.Background())
	return a, nil
}

// getenv looks variables up in environ; the last setting wins, as in
// exec.Cmd.Env.
func getenv(environ []string) func(string) string {
	return func(name string) string {
		v := ""
		for _, kv := range environ {
			if k, val, ok := strings.Cut(kv, "="); ok && k == name {
				v = val
			}
		}
		return v
	}
}

// apply sets the credentials for req.URL on req and reports whether there
// were any. Only https requests get credentials. apply owns Authorization
// and every header name GOAUTH has ever provided: it removes them first,
// so a cloned request can be re-applied and an http request never carries
// them. The first call runs the GOAUTH commands once, under req's context.
func (a *Authenticator) Apply(req *http.Request) bool {
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	a.strip(req.Header)
	if req.URL.Scheme != "https" || a.cmds == nil {
		return false
	}
	a.init(req.Context())
	h := a.lookup(req.URL.String())
	for k, vv := range h {
		req.Header[k] = slices.Clone(vv)
	}
	return h != nil
}

// retryAfter handles an answer to an https request made with apply: after
// any 4xx it runs the GOAUTH commands again with the URL and resp, as
// cmd/go/internal/web.get does, and reports whether the request should be
// retried once, with a fresh apply. It does not read or close resp.Body.
//
// err is non-nil when ctx ended, or when no GOAUTH command provided
// credentials for the URL and some failed: then it says why, for the
// caller's message about the 4xx (the go command logs this under -x). It
// holds no credentials.
//
// client, if not nil, validates credentials from 'git credential fill'
// with a HEAD request in the background and tells git whether they worked.
func (a *Authenticator) RetryAfter(ctx context.Context, client *http.Client, req *http.Request, resp *http.Response) (retry bool, err error) {
	if a.cmds == nil || req.URL.Scheme != "https" || resp == nil || resp.StatusCode < 400 || resp.StatusCode > 499 {
		return false, nil
	}
	a.init(ctx)
	rawURL := req.URL.String()
	cmdErr, err := a.run(ctx, client, rawURL, resp)
	if err != nil {
		return false, err
	}
	h := a.lookup(rawURL)
	if h == nil {
		if cmdErr != nil {
			return false, fmt.Errorf("GOAUTH found no credentials for %s: %w", web.Redact(rawURL), cmdErr)
		}
		return false, nil
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	for name := range a.names {
		if !slices.Equal(req.Header[name], h[name]) {
			return true, nil
		}
	}
	return false, nil // the server already refused these credentials
}

// checkRedirect is an http.Client CheckRedirect hook that keeps credentials
// on the host they were meant for: on top of the redirect policy
// (web.CheckRedirect: never from https to another scheme, at most 10), it
// removes every header GOAUTH ever provided once the chain has left the
// first request's host[:port].
func (a *Authenticator) CheckRedirect(req *http.Request, via []*http.Request) error {
	if err := web.CheckRedirect(req, via); err != nil {
		return err
	}
	first := via[0].URL
	// net/http copies the first request's headers onto every hop, so once
	// the chain has visited another host, even a hop back must lose them.
	left := !strings.EqualFold(req.URL.Host, first.Host)
	for _, r := range via[1:] {
		left = left || !strings.EqualFold(r.URL.Host, first.Host)
	}
	if left {
		a.strip(req.Header)
	}
	return nil
}

// do sends req with credentials and, after a 4xx that GOAUTH has new
// credentials for, once more: the go command's fetch
// (cmd/go/internal/web.get). client is used with checkRedirect added in
// front of its own CheckRedirect. req must have no body. authErr explains
// a final 4xx when GOAUTH failed (see retryAfter); err is a transport
// error with any URL userinfo redacted.
func (a *Authenticator) Do(client *http.Client, req *http.Request) (resp *http.Response, authErr, err error) {
	c := *client
	next := client.CheckRedirect
	c.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if err := a.CheckRedirect(r, via); err != nil || next == nil {
			return err
		}
		return next(r, via)
	}
	a.Apply(req)
	resp, err = c.Do(req)
	if err != nil {
		return nil, nil, web.RedactError(err)
	}
	retry, authErr := a.RetryAfter(req.Context(), &c, req, resp)
	if ctxErr := req.Context().Err(); ctxErr != nil {
		resp.Body.Close()
		return nil, nil, ctxErr
	}
	if !retry {
		return resp, authErr, nil
	}
	// Drain a little so the connection can be reused for the retry.
	io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
	req = req.Clone(req.Context())
	a.Apply(req)
	resp, err = c.Do(req)
	if err != nil {
		return nil, nil, web.RedactError(err)
	}
	return resp, nil, nil
}

// close stops background credential validation and waits for it.
func (a *Authenticator) Close() {
	a.bgMu.Lock()
	a.bgCancel()
	a.bgMu.Unlock()
	a.bg.Wait()
}

// lookup returns the headers stored for the longest prefix of rawURL, or
// nil: cmd/go/internal/auth.loadCredential. The result must not be
// modified.
func (a *Authenticator) lookup(rawURL string) http.Header {
	p := credentialKey(rawURL)
	a.mu.RLock()
	defer a.mu.RUnlock()
	for {
		if h, ok := a.creds[p]; ok {
			return h
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return nil
		}
		p = p[:i]
	}
}

// store records h for a URL prefix; an empty h forgets the prefix, which
// is how a GOAUTH command withdraws credentials
// (cmd/go/internal/auth.storeCredential).
func (a *Authenticator) store(prefix string, h http.Header, source string) {
	p := credentialKey(prefix)
	a.mu.Lock()
	if len(h) == 0 {
		delete(a.creds, p)
	} else {
		a.creds[p] = h.Clone()
		for name := range h {
			a.names[http.CanonicalHeaderKey(name)] = true
		}
	}
	a.mu.Unlock()
	a.logger.Debug("GOAUTH credentials", "prefix", web.Redact(p), "command", source, "stored", len(h) > 0)
}

// strip removes every header a GOAUTH command has ever provided.
func (a *Authenticator) strip(h http.Header) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	for name := range a.names {
		h.Del(name)
	}
}

// credentialKey is the form prefixes are stored and looked up in: without
// "https://" and without one trailing slash, so that a .netrc machine name
// is a key as it is.
func credentialKey(s string) string {
	return strings.TrimSuffix(strings.TrimPrefix(s, "https://"), "/")
}

// init runs the GOAUTH commands once without a URL, before the first
// credentials are needed. If ctx ends first, a later call tries again.
func (a *Authenticator) init(ctx context.Context) {
	if a.initDone.Load() {
		return
	}
	if cmdErr, err := a.run(ctx, nil, "", nil); err == nil {
		a.initDone.Store(true)
		if cmdErr != nil {
			a.logger.Debug("GOAUTH commands failed", "err", cmdErr)
		}
	}
}

// run runs the GOAUTH commands for rawURL ("" for the first, URL-less
// run), sharing one run among concurrent callers for the same URL. The run
// belongs to the caller that started it; if that caller's context ends,
// the others start a new run. cmdErr joins the failures of single
// commands; err is ctx's error.
func (a *Authenticator) run(ctx context.Context, client *http.Client, rawURL string, resp *http.Response) (cmdErr, err error) {
	type result struct {
		cmdErr   error
		canceled bool
	}
	for {
		ch := a.flights.DoChan(rawURL, func() (any, error) {
			cmdErr := a.runCommands(ctx, client, rawURL, resp)
			return result{cmdErr, ctx.Err() != nil}, nil
		})
		select {
		case r := <-ch:
			res := r.Val.(result)
			if !res.canceled {
				return res.cmdErr, nil
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// runCommands runs every GOAUTH command for rawURL and stores what they
// provide. Like cmd/go/internal/auth.runGoAuth it goes from last to first,
// so that for the same prefix the command listed first wins, and within
// the .netrc file the first entry for a machine wins.
func (a *Authenticator) runCommands(ctx context.Context, client *http.Client, rawURL string, resp *http.Response) error {
	var errs []error
	for i := len(a.cmds) - 1; i >= 0 && ctx.Err() == nil; i-- {
		c := a.cmds[i]
		switch c.Kind {
		case Netrc:
			entries, err := a.netrc()
			if err != nil {
				errs = append(errs, fmt.Errorf("GOAUTH=%s: %v", c.Text, err))
				continue
			}
			for j := len(entries) - 1; j >= 0; j-- {
				e := entries[j]
				a.store(e.machine, basicAuth(e.login, e.password), c.Text)
			}
		case Git:
			if rawURL == "" {
				continue // 'git credential' cannot list credentials: wait for a URL
			}
			prefix, h, err := a.gitFill(ctx, client, c.Dir, rawURL)
			if err != nil {
				errs = append(errs, fmt.Errorf("GOAUTH=%s: %v", c.Text, err))
				continue
			}
			a.store(prefix, h, c.Text)
		case Custom:
			creds, err := a.runCustom(ctx, c, rawURL, resp)
			if err != nil {
				errs = append(errs, fmt.Errorf("GOAUTH=%s: %v", c.Text, err))
				continue
			}
			for prefix, h := range creds {
				a.store(prefix, h, c.Text)
			}
		}
	}
	return errors.Join(errs...)
}

// basicAuth returns the header for HTTP basic authentication.
func basicAuth(user, password string) http.Header {
	r := http.Request{Header: make(http.Header)}
	r.SetBasicAuth(user, password)
	return r.Header
}
