package testenv

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modkit/modkit/internal/web"
)

// A Net is a small internet for tests in which every connection ends on
// loopback. Hosts join it in two ways:
//
//   - [Net.HandleHTTPS] and [Net.HandleHTTP] serve a name on the standard
//     ports, as https://name and http://name, through the Net's proxy
//     ([Net.ProxyURL]). Clients that honour HTTPS_PROXY and HTTP_PROXY,
//     such as the go command and git ([Net.GoEnv]), or [Net.Client], then
//     reach ordinary host names: the go command takes the host of an
//     import path from the path, and 127.0.0.1:PORT is no module path.
//   - [Net.Serve] and [Net.ServePlain] start a loopback server of its own
//     for a name, on a port of its own; the name resolves to 127.0.0.1
//     through [Net.LookupHost], for code that takes a resolver, and
//     through the proxies.
//
// Every server certificate comes from the Net's [CA] unless Serve is given
// another. The Net records every request its servers and proxies receive
// ([Net.Requests]) and every name it is asked to resolve ([Net.Lookups]).
type Net struct {
	CA *CA

	t        testing.TB
	proxyURL string
	certFile string

	mu       sync.Mutex
	hosts    map[string][]string // resolver answers
	https    map[string]http.Handler
	http     map[string]http.Handler
	leaves   map[string]*tls.Certificate
	lookups  []string
	requests []string

	tunnels *chanListener // CONNECT tunnels to the HandleHTTPS hosts
}

// NewNet returns a new Net, closed when the test ends.
func NewNet(t testing.TB) *Net {
	t.Helper()
	n := &Net{
		CA:      NewCA(t, "modkit test CA", "modkit tests"),
		t:       t,
		hosts:   map[string][]string{},
		https:   map[string]http.Handler{},
		http:    map[string]http.Handler{},
		leaves:  map[string]*tls.Certificate{},
		tunnels: &chanListener{conns: make(chan net.Conn), done: make(chan struct{})},
	}
	n.certFile = CertFile(t, n.CA.Cert)
	tlsSrv := &http.Server{
		Handler:           n.recording(http.HandlerFunc(n.serveNamed)),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // clients that distrust the certificate are expected
	}
	conf := &tls.Config{GetCertificate: n.certificate}
	go tlsSrv.Serve(tls.NewListener(n.tunnels, conf))
	t.Cleanup(func() { tlsSrv.Close() })
	n.proxyURL = n.NewProxy(0, "")
	return n
}

// HandleHTTPS serves host over https on port 443, through the proxies.
func (n *Net) HandleHTTPS(host string, h http.Handler) {
	n.mu.Lock()
	n.https[host] = h
	n.mu.Unlock()
}

// HandleHTTP serves host over plain http on port 80, through the proxies.
func (n *Net) HandleHTTP(host string, h http.Handler) {
	n.mu.Lock()
	n.http[host] = h
	n.mu.Unlock()
}

// Serve starts an https server on loopback for name, with a certificate
// for name and 127.0.0.1 from ca (the Net's CA when nil), makes name
// resolve to 127.0.0.1 and returns the server's URL, https://name:port.
func (n *Net) Serve(name string, ca *CA, h http.Handler) string {
	n.t.Helper()
	if ca == nil {
		ca = n.CA
	}
	srv := httptest.NewUnstartedServer(n.recording(h))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes that clients abort on purpose
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Leaf(n.t, name, "127.0.0.1")}}
	srv.StartTLS()
	n.t.Cleanup(srv.Close)
	return n.named(name, srv.Listener.Addr(), "https")
}

// ServePlain starts a plain-http server on loopback for name, makes name
// resolve to 127.0.0.1 and returns the server's URL, http://name:port.
func (n *Net) ServePlain(name string, h http.Handler) string {
	srv := httptest.NewServer(n.recording(h))
	n.t.Cleanup(srv.Close)
	return n.named(name, srv.Listener.Addr(), "http")
}

func (n *Net) named(name string, addr net.Addr, scheme string) string {
	_, port, _ := net.SplitHostPort(addr.String())
	n.AddHost(name, "127.0.0.1")
	return scheme + "://" + net.JoinHostPort(name, port)
}

// AddHost makes name resolve to ips in LookupHost and in the proxies.
func (n *Net) AddHost(name string, ips ...string) {
	n.mu.Lock()
	n.hosts[name] = ips
	n.mu.Unlock()
}

// LookupHost is the Net's resolver, shaped like [net.Resolver.LookupHost]:
// names given to AddHost, Serve or ServePlain resolve; names that start
// with "slow." never answer (until ctx is done); every other name does not
// exist.
func (n *Net) LookupHost(ctx context.Context, host string) ([]string, error) {
	n.mu.Lock()
	n.lookups = append(n.lookups, host)
	ips, ok := n.hosts[host]
	n.mu.Unlock()
	switch {
	case ok:
		return ips, nil
	case strings.HasPrefix(host, "slow."):
		<-ctx.Done()
		return nil, &net.DNSError{Err: "i/o timeout", Name: host, IsTimeout: true}
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// Lookups returns the names LookupHost was asked for, in order.
func (n *Net) Lookups() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.lookups)
}

