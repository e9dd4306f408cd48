package modnet

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// A fixtureModule is one module version built in memory: its zip made with
// golang.org/x/mod/zip, as a proxy would serve it.
type fixtureModule struct {
	mod              module.Version
	gomod, zip, info []byte
	sum, gomodSum    string // h1: hashes
}

type memFile struct {
	path string
	data []byte
}

func (f memFile) Path() string                 { return f.path }
func (f memFile) Lstat() (fs.FileInfo, error)  { return memFileInfo{f}, nil }
func (f memFile) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(f.data)), nil }

type memFileInfo struct{ f memFile }

func (i memFileInfo) Name() string       { return filepath.Base(i.f.path) }
func (i memFileInfo) Size() int64        { return int64(len(i.f.data)) }
func (i memFileInfo) Mode() fs.FileMode  { return 0o644 }
func (i memFileInfo) ModTime() time.Time { return time.Time{} }
func (i memFileInfo) IsDir() bool        { return false }
func (i memFileInfo) Sys() any           { return nil }

// newFixtureModule builds path@version with a go.mod, a package whose
// constant V is the version, and a file in a subdirectory.
func newFixtureModule(t testing.TB, path, version string) *fixtureModule {
	t.Helper()
	m := &fixtureModule{mod: module.Version{Path: path, Version: version}}
	m.gomod = []byte("module " + path + "\n\ngo 1.21\n")
	files := []modzip.File{
		memFile{"go.mod", m.gomod},
		memFile{"m.go", []byte("package m\n\nconst V = \"" + version + "\"\n")},
		memFile{"sub/sub.go", []byte("package sub\n")},
	}
	var buf bytes.Buffer
	if err := modzip.Create(&buf, m.mod, files); err != nil {
		t.Fatal(err)
	}
	m.zip = buf.Bytes()
	m.info = []byte(fmt.Sprintf(`{"Version":%q,"Time":"2024-01-02T03:04:05Z"}`, version))
	zf := filepath.Join(t.TempDir(), "m.zip")
	if err := os.WriteFile(zf, m.zip, 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	if m.sum, err = HashZip(zf); err != nil {
		t.Fatal(err)
	}
	if m.gomodSum, err = HashGoMod(m.gomod); err != nil {
		t.Fatal(err)
	}
	return m
}

// goSumLines returns the module's two go.sum lines.
func (m *fixtureModule) goSumLines() string {
	return fmt.Sprintf("%s %s %s\n%s %s/go.mod %s\n", m.mod.Path, m.mod.Version, m.sum, m.mod.Path, m.mod.Version, m.gomodSum)
}

// fetchBytes is a DownloadZip fetch function that writes data.
func fetchBytes(data []byte) func(context.Context, *ZipTemp) error {
	return func(_ context.Context, w *ZipTemp) error {
		_, err := w.Write(data)
		return err
	}
}

// storeFixture writes m into c as a downloader would: .info, .mod, zip,
// extracted directory.
func storeFixture(t testing.TB, c *Cache, m *fixtureModule) string {
	t.Helper()
	ctx := context.Background()
	var info Info
	if err := json.Unmarshal(m.info, &info); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteInfo(ctx, m.mod, &info); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteGoMod(ctx, m.mod, m.gomod); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DownloadZip(ctx, m.mod, fetchBytes(m.zip), nil); err != nil {
		t.Fatal(err)
	}
	dir, err := c.Extract(ctx, m.mod)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// newTestCache returns a cache in a temporary directory that is removed
// even though extraction leaves it read-only.
func newTestCache(t testing.TB) *Cache {
	t.Helper()
	dir := t.TempDir()
	t.Cleanup(func() { RemoveAll(dir) })
	return &Cache{Dir: dir}
}

// listTree lists the files and directories under dir, relative, sorted.
func listTree(t testing.TB, dir string) []string {
	t.Helper()
	var list []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			rel += "/"
		}
		list = append(list, filepath.ToSlash(rel))
		return nil
	})
	sort.Strings(list)
	return list
}

