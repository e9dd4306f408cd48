package modproxy

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modnettest"
	"github.com/modkit/modkit/retry"
)

// testModules: a module whose latest release retracts an earlier one, with
// a pre-release above it, and a module with an upper-case path.
var testModules = []modnettest.Module{
	{Path: "example.com/m", Version: "v1.0.0", Files: map[string]string{"m.go": "package m\n"}},
	{Path: "example.com/m", Version: "v1.1.0", Files: map[string]string{"m.go": "package m // bad\n"}},
	{Path: "example.com/m", Version: "v1.2.0", Files: map[string]string{"m.go": "package m\n"}, Retract: []string{"v1.1.0"}},
	{Path: "example.com/m", Version: "v1.3.0-beta.1", Files: map[string]string{"m.go": "package m\n"}},
	{Path: "example.com/Upper", Version: "v0.1.0", Files: map[string]string{"u.go": "package upper\n", "big.txt": strings.Repeat("modkit ", 2000)}},
}

// syncBuffer is a log destination safe for the handlers' goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testProxy is a Server over a modnet.Client whose route is a
// modnettest upstream, served on loopback, as modfetch exec builds it.
type testProxy struct {
	t        *testing.T
	upstream *modnettest.Server
	s        *Server
	client   *modnet.Client
	URL      string
	cacheDir string
	logs     *syncBuffer
}

// testEnviron is an environment with no GOENV file and no go.env, so that
// only what a test sets counts.
func testEnviron(t testing.TB) map[string]string {
	return map[string]string{"GOENV": "off", "GOROOT": filepath.Join(t.TempDir(), "goroot")}
}

// fastRetries is a retry policy for tests: the default one, with short
// waits.
func fastRetries() *retry.Client {
	return &retry.Client{BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond, HedgeDisabled: true}
}

func newTestProxy(t *testing.T, upstream *modnettest.Server, hc *retry.Client) *testProxy {
	t.Helper()
	return newTestProxyConfig(t, upstream, hc, nil)
}

