package modnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	pathpkg "path"
	"path/filepath"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/note"

	"github.com/modkit/modkit/internal/web"
)

// A SourceKind is the kind of one GOPROXY entry.
type SourceKind string

const (
	// KindProxy is a module proxy reached over https, http or file.
	KindProxy SourceKind = "proxy"
	// KindDirect fetches from the module's version control repository.
	// It ends the list: entries after it are never used.
	KindDirect SourceKind = "direct"
	// KindOff disallows downloading. It ends the list.
	KindOff SourceKind = "off"
)

// A Fallback says when the go command moves on from a proxy to the next
// source in the list.
type Fallback string

const (
	// FallbackNotFound moves on only when the proxy answers "not found"
	// (HTTP 404 or 410, or a missing file): the entry was followed by ','.
	// Any other failure ends the walk. This keeps private module paths from
	// leaking to later proxies when an earlier one fails.
	FallbackNotFound Fallback = "notfound"
	// FallbackAny moves on after any error: the entry was followed by '|'.
	FallbackAny Fallback = "any"
)

// A Source is one place the go command may fetch a module from.
type Source struct {
	Kind SourceKind `json:"kind"`
	// URL is the proxy's base URL, normalised as the go command normalises
	// it: "https://" is prepended to a bare host[:port][/path]; a query is
	// kept and sent with every request. Empty for direct and off.
	URL string `json:"url,omitempty"`
	// Fallback is when the next source is tried; empty for direct and off,
	// which end the list.
	Fallback Fallback `json:"fallback,omitempty"`
	// Entry is the GOPROXY entry as written, before normalisation.
	Entry string `json:"-"`
}

// Redacted returns the source for messages: the URL with its user
// information (user name and password) replaced by "xxxxx", or the kind
// for direct and off.
func (s Source) Redacted() string {
	if s.Kind != KindProxy {
		return string(s.Kind)
	}
	return web.Redact(s.URL)
}

// MarshalJSON encodes the source with its URL redacted as by Redacted:
// JSON is output, and credentials never show in output.
func (s Source) MarshalJSON() ([]byte, error) {
	type plain Source
	p := plain(s)
	p.URL = web.Redact(p.URL)
	return json.Marshal(p)
}

// ListURL returns the URL of the module's version list, <base>/<module>/@v/list.
func (s Source) ListURL(modulePath string) (string, error) {
	return s.fileURL(modulePath, "@v/list")
}

// LatestURL returns the URL of the module's latest-version query,
// <base>/<module>/@latest.
func (s Source) LatestURL(modulePath string) (string, error) {
	return s.fileURL(modulePath, "@latest")
}

// InfoURL returns the URL of a version's metadata, <base>/<module>/@v/<version>.info.
func (s Source) InfoURL(modulePath, version string) (string, error) {
	return s.versionURL(modulePath, version, ".info")
}

// ModURL returns the URL of a version's go.mod file, <base>/<module>/@v/<version>.mod.
func (s Source) ModURL(modulePath, version string) (string, error) {
	return s.versionURL(modulePath, version, ".mod")
}

// ZipURL returns the URL of a version's module zip, <base>/<module>/@v/<version>.zip.
func (s Source) ZipURL(modulePath, version string) (string, error) {
	return s.versionURL(modulePath, version, ".zip")
}

func (s Source) versionURL(modulePath, version, ext string) (string, error) {
	enc, err := module.EscapeVersion(version)
	if err != nil {
		return "", &module.ModuleError{Path: modulePath, Version: version, Err: err}
	}
	return s.fileURL(modulePath, "@v/"+enc+ext)
}

// fileURL joins base, escaped module path and file as
// cmd/go/internal/modfetch.newProxyRepo and proxyRepo.getBody do, keeping
// the base URL's query.
func (s Source) fileURL(modulePath, file string) (string, error) {
	if s.Kind != KindProxy {
		return "", fmt.Errorf("%s source has no URL", s.Kind)
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return "", err
	}
	enc, err := module.EscapePath(modulePath)
	if err != nil {
		return "", err
	}
	u.Path = pathpkg.Join(strings.TrimSuffix(u.Path, "/")+"/"+enc, file)
	u.RawPath = pathpkg.Join(strings.TrimSuffix(u.RawPath, "/")+"/"+pathEscape(enc), pathEscape(file))
	return u.String(), nil
}