func TestCachePaths(t *testing.T) {
	c := &Cache{Dir: filepath.FromSlash("/gomodcache")}
	if runtime.GOOS == "windows" {
		c.Dir = `C:\gomodcache`
	}
	join := func(elem ...string) string { return filepath.Join(append([]string{c.Dir}, elem...)...) }
	tests := []struct {
		mod        module.Version
		suffix     string
		path, dir  string
		wantErrSub string
	}{
		{mod: module.Version{Path: "example.com/m", Version: "v1.0.0"}, suffix: "zip",
			path: join("cache", "download", "example.com", "m", "@v", "v1.0.0.zip"), dir: join("example.com", "m@v1.0.0")},
		{mod: module.Version{Path: "github.com/BurntSushi/toml", Version: "v1.0.0-RC1"}, suffix: "info",
			path: join("cache", "download", "github.com", "!burnt!sushi", "toml", "@v", "v1.0.0-!r!c1.info"),
			dir:  join("github.com", "!burnt!sushi", "toml@v1.0.0-!r!c1")},
		{mod: module.Version{Path: "example.com/m", Version: "v2.0.0+incompatible"}, suffix: "mod",
			path: join("cache", "download", "example.com", "m", "@v", "v2.0.0+incompatible.mod"), dir: join("example.com", "m@v2.0.0+incompatible")},
		{mod: module.Version{Path: "example.com/m", Version: "v1.0"}, suffix: "zip", wantErrSub: `non-canonical module version "v1.0"`},
		{mod: module.Version{Path: "example.com/m", Version: "master"}, suffix: "zip", wantErrSub: `non-semver module version "master"`},
		{mod: module.Version{Path: "example.com/m", Version: "v1.0.0+meta"}, suffix: "zip", wantErrSub: "non-canonical"},
		{mod: module.Version{Path: "Example..com/m", Version: "v1.0.0"}, suffix: "zip", wantErrSub: "malformed module path"},
		{mod: module.Version{Path: "go", Version: "v1.21.0"}, suffix: "zip", wantErrSub: "pseudo-module"},
	}
	for _, tt := range tests {
		got, err := c.Path(tt.mod, tt.suffix)
		if tt.wantErrSub != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErrSub) {
				t.Errorf("Path(%v) error = %v, want %q", tt.mod, err, tt.wantErrSub)
			}
			if _, err := c.ModuleDir(tt.mod); err == nil || errors.Is(err, fs.ErrNotExist) {
				t.Errorf("ModuleDir(%v) error = %v, want a non-not-exist error", tt.mod, err)
			}
			continue
		}
		if err != nil || got != tt.path {
			t.Errorf("Path(%v, %s) = %q, %v, want %q", tt.mod, tt.suffix, got, err, tt.path)
		}
		dir, err := c.ModuleDir(tt.mod)
		if dir != tt.dir || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ModuleDir(%v) = %q, %v, want %q and not-exist", tt.mod, dir, err, tt.dir)
		}
	}
}

func TestCacheDirChecks(t *testing.T) {
	mod := module.Version{Path: "example.com/m", Version: "v1.0.0"}
	file := filepath.Join(t.TempDir(), "file")
	writeFile(t, file, "x")
	for _, tt := range []struct {
		dir, want string
	}{
		{"", "module cache not found: neither GOMODCACHE nor GOPATH is set"},
		{"rel/cache", `GOMODCACHE entry is relative; must be absolute path: "rel/cache"`},
		{file, "is not a directory"},
	} {
		c := &Cache{Dir: tt.dir}
		if _, err := c.Path(mod, "zip"); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Dir %q: Path error = %v, want %q", tt.dir, err, tt.want)
		}
		if _, err := c.Lock(context.Background(), mod); err == nil {
			t.Errorf("Dir %q: Lock succeeded", tt.dir)
		}
	}
}

