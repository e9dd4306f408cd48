package envcheck

import (
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet"
)

// A netFixture is the fake network of a live probe test (testenv.Net):
// *.example.test names on loopback, proxies, and a record of what was
// asked of them.
type netFixture struct {
	*testenv.Net
	t *testing.T
}

func newNet(t *testing.T) *netFixture {
	return &netFixture{Net: testenv.NewNet(t), t: t}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// blackHole returns the address of a listener that accepts connections and
// never answers.
func blackHole(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return l.Addr().String()
}

// resetter returns the address of a listener that resets every connection.
func resetter(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.(*net.TCPConn).SetLinger(0) // close with RST
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}

// portOf returns the port of host:port.
func portOf(t *testing.T, addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// A sumDB is a checksum database that serves a signed tree head.
type sumDB struct {
	name, vkey string
	latest     []byte
}

func newSumDB(t testing.TB, name string) *sumDB {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := note.Sign(&note.Note{Text: "go.sum database tree\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return &sumDB{name: name, vkey: vkey, latest: msg}
}

// moduleProxy is a handler for a module proxy that knows the public
// probe modules and, when db is not nil, proxies the checksum database.
func moduleProxy(db *sumDB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/@v/list"):
			io.WriteString(w, "v0.1.0\nv0.2.0\n")
		case db != nil && r.URL.Path == "/sumdb/"+db.name+"/supported":
		case db != nil && r.URL.Path == "/sumdb/"+db.name+"/latest":
			w.Write(db.latest)
		default:
			http.NotFound(w, r)
		}
	})
}

// status is a handler that always answers code with body.
func status(code int, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(body, "<") {
			w.Header().Set("Content-Type", "text/html")
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	})
}

// probeEnv loads an isolated environment with vars, as staticCase does.
func probeEnv(t *testing.T, vars map[string]string) (*modnet.Env, string) {
	t.Helper()
	opts, dir := staticCase{vars: vars}.machine(t)
	return opts.Env, dir
}

// liveOptions are the options for probing env inside the fixture.
func (n *netFixture) options(env *modnet.Env) Options {
	// Generous timeouts: CI machines can be loaded; the cases about
	// timeouts set short ones themselves.
	return Options{Env: env, LookupHost: n.LookupHost, RootCAs: n.CA.Pool, CheckTimeout: 5 * time.Second, Timeout: 10 * time.Second,
		freeSpace: func(string) (uint64, error) { return 50 << 30, nil }}
}

// probe runs one live check.
func (n *netFixture) probe(id string, vars map[string]string, tweak func(*Options)) Result {
	n.t.Helper()
	env, _ := probeEnv(n.t, vars)
	opts := n.options(env)
	if tweak != nil {
		tweak(&opts)
	}
	return runOne(n.t, id, opts)
}

// A liveCase is one live probe scenario.
type liveCase struct {
	name    string
	vars    func(n *netFixture) map[string]string
	tweak   func(n *netFixture, o *Options)
	status  Status
	summary string
	fix     string
	details string
	check   func(t *testing.T, n *netFixture, res Result)
}

func runLive(t *testing.T, id string, cases []liveCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			n := newNet(t)
			vars := c.vars(n)
			var tweak func(*Options)
			if c.tweak != nil {
				tweak = func(o *Options) { c.tweak(n, o) }
			}
			start := time.Now()
			res := n.probe(id, vars, tweak)
			if took := time.Since(start); took > 6*time.Second {
				t.Errorf("probe took %v", took)
			}
			staticCase{status: c.status, summary: c.summary, fix: c.fix, details: c.details}.assert(t, res, "")
			if c.check != nil {
				c.check(t, n, res)
			}
		})
	}
}
