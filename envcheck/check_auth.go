package envcheck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/modkit/modkit/internal/goauth"
	"github.com/modkit/modkit/modnet"
)

// netrcFile is a parsed netrc file with what a doctor needs beyond the
// go command's view: incomplete entries and where each entry is.
type netrcFile struct {
	path     string
	fromVar  bool // NETRC named it
	exists   bool
	mode     fs.FileMode
	entries  []goauth.NetrcEntry
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
	nf.entries, nf.afterDef = goauth.ParseNetrc(string(data))
	return nf, nil
}

// checkNetrc checks GOAUTH, entry by entry with the go command's rules
// (package goauth), and the netrc file it usually points at.
func checkNetrc(ctx context.Context, r *runner) Result {
	var f findings
	v := r.env.Lookup("GOAUTH")
	f.note("%s", origin(v))
	entries := goauth.Split(v.Value)
	for _, e := range entries {
		c, err := goauth.ParseEntry(e, len(entries))
		var ee *goauth.EntryError
		switch {
		case errors.Is(err, goauth.ErrEmptyCommand):
			f.add(StatusError, setFix(r.env, "GOAUTH", strings.Join(nonEmpty(entries), ";")),
				"GOAUTH=%q has an empty command: every authenticated request fails (%v)", v.Value, err)
		case errors.Is(err, goauth.ErrOffCombined):
			f.add(StatusError, setFix(r.env, "GOAUTH", "off"), "%v", err)
		case errors.As(err, &ee):
			f.add(StatusError, ee.Fix, "GOAUTH %q: %v", e, err)
		case c.Kind == goauth.Off:
			f.add(StatusInfo, "", "GOAUTH=off: the go command sends no credentials to proxies or repositories")
		case c.Kind == goauth.Custom && c.SplitErr == nil && !filepath.IsAbs(c.Argv[0]):
			if _, err := r.env.LookPath(c.Argv[0]); err != nil {
				f.add(StatusError, "install "+c.Argv[0]+" or fix GOAUTH", "GOAUTH command %q: %s is not in PATH", e, c.Argv[0])
			}
		case c.Kind == goauth.Custom && c.SplitErr != nil:
			f.add(StatusError, "fix the quotes in GOAUTH", "GOAUTH command %q cannot be split: %v", e, c.SplitErr)
		}
	}

	nf, err := r.netrc()
	if err != nil {
		f.add(StatusWarn, "", "cannot read the netrc file: %v", err)
		return f.result("")
	}
	if !goauth.UsesNetrc(v.Value) {
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
