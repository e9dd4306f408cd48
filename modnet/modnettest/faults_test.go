package modnettest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// bigModule has a zip of several hundred kilobytes, so that cuts, stalls and
// bandwidth limits act on a body that spans many writes.
func bigModule(t testing.TB) Module {
	t.Helper()
	g, err := GenerateGraph(GraphConfig{Seed: 42, Modules: 1, ZipBytes: 300 << 10})
	if err != nil {
		t.Fatal(err)
	}
	return g.Modules[len(g.Modules)-1]
}

// freshClient opens a new connection per request: net/http's Transport
// silently retries a GET that fails on a reused connection, which would hide
// a reset from the test.
func freshClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
}

func zipURL(srv *Server, m Module) string {
	return srv.URL + "/" + m.Path + "/@v/" + m.Version + ".zip"
}

func TestFaultsSeenByHTTPClient(t *testing.T) {
	m := bigModule(t)
	want, err := m.BuildZip()
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(m)
	defer srv.Close()

	for _, tc := range []struct {
		name  string
		fault Fault
		check func(t *testing.T, resp *http.Response, body []byte, err error)
	}{
		{"reset", Reset(), func(t *testing.T, resp *http.Response, body []byte, err error) {
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("GET error = %v, want ECONNRESET", err)
			}
		}},
		{"503 Retry-After", RetryAfter(503, 1500*time.Millisecond), func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "2" {
				t.Errorf("got %v %v Retry-After=%q, want 503 with Retry-After: 2", resp.Status, err, resp.Header.Get("Retry-After"))
			}
		}},
		{"429 Retry-After date", Fault{Kind: FaultStatus, Status: 429, RetryAfter: "Wed, 21 Oct 2099 07:28:00 GMT"}, func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "Wed, 21 Oct 2099 07:28:00 GMT" {
				t.Errorf("got %v %v Retry-After=%q, want 429 with the date", resp.Status, err, resp.Header.Get("Retry-After"))
			}
		}},
		{"403", Status(403), func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || resp.StatusCode != 403 || resp.Header.Get("Retry-After") != "" {
				t.Errorf("got %v %v, want a plain 403", resp.Status, err)
			}
		}},
		{"cut half", Cut(Half), func(t *testing.T, resp *http.Response, body []byte, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("reading body: %v, want unexpected EOF", err)
			}
			if resp.ContentLength != int64(len(want)) || len(body) != len(want)/2 {
				t.Errorf("Content-Length %d, read %d bytes; want %d and %d", resp.ContentLength, len(body), len(want), len(want)/2)
			}
		}},
		{"cut after everything", Cut(1 << 40), func(t *testing.T, resp *http.Response, body []byte, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) || len(body) != len(want)-1 {
				t.Errorf("read %d bytes, %v; want %d bytes and unexpected EOF", len(body), err, len(want)-1)
			}
		}},
		{"corrupt", Corrupt(), func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || len(body) != len(want) {
				t.Fatalf("read %d bytes, %v; want %d", len(body), err, len(want))
			}
			var diff []int
			for i := range body {
				if body[i] != want[i] {
					diff = append(diff, i)
				}
			}
			if len(diff) != 1 {
				t.Errorf("bytes differ at %v, want exactly one", diff)
			}
		}},
		{"empty 200", Body(""), func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || resp.StatusCode != 200 || len(body) != 0 {
				t.Errorf("got %v %v with %d bytes, want an empty 200", resp.Status, err, len(body))
			}
		}},
		{"stall", Stall(0), func(t *testing.T, resp *http.Response, body []byte, err error) {
			if !isTimeout(err) {
				t.Errorf("GET error = %v, want the client's timeout", err)
			}
		}},
		{"stall mid-body", StallBody(1000, 0), func(t *testing.T, resp *http.Response, body []byte, err error) {
			if resp.StatusCode != 200 || !isTimeout(err) || len(body) != 1000 {
				t.Errorf("read %d bytes, %v; want 1000 bytes, then the client's timeout", len(body), err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.SetFaults(Faults{Rules: []Rule{{Kind: KindZip, Fault: tc.fault}}})
			srv.ResetRequests()
			// Only stalls should meet the client's timeout; under -race on a
			// busy machine other answers can take a while.
			timeout := 10 * time.Second
			if k := tc.fault.Kind; k == FaultStall || k == FaultStallBody {
				timeout = 300 * time.Millisecond
			}
			resp, body, err := get(freshClient(timeout), zipURL(srv, m))
			tc.check(t, resp, body, err)
			if log := srv.Requests(); len(log) != 1 || log[0].Fault != tc.fault {
				t.Errorf("request log:\n%s\nwant one request with fault %+v", log, tc.fault)
			}
		})
	}
}

