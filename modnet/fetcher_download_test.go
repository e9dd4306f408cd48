package modnet_test

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modkit/modkit/modnet/modnettest"
	"github.com/modkit/modkit/retry"
)

// barrier holds each request for a module file until n of them are in
// flight together, or until patience runs out, and records the most it
// saw at once.
type barrier struct {
	n        int
	patience time.Duration
	base     http.RoundTripper

	mu      sync.Mutex
	waiting int
	most    int
	full    chan struct{}
}

func (b *barrier) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasPrefix(req.URL.Path, "/sumdb/") {
		return b.base.RoundTrip(req)
	}
	b.mu.Lock()
	b.waiting++
	b.most = max(b.most, b.waiting)
	if b.waiting == b.n {
		close(b.full)
	}
	b.mu.Unlock()
	select {
	case <-b.full:
	case <-time.After(b.patience):
	case <-req.Context().Done():
	}
	b.mu.Lock()
	b.waiting--
	b.mu.Unlock()
	return b.base.RoundTrip(req)
}

// TestFetcherDownloadConcurrent: Download asks for the .info, the .mod and
// the .zip at once, since goproxy answers every .mod request with a
// Download and the go command waits for each answer before the next.
func TestFetcherDownloadConcurrent(t *testing.T) {
	srv := modnettest.NewServer(fetcherModules...)
	defer srv.Close()
	b := &barrier{n: 3, patience: 10 * time.Second, base: http.DefaultTransport, full: make(chan struct{})}
	f, _ := testFetcher(t, srv, &retry.Client{Transport: b, HedgeDisabled: true, BaseDelay: time.Millisecond})

	info, mod, zip, err := f.Download(context.Background(), "example.com/m", "v1.2.0")
	if err != nil {
		t.Fatal(err)
	}
	info.Close()
	mod.Close()
	zip.Close()
	if b.most != 3 {
		t.Errorf("at most %d of the .info, .mod and .zip requests were in flight together, want 3", b.most)
	}
}

// TestFetcherDownloadErrorOrder: fetched at once, the files still fail in
// the go command's order: the error is the first of .info, .mod, .zip that
// failed, whichever failed first in time.
func TestFetcherDownloadErrorOrder(t *testing.T) {
	srv := modnettest.NewServer(fetcherModules...)
	defer srv.Close()
	srv.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{
		// An unknown version whose .info is slow and whose zip fails at once.
		{Module: "example.com/m", Version: "v1.9.9", Kind: modnettest.KindInfo, Fault: modnettest.Delay(100 * time.Millisecond)},
		{Module: "example.com/m", Version: "v1.9.9", Kind: modnettest.KindZip, Fault: modnettest.Status(500)},
		// A known version whose zip alone fails.
		{Module: "example.com/m", Version: "v1.0.0", Kind: modnettest.KindZip, Fault: modnettest.Status(500)},
	}})
	f, modcache := testFetcher(t, srv, &retry.Client{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, HedgeDisabled: true, MaxAttempts: 2})
	ctx := context.Background()

	_, _, _, err := f.Download(ctx, "example.com/m", "v1.9.9")
	if want := "example.com/m@v1.9.9: reading " + srv.URL + "/example.com/m/@v/v1.9.9.info: 404 Not Found"; err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Download of an unknown version: %v; want the .info's not found, %q", err, want)
	}

	_, _, _, err = f.Download(ctx, "example.com/m", "v1.0.0")
	if want := "/example.com/m/@v/v1.0.0.zip: 500 Internal Server Error"; err == nil || !strings.Contains(err.Error(), want) || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Download with a failing zip: %v; want %q", err, want)
	}
	// What did arrive is cached, as when fetched one after another.
	if _, err := os.Stat(filepath.Join(modcache, "cache/download/example.com/m/@v/v1.0.0.mod")); err != nil {
		t.Errorf("the .mod that arrived is not in the module cache: %v", err)
	}
}
