package modnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"

	"github.com/modkit/modkit/internal/testenv"
)

// This file compares direct mode with the installed go command on the
// repositories of directFixture: version lists, what branches, hashes,
// tags and versions resolve to (with the .info Origin), go.mod and zip
// hashes of downloads, and the GOVCS and GOINSECURE decisions.

// newGoCmd returns the go command with GOPROXY=direct through the
// fixture's fake network and git configuration, in a fresh module cache,
// with the further settings kv (key, value, ...).
func newGoCmd(t *testing.T, f *directFixture, kv ...string) *testenv.Go {
	t.Helper()
	testenv.GoBin(t)
	if testing.Short() {
		t.Skip("runs the go command")
	}
	env := append(f.Net.GoEnv(), "GIT_CONFIG_GLOBAL="+f.Git.Config, "GOPROXY=direct", "GOSUMDB=off")
	for i := 0; i+1 < len(kv); i += 2 {
		env = append(env, kv[i]+"="+kv[i+1])
	}
	return testenv.NewGo(t, env...)
}

// openDirect opens the direct repository for a module in a fresh cache.
func (f *directFixture) openDirect(t *testing.T, env *Env, modPath string) repo {
	t.Helper()
	route, err := env.Route(modPath)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newDirectRepo(context.Background(), env, route, modPath, fakeDiscoverOptions(f.Net), "")
	if err != nil {
		t.Fatalf("newDirectRepo(%s): %v", modPath, err)
	}
	return r
}

func TestDirectMatchesGoCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	f := newDirectFixture(t)
	ctx := context.Background()
	env := f.env(t)
	mods := []string{testenv.FixturePlain, testenv.FixtureMajor, testenv.FixtureMajor + "/v2", testenv.FixtureMajor + "/v3", testenv.FixtureMajor + "/sub", testenv.FixtureSubdirTag, testenv.FixtureFullV2}
	repos := map[string]repo{}
	for _, m := range mods {
		repos[m] = f.openDirect(t, env, m)
	}
	short := func(name string) string { return f.Hash[name][:12] }

	t.Run("versions", func(t *testing.T) {
		out, stderr, err := newGoCmd(t, f).Run(append([]string{"list", "-m", "-e", "-versions", "-retracted", "-json"}, mods...)...)
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, stderr)
		}
		for _, g := range testenv.DecodeAll[struct {
			Path     string
			Versions []string
		}](t, out) {
			got, err := repos[g.Path].Versions(ctx)
			if err != nil {
				t.Errorf("%s: Versions: %v", g.Path, err)
				continue
			}
			if len(g.Versions) == 0 {
				t.Errorf("%s: the go command lists no versions; the fixture is broken", g.Path)
			}
			if !reflect.DeepEqual(got, g.Versions) && len(got)+len(g.Versions) > 0 {
				t.Errorf("%s: Versions = %v, go command lists %v", g.Path, got, g.Versions)
			}
		}
	})

	// Each query runs in a fresh module cache, on both sides: what a
	// commit's Origin records depends on what the mirror already holds (a
	// hash found locally has no Ref) and on .info files earlier queries left
	// in the cache, in modkit as in the go command. To save time, a round
	// asks one question of each repository, which share nothing.
	t.Run("queries", func(t *testing.T) {
		plain := []string{
			"dev", "main", "HEAD", short("c5"), f.Hash["c4"], f.Hash["c4"][:7], f.Hash["c1"][:10],
			"v2.1.0+meta", "v2.0.0", "v1.0.0", "v0.1.0", "v9.9.9", "nosuchbranch",
			"v1.0.1-0.20200501000000-" + short("c5"),
			"v1.0.1-0.20200501000001-" + short("c5"),
			"v0.0.0-20200501000000-" + short("c5"),
			"v1.0.0-20200501000000-" + short("c5"),
			"v2.1.1-0.20200501000000-" + short("c5") + "+incompatible",
			"v1.0.0-20200101000000-abcdefabcdef",
		}
		major := []string{
			"@main", "@v1.0.0", "@v2.0.0",
			"/v2@main", "/v2@feature", "/v2@v2.1.0", "/v2@v1.0.0",
			"/v3@main", "/v3@v3.0.0", "/v3@" + short("m1"),
			"/sub@main", "/sub@feature", "/sub@v1.2.0", "/sub@sub/v1.2.0", "/sub@v0.1.0", "/sub@" + short("m2"),
		}
		untagged := []string{
			"@latest", "@main", "@" + short("u1"), "@v0.0.0-20220101000000-" + short("u1"), "@v1.0.0-20220101000000-" + short("u1"),
			"@v0.0.0-20220101000000-" + f.Hash["u1"][:11],
		}
		// empty@latest is left to the query layer, which turns the
		// repository's "no commits" (fs.ErrNotExist) into "no matching versions".
		empty := []string{"@main", "@v1.0.0"}
		lists := [][]string{plain, major, untagged, empty}
		prefixes := []string{testenv.FixturePlain + "@", testenv.FixtureMajor, testenv.FixtureUntagged, testenv.FixtureEmpty}
		for i := 0; i < len(plain); i++ {
			var round []string
			for j, l := range lists {
				if i < len(l) {
					round = append(round, prefixes[j]+l[i])
				}
			}
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				compareQueries(t, f, round)
			})
		}
	})

	t.Run("downloads", func(t *testing.T) {
		type dl struct{ mod, query string }
		var want []dl
		for _, m := range mods {
			vs, _ := repos[m].Versions(ctx)
			for _, v := range vs {
				want = append(want, dl{m, v})
			}
		}
		want = append(want, dl{testenv.FixturePlain, "dev"}, dl{testenv.FixturePlain, "main"},
			dl{testenv.FixtureMajor + "/v2", "feature"}, dl{testenv.FixtureMajor + "/v3", "main"}, dl{testenv.FixtureMajor + "/sub", "feature"},
			dl{testenv.FixtureSubdirTag, "feature"}, dl{testenv.FixtureFullV2, "main"})
		var args []string
		for i, d := range want {
			info, err := repos[d.mod].Stat(ctx, d.query)
			if err != nil {
				t.Fatalf("%s@%s: %v", d.mod, d.query, err)
			}
			want[i].query = info.Version
			args = append(args, d.mod+"@"+info.Version)
		}
		out, stderr, err := newGoCmd(t, f).Run(append([]string{"mod", "download", "-json"}, args...)...)
		if err != nil {
			t.Fatalf("go mod download: %v\n%s\n%s", err, out, stderr)
		}
		results := testenv.DecodeAll[struct {
			Path, Version, Info, GoMod, Sum, GoModSum, Error string
		}](t, out)
		if len(results) != len(want) {
			t.Fatalf("go mod download printed %d results for %d modules", len(results), len(want))
		}
		for _, g := range results {
			r := repos[g.Path]
			mv := g.Path + "@" + g.Version
			if g.Error != "" {
				t.Errorf("%s: go command: %s", mv, g.Error)
				continue
			}
			var zbuf bytes.Buffer
			if err := r.Zip(ctx, &zbuf, g.Version); err != nil {
				t.Errorf("%s: Zip: %v", mv, err)
				continue
			}
			zfile := filepath.Join(t.TempDir(), "m.zip")
			if err := os.WriteFile(zfile, zbuf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			if sum, err := dirhash.HashZip(zfile, dirhash.Hash1); err != nil || sum != g.Sum {
				t.Errorf("%s: zip hash %s (%v), go command %s", mv, sum, err, g.Sum)
			}
			gomod, err := r.GoMod(ctx, g.Version)
			if err != nil {
				t.Errorf("%s: GoMod: %v", mv, err)
				continue
			}
			goGoMod, _ := os.ReadFile(g.GoMod)
			if !bytes.Equal(gomod, goGoMod) {
				t.Errorf("%s: go.mod\n%s\ngo command:\n%s", mv, gomod, goGoMod)
			}
			if sum := goModHash(t, gomod); sum != g.GoModSum {
				t.Errorf("%s: go.mod hash %s, go command %s", mv, sum, g.GoModSum)
			}
			info, err := r.Stat(ctx, g.Version)
			if err != nil {
				t.Errorf("%s: Stat: %v", mv, err)
				continue
			}
			// As the module cache stores it (Cache.WriteInfo drops what
			// cmd/go's writeDiskStat drops).
			file, err := (&Cache{Dir: t.TempDir()}).WriteInfo(ctx, module.Version{Path: g.Path, Version: g.Version}, info)
			if err != nil {
				t.Fatal(err)
			}
			js, _ := os.ReadFile(file)
			goInfo, _ := os.ReadFile(g.Info)
			if !bytes.Equal(js, goInfo) {
				t.Errorf("%s: .info\n\t%s\ngo command:\n\t%s", mv, js, goInfo)
			}
		}
	})
}

