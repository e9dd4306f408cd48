package envcheck

import (
	"runtime"
	"testing"
)

func TestCheckGit(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("fake git is a shell script")
	}
	fakeGit := writeScript(t, "git", `echo "git version 2.99.0"`)
	runCases(t, "direct.git", []staticCase{
		{name: "never direct", vars: map[string]string{"GOPROXY": "https://a.example.com"}, status: StatusSkip, summary: "direct mode is never used"},
		{name: "fallback without git", status: StatusWarn,
			summary: `git is not in PATH, but GOPROXY ends in direct: those fetches fail with 'exec: "git": executable file not found'`,
			fix:     "install git"},
		{name: "private without git", vars: map[string]string{"GOPROXY": "https://a.example.com", "GOPRIVATE": "git.corp.example.com"}, status: StatusError,
			summary: "but GONOPROXY/GOPRIVATE paths are fetched direct"},
		{name: "git present", setup: fakeGit, vars: map[string]string{"GOPRIVATE": "git.corp.example.com"}, status: StatusOK,
			summary: "$DIR/bin/git: git version 2.99.0"},
		{name: "git broken", setup: writeScript(t, "git", "exit 3"),
			status: StatusWarn, summary: "--version failed"},
		{name: "GOVCS malformed", setup: fakeGit, vars: map[string]string{"GOVCS": "private"}, status: StatusError,
			summary: `GOVCS: malformed entry in GOVCS (missing colon): "private": every direct fetch fails`},
		{name: "GOVCS forbids git for private", setup: fakeGit, vars: map[string]string{"GOVCS": "private:hg", "GOPRIVATE": "git.corp.example.com"}, status: StatusError,
			summary: "GOVCS=private:hg does not allow git for git.corp.example.com"},
		{name: "GOVCS forbids git for public", setup: fakeGit, vars: map[string]string{"GOVCS": "public:off"}, status: StatusWarn,
			summary: "does not allow git for public modules"},
		{name: "GOVCS by pattern", setup: fakeGit, vars: map[string]string{"GOVCS": "git.corp.example.com:git,*:off", "GOPRIVATE": "git.corp.example.com"}, status: StatusWarn,
			summary: "does not allow git for public modules"},
	})
}

func TestParseGOVCS(t *testing.T) {
	for _, tc := range []struct {
		govcs, path string
		private     bool
		want        bool
		bad         bool
	}{
		{"", "github.com/a/b", false, true, false},
		{"", "corp.example.com/x", true, true, false},
		{"public:hg", "github.com/a/b", false, false, false},
		{"github.com:git,*:off", "github.com/a/b", false, true, false},
		{"github.com:git,*:off", "gitlab.com/a/b", false, false, false},
		{"private:all", "corp.example.com/x", true, true, false},
		{"a:git,a:hg", "", false, false, true},
		{"./x:git", "", false, false, true},
		{"a:", "", false, false, true},
		{"a:git|", "", false, false, true},
		{",", "", false, false, true},
	} {
		rules, err := parseGOVCS(tc.govcs)
		if (err != nil) != tc.bad {
			t.Errorf("parseGOVCS(%q) error = %v, want bad %v", tc.govcs, err, tc.bad)
			continue
		}
		if err == nil && rules.allow(tc.path, tc.private, "git") != tc.want {
			t.Errorf("GOVCS=%q allows git for %s = %v, want %v", tc.govcs, tc.path, !tc.want, tc.want)
		}
	}
}

func FuzzParseGOVCS(f *testing.F) {
	f.Add("private:all,public:git|hg", "example.com/m")
	f.Fuzz(func(t *testing.T, govcs, path string) {
		rules, err := parseGOVCS(govcs)
		if err != nil {
			return
		}
		rules.allow(path, false, "git")
		rules.allow(path, true, "git")
	})
}
