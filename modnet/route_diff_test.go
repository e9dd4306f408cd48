package modnet

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/internal/testenv"
)

// This file is the differential test of Route against the installed go
// command: loopback stub proxies log every request; 'go mod download -json'
// runs under many GOPROXY, GONOPROXY and GOPRIVATE settings; a simulator
// walks the sources Route predicts with the go command's fallback rules; the
// stubs contacted for each file, in order, and the outcome must agree.
// Module paths live under 127.0.0.1/ so that direct mode stays on loopback
// (port 443, where nothing listens: direct attempts fail with "connection
// refused", which the error text reveals).

// A stubBehavior is how a stub answers every request.
type stubBehavior string

const (
	serve  stubBehavior = "200"
	nf404  stubBehavior = "404"
	gone   stubBehavior = "410"
	forbid stubBehavior = "403"
	fail   stubBehavior = "500"
	reset  stubBehavior = "reset"
)

// diffLog is the request log shared by all stubs of one scenario.
type diffLog struct {
	mu   sync.Mutex
	reqs []string // "stubname file", file is the last path element (list, v1.0.0.info, @latest)
}

func (l *diffLog) add(s string) {
	l.mu.Lock()
	l.reqs = append(l.reqs, s)
	l.mu.Unlock()
}

func (l *diffLog) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.reqs...)
}

// stubProxy answers every request with one behavior; for serve it serves the
// modules in files (keyed by URL path).
type stubProxy struct {
	name     string
	behavior stubBehavior
	srv      *httptest.Server
	log      *diffLog
	files    map[string][]byte
	queries  []string
}

func (s *stubProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.log.add(s.name + " " + r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:])
	s.log.mu.Lock()
	s.queries = append(s.queries, r.URL.RawQuery)
	s.log.mu.Unlock()
	switch s.behavior {
	case serve:
		data, ok := s.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	case reset:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	default:
		code := 0
		fmt.Sscan(string(s.behavior), &code)
		http.Error(w, http.StatusText(code), code)
	}
}

// testModule is one module version served by the stubs.
type testModule struct {
	path, version string
	files         map[string][]byte // proxy-relative file -> content
}

