package envcheck

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/modkit/modkit/internal/web"
	"github.com/modkit/modkit/modnet"
)

// An endpoint is a server the go command talks to for module downloads.
type endpoint struct {
	role string   // "GOPROXY entry", "checksum database", "private host"
	u    *url.URL // scheme and host[:port]
}

// hostPort returns u's host with the scheme's default port.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "443"
	switch u.Scheme {
	case "http":
		port = "80"
	case "socks5", "socks5h":
		port = "1080"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// endpoints lists the servers the go command would reach: the http(s)
// proxies in GOPROXY, the checksum database when it is reached directly
// (no proxy before direct, or a URL in GOSUMDB), and the literal hosts of
// GONOPROXY patterns, which are fetched direct.
func (r *runner) endpoints() []endpoint {
	var eps []endpoint
	seen := map[string]bool{}
	add := func(role, raw string) {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return
		}
		key := u.Scheme + "://" + hostPort(u)
		if seen[key] {
			return
		}
		seen[key] = true
		eps = append(eps, endpoint{role: role, u: &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawQuery: u.RawQuery}})
	}
	list, _ := r.env.ProxyList()
	proxies := 0
	for _, s := range list {
		if s.Kind == modnet.KindProxy && !strings.HasPrefix(s.URL, "file:") {
			add("GOPROXY entry", s.URL)
			proxies++
		}
	}
	if db, err := modnet.ParseGOSUMDB(r.env.Lookup("GOSUMDB")); err == nil && db.URL != "" && (db.Explicit || proxies == 0) {
		add("checksum database", db.URL)
	}
	for _, h := range patternHosts(r.env) {
		if !strings.HasPrefix(h, ".") {
			add("private host", "https://"+h)
		}
	}
	return eps
}

// A target is where a connection actually goes: the endpoint itself, or
// the HTTP proxy chosen for it.
type target struct {
	addr  string   // host:port dialled
	via   *url.URL // the proxy, when addr is one
	roles []string // "GOPROXY entry https://...", for messages
}

// targets maps endpoints to the addresses dialled, grouping endpoints that
// share a proxy.
func (r *runner) targets(eps []endpoint) []*target {
	var out []*target
	byAddr := map[string]*target{}
	for _, ep := range eps {
		t := &target{addr: hostPort(ep.u)}
		if p, err := r.proxyFn(&http.Request{URL: ep.u, Header: http.Header{}}); err == nil && p != nil {
			t = &target{addr: hostPort(p), via: p}
		}
		if have := byAddr[t.addr]; have != nil {
			t = have
		} else {
			byAddr[t.addr] = t
			out = append(out, t)
		}
		t.roles = append(t.roles, ep.role+" "+web.Redact(ep.u.Scheme+"://"+ep.u.Host))
	}
	return out
}

func (t *target) describe() string {
	if t.via != nil {
		return fmt.Sprintf("proxy %s (for %s)", web.Redact(t.via.String()), strings.Join(t.roles, ", "))
	}
	return fmt.Sprintf("%s (%s)", t.addr, strings.Join(t.roles, ", "))
}

// probeDNS resolves every host the go command (or its proxy) would dial.
func probeDNS(ctx context.Context, r *runner) Result {
	ts := r.targets(r.endpoints())
	if len(ts) == 0 {
		return skip("no network endpoints: GOPROXY has no http(s) proxies and no private hosts are configured")
	}
	type answer struct {
		t    *target
		host string
		ips  []string
		err  error
		took time.Duration
	}
	answers := forEach(ts, func(t *target) answer {
		host, _, _ := net.SplitHostPort(t.addr)
		a := answer{t: t, host: host}
		if net.ParseIP(host) != nil {
			a.ips = []string{host}
			return a
		}
		octx, cancel := opContext(ctx)
		defer cancel()
		start := time.Now()
		a.ips, a.err = r.lookupHost(octx, host)
		a.took = time.Since(start)
		return a
	})
	var f findings
	for _, a := range answers {
		if a.err != nil {
			class, summary, fix := explain(r.stopped, a.err, nil)
			f.add(StatusError, fix, "%s: %s [%s]", a.t.describe(), summary, class)
			f.note("%s: %v", a.host, a.err)
			continue
		}
		for _, ip := range a.ips {
			if p := net.ParseIP(ip); p != nil && p.IsUnspecified() {
				f.add(StatusError, "ask whoever runs this network's DNS filter to allow "+a.host+", or use a proxy that can reach it",
					"%s resolves to %s: a DNS filter blocks it", a.host, ip)
			}
		}
		f.note("%s → %s (%v)", a.host, strings.Join(firstN(a.ips, 4), ", "), roundDuration(a.took))
	}
	return f.result(plural(len(answers), "host name resolves", "host names resolve"))
}

