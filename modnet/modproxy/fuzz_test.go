package modproxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/modnet"
)

// checkingStore is a Store in memory that insists on valid keys.
type checkingStore struct {
	t *testing.T
	memStore
}

func (s *checkingStore) check(key string) {
	if !fs.ValidPath(key) || key == "." {
		s.t.Errorf("store used with invalid key %q", key)
	}
}

func (s *checkingStore) Get(ctx context.Context, key string) (io.ReadSeekCloser, ObjectInfo, error) {
	s.check(key)
	return s.memStore.Get(ctx, key)
}

func (s *checkingStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	s.check(key)
	return s.memStore.Stat(ctx, key)
}

func (s *checkingStore) Put(ctx context.Context, key string, r io.Reader) error {
	s.check(key)
	return s.memStore.Put(ctx, key, r)
}

// checkingUpstream answers everything and fails the test if it is asked
// about a module path or version no proxy could serve.
type checkingUpstream struct{ t *testing.T }

func (u checkingUpstream) checkVersion(op, path, version string) {
	if err := module.Check(path, version); err != nil || module.CanonicalVersion(version) != version {
		u.t.Errorf("%s(%q, %q): not a canonical module version", op, path, version)
	}
}

func (u checkingUpstream) Query(ctx context.Context, path, query string) (*modnet.Info, error) {
	if err := module.CheckPath(path); err != nil {
		u.t.Errorf("Query with invalid path: %v", err)
	}
	v := query
	if module.CanonicalVersion(query) != query {
		v = "v1.0.0"
	}
	return &modnet.Info{Version: v, Time: time.Unix(0, 0)}, nil
}

func (u checkingUpstream) List(ctx context.Context, path string) ([]string, error) {
	if err := module.CheckPath(path); err != nil {
		u.t.Errorf("List with invalid path: %v", err)
	}
	return []string{"v1.0.0"}, nil
}

func (u checkingUpstream) GoMod(ctx context.Context, path, version string) ([]byte, error) {
	u.checkVersion("GoMod", path, version)
	return []byte("module " + path + "\n"), nil
}

func (u checkingUpstream) Zip(ctx context.Context, path, version string) (*os.File, func(), error) {
	u.t.Errorf("Zip(%q, %q) of a Server without Verify", path, version)
	return nil, nil, errors.New("not verifying")
}

func (u checkingUpstream) FetchZip(ctx context.Context, path, version string, dst *os.File, progress *modnet.ZipProgress) error {
	u.checkVersion("FetchZip", path, version)
	if _, err := dst.WriteString("PK"); err != nil {
		return err
	}
	progress.Written(0, 2)
	return nil
}

func (u checkingUpstream) Host(path string) string { return "upstream" }

func (u checkingUpstream) ChecksumDB(path string) bool {
	if err := module.CheckPath(path); err != nil {
		u.t.Errorf("ChecksumDB with invalid path: %v", err)
	}
	return true
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
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, p string) {
		u, err := url.Parse("http://proxy" + p)
		if err != nil {
			return
		}
		s := &Server{
			up:        checkingUpstream{t},
			Store:     &checkingStore{t: t, memStore: memStore{m: map[string]memObject{}}},
			TempDir:   dir,
			SumDBs:    map[string]ChecksumDB{"sum.example.com": staticDB{}},
			ReadAhead: &ReadAhead{},
			Logger:    slog.New(slog.DiscardHandler),
		}
		defer s.Close()
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, &http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}, Host: "proxy"})
		switch rec.Code {
		case 200, 404, 502:
		default:
			t.Errorf("GET %q: status %d", p, rec.Code)
		}
	})
}
