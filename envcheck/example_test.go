package envcheck_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/modkit/modkit/envcheck"
	"github.com/modkit/modkit/modnet"
)

// Run checks an environment and reports each problem with where its value
// came from and the fix to copy.
func ExampleRun() {
	env, err := modnet.LoadEnvFrom(map[string]string{
		"GOENV":     "off",                 // no 'go env -w' file
		"GOROOT":    "/nonexistent/goroot", // no go.env defaults
		"GOPROXY":   "https://proxy.example.com;direct",
		"GOPRIVATE": "https://git.corp.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	rep := envcheck.Run(context.Background(), envcheck.Options{
		Env:     env,
		Offline: true,
		Checks:  []string{"goproxy.syntax", "private.patterns"},
	})
	rep.Duration = 0 // keep the output stable
	rep.WriteText(os.Stdout, false)
	fmt.Println("failed:", rep.Failed())
	// Output:
	// Module proxies
	//   ✗ goproxy.syntax    GOPROXY uses ';', which is not a separator: entries are separated by ',' (fall back on 404/410) or '|' (fall back on any error)
	//                       GOPROXY=https://proxy.example.com;direct (from environment)
	//                       fix: export GOPROXY=https://proxy.example.com,direct
	//
	// Private modules
	//   ! private.patterns  GOPRIVATE pattern "https://git.corp.example.com" has a URL scheme (https://); module paths have none: it never matches
	//                       GOPRIVATE=https://git.corp.example.com (from environment)
	//                       fix: export GOPRIVATE=git.corp.example.com
	//
	// 2 checks: 0 ok, 1 warning, 1 error
	// failed: true
}

// Checks lists what the doctor looks at; live probes use the network.
func ExampleChecks() {
	for _, c := range envcheck.Checks() {
		if c.Live {
			fmt.Println(c.ID)
		}
	}
	// Output:
	// goproxy.reach
	// proxyenv.reach
	// direct.insteadof
	// sumdb.route
	// dns.resolve
	// tcp.connect
	// tls.verify
	// tls.clock
}
