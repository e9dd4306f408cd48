package analyzer

import (
	"container/heap"
	"go/build"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
)

// Findings belong to go.mod, not to any package, yet drivers such as go vet
// run an analyzer once per package, each in its own process. So that every
// finding is reported exactly once per module, only one package reports:
// the owner.
//
// The owner is the package the go command lists first for the module's
// "./..." pattern: the one with the lexically smallest import path among the
// module's directories that hold at least one non-test Go file matching the
// build context (GOOS, GOARCH, CGO_ENABLED from the environment, as go vet
// passes them on; -tags cannot be seen). That is the module root's package
// when there is one. Directories the go command's "./..." skips are skipped
// (cmd/go/internal/modload/search.go, matchPackages): names starting with
// "." or "_", testdata, nested modules, the go.mod's ignore directives, and
// vendor at the module root. A package's external test package ("p_test")
// never owns; test variants of the owner ("p [p.test]") do, once per run.

// ownerDir returns the directory of the module's owner package, or "" if the
// module holds no buildable package.
func ownerDir(m *modState) (string, error) {
	ignore := newIgnorer(m.file)
	q := &pathHeap{""}
	for q.Len() > 0 {
		rel := heap.Pop(q).(string)
		dir := filepath.Join(m.dir, filepath.FromSlash(rel))
		entries, err := os.ReadDir(dir)
		if err != nil {
			if rel == "" {
				return "", err
			}
			continue // unreadable subdirectory: the go command skips it too
		}
		if hasBuildableGo(dir, entries) {
			return dir, nil
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			child := path.Join(rel, e.Name())
			if skipDir(e.Name()) || rel == "" && e.Name() == "vendor" || ignore.ignored(child) || isModuleRoot(filepath.Join(dir, e.Name())) {
				continue
			}
			heap.Push(q, child)
		}
	}
	return "", nil
}

// skipDir reports whether the go command's "./..." skips a directory of this
// name, with everything below it.
func skipDir(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata"
}

// isModuleRoot reports whether dir holds a go.mod: a nested module, which
// the enclosing module's "./..." does not enter.
func isModuleRoot(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "go.mod"))
	return err == nil && !fi.IsDir()
}

// isGoSource reports whether name is a non-test Go file the go command reads.
func isGoSource(name string) bool {
	return strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") &&
		!strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "_")
}

func hasBuildableGo(dir string, entries []fs.DirEntry) bool {
	for _, e := range entries {
		if e.IsDir() || !isGoSource(e.Name()) {
			continue
		}
		if ok, err := build.Default.MatchFile(dir, e.Name()); err == nil && ok {
			return true
		}
	}
	return false
}

// pathHeap orders slash-separated relative paths lexically, so popping
// yields directories in import path order: every path below a directory
// sorts after the directory itself.
type pathHeap []string

func (h pathHeap) Len() int           { return len(h) }
func (h pathHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h pathHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pathHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *pathHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// An ignorer applies a go.mod's ignore directives the way cmd/go's
// search.IgnorePatterns does (cmd/go/internal/search/search.go): "./x"
// ignores x at the module root, "x" ignores every directory named x.
type ignorer struct{ rooted, anywhere []string }

func newIgnorer(f *modfile.File) ignorer {
	var ig ignorer
	for _, i := range f.Ignore {
		if p, ok := strings.CutPrefix(i.Path, "./"); ok {
			ig.rooted = append(ig.rooted, slashed(p))
		} else {
			ig.anywhere = append(ig.anywhere, slashed(i.Path))
		}
	}
	return ig
}

// slashed returns p with a leading and trailing slash, so that prefix and
// substring tests match whole path elements.
func slashed(p string) string {
	p = filepath.ToSlash(p)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

func (ig ignorer) ignored(rel string) bool {
	dir := slashed(rel)
	for _, p := range ig.rooted {
		if strings.HasPrefix(dir, p) {
			return true
		}
	}
	for _, p := range ig.anywhere {
		if strings.Contains(dir, p) {
			return true
		}
	}
	return false
}

// hasMainPackage reports whether any directory of the module, walked as
// "./..." walks it, holds a non-test Go file of package main. Build
// constraints are not applied: a "//go:build ignore" generator run with
// "go run" is built with this module as the main module too.
func hasMainPackage(m *modState) (bool, error) {
	ignore := newIgnorer(m.file)
	found := false
	fset := token.NewFileSet()
	err := filepath.WalkDir(m.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == m.dir {
				return err
			}
			return nil
		}
		if d.IsDir() {
			if p == m.dir {
				return nil
			}
			rel, _ := filepath.Rel(m.dir, p)
			rel = filepath.ToSlash(rel)
			if skipDir(d.Name()) || rel == "vendor" || ignore.ignored(rel) || isModuleRoot(p) {
				return filepath.SkipDir
			}
			return nil
		}
		if !isGoSource(d.Name()) {
			return nil
		}
		if packageName(fset, p) == "main" {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found, err
}

// packageName returns the package name a Go file declares, or "" if it
// cannot be read. go vet asks for the fingerprint, which scans a library's
// every file, on each run; so it reads a file's head first, and the whole
// file only when the package clause lies beyond it.
func packageName(fset *token.FileSet, file string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, err := io.ReadFull(f, head)
	head = head[:n]
	if ast, perr := parser.ParseFile(fset, file, head, parser.PackageClauseOnly); perr == nil {
		return ast.Name.Name
	}
	if err != nil {
		return "" // the whole file was read and has no package clause
	}
	rest, err := io.ReadAll(f)
	if err != nil {
		return ""
	}
	if ast, err := parser.ParseFile(fset, file, append(head, rest...), parser.PackageClauseOnly); err == nil {
		return ast.Name.Name
	}
	return ""
}