// newTestProxyConfig is newTestProxy with the Server and the Client's
// environment changed by edit before the Client is built.
func newTestProxyConfig(t *testing.T, upstream *modnettest.Server, hc *retry.Client, edit func(*Server, map[string]string)) *testProxy {
	t.Helper()
	if hc == nil {
		hc = fastRetries()
	}
	p := &testProxy{t: t, upstream: upstream, cacheDir: t.TempDir(), logs: new(syncBuffer)}
	environ := testEnviron(t)
	environ["GOPROXY"] = upstream.URL
	environ["GOSUMDB"] = upstream.SumDB().GOSUMDB()
	environ["GOMODCACHE"] = filepath.Join(p.cacheDir, "modcache")
	environ["GOPATH"] = filepath.Join(p.cacheDir, "gopath")
	logger := slog.New(slog.NewTextHandler(p.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p.s = &Server{Store: &DiskStore{Dir: filepath.Join(p.cacheDir, "store")}, TempDir: p.cacheDir, Logger: logger}
	if edit != nil {
		edit(p.s, environ)
	}
	env, err := modnet.LoadEnvFrom(environ)
	if err != nil {
		t.Fatal(err)
	}
	p.client = &modnet.Client{Env: env, HTTP: hc, Logger: logger}
	p.s.Client = p.client
	if db, err := p.client.SumDB(); err == nil {
		p.s.SumDBs = map[string]ChecksumDB{db.Name(): db}
	}
	hs := httptest.NewServer(p.s)
	p.URL = hs.URL + p.s.Prefix
	t.Cleanup(func() {
		hs.Close()
		p.s.Close()
		p.client.Close()
	})
	return p
}

// get sends a GET with the headers given as name, value pairs.
func (p *testProxy) get(path string, header ...string) (*http.Response, []byte) {
	p.t.Helper()
	return p.do(http.MethodGet, path, header...)
}

func (p *testProxy) do(method, path string, header ...string) (*http.Response, []byte) {
	p.t.Helper()
	req, err := http.NewRequest(method, p.URL+path, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	return resp, body
}

func mustZip(t testing.TB, m modnettest.Module) []byte {
	t.Helper()
	z, err := m.BuildZip()
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// upstreamFiles counts the upstream's requests per kind of module file,
// leaving out the checksum database's.
func upstreamFiles(srv *modnettest.Server) map[modnettest.FileKind]int {
	n := make(map[modnettest.FileKind]int)
	for _, r := range srv.Requests() {
		if r.Kind != modnettest.KindSumDB {
			n[r.Kind]++
		}
	}
	return n
}

// TestProtocol: every request of the protocol, passed through and
// verified.
func TestProtocol(t *testing.T) {
	for _, verify := range []bool{false, true} {
		t.Run(fmt.Sprintf("verify=%v", verify), func(t *testing.T) { testProtocol(t, verify) })
	}
}

func testProtocol(t *testing.T, verify bool) {
	upstream := modnettest.NewServer(testModules...)
	defer upstream.Close()
	p := newTestProxyConfig(t, upstream, nil, func(s *Server, _ map[string]string) { s.Verify = verify })
	zip := mustZip(t, testModules[4])
	const info = `{"Version":"v0.1.0","Time":"2024-01-01T00:00:00Z"}` + "\n"
	name := upstream.SumDB().Name()

	for _, tt := range []struct {
		method, path string
		status       int
		ctype, cache string
		body         string // exact body; "" to skip
		contains     string // part of the body
	}{
		// Retracted versions are listed, as the Go module mirror lists them.
		{"GET", "/example.com/m/@v/list", 200, typeText, cacheVolatile, "v1.0.0\nv1.1.0\nv1.2.0\nv1.3.0-beta.1\n", ""},
		{"GET", "/example.com/m/@latest", 200, typeJSON, cacheVolatile, `{"Version":"v1.2.0","Time":"2024-01-01T00:00:00Z"}` + "\n", ""},
		{"GET", "/example.com/!upper/@v/v0.1.0.info", 200, typeJSON, cacheImmutable, info, ""},
		{"GET", "/example.com/!upper/@v/v0.1.0.mod", 200, typeText, cacheImmutable, "module example.com/Upper\n", ""},
		{"GET", "/example.com/!upper/@v/v0.1.0.zip", 200, typeZip, cacheImmutable, string(zip), ""},
		{"HEAD", "/example.com/!upper/@v/v0.1.0.zip", 200, typeZip, cacheImmutable, "", ""},
		{"GET", "/example.com/m/@v/v1.2.info", 200, typeJSON, cacheVolatile, `{"Version":"v1.2.0","Time":"2024-01-01T00:00:00Z"}` + "\n", ""},
		{"GET", "/example.com/m/@v/v1.2.zip", 404, typeText, cacheNotFound, "not found: example.com/m@v1.2: only canonical versions have .mod and .zip files\n", ""},
		{"GET", "/example.com/m/@v/v2.0.0.mod", 404, typeText, cacheNotFound, "", "only canonical versions"},
		{"GET", "/example.com/m/@v/v1.9.9.zip", 404, typeText, cacheNotFound,
			"not found: example.com/m@v1.9.9: reading " + upstream.URL + "/example.com/m/@v/v1.9.9.zip: 404 Not Found\n" +
				"\tserver response: not found: example.com/m@v1.9.9: unknown version\n", ""},
		{"GET", "/example.com/missing/@v/list", 404, typeText, cacheNotFound,
			"not found: module example.com/missing: reading " + upstream.URL + "/example.com/missing/@v/list: 404 Not Found\n" +
				"\tserver response: not found: unknown module example.com/missing\n", ""},
		{"GET", "/example.com/Upper/@v/list", 404, typeText, cacheNotFound, "", "invalid escaped module path"},
		{"GET", "/example.com/m", 404, typeText, cacheNotFound, "not found: missing /@v/ or /@latest\n", ""},
		{"GET", "/example.com/m/@v/v1.0.0.txt", 404, typeText, cacheNotFound, "", "unknown file"},
		{"GET", "/example.com/m/../x/@v/list", 404, typeText, cacheNotFound, "not found: unclean path\n", ""},
		{"POST", "/example.com/m/@v/list", 405, typeText, cacheNever, "method not allowed\n", ""},
		{"GET", "/healthz", 200, typeText, cacheNever, "ok\n", ""},
		{"GET", "/sumdb/" + name + "/supported", 200, typeText, cacheLookup, "", ""},
		{"GET", "/sumdb/other.example.com/supported", 404, typeText, cacheNotFound, `not found: checksum database "other.example.com" is not proxied here` + "\n", ""},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp, body := p.do(tt.method, tt.path)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d; body %q", resp.StatusCode, tt.status, body)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			if got := resp.Header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control %q, want %q", got, tt.cache)
			}
			if tt.body != "" && string(body) != tt.body {
				t.Errorf("body %q, want %q", truncate(body), truncate([]byte(tt.body)))
			}
			if !strings.Contains(string(body), tt.contains) {
				t.Errorf("body %q does not contain %q", body, tt.contains)
			}
			if tt.method == "HEAD" && (len(body) != 0 || resp.ContentLength != int64(len(zip))) {
				t.Errorf("HEAD: %d body bytes, Content-Length %d; want 0 and %d", len(body), resp.ContentLength, len(zip))
			}
			if tt.status == 200 && tt.cache != cacheNever && !strings.HasSuffix(tt.path, "/supported") && resp.Header.Get("ETag") == "" {
				t.Errorf("no ETag")
			}
		})
	}
	if t.Failed() {
		t.Logf("upstream:\n%s\nlogs:\n%s", upstream.Requests(), p.logs)
	}

	// The files are stored in GOPROXY layout and served from there.
	zipInStore := filepath.Join(p.cacheDir, "store", "example.com", "!upper", "@v", "v0.1.0.zip")
	stored, err := os.ReadFile(zipInStore)
	if err != nil || !bytes.Equal(stored, zip) {
		t.Errorf("stored zip: %d bytes, %v; want the module zip", len(stored), err)
	}
	inCache := filepath.Join(p.cacheDir, "modcache", "cache", "download", "example.com", "!upper", "@v", "v0.1.0.zip")
	fi1, err1 := os.Stat(zipInStore)
	fi2, err2 := os.Stat(inCache)
	if verify {
		// On one disk, the store's zip is the module cache's, linked.
		if err1 != nil || err2 != nil || !os.SameFile(fi1, fi2) {
			t.Errorf("the zip is kept twice (%v, %v)", err1, err2)
		}
	} else if err2 == nil {
		t.Errorf("an unverified zip was put in the Client's module cache")
	}
	// Nothing is left behind in the directory zips are downloaded to.
	if tmp, _ := filepath.Glob(filepath.Join(p.cacheDir, "modproxy-*")); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	upstream.ResetRequests()
	for _, ext := range []string{".info", ".mod", ".zip"} {
		if resp, _ := p.get("/example.com/!upper/@v/v0.1.0" + ext); resp.StatusCode != 200 {
			t.Errorf("%s: status %d", ext, resp.StatusCode)
		}
	}
	if reqs := upstream.Requests(); len(reqs) != 0 {
		t.Errorf("stored files were fetched again:\n%s", reqs)
	}
}

