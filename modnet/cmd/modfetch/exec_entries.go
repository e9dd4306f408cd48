package main

import (
	"maps"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modproxy"
)

// The go command falls back from one GOPROXY entry to the next per
// lookup, not per module path: resolving an import path, it asks one
// proxy about every prefix of the path at once and moves on to the next
// entry only when none of them is found there
// (cmd/go/internal/modload.QueryPattern runs queryPrefixModules inside
// modfetch.TryProxies). With GOPROXY=P,direct, a package whose module P
// serves is never looked up direct, even though P answers "not found" for
// the longer prefixes. A single loopback entry walking the list per path
// would send those prefixes direct, each to a VCS (slow, and fatal where
// direct is unreachable, as behind a firewall), and fail the command with
// the first prefix's error.
//
// So the go command gets the user's list back, entry for entry, each one
// on the server: GOPROXY=P,direct becomes
// http://127.0.0.1:N/<secret>/0,http://127.0.0.1:N/<secret>/direct, with
// the same separators. The go command then falls back itself, exactly as
// it would without exec. Each entry answers the lookups that decide the
// fallback (@v/list, @latest and version queries) from its own source
// alone. Module files (.info, .mod and .zip of a version) are the same
// whichever source serves them, and the go command verifies them, so
// every entry serves them through the server's full route, with its store,
// deduplication and read-ahead.

// entryNoProxy names the implicit "noproxy" entry the go command puts
// first when GONOPROXY is set (cmd/go/internal/modfetch.proxyList). The
// others are named by what they are: "direct", "off", or a proxy's
// position in GOPROXY.
const entryNoProxy = "noproxy"

// A proxyEntry is one entry of the go command's proxy list under exec.
type proxyEntry struct {
	name string        // its path segment after the secret prefix
	src  modnet.Source // what it stands for; Kind direct for noproxy
	// queries answers the entry's lookups from src alone; nil for "off",
	// which the go command is given as it is.
	queries *modproxy.Server
	client  *modnet.Client // the queries' client, closed with the proxy
}

// noProxy reports whether e is the implicit "noproxy" entry.
func (e *proxyEntry) noProxy() bool { return e.name == entryNoProxy }

// proxyEntries returns the entries the go command's proxy list has under
// env (cmd/go/internal/modfetch.proxyList): "noproxy" first when GONOPROXY
// is set and GOPROXY is not "direct", then GOPROXY's entries up to
// "direct" or "off".
func proxyEntries(env *modnet.Env) ([]*proxyEntry, error) {
	list, err := env.ProxyList()
	if err != nil {
		return nil, err
	}
	var entries []*proxyEntry
	if env.Get("GONOPROXY") != "" && env.Get("GOPROXY") != "direct" {
		entries = append(entries, &proxyEntry{name: entryNoProxy, src: modnet.Source{Kind: modnet.KindDirect}})
	}
	for i, src := range list {
		name := string(src.Kind)
		if src.Kind == modnet.KindProxy {
			name = strconv.Itoa(i)
		}
		entries = append(entries, &proxyEntry{name: name, src: src})
	}
	return entries, nil
}

// goproxy is the GOPROXY the go command gets: each entry on the server at
// base (scheme, host and secret prefix), "off" as it is, with the user's
// separators.
func goproxy(base string, entries []*proxyEntry) string {
	var b strings.Builder
	for i, e := range entries {
		if i > 0 {
			sep := ","
			if entries[i-1].src.Fallback == modnet.FallbackAny {
				sep = "|"
			}
			b.WriteString(sep)
		}
		if e.src.Kind == modnet.KindOff {
			b.WriteString("off")
			continue
		}
		b.WriteString(base + "/" + e.name)
	}
	return b.String()
}

// entryEnv returns environ changed so that a Client built from it looks
// modules up at src alone: GOPROXY is the one source and GONOPROXY is none,
// since which entry may serve a private path is decided before the
// Client is asked (see refusal).
func entryEnv(environ map[string]string, src modnet.Source) map[string]string {
	m := maps.Clone(environ)
	m["GOPROXY"] = string(src.Kind)
	if src.Kind == modnet.KindProxy {
		m["GOPROXY"] = src.Entry
	}
	m["GONOPROXY"] = "none"
	return m
}

// refusal is what entry e answers for modulePath without asking anyone,
// as cmd/go/internal/modfetch.lookup does: a proxy refuses a path GONOPROXY
// matches, and "noproxy" refuses the others; both are "not found", so the
// go command moves on to its next entry. "" means e serves the path.
func refusal(e *proxyEntry, route *modnet.Route) string {
	switch {
	case e.noProxy() && !route.NoProxy:
		return "path does not match GOPRIVATE/GONOPROXY"
	case e.src.Kind == modnet.KindProxy && route.NoProxy:
		return "disabled by GOPRIVATE/GONOPROXY"
	}
	return ""
}

// ServeHTTP routes a request under the secret prefix to its entry.
func (p *loopbackProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, p.prefix+"/")
	if !ok {
		http.Error(w, "not found", http.StatusNotFound) // as the server answers
		return
	}
	name, rest, _ := strings.Cut(rest, "/")
	e := p.entries[name]
	if e == nil || e.queries == nil {
		http.Error(w, "not found", http.StatusNotFound) // as the server answers
		return
	}
	if modPath, file, ok := splitModuleRequest(rest); ok {
		if route, err := p.env.Route(modPath); err == nil {
			if why := refusal(e, route); why != "" {
				p.stats.answer(modproxy.Answer{Method: r.Method, Path: "/" + rest, Status: http.StatusNotFound})
				http.Error(w, "not found: "+modPath+": "+why, http.StatusNotFound)
				return
			}
		}
		if isLookup(file) {
			e.queries.ServeHTTP(w, r)
			return
		}
	}
	// Module files, the checksum databases and the rest: the server's own
	// paths, under the secret prefix alone.
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path, u.RawPath = p.prefix+"/"+rest, ""
	r2.URL = &u
	p.srv.ServeHTTP(w, r2)
}

// splitModuleRequest splits a GOPROXY protocol path, without its leading
// slash, into the module path and what is asked of it: "@latest", or the
// file name under @v/ ("list", "v1.2.3.info", ...). ok is false for other
// paths (the checksum databases, /healthz) and for a malformed module path,
// which the server answers.
func splitModuleRequest(rest string) (modPath, file string, ok bool) {
	escaped, file := "", ""
	if m, found := strings.CutSuffix(rest, "/@latest"); found {
		escaped, file = m, "@latest"
	} else if i := strings.LastIndex(rest, "/@v/"); i >= 0 {
		escaped, file = rest[:i], rest[i+len("/@v/"):]
	} else {
		return "", "", false
	}
	modPath, err := module.UnescapePath(escaped)
	if err != nil {
		return "", "", false
	}
	return modPath, file, true
}

// isLookup reports whether file (as splitModuleRequest returns it) asks a
// source what it has rather than for a module file: the version list,
// @latest, or the .info of a query such as a branch, a commit or v1.2.
func isLookup(file string) bool {
	if file == "list" || file == "@latest" {
		return true
	}
	v, ok := strings.CutSuffix(file, ".info")
	if !ok {
		return false
	}
	v, err := module.UnescapeVersion(v)
	return err == nil && module.CanonicalVersion(v) != v
}