// probeTCP connects to every address the go command would dial.
func probeTCP(ctx context.Context, r *runner) Result {
	ts := r.targets(r.endpoints())
	if len(ts) == 0 {
		return skip("no network endpoints: GOPROXY has no http(s) proxies and no private hosts are configured")
	}
	type answer struct {
		err   error
		p     *phases
		local string
	}
	answers := forEach(ts, func(t *target) answer {
		p := &phases{}
		octx, cancel := opContext(ctx)
		defer cancel()
		c, err := r.dial(httptraceContext(octx, p), "tcp", t.addr)
		if err != nil {
			return answer{err: err, p: p}
		}
		defer c.Close()
		return answer{p: p, local: c.LocalAddr().String()}
	})
	var f findings
	for i, a := range answers {
		t := ts[i]
		if a.err != nil {
			class, summary, fix := explain(r.stopped, a.err, nil)
			if strings.HasPrefix(class, "dns-") {
				// One cause, one error: dns.resolve reports it.
				f.add(StatusInfo, "", "%s: not tried, the name does not resolve (see dns.resolve)", t.describe())
				continue
			}
			if t.via != nil {
				fix = "the proxy in HTTPS_PROXY/HTTP_PROXY does not accept connections: check its host and port, and that it is running"
			}
			f.add(StatusError, fix, "%s: %s [%s]", t.describe(), summary, class)
			f.note("%s: %v", t.addr, a.err)
			continue
		}
		f.note("%s: connected (%s)", t.describe(), a.p)
	}
	return f.result(plural(len(ts), "connection succeeds", "connections succeed"))
}

// interceptors are organisations whose CAs re-sign HTTPS traffic on
// corporate networks: seeing one as an issuer names the inspecting proxy.
var interceptors = []string{"Zscaler", "Netskope", "Palo Alto", "Fortinet", "FortiGate", "Blue Coat", "Symantec Web",
	"Sophos", "Cisco Umbrella", "Forcepoint", "Check Point", "McAfee Web Gateway", "Skyhigh", "Kaspersky", "Avast",
	"AVG", "ESET", "Bitdefender", "Cloudflare Gateway", "Menlo Security", "iboss", "Lightspeed", "Securly", "GoGuardian"}

// probeTLS performs a TLS handshake with every https endpoint (through
// the HTTPS proxy when one is in effect), names the certificate's issuer,
// and verifies the chain as the go command's client would.
func probeTLS(ctx context.Context, r *runner) Result {
	var eps []endpoint
	for _, ep := range r.endpoints() {
		if ep.u.Scheme == "https" {
			eps = append(eps, ep)
		}
	}
	if len(eps) == 0 {
		return skip("no https endpoints")
	}
	type answer struct {
		ep      endpoint
		via     *url.URL
		certs   []*x509.Certificate
		connErr error // connecting (or tunnelling) before TLS
		hsErr   error // handshake
		vErr    error // verification
		took    time.Duration
		cipher  string
	}
	answers := forEach(eps, func(ep endpoint) answer {
		a := answer{ep: ep}
		octx, cancel := opContext(ctx)
		defer cancel()
		start := time.Now()
		conn, via, err := r.connect(octx, ep.u)
		a.via = via
		if err != nil {
			a.connErr = err
			return a
		}
		defer conn.Close()
		// Verification is done below, by hand, so that the certificate
		// chain is available to name its issuer even when it does not
		// verify. Nothing but the handshake is sent on this connection.
		cfg := r.tlsConfig(ep.u.Hostname())
		cfg.InsecureSkipVerify = true
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(octx); err != nil {
			a.hsErr = err
			return a
		}
		a.took = time.Since(start)
		st := tc.ConnectionState()
		a.certs = st.PeerCertificates
		a.cipher = tls.VersionName(st.Version)
		a.vErr = r.verifyChain(ep.u.Hostname(), a.certs)
		return a
	})
	var f findings
	for _, a := range answers {
		name := a.ep.role + " " + a.ep.u.Host
		via := ""
		if a.via != nil {
			via = " through proxy " + web.Redact(a.via.String())
		}
		if a.connErr != nil {
			// One cause, one error: dns.resolve, tcp.connect or proxyenv.reach reports it.
			_, summary, _ := explain(r.stopped, a.connErr, nil)
			f.add(StatusInfo, "", "%s%s: not verified, cannot connect: %s (see tcp.connect)", name, via, summary)
			f.note("%s: %v", name, a.connErr)
			continue
		}
		if a.hsErr != nil {
			class, summary, fix := explain(r.stopped, a.hsErr, nil)
			f.add(StatusError, fix, "%s%s: %s [%s]", name, via, summary, class)
			f.note("%s: %v", name, a.hsErr)
			continue
		}
		if len(a.certs) == 0 {
			f.add(StatusError, "", "%s%s: the server sent no certificate", name, via)
			continue
		}
		leaf := a.certs[0]
		issuer := describeName(leaf.Issuer.CommonName, leaf.Issuer.Organization)
		if a.vErr != nil {
			summary, fix := explainTLS(a.vErr)
			f.add(StatusError, fix, "%s%s: %s [tls]", name, via, summary)
			f.note("%s: %v", name, a.vErr)
			continue
		}
		if vendor := interceptor(a.certs); vendor != "" {
			f.add(StatusInfo, "", "%s%s: traffic is inspected by %s (certificate issued by %s); this machine trusts it, but tools with their own trust store (git, curl in containers) may not",
				name, via, vendor, issuer)
			continue
		}
		f.note("%s%s: %s, issued by %s, valid until %s (%v)", name, via, a.cipher, issuer, leaf.NotAfter.Format("2006-01-02"), roundDuration(a.took))
	}
	return f.result(plural(len(answers), "certificate verifies", "certificates verify"))
}

