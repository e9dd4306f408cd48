package coderepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/modkit/modkit/modnet/internal/codehost"
)

// This file turns a repository into module versions for one module path:
// which tags are versions, what a branch or hash resolves to, where the
// module's go.mod lives (cmd/go/internal/modfetch/coderepo.go).

// Info is a module version's metadata as resolved from the repository:
// modnet.Info, converted from it, with its Origin.
type Info struct {
	Version string    // canonical version
	Time    time.Time // commit time
	Origin  *codehost.Origin
}

// A Repo is one module within a repository (cmd/go's codeRepo).
type Repo struct {
	modPath string
	code    codehost.Repo
	// codeRoot is the import path of the repository root; codeDir the
	// module's directory within it (relative, slash-separated). With a
	// major-version suffix the module may also be in codeDir/vN.
	codeRoot, codeDir string
	// pathMajor is modPath's major-version suffix: "", "/v2", or for
	// gopkg.in ".v2" or ".v2-unstable"; pathPrefix is modPath without it.
	pathMajor, pathPrefix string
	// pseudoMajor is the major version pseudo-versions must have ("v2"),
	// empty when v0 and v1 are both possible.
	pseudoMajor string
	// CheckGoLine, if set, refuses to zip a version whose go.mod asks for
	// a newer Go than the running one (modnet's Client.GoVersion). what is
	// path@version.
	CheckGoLine func(what string, gomod []byte) error
}

// New returns the module modPath of the repository code, whose root holds
// the code for import path codeRoot; subdir, if not empty, is the
// directory a go-import tag names for codeRoot (coderepo.go: newCodeRepo).
func New(code codehost.Repo, codeRoot, subdir, modPath string) (*Repo, error) {
	if !vcsHasPathPrefix(modPath, codeRoot) {
		return nil, fmt.Errorf("mismatched repo: found %s for %s", codeRoot, modPath)
	}
	pathPrefix, pathMajor, ok := module.SplitPathVersion(modPath)
	if !ok {
		return nil, fmt.Errorf("invalid module path %q", modPath)
	}
	if codeRoot == modPath {
		pathPrefix = modPath
	}
	// For modPath github.com/u/r/sub/v2 in repository github.com/u/r the
	// module lives in sub (or sub/v2); a go-import tag that names the whole
	// path, or a gopkg.in path, puts it at the root; a go-import subdir
	// field adds to it.
	codeDir := ""
	if codeRoot != modPath {
		if !vcsHasPathPrefix(pathPrefix, codeRoot) {
			return nil, fmt.Errorf("repository rooted at %s cannot contain module %s", codeRoot, modPath)
		}
		codeDir = strings.Trim(pathPrefix[len(codeRoot):], "/")
	}
	if subdir != "" {
		codeDir = path.Join(codeDir, subdir)
	}
	return &Repo{
		modPath: modPath, code: code, codeRoot: codeRoot, codeDir: codeDir,
		pathMajor: pathMajor, pathPrefix: pathPrefix, pseudoMajor: module.PathMajorPrefix(pathMajor),
	}, nil
}

// vcsHasPathPrefix is coderepo.go's hasPathPrefix.
func vcsHasPathPrefix(s, prefix string) bool {
	switch {
	case len(s) == len(prefix):
		return s == prefix
	case len(s) > len(prefix):
		if prefix != "" && prefix[len(prefix)-1] == '/' {
			return strings.HasPrefix(s, prefix)
		}
		return s[len(prefix)] == '/' && s[:len(prefix)] == prefix
	}
	return false
}

func (r *Repo) tagPrefix() string {
	if r.codeDir == "" {
		return ""
	}
	return r.codeDir + "/"
}

