package envcheck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/modkit/modkit/internal/osenv"
	"github.com/modkit/modkit/modnet"
)

// Free-space thresholds for the caches: a module zip and its extraction
// plus build outputs easily need hundreds of megabytes.
const (
	lowSpace      = 1 << 30   // warn below 1 GiB
	criticalSpace = 100 << 20 // error below 100 MiB
)

// checkGOMODCACHE checks the module cache directory, where every download
// lands (cmd/go/internal/modfetch; cfg.GOMODCACHE).
func checkGOMODCACHE(ctx context.Context, r *runner) Result {
	var f findings
	if gp := r.env.Lookup("GOPATH"); gp.Value != "" {
		for _, dir := range filepath.SplitList(gp.Value) {
			// cmd/go/internal/envcmd.checkEnvWrite and modload: GOPATH entries must be absolute.
			if strings.HasPrefix(dir, "~") {
				f.add(StatusError, setFix(r.env, "GOPATH", filepath.Join(r.env.OS("HOME"), strings.TrimPrefix(strings.TrimPrefix(dir, "~"), "/"))),
					"GOPATH entry %q starts with '~', which the go command does not expand (from %s)", dir, gp.Where())
			} else if dir != "" && !filepath.IsAbs(dir) {
				f.add(StatusError, setFix(r.env, "GOPATH", mustAbs(dir)), "GOPATH entry is relative; must be absolute path: %q (from %s)", dir, gp.Where())
			}
		}
	}
	v := r.env.Lookup("GOMODCACHE")
	f.note("%s", origin(v))
	if v.Value == "" {
		f.add(StatusError, setFix(r.env, "GOMODCACHE", filepath.Join(homeOr(r.env, "/home/you"), "go", "pkg", "mod")),
			"neither GOMODCACHE nor GOPATH is set (and there is no HOME to default to): the go command cannot download modules")
		return f.result("")
	}
	if !filepath.IsAbs(v.Value) {
		f.add(StatusError, setFix(r.env, "GOMODCACHE", mustAbs(v.Value)), "GOMODCACHE entry is relative; must be absolute path: %q", v.Value)
		return f.result("")
	}
	summary := r.checkDir(&f, "GOMODCACHE", v.Value)
	// The download cache is where 'sudo go mod download' leaves root-owned
	// directories that later runs cannot write.
	if dl := filepath.Join(v.Value, "cache", "download"); isDir(dl) {
		if err := probeWritable(dl); err != nil {
			f.add(StatusError, fmt.Sprintf("sudo chown -R %s %s", currentUser(r.env), v.Value),
				"%s is not writable by this user (%v): downloads fail; was the go command run with sudo?", dl, err)
		}
	}
	if r.env.ModCacheRW() {
		f.note("GOFLAGS has -modcacherw: extracted modules stay writable")
	}
	return f.result(summary)
}

// checkGOCACHE checks the build cache, which every go command needs
// (GOCACHE=off has not been supported since Go 1.12).
func checkGOCACHE(ctx context.Context, r *runner) Result {
	var f findings
	v := r.env.Lookup("GOCACHE")
	dir := v.Value
	if dir == "" {
		base, err := osenv.UserCacheDir(r.env.OS)
		if err != nil {
			f.add(StatusError, setFix(r.env, "GOCACHE", "/path/to/go-build"),
				"GOCACHE is not set and there is no default (%v): build cache is required", err)
			return f.result("")
		}
		dir = filepath.Join(base, "go-build")
		f.note("GOCACHE=%s (default)", dir)
	} else {
		f.note("%s", origin(v))
	}
	if dir == "off" {
		f.add(StatusError, unsetFix(v), "GOCACHE=off is not supported: the go command requires the build cache")
		return f.result("")
	}
	if !filepath.IsAbs(dir) {
		f.add(StatusError, setFix(r.env, "GOCACHE", mustAbs(dir)), "GOCACHE is not an absolute path: %q", dir)
		return f.result("")
	}
	return f.result(r.checkDir(&f, "GOCACHE", dir))
}

// checkDir checks that dir exists or can be created, is writable by this
// user and has free space; it returns the summary for a healthy dir.
func (r *runner) checkDir(f *findings, name, dir string) string {
	existing := dir
	for {
		fi, err := os.Stat(existing)
		if err == nil {
			if !fi.IsDir() {
				f.add(StatusError, "remove or rename "+existing, "%s: %s is not a directory", name, existing)
				return ""
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			f.add(StatusError, "check the permissions of the directories above "+dir, "%s: %v", name, err)
			return ""
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			break
		}
		existing = parent
	}
	state := "exists"
	if existing != dir {
		state = "does not exist yet; can be created in " + existing
	}
	if err := probeWritable(existing); err != nil {
		f.add(StatusError, fmt.Sprintf("sudo chown -R %s %s\n# or point %s at a directory you own", currentUser(r.env), existing, name),
			"%s=%s: %s is not writable by this user: %v", name, dir, existing, err)
		return ""
	}
	freeFn := r.opts.freeSpace
	if freeFn == nil {
		freeFn = diskFree
	}
	free, err := freeFn(existing)
	switch {
	case err != nil:
		f.note("free space unknown: %v", err)
		return fmt.Sprintf("%s %s, writable", dir, state)
	case free < criticalSpace:
		f.add(StatusError, "free disk space, or move "+name+" to a larger disk", "%s: only %s free on the disk holding %s: downloads and builds will fail", name, bytesString(free), dir)
	case free < lowSpace:
		f.add(StatusWarn, "free disk space ('go clean -modcache' and 'go clean -cache' reclaim the caches)", "%s: only %s free on the disk holding %s", name, bytesString(free), dir)
	}
	return fmt.Sprintf("%s %s, writable, %s free", dir, state, bytesString(free))
}

// probeWritable creates and removes a file in dir: permission bits do not
// tell the whole story (ACLs, read-only mounts, root squash).
func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".moddoctor-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func mustAbs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func homeOr(env *modnet.Env, def string) string {
	if h := env.OS("HOME"); h != "" {
		return h
	}
	return def
}

func currentUser(env *modnet.Env) string {
	for _, n := range []string{"USER", "LOGNAME", "USERNAME"} {
		if u := env.OS(n); u != "" {
			return u
		}
	}
	return "$(id -un)"
}

func bytesString(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
