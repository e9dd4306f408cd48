package goauth

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
)

// This file is the differential test of the authenticator against the
// installed go command: one TLS stub proxy logs the credentials on every
// request; 'go mod download' and modkit each fetch the same URLs under the
// same GOAUTH and .netrc; the (path, credentials) sequences must agree, with
// repeated identical requests collapsed (the go command retries a 4xx even
// when it has nothing new to send; modkit does not). GOAUTH commands log
// their arguments, which must agree too.

// authStub answers 401 to requests without the wanted Authorization (if
// any is wanted) and 404 to the rest, so that the go command stops after
// one file.
type authStub struct {
	want string
	mu   sync.Mutex
	log  []string // "path credentials"
}

func (s *authStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet { // not the go command's background HEAD checking git credentials
		s.mu.Lock()
		s.log = append(s.log, r.URL.Path+" "+r.Header.Get("Authorization")+" "+r.Header.Get("X-Token"))
		s.mu.Unlock()
	}
	if s.want != "" && r.Header.Get("Authorization") != s.want {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	http.NotFound(w, r)
}

// take returns the log, with consecutive duplicates collapsed, and clears it.
func (s *authStub) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	log := slices.Compact(s.log)
	s.log = nil
	return log
}

func TestAuthMatchesGoCommand(t *testing.T) {
	testenv.GoBin(t)
	if testing.Short() {
		t.Skip("runs the go command")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("GOAUTH command scripts need sh")
	}

	const module = "example.com/m"
	type scenario struct {
		name   string
		goauth string // {script}: the command script, {gitdir}: a git work tree with a credential helper
		netrc  string // {hostport}: the stub's host:port, {host}: its host name
		script string // {url}: the stub's URL
		want   string // the Authorization the stub insists on
	}
	scenarios := []scenario{
		{name: "netrc host:port", goauth: "netrc", netrc: "machine {hostport} login u password p\n"},
		{name: "netrc host name only", goauth: "netrc", netrc: "machine {host} login u password p\n"},
		{name: "netrc first duplicate wins", goauth: "netrc", netrc: "machine {hostport} login first password 1\nmachine {hostport} login second password 2\n"},
		{name: "netrc quirks", goauth: "netrc", netrc: "machine x macdef m\nmachine {hostport} login inmacro password 0\n\n" +
			"machine {hostport}\nlogin\nsplit password 1\nmachine {hostport} login right password 2\ndefault\nmachine {hostport} login late password 3\n"},
		{name: "GOAUTH=off", goauth: "off", netrc: "machine {hostport} login u password p\n"},
		{name: "command longest prefix", goauth: "{script}", script: `printf '%s\n\n%s\n\n%s\n\n%s\n%s\n\n' "{url}" "Authorization: Bearer host" "{url}/example.com/m/" "Authorization: Bearer mod" "X-Token: t"`},
		{name: "command after 401", goauth: "{script}", want: "Bearer late",
			script: `[ $# -gt 0 ] || exit 0; printf '%s\n\n%s\n\n' "{url}" "Authorization: Bearer late"`},
		{name: "first GOAUTH entry wins", goauth: "{script};netrc", netrc: "machine {hostport} login u password p\n",
			script: `printf '%s\n\n%s\n\n' "{url}" "Authorization: Bearer cmd"`},
		{name: "netrc listed first wins", goauth: "netrc;{script}", netrc: "machine {hostport} login u password p\n",
			script: `printf '%s\n\n%s\n\n' "{url}" "Authorization: Bearer cmd"`},
		{name: "git credential fill after 401", goauth: "git {gitdir}", want: "Basic Z2l0dXNlcjpnaXRwYXNz"},
		{name: "command withdraws", goauth: "{script};netrc", netrc: "machine {hostport} login u password p\n",
			script: `printf '%s\n\n\n' "{url}"`},
	}

	// Every httptest TLS server uses the same built-in certificate: trust it
	// in the go command through SSL_CERT_FILE.
	certFile := testenv.HTTPTestCertFile(t)

	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			stub := &authStub{want: sc.want}
			srv := httptest.NewTLSServer(stub)
			defer srv.Close()
			hostPort := strings.TrimPrefix(srv.URL, "https://")
			hostName, _, _ := strings.Cut(hostPort, ":")

			expand := strings.NewReplacer("{url}", srv.URL, "{hostport}", hostPort, "{host}", hostName).Replace
			dir := t.TempDir()
			callLog := filepath.Join(dir, "calls")
			script := writeFile(t, filepath.Join(dir, "goauth.sh"),
				"#!/bin/sh\necho \"call $#: $*\" >> \""+callLog+"\"\n"+expand(sc.script)+"\n")
			os.Chmod(script, 0o755)
			netrc := writeFile(t, filepath.Join(dir, "netrc"), expand(sc.netrc))
			goauth := strings.ReplaceAll(sc.goauth, "{script}", script)
			if strings.Contains(goauth, "{gitdir}") {
				gitdir := gitRepo(t, logHelper)
				goauth = strings.ReplaceAll(goauth, "{gitdir}", gitdir)
			}
			kv := []string{"GOAUTH", goauth, "NETRC", netrc, "GOPROXY", srv.URL, "GOSUMDB", "off", "GIT_CONFIG_NOSYSTEM", "1", "GITLOG", callLog}

			g := testenv.NewGo(t, "SSL_CERT_FILE="+certFile)
			for i := 0; i+1 < len(kv); i += 2 {
				g.Env = append(g.Env, kv[i]+"="+kv[i+1])
			}
			cmd := g.Command("mod", "download", "-json", module+"@v1.0.0")
			if out, err := cmd.Output(); err == nil {
				t.Fatalf("go mod download succeeded against a stub that has no modules:\n%s", out)
			}
			goReqs := stub.take()
			goCalls := fillCalls(callLog)
			os.Remove(callLog)
			if len(goReqs) == 0 {
				t.Fatal("the go command sent no request to the stub")
			}

			a := newTestAuth(t, nil, kv...)
			for _, path := range pathsOf(goReqs) {
				get(t, a, srv.Client(), srv.URL+path)
			}
			ourReqs := stub.take()
			ourCalls := fillCalls(callLog)

			if !slices.Equal(goReqs, ourReqs) {
				t.Errorf("requests (path Authorization X-Token):\ngo command:\n\t%s\nmodkit:\n\t%s",
					strings.Join(goReqs, "\n\t"), strings.Join(ourReqs, "\n\t"))
			}
			if goCalls != ourCalls {
				t.Errorf("GOAUTH command calls:\ngo command:\n%s\nmodkit:\n%s", goCalls, ourCalls)
			}
		})
	}
}

// fillCalls reads the log of GOAUTH command calls. It drops the credential
// helper's "store" and "erase" calls, which follow a background check that
// may or may not finish before the go command exits (and which the go
// command runs outside the GOAUTH git directory, so they never reach
// logHelper).
func fillCalls(path string) string {
	data, _ := os.ReadFile(path)
	var keep []string
	for line := range strings.Lines(string(data)) {
		if line != "store\n" && line != "erase\n" {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "")
}

// pathsOf returns the distinct paths of a stub log, in first-seen order.
func pathsOf(log []string) []string {
	var paths []string
	for _, l := range log {
		p, _, _ := strings.Cut(l, " ")
		if !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	return paths
}
