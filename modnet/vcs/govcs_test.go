package vcs

import (
	"strings"
	"testing"
)

func TestParseGOVCS(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "", want: "private:all,public:git|hg"},
		{in: "   ", want: "private:all,public:git|hg"},
		{in: "github.com:git,evil.com:off,*:git|hg", want: "github.com:git,evil.com:off,*:git|hg,private:all,public:git|hg"},
		{in: " a.com : git | hg , public : all ", want: "a.com:git|hg,public:all,private:all,public:git|hg"},
		{in: "a.com:git,", err: "empty entry in GOVCS"},
		{in: ",a.com:git", err: "empty entry in GOVCS"},
		{in: "git", err: `malformed entry in GOVCS (missing colon): "git"`},
		{in: ":git", err: `empty pattern in GOVCS: ":git"`},
		{in: "a.com:", err: `empty VCS list in GOVCS: "a.com:"`},
		{in: "a.com: | git", err: `empty VCS name in GOVCS: "a.com: | git"`},
		{in: "a.com:git||hg", err: `empty VCS name in GOVCS: "a.com:git||hg"`},
		{in: "./x:git", err: `relative pattern not allowed in GOVCS: "./x"`},
		{in: "..:git", err: `relative pattern not allowed in GOVCS: ".."`},
		{in: "a.com:git,b.com:hg,a.com:svn", err: `unreachable pattern in GOVCS: "a.com:svn" after "a.com:git"`},
		{in: "private:git,private:hg", err: `unreachable pattern in GOVCS: "private:hg" after "private:git"`},
	}
	for _, tt := range tests {
		p, err := ParseGOVCS(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseGOVCS(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseGOVCS(%q): %v", tt.in, err)
			continue
		}
		if got := p.String(); got != tt.want {
			t.Errorf("ParseGOVCS(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestVCSPolicyAllow(t *testing.T) {
	type check struct {
		root    string
		private bool
		vcs     string
		want    bool
	}
	tests := []struct {
		govcs  string
		checks []check
	}{
		{"", []check{
			{"example.com/r", false, "git", true},
			{"example.com/r", false, "hg", true},
			{"example.com/r", false, "svn", false},
			{"example.com/r", false, "fossil", false},
			{"example.com/r", true, "svn", true},
			{"example.com/r", true, "bzr", true},
		}},
		// The first matching rule decides, even if a later one would allow.
		{"example.com:hg", []check{
			{"example.com/r", false, "git", false},
			{"example.com/r", true, "git", false},
			{"example.com/r", false, "hg", true},
			{"other.com/r", false, "git", true},
		}},
		{"*:off", []check{
			{"example.com/r", false, "git", false},
			{"example.com/r", true, "git", false},
		}},
		{"*.corp.com:svn|git,public:all", []check{
			{"git.corp.com/r", false, "svn", true},
			{"git.corp.com/r", false, "hg", false},
			{"corp.com/r", false, "bzr", true},
		}},
		// Patterns match path prefixes element by element, as GOPRIVATE does.
		{"example.com/team:all", []check{
			{"example.com/team/r", false, "svn", true},
			{"example.com/teamx/r", false, "svn", false},
		}},
		{"private:off", []check{
			{"example.com/r", true, "git", false},
			{"example.com/r", false, "git", true},
		}},
	}
	for _, tt := range tests {
		p, err := ParseGOVCS(tt.govcs)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range tt.checks {
			if got := p.Allow(c.root, c.private, c.vcs); got != c.want {
				t.Errorf("GOVCS=%q Allow(%s, private=%v, %s) = %v, want %v", tt.govcs, c.root, c.private, c.vcs, got, c.want)
			}
			err := p.Check(c.vcs, c.root, c.private)
			if (err == nil) != c.want {
				t.Errorf("GOVCS=%q Check(%s, %s, private=%v) = %v", tt.govcs, c.vcs, c.root, c.private, err)
			}
		}
	}
	var zero *VCSPolicy
	if !zero.Allow("a.com/r", false, "git") || zero.Allow("a.com/r", false, "svn") {
		t.Errorf("nil policy does not apply the default rules")
	}
	if err := zero.Check("mod", "a.com/r", false); err != nil {
		t.Errorf("the mod pseudo-VCS must always be allowed: %v", err)
	}
	if err := zero.Check("svn", "a.com/r", false); err == nil || err.Error() != "GOVCS disallows using svn for public a.com/r; see 'go help vcs'" {
		t.Errorf("Check error = %v", err)
	}
}

func FuzzParseGOVCS(f *testing.F) {
	for _, s := range []string{"", "github.com:git,evil.com:off,*:git|hg", "private:all", " a : b | c ", "a:", ":b", "a:b,a:c", "./x:git", "a,b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseGOVCS(s)
		if err != nil {
			if p != nil {
				t.Fatalf("ParseGOVCS(%q) returned a policy and %v", s, err)
			}
			return
		}
		// The user's rules, printed canonically, parse to the same policy.
		user := strings.TrimSuffix(strings.TrimSuffix(p.String(), "private:all,public:git|hg"), ",")
		if q, err := ParseGOVCS(user); err != nil || q.String() != p.String() {
			t.Fatalf("round trip of %q: %q, %v", s, user, err)
		}
		p.Allow("example.com/r", false, "git")
		p.Allow("example.com/r", true, "svn")
	})
}
