package modnet

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"

	"github.com/modkit/modkit/internal/testenv"
)

// treeModes lists every file and directory under dir with its mode and,
// for files, its content.
func treeModes(t testing.TB, dir string) []string {
	t.Helper()
	var list []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		line := fmt.Sprintf("%s %v", filepath.ToSlash(rel), fi.Mode())
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %q", data)
		}
		list = append(list, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// realisticModule builds a module zip with nested directories, an empty
// file and a large compressible file, like real modules.
func realisticModule(t testing.TB, path, version string, nfiles int) *fixtureModule {
	t.Helper()
	m := &fixtureModule{mod: module.Version{Path: path, Version: version}}
	m.gomod = []byte("module " + path + "\n\ngo 1.21\n")
	files := []modzip.File{memFile{"go.mod", m.gomod}, memFile{"empty.txt", nil}}
	for i := range nfiles {
		src := fmt.Sprintf("package p%d\n\n// F%d is generated.\nfunc F%d() int { return %d }\n", i%7, i, i, i)
		files = append(files, memFile{fmt.Sprintf("d%d/e%d/f%03d.go", i%7, i%3, i), []byte(strings.Repeat(src, 1+i%40))})
	}
	var buf bytes.Buffer
	if err := modzip.Create(&buf, m.mod, files); err != nil {
		t.Fatal(err)
	}
	m.zip = buf.Bytes()
	zf := filepath.Join(t.TempDir(), "m.zip")
	if err := os.WriteFile(zf, m.zip, 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	if m.sum, err = HashZip(zf); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDownloadExtractOnePassIsTwoPass: the one pass leaves exactly what
// DownloadZip and Extract (dirhash.HashZip, then modzip.Unzip) leave: the
// same zip, .ziphash, files, contents and modes, read-only or not.
func TestDownloadExtractOnePassIsTwoPass(t *testing.T) {
	ctx := context.Background()
	m := realisticModule(t, "example.com/Upper/m", "v1.2.3", 170)
	for _, rw := range []bool{false, true} {
		t.Run(fmt.Sprintf("ReadWrite=%v", rw), func(t *testing.T) {
			two, one := newTestCache(t), newTestCache(t)
			two.ReadWrite, one.ReadWrite = rw, rw
			if _, err := two.DownloadZip(ctx, m.mod, fetchBytes(m.zip), nil); err != nil {
				t.Fatal(err)
			}
			twoDir, err := two.Extract(ctx, m.mod)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			limited := 0
			zipfile, oneDir, err := one.DownloadExtract(ctx, m.mod, fetchBytes(m.zip),
				func(_ context.Context, h string) error { got = h; return nil },
				func(context.Context) (func(), error) { limited++; return func() {}, nil })
			if err != nil {
				t.Fatal(err)
			}
			if got != m.sum {
				t.Errorf("verified hash %s, want dirhash.HashZip's %s", got, m.sum)
			}
			if limited != 1 {
				t.Errorf("limit called %d times, want 1", limited)
			}
			if want, _ := one.Path(m.mod, "zip"); zipfile != want {
				t.Errorf("zip = %s, want %s", zipfile, want)
			}
			a, b := treeModes(t, two.Dir), treeModes(t, one.Dir)
			if strings.Join(a, "\n") != strings.Join(b, "\n") {
				t.Errorf("one pass differs from two:\n%s", lineDiff(a, b))
			}
			if oneDir != strings.Replace(twoDir, two.Dir, one.Dir, 1) {
				t.Errorf("dir = %s", oneDir)
			}
			if _, err := one.ModuleDir(m.mod); err != nil {
				t.Errorf("ModuleDir after DownloadExtract: %v", err)
			}
			assertNoTempFiles(t, one.Dir)
		})
	}
}

func lineDiff(a, b []string) string {
	in := func(s []string, x string) bool {
		for _, y := range s {
			if y == x {
				return true
			}
		}
		return false
	}
	var out []string
	for _, x := range a {
		if !in(b, x) {
			out = append(out, "- "+x)
		}
	}
	for _, x := range b {
		if !in(a, x) {
			out = append(out, "+ "+x)
		}
	}
	return strings.Join(out, "\n")
}

// TestDownloadExtractRejectsMismatch: a zip whose hash verify rejects
// leaves nothing in the cache, not even a temporary directory.
func TestDownloadExtractRejectsMismatch(t *testing.T) {
	ctx := context.Background()
	c := newTestCache(t)
	m := realisticModule(t, "example.com/m", "v1.0.0", 20)
	mismatch := &ChecksumError{Path: m.mod.Path, Version: m.mod.Version, Kind: "module", Downloaded: m.sum, Expected: "h1:other", Source: "go.sum:1"}
	_, _, err := c.DownloadExtract(ctx, m.mod, fetchBytes(m.zip), func(context.Context, string) error { return mismatch }, nil)
	if !errors.Is(err, mismatch) {
		t.Fatalf("err = %v, want the mismatch", err)
	}
	for _, f := range listTree(t, c.Dir) {
		if !strings.HasSuffix(f, "/") && !strings.HasSuffix(f, ".lock") {
			t.Errorf("left behind after a mismatch: %s", f)
		}
	}
}

// TestDownloadExtractEnforcesRules: a zip breaking the module zip rules, or
// whose file inflates past the size it declares, is rejected before
// anything is visible.
func TestDownloadExtractEnforcesRules(t *testing.T) {
	ctx := context.Background()
	mod := module.Version{Path: "example.com/m", Version: "v1.0.0"}
	for _, tc := range []struct {
		name, want string
		zip        []byte
	}{
		{"outside prefix", "unexpected file", rawZip(t, "other@v1.0.0/go.mod", "module other\n")},
		{"collision", "case-insensitive file name collision", rawZip(t, "example.com/m@v1.0.0/a.go", "package a\n", "example.com/m@v1.0.0/A.go", "package a\n")},
		// archive/zip notices first; the pass's own check (modzip.Unzip's)
		// is the second line.
		{"larger than declared", "corrupt module zip: zip: not a valid zip file", lyingZip(t, "example.com/m@v1.0.0/big.txt", 4, strings.Repeat("x", 4096))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCache(t)
			_, _, err := c.DownloadExtract(ctx, mod, fetchBytes(tc.zip), nil, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)

			}
			for _, f := range listTree(t, c.Dir) {
				if !strings.HasSuffix(f, "/") && !strings.HasSuffix(f, ".lock") {
					t.Errorf("left behind: %s", f)
				}
			}
		})
	}
}

// lyingZip returns a zip whose only file declares size bytes but holds
// content.
func lyingZip(t testing.TB, name string, size uint64, content string) []byte {
	t.Helper()
	good := rawZip(t, name, content)
	// Patch the uncompressed size in the central directory entry (offset
	// 24 from its signature); the local header defers to a data descriptor.
	b := bytes.Clone(good)
	cd := bytes.LastIndex(b, []byte("PK\x01\x02"))
	b[cd+24], b[cd+25], b[cd+26], b[cd+27] = byte(size), byte(size>>8), byte(size>>16), byte(size>>24)
	return b
}

// TestDownloadExtractFromCachedZip: with the zip in the cache and the
// directory missing, the zip is verified from its .ziphash and extracted,
// not downloaded.
func TestDownloadExtractFromCachedZip(t *testing.T) {
	ctx := context.Background()
	c := newTestCache(t)
	m := realisticModule(t, "example.com/m", "v1.0.0", 10)
	if _, err := c.DownloadZip(ctx, m.mod, fetchBytes(m.zip), nil); err != nil {
		t.Fatal(err)
	}
	var got string
	_, dir, err := c.DownloadExtract(ctx, m.mod, func(context.Context, *ZipTemp) error {
		t.Error("fetch called for a zip in the cache")
		return nil
	}, func(_ context.Context, h string) error { got = h; return nil }, nil)
	if err != nil || got != m.sum {
		t.Fatalf("DownloadExtract: %v, verified %q", err, got)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Error(err)
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm()&0o222 != 0 {
			t.Errorf("%s: %v %v, want read-only", dir, fi.Mode(), err)
		}
	}
}

// BenchmarkExtractTwoPass is what the go command does with a downloaded
// zip: hash it (inflating every file), then extract it (inflating them
// again).
func BenchmarkExtractTwoPass(b *testing.B) {
	benchmarkExtract(b, func(c *Cache, m *fixtureModule) error {
		if _, err := c.DownloadZip(context.Background(), m.mod, fetchBytes(m.zip), nil); err != nil {
			return err
		}
		_, err := c.Extract(context.Background(), m.mod)
		return err
	})
}

// BenchmarkExtractOnePass is DownloadExtract: each file inflated once,
// hashed as it is written.
func BenchmarkExtractOnePass(b *testing.B) {
	benchmarkExtract(b, func(c *Cache, m *fixtureModule) error {
		_, _, err := c.DownloadExtract(context.Background(), m.mod, fetchBytes(m.zip), nil, nil)
		return err
	})
}

func benchmarkExtract(b *testing.B, run func(*Cache, *fixtureModule) error) {
	m := realisticModule(b, "example.com/m", "v1.0.0", 170)
	b.SetBytes(int64(len(m.zip)))
	for b.Loop() {
		b.StopTimer()
		c := &Cache{Dir: b.TempDir()}
		b.StartTimer()
		if err := run(c, m); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		RemoveAll(c.Dir)
		b.StartTimer()
	}
}

// TestOnePassMatchesGoCommand: what DownloadExtract leaves for a module is
// what 'go mod download' leaves: the same zip, .ziphash, files, contents
// and modes, read-only directories included.
func TestOnePassMatchesGoCommand(t *testing.T) {
	testenv.GoBin(t)
	m := realisticModule(t, "example.com/Upper/m", "v1.2.3", 60)
	m.info = []byte(`{"Version":"v1.2.3","Time":"2024-01-02T03:04:05Z"}`)
	p := newFixtureProxy(t, m)
	goCache := newTestCache(t)
	runGo(t, t.TempDir(), goCacheEnv(t, goCache.Dir, "GOPROXY", p.srv.URL, "GOFLAGS", ""), "mod", "download", m.mod.String())

	c := newTestCache(t)
	if _, _, err := c.DownloadExtract(context.Background(), m.mod, fetchBytes(m.zip), nil, nil); err != nil {
		t.Fatal(err)
	}
	goDir, _ := goCache.ModuleDir(m.mod)
	dir, _ := c.ModuleDir(m.mod)
	if a, b := treeModes(t, goDir), treeModes(t, dir); strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("module directory differs from the go command's:\n%s", lineDiff(a, b))
	}
	for _, suffix := range []string{"zip", "ziphash"} {
		goFile, _ := goCache.Path(m.mod, suffix)
		file, _ := c.Path(m.mod, suffix)
		a, errA := os.ReadFile(goFile)
		b, errB := os.ReadFile(file)
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf(".%s differs from the go command's (%v, %v)", suffix, errA, errB)
		}
	}
}

