package envcheck

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/module"
)

func TestCheckPrivatePatterns(t *testing.T) {
	runCases(t, "private.patterns", []staticCase{
		{name: "none", status: StatusOK, summary: "no GOPRIVATE, GONOPROXY, GONOSUMDB or GOINSECURE patterns", fix: "-"},
		{name: "fine", vars: map[string]string{"GOPRIVATE": "git.corp.example.com,*.internal.example.com/team,corp.example.com/"},
			status: StatusOK, summary: "every pattern is well-formed", details: "GOPRIVATE=git.corp.example.com"},
		{name: "scheme", vars: map[string]string{"GOPRIVATE": "https://git.corp.example.com"}, status: StatusWarn,
			summary: `GOPRIVATE pattern "https://git.corp.example.com" has a URL scheme (https://); module paths have none: it never matches`,
			fix:     "export GOPRIVATE=git.corp.example.com"},
		{name: "semicolon and space", vars: map[string]string{"GOPRIVATE": "a.example.com; b.example.com"}, status: StatusWarn,
			summary: "contains ';' (patterns are separated by ','); contains spaces", fix: "export GOPRIVATE=a.example.com,b.example.com"},
		{name: "space after comma", vars: map[string]string{"GONOSUMDB": "a.example.com, b.example.com"}, status: StatusWarn,
			summary: `GONOSUMDB pattern " b.example.com" contains spaces, which are part of the pattern: it never matches`,
			fix:     "export GONOSUMDB=a.example.com,b.example.com"},
		{name: "port", vars: map[string]string{"GONOPROXY": "git.corp.example.com:8443/team"}, status: StatusWarn,
			summary: "has a port (:8443)", fix: "export GONOPROXY=git.corp.example.com/team"},
		{name: "leading dot", vars: map[string]string{"GOPRIVATE": ".corp.example.com"}, status: StatusWarn,
			summary: "starts with '.' (NO_PROXY style)", fix: "export GOPRIVATE='*.corp.example.com'"},
		{name: "double slash", vars: map[string]string{"GOINSECURE": "corp.example.com//"}, status: StatusWarn, summary: "ends in '//'"},
		{name: "bad glob", vars: map[string]string{"GOPRIVATE": "corp.example.com/[team"}, status: StatusWarn, summary: "is not a valid glob"},
		{name: "only bad pattern", vars: map[string]string{"GOPRIVATE": ";"}, status: StatusWarn, fix: "unset GOPRIVATE"},
		{name: "from GOENV file", goenv: "GOPRIVATE=https://corp.example.com\n", status: StatusWarn, fix: "go env -w GOPRIVATE=corp.example.com",
			details: "(from GOENV file $DIR/goenv:1)"},
		{name: "everything private", vars: map[string]string{"GOPRIVATE": "*"}, status: StatusInfo, summary: "GOPRIVATE=*: every module is private"},
		{name: "GONOPROXY replaces GOPRIVATE", vars: map[string]string{"GOPRIVATE": "a.example.com,b.example.com", "GONOPROXY": "a.example.com"},
			status: StatusWarn, summary: "GONOPROXY is set (from environment), which replaces the GOPRIVATE default instead of adding to it: GOPRIVATE patterns b.example.com are not in GONOPROXY, so they are sent to GOPROXY",
			fix: "export GONOPROXY=a.example.com,b.example.com"},
		{name: "GONOSUMDB covers GOPRIVATE by glob", vars: map[string]string{"GOPRIVATE": "git.corp.example.com", "GONOSUMDB": "*.corp.example.com"}, status: StatusOK},
	})
}

func TestCleanPattern(t *testing.T) {
	for _, tc := range []struct {
		in      string
		out     []string
		problem string
	}{
		{"corp.example.com", []string{"corp.example.com"}, ""},
		{"corp.example.com/", []string{"corp.example.com/"}, ""},
		{"*.corp.example.com/x", []string{"*.corp.example.com/x"}, ""},
		{"https://corp.example.com/", []string{"corp.example.com"}, "scheme"},
		{"ssh://git@corp.example.com:22/x", []string{"git@corp.example.com/x"}, "port"},
		{"a.example.com;b.example.com", []string{"a.example.com", "b.example.com"}, "';'"},
		{" a.example.com", []string{"a.example.com"}, "spaces"},
		{"", nil, ""},
	} {
		out, problem := cleanPattern(tc.in)
		if !slices.Equal(out, tc.out) || (tc.problem == "") != (problem == "") || !strings.Contains(problem, tc.problem) {
			t.Errorf("cleanPattern(%q) = %q, %q; want %q, problem containing %q", tc.in, out, problem, tc.out, tc.problem)
		}
	}
}

