package modnet

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// testLog is a checksum database's content: a transparency log of go.sum
// records, served by golang.org/x/mod/sumdb.Server through the ServerOps
// below.
type testLog struct {
	mu      sync.Mutex
	signer  note.Signer
	records [][]byte
	hashes  []tlog.Hash
	ids     map[module.Version]int64
	// tamper replaces a record's content in answers, not in the tree.
	tamper map[int64][]byte
}

func newTestLog(t testing.TB, skey string, mods ...*fixtureModule) *testLog {
	t.Helper()
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	l := &testLog{signer: signer, ids: map[module.Version]int64{}, tamper: map[int64][]byte{}}
	for _, m := range mods {
		l.add(t, m.mod, m.goSumLines())
	}
	return l
}

func (l *testLog) add(t testing.TB, mod module.Version, record string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := int64(len(l.records))
	hashes, err := tlog.StoredHashes(id, []byte(record), tlogHashes(l.hashes))
	if err != nil {
		t.Fatal(err)
	}
	l.records = append(l.records, []byte(record))
	l.hashes = append(l.hashes, hashes...)
	l.ids[mod] = id
}

type tlogHashes []tlog.Hash

func (h tlogHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x >= int64(len(h)) {
			return nil, fmt.Errorf("no hash %d", x)
		}
		out[i] = h[x]
	}
	return out, nil
}

func (l *testLog) Signed(context.Context) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := int64(len(l.records))
	h, err := tlog.TreeHash(n, tlogHashes(l.hashes))
	if err != nil {
		return nil, err
	}
	return note.Sign(&note.Note{Text: string(tlog.FormatTree(tlog.Tree{N: n, Hash: h}))}, l.signer)
}

func (l *testLog) ReadRecords(_ context.Context, id, n int64) ([][]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out [][]byte
	for i := id; i < id+n; i++ {
		if i >= int64(len(l.records)) {
			return nil, os.ErrNotExist
		}
		if r, ok := l.tamper[i]; ok {
			out = append(out, r)
		} else {
			out = append(out, l.records[i])
		}
	}
	return out, nil
}

func (l *testLog) Lookup(_ context.Context, m module.Version) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if id, ok := l.ids[m]; ok {
		return id, nil
	}
	return 0, os.ErrNotExist
}

func (l *testLog) ReadTileData(_ context.Context, t tlog.Tile) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return tlog.ReadTileData(t, tlogHashes(l.hashes))
}

const testDBName = "sum.example.test"

// testDBKeys makes a signer and verifier key for testDBName.
func testDBKeys(t testing.TB) (skey, vkey string) {
	skey, vkey, err := note.GenerateKey(rand.Reader, testDBName)
	if err != nil {
		t.Fatal(err)
	}
	return skey, vkey
}

// A sumdbWorld is a checksum database reachable directly (as
// https://sum.example.test, through the test getFunc) and from proxies that
// say whether they proxy it, with every request logged.
type sumdbWorld struct {
	t      *testing.T
	log    *testLog
	vkey   string
	direct *httptest.Server

	mu       sync.Mutex
	requests []string          // "<host name> <path>"
	proxies  map[string]string // URL -> name
}

func newSumdbWorld(t *testing.T, mods ...*fixtureModule) *sumdbWorld {
	skey, vkey := testDBKeys(t)
	w := &sumdbWorld{t: t, log: newTestLog(t, skey, mods...), vkey: vkey, proxies: map[string]string{}}
	w.direct = httptest.NewServer(w.logged("direct", sumdb.NewServer(w.log)))
	t.Cleanup(w.direct.Close)
	return w
}

func (w *sumdbWorld) logged(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.requests = append(w.requests, name+" "+r.URL.Path)
		w.mu.Unlock()
		h.ServeHTTP(rw, r)
	})
}

// proxy starts a module proxy that answers /sumdb/<name>/supported with
// status and, if 200, proxies the database.
func (w *sumdbWorld) proxy(name string, status int) string {
	mux := http.NewServeMux()
	prefix := "/sumdb/" + testDBName
	mux.HandleFunc(prefix+"/supported", func(rw http.ResponseWriter, r *http.Request) {
		rw.WriteHeader(status)
	})
	if status == http.StatusOK {
		mux.Handle(prefix+"/", http.StripPrefix(prefix, sumdb.NewServer(w.log)))
	}
	srv := httptest.NewServer(w.logged(name, mux))
	w.t.Cleanup(srv.Close)
	w.mu.Lock()
	w.proxies[srv.URL] = name
	w.mu.Unlock()
	return srv.URL
}

