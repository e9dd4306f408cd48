package modnet

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
)

// DownloadExtract makes sure mod's zip, its .ziphash and its extracted
// module directory are in the cache, as [Cache.DownloadZip] followed by
// [Cache.Extract] would, and returns the zip's and the directory's names.
// The end state is the go command's (cmd/go/internal/modfetch.download):
// the same files, modes and read-only directories.
//
// What it downloads it inflates only once. The go command, and DownloadZip
// then Extract, inflate every file twice: once to hash the zip
// (dirhash.HashZip), once to extract it (modzip.Unzip). Here, with the
// version lock held, the downloaded zip is checked against the module zip
// rules ([modzip.CheckZip], on its central directory), then each file is
// inflated once into a temporary directory next to the module directory
// (<dir>.tmp-<random>, a name the go command cleans up if the process
// dies), hashed as it is written, with the sizes the zip declares
// enforced; the hash goes to verify, and only if it is accepted are the
// .ziphash written, the zip renamed into place, the tree made read-only
// (unless ReadWrite) and the directory renamed into place. Nothing
// unverified is ever visible, and a rejected zip leaves nothing behind.
// Should the directory's rename fail (on Windows, a virus scanner holding
// a file open), the verified zip is extracted in place as Extract does.
//
// fetch and verify are DownloadZip's. limit, if not nil, is called before
// the work that uses the CPU (the pass, or hashing or extracting a zip
// already in the cache) and its release after it, so a caller can bound
// that work apart from the transfers.
func (c *Cache) DownloadExtract(ctx context.Context, mod module.Version, fetch func(context.Context, *ZipTemp) error, verify VerifyFunc, limit func(context.Context) (release func(), err error)) (zipfile, dir string, err error) {
	zipfile, err = c.Path(mod, "zip")
	if err != nil {
		return "", "", err
	}
	held := func() (func(), error) {
		if limit == nil {
			return func() {}, nil
		}
		return limit(ctx)
	}
	// cached finishes with a zip that is in the cache: verified, then
	// extracted from there unless the directory is complete.
	cached := func() (string, string, error) {
		release, err := held()
		if err != nil {
			return "", "", err
		}
		defer release()
		if err := c.checkStoredZip(ctx, mod, zipfile, verify); err != nil {
			return "", "", err
		}
		dir, err := c.Extract(ctx, mod)
		return zipfile, dir, err
	}
	ziphash := zipfile + "hash"
	if exists(zipfile) && exists(ziphash) {
		return cached()
	}

	unlock, err := c.Lock(ctx, mod)
	if err != nil {
		return "", "", err
	}
	locked := true
	defer func() {
		if locked {
			unlock()
		}
	}()
	zipExists := exists(zipfile)
	if zipExists && exists(ziphash) {
		unlock()
		locked = false
		return cached()
	}
	vdir := filepath.Dir(zipfile)
	if err := os.MkdirAll(vdir, 0o777); err != nil {
		return "", "", err
	}
	removeMatching(vdir, filepath.Base(zipfile), ".tmp", os.Remove)
	if zipExists {
		// A lost .ziphash: rehash the zip rather than download it again.
		release, err := held()
		if err != nil {
			return "", "", err
		}
		defer release()
		if err := hashZip(ctx, mod, zipfile, ziphash, verify); err != nil {
			return "", "", err
		}
		dir, err := c.extractLocked(mod, zipfile)
		return zipfile, dir, err
	}

	f, err := tempFile(ctx, vdir, filepath.Base(zipfile), 0o666)
	if err != nil {
		return "", "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	tmp := &ZipTemp{f: f, mod: mod}
	if err := fetch(ctx, tmp); err != nil {
		return "", "", err
	}
	if err := tmp.Check(); err != nil {
		return "", "", err
	}
	if err := f.Close(); err != nil {
		return "", "", err
	}
	release, err := held()
	if err != nil {
		return "", "", err
	}
	defer release()
	if err := checkZipRules(mod, f.Name()); err != nil {
		return "", "", err
	}

	dir, dirErr := c.ModuleDir(mod)
	if dirErr == nil {
		// Complete without a zip (a zip deleted by hand): the go command
		// too would only download the zip.
		return zipfile, dir, c.storeZip(ctx, mod, f.Name(), zipfile, verify)
	}
	if err := c.removeLeftovers(dir, dirErr); err != nil {
		return "", "", err
	}
	tmpDir, err := tempDir(ctx, filepath.Dir(dir), filepath.Base(dir)+".tmp-")
	if err != nil {
		return "", "", err
	}
	defer func() {
		if tmpDir != "" {
			RemoveAll(tmpDir)
		}
	}()
	hash, err := extractHashed(mod, f.Name(), tmpDir)
	if err != nil {
		return "", "", module.VersionError(mod, corruptZipError(err))
	}
	if verify != nil {
		if err := verify(ctx, hash); err != nil {
			return "", "", err
		}
	}
	if err := writeZipHash(ctx, ziphash, hash); err != nil {
		return "", "", err
	}
	if err := os.Rename(f.Name(), zipfile); err != nil {
		os.Remove(ziphash)
		return "", "", err
	}
	if !c.ReadWrite {
		makeDirsReadOnly(tmpDir)
	}
	if err := os.Rename(tmpDir, dir); err != nil {
		dir, err := c.extractLocked(mod, zipfile)
		return zipfile, dir, err
	}
	tmpDir = ""
	return zipfile, dir, nil
}

// storeZip hashes and verifies a downloaded zip and renames it into place,
// the end of [Cache.DownloadZip].
func (c *Cache) storeZip(ctx context.Context, mod module.Version, tmpName, zipfile string, verify VerifyFunc) error {
	if err := hashZip(ctx, mod, tmpName, zipfile+"hash", verify); err != nil {
		return err
	}
	if err := os.Rename(tmpName, zipfile); err != nil {
		os.Remove(zipfile + "hash")
		return err
	}
	return nil
}

// tempDir creates <parent>/<prefix><random> with the mode the go command's
// module directories have before they are made read-only (0o777 less the
// umask; os.MkdirTemp would make it 0o700).
func tempDir(ctx context.Context, parent, prefix string) (string, error) {
	for range 10000 {
		name := filepath.Join(parent, prefix+strconv.Itoa(rand.IntN(1000000000)))
		err := os.Mkdir(name, 0o777)
		if errors.Is(err, fs.ErrExist) {
			if ctx.Err() != nil {
				return "", context.Cause(ctx)
			}
			continue
		}
		return name, err
	}
	return "", fmt.Errorf("creating temporary directory in %s: too many collisions", parent)
}

// extractHashed is the one pass: it extracts the module zip zipfile, which
// must already satisfy the module zip rules, into the empty directory dst,
// exactly as modzip.Unzip does (files 0o444, directories 0o777, the sizes
// the zip declares enforced), and returns the zip's h1: hash, computed on
// the bytes as they are written.
//
// It is written by hand because x/mod has it in two halves that each
// inflate the whole zip: modzip.Unzip extracts without hashing and
// dirhash.HashZip hashes without extracting. The hash is still
// dirhash.Hash1's own code: its open function hands Hash1 each file's
// inflated content through a reader that also writes it to disk, so the
// hash is of exactly the bytes extracted.
func extractHashed(mod module.Version, zipfile, dst string) (string, error) {
	return hashExtract(zipfile, mod.Path+"@"+mod.Version+"/", dst)
}

// hashExtract is extractHashed for the files under prefix; with dst ""
// it only hashes, as dirhash.HashZip does, reading every file through one
// buffer (io.Copy in Hash1 would allocate one per file: tens of thousands
// in a graph, and a garbage collection every few hundred).
func hashExtract(zipfile, prefix, dst string) (string, error) {
	f, err := os.Open(zipfile)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	bufs := passBuffers.Get().(*passBuf)
	defer passBuffers.Put(bufs)
	z, err := zip.NewReader(&windowReader{f: f, buf: bufs.window[:]}, fi.Size())
	if err != nil {
		return "", err
	}
	names := make([]string, len(z.File))
	files := make(map[string]*zip.File, len(z.File))
	for i, zf := range z.File {
		names[i] = zf.Name
		files[zf.Name] = zf
	}
	var failed error // what the pass failed on; Hash1 ignores Close errors
	buf := bufs.copy[:]
	made := map[string]bool{dst: true} // directories created
	hash, err := dirhash.Hash1(names, func(name string) (io.ReadCloser, error) {
		zf := files[name]
		r, err := zf.Open()
		if err != nil {
			return nil, err
		}
		tee := &teeFile{zf: zf, r: r, lr: io.LimitedReader{R: r, N: int64(zf.UncompressedSize64) + 1}, buf: buf, failed: &failed}
		rel := strings.TrimPrefix(name, prefix)
		if dst == "" || rel == "" || strings.HasSuffix(rel, "/") {
			return tee, nil // hashed, not extracted: a directory entry is not, as in Unzip
		}
		target := filepath.Join(dst, filepath.FromSlash(rel))
		if err := mkdirs(made, filepath.Dir(target)); err != nil {
			r.Close()
			return nil, err
		}
		w, err := createFile(target, 0o444)
		if err != nil {
			r.Close()
			return nil, err
		}
		tee.w = w
		return tee, nil
	})
	if failed != nil {
		return "", failed
	}
	return hash, err
}

// passBuf holds the buffers of one pass of hashExtract, reused from pass
// to pass: allocated anew, they would be a third of what a prefetch
// allocates, and as many more garbage collections.
type passBuf struct {
	window [256 << 10]byte // windowReader's
	copy   [64 << 10]byte  // between the inflater and the hash and file
}

var passBuffers = sync.Pool{New: func() any { return new(passBuf) }}

// mkdirs creates dir and its missing parents with mode 0o777 (less the
// umask), as os.MkdirAll does, but with one system call per directory:
// made records the directories that exist, the top one included, so that
// no directory is looked at twice (MkdirAll stats each one first, and its
// parent, once per file).
func mkdirs(made map[string]bool, dir string) error {
	if made[dir] {
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirs(made, parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o777); err != nil {
		if fi, serr := os.Stat(dir); serr != nil || !fi.IsDir() {
			return err
		}
	}
	made[dir] = true
	return nil
}

// windowReader reads a file through one window of buf's size: archive/zip
// reads every file's local header, body and data descriptor in small
// pieces (its decompressor through a 4 KiB buffer), one pread each: more
// than four system calls per file of a module zip. In order, as the pass
// reads them, the pieces mostly fall in one window. It is safe for
// concurrent use, as io.ReaderAt must be.
type windowReader struct {
	f   *os.File
	mu  sync.Mutex
	buf []byte
	off int64 // of buf[0] in the file
	n   int   // bytes of buf read
}

func (w *windowReader) ReadAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if off >= w.off && off+int64(len(p)) <= w.off+int64(w.n) {
		return copy(p, w.buf[off-w.off:w.n]), nil
	}
	if len(p) >= len(w.buf) {
		return w.f.ReadAt(p, off)
	}
	n, err := w.f.ReadAt(w.buf, off)
	w.off, w.n = off, n
	if c := copy(p, w.buf[:n]); c < len(p) {
		if err == nil {
			err = io.EOF
		}
		return c, err
	}
	return len(p), nil
}

// teeFile is what Hash1 reads one file of the zip through: the inflated
// content, which it also writes to the file being extracted, if any.
type teeFile struct {
	zf     *zip.File
	r      io.ReadCloser
	lr     io.LimitedReader
	w      io.WriteCloser // nil: hash only
	buf    []byte
	failed *error
}

func (t *teeFile) Read(p []byte) (int, error) {
	n, err := t.lr.Read(p)
	if n > 0 && t.w != nil {
		if _, werr := t.w.Write(p[:n]); werr != nil {
			*t.failed = werr
			return n, werr
		}
	}
	if t.lr.N <= 0 {
		// modzip.Unzip's check and message.
		err = fmt.Errorf("uncompressed size of file %s is larger than declared size (%d bytes)", t.zf.Name, t.zf.UncompressedSize64)
		*t.failed = err
	} else if err != nil && err != io.EOF {
		*t.failed = err
	}
	return n, err
}

// WriteTo lets io.Copy in Hash1 read through the pass's one buffer.
func (t *teeFile) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		n, err := t.Read(t.buf)
		if n > 0 {
			if _, werr := w.Write(t.buf[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func (t *teeFile) Close() error {
	rerr := t.r.Close()
	if t.w == nil {
		return rerr
	}
	if err := t.w.Close(); err != nil && *t.failed == nil {
		*t.failed = err
	}
	return rerr
}
