package vcs

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/module"
)

// A VCSPolicy is a parsed GOVCS setting: which version control systems the
// go command may run for which repository roots ('go help vcs').
//
// The rules are the user's, in order, followed by the go command's default
// "private:all,public:git|hg"; the first rule whose pattern matches a root
// decides, and a root no rule matches may use nothing. "private" matches
// roots that GOPRIVATE matches, "public" all others, and any other pattern
// is a GOPRIVATE-style glob prefix pattern. The VCS name "all" allows every
// system and "off" (or any unknown name) none.
//
// The zero VCSPolicy, and a nil *VCSPolicy, hold only the default rules.
type VCSPolicy struct {
	rules []vcsRule // the user's rules, without the defaults
}

// vcsRule is one "pattern:vcs|vcs" entry.
type vcsRule struct {
	pattern string
	allowed []string
}

// vcsDefaultRules are appended to every policy
// (cmd/go/internal/vcs.defaultGOVCS): only git and hg have been hardened
// against hostile servers, so only they are allowed for public code.
var vcsDefaultRules = []vcsRule{
	{"private", []string{"all"}},
	{"public", []string{"git", "hg"}},
}

// ParseGOVCS parses a GOVCS value with cmd/go/internal/vcs.parseGOVCS's
// rules: comma-separated "pattern:vcs|vcs|..." entries, spaces around each
// part ignored; empty entries, patterns, lists or names, a missing colon, a
// relative pattern ("./x") and a pattern given twice are errors, with the go
// command's wording. An empty value yields the default policy.
func ParseGOVCS(s string) (*VCSPolicy, error) {
	s = strings.TrimSpace(s)
	p := &VCSPolicy{}
	if s == "" {
		return p, nil
	}
	seen := make(map[string]string) // pattern -> the entry that introduced it
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, errors.New("empty entry in GOVCS")
		}
		pattern, list, ok := strings.Cut(entry, ":")
		if !ok {
			return nil, fmt.Errorf("malformed entry in GOVCS (missing colon): %q", entry)
		}
		pattern, list = strings.TrimSpace(pattern), strings.TrimSpace(list)
		switch {
		case pattern == "":
			return nil, fmt.Errorf("empty pattern in GOVCS: %q", entry)
		case list == "":
			return nil, fmt.Errorf("empty VCS list in GOVCS: %q", entry)
		case pattern == "." || pattern == ".." || strings.HasPrefix(pattern, "./") || strings.HasPrefix(pattern, "../"):
			return nil, fmt.Errorf("relative pattern not allowed in GOVCS: %q", pattern)
		}
		if first, dup := seen[pattern]; dup {
			return nil, fmt.Errorf("unreachable pattern in GOVCS: %q after %q", entry, first)
		}
		seen[pattern] = entry
		names := strings.Split(list, "|")
		for i, n := range names {
			names[i] = strings.TrimSpace(n)
			if names[i] == "" {
				return nil, fmt.Errorf("empty VCS name in GOVCS: %q", entry)
			}
		}
		p.rules = append(p.rules, vcsRule{pattern, names})
	}
	return p, nil
}

// String returns the policy in GOVCS notation, the default rules included.
func (p *VCSPolicy) String() string {
	var parts []string
	for _, r := range p.allRules() {
		parts = append(parts, r.pattern+":"+strings.Join(r.allowed, "|"))
	}
	return strings.Join(parts, ",")
}

func (p *VCSPolicy) allRules() []vcsRule {
	if p == nil {
		return vcsDefaultRules
	}
	return append(append([]vcsRule(nil), p.rules...), vcsDefaultRules...)
}

// Allow reports whether vcs (a command name: "git", "hg", "svn", "bzr",
// "fossil") may be used for the repository root, which is private when
// GOPRIVATE matches it (cmd/go/internal/vcs.govcsConfig.allow).
func (p *VCSPolicy) Allow(root string, private bool, vcs string) bool {
	for _, r := range p.allRules() {
		var match bool
		switch r.pattern {
		case "private":
			match = private
		case "public":
			match = !private
		default:
			// The pattern has no comma, so this matches it alone.
			match = module.MatchPrefixPatterns(r.pattern, root)
		}
		if !match {
			continue
		}
		for _, a := range r.allowed {
			if a == vcs || a == "all" {
				return true
			}
		}
		return false
	}
	return false
}

// Check returns the go command's error when the policy forbids vcs for the
// repository root (cmd/go/internal/vcs.checkGOVCS):
//
//	GOVCS disallows using svn for public example.com/repo; see 'go help vcs'
//
// The "mod" pseudo-VCS (a go-import tag naming a module proxy) runs no
// version control tool and is always allowed.
func (p *VCSPolicy) Check(vcs, root string, private bool) error {
	if vcs == "mod" || p.Allow(root, private, vcs) {
		return nil
	}
	what := "public"
	if private {
		what = "private"
	}
	return fmt.Errorf("GOVCS disallows using %s for %s %s; see 'go help vcs'", vcs, what, root)
}
