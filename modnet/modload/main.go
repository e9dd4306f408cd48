package modload

import (
	"fmt"
	"go/version"
	"os"
	"path/filepath"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// A MainModule is what the module graph needs of a main module's go.mod:
// its path and directory, whether its graph is pruned, its requirements
// (the roots of the graph) and its replace and exclude directives, which
// apply to the whole graph. The go command ignores the replace and exclude
// directives of every other module.
//
// A MainModule must not change while a graph is loaded from it.
type MainModule struct {
	// Path is the module path declared by go.mod's module directive.
	Path string
	// Dir is the directory holding go.mod. Relative directory
	// replacements are relative to it.
	Dir string
	// Pruned reports a go.mod at go 1.17 or later, whose graph is pruned:
	// the requirements of a pruned dependency are not followed further
	// (cmd/go/internal/modload.pruningForGoVersion; no go directive means
	// unpruned).
	Pruned bool
	// Require lists the requirements, less those on excluded versions.
	Require []module.Version
	// Replace maps each replaced module version, or a module path with an
	// empty version for "every version", to its replacement: a module
	// version, or a directory (empty Version).
	Replace map[module.Version]module.Version
	// Exclude holds the excluded module versions. Requirements on them are
	// dropped everywhere in the graph.
	Exclude map[module.Version]bool

	// Workspace, when set, makes this the main module of a go.work
	// workspace's graph (see [ReadWorkspace]): these are the workspace's
	// main modules, whose requirements are the roots, each loaded with its
	// own pruning, and no version of whose paths is ever selected. Path is
	// then empty, Require the union of their requirements, and Replace and
	// Exclude the workspace's, with every directory absolute.
	Workspace []*MainModule
}

// ReadMainModule reads the go.mod file at name strictly, as the go command
// reads a main module's go.mod, and returns the main module it describes.
func ReadMainModule(name string) (*MainModule, error) {
	abs, err := filepath.Abs(name)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, err
	}
	f, err := modfile.Parse(abs, data, nil)
	if err != nil {
		return nil, err
	}
	return NewMainModule(f, filepath.Dir(abs))
}

// NewMainModule returns the main module described by f, the parsed go.mod
// file in directory dir. Conflicting replacements are the caller's to
// diagnose (the go command refuses them); here the last one wins.
func NewMainModule(f *modfile.File, dir string) (*MainModule, error) {
	if f.Module == nil {
		return nil, fmt.Errorf("%s: no module declaration", f.Syntax.Name)
	}
	mm := &MainModule{
		Path:    f.Module.Mod.Path,
		Dir:     dir,
		Pruned:  Pruned(f),
		Replace: make(map[module.Version]module.Version, len(f.Replace)),
		Exclude: make(map[module.Version]bool, len(f.Exclude)),
	}
	for _, r := range f.Replace {
		mm.Replace[r.Old] = r.New
	}
	for _, x := range f.Exclude {
		mm.Exclude[x.Mod] = true
	}
	for _, r := range f.Require {
		if !mm.Exclude[r.Mod] {
			mm.Require = append(mm.Require, r.Mod)
		}
	}
	return mm, nil
}

// Replacement returns what the main module's replace directives put in
// m's place: the replacement of m's version, else that of all its
// versions, else m itself (cmd/go/internal/modload.replacement). A
// replacement with an empty Version is a directory.
func (mm *MainModule) Replacement(m module.Version) module.Version {
	if r, ok := mm.Replace[m]; ok {
		return r
	}
	if r, ok := mm.Replace[module.Version{Path: m.Path}]; ok {
		return r
	}
	return m
}

// Pruned reports whether the module graph is pruned below the module
// whose go.mod is f: its go directive says 1.17 or later, compared as the
// go command compares Go versions (cmd/go/internal/modload
// pruningForGoVersion, with gover.Compare, which go/version follows), so
// that 1.17rc1 and 1.17beta1, which come before 1.17, are unpruned. No go
// directive means an old module, unpruned.
func Pruned(f *modfile.File) bool {
	return f.Go != nil && version.Compare("go"+f.Go.Version, "go1.17") >= 0
}

// FindGoMod returns the go.mod file of the module containing dir: the
// nearest go.mod in dir or above (cmd/go/internal/modload.FindGoMod),
// except one directly in the system's temporary directory, which the go
// command ignores (go.dev/issue/26708). It returns "" when there is none.
func FindGoMod(dir string) string {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		f := filepath.Join(dir, "go.mod")
		if fi, err := os.Stat(f); err == nil && !fi.IsDir() {
			if filepath.Clean(dir) == filepath.Clean(os.TempDir()) {
				return ""
			}
			return f
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
