package modnet

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"

	"github.com/modkit/modkit/modnet/internal/lockedfile"
	"github.com/modkit/modkit/modnet/modload"
)

// A GoSum is the content of a go.sum file: for each module version, the
// hashes recorded for its zip ("path version h1:...") and for its go.mod
// file ("path version/go.mod h1:..."), with the line each came from.
type GoSum struct {
	// File is the file the lines came from, for messages.
	File  string
	lines map[module.Version][]GoSumLine
}

// A GoSumLine is one line of a go.sum file.
type GoSumLine struct {
	Path    string // module path
	Version string // version, with a "/go.mod" suffix for a go.mod hash
	Hash    string // such as "h1:..."
	File    string // go.sum file
	Line    int    // 1-based line number
}

// Where returns "file:line".
func (l GoSumLine) Where() string { return fmt.Sprintf("%s:%d", l.File, l.Line) }

// emptyGoModHash is the hash of a tree holding only an empty go.mod. An old
// go command bug wrote it for non-modules; the go command ignores such lines.
const emptyGoModHash = "h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY="

// ReadGoSum reads a go.sum file under the go command's shared lock. A
// missing file is an empty GoSum, as for the go command.
func ReadGoSum(file string) (*GoSum, error) {
	data, err := lockedfile.Read(context.Background(), file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return ParseGoSum(data, file)
}

// ReadModuleGoSum reads the go.sum file of the module rooted at dir.
func ReadModuleGoSum(dir string) (*GoSum, error) {
	return ReadGoSum(filepath.Join(dir, "go.sum"))
}

// ReadWorkspaceGoSum reads the checksums the go command trusts in a
// workspace: those of go.work.sum beside the go.work file, and those of
// the go.sum of every module it uses (modfetch's initGoSum in workspace
// mode).
func ReadWorkspaceGoSum(ws *modload.MainModule, workFile string) (*GoSum, error) {
	sum, err := ReadGoSum(modload.WorkSumFile(workFile))
	if err != nil {
		return nil, err
	}
	for _, mm := range ws.Workspace {
		ms, err := ReadModuleGoSum(mm.Dir)
		if err != nil {
			return nil, err
		}
		sum.add(ms)
	}
	return sum, nil
}

// add adds o's lines to s.
func (s *GoSum) add(o *GoSum) {
	for m, lines := range o.lines {
		s.lines[m] = append(s.lines[m], lines...)
	}
}

// ParseGoSum parses go.sum content with the go command's rules
// (cmd/go/internal/modfetch.readGoSum): lines split at '\n', fields at
// white space; blank lines are skipped; any other line must have exactly
// three fields, else the file is malformed; the empty-go.mod hash left by an
// old bug is dropped. filename is used in errors and in [GoSumLine].
func ParseGoSum(data []byte, filename string) (*GoSum, error) {
	s := &GoSum{File: filename, lines: make(map[module.Version][]GoSumLine)}
	for lineno := 1; len(data) > 0; lineno++ {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		f := strings.Fields(string(line))
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("malformed go.sum:\n%s:%d: wrong number of fields %d", filename, lineno, len(f))
		}
		if f[2] == emptyGoModHash {
			continue
		}
		mod := module.Version{Path: f[0], Version: f[1]}
		s.lines[mod] = append(s.lines[mod], GoSumLine{Path: f[0], Version: f[1], Hash: f[2], File: filename, Line: lineno})
	}
	return s, nil
}

// Lookup returns the lines for path and version; a version ending in
// "/go.mod" selects the go.mod hashes. A nil GoSum has no lines.
func (s *GoSum) Lookup(path, version string) []GoSumLine {
	if s == nil {
		return nil
	}
	return s.lines[module.Version{Path: path, Version: version}]
}