// get GETs url and reads the body. When no answer arrives the response is
// empty rather than nil, so that a failing check can still print it.
func get(c *http.Client, url string) (*http.Response, []byte, error) {
	resp, err := c.Get(url)
	if err != nil {
		return &http.Response{Status: "no answer", Header: http.Header{}}, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// TestSlowAnswers checks that latency, delay and bandwidth slow the answer by
// at least what they promise (and that the answer is complete).
func TestSlowAnswers(t *testing.T) {
	m := bigModule(t)
	want, _ := m.BuildZip()
	srv := NewServer(m)
	defer srv.Close()
	for _, tc := range []struct {
		name   string
		faults Faults
		min    time.Duration
	}{
		{"latency", Faults{Latency: 50 * time.Millisecond}, 50 * time.Millisecond},
		{"delay", Faults{Rules: []Rule{{Fault: Delay(50 * time.Millisecond)}}}, 50 * time.Millisecond},
		{"stall that ends", Faults{Rules: []Rule{{Fault: Stall(50 * time.Millisecond)}}}, 50 * time.Millisecond},
		{"stall mid-body that ends", Faults{Rules: []Rule{{Fault: StallBody(Half, 50*time.Millisecond)}}}, 50 * time.Millisecond},
		// 300 KiB at 2 MiB/s.
		{"bandwidth", Faults{Bandwidth: 2 << 20}, time.Duration(len(want)) * time.Second / (2 << 20) * 9 / 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.SetFaults(tc.faults)
			start := time.Now()
			_, body, err := get(srv.Client(), zipURL(srv, m))
			elapsed := time.Since(start)
			if err != nil || string(body) != string(want) {
				t.Fatalf("GET: %v, %d bytes; want the whole zip", err, len(body))
			}
			if elapsed < tc.min {
				t.Errorf("answered in %v, want at least %v", elapsed, tc.min)
			}
		})
	}
}

func TestRulesFirstAndFilters(t *testing.T) {
	mods := testModules()
	srv := NewServer(mods...)
	defer srv.Close()
	srv.SetFaults(Faults{Rules: []Rule{
		{Module: "example.com/Upper", Fault: Status(410)},
		{Kind: KindInfo, Version: "v1.0.0", Fault: Status(404)},
		{Kind: KindMod, First: 2, Fault: Status(500)},
		{Path: "/sumdb/*/supported", Fault: Reset()},
	}})
	c := srv.Client()
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/example.com/!upper/!mod/v2/@v/list", 410},
		{"/example.com/!upper/!mod/v2/@v/v2.3.0.zip", 410},
		{"/example.com/hello/@v/v1.0.0.info", 404},
		{"/example.com/hello/@v/v1.1.0.info", 200},
		{"/example.com/hello/@v/v1.1.0.mod", 500},
		{"/example.com/hello/@v/v1.1.0.mod", 500},
		{"/example.com/hello/@v/v1.1.0.mod", 200},
		{"/example.com/hello/@v/v1.0.0.mod", 500},
	} {
		resp, _, err := get(c, srv.URL+tc.path)
		if err != nil || resp.StatusCode != tc.want {
			t.Errorf("GET %s: %v %v, want %d", tc.path, resp.Status, err, tc.want)
		}
	}
	db := "/sumdb/" + srv.SumDB().Name()
	if _, _, err := get(freshClient(10*time.Second), srv.URL+db+"/supported"); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("GET %s/supported: %v, want a reset", db, err)
	}
	if resp, _, err := get(c, srv.URL+db+"/latest"); err != nil || resp.StatusCode != 200 {
		t.Errorf("GET %s/latest: %v, want 200 (the Path rule is for /supported only)", db, err)
	}
}

