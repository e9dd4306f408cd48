package analyzer_test

import (
	"context"
	"fmt"
	"go/token"
	"log"
	"os"
	"path/filepath"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/analyzer"
	"github.com/modkit/modkit/modnet"
)

// CheckModFile checks a go.mod without loading packages, as
// "modreplace -gomod" does, on the module graph: example.com/sdk is not in
// the app's require list, but the go.mod of the local replacement ./lib
// requires it, so the replace of every version of it applies, and
// downgrades it. ApplyFixes applies the safe fixes: the no-op goes, and
// the wildcard is pinned to the one version the graph holds.
func ExampleCheckModFile() {
	dir, err := os.MkdirTemp("", "modreplace-example")
	if err != nil {
		log.Fatal(err)
	}
	defer modnet.RemoveAll(dir)
	write := func(name, content string) {
		name = filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(name), 0o777); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(content), 0o666); err != nil {
			log.Fatal(err)
		}
	}
	src := `module example.com/app

go 1.22

require (
	example.com/lib v0.0.0-00010101000000-000000000000
	example.com/old v1.0.0
)

replace example.com/lib => ./lib

replace example.com/sdk => example.com/sdk v1.42.0

replace example.com/old v1.0.0 => example.com/old v1.0.0
`
	write("app/go.mod", src)
	write("app/lib/go.mod", "module example.com/lib\n\ngo 1.22\n\nrequire example.com/sdk v1.44.0\n")

	// The module graph's go.mod files of module versions come from the
	// module cache; here, one of the example's own.
	cache := &modnet.Cache{Dir: filepath.Join(dir, "modcache")}
	for _, m := range []module.Version{{Path: "example.com/old", Version: "v1.0.0"}, {Path: "example.com/sdk", Version: "v1.42.0"}} {
		if _, err := cache.WriteGoMod(context.Background(), m, []byte("module "+m.Path+"\n")); err != nil {
			log.Fatal(err)
		}
	}
	cfg := analyzer.Config{GoMods: &analyzer.ModnetSource{Client: &modnet.Client{Cache: cache}}}

	gomod := filepath.Join(dir, "app", "go.mod")
	fset := token.NewFileSet()
	diags, err := analyzer.CheckModFile(context.Background(), fset, gomod, cfg)
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range diags {
		pos := fset.Position(d.Pos)
		fmt.Printf("go.mod:%d:%d: %.100s...\n", pos.Line, pos.Column, d.Message)
	}

	fixed, n, err := analyzer.ApplyFixes(fset, gomod, []byte(src), diags)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d fixes applied:\n%s", n, fixed)
	// Output:
	// go.mod:12:1: [downgrade] replace applies to example.com/sdk v1.44.0 required by example.com/lib (./lib): downgrad...
	// go.mod:12:1: [wildcard] replace of every version of example.com/sdk applies to example.com/sdk v1.44.0 required b...
	// go.mod:14:1: [noop] replace of example.com/old v1.0.0 with itself has no effect; remove it...
	// 2 fixes applied:
	// module example.com/app
	//
	// go 1.22
	//
	// require (
	// 	example.com/lib v0.0.0-00010101000000-000000000000
	// 	example.com/old v1.0.0
	// )
	//
	// replace example.com/lib => ./lib
	//
	// replace example.com/sdk v1.44.0 => example.com/sdk v1.42.0
}