// Versions lists tags that are canonical versions of this module
// (coderepo.go: Versions, appendIncompatibleVersions).
func (r *Repo) Versions(ctx context.Context) ([]string, error) {
	// gopkg.in/x.v2-unstable has no tags of its own: v2 tags are x.v2's.
	if strings.HasPrefix(r.modPath, "gopkg.in/") && strings.HasSuffix(r.modPath, "-unstable") {
		return nil, nil
	}
	p := r.tagPrefix()
	tags, err := r.code.Tags(ctx, p)
	if err != nil {
		return nil, &module.ModuleError{Path: r.modPath, Err: err}
	}
	var list, incompatible []string
	for _, t := range tags.List {
		v := t.Name[len(p):]
		// Non-canonical tags and pseudo-version-like tags are not
		// versions; Stat maps such tags to pseudo-versions.
		if v == "" || v != semver.Canonical(v) || module.IsPseudoVersion(v) {
			continue
		}
		if err := module.CheckPathMajor(v, r.pathMajor); err != nil {
			if r.codeDir == "" && r.pathMajor == "" && semver.Major(v) > "v1" {
				incompatible = append(incompatible, v)
			}
			continue
		}
		list = append(list, v)
	}
	semver.Sort(list)
	semver.Sort(incompatible)
	if len(incompatible) == 0 || r.pathMajor != "" {
		return list, nil
	}

	hasGoMod := func(v string) (bool, error) {
		_, err := r.code.ReadFile(ctx, v, "go.mod", codehost.MaxGoMod)
		if err == nil {
			return true, nil
		}
		if !os.IsNotExist(err) {
			return false, &module.ModuleError{Path: r.modPath, Err: err}
		}
		return false, nil
	}
	// If the latest v0/v1 has a go.mod, the author means users to stay on
	// that line: no +incompatible versions (go.dev/issue/34189).
	if len(list) > 0 {
		ok, err := hasGoMod(list[len(list)-1])
		if err != nil {
			return nil, err
		}
		if ok {
			return list, nil
		}
	}
	// A major version whose latest tag has a go.mod is a module of its
	// own: none of its tags are +incompatible.
	for i := 0; i < len(incompatible); {
		major := semver.Major(incompatible[i])
		j := i + sort.Search(len(incompatible)-i, func(k int) bool { return semver.Major(incompatible[i+k]) != major })
		ok, err := hasGoMod(incompatible[j-1])
		if err != nil {
			return nil, err
		}
		if !ok {
			for _, v := range incompatible[i:j] {
				list = append(list, v+"+incompatible")
			}
		}
		i = j
	}
	return list, nil
}

// Stat resolves rev to a module version (coderepo.go: Stat).
func (r *Repo) Stat(ctx context.Context, rev string) (*Info, error) {
	if rev == "latest" {
		return r.Latest(ctx)
	}
	info, err := r.code.Stat(ctx, r.revToRev(rev))
	if err != nil {
		return nil, &module.ModuleError{Path: r.modPath, Err: &module.InvalidVersionError{Version: rev, Err: err}}
	}
	return r.convert(ctx, info, rev)
}

// Latest resolves the repository's HEAD (coderepo.go: Latest).
func (r *Repo) Latest(ctx context.Context) (*Info, error) {
	info, err := r.code.Latest(ctx)
	if err != nil {
		return nil, err
	}
	return r.convert(ctx, info, "")
}

// revToRev maps a module version to the git revision that holds it: the
// commit of a pseudo-version, else the tag (in the module's directory,
// without "+incompatible").
func (r *Repo) revToRev(rev string) string {
	if !semver.IsValid(rev) {
		return rev
	}
	if module.IsPseudoVersion(rev) {
		h, _ := module.PseudoVersionRev(rev)
		return h
	}
	if semver.Build(rev) == "+incompatible" {
		rev = strings.TrimSuffix(rev, "+incompatible")
	}
	return r.tagPrefix() + rev
}

// convert turns a commit into the module version the go command would
// report for it (coderepo.go: convert): a canonical tag on the commit if it
// suits the module path, else a pseudo-version based on the highest such
// tag among its ancestors. statVers is what the caller asked for ("" for
// Latest).
func (r *Repo) convert(ctx context.Context, info *codehost.RevInfo, statVers string) (*Info, error) {
	out, err := r.convertVersion(ctx, info, statVers)
	if out == nil || info.Origin == nil {
		return out, err
	}
	origin := *info.Origin
	origin.Subdir = r.codeDir
	out.Origin = &origin
	// A computed pseudo-version depends on the tags: record them.
	if v := out.Version; module.IsPseudoVersion(v) && (v != statVers || !strings.HasPrefix(v, "v0.0.0-")) {
		prefix := r.tagPrefix()
		if r.pathMajor != "" {
			prefix += r.pathMajor[1:] + "."
		}
		tags, terr := r.code.Tags(ctx, prefix)
		if terr != nil {
			out.Origin = nil
			if err == nil {
				err = terr
			}
		} else {
			origin.TagPrefix = tags.Origin.TagPrefix
			origin.TagSum = tags.Origin.TagSum
		}
	}
	return out, err
}