// TestMixDeterministic issues the same requests twice, once from many
// goroutines and once in reverse order from one, and checks that each path
// got the same sequence of faults.
func TestMixDeterministic(t *testing.T) {
	mods := testModules()
	srv := NewServer(mods...)
	defer srv.Close()
	mix := Faults{Seed: 99, Mix: []Chance{
		{Rate: 0.2, Fault: Reset()},
		{Rate: 0.2, Fault: RetryAfter(503, time.Second)},
		{Rate: 0.1, Fault: Status(429)},
		{Rate: 0.1, Kind: KindZip, Fault: Cut(Half)},
		{Rate: 0.1, Fault: Corrupt()},
	}}
	var paths []string
	for _, m := range mods {
		for _, ext := range []string{".info", ".mod", ".zip"} {
			p, _ := dirFile("", target{kind: FileKind(ext[1:]), module: m.Path, version: m.Version})
			paths = append(paths, "/"+p)
		}
	}
	const perPath = 12
	sequences := func(log Log) map[string][]FaultKind {
		seq := make(map[string][]FaultKind)
		for _, r := range log {
			for len(seq[r.Path]) <= r.N {
				seq[r.Path] = append(seq[r.Path], "?")
			}
			seq[r.Path][r.N] = r.Fault.Kind
		}
		return seq
	}

	srv.SetFaults(mix)
	var wg sync.WaitGroup
	c := freshClient(5 * time.Second)
	for _, p := range paths {
		for range perPath {
			wg.Go(func() { _, _, _ = get(c, srv.URL+p) })
		}
	}
	wg.Wait()
	concurrent := sequences(srv.Requests())

	srv.SetFaults(mix)
	srv.ResetRequests()
	for _, p := range slices.Backward(paths) {
		for range perPath {
			_, _, _ = get(c, srv.URL+p)
		}
	}
	sequential := sequences(srv.Requests())

	kinds := make(map[FaultKind]int)
	for _, p := range paths {
		if !slices.Equal(concurrent[p], sequential[p]) {
			t.Errorf("%s: faults %v with concurrency, %v without", p, concurrent[p], sequential[p])
		}
		for _, k := range sequential[p] {
			kinds[k]++
		}
	}
	for _, k := range []FaultKind{NoFault, FaultReset, FaultStatus, FaultCut, FaultCorrupt} {
		if kinds[k] == 0 {
			t.Errorf("no request got %q in %d draws: %v", k, len(paths)*perPath, kinds)
		}
	}

	srv.SetFaults(Faults{Seed: 100, Mix: mix.Mix})
	srv.ResetRequests()
	for _, p := range slices.Backward(paths) {
		for range perPath {
			_, _, _ = get(c, srv.URL+p)
		}
	}
	if other := sequences(srv.Requests()); fmt.Sprint(other) == fmt.Sprint(sequential) {
		t.Error("another seed gave the same faults")
	}
}

