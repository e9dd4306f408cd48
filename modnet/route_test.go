package modnet

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/note"
)

// testEnv returns an Env with only the given variables set, no GOENV file
// and no go.env.
func testEnv(t testing.TB, kv ...string) *Env {
	t.Helper()
	m := map[string]string{"GOENV": "off", "GOROOT": t.TempDir()}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	e, err := LoadEnvFrom(m)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// describe renders sources compactly: "proxy https://a/ notfound; direct".
func describe(srcs []Source) string {
	var parts []string
	for _, s := range srcs {
		switch s.Kind {
		case KindProxy:
			parts = append(parts, fmt.Sprintf("proxy %s %s", s.URL, s.Fallback))
		default:
			parts = append(parts, string(s.Kind))
		}
	}
	return strings.Join(parts, "; ")
}

func TestRouteSources(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		path string
		want string
	}{
		{"comma list", []string{"GOPROXY", "https://a.test,https://b.test,direct"}, "x.test/m",
			"proxy https://a.test notfound; proxy https://b.test notfound; direct"},
		{"pipe list", []string{"GOPROXY", "https://a.test|https://b.test"}, "x.test/m",
			"proxy https://a.test any; proxy https://b.test notfound"},
		{"mixed separators", []string{"GOPROXY", "https://a.test|https://b.test,https://c.test|direct"}, "x.test/m",
			"proxy https://a.test any; proxy https://b.test notfound; proxy https://c.test any; direct"},
		{"bare host:port gets https", []string{"GOPROXY", "127.0.0.1:8080,corp.test/goproxy"}, "x.test/m",
			"proxy https://127.0.0.1:8080 notfound; proxy https://corp.test/goproxy notfound"},
		{"spaces trimmed, empty entries skipped", []string{"GOPROXY", " , https://a.test ,, direct "}, "x.test/m",
			"proxy https://a.test notfound; direct"},
		{"trailing slash and query kept in base", []string{"GOPROXY", "https://a.test/p/?token=t"}, "x.test/m",
			"proxy https://a.test/p/?token=t notfound"},
		{"direct ends the list unchecked", []string{"GOPROXY", "direct,::not a url,off"}, "x.test/m", "direct"},
		{"off ends the list", []string{"GOPROXY", "https://a.test,off,https://b.test"}, "x.test/m",
			"proxy https://a.test notfound; off"},
		{"off alone", []string{"GOPROXY", "off"}, "x.test/m", "off"},
		{"file proxy", []string{"GOPROXY", "file:///srv/goproxy"}, "x.test/m", "proxy file:///srv/goproxy notfound"},
		{"GONOPROXY sends matches direct", []string{"GOPROXY", "https://a.test", "GONOPROXY", "x.test"}, "x.test/m", "direct"},
		{"GONOPROXY sends matches direct even with off", []string{"GOPROXY", "off", "GOPRIVATE", "x.test"}, "x.test/m", "direct"},
		{"GOPRIVATE implies GONOPROXY", []string{"GOPROXY", "https://a.test", "GOPRIVATE", "*.corp.test"}, "git.corp.test/team/m", "direct"},
		{"glob matches one path element only", []string{"GOPROXY", "https://a.test", "GOPRIVATE", "*.corp.test"}, "corp.test/m",
			"proxy https://a.test notfound"},
		{"patterns match path prefixes by element", []string{"GOPROXY", "https://a.test", "GOPRIVATE", "x.test/team"}, "x.test/teammate/m",
			"proxy https://a.test notfound"},
		{"GONOPROXY=none overrides GOPRIVATE", []string{"GOPROXY", "https://a.test", "GOPRIVATE", "x.test", "GONOPROXY", "none"}, "x.test/m",
			"proxy https://a.test notfound"},
		{"non-matching path uses the list", []string{"GOPROXY", "https://a.test,direct", "GONOPROXY", "y.test"}, "x.test/m",
			"proxy https://a.test notfound; direct"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := testEnv(t, tt.env...).Route(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(r.Sources); got != tt.want {
				t.Errorf("Route(%s).Sources = %s\nwant %s", tt.path, got, tt.want)
			}
		})
	}
}

func TestRouteErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		path    string
		want    []string // substrings of the error
		isEmpty bool
	}{
		{"empty list", []string{"GOPROXY", ","}, "x.test/m",
			[]string{"GOPROXY list is not the empty string, but contains no entries", "GOPROXY=\",\""}, true},
		{"unset", []string{}, "x.test/m", []string{"contains no entries"}, true},
		{"empty list still fails for GONOPROXY paths", []string{"GOPROXY", " ", "GOPRIVATE", "x.test"}, "x.test/m",
			[]string{"contains no entries"}, true},
		{"single word", []string{"GOPROXY", "localhost"}, "x.test/m",
			[]string{"invalid proxy URL missing scheme: localhost", "https://localhost"}, false},
		{"absolute directory", []string{"GOPROXY", "/srv/proxy"}, "x.test/m",
			[]string{"invalid proxy URL missing scheme: /srv/proxy", "file:///srv/proxy"}, false},
		{"bad scheme", []string{"GOPROXY", "https://ok.test,ftp://x.test"}, "x.test/m",
			[]string{`GOPROXY entry "ftp://x.test"`, "invalid proxy URL scheme (must be https, http, file): ftp://x.test"}, false},
		{"file with host", []string{"GOPROXY", "file://host/dir"}, "x.test/m",
			[]string{"invalid file:// proxy URL with non-path elements: file://host/dir", "file:///abs/path"}, false},
		{"file with query", []string{"GOPROXY", "file:///dir?x=1"}, "x.test/m",
			[]string{"non-path elements"}, false},
		{"bad escape", []string{"GOPROXY", "https://x.test/%zz"}, "x.test/m",
			[]string{`invalid URL escape "%zz"`}, false},
		{"password redacted", []string{"GOPROXY", "ftp://user:secret@x.test"}, "x.test/m",
			[]string{"ftp://xxxxx@x.test"}, false},
		{"password redacted in parse errors", []string{"GOPROXY", "https://user:secret@[::1"}, "x.test/m",
			[]string{"missing ']' in host", "xxxxx"}, false},
		{"bad module path", []string{"GOPROXY", "direct"}, "x.test/m@v1", []string{"malformed module path"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := testEnv(t, tt.env...).Route(tt.path)
			if err == nil {
				t.Fatal("Route succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q leaks a password", err)
			}
			if got := errors.Is(err, ErrEmptyProxyList); got != tt.isEmpty {
				t.Errorf("errors.Is(err, ErrEmptyProxyList) = %v, want %v", got, tt.isEmpty)
			}
		})
	}
}

