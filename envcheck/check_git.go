package envcheck

import (
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/vcs"
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

	govcs := r.env.Lookup("GOVCS")
	if _, err := vcs.ParseGOVCS(govcs.Value); err != nil {
		f.add(StatusError, unsetFix(govcs), "GOVCS: %v: every direct fetch fails", err)
	} else {
		if privateSample != "" {
			if err := r.env.CheckVCS("git", privateSample); err != nil {
				f.add(StatusError, unsetFix(govcs), "%v (GOVCS=%s from %s): direct fetches of private modules fail", err, govcs.Value, govcs.Where())
			}
		}
		if publicDirect {
			if err := r.env.CheckVCS("git", "example.com/m"); err != nil {
				f.add(StatusWarn, "", "%v (GOVCS=%s from %s): fetching public modules direct fails", err, govcs.Value, govcs.Where())
			}
		}
	}

	git, err := r.env.LookPath("git")
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