func (w *sumdbWorld) takeRequests() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.requests
	w.requests = nil
	return r
}

// errStatus is an HTTP error answer; 404 and 410 match fs.ErrNotExist.
type errStatus struct {
	url  string
	code int
}

func (e *errStatus) Error() string {
	return fmt.Sprintf("reading %s: %d %s", e.url, e.code, http.StatusText(e.code))
}
func (e *errStatus) Is(target error) bool {
	return target == fs.ErrNotExist && (e.code == http.StatusNotFound || e.code == http.StatusGone)
}

// get is the getFunc: https://sum.example.test goes to the direct server.
func (w *sumdbWorld) get(ctx context.Context, u string) ([]byte, error) {
	target := u
	if rest, ok := strings.CutPrefix(u, "https://"+testDBName); ok {
		target = w.direct.URL + rest
	}
	req, err := http.NewRequestWithContext(ctx, "GET", target, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &errStatus{u, resp.StatusCode}
	}
	return io.ReadAll(resp.Body)
}

// env returns an environment with the world's database in GOSUMDB and the
// module cache and GOPATH in temporary directories.
func (w *sumdbWorld) env(kv ...string) (*Env, *Cache) {
	gopath := w.t.TempDir()
	cache := &Cache{Dir: filepath.Join(gopath, "pkg", "mod")}
	return testEnv(w.t, append([]string{"GOPATH", gopath, "GOSUMDB", w.vkey, "GOPROXY", "direct"}, kv...)...), cache
}

func (w *sumdbWorld) sumDB(env *Env, cache *Cache, path string) *SumDB {
	w.t.Helper()
	r, err := env.Route(path)
	if err != nil {
		w.t.Fatal(err)
	}
	d, err := newSumDB(env, cache, r.ChecksumDB, w.get)
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

func (w *sumdbWorld) checker(env *Env, cache *Cache, path string) *sumChecker {
	w.t.Helper()
	r, err := env.Route(path)
	if err != nil {
		w.t.Fatal(err)
	}
	c := &sumChecker{db: r.ChecksumDB}
	if r.ChecksumDB.Verify {
		c.sumdb = w.sumDB(env, cache, path)
	}
	return c
}

func TestSumDBLookup(t *testing.T) {
	ctx := context.Background()
	var mods []*fixtureModule
	for i := range 20 {
		mods = append(mods, newFixtureModule(t, fmt.Sprintf("example.com/db/m%d", i), "v1.0.0"))
	}
	w := newSumdbWorld(t, mods...)
	env, cache := w.env()
	m := mods[7]
	c := w.checker(env, cache, m.mod.Path)
	if err := c.check(ctx, m.mod, m.sum); err != nil {
		t.Fatalf("zip hash: %v", err)
	}
	if err := c.checkGoMod(ctx, m.mod, m.gomod); err != nil {
		t.Fatalf("go.mod hash: %v", err)
	}
	reqs := w.takeRequests()
	if len(reqs) == 0 || reqs[0] != "direct /lookup/example.com/db/m7@v1.0.0" {
		t.Errorf("requests %v, want the lookup first, directly", reqs)
	}
	for _, r := range reqs {
		if r == "direct /lookup/example.com/db/m7@v1.0.0" && r != reqs[0] {
			t.Errorf("lookup requested twice: %v", reqs)
		}
	}

	// What was verified is cached where the go command keeps it.
	sumdbDir := filepath.Join(cache.Dir, "cache", "download", "sumdb", testDBName)
	if data, err := os.ReadFile(filepath.Join(sumdbDir, "lookup", "example.com", "db", "m7@v1.0.0")); err != nil || !strings.Contains(string(data), m.sum) {
		t.Errorf("cached lookup: %q, %v", data, err)
	}
	tiles, _ := filepath.Glob(filepath.Join(sumdbDir, "tile", "8", "0", "*"))
	if len(tiles) == 0 {
		t.Errorf("no tiles cached under %s", sumdbDir)
	}
	latest := filepath.Join(firstGOPATH(env.Get("GOPATH")), "pkg", "sumdb", testDBName, "latest")
	if data, err := os.ReadFile(latest); err != nil || !strings.HasPrefix(string(data), "go.sum database tree\n20\n") || !strings.Contains(string(data), "— "+testDBName+" ") {
		t.Errorf("latest tree head: %q, %v", data, err)
	}

	// A new client (another process) answers from the caches alone.
	c2 := w.checker(env, cache, m.mod.Path)
	if err := c2.check(ctx, m.mod, m.sum); err != nil {
		t.Fatal(err)
	}
	if reqs := w.takeRequests(); len(reqs) != 0 {
		t.Errorf("cached lookup made requests: %v", reqs)
	}

	// Mismatch with the database.
	if err := c2.check(ctx, mods[3].mod, m.sum); !isDBChecksumError(err, mods[3].sum) {
		t.Errorf("wrong hash: %v", err)
	}
	// Not in the database: an ordinary error that keeps the 404.
	missing := module.Version{Path: "example.com/db/missing", Version: "v1.0.0"}
	err := c2.check(ctx, missing, m.sum)
	var ce *ChecksumError
	if err == nil || errors.As(err, &ce) || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "404 Not Found") {
		t.Errorf("missing module: %v", err)
	}
}

