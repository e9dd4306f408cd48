package modnettest

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/dirhash"
)

// WriteDir writes mods into dir in GOPROXY layout, so that GOPROXY=file://
// (see DirURL) or NewServerFromDir serves them:
//
//	<escaped path>/@v/list
//	<escaped path>/@v/<escaped version>.info, .mod, .zip
//	<escaped path>/@latest
//
// A list file already in dir is merged with the new versions; @latest is
// rewritten when a new version becomes the latest.
func WriteDir(dir string, mods ...Module) error {
	byPath := make(map[string][]*builtModule)
	for _, m := range mods {
		b, err := m.build()
		if err != nil {
			return err
		}
		byPath[b.path] = append(byPath[b.path], b)
	}
	for path, built := range byPath {
		esc, err := module.EscapePath(path)
		if err != nil {
			return err
		}
		vdir := filepath.Join(dir, filepath.FromSlash(esc), "@v")
		if err := os.MkdirAll(vdir, 0o777); err != nil {
			return err
		}
		list, err := readDirList(dir, path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		var added []string
		for _, b := range built {
			ev, err := module.EscapeVersion(b.version)
			if err != nil {
				return err
			}
			for ext, data := range map[string][]byte{".info": b.info, ".mod": b.mod, ".zip": b.zip} {
				if err := os.WriteFile(filepath.Join(vdir, ev+ext), data, 0o666); err != nil {
					return err
				}
			}
			added = append(added, b.version)
		}
		list = append(list, listedVersions(added)...)
		semver.Sort(list)
		list = slices.Compact(list)
		var text strings.Builder
		for _, v := range list {
			text.WriteString(v + "\n")
		}
		if err := os.WriteFile(filepath.Join(vdir, "list"), []byte(text.String()), 0o666); err != nil {
			return err
		}
		latest := latestVersion(append(list, added...))
		for _, b := range built {
			if b.version == latest {
				if err := os.WriteFile(filepath.Join(vdir, "..", "@latest"), b.info, 0o666); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// DirURL returns the file:// URL of dir, the form GOPROXY accepts for a
// directory in GOPROXY layout.
func DirURL(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter: file:///C:/...
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// dirFile returns the file in a GOPROXY-layout directory that answers t.
func dirFile(dir string, t target) (string, error) {
	esc, err := module.EscapePath(t.module)
	if err != nil {
		return "", err
	}
	base := filepath.Join(dir, filepath.FromSlash(esc))
	switch t.kind {
	case KindList:
		return filepath.Join(base, "@v", "list"), nil
	case KindLatest:
		return filepath.Join(base, "@latest"), nil
	}
	ev, err := module.EscapeVersion(t.version)
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "@v", ev+"."+string(t.kind)), nil
}

// dirContent opens the file answering t, as a file:// proxy would.
func dirContent(dir string, t target) (*content, error) {
	name, err := dirFile(dir, t)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, notInDir(t, err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, notInDir(t, fs.ErrNotExist)
	}
	return &content{
		body:        f,
		closer:      f,
		contentType: contentType(t.kind),
		// Size and modification time change whenever the file is rewritten,
		// which is as strong a validator as a test directory needs.
		etag:    fmt.Sprintf(`"%x-%x"`, fi.Size(), fi.ModTime().UnixNano()),
		modTime: fi.ModTime(),
	}, nil
}

// notInDir describes a missing file without the test's temporary directory.
func notInDir(t target, err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		err = pe.Err
	}
	if errors.Is(err, fs.ErrNotExist) {
		err = fs.ErrNotExist
	}
	what := t.module
	if t.version != "" {
		what += "@" + t.version
	}
	return fmt.Errorf("%s: %s file in the proxy directory: %w", what, t.kind, err)
}

// readDirFile reads the file answering t.
func readDirFile(dir string, t target) ([]byte, error) {
	name, err := dirFile(dir, t)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, notInDir(t, err)
	}
	return data, nil
}

// readDirList reads the versions listed in <dir>/<escaped path>/@v/list.
func readDirList(dir, path string) ([]string, error) {
	data, err := readDirFile(dir, target{kind: KindList, module: path})
	if err != nil {
		return nil, err
	}
	var list []string
	for line := range strings.Lines(string(data)) {
		if f := strings.Fields(line); len(f) > 0 {
			list = append(list, f[0])
		}
	}
	return list, nil
}

// dirSumLines computes the go.sum lines of a module version stored in dir,
// hashing the zip file as the go command does (dirhash.HashZip).
func dirSumLines(dir, path, version string) ([]byte, error) {
	t := target{kind: KindMod, module: path, version: version}
	mod, err := readDirFile(dir, t)
	if err != nil {
		return nil, err
	}
	modSum, err := hashGoMod(mod)
	if err != nil {
		return nil, err
	}
	lines := fmt.Sprintf("%s %s/go.mod %s\n", path, version, modSum)
	t.kind = KindZip
	zipName, _ := dirFile(dir, t)
	if zipSum, err := dirhash.HashZip(zipName, dirhash.Hash1); err == nil {
		lines = fmt.Sprintf("%s %s %s\n", path, version, zipSum) + lines
	}
	return []byte(lines), nil
}
