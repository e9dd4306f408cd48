package modnet

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/internal/web"
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
	data, err := c.fetchGoMod(ctx, mod, chk)
	if err != nil {
		return nil, err
	}
	if _, err := c.cache.WriteGoMod(ctx, mod, data); err != nil {
		return nil, &ModuleError{Path: path, Version: version, Err: err}
	}
	return data, nil
}

// fetchGoMod downloads mod's go.mod along its route and verifies it with
// chk, without the cache.
func (c *Client) fetchGoMod(ctx context.Context, mod module.Version, chk *sumChecker) ([]byte, error) {
	var data []byte
	err := c.walk(ctx, mod.Path, mod.Version, func(r repo) error {
		d, err := r.GoMod(ctx, mod.Version)
		if err != nil {
			return err
		}
		if err := chk.checkGoMod(ctx, mod, d); err != nil {
			return err
		}
		data = d
		return nil
	})
	return data, err
}

// Zip makes sure the version's zip is in the module cache, verified, and
// returns its file name. The download walks the route under the go
// command's version lock, resets the file between sources, and is checked
// against the module zip rules and the expected hash before it is stored
// (cmd/go/internal/modfetch.DownloadZip). A zip already in the cache is
// checked again, not downloaded.
func (c *Client) Zip(ctx context.Context, path, version string) (string, error) {
	zip, _, err := c.zip(ctx, path, version, nil)
	return zip, err
}

// zip is Zip, also returning the zip's verified hash; acquire, if not nil,
// is called before the transfer and its release after it, not around the
// cache checks, hashing and verification, so that a caller can bound
// concurrent transfers without holding a slot while the CPU works.
func (c *Client) zip(ctx context.Context, path, version string, acquire func(context.Context) (release func(), err error)) (zip, sum string, err error) {
	if err := c.init(); err != nil {
		return "", "", err
	}
	if err := checkVersion(path, version); err != nil {
		return "", "", err
	}
	mod := module.Version{Path: path, Version: version}
	chk, err := c.checker(path)
	if err != nil {
		return "", "", &ModuleError{Path: path, Version: version, Err: err}
	}
	fetch := func(ctx context.Context, tmp *ZipTemp) error {
		if acquire != nil {
			release, err := acquire(ctx)
			if err != nil {
				return err
			}
			defer release()
		}
		return c.walk(ctx, path, version, func(r repo) error {
			if err := tmp.Reset(); err != nil {
				return err
			}
			return r.Zip(ctx, tmp, version)
		})
	}
	verify := chk.verifyZip(mod)
	zip, err = c.cache.DownloadZip(ctx, mod, fetch, func(ctx context.Context, hash string) error {
		if err := verify(ctx, hash); err != nil {
			return err
		}
		sum = hash
		return nil
	})
	if err != nil {
		return "", "", versionError(path, version, err)
	}
	return zip, sum, nil
}

// Download fetches a module version's .info, .mod and .zip into the module
// cache, verifies them and extracts the module directory, as
// 'go mod download' does (cmd/go/internal/modcmd.DownloadModule), skipping
// whatever is already there and valid. version may be any query [Client.Query]
// accepts. Concurrent calls for the same module share one download.
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
	if err != nil {
		return nil, err
	}
	return v.(*ModuleFiles), nil
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
	if m.Zip, err = c.Zip(ctx, path, version); err != nil {
		return nil, err
	}
	if m.Sum, err = c.cache.ZipHash(ctx, mod); err != nil {
		return nil, versionError(path, version, err)
	}
	if m.Dir, err = c.cache.Extract(ctx, mod); err != nil {
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
