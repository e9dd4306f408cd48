package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/examples/internal/realgraph"
)

// wholeTree returns a GOPROXY directory with everything of tree's plus
// the .info and .zip of each module of which tree has only the go.mod.
//
// realgraph's tree holds what 'go mod download all' fetched: the whole of
// the build list, and only the go.mod of the modules whose requirements
// the graph walk needed. goproxy answers a request for a .mod with
// Fetcher.Download, which returns the .info and the .zip too, so behind
// goproxy those modules must be whole upstream (a real module proxy has
// them). The missing files are fetched once with 'go mod download', from
// GOPROXY as the go command reads it, and kept beside the tree, named
// after it.
func wholeTree(ctx context.Context, tree *realgraph.Tree) (string, error) {
	dir := tree.Dir + "-whole"
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return filepath.Join(dir, "proxy"), nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	proxy := filepath.Join(dir, "proxy")
	var missing []string
	err := filepath.WalkDir(tree.ProxyDir(), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tree.ProxyDir(), p)
		if err := linkFile(p, filepath.Join(proxy, rel)); err != nil {
			return err
		}
		if zip := strings.TrimSuffix(p, ".mod") + ".zip"; strings.HasSuffix(p, ".mod") {
			if _, err := os.Stat(zip); err != nil {
				m, err := moduleOf(filepath.ToSlash(rel))
				if err != nil {
					return err
				}
				missing = append(missing, m.String())
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "goproxybench: fetching the whole of %d modules of which the real graph has only the go.mod, into %s\n", len(missing), dir)
		tmp := filepath.Join(dir, "fetch")
		if err := os.MkdirAll(tmp, 0o777); err != nil {
			return "", err
		}
		cmd := exec.CommandContext(ctx, "go", append([]string{"mod", "download", "-json"}, missing...)...)
		cmd.Dir = tmp
		cmd.Env = append(os.Environ(), "GOMODCACHE="+filepath.Join(tmp, "modcache"), "GOFLAGS=-modcacherw", "GOWORK=off")
		out, err := cmd.Output()
		dec := json.NewDecoder(strings.NewReader(string(out)))
		for {
			var dl struct{ Path, Version, Info, Zip, Error string }
			if err := dec.Decode(&dl); err == io.EOF {
				break
			} else if err != nil {
				return "", err
			}
			if dl.Error != "" {
				return "", fmt.Errorf("go mod download %s@%s: %s", dl.Path, dl.Version, dl.Error)
			}
			esc, _ := module.EscapePath(dl.Path)
			ev, _ := module.EscapeVersion(dl.Version)
			for _, f := range []string{dl.Info, dl.Zip} {
				if err := linkFile(f, filepath.Join(proxy, filepath.FromSlash(esc), "@v", ev+filepath.Ext(f))); err != nil {
					return "", err
				}
			}
		}
		if err != nil {
			return "", fmt.Errorf("go mod download: %w", err)
		}
	}
	return proxy, os.WriteFile(filepath.Join(dir, "complete"), nil, 0o666)
}

// moduleOf parses "<escaped path>/@v/<escaped version>.mod".
func moduleOf(rel string) (module.Version, error) {
	esc, file, ok := strings.Cut(rel, "/@v/")
	if !ok {
		return module.Version{}, fmt.Errorf("%s: not a module file", rel)
	}
	path, err := module.UnescapePath(esc)
	if err != nil {
		return module.Version{}, err
	}
	version, err := module.UnescapeVersion(strings.TrimSuffix(file, ".mod"))
	return module.Version{Path: path, Version: version}, err
}

// linkFile hard-links src at dst, copying where links are refused.
func linkFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o777); err != nil {
		return err
	}
	if os.Link(src, dst) == nil {
		return nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o666)
}
