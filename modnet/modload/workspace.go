package modload

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// ReadWorkspace reads a go.work file and the go.mod file of every module
// it uses, as the go command does in workspace mode
// (cmd/go/internal/modload: loadWorkFile, initWorkspaceModules), and
// returns the [MainModule] that stands for the workspace in the module
// graph: its Workspace lists the use'd modules; its replacements are
// go.work's, then the modules' own, except for paths go.work replaces
// (two modules replacing one version differently is the go command's
// "conflicting replacements" error); its exclusions are all the modules'.
// Relative directories, in use and replace directives alike, are made
// absolute: go.work's relative to its directory, a module's to its own.
func ReadWorkspace(file string) (*MainModule, error) {
	abs, wf, err := readWorkFile(file)
	if err != nil {
		return nil, err
	}
	workDir := filepath.Dir(abs)
	ws := &MainModule{Dir: workDir, Replace: map[module.Version]module.Version{}, Exclude: map[module.Version]bool{}}
	seen := map[string]bool{}
	for _, u := range wf.Use {
		mm, err := ReadMainModule(filepath.Join(UseDir(abs, u), "go.mod"))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("%s: directory %s listed in go.work has no go.mod", abs, u.Path)
			}
			return nil, err
		}
		if seen[mm.Path] {
			return nil, fmt.Errorf("module %s appears multiple times in workspace", mm.Path)
		}
		seen[mm.Path] = true
		ws.Workspace = append(ws.Workspace, mm)
	}
	if len(ws.Workspace) == 0 {
		return nil, fmt.Errorf("%s: no modules were found in the current workspace; see 'go help work'", abs)
	}

	replacedByWork := map[string]bool{}
	for _, r := range wf.Replace {
		if seen[r.Old.Path] && r.Old.Version == "" {
			return nil, fmt.Errorf("workspace module %v is replaced at all versions in the go.work file. To fix, remove the replacement from the go.work file or specify the version at which to replace the module", r.Old.Path)
		}
		replacedByWork[r.Old.Path] = true
		ws.Replace[r.Old] = absReplacement(r.New, workDir)
	}
	for _, mm := range ws.Workspace {
		mine := map[module.Version]bool{}
		for old, new := range mm.Replace {
			if replacedByWork[old.Path] {
				continue
			}
			new = absReplacement(new, mm.Dir)
			if prev, ok := ws.Replace[old]; ok && !mine[old] && prev != new {
				return nil, fmt.Errorf("conflicting replacements for %v:\n\t%v\n\t%v\nuse \"go work edit -replace %v=[override]\" to resolve", old, prev, new, old)
			}
			mine[old] = true
			ws.Replace[old] = new
		}
		for x := range mm.Exclude {
			ws.Exclude[x] = true
		}
	}
	for _, mm := range ws.Workspace {
		mm.Require = excludeFrom(mm.Require, ws.Exclude)
		ws.Require = append(ws.Require, mm.Require...)
	}
	return ws, nil
}

// absReplacement makes a directory replacement absolute, relative to dir.
func absReplacement(r module.Version, dir string) module.Version {
	if r.Version == "" && !filepath.IsAbs(r.Path) {
		r.Path = filepath.Join(dir, r.Path)
	}
	return r
}

func excludeFrom(reqs []module.Version, exclude map[module.Version]bool) []module.Version {
	var kept []module.Version
	for _, r := range reqs {
		if !exclude[r] {
			kept = append(kept, r)
		}
	}
	return kept
}

// readWorkFile reads and parses the go.work file at name, with the go
// command's errors (cmd/go/internal/modload.ReadWorkFile), and returns
// its absolute name.
func readWorkFile(name string) (string, *modfile.WorkFile, error) {
	abs, err := filepath.Abs(name)
	if err != nil {
		return "", nil, err
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return "", nil, fmt.Errorf("reading go.work: %w", err)
	}
	wf, err := modfile.ParseWork(abs, data, nil)
	if err != nil {
		return "", nil, fmt.Errorf("errors parsing go.work:\n%w", err)
	}
	return abs, wf, nil
}

// GoSumFile returns the checksum file the go command pairs with the
// go.mod file gomod (cmd/go/internal/modload.loadModFile): gomod without
// ".mod", plus ".sum", so that -modfile=x.mod goes with x.sum.
func GoSumFile(gomod string) string { return strings.TrimSuffix(gomod, ".mod") + ".sum" }

// WorkSumFile returns the checksum file the go command pairs with the
// go.work file gowork (cmd/go/internal/modload.loadModFile): go.work.sum
// beside it, gowork plus ".sum".
func WorkSumFile(gowork string) string { return gowork + ".sum" }

// UseDir returns the directory of the module that a use directive of the
// go.work file workFile names: relative to the go.work's directory unless
// absolute (cmd/go/internal/modload.LoadWorkFile).
func UseDir(workFile string, u *modfile.Use) string {
	dir := filepath.FromSlash(u.Path)
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(filepath.Dir(workFile), dir)
	}
	return filepath.Clean(dir)
}

// WorkGoMods returns the go.mod files of the modules the go.work file at
// name uses, in the order of its use directives, without reading them.
func WorkGoMods(name string) ([]string, error) {
	abs, wf, err := readWorkFile(name)
	if err != nil {
		return nil, err
	}
	mods := make([]string, len(wf.Use))
	for i, u := range wf.Use {
		mods[i] = filepath.Join(UseDir(abs, u), "go.mod")
	}
	return mods, nil
}

// FindGoWork returns the go.work file the go command uses in dir, given
// the values of GOWORK and GOROOT (cmd/go/internal/modload: FindGoWork,
// findWorkspaceFile): none for GOWORK=off; for GOWORK naming a file, that
// file, which must be an absolute path and need not exist ('go work init'
// creates it; reading it then fails as the go command's "reading
// go.work" does); else the nearest go.work in dir or above, not looked
// for in or above GOROOT, where it would most likely be irrelevant.
func FindGoWork(dir, gowork, goroot string) (string, error) {
	switch gowork {
	case "off":
		return "", nil
	case "", "auto":
	default:
		if !filepath.IsAbs(gowork) {
			return "", errRelativeGOWORK
		}
		return gowork, nil
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if goroot != "" {
		goroot = filepath.Clean(goroot)
	}
	for {
		f := filepath.Join(dir, "go.work")
		if fi, err := os.Stat(f); err == nil && !fi.IsDir() {
			return f, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir || (goroot != "" && parent == goroot) {
			return "", nil
		}
		dir = parent
	}
}

// errRelativeGOWORK is the go command's "go: invalid GOWORK: not an
// absolute path" (cmd/go/internal/modload.FindGoWork).
var errRelativeGOWORK = errors.New("invalid GOWORK: not an absolute path")

// FindMain returns the file that decides the main modules of a go command
// run in dir, as cmd/go/internal/modload.Init decides: the go.work file in
// effect ([FindGoWork]; work is true), else the go.mod file of the module
// containing dir ([FindGoMod]), else "" (no main module). Its error is
// FindGoWork's, for a GOWORK that is not an absolute path: the go command
// refuses to run then rather than fall back to go.mod. Read the file with
// [ReadWorkspace] or [ReadMainModule].
func FindMain(dir, gowork, goroot string) (file string, work bool, err error) {
	file, err = FindGoWork(dir, gowork, goroot)
	if err != nil || file != "" {
		return file, file != "", err
	}
	return FindGoMod(dir), false, nil
}
