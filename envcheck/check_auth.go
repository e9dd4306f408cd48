package envcheck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/modkit/modkit/modnet"
)

// netrcFile is a parsed netrc file with what a doctor needs beyond the
// go command's view: incomplete entries and where each entry is.
type netrcFile struct {
	path     string
	fromVar  bool // NETRC named it
	exists   bool
	mode     fs.FileMode
	entries  []modnet.NetrcEntry
	afterDef int // machine entries after "default", which the go command never reads
}

// readNetrc reads the netrc file the go command reads, with modnet's
// parser, which follows the go command's rules.
func readNetrc(env *modnet.Env) (*netrcFile, error) {
	path, err := env.NetrcPath()
	if err != nil {
		return nil, err
	}
	nf := &netrcFile{path: path, fromVar: env.OS("NETRC") != ""}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nf, nil
	}
	if err != nil {
		return nf, err
	}
	nf.exists, nf.mode = true, fi.Mode()
	data, err := os.ReadFile(path)
	if err != nil {
		return nf, err
	}
	nf.entries, nf.afterDef = modnet.ParseNetrc(string(data))
	return nf, nil
}

// credentials returns the login and password the go command would send to
// an https URL: the first complete entry whose machine is the URL's host.
func (nf *netrcFile) credentials(u *url.URL) (login, password string, ok bool) {
	if nf == nil || u.Scheme != "https" {
		return "", "", false
	}
	for _, e := range nf.entries {
		if e.Complete() && e.Machine == u.Host {
			return e.Login, e.Password, true
		}
	}
	return "", "", false
}

// goauthCommands splits GOAUTH as cmd/go/internal/auth.runGoAuth does.
func goauthCommands(v string) []string {
	var cmds []string
	for _, c := range strings.Split(v, ";") {
		cmds = append(cmds, strings.TrimSpace(c))
	}
	return cmds
}

// usesNetrc reports whether GOAUTH makes the go command read netrc.
func usesNetrc(env *modnet.Env) bool {
	for _, c := range goauthCommands(env.Get("GOAUTH")) {
		if c == "netrc" {
			return true
		}
	}
	return false
}

// checkNetrc checks GOAUTH and the netrc file it usually points at.
func checkNetrc(ctx context.Context, r *runner) Result {
	var f findings
	v := r.env.Lookup("GOAUTH")
	f.note("%s", origin(v))
	cmds := goauthCommands(v.Value)
	for _, c := range cmds {
		words := strings.Fields(c)
		switch {
		case len(words) == 0:
			f.add(StatusError, setFix(r.env, "GOAUTH", strings.Join(nonEmpty(cmds), ";")),
				"GOAUTH=%q has an empty command: every authenticated request fails (GOAUTH encountered an empty command)", v.Value)
		case words[0] == "off":
			if len(cmds) > 1 {
				f.add(StatusError, setFix(r.env, "GOAUTH", "off"), "GOAUTH=off cannot be combined with other authentication commands")
			} else {
				f.add(StatusInfo, "", "GOAUTH=off: the go command sends no credentials to proxies or repositories")
			}
		case words[0] == "git":
			if len(words) != 2 || !filepath.IsAbs(words[1]) {
				f.add(StatusError, setFix(r.env, "GOAUTH", "git /abs/path/to/a/git/checkout"),
					"GOAUTH %q: GOAUTH=git dir method requires an absolute path to the git working directory", c)
			} else if fi, err := os.Stat(words[1]); err != nil || !fi.IsDir() {
				f.add(StatusError, "point GOAUTH=git at an existing git work tree", "GOAUTH %q: %s is not a directory", c, words[1])
			}
		case words[0] == "netrc":
		default:
			if _, err := lookPathIn(words[0], r.env.OS("PATH")); err != nil && !filepath.IsAbs(words[0]) {
				f.add(StatusError, "install "+words[0]+" or fix GOAUTH", "GOAUTH command %q: %s is not in PATH", c, words[0])
			}
		}
	}

	nf, err := r.netrc()
	if err != nil {
		f.add(StatusWarn, "", "cannot read the netrc file: %v", err)
		return f.result("")
	}
	if !usesNetrc(r.env) {
		if nf.exists {
			f.add(StatusInfo, "", "GOAUTH does not include netrc, so %s is not used by the go command (git may still use it)", nf.path)
		}
		return f.result("GOAUTH does not use netrc")
	}
	if !nf.exists {
		if nf.fromVar {
			f.add(StatusWarn, "unset NETRC, or create the file", "NETRC=%s, but the file does not exist", nf.path)
		}
		if hosts := needAuthHosts(r.env); len(hosts) > 0 {
			f.add(StatusInfo, fmt.Sprintf("printf 'machine %s login USER password TOKEN\\n' >> %s && chmod 600 %s", hosts[0], nf.path, nf.path),
				"no netrc file (%s): requests to %s carry no credentials; fine if they need none", nf.path, strings.Join(hosts, ", "))
		}
		return f.result(fmt.Sprintf("no netrc file at %s, none needed", nf.path))
	}
	f.note("netrc file %s, %d machine entries", nf.path, len(nf.entries))
	for _, e := range nf.entries {
		var missing []string
		if e.Login == "" {
			missing = append(missing, "login")
		}
		if e.Password == "" {
			missing = append(missing, "password")
		}
		if len(missing) > 0 {
			f.add(StatusWarn, fmt.Sprintf("edit %s line %d: machine %s login USER password TOKEN", nf.path, e.Line, e.Machine),
				"%s:%d: machine %s has no %s: the go command ignores the entry", nf.path, e.Line, e.Machine, strings.Join(missing, " or "))
		}
	}
	if nf.afterDef > 0 {
		f.add(StatusWarn, "move the default entry to the end of "+nf.path,
			"%s: %d machine entries follow 'default' and are never read", nf.path, nf.afterDef)
	}
	if runtime.GOOS != "windows" && nf.mode.Perm()&0o077 != 0 {
		f.add(StatusWarn, "chmod 600 "+nf.path, "%s has mode %v: other users can read your passwords", nf.path, nf.mode.Perm())
	}
	for _, h := range needAuthHosts(r.env) {
		found := false
		for _, e := range nf.entries {
			if e.Complete() && e.Machine == h {
				found = true
			}
		}
		if found {
			f.note("machine %s: credentials present", h)
		} else {
			f.note("machine %s: no entry (fine if it needs no credentials)", h)
		}
	}
	return f.result(fmt.Sprintf("%s: %d complete entries, mode %v", nf.path, len(nf.entries), nf.mode.Perm()))
}

// needAuthHosts are hosts that may want credentials: private module hosts
// (reached directly) and GOPROXY hosts that look private.
func needAuthHosts(env *modnet.Env) []string {
	var out []string
	for _, h := range privateHosts(env) {
		if !strings.HasPrefix(h, ".") {
			out = append(out, h)
		}
	}
	return out
}

func nonEmpty(list []string) []string {
	var out []string
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
