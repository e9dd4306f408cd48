package realgraph_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"

	"github.com/modkit/modkit/examples/internal/realgraph"
)

// The pinned go.sum must have the lines 'go mod download all' needs for
// every requirement, or the benchmark would depend on a checksum database.
func TestMainModuleIsComplete(t *testing.T) {
	dir := t.TempDir()
	if err := realgraph.WriteMain(dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Require) < 50 {
		t.Errorf("go.mod requires %d modules; the real graph's main module requires more than 50", len(f.Require))
	}
	for _, r := range f.Require {
		for _, v := range []string{r.Mod.Version, r.Mod.Version + "/go.mod"} {
			if !strings.Contains(string(sum), r.Mod.Path+" "+v+" h1:") {
				t.Errorf("go.sum has no line for %s %s", r.Mod.Path, v)
			}
		}
	}
}

func TestStatsNamesMissingZip(t *testing.T) {
	tree := &realgraph.Tree{Dir: t.TempDir()}
	_, err := tree.Stats()
	if err == nil || !strings.Contains(err.Error(), "to fetch it again") {
		t.Fatalf("Stats of an empty tree: %v, want an error saying how to fetch it again", err)
	}
}

func ExampleWriteMain() {
	dir, err := os.MkdirTemp("", "realgraph")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	if err := realgraph.WriteMain(dir); err != nil {
		fmt.Println(err)
		return
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	// Output:
	// go.mod
	// go.sum
	// main.go
}
