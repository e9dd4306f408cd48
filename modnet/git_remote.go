package modnet

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/modkit/modkit/internal/web"
	"github.com/modkit/modkit/modnet/internal/codehost"
	"github.com/modkit/modkit/modnet/vcs"
)

// A GitRemote is where direct mode's git reaches a module's repository:
// the repository URL go-get discovery finds, and the URL git contacts
// after the user's url.<base>.insteadOf rules, which often send a private
// host's https URLs to ssh.
type GitRemote struct {
	// Module is the module path.
	Module string
	// Repo is the repository URL discovery found ([vcs.RepoRoot].Repo), with
	// user information redacted.
	Repo string
	// URL is Repo after git's insteadOf rules, redacted; equal to Repo when
	// no rule applies.
	URL string
	// Rule is the insteadOf rule that rewrote Repo, as "<base> insteadOf
	// <prefix>" (user information redacted); empty when none applies.
	Rule string
	// Host is the host git connects to, and SSH whether it does so with ssh.
	Host string
	SSH  bool

	repo, url string // unredacted
	git       string
	env       []string
}

// ResolveGitRemote finds a module's git repository as direct mode does
// ([vcs.ResolveImportPath] with opts, whose nil fields take env's GOVCS,
// GOPRIVATE and process environment), and asks git how its insteadOf
// rules rewrite the repository URL ('git ls-remote --get-url'), without
// contacting the repository. A repository in another version control
// system is an error matching errors.ErrUnsupported.
func ResolveGitRemote(ctx context.Context, env *Env, modulePath string, opts vcs.DiscoverOptions) (*GitRemote, error) {
	r, err := env.Route(modulePath)
	if err != nil {
		return nil, err
	}
	opts = env.discoverOptions(r, modulePath, opts)
	rr, err := vcs.ResolveImportPath(ctx, modulePath, opts)
	if err != nil {
		return nil, err
	}
	if rr.VCS != "git" {
		return nil, &vcsUnsupportedError{modulePath, rr.VCS, rr.Repo}
	}
	git, err := codehost.FindGit(opts.Environ)
	if err != nil {
		return nil, err
	}
	g := &GitRemote{Module: modulePath, repo: rr.Repo, url: rr.Repo, git: git, env: codehost.Environ(opts.Environ)}
	if u, err := codehost.GetURL(ctx, git, g.env, rr.Repo); err == nil {
		g.url = u
	}
	g.Repo, g.URL = web.Redact(g.repo), web.Redact(g.url)
	if g.url != g.repo {
		g.Rule = g.insteadOfRule(ctx)
	}
	if host, ok := codehost.SSHHost(g.url); ok {
		g.Host, g.SSH = host, true
	} else if i := strings.Index(g.url, "://"); i >= 0 {
		host := g.url[i+3:]
		host, _, _ = strings.Cut(host, "/")
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			host = host[at+1:]
		}
		g.Host = host
	}
	return g, nil
}

// insteadOfRule finds the rule git applied: of the url.<base>.insteadOf
// prefixes of the repository URL, the longest, as git picks it.
func (g *GitRemote) insteadOfRule(ctx context.Context) string {
	cmd := exec.CommandContext(ctx, g.git, "config", "--get-regexp", `^url\..*\.insteadof$`)
	cmd.Env = g.env
	cmd.Dir = os.TempDir()
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	best, bestPrefix := "", ""
	for _, line := range strings.Split(string(out), "\n") {
		key, prefix, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(g.repo, prefix) || len(prefix) <= len(bestPrefix) {
			continue
		}
		base := strings.TrimSuffix(strings.TrimPrefix(key, "url."), ".insteadof")
		best, bestPrefix = base, prefix
	}
	if best == "" {
		return ""
	}
	return web.Redact(best) + " insteadOf " + web.Redact(bestPrefix)
}

// Probe runs 'git ls-remote' on the repository as direct mode runs git:
// no prompts for credentials, ssh in batch mode with its connect timeout
// (unless the user chose an ssh command). It returns nil when the remote
// answered, which means it was reached and accepted the credentials git
// found without asking anyone; otherwise an error with git's complaint
// and what to do: for ssh the host's key in known_hosts, a key in
// ssh-agent or an https token instead; for https a token in .netrc.
func (g *GitRemote) Probe(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, g.git, "ls-remote", "-q", "--end-of-options", g.repo)
	cmd.Env = g.env
	cmd.Dir = os.TempDir()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	pe := &GitProbeError{Remote: g.URL, Stderr: redactWords(strings.TrimSpace(stderr.String())), Err: err}
	if cause := codehost.SSHFailure(stderr.Bytes()); cause != "" && g.SSH {
		pe.Fix = codehost.SSHFix(cause, g.Host)
	}
	switch {
	case pe.Fix == "" && !g.SSH && gitAuthFailure(stderr.Bytes()):
		pe.Fix = fmt.Sprintf("git could not authenticate to %s without a prompt: add a 'machine %s login <user> password <token>' line to ~/.netrc (or configure a git credential helper)", g.Host, g.Host)
	case pe.Fix == "" && g.SSH && ctx.Err() != nil:
		pe.Fix = fmt.Sprintf("ssh to %s did not finish in time: check that it accepts ssh connections from here", g.Host)
	}
	return pe
}

// A GitProbeError is a failed [GitRemote.Probe]: what git said, and what
// to do about it.
type GitProbeError struct {
	Remote string // the URL git contacted, redacted
	Stderr string // git's standard error, user information in URLs redacted
	Fix    string // what to do; empty when the failure is not recognised
	Err    error  // how git exited
}

func (e *GitProbeError) Error() string {
	s := "git ls-remote " + e.Remote + ": " + e.Err.Error()
	if e.Stderr != "" {
		s += ":\n\t" + strings.ReplaceAll(e.Stderr, "\n", "\n\t")
	}
	if e.Fix != "" {
		s += "\n" + e.Fix
	}
	return s
}

func (e *GitProbeError) Unwrap() error { return e.Err }

// gitAuthFailure reports git's complaints about missing or refused https
// credentials.
func gitAuthFailure(stderr []byte) bool {
	for _, s := range []string{"could not read Username", "could not read Password", "Authentication failed", "The requested URL returned error: 401", "The requested URL returned error: 403"} {
		if bytes.Contains(stderr, []byte(s)) {
			return true
		}
	}
	return false
}

// redactWords redacts the user information of every word of s that looks
// like a URL or user@host, such as those in git's and ssh's messages.
func redactWords(s string) string {
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		words := strings.Split(line, " ")
		for j, w := range words {
			if strings.Contains(w, "@") {
				words[j] = web.Redact(w)
			}
		}
		lines[i] = strings.Join(words, " ")
	}
	return strings.Join(lines, "\n")
}