// Lines returns every line of the go.sum in file order. A go.mod hash
// line has a Version ending in "/go.mod".
func (s *GoSum) Lines() []GoSumLine {
	if s == nil {
		return nil
	}
	var all []GoSumLine
	for _, lines := range s.lines {
		all = append(all, lines...)
	}
	slices.SortFunc(all, func(a, b GoSumLine) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	return all
}

// goModVersions returns the module versions with a go.mod hash line, sorted.
func (s *GoSum) goModVersions() []module.Version {
	if s == nil {
		return nil
	}
	var list []module.Version
	for m := range s.lines {
		if v, ok := strings.CutSuffix(m.Version, "/go.mod"); ok {
			list = append(list, module.Version{Path: m.Path, Version: v})
		}
	}
	module.Sort(list)
	return list
}

// zipVersions returns the module versions with a zip hash line, sorted.
func (s *GoSum) zipVersions() []module.Version {
	if s == nil {
		return nil
	}
	var list []module.Version
	for m := range s.lines {
		if !strings.HasSuffix(m.Version, "/go.mod") {
			list = append(list, m)
		}
	}
	module.Sort(list)
	return list
}

// HashZip returns the h1: hash of a module zip file, as recorded in go.sum
// and .ziphash files. [Cache.ZipHash] reads the hash recorded for a zip in
// the cache.
//
// It is dirhash.HashZip's hash (dirhash.Hash1 over the zip's files),
// reading the files through one buffer rather than one per file.
func HashZip(zipfile string) (string, error) {
	return hashExtract(zipfile, "", "")
}

// HashGoMod returns the h1: hash of a go.mod file's content, as recorded in
// go.sum's "path version/go.mod" lines (cmd/go/internal/modfetch.goModSum).
func HashGoMod(data []byte) (string, error) {
	return dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
}

// A ChecksumError is a security error: downloaded content does not match
// the hash go.sum or the checksum database has for it, or the checksum
// database's answer could not be authenticated. The bits may have been
// replaced at the origin or intercepted on the way. It is never a network
// fault: modkit does not retry it, does not fall back to another source,
// and stores nothing.
type ChecksumError struct {
	Path    string // module path
	Version string // module version, without "/go.mod"
	// Kind is "module" for the zip's hash, "go.mod" for the go.mod file's.
	Kind string
	// Downloaded is the hash of the downloaded content.
	Downloaded string
	// Expected is the hash go.sum or the checksum database has. It is empty
	// when the database had no line for the content, or when Err says its
	// answer could not be authenticated.
	Expected string
	// Source is where Expected came from: "file:line" of a go.sum line, or
	// the checksum database's name.
	Source string
	// DB reports that the checksum database was consulted.
	DB bool
	// Err is why the checksum database's answer was rejected: an
	// unauthenticated record, a tree head with no valid signature, an
	// inconsistent log.
	Err error
}

func (e *ChecksumError) version() string {
	if e.Kind == "go.mod" {
		return e.Version + "/go.mod"
	}
	return e.Version
}

func (e *ChecksumError) Error() string {
	var b strings.Builder
	switch {
	case !e.DB:
		// cmd/go/internal/modfetch.haveModSumLocked, which names the file
		// by its base name.
		fmt.Fprintf(&b, "verifying %s@%s: checksum mismatch\n\tdownloaded: %s\n\t%s:     %s",
			e.Path, e.version(), e.Downloaded, goSumLabel(e.Source), e.Expected)
		b.WriteString(goSumMismatch)
	case e.Err != nil:
		fmt.Fprintf(&b, "%s@%s: verifying %s: checksum database %s: %v", e.Path, e.Version, e.Kind, e.Source, e.Err)
		b.WriteString(sumdbUnauthenticated)
	case e.Expected == "":
		// cmd/go/internal/modfetch.checkSumDB.
		fmt.Fprintf(&b, "%s@%s: verifying %s: checksum missing from sumdb response", e.Path, e.Version, e.Kind)
		b.WriteString(sumdbAbsent)
	default:
		fmt.Fprintf(&b, "%s@%s: verifying %s: checksum mismatch\n\tdownloaded: %s\n\t%s: %s",
			e.Path, e.Version, e.Kind, e.Downloaded, e.Source, e.Expected)
		b.WriteString(sumdbMismatch)
	}
	b.WriteString("For more information, see 'go help module-auth'.\n")
	if !e.DB {
		fmt.Fprintf(&b, "modkit: expected hash from %s; this is a security error, not a network fault: it is never retried.", e.Source)
	} else {
		b.WriteString("modkit: this is a security error, not a network fault: it is never retried.")
	}
	return b.String()
}

// Unwrap returns Err, the checksum database's failure, if any.
func (e *ChecksumError) Unwrap() error { return e.Err }

// goSumLabel is the name cmd/go prints for the file an expected hash came
// from: "go.sum" or "go.work.sum".
func goSumLabel(source string) string {
	file := source
	if i := strings.LastIndexByte(source, ':'); i > 0 {
		file = source[:i]
	}
	if strings.HasSuffix(file, "go.work.sum") {
		return "go.work.sum"
	}
	return "go.sum"
}

// The go command's explanations (cmd/go/internal/modfetch/fetch.go), without
// the closing pointer to 'go help module-auth', which Error adds.
const (
	goSumMismatch = `

SECURITY ERROR
This download does NOT match an earlier download recorded in go.sum.
The bits may have been replaced on the origin server, or an attacker may
have intercepted the download attempt.

`
	sumdbMismatch = `

SECURITY ERROR
This download does NOT match the one reported by the checksum server.
The bits may have been replaced on the origin server, or an attacker may
have intercepted the download attempt.

`
	sumdbAbsent = `

SECURITY ERROR
This download does NOT match one reported by the checksum server.
The checksum server has provided checksums, but the checksums do
not contain an entry for the download.
The checksum server may be malfunctioning, or an attacker may have
intercepted the checksum request.
The download cannot be verified.

`
	sumdbUnauthenticated = `

SECURITY ERROR
The checksum server's answer could not be authenticated with its key.
The checksum server may be misbehaving, or an attacker may have
intercepted the checksum request.
The download cannot be verified.

`
)

// A sumChecker decides whether a downloaded hash may be used, as
// cmd/go/internal/modfetch.checkModSum does, for one module's downloads.
type sumChecker struct {
	gosum *GoSum     // the caller's go.sum lines; may be nil
	db    ChecksumDB // the module's checksum database decision (Route.ChecksumDB)
	sumdb sumLookup  // the database client, a *SumDB; used only if db.Verify
}

// sumLookup is what a sumChecker needs of a [SumDB].
type sumLookup interface {
	Name() string
	Lookup(ctx context.Context, path, version string) ([]string, error)
}

// check accepts h for mod (whose version ends in "/go.mod" for a go.mod
// hash): if go.sum lists h, yes; if go.sum has another h1: hash, a
// [*ChecksumError]; otherwise, if the checksum database is to be consulted,
// its answer decides; otherwise yes.
func (c *sumChecker) check(ctx context.Context, mod module.Version, h string) error {
	kind, version := "module", mod.Version
	if v, ok := strings.CutSuffix(mod.Version, "/go.mod"); ok {
		kind, version = "go.mod", v
	}
	// cmd/go/internal/modfetch.haveModSumLocked: the first conflicting h1:
	// line is a mismatch even if a later line matches.
	for _, l := range c.gosum.Lookup(mod.Path, mod.Version) {
		if l.Hash == h {
			return nil
		}
		if strings.HasPrefix(l.Hash, "h1:") {
			return &ChecksumError{Path: mod.Path, Version: version, Kind: kind, Downloaded: h, Expected: l.Hash, Source: l.Where()}
		}
	}
	if !c.db.Verify {
		return nil
	}
	if c.db.Err != nil {
		return module.VersionError(module.Version{Path: mod.Path, Version: version}, fmt.Errorf("verifying %s: %w", kind, c.db.Err))
	}
	if c.sumdb == nil {
		return module.VersionError(module.Version{Path: mod.Path, Version: version}, fmt.Errorf("verifying %s: no client for checksum database %s", kind, c.db.Name))
	}
	lines, err := c.sumdb.Lookup(ctx, mod.Path, mod.Version)
	if err != nil {
		var ce *ChecksumError
		if errors.As(err, &ce) {
			ce.Path, ce.Version, ce.Kind, ce.Downloaded = mod.Path, version, kind, h
			return ce
		}
		return module.VersionError(module.Version{Path: mod.Path, Version: version}, fmt.Errorf("verifying %s: %w", kind, err))
	}
	// cmd/go/internal/modfetch.checkSumDB.
	have := mod.Path + " " + mod.Version + " " + h
	prefix := mod.Path + " " + mod.Version + " h1:"
	for _, line := range lines {
		if line == have {
			return nil
		}
		if strings.HasPrefix(line, prefix) {
			return &ChecksumError{Path: mod.Path, Version: version, Kind: kind, Downloaded: h,
				Expected: line[len(prefix)-len("h1:"):], Source: c.sumdb.Name(), DB: true}
		}
	}
	return &ChecksumError{Path: mod.Path, Version: version, Kind: kind, Downloaded: h, Source: c.sumdb.Name(), DB: true}
}

// checkGoMod checks a go.mod file's content for mod
// (cmd/go/internal/modfetch.checkGoMod).
func (c *sumChecker) checkGoMod(ctx context.Context, mod module.Version, data []byte) error {
	h, err := HashGoMod(data)
	if err != nil {
		return module.VersionError(mod, fmt.Errorf("verifying go.mod: %w", err))
	}
	return c.check(ctx, module.Version{Path: mod.Path, Version: mod.Version + "/go.mod"}, h)
}

// verifyZip returns the VerifyFunc that [Cache.DownloadZip] needs for mod.
func (c *sumChecker) verifyZip(mod module.Version) VerifyFunc {
	return func(ctx context.Context, h string) error { return c.check(ctx, mod, h) }
}
