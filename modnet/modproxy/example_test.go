package modproxy_test

import (
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modnettest"
	"github.com/modkit/modkit/modnet/modproxy"
)

// A Server is an http.Handler: a modnet.Client for upstream and a Store
// for what it has fetched.
func ExampleServer() {
	upstream := modnettest.NewServer(
		modnettest.Module{Path: "example.com/hello", Version: "v1.0.0"},
		modnettest.Module{Path: "example.com/hello", Version: "v1.1.0"},
	)
	defer upstream.Close()

	dir, err := os.MkdirTemp("", "proxy")
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
	s := &modproxy.Server{
		Client: client,
		Store:  &modproxy.DiskStore{Dir: filepath.Join(dir, "store")},
		Logger: slog.New(slog.DiscardHandler),
	}
	defer s.Close()
	proxy := httptest.NewServer(s)
	defer proxy.Close()

	for _, path := range []string{"/example.com/hello/@v/list", "/example.com/hello/@v/v1.1.0.mod", "/example.com/nope/@latest"} {
		resp, err := http.Get(proxy.URL + path)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s %d %s\n%s", path, resp.StatusCode, resp.Header.Get("Cache-Control"),
			strings.ReplaceAll(string(body), upstream.URL, "$UPSTREAM"))
	}
	// Output:
	// /example.com/hello/@v/list 200 public, max-age=60
	// v1.0.0
	// v1.1.0
	// /example.com/hello/@v/v1.1.0.mod 200 public, max-age=604800
	// module example.com/hello
	// /example.com/nope/@latest 404 public, max-age=60
	// not found: module example.com/nope: reading $UPSTREAM/example.com/nope/@v/list: 404 Not Found
	// 	server response: not found: unknown module example.com/nope
}
