package analyzer

import (
	"crypto/sha256"
	"fmt"
	"go/build"
	"hash"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"

	"github.com/modkit/modkit/modnet/modload"
)

// A modState is a snapshot of everything the checks read from the file
// system for one module: its go.mod, the repository around it, the go.work
// above it and the directories its local replacements point to. The checks
// look at nothing else (apart from the network for the opt-in retracted
// check), which is what lets [Fingerprint] decide when go vet's cached
// results are stale.
type modState struct {
	path    string        // absolute path of go.mod
	dir     string        // module root: the directory holding go.mod
	data    []byte        // content of go.mod
	file    *modfile.File // go.mod, parsed strictly as the go command does for a main module
	vcsRoot string        // innermost directory above dir holding a VCS checkout; "" if none

	work    *workState              // go.work above the module; nil if none
	targets map[string]*localTarget // local replacement directories, keyed by the path as written
}

// A workState is the go.work file found above a module.
type workState struct {
	path string
	data []byte
	file *modfile.WorkFile

	// usesModule reports whether a use directive names the module's
	// directory, that is, whether the workspace governs the module's builds.
	usesModule bool
	// useByPath maps the module path declared by each used directory's
	// go.mod to its use directive.
	useByPath map[string]*modfile.Use
	// uses are the workspace modules, in use directive order.
	uses []*workModule
}

// A workModule is a module a go.work uses.
type workModule struct {
	use  *modfile.Use
	dir  string        // absolute and clean
	file *modfile.File // its go.mod (see parseOther); nil if unreadable
}

// A localTarget describes the directory a local replacement points to.
type localTarget struct {
	dir     string // absolute and clean
	exists  bool
	isDir   bool
	hasMod  bool   // dir/go.mod exists
	modPath string // module path declared by dir/go.mod; "" if none
	data    []byte // content of dir/go.mod
}

// loadModule reads the module whose go.mod is at gomod.
func loadModule(gomod string) (*modState, error) {
	abs, err := filepath.Abs(gomod)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, err
	}
	return loadModuleData(abs, data)
}

// loadModuleData is loadModule for go.mod content already in hand.
// The file name of parse errors is the absolute path.
func loadModuleData(abs string, data []byte) (*modState, error) {
	f, err := modfile.Parse(abs, data, nil)
	if err != nil {
		return nil, err
	}
	m := &modState{
		path:    abs,
		dir:     filepath.Dir(abs),
		data:    data,
		file:    f,
		targets: make(map[string]*localTarget),
	}
	m.vcsRoot = findVCSRoot(m.dir)
	m.work = loadWork(m.dir)
	for _, r := range f.Replace {
		if r.New.Version != "" {
			continue // a module, not a directory
		}
		if _, ok := m.targets[r.New.Path]; !ok {
			m.targets[r.New.Path] = inspectTarget(m.dir, r.New.Path)
		}
	}
	return m, nil
}

// inspectTarget looks at the directory a local replacement names.
// Relative paths are relative to the module root, as in cmd/go's
// modload.fetch (modload/import.go) outside workspace mode; modload.MakeMainModules
// (modload/init.go) joins them with the module root in workspace mode too.
func inspectTarget(modDir, p string) *localTarget {
	dir := filepath.FromSlash(p)
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(modDir, dir)
	}
	t := &localTarget{dir: filepath.Clean(dir)}
	fi, err := os.Stat(t.dir)
	if err != nil {
		return t
	}
	t.exists, t.isDir = true, fi.IsDir()
	if !t.isDir {
		return t
	}
	if data, err := os.ReadFile(filepath.Join(t.dir, "go.mod")); err == nil {
		t.hasMod, t.data = true, data
		t.modPath = modfile.ModulePath(data)
	}
	return t
}

// parseOther parses the go.mod of a module other than the one checked,
// whose replace directives some checks compare with its own: strictly,
// as the go command parses a main module's, or else leniently (without
// replaces), or nil.
func parseOther(name string, data []byte) *modfile.File {
	if f, err := modfile.Parse(name, data, nil); err == nil {
		return f
	}
	f, _ := modfile.ParseLax(name, data, nil)
	return f
}

// vcsRootNames are the names whose presence marks the root of a checkout, as
// in the RootNames of cmd/go's vcs.vcsList (cmd/go/internal/vcs/vcs.go). A
// .git may be a file (worktrees, submodules), so any kind of entry counts.
var vcsRootNames = []string{".git", ".hg", ".svn", ".bzr", ".fslckout", "_FOSSIL_"}