// pathEscape escapes s for a URL path but leaves '/' alone, as the proxy
// protocol's paths need.
func pathEscape(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), "%2F", "/")
}

// Walk calls try with each source in turn, as the go command walks a
// GOPROXY list (cmd/go/internal/modfetch.TryProxies): it returns nil at the
// first success; it moves on after a not-found failure (one matching
// fs.ErrNotExist) or, from a '|' entry, after any failure; it stops after
// direct and off, which end a list, and when ctx is done. Otherwise it
// returns a *WalkError with the failure the go command reports — direct's,
// else the last proxy failure other than not-found, else the last
// not-found — and every source's own. Client downloads, the checksum
// database's proxy search and the doctor's probes all walk with it.
func Walk(ctx context.Context, sources []Source, try func(Source) error) error {
	// The ranks of cmd/go's TryProxies: "direct" (and "noproxy", which
	// modkit folds into the route) errors are best, followed by proxy
	// errors other than not-found, followed by not-found.
	const (
		notExistRank = iota
		proxyRank
		directRank
	)
	we := &WalkError{}
	rank := notExistRank
	for _, src := range sources {
		err := ctx.Err()
		if err == nil {
			if err = try(src); err == nil {
				return nil
			}
		}
		se := SourceError{Source: src.Redacted(), Err: err}
		we.Tried = append(we.Tried, se)
		notExist := errors.Is(err, fs.ErrNotExist)
		switch {
		case src.Kind == KindDirect:
			we.SourceError, rank = se, directRank
		case rank <= proxyRank && !notExist:
			we.SourceError, rank = se, proxyRank
		case rank == notExistRank:
			we.SourceError = se
		}
		if ctx.Err() != nil || (src.Fallback != FallbackAny && !notExist) || src.Kind != KindProxy {
			break
		}
	}
	if we.Err == nil {
		return errors.New("empty source list")
	}
	return we
}

// A SourceError is one source's failure within a [Walk].
type SourceError struct {
	Source string // redacted proxy URL, "direct" or "off"
	Err    error
}

// A WalkError is a failed [Walk]: the failure the go command reports, and
// every source's own.
type WalkError struct {
	SourceError               // the failure reported
	Tried       []SourceError // every source tried, in order
}

func (e *WalkError) Error() string { return e.Err.Error() }
func (e *WalkError) Unwrap() error { return e.Err }

// A ChecksumDB describes whether and how the checksum database is consulted
// for one module.
type ChecksumDB struct {
	// Verify reports whether downloads of the module are checked against the
	// checksum database when go.sum has no line for them: GOSUMDB is not "off"
	// and GONOSUMDB (default: GOPRIVATE) does not match the module path.
	Verify bool `json:"verify"`
	// Name is the database's name, such as "sum.golang.org".
	Name string `json:"name,omitempty"`
	// Key is the database's note verifier key.
	Key string `json:"-"`
	// URL is where the database is reached when no proxy in GOPROXY offers
	// to proxy it: the URL given in GOSUMDB, else "https://" + Name.
	URL string `json:"url,omitempty"`
	// Explicit reports that GOSUMDB named the URL; then proxies are bypassed.
	Explicit bool `json:"-"`
	// Reason says why Verify is false, naming the setting responsible.
	Reason string `json:"reason,omitempty"`
	// Err reports a malformed GOSUMDB when Verify is true: the go command
	// fails every lookup, so modules missing from go.sum cannot be verified.
	Err error `json:"-"`
}

// MarshalJSON encodes the decision with the URL's user information
// redacted, as Source's.
func (db ChecksumDB) MarshalJSON() ([]byte, error) {
	type plain ChecksumDB
	p := plain(db)
	p.URL = web.Redact(p.URL)
	return json.Marshal(p)
}

