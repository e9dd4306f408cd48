package modnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/modkit/modkit/modnet/modload"
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

// Query resolves a version query to a version's Info outside any main
// module, as 'go mod download path@query' does there: [Client.QueryFor]
// with no current version and nothing excluded.
func (c *Client) Query(ctx context.Context, path, query string) (*Info, error) {
	return c.QueryFor(ctx, path, query, modload.QueryOptions{})
}

// QueryFor resolves a version query to a version's Info, walking the
// route as the go command does for each query
// (cmd/go/internal/modload.Query). Queries:
//
//   - "latest": the highest release, else the highest pre-release, else
//     the source's @latest;
//   - "upgrade": "latest", but never below Current (staying on Current
//     when nothing newer is allowed); "patch": the same within Current's
//     major.minor, and an error without a Current;
//   - a version prefix ("v1", "v1.2") for the highest matching version;
//   - comparisons ("<v1.5.0", "<=v1.5.0", ">v1.2.0", ">=v1.2.0") for the
//     closest version;
//   - a canonical version, or anything else (a branch, tag or commit),
//     which is asked of the source.
//
// List-based queries skip versions that opts excludes and versions the
// module's author retracted (in the go.mod file of the latest version,
// found ignoring retractions), and +incompatible versions once a
// compatible version has a go.mod file. A version asked for by name is
// taken as it is, retracted or excluded. A query with no match fails with
// "no matching versions for query", which, as in the go command, does not
// count as "not found": the walk stops at the source that listed the
// module.
func (c *Client) QueryFor(ctx context.Context, path, query string, opts modload.QueryOptions) (*Info, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	if err := module.CheckPath(path); err != nil {
		return nil, err
	}
	if cur := opts.Current; cur != "" && cur != "none" && !semver.IsValid(cur) {
		return nil, fmt.Errorf("invalid previous version %v@%v", path, cur)
	}
	qm, err := newQueryMatcherFor(path, query, opts.Current)
	if err != nil {
		return nil, &ModuleError{Path: path, Version: query, Err: err}
	}
	if qm.stat {
		return c.statQuery(ctx, path, query)
	}
	q := &versionQuery{c: c, path: path, qm: qm, query: query, current: opts.Current, exclude: opts.Exclude, memo: &sourceMemo{}}
	var info *Info
	err = c.walk(ctx, path, "", func(r repo) error {
		var err error
		info, err = q.run(ctx, q.memo.wrap(r, qm.prefix))
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

// statQuery resolves a version or revision named by the query: from the
// cache for a canonical version, else from the first source that knows
// it; a semantic version with +metadata that no source knows is tried
// without it (modload.queryProxy's canStat case).
func (c *Client) statQuery(ctx context.Context, path, query string) (*Info, error) {
	info, err := c.Info(ctx, path, query)
	if err != nil {
		if canon := module.CanonicalVersion(query); canon != "" && canon != query {
			if info, err2 := c.Info(ctx, path, canon); err2 == nil {
				return info, nil
			}
		}
		return nil, err
	}
	return info, nil
}

// queryMatcher is a parsed query (cmd/go/internal/modload.newQueryMatcher).
type queryMatcher struct {
	stat               bool // ask the source for this exact version or revision
	path               string
	prefix             string
	filter             func(v string) bool
	preferLower        bool
	mayUseLatest       bool
	preferIncompatible bool
}

// newQueryMatcher parses a query made outside any main module.
func newQueryMatcher(query string) (*queryMatcher, error) {
	return newQueryMatcherFor("", query, "")
}

// newQueryMatcherFor parses query for the module path, relative to its
// current version (modload.newQueryMatcher).
func newQueryMatcherFor(path, query, current string) (*queryMatcher, error) {
	badVersion := func(v string) (*queryMatcher, error) {
		return nil, fmt.Errorf("invalid semantic version %q in range %q", v, query)
	}
	// matchesMajor reports whether v's major version is the one path's
	// suffix (none, /vN, .vN) allows.
	matchesMajor := func(v string) bool {
		_, pathMajor, ok := module.SplitPathVersion(path)
		return ok && module.CheckPathMajor(v, pathMajor) == nil
	}
	hasCurrent := current != "" && current != "none"
	qm := &queryMatcher{path: path, preferIncompatible: strings.HasSuffix(current, "+incompatible")}
	switch {
	case query == "latest":
		qm.mayUseLatest = true
	case query == "upgrade":
		if !hasCurrent {
			qm.mayUseLatest = true
		} else {
			qm.mayUseLatest = module.IsPseudoVersion(current)
			qm.filter = func(mv string) bool { return semver.Compare(mv, current) >= 0 }
		}
	case query == "patch":
		if !hasCurrent {
			return nil, &noPatchBaseError{path}
		}
		qm.mayUseLatest = module.IsPseudoVersion(current)
		qm.prefix = semver.MajorMinor(current) + "."
		qm.filter = func(mv string) bool { return semver.Compare(mv, current) >= 0 }
	case strings.HasPrefix(query, "<="):
		v := query[len("<="):]
		if !semver.IsValid(v) {
			return badVersion(v)
		}
		if isVersionPrefix(v) {
			return nil, fmt.Errorf("ambiguous semantic version %q in range %q", v, query)
		}
		qm.filter = func(mv string) bool { return semver.Compare(mv, v) <= 0 }
		qm.preferIncompatible = qm.preferIncompatible || !matchesMajor(v)
	case strings.HasPrefix(query, "<"):
		v := query[len("<"):]
		if !semver.IsValid(v) {
			return badVersion(v)
		}
		qm.filter = func(mv string) bool { return semver.Compare(mv, v) < 0 }
		qm.preferIncompatible = qm.preferIncompatible || !matchesMajor(v)
	case strings.HasPrefix(query, ">="):
		v := query[len(">="):]
		if !semver.IsValid(v) {
			return badVersion(v)
		}
		qm.filter = func(mv string) bool { return semver.Compare(mv, v) >= 0 }
		qm.preferLower = true
		qm.preferIncompatible = qm.preferIncompatible || !matchesMajor(v)
	case strings.HasPrefix(query, ">"):
		v := query[len(">"):]
		if !semver.IsValid(v) {
			return badVersion(v)
		}
		if isVersionPrefix(v) {
			return nil, fmt.Errorf("ambiguous semantic version %q in range %q", v, query)
		}
		qm.filter = func(mv string) bool { return semver.Compare(mv, v) > 0 }
		qm.preferLower = true
		qm.preferIncompatible = qm.preferIncompatible || !matchesMajor(v)
	case semver.IsValid(query) && isVersionPrefix(query):
		// "v1" or "v1.2": the highest version with that prefix, but not
		// below it: "v1.2" does not match v1.2.0's pre-releases
		// (go.dev/issue/31972).
		qm.prefix = query + "."
		qm.filter = func(mv string) bool { return semver.Compare(mv, query) >= 0 }
		qm.preferIncompatible = qm.preferIncompatible || !matchesMajor(query)
	default:
		// A complete version, or a revision: asked of the source.
		qm.stat = true
	}
	return qm, nil
}

// isVersionPrefix reports whether a valid semantic version is a prefix
// such as "v1" or "v1.2" rather than a complete version
// (gover.ModIsPrefix).
func isVersionPrefix(v string) bool {
	return !strings.ContainsAny(v, "-+") && strings.Count(v, ".") < 2
}

func (qm *queryMatcher) allows(v string) bool {
	return strings.HasPrefix(v, qm.prefix) && (qm.filter == nil || qm.filter(v))
}

// A noPatchBaseError is a "patch" query without a current version
// (modload.NoPatchBaseError).
type noPatchBaseError struct{ path string }

func (e *noPatchBaseError) Error() string {
	return fmt.Sprintf(`can't query version "patch" of module %s: no existing version is required`, e.path)
}

// A noMatchingVersionError is a query no version satisfies
// (modload.NoMatchingVersionError). It does not match fs.ErrNotExist: the
// source that listed the module answered, so the walk does not move on.
type noMatchingVersionError struct{ query, current string }

func (e *noMatchingVersionError) Error() string {
	suffix := ""
	if (e.query == "upgrade" || e.query == "patch") && e.current != "" && e.current != "none" {
		suffix = fmt.Sprintf(" (current version is %s)", e.current)
	}
	return fmt.Sprintf("no matching versions for query %q", e.query) + suffix
}

// errDisallowed is what a version that may not be chosen matches: excluded
// by the main module or retracted by its author (modload.ErrDisallowed).
var errDisallowed = errors.New("disallowed module version")

// excludedError is a version the main module excludes.
type excludedError struct{}

func (excludedError) Error() string        { return "excluded by go.mod" }
func (excludedError) Is(target error) bool { return target == errDisallowed }

// A RetractedError reports a version its author retracted, as the go
// command words it (modload.ModuleRetractedError).
type RetractedError struct {
	// Rationale holds the comments of the retract directives that cover
	// the version.
	Rationale []string
}

func (e *RetractedError) Error() string {
	msg := "retracted by module author"
	if len(e.Rationale) > 0 {
		msg += ": " + shortMessage(e.Rationale[0], "retracted by module author")
	}
	return msg
}

// Is reports whether target is the disallowed-version class.
func (e *RetractedError) Is(target error) bool { return target == errDisallowed }

// shortMessage returns a go.mod comment that is safe to print on a
// terminal (modload.ShortMessage).
func shortMessage(message, emptyDefault string) string {
	const maxLen = 500
	if i := strings.Index(message, "\n"); i >= 0 {
		message = message[:i]
	}
	message = strings.TrimSpace(message)
	if message == "" {
		return emptyDefault
	}
	if len(message) > maxLen {
		return "(message omitted: too long)"
	}
	for _, r := range message {
		if !unicode.IsGraphic(r) && !unicode.IsSpace(r) {
			return "(message omitted: contains non-printable characters)"
		}
	}
	return message
}

// versionQuery is one list-based query in progress.
type versionQuery struct {
	c       *Client
	path    string
	qm      *queryMatcher
	query   string
	current string
	exclude func(string) bool
	memo    *sourceMemo

	retractOnce sync.Once
	retracts    *Retractions // nil when they could not be loaded
}

// allowed returns an error matching errDisallowed if v may not be chosen
// (modload.CheckAllowed): excluded, or retracted. Retractions come from
// the go.mod of the module's latest version ignoring retractions and
// exclusions, found by a query of its own along the whole route
// (modload.queryLatestVersionIgnoringRetractions); when they cannot be
// loaded, nothing counts as retracted.
func (q *versionQuery) allowed(ctx context.Context, v string) error {
	m := module.Version{Path: q.path, Version: v}
	if q.exclude != nil && q.exclude(v) {
		return module.VersionError(m, excludedError{})
	}
	q.retractOnce.Do(func() {
		q.retracts, _ = q.c.retractionsOfLatest(ctx, q.path, q.memo)
	})
	if q.retracts != nil {
		if ok, rationale := q.retracts.retractedWith(v); ok {
			return module.VersionError(m, &RetractedError{Rationale: rationale})
		}
	}
	return nil
}

func (q *versionQuery) allowsVersion(ctx context.Context, v string) bool {
	return q.qm.allows(v) && !errors.Is(q.allowed(ctx, v), errDisallowed)
}

// run answers the query from one source, as queryProxy does inside each
// step of the route walk.
func (q *versionQuery) run(ctx context.Context, r repo) (*Info, error) {
	versions, err := r.Versions(ctx)
	if err != nil {
		return nil, err
	}
	releases, prereleases, err := q.c.filterVersions(ctx, q.path, versions, q.qm, func(v string) bool { return !q.allowsVersion(ctx, v) })
	if err != nil {
		return nil, err
	}
	lookup := func(v string) (*Info, error) {
		info, err := q.c.stat(ctx, r, q.path, v)
		if err != nil {
			return nil, err
		}
		// An upgrade never moves from a pseudo-version to a commit older
		// than it: the user is on an untagged branch on purpose.
		if (q.query == "upgrade" || q.query == "patch") && module.IsPseudoVersion(q.current) && !info.Time.IsZero() {
			if t, err := module.PseudoVersionTime(q.current); err == nil && info.Time.Before(t) {
				if err := q.allowed(ctx, q.current); errors.Is(err, errDisallowed) {
					return nil, err
				}
				return q.c.stat(ctx, r, q.path, q.current)
			}
		}
		return info, nil
	}
	for _, list := range [][]string{releases, prereleases} {
		if len(list) == 0 {
			continue
		}
		if q.qm.preferLower {
			return lookup(list[0])
		}
		return lookup(list[len(list)-1])
	}
	if q.qm.mayUseLatest {
		latest, err := r.Latest(ctx)
		if err == nil {
			// Kept for the Stat that likely follows, in the module cache too
			// (modfetch.cachingRepo.Latest).
			q.c.remember(ctx, q.path, latest)
		}
		switch {
		case err == nil && q.allowsVersion(ctx, latest.Version):
			return lookup(latest.Version)
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return nil, err
		}
	}
	if (q.query == "upgrade" || q.query == "patch") && q.current != "" && q.current != "none" {
		// They may stay on the current version, if it is allowed.
		if err := q.allowed(ctx, q.current); errors.Is(err, errDisallowed) {
			return nil, err
		}
		return lookup(q.current)
	}
	return nil, &noMatchingVersionError{query: q.query, current: q.current}
}

// filterVersions splits the versions qm allows and disallowed does not
// reject into releases and pre-releases, dropping, once a compatible
// version with a go.mod file has been seen, +incompatible ones, unless
// qm prefers them (modload.queryMatcher.filterVersions). disallowed may be
// nil.
func (c *Client) filterVersions(ctx context.Context, path string, versions []string, qm *queryMatcher, disallowed func(string) bool) (releases, prereleases []string, err error) {
	var lastCompatible string
	needIncompatible := qm.preferIncompatible
	for _, v := range versions {
		if !qm.allows(v) || (disallowed != nil && disallowed(v)) {
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
	ok, _ := rs.retractedWith(v)
	return ok
}

// Retracted reports whether version is retracted, and the rationale of the
// first retract directive that covers it.
func (rs *Retractions) Retracted(version string) (bool, string) {
	ok, rationale := rs.retractedWith(version)
	if len(rationale) == 0 {
		return ok, ""
	}
	return ok, rationale[0]
}

// retractedWith reports whether version is retracted, with the rationale
// of every directive that covers it (modload.CheckRetractions).
func (rs *Retractions) retractedWith(version string) (bool, []string) {
	retracted := false
	var rationale []string
	for _, r := range rs.Intervals {
		if semver.Compare(r.Low, version) <= 0 && semver.Compare(version, r.High) <= 0 {
			retracted = true
			if r.Rationale != "" {
				rationale = append(rationale, r.Rationale)
			}
		}
	}
	return retracted, rationale
}

// Retractions returns the retractions and deprecation declared by the
// module's latest version, as the go command reads them
// (modload.CheckRetractions, CheckDeprecation): the version "latest"
// resolves to ignoring retractions, found along the whole route as a query
// of its own (its .info is fetched, as the go command's Stat fetches it),
// then its go.mod file.
func (c *Client) Retractions(ctx context.Context, path string) (*Retractions, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	return c.retractionsOfLatest(ctx, path, &sourceMemo{})
}

// retractionsOfLatest is Retractions, sharing what sources answered with
// the query that asks (the go command's cachingRepo).
func (c *Client) retractionsOfLatest(ctx context.Context, path string, memo *sourceMemo) (*Retractions, error) {
	q := &versionQuery{c: c, path: path, qm: &queryMatcher{path: path, mayUseLatest: true}, query: "latest", memo: memo}
	q.retractOnce.Do(func() {}) // ignoring retractions: nothing is retracted
	var latest *Info
	err := c.walk(ctx, path, "", func(r repo) error {
		var err error
		latest, err = q.run(ctx, memo.wrap(r, ""))
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

// stat resolves a version from one source as the go command's cachingRepo
// does: a canonical version's .info from the module cache if it is there,
// else from the source, and then recorded in the cache.
func (c *Client) stat(ctx context.Context, r repo, path, version string) (*Info, error) {
	mod := module.Version{Path: path, Version: version}
	canonical := checkVersion(path, version) == nil
	if canonical {
		if info, _, err := c.cache.ReadInfo(mod); err == nil {
			return info, nil
		}
	}
	info, err := r.Stat(ctx, version)
	if err != nil {
		return nil, err
	}
	if canonical && info.Version == version {
		if _, err := c.cache.WriteInfo(ctx, mod, info); err != nil {
			return nil, &ModuleError{Path: path, Version: version, Err: err}
		}
	}
	return info, nil
}

// remember records a version's .info in the module cache, unless it is
// there or the version is not canonical; failing to is not an error.
func (c *Client) remember(ctx context.Context, path string, info *Info) {
	mod := module.Version{Path: path, Version: info.Version}
	if checkVersion(path, info.Version) != nil {
		return
	}
	if _, _, err := c.cache.ReadInfo(mod); err == nil {
		return
	}
	c.cache.WriteInfo(ctx, mod, info)
}
