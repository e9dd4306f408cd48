package envcheck

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"runtime"

	"github.com/modkit/modkit/retry"
)

// explain turns a probe's failure (or unwanted answer) into the shared
// error class ([retry.Classify]'s stable identifiers: "refused", "reset",
// "timeout", "dns-notfound", "tls", ...), a short summary and a fix aimed
// at module downloads. The class is retry's, so the doctor and the
// downloader agree on what a failure is; the texts are envcheck's own,
// because a doctor knows which setting to change.
func explain(ctx context.Context, err error, resp *http.Response) (class, summary, fix string) {
	c := retry.Classify(ctx, err, resp)
	class = c.String()
	e, ok := classTexts[class]
	if !ok {
		// A class no probe is expected to meet (truncated, http2, ...):
		// retry's own explanation says what it is and what to do.
		e.summary = c.Explain()
	}
	summary, fix = e.summary, e.fix
	if class == "tls" {
		summary, fix = explainTLS(err)
	}
	if resp != nil && err == nil {
		summary = fmt.Sprintf("%s (%s)", summary, resp.Status)
	}
	return class, summary, fix
}

var classTexts = map[string]struct{ summary, fix string }{
	"refused": {"connection refused: nothing listens on that host and port",
		"check the host and port (GOPROXY entry, HTTPS_PROXY); if a local proxy or VPN client should be listening there, start it"},
	"reset": {"connection reset or dropped (\"socket is not connected\", reset by peer, EOF before an answer)",
		"a firewall, VPN or intercepting proxy is cutting the connection: if this network needs a proxy, set HTTPS_PROXY; if one is set, check that it allows this host"},
	"unreachable": {"network or host unreachable: no route",
		"check the network connection, VPN and routes"},
	"network": {"network failure",
		"check the network connection"},
	"timeout": {"no answer in time",
		"a firewall may be dropping the traffic silently (set HTTPS_PROXY if this network needs a proxy), or the server is down or overloaded"},
	"dns-notfound": {"host name not found (NXDOMAIN)",
		"check the spelling of the host; internal names need the VPN or the corporate DNS; on networks where only the proxy resolves names, set HTTPS_PROXY"},
	"dns-temporary": {"DNS lookup failed: the resolver did not answer",
		"check the resolver settings (/etc/resolv.conf, or the system's network settings) and the network connection"},
	"tls": {"TLS failure", "see tls.verify"},
	"throttled": {"throttled: the server asks clients to slow down",
		"wait and retry; lower parallelism; or use another GOPROXY"},
	"server": {"server error",
		"usually transient; if it persists, report it to the proxy's operators (see goproxy.fallback for what the go command does next)"},
	"not-implemented": {"the server does not implement this request",
		"check that the URL points at a Go module proxy (it must serve <module>/@v/list)"},
	"not-found": {"not found",
		"the server does not have it; with ',' the go command tries the next GOPROXY entry"},
	"auth": {"authentication required or refused",
		"add credentials: a 'machine HOST login USER password TOKEN' line in ~/.netrc (GOAUTH=netrc), or user:password in the proxy URL; for 407, in HTTPS_PROXY"},
	"client": {"request rejected",
		"check the URL"},
	"redirects": {"redirect refused",
		"the go command does not follow redirects from https to http or more than 10 redirects; fix the server or the URL"},
	"canceled": {"canceled before it finished",
		"run again with a longer -timeout"},
	"unknown": {"failed",
		"see the details"},
}

// explainTLS distinguishes the TLS failures a user fixes differently: an
// unknown authority (usually a TLS-intercepting proxy), a name mismatch,
// an expired certificate or a wrong clock.
func explainTLS(err error) (summary, fix string) {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		issuer := "an unknown authority"
		if ua.Cert != nil {
			issuer = describeName(ua.Cert.Issuer.CommonName, ua.Cert.Issuer.Organization)
		}
		return fmt.Sprintf("certificate signed by %s, which this machine does not trust: probably a TLS-intercepting proxy", issuer), trustFix()
	case errors.As(err, &he):
		return "certificate is not valid for this host name: " + he.Error(),
			"check the host name in the URL; an intercepting proxy that mints certificates for the wrong name is misconfigured"
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		return "certificate has expired or is not yet valid: " + ci.Error(),
			"check this machine's clock (see tls.clock); if the clock is right, the server's certificate has expired"
	}
	return "TLS handshake failed", "check that the URL's scheme is right (https for TLS servers) and that no proxy interferes"
}

// trustFix tells how to trust an intercepting proxy's CA, per platform.
// Go reads SSL_CERT_FILE and SSL_CERT_DIR only on Unix systems other than
// macOS (crypto/x509 root_unix.go).
func trustFix() string {
	switch runtime.GOOS {
	case "darwin":
		return "get your proxy's CA certificate from IT and add it to the System keychain as trusted (Keychain Access, or: sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain corp-ca.pem)"
	case "windows":
		return "get your proxy's CA certificate from IT and import it into Trusted Root Certification Authorities (certlm.msc), or via group policy"
	}
	return "get your proxy's CA certificate (PEM) from IT, then either\n" +
		"export SSL_CERT_FILE=/path/to/bundle-with-corp-ca.pem   # replaces the system bundle: include the public roots too\n" +
		"# or add it to the system trust store: sudo cp corp-ca.crt /usr/local/share/ca-certificates/ && sudo update-ca-certificates (Debian/Ubuntu; RHEL: /etc/pki/ca-trust/source/anchors + update-ca-trust)"
}

func describeName(cn string, org []string) string {
	switch {
	case cn != "" && len(org) > 0 && org[0] != cn:
		return fmt.Sprintf("%q (%s)", cn, org[0])
	case cn != "":
		return fmt.Sprintf("%q", cn)
	case len(org) > 0:
		return fmt.Sprintf("%q", org[0])
	}
	return "an unnamed authority"
}
