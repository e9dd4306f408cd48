package coderepo

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/modkit/modkit/modnet/internal/codehost"
)

// Zip writes the module zip of a canonical version as the go command makes
// it (cmd/go/internal/modfetch/coderepo.go: Zip): 'git archive' of the
// commit, limited to the module's directory, each file renamed under
// "<path>@<version>/", the repository root's LICENSE added to a module in
// a subdirectory that has none, and golang.org/x/mod/zip.Create deciding
// what belongs in a module (no nested modules, no vendor trees, no
// symlinks). The same files give the same h1: hash as the go command's.
//
// golang.org/x/mod/zip.CreateFromVCS is not used: it needs a checkout with a
// .git directory, not a bare mirror, and it leaves export-subst and
// export-ignore attributes in force, which the go command disables, so its
// zips (and hashes) can differ.
//
// Unlike the go command, Zip does not refuse a module whose go.mod asks for
// a newer Go than the running toolchain: modkit downloads modules for other
// toolchains and is not one itself.
func (r *Repo) Zip(ctx context.Context, dst io.Writer, version string) error {
	if version != module.CanonicalVersion(version) {
		return fmt.Errorf("version %s is not canonical", version)
	}
	if module.IsPseudoVersion(version) {
		// findDir only uses the hash: check the rest of the version.
		if _, err := r.Stat(ctx, version); err != nil {
			return err
		}
	}
	rev, subdir, _, err := r.findDir(ctx, version)
	if err != nil {
		return err
	}
	if gomod, err := r.code.ReadFile(ctx, rev, path.Join(subdir, "go.mod"), codehost.MaxGoMod); err == nil {
		// codeRepo.Zip: no zip of a module too new for the running Go.
		if r.CheckGoLine != nil {
			if err := r.CheckGoLine(r.modPath+"@"+version, gomod); err != nil {
				return err
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}

	// Spool the archive to a file: zip needs random access.
	f, err := os.CreateTemp("", "modkit-git-archive-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	lw := &vcsLimitWriter{w: f, n: codehost.MaxZipFile}
	if err := r.code.Archive(ctx, lw, rev, subdir); err != nil {
		if lw.exceeded {
			return errors.New("downloaded zip file too large")
		}
		return err
	}
	zr, err := zip.NewReader(f, codehost.MaxZipFile-lw.n)
	if err != nil {
		return err
	}

	subdir = strings.Trim(subdir, "/")
	if subdir != "" {
		subdir += "/"
	}
	var files []modzip.File
	haveLICENSE := false
	top := ""
	for _, zf := range zr.File {
		if top == "" {
			i := strings.Index(zf.Name, "/")
			if i < 0 {
				return errors.New("missing top-level directory prefix")
			}
			top = zf.Name[:i+1]
		}
		name, ok := strings.CutPrefix(zf.Name, top)
		if !ok {
			return errors.New("zip file contains more than one top-level directory")
		}
		if name, ok = strings.CutPrefix(name, subdir); !ok || name == "" || strings.HasSuffix(name, "/") {
			continue
		}
		files = append(files, vcsZipEntry{name, zf})
		if name == "LICENSE" {
			haveLICENSE = true
		}
	}
	if !haveLICENSE && subdir != "" {
		if data, err := r.code.ReadFile(ctx, rev, "LICENSE", codehost.MaxLICENSE); err == nil {
			files = append(files, vcsZipData{"LICENSE", data})
		}
	}
	return modzip.Create(dst, module.Version{Path: r.modPath, Version: version}, files)
}

// vcsLimitWriter fails once more than n bytes are written, so a huge
// repository cannot fill the disk.
type vcsLimitWriter struct {
	w        io.Writer
	n        int64
	exceeded bool
}

func (l *vcsLimitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		l.exceeded = true
		return 0, errors.New("downloaded zip file too large")
	}
	n, err := l.w.Write(p)
	l.n -= int64(n)
	return n, err
}

// vcsZipEntry is a file of the git archive, as a module zip file.
type vcsZipEntry struct {
	name string
	f    *zip.File
}

func (e vcsZipEntry) Path() string                 { return e.name }
func (e vcsZipEntry) Lstat() (fs.FileInfo, error)  { return e.f.FileInfo(), nil }
func (e vcsZipEntry) Open() (io.ReadCloser, error) { return e.f.Open() }

// vcsZipData is a file read separately, such as the root LICENSE.
type vcsZipData struct {
	name string
	data []byte
}

func (d vcsZipData) Path() string                 { return d.name }
func (d vcsZipData) Lstat() (fs.FileInfo, error)  { return vcsZipDataInfo{d}, nil }
func (d vcsZipData) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(d.data)), nil }

type vcsZipDataInfo struct{ d vcsZipData }

func (i vcsZipDataInfo) Name() string       { return path.Base(i.d.name) }
func (i vcsZipDataInfo) Size() int64        { return int64(len(i.d.data)) }
func (i vcsZipDataInfo) Mode() fs.FileMode  { return 0o644 }
func (i vcsZipDataInfo) ModTime() time.Time { return time.Time{} }
func (i vcsZipDataInfo) IsDir() bool        { return false }
func (i vcsZipDataInfo) Sys() any           { return nil }
