package envcheck

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/modkit/modkit/internal/web"
)

// maxProbeBody bounds what a probe reads of an answer: enough to tell a
// version list or signed note from an HTML login page.
const maxProbeBody = 64 << 10

// opContext bounds one network operation slightly inside the check's
// deadline, so that an endpoint that never answers is reported as a
// timeout by the probe itself, with its phase, rather than by the runner.
func opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, d.Add(-lateGrace/2))
	}
	return context.WithCancel(ctx)
}

func (r *runner) lookupHost(ctx context.Context, host string) ([]string, error) {
	if r.opts.LookupHost != nil {
		return r.opts.LookupHost(ctx, host)
	}
	return net.DefaultResolver.LookupHost(ctx, host)
}

func (r *runner) dialAddr(ctx context.Context, network, addr string) (net.Conn, error) {
	if r.opts.DialContext != nil {
		return r.opts.DialContext(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// dial resolves addr's host with the runner's resolver and connects to the
// first address that accepts. It reports the DNS and connect phases to an
// httptrace.ClientTrace in ctx itself, since http.Transport only does so
// for its own dialer.
func (r *runner) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	trace := httptrace.ContextClientTrace(ctx)
	ips := []string{host}
	if net.ParseIP(host) == nil {
		if trace != nil && trace.DNSStart != nil {
			trace.DNSStart(httptrace.DNSStartInfo{Host: host})
		}
		ips, err = r.lookupHost(ctx, host)
		if trace != nil && trace.DNSDone != nil {
			trace.DNSDone(httptrace.DNSDoneInfo{Err: err})
		}
		if err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
		if len(ips) == 0 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}}
		}
	}
	var first error
	for _, ip := range ips {
		a := net.JoinHostPort(ip, port)
		if trace != nil && trace.ConnectStart != nil {
			trace.ConnectStart(network, a)
		}
		c, err := r.dialAddr(ctx, network, a)
		if trace != nil && trace.ConnectDone != nil {
			trace.ConnectDone(network, a, err)
		}
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// tlsConfig is the configuration probes verify certificates with: the
// injected roots (or the system's) and the injected clock.
func (r *runner) tlsConfig(serverName string) *tls.Config {
	c := &tls.Config{RootCAs: r.opts.RootCAs, ServerName: serverName}
	if r.opts.Now != nil {
		c.Time = r.opts.Now
	}
	return c
}

// client returns an HTTP client for one probe: the runner's dialer, proxy
// choice and trust, no connection reuse (every probe measures its own
// connection), and the go command's redirect rule (no https → http;
// cmd/go/internal/web.securityPreservingHTTPClient).
func (r *runner) client() *http.Client {
	t := &http.Transport{
		Proxy:                  r.proxyFn,
		DialContext:            r.dial,
		TLSClientConfig:        r.tlsConfig(""),
		ForceAttemptHTTP2:      true,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	r.mu.Lock()
	r.transports = append(r.transports, t)
	r.mu.Unlock()
	return &http.Client{Transport: t, CheckRedirect: web.CheckRedirect}
}

// A fetch is one probe request's outcome.
type fetch struct {
	url    string // redacted
	resp   *http.Response
	body   []byte
	err    error
	phases *phases
	proxy  *url.URL // the HTTP proxy the request went through, if any
	// authErr says why GOAUTH provided no credentials after a 4xx; it
	// holds no credentials.
	authErr error
	start   time.Time
}

// get fetches rawURL with phase timings, sending the credentials the go
// command would send (every GOAUTH command, and after a 4xx once more with
// what they then provide, as cmd/go/internal/web.get does), and reads at
// most maxProbeBody.
func (r *runner) get(ctx context.Context, rawURL string) *fetch {
	f := &fetch{url: web.Redact(rawURL), phases: &phases{}}
	ctx, cancel := opContext(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, f.phases.trace()), http.MethodGet, rawURL, nil)
	if err != nil {
		f.err = web.RedactError(err)
		return f
	}
	if p, err := r.proxyFn(req); err == nil {
		f.proxy = p
	}
	f.start = time.Now()
	f.phases.start = f.start
	if req.URL.Scheme == "file" {
		f.resp, f.body, f.err = readFileURL(req.URL)
		return f
	}
	var resp *http.Response
	if a, aerr := r.auth(); aerr == nil {
		resp, f.authErr, err = a.Do(r.client(), req)
	} else { // a GOAUTH the go command rejects: auth.netrc says so
		resp, err = r.client().Do(req)
	}
	if err != nil {
		f.err = web.RedactError(err) // net/http's keeps the user name
		return f
	}
	defer resp.Body.Close()
	f.resp = resp
	f.body, f.err = io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	return f
}

func httptraceContext(ctx context.Context, p *phases) context.Context {
	return httptrace.WithClientTrace(ctx, p.trace())
}

// phases records when each step of a request happened (net/http/httptrace).
type phases struct {
	mu                  sync.Mutex
	start               time.Time
	dnsStart, dnsDone   time.Time
	connStart, connDone time.Time
	tlsStart, tlsDone   time.Time
	firstByte           time.Time
	connected           bool
}

func (p *phases) mark(t *time.Time) {
	p.mu.Lock()
	if t.IsZero() {
		*t = time.Now()
	}
	p.mu.Unlock()
}

func (p *phases) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart:     func(httptrace.DNSStartInfo) { p.mark(&p.dnsStart) },
		DNSDone:      func(httptrace.DNSDoneInfo) { p.mark(&p.dnsDone) },
		ConnectStart: func(string, string) { p.mark(&p.connStart) },
		ConnectDone: func(_, _ string, err error) {
			p.mark(&p.connDone)
			if err == nil {
				p.mu.Lock()
				p.connected = true
				p.mu.Unlock()
			}
		},
		TLSHandshakeStart:    func() { p.mark(&p.tlsStart) },
		TLSHandshakeDone:     func(tls.ConnectionState, error) { p.mark(&p.tlsDone) },
		GotFirstResponseByte: func() { p.mark(&p.firstByte) },
	}
}

