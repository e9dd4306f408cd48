package retry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
)

// A Class names why a request failed, in terms a caller can act on: whether
// to retry, and what to tell a user. [Classify] maps an error and response
// to a Class; the doctor (envcheck) reuses the same classes to explain
// failures.
type Class int

// The classes. Their String forms are stable identifiers, safe to match in
// scripts and JSON output.
const (
	Unknown         Class = iota // no rule matched; not retried
	OK                           // no failure: a response below 400
	Refused                      // connection refused (ECONNREFUSED)
	Reset                        // connection reset or closed early (ECONNRESET, EPIPE, ENOTCONN, EOF before a response)
	Unreachable                  // no route to the network or host (ENETUNREACH, EHOSTUNREACH)
	Network                      // another network-level failure (*net.OpError)
	Timeout                      // dial, TLS handshake, response header or body stall timeout; HTTP 408
	DNSTemporary                 // the resolver failed or timed out
	DNSNotFound                  // the host name does not exist
	TLS                          // certificate or TLS protocol failure; never retried
	Throttled                    // HTTP 429 or 503: the server asks the client to slow down
	Server                       // other HTTP 5xx except 501
	NotImplemented               // HTTP 501: the server does not support the request
	NotFound                     // HTTP 404 or 410; matches fs.ErrNotExist
	Auth                         // HTTP 401, 403 or 407
	ClientError                  // other HTTP 4xx
	Truncated                    // the body ended early (io.ErrUnexpectedEOF)
	HTTP2                        // HTTP/2 stream reset or GOAWAY
	Redirects                    // too many redirects, or a redirect refused by CheckRedirect
	Protocol                     // malformed or inconsistent answer (bad Content-Range, unexpected status)
	TooLarge                     // the body exceeded the caller's size limit
	Corrupt                      // the download failed its size or verification check twice
	Local                        // writing the download to its destination failed
	Canceled                     // the caller's context was canceled or its deadline passed
	BudgetExhausted              // the host's retry budget was exhausted
	numClasses
)

var classInfo = [numClasses]struct {
	id        string
	retryable bool
	explain   string
}{
	Unknown:         {"unknown", false, "unclassified failure: see the error message for the cause"},
	OK:              {"ok", false, "no failure: the server answered with a success or redirect status"},
	Refused:         {"refused", true, "connection refused: nothing listens on that host and port; check the proxy URL and port, and any firewall"},
	Reset:           {"reset", true, "connection reset or closed by the peer: a server, proxy or middlebox dropped the connection; usually transient, check intercepting proxies if it persists"},
	Unreachable:     {"unreachable", true, "network or host unreachable: there is no route to the server; check network connectivity, VPN and routes"},
	Network:         {"network", true, "network failure: the connection failed below HTTP; check connectivity"},
	Timeout:         {"timeout", true, "timed out: connecting, the TLS handshake, waiting for response headers or reading the body took too long; check connectivity or the proxy's health"},
	DNSTemporary:    {"dns-temporary", true, "temporary DNS failure: the resolver did not answer; check the DNS server and resolver configuration"},
	DNSNotFound:     {"dns-notfound", false, "host not found: DNS has no such name; check the host name in GOPROXY or the module path"},
	TLS:             {"tls", false, "TLS failure: the certificate is not trusted or does not match the host, or the server does not speak TLS there; check the system roots (SSL_CERT_FILE, SSL_CERT_DIR) and any intercepting proxy's CA, and the URL's scheme"},
	Throttled:       {"throttled", true, "throttled (429/503): the server asked the client to slow down; lower concurrency, wait, or use another proxy"},
	Server:          {"server", true, "server error (5xx): the server failed to answer; usually transient"},
	NotImplemented:  {"not-implemented", false, "501 Not Implemented: the server does not support this request; check that the URL points at a module proxy"},
	NotFound:        {"not-found", false, "not found (404/410): the server does not have it; for a proxy this lets the go command try the next GOPROXY entry"},
	Auth:            {"auth", false, "authentication failed (401/403/407): credentials are missing or were rejected; check GOAUTH, .netrc or the proxy's credentials"},
	ClientError:     {"client", false, "request rejected (4xx): the server refused the request as sent; check the URL"},
	Truncated:       {"truncated", true, "truncated body: the connection ended before the whole body arrived; transient, a download resumes where it stopped"},
	HTTP2:           {"http2", true, "HTTP/2 stream or connection reset (RST_STREAM, GOAWAY): the server or a proxy aborted the stream; transient, GODEBUG=http2client=0 avoids HTTP/2 if it persists"},
	Redirects:       {"redirects", false, "redirect refused: too many redirects, or a redirect the client does not follow (such as https to http)"},
	Protocol:        {"protocol", false, "protocol violation: the server's answer was malformed or inconsistent (such as a wrong Content-Range); check for a misbehaving proxy"},
	TooLarge:        {"too-large", false, "response too large: the body exceeded the size limit; the URL probably does not serve what was asked for"},
	Corrupt:         {"corrupt", false, "corrupt download: the body had the wrong size or failed verification, even after a full restart; check for a misbehaving proxy or cache"},
	Local:           {"local", false, "local write failed: the download could not be stored; check disk space and permissions"},
	Canceled:        {"canceled", false, "canceled: the caller canceled the request or its deadline passed"},
	BudgetExhausted: {"budget", false, "retry budget exhausted: recent requests to this host kept failing, so retrying stopped to spare the server; fix the underlying failure"},
}