func TestRouteFlags(t *testing.T) {
	e := testEnv(t, "GOPROXY", "https://a.test", "GOPRIVATE", "priv.test", "GONOPROXY", "np.test", "GOINSECURE", "*.ins.test")
	for _, tt := range []struct {
		path                       string
		noproxy, private, insecure bool
	}{
		{"priv.test/m", false, true, false},
		{"np.test/m", true, false, false},
		{"git.ins.test/m", false, false, true},
		{"other.test/m", false, false, false},
	} {
		r, err := e.Route(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if r.NoProxy != tt.noproxy || r.Private != tt.private || r.Insecure != tt.insecure {
			t.Errorf("Route(%s): noproxy=%v private=%v insecure=%v, want %v %v %v", tt.path, r.NoProxy, r.Private, r.Insecure, tt.noproxy, tt.private, tt.insecure)
		}
	}
}

// testSumKey is a verifier key for a checksum database named sum.example.test.
var testSumKey = func() string {
	_, vkey, err := note.GenerateKey(rand.Reader, "sum.example.test")
	if err != nil {
		panic(err)
	}
	return vkey
}()

func TestRouteChecksumDB(t *testing.T) {
	tests := []struct {
		name       string
		env        []string
		path       string
		wantVerify bool
		wantName   string
		wantURL    string
		explicit   bool
		wantReason string
		wantErr    string
	}{
		{name: "known name", env: []string{"GOSUMDB", "sum.golang.org"}, path: "x.test/m",
			wantVerify: true, wantName: "sum.golang.org", wantURL: "https://sum.golang.org"},
		{name: "alias reaches another URL", env: []string{"GOSUMDB", "sum.golang.google.cn"}, path: "x.test/m",
			wantVerify: true, wantName: "sum.golang.org", wantURL: "https://sum.golang.google.cn", explicit: true},
		{name: "key and url", env: []string{"GOSUMDB", testSumKey + " http://127.0.0.1:9/db"}, path: "x.test/m",
			wantVerify: true, wantName: "sum.example.test", wantURL: "http://127.0.0.1:9/db", explicit: true},
		{name: "off", env: []string{"GOSUMDB", "off"}, path: "x.test/m", wantReason: "GOSUMDB=off"},
		{name: "GONOSUMDB defaults to GOPRIVATE", env: []string{"GOSUMDB", "sum.golang.org", "GOPRIVATE", "x.test"}, path: "x.test/m",
			wantReason: "GOPRIVATE=x.test matches"},
		{name: "explicit GONOSUMDB", env: []string{"GOSUMDB", "sum.golang.org", "GONOSUMDB", "x.test"}, path: "x.test/m",
			wantReason: "GONOSUMDB=x.test matches"},
		{name: "GONOPROXY alone keeps the database", env: []string{"GOSUMDB", "sum.golang.org", "GONOPROXY", "x.test"}, path: "x.test/m",
			wantVerify: true, wantName: "sum.golang.org", wantURL: "https://sum.golang.org"},
		{name: "missing", env: []string{}, path: "x.test/m", wantVerify: true, wantErr: "missing GOSUMDB"},
		{name: "too many fields", env: []string{"GOSUMDB", "a b c"}, path: "x.test/m", wantVerify: true, wantErr: "invalid GOSUMDB: too many fields"},
		{name: "unknown name", env: []string{"GOSUMDB", "sum.example.test"}, path: "x.test/m", wantVerify: true, wantErr: "invalid GOSUMDB: malformed verifier id"},
		{name: "bad URL", env: []string{"GOSUMDB", testSumKey + " http://[::1"}, path: "x.test/m", wantVerify: true, wantErr: "invalid GOSUMDB URL"},
		{name: "bad setting ignored for GONOSUMDB paths", env: []string{"GOSUMDB", "a b c", "GONOSUMDB", "x.test"}, path: "x.test/m",
			wantReason: "GONOSUMDB=x.test matches"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{"GOPROXY", "direct"}, tt.env...)
			r, err := testEnv(t, env...).Route(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			db := r.ChecksumDB
			if db.Verify != tt.wantVerify {
				t.Errorf("Verify = %v, want %v", db.Verify, tt.wantVerify)
			}
			if tt.wantErr != "" {
				if db.Err == nil || !strings.Contains(db.Err.Error(), tt.wantErr) {
					t.Errorf("Err = %v, want %q", db.Err, tt.wantErr)
				}
				return
			}
			if db.Err != nil {
				t.Fatalf("Err = %v", db.Err)
			}
			if db.Name != tt.wantName || db.URL != tt.wantURL || db.Explicit != tt.explicit {
				t.Errorf("got name %q url %q explicit %v; want %q %q %v", db.Name, db.URL, db.Explicit, tt.wantName, tt.wantURL, tt.explicit)
			}
			if !strings.Contains(db.Reason, tt.wantReason) {
				t.Errorf("Reason = %q, want it to contain %q", db.Reason, tt.wantReason)
			}
		})
	}
}

