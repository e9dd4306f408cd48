package modnet

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// A fakeNet is a small internet for tests: hosts under modkit.test served
// by handlers in the test, reached through an HTTP proxy on loopback. Both
// the go command (HTTPS_PROXY, HTTP_PROXY, SSL_CERT_FILE) and modkit's
// clients (Transport.Proxy, RootCAs) use it, so module paths can be
// ordinary host names — the go command resolves the host of an import
// path, and 127.0.0.1:PORT is not a valid module path — while no request
// ever leaves the machine. A CONNECT to host:443 is answered with TLS for
// that host's https handler; a plain "GET http://host/..." goes to its http
// handler; a host without a handler for the scheme refuses (502).
type fakeNet struct {
	proxy    *httptest.Server
	tlsConf  *tls.Config
	pool     *x509.CertPool
	certFile string // PEM of the CA, for SSL_CERT_FILE

	mu    sync.Mutex
	https map[string]http.Handler
	http  map[string]http.Handler

	tlsConns chan net.Conn
	tlsSrv   *http.Server
}

func newFakeNet(t testing.TB) *fakeNet {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "modkit test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"modkit.test", "*.modkit.test", "launchpad.net", "code.launchpad.net"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	n := &fakeNet{
		tlsConf:  &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		pool:     x509.NewCertPool(),
		https:    map[string]http.Handler{},
		http:     map[string]http.Handler{},
		tlsConns: make(chan net.Conn),
	}
	n.pool.AddCert(cert)
	n.certFile = writeFile(t, filepath.Join(t.TempDir(), "ca.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))

	n.tlsSrv = &http.Server{
		Handler:           http.HandlerFunc(n.serveTLS),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // clients that distrust the certificate are expected
	}
	go n.tlsSrv.Serve(tls.NewListener(&chanListener{conns: n.tlsConns}, n.tlsConf))
	n.proxy = httptest.NewServer(http.HandlerFunc(n.serveProxy))
	t.Cleanup(func() {
		n.proxy.Close()
		n.tlsSrv.Close()
	})
	return n
}

// handleHTTPS serves host over https.
func (n *fakeNet) handleHTTPS(host string, h http.Handler) {
	n.mu.Lock()
	n.https[host] = h
	n.mu.Unlock()
}

// handleHTTP serves host over plain http.
func (n *fakeNet) handleHTTP(host string, h http.Handler) {
	n.mu.Lock()
	n.http[host] = h
	n.mu.Unlock()
}

func (n *fakeNet) handler(m map[string]http.Handler, host string) http.Handler {
	n.mu.Lock()
	defer n.mu.Unlock()
	return m[host]
}

func (n *fakeNet) serveProxy(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		host, port, _ := net.SplitHostPort(r.Host)
		if port != "443" || n.handler(n.https, host) == nil {
			http.Error(w, "no https server for "+r.Host, http.StatusBadGateway)
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		n.tlsConns <- &bufferedConn{Conn: conn, r: buf.Reader}
		return
	}
	h := n.handler(n.http, r.URL.Hostname())
	if h == nil || r.URL.Scheme != "http" {
		http.Error(w, "no http server for "+r.Host, http.StatusBadGateway)
		return
	}
	r.RequestURI = r.URL.RequestURI()
	h.ServeHTTP(w, r)
}

func (n *fakeNet) serveTLS(w http.ResponseWriter, r *http.Request) {
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

// client returns an HTTP client that reaches the fake hosts and trusts
// their certificate; the redirect rule is the go command's.
func (n *fakeNet) client() *http.Client {
	pu, _ := url.Parse(n.proxy.URL)
	return &http.Client{
		Transport: &http.Transport{
			Proxy:           http.ProxyURL(pu),
			TLSClientConfig: &tls.Config{RootCAs: n.pool},
		},
		CheckRedirect: goGetSecureClient.CheckRedirect,
	}
}

// insecureClient is the GOINSECURE client: no certificate checks.
func (n *fakeNet) insecureClient() *http.Client {
	pu, _ := url.Parse(n.proxy.URL)
	return &http.Client{
		Transport: &http.Transport{
			Proxy:           http.ProxyURL(pu),
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		},
		Timeout: 5 * time.Second,
	}
}

// goEnv is the environment that sends the go command through the fake net.
func (n *fakeNet) goEnv() []string {
	return []string{
		"HTTPS_PROXY=" + n.proxy.URL, "HTTP_PROXY=" + n.proxy.URL,
		"NO_PROXY=127.0.0.1,localhost", "SSL_CERT_FILE=" + n.certFile,
	}
}

// discoverOptions are DiscoverOptions that use the fake net.
func (n *fakeNet) discoverOptions() DiscoverOptions {
	return DiscoverOptions{Do: n.client().Do, InsecureDo: n.insecureClient().Do}
}

// chanListener is a net.Listener fed by the proxy's CONNECT tunnels.
type chanListener struct {
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
	mu    sync.Mutex
}

func (l *chanListener) init() {
	l.once.Do(func() { l.done = make(chan struct{}) })
}

func (l *chanListener) Accept() (net.Conn, error) {
	l.init()
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.init()
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	return nil
}

func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// bufferedConn returns bytes the proxy's reader already buffered first.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// goImportPage is a handler serving go-import meta tags on every path.
func goImportPage(tags ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("go-get") != "1" {
			http.NotFound(w, r)
			return
		}
		var b strings.Builder
		b.WriteString("<!DOCTYPE html>\n<html><head>\n")
		for _, tag := range tags {
			b.WriteString(`<meta name="go-import" content="` + tag + `">` + "\n")
		}
		b.WriteString("</head><body>go get</body></html>\n")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(b.String()))
	})
}
