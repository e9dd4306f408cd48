package modproxy

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/modnet/modnettest"
)

// graphModules: a pruned module a requiring b and c; b requiring d; an
// unpruned module u requiring v, which requires w.
var graphModules = []modnettest.Module{
	{Path: "example.com/a", Version: "v1.0.0", GoMod: "module example.com/a\n\ngo 1.21\n\nrequire (\n\texample.com/b v1.0.0\n\texample.com/c v1.0.0\n)\n"},
	{Path: "example.com/b", Version: "v1.0.0", GoMod: "module example.com/b\n\ngo 1.21\n\nrequire example.com/d v1.0.0\n"},
	{Path: "example.com/c", Version: "v1.0.0", GoMod: "module example.com/c\n\ngo 1.21\n"},
	{Path: "example.com/d", Version: "v1.0.0", GoMod: "module example.com/d\n\ngo 1.21\n"},
	{Path: "example.com/u", Version: "v1.0.0", GoMod: "module example.com/u\n\nrequire example.com/v v1.0.0\n"},
	{Path: "example.com/v", Version: "v1.0.0", GoMod: "module example.com/v\n\ngo 1.21\n\nrequire example.com/w v1.0.0\n"},
	{Path: "example.com/w", Version: "v1.0.0", GoMod: "module example.com/w\n\ngo 1.21\n"},
}

// aheadLog records what read-ahead fetched.
type aheadLog struct {
	mu      sync.Mutex
	fetched []string
	done    chan string
}

func newAheadLog() *aheadLog { return &aheadLog{done: make(chan string, 100)} }

func (l *aheadLog) onFetch(mod module.Version, ext string, err error) {
	l.mu.Lock()
	l.fetched = append(l.fetched, mod.String()+ext)
	l.mu.Unlock()
	l.done <- mod.String() + ext
}

// wait waits for n files fetched ahead.
func (l *aheadLog) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		<-l.done
	}
}

func (l *aheadLog) files() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.fetched)
	slices.Sort(out)
	return out
}

// TestReadAheadRequirements: serving a go.mod fetches its requirements'
// go.mod files ahead, once each, and those of an unpruned go.mod
// transitively, as the go command will load them; the requests that
// follow are answered from what was fetched ahead.
func TestReadAheadRequirements(t *testing.T) {
	upstream := modnettest.NewServer(graphModules...)
	defer upstream.Close()
	log := newAheadLog()
	var answers sync.Map
	p := newTestProxyConfig(t, upstream, nil, func(s *Server, _ map[string]string) {
		s.ReadAhead = &ReadAhead{OnFetch: log.onFetch}
		s.OnAnswer = func(a Answer) { answers.Store(a.Path, a.From) }
	})

	p.get("/example.com/a/@v/v1.0.0.mod")
	log.wait(t, 2)
	p.get("/example.com/u/@v/v1.0.0.mod")
	log.wait(t, 2)
	for _, path := range []string{"/example.com/b/@v/v1.0.0.mod", "/example.com/c/@v/v1.0.0.mod", "/example.com/v/@v/v1.0.0.mod", "/example.com/w/@v/v1.0.0.mod"} {
		if resp, _ := p.get(path); resp.StatusCode != 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
		if from, _ := answers.Load(path); from != "read-ahead" {
			t.Errorf("%s answered from %q, want read-ahead", path, from)
		}
	}
	// b's go.mod was served just now: d is fetched ahead in turn.
	log.wait(t, 1)
	p.s.Close()
	want := []string{"example.com/b@v1.0.0.mod", "example.com/c@v1.0.0.mod", "example.com/d@v1.0.0.mod",
		"example.com/v@v1.0.0.mod", "example.com/w@v1.0.0.mod"}
	if got := log.files(); !slices.Equal(got, want) {
		t.Errorf("fetched ahead %q, want %q", got, want)
	}
	for path, n := range countPaths(upstream) {
		if n != 1 {
			t.Errorf("%s fetched %d times upstream, want once", path, n)
		}
	}
}

func countPaths(srv *modnettest.Server) map[string]int {
	n := make(map[string]int)
	for _, r := range srv.Requests() {
		if r.Kind != modnettest.KindSumDB {
			n[r.Path]++
		}
	}
	return n
}

