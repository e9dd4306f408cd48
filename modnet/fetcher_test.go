package modnet_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modnettest"
	"github.com/modkit/modkit/retry"
)

// goproxyFetcher is a copy of the Fetcher interface of
// github.com/goproxy/goproxy (fetcher.go), which modnet.Fetcher must
// satisfy without importing it.
type goproxyFetcher interface {
	Query(ctx context.Context, path, query string) (version string, time time.Time, err error)
	List(ctx context.Context, path string) (versions []string, err error)
	Download(ctx context.Context, path, version string) (info, mod, zip io.ReadSeekCloser, err error)
}

var _ goproxyFetcher = (*modnet.Fetcher)(nil)

// isFetchTimedOut decides "timeout" as goproxy's isFetchTimedOutError does
// (error.go): the error matches context.DeadlineExceeded, or an error in
// its chain has a Timeout method reporting true.
func isFetchTimedOut(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var t interface {
		error
		Timeout() bool
	}
	return errors.As(err, &t) && t.Timeout()
}

// fetcherModules is a module whose latest release retracts an earlier one,
// with a pre-release above it.
var fetcherModules = []modnettest.Module{
	{Path: "example.com/m", Version: "v1.0.0", Files: map[string]string{"m.go": "package m\n"}},
	{Path: "example.com/m", Version: "v1.1.0", Files: map[string]string{"m.go": "package m // bad\n"}},
	{Path: "example.com/m", Version: "v1.2.0", Files: map[string]string{"m.go": "package m\n"}, Retract: []string{"v1.1.0 // broken"}},
	{Path: "example.com/m", Version: "v1.3.0-beta.1", Files: map[string]string{"m.go": "package m\n"}},
	{Path: "example.com/Upper", Version: "v0.1.0", Files: map[string]string{"u.go": "package upper\n"}},
}

