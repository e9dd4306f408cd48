package envcheck

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/vcs"
)

// maxInsteadOfProbes bounds the repositories probeInsteadOf contacts, so
// that a module with dozens of private requirements is checked within the
// check's time.
const maxInsteadOfProbes = 8

// probeInsteadOf checks every git insteadOf rule that a private module of
// go.mod (one GONOPROXY sends direct) takes: the repository discovery
// finds, the URL the rule makes of it, and whether 'git ls-remote' there
// answers as direct mode runs git, without prompts. A rule to ssh that
// asks for a host key or a passphrase is what makes the go command hang.
func probeInsteadOf(ctx context.Context, r *runner) Result {
	mod, err := r.gomod()
	if err != nil {
		return Result{Status: StatusWarn, Summary: fmt.Sprintf("cannot read go.mod: %v", err)}
	}
	if mod == nil {
		return skip("no go.mod here: the private modules whose repositories to check come from its requirements")
	}
	var private []string
	for _, p := range downloadedPaths(mod) {
		if route, err := r.env.Route(p); err == nil && route.NoProxy {
			private = append(private, p)
		}
	}
	if len(private) == 0 {
		return skip("no requirement of %s goes direct (GONOPROXY/GOPRIVATE)", mod.path)
	}
	sort.Strings(private)
	if _, err := r.env.LookPath("git"); err != nil {
		return skip("git is not in PATH (see direct.git)")
	}

	var f findings
	probed, rules := 0, 0
	seen := map[string]bool{} // repository URLs
	for _, p := range private {
		g, err := modnet.ResolveGitRemote(ctx, r.env, p, vcs.DiscoverOptions{Do: r.client().Do})
		if err != nil {
			if errors.Is(err, errors.ErrUnsupported) {
				f.note("%s: not a git repository: %v", p, err)
				continue
			}
			f.add(StatusError, "check the module path, and that "+hostOf(p)+" serves a go-import meta tag for it (curl 'https://"+p+"?go-get=1')",
				"%s: direct mode cannot find its repository: %v", p, err)
			continue
		}
		if seen[g.Repo] {
			continue
		}
		seen[g.Repo] = true
		if g.Rule == "" {
			f.note("%s: %s (no insteadOf rule)", p, g.Repo)
			continue
		}
		rules++
		if probed == maxInsteadOfProbes {
			f.note("%s: %s → %s (%s); not probed, %d repositories already were", p, g.Repo, g.URL, g.Rule, maxInsteadOfProbes)
			continue
		}
		probed++
		err = g.Probe(ctx)
		var pe *modnet.GitProbeError
		switch {
		case err == nil:
			f.note("%s: insteadOf rule %s sends %s to %s, which answers without a prompt", p, g.Rule, g.Repo, g.URL)
		case errors.As(err, &pe):
			f.add(StatusError, pe.Fix, "%s: the insteadOf rule %s sends %s to %s, where git fails: %s",
				p, g.Rule, g.Repo, g.URL, lastLine(pe.Stderr, pe.Err))
		default:
			f.add(StatusError, "", "%s: %v", p, err)
		}
	}
	if rules == 0 && len(f.list) == 0 {
		return Result{Status: StatusOK, Summary: fmt.Sprintf("no insteadOf rule applies to the %d private modules", len(private)), Details: f.notes}
	}
	return f.result(fmt.Sprintf("%d insteadOf rules reach their hosts and authenticate without a prompt", rules))
}

// downloadedPaths are the module paths go.mod makes the go command
// download: requirements not replaced, and replacements that are modules
// rather than directories.
func downloadedPaths(mod *gomod) []string {
	seen := map[string]bool{}
	replaced := map[string]bool{}
	var paths []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	for _, rep := range mod.file.Replace {
		replaced[rep.Old.Path] = true
		if rep.New.Version != "" {
			add(rep.New.Path)
		}
	}
	for _, req := range mod.file.Require {
		if !replaced[req.Mod.Path] {
			add(req.Mod.Path)
		}
	}
	return paths
}

// lastLine is the last line of git's complaint, which says what went
// wrong; or how git exited when it said nothing.
func lastLine(stderr string, err error) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, "fatal: Could not read from remote repository") &&
			l != "Please make sure you have the correct access rights" && l != "and the repository exists." {
			return l
		}
	}
	return err.Error()
}