// TestFetchAhead: queued files are fetched in the background, skipping
// what the client has, and a request for a file being fetched ahead joins
// that fetch.
func TestFetchAhead(t *testing.T) {
	upstream := modnettest.NewServer(graphModules...)
	defer upstream.Close()
	log := newAheadLog()
	have := module.Version{Path: "example.com/c", Version: "v1.0.0"}
	p := newTestProxyConfig(t, upstream, nil, func(s *Server, _ map[string]string) {
		s.ReadAhead = &ReadAhead{OnFetch: log.onFetch, Have: func(m module.Version, ext string) bool { return m == have }}
	})
	for _, path := range []string{"example.com/b", "example.com/c"} {
		for _, ext := range []string{".info", ".zip"} {
			p.s.FetchAhead(module.Version{Path: path, Version: "v1.0.0"}, ext)
		}
	}
	p.s.FetchAhead(module.Version{Path: "example.com/b", Version: "v1.0.0"}, ".zip") // again: once
	p.s.FetchAhead(module.Version{Path: "example.com/b", Version: "v1"}, ".zip")     // not canonical: never
	log.wait(t, 2)
	p.s.Close()
	if got, want := log.files(), []string{"example.com/b@v1.0.0.info", "example.com/b@v1.0.0.zip"}; !slices.Equal(got, want) {
		t.Errorf("fetched ahead %q, want %q", got, want)
	}
	if n := countPaths(upstream); len(n) != 2 {
		t.Errorf("upstream requests %v, want b's .info and .zip", n)
	}
}

// TestFetchAheadWhenAsked: files queued until asked for are fetched only
// once a client has asked for a file of their kind, and then all of them.
func TestFetchAheadWhenAsked(t *testing.T) {
	upstream := modnettest.NewServer(graphModules...)
	defer upstream.Close()
	for _, ask := range []string{"/example.com/c/@v/v1.0.0.mod", "/example.com/b/@v/v1.0.0.zip"} {
		log := newAheadLog()
		p := newTestProxyConfig(t, upstream, nil, func(s *Server, _ map[string]string) {
			s.ReadAhead = &ReadAhead{OnFetch: log.onFetch}
		})
		for _, path := range []string{"example.com/c", "example.com/d"} {
			for _, ext := range []string{".info", ".zip"} {
				p.s.FetchAheadWhenAsked(module.Version{Path: path, Version: "v1.0.0"}, ext)
			}
		}
		p.get("/example.com/c/@v/list")
		if resp, _ := p.get(ask); resp.StatusCode != 200 {
			t.Fatalf("%s: %d", ask, resp.StatusCode)
		}
		var want []string
		if strings.HasSuffix(ask, ".zip") {
			// A zip asked for brings the zips that waited, and only them.
			want = []string{"example.com/c@v1.0.0.zip", "example.com/d@v1.0.0.zip"}
		}
		log.wait(t, len(want))
		p.s.Close() // waits for what runs in the background
		if got := log.files(); !slices.Equal(got, want) {
			t.Errorf("after a list and %s: fetched ahead %q, want %q", ask, got, want)
		}
	}
}

// TestReadAheadLimits: read-ahead keeps at most Jobs fetches in flight,
// and PerHost to one host; requests are not held back by it.
func TestReadAheadLimits(t *testing.T) {
	var mods []modnettest.Module
	var req strings.Builder
	for i := range 20 {
		path := "example.com/dep" + string(rune('a'+i))
		mods = append(mods, modnettest.Module{Path: path, Version: "v1.0.0"})
		req.WriteString("\t" + path + " v1.0.0\n")
	}
	mods = append(mods, modnettest.Module{Path: "example.com/root", Version: "v1.0.0", GoMod: "module example.com/root\n\ngo 1.21\n\nrequire (\n" + req.String() + ")\n"})
	for _, tt := range []struct{ jobs, perHost, want int }{{4, 0, 4}, {8, 2, 2}} {
		upstream := modnettest.NewServer(mods...)
		gate := make(chan struct{})
		arrived := make(chan struct{}, 20)
		var inFlight, peak atomic.Int32
		hc := fastRetries()
		hc.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if !strings.Contains(r.URL.Path, "/dep") {
				return http.DefaultTransport.RoundTrip(r)
			}
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			arrived <- struct{}{}
			select {
			case <-gate:
			case <-r.Context().Done():
				return nil, r.Context().Err()
			}
			return http.DefaultTransport.RoundTrip(r)
		})
		log := newAheadLog()
		p := newTestProxyConfig(t, upstream, hc, func(s *Server, _ map[string]string) {
			s.ReadAhead = &ReadAhead{Jobs: tt.jobs, PerHost: tt.perHost, OnFetch: log.onFetch}
		})
		p.get("/example.com/root/@v/v1.0.0.mod")
		// The slots fill, and the gate keeps them full: no more start.
		for range tt.want {
			<-arrived
		}
		// While read-ahead is stuck, a request goes through at once.
		if resp, _ := p.get("/example.com/root/@v/v1.0.0.info"); resp.StatusCode != 200 {
			t.Errorf("request during read-ahead: %d", resp.StatusCode)
		}
		close(gate)
		log.wait(t, 20)
		p.s.Close()
		if got := peak.Load(); got != int32(tt.want) {
			t.Errorf("Jobs %d, PerHost %d: %d fetches in flight at most, want %d", tt.jobs, tt.perHost, got, tt.want)
		}
		upstream.Close()
	}
}

