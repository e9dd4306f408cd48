package analyzer_test

import (
	"context"
	"fmt"
	"go/token"
	"log"
	"os"
	"path/filepath"

	"github.com/modkit/modkit/analyzer"
)

// CheckModFile checks a go.mod without loading packages, as
// "modreplace -gomod" does; ApplyFixes applies the safe fixes.
func ExampleCheckModFile() {
	dir, err := os.MkdirTemp("", "modreplace-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	gomod := filepath.Join(dir, "go.mod")
	src := []byte(`module example.com/app

go 1.22

require (
	example.com/lib v1.2.0
	example.com/old v1.0.0
)

replace example.com/lib => example.com/lib v1.1.0

replace example.com/old v1.0.0 => example.com/old v1.0.0
`)
	if err := os.WriteFile(gomod, src, 0o666); err != nil {
		log.Fatal(err)
	}

	fset := token.NewFileSet()
	diags, err := analyzer.CheckModFile(context.Background(), fset, gomod, analyzer.Config{})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range diags {
		pos := fset.Position(d.Pos)
		fmt.Printf("go.mod:%d:%d: %.60s...\n", pos.Line, pos.Column, d.Message)
	}

	fixed, n, err := analyzer.ApplyFixes(fset, gomod, src, diags)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d fix applied:\n%s", n, fixed)
	// Output:
	// go.mod:10:1: [downgrade] replace pins example.com/lib to v1.1.0, below th...
	// go.mod:12:1: [noop] replace of example.com/old v1.0.0 with itself has no ...
	// 1 fix applied:
	// module example.com/app
	//
	// go 1.22
	//
	// require (
	// 	example.com/lib v1.2.0
	// 	example.com/old v1.0.0
	// )
	//
	// replace example.com/lib => example.com/lib v1.1.0
}