func TestSourceURLs(t *testing.T) {
	tests := []struct {
		base, path, version string
		list, latest, info  string
	}{
		{"https://p.test", "github.com/Azure/go", "v1.2.3",
			"https://p.test/github.com/%21azure/go/@v/list", "https://p.test/github.com/%21azure/go/@latest",
			"https://p.test/github.com/%21azure/go/@v/v1.2.3.info"},
		{"https://p.test/base/", "x.test/m", "v0.0.0-20200101000000-abcdefabcdef",
			"https://p.test/base/x.test/m/@v/list", "https://p.test/base/x.test/m/@latest",
			"https://p.test/base/x.test/m/@v/v0.0.0-20200101000000-abcdefabcdef.info"},
		{"https://p.test/p?token=t", "x.test/m", "v1.0.0-RC1",
			"https://p.test/p/x.test/m/@v/list?token=t", "https://p.test/p/x.test/m/@latest?token=t",
			"https://p.test/p/x.test/m/@v/v1.0.0-%21r%21c1.info?token=t"},
		{"file:///srv/proxy", "x.test/m", "v1.0.0",
			"file:///srv/proxy/x.test/m/@v/list", "file:///srv/proxy/x.test/m/@latest",
			"file:///srv/proxy/x.test/m/@v/v1.0.0.info"},
		{"https://p.test/a%2Fb", "x.test/m", "v1.0.0",
			"https://p.test/a%2Fb/x.test/m/@v/list", "https://p.test/a%2Fb/x.test/m/@latest",
			"https://p.test/a%2Fb/x.test/m/@v/v1.0.0.info"},
	}
	for _, tt := range tests {
		src := Source{Kind: KindProxy, URL: tt.base}
		check := func(what, got string, err error, want string) {
			t.Helper()
			if err != nil || got != want {
				t.Errorf("%s(%s, %s) = %q, %v; want %q", what, tt.base, tt.path, got, err, want)
			}
		}
		got, err := src.ListURL(tt.path)
		check("ListURL", got, err, tt.list)
		got, err = src.LatestURL(tt.path)
		check("LatestURL", got, err, tt.latest)
		got, err = src.InfoURL(tt.path, tt.version)
		check("InfoURL", got, err, tt.info)
		got, err = src.ModURL(tt.path, tt.version)
		check("ModURL", got, err, strings.Replace(tt.info, ".info", ".mod", 1))
		got, err = src.ZipURL(tt.path, tt.version)
		check("ZipURL", got, err, strings.Replace(tt.info, ".info", ".zip", 1))
	}

	src := Source{Kind: KindProxy, URL: "https://p.test"}
	if _, err := src.InfoURL("x.test/m", "v1.0.0/../x"); err == nil {
		t.Error("InfoURL accepted a version with a slash")
	}
	if _, err := src.ListURL("x.test/m\x00"); err == nil {
		t.Error("ListURL accepted a malformed path")
	}
	if _, err := (Source{Kind: KindDirect}).ListURL("x.test/m"); err == nil {
		t.Error("direct source produced a URL")
	}
}

func TestSettingErrorNamesOrigin(t *testing.T) {
	goroot := fakeGOROOT(t, "GOPROXY=ftp://x.test\n")
	e, _ := LoadEnvFrom(map[string]string{"GOENV": "off", "GOROOT": goroot})
	_, err := e.Route("x.test/m")
	var se *SettingError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a *SettingError", err)
	}
	if se.Value.Layer != LayerGOROOT || !strings.Contains(err.Error(), "go.env") {
		t.Errorf("error %q does not say the value came from go.env", err)
	}
}

// FuzzProxyList checks invariants of GOPROXY parsing on arbitrary input.
func FuzzProxyList(f *testing.F) {
	for _, s := range []string{"https://a,b|direct", ",", "off", "file:///x|127.0.0.1:1", "a%zz,direct", " | |"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		list, err := parseProxyList(Value{Name: "GOPROXY", Value: s})
		if err != nil {
			var se *SettingError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *SettingError", err)
			}
			return
		}
		if len(list) == 0 {
			t.Fatal("empty list without error")
		}
		for i, src := range list {
			switch src.Kind {
			case KindDirect, KindOff:
				if i != len(list)-1 {
					t.Fatalf("%s not last in %q", src.Kind, s)
				}
			case KindProxy:
				u, err := url.Parse(src.URL)
				if err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "file") {
					t.Fatalf("bad proxy URL %q from %q", src.URL, s)
				}
				if _, err := src.ListURL("example.com/m"); err != nil {
					t.Fatalf("ListURL on %q: %v", src.URL, err)
				}
			default:
				t.Fatalf("unknown kind %q", src.Kind)
			}
		}
	})
}

