package modnet

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/modkit/modkit/modnet/modnettest"
	"github.com/modkit/modkit/retry"
)

// gate holds every request to the upstream until it is opened, so that a
// test can line up callers behind one fetch deterministically.
type gate struct {
	open chan struct{}
	base http.RoundTripper
}

func (g *gate) RoundTrip(req *http.Request) (*http.Response, error) {
	select {
	case <-g.open:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	return g.base.RoundTrip(req)
}

func gatedFetcher(t *testing.T, srv *modnettest.Server) (*Fetcher, *gate) {
	t.Helper()
	dir := t.TempDir()
	env, err := LoadEnvFrom(map[string]string{
		"GOENV": "off", "GOROOT": filepath.Join(dir, "goroot"),
		"GOPROXY": srv.URL, "GOSUMDB": srv.SumDB().GOSUMDB(),
		"GOPATH": filepath.Join(dir, "gopath"), "GOMODCACHE": filepath.Join(dir, "modcache"),
	})
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{open: make(chan struct{}), base: http.DefaultTransport}
	c := &Client{Env: env, HTTP: &retry.Client{Transport: g, HedgeDisabled: true, BaseDelay: time.Millisecond}}
	t.Cleanup(func() { c.Close() })
	return &Fetcher{Client: c}, g
}

// waitForWaiters waits until n callers wait for the flight of key.
func waitForWaiters(t *testing.T, f *Fetcher, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.flights.mu.Lock()
		got := 0
		if fl := f.flights.m[key]; fl != nil {
			got = fl.waiters
		}
		f.flights.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d callers wait for %q, want %d", got, key, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// countFiles counts the upstream's requests per kind of module file,
// leaving out the checksum database's.
func countFiles(log modnettest.Log) map[modnettest.FileKind]int {
	n := make(map[modnettest.FileKind]int)
	for _, r := range log {
		if r.Kind != modnettest.KindSumDB {
			n[r.Kind]++
		}
	}
	return n
}

// TestFetcherCollapsesIdenticalCalls: 50 identical concurrent calls cost
// one upstream fetch of each file, as counted in the upstream's log.
func TestFetcherCollapsesIdenticalCalls(t *testing.T) {
	const callers = 50
	for _, tt := range []struct {
		name string
		key  string
		call func(f *Fetcher) error
		want map[modnettest.FileKind]int
	}{
		{"Download", "download\x00example.com/m\x00v1.0.0", func(f *Fetcher) error {
			info, mod, zip, err := f.Download(context.Background(), "example.com/m", "v1.0.0")
			if err == nil {
				_, err = io.Copy(io.Discard, zip)
				info.Close()
				mod.Close()
				zip.Close()
			}
			return err
		}, map[modnettest.FileKind]int{modnettest.KindInfo: 1, modnettest.KindMod: 1, modnettest.KindZip: 1}},
		{"List", "list\x00example.com/m", func(f *Fetcher) error {
			_, err := f.List(context.Background(), "example.com/m")
			return err
		}, map[modnettest.FileKind]int{modnettest.KindList: 1, modnettest.KindMod: 1}},
		{"Query", "query\x00example.com/m\x00latest", func(f *Fetcher) error {
			_, _, err := f.Query(context.Background(), "example.com/m", "latest")
			return err
		}, map[modnettest.FileKind]int{modnettest.KindList: 1, modnettest.KindMod: 1, modnettest.KindInfo: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := modnettest.NewServer(
				modnettest.Module{Path: "example.com/m", Version: "v1.0.0", Files: map[string]string{"m.go": "package m\n"}},
				modnettest.Module{Path: "example.com/m", Version: "v1.1.0", Files: map[string]string{"m.go": "package m\n"}},
			)
			defer srv.Close()
			f, g := gatedFetcher(t, srv)
			var wg sync.WaitGroup
			errs := make(chan error, callers)
			for range callers {
				wg.Go(func() { errs <- tt.call(f) })
			}
			waitForWaiters(t, f, tt.key, callers)
			close(g.open)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			got := countFiles(srv.Requests())
			for k, n := range tt.want {
				if got[k] != n {
					t.Errorf("%d requests for %s files, want %d\n%s", got[k], k, n, srv.Requests())
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("requests for %v, want only %v\n%s", got, tt.want, srv.Requests())
			}
		})
	}
}

// TestFetcherCallerGivesUp: a caller that gives up does not fail the others
// waiting for the same fetch; when the last one gives up, the fetch stops.
func TestFetcherCallerGivesUp(t *testing.T) {
	srv := modnettest.NewServer(modnettest.Module{Path: "example.com/m", Version: "v1.0.0"})
	defer srv.Close()
	f, g := gatedFetcher(t, srv)
	const key = "list\x00example.com/m"

	impatient, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { _, err := f.List(impatient, "example.com/m"); first <- err }()
	waitForWaiters(t, f, key, 1)
	second := make(chan []string, 1)
	go func() {
		list, err := f.List(context.Background(), "example.com/m")
		if err != nil {
			t.Error(err)
		}
		second <- list
	}()
	waitForWaiters(t, f, key, 2)
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled caller got %v, want context.Canceled", err)
	}
	close(g.open)
	if list := <-second; len(list) != 1 || list[0] != "v1.0.0" {
		t.Errorf("patient caller got %q, want [v1.0.0]", list)
	}

	// Alone and giving up, a caller cancels the fetch; the next caller
	// starts a new one instead of inheriting the cancellation.
	f2, g2 := gatedFetcher(t, srv)
	ctx, cancel2 := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := f2.List(ctx, "example.com/m"); done <- err }()
	waitForWaiters(t, f2, key, 1)
	cancel2()
	<-done
	f2.flights.mu.Lock()
	left := len(f2.flights.m)
	f2.flights.mu.Unlock()
	if left != 0 {
		t.Errorf("%d flights left after their only caller gave up", left)
	}
	close(g2.open)
	if list, err := f2.List(context.Background(), "example.com/m"); err != nil || len(list) != 1 {
		t.Errorf("List after an abandoned fetch = %q, %v", list, err)
	}
}