func (r *Repo) convertVersion(ctx context.Context, info *codehost.RevInfo, statVers string) (*Info, error) {
	// +incompatible needs an untagged major version without go.mod at
	// the root (coderepo.go's canUseIncompatible), memoised per major.
	incompatibleOK := map[string]bool{}
	canUseIncompatible := func(v string) bool {
		if r.codeDir != "" || r.pathMajor != "" {
			return false
		}
		ok, seen := incompatibleOK[""]
		if !seen {
			_, err := r.code.ReadFile(ctx, info.Name, "go.mod", codehost.MaxGoMod)
			ok = err != nil
			incompatibleOK[""] = ok
		}
		if !ok {
			return false
		}
		// A vN/go.mod claims vN tags for the vN module, unless the user
		// asked for +incompatible explicitly (go.dev/issue/51324).
		if v != "" && !strings.HasSuffix(statVers, "+incompatible") {
			major := semver.Major(v)
			ok, seen = incompatibleOK[major]
			if !seen {
				_, err := r.code.ReadFile(ctx, info.Name, path.Join(major, "go.mod"), codehost.MaxGoMod)
				ok = err != nil
				incompatibleOK[major] = ok
			}
		}
		return ok
	}

	invalid := func(v string, err error) error {
		return &module.ModuleError{Path: r.modPath, Err: &module.InvalidVersionError{Version: v, Err: err}}
	}
	checkCanonical := func(v string) (*Info, error) {
		// The module's go.mod must be where the path says: the author, not
		// the user, decides how a repository splits into modules.
		if _, _, _, err := r.findDir(ctx, v); err != nil {
			return nil, invalid(v, &codehost.NotExistError{Err: err})
		}
		if v == strings.TrimSuffix(statVers, "+incompatible") {
			v = statVers
		}
		base := strings.TrimSuffix(v, "+incompatible")
		var errIncompatible error
		if !module.MatchPathMajor(base, r.pathMajor) {
			if canUseIncompatible(base) {
				v = base + "+incompatible"
			} else if r.pathMajor != "" {
				errIncompatible = invalid(v, errors.New("module path includes a major version suffix, so major version must match"))
			} else {
				errIncompatible = invalid(v, fmt.Errorf("module contains a go.mod file, so module path must match major version (%q)", path.Join(r.pathPrefix, semver.Major(v))))
			}
		} else if strings.HasSuffix(v, "+incompatible") {
			errIncompatible = invalid(v, fmt.Errorf("+incompatible suffix not allowed: major version %s is compatible", semver.Major(v)))
		}
		if statVers != "" && statVers == module.CanonicalVersion(statVers) {
			// A canonical request resolves to itself or fails.
			if sb := strings.TrimSuffix(statVers, "+incompatible"); sb != base {
				return nil, invalid(statVers, fmt.Errorf("resolves to version %v (%s is not a tag)", v, sb))
			}
		}
		if errIncompatible != nil {
			return nil, errIncompatible
		}
		return &Info{Version: v, Time: info.Time}, nil
	}

	if module.IsPseudoVersion(statVers) {
		// Check the cheap things (directory, major version) before the
		// base tag, which may need the full history.
		out, err := checkCanonical(statVers)
		if err != nil {
			return out, err
		}
		if err := r.validatePseudoVersion(ctx, info, statVers); err != nil {
			return nil, err
		}
		return out, nil
	}

	tagPrefix := r.tagPrefix()
	isRetracted, err := r.retracted(ctx)
	if err != nil {
		isRetracted = func(string) bool { return false }
	}
	// tagToVersion trims the directory; pseudo-version-like and
	// incomplete ("v1.2") tags give no version.
	tagToVersion := func(tag string) (v string, canonical bool) {
		trimmed, ok := strings.CutPrefix(tag, tagPrefix)
		if !ok || module.IsPseudoVersion(tag) {
			return "", false
		}
		// semver.Canonical, not module.CanonicalVersion: a tag's own
		// "+incompatible" means nothing.
		v = semver.Canonical(trimmed)
		if v == "" || !strings.HasPrefix(trimmed, v) {
			return "", false
		}
		return v, v == trimmed
	}

	if v, canonical := tagToVersion(info.Version); canonical {
		if out, err := checkCanonical(v); err == nil {
			return out, nil
		}
	}
	var highestCanonical, pseudoBase string
	for _, t := range info.Tags {
		v, canonical := tagToVersion(t)
		if statVers != "" && semver.Compare(v, statVers) == 0 {
			if canonical {
				return checkCanonical(v)
			}
			// v1.2.3+meta asked for and tagged: not usable as is (tags
			// with different metadata may name other commits), but the
			// best base for an unambiguous pseudo-version.
			pseudoBase = v
		}
		if canonical && semver.Compare(highestCanonical, v) < 0 && !isRetracted(v) {
			if module.MatchPathMajor(v, r.pathMajor) || canUseIncompatible(v) {
				highestCanonical = v
			}
		}
	}
	if highestCanonical != "" {
		return checkCanonical(highestCanonical)
	}

	// The base is the highest suitable ancestor tag, so that the
	// pseudo-version sorts just above it.
	tagAllowed := func(tag string) bool {
		v, _ := tagToVersion(tag)
		if v == "" || (!module.MatchPathMajor(v, r.pathMajor) && !canUseIncompatible(v)) {
			return false
		}
		return !isRetracted(v)
	}
	if pseudoBase == "" {
		tag, err := r.code.RecentTag(ctx, info.Name, tagPrefix, tagAllowed)
		if err != nil {
			return nil, err
		}
		if tag != "" {
			pseudoBase, _ = tagToVersion(tag)
		}
	}
	return checkCanonical(module.PseudoVersion(r.pseudoMajor, pseudoBase, info.Time, info.Short))
}