// A Route is the answer to "where would the go command fetch this module
// from?": the sources it tries in order and the checksum database decision.
type Route struct {
	// Module is the module path the route is for.
	Module string `json:"module"`
	// Sources are tried in order. When GONOPROXY (default: GOPRIVATE)
	// matches the module path, the only source is direct, whatever GOPROXY
	// says, even "off".
	Sources []Source `json:"sources"`
	// ChecksumDB is the checksum database decision.
	ChecksumDB ChecksumDB `json:"checksumDB"`
	// NoProxy reports that GONOPROXY (default: GOPRIVATE) matches the path.
	NoProxy bool `json:"noproxy"`
	// Insecure reports that GOINSECURE matches the path: a direct fetch may
	// use plain http and skip certificate checks. It never affects proxies.
	Insecure bool `json:"insecure"`
	// Private reports that GOPRIVATE matches the path, which selects the
	// "private" rules of GOVCS.
	Private bool `json:"private"`
}

// A SettingError reports a malformed setting: the variable, where its value
// came from, the bad entry, what the go command makes of it and the fix.
type SettingError struct {
	Value Value  // the setting, with its origin
	Entry string // the offending entry within it
	Err   error  // the problem, in the go command's terms
	Fix   string // what to do, such as a 'go env -w' line
}

func (e *SettingError) Error() string {
	var b strings.Builder
	b.WriteString(e.Value.Name)
	if e.Entry != "" && e.Entry != e.Value.Value {
		fmt.Fprintf(&b, " entry %q", web.RedactList(e.Entry))
	} else {
		fmt.Fprintf(&b, "=%q", web.RedactList(e.Value.Value))
	}
	if e.Value.Layer != LayerUnset {
		fmt.Fprintf(&b, " (from %s)", e.Value.Where())
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	if e.Fix != "" {
		fmt.Fprintf(&b, "; %s", e.Fix)
	}
	return b.String()
}

func (e *SettingError) Unwrap() error { return e.Err }

// ErrEmptyProxyList is the go command's complaint about a GOPROXY setting
// with no usable entries, wrapped in a [SettingError].
var ErrEmptyProxyList = errors.New("GOPROXY list is not the empty string, but contains no entries")

// ProxyList parses GOPROXY into sources as
// cmd/go/internal/modfetch.proxyList does: entries are separated by ',' (fall
// back only on not-found) or '|' (fall back on any error), trimmed, empty
// ones skipped; "direct" and "off" end the list and later entries are never
// read, so they are not checked either. The result does not consider
// GONOPROXY; see [Env.Route].
func (e *Env) ProxyList() ([]Source, error) {
	e.proxyOnce.Do(func() { e.proxies, e.proxyErr = parseProxyList(e.Lookup("GOPROXY")) })
	return e.proxies, e.proxyErr
}

func parseProxyList(v Value) ([]Source, error) {
	var list []Source
	rest := v.Value
	for rest != "" {
		entry, fallback := rest, FallbackNotFound
		if i := strings.IndexAny(rest, ",|"); i >= 0 {
			entry = rest[:i]
			if rest[i] == '|' {
				fallback = FallbackAny
			}
			rest = rest[i+1:]
		} else {
			rest = ""
		}
		entry = strings.TrimSpace(entry)
		switch entry {
		case "":
			continue
		case "off", "direct":
			return append(list, Source{Kind: SourceKind(entry), Entry: entry}), nil
		}
		u, err := normaliseProxyURL(entry)
		if err != nil {
			return nil, &SettingError{Value: v, Entry: entry, Err: err, Fix: proxyFix(entry, err)}
		}
		list = append(list, Source{Kind: KindProxy, URL: u, Fallback: fallback, Entry: entry})
	}
	if len(list) == 0 {
		return nil, &SettingError{Value: v, Err: ErrEmptyProxyList,
			Fix: "set a list such as GOPROXY=https://proxy.example.com,direct, or GOPROXY=off to disallow downloads"}
	}
	return list, nil
}

// normaliseProxyURL applies the go command's rules: single words are
// reserved, anything containing ":/" or an absolute file path must be a
// complete URL, and other entries with '.', ':' or '/' get "https://".
// It then checks the URL as newProxyRepo does.
func normaliseProxyURL(entry string) (string, error) {
	raw := entry
	if strings.ContainsAny(raw, ".:/") && !strings.Contains(raw, ":/") && !filepath.IsAbs(raw) && !pathpkg.IsAbs(raw) {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = web.Redact(ue.URL)
		}
		return "", err
	}
	switch u.Scheme {
	case "http", "https":
	case "file":
		if *u != (url.URL{Scheme: u.Scheme, Path: u.Path, RawPath: u.RawPath}) {
			return "", fmt.Errorf("invalid file:// proxy URL with non-path elements: %s", web.RedactURL(u))
		}
	case "":
		return "", fmt.Errorf("invalid proxy URL missing scheme: %s", web.RedactURL(u))
	default:
		return "", fmt.Errorf("invalid proxy URL scheme (must be https, http, file): %s", web.RedactURL(u))
	}
	return raw, nil
}