// TestEachFileOnItsOwn: a .mod request fetches the go.mod alone, so it is
// served where upstream has only the go.mod, as the Go module mirror has
// for versions needed only for their requirements; a .zip request costs
// one upstream zip request, and an .info request one .info.
func TestEachFileOnItsOwn(t *testing.T) {
	for _, verify := range []bool{false, true} {
		t.Run(fmt.Sprintf("verify=%v", verify), func(t *testing.T) {
			upstream := modnettest.NewServer(testModules...)
			defer upstream.Close()
			upstream.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{
				{Module: "example.com/m", Version: "v1.0.0", Kind: modnettest.KindInfo, Fault: modnettest.Status(404)},
				{Module: "example.com/m", Version: "v1.0.0", Kind: modnettest.KindZip, Fault: modnettest.Status(404)},
			}})
			p := newTestProxyConfig(t, upstream, nil, func(s *Server, _ map[string]string) { s.Verify = verify })
			for _, tt := range []struct {
				path string
				want map[modnettest.FileKind]int
			}{
				{"/example.com/m/@v/v1.0.0.mod", map[modnettest.FileKind]int{modnettest.KindMod: 1}},
				{"/example.com/m/@v/v1.2.0.zip", map[modnettest.FileKind]int{modnettest.KindZip: 1}},
				{"/example.com/m/@v/v1.2.0.info", map[modnettest.FileKind]int{modnettest.KindInfo: 1}},
			} {
				upstream.ResetRequests()
				if resp, body := p.get(tt.path); resp.StatusCode != 200 {
					t.Errorf("%s: %d %q", tt.path, resp.StatusCode, body)
				}
				if got := upstreamFiles(upstream); !maps.Equal(got, tt.want) {
					t.Errorf("%s: upstream requests %v, want %v\n%s", tt.path, got, tt.want, upstream.Requests())
				}
			}
		})
	}
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// TestRangeRequests: zips are served with Range, If-Range and ETag
// semantics, whether stored already or fetched for the request.
func TestRangeRequests(t *testing.T) {
	upstream := modnettest.NewServer(testModules...)
	defer upstream.Close()
	p := newTestProxy(t, upstream, nil)
	zip := mustZip(t, testModules[4])
	const path = "/example.com/!upper/@v/v0.1.0.zip"

	// Cold: the first request is a range request.
	resp, body := p.get(path, "Range", "bytes=10-99")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, zip[10:100]) {
		t.Fatalf("cold Range: %d with %d bytes, want 206 with zip[10:100]", resp.StatusCode, len(body))
	}
	if want := "bytes 10-99/" + strconv.Itoa(len(zip)); resp.Header.Get("Content-Range") != want {
		t.Errorf("Content-Range %q, want %q", resp.Header.Get("Content-Range"), want)
	}
	etag := resp.Header.Get("ETag")
	lastMod := resp.Header.Get("Last-Modified")
	if etag == "" || lastMod == "" {
		t.Fatalf("ETag %q, Last-Modified %q: want both", etag, lastMod)
	}

	for _, tt := range []struct {
		name   string
		header []string
		status int
		body   []byte
	}{
		{"suffix", []string{"Range", "bytes=-20"}, 206, zip[len(zip)-20:]},
		{"open-ended", []string{"Range", "bytes=" + strconv.Itoa(len(zip)-5) + "-"}, 206, zip[len(zip)-5:]},
		{"If-Range with the ETag", []string{"Range", "bytes=0-9", "If-Range", etag}, 206, zip[:10]},
		{"If-Range with another ETag", []string{"Range", "bytes=0-9", "If-Range", `"other"`}, 200, zip},
		{"If-Range with the date", []string{"Range", "bytes=0-9", "If-Range", lastMod}, 206, zip[:10]},
		{"unsatisfiable", []string{"Range", "bytes=" + strconv.Itoa(len(zip)+10) + "-"}, 416, nil},
		{"If-None-Match", []string{"If-None-Match", etag}, 304, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := p.get(path, tt.header...)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.body != nil && !bytes.Equal(body, tt.body) {
				t.Errorf("%d bytes, want %d bytes of the zip", len(body), len(tt.body))
			}
		})
	}
	if n := upstreamFiles(upstream)[modnettest.KindZip]; n != 1 {
		t.Errorf("%d upstream zip requests, want 1", n)
	}
}