// Requests returns what the Net's servers and proxies received, in order:
// "host path" for each HTTP request, "CONNECT host:port" for each tunnel
// asked of a proxy.
func (n *Net) Requests() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.requests)
}

func (n *Net) record(s string) {
	n.mu.Lock()
	n.requests = append(n.requests, s)
	n.mu.Unlock()
}

func (n *Net) recording(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.record(r.Host + " " + r.URL.Path)
		h.ServeHTTP(w, r)
	})
}

func (n *Net) handler(m map[string]http.Handler, host string) http.Handler {
	n.mu.Lock()
	defer n.mu.Unlock()
	return m[host]
}

// ProxyURL is the URL of the Net's proxy, which tunnels and forwards to
// every host of the Net.
func (n *Net) ProxyURL() string { return n.proxyURL }

// NewProxy starts another HTTP proxy for the Net and returns its URL. It
// answers every request with status unless status is 0, and wants the
// credentials "user:password" of wantAuth unless it is empty (407
// otherwise); then it acts as the Net's own proxy: a CONNECT to host:443
// of a HandleHTTPS host is answered with TLS for that host, any other
// CONNECT tunnels to the address its host resolves to, and a plain
// "GET http://host/..." goes to host's HandleHTTP handler. What it cannot
// reach it answers with 502.
func (n *Net) NewProxy(status int, wantAuth string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodConnect {
			n.record("CONNECT " + r.Host)
		}
		if wantAuth != "" {
			user, pass, _ := strings.Cut(wantAuth, ":")
			req := &http.Request{Header: http.Header{"Authorization": r.Header["Proxy-Authorization"]}}
			if u, pw, ok := req.BasicAuth(); !ok || u != user || pw != pass {
				w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
				w.WriteHeader(http.StatusProxyAuthRequired)
				return
			}
		}
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		if r.Method == http.MethodConnect {
			n.tunnel(w, r)
			return
		}
		h := n.handler(n.http, r.URL.Hostname())
		if h == nil || r.URL.Scheme != "http" {
			http.Error(w, "no http server for "+r.Host, http.StatusBadGateway)
			return
		}
		r.RequestURI = r.URL.RequestURI()
		n.recording(h).ServeHTTP(w, r)
	}))
	n.t.Cleanup(srv.Close)
	return srv.URL
}

func (n *Net) tunnel(w http.ResponseWriter, r *http.Request) {
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if port == "443" && n.handler(n.https, host) != nil {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		select {
		case n.tunnels.conns <- &bufferedConn{Conn: conn, r: brw.Reader}:
		case <-n.tunnels.done:
			conn.Close()
		}
		return
	}
	ips, err := n.LookupHost(r.Context(), host)
	if err != nil {
		http.Error(w, "no https server for "+r.Host, http.StatusBadGateway)
		return
	}
	up, err := net.Dial("tcp", net.JoinHostPort(ips[0], port))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		up.Close()
		return
	}
	io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
	go func() {
		io.Copy(up, brw)
		up.Close()
	}()
	io.Copy(conn, up)
	conn.Close()
}

// serveNamed serves the HandleHTTPS hosts, once their tunnel is open.
func (n *Net) serveNamed(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	if h := n.handler(n.https, host); h != nil {
		h.ServeHTTP(w, r)
		return
	}
	http.NotFound(w, r)
}

// certificate issues, once per name, the certificate of a HandleHTTPS
// host that a TLS client names.
func (n *Net) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := hello.ServerName
	if name == "" {
		return nil, errors.New("testenv: TLS client sent no server name")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if c := n.leaves[name]; c != nil {
		return c, nil
	}
	c, err := n.CA.leaf(name)
	if err != nil {
		return nil, err
	}
	n.leaves[name] = &c
	return &c, nil
}

// Client returns an HTTP client that reaches the Net's hosts through its
// proxy and trusts the Net's CA. Its redirect policy is modkit's and the go
// command's (web.CheckRedirect): no https to http.
func (n *Net) Client() *http.Client {
	pu, _ := url.Parse(n.proxyURL)
	return &http.Client{
		Transport: &http.Transport{
			Proxy:           http.ProxyURL(pu),
			TLSClientConfig: &tls.Config{RootCAs: n.CA.Pool},
		},
		CheckRedirect: web.CheckRedirect,
	}
}

// InsecureClient is Client without certificate checks, as GOINSECURE
// clients are.
func (n *Net) InsecureClient() *http.Client {
	pu, _ := url.Parse(n.proxyURL)
	return &http.Client{
		Transport: &http.Transport{
			Proxy:           http.ProxyURL(pu),
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		},
		Timeout: 5 * time.Second,
	}
}

// GoEnv is the environment ("KEY=value") that sends the go command and
// git through the Net's proxy and makes them trust its CA; loopback
// addresses stay direct.
func (n *Net) GoEnv() []string {
	return []string{
		"HTTPS_PROXY=" + n.proxyURL, "HTTP_PROXY=" + n.proxyURL,
		"NO_PROXY=127.0.0.1,localhost", "SSL_CERT_FILE=" + n.certFile,
	}
}

// chanListener is a net.Listener fed by the proxies' CONNECT tunnels.
type chanListener struct {
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// bufferedConn returns the bytes the proxy's reader already buffered
// first.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