// validatePseudoVersion checks a requested pseudo-version against the
// commit: hash, time, and a base that is a tag on an ancestor, so that no
// one can name a commit with an arbitrarily high version
// (coderepo.go: validatePseudoVersion).
func (r *Repo) validatePseudoVersion(ctx context.Context, info *codehost.RevInfo, version string) (err error) {
	defer func() {
		if err == nil {
			return
		}
		if _, ok := err.(*module.ModuleError); ok {
			return
		}
		if _, ok := err.(*module.InvalidVersionError); !ok {
			err = &module.InvalidVersionError{Version: version, Pseudo: true, Err: err}
		}
		err = &module.ModuleError{Path: r.modPath, Err: err}
	}()
	rev, err := module.PseudoVersionRev(version)
	if err != nil {
		return err
	}
	if rev != info.Short {
		switch {
		case strings.HasPrefix(rev, info.Short):
			return fmt.Errorf("revision is longer than canonical (expected %s)", info.Short)
		case strings.HasPrefix(info.Short, rev):
			return fmt.Errorf("revision is shorter than canonical (expected %s)", info.Short)
		default:
			return fmt.Errorf("does not match short name of revision (expected %s)", info.Short)
		}
	}
	t, err := module.PseudoVersionTime(version)
	if err != nil {
		return err
	}
	if !t.Equal(info.Time.Truncate(time.Second)) {
		return fmt.Errorf("does not match version-control timestamp (expected %s)", info.Time.UTC().Format(module.PseudoVersionTimestampFormat))
	}
	tagPrefix := r.tagPrefix()
	base, err := module.PseudoVersionBase(strings.TrimSuffix(version, "+incompatible"))
	if err != nil {
		return err
	}
	if base == "" {
		if r.pseudoMajor == "" && semver.Major(version) == "v1" {
			return errors.New("major version without preceding tag must be v0, not v1")
		}
		return nil
	}
	for _, tag := range info.Tags {
		if strings.TrimPrefix(tag, tagPrefix) == base {
			return fmt.Errorf("tag (%s) found on revision %s is already canonical, so should not be replaced with a pseudo-version derived from that tag", tag, rev)
		}
	}
	tags, err := r.code.Tags(ctx, tagPrefix+base)
	if err != nil {
		return err
	}
	var lastTag string
	found := false
	for _, tag := range tags.List {
		if semver.Compare(strings.TrimPrefix(tag.Name, tagPrefix), base) == 0 {
			lastTag = tag.Name
			found, err = r.code.DescendsFrom(ctx, info.Name, tag.Name)
			if found {
				break
			}
		}
	}
	if lastTag == "" {
		return fmt.Errorf("preceding tag (%s) not found", base)
	}
	if !found {
		if err != nil {
			return err
		}
		return fmt.Errorf("revision %s is not a descendent of preceding tag (%s)", rev, lastTag)
	}
	return nil
}

