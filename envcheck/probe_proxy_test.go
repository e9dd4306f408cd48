package envcheck

import (
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modkit/modkit/internal/testenv"
)

func vars(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestProbeGOPROXY(t *testing.T) {
	runLive(t, "goproxy.reach", []liveCase{
		{name: "answers", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, moduleProxy(nil))+",direct")
		}, status: StatusOK, summary: "1 of 1 proxy answer for golang.org/x/mod", fix: "-",
			details: "2 versions of golang.org/x/mod (dns "},
		{name: "unknown authority", vars: func(n *netFixture) map[string]string {
			corp := testenv.NewCA(n.t, "Corp Inspection CA", "Corp")
			return vars("GOPROXY", n.Serve("proxy.example.test", corp, moduleProxy(nil)))
		}, status: StatusError, summary: `certificate signed by "Corp Inspection CA" (Corp), which this machine does not trust: probably a TLS-intercepting proxy [tls]`,
			fix: "CA certificate"},
		{name: "refused", vars: func(n *netFixture) map[string]string {
			n.AddHost("closed.example.test", "127.0.0.1")
			return vars("GOPROXY", "https://closed.example.test:"+portOf(n.t, closedPort(n.t)))
		}, status: StatusError, summary: "connection refused: nothing listens on that host and port [refused]", fix: "check the host and port"},
		{name: "nxdomain", vars: func(n *netFixture) map[string]string { return vars("GOPROXY", "https://nowhere.example.test") },
			status: StatusError, summary: "https://nowhere.example.test: host name not found (NXDOMAIN) [dns-notfound]", fix: "check the spelling of the host",
			details: "no such host"},
		{name: "never answers", vars: func(n *netFixture) map[string]string {
			n.AddHost("hole.example.test", "127.0.0.1")
			return vars("GOPROXY", "https://hole.example.test:"+portOf(n.t, blackHole(n.t)))
		}, tweak: func(n *netFixture, o *Options) { o.CheckTimeout = 300 * time.Millisecond },
			// The phase reached depends on the machine's load; the class does not.
			status: StatusError, summary: "[timeout]", fix: "firewall", details: "context deadline exceeded",
			check: func(t *testing.T, n *netFixture, res Result) {
				// The timeout plus scheduling slack on a loaded CI machine; the
				// point is that a silent endpoint does not hold the run.
				if res.Duration > 300*time.Millisecond+time.Second {
					t.Errorf("probe of a silent endpoint took %v, more than its timeout", res.Duration)
				}
			}},
		{name: "reset", vars: func(n *netFixture) map[string]string {
			n.AddHost("reset.example.test", "127.0.0.1")
			return vars("GOPROXY", "http://reset.example.test:"+portOf(n.t, resetter(n.t)))
		}, status: StatusError, summary: "[reset]", fix: "cutting the connection"},
		{name: "server error stops a comma chain", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, status(502, "bad gateway"))+","+n.Serve("second.example.test", nil, moduleProxy(nil)))
		}, status: StatusError, summary: "server error (502 Bad Gateway) [server]; after ',' the go command stops here and does not try https://second.example.test:",
			details: "second.example.test"},
		{name: "unauthorized", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, status(401, "")))
		}, status: StatusError, summary: "authentication required or refused (401 Unauthorized) [auth]", fix: "add 'machine proxy.example.test:"},
		{name: "throttled", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, status(429, "")))
		}, status: StatusError, summary: "[throttled]"},
		{name: "not found then direct", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, status(404, ""))+",direct")
		}, status: StatusInfo, summary: "does not have golang.org/x/mod (404 Not Found); the go command moves on to direct"},
		{name: "not found last", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, status(404, "")))
		}, status: StatusWarn, summary: "and it is the last entry: public modules cannot be downloaded"},
		{name: "login page", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, status(200, "<html>Sign in</html>")))
		}, status: StatusWarn, summary: "answered HTML, not a version list, for golang.org/x/mod"},
		{name: "through HTTPS_PROXY", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, moduleProxy(nil)), "HTTPS_PROXY", n.NewProxy(0, ""))
		}, status: StatusOK, details: " via http://127.0.0.1:",
			check: func(t *testing.T, n *netFixture, res Result) {
				if !strings.HasPrefix(strings.Join(n.Requests(), "\n"), "CONNECT proxy.example.test:") {
					t.Errorf("requests = %q, want a CONNECT first", n.Requests())
				}
			}},
		{name: "netrc credentials", vars: func(n *netFixture) map[string]string {
			u := n.Serve("proxy.example.test", nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if u, p, ok := r.BasicAuth(); !ok || u != "me" || p != "tok" {
					w.WriteHeader(401)
					return
				}
				moduleProxy(nil).ServeHTTP(w, r)
			}))
			dir := n.t.TempDir()
			writeFile(n.t, filepath.Join(dir, "netrc"), "machine "+strings.TrimPrefix(u, "https://")+" login me password tok\n")
			return vars("GOPROXY", u, "NETRC", filepath.Join(dir, "netrc"))
		}, status: StatusOK},
		{name: "GOAUTH command credentials", vars: func(n *netFixture) map[string]string {
			u := n.Serve("proxy.example.test", nil, bearerOnly("tok"))
			return vars("GOPROXY", u, "GOAUTH", goauthScript(n.t, `printf '%s\n\nAuthorization: Bearer tok\n\n' "`+u+`"`))
		}, status: StatusOK, details: "2 versions of golang.org/x/mod"},
		{name: "GOAUTH command after 401", vars: func(n *netFixture) map[string]string {
			u := n.Serve("proxy.example.test", nil, bearerOnly("late"))
			// Without a URL argument (the first, URL-less run) it knows nothing.
			return vars("GOPROXY", u, "GOAUTH", goauthScript(n.t, `[ $# -gt 0 ] || exit 0; printf '%s\n\nAuthorization: Bearer late\n\n' "`+u+`"`))
		}, status: StatusOK, details: "2 versions of golang.org/x/mod"},
		{name: "GOAUTH command fails", vars: func(n *netFixture) map[string]string {
			u := n.Serve("proxy.example.test", nil, bearerOnly("tok"))
			return vars("GOPROXY", u, "GOAUTH", goauthScript(n.t, `echo 'token expired, run corp-login' >&2; exit 1`))
		}, status: StatusError, summary: "(401 Unauthorized) [auth]", details: "GOAUTH found no credentials for https://proxy.example.test:",
			check: func(t *testing.T, n *netFixture, res Result) {
				if !strings.Contains(strings.Join(res.Details, "\n"), "token expired, run corp-login") {
					t.Errorf("details do not say why the GOAUTH command failed: %q", res.Details)
				}
			}},
		{name: "file proxy", vars: func(n *netFixture) map[string]string {
			dir := n.t.TempDir()
			writeFile(n.t, filepath.Join(dir, "golang.org", "x", "mod", "@v", "list"), "v0.1.0\n")
			return vars("GOPROXY", "file://"+filepath.ToSlash(dir))
		}, status: StatusOK, details: "1 versions"},
		{name: "file proxy missing", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", "file://"+filepath.ToSlash(filepath.Join(n.t.TempDir(), "none")))
		}, status: StatusError, summary: "file proxy: stat ", fix: "create the directory"},
		{name: "no proxies", vars: func(n *netFixture) map[string]string { return vars("GOPROXY", "direct") }, status: StatusSkip},
	})
}

