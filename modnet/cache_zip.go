package modnet

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/modkit/modkit/modnet/internal/lockedfile"
)

// ErrCorruptZip is matched by errors from [Cache.DownloadZip] when the bytes
// written are not a readable zip archive (truncated, garbled, empty):
// failures of the transfer rather than of the module, worth one more
// download. Zips that are readable but break the module zip rules, and
// checksum mismatches, do not match it.
var ErrCorruptZip = errors.New("corrupt module zip")

// A ZipTemp is the temporary file a module zip is downloaded into, next to
// its final name in the cache, as <version>.zip<random>.tmp (the go command's
// name pattern, so that its clean-up recognises an abandoned one). It is a
// retry.File, so a resumable download can write into it directly.
type ZipTemp struct {
	f   *os.File
	mod module.Version

	// Progress hooks, set by the fetch function's caller: bytes written,
	// and the size of the whole zip once a server announces it.
	onWrite func(n int)
	onSize  func(size int64)
}

// Write writes to the zip at the current offset.
func (t *ZipTemp) Write(p []byte) (int, error) {
	n, err := t.f.Write(p)
	if t.onWrite != nil && n > 0 {
		t.onWrite(n)
	}
	return n, err
}

// ReadFrom writes everything r yields to the zip at the current offset.
func (t *ZipTemp) ReadFrom(r io.Reader) (int64, error) {
	if t.onWrite == nil {
		return io.Copy(t.f, r) // the file's own ReadFrom: copy_file_range from a file:// proxy
	}
	return io.Copy(struct{ io.Writer }{t}, r) // through Write, for its progress
}

// WriteAt writes to the zip at an offset, without moving the offset of
// Write: a hedged download's two copies of a slow body write the same
// bytes at the same offsets.
func (t *ZipTemp) WriteAt(p []byte, off int64) (int, error) {
	n, err := t.f.WriteAt(p, off)
	if t.onWrite != nil && n > 0 {
		t.onWrite(n)
	}
	return n, err
}

// sized reports the size a server announced for the whole zip.
func (t *ZipTemp) sized(size int64) {
	if t.onSize != nil {
		t.onSize(size)
	}
}

// Seek sets the offset of the next write.
func (t *ZipTemp) Seek(offset int64, whence int) (int64, error) { return t.f.Seek(offset, whence) }

// Truncate changes the file's size; it does not move the offset.
func (t *ZipTemp) Truncate(size int64) error { return t.f.Truncate(size) }

// Check reports whether the bytes written so far form a readable zip
// archive, an error matching [ErrCorruptZip] if not: a cheap test of a
// complete transfer (a truncated zip has lost its directory, which comes
// last), for a downloader that starts over on corrupt bodies. The module
// zip rules and the hash are checked when the fetch function returns.
func (t *ZipTemp) Check() error {
	fi, err := t.f.Stat()
	if err != nil {
		return err
	}
	if _, err := zip.NewReader(t.f, fi.Size()); err != nil {
		return fmt.Errorf("%w: %d bytes: %w", ErrCorruptZip, fi.Size(), err)
	}
	return nil
}

// Reset empties the file, to start over from another source after a
// failure, as cmd/go/internal/modfetch.downloadZip does between proxies.
func (t *ZipTemp) Reset() error {
	if _, err := t.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return t.f.Truncate(0)
}

