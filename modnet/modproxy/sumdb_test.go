package modproxy

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb"

	"github.com/modkit/modkit/modnet/modnettest"
)

// dbClientOps lets a golang.org/x/mod/sumdb.Client, the go command's
// checksum database client, read a database through the proxy, with
// nothing cached on its side.
type dbClientOps struct {
	t      *testing.T
	base   string // <proxy>/sumdb/<name>
	key    string
	mu     sync.Mutex
	config map[string][]byte
}

func (o *dbClientOps) ReadRemote(path string) ([]byte, error) {
	resp, err := http.Get(o.base + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	return body, err
}

func (o *dbClientOps) ReadConfig(file string) ([]byte, error) {
	if file == "key" {
		return []byte(o.key), nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.config[file], nil
}

func (o *dbClientOps) WriteConfig(file string, old, new []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if string(o.config[file]) != string(old) {
		return sumdb.ErrWriteConflict
	}
	o.config[file] = new
	return nil
}

func (o *dbClientOps) ReadCache(file string) ([]byte, error) { return nil, fs.ErrNotExist }
func (o *dbClientOps) WriteCache(file string, data []byte)   {}
func (o *dbClientOps) Log(msg string)                        {}
func (o *dbClientOps) SecurityError(msg string)              { o.t.Errorf("security error: %s", msg) }

func lookupThrough(t *testing.T, p *testProxy, path, version string) ([]string, error) {
	db := p.upstream.SumDB()
	ops := &dbClientOps{t: t, base: p.URL + "/sumdb/" + db.Name(), key: db.Key(), config: map[string][]byte{}}
	return sumdb.NewClient(ops).Lookup(path, version)
}

// TestSumDBProxy: the go command's checksum database client verifies
// lookups made through the proxy; their tiles and lookups are then served
// from the store, and the signed tree head for its maximum age.
func TestSumDBProxy(t *testing.T) {
	upstream := modnettest.NewServer(testModules...)
	defer upstream.Close()
	p := newTestProxy(t, upstream, nil)
	now := time.Now()
	p.s.now = func() time.Time { return now }
	want, err := testModules[4].GoSum()
	if err != nil {
		t.Fatal(err)
	}

	for i := range 2 {
		lines, err := lookupThrough(t, p, "example.com/Upper", "v0.1.0")
		if err != nil || len(lines) != 1 || !strings.HasPrefix(want, lines[0]+"\n") {
			t.Fatalf("lookup %d: %q, %v; want the first line of %q", i, lines, err, want)
		}
		if i == 0 {
			upstream.ResetRequests()
		}
	}
	if reqs := upstream.Requests(); len(reqs) != 0 {
		t.Errorf("a second client's lookup reached upstream:\n%s", reqs)
	}

	// The signed tree head (which the go command's client does not ask
	// for, but other tools do) is kept for its maximum age.
	name := upstream.SumDB().Name()
	countLatest := func() int {
		n := 0
		for _, r := range upstream.Requests() {
			if r.Path == "/sumdb/"+name+"/latest" {
				n++
			}
		}
		return n
	}
	resp, first := p.get("/sumdb/" + name + "/latest")
	if resp.StatusCode != 200 || !strings.HasPrefix(string(first), "go.sum database tree\n") || resp.Header.Get("Cache-Control") != "public, max-age=60" {
		t.Fatalf("latest: %d %q, Cache-Control %q", resp.StatusCode, first, resp.Header.Get("Cache-Control"))
	}
	now = now.Add(30 * time.Second)
	resp, second := p.get("/sumdb/" + name + "/latest")
	if string(second) != string(first) || resp.Header.Get("Cache-Control") != "public, max-age=30" || countLatest() != 1 {
		t.Errorf("latest after 30s: Cache-Control %q, %d upstream requests; want it served from the store for 30s more",
			resp.Header.Get("Cache-Control"), countLatest())
	}
	now = now.Add(31 * time.Second)
	if p.get("/sumdb/" + name + "/latest"); countLatest() != 2 {
		t.Errorf("latest after 61s: %d upstream requests, want 2", countLatest())
	}

	// A lookup of a module the database does not know is "not found".
	resp, body := p.get("/sumdb/" + name + "/lookup/example.com/nope@v1.0.0")
	if resp.StatusCode != 404 {
		t.Errorf("lookup of an unknown module: %d %q, want 404", resp.StatusCode, body)
	}
	for _, path := range []string{"/sumdb/" + name + "/lookup/example.com/m", "/sumdb/" + name + "/tile/8/0/x", "/sumdb/" + name + "/other"} {
		if resp, _ := p.get(path); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
}

// TestSumDBTileCutShort: a hash tile of the wrong size is refused and not
// stored, and the tree head is served stale while upstream is down.
func TestSumDBTileCutShort(t *testing.T) {
	upstream := modnettest.NewServer(testModules...)
	defer upstream.Close()
	p := newTestProxy(t, upstream, nil)
	name := upstream.SumDB().Name()
	if _, err := lookupThrough(t, p, "example.com/m", "v1.0.0"); err != nil {
		t.Fatal(err)
	}
	var tile string
	for _, r := range upstream.Requests() {
		if strings.Contains(r.Path, "/tile/") {
			tile = strings.TrimPrefix(r.Path, "/sumdb/"+name+"/")
		}
	}
	if tile == "" {
		t.Fatalf("no tile fetched:\n%s", upstream.Requests())
	}
	// Ask for the same tile with one more hash than the database has.
	parts := strings.Split(tile, ".p/")
	var w int
	fmt.Sscan(parts[1], &w)
	wider := fmt.Sprintf("%s.p/%d", parts[0], w+1)
	upstream.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{{Path: "/sumdb/*/tile/*/*/*.p/*", Fault: modnettest.Body(strings.Repeat("x", 32*w))}}})
	resp, body := p.get("/sumdb/" + name + "/" + wider)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), fmt.Sprintf("has %d bytes, want %d", 32*w, 32*(w+1))) {
		t.Errorf("short tile: %d %q, want 502 with the size", resp.StatusCode, body)
	}
	if _, err := p.s.Store.Stat(t.Context(), "sumdb/"+name+"/"+wider); err == nil {
		t.Errorf("short tile stored")
	}

	_, latest := p.get("/sumdb/" + name + "/latest")
	now := time.Now().Add(time.Hour)
	p.s.now = func() time.Time { return now }
	upstream.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{{Fault: modnettest.Status(503)}}})
	resp, body = p.get("/sumdb/" + name + "/latest")
	if resp.StatusCode != 200 || string(body) != string(latest) || resp.Header.Get("Warning") == "" {
		t.Errorf("latest while upstream fails: %d, Warning %q; want the last one, stale", resp.StatusCode, resp.Header.Get("Warning"))
	}
}