func TestNewCache(t *testing.T) {
	gopath := t.TempDir()
	c, err := NewCache(testEnv(t, "GOPATH", gopath, "GOFLAGS", "-mod=mod -modcacherw"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(gopath, "pkg", "mod"); c.Dir != want || !c.ReadWrite {
		t.Errorf("NewCache = %+v, want Dir %s, ReadWrite", c, want)
	}
	c, err = NewCache(testEnv(t, "GOMODCACHE", gopath))
	if err != nil || c.Dir != gopath || c.ReadWrite {
		t.Errorf("NewCache = %+v, %v, want Dir %s, read-only", c, err, gopath)
	}
	if _, err := NewCache(testEnv(t, "GOMODCACHE", "relative")); err == nil {
		t.Error("NewCache accepted a relative GOMODCACHE")
	}
}

func TestModuleDirCompleteness(t *testing.T) {
	c := newTestCache(t)
	m := newFixtureModule(t, "example.com/m", "v1.0.0")
	dir := storeFixture(t, c, m)
	if got, err := c.ModuleDir(m.mod); err != nil || got != dir {
		t.Fatalf("ModuleDir = %q, %v, want %q", got, err, dir)
	}
	partial, _ := c.Path(m.mod, "partial")
	ziphash, _ := c.Path(m.mod, "ziphash")

	writeFile(t, partial, "")
	if _, err := c.ModuleDir(m.mod); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "not completely extracted") {
		t.Errorf("with .partial: err = %v", err)
	}
	os.Remove(partial)
	hash, _ := os.ReadFile(ziphash)
	os.Remove(ziphash)
	if _, err := c.ModuleDir(m.mod); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "ziphash file is missing") {
		t.Errorf("without .ziphash: err = %v", err)
	}
	os.WriteFile(ziphash, hash, 0o666)

	// A file where the directory should be is not a usable directory.
	m2 := module.Version{Path: "example.com/m", Version: "v1.0.1"}
	d2, _ := c.ModuleDir(m2)
	writeFile(t, d2, "")
	if _, err := c.ModuleDir(m2); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file instead of directory: err = %v", err)
	}
}

func TestInfoRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := newTestCache(t)
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	origin := &Origin{VCS: "git", URL: "https://example.com/m", Hash: "0123456789abcdef0123456789abcdef01234567",
		TagPrefix: "v", TagSum: "t1:xyz", Ref: "refs/tags/v1.0.0", RepoSum: "r1:abc"}
	tests := []struct {
		version string
		origin  *Origin
		want    string
	}{
		{"v1.0.0", nil, `{"Version":"v1.0.0","Time":"2024-01-02T03:04:05Z"}`},
		{"v1.0.0", origin, `{"Version":"v1.0.0","Time":"2024-01-02T03:04:05Z","Origin":{"VCS":"git","URL":"https://example.com/m","Hash":"0123456789abcdef0123456789abcdef01234567","Ref":"refs/tags/v1.0.0"}}`},
		{"v0.0.0-20240102030405-0123456789ab", origin, `{"Version":"v0.0.0-20240102030405-0123456789ab","Time":"2024-01-02T03:04:05Z","Origin":{"VCS":"git","URL":"https://example.com/m","Hash":"0123456789abcdef0123456789abcdef01234567"}}`},
	}
	for _, tt := range tests {
		mod := module.Version{Path: "example.com/m", Version: tt.version}
		in := &Info{Version: tt.version, Time: when, Origin: tt.origin}
		file, err := c.WriteInfo(ctx, mod, in)
		if err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(file); string(data) != tt.want {
			t.Errorf("%s: .info = %s\nwant %s", tt.version, data, tt.want)
		}
		if in.Origin != nil && in.Origin.TagSum == "" {
			t.Error("WriteInfo modified its argument")
		}
		got, gotFile, err := c.ReadInfo(mod)
		if err != nil || gotFile != file || got.Version != tt.version || !got.Time.Equal(when) {
			t.Errorf("ReadInfo = %+v, %q, %v", got, gotFile, err)
		}
	}
	if _, err := c.WriteInfo(ctx, module.Version{Path: "example.com/m", Version: "v1.0.0"}, &Info{Version: "v1.0.1"}); err == nil {
		t.Error("WriteInfo accepted an info for another version")
	}

	missing := module.Version{Path: "example.com/m", Version: "v9.0.0"}
	if _, _, err := c.ReadInfo(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadInfo(missing) = %v, want not-exist", err)
	}
	file, _ := c.Path(missing, "info")
	writeFile(t, file, "{not json")
	if _, _, err := c.ReadInfo(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadInfo(garbled) = %v, want not-exist", err)
	}
	assertNoTempFiles(t, c.Dir)
}

