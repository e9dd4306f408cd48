package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modkit/modkit/modnet/modnettest"
	"github.com/modkit/modkit/retry"
)

// testModules: a module whose latest release retracts an earlier one.
var testModules = []modnettest.Module{
	{Path: "example.com/m", Version: "v1.0.0", Files: map[string]string{"m.go": "package m\n"}},
	{Path: "example.com/m", Version: "v1.1.0", Files: map[string]string{"m.go": "package m // bad\n"}},
	{Path: "example.com/m", Version: "v1.2.0", Files: map[string]string{"m.go": "package m\n"}, Retract: []string{"v1.1.0"}},
}

// testEnviron is an environment with no GOENV file and no go.env, so that
// only what a test sets counts.
func testEnviron(t testing.TB) map[string]string {
	return map[string]string{"GOENV": "off", "GOROOT": filepath.Join(t.TempDir(), "goroot")}
}

// testProxy is the proxy as main builds it, served on loopback; its logs
// go to a file, which the handlers' goroutines may write concurrently.
type testProxy struct {
	URL  string
	logs *os.File
}

func (p *testProxy) logText(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(p.logs.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// startProxy builds the proxy with newServer, for upstream, with the flags
// and environment edit changes.
func startProxy(t *testing.T, upstream *modnettest.Server, hc *retry.Client, edit func(*config, map[string]string)) *testProxy {
	t.Helper()
	if hc == nil {
		hc = &retry.Client{BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond, HedgeDisabled: true}
	}
	logs, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logs.Close() })
	cfg := &config{cacheDir: t.TempDir(), upstream: upstream.URL, gosumdb: upstream.SumDB().GOSUMDB(), latestMaxAge: time.Minute}
	environ := testEnviron(t)
	if edit != nil {
		edit(cfg, environ)
	}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, client, err := newServer(cfg, environ, logger, hc)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		hs.Close()
		s.Close()
		client.Close()
	})
	return &testProxy{URL: hs.URL, logs: logs}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestRunUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"-help"}, 0, "usage: proxy [flags]"},
		{[]string{"-nope"}, 2, "flag provided but not defined: -nope"},
		{[]string{"extra"}, 2, "usage: proxy [flags]"},
		{[]string{"-log-level", "LOUD"}, 2, `invalid value "LOUD" for flag -log-level`},
		{[]string{"-cache", t.TempDir(), "-upstream", "proxy,direct"}, 1, `error="-upstream: GOPROXY entry \"proxy\"`},
	} {
		var out strings.Builder
		if code := run(context.Background(), tt.args, testEnviron(t), &out, nil); code != tt.code || !strings.Contains(out.String(), tt.out) {
			t.Errorf("run %q = %d, output:\n%s\nwant %d and %q", tt.args, code, out.String(), tt.code, tt.out)
		}
	}
}

// TestRun starts the command as main does, serves a request and shuts
// down cleanly when its context ends.
func TestRun(t *testing.T) {
	upstream := modnettest.NewServer(testModules...)
	defer upstream.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan string, 1)
	done := make(chan int, 1)
	logs, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	args := []string{"-listen", "127.0.0.1:0", "-cache", t.TempDir(), "-upstream", upstream.URL,
		"-gosumdb", upstream.SumDB().GOSUMDB(), "-log-json"}
	go func() { done <- run(ctx, args, testEnviron(t), logs, func(addr string) { addrs <- addr }) }()
	var addr string
	select {
	case addr = <-addrs:
	case code := <-done:
		t.Fatalf("run exited with %d", code)
	}

	// The list is upstream's, retracted versions included, as the go
	// command expects of a proxy.
	for path, want := range map[string]string{"/healthz": "ok\n", "/example.com/m/@v/list": "v1.0.0\nv1.1.0\nv1.2.0\n"} {
		if code, body := get(t, "http://"+addr+path); code != 200 || body != want {
			t.Errorf("GET %s: %d %q, want 200 %q", path, code, body, want)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("run exited with %d after shutdown, want 0", code)
	}
	text, _ := os.ReadFile(logs.Name())
	for _, want := range []string{`"msg":"configuration"`, `"upstream":"` + upstream.URL + `"`, `"msg":"serving"`,
		`"msg":"request","method":"GET","path":"/example.com/m/@v/list","status":200`, `"msg":"shutting down"`} {
		if !strings.Contains(string(text), want) {
			t.Errorf("logs lack %s:\n%s", want, text)
		}
	}
}

// TestUpstreamCredentialsNotLogged: a GOPROXY URL's password never reaches
// the logs.
func TestUpstreamCredentialsNotLogged(t *testing.T) {
	var logs strings.Builder
	cfg := &config{cacheDir: t.TempDir(), upstream: "https://user:hunter2@proxy.example.com", gosumdb: "off"}
	s, client, err := newServer(cfg, testEnviron(t), slog.New(slog.NewTextHandler(&logs, nil)), &retry.Client{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	client.Close()
	if strings.Contains(logs.String(), "hunter2") || strings.Contains(logs.String(), "user:") || !strings.Contains(logs.String(), "https://xxxxx@proxy.example.com") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

// TestSumDBWithCredentials: the checksum database is reached on the same
// HTTP stack as modules, so an upstream that wants GOAUTH credentials
// (.netrc here) gets them for the database too, over https.
func TestSumDBWithCredentials(t *testing.T) {
	upstream := modnettest.NewUnstartedServer(testModules...)
	upstream.StartTLS()
	defer upstream.Close()
	upstream.RequireBasicAuth("gopher", "s3cret")
	// As in the go command, a machine matches the URL's host:port.
	host := strings.TrimPrefix(upstream.URL, "https://")
	netrc := filepath.Join(t.TempDir(), "netrc")
	if err := os.WriteFile(netrc, []byte("machine "+host+" login gopher password s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hc := &retry.Client{BaseDelay: time.Millisecond, HedgeDisabled: true, Transport: upstream.Client().Transport}
	p := startProxy(t, upstream, hc, func(_ *config, environ map[string]string) { environ["NETRC"] = netrc })

	name := upstream.SumDB().Name()
	if code, body := get(t, p.URL+"/sumdb/"+name+"/lookup/example.com/m@v1.2.0"); code != 200 || !strings.Contains(body, "example.com/m v1.2.0 h1:") {
		t.Errorf("lookup through the proxy: %d %q, want 200 with the record", code, body)
	}
	if code, body := get(t, p.URL+"/example.com/m/@v/v1.2.0.mod"); code != 200 {
		t.Errorf("go.mod through the proxy: %d %q", code, body)
	}
	for _, r := range upstream.Requests() {
		if r.Status == http.StatusUnauthorized {
			t.Errorf("upstream request without credentials: %s", r)
		}
	}
	if logs := p.logText(t); strings.Contains(logs, "s3cret") {
		t.Errorf("the password reached the logs:\n%s", logs)
	}
}
