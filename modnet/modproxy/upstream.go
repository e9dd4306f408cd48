package modproxy

import (
	"context"
	"net/url"
	"os"
	"strings"

	"github.com/modkit/modkit/modnet"
)

// upstream is what a Server asks of its modnet.Client, one protocol file
// at a time; tests replace it.
type upstream interface {
	List(ctx context.Context, path string) ([]string, error)
	Query(ctx context.Context, path, query string) (*modnet.Info, error)
	GoMod(ctx context.Context, path, version string) ([]byte, error)
	// Zip returns the version's zip, verified and kept in the module
	// cache, open at its start; release closes it. Only for a Server
	// with Verify.
	Zip(ctx context.Context, path, version string) (f *os.File, release func(), err error)
	// FetchZip writes the version's zip, as the route serves it, into dst
	// from its start, telling progress of the bytes as they land.
	FetchZip(ctx context.Context, path, version string, dst *os.File, progress *modnet.ZipProgress) error
	// Host names the upstream host that serves path, for per-host limits.
	Host(path string) string
	// ChecksumDB reports whether the route of path consults the checksum
	// database: lookups of other paths are never passed on.
	ChecksumDB(path string) bool
}

// clientUpstream is a modnet.Client as an upstream: verified and cached,
// or passed through.
type clientUpstream struct {
	c      *modnet.Client
	verify bool
}

func (u clientUpstream) List(ctx context.Context, path string) ([]string, error) {
	return u.c.List(ctx, path)
}

func (u clientUpstream) Query(ctx context.Context, path, query string) (*modnet.Info, error) {
	return u.c.Query(ctx, path, query)
}

func (u clientUpstream) GoMod(ctx context.Context, path, version string) ([]byte, error) {
	if u.verify {
		return u.c.GoMod(ctx, path, version)
	}
	return u.c.FetchGoMod(ctx, path, version)
}

func (u clientUpstream) Zip(ctx context.Context, path, version string) (*os.File, func(), error) {
	name, err := u.c.Zip(ctx, path, version)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

func (u clientUpstream) FetchZip(ctx context.Context, path, version string, dst *os.File, progress *modnet.ZipProgress) error {
	return u.c.FetchZipProgress(ctx, path, version, dst, progress)
}

func (u clientUpstream) Host(path string) string {
	r, err := u.c.Route(path)
	if err != nil || len(r.Sources) == 0 {
		return ""
	}
	src := r.Sources[0]
	if src.Kind != modnet.KindProxy {
		// Direct: the repository's host, which the path begins with.
		host, _, _ := strings.Cut(path, "/")
		return string(src.Kind) + ":" + host
	}
	if pu, err := url.Parse(src.URL); err == nil {
		return pu.Host
	}
	return src.URL
}

func (u clientUpstream) ChecksumDB(path string) bool {
	r, err := u.c.Route(path)
	return err == nil && r.ChecksumDB.Verify
}