func TestGoModAndVersionList(t *testing.T) {
	ctx := context.Background()
	c := newTestCache(t)
	gomod := []byte("module example.com/m\n")
	for _, v := range []string{"v1.10.0", "v1.2.0", "v1.2.0-pre", "v0.1.0", "v2.0.0+incompatible", "v1.2.0"} {
		if _, err := c.WriteGoMod(ctx, module.Version{Path: "example.com/m", Version: v}, gomod); err != nil {
			t.Fatal(err)
		}
	}
	// An .info without a .mod is not listed.
	c.WriteInfo(ctx, module.Version{Path: "example.com/m", Version: "v3.0.0"}, &Info{Version: "v3.0.0"})
	modFile, _ := c.Path(module.Version{Path: "example.com/m", Version: "v1.0.0"}, "mod")
	dir := filepath.Dir(modFile)
	list, err := os.ReadFile(filepath.Join(dir, "list"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v0.1.0\nv1.2.0-pre\nv1.2.0\nv1.10.0\nv2.0.0+incompatible\n"; string(list) != want {
		t.Errorf("list = %q, want %q", list, want)
	}
	data, file, err := c.ReadGoMod(module.Version{Path: "example.com/m", Version: "v1.2.0"})
	if err != nil || !bytes.Equal(data, gomod) || filepath.Dir(file) != dir {
		t.Errorf("ReadGoMod = %q, %q, %v", data, file, err)
	}
	stale := module.Version{Path: "example.com/m", Version: "v0.0.1"}
	f, _ := c.Path(stale, "mod")
	writeFile(t, f, "//vgo 0.0.4\nmodule example.com/m\n")
	if _, _, err := c.ReadGoMod(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadGoMod(pre-modules file) = %v, want not-exist", err)
	}
	if _, _, err := c.ReadGoMod(module.Version{Path: "example.com/m", Version: "v9.9.9"}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadGoMod(missing) = %v, want not-exist", err)
	}
	assertNoTempFiles(t, c.Dir)
}

// assertNoTempFiles fails if anything temporary is left under dir.
func assertNoTempFiles(t testing.TB, dir string) {
	t.Helper()
	for _, f := range listTree(t, dir) {
		base := filepath.Base(strings.TrimSuffix(f, "/"))
		if strings.HasSuffix(base, ".tmp") || strings.Contains(base, ".tmp-") || strings.HasSuffix(base, ".partial") {
			t.Errorf("left behind: %s", f)
		}
	}
}

func TestDownloadZipAndExtract(t *testing.T) {
	ctx := context.Background()
	c := newTestCache(t)
	m := newFixtureModule(t, "example.com/Upper/m", "v1.0.0")
	var verified []string
	verify := func(_ context.Context, h string) error { verified = append(verified, h); return nil }
	zipfile, err := c.DownloadZip(ctx, m.mod, fetchBytes(m.zip), verify)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := c.Path(m.mod, "zip"); zipfile != want {
		t.Errorf("zip file = %s, want %s", zipfile, want)
	}
	if data, _ := os.ReadFile(zipfile); !bytes.Equal(data, m.zip) {
		t.Error("stored zip differs from the download")
	}
	if data, _ := os.ReadFile(zipfile + "hash"); string(data) != m.sum {
		t.Errorf(".ziphash = %q, want %q (no newline)", data, m.sum)
	}
	if h, err := c.ZipHash(ctx, m.mod); err != nil || h != m.sum {
		t.Errorf("ZipHash = %q, %v", h, err)
	}

	// Present: fetch is not called, and the recorded hash is verified.
	verified = nil
	if _, err := c.DownloadZip(ctx, m.mod, func(context.Context, *ZipTemp) error {
		t.Error("fetch called for a zip already in the cache")
		return nil
	}, verify); err != nil || len(verified) != 1 || verified[0] != m.sum {
		t.Errorf("second DownloadZip: err %v, verified %q", err, verified)
	}

	dir, err := c.Extract(ctx, m.mod)
	if err != nil {
		t.Fatal(err)
	}
	if got := listTree(t, dir); strings.Join(got, " ") != "go.mod m.go sub/ sub/sub.go" {
		t.Errorf("extracted %v", got)
	}
	if runtime.GOOS != "windows" {
		for _, p := range []string{dir, filepath.Join(dir, "sub"), filepath.Join(dir, "m.go")} {
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm()&0o222 != 0 {
				t.Errorf("%s is writable: %v %v", p, fi.Mode(), err)
			}
		}
	}
	if again, err := c.Extract(ctx, m.mod); err != nil || again != dir {
		t.Errorf("second Extract = %q, %v", again, err)
	}
	assertNoTempFiles(t, c.Dir)
}

func TestExtractReadWrite(t *testing.T) {
	c := newTestCache(t)
	c.ReadWrite = true
	dir := storeFixture(t, c, newFixtureModule(t, "example.com/m", "v1.0.0"))
	if fi, err := os.Stat(filepath.Join(dir, "sub")); err != nil || fi.Mode().Perm()&0o200 == 0 {
		t.Errorf("-modcacherw: sub is %v, %v; want writable", fi.Mode(), err)
	}
}

func TestExtractCleansUp(t *testing.T) {
	ctx := context.Background()
	c := newTestCache(t)
	m := newFixtureModule(t, "example.com/m", "v1.0.0")
	if _, err := c.DownloadZip(ctx, m.mod, fetchBytes(m.zip), nil); err != nil {
		t.Fatal(err)
	}
	dir, _ := c.ModuleDir(m.mod)
	// An interrupted extraction: a partial directory with its marker, and a
	// temporary directory of an old go command, both read-only.
	writeFile(t, filepath.Join(dir, "junk.go"), "package junk\n")
	partial, _ := c.Path(m.mod, "partial")
	writeFile(t, partial, "")
	old := dir + ".tmp-12345"
	writeFile(t, filepath.Join(old, "x", "y.go"), "package x\n")
	makeDirsReadOnly(dir)
	makeDirsReadOnly(old)

	if _, err := c.Extract(ctx, m.mod); err != nil {
		t.Fatal(err)
	}
	if got := listTree(t, dir); strings.Join(got, " ") != "go.mod m.go sub/ sub/sub.go" {
		t.Errorf("extracted %v", got)
	}
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old temporary directory left: %v", err)
	}
	assertNoTempFiles(t, c.Dir)
}

