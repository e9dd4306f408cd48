package envcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
)

// classify is a stand-in for retry.Classify(ctx, err, resp).String() until
// the retry package is on main: it covers only the classes the probes
// produce, with retry's class names, and is to be deleted then.
func classify(ctx context.Context, err error, resp *http.Response) string {
	if ctx != nil && ctx.Err() != nil {
		return "canceled"
	}
	if err == nil {
		if resp == nil {
			return "unknown"
		}
		switch c := resp.StatusCode; {
		case c < 400:
			return "ok"
		case c == 404 || c == 410:
			return "not-found"
		case c == 401 || c == 403 || c == 407:
			return "auth"
		case c == 408:
			return "timeout"
		case c == 429 || c == 503:
			return "throttled"
		case c == 501:
			return "not-implemented"
		case c < 500:
			return "client"
		}
		return "server"
	}
	var (
		dns *net.DNSError
		cv  *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		ci  x509.CertificateInvalidError
		rh  tls.RecordHeaderError
		al  tls.AlertError
		ne  net.Error
	)
	switch {
	case errors.As(err, &cv), errors.As(err, &ua), errors.As(err, &he), errors.As(err, &ci),
		errors.As(err, &rh), errors.As(err, &al):
		return "tls"
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "dns-notfound"
		}
		return "dns-temporary"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ENOTCONN), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNABORTED):
		return "reset"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "unreachable"
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "reset"
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return "network"
	}
	return "unknown"
}
