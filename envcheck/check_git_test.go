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
			summary: "GOVCS disallows using git for private git.corp.example.com; see 'go help vcs' (GOVCS=private:hg from environment)", fix: "unset GOVCS"},
		{name: "GOVCS forbids git for public", setup: fakeGit, vars: map[string]string{"GOVCS": "public:off"}, status: StatusWarn,
			summary: "GOVCS disallows using git for public example.com/m; see 'go help vcs' (GOVCS=public:off from environment): fetching public modules direct fails"},
		{name: "GOVCS by pattern", setup: fakeGit, vars: map[string]string{"GOVCS": "git.corp.example.com:git,*:off", "GOPRIVATE": "git.corp.example.com"}, status: StatusWarn,
			summary: "fetching public modules direct fails"},
	})
}