// FuzzRoutePatterns checks that Route's GONOPROXY, GOPRIVATE and GOINSECURE
// decisions are exactly module.MatchPrefixPatterns on arbitrary patterns.
func FuzzRoutePatterns(f *testing.F) {
	f.Add("*.corp.test,x.test/y", "git.corp.test/a/b")
	f.Add("", "x.test")
	f.Add("x.test/*/z", "x.test/a/z/w")
	f.Fuzz(func(t *testing.T, patterns, path string) {
		if module.CheckPath(path) != nil {
			return
		}
		e := testEnv(t, "GOPROXY", "https://p.test,direct", "GOPRIVATE", patterns, "GOINSECURE", patterns, "GOSUMDB", "off")
		r, err := e.Route(path)
		if err != nil {
			t.Fatal(err)
		}
		m := module.MatchPrefixPatterns(patterns, path)
		if r.NoProxy != m || r.Private != m || r.Insecure != m {
			t.Fatalf("patterns %q path %q: noproxy=%v private=%v insecure=%v, MatchPrefixPatterns=%v", patterns, path, r.NoProxy, r.Private, r.Insecure, m)
		}
		if m != (len(r.Sources) == 1 && r.Sources[0].Kind == KindDirect) {
			t.Fatalf("patterns %q path %q: sources %s", patterns, path, describe(r.Sources))
		}
	})
}

// TestWalk: the go command's fallback rules and error ranking
// (cmd/go/internal/modfetch.TryProxies), source by source.
func TestWalk(t *testing.T) {
	notFound := fmt.Errorf("404: %w", fs.ErrNotExist)
	p := func(name string, fb Fallback) Source {
		return Source{Kind: KindProxy, URL: "https://" + name + ".test", Fallback: fb}
	}
	direct := Source{Kind: KindDirect}
	for _, tt := range []struct {
		name    string
		sources []Source
		answers map[string]error // by Redacted source; missing: success
		tried   string
		want    string // the reported source, "" for success
	}{
		{"first answers", []Source{p("a", FallbackNotFound), direct}, nil, "", ""},
		{"not found moves on", []Source{p("a", FallbackNotFound), p("b", FallbackNotFound)},
			map[string]error{"https://a.test": notFound, "https://b.test": notFound}, "https://a.test https://b.test", "https://b.test"},
		{"comma stops on failure", []Source{p("a", FallbackNotFound), direct},
			map[string]error{"https://a.test": errors.New("503")}, "https://a.test", "https://a.test"},
		{"pipe moves on, the failure outranks not found", []Source{p("a", FallbackAny), p("b", FallbackNotFound)},
			map[string]error{"https://a.test": errors.New("503"), "https://b.test": notFound}, "https://a.test https://b.test", "https://a.test"},
		{"direct outranks a proxy", []Source{p("a", FallbackAny), direct},
			map[string]error{"https://a.test": errors.New("503"), "direct": errors.New("git failed")}, "https://a.test direct", "direct"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := Walk(context.Background(), tt.sources, func(s Source) error { return tt.answers[s.Redacted()] })
			var we *WalkError
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Walk = %v, want success", err)
				}
				return
			}
			if !errors.As(err, &we) || we.Source != tt.want || !errors.Is(err, tt.answers[tt.want]) {
				t.Fatalf("Walk = %#v, want the failure of %s", err, tt.want)
			}
			var tried []string
			for _, se := range we.Tried {
				tried = append(tried, se.Source)
			}
			if strings.Join(tried, " ") != tt.tried {
				t.Errorf("tried %q, want %q", tried, tt.tried)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	err := Walk(ctx, []Source{p("a", FallbackAny), p("b", FallbackAny)}, func(Source) error { calls++; return nil })
	if calls != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Walk with a done context: %d calls, %v", calls, err)
	}
}
