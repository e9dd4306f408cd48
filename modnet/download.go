package modnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/internal/web"
	"github.com/modkit/modkit/retry"
)

// ModuleFiles are the module cache's files for one downloaded module
// version, with the field names of 'go mod download -json'.
type ModuleFiles struct {
	Path     string // module path
	Version  string // canonical version
	Info     string // the .info file
	GoMod    string // the .mod file
	Zip      string // the .zip file
	Dir      string // the extracted module directory
	Sum      string // h1: hash of the zip, as in go.sum
	GoModSum string // h1: hash of the go.mod file, as in go.sum
}

// Info returns a version's metadata (the .info file): from the module cache
// when it is there, else from the first source that has it, and then
// records it in the cache (cmd/go/internal/modfetch.InfoFile). rev may also
// be a revision such as a branch name, which proxies may resolve; the Info
// then names the canonical version.
func (c *Client) Info(ctx context.Context, path, rev string) (*Info, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	canonical := checkVersion(path, rev) == nil
	if canonical {
		if info, _, err := c.cache.ReadInfo(module.Version{Path: path, Version: rev}); err == nil {
			return info, nil
		}
	}
	info, err := c.statInfo(ctx, path, rev)
	if err != nil {
		return nil, err
	}
	if _, err := c.cache.WriteInfo(ctx, module.Version{Path: path, Version: info.Version}, info); err != nil {
		return nil, &ModuleError{Path: path, Version: info.Version, Err: err}
	}
	return info, nil
}

// statInfo asks the route for rev's .info, without the cache.
func (c *Client) statInfo(ctx context.Context, path, rev string) (*Info, error) {
	var info *Info
	err := c.walk(ctx, path, rev, func(r repo) error {
		i, err := r.Stat(ctx, rev)
		if err != nil {
			return err
		}
		if err := checkVersion(path, i.Version); err != nil {
			return fmt.Errorf("invalid version %q in .info from source: %w", i.Version, err)
		}
		info = i
		return nil
	})
	return info, err
}

// GoMod returns a version's go.mod file, verified against GoSum or the
// checksum database before it is returned or stored
// (cmd/go/internal/modfetch.GoMod and cachingRepo.GoMod: the check runs
// for each source, so after '|' a source whose go.mod fails verification
// is followed by the next).
func (c *Client) GoMod(ctx context.Context, path, version string) ([]byte, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	if err := checkVersion(path, version); err != nil {
		return nil, err
	}
	mod := module.Version{Path: path, Version: version}
	chk, err := c.checker(path)
	if err != nil {
		return nil, &ModuleError{Path: path, Version: version, Err: err}
	}
	if data, _, err := c.cache.ReadGoMod(mod); err == nil {
		if err := chk.checkGoMod(ctx, mod, data); err != nil {
			return nil, err
		}
		return data, nil
	}
	data, err := c.fetchGoMod(ctx, mod, chk, nil)
	if err != nil {
		return nil, err
	}
	if _, err := c.cache.WriteGoMod(ctx, mod, data); err != nil {
		return nil, &ModuleError{Path: path, Version: version, Err: err}
	}
	return data, nil
}

// fetchGoMod downloads mod's go.mod along its route and verifies it with
// chk, without the cache. A copy that fails verification is downloaded
// again (see heal); mismatch, if not nil, hears of the first mismatch.
func (c *Client) fetchGoMod(ctx context.Context, mod module.Version, chk *sumChecker, mismatch func(error)) ([]byte, error) {
	var data []byte
	err := c.heal(ctx, mod, "go.mod", mismatch, func() (bool, error) {
		arrived := false
		err := c.walk(ctx, mod.Path, mod.Version, func(r repo) error {
			d, err := r.GoMod(ctx, mod.Version)
			if err != nil {
				return err
			}
			arrived = true
			if err := chk.checkGoMod(ctx, mod, d); err != nil {
				return err
			}
			data = d
			return nil
		})
		return arrived, err
	})
	return data, err
}

