package envcheck

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path"
	"sort"
	"strings"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/modnet"
)

// patternVars are the comma-separated path-pattern lists
// (golang.org/x/mod/module.MatchPrefixPatterns).
var patternVars = []string{"GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GOINSECURE"}

// checkPrivatePatterns finds patterns that can never match a module path.
// MatchPrefixPatterns trims one trailing slash and nothing else: a space,
// a scheme, a port or a ';' inside a pattern makes it dead, and the module
// it was meant for silently goes to the public proxy and checksum database.
func checkPrivatePatterns(ctx context.Context, r *runner) Result {
	var f findings
	any := false
	for _, name := range patternVars {
		v := r.env.Lookup(name)
		if v.Value == "" || v.DerivedFrom != "" {
			continue
		}
		any = true
		f.note("%s", origin(v))
		var cleaned []string
		first := len(f.list)
		for _, p := range strings.Split(v.Value, ",") {
			fixed, problem := cleanPattern(p)
			if problem != "" {
				f.add(StatusWarn, "", "%s pattern %q %s", name, p, problem)
			}
			cleaned = append(cleaned, fixed...)
		}
		if len(f.list) > first {
			f.list[first].fix = setFix(r.env, name, strings.Join(cleaned, ","))
			if len(cleaned) == 0 {
				f.list[first].fix = unsetFix(v)
			}
		}
		if name == "GOPRIVATE" && strings.TrimSpace(v.Value) == "*" {
			f.add(StatusInfo, "", "GOPRIVATE=*: every module is private, so none is fetched through a proxy or checked against the checksum database")
		}
	}
	// An explicit GONOPROXY or GONOSUMDB replaces GOPRIVATE rather than adding to it.
	if priv := r.env.Get("GOPRIVATE"); priv != "" {
		for _, name := range []string{"GONOPROXY", "GONOSUMDB"} {
			v := r.env.Lookup(name)
			if v.DerivedFrom != "" {
				continue
			}
			var missed []string
			for _, p := range splitPatterns(priv) {
				if !module.MatchPrefixPatterns(v.Value, samplePath(p)) {
					missed = append(missed, p)
				}
			}
			if len(missed) == 0 {
				continue
			}
			effect := "they are sent to GOPROXY"
			if name == "GONOSUMDB" {
				effect = "they are looked up in the checksum database"
			}
			f.add(StatusWarn, setFix(r.env, name, strings.Join(append(splitPatterns(v.Value), missed...), ",")),
				"%s is set (from %s), which replaces the GOPRIVATE default instead of adding to it: GOPRIVATE patterns %s are not in %s, so %s",
				name, v.Where(), strings.Join(missed, ", "), name, effect)
		}
	}
	if !any {
		return Result{Status: StatusOK, Summary: "no GOPRIVATE, GONOPROXY, GONOSUMDB or GOINSECURE patterns"}
	}
	return f.result("every pattern is well-formed")
}

// cleanPattern returns what a pattern was probably meant to be and, if it
// can never match as written, why.
func cleanPattern(p string) (fixed []string, problem string) {
	if p == "" {
		return nil, ""
	}
	var problems []string
	s := p
	if strings.Contains(s, ";") {
		problems = append(problems, "contains ';' (patterns are separated by ',')")
	}
	if strings.TrimSpace(s) != s || strings.ContainsAny(strings.TrimSpace(s), " \t") {
		problems = append(problems, "contains spaces, which are part of the pattern")
	}
	var parts []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ' ' || r == '\t' }) {
		if i := strings.Index(w, "://"); i >= 0 {
			problems = append(problems, "has a URL scheme ("+w[:i+3]+"); module paths have none")
			w = w[i+3:]
		}
		host, rest, _ := strings.Cut(w, "/")
		if h, port, err := net.SplitHostPort(host); err == nil && port != "" {
			problems = append(problems, "has a port (:"+port+"); module paths have none")
			host = h
		}
		if strings.HasPrefix(host, ".") {
			problems = append(problems, "starts with '.' (NO_PROXY style); use *"+host+" for subdomains")
			host = "*" + host
		}
		w = host
		if rest != "" {
			w += "/" + rest
		}
		if strings.HasSuffix(w, "//") {
			problems = append(problems, "ends in '//'; only one trailing slash is ignored")
			w = strings.TrimRight(w, "/")
		}
		if _, err := path.Match(strings.TrimSuffix(w, "/"), ""); err != nil {
			problems = append(problems, "is not a valid glob ("+err.Error()+")")
		}
		if w != "" {
			parts = append(parts, w)
		}
	}
	if len(problems) == 0 {
		return []string{p}, ""
	}
	return parts, strings.Join(dedupStrings(problems), "; ") + ": it never matches"
}

