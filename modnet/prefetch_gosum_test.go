package modnet

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/modkit/modkit/modnet/modnettest"
)

// copyDir copies the regular files of a directory tree.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o777)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o666)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func readOrEmpty(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return "<none>"
	}
	return string(data)
}

// olderVersion returns a module of the graph served at a version below the
// build list's, if there is one.
func olderVersion(g *modnettest.Graph) (selected, older module.Version, ok bool) {
	sel := map[string]string{}
	for _, m := range g.BuildList {
		sel[m.Path] = m.Version
	}
	for _, m := range g.Modules {
		if v, in := sel[m.Path]; in && semver.Compare(m.Version, v) < 0 {
			return module.Version{Path: m.Path, Version: v}, module.Version{Path: m.Path, Version: m.Version}, true
		}
	}
	return module.Version{}, module.Version{}, false
}

// TestPrefetchGoSumMatchesGoCommand runs 'go mod download all' and Prefetch
// on copies of one main module whose go.sum is complete, missing, missing
// half its lines, or has stale lines out of order, and whose go.mod may
// replace a module by another version or by a directory: the go.sum each
// leaves must be byte for byte the same, and 'go mod tidy -diff' must say
// the same afterwards.
func TestPrefetchGoSumMatchesGoCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	f := newPrefetchFixture(t, modnettest.GraphConfig{Seed: 5, Modules: 10, ZipBytes: 256 << 10})
	selected, older, ok := olderVersion(f.graph)
	if !ok {
		t.Fatal("the graph has no module with two versions; pick another seed")
	}
	sumLines := strings.SplitAfter(f.graph.GoSum, "\n")
	rng := rand.New(rand.NewPCG(1, 1))
	var half []string
	for _, l := range sumLines {
		if rng.IntN(2) == 0 {
			half = append(half, l)
		}
	}
	stale := "example.com/stale v1.0.0/go.mod h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	for _, tc := range []struct {
		name  string
		gosum string // "<none>" for no file
		gomod func(string) string
		local bool // a directory replacement
	}{
		{name: "complete", gosum: f.graph.GoSum},
		{name: "missing", gosum: "<none>"},
		{name: "empty", gosum: ""},
		{name: "half", gosum: strings.Join(half, "")},
		{name: "stale and unsorted", gosum: stale + strings.Join(sumLines[len(sumLines)/2:], "") + strings.Join(sumLines[:len(sumLines)/2], "")},
		{name: "replaced by a version", gosum: f.graph.GoSum, gomod: func(s string) string {
			return s + "\nreplace " + selected.Path + " " + selected.Version + " => " + older.Path + " " + older.Version + "\n"
		}},
		{name: "replaced by a directory", gosum: "", local: true, gomod: func(s string) string {
			return s + "\nreplace " + selected.Path + " => ./local\n"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			copyDir(t, f.mainDir, base)
			os.Remove(filepath.Join(base, "go.sum"))
			if tc.gosum != "<none>" {
				writeFile(t, filepath.Join(base, "go.sum"), tc.gosum)
			}
			if tc.gomod != nil {
				gomod := readOrEmpty(t, filepath.Join(base, "go.mod"))
				writeFile(t, filepath.Join(base, "go.mod"), tc.gomod(gomod))
			}
			if tc.local {
				writeFile(t, filepath.Join(base, "local", "go.mod"), "module "+selected.Path+"\n\ngo 1.21\n")
				// The package main.go imports, if it is this module's.
				writeFile(t, filepath.Join(base, "local", "x.go"), "package x\n")
			}
			goDir, mkDir := filepath.Join(t.TempDir(), "go"), filepath.Join(t.TempDir(), "modkit")
			copyDir(t, base, goDir)
			copyDir(t, base, mkDir)
			goCache, mkCache := filepath.Join(t.TempDir(), "gocache"), filepath.Join(t.TempDir(), "mkcache")
			gosumdb := f.srv.SumDB().GOSUMDB()
			if out, err := goRun(t, goDir, goCache, "GOPROXY", f.srv.URL, "GOSUMDB", gosumdb, "GOFLAGS", "-modcacherw", "mod download all"); err != nil {
				t.Fatalf("go mod download all: %v\n%s", err, out)
			}
			c := f.client(t, mkCache)
			res, err := c.Prefetch(context.Background(), &PrefetchRequest{ModFile: filepath.Join(mkDir, "go.mod")})
			if err != nil {
				t.Fatalf("Prefetch: %v", err)
			}
			goSum, mkSum := readOrEmpty(t, filepath.Join(goDir, "go.sum")), readOrEmpty(t, filepath.Join(mkDir, "go.sum"))
			if goSum != mkSum {
				t.Errorf("go.sum differs\ngo:\n%s\nmodkit (added %d lines):\n%s", goSum, len(res.GoSumAdded), mkSum)
			}
			if (goSum == readOrEmpty(t, filepath.Join(base, "go.sum"))) != (len(res.GoSumAdded) == 0) {
				t.Errorf("the go command changed go.sum: %v; modkit added %q", goSum != readOrEmpty(t, filepath.Join(base, "go.sum")), res.GoSumAdded)
			}
			if d := modnettest.DiffCaches(cacheState(t, goCache), cacheState(t, mkCache), "go", "modkit"); len(d) > 0 {
				t.Errorf("module caches differ:\n%s", strings.Join(d, "\n"))
			}
			// What tidy would still change is the same after both.
			goTidy, _ := goRun(t, goDir, goCache, "GOPROXY", "off", "GOFLAGS", "-modcacherw", "mod tidy -diff")
			mkTidy, _ := goRun(t, mkDir, mkCache, "GOPROXY", "off", "GOFLAGS", "-modcacherw", "mod tidy -diff")
			if goTidy != mkTidy {
				t.Errorf("go mod tidy -diff differs\nafter go:\n%s\nafter modkit:\n%s", goTidy, mkTidy)
			}
		})
	}

	t.Run("NoGoSum", func(t *testing.T) {
		dir := t.TempDir()
		copyDir(t, f.mainDir, dir)
		writeFile(t, filepath.Join(dir, "go.sum"), strings.Join(half, ""))
		before := readOrEmpty(t, filepath.Join(dir, "go.sum"))
		res, err := f.client(t, filepath.Join(t.TempDir(), "mod")).Prefetch(context.Background(), &PrefetchRequest{ModFile: filepath.Join(dir, "go.mod"), NoGoSum: true})
		if err != nil || len(res.GoSumAdded) != 0 || readOrEmpty(t, filepath.Join(dir, "go.sum")) != before {
			t.Errorf("NoGoSum: %v, added %q; go.sum changed: %v", err, res.GoSumAdded, readOrEmpty(t, filepath.Join(dir, "go.sum")) != before)
		}
	})
}

