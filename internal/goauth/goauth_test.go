package goauth

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modkit/modkit/internal/testenv"
)

// authTestEnv is the environment of credential tests: a fresh HOME, the
// real PATH (for sh and git), no system git configuration, plus kv (key,
// value, ...).
func authTestEnv(t testing.TB, kv ...string) []string {
	t.Helper()
	kv = append([]string{"HOME", t.TempDir(), "PATH", os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM", "1"}, kv...)
	var environ []string
	for i := 0; i+1 < len(kv); i += 2 {
		environ = append(environ, kv[i]+"="+kv[i+1])
	}
	return environ
}

// testConfig is the Config for authTestEnv(kv...), with GOAUTH from kv
// or its default, netrc.
func testConfig(t testing.TB, logger *slog.Logger, kv ...string) Config {
	t.Helper()
	cfg := Config{GOAUTH: "netrc", Environ: authTestEnv(t, kv...), Logger: logger}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == "GOAUTH" {
			cfg.GOAUTH = kv[i+1]
		}
	}
	return cfg
}

func newTestAuth(t testing.TB, logger *slog.Logger, kv ...string) *Authenticator {
	t.Helper()
	a, err := New(testConfig(t, logger, kv...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

// writeFile writes content to name, creating its directory, and returns
// name.
func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o666); err != nil {
		t.Fatal(err)
	}
	return name
}

// writeScript writes an executable shell script and returns its path.
func writeScript(t testing.TB, body string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("GOAUTH command scripts need /bin/sh")
	}
	p := filepath.Join(t.TempDir(), "goauth.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// A seen request is what a test server received.
type seen struct {
	method, path string
	header       http.Header
}

// recordingServer records every request, then lets handler answer it.
type recordingServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func startServer(t testing.TB, useTLS bool, handler http.HandlerFunc) *recordingServer {
	t.Helper()
	s := &recordingServer{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, seen{r.Method, r.URL.Path, r.Header.Clone()})
		s.mu.Unlock()
		handler(w, r)
	})
	if useTLS {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

func (s *recordingServer) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.reqs...)
}

func (s *recordingServer) host() string {
	return strings.TrimPrefix(strings.TrimPrefix(s.URL, "https://"), "http://")
}

func ok(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") }

// get runs the authenticator's request flow and returns the final status.
func get(t testing.TB, a *Authenticator, client *http.Client, rawURL string) (int, error, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, authErr, err := a.Do(client, req)
	if err != nil {
		return 0, authErr, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, authErr, nil
}

// credentialHeaders are the headers the tests' GOAUTH sources provide.
var credentialHeaders = []string{"Authorization", "X-Token"}

func hasCredentials(h http.Header) bool {
	for _, name := range credentialHeaders {
		if h.Get(name) != "" {
			return true
		}
	}
	return false
}

func basicValue(user, password string) string {
	return basicAuth(user, password).Get("Authorization")
}

func TestAuthNetrcHTTPSOnly(t *testing.T) {
	secure := startServer(t, true, ok)
	plain := startServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "who are you", http.StatusUnauthorized)
	})
	netrc := writeFile(t, filepath.Join(t.TempDir(), "netrc"), fmt.Sprintf(
		"machine %s login u password secure-pw\nmachine %s login u password plain-pw\n", secure.host(), plain.host()))
	a := newTestAuth(t, nil, "NETRC", netrc)
	client := secure.Client()

	if code, _, err := get(t, a, client, secure.URL+"/mod/@v/list"); err != nil || code != 200 {
		t.Fatalf("https GET = %d, %v; want 200", code, err)
	}
	if got, want := secure.requests()[0].header.Get("Authorization"), basicValue("u", "secure-pw"); got != want {
		t.Errorf("https server saw Authorization %q; want %q from .netrc", got, want)
	}

	code, _, err := get(t, a, client, plain.URL+"/mod/@v/list")
	if err != nil || code != http.StatusUnauthorized {
		t.Fatalf("http GET = %d, %v; want 401", code, err)
	}
	reqs := plain.requests()
	if len(reqs) != 1 {
		t.Errorf("http server saw %d requests; want 1: a 401 over http must not be retried with credentials", len(reqs))
	}
	for _, r := range reqs {
		if hasCredentials(r.header) {
			t.Errorf("http server saw credentials: %q", r.header)
		}
	}
}

func TestAuthNetrcMachineIncludesPort(t *testing.T) {
	// Since Go 1.24 the go command keys .netrc machines like URL prefixes,
	// so a machine without the port does not match a URL with one.
	srv := startServer(t, true, ok)
	host, _, _ := strings.Cut(srv.host(), ":")
	netrc := writeFile(t, filepath.Join(t.TempDir(), "netrc"), "machine "+host+" login u password p\n")
	a := newTestAuth(t, nil, "NETRC", netrc)
	get(t, a, srv.Client(), srv.URL+"/x")
	if h := srv.requests()[0].header; hasCredentials(h) {
		t.Errorf("machine %s matched %s: %q", host, srv.URL, h)
	}
}