func isDBChecksumError(err error, expected string) bool {
	var ce *ChecksumError
	return errors.As(err, &ce) && ce.DB && ce.Source == testDBName && ce.Expected == expected && !errors.Is(err, fs.ErrNotExist)
}

func TestSumDBRejectsForgeries(t *testing.T) {
	ctx := context.Background()
	m1 := newFixtureModule(t, "example.com/db/a", "v1.0.0")
	m2 := newFixtureModule(t, "example.com/db/b", "v1.0.0")

	t.Run("tampered record", func(t *testing.T) {
		w := newSumdbWorld(t, m1, m2)
		evil := newFixtureModule(t, "example.com/db/b", "v1.0.0")
		evil.sum = hashC
		w.log.tamper[1] = []byte(evil.goSumLines())
		env, cache := w.env()
		c := w.checker(env, cache, m2.mod.Path)
		err := c.check(ctx, m2.mod, hashC)
		var ce *ChecksumError
		if !errors.As(err, &ce) || !ce.DB || ce.Err == nil || !strings.Contains(err.Error(), "cannot authenticate record data") {
			t.Fatalf("tampered record: %v", err)
		}
		if ce.Downloaded != hashC || ce.Path != m2.mod.Path || ce.Kind != "module" {
			t.Errorf("ChecksumError = %+v", ce)
		}
		if _, err := os.Stat(filepath.Join(cache.Dir, "cache", "download", "sumdb", testDBName, "lookup", "example.com", "db", "b@v1.0.0")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the forged record was cached: %v", err)
		}
		// The untouched record still verifies.
		if err := c.check(ctx, m1.mod, m1.sum); err != nil {
			t.Errorf("good record after a forgery: %v", err)
		}
	})

	t.Run("wrong signature", func(t *testing.T) {
		w := newSumdbWorld(t, m1, m2)
		other, _ := testDBKeys(t) // same name, another key
		signer, err := note.NewSigner(other)
		if err != nil {
			t.Fatal(err)
		}
		w.log.signer = signer
		env, cache := w.env()
		err = w.checker(env, cache, m1.mod.Path).check(ctx, m1.mod, m1.sum)
		var ce *ChecksumError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "verifiable signatures") || errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("wrong signature: %v", err)
		}
	})

	t.Run("forked log", func(t *testing.T) {
		// The client has seen one tree; the server then shows a tree that
		// does not extend it. The go command would exit; the SumDB reports
		// it as a security error, now and for every later lookup.
		w := newSumdbWorld(t, m1, m2)
		env, cache := w.env()
		d := w.sumDB(env, cache, m1.mod.Path)
		c := &sumChecker{db: ChecksumDB{Verify: true}, sumdb: d}
		if err := c.check(ctx, m1.mod, m1.sum); err != nil {
			t.Fatal(err)
		}
		forkSigner := w.log.signer
		m3 := newFixtureModule(t, "example.com/db/c", "v1.0.0")
		fork := &testLog{signer: forkSigner, ids: map[module.Version]int64{}, tamper: map[int64][]byte{}}
		fork.add(t, m1.mod, m1.goSumLines())
		fork.add(t, m2.mod, strings.ReplaceAll(m2.goSumLines(), m2.sum, hashC))
		fork.add(t, m3.mod, m3.goSumLines())
		w.log.mu.Lock()
		w.log.records, w.log.hashes, w.log.ids = fork.records, fork.hashes, fork.ids
		w.log.mu.Unlock()
		err := c.check(ctx, m3.mod, m3.sum)
		var ce *ChecksumError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "misbehavior") {
			t.Fatalf("forked log: %v", err)
		}
		w.takeRequests()
		err = c.check(ctx, m1.mod, m1.sum) // in go.sum lookups cache, but the database is no longer trusted
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "misbehavior") {
			t.Errorf("lookup after a fork: %v", err)
		}
		if r := w.takeRequests(); len(r) != 0 {
			t.Errorf("requests after a fork: %v", r)
		}
	})
}

