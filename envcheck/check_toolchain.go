package envcheck

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/modkit/modkit/modnet"
)

// checkGoVersion compares go.mod's go and toolchain lines with the local
// go command and GOTOOLCHAIN, with the go command's own rules
// (modnet.Env.SelectToolchain, after cmd/go/internal/toolchain.Select and
// Exec): which toolchain runs, and whether it must be found in PATH or
// downloaded as the module golang.org/toolchain.
func checkGoVersion(ctx context.Context, r *runner) Result {
	var f findings
	local, err := r.env.LocalToolchain(ctx)
	if err != nil {
		f.add(StatusError, "install Go from https://go.dev/dl/ and make sure its bin directory is in PATH, or set GOROOT",
			"%v", err)
		return f.result("")
	}
	f.note("local toolchain %s (GOROOT %s)", local, r.env.Get("GOROOT"))
	tv := r.env.Lookup("GOTOOLCHAIN")
	f.note("%s", origin(tv))

	dir, err := r.moduleDir()
	if err != nil {
		f.add(StatusWarn, "", "cannot look for go.mod: %v", err)
		return f.result("")
	}
	sel, err := r.env.SelectToolchain(ctx, dir)
	if err != nil {
		var se *modnet.SettingError
		if errors.As(err, &se) {
			f.add(StatusError, setFix(r.env, "GOTOOLCHAIN", "auto"), "%v; every go command fails", se.Err)
		} else {
			f.add(StatusError, "fix the toolchain line (such as toolchain go1.22.1), or remove it", "%v; every go command fails here", err)
		}
		return f.result("")
	}
	file, goLine, toolchainLine := sel.File, sel.GoLine, sel.ToolchainLine
	if file == "" {
		// Without switching the go command reads no file at startup; the
		// main module's go line must still be satisfied.
		mod, err := r.gomod()
		if err != nil {
			f.add(StatusWarn, "fix the go.mod syntax error", "cannot read go.mod: %v", err)
			return f.result("")
		}
		if mod == nil {
			return f.result(fmt.Sprintf("%s; no go.mod here, nothing requires a newer toolchain", sel.Name))
		}
		file = mod.path
		if mod.file.Go != nil {
			goLine = mod.file.Go.Version
		}
		if mod.file.Toolchain != nil {
			toolchainLine = mod.file.Toolchain.Name
		}
	}
	lines := "go " + orDash(goLine)
	if toolchainLine != "" {
		lines += ", toolchain " + toolchainLine
	}
	f.note("%s: %s", file, lines)

	// cmd/go/internal/modload: a main module needing a newer Go than the
	// one that runs is fatal ("go.mod requires go >= ...").
	if err := sel.TooNew(dir, shortName(dir, file), goLine); err != nil {
		f.add(StatusError, setFix(r.env, "GOTOOLCHAIN", "auto")+"\n# or install go"+goLine+" or newer", "%v", err)
		return f.result("")
	}
	if !sel.Switch() {
		return f.result(fmt.Sprintf("%s satisfies %s (go %s)", sel.Name, filepath.Base(file), orDash(goLine)))
	}
	why := sel.Reason
	target := sel.Name

	// cmd/go/internal/toolchain.Exec: PATH first, then (unless +path) download.
	if exe, err := r.env.LookPath(target); err == nil {
		f.add(StatusInfo, "", "the go command runs %s from %s (%s)", target, exe, why)
		return f.result("")
	}
	if sel.Mode == "path" || (sel.Mode == "" && strings.HasSuffix(tv.Value, "+path")) {
		f.add(StatusError, "go install golang.org/dl/"+target+"@latest && "+target+" download",
			"%s: cannot find %q in PATH", why, target)
		return f.result("")
	}
	modVersion := modnet.ToolchainModuleVersion(target, runtime.GOOS, runtime.GOARCH)
	cached := filepath.Join(r.env.Get("GOMODCACHE"), "golang.org", "toolchain@"+modVersion)
	if fi, err := os.Stat(cached); err == nil && fi.IsDir() {
		f.add(StatusInfo, "", "the go command runs %s from the module cache (%s)", target, why)
		return f.result("")
	}
	f.add(StatusInfo, "", "the go command will download %s as %s@%s (%s); 'modfetch prefetch' fetches it ahead, with retries", target, modnet.ToolchainModule, modVersion, why)

	route, err := r.env.Route(modnet.ToolchainModule)
	if err != nil {
		f.add(StatusError, "see goproxy.syntax", "cannot download %s: %v", target, err)
		return f.result("")
	}
	if route.Sources[0].Kind == modnet.KindOff {
		f.add(StatusError, "install "+target+" yourself, or "+setFix(r.env, "GOPROXY", "https://proxy.example.com,direct")+" (your proxy)",
			"cannot download %s: GOPROXY=off disallows downloads", target)
	}
	// Toolchain downloads always need the checksum database (go.sum cannot
	// list them), GOSUMDB=off and GONOSUMDB notwithstanding: the route
	// says so (modfetch.useSumDB).
	if db := route.ChecksumDB; db.Verify && db.Err != nil {
		gosumdb := r.env.Lookup("GOSUMDB")
		fix := unsetFix(gosumdb) + "\n# or install " + target + " and put it in PATH"
		if gosumdb.Value == "off" {
			f.add(StatusError, fix, "cannot download %s: toolchain downloads need the checksum database, and GOSUMDB=off (from %s)", target, gosumdb.Where())
		} else {
			f.add(StatusError, fix, "cannot download %s: %v", target, db.Err)
		}
	}
	return f.result("")
}

// shortName is file relative to dir when that is shorter, as the go
// command names files in messages.
func shortName(dir, file string) string {
	if rel, err := filepath.Rel(dir, file); err == nil && len(rel) < len(file) {
		return rel
	}
	return file
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
