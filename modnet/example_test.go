package modnet_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/modkit/modkit/modnet"
)

// Route answers where the go command would fetch a module from.
func ExampleEnv_Route() {
	env, err := modnet.LoadEnvFrom(map[string]string{
		"GOENV":     "off",                 // no 'go env -w' file
		"GOROOT":    "/nonexistent/goroot", // no go.env defaults
		"GOPROXY":   "corp.example.com:8443|https://mirror.example.com,direct",
		"GOPRIVATE": "*.corp.example.com",
		"GOSUMDB":   "sum.golang.org",
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, path := range []string{"golang.org/x/mod", "git.corp.example.com/team/lib"} {
		r, err := env.Route(path)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(r.Module)
		for _, s := range r.Sources {
			fmt.Println(strings.TrimRight(fmt.Sprintf("  %s %s %s", s.Kind, s.URL, s.Fallback), " "))
		}
		fmt.Printf("  checksum database: %v %s\n", r.ChecksumDB.Verify, r.ChecksumDB.Name)
	}
	// Output:
	// golang.org/x/mod
	//   proxy https://corp.example.com:8443 any
	//   proxy https://mirror.example.com notfound
	//   direct
	//   checksum database: true sum.golang.org
	// git.corp.example.com/team/lib
	//   direct
	//   checksum database: false
}

// Every value carries the layer it came from, so a bad value can be traced.
func ExampleEnv_Lookup() {
	env, err := modnet.LoadEnvFrom(map[string]string{
		"GOENV":     "off",
		"GOROOT":    "/nonexistent/goroot",
		"GOPRIVATE": "corp.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(env.Lookup("GONOSUMDB"))
	fmt.Println(env.Lookup("GOAUTH"))
	// Output:
	// GONOSUMDB=corp.example.com (default from GOPRIVATE)
	// GOAUTH=netrc (default)
}
