package testenv

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestGoEnvIsHermetic: the go command run through NewGo sees none of the
// outer environment's GO* settings, only its own.
func TestGoEnvIsHermetic(t *testing.T) {
	t.Setenv("GOPROXY", "https://outer.invalid")
	t.Setenv("GOFLAGS", "-mod=vendor")
	t.Setenv("GONOSUMDB", "outer.invalid")
	t.Setenv("NETRC", "/outer/netrc")
	g := NewGo(t, "GOPRIVATE=inner.example", "GOFLAGS=-mod=mod")
	out := g.MustRun("env", "-json", "GOPROXY", "GOFLAGS", "GONOSUMDB", "GOPRIVATE", "GOTOOLCHAIN", "GOMODCACHE", "GOTELEMETRY")
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"GOFLAGS": "-mod=mod", "GONOSUMDB": "inner.example", "GOPRIVATE": "inner.example",
		"GOTOOLCHAIN": "local", "GOMODCACHE": g.ModCache(), "GOTELEMETRY": "off",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if strings.Contains(got["GOPROXY"], "outer") {
		t.Errorf("GOPROXY = %q: the outer environment leaked in", got["GOPROXY"])
	}
	if !strings.HasPrefix(g.ModCache(), os.TempDir()) && !strings.Contains(g.ModCache(), t.Name()) {
		t.Errorf("module cache %s is not the test's", g.ModCache())
	}
	for _, kv := range g.Env {
		if strings.HasPrefix(kv, "NETRC=") {
			t.Errorf("the outer %s leaked in", kv)
		}
	}
	if _, errs, err := g.Run("no-such-command"); err == nil || !strings.Contains(errs, "unknown command") {
		t.Errorf("go no-such-command: %v, %q", err, errs)
	}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func hello(s string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, s+" "+r.URL.Path) })
}

// TestNetNamedHosts: hosts served by HandleHTTPS and HandleHTTP answer on
// the standard ports through the proxy, with certificates the Net's CA
// issued, and the Net records what they were asked.
func TestNetNamedHosts(t *testing.T) {
	n := NewNet(t)
	n.HandleHTTPS("a.modkit.test", hello("secure"))
	n.HandleHTTP("a.modkit.test", hello("plain"))
	c := n.Client()
	if code, body := get(t, c, "https://a.modkit.test/x"); code != 200 || body != "secure /x" {
		t.Errorf("https: %d %q", code, body)
	}
	if code, body := get(t, c, "http://a.modkit.test/y"); code != 200 || body != "plain /y" {
		t.Errorf("http: %d %q", code, body)
	}
	if _, err := c.Get("https://b.modkit.test/"); err == nil || !strings.Contains(err.Error(), "Bad Gateway") {
		t.Errorf("unknown https host: %v, want the proxy's 502", err)
	}
	if code, _ := get(t, c, "http://b.modkit.test/"); code != http.StatusBadGateway {
		t.Errorf("unknown http host: %d, want 502", code)
	}
	// A client that does not trust the CA fails the handshake.
	pu, _ := url.Parse(n.ProxyURL())
	distrust := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: NewCA(t, "other", "other").Pool}}}
	if _, err := distrust.Get("https://a.modkit.test/"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("distrusting client: %v, want a certificate error", err)
	}
	if code, _ := get(t, n.InsecureClient(), "https://a.modkit.test/z"); code != 200 {
		t.Errorf("insecure client: %d", code)
	}
	want := []string{"CONNECT a.modkit.test:443", "a.modkit.test /x", "a.modkit.test /y", "CONNECT b.modkit.test:443"}
	if got := n.Requests(); !slices.Equal(got[:4], want) {
		t.Errorf("Requests = %q, want it to start with %q", got, want)
	}
}

// TestNetServe: a server of its own resolves through LookupHost and is
// reachable directly and through a proxy, which can also refuse or want
// credentials.
func TestNetServe(t *testing.T) {
	n := NewNet(t)
	u := n.Serve("own.example.test", nil, hello("own"))
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(u, "https://"))
	if host != "own.example.test" {
		t.Fatalf("Serve = %s", u)
	}
	ips, err := n.LookupHost(context.Background(), host)
	if err != nil || !slices.Equal(ips, []string{"127.0.0.1"}) {
		t.Fatalf("LookupHost = %v, %v", ips, err)
	}
	direct := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: n.CA.Pool},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			h, p, _ := net.SplitHostPort(addr)
			ips, err := n.LookupHost(ctx, h)
			if err != nil {
				return nil, err
			}
			return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort(ips[0], p))
		},
	}}
	if code, body := get(t, direct, u+"/d"); code != 200 || body != "own /d" {
		t.Errorf("direct: %d %q", code, body)
	}
	if code, body := get(t, n.Client(), u+"/p"); code != 200 || body != "own /p" {
		t.Errorf("through the proxy: %d %q", code, body)
	}
	if !slices.Contains(n.Requests(), "CONNECT own.example.test:"+port) {
		t.Errorf("Requests = %q, want the tunnel", n.Requests())
	}

	proxied := func(proxy string) error {
		pu, _ := url.Parse(proxy)
		c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: n.CA.Pool}}}
		resp, err := c.Get(u)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := proxied(n.NewProxy(http.StatusForbidden, "")); err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("refusing proxy: %v", err)
	}
	auth := n.NewProxy(0, "me:pw")
	if err := proxied(auth); err == nil || !strings.Contains(err.Error(), "Proxy Authentication Required") {
		t.Errorf("proxy without credentials: %v", err)
	}
	if err := proxied(strings.Replace(auth, "http://", "http://me:pw@", 1)); err != nil {
		t.Errorf("proxy with credentials: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var dnsErr *net.DNSError
	if _, err := n.LookupHost(ctx, "slow.example.test"); !errors.As(err, &dnsErr) || !dnsErr.IsTimeout {
		t.Errorf("slow name: %v, want a timeout", err)
	}
	if _, err := n.LookupHost(ctx, "typo.example.test"); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("unknown name: %v, want not found", err)
	}
	if got := n.Lookups(); !slices.Contains(got, "slow.example.test") || !slices.Contains(got, "typo.example.test") {
		t.Errorf("Lookups = %q", got)
	}
}

// TestNetGoCommand: the go command reaches a named host through GoEnv and
// trusts its certificate: what the direct-mode tests rely on.
func TestNetGoCommand(t *testing.T) {
	n := NewNet(t)
	n.HandleHTTPS("proxy.modkit.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/example.com/m/@v/list":
			io.WriteString(w, "v1.0.0\n")
		case "/example.com/m/@v/v1.0.0.info":
			io.WriteString(w, `{"Version":"v1.0.0"}`)
		case "/example.com/m/@v/v1.0.0.mod":
			io.WriteString(w, "module example.com/m\n")
		default:
			http.NotFound(w, r)
		}
	}))
	g := NewGo(t, append(n.GoEnv(), "GOPROXY=https://proxy.modkit.test", "GOSUMDB=off")...)
	if err := os.WriteFile(filepath.Join(g.Dir, "go.mod"), []byte("module x\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	out := g.MustRun("list", "-m", "-versions", "example.com/m")
	if strings.TrimSpace(out) != "example.com/m v1.0.0" {
		t.Errorf("go list -m -versions = %q", out)
	}
	if !slices.Contains(n.Requests(), "proxy.modkit.test /example.com/m/@v/list") {
		t.Errorf("Requests = %q", n.Requests())
	}
}
