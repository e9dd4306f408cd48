package modnet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/modnet/modnettest"
	"github.com/modkit/modkit/retry"
)

// prefetchFixture is a generated module graph served on loopback, with the
// main module written to a directory.
type prefetchFixture struct {
	graph   *modnettest.Graph
	srv     *modnettest.Server
	mainDir string
}

func newPrefetchFixture(t testing.TB, cfg modnettest.GraphConfig) *prefetchFixture {
	t.Helper()
	g, err := modnettest.GenerateGraph(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := modnettest.NewServer(g.Modules...)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	if err := g.WriteMain(dir); err != nil {
		t.Fatal(err)
	}
	return &prefetchFixture{graph: g, srv: srv, mainDir: dir}
}

// smallGraph is quick to generate and serve: a few dozen files.
var smallGraph = modnettest.GraphConfig{Seed: 3, Modules: 12, ZipBytes: 1 << 20}

// client returns a Client that fetches from the fixture's proxy into a new
// module cache, verifying against its checksum database for what go.sum
// lacks.
func (f *prefetchFixture) client(t testing.TB, modcache string, kv ...string) *Client {
	t.Helper()
	environ := map[string]string{
		"GOENV": "off", "GOROOT": t.TempDir(), "GOPATH": filepath.Join(t.TempDir(), "gopath"),
		"GOMODCACHE": modcache, "GOFLAGS": "-modcacherw",
		"GOPROXY": f.srv.URL, "GOSUMDB": f.srv.SumDB().GOSUMDB(), "GONOSUMDB": "", "GOPRIVATE": "",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		environ[kv[i]] = kv[i+1]
	}
	env, err := LoadEnvFrom(environ)
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Env: env}
	t.Cleanup(func() { c.Close() })
	return c
}

func (f *prefetchFixture) prefetch(t testing.TB, c *Client, req *PrefetchRequest) (*PrefetchResult, error) {
	t.Helper()
	if req == nil {
		req = &PrefetchRequest{}
	}
	if req.ModFile == "" && req.Modules == nil {
		req.ModFile = filepath.Join(f.mainDir, "go.mod")
	}
	return c.Prefetch(context.Background(), req)
}

// goRun runs the go command in dir on the module cache modcache.
func goRun(t testing.TB, dir, modcache string, kv ...string) (string, error) {
	t.Helper()
	env := append(goEnviron(goHome(t)), "GOMODCACHE="+modcache)
	if gc := hostGOCACHE(); gc != "" {
		env = append(env, "GOCACHE="+gc)
	}
	for i := 0; i+2 < len(kv); i += 2 {
		env = append(env, kv[i]+"="+kv[i+1])
	}
	args := strings.Fields(kv[len(kv)-1])
	cmd := exec.Command("go", args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// cacheState describes a module cache as the go command leaves it: every
// file under cache/download and in the extracted trees with a hash of its
// content, leaving out lock files, checksum database files and temporary
// files, which differ from run to run.
func cacheState(t testing.TB, modcache string) map[string]string {
	t.Helper()
	state := make(map[string]string)
	err := filepath.WalkDir(modcache, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(modcache, path)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == "cache/download/sumdb" || rel == "cache/vcs":
			return filepath.SkipDir
		case d.IsDir(), strings.HasSuffix(rel, ".lock"), rel == "cache/lock", strings.Contains(rel, ".tmp"):
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		state[rel] = hex.EncodeToString(sum[:8])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return state
}

func diffStates(a, b map[string]string) []string {
	var diffs []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			diffs = append(diffs, "only modkit: "+k)
		} else if v != w {
			diffs = append(diffs, "content differs: "+k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			diffs = append(diffs, "only go: "+k)
		}
	}
	slices.Sort(diffs)
	return diffs
}

// TestPrefetchMatchesGoModDownloadAll prefetches a generated graph, then
// checks that the go command works offline on the result and that the
// cache holds exactly what 'go mod download all' leaves.
func TestPrefetchMatchesGoModDownloadAll(t *testing.T) {
	needGo(t)
	f := newPrefetchFixture(t, smallGraph)
	modcache := filepath.Join(t.TempDir(), "modcache")
	res, err := f.prefetch(t, f.client(t, modcache), nil)
	if err != nil {
		t.Fatal(err)
	}
	full := 0
	for _, m := range res.Modules {
		if !m.GoModOnly {
			full++
		}
	}
	if full != len(f.graph.BuildList) {
		t.Errorf("%d modules downloaded in full, want the build list's %d", full, len(f.graph.BuildList))
	}
	for _, args := range []string{"mod download all", "build ./..."} {
		if out, err := goRun(t, f.mainDir, modcache, "GOPROXY", "off", "GOFLAGS", "-modcacherw -mod=readonly", args); err != nil {
			t.Fatalf("GOPROXY=off go %s after prefetch: %v\n%s", args, err, out)
		}
	}

	goCache := filepath.Join(t.TempDir(), "modcache")
	if out, err := goRun(t, f.mainDir, goCache, "GOPROXY", f.srv.URL, "GOSUMDB", f.srv.SumDB().GOSUMDB(), "GOFLAGS", "-modcacherw", "mod download all"); err != nil {
		t.Fatalf("go mod download all: %v\n%s", err, out)
	}
	if diffs := diffStates(cacheState(t, modcache), cacheState(t, goCache)); len(diffs) > 0 {
		t.Errorf("module cache after prefetch differs from go mod download all's:\n%s", strings.Join(diffs, "\n"))
	}
}

var (
	_ = errors.New
	_ = fmt.Sprint
	_ = io.EOF
	_ = sync.Mutex{}
	_ = time.Second
	_ = module.Version{}
	_ = retry.Client{}
)