// testFetcher returns a Fetcher whose Client reaches srv through an
// environment of its own, with the checksum database of srv and retries
// fast enough for tests.
func testFetcher(t testing.TB, srv *modnettest.Server, hc *retry.Client) (*modnet.Fetcher, string) {
	t.Helper()
	dir := t.TempDir()
	env, err := modnet.LoadEnvFrom(map[string]string{
		"GOENV":      "off",
		"GOROOT":     filepath.Join(dir, "goroot"),
		"GOPROXY":    srv.URL,
		"GOSUMDB":    srv.SumDB().GOSUMDB(),
		"GOPATH":     filepath.Join(dir, "gopath"),
		"GOMODCACHE": filepath.Join(dir, "modcache"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if hc == nil {
		hc = &retry.Client{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, HedgeDisabled: true}
	}
	c := &modnet.Client{Env: env, HTTP: hc}
	t.Cleanup(func() { c.Close() })
	return &modnet.Fetcher{Client: c}, filepath.Join(dir, "modcache")
}

func TestFetcherQueryAndList(t *testing.T) {
	srv := modnettest.NewServer(fetcherModules...)
	defer srv.Close()
	f, _ := testFetcher(t, srv, nil)
	ctx := context.Background()

	for _, tt := range []struct{ path, query, want string }{
		{"example.com/m", "latest", "v1.2.0"},
		{"example.com/m", "v1.0", "v1.0.0"},
		{"example.com/m", "v1.1.0", "v1.1.0"}, // an exact version is served even if retracted
		{"example.com/m", ">v1.2.0", "v1.3.0-beta.1"},
		{"example.com/Upper", "latest", "v0.1.0"},
	} {
		v, tm, err := f.Query(ctx, tt.path, tt.query)
		if err != nil || v != tt.want || !tm.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("Query(%s, %s) = %s, %v, %v; want %s at 2024-01-01", tt.path, tt.query, v, tm, err, tt.want)
		}
	}

	got, err := f.List(ctx, "example.com/m")
	if want := []string{"v1.0.0", "v1.2.0", "v1.3.0-beta.1"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("List = %q, %v; want %q (tagged, without the retracted v1.1.0)", got, err, want)
	}
}

func TestFetcherDownload(t *testing.T) {
	srv := modnettest.NewServer(fetcherModules...)
	defer srv.Close()
	f, modcache := testFetcher(t, srv, nil)

	info, mod, zip, err := f.Download(context.Background(), "example.com/Upper", "v0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	defer info.Close()
	defer mod.Close()
	defer zip.Close()

	if b, _ := io.ReadAll(info); string(b) != `{"Version":"v0.1.0","Time":"2024-01-01T00:00:00Z"}` {
		t.Errorf("info = %s", b)
	}
	if b, _ := io.ReadAll(mod); string(b) != fetcherModules[4].ModFile() {
		t.Errorf("mod = %q, want %q", b, fetcherModules[4].ModFile())
	}
	wantZip, err := fetcherModules[4].BuildZip()
	if err != nil {
		t.Fatal(err)
	}
	// The zip is streamed from the module cache, and seekable as
	// http.ServeContent needs it.
	if n, ok := zip.(interface{ Name() string }); !ok || !strings.HasPrefix(n.Name(), modcache) {
		t.Errorf("zip is %T, want a file in the module cache %s", zip, modcache)
	}
	size, err := zip.Seek(0, io.SeekEnd)
	if err != nil || size != int64(len(wantZip)) {
		t.Errorf("Seek(0, SeekEnd) = %d, %v; want %d", size, err, len(wantZip))
	}
	if _, err := zip.Seek(10, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(zip); !bytes.Equal(b, wantZip[10:]) {
		t.Errorf("zip from offset 10 differs from the module zip")
	}
}

// TestFetcherErrors checks the error conventions goproxy's server relies on:
// fs.ErrNotExist for 404, recognisable timeouts for 404 + no-store, and
// anything else for 500.
func TestFetcherErrors(t *testing.T) {
	srv := modnettest.NewServer(fetcherModules...)
	defer srv.Close()
	srv.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{
		{Module: "example.com/stall", Fault: modnettest.Stall(0)}, // until the client gives up
		{Module: "example.com/broken", Fault: modnettest.Status(500)},
	}})
	f, _ := testFetcher(t, srv, &retry.Client{
		BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, HedgeDisabled: true,
		MaxAttempts: 2, ResponseHeaderTimeout: 50 * time.Millisecond,
	})
	ctx := context.Background()

	type result int
	const (
		notFound result = iota
		timeout
		other
	)
	for _, tt := range []struct {
		name string
		call func() error
		want result
		msg  string // a part of the message
	}{
		{"unknown module", func() error { _, _, err := f.Query(ctx, "example.com/missing", "latest"); return err },
			notFound, "module example.com/missing: reading " + srv.URL + "/example.com/missing/@v/list: 404 Not Found"},
		{"unknown version", func() error { _, _, _, err := f.Download(ctx, "example.com/m", "v1.9.9"); return err },
			notFound, "example.com/m@v1.9.9: reading " + srv.URL + "/example.com/m/@v/v1.9.9.info: 404 Not Found"},
		{"version invalid for the path", func() error { _, _, _, err := f.Download(ctx, "example.com/m", "v2.0.0"); return err },
			notFound, "example.com/m@v2.0.0: invalid version: should be v0 or v1, not v2"},
		{"list of unknown module", func() error { _, err := f.List(ctx, "example.com/missing"); return err },
			notFound, "404 Not Found"},
		{"no matching version", func() error { _, _, err := f.Query(ctx, "example.com/m", "v2"); return err },
			notFound, `module example.com/m: no matching versions for query "v2"`},
		{"invalid path", func() error { _, err := f.List(ctx, "not/a path"); return err },
			notFound, "malformed module path"},
		{"invalid query", func() error { _, _, err := f.Query(ctx, "example.com/m", "<=v1.x"); return err },
			notFound, `example.com/m@<=v1.x: invalid semantic version "v1.x" in range "<=v1.x"`},
		{"non-canonical version", func() error { _, _, _, err := f.Download(ctx, "example.com/m", "v1.2"); return err },
			notFound, `version "v1.2" is not canonical`},
		{"stalled upstream", func() error { _, err := f.List(ctx, "example.com/stall"); return err },
			timeout, "example.com/stall: Get \"" + srv.URL + "/example.com/stall/@v/list\": "},
		{"failing upstream", func() error { _, _, err := f.Query(ctx, "example.com/broken", "latest"); return err },
			other, "500 Internal Server Error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("no error")
			}
			var got result
			switch {
			case errors.Is(err, fs.ErrNotExist):
				got = notFound
			case isFetchTimedOut(err):
				got = timeout
			default:
				got = other
			}
			if got != tt.want {
				t.Errorf("error classified as %d, want %d: %v", got, tt.want, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
			if tt.want != notFound && errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error matches fs.ErrNotExist: %v", err)
			}
			var me *modnet.ModuleError
			if tt.want != notFound && !errors.As(err, &me) {
				t.Errorf("upstream failure is not a *modnet.ModuleError: %v", err)
			}
		})
	}

	// The caller's own deadline is a timeout too.
	dctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := f.List(dctx, "example.com/stall"); !isFetchTimedOut(err) || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("List with an expired deadline: %v, want a timeout", err)
	}
}