// retracted returns a predicate for versions retracted by the go.mod of
// the highest release (or, lacking one, pre-release) version
// (coderepo.go: retractedVersions).
func (r *Repo) retracted(ctx context.Context) (func(string) bool, error) {
	versions, err := r.Versions(ctx)
	if err != nil {
		return nil, err
	}
	for i, v := range versions {
		// +incompatible versions have no go.mod, so no retractions; they
		// sort above all others.
		if strings.HasSuffix(v, "+incompatible") {
			versions = versions[:i]
			break
		}
	}
	none := func(string) bool { return false }
	if len(versions) == 0 {
		return none, nil
	}
	highest := versions[len(versions)-1]
	for i := len(versions) - 1; i >= 0; i-- {
		if semver.Prerelease(versions[i]) == "" {
			highest = versions[i]
			break
		}
	}
	data, err := r.GoMod(ctx, highest)
	if err != nil {
		return nil, err
	}
	f, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil {
		return nil, err
	}
	return func(v string) bool {
		for _, rt := range f.Retract {
			if semver.Compare(rt.Low, v) <= 0 && semver.Compare(v, rt.High) <= 0 {
				return true
			}
		}
		return false
	}, nil
}

// findDir locates the module's directory at a version: codeDir, or for a
// /vN path possibly codeDir/vN, whichever has a go.mod naming a path with
// the right major version; a root without go.mod is a v0/v1 module
// (coderepo.go: findDir). gomod is the go.mod found, nil if none.
func (r *Repo) findDir(ctx context.Context, version string) (rev, dir string, gomod []byte, err error) {
	if !semver.IsValid(version) {
		return "", "", nil, &module.ModuleError{Path: r.modPath, Err: &module.InvalidVersionError{Version: version, Err: errors.New("syntax error")}}
	}
	rev = r.revToRev(version)

	file1 := path.Join(r.codeDir, "go.mod")
	gomod1, err1 := r.code.ReadFile(ctx, rev, file1, codehost.MaxGoMod)
	// os.IsNotExist, not errors.Is: a missing file is absent, but a
	// missing revision is an error, as in the go command.
	if err1 != nil && !os.IsNotExist(err1) {
		return "", "", nil, fmt.Errorf("reading %s/%s at revision %s: %w", r.codeRoot, file1, rev, err1)
	}
	mpath1 := modfile.ModulePath(gomod1)
	// An unversioned module may replace a gopkg.in one, through an old
	// go command bug (go.dev/issue/34254).
	found1 := err1 == nil && (vcsIsMajor(mpath1, r.pathMajor) || (r.pathMajor == "" && strings.HasPrefix(mpath1, "gopkg.in/")))

	var file2 string
	if r.pathMajor != "" && r.codeRoot != r.modPath && !strings.HasPrefix(r.pathMajor, ".") {
		// For /v2: either go.mod says v2 and v2/go.mod does not exist,
		// or v2/go.mod exists and says v2. Not both.
		dir2 := path.Join(r.codeDir, r.pathMajor[1:])
		file2 = path.Join(dir2, "go.mod")
		gomod2, err2 := r.code.ReadFile(ctx, rev, file2, codehost.MaxGoMod)
		if err2 != nil && !os.IsNotExist(err2) {
			return "", "", nil, fmt.Errorf("reading %s/%s at revision %s: %w", r.codeRoot, file2, rev, err2)
		}
		mpath2 := modfile.ModulePath(gomod2)
		found2 := err2 == nil && vcsIsMajor(mpath2, r.pathMajor)
		if found1 && found2 {
			return "", "", nil, fmt.Errorf("%s/%s and ...%s/go.mod both have ...%s module paths at revision %s", r.pathPrefix, file1, r.pathMajor, r.pathMajor, rev)
		}
		if found2 {
			return rev, dir2, gomod2, nil
		}
		if err2 == nil {
			if mpath2 == "" {
				return "", "", nil, fmt.Errorf("%s/%s is missing module path at revision %s", r.codeRoot, file2, rev)
			}
			return "", "", nil, fmt.Errorf("%s/%s has non-...%s module path %q at revision %s", r.codeRoot, file2, r.pathMajor, mpath2, rev)
		}
	}
	if found1 {
		return rev, r.codeDir, gomod1, nil
	}
	if err1 == nil {
		suffix := ""
		if file2 != "" {
			suffix = fmt.Sprintf(" (and ...%s/go.mod does not exist)", r.pathMajor)
		}
		switch {
		case mpath1 == "":
			return "", "", nil, fmt.Errorf("%s is missing module path%s at revision %s", file1, suffix, rev)
		case r.pathMajor != "":
			return "", "", nil, fmt.Errorf("%s has non-...%s module path %q%s at revision %s", file1, r.pathMajor, mpath1, suffix, rev)
		}
		if _, _, ok := module.SplitPathVersion(mpath1); !ok {
			return "", "", nil, fmt.Errorf("%s has malformed module path %q%s at revision %s", file1, mpath1, suffix, rev)
		}
		return "", "", nil, fmt.Errorf("%s has post-%s module path %q%s at revision %s", file1, semver.Major(version), mpath1, suffix, rev)
	}
	if r.codeDir == "" && (r.pathMajor == "" || strings.HasPrefix(r.pathMajor, ".")) {
		return rev, "", nil, nil // v0/v1 or gopkg.in without go.mod
	}
	if file2 != "" {
		return "", "", nil, fmt.Errorf("missing %s/go.mod and ...%s/go.mod at revision %s", r.pathPrefix, r.pathMajor, rev)
	}
	return "", "", nil, fmt.Errorf("missing %s/go.mod at revision %s", r.pathPrefix, rev)
}

