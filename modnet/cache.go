package modnet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/modkit/modkit/modnet/internal/lockedfile"
)

// A Cache is a module cache (GOMODCACHE) in exactly the go command's layout,
// so that modkit and the go command share it:
//
//	<Dir>/cache/download/<escaped path>/@v/list              versions with a .mod file
//	<Dir>/cache/download/<escaped path>/@v/<version>.info    {"Version", "Time", "Origin"}
//	<Dir>/cache/download/<escaped path>/@v/<version>.mod     the go.mod file
//	<Dir>/cache/download/<escaped path>/@v/<version>.zip     the module zip
//	<Dir>/cache/download/<escaped path>/@v/<version>.ziphash its h1: hash
//	<Dir>/cache/download/<escaped path>/@v/<version>.lock    the version's lock file
//	<Dir>/cache/download/sumdb/...                           checksum database tiles and lookups
//	<Dir>/<escaped path>@<version>/                          the extracted module, read-only
//
// Files are written as the go command writes them (cmd/go/internal/modfetch:
// cache.go and fetch.go): .info and .mod through a temporary file renamed
// into place, the zip under the version's lock and hashed before it is
// renamed into place, the extracted directory marked by a .partial file until
// it is complete. Locks are the go command's lock files taken with its
// primitive, so a concurrent go command and modkit never see each other's
// partial work.
//
// To download a version as the go command does: [Cache.ReadInfo] or fetch and
// [Cache.WriteInfo]; [Cache.ReadGoMod] or fetch and [Cache.WriteGoMod], and
// check its hash; [Cache.DownloadZip] with a verify function; then
// [Cache.Extract].
//
// A Cache is safe for concurrent use.
type Cache struct {
	// Dir is the module cache root, GOMODCACHE. It must be absolute.
	Dir string
	// ReadWrite leaves extracted module directories writable, as the
	// -modcacherw flag (in GOFLAGS) does for the go command.
	ReadWrite bool
}

// NewCache returns the module cache env describes: GOMODCACHE (default
// $GOPATH/pkg/mod), writable directories if GOFLAGS has -modcacherw. It does
// not create the directory.
func NewCache(env *Env) (*Cache, error) {
	c := &Cache{Dir: env.Get("GOMODCACHE"), ReadWrite: env.ModCacheRW()}
	if err := c.checkDir(); err != nil {
		return nil, err
	}
	return c, nil
}

// checkDir applies cmd/go/internal/modfetch.checkCacheDir's rules to Dir,
// without its one-time creation of the directory: writers create what they
// need.
func (c *Cache) checkDir() error {
	if c.Dir == "" {
		return errors.New("module cache not found: neither GOMODCACHE nor GOPATH is set")
	}
	if !filepath.IsAbs(c.Dir) {
		return fmt.Errorf("GOMODCACHE entry is relative; must be absolute path: %q", c.Dir)
	}
	if fi, err := os.Stat(c.Dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("could not create module cache: %q is not a directory", c.Dir)
	}
	return nil
}

// escape checks mod and the cache directory as cmd/go's CachePath and
// DownloadDir do, in their order, and returns the escaped path and version:
// the toolchain pseudo-modules have no cache entries; the cache directory
// must be usable; the path must be escapable; the version must be
// canonical semver.
func (c *Cache) escape(mod module.Version) (encPath, encVersion string, err error) {
	if mod.Path == "go" || mod.Path == "toolchain" {
		return "", "", fmt.Errorf("%s@%s: the %s pseudo-module has no module cache entries", mod.Path, mod.Version, mod.Path)
	}
	if err := c.checkDir(); err != nil {
		return "", "", err
	}
	if encPath, err = module.EscapePath(mod.Path); err != nil {
		return "", "", err
	}
	if !semver.IsValid(mod.Version) {
		return "", "", fmt.Errorf("non-semver module version %q", mod.Version)
	}
	if module.CanonicalVersion(mod.Version) != mod.Version {
		return "", "", fmt.Errorf("non-canonical module version %q", mod.Version)
	}
	if encVersion, err = module.EscapeVersion(mod.Version); err != nil {
		return "", "", err
	}
	return encPath, encVersion, nil
}

// Path returns the download-cache file of mod with the given suffix
// ("info", "mod", "zip", "ziphash", "lock", "partial"):
// <Dir>/cache/download/<escaped path>/@v/<escaped version>.<suffix>, as
// cmd/go/internal/modfetch.CachePath computes it. The version must be
// canonical semver.
func (c *Cache) Path(mod module.Version, suffix string) (string, error) {
	enc, encVer, err := c.escape(mod)
	if err != nil {
		return "", err
	}
	return filepath.Join(c.Dir, "cache", "download", enc, "@v", encVer+"."+suffix), nil
}