// findVCSRoot returns the innermost directory at or above dir that holds a
// version control checkout, or "" if there is none. Like cmd/go's vcs.FromDir
// it takes the first match walking up.
func findVCSRoot(dir string) string {
	for {
		for _, name := range vcsRootNames {
			if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
				return dir
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// findWorkFile returns the go.work at or above dir the way cmd/go's
// modload.findWorkspaceFile (modload/init.go) finds it when GOWORK is unset:
// walking up, never crossing into GOROOT's parent. The GOWORK variable is
// deliberately ignored: the gowork-shadow check is about the files in the
// tree, which other developers' builds see whatever this machine's GOWORK says.
func findWorkFile(dir string) string {
	work, _ := modload.FindGoWork(dir, "", build.Default.GOROOT) // errs only for a relative GOWORK
	return work
}

// loadWork reads the go.work above modDir, if any. A go.work that cannot be
// read or parsed is treated as absent: the go command reports it loudly.
func loadWork(modDir string) *workState {
	path := findWorkFile(modDir)
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	wf, err := modfile.ParseWork(path, data, nil)
	if err != nil {
		return nil
	}
	w := &workState{path: path, data: data, file: wf, useByPath: make(map[string]*modfile.Use)}
	for _, u := range wf.Use {
		wm := &workModule{use: u, dir: modload.UseDir(path, u)}
		w.uses = append(w.uses, wm)
		if wm.dir == modDir {
			w.usesModule = true
		}
		if data, err := os.ReadFile(filepath.Join(wm.dir, "go.mod")); err == nil {
			wm.file = parseOther(filepath.Join(wm.dir, "go.mod"), data)
			if p := modfile.ModulePath(data); p != "" {
				w.useByPath[p] = u
			}
		}
	}
	return w
}

// writeInputs writes to h a description of every input in the snapshot, so
// that two snapshots with the same inputs hash alike.
func (m *modState) writeInputs(h hash.Hash) {
	fmt.Fprintf(h, "go.mod %q %x\n", m.path, sha256.Sum256(m.data))
	fmt.Fprintf(h, "vcs %q\n", m.vcsRoot)
	if w := m.work; w != nil {
		fmt.Fprintf(h, "go.work %q %x %v\n", w.path, sha256.Sum256(w.data), w.usesModule)
		for _, p := range sortedKeys(w.useByPath) {
			fmt.Fprintf(h, "use %q %q\n", w.useByPath[p].Path, p)
		}
		for _, wm := range w.uses {
			fmt.Fprintf(h, "use dir %q %v\n", wm.dir, wm.file != nil)
			if wm.file != nil {
				for _, r := range wm.file.Replace {
					fmt.Fprintf(h, "\treplace %v => %v\n", r.Old, r.New)
				}
			}
		}
	}
	for _, p := range sortedKeys(m.targets) {
		t := m.targets[p]
		fmt.Fprintf(h, "target %q %q %v %v %v %q %x\n", p, t.dir, t.exists, t.isDir, t.hasMod, t.modPath, sha256.Sum256(t.data))
	}
}

// writeGraph writes to h a description of the module graph: every edge
// and every go.mod that failed, which covers every go.mod file the graph
// read from the module cache and from directories.
func writeGraph(h hash.Hash, g *modGraph) {
	if g.Graph == nil {
		fmt.Fprintf(h, "graph error %q\n", g.err)
		return
	}
	var lines []string
	for _, m := range append([]module.Version{{Path: g.Main().Path}}, g.nodes()...) {
		if reqs, ok := g.RequiredBy(m); ok {
			lines = append(lines, fmt.Sprintf("requires %v %v", m, reqs))
		}
	}
	for _, f := range g.Failures() {
		lines = append(lines, fmt.Sprintf("failed %v %q", f.Module, f.Err))
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Fprintln(h, l)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// within reports whether target is root or inside it. Both are compared
// after resolving symbolic links where possible, because a link inside the
// repository that points out of it escapes just the same.
func within(root, target string) bool {
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	if t, err := filepath.EvalSymlinks(target); err == nil {
		target = t
	}
	rel, err := filepath.Rel(root, target)
	if err != nil {
		return false
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
