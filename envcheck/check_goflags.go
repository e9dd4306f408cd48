package envcheck

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/modkit/modkit/modnet"
)

// checkGOFLAGS splits GOFLAGS as the go command does and asks the local go
// command whether it knows every flag: an unknown flag makes every go
// command fail (cmd/go/internal/base.InitGOFLAGS).
func checkGOFLAGS(ctx context.Context, r *runner) Result {
	var f findings
	v := r.env.Lookup("GOFLAGS")
	if strings.TrimSpace(v.Value) == "" {
		return Result{Status: StatusOK, Summary: "GOFLAGS is empty"}
	}
	f.note("%s", origin(v))
	flags, err := r.env.GoFlags()
	if err != nil {
		fix := "rewrite GOFLAGS with one -flag=value per word, for example -mod=mod"
		if fixed, ok := joinFlagValues(v.Value); ok {
			fix = setFix(r.env, "GOFLAGS", fixed)
		}
		f.add(StatusError, fix, "%v: every go command fails", err)
		return f.result("")
	}
	for _, fl := range flags {
		name, val, hasVal := strings.Cut(strings.TrimLeft(fl, "-"), "=")
		switch name {
		case "mod":
			switch val {
			case "mod", "readonly", "vendor":
				if val == "vendor" {
					f.add(StatusInfo, "", "GOFLAGS=-mod=vendor: builds use the vendor directory and never download modules")
				}
			default:
				f.add(StatusError, setFix(r.env, "GOFLAGS", replaceFlag(v.Value, fl, "-mod=readonly")),
					"GOFLAGS has %s: -mod must be mod, readonly or vendor", fl)
			}
		case "modcacherw", "trimpath", "buildvcs":
			if hasVal {
				if _, err := strconv.ParseBool(val); err != nil && !(name == "buildvcs" && val == "auto") {
					f.add(StatusError, setFix(r.env, "GOFLAGS", replaceFlag(v.Value, fl, "-"+name)),
						"GOFLAGS has %s: invalid boolean value %q", fl, val)
				}
			}
		case "modfile":
			f.add(StatusInfo, "", "GOFLAGS=%s: every go command reads %s instead of go.mod", fl, val)
		}
	}
	if msg, err := goValidatesGOFLAGS(ctx, r.env, v.Value); err != nil {
		f.note("not checked against the go command: %v", err)
	} else if msg != "" {
		fix := "remove the flag from GOFLAGS"
		if _, name, ok := strings.Cut(msg, "unknown flag -"); ok {
			var keep []string
			for _, fl := range flags {
				if n, _, _ := strings.Cut(strings.TrimLeft(fl, "-"), "="); n != name {
					keep = append(keep, fl)
				}
			}
			if len(keep) == 0 {
				fix = unsetFix(v)
			} else {
				fix = setFix(r.env, "GOFLAGS", strings.Join(keep, " "))
			}
		}
		f.add(StatusError, fix, "%s: every go command fails", msg)
	}
	return f.result("GOFLAGS has " + plural(len(flags), "flag", "flags") + ", all known to the go command")
}

// goValidatesGOFLAGS runs 'go version' from GOROOT with the value: the go
// command checks every GOFLAGS name against all of its commands' flags
// before running any command, and that list is not available otherwise.
// It returns the go command's complaint, or "".
func goValidatesGOFLAGS(ctx context.Context, env *modnet.Env, goflags string) (string, error) {
	goroot := env.Get("GOROOT")
	if goroot == "" {
		return "", fmt.Errorf("GOROOT unknown")
	}
	gobin := filepath.Join(goroot, "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin += ".exe"
		if _, err := os.Stat(gobin); err != nil {
			return "", err
		}
	}
	cmd := exec.CommandContext(ctx, gobin, "version")
	cmd.Dir = goroot // outside any module, so go.mod cannot make it switch toolchains
	cmd.Env = append(os.Environ(), "GOFLAGS="+goflags, "GOTOOLCHAIN=local", "GOROOT="+goroot)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			return "", err
		}
		for _, line := range strings.Split(stderr.String(), "\n") {
			if strings.Contains(line, "GOFLAGS") {
				return strings.TrimPrefix(strings.TrimSpace(line), "go: "), nil
			}
		}
		return "", fmt.Errorf("go version failed: %s", strings.TrimSpace(stderr.String()))
	}
	return "", nil
}

// joinFlagValues repairs the common "-flag value" mistake into
// "-flag=value", when every non-flag word follows a flag without a value.
func joinFlagValues(s string) (string, bool) {
	words := strings.Fields(s)
	var out []string
	for _, w := range words {
		if !strings.HasPrefix(w, "-") && len(out) > 0 && !strings.Contains(out[len(out)-1], "=") {
			out[len(out)-1] += "=" + w
			continue
		}
		if !strings.HasPrefix(w, "-") {
			return "", false
		}
		out = append(out, w)
	}
	return strings.Join(out, " "), true
}

func replaceFlag(all, old, repl string) string {
	return strings.Join(strings.Fields(strings.Replace(all, old, repl, 1)), " ")
}
