package analyzer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeProxy serves one module's GOPROXY answers from a map of paths below
// the module (such as "@v/list"); anything else is 404. status, if set,
// overrides every answer.
type fakeProxy struct {
	*httptest.Server
	hits atomic.Int32
}

func newFakeProxy(t *testing.T, module string, files map[string]string, status int) *fakeProxy {
	t.Helper()
	p := &fakeProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		if status != 0 {
			http.Error(w, "injected", status)
			return
		}
		body, ok := files[strings.TrimPrefix(r.URL.Path, "/"+module+"/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(body))
	}))
	t.Cleanup(p.Close)
	return p
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

const latestMod = `// Deprecated: use example.com/lib/v2
module example.com/lib

go 1.22

retract (
	[v1.0.0, v1.0.5] // corrupts data on write
	v1.1.0
)
`

func TestProxySource(t *testing.T) {
	files := map[string]string{
		"@v/list":       "v1.0.0\nv1.2.0 2024-01-01T00:00:00Z\nv1.3.0-rc.1\nv1.4.0-0.20240101000000-abcdefabcdef\n",
		"@v/v1.2.0.mod": latestMod,
	}
	p := newFakeProxy(t, "example.com/lib", files, 0)
	s := &ProxySource{Getenv: env(map[string]string{"GOPROXY": p.URL})}
	ctx := context.Background()
	tests := []struct {
		version   string
		retracted bool
		rationale string
	}{
		{"v1.0.0", true, "corrupts data on write"},
		{"v1.0.3", true, "corrupts data on write"},
		{"v1.0.5", true, "corrupts data on write"},
		{"v1.0.6", false, ""},
		{"v1.1.0", true, ""},
		{"v1.2.0", false, ""},
	}
	for _, tt := range tests {
		got, why, err := s.Retraction(ctx, "example.com/lib", tt.version)
		if err != nil || got != tt.retracted || why != tt.rationale {
			t.Errorf("Retraction(%s) = %v, %q, %v; want %v, %q", tt.version, got, why, err, tt.retracted, tt.rationale)
		}
	}
	dep, err := s.Deprecation(ctx, "example.com/lib")
	if err != nil || dep != "use example.com/lib/v2" {
		t.Errorf("Deprecation = %q, %v; want %q", dep, err, "use example.com/lib/v2")
	}
	if n := p.hits.Load(); n != 2 {
		t.Errorf("proxy got %d requests; want 2 (list and go.mod, once)", n)
	}
}

func TestProxySourceLatestEndpoint(t *testing.T) {
	files := map[string]string{
		"@v/list": "",
		"@latest": `{"Version":"v0.0.0-20240101000000-abcdefabcdef"}`,
		"@v/v0.0.0-20240101000000-abcdefabcdef.mod": "module example.com/lib\n\nretract v0.0.0-20230101000000-abcdefabcdef // lost commit\n",
	}
	p := newFakeProxy(t, "example.com/lib", files, 0)
	s := &ProxySource{Getenv: env(map[string]string{"GOPROXY": p.URL})}
	got, why, err := s.Retraction(context.Background(), "example.com/lib", "v0.0.0-20230101000000-abcdefabcdef")
	if err != nil || !got || why != "lost commit" {
		t.Errorf("Retraction = %v, %q, %v; want true, %q", got, why, err, "lost commit")
	}
}

func TestProxySourceFallback(t *testing.T) {
	files := map[string]string{"@v/list": "v1.0.0\n", "@v/v1.0.0.mod": "module example.com/lib\n\nretract v1.0.0 // bad\n"}
	good := newFakeProxy(t, "example.com/lib", files, 0).URL
	missing := newFakeProxy(t, "example.com/lib", nil, 0).URL
	broken := newFakeProxy(t, "example.com/lib", nil, http.StatusInternalServerError).URL
	withCreds := strings.Replace(broken, "http://", "http://user:secret@", 1)
	tests := []struct {
		name    string
		vars    map[string]string
		wantErr string // "" means the good proxy answers
	}{
		{"comma falls back after not found", map[string]string{"GOPROXY": missing + "," + good}, ""},
		{"comma stops at other errors", map[string]string{"GOPROXY": broken + "," + good}, "500 Internal Server Error"},
		{"pipe falls back after any error", map[string]string{"GOPROXY": broken + "|" + good}, ""},
		{"off ends the list", map[string]string{"GOPROXY": "off," + good}, "disabled by GOPROXY=off"},
		{"direct ends the list", map[string]string{"GOPROXY": "direct"}, `reached "direct"`},
		{"not found beats the end of the list", map[string]string{"GOPROXY": missing + ",direct"}, "404 Not Found"},
		{"GONOPROXY goes direct", map[string]string{"GOPROXY": good, "GONOPROXY": "example.com"}, "matches GONOPROXY/GOPRIVATE"},
		{"GOPRIVATE goes direct", map[string]string{"GOPROXY": good, "GOPRIVATE": "example.com/*"}, "matches GONOPROXY/GOPRIVATE"},
		{"credentials are redacted", map[string]string{"GOPROXY": withCreds}, "user:xxxxx@"},
		{"empty list", map[string]string{"GOPROXY": " , "}, "GOPROXY lists no proxy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &ProxySource{Getenv: env(tt.vars)}
			got, why, err := s.Retraction(context.Background(), "example.com/lib", "v1.0.0")
			if tt.wantErr == "" {
				if err != nil || !got || why != "bad" {
					t.Errorf("Retraction = %v, %q, %v; want true, \"bad\"", got, why, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Retraction error = %v; want it to contain %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks credentials: %v", err)
			}
		})
	}
}

func TestLatestFromList(t *testing.T) {
	tests := []struct {
		list string
		want string
	}{
		{"v1.0.0\nv1.10.0\nv1.9.0\n", "v1.10.0"},
		{"v1.0.0\nv2.0.0-beta.1\n", "v1.0.0"},
		{"v2.0.0-beta.1\nv2.0.0-alpha\n", "v2.0.0-beta.1"},
		{"v0.0.0-20240101000000-abcdefabcdef\n", ""},
		{"garbage\n\n  v1.2.3  2024-01-01T00:00:00Z\n", "v1.2.3"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := latestFromList(strings.Split(tt.list, "\n")); got != tt.want {
			t.Errorf("latestFromList(%q) = %q; want %q", tt.list, got, tt.want)
		}
	}
}
