package codehost

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/modkit/modkit/internal/osenv"
	"github.com/modkit/modkit/internal/web"
)

// This file keeps direct mode from waiting on ssh. A git insteadOf rule
// can send a module's https repository URL to ssh:// or git@host:path, and
// ssh then asks on the terminal whether to trust an unknown host key, or
// for a key's passphrase; the go command sets GIT_TERMINAL_PROMPT=0, which
// only silences git's own prompts, so it waits for an answer that in CI
// never comes, or for a server that accepted the connection and says
// nothing.
//
// Deliberate difference from the go command: unless the user chose an ssh
// command (GIT_SSH_COMMAND, GIT_SSH or git's core.sshCommand), git runs ssh
// in batch mode, which never prompts, with a connect timeout that also
// bounds the protocol greeting. Setting GIT_SSH_COMMAND=ssh restores the
// go command's behaviour.

// SSHConnectTimeout is ssh's ConnectTimeout in batch mode: how long
// connecting and the protocol greeting may take.
var SSHConnectTimeout = 10 * time.Second // tests shorten it

// sshBatchCommand is the GIT_SSH_COMMAND that makes ssh fail instead of
// prompting.
func sshBatchCommand() string {
	return fmt.Sprintf("ssh -o BatchMode=yes -o ConnectTimeout=%d", int(SSHConnectTimeout.Round(time.Second)/time.Second))
}

// Environ is the environment version control tools run in, for git and
// for discovery's probes alike: environ with no terminal prompts for
// credentials unless the user asked for them, as the go command sets them
// (cmd/go/internal/modload.Init), and, unlike the go command, ssh in batch
// mode, unless the user chose an ssh command.
func Environ(environ []string) []string {
	return withSSHBatchMode(osenv.NoPrompts(environ))
}

// withSSHBatchMode returns env with GIT_SSH_COMMAND set to batch mode,
// unless env, or git's configuration as env sees it, names an ssh command
// already.
func withSSHBatchMode(env []string) []string {
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); (k == "GIT_SSH_COMMAND" || k == "GIT_SSH") && v != "" {
			return env
		}
	}
	if gitConfigSetsSSH(env) {
		return env
	}
	return append(env, "GIT_SSH_COMMAND="+sshBatchCommand())
}

// sshConfigSeen memoizes gitConfigSetsSSH per environment: the answer
// costs a git process and is the same for every repository.
var sshConfigSeen sync.Map // environment joined by NUL → bool

// gitConfigSetsSSH reports whether git's configuration (as seen with env)
// sets core.sshCommand, which GIT_SSH_COMMAND would override.
func gitConfigSetsSSH(env []string) bool {
	key := strings.Join(env, "\x00")
	if v, ok := sshConfigSeen.Load(key); ok {
		return v.(bool)
	}
	set := false
	if git, err := FindGit(env); err == nil {
		cmd := exec.Command(git, "config", "--get", "core.sshCommand")
		cmd.Env = env
		out, err := cmd.Output()
		set = err == nil && len(bytes.TrimSpace(out)) > 0
	}
	sshConfigSeen.Store(key, set)
	return set
}

// sshHelp explains a failed git command that reached its remote over ssh:
// the host, and what to do so that it authenticates without a prompt. It
// returns "" when stderr shows no ssh failure or the remote URL, after
// git's insteadOf rules, is not an ssh URL.
func sshHelp(ctx context.Context, git string, env []string, remote string, stderr []byte) string {
	cause := SSHFailure(stderr)
	if cause == "" {
		return ""
	}
	// The command may have failed because ctx ended; asking git how it
	// rewrote the URL takes no network and must still work.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	effective := remote
	if out, err := GetURL(ctx, git, env, remote); err == nil {
		effective = out
	}
	host, ok := SSHHost(effective)
	if !ok {
		return ""
	}
	via := ""
	if effective != remote {
		via = fmt.Sprintf(" (a git insteadOf rule rewrites %s to %s)", web.Redact(remote), web.Redact(effective))
	}
	fix := SSHFix(cause, host)
	return fmt.Sprintf("ssh to %s failed without prompting%s: %s.\nmodkit runs ssh in batch mode; set GIT_SSH_COMMAND to choose another ssh command.", host, via, fix)
}

// SSHFix says what to do about an ssh failure of the given cause (see
// SSHFailure) with host, so that it authenticates without a prompt.
func SSHFix(cause, host string) string {
	switch cause {
	case "host key":
		return fmt.Sprintf("add the host's key to ~/.ssh/known_hosts (check its fingerprint: ssh-keyscan %s | ssh-keygen -lf -)", host)
	case "auth":
		return fmt.Sprintf("load a key the host accepts into ssh-agent (ssh-add), or use https with a token: a 'machine %s login <user> password <token>' line in ~/.netrc and no insteadOf rule to ssh", host)
	case "timeout":
		return fmt.Sprintf("check that %s accepts ssh connections from here (firewall, VPN, proxy); direct mode gave up after %v", host, SSHConnectTimeout)
	}
	return fmt.Sprintf("check that %s resolves and accepts ssh connections from here", host)
}

// SSHFailure classifies ssh's complaints in a git command's stderr:
// "host key", "auth", "timeout", another non-empty cause, or "" for none.
func SSHFailure(stderr []byte) string {
	s := string(stderr)
	switch {
	case strings.Contains(s, "Host key verification failed"), strings.Contains(s, "No ED25519 host key is known"),
		strings.Contains(s, "REMOTE HOST IDENTIFICATION HAS CHANGED"):
		return "host key"
	case strings.Contains(s, "Permission denied (publickey"), strings.Contains(s, "Permission denied, please try again"),
		strings.Contains(s, "Too many authentication failures"):
		return "auth"
	case strings.Contains(s, "timed out"), strings.Contains(s, "Connection timed out"):
		return "timeout"
	case strings.Contains(s, "ssh: connect to host"), strings.Contains(s, "ssh: Could not resolve hostname"),
		strings.Contains(s, "kex_exchange_identification"), strings.Contains(s, "Connection closed by"):
		return "connect"
	}
	return ""
}

// GetURL returns remote after git's insteadOf rules, without contacting
// it ('git ls-remote --get-url'), running git with env.
func GetURL(ctx context.Context, git string, env []string, remote string) (string, error) {
	cmd := exec.CommandContext(ctx, git, "ls-remote", "--get-url", remote)
	cmd.Env = env
	cmd.Dir = os.TempDir() // outside any repository, whose config would apply
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// SSHHost returns the host of an ssh remote: ssh://[user@]host[:port]/path,
// git+ssh:// and ssh+git://, or the scp-like [user@]host:path.
func SSHHost(remote string) (string, bool) {
	if i := strings.Index(remote, "://"); i >= 0 {
		switch remote[:i] {
		case "ssh", "git+ssh", "ssh+git":
		default:
			return "", false
		}
		u, err := url.Parse(remote)
		if err != nil || u.Hostname() == "" {
			return "", false
		}
		return u.Hostname(), true
	}
	// scp-like syntax: a colon before any slash.
	colon := strings.IndexByte(remote, ':')
	if colon <= 0 || strings.Contains(remote[:colon], "/") {
		return "", false
	}
	host := remote[:colon]
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		host = host[at+1:]
	}
	return strings.Trim(host, "[]"), host != ""
}