// Size reports how many bytes have been written, for resuming a transfer.
func (t *ZipTemp) Size() (int64, error) {
	fi, err := t.f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Name returns the temporary file's name.
func (t *ZipTemp) Name() string { return t.f.Name() }

// A VerifyFunc checks a module zip's h1: hash before the zip is stored,
// returning an error (a [*ChecksumError] for a mismatch) to reject it.
type VerifyFunc func(ctx context.Context, hash string) error

// DownloadZip makes sure mod's zip and its .ziphash are in the cache and
// returns the zip's name, following cmd/go/internal/modfetch.DownloadZip and
// downloadZip:
//
//   - If both files are present, the recorded hash (recomputed from the zip
//     if the .ziphash is torn) is given to verify, and fetch is not called.
//   - Otherwise, holding mod's version lock, it removes abandoned temporary
//     zips, calls fetch to write the zip into a new temporary file, checks
//     the result, hashes it with [HashZip], calls verify, writes the
//     .ziphash and renames the zip into place.
//
// The check is stricter than the go command's: besides requiring every
// file to be under "<path>@<version>/", it applies all the module zip rules
// of [modzip.CheckZip] (clean relative paths, no case-insensitive
// collisions, size limits) before anything is stored, where the go command
// discovers violations only when extracting, after storing the zip. A zip
// that fails any check, or that verify rejects, leaves nothing behind.
//
// fetch runs with the version lock held: a go command wanting the same zip
// waits for it. A nil verify accepts any hash.
func (c *Cache) DownloadZip(ctx context.Context, mod module.Version, fetch func(context.Context, *ZipTemp) error, verify VerifyFunc) (zipfile string, err error) {
	zipfile, err = c.Path(mod, "zip")
	if err != nil {
		return "", err
	}
	ziphash := zipfile + "hash"
	if exists(zipfile) && exists(ziphash) {
		return zipfile, c.checkStoredZip(ctx, mod, zipfile, verify)
	}

	unlock, err := c.Lock(ctx, mod)
	if err != nil {
		return "", err
	}
	defer unlock()

	// Another process may have finished while we waited for the lock.
	zipExists, hashExists := exists(zipfile), exists(ziphash)
	if zipExists && hashExists {
		return zipfile, c.checkStoredZip(ctx, mod, zipfile, verify)
	}
	dir := filepath.Dir(zipfile)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return "", err
	}
	// The lock guarantees that writers of older temporary zips are gone.
	removeMatching(dir, filepath.Base(zipfile), ".tmp", os.Remove)

	// The zip survived a lost .ziphash (a crash, another tool): rehash it
	// rather than download it again, as the go command does.
	if zipExists {
		return zipfile, hashZip(ctx, mod, zipfile, ziphash, verify)
	}

	f, err := tempFile(ctx, dir, filepath.Base(zipfile), 0o666)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	tmp := &ZipTemp{f: f, mod: mod}
	if err := fetch(ctx, tmp); err != nil {
		return "", err
	}
	if err := tmp.Check(); err != nil {
		return "", err
	}
	if err := checkZipRules(mod, f.Name()); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := hashZip(ctx, mod, f.Name(), ziphash, verify); err != nil {
		return "", err
	}
	if err := os.Rename(f.Name(), zipfile); err != nil {
		os.Remove(ziphash)
		return "", err
	}
	return zipfile, nil
}

func exists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// removeMatching applies remove to the entries of dir named
// prefix...suffix: the go command's clean-up globs, without glob quoting.
func removeMatching(dir, prefix, suffix string, remove func(string) error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, prefix) && strings.HasSuffix(n, suffix) && len(n) >= len(prefix)+len(suffix) {
			remove(filepath.Join(dir, n)) // best effort, as in the go command
		}
	}
}

// checkZipRules checks a readable zip before it is hashed: every file under
// the module's prefix (cmd/go/internal/modfetch.downloadZip's check and
// message), then the module zip rules.
func checkZipRules(mod module.Version, zipfile string) error {
	z, err := zip.OpenReader(zipfile)
	if err != nil {
		return module.VersionError(mod, fmt.Errorf("%w: %w", ErrCorruptZip, err))
	}
	defer z.Close()
	prefix := mod.Path + "@" + mod.Version + "/"
	for _, zf := range z.File {
		if !strings.HasPrefix(zf.Name, prefix) {
			return fmt.Errorf("zip for %s has unexpected file %s", prefix[:len(prefix)-1], zf.Name)
		}
	}
	if _, err := modzip.CheckZip(mod, zipfile); err != nil {
		return module.VersionError(mod, fmt.Errorf("invalid module zip: %w", err))
	}
	return nil
}