// ModuleDir returns the directory mod is extracted to,
// <Dir>/<escaped path>@<escaped version>, and whether it is complete, as
// cmd/go/internal/modfetch.DownloadDir decides: if the directory is missing,
// still has a .partial marker, or its .ziphash is missing, the directory is
// returned with an error matching [fs.ErrNotExist].
func (c *Cache) ModuleDir(mod module.Version) (string, error) {
	enc, encVer, err := c.escape(mod)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(c.Dir, enc+"@"+encVer)
	if fi, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return dir, err
	} else if err != nil {
		return dir, &partialDirError{dir, err}
	} else if !fi.IsDir() {
		return dir, &partialDirError{dir, errors.New("not a directory")}
	}
	partial, err := c.Path(mod, "partial")
	if err != nil {
		return dir, err
	}
	if _, err := os.Stat(partial); err == nil {
		return dir, &partialDirError{dir, errors.New("not completely extracted")}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return dir, err
	}
	// cmd/go unpacks golang.org/fips140 from GOROOT, without a zip.
	if mod.Path == "golang.org/fips140" {
		return dir, nil
	}
	ziphash, err := c.Path(mod, "ziphash")
	if err != nil {
		return dir, err
	}
	if _, err := os.Stat(ziphash); errors.Is(err, fs.ErrNotExist) {
		return dir, &partialDirError{dir, errors.New("ziphash file is missing")}
	} else if err != nil {
		return dir, err
	}
	return dir, nil
}

// partialDirError is cmd/go's DownloadDirPartialError: a module directory
// that exists but is not completely populated counts as not existing.
type partialDirError struct {
	dir string
	err error
}

func (e *partialDirError) Error() string        { return fmt.Sprintf("%s: %v", e.dir, e.err) }
func (e *partialDirError) Is(target error) bool { return target == fs.ErrNotExist }

// Lock takes mod's version lock, <@v>/<version>.lock, the file the go
// command locks while it downloads and extracts the version's zip
// (cmd/go/internal/modfetch.lockVersion). It waits until the lock is free
// or ctx is done. The caller must call unlock.
func (c *Cache) Lock(ctx context.Context, mod module.Version) (unlock func(), err error) {
	path, err := c.Path(mod, "lock")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return nil, err
	}
	return lockedfile.Lock(ctx, path)
}

// SideLock takes the cache's side lock, <Dir>/cache/lock, which the go
// command holds while it edits files outside the cache such as go.sum
// (cmd/go/internal/modfetch.SideLock). The caller must call unlock.
func (c *Cache) SideLock(ctx context.Context) (unlock func(), err error) {
	if err := c.checkDir(); err != nil {
		return nil, err
	}
	path := filepath.Join(c.Dir, "cache", "lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return nil, fmt.Errorf("failed to create cache directory: %w", err)
	}
	return lockedfile.Lock(ctx, path)
}

// notCachedError reports a cache file that is missing or unusable; like the
// go command's errNotCached it means "fetch it", so it matches
// [fs.ErrNotExist].
type notCachedError struct {
	file string
	err  error
}

func (e *notCachedError) Error() string {
	return fmt.Sprintf("%s: not in module cache: %v", e.file, e.err)
}
func (e *notCachedError) Unwrap() error        { return e.err }
func (e *notCachedError) Is(target error) bool { return target == fs.ErrNotExist }

// ReadInfo reads mod's cached .info file and returns it with the file's
// name, as cmd/go/internal/modfetch.readDiskStat does. A missing or
// unparsable file is an error matching [fs.ErrNotExist]: fetch and
// [Cache.WriteInfo] it.
//
// The go command means to rewrite stale .info files in canonical form here
// but writes back the bytes it read; modkit leaves the file alone.
func (c *Cache) ReadInfo(mod module.Version) (*Info, string, error) {
	file, err := c.Path(mod, "info")
	if err != nil {
		return nil, "", err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, file, &notCachedError{file, err}
	}
	info := new(Info)
	if err := json.Unmarshal(data, info); err != nil {
		return nil, file, &notCachedError{file, err}
	}
	return info, file, nil
}

// WriteInfo stores info as mod's .info file, atomically, and returns the
// file's name. mod.Version names the file and must equal info.Version. As
// cmd/go/internal/modfetch.writeDiskStat does, it drops Origin fields that
// never matter for a semver version: TagSum, TagPrefix and RepoSum, and Ref
// for a pseudo-version.
func (c *Cache) WriteInfo(ctx context.Context, mod module.Version, info *Info) (string, error) {
	if info.Version != mod.Version {
		return "", fmt.Errorf("writing %s@%s.info: info is for version %q", mod.Path, mod.Version, info.Version)
	}
	file, err := c.Path(mod, "info")
	if err != nil {
		return "", err
	}
	clean := *info
	if info.Origin != nil {
		o := *info.Origin
		o.TagSum, o.TagPrefix, o.RepoSum = "", "", ""
		if module.IsPseudoVersion(info.Version) {
			o.Ref = ""
		}
		clean.Origin = &o
	}
	js, err := json.Marshal(&clean)
	if err != nil {
		return "", err
	}
	return file, writeAtomic(ctx, file, js)
}