// heal runs try, which downloads one of mod's files and verifies it, and
// runs it again while the download arrived whole but failed verification,
// at most as many times in all as the HTTP client makes attempts at one
// request. Failing verification is a plain hash mismatch (a
// *ChecksumError) or a zip that does not inflate ([ErrCorruptZip]: a
// flipped bit usually breaks a file's CRC before its hash). Corruption in
// transit (behind a faulty middlebox or cache) heals on another copy; a
// failure that persists through every attempt is returned as it is, a
// mismatch the *ChecksumError it is. Before each new copy the idle
// connections are closed, so that it comes over a fresh connection. The
// first failure is logged as a warning and given to mismatch (if not nil)
// whatever happens next. Unverified bytes are never stored: try stores
// only what verified. An answer of the checksum database that could not be
// authenticated is not healed, nor is anything with retries disabled (the
// attempt limit is then 1).
//
// The go command does not do this: it reports the first mismatch as a
// security error.
func (c *Client) heal(ctx context.Context, mod module.Version, what string, mismatch func(error), try func() (arrived bool, err error)) error {
	attempts := c.http.Attempts()
	reported := false
	for n := 1; ; n++ {
		arrived, err := try()
		var ce *ChecksumError
		if !arrived || !(errors.As(err, &ce) && ce.Err == nil || errors.Is(err, ErrCorruptZip)) {
			return err
		}
		if !reported {
			reported = true
			if c.Logger != nil {
				c.Logger.LogAttrs(ctx, slog.LevelWarn, "downloaded content failed verification",
					slog.String("module", mod.String()), slog.String("file", what),
					slog.Int("attempt", n), slog.Int("attempts", attempts), slog.Any("err", err))
			}
			if mismatch != nil {
				mismatch(err)
			}
		}
		if n >= attempts || ctx.Err() != nil {
			return err
		}
		c.http.CloseIdleConnections()
	}
}

// FetchGoMod returns a version's go.mod file as its route serves it,
// walking the route as [Client.GoMod] does but neither verifying the file
// nor reading or writing the module cache. It is for a module proxy whose
// clients verify what they receive, as the go command does: their go.sum
// and checksum database then decide, with their own messages, and the
// proxy never takes a lock in a module cache its client may hold.
func (c *Client) FetchGoMod(ctx context.Context, path, version string) ([]byte, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	if err := checkVersion(path, version); err != nil {
		return nil, err
	}
	// An empty checker accepts every hash: no go.sum, no database.
	return c.fetchGoMod(ctx, module.Version{Path: path, Version: version}, &sumChecker{}, nil)
}

// FetchZip writes a version's zip, as its route serves it, into dst from
// its start, replacing what dst held. The transfer is retried, resumed
// and checked to be a readable zip archive as [Client.Zip]'s is, but the
// zip is neither hashed nor verified, and nothing is read from or written
// to the module cache: like [Client.FetchGoMod], it is for a module proxy
// whose clients verify what they receive.
func (c *Client) FetchZip(ctx context.Context, path, version string, dst *os.File) error {
	return c.FetchZipProgress(ctx, path, version, dst, nil)
}

// A ZipProgress hears of a [Client.FetchZipProgress] transfer as its bytes
// land in the destination file, so that a proxy can pass them on before the
// zip is complete. Its functions may be called concurrently (the two copies
// of a hedged body write at once) and must not block.
//
// Bytes reported written stay the zip's until a truncation below them: a
// resumed transfer continues where it stopped without one, but a transfer
// that starts over (a server that ignored the range or whose body changed,
// a body that failed its check, the next source of the route) truncates
// the file to 0 first, and the bytes that follow may differ.
type ZipProgress struct {
	// Written, if not nil, is told that bytes [off, off+n) were written.
	Written func(off int64, n int)
	// Truncated, if not nil, is told that the file was truncated to size
	// bytes.
	Truncated func(size int64)
	// Sized, if not nil, is told the size of the whole zip when a server
	// announces it; a truncation makes it unknown again.
	Sized func(size int64)
}

// FetchZipProgress is [Client.FetchZip], telling progress (if not nil) of
// the bytes as they land in dst.
func (c *Client) FetchZipProgress(ctx context.Context, path, version string, dst *os.File, progress *ZipProgress) error {
	if err := c.init(); err != nil {
		return err
	}
	if err := checkVersion(path, version); err != nil {
		return err
	}
	tmp := &ZipTemp{f: dst, mod: module.Version{Path: path, Version: version}}
	var w io.Writer = tmp
	if progress != nil {
		w = &progressFile{tmp: tmp, p: progress}
	}
	return c.walk(ctx, path, version, func(r repo) error {
		if err := tmp.Reset(); err != nil {
			return err
		}
		if progress != nil && progress.Truncated != nil {
			progress.Truncated(0)
		}
		if err := r.Zip(ctx, w, version); err != nil {
			return err
		}
		return tmp.Check()
	})
}

// zipFile is what a proxy's download writes a zip into: a [*ZipTemp], or
// a progressFile around one.
type zipFile interface {
	retry.File
	io.WriterAt
	sized(size int64)
	Check() error
}