func TestDownloadZipRecoversHash(t *testing.T) {
	ctx := context.Background()
	c := newTestCache(t)
	m := newFixtureModule(t, "example.com/m", "v1.0.0")
	zipfile, err := c.DownloadZip(ctx, m.mod, fetchBytes(m.zip), nil)
	if err != nil {
		t.Fatal(err)
	}
	noFetch := func(context.Context, *ZipTemp) error { return errors.New("fetch must not be called") }
	for name, damage := range map[string]func(){
		"torn ziphash":    func() { os.WriteFile(zipfile+"hash", make([]byte, len(m.sum)), 0o666) },
		"ziphash missing": func() { os.Remove(zipfile + "hash") },
		"ziphash short":   func() { os.WriteFile(zipfile+"hash", []byte("h1:abc"), 0o666) },
	} {
		damage()
		var got string
		if _, err := c.DownloadZip(ctx, m.mod, noFetch, func(_ context.Context, h string) error { got = h; return nil }); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if data, _ := os.ReadFile(zipfile + "hash"); string(data) != m.sum || got != m.sum {
			t.Errorf("%s: ziphash %q, verified %q, want %q", name, data, got, m.sum)
		}
	}
}

func TestDownloadZipRemovesStaleTemps(t *testing.T) {
	ctx := context.Background()
	c := newTestCache(t)
	m := newFixtureModule(t, "example.com/m", "v1.0.0")
	zipPath, _ := c.Path(m.mod, "zip")
	stale := zipPath + "12345.tmp"
	writeFile(t, stale, "partial download")
	other := zipPath[:len(zipPath)-len(".zip")] + ".mod777.tmp" // not a zip temp: kept
	writeFile(t, other, "")
	if _, err := c.DownloadZip(ctx, m.mod, fetchBytes(m.zip), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temporary zip kept: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("unrelated temporary file removed: %v", err)
	}
}