func TestSumDBNeverSeesGONOSUMDBPaths(t *testing.T) {
	ctx := context.Background()
	private := newFixtureModule(t, "corp.example.com/private", "v1.0.0")
	w := newSumdbWorld(t, private)
	for _, kv := range [][]string{{"GONOSUMDB", "corp.example.com"}, {"GOPRIVATE", "*.example.com"}} {
		env, cache := w.env(kv...)
		c := w.checker(env, cache, private.mod.Path)
		if err := c.check(ctx, private.mod, hashC); err != nil {
			t.Errorf("%s: %v", kv, err)
		}
		// Even a SumDB asked directly refuses.
		r, _ := env.Route("example.com/public")
		d, err := newSumDB(env, cache, r.ChecksumDB, w.get)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Lookup(ctx, private.mod.Path, private.mod.Version); !errors.Is(err, sumdb.ErrGONOSUMDB) {
			t.Errorf("%s: Lookup = %v, want ErrGONOSUMDB", kv, err)
		}
		if r := w.takeRequests(); len(r) != 0 {
			t.Errorf("%s: requests %v, want none", kv, r)
		}
	}
}

func TestSumDBProxySupportedWalk(t *testing.T) {
	m := newFixtureModule(t, "example.com/db/walk", "v1.0.0")
	w := newSumdbWorld(t, m)
	A := w.proxy("A", http.StatusOK)
	B := w.proxy("B", http.StatusNotFound)
	G := w.proxy("G", http.StatusGone)
	C := w.proxy("C", http.StatusInternalServerError)
	F := t.TempDir() // a file proxy that proxies the database
	writeFile(t, filepath.Join(F, "sumdb", testDBName, "supported"), "")
	E := t.TempDir() // a file proxy that does not
	fileURL := func(dir string) string { return "file://" + filepath.ToSlash(dir) }
	if !strings.HasPrefix(filepath.ToSlash(F), "/") {
		fileURL = func(dir string) string { return "file:///" + filepath.ToSlash(dir) }
	}

	tests := []struct {
		goproxy  string
		env      []string
		wantBase string // "direct", a proxy URL + "/sumdb/sum.example.test", or "error"
		asked    string // proxies asked for supported, in order
	}{
		{goproxy: A, wantBase: A, asked: "A"},
		{goproxy: B + "," + A, wantBase: A, asked: "B A"},
		{goproxy: G + "," + A, wantBase: A, asked: "G A"},
		{goproxy: B, wantBase: "direct", asked: "B"},
		{goproxy: B + ",direct", wantBase: "direct", asked: "B"},
		{goproxy: B + ",off", wantBase: "direct", asked: "B"},
		{goproxy: C + "," + A, wantBase: "error", asked: "C"},
		{goproxy: C + "|" + A, wantBase: A, asked: "C A"},
		{goproxy: C + "|direct", wantBase: "direct", asked: "C"},
		{goproxy: C + "|" + B, wantBase: "error", asked: "C B"}, // the proxy error outranks not-found
		{goproxy: "direct," + A, wantBase: "direct", asked: ""},
		{goproxy: "off", wantBase: "direct", asked: ""},
		{goproxy: B + "," + A, env: []string{"GONOPROXY", "corp.example.com"}, wantBase: A, asked: "B A"},
		{goproxy: fileURL(E) + "," + fileURL(F), wantBase: fileURL(F), asked: ""},
		{goproxy: fileURL(E), wantBase: "direct", asked: ""},
		{goproxy: A, env: []string{"GOSUMDB", w.vkey + " " + w.direct.URL}, wantBase: w.direct.URL, asked: ""},
	}
	names := func(reqs []string) string {
		var asked []string
		for _, r := range reqs {
			if name, path, _ := strings.Cut(r, " "); strings.HasSuffix(path, "/supported") {
				asked = append(asked, name)
			}
		}
		return strings.Join(asked, " ")
	}
	for _, tt := range tests {
		name := tt.goproxy
		for u, n := range w.proxies {
			name = strings.ReplaceAll(name, u, n)
		}
		name = strings.ReplaceAll(name, fileURL(E), "E")
		name = strings.ReplaceAll(name, fileURL(F), "F")
		if len(tt.env) > 0 {
			name += " with " + tt.env[0]
		}
		t.Run(name, func(t *testing.T) {
			env, cache := w.env(append([]string{"GOPROXY", tt.goproxy}, tt.env...)...)
			d := w.sumDB(env, cache, m.mod.Path)
			w.takeRequests()
			base, err := d.findBase(context.Background())
			asked := names(w.takeRequests())
			if asked != tt.asked {
				t.Errorf("asked %q, want %q", asked, tt.asked)
			}
			switch tt.wantBase {
			case "error":
				if err == nil || !strings.Contains(err.Error(), "checksum database sum.example.test unavailable") || !strings.Contains(err.Error(), "500") {
					t.Errorf("findBase = %v, %v; want unavailable", base, err)
				}
				return
			case "direct":
				tt.wantBase = "https://" + testDBName
			case w.direct.URL:
			default:
				tt.wantBase += "/sumdb/" + testDBName
			}
			if err != nil || base.String() != tt.wantBase {
				t.Errorf("findBase = %v, %v; want %s", base, err, tt.wantBase)
			}
		})
	}

	// End to end: a lookup through the proxy never contacts the database.
	env, cache := w.env("GOPROXY", B+","+A)
	w.takeRequests()
	if err := w.checker(env, cache, m.mod.Path).check(context.Background(), m.mod, m.sum); err != nil {
		t.Fatal(err)
	}
	reqs := w.takeRequests()
	sort.Strings(reqs)
	for _, r := range reqs {
		if !strings.HasPrefix(r, "A /sumdb/"+testDBName+"/") && r != "B /sumdb/"+testDBName+"/supported" {
			t.Errorf("unexpected request %q", r)
		}
	}
	if !strings.Contains(strings.Join(reqs, "\n"), "A /sumdb/"+testDBName+"/lookup/example.com/db/walk@v1.0.0") {
		t.Errorf("no lookup through proxy A: %v", reqs)
	}
}

