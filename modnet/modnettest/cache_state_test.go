package modnettest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestCacheFilesAndDiff(t *testing.T) {
	write := func(root string, files map[string]string) {
		for name, data := range files {
			p := filepath.Join(root, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o666); err != nil {
				t.Fatal(err)
			}
		}
	}
	a, b := t.TempDir(), t.TempDir()
	common := map[string]string{
		"cache/download/example.com/m/@v/v1.0.0.mod": "module example.com/m\n",
		"example.com/m@v1.0.0/go.mod":                "module example.com/m\n",
	}
	write(a, common)
	write(b, common)
	// What differs from run to run is left out.
	write(a, map[string]string{
		"cache/download/example.com/m/@v/v1.0.0.lock": "",
		"cache/lock": "",
		"cache/download/sumdb/sum.example.com/lookup/example.com/m@v1.0.0": "x",
		"cache/vcs/0123/HEAD":                               "ref",
		"cache/download/example.com/m/@v/v1.0.0.zip123.tmp": "partial",
	})
	fa, err := CacheFiles(a)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := CacheFiles(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(fa) != 2 {
		t.Errorf("CacheFiles(a) = %v, want the two module files only", fa)
	}
	if d := DiffCaches(fa, fb, "a", "b"); d != nil {
		t.Errorf("same caches: DiffCaches = %q, want nil", d)
	}

	write(a, map[string]string{"example.com/m@v1.0.0/go.mod": "module example.com/other\n", "example.com/m@v1.0.0/x.go": "package m\n"})
	write(b, map[string]string{"cache/download/example.com/m/@v/list": "v1.0.0\n"})
	if fa, err = CacheFiles(a); err != nil {
		t.Fatal(err)
	}
	if fb, err = CacheFiles(b); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"content differs: example.com/m@v1.0.0/go.mod",
		"only a: example.com/m@v1.0.0/x.go",
		"only b: cache/download/example.com/m/@v/list",
	}
	if d := DiffCaches(fa, fb, "a", "b"); !slices.Equal(d, want) {
		t.Errorf("DiffCaches = %q, want %q", d, want)
	}
}
