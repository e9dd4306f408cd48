package modload

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

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
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, err
	}
	wf, err := modfile.ParseWork(abs, data, nil)
	if err != nil {
		return nil, err
	}
	workDir := filepath.Dir(abs)
	ws := &MainModule{Dir: workDir, Replace: map[module.Version]module.Version{}, Exclude: map[module.Version]bool{}}
	seen := map[string]bool{}
	for _, u := range wf.Use {
		dir := u.Path
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(workDir, dir)
		}
		mm, err := ReadMainModule(filepath.Join(dir, "go.mod"))
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
