package analyzer

import (
	"context"
	"errors"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// FuzzCheckModFile runs every check on generated go.mod files. Beyond not
// panicking, it holds the suggested fixes to their promise: applied
// together, they leave a go.mod that parses and replaces every required
// module version exactly as before.
func FuzzCheckModFile(f *testing.F) {
	filepath.WalkDir("testdata/src", func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "go.mod" {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
		return nil
	})
	for _, s := range []string{
		"module m\n\ngo 1.22\n\nrequire a.example v1.0.0\n\nreplace a.example => a.example v1.0.0\n",
		"module m\ngo 1.22\nrequire a.example v1.0.0\nreplace (\n\ta.example v1.0.0 => a.example v1.0.0 // x\n)",
		"module m\r\ngo 1.22\r\nrequire \"a.example\" v1.0.0\r\nreplace \"a.example\" => b.example v1.0.0\r\n",
		"module m\ngo 1.22\nrequire a.example v1.0.0\nreplace a.example=>b.example v1.0.0\n",
		"module m\ngo 1.22\nrequire a.example v1.0.0\nreplace a.example v1.0.0 => b.example v1.0.0\nreplace a.example v1.0.0 => b.example v1.0.0\nreplace a.example v1.0.0 => b.example v1.0.0\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	gomod := filepath.Join(dir, "go.mod")
	all, err := (&Config{Enable: []string{"all"}}).enabled()
	if err != nil {
		f.Fatal(err)
	}
	cfg := &Config{Source: fuzzSource{}, OnNote: func(Note) {}}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := loadModuleData(gomod, data)
		if err != nil {
			return
		}
		fset := token.NewFileSet()
		diags := runChecks(context.Background(), fset, gomod, m, all, cfg)
		tf := fset.File(token.Pos(fset.Base() - 1))
		for _, d := range diags {
			if fset.File(d.Pos) != tf || d.End < d.Pos || !strings.HasPrefix(d.Message, "["+d.Category+"] ") {
				t.Fatalf("bad diagnostic %+v", d)
			}
		}
		out, _, err := ApplyFixes(fset, gomod, data, diags)
		if err != nil {
			t.Fatal(err)
		}
		fixed, err := modfile.Parse(gomod, out, nil)
		if err != nil {
			t.Fatalf("fixes broke go.mod: %v\n%s\n=>\n%s", err, data, out)
		}
		for _, r := range m.file.Require {
			before, conflictBefore := replacementOf(m.file, r.Mod)
			after, conflictAfter := replacementOf(fixed, r.Mod)
			if before != after || conflictBefore != conflictAfter {
				t.Fatalf("fixes changed the replacement of %v from %v (conflict %v) to %v (conflict %v):\n%s\n=>\n%s",
					r.Mod, before, conflictBefore, after, conflictAfter, data, out)
			}
		}
	})
}

// replacementOf returns what the go command builds for mod under the
// replaces of f: the replacement of that version, else of every version
// (cmd/go's modload.replacement), else mod itself; a replace to itself is
// no replacement. conflict reports two different replacements of the
// deciding old version, which the go command refuses to load.
func replacementOf(f *modfile.File, mod module.Version) (_ module.Version, conflict bool) {
	lookup := func(old module.Version) (*module.Version, bool) {
		var found *module.Version
		conflict := false
		for _, r := range f.Replace {
			if r.Old == old {
				if found != nil && *found != r.New {
					conflict = true
				}
				if found == nil {
					found = &r.New
				}
			}
		}
		return found, conflict
	}
	r, conflict := lookup(mod)
	if r == nil {
		r, conflict = lookup(module.Version{Path: mod.Path})
	}
	if r == nil || *r == mod {
		return mod, conflict
	}
	return *r, conflict
}

// fuzzSource answers the retracted check deterministically, and is the
// module cache of the graph: every module version has a go.mod with no
// requirements, so that the graph is complete and the fixes that need one
// are offered. Nothing is fetched.
type fuzzSource struct{}

func (fuzzSource) CachedGoMod(path, version string) ([]byte, error) {
	return []byte("module " + path + "\n"), nil
}

func (fuzzSource) GoMod(ctx context.Context, path, version string) ([]byte, error) {
	return nil, fs.ErrNotExist
}

func (fuzzSource) Retraction(ctx context.Context, path, version string) (bool, string, error) {
	if strings.Contains(path, "err") {
		return false, "", errors.New("no answer")
	}
	return strings.HasSuffix(version, "1"), "", nil
}

func (fuzzSource) Deprecation(ctx context.Context, path string) (string, error) {
	return "", nil
}
