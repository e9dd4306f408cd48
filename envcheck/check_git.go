package envcheck

import (
	"context"
	"fmt"
	"os/exec"
	"strings"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/modnet"
)

// checkGit checks that git is installed, and that GOVCS allows it, when
// the go command can reach direct mode: GOPROXY lists direct, or
// GONOPROXY (default GOPRIVATE) sends private paths direct.
func checkGit(ctx context.Context, r *runner) Result {
	var f findings
	list, _ := r.env.ProxyList()
	publicDirect := false
	for _, s := range list {
		if s.Kind == modnet.KindDirect {
			publicDirect = true
		}
	}
	var privateSample string
	if pats := splitPatterns(r.env.Get("GONOPROXY")); len(pats) > 0 {
		privateSample = samplePath(strings.TrimSpace(pats[0]))
	}
	if !publicDirect && privateSample == "" {
		return skip("direct mode is never used: GOPROXY has no direct entry and GONOPROXY/GOPRIVATE is empty")
	}
	why := "GOPROXY ends in direct"
	severity := StatusWarn // public modules reach direct only when proxies answer 404
	if privateSample != "" {
		why = "GONOPROXY/GOPRIVATE paths are fetched direct"
		severity = StatusError
	}

	rules, err := parseGOVCS(r.env.Get("GOVCS"))
	if err != nil {
		f.add(StatusError, unsetFix(r.env.Lookup("GOVCS")), "GOVCS: %v: every direct fetch fails", err)
	} else {
		priv := r.env.Get("GOPRIVATE")
		if privateSample != "" && !rules.allow(privateSample, module.MatchPrefixPatterns(priv, privateSample), "git") {
			f.add(StatusError, unsetFix(r.env.Lookup("GOVCS")), "GOVCS=%s does not allow git for %s: direct fetches of private modules fail", r.env.Get("GOVCS"), privateSample)
		}
		if publicDirect && !rules.allow("example.com/m", false, "git") {
			f.add(StatusWarn, "", "GOVCS=%s does not allow git for public modules: fetching them direct fails", r.env.Get("GOVCS"))
		}
	}

	git, err := lookPathIn("git", r.env.OS("PATH"))
	if err != nil {
		f.add(severity, "install git (https://git-scm.com/downloads) and make sure it is in PATH",
			"git is not in PATH, but %s: those fetches fail with 'exec: \"git\": executable file not found'", why)
		return f.result("")
	}
	out, err := exec.CommandContext(ctx, git, "--version").Output()
	if err != nil {
		f.add(severity, "reinstall git", "%s --version failed: %v", git, err)
		return f.result("")
	}
	f.note("%s (%s)", strings.TrimSpace(string(out)), why)
	return f.result(fmt.Sprintf("%s: %s", git, strings.TrimSpace(string(out))))
}

// govcsRule is one GOVCS entry.
type govcsRule struct {
	pattern string
	allowed []string
}

type govcsRules []govcsRule

// parseGOVCS parses GOVCS as cmd/go/internal/vcs.parseGOVCS does and
// appends the default rules (private:all, public:git|hg).
func parseGOVCS(s string) (govcsRules, error) {
	var rules govcsRules
	seen := map[string]string{}
	if s = strings.TrimSpace(s); s != "" {
		for _, item := range strings.Split(s, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				return nil, fmt.Errorf("empty entry in GOVCS")
			}
			pattern, list, ok := strings.Cut(item, ":")
			if !ok {
				return nil, fmt.Errorf("malformed entry in GOVCS (missing colon): %q", item)
			}
			pattern, list = strings.TrimSpace(pattern), strings.TrimSpace(list)
			switch {
			case pattern == "":
				return nil, fmt.Errorf("empty pattern in GOVCS: %q", item)
			case list == "":
				return nil, fmt.Errorf("empty VCS list in GOVCS: %q", item)
			case pattern == "." || pattern == ".." || strings.HasPrefix(pattern, "./") || strings.HasPrefix(pattern, "../"):
				return nil, fmt.Errorf("relative pattern not allowed in GOVCS: %q", pattern)
			case seen[pattern] != "":
				return nil, fmt.Errorf("unreachable pattern in GOVCS: %q after %q", item, seen[pattern])
			}
			seen[pattern] = item
			var allowed []string
			for _, a := range strings.Split(list, "|") {
				if a = strings.TrimSpace(a); a == "" {
					return nil, fmt.Errorf("empty VCS name in GOVCS: %q", item)
				}
				allowed = append(allowed, a)
			}
			rules = append(rules, govcsRule{pattern, allowed})
		}
	}
	return append(rules, govcsRule{"private", []string{"all"}}, govcsRule{"public", []string{"git", "hg"}}), nil
}

// allow is cmd/go/internal/vcs.govcsConfig.allow: the first matching rule
// decides.
func (rules govcsRules) allow(path string, private bool, vcs string) bool {
	for _, rule := range rules {
		var match bool
		switch rule.pattern {
		case "private":
			match = private
		case "public":
			match = !private
		default:
			match = module.MatchPrefixPatterns(rule.pattern, path)
		}
		if !match {
			continue
		}
		for _, a := range rule.allowed {
			if a == vcs || a == "all" {
				return true
			}
		}
		return false
	}
	return false
}