func FuzzCleanPattern(f *testing.F) {
	for _, s := range []string{"https://a.b/c", "a;b", " x", "[", "a:1/b", ".x.y//"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		fixed, problem := cleanPattern(p)
		if problem == "" {
			if p != "" && !slices.Equal(fixed, []string{p}) {
				t.Fatalf("cleanPattern(%q) changed a good pattern to %q", p, fixed)
			}
			return
		}
		for _, q := range fixed {
			if strings.ContainsAny(q, "; \t") || strings.Contains(q, "://") {
				t.Fatalf("cleanPattern(%q) = %q still has separators or a scheme", p, q)
			}
		}
	})
}

func TestSamplePath(t *testing.T) {
	for _, p := range []string{"*.corp.example.com", "corp.example.com/team-?", "corp.example.com/[ab]x/*", "corp.example.com/[^x]", `corp.example.com/a\*b`, "git.example.com"} {
		if s := samplePath(p); !module.MatchPrefixPatterns(p, s) {
			t.Errorf("samplePath(%q) = %q, which the pattern does not match", p, s)
		}
	}
}

const corpGoMod = `module example.com/app

go 1.25.0

require (
	github.com/google/uuid v1.6.0
	git.corp.internal/platform/log v1.2.0
	git.corp.internal/platform/auth v0.3.0
	10.0.0.5/team/lib v0.1.0
	go.example.org/widgets v1.0.0
	replaced.corp.internal/x v1.0.0
)

replace replaced.corp.internal/x => ../x
`

func TestCheckPrivateCoverage(t *testing.T) {
	runCases(t, "private.coverage", []staticCase{
		{name: "no go.mod", status: StatusSkip, summary: "no go.mod"},
		{name: "public only", gomod: "module m\ngo 1.25.0\nrequire github.com/google/uuid v1.6.0\n", status: StatusOK,
			summary: "1 module required; none on a private-looking host outside GOPRIVATE"},
		{name: "uncovered", gomod: corpGoMod, status: StatusWarn,
			summary: "10.0.0.5 looks private (10.0.0.5/team/lib) but GONOSUMDB/GOPRIVATE does not cover it: the checksum database cannot know private modules, so downloading them fails now with 'verifying module: ... 404 Not Found'",
			fix:     "export GOPRIVATE=10.0.0.5,git.corp.internal",
			details: "git.corp.internal looks private (git.corp.internal/platform/auth, git.corp.internal/platform/log) but GONOPROXY/GOPRIVATE does not cover it: its module paths are sent to GOPROXY"},
		{name: "in go.sum", gomod: "module m\ngo 1.25.0\nrequire git.corp.internal/a v1.0.0\n",
			gosum:  "git.corp.internal/a v1.0.0 h1:abc=\ngit.corp.internal/a v1.0.0/go.mod h1:def=\n",
			status: StatusWarn, summary: "so adding or upgrading them fails"},
		{name: "-modfile's own sum file", files: map[string]string{
			"mod/x.mod": "module m\ngo 1.25.0\nrequire git.corp.internal/a v1.0.0\n",
			"mod/x.sum": "git.corp.internal/a v1.0.0 h1:abc=\ngit.corp.internal/a v1.0.0/go.mod h1:def=\n",
		}, opts: Options{ModFile: "$DIR/mod/x.mod"},
			status: StatusWarn, summary: "so adding or upgrading them fails"},
		{name: "-modfile ignores go.sum", files: map[string]string{
			"mod/x.mod":  "module m\ngo 1.25.0\nrequire git.corp.internal/a v1.0.0\n",
			"mod/go.sum": "git.corp.internal/a v1.0.0 h1:abc=\ngit.corp.internal/a v1.0.0/go.mod h1:def=\n",
		}, opts: Options{ModFile: "$DIR/mod/x.mod"},
			status: StatusWarn, summary: "so downloading them fails now"},
		{name: "covered", gomod: corpGoMod, vars: map[string]string{"GOPRIVATE": "git.corp.internal,10.0.0.5"},
			status: StatusInfo, summary: "requirements on hosts not known to be public and not in GOPRIVATE: go.example.org",
			fix: "export GOPRIVATE=git.corp.internal,10.0.0.5,go.example.org", details: "git.corp.internal: covered"},
		{name: "sumdb covered, proxy not", gomod: "module m\ngo 1.25.0\nrequire git.corp.internal/a v1.0.0\n",
			vars:   map[string]string{"GONOSUMDB": "git.corp.internal"},
			status: StatusWarn, summary: "git.corp.internal looks private (git.corp.internal/a) but GONOPROXY/GOPRIVATE does not cover it"},
		{name: "sumdb off globally, direct only", gomod: "module m\ngo 1.25.0\nrequire git.corp.internal/a v1.0.0\n",
			vars: map[string]string{"GOSUMDB": "off", "GOPROXY": "direct"}, status: StatusOK},
		{name: "replacement module", gomod: "module m\ngo 1.25.0\nrequire github.com/a/b v1.0.0\nreplace github.com/a/b => git.corp.internal/fork/b v1.0.1\n",
			status: StatusWarn, summary: "git.corp.internal looks private (git.corp.internal/fork/b)"},
	})
}