func proxyFix(entry string, err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "missing scheme") && (filepath.IsAbs(entry) || pathpkg.IsAbs(entry)):
		return fmt.Sprintf("a directory needs a file URL, such as file://%s", filepath.ToSlash(entry))
	case strings.Contains(msg, "missing scheme"):
		return fmt.Sprintf("write a full URL such as https://%s (single words are reserved for direct and off)", entry)
	case strings.Contains(msg, "non-path elements"):
		return "a file:// proxy names a local directory: use file:///abs/path (three slashes, no host, query or fragment)"
	case strings.Contains(msg, "scheme"):
		return "use an https://, http:// or file:// URL"
	}
	return "fix the URL's syntax (percent-escapes, brackets around IPv6 hosts)"
}

// Route returns the sources the go command would try for modulePath, in
// order, with the checksum database decision and the GOINSECURE, GOPRIVATE
// and GONOPROXY matches (cmd/go/internal/modfetch: proxyList, TryProxies,
// lookup; sumdb.go: useSumDB, dbDial).
//
// A malformed GOPROXY is an error for every module, as in the go command. A
// malformed GOSUMDB is reported in ChecksumDB.Err, and only for modules that
// need the checksum database: modules already in go.sum still download.
func (e *Env) Route(modulePath string) (*Route, error) {
	if _, err := module.EscapePath(modulePath); err != nil {
		return nil, err
	}
	list, err := e.ProxyList()
	if err != nil {
		return nil, err
	}
	r := &Route{
		Module:   modulePath,
		NoProxy:  module.MatchPrefixPatterns(e.Get("GONOPROXY"), modulePath),
		Insecure: module.MatchPrefixPatterns(e.Get("GOINSECURE"), modulePath),
		Private:  module.MatchPrefixPatterns(e.Get("GOPRIVATE"), modulePath),
	}
	if r.NoProxy {
		// cmd/go puts an implicit "noproxy" entry first whenever GONOPROXY is
		// set; for a matching path it goes direct and every later proxy
		// refuses, so the path never reaches a proxy, even with GOPROXY=off.
		r.Sources = []Source{{Kind: KindDirect}}
	} else {
		r.Sources = list
	}
	r.ChecksumDB = e.checksumDB(modulePath)
	return r, nil
}

// knownSumDBKeys maps well-known checksum database names to their verifier
// keys, as cmd/go/internal/modfetch's knownGOSUMDB does.
var knownSumDBKeys = map[string]string{
	"sum.golang.org": "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
}

// KnownKey returns the published verifier key of db's database, as the go
// command knows it, and whether db's name is a well-known database's.
func (db ChecksumDB) KnownKey() (key string, ok bool) {
	key, ok = knownSumDBKeys[db.Name]
	return key, ok
}

// sumDBAliases are other names for known databases, reached at another URL
// (cmd/go/internal/modfetch.dbDial).
var sumDBAliases = map[string]string{
	"sum.golang.google.cn": "sum.golang.org https://sum.golang.google.cn",
}

