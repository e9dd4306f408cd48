package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// maxRedirects is net/http's default limit, which the go command mimics
// (cmd/go/internal/web.checkRedirect) to avoid hangs.
const maxRedirects = 10

// An InsecureRedirectError reports a redirect from https to another
// scheme, which is never followed: what was meant for a secure server,
// credentials included, would travel in clear. From and To are redacted.
type InsecureRedirectError struct {
	From, To string
}

func (e *InsecureRedirectError) Error() string {
	return fmt.Sprintf("redirected from secure URL %s to insecure URL %s", e.From, e.To)
}

func insecureRedirect(from, to *url.URL) error {
	return &InsecureRedirectError{From: RedactURL(from), To: RedactURL(to)}
}

// CheckRedirect is an http.Client CheckRedirect policy: a chain of
// redirects that began over https may not leave it, and it stops after
// 10 redirects. It is the go command's securityPreservingHTTPClient
// (cmd/go/internal/web/http.go), used by every modkit client that talks to
// proxies, checksum databases and go-get servers.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > 0 && via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return insecureRedirect(via[len(via)-1].URL, req.URL)
	}
	return LimitRedirects(req, via)
}

// LimitRedirects is the limit of CheckRedirect alone, for clients that
// are insecure on purpose: the go command's impatientInsecureHTTPClient
// for GOINSECURE paths follows any redirect (cmd/go/internal/web.checkRedirect).
func LimitRedirects(_ *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

// Client is http.DefaultClient with CheckRedirect, the go command's
// securityPreservingDefaultClient.
var Client = &http.Client{CheckRedirect: CheckRedirect}

// Get sends a GET for u through do, which may be any client's Do. If
// secure, a response that redirects brought from https to another scheme
// is refused, whichever client followed them, with a *url.Error naming
// both URLs: the go command's rule for go-get discovery and repository
// probes, whose clients callers choose (cmd/go/internal/web.get).
func Get(ctx context.Context, do func(*http.Request) (*http.Response, error), u *url.URL, secure bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, RedactError(err)
	}
	resp, err := do(req)
	if err != nil {
		return nil, RedactError(err)
	}
	if secure {
		if err := checkDowngrade(u, resp); err != nil {
			return nil, &url.Error{Op: "Get", URL: RedactURL(resp.Request.URL), Err: err}
		}
	}
	return resp, nil
}

// checkDowngrade refuses resp, the answer to a GET of first, if redirects
// brought it from https to another scheme. It closes resp's body when it
// refuses.
func checkDowngrade(first *url.URL, resp *http.Response) error {
	if first.Scheme != "https" || resp.Request == nil || resp.Request.URL.Scheme == "https" {
		return nil
	}
	resp.Body.Close()
	last := first
	if prev := resp.Request.Response; prev != nil && prev.Request != nil {
		last = prev.Request.URL
	}
	return insecureRedirect(last, resp.Request.URL)
}
