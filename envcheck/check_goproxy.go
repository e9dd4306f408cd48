package envcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/modkit/modkit/internal/web"
	"github.com/modkit/modkit/modnet"
)

// rawEntry is one GOPROXY entry as written, before the go command trims
// and normalises it, with the separator that follows it (0 at the end).
type rawEntry struct {
	text string
	sep  byte
}

// splitRawProxyList splits at ',' and '|' exactly as
// cmd/go/internal/modfetch.proxyList does, keeping empty entries and
// spaces so that mistakes can be pointed at.
func splitRawProxyList(s string) []rawEntry {
	var list []rawEntry
	for s != "" {
		i := strings.IndexAny(s, ",|")
		if i < 0 {
			list = append(list, rawEntry{text: s})
			break
		}
		list = append(list, rawEntry{text: s[:i], sep: s[i]})
		s = s[i+1:]
	}
	return list
}

// fixSeparators rewrites ';' and spaces used as separators into ','.
func fixSeparators(s string) string {
	var b strings.Builder
	for _, e := range splitRawProxyList(s) {
		words := strings.FieldsFunc(e.text, func(r rune) bool { return r == ';' || r == ' ' || r == '\t' })
		if len(words) == 0 {
			continue
		}
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "|") {
			b.WriteByte(',')
		}
		b.WriteString(strings.Join(words, ","))
		if e.sep == '|' {
			b.WriteByte('|')
		}
	}
	return strings.TrimSuffix(b.String(), "|")
}

// checkGOPROXYSyntax finds GOPROXY mistakes: the go command either fails
// every download or silently ignores part of the list.
func checkGOPROXYSyntax(ctx context.Context, r *runner) Result {
	var f findings
	v := r.env.Lookup("GOPROXY")
	f.note("%s", origin(v))
	raw := splitRawProxyList(v.Value)

	if strings.Contains(v.Value, ";") {
		f.add(StatusError, setFix(r.env, "GOPROXY", fixSeparators(v.Value)),
			"GOPROXY uses ';', which is not a separator: entries are separated by ',' (fall back on 404/410) or '|' (fall back on any error)")
	}
	for _, e := range raw {
		if t := strings.TrimSpace(e.text); strings.ContainsAny(t, " \t") {
			f.add(StatusError, setFix(r.env, "GOPROXY", fixSeparators(v.Value)),
				"GOPROXY entry %q contains spaces; spaces do not separate entries", web.Redact(t))
		}
	}

	list, err := r.env.ProxyList()
	var se *modnet.SettingError
	switch {
	case errors.As(err, &se) && errors.Is(err, modnet.ErrEmptyProxyList):
		f.add(StatusError, setFix(r.env, "GOPROXY", "https://proxy.example.com,direct")+"  # your proxy; or "+setFix(r.env, "GOPROXY", "direct"),
			"GOPROXY=%q has no entries: every download fails (%v)", v.Value, se.Err)
		return f.result("")
	case errors.As(err, &se):
		if len(f.list) == 0 { // not already explained by ';' or spaces
			f.add(StatusError, se.Fix, "GOPROXY entry %q: %v; every download fails", web.Redact(se.Entry), se.Err)
		}
		return f.result("")
	case err != nil:
		f.add(StatusError, "", "GOPROXY: %v", err)
		return f.result("")
	}

	// Entries after direct or off are never read (modfetch.proxyList stops).
	for i, e := range raw {
		t := strings.TrimSpace(e.text)
		if t != "direct" && t != "off" {
			continue
		}
		var dead []string
		for _, later := range raw[i+1:] {
			if s := strings.TrimSpace(later.text); s != "" {
				dead = append(dead, web.Redact(s))
			}
		}
		if len(dead) > 0 {
			f.add(StatusWarn, setFix(r.env, "GOPROXY", joinSources(list)),
				"GOPROXY entries after %q are never used: %s", t, strings.Join(dead, ", "))
		}
		break
	}

	seen := map[string]bool{}
	for _, s := range list {
		switch s.Kind {
		case modnet.KindOff:
			if len(list) == 1 {
				f.add(StatusWarn, setFix(r.env, "GOPROXY", "https://proxy.example.com,direct")+"  # if downloads are wanted",
					"GOPROXY=off: the go command downloads nothing; every module must already be in the module cache or vendored")
			} else {
				f.add(StatusInfo, "", "GOPROXY ends in off: a module the proxies do not have fails with 'module lookup disabled by GOPROXY=off' instead of being fetched from its repository")
			}
			continue
		case modnet.KindDirect:
			if len(list) == 1 {
				f.add(StatusInfo, "", "GOPROXY=direct: every module is fetched from its version control repository (needs git and access to every repository host)")
			}
			continue
		}
		if seen[s.URL] {
			f.add(StatusInfo, setFix(r.env, "GOPROXY", joinSources(dedupSources(list))), "GOPROXY lists %s twice", s.Redacted())
		}
		seen[s.URL] = true
		u, err := url.Parse(s.URL)
		if err != nil {
			continue
		}
		if u.User != nil {
			if _, hasPW := u.User.Password(); hasPW {
				f.add(StatusInfo, "put the credentials in ~/.netrc (machine "+u.Host+" login ... password ...) and remove them from GOPROXY",
					"GOPROXY entry %s carries a password: it shows in 'go env' output and bug reports", web.RedactURL(u))
			}
		}
		if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
			f.add(StatusInfo, "", "GOPROXY entry %s uses plain http: the go command sends no credentials (GOAUTH) there and answers can be altered in transit (go.sum and the checksum database still catch altered modules)", web.RedactURL(u))
		}
	}
	return f.result(fmt.Sprintf("GOPROXY: %s", describeSources(list)))
}

