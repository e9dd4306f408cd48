package modnettest

import (
	"archive/zip"
	"bytes"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
)

func TestGenerateGraphDeterministic(t *testing.T) {
	cfg := GraphConfig{Seed: 7, Modules: 10, ZipBytes: 200 << 10}
	a, err := GenerateGraph(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateGraph(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("two graphs from one config differ")
	}
	cfg.Seed = 8
	c, err := GenerateGraph(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a.GoSum == c.GoSum {
		t.Error("graphs from different seeds have the same go.sum")
	}
	if len(a.BuildList) != cfg.Modules {
		t.Errorf("build list has %d modules, want %d", len(a.BuildList), cfg.Modules)
	}
	if a.ZipBytes < cfg.ZipBytes*9/10 {
		t.Errorf("zips total %d bytes, want about %d: content is not incompressible", a.ZipBytes, cfg.ZipBytes)
	}
}

// TestGraphGoModDownloadAll runs "go mod download all" on a generated graph
// and checks that "go mod tidy" finds nothing to change: the graph, its
// go.mod and its go.sum are what the go command itself would produce.
func TestGraphGoModDownloadAll(t *testing.T) {
	g, err := GenerateGraph(GraphConfig{Seed: 1, Modules: 16, ZipBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(g.Modules...)
	defer srv.Close()

	gc := testenv.NewGo(t, "GOPROXY="+srv.URL, "GOSUMDB="+srv.SumDB().GOSUMDB())
	if err := g.WriteMain(gc.Dir); err != nil {
		t.Fatal(err)
	}
	gc.MustRun("mod", "download", "all")
	for _, r := range srv.Requests() {
		if r.Kind == KindSumDB {
			t.Errorf("go consulted the checksum database although go.sum is complete: %s", r)
		}
	}
	gc.MustRun("mod", "verify")
	gc.MustRun("mod", "tidy")
	for name, want := range map[string]string{"go.mod": g.GoMod, "go.sum": g.GoSum} {
		got, err := os.ReadFile(filepath.Join(gc.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("go mod tidy changed %s:\n%s\nwant:\n%s", name, got, want)
		}
	}
	list := gc.MustRun("list", "-m", "all")
	var want []string
	want = append(want, g.Path)
	for _, m := range g.BuildList {
		want = append(want, m.Path+" "+m.Version)
	}
	if got := strings.TrimSpace(list); got != strings.Join(want, "\n") {
		t.Errorf("go list -m all:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

// TestRealFiles: a graph with RealFiles has modules of real shape: about
// 170 files in about 46 directories each.
func TestRealFiles(t *testing.T) {
	g, err := GenerateGraph(GraphConfig{Seed: 5, Modules: 20, ZipBytes: 4 << 20, RealFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	files, dirs := 0, map[string]bool{}
	for _, m := range g.Modules {
		for _, v := range g.BuildList {
			if v.Path != m.Path || v.Version != m.Version {
				continue
			}
			z, err := zip.NewReader(bytes.NewReader(m.Zip), int64(len(m.Zip)))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range z.File {
				files++
				dirs[path.Dir(f.Name)] = true
			}
		}
	}
	perFiles, perDirs := files/len(g.BuildList), len(dirs)/len(g.BuildList)
	if perFiles < 120 || perFiles > 400 || perDirs < 25 || perDirs > 80 {
		t.Errorf("%d files in %d directories per module; want about 170 in about 46", perFiles, perDirs)
	}
}
