package modnettest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
)

// TestWriteDirMatchesServer checks that a directory written by WriteDir and
// served by NewServerFromDir answers byte for byte like the in-memory server.
func TestWriteDirMatchesServer(t *testing.T) {
	mods := testModules()
	dir := t.TempDir()
	if err := WriteDir(dir, mods...); err != nil {
		t.Fatal(err)
	}
	mem := NewServer(mods...)
	defer mem.Close()
	disk := NewServerFromDir(dir)
	defer disk.Close()

	paths := []string{"/example.com/hello/@v/list", "/example.com/hello/@latest", "/example.com/!upper/!mod/v2/@v/list", "/example.com/!upper/!mod/v2/@latest"}
	for _, m := range mods {
		for _, kind := range []FileKind{KindInfo, KindMod, KindZip} {
			p, err := dirFile("", target{kind: kind, module: m.Path, version: m.Version})
			if err != nil {
				t.Fatal(err)
			}
			paths = append(paths, "/"+filepath.ToSlash(p))
		}
	}
	for _, p := range paths {
		want, wantBody, err := get(mem.Client(), mem.URL+p)
		if err != nil {
			t.Fatal(err)
		}
		got, gotBody, err := get(disk.Client(), disk.URL+p)
		if err != nil {
			t.Fatal(err)
		}
		if got.StatusCode != 200 || want.StatusCode != 200 || string(gotBody) != string(wantBody) {
			t.Errorf("GET %s: from dir %s %q, from memory %s %q", p, got.Status, trim(string(gotBody)), want.Status, trim(string(wantBody)))
		}
	}
	for _, p := range []string{"/example.com/hello/@v/v9.0.0.zip", "/example.com/nope/@v/list", "/example.com/nope/@latest"} {
		resp, body, _ := get(disk.Client(), disk.URL+p)
		if resp.StatusCode != 404 || strings.Contains(string(body), dir) {
			t.Errorf("GET %s from dir: %s %q, want 404 without the local path", p, resp.Status, body)
		}
	}
}

func TestWriteDirMergesList(t *testing.T) {
	dir := t.TempDir()
	mods := testModules()
	if err := WriteDir(dir, mods[1]); err != nil {
		t.Fatal(err)
	}
	if err := WriteDir(dir, mods[0], Module{Path: "example.com/hello", Version: "v1.2.0-rc.1"}); err != nil {
		t.Fatal(err)
	}
	list, err := os.ReadFile(filepath.Join(dir, "example.com/hello/@v/list"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(list), "v1.0.0\nv1.1.0\nv1.2.0-rc.1\n"; got != want {
		t.Errorf("list = %q, want %q", got, want)
	}
	latest, err := os.ReadFile(filepath.Join(dir, "example.com/hello/@latest"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(latest), `"v1.1.0"`) {
		t.Errorf("@latest = %s, want v1.1.0 (a release beats a pre-release)", latest)
	}
}

// TestGoFileProxy downloads with GOPROXY=file:// from a directory written by
// WriteDir, verifying against the checksum database of a server holding the
// same modules in memory.
func TestGoFileProxy(t *testing.T) {
	mods := testModules()
	dir := t.TempDir()
	if err := WriteDir(dir, mods...); err != nil {
		t.Fatal(err)
	}
	db := NewServer(mods...)
	defer db.Close()
	g := testenv.NewGo(t, "GOPROXY="+DirURL(dir), "GOSUMDB="+db.SumDB().GOSUMDB())
	out := g.MustRun("mod", "download", "-json", "example.com/hello@latest", "example.com/Upper/Mod/v2@v2.3.0")
	for _, d := range testenv.DecodeAll[testenv.ModDownload](t, out) {
		if d.Error != "" || d.Sum == "" {
			t.Errorf("%s@%s: Error %q, Sum %q", d.Path, d.Version, d.Error, d.Sum)
		}
	}
}

// TestServeModuleCache fills a module cache with the go command, serves its
// cache/download directory and downloads from it into a second cache,
// verifying against the checksum database the directory server computes
// from the cached files, reached through the proxy.
func TestServeModuleCache(t *testing.T) {
	origin := NewServer(testModules()...)
	defer origin.Close()
	first := testenv.NewGo(t, "GOPROXY="+origin.URL, "GOSUMDB="+origin.SumDB().GOSUMDB())
	first.MustRun("mod", "download", "example.com/hello@v1.1.0", "example.com/Upper/Mod/v2@v2.3.0")

	cache := NewServerFromDir(filepath.Join(first.ModCache(), "cache", "download"))
	defer cache.Close()
	second := testenv.NewGo(t, "GOPROXY="+cache.URL, "GOSUMDB="+cache.SumDB().Key())
	out := second.MustRun("mod", "download", "-json", "example.com/hello@v1.1.0", "example.com/Upper/Mod/v2@v2.3.0")
	for _, d := range testenv.DecodeAll[testenv.ModDownload](t, out) {
		want, _ := findModule(t, testModules(), d.Path, d.Version).GoSum()
		if d.Error != "" || !strings.Contains(want, " "+d.Sum+"\n") {
			t.Errorf("%s@%s: Error %q, Sum %q; want sums from\n%s", d.Path, d.Version, d.Error, d.Sum, want)
		}
	}
	var lookups int
	for _, r := range cache.Requests() {
		if strings.Contains(r.Path, "/lookup/") {
			lookups++
		}
	}
	if lookups != 2 {
		t.Errorf("%d checksum database lookups, want 2:\n%s", lookups, cache.Requests())
	}
}
