package envcheck

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/modkit/modkit/modnet"
)

// A testCA issues server certificates for loopback test servers.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t testing.TB, cn, org string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn, Organization: []string{org}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// leaf issues a certificate for names (host names or IP addresses).
func (ca *testCA) leaf(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key}
}

// A netFixture is a small hermetic internet: a fake resolver mapping
// *.example.test names to 127.0.0.1, loopback servers, and a record of
// every request any of them received.
type netFixture struct {
	t  *testing.T
	ca *testCA

	mu       sync.Mutex
	hosts    map[string][]string // resolver answers
	lookups  []string
	requests []string // "host path" of every HTTP request, "CONNECT host:port" of every tunnel
}

func newNet(t *testing.T) *netFixture {
	return &netFixture{t: t, ca: newCA(t, "moddoctor test CA", "modkit tests"), hosts: map[string][]string{}}
}

// lookupHost is the injected resolver: names in hosts resolve, "slow."
// names never answer, everything else does not exist.
func (n *netFixture) lookupHost(ctx context.Context, host string) ([]string, error) {
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

func (n *netFixture) record(s string) {
	n.mu.Lock()
	n.requests = append(n.requests, s)
	n.mu.Unlock()
}

func (n *netFixture) recorded() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.requests...)
}

// serve starts a TLS server whose certificate (from ca, or the fixture's
// CA when nil) names name, maps name to loopback and returns the base URL
// https://name:port.
func (n *netFixture) serve(name string, ca *testCA, h http.Handler) string {
	n.t.Helper()
	if ca == nil {
		ca = n.ca
	}
	srv := httptest.NewUnstartedServer(n.recording(h))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes the probes abort on purpose
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf(n.t, name, "127.0.0.1")}}
	srv.StartTLS()
	n.t.Cleanup(srv.Close)
	return n.name(name, srv.Listener.Addr(), "https")
}

// servePlain starts a plain-HTTP server for name.
func (n *netFixture) servePlain(name string, h http.Handler) string {
	srv := httptest.NewServer(n.recording(h))
	n.t.Cleanup(srv.Close)
	return n.name(name, srv.Listener.Addr(), "http")
}

func (n *netFixture) name(name string, addr net.Addr, scheme string) string {
	_, port, _ := net.SplitHostPort(addr.String())
	n.mu.Lock()
	n.hosts[name] = []string{"127.0.0.1"}
	n.mu.Unlock()
	return scheme + "://" + net.JoinHostPort(name, port)
}

func (n *netFixture) recording(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.record(r.Host + " " + r.URL.Path)
		h.ServeHTTP(w, r)
	})
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// blackHole returns the address of a listener that accepts connections and
// never answers.
func blackHole(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return l.Addr().String()
}

// resetter returns the address of a listener that resets every connection.
func resetter(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.(*net.TCPConn).SetLinger(0) // close with RST
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}

// portOf returns the port of host:port.
func portOf(t *testing.T, addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// A connectProxy is an HTTP proxy for CONNECT tunnels: it answers with
// status (or tunnels to the fixture's loopback servers when status is 0),
// optionally requiring credentials.
type connectProxy struct {
	n        *netFixture
	status   int
	wantAuth string // "user:password"
	mu       sync.Mutex
	auths    []string
	url      string
}

func (n *netFixture) connectProxy(status int, wantAuth string) *connectProxy {
	p := &connectProxy{n: n, status: status, wantAuth: wantAuth}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	n.t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

func (p *connectProxy) serve(w http.ResponseWriter, r *http.Request) {
	p.n.record("CONNECT " + r.Host)
	p.mu.Lock()
	p.auths = append(p.auths, r.Header.Get("Proxy-Authorization"))
	p.mu.Unlock()
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	if p.wantAuth != "" {
		user, pass, _ := strings.Cut(p.wantAuth, ":")
		req := &http.Request{Header: http.Header{"Authorization": r.Header["Proxy-Authorization"]}}
		if u, pw, ok := req.BasicAuth(); !ok || u != user || pw != pass {
			w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusProxyAuthRequired)
			return
		}
	}
	if p.status != 0 {
		w.WriteHeader(p.status)
		return
	}
	host, port, _ := net.SplitHostPort(r.Host)
	ips, err := p.n.lookupHost(r.Context(), host)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	up, err := net.Dial("tcp", net.JoinHostPort(ips[0], port))
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
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

// A sumDB is a checksum database that serves a signed tree head.
type sumDB struct {
	name, vkey string
	latest     []byte
}

func newSumDB(t testing.TB, name string) *sumDB {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := note.Sign(&note.Note{Text: "go.sum database tree\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return &sumDB{name: name, vkey: vkey, latest: msg}
}

// moduleProxy is a handler for a module proxy that knows the public
// probe modules and, when db is not nil, proxies the checksum database.
func moduleProxy(db *sumDB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/@v/list"):
			io.WriteString(w, "v0.1.0\nv0.2.0\n")
		case db != nil && r.URL.Path == "/sumdb/"+db.name+"/supported":
		case db != nil && r.URL.Path == "/sumdb/"+db.name+"/latest":
			w.Write(db.latest)
		default:
			http.NotFound(w, r)
		}
	})
}

// status is a handler that always answers code with body.
func status(code int, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(body, "<") {
			w.Header().Set("Content-Type", "text/html")
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	})
}

// probeEnv loads an isolated environment with vars, as staticCase does.
func probeEnv(t *testing.T, vars map[string]string) (*modnet.Env, string) {
	t.Helper()
	opts, dir := staticCase{vars: vars}.machine(t)
	return opts.Env, dir
}

// liveOptions are the options for probing env inside the fixture.
func (n *netFixture) options(env *modnet.Env) Options {
	// Generous timeouts: CI machines can be loaded; the cases about
	// timeouts set short ones themselves.
	return Options{Env: env, LookupHost: n.lookupHost, RootCAs: n.ca.pool, CheckTimeout: 5 * time.Second, Timeout: 10 * time.Second,
		freeSpace: func(string) (uint64, error) { return 50 << 30, nil }}
}

// probe runs one live check.
func (n *netFixture) probe(id string, vars map[string]string, tweak func(*Options)) Result {
	n.t.Helper()
	env, _ := probeEnv(n.t, vars)
	opts := n.options(env)
	if tweak != nil {
		tweak(&opts)
	}
	return runOne(n.t, id, opts)
}

// A liveCase is one live probe scenario.
type liveCase struct {
	name    string
	vars    func(n *netFixture) map[string]string
	tweak   func(n *netFixture, o *Options)
	status  Status
	summary string
	fix     string
	details string
	check   func(t *testing.T, n *netFixture, res Result)
}

func runLive(t *testing.T, id string, cases []liveCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			n := newNet(t)
			vars := c.vars(n)
			var tweak func(*Options)
			if c.tweak != nil {
				tweak = func(o *Options) { c.tweak(n, o) }
			}
			start := time.Now()
			res := n.probe(id, vars, tweak)
			if took := time.Since(start); took > 6*time.Second {
				t.Errorf("probe took %v", took)
			}
			staticCase{status: c.status, summary: c.summary, fix: c.fix, details: c.details}.assert(t, res, "")
			if c.check != nil {
				c.check(t, n, res)
			}
		})
	}
}
