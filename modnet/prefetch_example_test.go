package modnet_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modnettest"
)

// Prefetch fills a module cache with everything a main module's graph
// needs, as 'go mod download all' does, through a proxy that resets one
// connection in ten.
func ExampleClient_Prefetch() {
	// A main module with six dependencies, served from loopback.
	g, err := modnettest.GenerateGraph(modnettest.GraphConfig{Seed: 1, Modules: 6, ZipBytes: 64 << 10})
	if err != nil {
		log.Fatal(err)
	}
	srv := modnettest.NewServer(g.Modules...)
	defer srv.Close()
	srv.SetFaults(modnettest.Faults{Seed: 1, Mix: []modnettest.Chance{{Rate: 0.1, Fault: modnettest.Reset()}}})
	work, err := os.MkdirTemp("", "prefetch")
	if err != nil {
		log.Fatal(err)
	}
	defer modnet.RemoveAll(work)
	if err := g.WriteMain(work); err != nil {
		log.Fatal(err)
	}

	env, err := modnet.LoadEnvFrom(map[string]string{
		"GOENV": "off", "GOROOT": "/nonexistent/goroot", "GOPATH": filepath.Join(work, "gopath"),
		"GOMODCACHE": filepath.Join(work, "modcache"),
		"GOPROXY":    srv.URL, "GOSUMDB": srv.SumDB().GOSUMDB(),
	})
	if err != nil {
		log.Fatal(err)
	}
	c := &modnet.Client{Env: env}
	defer c.Close()
	res, err := c.Prefetch(context.Background(), &modnet.PrefetchRequest{
		ModFile: filepath.Join(work, "go.mod"),
		OnEvent: func(ev modnet.PrefetchEvent) {
			if ev.Kind == modnet.PrefetchFail {
				fmt.Println("failed:", ev.Path, ev.Class)
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range res.Modules {
		what := "module, extracted"
		if m.GoModOnly {
			what = "go.mod only"
		}
		fmt.Printf("%s@%s: %s\n", m.Path, m.Version, what)
	}
	// Output:
	// 127.0.0.1/gen/m000@v1.2.0: module, extracted
	// 127.0.0.1/gen/m001@v1.0.0: module, extracted
	// 127.0.0.1/gen/m002@v1.0.0: module, extracted
	// 127.0.0.1/gen/m003@v1.0.0: go.mod only
	// 127.0.0.1/gen/m003@v1.1.0: module, extracted
	// 127.0.0.1/gen/m004@v1.0.0: module, extracted
	// 127.0.0.1/gen/m005@v1.0.0: go.mod only
	// 127.0.0.1/gen/m005@v1.1.0: module, extracted
}
