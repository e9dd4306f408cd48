package modnettest_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/modkit/modkit/modnet/modnettest"
)

// Serve one module and read its version list, as the go command would.
func Example() {
	srv := modnettest.NewServer(modnettest.Module{
		Path:    "example.com/hello",
		Version: "v1.0.0",
		Files:   map[string]string{"hello.go": "package hello\n"},
	})
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/example.com/hello/@v/list")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	list, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.Status, "\n", string(list))

	// A test would run the go command with:
	//	GOPROXY=srv.URL  GOSUMDB=srv.SumDB().GOSUMDB()
	fmt.Println(strings.HasPrefix(srv.SumDB().GOSUMDB(), srv.SumDB().Name()+"+"))
	// Output:
	// 200 OK
	// v1.0.0
	// true
}

// A stub for differential tests: it answers 410 to every request,
// permanently, and logs what it was asked.
func ExampleServer_SetFaults() {
	stub := modnettest.NewUnstartedServer()
	stub.Name = "stubA"
	stub.Start()
	defer stub.Close()
	stub.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{{Fault: modnettest.Status(410)}}})

	for _, p := range []string{"/example.com/m/@v/list", "/example.com/m/@v/v1.0.0.info"} {
		resp, err := http.Get(stub.URL + p)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
	}
	for _, r := range stub.Requests() {
		fmt.Println(r.Server, r.Kind, r.Module, r.Version, r.Status)
	}
	// Output:
	// stubA list example.com/m  410
	// stubA info example.com/m v1.0.0 410
}

// A seeded fault mix: the n-th request for a path always gets the same
// fault, however requests interleave.
func ExampleStandardMix() {
	srv := modnettest.NewServer(modnettest.Module{Path: "example.com/m", Version: "v1.0.0"})
	defer srv.Close()
	mix := modnettest.StandardMix(3)
	mix.Latency = time.Millisecond // a simulated round trip
	srv.SetFaults(mix)

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for range 20 {
		if resp, err := client.Get(srv.URL + "/example.com/m/@v/v1.0.0.mod"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	var faults []string
	for _, r := range srv.Requests() {
		switch r.Fault.Kind {
		case modnettest.NoFault:
		case modnettest.FaultStatus:
			faults = append(faults, fmt.Sprintf("#%d %d Retry-After: %s", r.N, r.Status, r.Fault.RetryAfter))
		default:
			faults = append(faults, fmt.Sprintf("#%d %s", r.N, r.Fault.Kind))
		}
	}
	fmt.Println(strings.Join(faults, "\n"))
	// Output:
	// #0 429 Retry-After: 1
	// #4 429 Retry-After: 1
	// #11 503 Retry-After: 1
	// #16 429 Retry-After: 1
	// #17 reset
}

// Generate a module graph for a benchmark of "go mod download all".
func ExampleGenerateGraph() {
	g, err := modnettest.GenerateGraph(modnettest.GraphConfig{Seed: 1, Modules: 5, ZipBytes: 100 << 10})
	if err != nil {
		panic(err)
	}
	srv := modnettest.NewServer(g.Modules...)
	defer srv.Close()
	// Write g.GoMod, g.GoSum and g.MainGo (g.WriteMain) into a directory and
	// run "go mod download all" there with GOPROXY=srv.URL.
	fmt.Println(len(g.BuildList), "modules in the build list")
	fmt.Println(strings.SplitN(g.GoMod, "\n", 2)[0])
	// Output:
	// 5 modules in the build list
	// module 127.0.0.1/gen/main
}