// TestStaleOnError: while upstream is down, lists and @latest are answered
// with their last good answers, marked stale; "not found" is not hidden.
func TestStaleOnError(t *testing.T) {
	upstream := modnettest.NewServer(testModules...)
	p := newTestProxy(t, upstream, nil)
	_, list := p.get("/example.com/m/@v/list")
	_, latest := p.get("/example.com/m/@latest")

	// An upstream "not found" is an answer, not a failure.
	upstream.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{{Kind: modnettest.KindList, Fault: modnettest.Status(404)}}})
	if resp, body := p.get("/example.com/m/@v/list"); resp.StatusCode != 404 || resp.Header.Get("Warning") != "" {
		t.Errorf("list after upstream 404: %d %q, Warning %q; want 404, not stale", resp.StatusCode, body, resp.Header.Get("Warning"))
	}

	upstream.Close()
	for _, tt := range []struct {
		path string
		want []byte
	}{{"/example.com/m/@v/list", list}, {"/example.com/m/@latest", latest}} {
		resp, body := p.get(tt.path)
		if resp.StatusCode != 200 || !bytes.Equal(body, tt.want) {
			t.Errorf("%s while upstream is down: %d %q, want 200 %q", tt.path, resp.StatusCode, body, tt.want)
		}
		if w := resp.Header.Get("Warning"); w != `110 - "Response is Stale"` {
			t.Errorf("%s: Warning %q", tt.path, w)
		}
		if resp.Header.Get("Age") == "" || resp.Header.Get("Cache-Control") != cacheNever {
			t.Errorf("%s: Age %q, Cache-Control %q; want an age and no-store", tt.path, resp.Header.Get("Age"), resp.Header.Get("Cache-Control"))
		}
	}
	if logs := p.logs.String(); strings.Count(logs, "upstream failed; serving last good answer") != 2 || !strings.Contains(logs, "connection refused") {
		t.Errorf("logs do not report both stale answers and why:\n%s", logs)
	}

	// Nothing to fall back on: the upstream's failure, with its class, for
	// the go command to print.
	resp, body := p.get("/example.com/other/@v/list")
	if resp.StatusCode != http.StatusBadGateway || !strings.HasPrefix(string(body), "upstream failed (refused): module example.com/other: Get \""+p.upstream.URL+"/example.com/other/@v/list\": ") ||
		!strings.Contains(string(body), "connection refused") {
		t.Errorf("list never fetched, upstream down: %d %q; want 502 with the cause", resp.StatusCode, body)
	}
}

