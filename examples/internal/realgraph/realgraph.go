package realgraph

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modnettest"
)

//go:embed main/go.mod.txt main/go.sum.txt main/main.go.txt
var mainFiles embed.FS

// A Tree is the local copy of the graph: everything a module proxy serves
// for it, in GOPROXY layout.
type Tree struct {
	// Dir is the tree's root; the proxy directory is Dir/proxy.
	Dir string
}

// ProxyDir returns the tree's GOPROXY-layout directory
// (<escaped path>/@v/<version>.info, .mod, .zip, list).
func (t *Tree) ProxyDir() string { return filepath.Join(t.Dir, "proxy") }

// DefaultRoot returns where trees are kept between runs when the caller
// names no directory: $XDG_CACHE_HOME/modkit-realgraph (os.UserCacheDir).
func DefaultRoot() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("realgraph: no directory to keep the graph in (%w); name one", err)
	}
	return filepath.Join(dir, "modkit-realgraph"), nil
}

// Open returns the tree for the pinned graph under root ("" means
// [DefaultRoot]), fetching it first if it is not there: the go command runs
// 'go mod download all' for the main module into a temporary module cache,
// from GOPROXY as it reads it, and the download cache is kept as the
// tree. Progress goes to log (nil: nowhere). A tree that is complete is
// used as it is, without the network.
func Open(ctx context.Context, root string, log io.Writer) (*Tree, error) {
	if root == "" {
		var err error
		if root, err = DefaultRoot(); err != nil {
			return nil, err
		}
	}
	if log == nil {
		log = io.Discard
	}
	sum, err := mainFiles.ReadFile("main/go.sum.txt")
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(sum)
	t := &Tree{Dir: filepath.Join(root, "graph-"+hex.EncodeToString(h[:6]))}
	if _, err := os.Stat(filepath.Join(t.Dir, "complete")); err == nil {
		return t, nil
	}
	if err := t.fetch(ctx, log); err != nil {
		return nil, fmt.Errorf("realgraph: fetching the graph into %s: %w", t.Dir, err)
	}
	return t, nil
}

// fetch downloads the graph with the go command and keeps its download
// cache as the proxy directory; the marker file "complete" goes last.
func (t *Tree) fetch(ctx context.Context, log io.Writer) error {
	if err := os.MkdirAll(t.Dir, 0o777); err != nil {
		return err
	}
	work, err := os.MkdirTemp(t.Dir, "fetch-")
	if err != nil {
		return err
	}
	defer modnet.RemoveAll(work)
	mainDir, modcache := filepath.Join(work, "main"), filepath.Join(work, "modcache")
	if err := WriteMain(mainDir); err != nil {
		return err
	}
	fmt.Fprintf(log, "realgraph: fetching the graph once into %s (go mod download all)\n", t.Dir)
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "all")
	cmd.Dir = mainDir
	cmd.Env = append(os.Environ(), "GOMODCACHE="+modcache, "GOFLAGS=-modcacherw", "GOWORK=off", "GOTOOLCHAIN=local")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go mod download all: %w", err)
	}
	download := filepath.Join(modcache, "cache", "download")
	// What a proxy serves, not what a module cache adds around it.
	if err := os.RemoveAll(filepath.Join(download, "sumdb")); err != nil {
		return err
	}
	err = filepath.WalkDir(download, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(path) {
		case ".info", ".mod", ".zip":
			return nil
		}
		if d.Name() == "list" {
			return nil
		}
		return os.Remove(path)
	})
	if err != nil {
		return err
	}
	if err := modnet.RemoveAll(t.ProxyDir()); err != nil {
		return err
	}
	if err := os.Rename(download, t.ProxyDir()); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(t.Dir, "complete"), nil, 0o666)
}

// WriteMain writes the graph's main module (go.mod, go.sum, main.go) into
// dir, creating it.
func WriteMain(dir string) error {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	for _, name := range []string{"go.mod", "go.sum", "main.go"} {
		data, err := mainFiles.ReadFile("main/" + name + ".txt")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o666); err != nil {
			return err
		}
	}
	return nil
}

// Serve starts a modnettest server for the tree on loopback, misbehaving as
// faults says (latency, bandwidth, the fault mix); change them later with
// SetFaults. Its checksum database (Server.SumDB) knows every module of the
// tree. The caller must Close it.
func (t *Tree) Serve(faults modnettest.Faults) *modnettest.Server {
	s := modnettest.NewUnstartedServer()
	s.Name = "realgraph"
	s.Dir = t.ProxyDir()
	s.Start()
	s.SetFaults(faults)
	return s
}

// Stats describes the graph as served.
type Stats struct {
	// Modules are the versions downloaded in full (a zip line in go.sum).
	Modules []module.Version
	// ZipBytes is the size of their zips.
	ZipBytes int64
}

// Stats reads the go.sum and the tree's zips.
func (t *Tree) Stats() (*Stats, error) {
	sum, err := mainFiles.ReadFile("main/go.sum.txt")
	if err != nil {
		return nil, err
	}
	st := new(Stats)
	for line := range strings.Lines(string(sum)) {
		f := strings.Fields(line)
		if len(f) != 3 || strings.HasSuffix(f[1], "/go.mod") {
			continue
		}
		m := module.Version{Path: f[0], Version: f[1]}
		esc, err := module.EscapePath(m.Path)
		if err != nil {
			return nil, err
		}
		ev, err := module.EscapeVersion(m.Version)
		if err != nil {
			return nil, err
		}
		fi, err := os.Stat(filepath.Join(t.ProxyDir(), filepath.FromSlash(esc), "@v", ev+".zip"))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				err = fmt.Errorf("the tree lacks %s: remove %s to fetch it again: %w", m, t.Dir, err)
			}
			return nil, err
		}
		st.Modules = append(st.Modules, m)
		st.ZipBytes += fi.Size()
	}
	return st, nil
}
