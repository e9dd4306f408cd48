package modnettest

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/module"
)

// A FileKind names what a request asks for in the GOPROXY protocol.
type FileKind string

// The kinds of file a module proxy serves, plus checksum database requests.
const (
	KindList   FileKind = "list"   // <module>/@v/list
	KindInfo   FileKind = "info"   // <module>/@v/<version>.info
	KindMod    FileKind = "mod"    // <module>/@v/<version>.mod
	KindZip    FileKind = "zip"    // <module>/@v/<version>.zip
	KindLatest FileKind = "latest" // <module>/@latest
	// KindSumDB is any request under /sumdb/<name>/: supported, lookup,
	// latest and tile requests, proxied or direct.
	KindSumDB FileKind = "sumdb"
)

// target is what a request path asks for.
type target struct {
	kind    FileKind
	module  string // unescaped module path; for sumdb, set only by lookups
	version string // unescaped version of .info/.mod/.zip and sumdb lookups
	// db and dbPath split a checksum database request
	// /sumdb/<db><dbPath>, dbPath being /supported, /latest, /lookup/... or
	// /tile/....
	db, dbPath string
}

var errBadPath = errors.New("not a module proxy request")

// parseTarget parses the (unescaped-by-net/http, still case-escaped) URL path
// of a request to a module proxy. Module paths and versions use the
// case-encoding of module.EscapePath and module.EscapeVersion, which the go
// command's proxyRepo applies to every request (modfetch/proxy.go).
func parseTarget(p string) (target, error) {
	if !strings.HasPrefix(p, "/") {
		return target{}, errBadPath
	}
	p = p[1:]
	if rest, ok := strings.CutPrefix(p, "sumdb/"); ok {
		return parseSumDBTarget(rest)
	}
	if esc, ok := strings.CutSuffix(p, "/@latest"); ok {
		mod, err := module.UnescapePath(esc)
		if err != nil {
			return target{}, err
		}
		return target{kind: KindLatest, module: mod}, nil
	}
	esc, file, ok := strings.Cut(p, "/@v/")
	if !ok {
		return target{}, errBadPath
	}
	mod, err := module.UnescapePath(esc)
	if err != nil {
		return target{}, err
	}
	if file == "list" {
		return target{kind: KindList, module: mod}, nil
	}
	i := strings.LastIndex(file, ".")
	if i < 0 {
		return target{}, errBadPath
	}
	var kind FileKind
	switch file[i:] {
	case ".info":
		kind = KindInfo
	case ".mod":
		kind = KindMod
	case ".zip":
		kind = KindZip
	default:
		return target{}, errBadPath
	}
	if file[:i] == "" {
		return target{}, fmt.Errorf("empty version in %q", p)
	}
	vers, err := module.UnescapeVersion(file[:i])
	if err != nil {
		return target{}, err
	}
	return target{kind: kind, module: mod, version: vers}, nil
}

// parseSumDBTarget parses what follows /sumdb/. A database name may itself
// contain slashes ("host/path"), so the name ends where a known endpoint of
// the checksum database protocol begins.
func parseSumDBTarget(rest string) (target, error) {
	t := target{kind: KindSumDB}
	switch {
	case strings.HasSuffix(rest, "/supported"):
		t.db, t.dbPath = rest[:len(rest)-len("/supported")], "/supported"
	case strings.HasSuffix(rest, "/latest"):
		t.db, t.dbPath = rest[:len(rest)-len("/latest")], "/latest"
	case strings.Contains(rest, "/lookup/"):
		i := strings.Index(rest, "/lookup/")
		t.db, t.dbPath = rest[:i], rest[i:]
		escPath, escVers, ok := strings.Cut(strings.TrimPrefix(t.dbPath, "/lookup/"), "@")
		if !ok {
			return target{}, errBadPath
		}
		var err error
		if t.module, err = module.UnescapePath(escPath); err != nil {
			return target{}, err
		}
		if t.version, err = module.UnescapeVersion(escVers); err != nil {
			return target{}, err
		}
	case strings.Contains(rest, "/tile/"):
		i := strings.Index(rest, "/tile/")
		t.db, t.dbPath = rest[:i], rest[i:]
	default:
		return target{}, errBadPath
	}
	if t.db == "" {
		return target{}, errBadPath
	}
	return t, nil
}