// oldVgoPrefix marks go.mod files synthesised by pre-release module code;
// the go command ignores cached files that start with it.
var oldVgoPrefix = []byte("//vgo 0.0.")

// ReadGoMod reads mod's cached go.mod file and returns it with the file's
// name, as cmd/go/internal/modfetch.readDiskGoMod does. A missing file, or
// one from the pre-release era, is an error matching [fs.ErrNotExist].
// ReadGoMod does not verify the content: check [HashGoMod] of the data
// before using it, as the go command does.
func (c *Cache) ReadGoMod(mod module.Version) (data []byte, file string, err error) {
	file, err = c.Path(mod, "mod")
	if err != nil {
		return nil, "", err
	}
	data, err = os.ReadFile(file)
	if err != nil {
		return nil, file, &notCachedError{file, err}
	}
	if bytes.HasPrefix(data, oldVgoPrefix) {
		return nil, file, &notCachedError{file, errors.New("stale pre-modules go.mod")}
	}
	return data, file, nil
}

// WriteGoMod stores data as mod's go.mod file, atomically, then rewrites the
// module's version list (@v/list) as the go command does
// (cmd/go/internal/modfetch.writeDiskCache and rewriteVersionList). It
// returns the go.mod file's name. Verify data before storing it.
func (c *Cache) WriteGoMod(ctx context.Context, mod module.Version, data []byte) (string, error) {
	file, err := c.Path(mod, "mod")
	if err != nil {
		return "", err
	}
	if err := writeAtomic(ctx, file, data); err != nil {
		return "", err
	}
	if err := rewriteVersionList(ctx, filepath.Dir(file)); err != nil {
		return "", fmt.Errorf("updating version list: %w", err)
	}
	return file, nil
}

// writeAtomic writes data to file through a temporary file in the same
// directory, renamed into place (cmd/go/internal/modfetch.writeDiskCache), so
// that a reader sees the old file or the new one, never a part.
func writeAtomic(ctx context.Context, file string, data []byte) (err error) {
	if err := os.MkdirAll(filepath.Dir(file), 0o777); err != nil {
		return err
	}
	f, err := tempFile(ctx, filepath.Dir(file), filepath.Base(file), 0o666)
	if err != nil {
		return err
	}
	defer func() {
		// Remove the temporary file only if it was not renamed: after the
		// rename, another process may own a file of that name.
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), file)
}

// tempFile creates <dir>/<prefix><random>.tmp exclusively, the name pattern
// of cmd/go/internal/modfetch.tempFile, which the go command's clean-up of
// stale zip downloads ("<version>.zip*.tmp") relies on.
func tempFile(ctx context.Context, dir, prefix string, perm fs.FileMode) (*os.File, error) {
	for range 10000 {
		name := filepath.Join(dir, prefix+strconv.Itoa(rand.IntN(1000000000))+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			if ctx.Err() != nil {
				return nil, context.Cause(ctx)
			}
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("creating temporary file in %s: too many collisions", dir)
}

// rewriteVersionList regenerates <@v>/list from the .mod files present, as
// cmd/go/internal/modfetch.rewriteVersionList does: under the list file's
// lock, only if the content changes, truncating to zero and then to the new
// size before writing, so that a torn write leaves NUL bytes a reader can
// detect rather than a plausible-looking list.
func rewriteVersionList(ctx context.Context, dir string) (err error) {
	f, err := lockedfile.OpenFile(ctx, filepath.Join(dir, "list"), os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	// Versions without a .mod file are unusable, so they are not listed;
	// versions without a zip are, since building the module graph needs
	// only go.mod files.
	var list []string
	for _, e := range entries {
		if v, ok := strings.CutSuffix(e.Name(), ".mod"); ok && v != "" && module.CanonicalVersion(v) == v {
			list = append(list, v)
		}
	}
	semver.Sort(list)
	var buf bytes.Buffer
	for _, v := range list {
		buf.WriteString(v)
		buf.WriteByte('\n')
	}
	if fi, err := f.Stat(); err == nil && fi.Size() == int64(buf.Len()) {
		old := make([]byte, buf.Len()+1)
		if n, err := f.ReadAt(old, 0); err == io.EOF && n == buf.Len() && bytes.Equal(buf.Bytes(), old[:n]) {
			return nil
		}
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	if err := f.Truncate(int64(buf.Len())); err != nil {
		return err
	}
	if _, err := f.WriteAt(buf.Bytes(), 0); err != nil {
		f.Truncate(0)
		return err
	}
	return nil
}
