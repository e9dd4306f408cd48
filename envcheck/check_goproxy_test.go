package envcheck

import (
	"strings"
	"testing"
)

func TestCheckGOPROXYSyntax(t *testing.T) {
	runCases(t, "goproxy.syntax", []staticCase{
		{name: "default", status: StatusOK, summary: "GOPROXY: https://proxy.example.com →(404/410) direct", fix: "-",
			details: "GOPROXY=https://proxy.example.com,direct (from go.env $DIR/goroot/go.env:1)"},
		{name: "semicolon", vars: map[string]string{"GOPROXY": "https://a.example.com;https://b.example.com"}, status: StatusError,
			summary: "GOPROXY uses ';', which is not a separator", fix: "export GOPROXY=https://a.example.com,https://b.example.com"},
		{name: "semicolon in GOENV file", goenv: "GOPROXY=https://a.example.com; direct\n", status: StatusError,
			fix: "go env -w GOPROXY=https://a.example.com,direct", details: "(from GOENV file $DIR/goenv:1)"},
		{name: "spaces", vars: map[string]string{"GOPROXY": "https://a.example.com https://b.example.com|direct"}, status: StatusError,
			summary: `GOPROXY entry "https://a.example.com https://b.example.com" contains spaces`, fix: "export GOPROXY='https://a.example.com,https://b.example.com|direct'"},
		{name: "spaces around separators are fine", vars: map[string]string{"GOPROXY": " https://a.example.com , direct "}, status: StatusOK},
		{name: "empty list", vars: map[string]string{"GOPROXY": ","}, status: StatusError,
			summary: `GOPROXY="," has no entries: every download fails (GOPROXY list is not the empty string, but contains no entries)`},
		{name: "empty from GOENV file", goenv: "GOPROXY=\n", status: StatusError, summary: `GOPROXY="" has no entries`, fix: "go env -w GOPROXY="},
		{name: "single word", vars: map[string]string{"GOPROXY": "corpproxy"}, status: StatusError,
			summary: `GOPROXY entry "corpproxy": invalid proxy URL missing scheme: corpproxy; every download fails`,
			fix:     "write a full URL such as https://corpproxy"},
		{name: "bad scheme", vars: map[string]string{"GOPROXY": "ftp://a.example.com"}, status: StatusError, summary: "invalid proxy URL scheme"},
		{name: "entries after direct", vars: map[string]string{"GOPROXY": "direct,https://a.example.com"}, status: StatusWarn,
			summary: `GOPROXY entries after "direct" are never used: https://a.example.com`, fix: "export GOPROXY=direct"},
		{name: "entries after off", vars: map[string]string{"GOPROXY": "https://a.example.com,off|https://b.example.com"}, status: StatusWarn,
			summary: `after "off" are never used: https://b.example.com`, fix: "export GOPROXY=https://a.example.com,off"},
		{name: "off", vars: map[string]string{"GOPROXY": "off"}, status: StatusWarn, summary: "GOPROXY=off: the go command downloads nothing"},
		{name: "ends in off", vars: map[string]string{"GOPROXY": "https://a.example.com,off"}, status: StatusInfo, summary: "module lookup disabled by GOPROXY=off"},
		{name: "direct only", vars: map[string]string{"GOPROXY": "direct"}, status: StatusInfo, summary: "every module is fetched from its version control repository"},
		{name: "bare host gets https", vars: map[string]string{"GOPROXY": "a.example.com:8443/go"}, status: StatusOK, summary: "https://a.example.com:8443/go"},
		{name: "password", vars: map[string]string{"GOPROXY": "https://me:s3cret@a.example.com,direct"}, status: StatusInfo,
			summary: "GOPROXY entry https://xxxxx@a.example.com carries a password", fix: "machine a.example.com"},
		{name: "plain http", vars: map[string]string{"GOPROXY": "http://a.example.com"}, status: StatusInfo, summary: "uses plain http"},
		{name: "plain http loopback", vars: map[string]string{"GOPROXY": "http://127.0.0.1:3000"}, status: StatusOK},
		{name: "duplicate", vars: map[string]string{"GOPROXY": "https://a.example.com,https://a.example.com,direct"}, status: StatusInfo,
			summary: "GOPROXY lists https://a.example.com twice", fix: "export GOPROXY=https://a.example.com,direct"},
		{name: "file", vars: map[string]string{"GOPROXY": "file:///srv/goproxy"}, status: StatusOK},
		{name: "file with host", vars: map[string]string{"GOPROXY": "file://srv/goproxy"}, status: StatusError, summary: "non-path elements"},
	})
}

func TestCheckGOPROXYFallback(t *testing.T) {
	runCases(t, "goproxy.fallback", []staticCase{
		{name: "default", status: StatusOK, summary: "GOPROXY: https://proxy.example.com →(404/410) direct",
			details: "is followed by ',direct'"},
		{name: "comma chain", vars: map[string]string{"GOPROXY": "https://a.example.com,https://b.example.com,direct"}, status: StatusWarn,
			summary: "https://a.example.com is followed by ',': when it fails (5xx, timeout, refused) the go command stops and never tries https://b.example.com",
			fix:     "export GOPROXY='https://a.example.com|https://b.example.com,direct'", details: "private module paths reach it too unless GOPRIVATE"},
		{name: "pipe without GOPRIVATE", vars: map[string]string{"GOPROXY": "https://a.example.com|direct"}, status: StatusInfo,
			summary: "any failure moves on to direct; GOPRIVATE is empty"},
		{name: "pipe with GOPRIVATE", vars: map[string]string{"GOPROXY": "https://a.example.com|https://b.example.com", "GOPRIVATE": "corp.example.com"}, status: StatusOK},
		{name: "unparsable", vars: map[string]string{"GOPROXY": ","}, status: StatusSkip},
		{name: "semicolon", vars: map[string]string{"GOPROXY": "https://a.example.com;direct"}, status: StatusSkip, summary: "see goproxy.syntax"},
	})
}

func TestFixSeparators(t *testing.T) {
	for in, want := range map[string]string{
		"a;b":           "a,b",
		"a; b|c":        "a,b|c",
		"a b ,, c":      "a,b,c",
		"a|b;c,direct":  "a|b,c,direct",
		" ; ":           "",
		"https://x|":    "https://x",
		"a\tb":          "a,b",
		"a|;b":          "a|b",
		"a,b|c d,off":   "a,b|c,d,off",
		"direct;off":    "direct,off",
		"a ; | b":       "a|b",
		"https://x:1;y": "https://x:1,y",
	} {
		if got := fixSeparators(in); got != want {
			t.Errorf("fixSeparators(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzFixSeparators(f *testing.F) {
	for _, s := range []string{"a;b", "a b|c", ",,|", "https://x;direct"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := fixSeparators(s)
		if strings.ContainsAny(out, "; \t") || strings.Contains(out, ",,") || strings.HasPrefix(out, ",") ||
			strings.HasSuffix(out, ",") || strings.HasSuffix(out, "|") {
			t.Fatalf("fixSeparators(%q) = %q", s, out)
		}
		if again := fixSeparators(out); again != out {
			t.Fatalf("fixSeparators not idempotent: %q → %q → %q", s, out, again)
		}
	})
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"https://a.example.com,direct": "https://a.example.com,direct",
		"a|b":                          "'a|b'",
		"*.corp.example.com":           "'*.corp.example.com'",
		"it's":                         `'it'\''s'`,
		"":                             "''",
		"-mod=mod -modcacherw":         "'-mod=mod -modcacherw'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