func dedupStrings(list []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// splitPatterns returns the non-empty patterns of a list, as
// MatchPrefixPatterns iterates them.
func splitPatterns(list string) []string {
	var out []string
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSuffix(p, "/"); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// samplePath returns a module path that pattern p matches, so that one
// list can be tested for covering another list's pattern: wildcards
// become "x", a character class its first member.
func samplePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*', '?':
			b.WriteByte('x')
		case '\\':
			if i+1 < len(p) {
				i++
				b.WriteByte(p[i])
			}
		case '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				b.WriteString(p[i:])
				return b.String()
			}
			class := p[i+1 : i+end]
			i += end
			if strings.HasPrefix(class, "^") {
				// Any character the class does not name; ranges are rare here.
				for _, r := range "xqz0_" {
					if !strings.ContainsRune(class, r) {
						b.WriteRune(r)
						break
					}
				}
			} else if first := strings.TrimPrefix(class, "\\"); first != "" {
				b.WriteByte(first[0])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// publicHosts are module hosts known to be public; requirements on them
// are never flagged.
var publicHosts = setOf(`github.com gitlab.com bitbucket.org golang.org google.golang.org
	cloud.google.com gopkg.in go.uber.org go.opentelemetry.io go.opencensus.io k8s.io sigs.k8s.io
	honnef.co mvdan.cc gotest.tools go.etcd.io gonum.org filippo.io rsc.io go.googlesource.com
	gitea.com codeberg.org git.sr.ht launchpad.net go.mongodb.org cuelang.org cel.dev buf.build
	connectrpc.com tailscale.com modernc.org golang.zx2c4.com gvisor.dev helm.sh oras.land
	istio.io knative.dev go4.org inet.af nhooyr.io dario.cat go.step.sm lukechampine.com
	gopkg.in go.starlark.net go.yaml.in howett.net code.gitea.io go.elastic.co go.temporal.io
	storj.io tags.cncf.io gocloud.dev go.bug.st`)

// internalSuffixes are top-level domains reserved or habitually used for
// private networks: hosts under them cannot be on a public proxy.
var internalSuffixes = []string{".corp", ".internal", ".local", ".lan", ".intranet", ".private",
	".home", ".localdomain", ".home.arpa", ".intra", ".localhost", ".test", ".example", ".invalid"}

// hostKind classifies a module path's first element: "public" (known),
// "private" (an internal domain, an IP address, a port, localhost),
// "unknown", or "" for a first element without a dot, which the go command
// cannot fetch anyway.
func hostKind(host string) string {
	h := strings.ToLower(host)
	if publicHosts[h] {
		return "public"
	}
	for pub := range publicHosts {
		if strings.HasSuffix(h, "."+pub) {
			return "public"
		}
	}
	if _, _, err := net.SplitHostPort(h); err == nil {
		return "private" // a port: only private servers are reached that way
	}
	if net.ParseIP(strings.Trim(h, "[]")) != nil || h == "localhost" {
		return "private"
	}
	if !strings.Contains(h, ".") {
		return "" // not a fetchable path at all (the go command wants a dot); not this check's business
	}
	for _, s := range internalSuffixes {
		if strings.HasSuffix(h, s) {
			return "private"
		}
	}
	return "unknown"
}

// checkPrivateCoverage looks at go.mod's requirements (and replacement
// modules) on hosts that look private: unless GONOSUMDB (default
// GOPRIVATE) covers them, the checksum database is asked about them and
// fails; unless GONOPROXY covers them, their paths go to GOPROXY.
func checkPrivateCoverage(ctx context.Context, r *runner) Result {
	mod, err := r.gomod()
	if err != nil {
		return Result{Status: StatusWarn, Summary: fmt.Sprintf("cannot read go.mod: %v", err)}
	}
	if mod == nil {
		return skip("no go.mod in the current directory or above it")
	}
	type hostInfo struct {
		kind           string
		mods           []string
		noSum, noProxy bool // some module on the host is not covered
		summed         bool // every uncovered module has go.sum lines
	}
	hosts := map[string]*hostInfo{}
	paths := downloadedPaths(mod)
	for _, p := range paths {
		host, _, _ := strings.Cut(p, "/")
		kind := hostKind(host)
		if kind == "public" || kind == "" {
			continue
		}
		route, err := r.env.Route(p)
		if err != nil {
			return skip("GOPROXY does not parse (see goproxy.syntax)")
		}
		h := hosts[host]
		if h == nil {
			h = &hostInfo{kind: kind, summed: true}
			hosts[host] = h
		}
		h.mods = append(h.mods, p)
		if route.ChecksumDB.Verify {
			h.noSum = true
			h.summed = h.summed && mod.summed[p]
		}
		if !route.NoProxy && route.Sources[0].Kind == modnet.KindProxy {
			h.noProxy = true
		}
	}
	names := make([]string, 0, len(hosts))
	for h := range hosts {
		names = append(names, h)
	}
	sort.Strings(names)

	var f findings
	var unknown, add []string
	for _, name := range names {
		h := hosts[name]
		sort.Strings(h.mods)
		if !h.noSum && !h.noProxy {
			f.note("%s: covered (%s)", name, strings.Join(h.mods, ", "))
			continue
		}
		if h.kind == "unknown" {
			unknown = append(unknown, name)
			continue
		}
		add = append(add, name)
		mods := strings.Join(h.mods, ", ")
		if h.noSum {
			when := "adding or upgrading them fails"
			if !h.summed {
				when = "downloading them fails now"
			}
			f.add(StatusWarn, "", "%s looks private (%s) but GONOSUMDB/GOPRIVATE does not cover it: the checksum database cannot know private modules, so %s with 'verifying module: ... 404 Not Found'",
				name, mods, when)
		}
		if h.noProxy {
			f.add(StatusWarn, "", "%s looks private (%s) but GONOPROXY/GOPRIVATE does not cover it: its module paths are sent to GOPROXY", name, mods)
		}
	}
	if len(add) > 0 {
		fix := setFix(r.env, "GOPRIVATE", strings.Join(append(splitPatterns(r.env.Get("GOPRIVATE")), add...), ","))
		for i := range f.list {
			f.list[i].fix = fix
		}
	}
	if len(unknown) > 0 {
		f.add(StatusInfo, "# if they are private:\n"+setFix(r.env, "GOPRIVATE", strings.Join(append(splitPatterns(r.env.Get("GOPRIVATE")), unknown...), ",")),
			"requirements on hosts not known to be public and not in GOPRIVATE: %s; fine if they are public", strings.Join(unknown, ", "))
	}
	return f.result(plural(len(paths), "module", "modules") + " required; none on a private-looking host outside GOPRIVATE")
}

// checkGOINSECURE finds GOINSECURE settings that do not do what their
// authors expect: GOINSECURE only relaxes direct (version control and
// go-get) fetches; it never applies to GOPROXY and never disables the
// checksum database (cmd/go/internal/modfetch, web.get's Insecure mode).
func checkGOINSECURE(ctx context.Context, r *runner) Result {
	v := r.env.Lookup("GOINSECURE")
	if v.Value == "" {
		return Result{Status: StatusOK, Summary: "GOINSECURE is empty"}
	}
	var f findings
	f.note("%s", origin(v))
	list, _ := r.env.ProxyList()
	for _, p := range splitPatterns(v.Value) {
		p = strings.TrimSpace(p)
		sample := samplePath(p)
		host, _, _ := strings.Cut(sample, "/")
		if p == "*" || hostKind(host) == "public" {
			fix := unsetFix(v)
			if rest := without(splitPatterns(v.Value), p); len(rest) > 0 {
				fix = setFix(r.env, "GOINSECURE", strings.Join(rest, ","))
			}
			f.add(StatusWarn, fix,
				"GOINSECURE pattern %q turns off HTTPS certificate checks for direct fetches of public modules", p)
			continue
		}
		for _, s := range list {
			if u, err := url.Parse(s.URL); err == nil && s.Kind == modnet.KindProxy && module.MatchPrefixPatterns(p, u.Hostname()) {
				f.add(StatusWarn, "trust the proxy's CA instead (SSL_CERT_FILE or the system trust store), or write its GOPROXY entry as http://"+u.Host+u.Path,
					"GOINSECURE pattern %q matches the proxy %s, but GOINSECURE never applies to GOPROXY: proxies always need valid HTTPS", p, s.Redacted())
			}
		}
		if r.env.Get("GOSUMDB") != "off" && !module.MatchPrefixPatterns(r.env.Get("GONOSUMDB"), sample) {
			f.add(StatusWarn, setFix(r.env, "GOPRIVATE", strings.Join(append(splitPatterns(r.env.Get("GOPRIVATE")), p), ",")),
				"GOINSECURE pattern %q does not disable the checksum database: private modules matching it still fail verification unless GONOSUMDB or GOPRIVATE covers them", p)
		}
		if !module.MatchPrefixPatterns(r.env.Get("GONOPROXY"), sample) && len(list) > 0 && list[0].Kind == modnet.KindProxy {
			f.add(StatusInfo, "", "modules matching GOINSECURE pattern %q are fetched through GOPROXY, where GOINSECURE has no effect; it applies only if GOPROXY fails over to direct or GONOPROXY covers them", p)
		}
	}
	return f.result(fmt.Sprintf("GOINSECURE=%s applies only to direct fetches, as intended", v.Value))
}

func without(list []string, drop string) []string {
	var out []string
	for _, s := range list {
		if strings.TrimSpace(s) != drop {
			out = append(out, s)
		}
	}
	return out
}