// checkGOPROXYFallback explains when the go command moves on from one
// GOPROXY entry to the next (modfetch.TryProxies): after ',' only on "not
// found" (404/410), after '|' on any error.
func checkGOPROXYFallback(ctx context.Context, r *runner) Result {
	var f findings
	list, err := r.env.ProxyList()
	if err != nil {
		return skip("GOPROXY does not parse (see goproxy.syntax)")
	}
	if strings.Contains(r.env.Get("GOPROXY"), ";") {
		// The go command reads "a;b" as one proxy URL: the list the user
		// meant is not the one in effect, so its fallbacks mean nothing.
		return skip("GOPROXY uses ';' (see goproxy.syntax)")
	}
	leakNote := "with '|', every module path the first proxy fails on is sent to the next entry; " +
		"private module paths reach it too unless GOPRIVATE (or GONOPROXY) lists them, which sends them direct and never to any proxy"
	for i, s := range list {
		if s.Kind != modnet.KindProxy || i == len(list)-1 {
			continue
		}
		next := list[i+1]
		switch {
		case s.Fallback == modnet.FallbackNotFound && next.Kind == modnet.KindProxy:
			alt := append([]modnet.Source(nil), list...)
			alt[i].Fallback = modnet.FallbackAny
			f.add(StatusWarn, "# if you want failover (and your private paths are in GOPRIVATE):\n"+setFix(r.env, "GOPROXY", joinSources(alt)),
				"%s is followed by ',': when it fails (5xx, timeout, refused) the go command stops and never tries %s; it moves on only when %s answers 404 or 410",
				s.Redacted(), next.Redacted(), s.Redacted())
			f.note("%s", leakNote)
		case s.Fallback == modnet.FallbackNotFound && next.Kind == modnet.KindDirect:
			// The usual setting, and the safe one: a note, not a finding.
			f.note("%s is followed by ',direct': modules it does not have (404/410) come from their repositories; if it fails (5xx, timeout) the go command stops, which keeps private paths from leaking elsewhere", s.Redacted())
		case s.Fallback == modnet.FallbackAny && r.env.Get("GONOPROXY") == "":
			f.add(StatusInfo, "",
				"%s is followed by '|': any failure moves on to %s; GOPRIVATE is empty, so a private module path would be tried there too", s.Redacted(), next.Redacted())
			f.note("%s", leakNote)
		}
	}
	return f.result(fmt.Sprintf("GOPROXY: %s", describeSources(list)))
}

// joinSources writes a list back as a GOPROXY value.
func joinSources(list []modnet.Source) string {
	var b strings.Builder
	for i, s := range list {
		if s.Kind == modnet.KindProxy {
			b.WriteString(s.Entry)
		} else {
			b.WriteString(string(s.Kind))
		}
		if i < len(list)-1 {
			if s.Fallback == modnet.FallbackAny {
				b.WriteByte('|')
			} else {
				b.WriteByte(',')
			}
		}
	}
	return b.String()
}

func dedupSources(list []modnet.Source) []modnet.Source {
	var out []modnet.Source
	seen := map[string]bool{}
	for _, s := range list {
		if s.Kind == modnet.KindProxy && seen[s.URL] {
			continue
		}
		seen[s.URL] = true
		out = append(out, s)
	}
	return out
}

// describeSources renders the walk the go command makes: "A → (404) B → direct".
func describeSources(list []modnet.Source) string {
	var b strings.Builder
	for i, s := range list {
		b.WriteString(s.Redacted())
		if i < len(list)-1 {
			if s.Fallback == modnet.FallbackAny {
				b.WriteString(" →(any error) ")
			} else {
				b.WriteString(" →(404/410) ")
			}
		}
	}
	return b.String()
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