// verifyChain verifies certs for host as crypto/tls would, with the
// runner's roots and clock.
func (r *runner) verifyChain(host string, certs []*x509.Certificate) error {
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{DNSName: host, Roots: r.opts.RootCAs, Intermediates: inter, CurrentTime: r.now()})
	return err
}

func interceptor(certs []*x509.Certificate) string {
	for _, c := range certs {
		names := append([]string{c.Issuer.CommonName}, c.Issuer.Organization...)
		for _, n := range names {
			for _, v := range interceptors {
				if strings.Contains(strings.ToLower(n), strings.ToLower(v)) {
					return v
				}
			}
		}
	}
	return ""
}

// connect opens a TCP connection to u's host, through the HTTP proxy the
// go command would use for u (a CONNECT tunnel) when there is one.
func (r *runner) connect(ctx context.Context, u *url.URL) (net.Conn, *url.URL, error) {
	p, err := r.proxyFn(&http.Request{URL: u, Header: http.Header{}})
	if err != nil {
		return nil, nil, err
	}
	if p == nil || (p.Scheme != "http" && p.Scheme != "https") {
		c, err := r.dial(ctx, "tcp", hostPort(u))
		return c, nil, err
	}
	c, resp, err := r.connectVia(ctx, p, hostPort(u))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("proxy %s answered CONNECT %s with %s", web.Redact(p.String()), hostPort(u), resp.Status)
	}
	return c, p, err
}

// connectVia asks the HTTP proxy p for a tunnel to addr, as net/http's
// Transport does for https URLs. A non-200 answer is returned with a nil
// connection and a nil error.
func (r *runner) connectVia(ctx context.Context, p *url.URL, addr string) (net.Conn, *http.Response, error) {
	conn, err := r.dial(ctx, "tcp", hostPort(p))
	if err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if p.Scheme == "https" {
		tc := tls.Client(conn, r.tlsConfig(p.Hostname()))
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, nil, err
		}
		conn = tc
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: http.Header{}}
	if p.User != nil {
		pw, _ := p.User.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(p.User.Username()+":"+pw)))
	}
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		conn.Close() // first: a body without a length would be read to EOF
		resp.Body.Close()
		return nil, resp, nil
	}
	// The body of a 200 answer to CONNECT is the tunnel: leave it alone,
	// as net/http's Transport does.
	if br.Buffered() > 0 {
		conn.Close()
		return nil, nil, fmt.Errorf("proxy %s sent data after its CONNECT answer", web.Redact(p.String()))
	}
	return conn, resp, nil
}

