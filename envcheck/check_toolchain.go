package envcheck

import (
	"bufio"
	"context"
	"fmt"
	"go/version"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/modkit/modkit/modnet"
)

// checkGoVersion compares go.mod's go and toolchain lines with the local
// go command and GOTOOLCHAIN, following
// cmd/go/internal/toolchain.Select and Exec: which toolchain runs, and
// whether it must be found in PATH or downloaded as the module
// golang.org/toolchain.
func checkGoVersion(ctx context.Context, r *runner) Result {
	var f findings
	local, err := localGoVersion(ctx, r.env)
	if err != nil {
		f.add(StatusError, "install Go from https://go.dev/dl/ and make sure its bin directory is in PATH, or set GOROOT",
			"cannot tell the local go version: %v", err)
		return f.result("")
	}
	f.note("local toolchain %s (GOROOT %s)", local, r.env.Get("GOROOT"))

	tv := r.env.Lookup("GOTOOLCHAIN")
	f.note("%s", origin(tv))
	sel, err := parseGOTOOLCHAIN(tv.Value, local)
	if err != nil {
		f.add(StatusError, setFix(r.env, "GOTOOLCHAIN", "auto"), "%v; every go command fails", err)
		return f.result("")
	}

	mod, err := r.gomod()
	if err != nil {
		f.add(StatusWarn, "fix the go.mod syntax error", "cannot read go.mod: %v", err)
		return f.result("")
	}
	if mod == nil {
		return f.result(fmt.Sprintf("%s; no go.mod here, nothing requires a newer toolchain", local))
	}
	goLine, toolchainLine := "", ""
	if mod.file.Go != nil {
		goLine = mod.file.Go.Version
	}
	if mod.file.Toolchain != nil {
		toolchainLine = mod.file.Toolchain.Name
	}
	lines := "go " + orDash(goLine)
	if toolchainLine != "" {
		lines += ", toolchain " + toolchainLine
	}
	f.note("%s: %s", mod.path, lines)

	target := sel.resolve(goLine, toolchainLine)
	if sel.mode == "" {
		// No switching allowed beyond the minimum: a go line above it is fatal
		// (cmd/go/internal/modload: "go.mod requires go >= ...").
		if goLine != "" && version.Compare("go"+goLine, sel.min) > 0 {
			f.add(StatusError, setFix(r.env, "GOTOOLCHAIN", "auto")+"\n# or install go"+goLine+" or newer",
				"go.mod requires go >= %s (running go %s; GOTOOLCHAIN=%s)", goLine, strings.TrimPrefix(toolchainVersion(sel.min), "go"), tv.Value)
			return f.result("")
		}
	}
	if target == local {
		return f.result(fmt.Sprintf("%s satisfies %s (go %s)", local, filepath.Base(mod.path), orDash(goLine)))
	}
	why := fmt.Sprintf("GOTOOLCHAIN=%s", tv.Value)
	if target != sel.min {
		why = fmt.Sprintf("go.mod asks for %s; GOTOOLCHAIN=%s allows switching", target, tv.Value)
	}

	// cmd/go/internal/toolchain.Exec: PATH first, then (unless +path) download.
	if exe, err := r.env.LookPath(target); err == nil {
		f.add(StatusInfo, "", "the go command runs %s from %s (%s)", target, exe, why)
		return f.result("")
	}
	if sel.mode == "path" {
		f.add(StatusError, "go install golang.org/dl/"+target+"@latest && "+target+" download",
			"%s: cannot find %q in PATH", why, target)
		return f.result("")
	}
	modVersion := "v0.0.1-" + target + "." + runtime.GOOS + "-" + runtime.GOARCH
	cached := filepath.Join(r.env.Get("GOMODCACHE"), "golang.org", "toolchain@"+modVersion)
	if fi, err := os.Stat(cached); err == nil && fi.IsDir() {
		f.add(StatusInfo, "", "the go command runs %s from the module cache (%s)", target, why)
		return f.result("")
	}
	f.add(StatusInfo, "", "the go command will download %s as golang.org/toolchain@%s (%s)", target, modVersion, why)

	route, err := r.env.Route("golang.org/toolchain")
	if err != nil {
		f.add(StatusError, "see goproxy.syntax", "cannot download %s: %v", target, err)
		return f.result("")
	}
	if route.Sources[0].Kind == modnet.KindOff {
		f.add(StatusError, "install "+target+" yourself, or "+setFix(r.env, "GOPROXY", "https://proxy.example.com,direct")+" (your proxy)",
			"cannot download %s: GOPROXY=off disallows downloads", target)
	}
	// cmd/go/internal/modfetch.useSumDB: toolchain downloads always need the
	// checksum database (go.sum cannot list them), GOSUMDB=off and GONOSUMDB
	// notwithstanding, unless GOPROXY is a single file:// URL.
	gosumdb := r.env.Lookup("GOSUMDB")
	proxy := r.env.Get("GOPROXY")
	if gosumdb.Value == "off" && !(strings.HasPrefix(proxy, "file://") && !strings.ContainsAny(proxy, ",|")) {
		f.add(StatusError, unsetFix(gosumdb)+"\n# or install "+target+" and put it in PATH",
			"cannot download %s: toolchain downloads need the checksum database, and GOSUMDB=off (from %s)", target, gosumdb.Where())
	}
	return f.result("")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// toolchainSelection is a parsed GOTOOLCHAIN: the minimum toolchain and
// the mode ("" for no switching, "auto", or "path").
type toolchainSelection struct {
	min  string // such as "go1.26.1"
	mode string
}

// parseGOTOOLCHAIN interprets GOTOOLCHAIN as cmd/go/internal/toolchain.Select
// does: "local", "auto" (= local+auto), "path" (= local+path), "<name>",
// "<name>+auto", "<name>+path". An empty value (a go.env without the line)
// means no switching.
func parseGOTOOLCHAIN(v, local string) (toolchainSelection, error) {
	switch v {
	case "", "local":
		return toolchainSelection{min: local}, nil
	case "auto", "path":
		return toolchainSelection{min: local, mode: v}, nil
	}
	min, suffix, plus := strings.Cut(v, "+")
	if plus && suffix != "auto" && suffix != "path" {
		return toolchainSelection{}, fmt.Errorf("invalid GOTOOLCHAIN %q: only version suffixes are +auto and +path", v)
	}
	sel := toolchainSelection{min: local, mode: suffix}
	if min != "local" {
		if !validToolchain(min) {
			if plus {
				return toolchainSelection{}, fmt.Errorf("invalid GOTOOLCHAIN %q: invalid minimum toolchain %q", v, min)
			}
			return toolchainSelection{}, fmt.Errorf("invalid GOTOOLCHAIN %q", v)
		}
		sel.min = min
	}
	return sel, nil
}

// validToolchain accepts go1.2.3 and custom names with a -go1.2.3 part, as
// cmd/go's gover.FromToolchain does.
func validToolchain(name string) bool {
	if i := strings.Index(name, "-go1"); i >= 0 {
		name = name[i+1:]
	}
	return strings.HasPrefix(name, "go1") && version.IsValid(name)
}

// resolve applies go.mod's lines in auto or path mode: a newer toolchain
// line, then a newer go line (a language version such as 1.22 becomes its
// first release, go1.22.0).
func (s toolchainSelection) resolve(goLine, toolchainLine string) string {
	target := s.min
	if s.mode == "" || toolchainLine == "default" {
		return target
	}
	if toolchainLine != "" && validToolchain(toolchainLine) && version.Compare(toolchainVersion(toolchainLine), toolchainVersion(target)) > 0 {
		target = toolchainLine
	}
	if goLine != "" && version.Compare("go"+goLine, toolchainVersion(target)) > 0 {
		target = "go" + goLine
		if version.Lang(target) == target && version.Compare(target, "go1.21") >= 0 {
			target += ".0"
		}
	}
	return target
}

func toolchainVersion(name string) string {
	if i := strings.Index(name, "-go1"); i >= 0 {
		return name[i+1:]
	}
	return name
}

// localGoVersion reports the version of the toolchain in GOROOT: its
// VERSION file, or else 'go env GOVERSION'.
func localGoVersion(ctx context.Context, env *modnet.Env) (string, error) {
	goroot := env.Get("GOROOT")
	if goroot == "" {
		return "", fmt.Errorf("GOROOT is unknown and no go command is in PATH")
	}
	if f, err := os.Open(filepath.Join(goroot, "VERSION")); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		if sc.Scan() && strings.HasPrefix(sc.Text(), "go") {
			return strings.TrimSpace(sc.Text()), nil
		}
	}
	cmd := exec.CommandContext(ctx, filepath.Join(goroot, "bin", "go"), "env", "GOVERSION")
	cmd.Dir = goroot
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOROOT="+goroot, "GOFLAGS=")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("running %s env GOVERSION: %w", filepath.Join(goroot, "bin", "go"), err)
	}
	return strings.TrimSpace(string(out)), nil
}