// hashZip hashes zipfile, has verify accept the hash and then writes it to
// ziphashfile, as cmd/go/internal/modfetch.hashZip does.
func hashZip(ctx context.Context, mod module.Version, zipfile, ziphashfile string, verify VerifyFunc) error {
	hash, err := HashZip(zipfile)
	if err != nil {
		return module.VersionError(mod, corruptZipError(err))
	}
	if verify != nil {
		if err := verify(ctx, hash); err != nil {
			return err
		}
	}
	return writeZipHash(ctx, ziphashfile, hash)
}

// corruptZipError marks the errors of reading a zip that is not a readable
// archive as [ErrCorruptZip]: a malformed archive, a file whose CRC does not
// match, one that ends early or does not inflate.
func corruptZipError(err error) error {
	var ce flate.CorruptInputError
	if errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrChecksum) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ce) {
		return fmt.Errorf("%w: %w", ErrCorruptZip, err)
	}
	return err
}

// writeZipHash writes a verified hash to ziphashfile as
// cmd/go/internal/modfetch.hashZip does: under the file's lock, sized first
// and then written, so that a torn write leaves NUL bytes that
// [isValidSum] rejects.
func writeZipHash(ctx context.Context, ziphashfile, hash string) (err error) {
	hf, err := lockedfile.OpenFile(ctx, ziphashfile, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := hf.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	if err := hf.Truncate(int64(len(hash))); err != nil {
		return err
	}
	_, err = hf.WriteAt([]byte(hash), 0)
	return err
}

// checkStoredZip verifies a zip already in the cache, as
// cmd/go/internal/modfetch.checkMod does: the recorded hash if it is well
// formed, else the zip rehashed (which rewrites the .ziphash).
func (c *Cache) checkStoredZip(ctx context.Context, mod module.Version, zipfile string, verify VerifyFunc) error {
	hash, err := c.ZipHash(ctx, mod)
	if err == nil {
		if verify == nil {
			return nil
		}
		return verify(ctx, hash)
	}
	if !errors.Is(err, errBadZipHash) {
		return err
	}
	unlock, err := c.Lock(ctx, mod)
	if err != nil {
		return err
	}
	defer unlock()
	return hashZip(ctx, mod, zipfile, zipfile+"hash", verify)
}

// errBadZipHash marks a .ziphash file that is torn or malformed.
var errBadZipHash = errors.New("invalid ziphash")

// ZipHash returns the h1: hash recorded for mod's zip in the .ziphash file,
// the module's "Sum" in 'go mod download -json'. It reports an error
// matching [fs.ErrNotExist] unless both the zip and a well-formed .ziphash
// are present (cmd/go/internal/modfetch.Sum and isValidSum).
func (c *Cache) ZipHash(ctx context.Context, mod module.Version) (string, error) {
	zipfile, err := c.Path(mod, "zip")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(zipfile); err != nil {
		return "", &notCachedError{zipfile, err}
	}
	data, err := lockedfile.Read(ctx, zipfile+"hash")
	if err != nil {
		return "", &notCachedError{zipfile + "hash", err}
	}
	data = bytes.TrimSpace(data)
	if !isValidSum(data) {
		return "", &notCachedError{zipfile + "hash", errBadZipHash}
	}
	h := string(data)
	if !strings.HasPrefix(h, "h1:") {
		return "", module.VersionError(mod, fmt.Errorf("unexpected ziphash: %q", h))
	}
	return h, nil
}

// isValidSum reports whether data can be the content of a .ziphash file: no
// NUL byte (left by a torn write) and the length of an h1: hash
// (cmd/go/internal/modfetch.isValidSum).
func isValidSum(data []byte) bool {
	return bytes.IndexByte(data, 0) < 0 && len(data) == len("h1:")+base64.StdEncoding.EncodedLen(sha256.Size)
}

// Extract makes sure mod's zip is extracted into its module directory and
// returns the directory, with the go command's protocol
// (cmd/go/internal/modfetch.unzip): holding the version lock, re-check the
// directory; remove leftovers of interrupted extractions; create the
// .partial marker; extract with [modzip.Unzip], which enforces the module
// zip rules; remove the marker; then make the tree read-only unless
// ReadWrite is set. The zip and its .ziphash must be in the cache
// ([Cache.DownloadZip]); Extract does not verify the zip's hash.
func (c *Cache) Extract(ctx context.Context, mod module.Version) (dir string, err error) {
	dir, err = c.ModuleDir(mod)
	if err == nil {
		return dir, nil
	}
	if dir == "" || !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	zipfile, err := c.Path(mod, "zip")
	if err != nil {
		return "", err
	}
	if _, err := c.ZipHash(ctx, mod); err != nil {
		return "", fmt.Errorf("extracting %s@%s: %w", mod.Path, mod.Version, err)
	}

	unlock, err := c.Lock(ctx, mod)
	if err != nil {
		return "", err
	}
	defer unlock()
	return c.extractLocked(mod, zipfile)
}

// extractLocked is Extract once the version lock is held.
func (c *Cache) extractLocked(mod module.Version, zipfile string) (string, error) {
	dir, dirErr := c.ModuleDir(mod)
	if dirErr == nil {
		return dir, nil
	}
	if err := c.removeLeftovers(dir, dirErr); err != nil {
		return "", err
	}
	partialFile, err := c.Path(mod, "partial")
	if err != nil {
		return "", err
	}
	// Extract in place, not into a temporary directory renamed afterwards:
	// on Windows the rename fails while a virus scanner has files open. The
	// marker keeps readers away until extraction is complete.
	if err := os.WriteFile(partialFile, nil, 0o666); err != nil {
		return "", err
	}
	if err := modzip.Unzip(dir, mod, zipfile); err != nil {
		if rmErr := RemoveAll(dir); rmErr == nil {
			os.Remove(partialFile)
		}
		return "", module.VersionError(mod, err)
	}
	if err := os.Remove(partialFile); err != nil {
		return "", err
	}
	if !c.ReadWrite {
		makeDirsReadOnly(dir)
	}
	return dir, nil
}

// removeLeftovers removes, with the version lock held, what interrupted
// extractions left of mod's directory dir (dirErr is why [Cache.ModuleDir]
// found it incomplete): temporary directories, those of go commands before
// 1.16 and those of [Cache.DownloadExtract], and a partial extraction. It
// creates the parent directory.
func (c *Cache) removeLeftovers(dir string, dirErr error) error {
	var partial *partialDirError
	dirExists := errors.As(dirErr, &partial)
	// The lock guarantees that the writers of these are gone.
	removeMatching(filepath.Dir(dir), filepath.Base(dir)+".tmp-", "", RemoveAll)
	if dirExists {
		if err := RemoveAll(dir); err != nil {
			return err
		}
	}
	return os.MkdirAll(filepath.Dir(dir), 0o777)
}

// makeDirsReadOnly removes write permission from dir and the directories
// below it, children before parents, best effort
// (cmd/go/internal/modfetch.makeDirsReadOnly). Files are extracted 0444.
func makeDirsReadOnly(dir string) {
	type pathMode struct {
		path string
		mode fs.FileMode
	}
	var dirs []pathMode
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			if info, err := d.Info(); err == nil && info.Mode()&0o222 != 0 {
				dirs = append(dirs, pathMode{path, info.Mode()})
			}
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Chmod(dirs[i].path, dirs[i].mode&^0o222)
	}
}

// RemoveAll removes a module directory extracted by the go command or by
// [Cache.Extract], first making its read-only directories writable
// (cmd/go/internal/modfetch.RemoveAll).
func RemoveAll(dir string) error {
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(path, 0o777)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