func TestDrawRates(t *testing.T) {
	f := StandardMix(1)
	counts := make(map[FaultKind]int)
	const n = 20000
	for i := range n {
		counts[f.decide(fmt.Sprintf("/p%d", i%50), target{kind: KindZip}, i/50).Kind]++
	}
	for kind, rate := range map[FaultKind]float64{FaultReset: 0.10, FaultStatus: 0.10, FaultCut: 0.05, FaultStall: 0.01, NoFault: 0.74} {
		got := float64(counts[kind]) / n
		if got < rate*0.8 || got > rate*1.2 {
			t.Errorf("%q drawn at rate %.4f, want about %.2f", kind, got, rate)
		}
	}
}

// TestStallEndsOnClose checks that a stall with no end and no client timeout
// ends when the server closes, and that Close then returns promptly.
func TestStallEndsOnClose(t *testing.T) {
	srv := NewServer(testModules()...)
	srv.SetFaults(Faults{Rules: []Rule{{Kind: KindList, Fault: Stall(0)}, {Kind: KindZip, Fault: StallBody(10, 0)}}})
	errs := make(chan error, 2)
	for _, p := range []string{"/example.com/hello/@v/list", "/example.com/hello/@v/v1.0.0.zip"} {
		go func() {
			_, _, err := get(srv.Client(), srv.URL+p)
			errs <- err
		}()
	}
	waitFor(t, "both requests to arrive", func() bool { return len(srv.Requests()) == 2 })
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return within 10s of stalled requests")
	}
	for range 2 {
		if err := <-errs; err == nil {
			t.Error("a stalled request succeeded after Close")
		}
	}
	goleak.VerifyNone(t)
	for _, r := range srv.Requests() {
		wantStatus := map[FileKind]int{KindList: 0, KindZip: 200}[r.Kind]
		if !r.Done || r.Status != wantStatus || r.Kind == KindZip && r.Bytes != 10 {
			t.Errorf("after Close: %s, want done with status %d", r, wantStatus)
		}
	}
}

func TestStallEndsWhenClientGivesUp(t *testing.T) {
	srv := NewServer(testModules()...)
	defer srv.Close()
	srv.SetFaults(Faults{Rules: []Rule{{Fault: Stall(0)}}})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/example.com/hello/@v/list", nil)
	go func() {
		waitFor(t, "the request to arrive", func() bool { return len(srv.Requests()) == 1 })
		cancel()
	}()
	if _, err := srv.Client().Do(req); !errors.Is(err, context.Canceled) {
		t.Errorf("GET error = %v, want context.Canceled", err)
	}
	waitFor(t, "the handler to notice the client left", func() bool { return srv.Requests()[0].Done })
}

// waitFor polls cond, which an event on the network will make true; there is
// no fake clock for real sockets.
func waitFor(t *testing.T, what string, cond func() bool) {
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("timed out waiting for %s", what)
			return
		}
		runtime.Gosched()
	}
}

// TestFaultsOnSumDB checks that body faults act on checksum database
// answers too, which the server buffers to give them a length.
func TestFaultsOnSumDB(t *testing.T) {
	srv := NewServer(testModules()...)
	defer srv.Close()
	lookup := srv.URL + "/sumdb/" + srv.SumDB().Name() + "/lookup/example.com/hello@v1.1.0"
	_, honest, err := get(srv.Client(), lookup)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetFaults(Faults{Rules: []Rule{{Kind: KindSumDB, Module: "example.com/hello", First: 1, Fault: Cut(Half)}}})
	if resp, body, err := get(srv.Client(), lookup); !errors.Is(err, io.ErrUnexpectedEOF) || resp.ContentLength != int64(len(honest)) || len(body) != len(honest)/2 {
		t.Errorf("cut lookup: %d of %d bytes, %v; want %d and unexpected EOF", len(body), resp.ContentLength, err, len(honest)/2)
	}
	srv.SetFaults(Faults{Rules: []Rule{{Kind: KindSumDB, Fault: Corrupt()}}})
	if _, body, err := get(srv.Client(), lookup); err != nil || len(body) != len(honest) || string(body) == string(honest) {
		t.Errorf("corrupt lookup: %q, %v; want %d bytes unlike %q", body, err, len(honest), honest)
	}
}