func TestProbeSumDB(t *testing.T) {
	runLive(t, "sumdb.route", []liveCase{
		{name: "through proxy", vars: func(n *netFixture) map[string]string {
			db := newSumDB(n.t, "sum.example.test")
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, moduleProxy(db))+",direct", "GOSUMDB", db.vkey)
		}, status: StatusOK, summary: "checksum database sum.example.test reached through https://proxy.example.test:", fix: "-",
			details: "/sumdb/sum.example.test/latest (dns"},
		{name: "direct after 404", vars: func(n *netFixture) map[string]string {
			// The database's name includes its port, so that "https://"+name
			// reaches the loopback server; the key exists only once the port does.
			var db atomic.Pointer[sumDB]
			addr := n.Serve("sum.example.test", nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/latest" {
					w.Write(db.Load().latest)
					return
				}
				http.NotFound(w, r)
			}))
			db.Store(newSumDB(n.t, strings.TrimPrefix(addr, "https://")))
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, moduleProxy(nil))+",direct", "GOSUMDB", db.Load().vkey)
		}, status: StatusOK, summary: "reached directly at https://sum.example.test:", details: "does not proxy the checksum database (404 Not Found)"},
		{name: "explicit URL", vars: func(n *netFixture) map[string]string {
			db := newSumDB(n.t, "sum.example.test")
			u := n.Serve("db.example.test", nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/latest" {
					w.Write(db.latest)
					return
				}
				http.NotFound(w, r)
			}))
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, moduleProxy(nil)), "GOSUMDB", db.vkey+" "+u)
		}, status: StatusOK, summary: "reached its own URL (GOSUMDB): signed tree of 42 records",
			check: func(t *testing.T, n *netFixture, res Result) {
				for _, r := range n.Requests() {
					if strings.Contains(r, "/supported") {
						t.Errorf("an explicit GOSUMDB URL bypasses proxies, but %q was requested", r)
					}
				}
			}},
		{name: "pipe failure decides after a 404", vars: func(n *netFixture) map[string]string {
			// The go command's walk: the 503 outranks the later 404, so the
			// database is unavailable, not reached directly.
			db := newSumDB(n.t, "sum.example.test")
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, status(503, ""))+"|"+n.Serve("second.example.test", nil, moduleProxy(nil)), "GOSUMDB", db.vkey)
		}, status: StatusError, summary: "the go command reports this failure: no later proxy offers the database",
			details: "second.example.test:"},
		{name: "supported fails after comma", vars: func(n *netFixture) map[string]string {
			db := newSumDB(n.t, "sum.example.test")
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, status(503, ""))+",direct", "GOSUMDB", db.vkey)
		}, status: StatusError, summary: "checksum database unavailable: https://proxy.example.test:",
			details: ""},
		{name: "supported fails after pipe", vars: func(n *netFixture) map[string]string {
			db := newSumDB(n.t, "sum.example.test")
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, status(503, ""))+"|"+n.Serve("second.example.test", nil, moduleProxy(db)), "GOSUMDB", db.vkey)
		}, status: StatusOK, summary: "reached through https://second.example.test:", details: "'|' moves on"},
		{name: "forged answer", vars: func(n *netFixture) map[string]string {
			db := newSumDB(n.t, "sum.example.test")
			forger := newSumDB(n.t, "sum.example.test")
			db.latest = forger.latest
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, moduleProxy(db)), "GOSUMDB", db.vkey)
		}, status: StatusError, summary: "is not signed by sum.example.test", fix: "intercepting proxy"},
		{name: "latest fails", vars: func(n *netFixture) map[string]string {
			db := newSumDB(n.t, "sum.example.test")
			db.latest = nil
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/supported") {
					return
				}
				w.WriteHeader(500)
			})
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, h), "GOSUMDB", db.vkey)
		}, status: StatusError, summary: "/latest failed: server error (500 Internal Server Error) [server]"},
		{name: "off", vars: func(n *netFixture) map[string]string { return vars("GOSUMDB", "off") }, status: StatusSkip, summary: "GOSUMDB=off"},
		{name: "unparsable", vars: func(n *netFixture) map[string]string { return vars("GOSUMDB", "a b c") }, status: StatusSkip},
	})
}

// bearerOnly is a module proxy that answers only requests with the bearer
// token tok, and 401 otherwise.
func bearerOnly(tok string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+tok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		moduleProxy(nil).ServeHTTP(w, r)
	})
}

// goauthScript writes a GOAUTH command, a shell script, and returns its
// path.
func goauthScript(t *testing.T, body string) string {
	if runtime.GOOS == "windows" {
		t.Skip("GOAUTH command scripts need /bin/sh")
	}
	p := filepath.Join(t.TempDir(), "goauth.sh")
	writeFile(t, p, "#!/bin/sh\n"+body+"\n")
	if err := os.Chmod(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