// A ZipTemp is what retry.Client.Download writes into (retry.File).
var _ interface {
	io.Writer
	io.Seeker
	Truncate(int64) error
} = (*ZipTemp)(nil)

func TestDownloadZipResetBetweenSources(t *testing.T) {
	c := newTestCache(t)
	m := newFixtureModule(t, "example.com/m", "v1.0.0")
	_, err := c.DownloadZip(context.Background(), m.mod, func(_ context.Context, w *ZipTemp) error {
		w.Write(m.zip[:100]) // a first source fails mid-way
		if n, _ := w.Size(); n != 100 {
			t.Errorf("Size = %d, want 100", n)
		}
		if err := w.Check(); !errors.Is(err, ErrCorruptZip) {
			t.Errorf("Check of a partial zip = %v", err)
		}
		if err := w.Reset(); err != nil {
			return err
		}
		// A second source sends the first half, then resumes.
		w.Write(m.zip[:len(m.zip)/2])
		w.Write([]byte("garbage"))
		if _, err := w.Seek(int64(len(m.zip)/2), io.SeekStart); err != nil {
			return err
		}
		if err := w.Truncate(int64(len(m.zip) / 2)); err != nil {
			return err
		}
		if _, err := w.ReadFrom(bytes.NewReader(m.zip[len(m.zip)/2:])); err != nil {
			return err
		}
		return w.Check()
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h, err := c.ZipHash(context.Background(), m.mod); err != nil || h != m.sum {
		t.Errorf("ZipHash = %q, %v", h, err)
	}
}

// rawZip builds a zip archive with the given names and contents, without
// any of the module zip checks. Entries are stored uncompressed, which is
// fast for large ones.
func rawZip(t testing.TB, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: files[i], Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, files[i+1])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDownloadZipRejectsCorruptZips(t *testing.T) {
	mod := module.Version{Path: "example.com/m", Version: "v1.0.0"}
	good := newFixtureModule(t, mod.Path, mod.Version)
	p := "example.com/m@v1.0.0/"
	bigGoMod := "module example.com/m\n" + strings.Repeat("\n", modzip.MaxGoMod)
	tests := []struct {
		name       string
		data       []byte
		wantErr    string
		corrupt    bool // matches ErrCorruptZip
		checksumOK bool // verify accepts any hash
	}{
		{name: "wrong prefix", data: rawZip(t, "example.com/other@v1.0.0/go.mod", "module example.com/other\n"),
			wantErr: "zip for example.com/m@v1.0.0 has unexpected file example.com/other@v1.0.0/go.mod"},
		{name: "dot-dot entry", data: rawZip(t, p+"go.mod", "module example.com/m\n", p+"../evil.go", "package evil\n"),
			wantErr: `example.com/m@v1.0.0/../evil.go: malformed file path "../evil.go": invalid path element ".."`},
		{name: "oversize go.mod", data: rawZip(t, p+"go.mod", bigGoMod),
			wantErr: "go.mod file too large"},
		{name: "duplicate names", data: rawZip(t, p+"go.mod", "module example.com/m\n", p+"a.go", "package a\n", p+"a.go", "package a\n"),
			wantErr: "multiple entries for file \"a.go\""},
		{name: "case collision", data: rawZip(t, p+"go.mod", "module example.com/m\n", p+"a.go", "package a\n", p+"A.go", "package a\n"),
			wantErr: "case-insensitive file name collision"},
		{name: "empty body", data: nil, wantErr: "corrupt module zip: 0 bytes: zip: not a valid zip file", corrupt: true},
		{name: "truncated", data: good.zip[:len(good.zip)/2], wantErr: "corrupt module zip", corrupt: true},
		{name: "garbage", data: []byte("<html>proxy error</html>"), wantErr: "corrupt module zip", corrupt: true},
		{name: "checksum mismatch", data: good.zip, wantErr: "checksum mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestCache(t)
			verify := func(_ context.Context, h string) error {
				return &ChecksumError{Path: mod.Path, Version: mod.Version, Kind: "module", Downloaded: h, Expected: "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", Source: "go.sum:1"}
			}
			_, err := c.DownloadZip(context.Background(), mod, fetchBytes(tt.data), verify)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if errors.Is(err, ErrCorruptZip) != tt.corrupt {
				t.Errorf("errors.Is(err, ErrCorruptZip) = %v, want %v", !tt.corrupt, tt.corrupt)
			}
			var ce *ChecksumError
			if errors.As(err, &ce) != (tt.name == "checksum mismatch") {
				t.Errorf("ChecksumError: %v", err)
			}
			// Nothing is left but the directory and the lock file.
			if got := listTree(t, c.Dir); strings.Join(got, " ") != "cache/ cache/download/ cache/download/example.com/ cache/download/example.com/m/ cache/download/example.com/m/@v/ cache/download/example.com/m/@v/v1.0.0.lock" {
				t.Errorf("left in the cache: %v", got)
			}
			if _, err := c.Extract(context.Background(), mod); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Extract after a rejected zip: %v, want not-exist", err)
			}
		})
	}
}