func makeTestModule(t testing.TB, path, version string) testModule {
	t.Helper()
	gomod := []byte("module " + path + "\n\ngo 1.21\n")
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	prefix := path + "@" + version + "/"
	for name, data := range map[string][]byte{"go.mod": gomod, "m.go": []byte("package m\n\nconst V = \"" + version + "\"\n")} {
		f, err := zw.Create(prefix + name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	escPath, _ := module.EscapePath(path)
	escVer, _ := module.EscapeVersion(version)
	base := escPath + "/@v/"
	return testModule{path: path, version: version, files: map[string][]byte{
		base + "list":           []byte(version + "\n"),
		base + escVer + ".info": []byte(fmt.Sprintf(`{"Version":%q,"Time":"2024-01-02T03:04:05Z"}`, version)),
		base + escVer + ".mod":  gomod,
		base + escVer + ".zip":  zbuf.Bytes(),
		escPath + "/@latest":    []byte(fmt.Sprintf(`{"Version":%q,"Time":"2024-01-02T03:04:05Z"}`, version)),
	}}
}

// writeProxyDir writes modules into a directory in GOPROXY layout, for file:// proxies.
func writeProxyDir(t testing.TB, mods ...testModule) string {
	dir := t.TempDir()
	for _, m := range mods {
		for name, data := range m.files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// fileKinds are the files 'go mod download M@V' fetches, in order.
var fileKinds = []string{".info", ".mod", ".zip"}

// simulate walks the sources for each file with the go command's rules
// (cmd/go/internal/modfetch.TryProxies) and returns the stub contacts per
// file and the kind of error the go command reports ("" for success).
// behavior maps a proxy URL to its stub's behavior; file:// proxies are
// given by fileHas (whether the directory has the module).
func simulate(r *Route, behavior map[string]stubBehavior, names map[string]string) (contacts map[string][]string, outcome string) {
	contacts = map[string][]string{}
	for _, kind := range fileKinds {
		const (
			notExistRank = iota
			proxyRank
			directRank
		)
		bestErr, bestRank := "", notExistRank
		ok := false
	walk:
		for _, src := range r.Sources {
			var errKind string
			notExist := false
			switch src.Kind {
			case KindOff:
				errKind, notExist = "off", true
			case KindDirect:
				errKind = "direct"
			case KindProxy:
				b := behavior[src.URL]
				if n, isStub := names[src.URL]; isStub {
					contacts[kind] = append(contacts[kind], n)
				}
				switch b {
				case serve:
					ok = true
					break walk
				case nf404, gone:
					errKind, notExist = string(b), true
				default:
					errKind = string(b)
				}
			}
			switch {
			case src.Kind == KindDirect:
				bestErr, bestRank = errKind, directRank
			case bestRank <= proxyRank && !notExist:
				bestErr, bestRank = errKind, proxyRank
			case bestRank == notExistRank:
				bestErr = errKind
			}
			if src.Fallback != FallbackAny && !notExist {
				break
			}
		}
		if !ok {
			return contacts, bestErr
		}
	}
	return contacts, ""
}

// errorMarkers are substrings of the go command's error for each error kind.
var errorMarkers = map[string]string{
	"off":    "module lookup disabled by GOPROXY=off",
	"direct": "?go-get=1",
	"404":    "404 Not Found",
	"410":    "410 Gone",
	"403":    "403 Forbidden",
	"500":    "500 Internal Server Error",
	"reset":  "connection reset by peer",
}

type diffScenario struct {
	name   string
	proxy  string // GOPROXY with placeholders A, B, C (http stubs), T (bare host:port of the TLS stub), F (file proxy with the module), E (empty file proxy)
	stubs  map[string]stubBehavior
	env    []string
	module string
}

func TestRouteMatchesGoCommand(t *testing.T) {
	testenv.GoBin(t)
	if testing.Short() {
		t.Skip("runs the go command many times")
	}

	const modA = "127.0.0.1/mod/a"
	const modUpper = "127.0.0.1/Mod/Upper"
	s := func(kv ...string) map[string]stubBehavior {
		m := map[string]stubBehavior{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = stubBehavior(kv[i+1])
		}
		return m
	}
	scenarios := []diffScenario{
		{name: "A,B with A=500: B never tried", proxy: "A,B", stubs: s("A", "500", "B", "200")},
		{name: "A|B with A=500: B tried", proxy: "A|B", stubs: s("A", "500", "B", "200")},
		{name: "A,B with A=404 falls through", proxy: "A,B", stubs: s("A", "404", "B", "200")},
		{name: "A,B with A=410 falls through", proxy: "A,B", stubs: s("A", "410", "B", "200")},
		{name: "A,B with A=403 does not", proxy: "A,B", stubs: s("A", "403", "B", "200")},
		{name: "A|B with A=403 does", proxy: "A|B", stubs: s("A", "403", "B", "200")},
		{name: "A,B with A=reset stops", proxy: "A,B", stubs: s("A", "reset", "B", "200")},
		{name: "A|B with A=reset falls through", proxy: "A|B", stubs: s("A", "reset", "B", "200")},
		{name: "A,B,C all not found", proxy: "A,B,C", stubs: s("A", "404", "B", "410", "C", "404")},
		{name: "A|B,C: proxy error beats not found", proxy: "A|B,C", stubs: s("A", "500", "B", "404", "C", "404")},
		{name: "A,off with A=404", proxy: "A,off", stubs: s("A", "404")},
		{name: "A,off with A=200", proxy: "A,off", stubs: s("A", "200")},
		{name: "off", proxy: "off", stubs: s()},
		{name: "off ends the list", proxy: "off,A", stubs: s("A", "200")},
		{name: "A,direct with A=404: direct error wins", proxy: "A,direct", stubs: s("A", "404")},
		{name: "A|direct with A=500: direct error wins", proxy: "A|direct", stubs: s("A", "500")},
		{name: "direct ends the list", proxy: "direct,A", stubs: s("A", "200")},
		{name: "GOPRIVATE sends the path direct", proxy: "A,B", stubs: s("A", "200", "B", "200"), env: []string{"GOPRIVATE", "127.0.0.1/mod"}},
		{name: "GOPRIVATE direct even with off", proxy: "off", stubs: s(), env: []string{"GOPRIVATE", "127.0.0.1"}},
		{name: "GONOPROXY glob per element", proxy: "A", stubs: s("A", "200"), env: []string{"GONOPROXY", "127.0.0.1/*/a"}},
		{name: "GONOPROXY glob does not span elements", proxy: "A", stubs: s("A", "200"), env: []string{"GONOPROXY", "127.0.0.1/*"}, module: "127.0.0.1/mod/a"},
		{name: "GONOPROXY non-matching pattern", proxy: "A", stubs: s("A", "200"), env: []string{"GONOPROXY", "127.0.0.1/other"}},
		{name: "GONOPROXY=none overrides GOPRIVATE", proxy: "A", stubs: s("A", "200"), env: []string{"GOPRIVATE", "127.0.0.1", "GONOPROXY", "none"}},
		{name: "uppercase path", proxy: "A,B", stubs: s("A", "404", "B", "200"), module: modUpper},
		{name: "uppercase path GOPRIVATE", proxy: "A", stubs: s("A", "200"), env: []string{"GOPRIVATE", "127.0.0.1/Mod"}, module: modUpper},
		{name: "file proxy serves", proxy: "F", stubs: s()},
		{name: "empty file proxy falls through", proxy: "E,A", stubs: s("A", "200")},
		{name: "empty file proxy then off", proxy: "E,off", stubs: s()},
		{name: "bare host:port is https", proxy: "T,A", stubs: s("T", "404", "A", "200")},
		{name: "spaces and empty entries", proxy: " , A ,, B ", stubs: s("A", "404", "B", "200")},
		{name: "query kept", proxy: "A?x=1|B", stubs: s("A", "500", "B", "200")},
	}

	// Every httptest TLS server uses the same built-in certificate: trust it
	// in the go command through SSL_CERT_FILE.
	certFile := testenv.HTTPTestCertFile(t)

	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			if sc.module == "" {
				sc.module = modA
			}
			mod := makeTestModule(t, sc.module, "v1.0.0")
			log := &diffLog{}
			urls := map[string]string{}
			names := map[string]string{}
			behavior := map[string]stubBehavior{}
			stubsByName := map[string]*stubProxy{}
			for name, b := range sc.stubs {
				st := &stubProxy{name: name, behavior: b, log: log, files: map[string][]byte{}}
				stubsByName[name] = st
				for p, d := range mod.files {
					st.files["/"+p] = d
				}
				if name == "T" {
					st.srv = httptest.NewTLSServer(st)
					defer st.srv.Close()
					urls[name] = strings.TrimPrefix(st.srv.URL, "https://")
				} else {
					st.srv = httptest.NewServer(st)
					defer st.srv.Close()
					urls[name] = st.srv.URL
				}
			}
			fileDir := writeProxyDir(t, mod)
			urls["F"] = "file://" + filepath.ToSlash(fileDir)
			urls["E"] = "file://" + filepath.ToSlash(t.TempDir())
			goproxy := expandProxy(sc.proxy, urls)

			envKV := append([]string{"GOPROXY", goproxy, "GOSUMDB", "off"}, sc.env...)
			e := testEnv(t, envKV...)
			r, err := e.Route(sc.module)
			if err != nil {
				t.Fatalf("Route: %v", err)
			}
			for _, src := range r.Sources {
				for name, u := range urls {
					if src.Kind == KindProxy && strings.TrimSuffix(src.Entry, "?x=1") == u {
						if b, ok := sc.stubs[name]; ok {
							names[src.URL] = name // a stub that logs requests
							behavior[src.URL] = b
						} else if name == "F" {
							behavior[src.URL] = serve
						} else if name == "E" {
							behavior[src.URL] = nf404
						}
					}
				}
			}
			wantContacts, wantOutcome := simulate(r, behavior, names)

			g := testenv.NewGo(t, "SSL_CERT_FILE="+certFile, "GOVCS=*:all")
			for i := 0; i+1 < len(envKV); i += 2 {
				g.Env = append(g.Env, envKV[i]+"="+envKV[i+1])
			}
			cmd := g.Command("mod", "download", "-json", sc.module+"@v1.0.0")
			out, _ := cmd.Output()
			var res struct{ Error string }
			json.Unmarshal(out, &res)

			reqs := log.snapshot()
			gotContacts := map[string][]string{}
			for _, req := range reqs {
				name, file, _ := strings.Cut(req, " ")
				kind := filepath.Ext(file)
				if prev := gotContacts[kind]; len(prev) > 0 && prev[len(prev)-1] == name {
					continue // repeated requests to one stub collapse
				}
				gotContacts[kind] = append(gotContacts[kind], name)
			}
			if a := stubsByName["A"]; a != nil && strings.Contains(sc.proxy, "A?x=1") {
				log.mu.Lock()
				queries := append([]string(nil), a.queries...)
				log.mu.Unlock()
				for _, q := range queries {
					if q != "x=1" {
						t.Errorf("stub A got query %q, want the GOPROXY entry's x=1", q)
					}
				}
			}
			if fmt.Sprint(sortedMap(gotContacts)) != fmt.Sprint(sortedMap(wantContacts)) {
				t.Errorf("GOPROXY=%s: go contacted %v, Route predicts %v\nrequests: %v\ngo error: %s", sc.proxy, sortedMap(gotContacts), sortedMap(wantContacts), reqs, res.Error)
			}
			switch {
			case wantOutcome == "" && res.Error != "":
				t.Errorf("Route predicts success, go failed: %s", res.Error)
			case wantOutcome != "" && res.Error == "":
				t.Errorf("Route predicts a %s error, go succeeded", wantOutcome)
			case wantOutcome != "" && !strings.Contains(res.Error, errorMarkers[wantOutcome]):
				t.Errorf("Route predicts the reported error comes from %s (%q); go said: %s", wantOutcome, errorMarkers[wantOutcome], res.Error)
			}
		})
	}
}

// expandProxy replaces the single-letter stub names in a GOPROXY template.
func expandProxy(tmpl string, urls map[string]string) string {
	var b strings.Builder
	for _, r := range tmpl {
		if u, ok := urls[string(r)]; ok {
			b.WriteString(u)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func sortedMap(m map[string][]string) []string {
	var out []string
	for k, v := range m {
		if len(v) > 0 {
			out = append(out, k+"="+strings.Join(v, ","))
		}
	}
	sort.Strings(out)
	return out
}