// TestHashZipIsDirhash: HashZip is dirhash.HashZip, on module zips and on
// zips that are not (directory entries, files outside any prefix).
func TestHashZipIsDirhash(t *testing.T) {
	dir := t.TempDir()
	for i, data := range [][]byte{
		realisticModule(t, "example.com/m", "v1.0.0", 40).zip,
		rawZip(t, "a/", "", "a/b.txt", "b", "c.txt", strings.Repeat("c", 100000)),
		rawZip(t),
	} {
		name := filepath.Join(dir, fmt.Sprintf("%d.zip", i))
		if err := os.WriteFile(name, data, 0o666); err != nil {
			t.Fatal(err)
		}
		got, err := HashZip(name)
		want, werr := dirhash.HashZip(name, dirhash.Hash1)
		if err != nil || werr != nil || got != want {
			t.Errorf("zip %d: HashZip = %s, %v; dirhash.HashZip = %s, %v", i, got, err, want, werr)
		}
	}
}

// TestDownloadExtractCorruptDeflate: a zip whose compressed data is
// garbled (as by a byte flipped in transit) fails as ErrCorruptZip, the
// transfer failure that is worth another download, and leaves nothing.
func TestDownloadExtractCorruptDeflate(t *testing.T) {
	m := realisticModule(t, "example.com/m", "v1.0.0", 30)
	z, err := zip.NewReader(bytes.NewReader(m.zip), int64(len(m.zip)))
	if err != nil {
		t.Fatal(err)
	}
	// Garble the data of the largest file: a run of bytes in its middle.
	var big *zip.File
	for _, f := range z.File {
		if big == nil || f.CompressedSize64 > big.CompressedSize64 {
			big = f
		}
	}
	off, err := big.DataOffset()
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(m.zip)
	for i := range 16 {
		bad[off+int64(big.CompressedSize64)/2+int64(i)] ^= 0x5a
	}
	c := newTestCache(t)
	_, _, err = c.DownloadExtract(context.Background(), m.mod, fetchBytes(bad), nil, nil)
	if !errors.Is(err, ErrCorruptZip) {
		t.Fatalf("err = %v, want one matching ErrCorruptZip", err)
	}
	for _, f := range listTree(t, c.Dir) {
		if !strings.HasSuffix(f, "/") && !strings.HasSuffix(f, ".lock") {
			t.Errorf("left behind: %s", f)
		}
	}
}

// windowReader answers every read as the file itself would: inside the
// window, across its edges, larger than it, and past the end.
func TestWindowReader(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(name, data, 0o666); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := &windowReader{f: f, buf: make([]byte, 64)}
	for _, r := range []struct{ off, n int }{
		{0, 10}, {10, 30}, {60, 10}, {5, 4}, {100, 64}, {100, 200}, {990, 10}, {995, 10}, {1000, 1}, {1200, 5}, {0, 0}, {30, 64},
	} {
		got := make([]byte, r.n)
		gn, gerr := w.ReadAt(got, int64(r.off))
		want := make([]byte, r.n)
		wn, werr := f.ReadAt(want, int64(r.off))
		if gn != wn || (gerr == nil) != (werr == nil) || !bytes.Equal(got[:gn], want[:wn]) {
			t.Errorf("ReadAt(%d bytes, %d) = %d, %v; the file says %d, %v", r.n, r.off, gn, gerr, wn, werr)
		}
	}
}
