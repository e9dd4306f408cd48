package vcs

// This file fetches discovery pages as cmd/go/internal/web does: the
// security modes, the https-then-http fallback for GOINSECURE, the refusal
// of redirects from https to http, and error messages that quote a
// plain-text explanation from the server.

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/modkit/modkit/internal/web"
	"github.com/modkit/modkit/retry"
)

// A goGetResponse is an answer to a discovery GET: the URL fetched (with
// the scheme that worked, credentials redacted), and the body, of which the
// first lines of a text/plain error page are kept for the error message.
type goGetResponse struct {
	url        string
	status     int
	statusLine string
	body       io.ReadCloser
	detail     *errorDetailCapture // nil unless the page may explain an error
}

// metaImports parses the page's tags and closes the body. With no tags, a
// non-200 status is the answer, as statusErr (a meta tag in a 404 page is
// fine); otherwise parseErr reports a page that is not even HTML.
func (r *goGetResponse) metaImports(ignoreMod bool) (imports []MetaImport, statusErr, parseErr error) {
	defer r.body.Close()
	imports, parseErr = ParseMetaGoImports(r.body, ignoreMod)
	if len(imports) == 0 && r.status != http.StatusOK {
		return nil, r.statusError(), nil
	}
	return imports, nil, parseErr
}

// statusError is the go command's HTTP error for the response
// (cmd/go/internal/web.Response.Err), matching fs.ErrNotExist for 404 and 410.
func (r *goGetResponse) statusError() error {
	e := &goGetHTTPError{url: r.url, status: r.statusLine, code: r.status}
	if r.detail != nil {
		// Read on so the detail does not depend on how far the parser got.
		io.Copy(io.Discard, io.LimitReader(r.body, 1<<20))
		e.detail = r.detail.format()
	}
	return e
}

// goGetHTTPError is a discovery page's non-200 answer.
type goGetHTTPError struct {
	url, status string
	code        int
	detail      string
}

func (e *goGetHTTPError) Error() string {
	if e.detail == "" {
		return fmt.Sprintf("reading %s: %s", e.url, e.status)
	}
	sep := " "
	if strings.Contains(e.detail, "\n") {
		sep = "\n\t"
	}
	return fmt.Sprintf("reading %s: %s\n\tserver response:%s%s", e.url, e.status, sep, e.detail)
}

func (e *goGetHTTPError) Is(target error) bool {
	return target == fs.ErrNotExist && (e.code == http.StatusNotFound || e.code == http.StatusGone)
}

// Limits on the server's explanation quoted in an error
// (cmd/go/internal/web: maxErrorDetailLines, maxErrorDetailBytes).
const (
	errorDetailMaxLines = 8
	errorDetailMaxBytes = errorDetailMaxLines * 81
)

// errorDetailCapture keeps the first lines read through it.
type errorDetailCapture struct {
	r     io.ReadCloser
	buf   strings.Builder
	lines int
}

func (c *errorDetailCapture) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for chunk := p[:n]; len(chunk) > 0 && c.lines <= errorDetailMaxLines; {
		line := chunk
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			line = chunk[:i+1]
			c.lines++
		}
		c.buf.Write(line)
		chunk = chunk[len(line):]
	}
	return n, err
}

func (c *errorDetailCapture) Close() error { return c.r.Close() }

// format renders the captured text as the go command quotes it: nothing
// if it is not clean UTF-8 text (no terminal escapes from a server), up to
// the first blank line, at most 8 lines and 648 bytes, tab-indented.
func (c *errorDetailCapture) format() string {
	return retry.FormatDetail(c.buf.String())
}

// goGetFetch GETs u as cmd/go/internal/web.Get does. A URL without scheme
// is tried over https and then, only if insecure (GOINSECURE), over http;
// an https URL is tried over https alone. With insecure, the https attempt
// skips certificate checks. Any status is an answer; only a failure to get
// one is an error.
func goGetFetch(ctx context.Context, u *url.URL, opts *DiscoverOptions, insecure bool) (*goGetResponse, error) {
	s := *u
	s.Scheme = "https"
	do := opts.secureDo()
	if insecure {
		do = opts.insecureDo()
	}
	resp, err := web.Get(ctx, do, &s, !insecure)
	fetched := &s
	if err != nil {
		if !insecure || u.Scheme == "https" {
			return nil, err
		}
		h := *u
		h.Scheme = "http"
		if resp, err = web.Get(ctx, opts.secureDo(), &h, false); err != nil {
			return nil, err
		}
		fetched = &h
	}
	out := &goGetResponse{url: web.RedactURL(fetched), status: resp.StatusCode, statusLine: resp.Status, body: resp.Body}
	if resp.StatusCode != http.StatusOK {
		mt, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if cs := strings.ToLower(params["charset"]); mt == "text/plain" && (cs == "" || cs == "us-ascii" || cs == "utf-8") {
			out.detail = &errorDetailCapture{r: resp.Body}
			out.body = out.detail
		}
	}
	return out, nil
}

func (o *DiscoverOptions) secureDo() func(*http.Request) (*http.Response, error) {
	if o.Do != nil {
		return o.Do
	}
	return web.Client.Do
}

func (o *DiscoverOptions) insecureDo() func(*http.Request) (*http.Response, error) {
	if o.InsecureDo != nil {
		return o.InsecureDo
	}
	return goGetInsecureClient.Do
}

// goGetInsecureClient is the go command's impatientInsecureHTTPClient: for
// GOINSECURE paths, an https server may be missing or self-signed, so do
// not check certificates and give up soon to reach the http fallback.
var goGetInsecureClient = &http.Client{
	CheckRedirect: web.LimitRedirects,
	Timeout:       5 * time.Second,
	Transport: &http.Transport{
		Proxy:           http.ProxyFromEnvironment,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	},
}
