package envcheck

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
)

// gomod is the main module's go.mod, as far as the checks need it.
type gomod struct {
	path string
	file *modfile.File
	// summed holds module paths that have at least one line in go.sum:
	// those downloads are verified locally, without the checksum database.
	summed map[string]bool
}

// findGoMod locates and parses the go.mod named by spec (a file or a
// directory), or, for an empty spec, the nearest go.mod in the current
// directory or above it, as cmd/go/internal/modload.findModuleRoot does.
// No go.mod at all is not an error: it returns nil.
func findGoMod(spec string) (*gomod, error) {
	path, err := locateGoMod(spec)
	if err != nil || path == "" {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// Lax parsing: a go.mod from a newer go may hold directives this
	// version of x/mod does not know; the checks only need go, toolchain
	// and require.
	f, err := modfile.ParseLax(path, data, nil)
	if err != nil {
		return nil, err
	}
	m := &gomod{path: path, file: f, summed: map[string]bool{}}
	if sum, err := os.ReadFile(filepath.Join(filepath.Dir(path), "go.sum")); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(sum))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 3 {
				m.summed[f[0]] = true
			}
		}
	}
	return m, nil
}

func locateGoMod(spec string) (string, error) {
	if spec != "" {
		fi, err := os.Stat(spec)
		if err != nil {
			return "", err
		}
		if fi.IsDir() {
			spec = filepath.Join(spec, "go.mod")
			if _, err := os.Stat(spec); err != nil {
				return "", err
			}
		}
		return spec, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "go.mod")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("looking for go.mod: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}