// progressFile is a ZipTemp that reports its writes and truncations, at
// their offsets, to a ZipProgress.
type progressFile struct {
	tmp *ZipTemp
	p   *ZipProgress
	pos int64 // offset of the next Write
}

func (f *progressFile) Write(b []byte) (int, error) {
	n, err := f.tmp.Write(b)
	if n > 0 && f.p.Written != nil {
		f.p.Written(f.pos, n)
	}
	f.pos += int64(n)
	return n, err
}

func (f *progressFile) WriteAt(b []byte, off int64) (int, error) {
	n, err := f.tmp.WriteAt(b, off)
	if n > 0 && f.p.Written != nil {
		f.p.Written(off, n)
	}
	return n, err
}

func (f *progressFile) Seek(offset int64, whence int) (int64, error) {
	pos, err := f.tmp.Seek(offset, whence)
	if err == nil {
		f.pos = pos
	}
	return pos, err
}

func (f *progressFile) Truncate(size int64) error {
	err := f.tmp.Truncate(size)
	if err == nil && f.p.Truncated != nil {
		f.p.Truncated(size)
	}
	return err
}

func (f *progressFile) sized(size int64) {
	f.tmp.sized(size)
	if f.p.Sized != nil {
		f.p.Sized(size)
	}
}

func (f *progressFile) Check() error { return f.tmp.Check() }

// Zip makes sure the version's zip is in the module cache, verified, and
// returns its file name. The download walks the route under the go
// command's version lock, resets the file between sources, and is checked
// against the module zip rules and the expected hash before it is stored
// (cmd/go/internal/modfetch.DownloadZip). A zip already in the cache is
// checked again, not downloaded.
func (c *Client) Zip(ctx context.Context, path, version string) (string, error) {
	zip, _, _, err := c.zip(ctx, path, version, zipJob{})
	return zip, err
}

// A zipJob says how [Client.zip] brings a zip into the cache.
type zipJob struct {
	// acquire, if not nil, is called before each transfer and its release
	// after it, not around the cache checks, hashing, verification and
	// extraction, so that a caller can bound concurrent transfers without
	// holding a slot while the CPU works.
	acquire func(context.Context) (release func(), err error)
	// extract extracts the module too, in the one pass of
	// [Cache.DownloadExtract].
	extract bool
	// limit, if not nil, bounds the CPU work as DownloadExtract's limit
	// does, told the size of the zip that work is for (0 if it is not
	// known yet), so that larger zips can go first.
	limit func(ctx context.Context, size int64) (release func(), err error)
	// mismatch, if not nil, hears of a first copy that failed verification
	// (see heal).
	mismatch func(error)
	// written and sized, if not nil, hear of the bytes of a transfer as
	// they are written and of the zip's size once a server announces it.
	written func(n int)
	sized   func(size int64)
	// hold, if not nil, is called once the zip has verified, before
	// anything is stored, and may wait there; limited says whether the
	// CPU limit is held then. An error it returns abandons the zip,
	// leaving nothing behind.
	hold func(ctx context.Context, size int64, limited bool) error
}

// zip is Zip, also returning the zip's verified hash, and the module
// directory if job.extract.
func (c *Client) zip(ctx context.Context, path, version string, job zipJob) (zip, dir, sum string, err error) {
	if err := c.init(); err != nil {
		return "", "", "", err
	}
	if err := checkVersion(path, version); err != nil {
		return "", "", "", err
	}
	mod := module.Version{Path: path, Version: version}
	chk, err := c.checker(path)
	if err != nil {
		return "", "", "", &ModuleError{Path: path, Version: version, Err: err}
	}
	verify := chk.verifyZip(mod)
	err = c.heal(ctx, mod, "zip", job.mismatch, func() (bool, error) {
		arrived := false // the transfer succeeded: what fails now is the content
		var size int64   // of the zip transferred
		fetch := func(ctx context.Context, tmp *ZipTemp) error {
			tmp.onWrite, tmp.onSize = job.written, job.sized
			if job.acquire != nil {
				release, err := job.acquire(ctx)
				if err != nil {
					return err
				}
				defer release()
			}
			err := c.walk(ctx, path, version, func(r repo) error {
				if err := tmp.Reset(); err != nil {
					return err
				}
				return r.Zip(ctx, tmp, version)
			})
			size, _ = tmp.Size()
			arrived = err == nil
			return err
		}
		// DownloadExtract calls accept with the CPU limit held;
		// DownloadZip only after a transfer (see below).
		var cpuRelease func()
		limited := func() bool { return job.limit != nil && (job.extract || cpuRelease != nil) }
		accept := func(ctx context.Context, hash string) error {
			if err := verify(ctx, hash); err != nil {
				return err
			}
			if job.hold != nil {
				if err := job.hold(ctx, size, limited()); err != nil {
					return err
				}
			}
			sum = hash
			return nil
		}
		var err error
		if job.extract {
			var limit func(context.Context) (func(), error)
			if job.limit != nil {
				limit = func(ctx context.Context) (func(), error) { return job.limit(ctx, size) }
			}
			zip, dir, err = c.cache.DownloadExtract(ctx, mod, fetch, accept, limit)
			return arrived, err
		}
		// DownloadZip checks and hashes the zip once fetch returns: take
		// the CPU limit at the end of the transfer, give it back after.
		transfer := fetch
		if job.limit != nil {
			transfer = func(ctx context.Context, tmp *ZipTemp) error {
				if err := fetch(ctx, tmp); err != nil {
					return err
				}
				var err error
				cpuRelease, err = job.limit(ctx, size)
				return err
			}
		}
		zip, err = c.cache.DownloadZip(ctx, mod, transfer, accept)
		if cpuRelease != nil {
			cpuRelease()
		}
		return arrived, err
	})
	if err != nil {
		return "", "", "", versionError(path, version, err)
	}
	return zip, dir, sum, nil
}