func TestAuthNetrcFromHome(t *testing.T) {
	srv := startServer(t, true, ok)
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".netrc"), "machine "+srv.host()+" login u password p\n")
	homeVar := "HOME"
	if runtime.GOOS == "windows" {
		homeVar = "USERPROFILE"
	}
	a := newTestAuth(t, nil, homeVar, home)
	get(t, a, srv.Client(), srv.URL+"/x")
	if got, want := srv.requests()[0].header.Get("Authorization"), basicValue("u", "p"); got != want {
		t.Errorf("Authorization = %q; want %q from $HOME/.netrc", got, want)
	}
}

func TestAuthOff(t *testing.T) {
	srv := startServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized)
	})
	netrc := writeFile(t, filepath.Join(t.TempDir(), "netrc"), "machine "+srv.host()+" login u password p\n")
	a := newTestAuth(t, nil, "NETRC", netrc, "GOAUTH", "off")
	code, authErr, err := get(t, a, srv.Client(), srv.URL+"/x")
	if err != nil || authErr != nil || code != http.StatusUnauthorized {
		t.Fatalf("GET = %d, %v, %v; want 401 and no errors", code, authErr, err)
	}
	reqs := srv.requests()
	if len(reqs) != 1 || hasCredentials(reqs[0].header) {
		t.Errorf("GOAUTH=off: server saw %d requests, first with headers %q; want one without credentials", len(reqs), reqs[0].header)
	}
}

// prefixScript prints credentials for several prefixes of host when run
// without a URL.
func prefixScript(t testing.TB, host string) string {
	return writeScript(t, `[ $# -eq 0 ] || exit 0
cat <<EOF
https://`+host+`

Authorization: Bearer host

https://`+host+`/a/

Authorization: Bearer a

https://`+host+`/a/b

X-Token: b

https://`+host+`/gone


EOF
`)
}

