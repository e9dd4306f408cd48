package analyzer

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
)

func TestOwnerDir(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string // relative to the module root; "-" for none
	}{
		{"root package", map[string]string{"m.go": "package m\n", "a/a.go": "package a\n"}, "."},
		{"import path order, not walk order", map[string]string{"a/x/x.go": "package x\n", "a-b/ab.go": "package ab\n"}, "a-b"},
		{"tests do not make a package", map[string]string{"m_test.go": "package m\n", "z/z.go": "package z\n"}, "z"},
		{"build constraints apply", map[string]string{"gen.go": "//go:build ignore\n\npackage main\n", "b/b.go": "package b\n"}, "b"},
		{"skipped directories", map[string]string{
			"_x/x.go": "package x\n", ".x/x.go": "package x\n", "testdata/t.go": "package t\n",
			"vendor/v/v.go": "package v\n", "nested/go.mod": "module example.com/nested\n", "nested/n.go": "package n\n",
			"zz/z.go": "package z\n",
		}, "zz"},
		{"vendor below the root is a package", map[string]string{"a/vendor/v.go": "package vendor\n"}, "a/vendor"},
		{"no package", map[string]string{"README": "x\n"}, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"go.mod": "module example.com/m\n"}
			for k, v := range tt.files {
				files[k] = v
			}
			writeFiles(t, dir, files)
			m, err := loadModule(filepath.Join(dir, "go.mod"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ownerDir(m)
			if err != nil {
				t.Fatal(err)
			}
			want := ""
			if tt.want != "-" {
				want = filepath.Join(dir, filepath.FromSlash(tt.want))
			}
			if got != want {
				t.Errorf("ownerDir = %q; want %q", got, want)
			}
		})
	}
}

func TestIgnorer(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"go.mod": "module example.com/m\n\ngo 1.25\n\nignore (\n\t./gen\n\tnode_modules\n)\n"})
	m, err := loadModule(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	ig := newIgnorer(m.file)
	for rel, want := range map[string]bool{
		"gen": true, "gen/sub": true, "a/gen": false, "generator": false,
		"node_modules": true, "web/node_modules/x": true, "node_modules2": false,
	} {
		if got := ig.ignored(rel); got != want {
			t.Errorf("ignored(%q) = %v; want %v", rel, got, want)
		}
	}
}

func TestHasMainPackage(t *testing.T) {
	for name, tt := range map[string]struct {
		files map[string]string
		want  bool
	}{
		"library":             {map[string]string{"l.go": "package l\n", "x/x.go": "package x\n"}, false},
		"command":             {map[string]string{"l.go": "package l\n", "cmd/c/main.go": "// A tool.\npackage main\n"}, true},
		"generator":           {map[string]string{"l.go": "package l\n", "gen.go": "//go:build ignore\n\npackage main\n"}, true},
		"test main":           {map[string]string{"l.go": "package l\n", "main_test.go": "package main\n"}, false},
		"nested module":       {map[string]string{"l.go": "package l\n", "tool/go.mod": "module t\n", "tool/main.go": "package main\n"}, false},
		"testdata is skipped": {map[string]string{"testdata/main.go": "package main\n"}, false},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			tt.files["go.mod"] = "module example.com/m\n"
			writeFiles(t, dir, tt.files)
			m, err := loadModule(filepath.Join(dir, "go.mod"))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := hasMainPackage(m); err != nil || got != tt.want {
				t.Errorf("hasMainPackage = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// TestModuleFile checks how a pass finds its go.mod, with the module
// information each kind of driver gives.
func TestModuleFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"go.mod":      "module example.com/m\n",
		"p/p.go":      "package p\n",
		"p/p_test.go": "package p_test\n",
	})
	gomod := filepath.Join(dir, "go.mod")
	pass := func(mod *analysis.Module, files ...string) *analysis.Pass {
		fset := token.NewFileSet()
		var parsed []*ast.File
		for _, f := range files {
			af, err := parser.ParseFile(fset, filepath.Join(dir, f), nil, parser.PackageClauseOnly)
			if err != nil {
				t.Fatal(err)
			}
			parsed = append(parsed, af)
		}
		return &analysis.Pass{Fset: fset, Files: parsed, Module: mod}
	}
	tests := []struct {
		name string
		pass *analysis.Pass
		want string
	}{
		{"go/packages", pass(&analysis.Module{Path: "example.com/m", GoMod: "/elsewhere/go.mod"}, "p/p.go"), "/elsewhere/go.mod"},
		{"go vet", pass(&analysis.Module{Path: "example.com/m"}, "p/p.go"), gomod},
		{"no module information", pass(nil, "p/p.go"), gomod},
		{"another module's path", pass(&analysis.Module{Path: "example.com/other"}, "p/p.go"), ""},
		{"a dependency", pass(&analysis.Module{Path: "example.com/m", Version: "v1.0.0"}, "p/p.go"), ""},
	}
	for _, tt := range tests {
		if got := moduleFile(tt.pass); got != tt.want {
			t.Errorf("%s: moduleFile = %q; want %q", tt.name, got, tt.want)
		}
	}
	if onlyTests(pass(nil, "p/p.go", "p/p_test.go")) || !onlyTests(pass(nil, "p/p_test.go")) {
		t.Errorf("onlyTests: want false for a package with tests, true for an external test package")
	}
}

func TestPackageName(t *testing.T) {
	dir := t.TempDir()
	long := "// " + strings.Repeat("x", 5000) + "\n\npackage late\n"
	writeFiles(t, dir, map[string]string{
		"a.go":    "package a\n",
		"late.go": long,
		"bad.go":  "// no package clause\n",
		"cut.go":  strings.Repeat("/* */", 1000) + "package cut\n",
	})
	fset := token.NewFileSet()
	for name, want := range map[string]string{"a.go": "a", "late.go": "late", "bad.go": "", "cut.go": "cut", "missing.go": ""} {
		if got := packageName(fset, filepath.Join(dir, name)); got != want {
			t.Errorf("packageName(%s) = %q; want %q", name, got, want)
		}
	}
}