// compareQueries resolves module queries with 'go list -m -json' and with
// direct mode, each side in a fresh module cache, and compares version,
// time and Origin, or the error text.
func compareQueries(t *testing.T, f *directFixture, queries []string) {
	out, stderr, err := newGoCmd(t, f).Run(append([]string{"list", "-m", "-e", "-json"}, queries...)...)
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	results := testenv.DecodeAll[struct {
		Path, Version, Query string
		Time                 *time.Time
		Origin               *Origin
		Error                *struct{ Err string }
	}](t, out)
	if len(results) != len(queries) {
		t.Fatalf("go list printed %d results for %d queries", len(results), len(queries))
	}
	env := f.env(t)
	for i, g := range results {
		q := queries[i]
		mod, rev, _ := strings.Cut(q, "@")
		info, err := f.openDirect(t, env, mod).Stat(context.Background(), rev)
		switch {
		case g.Error != nil && err == nil:
			t.Errorf("%s: Stat = %s, go command fails: %s", q, info.Version, g.Error.Err)
		case g.Error == nil && err != nil:
			t.Errorf("%s: Stat fails: %v; go command resolves %s", q, err, g.Version)
		case g.Error != nil:
			if err.Error() != g.Error.Err {
				t.Errorf("%s: error\n\t%v\ngo command:\n\t%s", q, err, g.Error.Err)
			}
			if !errors.Is(err, fs.ErrNotExist) && strings.Contains(g.Error.Err, "unknown revision") {
				t.Errorf("%s: unknown revision does not match fs.ErrNotExist: %v", q, err)
			}
		default:
			if info.Version != g.Version || !info.Time.Equal(*g.Time) || !reflect.DeepEqual(info.Origin, g.Origin) {
				t.Errorf("%s:\n\tStat   %s %s %+v\n\tgo cmd %s %s %+v", q, info.Version, info.Time, info.Origin, g.Version, g.Time, g.Origin)
			}
		}
	}
}

// goModHash is the go.sum hash of a go.mod file ("/go.mod" lines).
func goModHash(t *testing.T, data []byte) string {
	t.Helper()
	h, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}