// TestUpstreamRefusal: an upstream's 4xx answer other than "not found" is
// passed on with its status, as the upstream's answer it is, not as a
// failure to reach it; a 429 that persists through the retries is one.
func TestUpstreamRefusal(t *testing.T) {
	upstream := modnettest.NewServer(testModules...)
	defer upstream.Close()
	upstream.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{
		{Module: "example.com/m", Kind: modnettest.KindList, Fault: modnettest.Status(403)},
		{Module: "example.com/Upper", Kind: modnettest.KindList, Fault: modnettest.Status(429)},
	}})
	hc := fastRetries()
	hc.MaxAttempts = 2
	p := newTestProxy(t, upstream, hc)
	resp, body := p.get("/example.com/m/@v/list")
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Cache-Control") != cacheNever ||
		!strings.HasPrefix(string(body), "upstream refused: ") || !strings.Contains(string(body), "403 Forbidden") {
		t.Errorf("list refused upstream: %d, Cache-Control %q, %q; want 403, no-store, the upstream's answer", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
	resp, body = p.get("/example.com/!upper/@v/list")
	if resp.StatusCode != http.StatusBadGateway || !strings.HasPrefix(string(body), "upstream failed (throttled): ") {
		t.Errorf("list throttled upstream: %d %q; want 502, a failure", resp.StatusCode, body)
	}
}

// TestUpstreamTimeout: a stalled upstream is a failure like any other,
// with the attempts made; with TimeoutNotFound it is answered as goproxy
// answers a fetch timeout, 404 that no cache keeps.
func TestUpstreamTimeout(t *testing.T) {
	upstream := modnettest.NewServer(testModules...)
	defer upstream.Close()
	upstream.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{{Module: "example.com/m", Fault: modnettest.Stall(0)}}})
	hc := fastRetries()
	hc.MaxAttempts, hc.ResponseHeaderTimeout = 2, 50*time.Millisecond
	p := newTestProxy(t, upstream, hc)
	resp, body := p.get("/example.com/m/@v/v1.0.0.info")
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("Cache-Control") != cacheNever ||
		!strings.HasPrefix(string(body), "upstream failed (timeout): example.com/m@v1.0.0: Get \"") || !strings.Contains(string(body), "(modkit: 2 attempts in ") {
		t.Errorf("stalled upstream: %d, Cache-Control %q, %q; want 502, no-store, the class and the attempts", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}

	p = newTestProxyConfig(t, upstream, hc, func(s *Server, _ map[string]string) { s.TimeoutNotFound = true })
	resp, body = p.get("/example.com/m/@v/v1.0.0.info")
	if resp.StatusCode != 404 || resp.Header.Get("Cache-Control") != cacheNever ||
		!strings.HasPrefix(string(body), "not found: fetch timed out: example.com/m@v1.0.0: Get \"") {
		t.Errorf("stalled upstream, TimeoutNotFound: %d, Cache-Control %q, %q; want 404, no-store, fetch timed out", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
}

// TestIdenticalRequestsShareOneFetch: 50 identical concurrent requests
// cost one upstream fetch of each file.
func TestIdenticalRequestsShareOneFetch(t *testing.T) {
	const n = 50
	upstream := modnettest.NewServer(testModules...)
	defer upstream.Close()

	// A zip: after the first fetch, it is stored, so later requests never
	// reach upstream whatever the timing.
	p := newTestProxy(t, upstream, nil)
	getConcurrently(t, n, p.URL+"/example.com/!upper/@v/v0.1.0.zip", mustZip(t, testModules[4]))
	if got := upstreamFiles(upstream); !maps.Equal(got, map[modnettest.FileKind]int{modnettest.KindZip: 1}) {
		t.Errorf("upstream requests %v, want one .zip\n%s", got, upstream.Requests())
	}

	// A list is asked upstream on every request, so the requests are lined
	// up behind one fetch that is held until all have joined it.
	upstream.ResetRequests()
	gate := make(chan struct{})
	hc := fastRetries()
	hc.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		select {
		case <-gate:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	p = newTestProxy(t, upstream, hc)
	var joined atomic.Int32
	p.s.joined = func(key string) {
		if joined.Add(1) == n {
			close(gate)
		}
	}
	getConcurrently(t, n, p.URL+"/example.com/m/@v/list", []byte("v1.0.0\nv1.1.0\nv1.2.0\nv1.3.0-beta.1\n"))
	if got := upstreamFiles(upstream); !maps.Equal(got, map[modnettest.FileKind]int{modnettest.KindList: 1}) {
		t.Errorf("upstream requests %v, want one list\n%s", got, upstream.Requests())
	}
}

// getConcurrently sends n GET requests for url at once and checks that
// each is answered 200 with want.
func getConcurrently(t *testing.T, n int, url string, want []byte) {
	t.Helper()
	var wg sync.WaitGroup
	var bad atomic.Int32
	for range n {
		wg.Go(func() {
			resp, err := http.Get(url)
			if err != nil {
				bad.Add(1)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Equal(b, want) {
				bad.Add(1)
			}
		})
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d of %d requests for %s failed", bad.Load(), n, url)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// TestRequestLog: one structured record per request, without headers.
func TestRequestLog(t *testing.T) {
	upstream := modnettest.NewServer(testModules...)
	defer upstream.Close()
	p := newTestProxy(t, upstream, nil)
	p.get("/example.com/m/@v/list", "Authorization", "Basic c2VjcmV0OnNlY3JldA==")
	logs := p.logs.String()
	if !strings.Contains(logs, "msg=request method=GET path=/example.com/m/@v/list status=200 bytes=35 ") {
		t.Errorf("no request record in:\n%s", logs)
	}
	if strings.Contains(logs, "c2VjcmV0") || strings.Contains(logs, "Authorization") {
		t.Errorf("credentials logged:\n%s", logs)
	}
}

// TestNoProxyPathsGoDirect: a path matched by GONOPROXY never reaches the
// upstream proxy; the proxy's Client fetches it direct (loopback here, so
// that nothing leaves the machine).
func TestNoProxyPathsGoDirect(t *testing.T) {
	upstream := modnettest.NewServer(testModules...)
	defer upstream.Close()
	p := newTestProxyConfig(t, upstream, nil, func(_ *Server, environ map[string]string) {
		environ["GONOPROXY"] = "127.0.0.1/private"
	})

	resp, body := p.get("/127.0.0.1/private/m/@v/list")
	if resp.StatusCode == 200 || !strings.Contains(string(body), "127.0.0.1/private/m") {
		t.Errorf("private path: %d %q; want a failure naming the path", resp.StatusCode, body)
	}
	for _, r := range upstream.Requests() {
		if strings.Contains(r.Path, "private") {
			t.Errorf("private path reached the upstream proxy: %s", r)
		}
	}
	if resp, _ := p.get("/example.com/m/@v/list"); resp.StatusCode != 200 {
		t.Errorf("public path: %d, want 200", resp.StatusCode)
	}
}

// TestPrefix: with a Prefix, only requests under it are served; the rest
// get a bare 404, and the prefix never reaches the logs.
func TestPrefix(t *testing.T) {
	upstream := modnettest.NewServer(testModules...)
	defer upstream.Close()
	const prefix = "/Zm9vYmFyYmF6cXV4"
	var answers []Answer
	var mu sync.Mutex
	p := newTestProxyConfig(t, upstream, nil, func(s *Server, _ map[string]string) {
		s.Prefix = prefix
		s.OnAnswer = func(a Answer) { mu.Lock(); answers = append(answers, a); mu.Unlock() }
	})
	base := strings.TrimSuffix(p.URL, prefix)
	for _, path := range []string{"/example.com/m/@v/list", prefix + "x/example.com/m/@v/list", prefix[:5] + "/example.com/m/@v/list", "/healthz", "/sumdb/" + upstream.SumDB().Name() + "/supported"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || string(body) != "not found\n" {
			t.Errorf("GET %s: %d %q, want a bare 404", path, resp.StatusCode, body)
		}
	}
	if resp, body := p.get("/example.com/m/@v/list"); resp.StatusCode != 200 || !strings.HasPrefix(string(body), "v1.0.0\n") {
		t.Errorf("GET under the prefix: %d %q", resp.StatusCode, body)
	}
	if reqs := upstream.Requests(); len(reqs) != 1 {
		t.Errorf("upstream saw %d requests, want the one under the prefix:\n%s", len(reqs), reqs)
	}
	if logs := p.logs.String(); strings.Contains(logs, prefix[1:]) || !strings.Contains(logs, "path=/example.com/m/@v/list status=200") {
		t.Errorf("logs:\n%s", logs)
	}
	mu.Lock()
	defer mu.Unlock()
	if last := answers[len(answers)-1]; last.Path != "/example.com/m/@v/list" || last.From != "upstream" || last.Status != 200 {
		t.Errorf("last answer %+v", last)
	}
}