func TestAuthLongestPrefix(t *testing.T) {
	const host = "127.0.0.1:9"
	script := prefixScript(t, host)
	netrc := writeFile(t, filepath.Join(t.TempDir(), "netrc"),
		"machine "+host+" login u password p\nmachine "+host+"/gone login u password p\n")
	tests := []struct {
		goauth, url string
		want        http.Header // nil: no credentials
	}{
		{script, "https://" + host, http.Header{"Authorization": {"Bearer host"}}},
		{script, "https://" + host + "/", http.Header{"Authorization": {"Bearer host"}}},
		{script, "https://" + host + "/x/y", http.Header{"Authorization": {"Bearer host"}}},
		{script, "https://" + host + "/a", http.Header{"Authorization": {"Bearer a"}}},
		{script, "https://" + host + "/a/", http.Header{"Authorization": {"Bearer a"}}},
		{script, "https://" + host + "/a/c/@v/list", http.Header{"Authorization": {"Bearer a"}}},
		{script, "https://" + host + "/ab", http.Header{"Authorization": {"Bearer host"}}},
		// The longest prefix replaces shorter ones; headers are not merged.
		{script, "https://" + host + "/a/b/c", http.Header{"X-Token": {"b"}}},
		{script, "http://" + host + "/a", nil},
		{script, "https://127.0.0.1:10/a", nil},
		{script, "https://127.0.0.19:9/a", nil},
		// cmd/go/internal/auth/auth_test.go: no path tricks.
		{script, "https://example.com/?/../" + host + "/", nil},
		{script, "https://example.com/../" + host, nil},
		// The first GOAUTH command wins for the same prefix.
		{script + ";netrc", "https://" + host + "/x", http.Header{"Authorization": {"Bearer host"}}},
		{"netrc;" + script, "https://" + host + "/x", http.Header{"Authorization": {basicValue("u", "p")}}},
		// A block without headers withdraws what a later command stored.
		{script + ";netrc", "https://" + host + "/gone/x", http.Header{"Authorization": {"Bearer host"}}},
	}
	for _, tt := range tests {
		t.Run(tt.goauth+" "+tt.url, func(t *testing.T) {
			a := newTestAuth(t, nil, "GOAUTH", tt.goauth, "NETRC", netrc)
			req, err := http.NewRequest(http.MethodGet, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept", "text/plain")
			got := a.Apply(req)
			if got != (tt.want != nil) {
				t.Errorf("apply = %v; want %v", got, tt.want != nil)
			}
			want := http.Header{"Accept": {"text/plain"}}
			for k, v := range tt.want {
				want[k] = v
			}
			if fmt.Sprint(req.Header) != fmt.Sprint(want) {
				t.Errorf("headers = %v; want %v", req.Header, want)
			}
			// Applying again, as to a clone for a retry, replaces.
			a.Apply(req)
			if fmt.Sprint(req.Header) != fmt.Sprint(want) {
				t.Errorf("headers after a second apply = %v; want %v", req.Header, want)
			}
		})
	}
}

// tokenScript prints "Authorization: Bearer $TOKEN" for $PREFIX when run
// with a URL, and logs every call with its arguments and stdin to $AUTHLOG.
const tokenScript = `echo "call $#: $*" >> "$AUTHLOG"
[ $# -gt 0 ] || exit 0
cat >> "$AUTHLOG"
printf '%s\n\n%s\n\n' "$PREFIX" "Authorization: Bearer $TOKEN"
`

func requireToken(token string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.Header().Set("WWW-Authenticate", `Bearer realm="test"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Fprintln(w, "ok")
	}
}

func TestAuthCommandAfter401(t *testing.T) {
	srv := startServer(t, true, requireToken("good"))
	log := filepath.Join(t.TempDir(), "log")
	a := newTestAuth(t, nil, "GOAUTH", writeScript(t, tokenScript), "AUTHLOG", log, "PREFIX", srv.URL, "TOKEN", "good")

	rawURL := srv.URL + "/example.com/m/@v/list"
	code, authErr, err := get(t, a, srv.Client(), rawURL)
	if err != nil || authErr != nil || code != 200 {
		t.Fatalf("GET = %d, %v, %v; want 200 after one retry", code, authErr, err)
	}
	reqs := srv.requests()
	if len(reqs) != 2 || reqs[0].header.Get("Authorization") != "" || reqs[1].header.Get("Authorization") != "Bearer good" {
		t.Fatalf("server saw %v; want a request without credentials, then one with the command's", reqs)
	}
	data, _ := os.ReadFile(log)
	want := regexp.MustCompile(`(?s)^call 0: \ncall 1: ` + regexp.QuoteMeta(rawURL) + "\nHTTP/1.1 401 Unauthorized\n.*Www-Authenticate: Bearer realm=\"test\"\n.*\n\n$")
	if !want.Match(data) {
		t.Errorf("command calls:\n%s\nwant the first without arguments, the second with the URL and the 401 on stdin", data)
	}

	// The stored credentials are used from now on, without running the command.
	if code, _, _ := get(t, a, srv.Client(), srv.URL+"/example.com/m/@v/v1.0.0.info"); code != 200 {
		t.Errorf("second GET = %d; want 200", code)
	}
	if n := len(srv.requests()); n != 3 {
		t.Errorf("server saw %d requests; want 3", n)
	}
	if data2, _ := os.ReadFile(log); !bytes.Equal(data, data2) {
		t.Errorf("command ran again although the credentials worked:\n%s", data2[len(data):])
	}
}

func TestAuthCommandRetriesOnce(t *testing.T) {
	srv := startServer(t, true, requireToken("good"))
	log := filepath.Join(t.TempDir(), "log")
	a := newTestAuth(t, nil, "GOAUTH", writeScript(t, tokenScript), "AUTHLOG", log, "PREFIX", srv.URL, "TOKEN", "bad")

	code, _, err := get(t, a, srv.Client(), srv.URL+"/x")
	if err != nil || code != http.StatusUnauthorized {
		t.Fatalf("GET = %d, %v; want 401", code, err)
	}
	if n := len(srv.requests()); n != 2 {
		t.Errorf("server saw %d requests; want 2: one retry with the command's credentials", n)
	}
	// Now the request carries the rejected token; the command offers the
	// same again, so there is nothing new to retry with.
	code, _, _ = get(t, a, srv.Client(), srv.URL+"/y")
	if code != http.StatusUnauthorized {
		t.Fatalf("GET = %d; want 401", code)
	}
	if n := len(srv.requests()); n != 3 {
		t.Errorf("server saw %d requests; want 3: no retry with the same rejected credentials", n)
	}
	if data, _ := os.ReadFile(log); strings.Count(string(data), "call 1: ") != 2 {
		t.Errorf("command calls:\n%s\nwant the command run with the URL after each 401", data)
	}
}

func TestAuthCommandOnlyFor4xx(t *testing.T) {
	srv := startServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	log := filepath.Join(t.TempDir(), "log")
	a := newTestAuth(t, nil, "GOAUTH", writeScript(t, tokenScript), "AUTHLOG", log, "PREFIX", srv.URL, "TOKEN", "t")
	if code, _, _ := get(t, a, srv.Client(), srv.URL+"/x"); code != http.StatusServiceUnavailable {
		t.Fatalf("GET = %d; want 503", code)
	}
	if data, _ := os.ReadFile(log); string(data) != "call 0: \n" {
		t.Errorf("command calls:\n%s\nwant only the first, URL-less run: a 5xx is not an authentication problem", data)
	}
}

func TestAuthCommandConcurrentRunsShared(t *testing.T) {
	dir := t.TempDir()
	log, release := filepath.Join(dir, "log"), filepath.Join(dir, "release")
	script := writeScript(t, `[ $# -gt 0 ] || exit 0
echo run >> "$AUTHLOG"
while [ ! -e "$RELEASE" ]; do sleep 0.01; done
printf 'https://h.test\n\nAuthorization: Bearer t\n\n'
`)
	a := newTestAuth(t, nil, "GOAUTH", script, "AUTHLOG", log, "RELEASE", release)
	a.init(t.Context())

	const n = 8
	req, _ := http.NewRequest(http.MethodGet, "https://h.test/m/@v/list", nil)
	resp := &http.Response{StatusCode: http.StatusNotFound, Header: http.Header{}}
	results := make(chan bool, n)
	for range n {
		go func() {
			retry, _ := a.RetryAfter(t.Context(), nil, req, resp)
			results <- retry
		}()
	}
	// Release the command once all callers wait for the one run.
	waitFor(t, func() bool { return waitingInRun() == n })
	writeFile(t, release, "")
	for range n {
		if !<-results {
			t.Error("retryAfter = false; want true: the shared run found credentials")
		}
	}
	if data, _ := os.ReadFile(log); string(data) != "run\n" {
		t.Errorf("command ran %d times for one URL; want once", strings.Count(string(data), "run"))
	}
}

// waitingInRun counts goroutines blocked in authenticator.run.
func waitingInRun() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "[select") && strings.Contains(g, ".(*Authenticator).run(") {
			n++
		}
	}
	return n
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestAuthRetryAfterCanceled(t *testing.T) {
	script := writeScript(t, "[ $# -gt 0 ] || exit 0\nexec sleep 60\n") // exec: the kill reaches sleep
	a := newTestAuth(t, nil, "GOAUTH", script)
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequest(http.MethodGet, "https://h.test/x", nil)
	done := make(chan error, 1)
	go func() {
		_, err := a.RetryAfter(ctx, nil, req, &http.Response{StatusCode: http.StatusForbidden})
		done <- err
	}()
	waitFor(t, func() bool { return waitingInRun() == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("retryAfter after cancel = %v; want context.Canceled", err)
	}
}

// redirectServers starts TLS servers A and B: A redirects /cross to B,
// /same within A, /bounce to B and back to A, /insecure to plain http.
func redirectServers(t testing.TB) (a, b, plain *recordingServer) {
	plain = startServer(t, false, ok)
	b = startServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/back" {
			http.Redirect(w, r, a.URL+"/target", http.StatusFound)
			return
		}
		ok(w, r)
	})
	a = startServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cross":
			http.Redirect(w, r, b.URL+"/target", http.StatusFound)
		case "/same":
			http.Redirect(w, r, "/target", http.StatusFound)
		case "/bounce":
			http.Redirect(w, r, b.URL+"/back", http.StatusFound)
		case "/insecure":
			http.Redirect(w, r, plain.URL+"/target", http.StatusFound)
		default:
			ok(w, r)
		}
	})
	return a, b, plain
}

// Net/http alone keeps Authorization on a redirect to the same host name on
// another port, and keeps every other header on any redirect: this is why
// checkRedirect exists.
func TestNetHTTPRedirectKeepsCredentials(t *testing.T) {
	a, b, _ := redirectServers(t)
	req, _ := http.NewRequest(http.MethodGet, a.URL+"/cross", nil)
	req.Header.Set("Authorization", "Bearer x")
	req.Header.Set("X-Token", "y")
	resp, err := a.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := b.requests()[0].header
	if h.Get("Authorization") == "" || h.Get("X-Token") == "" {
		t.Errorf("net/http stripped credentials itself (%q): revisit the comments on checkRedirect", h)
	}
}

func TestAuthRedirect(t *testing.T) {
	a, b, plain := redirectServers(t)
	netrc := writeFile(t, filepath.Join(t.TempDir(), "netrc"), "machine "+a.host()+" login u password p\n")
	script := writeScript(t, fmt.Sprintf("printf '%%s\\n\\n%%s\\n%%s\\n\\n' %q 'Authorization: Bearer cmd' 'X-Token: cmd'\n", a.URL))
	for _, goauth := range []string{"netrc", script} {
		for _, tt := range []struct {
			path       string
			server     *recordingServer
			wantHeader bool
		}{
			{"/same", a, true},
			{"/cross", b, false},
			{"/bounce", a, false},
		} {
			t.Run(filepath.Base(goauth)+tt.path, func(t *testing.T) {
				auth := newTestAuth(t, nil, "GOAUTH", goauth, "NETRC", netrc)
				before := len(tt.server.requests())
				if code, _, err := get(t, auth, a.Client(), a.URL+tt.path); err != nil || code != 200 {
					t.Fatalf("GET = %d, %v; want 200", code, err)
				}
				last := tt.server.requests()[before:]
				final := last[len(last)-1]
				if final.path != "/target" {
					t.Fatalf("last request to %s was %s; want /target", tt.server.URL, final.path)
				}
				if got := hasCredentials(final.header); got != tt.wantHeader {
					t.Errorf("after redirect, credentials present = %v (%q); want %v", got, final.header, tt.wantHeader)
				}
			})
		}
	}

	t.Run("https to http", func(t *testing.T) {
		auth := newTestAuth(t, nil, "NETRC", netrc)
		_, _, err := get(t, auth, a.Client(), "https://user:url-secret@"+a.host()+"/insecure")
		want := fmt.Sprintf("redirected from secure URL https://xxxxx@%s/insecure to insecure URL %s/target", a.host(), plain.URL)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("GET = %v; want an error containing %q", err, want)
		}
		if strings.Contains(err.Error(), "url-secret") || strings.Contains(err.Error(), "user") {
			t.Errorf("error shows userinfo: %v", err)
		}
		if n := len(plain.requests()); n != 0 {
			t.Errorf("plain http server saw %d requests; want none", n)
		}
	})
}

func TestAuthRedirectLimit(t *testing.T) {
	var srv *recordingServer
	srv = startServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+r.URL.Path+"x", http.StatusFound)
	})
	a := newTestAuth(t, nil, "GOAUTH", "off")
	_, _, err := get(t, a, srv.Client(), srv.URL+"/")
	if err == nil || !strings.Contains(err.Error(), "stopped after 10 redirects") {
		t.Errorf("GET = %v; want stopped after 10 redirects", err)
	}
}

// gitRepo makes a work tree whose credential helper, in the repository's
// own configuration, is helper (such as logHelper, which answers with
// gituser/gitpass and logs its action to $GITLOG).
func gitRepo(t testing.TB, helper string) string {
	t.Helper()
	r := testenv.NewGitRepo(t, t.TempDir())
	r.Git("", "config", "credential.helper", helper)
	return r.Dir
}

const logHelper = `!f() { echo "$1" >> "$GITLOG"; if [ "$1" = get ]; then echo username=gituser; echo password=gitpass; fi; }; f`

func TestAuthGit(t *testing.T) {
	srv := startServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u != "gituser" || p != "gitpass" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		ok(w, r)
	})
	gitlog := filepath.Join(t.TempDir(), "gitlog")
	dir := gitRepo(t, logHelper)
	a := newTestAuth(t, nil, "GITLOG", gitlog, "GOAUTH", "git "+dir)

	code, authErr, err := get(t, a, srv.Client(), srv.URL+"/m/@v/list")
	if err != nil || authErr != nil || code != 200 {
		t.Fatalf("GET = %d, %v, %v; want 200 with git's credentials", code, authErr, err)
	}
	a.bg.Wait() // the HEAD check and 'git credential approve'
	var gets, heads []seen
	for _, r := range srv.requests() {
		switch r.method {
		case http.MethodGet:
			gets = append(gets, r)
		case http.MethodHead:
			heads = append(heads, r)
		}
	}
	if len(gets) != 2 || gets[0].header.Get("Authorization") != "" || gets[1].header.Get("Authorization") != basicValue("gituser", "gitpass") {
		t.Errorf("GETs = %v; want one without credentials (git needs a URL), then one with git's", gets)
	}
	if len(heads) != 1 || heads[0].path != "" && heads[0].path != "/" || heads[0].header.Get("Authorization") != basicValue("gituser", "gitpass") {
		t.Errorf("HEADs = %v; want one to the prefix git answered for, with git's credentials", heads)
	}
	data, _ := os.ReadFile(gitlog)
	if got := strings.Fields(string(data)); fmt.Sprint(got) != "[get store]" {
		t.Errorf("credential helper calls = %v; want [get store]: fill, then approve after the HEAD check", got)
	}
}

func TestAuthGitFails(t *testing.T) {
	srv := startServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	})
	tests := []struct {
		name, helper, want string
	}{
		{"no helper", "", "'git credential fill' failed (url=" + srv.URL + "/x)"},
		{"other host", "!f() { echo url=https://other.test; echo username=u; echo password=git-secret; }; f",
			"requested a credential for " + srv.URL + "/x, but 'git credential fill' provided one for https://other.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := gitRepo(t, tt.helper)
			a := newTestAuth(t, nil, "GOAUTH", "git "+dir)
			code, authErr, err := get(t, a, srv.Client(), srv.URL+"/x")
			if err != nil || code != http.StatusUnauthorized {
				t.Fatalf("GET = %d, %v; want 401", code, err)
			}
			if authErr == nil || !strings.Contains(authErr.Error(), tt.want) || !strings.HasPrefix(authErr.Error(), "GOAUTH found no credentials for "+srv.URL+"/x: GOAUTH=git ") {
				t.Errorf("authErr = %v; want it to contain %q", authErr, tt.want)
			}
			if authErr != nil && strings.Contains(authErr.Error(), "git-secret") {
				t.Errorf("authErr shows the password: %v", authErr)
			}
		})
	}
}

func TestParseGOAUTH(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, filepath.Join(dir, "file"), "")
	tests := []struct {
		goauth  string
		want    []Kind // nil with no error: off
		wantErr string
	}{
		{"off", nil, ""},
		{"off extra words", nil, ""},
		{"netrc", []Kind{Netrc}, ""},
		{" netrc ; git " + dir + " ;my-cmd --flag 'a b'", []Kind{Netrc, Git, Custom}, ""},
		{"my-cmd 'unterminated", []Kind{Custom}, ""}, // reported when it runs, as cmd/go does
		{"off;netrc", nil, "GOAUTH=off cannot be combined with other authentication commands"},
		{"netrc;off", nil, "GOAUTH=off cannot be combined with other authentication commands"},
		{"netrc;", nil, "GOAUTH encountered an empty command"},
		{";netrc", nil, "GOAUTH encountered an empty command"},
		{"git", nil, "GOAUTH=git dir method requires an absolute path to the git working directory"},
		{"git " + dir + " extra", nil, "GOAUTH=git dir method requires an absolute path to the git working directory"},
		{"git relative/dir", nil, "requires an absolute path to the git working directory, dir is not absolute"},
		{"git " + filepath.Join(dir, "missing"), nil, "GOAUTH=git encountered an error; cannot stat " + filepath.Join(dir, "missing")},
		{"git " + file, nil, "requires an absolute path to the git working directory, dir is not a directory"},
		// Checked last to first, like cmd/go, so the last bad entry is reported.
		{"git relative;off", nil, "GOAUTH=off cannot be combined"},
		{"off;git relative", nil, "dir is not absolute"},
	}
	for _, tt := range tests {
		t.Run(tt.goauth, func(t *testing.T) {
			a, err := New(testConfig(t, nil, "GOAUTH", tt.goauth))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v; want %q", err, tt.wantErr)
				}
				var ee *EntryError
				if !errors.As(err, &ee) || !strings.HasPrefix(err.Error(), "GOAUTH") || ee.Fix == "" {
					t.Errorf("err = %#v; want an *EntryError with a fix", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			var kinds []Kind
			for _, c := range a.cmds {
				kinds = append(kinds, c.Kind)
			}
			if fmt.Sprint(kinds) != fmt.Sprint(tt.want) || (tt.want == nil) != (a.cmds == nil) {
				t.Errorf("commands = %v; want %v", kinds, tt.want)
			}
		})
	}
}

func TestAuthCommandErrors(t *testing.T) {
	srv := startServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	})
	tests := []struct {
		name, goauth, want string
	}{
		{"unsplittable", "my-cmd 'unterminated", "GOAUTH=my-cmd 'unterminated: cannot parse GOAUTH command my-cmd 'unterminated: unterminated ' string"},
		{"missing", "no-such-goauth-command", "GOAUTH=no-such-goauth-command: could not run command no-such-goauth-command: no-such-goauth-command: not found in PATH"},
		{"fails", writeScript(t, "echo cmd-secret; echo 'please log in' >&2; exit 3\n"), "exit status 3\nplease log in"},
		{"bad output", writeScript(t, "echo 'Authorization: Bearer cmd-secret'\n"), "cannot parse output of GOAUTH command"},
		{"bad header", writeScript(t, "printf 'https://h\\n\\nAuthorization Bearer cmd-secret\\n\\n'\n"), "line 3: invalid format: invalid header line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAuth(t, nil, "GOAUTH", tt.goauth)
			_, authErr, err := get(t, a, srv.Client(), srv.URL+"/x")
			if err != nil {
				t.Fatal(err)
			}
			if authErr == nil || !strings.Contains(authErr.Error(), tt.want) {
				t.Errorf("authErr = %v; want it to contain %q", authErr, tt.want)
			}
			if authErr != nil && strings.Contains(authErr.Error(), "cmd-secret") {
				t.Errorf("authErr quotes the command's output: %v", authErr)
			}
		})
	}
}

// TestAuthNoSecrets drives every path that makes an error or a log record
// and checks that no credential shows.
func TestAuthNoSecrets(t *testing.T) {
	const secret = "SECRET"
	var logBuf testenv.Buffer
	logger := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := startServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	})
	a, _, _ := redirectServers(t)
	netrc := writeFile(t, filepath.Join(t.TempDir(), "netrc"),
		fmt.Sprintf("machine %s login netrc-%s password netrc-%s\nmachine %s login u password netrc-%s\n", srv.host(), secret, secret, a.host(), secret))
	goodCmd := writeScript(t, fmt.Sprintf("printf 'https://%s\\n\\nX-Token: cmd-%s\\n\\n'\n", srv.host(), secret))
	badCmd := writeScript(t, fmt.Sprintf("echo 'Authorization: Bearer cmd-%s'\necho 'token expired' >&2\nexit 1\n", secret))
	malformed := writeScript(t, fmt.Sprintf("printf 'Authorization: Bearer cmd-%s\\nhttps://h\\n\\n'\n", secret))
	dir := gitRepo(t, "!f() { echo url=https://other.test; echo username=git-"+secret+"; echo password=git-"+secret+"; }; f")

	var errs []error
	for _, goauth := range []string{"netrc;" + goodCmd, badCmd, malformed, "git " + dir, "netrc"} {
		auth := newTestAuth(t, logger, "GOAUTH", goauth, "NETRC", netrc)
		for _, u := range []string{
			srv.URL + "/x",
			"https://user-" + secret + ":" + secret + "@" + srv.host() + "/x",
			a.URL + "/insecure",
			"https://user-" + secret + ":" + secret + "@" + a.host() + "/insecure",
			"https://" + secret + "@127.0.0.1:1/closed",
		} {
			_, authErr, err := get(t, auth, srv.Client(), u)
			errs = append(errs, authErr, err)
		}
	}
	n := 0
	for _, err := range errs {
		if err == nil {
			continue
		}
		n++
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows a credential: %v", err)
		}
	}
	if n < 10 {
		t.Errorf("only %d errors were produced; the test no longer covers the error paths", n)
	}
	log := logBuf.String()
	if strings.Contains(log, secret) {
		t.Errorf("log shows a credential:\n%s", log)
	}
	if !strings.Contains(log, "GOAUTH credentials") {
		t.Errorf("log has no record of stored credentials:\n%s", log)
	}
}

func TestParseUserAuth(t *testing.T) {
	tests := []struct {
		name, data string
		want       map[string]http.Header
	}{
		{"empty", "", map[string]http.Header{}},
		{
			"cmd/go example",
			"https://example.com\n\nAuthorization: Basic YWxh\nAuthorization: Basic jpvc\n\nhttps://hello.com\n\nAuthorization: Basic GVuc\nData: Test567\n\n",
			map[string]http.Header{
				"example.com": {"Authorization": {"Basic YWxh", "Basic jpvc"}},
				"hello.com":   {"Authorization": {"Basic GVuc"}, "Data": {"Test567"}},
			},
		},
		{
			"several URLs, later block wins",
			"https://a.test/p/\nhttps://b.test\n\nX-Token:   t  \n\nhttps://b.test\n\nX-Token: u\n\n",
			map[string]http.Header{"a.test/p/": {"X-Token": {"t"}}, "b.test": {"X-Token": {"u"}}},
		},
		{"empty header block withdraws", "https://example.com\n\n\n", map[string]http.Header{"example.com": {}}},
		{"non-https URLs ignored", "http://a.test\nauthorization: Bearer x\n\nX-Token: t\n\n", map[string]http.Header{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseUserAuth(tt.data)
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("parseUserAuth = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestParseUserAuthInvalid(t *testing.T) {
	// Most are from cmd/go/internal/auth/userauth_test.go.
	tests := []struct{ data, want string }{
		{"https://example.com\nAuthorization: Basic AVuc\n\n", "missing empty line after headers"},
		{"Authorization: Basic AVuc\n\n", "missing empty line after headers"},
		{"https://example.com\n\nAuthorization: Basic YWxh\n\nAuthorization: Basic GVuc\nData: Test567\n\n", "missing empty line after headers"},
		{"https://example.com\n", "missing empty line after URLs"},
		{"https://example.com\n\n", "missing empty line after headers"},
		{"https://example.com\n\nAuthorization: Basic YWxh\nhttps://hello.com\n\n", "line 4: invalid format: invalid header line"},
		{"https://example.com/\n Authorization: Basic YWxh\n", "line 2: could not parse URL"},
		{"https://example.com\n\nAuthorization: Basic YWxh\n Authorization: Basic jpvc\n", "line 4: invalid format: invalid header line"},
		{"https://example.com\n\nAuthorization: Basic YWxh\n\tAuthorization: Basic jpvc\n", "line 4: invalid format: invalid header line"},
		{" https://example.com\n\nAuthorization: Basic YWxh\n", "line 1: could not parse URL"},
		{"https://example.com\n\n\nAuthorization: Basic YWxh\n", "missing empty line after URLs"},
		{"https://example.com\n\nBad Name: v\n\n", "line 3: invalid format: invalid header line"},
		{"https://example.com\n\nName: v\x01\n\n", "line 3: invalid format: invalid header line"},
		{"https://example.com\n\nName:v\n\n", "line 3: invalid format: invalid header line"},
		{"https://exa mple.com\n\n", "line 1: could not parse URL"},
	}
	for _, tt := range tests {
		creds, err := parseUserAuth(tt.data)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseUserAuth(%q) = %v, %v; want error %q", tt.data, creds, err, tt.want)
		}
	}
}

func FuzzParseUserAuth(f *testing.F) {
	f.Add("https://example.com\n\nAuthorization: Basic YWxh\n\n")
	f.Add("https://a.test/p\nhttps://b.test\n\nX: y\nZ: w\n\nhttps://c.test\n\n\n")
	f.Add("Authorization: Bearer x\n\n")
	f.Add("https://https://\n\n\n")
	f.Add("https:A\n\n\n")
	wellFormed := regexp.MustCompile(`^(line \d+: )?(could not parse URL|invalid format: (missing empty line after (URLs|headers)|invalid header line))$`)
	f.Fuzz(func(t *testing.T, data string) {
		creds, err := parseUserAuth(data)
		if err != nil {
			// Never an echo of the input, which may hold a secret.
			if !wellFormed.MatchString(err.Error()) {
				t.Fatalf("parseUserAuth(%q): error %q quotes more than a line number", data, err)
			}
			return
		}
		for prefix, h := range creds {
			if u, err := url.Parse("https://" + prefix); err != nil || u.Host == "" {
				t.Fatalf("parseUserAuth(%q) returned prefix %q, not an https URL without its scheme", data, prefix)
			}
			for name, vv := range h {
				for _, v := range vv {
					if !validHeaderName(name) || !validHeaderValue(v) || v != strings.TrimSpace(v) {
						t.Fatalf("parseUserAuth(%q) returned header %q: %q", data, name, v)
					}
				}
			}
		}
	})
}

func TestParseGitCredential(t *testing.T) {
	// From cmd/go/internal/auth/gitauth_test.go, plus path and url overrides.
	tests := []struct {
		data, prefix, user, password string
	}{
		{"\nprotocol=https\nhost=example.com\nusername=bob\npassword=secr3t\n", "https://example.com", "bob", "secr3t"},
		{"protocol=https\nhost=example.com\nusername=bob\npassword=secr3t\nurl=invalid\n", "https://example.com", "bob", "secr3t"},
		{"protocol=https\nhost=example.com\nusername=bob\npassword=secr3t\nurl=https://go.dev\n", "https://go.dev", "bob", "secr3t"},
		{"url=https://go.dev\nhost=other.dev\n", "https://other.dev", "", ""},
		{"protocol=https\nhost=example.com:8443\npath=org/repo\n", "https://example.com:8443/org/repo", "", ""},
		{"  password=with=equals  \n", "", "", "with=equals"},
		{"\n", "", "", ""},
		{"protocol:https\nhost:example.com\nusername:bob\npassword:secr3t\n", "", "", ""},
	}
	a := newTestAuth(t, nil)
	for _, tt := range tests {
		prefix, user, password := a.parseGitCredential([]byte(tt.data))
		if prefix != tt.prefix || user != tt.user || password != tt.password {
			t.Errorf("parseGitCredential(%q) = %q, %q, %q; want %q, %q, %q", tt.data, prefix, user, password, tt.prefix, tt.user, tt.password)
		}
	}
}

func TestResponseStdin(t *testing.T) {
	resp := &http.Response{
		Proto: "HTTP/2.0", Status: "401 Unauthorized", StatusCode: 401,
		Header: http.Header{"Www-Authenticate": {"Basic", `Bearer realm="x"`}, "Content-Length": {"19"}},
	}
	got := responseStdin(resp)
	want := "HTTP/2.0 401 Unauthorized\nContent-Length: 19\nWww-Authenticate: Basic, Bearer realm=\"x\"\n\n"
	if got != want {
		t.Errorf("responseStdin = %q; want %q", got, want)
	}
	// 'go help goauth' promises that http.ReadResponse can parse it.
	parsed, err := http.ReadResponse(bufio.NewReader(strings.NewReader(got)), nil)
	if err != nil || parsed.StatusCode != 401 || parsed.Header.Get("Www-Authenticate") != `Basic, Bearer realm="x"` {
		t.Errorf("http.ReadResponse = %v, %v", parsed, err)
	}
	bare := responseStdin(&http.Response{StatusCode: 404, Header: http.Header{}})
	if bare != "HTTP/1.1 404 Not Found\n\n" {
		t.Errorf("responseStdin of a synthesized response = %q", bare)
	}
}