func TestExtractRejectsBadStoredZip(t *testing.T) {
	// A zip that reached the cache by other means (an older modkit, a
	// hand-made cache) is still checked when it is extracted.
	ctx := context.Background()
	c := newTestCache(t)
	mod := module.Version{Path: "example.com/m", Version: "v1.0.0"}
	zipfile, _ := c.Path(mod, "zip")
	bad := rawZip(t, "example.com/m@v1.0.0/go.mod", "module example.com/m\n", "example.com/m@v1.0.0/a/../b.go", "package b\n")
	writeFile(t, zipfile, string(bad))
	h, err := HashZip(zipfile)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, zipfile+"hash", h)
	_, err = c.Extract(ctx, mod)
	if err == nil || !strings.Contains(err.Error(), "file path is not clean") {
		t.Fatalf("Extract = %v", err)
	}
	dir, _ := c.ModuleDir(mod)
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("module directory left: %v", err)
	}
	assertNoTempFiles(t, c.Dir)
}

func TestVersionLockExcludes(t *testing.T) {
	c := newTestCache(t)
	mod := module.Version{Path: "example.com/m", Version: "v1.0.0"}
	ctx := context.Background()
	unlock, err := c.Lock(ctx, mod)
	if err != nil {
		t.Fatal(err)
	}
	// A done context still gets one attempt, which fails while the lock is held.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Lock(done, mod); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "v1.0.0.lock") {
		t.Errorf("Lock while held = %v, want canceled naming the lock file", err)
	}
	var got atomic.Bool
	acquired := make(chan struct{})
	go func() {
		u, err := c.Lock(ctx, mod)
		if err != nil {
			t.Error(err)
			close(acquired)
			return
		}
		got.Store(true)
		u()
		close(acquired)
	}()
	if got.Load() {
		t.Error("second Lock acquired while the first was held")
	}
	unlock()
	<-acquired
	if !got.Load() {
		t.Error("second Lock never acquired")
	}
	if u, err := c.Lock(done, mod); err != nil {
		t.Errorf("Lock when free with a done context = %v", err)
	} else {
		u()
	}
	side, err := c.SideLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SideLock(done); !errors.Is(err, context.Canceled) {
		t.Errorf("SideLock while held = %v", err)
	}
	side()
	if _, err := os.Stat(filepath.Join(c.Dir, "cache", "lock")); err != nil {
		t.Errorf("side lock file: %v", err)
	}
}

func TestRemoveAllReadOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m@v1.0.0")
	writeFile(t, filepath.Join(dir, "a", "b", "c.go"), "package b\n")
	makeDirsReadOnly(dir)
	if err := RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("still there: %v", err)
	}
}