// probeProxyEnv asks each HTTP proxy in effect for a tunnel to the
// endpoints it serves, as the go command's client would.
func probeProxyEnv(ctx context.Context, r *runner) Result {
	type job struct {
		proxy *url.URL
		ep    endpoint
	}
	var jobs []job
	for _, ep := range r.endpoints() {
		if p, err := r.proxyFn(&http.Request{URL: ep.u, Header: http.Header{}}); err == nil && p != nil {
			jobs = append(jobs, job{p, ep})
		}
	}
	if len(jobs) == 0 {
		return skip("no HTTP proxy in effect for the module endpoints (HTTPS_PROXY unset, or NO_PROXY covers them)")
	}
	type answer struct {
		resp *http.Response
		err  error
		p    *phases
	}
	answers := forEach(jobs, func(j job) answer {
		p := &phases{}
		if j.proxy.Scheme != "http" && j.proxy.Scheme != "https" {
			return answer{p: p, err: fmt.Errorf("%s proxies are not probed beyond tcp.connect", j.proxy.Scheme)}
		}
		octx, cancel := opContext(ctx)
		defer cancel()
		c, resp, err := r.connectVia(httptraceContext(octx, p), j.proxy, hostPort(j.ep.u))
		if c != nil {
			c.Close()
		}
		return answer{resp: resp, err: err, p: p}
	})
	var f findings
	for i, a := range answers {
		j := jobs[i]
		proxy := web.Redact(j.proxy.String())
		dest := hostPort(j.ep.u)
		switch {
		case a.err != nil && strings.Contains(a.err.Error(), "are not probed"):
			f.note("%s: %v", proxy, a.err)
		case a.err != nil:
			class, summary, fix := explain(r.stopped, a.err, nil)
			if class == "timeout" {
				if st := a.p.stalledAfter(); st != "" {
					summary += " (" + st + ")"
				}
			}
			// The class's generic fix would suggest setting a proxy; this is one.
			proxyFix := "check HTTPS_PROXY's host and port, and that the proxy is running"
			if class == "tls" || class == "auth" {
				proxyFix += "\n" + fix
			}
			f.add(StatusError, proxyFix, "proxy %s (for %s): %s [%s]", proxy, dest, summary, class)
			f.note("%v", a.err)
		case a.resp.StatusCode == http.StatusOK:
			f.note("proxy %s: CONNECT %s ok (%s)", proxy, dest, a.p)
		case a.resp.StatusCode == http.StatusProxyAuthRequired:
			f.add(StatusError, "export HTTPS_PROXY=http://USER:PASSWORD@"+j.proxy.Host+"  # URL-escape special characters in the password",
				"proxy %s wants credentials for CONNECT %s (%s)", proxy, dest, a.resp.Status)
		case a.resp.StatusCode == http.StatusForbidden:
			f.add(StatusError, "ask the proxy's operators to allow "+j.ep.u.Hostname()+", or use a GOPROXY the proxy allows",
				"proxy %s refuses CONNECT to %s (%s): blocked by its policy", proxy, dest, a.resp.Status)
		default:
			f.add(StatusError, "the proxy cannot reach "+j.ep.u.Hostname()+": check the host name, or ask the proxy's operators",
				"proxy %s failed CONNECT to %s (%s)", proxy, dest, a.resp.Status)
		}
	}
	return f.result(plural(len(jobs), "tunnel through the proxy succeeds", "tunnels through the proxy succeed"))
}

// probeClock compares the local clock with servers' Date headers. A wrong
// clock makes every certificate look expired or not yet valid, so this
// request does not verify certificates and sends no credentials: it reads
// only the Date header.
func probeClock(ctx context.Context, r *runner) Result {
	var eps []endpoint
	for _, ep := range r.endpoints() {
		if ep.role != "private host" {
			eps = append(eps, ep)
		}
	}
	if len(eps) == 0 {
		return skip("no proxy or checksum database endpoint to ask for the time")
	}
	t := &http.Transport{Proxy: r.proxyFn, DialContext: r.dial, DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	defer t.CloseIdleConnections()
	client := &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var f findings
	for _, ep := range eps {
		octx, cancel := opContext(ctx)
		req, err := http.NewRequestWithContext(octx, http.MethodHead, ep.u.String(), nil)
		if err != nil {
			cancel()
			continue
		}
		before := r.now()
		resp, err := client.Do(req)
		after := r.now()
		cancel()
		if err != nil {
			_, summary, _ := explain(r.stopped, err, nil)
			f.note("%s: %s", web.Redact(ep.u.String()), summary)
			continue
		}
		resp.Body.Close()
		date, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			f.note("%s: no usable Date header", web.Redact(ep.u.String()))
			continue
		}
		local := before.Add(after.Sub(before) / 2)
		skew := date.Sub(local)
		abs := skew
		if abs < 0 {
			abs = -abs
		}
		dir := "ahead of"
		if skew > 0 {
			dir = "behind"
		}
		fix := "turn on automatic time sync: sudo timedatectl set-ntp true (Linux), or 'Set time automatically' (macOS, Windows)"
		msg := fmt.Sprintf("the local clock is %v %s %s's (Date: %s)", abs.Round(time.Second), dir, ep.u.Host, resp.Header.Get("Date"))
		switch {
		case abs >= time.Hour:
			f.add(StatusError, fix, "%s: certificates will look expired or not yet valid", msg)
		case abs >= time.Minute:
			f.add(StatusWarn, fix, "%s", msg)
		default:
			return Result{Status: StatusOK, Summary: fmt.Sprintf("the local clock agrees with %s (within %v)", ep.u.Host, max(abs.Round(time.Second), time.Second)), Details: f.notes}
		}
		return f.result("")
	}
	if len(f.list) == 0 {
		f.add(StatusInfo, "", "no server answered with a Date header; clock not checked")
	}
	return f.result("")
}

func firstN(list []string, n int) []string {
	if len(list) > n {
		return append(list[:n:n], fmt.Sprintf("… %d more", len(list)-n))
	}
	return list
}