// String returns the class's stable lowercase identifier, such as "refused"
// or "dns-notfound".
func (c Class) String() string {
	if c < 0 || c >= numClasses {
		return "unknown"
	}
	return classInfo[c].id
}

// Retryable reports whether a failure of this class is worth another
// attempt: transient network failures, timeouts, throttling and server
// errors are; answers that repeat themselves (404, TLS, 4xx) are not.
func (c Class) Retryable() bool {
	return c >= 0 && c < numClasses && classInfo[c].retryable
}

// Explain returns a one-line meaning of the class and what to do about it,
// for people reading a diagnosis.
func (c Class) Explain() string {
	if c < 0 || c >= numClasses {
		return classInfo[Unknown].explain
	}
	return classInfo[c].explain
}

// h2StreamError has the field names and types of net/http's bundled HTTP/2
// StreamError. That type is unexported, but it implements an As method
// that copies itself into any struct shaped like golang.org/x/net/http2's
// StreamError, so errors.As recognises stream resets without matching text.
type h2StreamError struct {
	StreamID uint32
	Code     uint32
	Cause    error
}

func (e h2StreamError) Error() string { return "http2 stream error" }

// Classify decides the class of a failed (or successful) request from the
// error and response that http.Client.Do, a body read or this package
// returned. ctx is the caller's context: cancellation by the caller is
// decided from ctx.Err() alone, never from the error value, because
// timeouts also match context.DeadlineExceeded. A nil ctx counts as not
// canceled.
//
// Typed errors are examined first with errors.Is and errors.As (syscall
// errnos, *net.DNSError, TLS and x509 errors, net.Error timeouts,
// io.ErrUnexpectedEOF, *Error). HTTP/2 GOAWAY and connection errors from
// net/http's bundled HTTP/2 are unexported, so their messages are matched
// as a last resort. With a nil error, the response status decides.
func Classify(ctx context.Context, err error, resp *http.Response) Class {
	if ctx != nil && ctx.Err() != nil {
		return Canceled
	}
	if err == nil {
		if resp == nil {
			return Unknown
		}
		return classifyStatus(resp.StatusCode)
	}
	var re *Error
	if errors.As(err, &re) {
		return re.Class
	}
	switch {
	case errors.Is(err, ErrBudgetExhausted):
		return BudgetExhausted
	case errors.Is(err, errCorrupt):
		return Corrupt
	case errors.Is(err, errTooLarge):
		return TooLarge
	}
	var (
		lw  *localWriteError
		rd  *redirectError
		pe  *protocolError
		dns *net.DNSError
	)
	switch {
	case errors.As(err, &lw):
		return Local
	case errors.As(err, &rd):
		return Redirects
	case errors.As(err, &pe):
		return Protocol
	case isTLSError(err):
		return TLS
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return DNSNotFound
		}
		return DNSTemporary
	}
	if c, ok := classifyErrno(err); ok {
		return c
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return Truncated
	}
	var ne net.Error
	if (errors.As(err, &ne) && ne.Timeout()) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return Timeout
	}
	var h2 h2StreamError
	if errors.As(err, &h2) {
		return HTTP2
	}
	msg := err.Error()
	switch {
	// The HTTP/2 connection-level errors (GOAWAY, lost connections,
	// RST_STREAM codes) have no exported type or As method.
	case strings.Contains(msg, "http2:"), strings.Contains(msg, "GOAWAY"),
		strings.Contains(msg, "stream error"), strings.Contains(msg, "INTERNAL_ERROR"):
		return HTTP2
	// net/http's default redirect policy returns an untyped error.
	case strings.Contains(msg, "stopped after") && strings.Contains(msg, "redirects"):
		return Redirects
	case strings.Contains(msg, "malformed HTTP"):
		return Protocol
	}
	if errors.Is(err, io.EOF) {
		// A connection closed before any response arrived.
		return Reset
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return Network
	}
	return Unknown
}

func classifyStatus(code int) Class {
	switch {
	case code < 400:
		return OK
	case code == http.StatusNotFound, code == http.StatusGone:
		return NotFound
	case code == http.StatusUnauthorized, code == http.StatusForbidden, code == http.StatusProxyAuthRequired:
		return Auth
	case code == http.StatusRequestTimeout:
		return Timeout
	case code == http.StatusTooManyRequests, code == http.StatusServiceUnavailable:
		return Throttled
	case code == http.StatusNotImplemented:
		return NotImplemented
	case code < 500:
		return ClientError
	default:
		return Server
	}
}

func isTLSError(err error) bool {
	var (
		cv  *tls.CertificateVerificationError
		rh  tls.RecordHeaderError
		al  tls.AlertError
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		ci  x509.CertificateInvalidError
		sr  x509.SystemRootsError
		ech *tls.ECHRejectionError
	)
	return errors.As(err, &cv) || errors.As(err, &rh) || errors.As(err, &al) ||
		errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) ||
		errors.As(err, &sr) || errors.As(err, &ech) ||
		errors.Is(err, http.ErrSchemeMismatch)
}
