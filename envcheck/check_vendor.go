package envcheck

import (
	"context"
	"errors"
	"fmt"
	"go/version"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// checkVendor decides, as the go command does, whether the main module
// builds from its vendor directory (-mod=vendor in GOFLAGS, or by default
// when vendor/ exists and go.mod says go 1.14 or later;
// cmd/go/internal/modload.setDefaultBuildMod), and if so whether
// vendor/modules.txt agrees with go.mod (modload.checkVendorConsistency):
// every requirement marked explicit, every replacement recorded, nothing
// recorded that go.mod does not say. Each difference is one the go
// command reports, in its words, before it refuses to build.
func checkVendor(ctx context.Context, r *runner) Result {
	mod, err := r.gomod()
	if err != nil {
		return Result{Status: StatusWarn, Summary: fmt.Sprintf("cannot read go.mod: %v", err)}
	}
	if mod == nil {
		return skip("no go.mod here")
	}
	root := filepath.Dir(mod.path)
	vendorDir := filepath.Join(root, "vendor")
	if fi, err := os.Stat(vendorDir); err != nil || !fi.IsDir() {
		return skip("no vendor directory in %s", root)
	}
	if work, err := r.env.FindGoWork(root); err == nil && work != "" {
		if _, err := os.Stat(work); err == nil {
			return skip("in the workspace %s the go command uses the workspace's vendor directory ('go work vendor'), not %s", work, vendorDir)
		}
	}
	var f findings
	goVersion := ""
	if mod.file.Go != nil {
		goVersion = mod.file.Go.Version
	}
	modFlag, explicit, _ := r.env.GoFlag("mod")
	switch {
	case explicit && modFlag != "vendor":
		return Result{Status: StatusInfo, Summary: fmt.Sprintf("GOFLAGS=-mod=%s: the go command ignores %s", modFlag, vendorDir)}
	case explicit:
		f.note("GOFLAGS has -mod=vendor")
	case goVersion == "":
		return Result{Status: StatusInfo, Summary: "Go version in go.mod is unspecified, so vendor directory was not used."}
	case version.Compare("go"+goVersion, "go1.14") < 0:
		return Result{Status: StatusInfo, Summary: fmt.Sprintf("Go version in go.mod is %s, so vendor directory was not used.", goVersion)}
	default:
		if forWorkspace(vendorDir) {
			return Result{Status: StatusInfo, Summary: "Outside workspace mode, but vendor directory is for a workspace."}
		}
		f.note("Go version in go.mod is at least 1.14 and vendor directory exists: the go command builds with -mod=vendor")
	}

	data, err := os.ReadFile(filepath.Join(vendorDir, "modules.txt"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		f.add(StatusError, "go mod vendor", "%v", err)
		return f.result("")
	}
	vl := parseModulesTxt(data)
	// modload.readVendorList: a vendored module's go line above the Go
	// that runs is fatal.
	if sel, err := r.env.SelectToolchain(ctx, root); err == nil {
		for _, m := range vl.order {
			if g := vl.meta[m].goVersion; g != "" {
				if err := sel.TooNew(root, m.Path+" in "+filepath.Join("vendor", "modules.txt"), g); err != nil {
					f.add(StatusError, "", "%v", err)
				}
			}
		}
	}
	problems := vendorConsistency(mod, vl, version.Compare("go"+goVersion, "go1.14") < 0)
	if len(problems) == 0 {
		return f.result(fmt.Sprintf("vendor/modules.txt agrees with go.mod (%d vendored modules)", len(vl.list)))
	}
	fix := "go mod vendor\n# or, to ignore the vendor directory: -mod=readonly or -mod=mod"
	f.add(StatusError, fix, "inconsistent vendoring in %s: %s", root, problems[0])
	for _, p := range problems[1:] {
		f.add(StatusError, fix, "%s", p)
	}
	return f.result("")
}

// forWorkspace reports whether vendor/modules.txt was written by
// 'go work vendor' (modload.modulesTextIsForWorkspace).
func forWorkspace(vendorDir string) bool {
	data, err := os.ReadFile(filepath.Join(vendorDir, "modules.txt"))
	if err != nil {
		return false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	if annotations, ok := strings.CutPrefix(line, "## "); ok {
		for _, entry := range strings.Split(annotations, ";") {
			if strings.TrimSpace(entry) == "workspace" {
				return true
			}
		}
	}
	return false
}

// vendorList is what vendor/modules.txt says (modload.readVendorList).
type vendorList struct {
	order    []module.Version // every module line, in order
	list     []module.Version // modules that provide packages
	replaced []module.Version // modules marked as replaced
	version  map[string]string
	meta     map[module.Version]vendorMeta
}

type vendorMeta struct {
	explicit    bool
	replacement module.Version
	goVersion   string
}

// parseModulesTxt reads vendor/modules.txt as the go command does:
// "# path version [=> replacement]" lines start a module ("# path =>
// replacement" a wildcard replacement), "## explicit; go 1.21" lines
// annotate it, and package lines under it make it part of the build.
// Lines it does not understand are ignored, as there.
func parseModulesTxt(data []byte) *vendorList {
	vl := &vendorList{version: map[string]string{}, meta: map[module.Version]vendorMeta{}}
	var mod module.Version
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "# ") {
			f := strings.Fields(line)
			if len(f) < 3 {
				continue
			}
			switch {
			case semver.IsValid(f[2]):
				mod = module.Version{Path: f[1], Version: f[2]}
				f = f[3:]
			case f[2] == "=>":
				mod = module.Version{Path: f[1]}
				f = f[2:]
			default:
				mod = module.Version{}
				continue
			}
			if _, ok := vl.meta[mod]; !ok {
				vl.order = append(vl.order, mod)
			}
			meta := vl.meta[mod]
			if len(f) >= 2 && f[0] == "=>" {
				switch {
				case len(f) == 2:
					meta.replacement = module.Version{Path: f[1]}
					vl.replaced = append(vl.replaced, mod)
				case len(f) == 3 && semver.IsValid(f[2]):
					meta.replacement = module.Version{Path: f[1], Version: f[2]}
					vl.replaced = append(vl.replaced, mod)
				}
			}
			vl.meta[mod] = meta
			continue
		}
		if mod.Path == "" {
			continue
		}
		if annotations, ok := strings.CutPrefix(line, "## "); ok {
			meta := vl.meta[mod]
			for _, entry := range strings.Split(annotations, ";") {
				entry = strings.TrimSpace(entry)
				if entry == "explicit" {
					meta.explicit = true
				}
				if g, ok := strings.CutPrefix(entry, "go "); ok {
					meta.goVersion = g
				}
			}
			vl.meta[mod] = meta
			continue
		}
		if f := strings.Fields(line); len(f) == 1 && module.CheckImportPath(f[0]) == nil {
			if v, ok := vl.version[mod.Path]; !ok || semver.Compare(v, mod.Version) < 0 {
				vl.list = append(vl.list, mod)
				vl.version[mod.Path] = mod.Version
			}
		}
	}
	return vl
}

// vendorConsistency lists, in the go command's order and words, where
// vendor/modules.txt disagrees with go.mod (modload.checkVendorConsistency
// for a single main module). Before go 1.14 modules.txt had less to say,
// and only contradictions count.
func vendorConsistency(mod *gomod, vl *vendorList, pre114 bool) []string {
	var problems []string
	problem := func(m module.Version, format string, args ...any) {
		who := m.Path
		if m.Version != "" {
			who += "@" + m.Version
		}
		problems = append(problems, who+": "+fmt.Sprintf(format, args...))
	}
	describe := func(m module.Version) string {
		if m.Version == "" {
			return m.Path
		}
		return m.Path + "@" + m.Version
	}
	mainPath := ""
	if mod.file.Module != nil {
		mainPath = mod.file.Module.Mod.Path
	}
	replace := map[module.Version]module.Version{}
	for _, r := range mod.file.Replace {
		replace[r.Old] = r.New
	}
	// modload.replacementFrom: the version's own replacement, else the
	// path's; none for the main module itself.
	replacement := func(m module.Version) (module.Version, bool) {
		if m.Path == mainPath && m.Version == "" {
			return module.Version{}, false
		}
		if r, ok := replace[m]; ok {
			return r, true
		}
		r, ok := replace[module.Version{Path: m.Path}]
		return r, ok
	}

	required := map[module.Version]bool{}
	for _, r := range mod.file.Require {
		required[r.Mod] = true
		if vl.meta[r.Mod].explicit {
			continue
		}
		if pre114 {
			if vv, ok := vl.version[r.Mod.Path]; ok && vv != r.Mod.Version {
				problem(r.Mod, "is explicitly required in go.mod, but vendor/modules.txt indicates %s@%s", r.Mod.Path, vv)
			}
		} else {
			problem(r.Mod, "is explicitly required in go.mod, but not marked as explicit in vendor/modules.txt")
		}
	}
	seen := map[module.Version]bool{}
	for _, r := range mod.file.Replace {
		if seen[r.Old] {
			continue
		}
		seen[r.Old] = true
		rNew, ok := replacement(r.Old)
		vr := vl.meta[r.Old].replacement
		switch {
		case vr == (module.Version{}) && !ok:
		case vr == (module.Version{}) && pre114 && (r.Old.Version == "" || vl.version[r.Old.Path] != r.Old.Version):
		case vr == (module.Version{}):
			problem(r.Old, "is replaced in go.mod, but not marked as replaced in vendor/modules.txt")
		case vr != rNew:
			problem(r.Old, "is replaced by %s in go.mod, but marked as replaced by %s in vendor/modules.txt", describe(rNew), describe(vr))
		}
	}
	for _, m := range vl.list {
		if vl.meta[m].explicit && !required[m] {
			problem(m, "is marked as explicit in vendor/modules.txt, but not explicitly required in go.mod")
		}
	}
	for _, m := range vl.replaced {
		if _, ok := replacement(m); !ok {
			problem(m, "is marked as replaced in vendor/modules.txt, but not replaced in go.mod")
		}
	}
	return problems
}
