package analyzer

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// writeFiles creates files (path → content) below dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFingerprint checks that the digest go vet's cache key gets covers
// every input of the checks, and nothing else.
func TestFingerprint(t *testing.T) {
	t.Setenv("GOWORK", "")
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		".git/HEAD":      "ref: refs/heads/main\n",
		"m/go.mod":       "module example.com/m\n\ngo 1.22\n\nrequire example.com/dep v1.0.0\n\nreplace example.com/dep => ../dep\n",
		"m/sub/sub.go":   "package sub\n",
		"m/sub/other.go": "package sub\n\nfunc F() {}\n",
		"dep/go.mod":     "module example.com/dep\n",
	})
	m := filepath.Join(root, "m")
	base := Fingerprint(m)
	if again := Fingerprint(filepath.Join(m, "sub")); again != base {
		t.Fatalf("Fingerprint differs between the module root and a subdirectory")
	}

	steps := []struct {
		name    string
		change  func()
		changes bool
	}{
		{"editing a Go file changes nothing", func() {
			writeFiles(t, m, map[string]string{"sub/other.go": "package sub\n\nfunc G() {}\n"})
		}, false},
		{"go.mod", func() {
			writeFiles(t, m, map[string]string{"go.mod": "module example.com/m\n\ngo 1.22\n\nrequire example.com/dep v1.0.1\n\nreplace example.com/dep => ../dep\n"})
		}, true},
		{"the local target's go.mod", func() {
			writeFiles(t, root, map[string]string{"dep/go.mod": "module example.com/other\n"})
		}, true},
		{"the local target's existence", func() {
			if err := os.RemoveAll(filepath.Join(root, "dep")); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"a go.work above", func() {
			writeFiles(t, root, map[string]string{"go.work": "go 1.22\n\nuse ./m\n"})
		}, true},
		{"the go.work's content", func() {
			writeFiles(t, root, map[string]string{"go.work": "go 1.22\n\nuse ./m\n\nreplace example.com/dep => ./dep\n"})
		}, true},
		{"the owner package", func() {
			writeFiles(t, m, map[string]string{"m.go": "package m\n"})
		}, true},
		{"a main package", func() {
			writeFiles(t, m, map[string]string{"cmd/tool/main.go": "package main\n\nfunc main() {}\n"})
		}, true},
		{"the repository root", func() {
			if err := os.RemoveAll(filepath.Join(root, ".git")); err != nil {
				t.Fatal(err)
			}
		}, true},
	}
	prev := base
	for _, s := range steps {
		s.change()
		got := Fingerprint(m)
		if changed := got != prev; changed != s.changes {
			t.Errorf("%s: fingerprint changed = %v; want %v", s.name, changed, s.changes)
		}
		prev = got
	}
}

// TestFingerprintModules checks which modules the digest covers.
func TestFingerprintModules(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"go.work":   "go 1.22\n\nuse (\n\t./a\n\t./b\n)\n",
		"a/go.mod":  "module example.com/a\n",
		"b/go.mod":  "module example.com/b\n",
		"alt.work":  "go 1.22\n\nuse ./b\n",
		"c/go.mod":  "module example.com/c\n",
		"c/x/dummy": "",
	})
	abs := func(p string) string { return filepath.Join(root, filepath.FromSlash(p)) }
	tests := []struct {
		gowork, dir string
		want        []string
	}{
		{"", "a", []string{"a/go.mod", "b/go.mod"}},
		{"", "c/x", []string{"a/go.mod", "b/go.mod"}}, // the workspace governs c too (and the go command rejects it)
		{"off", "c/x", []string{"c/go.mod"}},
		{"off", ".", nil},
		{abs("alt.work"), "a", []string{"b/go.mod"}},
	}
	for _, tt := range tests {
		t.Setenv("GOWORK", tt.gowork)
		got := moduleFilesFor(abs(tt.dir))
		var want []string
		for _, w := range tt.want {
			want = append(want, abs(w))
		}
		if len(got) != len(want) {
			t.Errorf("GOWORK=%q dir %s: modules %q; want %q", tt.gowork, tt.dir, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("GOWORK=%q dir %s: modules %q; want %q", tt.gowork, tt.dir, got, want)
				break
			}
		}
	}
}

// BenchmarkFingerprint measures the -V=full digest, which go vet asks for
// on every run, for a library of 2000 files: the worst case, since the
// search for a main package reads every file.
func BenchmarkFingerprint(b *testing.B) {
	dir := b.TempDir()
	files := map[string]string{"go.mod": "module example.com/lib\n\ngo 1.22\n\nrequire example.com/x v1.0.0\n\nreplace example.com/x => ./x\n", "x/go.mod": "module example.com/x\n"}
	for i := range 2000 {
		files[fmt.Sprintf("p%02d/f%03d.go", i%40, i)] = fmt.Sprintf("// Copyright notice.\n\npackage p%02d\n\nfunc F%d() {}\n", i%40, i)
	}
	writeFiles(b, dir, files)
	for b.Loop() {
		Fingerprint(dir)
	}
}
