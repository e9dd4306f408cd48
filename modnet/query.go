package modnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// List returns the module's tagged versions, sorted by semantic version
// precedence, from the first source that has a list (pseudo-versions and
// invalid lines dropped, as cmd/go/internal/modfetch.proxyRepo.Versions
// does). Retracted versions are included; see [Client.Retractions].
func (c *Client) List(ctx context.Context, path string) ([]string, error) {
	var list []string
	err := c.walk(ctx, path, "", func(r repo) error {
		var err error
		list, err = r.Versions(ctx)
		return err
	})
	return list, err
}

// Latest resolves the "latest" query as the go command does
// (cmd/go/internal/modload.queryProxy): the highest release in the list,
// else the highest pre-release, skipping retracted versions and, when the
// newest compatible version has a go.mod file, +incompatible ones; with no
// tagged version, the proxy's @latest (or the newest pseudo-version in its
// list).
func (c *Client) Latest(ctx context.Context, path string) (*Info, error) {
	return c.Query(ctx, path, "latest")
}

// Query resolves a version query to a version's Info, walking the route as
// the go command does for each query. Supported queries: "latest"; a
// canonical version ("v1.2.3"); a version prefix ("v1", "v1.2") for the
// highest matching version; comparisons ("<v1.5.0", "<=v1.5.0", ">v1.2.0",
// ">=v1.2.0") for the closest version; anything else (a branch, tag or
// commit) is asked of the source as a revision, which proxies may resolve.
func (c *Client) Query(ctx context.Context, path, query string) (*Info, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	if err := module.CheckPath(path); err != nil {
		return nil, err
	}
	qm, err := newQueryMatcher(query)
	if err != nil {
		return nil, &ModuleError{Path: path, Version: query, Err: err}
	}
	if qm.stat {
		return c.Info(ctx, path, query)
	}
	var info *Info
	err = c.walk(ctx, path, "", func(r repo) error {
		var err error
		info, err = c.queryRepo(ctx, r, path, qm)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := checkVersion(path, info.Version); err != nil {
		return nil, &ModuleError{Path: path, Version: query, Err: fmt.Errorf("invalid version %q from source: %w", info.Version, err)}
	}
	// Record the resolved version's .info in the cache, as cmd/go's Stat does.
	if _, err := c.cache.WriteInfo(ctx, module.Version{Path: path, Version: info.Version}, info); err != nil {
		return nil, &ModuleError{Path: path, Version: info.Version, Err: err}
	}
	return info, nil
}

// queryMatcher is a parsed query (cmd/go/internal/modload.newQueryMatcher).
type queryMatcher struct {
	stat         bool // ask the source for this exact revision
	prefix       string
	filter       func(v string) bool
	preferLower  bool
	mayUseLatest bool
}

func newQueryMatcher(query string) (*queryMatcher, error) {
	badVersion := func(v string) (*queryMatcher, error) {
		return nil, fmt.Errorf("invalid semantic version %q in range %q", v, query)
	}
	switch {
	case query == "latest":
		return &queryMatcher{mayUseLatest: true}, nil
	case query == "upgrade" || query == "patch":
		return nil, fmt.Errorf("query %q needs the current version of the module; use a version or \"latest\"", query)
	case strings.HasPrefix(query, "<="):
		v := query[2:]
		if !semver.IsValid(v) {
			return badVersion(v)
		}
		return &queryMatcher{filter: func(mv string) bool { return semver.Compare(mv, v) <= 0 }}, nil
	case strings.HasPrefix(query, "<"):
		v := query[1:]
		if !semver.IsValid(v) {
			return badVersion(v)
		}
		return &queryMatcher{filter: func(mv string) bool { return semver.Compare(mv, v) < 0 }}, nil
	case strings.HasPrefix(query, ">="):
		v := query[2:]
		if !semver.IsValid(v) {
			return badVersion(v)
		}
		return &queryMatcher{filter: func(mv string) bool { return semver.Compare(mv, v) >= 0 }, preferLower: true}, nil
	case strings.HasPrefix(query, ">"):
		v := query[1:]
		if !semver.IsValid(v) {
			return badVersion(v)
		}
		return &queryMatcher{filter: func(mv string) bool { return semver.Compare(mv, v) > 0 }, preferLower: true}, nil
	case semver.IsValid(query) && semver.Canonical(query) != query && !strings.Contains(query, "-") && !strings.Contains(query, "+"):
		// "v1" or "v1.2": a prefix of versions.
		return &queryMatcher{prefix: query + "."}, nil
	}
	return &queryMatcher{stat: true}, nil
}

func (qm *queryMatcher) allows(v string) bool {
	return strings.HasPrefix(v, qm.prefix) && (qm.filter == nil || qm.filter(v))
}

// queryRepo answers a list-based query from one source, as queryProxy does
// inside each step of the route walk.
func (c *Client) queryRepo(ctx context.Context, r repo, path string, qm *queryMatcher) (*Info, error) {
	versions, err := r.Versions(ctx)
	if err != nil {
		return nil, err
	}
	pick := func(retracted func(string) bool) (string, error) {
		releases, prereleases, err := c.filterVersions(ctx, path, versions, qm, retracted)
		if err != nil {
			return "", err
		}
		for _, list := range [][]string{releases, prereleases} {
			if len(list) == 0 {
				continue
			}
			if qm.preferLower {
				return list[0], nil
			}
			return list[len(list)-1], nil
		}
		return "", nil
	}
	// Retractions come from the go.mod of the version the query would pick
	// if nothing were retracted (modload.queryLatestVersionIgnoringRetractions).
	ignoring, err := pick(nil)
	if err != nil {
		return nil, err
	}
	retracted := func(string) bool { return false }
	if ignoring != "" {
		if rs, err := c.retractions(ctx, path, ignoring); err == nil {
			retracted = rs.covers
		}
	}
	v, err := pick(retracted)
	if err != nil {
		return nil, err
	}
	if v != "" {
		return r.Stat(ctx, v)
	}
	if qm.mayUseLatest {
		info, err := r.Latest(ctx)
		if err == nil && qm.allows(info.Version) && !retracted(info.Version) {
			return r.Stat(ctx, info.Version)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return nil, notExistError{fmt.Errorf("no matching versions for query %q", queryString(qm))}
}

func queryString(qm *queryMatcher) string {
	if qm.mayUseLatest {
		return "latest"
	}
	if qm.prefix != "" {
		return strings.TrimSuffix(qm.prefix, ".")
	}
	return "query"
}

// filterVersions splits the allowed versions into releases and
// pre-releases, dropping retracted ones and, once a compatible version with
// a go.mod file has been seen, +incompatible ones
// (modload.queryMatcher.filterVersions).
func (c *Client) filterVersions(ctx context.Context, path string, versions []string, qm *queryMatcher, retracted func(string) bool) (releases, prereleases []string, err error) {
	var lastCompatible string
	needIncompatible := false
	for _, v := range versions {
		if !qm.allows(v) || (retracted != nil && retracted(v)) {
			continue
		}
		if !needIncompatible {
			if !strings.HasSuffix(v, "+incompatible") {
				lastCompatible = v
			} else if lastCompatible != "" {
				ok, err := c.hasGoMod(ctx, path, lastCompatible)
				if err != nil {
					return nil, nil, err
				}
				if ok {
					break
				}
				needIncompatible = true
			}
		}
		if semver.Prerelease(v) != "" {
			prereleases = append(prereleases, v)
		} else {
			releases = append(releases, v)
		}
	}
	return releases, prereleases, nil
}

// hasGoMod reports whether the version has a real go.mod file rather than
// the one the go command synthesises for pre-module code
// (modload.versionHasGoMod, modfetch.LegacyGoMod).
func (c *Client) hasGoMod(ctx context.Context, path, version string) (bool, error) {
	data, err := c.GoMod(ctx, path, version)
	if err != nil {
		return false, err
	}
	return !bytes.Equal(data, legacyGoMod(path)), nil
}

func legacyGoMod(path string) []byte {
	return []byte(fmt.Sprintf("module %s\n", modfile.AutoQuote(path)))
}

// Retractions describes a module's retracted versions and deprecation, as
// declared in the go.mod file of its latest version.
type Retractions struct {
	// Version is the version whose go.mod declared them.
	Version string
	// Intervals are the retracted version ranges, with their rationale.
	Intervals []modfile.Retract
	// Deprecated is the module's deprecation message, if any.
	Deprecated string
}

func (rs *Retractions) covers(v string) bool {
	for _, r := range rs.Intervals {
		if semver.Compare(r.Low, v) <= 0 && semver.Compare(v, r.High) <= 0 {
			return true
		}
	}
	return false
}

// Retracted reports whether version is retracted, and the rationale.
func (rs *Retractions) Retracted(version string) (bool, string) {
	for _, r := range rs.Intervals {
		if semver.Compare(r.Low, version) <= 0 && semver.Compare(version, r.High) <= 0 {
			return true, r.Rationale
		}
	}
	return false, ""
}

// Retractions returns the retractions and deprecation declared by the
// module's latest version (found ignoring retractions), as the go command
// reads them (modload.CheckRetractions, CheckDeprecation).
func (c *Client) Retractions(ctx context.Context, path string) (*Retractions, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	qm := &queryMatcher{mayUseLatest: true}
	var latest *Info
	err := c.walk(ctx, path, "", func(r repo) error {
		versions, err := r.Versions(ctx)
		if err != nil {
			return err
		}
		releases, prereleases, err := c.filterVersions(ctx, path, versions, qm, nil)
		if err != nil {
			return err
		}
		switch {
		case len(releases) > 0:
			latest = &Info{Version: releases[len(releases)-1]}
		case len(prereleases) > 0:
			latest = &Info{Version: prereleases[len(prereleases)-1]}
		default:
			latest, err = r.Latest(ctx)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return c.retractions(ctx, path, latest.Version)
}

func (c *Client) retractions(ctx context.Context, path, version string) (*Retractions, error) {
	data, err := c.GoMod(ctx, path, version)
	if err != nil {
		return nil, err
	}
	f, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil {
		return nil, &module.ModuleError{Path: path, Version: version, Err: fmt.Errorf("parsing go.mod: %w", err)}
	}
	rs := &Retractions{Version: version}
	for _, r := range f.Retract {
		rs.Intervals = append(rs.Intervals, *r)
	}
	if f.Module != nil {
		rs.Deprecated = f.Module.Deprecated
	}
	return rs, nil
}