// vcsIsMajor reports whether module path mpath suits major-version suffix
// pathMajor (coderepo.go: isMajor): for no suffix, v0/v1 paths including
// gopkg.in .v0/.v1; otherwise the same major, whether spelled /vN or .vN.
func vcsIsMajor(mpath, pathMajor string) bool {
	if mpath == "" {
		return false
	}
	_, mpathMajor, ok := module.SplitPathVersion(mpath)
	if !ok {
		return false
	}
	if pathMajor == "" {
		switch module.PathMajorPrefix(mpathMajor) {
		case "", "v0", "v1":
			return true
		}
		return false
	}
	if mpathMajor == "" {
		return false
	}
	return pathMajor[1:] == mpathMajor[1:]
}

// GoMod returns the go.mod of a canonical version (coderepo.go: GoMod).
func (r *Repo) GoMod(ctx context.Context, version string) ([]byte, error) {
	if version != module.CanonicalVersion(version) {
		return nil, fmt.Errorf("version %s is not canonical", version)
	}
	if module.IsPseudoVersion(version) {
		// findDir only uses the hash: check the rest of the version.
		if _, err := r.Stat(ctx, version); err != nil {
			return nil, err
		}
	}
	rev, dir, gomod, err := r.findDir(ctx, version)
	if err != nil {
		return nil, err
	}
	if gomod != nil {
		return gomod, nil
	}
	data, err := r.code.ReadFile(ctx, rev, path.Join(dir, "go.mod"), codehost.MaxGoMod)
	if os.IsNotExist(err) {
		return vcsLegacyGoMod(r.modPath), nil
	}
	return data, err
}

// vcsLegacyGoMod is the go.mod the go command gives a module without one
// (coderepo.go: LegacyGoMod): the module line alone.
func vcsLegacyGoMod(modPath string) []byte {
	return fmt.Appendf(nil, "module %s\n", modfile.AutoQuote(modPath))
}
