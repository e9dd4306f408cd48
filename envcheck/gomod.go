package envcheck

import (
	"os"
	"path/filepath"

	"golang.org/x/mod/modfile"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modload"
)

// gomod is the main module's go.mod, as far as the checks need it.
type gomod struct {
	path string
	file *modfile.File
	// summed holds module paths that have at least one line in go.sum:
	// those downloads are verified locally, without the checksum database.
	summed map[string]bool
}

// findGoMod locates and parses the go.mod named by spec: a go.mod file, or
// the go.mod of the module containing the directory spec (the current
// directory when spec is empty), found as the go command finds it
// ([modload.FindGoMod]). No go.mod at all is not an error: it returns nil.
func findGoMod(spec string) (*gomod, error) {
	path, err := locateGoMod(spec)
	if err != nil || path == "" {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// Strict parsing, as the go command parses its main module: lax parsing
	// drops the toolchain and replace lines the checks need.
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		return nil, err
	}
	m := &gomod{path: path, file: f, summed: map[string]bool{}}
	// go.sum as the go command reads it (modnet.ParseGoSum): a malformed
	// one, which it refuses, vouches for nothing. -modfile=x.mod reads
	// x.sum, not go.sum.
	if sums, err := modnet.ReadGoSum(modload.GoSumFile(path)); err == nil {
		for _, l := range sums.Lines() {
			m.summed[l.Path] = true
		}
	}
	return m, nil
}

func locateGoMod(spec string) (string, error) {
	if spec == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		return modload.FindGoMod(wd), nil
	}
	fi, err := os.Stat(spec)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return spec, nil
	}
	return modload.FindGoMod(spec), nil
}

// moduleDir is the directory the go command would run in for
// Options.ModFile: the file's directory, the directory given, or the
// current directory.
func (r *runner) moduleDir() (string, error) {
	spec := r.opts.ModFile
	if spec == "" {
		return os.Getwd()
	}
	fi, err := os.Stat(spec)
	if err != nil {
		return "", err
	}
	if fi.IsDir() {
		return spec, nil
	}
	return filepath.Dir(spec), nil
}
