package modload_test

import (
	"context"
	"fmt"
	"io/fs"

	"golang.org/x/mod/modfile"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modload"
)

// goModMap is a [modload.GoModSource] over go.mod files held in memory. A
// [modnet.Client] is the source that fetches them along the module's
// route; one over the module cache alone works offline.
type goModMap map[string]string

func (m goModMap) GoMod(ctx context.Context, path, version string) ([]byte, error) {
	data, ok := m[path+"@"+version]
	if !ok {
		return nil, &modnet.ModuleError{Path: path, Version: version, Err: fs.ErrNotExist}
	}
	return []byte(data), nil
}

// A module graph, loaded as the go command loads it: example.com/b is
// required at two versions and the higher one is selected; the graph is
// pruned below example.com/a, so example.com/c's requirements are not in
// it; the go.mod of example.com/d is missing, which the graph records.
func ExampleLoader() {
	f, err := modfile.Parse("go.mod", []byte(`module example.com/main

go 1.22

require (
	example.com/a v1.0.0
	example.com/b v1.1.0
	example.com/d v1.0.0
)
`), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	main, err := modload.NewMainModule(f, "/src/main")
	if err != nil {
		fmt.Println(err)
		return
	}
	l := &modload.Loader{Source: goModMap{
		"example.com/a@v1.0.0": "module example.com/a\n\ngo 1.22\n\nrequire (\n\texample.com/b v1.2.0\n\texample.com/c v1.0.0\n)\n",
		"example.com/b@v1.1.0": "module example.com/b\n\ngo 1.22\n",
		"example.com/c@v1.0.0": "module example.com/c\n\ngo 1.22\n\nrequire example.com/e v1.0.0\n",
	}}
	g := l.Load(context.Background(), main)
	for _, m := range g.BuildList() {
		fmt.Println(m, "required by", g.Requirers(m))
	}
	for _, fail := range g.Failures() {
		fmt.Println("missing:", fail.Module)
	}
	fmt.Println(g.Versions("example.com/b"), "selected:", g.Selected("example.com/b"))
	// Output:
	// example.com/a@v1.0.0 required by [example.com/main]
	// example.com/b@v1.2.0 required by [example.com/a@v1.0.0]
	// example.com/c@v1.0.0 required by [example.com/a@v1.0.0]
	// example.com/d@v1.0.0 required by [example.com/main]
	// missing: example.com/d@v1.0.0
	// [v1.1.0 v1.2.0] selected: v1.2.0
}