// TestSumDBPrivateLookupRefused: a lookup of a path whose route keeps it
// out of the checksum database (GONOSUMDB, GOPRIVATE) never reaches the
// database through the proxy; toolchains, which the go command looks up
// whatever GONOSUMDB says (the route's rule), are looked up.
func TestSumDBPrivateLookupRefused(t *testing.T) {
	tc, err := modnettest.Toolchain("go1.99.0", "linux", "amd64", "#!/bin/sh\n")
	if err != nil {
		t.Fatal(err)
	}
	upstream := modnettest.NewServer(append(slices.Clone(testModules), tc)...)
	defer upstream.Close()
	for _, setting := range []string{"GONOSUMDB", "GOPRIVATE"} {
		p := newTestProxyConfig(t, upstream, nil, func(_ *Server, environ map[string]string) {
			environ[setting] = "example.com/m,golang.org"
		})
		upstream.ResetRequests()
		name := upstream.SumDB().Name()
		resp, body := p.get("/sumdb/" + name + "/lookup/example.com/m@v1.0.0")
		if resp.StatusCode != 404 || !strings.Contains(string(body), "example.com/m is private here") {
			t.Errorf("%s: lookup of a private path: %d %q, want 404", setting, resp.StatusCode, body)
		}
		if reqs := upstream.Requests(); len(reqs) != 0 {
			t.Errorf("%s: the lookup reached upstream:\n%s", setting, reqs)
		}
		if resp, _ := p.get("/sumdb/" + name + "/lookup/example.com/!upper@v0.1.0"); resp.StatusCode != 200 {
			t.Errorf("%s: lookup of a public path: %d", setting, resp.StatusCode)
		}
		if resp, body := p.get("/sumdb/" + name + "/lookup/golang.org/toolchain@" + tc.Version); resp.StatusCode != 200 {
			t.Errorf("%s: lookup of a toolchain: %d %q", setting, resp.StatusCode, body)
		}
	}
}
