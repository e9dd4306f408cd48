package modnet

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"

	"github.com/modkit/modkit/internal/testenv"
)

func TestDirectRepoErrors(t *testing.T) {
	f := newDirectFixture(t)
	f.Net.HandleHTTPS("vanity.modkit.test", testenv.GoImport(
		testenv.FixturePlain+" git https://git.modkit.test/plain",
		testenv.FixtureEmpty+" git https://git.modkit.test/empty",
		"vanity.modkit.test/proxied mod https://proxy.modkit.test/base",
		"vanity.modkit.test/mercurial hg https://hg.modkit.test/r",
		"vanity.modkit.test/missing git https://git.modkit.test/missing",
	))
	// The repository URL itself answers 404 over https, as a forge does
	// for a repository that does not exist.
	f.Net.HandleHTTPS("git.modkit.test", http.NotFoundHandler())
	ctx := context.Background()
	env := f.env(t)
	open := func(path string) (repo, error) {
		return newDirectRepo(ctx, env, nil, path, fakeDiscoverOptions(f.Net), "")
	}

	plain, err := open(testenv.FixturePlain)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, err error, want string, notExist bool) {
		t.Helper()
		if err == nil || err.Error() != want {
			t.Errorf("%s: error\n\t%v\nwant\n\t%s", what, err, want)
		}
		if err != nil && errors.Is(err, fs.ErrNotExist) != notExist {
			t.Errorf("%s: errors.Is(err, fs.ErrNotExist) = %v, want %v", what, !notExist, notExist)
		}
	}
	_, err = plain.GoMod(ctx, "v1.0")
	check("GoMod(v1.0)", err, "version v1.0 is not canonical", false)
	err = plain.Zip(ctx, &bytes.Buffer{}, "v2.0.0")
	// Like the go command, Zip leaves the +incompatible rule to x/mod/zip.
	check("Zip(v2.0.0)", err, `create zip: vanity.modkit.test/plain@v2.0.0: invalid version: should be v0 or v1, not v2`, false)
	_, err = plain.GoMod(ctx, "v9.9.9")
	check("GoMod(v9.9.9)", err, "reading vanity.modkit.test/plain/go.mod at revision v9.9.9: unknown revision v9.9.9", true)
	_, err = plain.Stat(ctx, "v9.9.9")
	check("Stat(v9.9.9)", err, "vanity.modkit.test/plain@v9.9.9: invalid version: unknown revision v9.9.9", true)
	err = plain.Zip(ctx, &bytes.Buffer{}, "v1.0.1-0.20200501000001-"+f.Hash["c5"][:12])
	check("Zip(bad pseudo-version)", err, "vanity.modkit.test/plain@v1.0.1-0.20200501000001-"+f.Hash["c5"][:12]+": invalid pseudo-version: does not match version-control timestamp (expected 20200501000000)", false)

	empty, err := open(testenv.FixtureEmpty)
	if err != nil {
		t.Fatal(err)
	}
	_, err = empty.Latest(ctx)
	check("empty Latest", err, "no commits", true)
	if vs, err := empty.Versions(ctx); err != nil || len(vs) != 0 {
		t.Errorf("empty Versions = %v, %v", vs, err)
	}

	_, err = open("vanity.modkit.test/nosuch")
	check("unknown path", err, `unrecognized import path "vanity.modkit.test/nosuch": parse https://vanity.modkit.test/nosuch?go-get=1: no go-import meta tags (meta tag vanity.modkit.test/proxied did not match import path vanity.modkit.test/nosuch, meta tag vanity.modkit.test/plain did not match import path vanity.modkit.test/nosuch, meta tag vanity.modkit.test/empty did not match import path vanity.modkit.test/nosuch, meta tag vanity.modkit.test/mercurial did not match import path vanity.modkit.test/nosuch, meta tag vanity.modkit.test/missing did not match import path vanity.modkit.test/nosuch)`, true)

	_, err = open("vanity.modkit.test/proxied/sub")
	var pe *directProxyError
	if !errors.As(err, &pe) || pe.URL != "https://proxy.modkit.test/base" || pe.Root != "vanity.modkit.test/proxied" {
		t.Errorf("mod tag: %v", err)
	}

	_, err = newDirectRepo(ctx, f.env(t, "GOPRIVATE", "vanity.modkit.test"), nil, "vanity.modkit.test/mercurial", fakeDiscoverOptions(f.Net), "")
	check("hg", err, "vanity.modkit.test/mercurial: hg repository https://hg.modkit.test/r: modkit fetches only git repositories directly; use the go command (GOPROXY=direct go mod download vanity.modkit.test/mercurial)", false)
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("hg: does not match errors.ErrUnsupported: %v", err)
	}

	missing, err := open("vanity.modkit.test/missing")
	if err != nil {
		t.Fatal(err)
	}
	_, err = missing.Versions(ctx)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "git ls-remote -q --end-of-options https://git.modkit.test/missing") {
		t.Errorf("missing repository: %v", err)
	}

	// A work directory whose .info names another remote is not reused.
	vcsDir := filepath.Join(env.Get("GOMODCACHE"), "cache", "vcs")
	infos, _ := filepath.Glob(filepath.Join(vcsDir, "*.info"))
	for _, info := range infos {
		os.WriteFile(info, []byte("git3:https://elsewhere.example/r"), 0o666)
	}
	_, err = newDirectRepo(ctx, env, nil, testenv.FixturePlain, fakeDiscoverOptions(f.Net), "")
	if err == nil || !strings.Contains(err.Error(), "exists with wrong content") {
		t.Errorf("corrupt .info: %v", err)
	}
}