func TestHostKind(t *testing.T) {
	for host, want := range map[string]string{
		"github.com": "public", "gopkg.in": "public", "api.github.com": "public", "git.corp": "private",
		"gitlab.internal": "private", "192.168.1.10": "private", "localhost": "private", "git.example.com:8443": "private",
		"nas.local": "private", "go.example.org": "unknown", "corp": "",
	} {
		if got := hostKind(host); got != want {
			t.Errorf("hostKind(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestCheckGOINSECURE(t *testing.T) {
	runCases(t, "goinsecure.misuse", []staticCase{
		{name: "empty", status: StatusOK, summary: "GOINSECURE is empty", fix: "-"},
		{name: "all", vars: map[string]string{"GOINSECURE": "*"}, status: StatusWarn,
			summary: `GOINSECURE pattern "*" turns off HTTPS certificate checks for direct fetches of public modules`, fix: "unset GOINSECURE"},
		{name: "public host", vars: map[string]string{"GOINSECURE": "github.com,git.corp.internal", "GOPRIVATE": "git.corp.internal"}, status: StatusWarn,
			summary: `"github.com" turns off`, fix: "export GOINSECURE=git.corp.internal"},
		{name: "proxy host", vars: map[string]string{"GOINSECURE": "athens.corp.internal", "GOPROXY": "https://athens.corp.internal,direct", "GONOSUMDB": "athens.corp.internal"},
			status: StatusWarn, summary: `GOINSECURE pattern "athens.corp.internal" matches the proxy https://athens.corp.internal, but GOINSECURE never applies to GOPROXY`,
			fix: "http://athens.corp.internal"},
		{name: "without GONOSUMDB", vars: map[string]string{"GOINSECURE": "git.corp.internal", "GONOPROXY": "git.corp.internal"}, status: StatusWarn,
			summary: "does not disable the checksum database", fix: "export GOPRIVATE=git.corp.internal"},
		{name: "through proxy", vars: map[string]string{"GOINSECURE": "git.corp.internal", "GONOSUMDB": "git.corp.internal"}, status: StatusInfo,
			summary: "are fetched through GOPROXY, where GOINSECURE has no effect"},
		{name: "as intended", vars: map[string]string{"GOINSECURE": "git.corp.internal", "GOPRIVATE": "git.corp.internal"}, status: StatusOK,
			summary: "GOINSECURE=git.corp.internal applies only to direct fetches, as intended"},
	})
}

func FuzzSamplePath(f *testing.F) {
	for _, s := range []string{"*.a.b", "a/[bc]", `a\*`, "[\\]", "a/[^x]y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		samplePath(p) // must not panic; matching is checked in TestSamplePath
	})
}