// Download fetches a module version's .info, .mod and .zip into the module
// cache, verifies them and extracts the module directory, as
// 'go mod download' does (cmd/go/internal/modcmd.DownloadModule), skipping
// whatever is already there and valid. version may be any query [Client.Query]
// accepts. Concurrent calls for the same module share one download.
//
// A module whose go.mod asks for a newer Go than the running one (see
// [Client.GoVersion]) fails with a [*TooNewError] once it is in the cache,
// as with the go command; the ModuleFiles returned with that error list
// its files, but Dir is empty.
func (c *Client) Download(ctx context.Context, path, version string) (*ModuleFiles, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	if checkVersion(path, version) != nil {
		info, err := c.Query(ctx, path, version)
		if err != nil {
			return nil, err
		}
		version = info.Version
	}
	v, err, _ := c.flight.Do(path+"@"+version, func() (any, error) {
		return c.download(ctx, path, version)
	})
	m, _ := v.(*ModuleFiles)
	if err != nil && !errors.Is(err, ErrTooNew) {
		return nil, err
	}
	return m, err
}

func (c *Client) download(ctx context.Context, path, version string) (*ModuleFiles, error) {
	mod := module.Version{Path: path, Version: version}
	m := &ModuleFiles{Path: path, Version: version}
	if _, err := c.Info(ctx, path, version); err != nil {
		return nil, err
	}
	var err error
	if m.Info, err = c.cache.Path(mod, "info"); err != nil {
		return nil, err
	}
	data, err := c.GoMod(ctx, path, version)
	if err != nil {
		return nil, err
	}
	if m.GoMod, err = c.cache.Path(mod, "mod"); err != nil {
		return nil, err
	}
	if m.GoModSum, err = HashGoMod(data); err != nil {
		return nil, err
	}
	if m.Zip, m.Dir, m.Sum, err = c.zip(ctx, path, version, zipJob{extract: true}); err != nil {
		return nil, err
	}
	// modfetch.Download: the extracted go.mod, if any, decides.
	if gomod, err := os.ReadFile(filepath.Join(m.Dir, "go.mod")); err == nil {
		if err := c.checkGoLine(path+"@"+version, gomod); err != nil {
			m.Dir = ""
			return m, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, versionError(path, version, err)
	}
	return m, nil
}

// versionError wraps err in a *ModuleError unless it already names the
// module version.
func versionError(path, version string, err error) error {
	var me *ModuleError
	var xe *module.ModuleError
	var ce *ChecksumError
	if errors.As(err, &me) || errors.As(err, &ce) || (errors.As(err, &xe) && xe.Path == path) {
		return err
	}
	return &ModuleError{Path: path, Version: version, Err: err}
}

// checker returns the verifier for a module's downloads: GoSum first, then
// the checksum database when the module's route consults it.
func (c *Client) checker(path string) (*sumChecker, error) {
	r, err := c.Route(path)
	if err != nil {
		return nil, err
	}
	return c.sumdbs.checker(c.env, c.cache, r, c.GoSum, c.getBytes)
}

// getBytes GETs a URL through the Client's retrying, credential-aware HTTP
// client, for the checksum database.
func (c *Client) getBytes(ctx context.Context, rawURL string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	data, err := c.http.GetBytes(req, maxInfo)
	return data, newFetchError(web.RedactURL(req.URL), err)
}