// TestDirectRepoSharesMirror checks that modkit and the go command share
// git mirrors in one module cache — one work directory per remote, either
// may create it — and that concurrent users of a mirror take turns.
func TestDirectRepoSharesMirror(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	f := newDirectFixture(t)
	ctx := context.Background()
	env := f.env(t)
	modCache := env.Get("GOMODCACHE")
	r := f.openDirect(t, env, testenv.FixturePlain)
	dev, err := r.Stat(ctx, "dev")
	if err != nil {
		t.Fatal(err)
	}

	g := newGoCmd(t, f, "GOMODCACHE", modCache)
	var wg sync.WaitGroup
	wg.Add(1)
	var goOut string
	var goErr error
	var goStderr string
	go func() {
		defer wg.Done()
		goOut, goStderr, goErr = g.Run("mod", "download", "-json", testenv.FixturePlain+"@"+dev.Version, testenv.FixturePlain+"@v2.1.0+incompatible")
	}()
	// Meanwhile modkit uses the same mirror from two repositories.
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f.openDirect(t, env, testenv.FixturePlain)
			if err := r.Zip(ctx, &bytes.Buffer{}, "v2.0.0+incompatible"); err != nil {
				t.Errorf("Zip: %v", err)
			}
			if _, err := r.Stat(ctx, "main"); err != nil {
				t.Errorf("Stat: %v", err)
			}
		}()
	}
	wg.Wait()
	if goErr != nil {
		t.Fatalf("go mod download: %v\n%s\n%s", goErr, goOut, goStderr)
	}
	dirs, _ := filepath.Glob(filepath.Join(modCache, "cache", "vcs", "*.info"))
	if len(dirs) != 1 {
		t.Errorf("work directories for one remote: %v", dirs)
	}
}

// TestZipNotCreateFromVCS records why Zip does not use
// golang.org/x/mod/zip.CreateFromVCS: on a commit whose .gitattributes
// asks for export-subst and export-ignore, CreateFromVCS (on a work tree)
// honours them and so hashes differently from the go command, which
// disables them; Zip matches the go command (see TestDirectMatchesGoCommand).
func TestZipNotCreateFromVCS(t *testing.T) {
	f := newDirectFixture(t)
	ctx := context.Background()
	r := f.openDirect(t, f.env(t), testenv.FixturePlain)
	const v = "v2.1.0+incompatible"
	var ours, theirs bytes.Buffer
	if err := r.Zip(ctx, &ours, v); err != nil {
		t.Fatal(err)
	}
	if err := modzip.CreateFromVCS(&theirs, module.Version{Path: testenv.FixturePlain, Version: v}, filepath.Join(f.Git.Root, "plain"), f.Hash["c4"], ""); err != nil {
		t.Fatal(err)
	}
	hash := func(b []byte) string {
		p := filepath.Join(t.TempDir(), "m.zip")
		os.WriteFile(p, b, 0o644)
		h, err := dirhash.HashZip(p, dirhash.Hash1)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	if hash(ours.Bytes()) == hash(theirs.Bytes()) {
		t.Errorf("CreateFromVCS now hashes %s like the go command; consider using it", v)
	}
}