// TestPrefetchWorkspaceMatchesGoCommand prefetches a go.work workspace of
// two modules, one the generated graph's main module, the other requiring
// an older version of one of its dependencies and a module of the graph
// the first does not require directly: 'go mod download' in the workspace
// and Prefetch with WorkFile must fetch the same files (the workspace's
// build list, not one module's) and leave the same go.work.sum, and
// neither module's go.sum.
func TestPrefetchWorkspaceMatchesGoCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	f := newPrefetchFixture(t, modnettest.GraphConfig{Seed: 5, Modules: 10, ZipBytes: 256 << 10})
	_, older, ok := olderVersion(f.graph)
	if !ok {
		t.Fatal("the graph has no module with two versions; pick another seed")
	}
	last := f.graph.BuildList[len(f.graph.BuildList)-1]
	base := t.TempDir()
	copyDir(t, f.mainDir, filepath.Join(base, "a"))
	writeFile(t, filepath.Join(base, "b", "go.mod"), "module example.com/b\n\ngo 1.21\n\nrequire (\n\t"+older.Path+" "+older.Version+"\n\t"+last.Path+" "+last.Version+"\n)\n")
	writeFile(t, filepath.Join(base, "go.work"), "go 1.21\n\nuse (\n\t./a\n\t./b\n)\n")

	goDir, mkDir := filepath.Join(t.TempDir(), "go"), filepath.Join(t.TempDir(), "modkit")
	copyDir(t, base, goDir)
	copyDir(t, base, mkDir)
	goCache, mkCache := filepath.Join(t.TempDir(), "gocache"), filepath.Join(t.TempDir(), "mkcache")
	if out, err := goRun(t, goDir, goCache, "GOPROXY", f.srv.URL, "GOSUMDB", f.srv.SumDB().GOSUMDB(), "GOFLAGS", "-modcacherw", "GOWORK", filepath.Join(goDir, "go.work"), "mod download"); err != nil {
		t.Fatalf("go mod download: %v\n%s", err, out)
	}
	c := f.client(t, mkCache)
	res, err := c.Prefetch(context.Background(), &PrefetchRequest{WorkFile: filepath.Join(mkDir, "go.work")})
	if err != nil {
		t.Fatalf("Prefetch: %v", err)
	}
	if res.Work == "" || res.Main != "" {
		t.Errorf("result Work %q, Main %q", res.Work, res.Main)
	}
	if d := modnettest.DiffCaches(cacheState(t, goCache), cacheState(t, mkCache), "go", "modkit"); len(d) > 0 {
		t.Errorf("module caches differ:\n%s", strings.Join(d, "\n"))
	}
	for _, name := range []string{"go.work.sum", "a/go.sum", "b/go.sum"} {
		g, m := readOrEmpty(t, filepath.Join(goDir, name)), readOrEmpty(t, filepath.Join(mkDir, name))
		if g != m {
			t.Errorf("%s differs\ngo:\n%s\nmodkit:\n%s", name, g, m)
		}
	}
	if !bytes.Contains([]byte(readOrEmpty(t, filepath.Join(mkDir, "go.work.sum"))), []byte(older.Path+" "+older.Version+"/go.mod")) {
		t.Errorf("go.work.sum lacks b's requirement's go.mod hash:\n%s", readOrEmpty(t, filepath.Join(mkDir, "go.work.sum")))
	}
}
