package modnet_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modnettest"
)

// A Fetcher plugs modnet into a module proxy server built around the
// Fetcher interface of github.com/goproxy/goproxy, which it satisfies
// structurally: goproxy.Goproxy{Fetcher: &modnet.Fetcher{Client: c}}.
func ExampleFetcher() {
	// The interface, as goproxy declares it; modnet does not import goproxy.
	type Fetcher interface {
		Query(ctx context.Context, path, query string) (version string, time time.Time, err error)
		List(ctx context.Context, path string) (versions []string, err error)
		Download(ctx context.Context, path, version string) (info, mod, zip io.ReadSeekCloser, err error)
	}

	upstream := modnettest.NewServer(
		modnettest.Module{Path: "example.com/hello", Version: "v1.0.0"},
		modnettest.Module{Path: "example.com/hello", Version: "v1.1.0", Retract: []string{"v1.0.0"}},
	)
	defer upstream.Close()

	dir, err := os.MkdirTemp("", "fetcher")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	env, err := modnet.LoadEnvFrom(map[string]string{
		"GOENV":      "off",
		"GOROOT":     filepath.Join(dir, "goroot"),
		"GOPROXY":    upstream.URL,
		"GOSUMDB":    upstream.SumDB().GOSUMDB(),
		"GOPATH":     filepath.Join(dir, "gopath"),
		"GOMODCACHE": filepath.Join(dir, "modcache"),
	})
	if err != nil {
		log.Fatal(err)
	}
	client := &modnet.Client{Env: env}
	defer client.Close()
	var f Fetcher = &modnet.Fetcher{Client: client}

	ctx := context.Background()
	version, t, err := f.Query(ctx, "example.com/hello", "latest")
	fmt.Println(version, t.Format(time.DateOnly), err)

	versions, err := f.List(ctx, "example.com/hello") // v1.0.0 is retracted
	fmt.Println(versions, err)

	info, mod, zip, err := f.Download(ctx, "example.com/hello", "v1.1.0")
	if err != nil {
		log.Fatal(err)
	}
	defer info.Close()
	defer mod.Close()
	defer zip.Close()
	gomod, _ := io.ReadAll(mod)
	fmt.Printf("%s", gomod)

	// A goproxy server answers 404 to errors matching fs.ErrNotExist.
	_, _, err = f.Query(ctx, "example.com/nope", "latest")
	fmt.Println(errors.Is(err, fs.ErrNotExist))
	// Output:
	// v1.1.0 2024-01-01 <nil>
	// [v1.1.0] <nil>
	// module example.com/hello
	// retract v1.0.0
	// true
}