func TestResetOverTLS(t *testing.T) {
	srv := NewUnstartedServer(testModules()...)
	srv.StartTLS()
	defer srv.Close()
	srv.SetFaults(Faults{Rules: []Rule{{Fault: Reset()}}})
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	defer tr.CloseIdleConnections()
	_, _, err := get(&http.Client{Transport: tr}, srv.URL+"/example.com/hello/@v/list")
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("GET over TLS: %v, want ECONNRESET", err)
	}
}

// TestNoRange: a server without range support answers a Range request
// with the whole body and says it takes no ranges.
func TestNoRange(t *testing.T) {
	m := bigModule(t)
	want, err := m.BuildZip()
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(m)
	defer srv.Close()
	for _, noRange := range []bool{false, true} {
		srv.SetFaults(Faults{NoRange: noRange})
		req, _ := http.NewRequest("GET", zipURL(srv, m), nil)
		req.Header.Set("Range", "bytes=100-")
		resp, err := freshClient(10 * time.Second).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		wantStatus, wantBody, wantAccept := http.StatusPartialContent, want[100:], "bytes"
		if noRange {
			wantStatus, wantBody, wantAccept = http.StatusOK, want, "none"
		}
		if resp.StatusCode != wantStatus || !slices.Equal(body, wantBody) || resp.Header.Get("Accept-Ranges") != wantAccept {
			t.Errorf("NoRange=%v: %s, %d bytes, Accept-Ranges %q; want %d, %d bytes, %q",
				noRange, resp.Status, len(body), resp.Header.Get("Accept-Ranges"), wantStatus, len(wantBody), wantAccept)
		}
	}
}

// TestTrickle: a trickled answer arrives whole, at the rate asked.
func TestTrickle(t *testing.T) {
	srv := NewServer(Module{Path: "127.0.0.1/trickle", Version: "v1.0.0", GoMod: "module 127.0.0.1/trickle\n\n// " + strings.Repeat("x", 800) + "\n"})
	defer srv.Close()
	srv.SetFaults(Faults{Rules: []Rule{{Kind: KindMod, Fault: Trickle(4 << 10)}}})
	start := time.Now()
	resp, err := freshClient(10 * time.Second).Get(srv.URL + "/127.0.0.1/trickle/@v/v1.0.0.mod")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(body) < 800 {
		t.Fatalf("body %d bytes, %v", len(body), err)
	}
	// 830 bytes at 4 KiB/s in 512-byte writes, each followed by its
	// share of a second: the last bytes arrive after 125ms.
	if d := time.Since(start); d < 120*time.Millisecond {
		t.Errorf("trickled answer took %v, want at least 125ms", d)
	}
	if got := srv.Requests()[0].Fault.Kind; got != FaultTrickle {
		t.Errorf("logged fault %q", got)
	}
}

// TestChanceFirst: a per-file chance picks files once and faults each on
// its first First requests only, at about the rate asked.
func TestChanceFirst(t *testing.T) {
	f := Faults{Seed: 7, Mix: []Chance{{Rate: 0.3, First: 3, Fault: Corrupt()}}}
	picked := 0
	const files = 2000
	for i := range files {
		p := fmt.Sprintf("/m%d/@v/v1.0.0.zip", i)
		var got []bool
		for n := range 5 {
			got = append(got, f.decide(p, target{kind: KindZip}, n).Kind == FaultCorrupt)
		}
		switch {
		case slices.Equal(got, []bool{true, true, true, false, false}):
			picked++
		case slices.Equal(got, []bool{false, false, false, false, false}):
		default:
			t.Fatalf("%s: faults %v; want the first three or none", p, got)
		}
	}
	if rate := float64(picked) / files; rate < 0.25 || rate > 0.35 {
		t.Errorf("%.2f of files picked, want about 0.3", rate)
	}
}