// TestReadAheadAdaptsToLatency: with MinLatency, read-ahead probes with
// one file until a round trip upstream is known, then fetches ahead while
// round trips take at least MinLatency, and not at all while they are
// shorter.
func TestReadAheadAdaptsToLatency(t *testing.T) {
	for _, tt := range []struct {
		name            string
		latency, minLat time.Duration
		ahead           bool
	}{
		{"slow upstream", 20 * time.Millisecond, 10 * time.Millisecond, true},
		{"fast upstream", 0, time.Hour, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			upstream := modnettest.NewServer(graphModules...)
			defer upstream.Close()
			upstream.SetFaults(modnettest.Faults{Latency: tt.latency})
			log := newAheadLog()
			var answers sync.Map
			p := newTestProxyConfig(t, upstream, nil, func(s *Server, _ map[string]string) {
				s.ReadAhead = &ReadAhead{MinLatency: tt.minLat, OnFetch: log.onFetch}
				s.OnAnswer = func(a Answer) { answers.Store(a.Path, a.From) }
			})
			if _, ok := p.s.RoundTrip(); ok {
				t.Errorf("a round trip before any fetch")
			}
			// No round trip known: one file at a time.
			p.s.FetchAhead(module.Version{Path: "example.com/v", Version: "v1.0.0"}, ".mod")
			p.s.FetchAhead(module.Version{Path: "example.com/w", Version: "v1.0.0"}, ".mod")
			log.wait(t, 1)
			if !tt.ahead {
				// The probe found the upstream fast: the second waits for ever.
				if got := log.files(); !slices.Equal(got, []string{"example.com/v@v1.0.0.mod"}) {
					t.Errorf("probe fetched %q, want v's go.mod alone", got)
				}
			}
			p.get("/example.com/a/@v/v1.0.0.mod")
			if tt.ahead {
				log.wait(t, 3) // w, and a's requirements b and c
			}
			want := "upstream"
			if tt.ahead {
				want = "read-ahead"
			}
			for _, path := range []string{"/example.com/b/@v/v1.0.0.mod", "/example.com/c/@v/v1.0.0.mod"} {
				p.get(path)
				if from, _ := answers.Load(path); from != want {
					t.Errorf("%s answered from %q, want %s", path, from, want)
				}
			}
			rtt, ok := p.s.RoundTrip()
			if !ok || (rtt >= tt.minLat) != tt.ahead {
				t.Errorf("RoundTrip() = %v, %v; MinLatency %v", rtt, ok, tt.minLat)
			}
			p.s.Close()
			if n := len(log.files()); !tt.ahead && n != 1 {
				t.Errorf("%d files fetched ahead of a fast upstream, want the probe alone: %q", n, log.files())
			}
		})
	}
}

// TestStartFetch: a zip started at once is stored with its checksum
// database record, without ReadAhead set; the requests that follow are
// answered from them. A file the protocol has no name for fails.
func TestStartFetch(t *testing.T) {
	upstream := modnettest.NewServer(graphModules...)
	defer upstream.Close()
	var answers sync.Map
	p := newTestProxyConfig(t, upstream, nil, func(s *Server, _ map[string]string) {
		s.OnAnswer = func(a Answer) { answers.Store(a.Path, a.From) }
	})
	b := module.Version{Path: "example.com/b", Version: "v1.0.0"}
	if err := <-p.s.StartFetch(b, ".zip"); err != nil {
		t.Fatalf("StartFetch: %v", err)
	}
	if n := countPaths(upstream); len(n) != 1 || n["/example.com/b/@v/v1.0.0.zip"] != 1 {
		t.Errorf("upstream file requests %v, want b's zip once", n)
	}
	var lookup string
	for name := range p.s.SumDBs {
		lookup = "/sumdb/" + name + "/lookup/example.com/b@v1.0.0"
	}
	for path, want := range map[string]string{"/example.com/b/@v/v1.0.0.zip": "read-ahead", lookup: "store"} {
		if resp, _ := p.get(path); resp.StatusCode != 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
		if from, _ := answers.Load(path); from != want {
			t.Errorf("%s answered from %q, want %s", path, from, want)
		}
	}
	if err := <-p.s.StartFetch(module.Version{Path: "example.com/b", Version: "v1"}, ".zip"); err == nil {
		t.Error("StartFetch of a non-canonical version succeeded")
	}
}