func TestSumDBRecoversFromTransportErrors(t *testing.T) {
	ctx := context.Background()
	m := newFixtureModule(t, "example.com/db/flaky", "v1.0.0")
	w := newSumdbWorld(t, m)
	env, cache := w.env()
	d := w.sumDB(env, cache, m.mod.Path)
	var fail sync.Map
	fail.Store("on", true)
	realGet := d.get
	d.get = func(ctx context.Context, u string) ([]byte, error) {
		if _, ok := fail.Load("on"); ok {
			return nil, &errStatus{u, http.StatusServiceUnavailable}
		}
		return realGet(ctx, u)
	}
	d.client, d.ops = d.newClient()
	c := &sumChecker{db: ChecksumDB{Verify: true}, sumdb: d}
	err := c.check(ctx, m.mod, m.sum)
	var es *errStatus
	var ce *ChecksumError
	if !errors.As(err, &es) || errors.As(err, &ce) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("check while the database is down = %v, want the transport error", err)
	}
	fail.Delete("on")
	if err := c.check(ctx, m.mod, m.sum); err != nil {
		t.Fatalf("check after the database recovered = %v", err)
	}
}

func TestSumDBConcurrentLookups(t *testing.T) {
	var mods []*fixtureModule
	for i := range 30 {
		mods = append(mods, newFixtureModule(t, fmt.Sprintf("example.com/db/c%d", i), "v1.0.0"))
	}
	w := newSumdbWorld(t, mods...)
	env, cache := w.env()
	var set sumDBSet
	r, _ := env.Route("example.com/db")
	var wg sync.WaitGroup
	dbs := make([]*SumDB, len(mods))
	for i, m := range mods {
		wg.Go(func() {
			c, err := set.checker(env, cache, r, nil, w.get)
			if err != nil {
				t.Error(err)
				return
			}
			dbs[i] = c.sumdb.(*SumDB)
			if err := c.check(context.Background(), m.mod, m.sum); err != nil {
				t.Error(err)
			}
			if err := c.checkGoMod(context.Background(), m.mod, m.gomod); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, d := range dbs {
		if d != dbs[0] {
			t.Fatal("sumDBSet made more than one SumDB for one database")
		}
	}
	// No database client for a route that does not verify.
	env2, _ := w.env("GOSUMDB", "off")
	r2, _ := env2.Route("example.com/db")
	if c, err := set.checker(env2, cache, r2, nil, w.get); err != nil || c.sumdb != nil {
		t.Errorf("checker with GOSUMDB=off = %+v, %v", c, err)
	}
}

func TestSumDBLookupHonoursContext(t *testing.T) {
	m := newFixtureModule(t, "example.com/db/slow", "v1.0.0")
	w := newSumdbWorld(t, m)
	env, cache := w.env()
	d := w.sumDB(env, cache, m.mod.Path)
	release := make(chan struct{})
	entered := make(chan struct{})
	var once sync.Once
	d.get = func(ctx context.Context, u string) ([]byte, error) {
		once.Do(func() { close(entered) })
		<-release
		return nil, errors.New("released")
	}
	d.client, d.ops = d.newClient()
	ctx, cancel := context.WithCancelCause(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := d.Lookup(ctx, m.mod.Path, m.mod.Version)
		errc <- err
	}()
	<-entered
	stop := errors.New("caller gave up")
	cancel(stop)
	if err := <-errc; !errors.Is(err, stop) {
		t.Errorf("Lookup = %v, want the context's cause", err)
	}
	close(release)
}

func TestSumDBNeedsGOPATH(t *testing.T) {
	m := newFixtureModule(t, "example.com/db/nogopath", "v1.0.0")
	w := newSumdbWorld(t, m)
	cache := &Cache{Dir: t.TempDir()}
	env := testEnv(t, "GOSUMDB", w.vkey, "GOPROXY", "direct", "GOMODCACHE", cache.Dir)
	r, _ := env.Route(m.mod.Path)
	d, err := newSumDB(env, cache, r.ChecksumDB, w.get)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Lookup(context.Background(), m.mod.Path, m.mod.Version)
	var ce *ChecksumError
	if err == nil || errors.As(err, &ce) || !strings.Contains(err.Error(), "missing $GOPATH") {
		t.Errorf("Lookup without GOPATH = %v", err)
	}
}

// TestSumDBReadRemote: a proxy serving the database reads it raw, from where
// the go command would reach it, and a failure to find that place is not
// remembered.
func TestSumDBReadRemote(t *testing.T) {
	ctx := context.Background()
	m := newFixtureModule(t, "example.com/db/raw", "v1.0.0")
	w := newSumdbWorld(t, m)
	A := w.proxy("A", http.StatusOK)
	env, cache := w.env("GOPROXY", A)
	r, err := env.Route(m.mod.Path)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	flaky := func(ctx context.Context, u string) ([]byte, error) {
		if calls.Add(1) == 1 {
			return nil, errors.New("connection refused")
		}
		return w.get(ctx, u)
	}
	d, err := newSumDB(env, cache, r.ChecksumDB, flaky)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := d.ReadRemote(ctx, "/latest"); err == nil || err.Error() != "checksum database sum.example.test unavailable: connection refused" {
		t.Fatalf("ReadRemote while the proxy is unreachable: %v, want unavailable", err)
	}
	w.takeRequests()
	latest, err := d.ReadRemote(ctx, "/latest")
	if err != nil || !strings.HasPrefix(string(latest), "go.sum database tree\n") {
		t.Fatalf("ReadRemote(/latest) = %q, %v", latest, err)
	}
	lookup, err := d.ReadRemote(ctx, "/lookup/example.com/db/raw@v1.0.0")
	if err != nil || !strings.Contains(string(lookup), m.sum) {
		t.Errorf("ReadRemote(lookup) = %q, %v; want the record with %s", lookup, err, m.sum)
	}
	if _, err := d.ReadRemote(ctx, "/lookup/example.com/db/raw@v9.0.0"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadRemote of a missing record: %v, want fs.ErrNotExist", err)
	}
	// After the first success, supported is not asked again.
	want := []string{"A /sumdb/sum.example.test/supported", "A /sumdb/sum.example.test/latest",
		"A /sumdb/sum.example.test/lookup/example.com/db/raw@v1.0.0", "A /sumdb/sum.example.test/lookup/example.com/db/raw@v9.0.0"}
	if got := w.takeRequests(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
