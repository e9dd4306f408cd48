package main

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/module"
)

// memStore is a Store in memory that insists on valid keys.
type memStore struct {
	t  *testing.T
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memStore) check(key string) {
	if !fs.ValidPath(key) || key == "." {
		s.t.Errorf("store used with invalid key %q", key)
	}
}

func (s *memStore) Get(ctx context.Context, key string) (io.ReadSeekCloser, ObjectInfo, error) {
	oi, err := s.Stat(ctx, key)
	if err != nil {
		return nil, oi, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return nopReadSeekCloser{bytes.NewReader(s.m[key])}, oi, nil
}

func (s *memStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	s.check(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[key]
	if !ok {
		return ObjectInfo{}, fs.ErrNotExist
	}
	return ObjectInfo{Size: int64(len(b)), ModTime: time.Unix(0, 0)}, nil
}

func (s *memStore) Put(ctx context.Context, key string, r io.Reader) error {
	s.check(key)
	b, err := io.ReadAll(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = b
	return err
}

type nopReadSeekCloser struct{ *bytes.Reader }

func (nopReadSeekCloser) Close() error { return nil }

// checkingFetcher answers everything and fails the test if it is asked
// about a module path or version no proxy could serve.
type checkingFetcher struct{ t *testing.T }

func (f checkingFetcher) Query(ctx context.Context, path, query string) (string, time.Time, error) {
	if err := module.CheckPath(path); err != nil {
		f.t.Errorf("Query with invalid path: %v", err)
	}
	return "v1.0.0", time.Unix(0, 0), nil
}

func (f checkingFetcher) List(ctx context.Context, path string) ([]string, error) {
	if err := module.CheckPath(path); err != nil {
		f.t.Errorf("List with invalid path: %v", err)
	}
	return []string{"v1.0.0"}, nil
}

func (f checkingFetcher) Download(ctx context.Context, path, version string) (info, mod, zip io.ReadSeekCloser, err error) {
	if err := module.Check(path, version); err != nil || module.CanonicalVersion(version) != version {
		f.t.Errorf("Download(%q, %q): not a canonical module version", path, version)
	}
	r := func(s string) io.ReadSeekCloser { return nopReadSeekCloser{bytes.NewReader([]byte(s))} }
	return r(`{"Version":"` + version + `"}`), r("module " + path + "\n"), r("PK"), nil
}

type staticDB struct{}

func (staticDB) ReadRemote(ctx context.Context, path string) ([]byte, error) {
	return bytes.Repeat([]byte{0}, 32), nil
}

// FuzzRequestPath: whatever the request path, the proxy answers with a
// status of the protocol, and hands the fetcher and the store only valid
// module paths, versions and keys.
func FuzzRequestPath(f *testing.F) {
	for _, p := range []string{
		"/example.com/m/@v/list", "/example.com/!upper/@latest", "/example.com/m/@v/v1.0.0.zip",
		"/example.com/m/@v/v1.0.0-!beta.mod", "/example.com/m/@v/master.info", "/example.com/m/@v/v1.2.zip",
		"/sumdb/sum.example.com/supported", "/sumdb/sum.example.com/lookup/example.com/m@v1.0.0",
		"/sumdb/sum.example.com/tile/8/0/x001/234.p/1", "/sumdb/sum.example.com/tile/8/data/000",
		"/sumdb/sum.example.com/latest", "/healthz", "/", "/@v/list", "/example.com/@v/../@v/list",
		"/sumdb/sum.example.com/lookup/../../x@v1", "/example.com/m/@v/v1.0.0/x.zip",
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		u, err := url.Parse("http://proxy" + p)
		if err != nil {
			return
		}
		s := &Server{
			Fetcher: checkingFetcher{t},
			Store:   &memStore{t: t, m: map[string][]byte{}},
			SumDBs:  map[string]ChecksumDB{"sum.example.com": staticDB{}},
			Logger:  slog.New(slog.DiscardHandler),
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, &http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}, Host: "proxy"})
		switch rec.Code {
		case 200, 404, 502:
		default:
			t.Errorf("GET %q: status %d", p, rec.Code)
		}
	})
}