// String lists the phases that happened: "dns 2ms, connect 1ms, tls 9ms,
// first byte 31ms" (first byte counted from the start of the request).
func (p *phases) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var parts []string
	span := func(name string, a, b time.Time) {
		if !a.IsZero() && !b.IsZero() {
			parts = append(parts, fmt.Sprintf("%s %v", name, roundDuration(b.Sub(a))))
		}
	}
	span("dns", p.dnsStart, p.dnsDone)
	span("connect", p.connStart, p.connDone)
	span("tls", p.tlsStart, p.tlsDone)
	span("first byte", p.start, p.firstByte)
	return strings.Join(parts, ", ")
}

// stalledAfter says how far a request got before it stopped, for
// timeouts: "connected, TLS done, no answer".
func (p *phases) stalledAfter() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case !p.firstByte.IsZero():
		return "the answer started but did not finish"
	case !p.tlsDone.IsZero():
		return "connected and completed TLS, then no answer"
	case !p.tlsStart.IsZero():
		return "connected, then the TLS handshake got no answer"
	case p.connected:
		return "connected, then no answer"
	case !p.connStart.IsZero():
		return "the connection was never accepted"
	case !p.dnsStart.IsZero() && p.dnsDone.IsZero():
		return "the DNS lookup got no answer"
	}
	return ""
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Microsecond)
}

// readFileURL answers a file:// request as the go command's web package
// does for file proxies (cmd/go/internal/web.getFile): a missing file is a
// 404, so the fallback rules work the same.
func readFileURL(u *url.URL) (*http.Response, []byte, error) {
	path, err := fileURLPath(u)
	if err != nil {
		return nil, nil, err
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &http.Response{StatusCode: http.StatusNotFound, Status: "404 Not Found (" + path + " does not exist)", Header: http.Header{}}, nil, nil
	case err != nil:
		return nil, nil, err
	}
	if len(data) > maxProbeBody {
		data = data[:maxProbeBody]
	}
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Header: http.Header{}}, data, nil
}

// fileURLPath converts a file:// URL to a local path (on Windows, the
// path "/C:/dir" names C:\dir).
func fileURLPath(u *url.URL) (string, error) {
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("file URL %s names a remote host", web.RedactURL(u))
	}
	p := u.Path
	if runtime.GOOS == "windows" {
		p = strings.TrimPrefix(p, "/")
	}
	return filepath.FromSlash(p), nil
}