func (e *Env) checksumDB(modulePath string) ChecksumDB {
	v := e.Lookup("GOSUMDB")
	if modulePath == ToolchainModule && e.toolchainNeedsSumDB() {
		// cmd/go/internal/modfetch.useSumDB: go.sum cannot list toolchains,
		// so they are always checked, GOSUMDB=off and GONOSUMDB
		// notwithstanding; with GOSUMDB=off every check fails.
		if v.Value == "off" {
			return ChecksumDB{Verify: true, Err: fmt.Errorf("checksum database disabled by GOSUMDB=off (from %s); toolchain downloads are always verified", v.Where())}
		}
		db, err := ParseGOSUMDB(v)
		db.Verify, db.Err = true, err
		return db
	}
	if v.Value == "off" {
		return ChecksumDB{Reason: fmt.Sprintf("GOSUMDB=off (from %s)", v.Where())}
	}
	if nosum := e.Lookup("GONOSUMDB"); module.MatchPrefixPatterns(nosum.Value, modulePath) {
		if nosum.DerivedFrom != "" {
			p := e.Lookup(nosum.DerivedFrom)
			return ChecksumDB{Reason: fmt.Sprintf("%s=%s matches (from %s; GONOSUMDB defaults to it)", p.Name, p.Value, p.Where())}
		}
		return ChecksumDB{Reason: fmt.Sprintf("GONOSUMDB=%s matches (from %s)", nosum.Value, nosum.Where())}
	}
	db, err := ParseGOSUMDB(v)
	db.Verify, db.Err = true, err
	return db
}

// ParseGOSUMDB parses a GOSUMDB setting as cmd/go/internal/modfetch.dbDial
// does: "name" for a known database, "key" (a note verifier key), or
// "name|key url" to reach the database at url, bypassing proxies.
// "off" yields a zero ChecksumDB.
func ParseGOSUMDB(v Value) (ChecksumDB, error) {
	s := v.Value
	if alias, ok := sumDBAliases[s]; ok {
		s = alias
	}
	if s == "off" {
		return ChecksumDB{}, nil
	}
	bad := func(err error, fix string) (ChecksumDB, error) {
		return ChecksumDB{}, &SettingError{Value: v, Err: err, Fix: fix}
	}
	f := strings.Fields(s)
	if len(f) == 0 {
		return bad(errors.New("missing GOSUMDB"), "restore the default with 'go env -u GOSUMDB', or set GOSUMDB=off to disable checksum verification")
	}
	if len(f) > 2 {
		return bad(errors.New("invalid GOSUMDB: too many fields"), `use "name", "key" or "key url"`)
	}
	key := f[0]
	if k, ok := knownSumDBKeys[key]; ok {
		key = k
	}
	verifier, err := note.NewVerifier(key)
	if err != nil {
		return bad(fmt.Errorf("invalid GOSUMDB: %v", err), "give a known database name or its full verifier key (name+hash+key)")
	}
	db := ChecksumDB{Name: verifier.Name(), Key: key}
	direct, err := url.Parse("https://" + db.Name)
	if err != nil || strings.HasSuffix(db.Name, "/") || direct.Host == "" || direct.RawPath != "" ||
		*direct != (url.URL{Scheme: "https", Host: direct.Host, Path: direct.Path}) {
		return bad(fmt.Errorf("invalid sumdb name (must be host[/path]): %s", db.Name), "the name inside the verifier key must be a host name with an optional path")
	}
	db.URL = direct.String()
	if len(f) == 2 {
		u, err := url.Parse(f[1])
		if err != nil {
			return bad(fmt.Errorf("invalid GOSUMDB URL: %v", err), "the second field must be the database's URL, such as https://sum.example.com")
		}
		db.URL, db.Explicit = u.String(), true
	}
	return db, nil
}

// toolchainNeedsSumDB reports whether toolchain downloads must be checked
// against the checksum database (modfetch.useSumDB's exceptions aside):
// not when GOPROXY is a single file:// URL, where a distribution is being
// tested, nor when the go command runs for the module mirror named in
// $GOROOT/go.env, which cannot check itself (GIT_HTTP_USER_AGENT names it).
func (e *Env) toolchainNeedsSumDB() bool {
	if p := e.Get("GOPROXY"); strings.HasPrefix(p, "file://") && !strings.ContainsAny(p, ",|") {
		return false
	}
	if def, ok := e.goroot.last("GOPROXY"); ok {
		first, _, _ := strings.Cut(def.Value, ",")
		if u, err := url.Parse(strings.TrimSpace(first)); err == nil && u.Host != "" && strings.Contains(e.OS("GIT_HTTP_USER_AGENT"), u.Host) {
			return false
		}
	}
	return true
}
