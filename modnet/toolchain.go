package modnet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"go/version"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/internal/osenv"
	"github.com/modkit/modkit/modnet/modload"
)

// This file is the go command's toolchain switching
// (cmd/go/internal/toolchain: select.go, switch.go; gover): which Go
// toolchain runs a command, and how a newer one is fetched as a module.

// ToolchainModule is the module that carries Go toolchains for download:
// version v0.0.1-go1.22.1.linux-amd64 is Go 1.22.1 for linux/amd64
// (cmd/go/internal/toolchain's gotoolchainModule).
const ToolchainModule = "golang.org/toolchain"

// ToolchainModuleVersion returns the version of [ToolchainModule] that
// holds the toolchain name (such as "go1.22.1") for goos/goarch, as
// cmd/go/internal/toolchain.Exec names it.
func ToolchainModuleVersion(name, goos, goarch string) string {
	return "v0.0.1-" + name + "." + goos + "-" + goarch
}

// goVersionOf returns the Go version a toolchain name carries ("go1.22.1"
// and "go1.22.1-custom" carry "1.22.1"), or "" if it carries none
// (cmd/go/internal/gover.FromToolchain).
func goVersionOf(name string) string {
	if strings.ContainsAny(name, `\/`) || !strings.HasPrefix(name, "go") {
		return ""
	}
	v := name[2:]
	if i := strings.IndexAny(v, " \t-"); i >= 0 {
		v = v[:i]
	}
	if !version.IsValid("go" + v) {
		return ""
	}
	return v
}

// compareGo compares Go versions without the "go" prefix ("1.21",
// "1.21rc1", "1.21.0"), as cmd/go/internal/gover.Compare does: an invalid
// version is lower than any valid one.
func compareGo(x, y string) int { return version.Compare("go"+x, "go"+y) }

// isGoLang reports whether v is a language version such as "1.21", not a
// release (gover.IsLang).
func isGoLang(v string) bool { return version.IsValid("go"+v) && version.Lang("go"+v) == "go"+v }

// goLang returns v's language version: "1.21" for "1.21.3" (gover.Lang).
func goLang(v string) string { return strings.TrimPrefix(version.Lang("go"+v), "go") }

// isGoPrerelease reports a release candidate or beta such as "1.22rc1"
// (gover.IsPrerelease).
func isGoPrerelease(v string) bool {
	if !version.IsValid("go"+v) || isGoLang(v) {
		return false
	}
	rest := strings.TrimPrefix(v, goLang(v))
	return rest != "" && rest[0] != '.'
}

// goModLine returns the value of a go.mod line such as "go 1.22" or
// "toolchain go1.22.1", read as the go command reads it before it parses
// go.mod (cmd/go/internal/gover.GoModLookup): the first line starting with
// key and a space, without its comment.
func goModLine(gomod []byte, key string) string {
	sc := bufio.NewScanner(strings.NewReader(string(gomod)))
	sc.Buffer(nil, len(gomod)+1)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		rest, ok := strings.CutPrefix(line, key)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		rest, _, _ = strings.Cut(rest, "//")
		return strings.TrimSpace(rest)
	}
	return ""
}

// localToolchains memoizes LocalToolchain per GOROOT: like the go
// command, which knows its version at build time, a process reads it once.
var localToolchains sync.Map // GOROOT → localToolchain

type localToolchain struct {
	name string
	err  error
}

// LocalToolchain returns the name of the toolchain in GOROOT, such as
// "go1.26.1": the first line of $GOROOT/VERSION, else what
// '$GOROOT/bin/go env GOVERSION' prints. A development toolchain
// ("devel go1.27-abcdef") is named by its language, "go1.27", as
// cmd/go/internal/gover.Local names it.
func (e *Env) LocalToolchain(ctx context.Context) (string, error) {
	goroot := e.Get("GOROOT")
	if goroot == "" {
		return "", errors.New("local Go version unknown: GOROOT is unknown and no go command is in PATH")
	}
	if v, ok := localToolchains.Load(goroot); ok {
		lt := v.(localToolchain)
		return lt.name, lt.err
	}
	name, err := readLocalToolchain(ctx, goroot)
	if ctx.Err() == nil {
		localToolchains.Store(goroot, localToolchain{name, err})
	}
	return name, err
}

func readLocalToolchain(ctx context.Context, goroot string) (string, error) {
	var line string
	if data, err := os.ReadFile(filepath.Join(goroot, "VERSION")); err == nil {
		line, _, _ = strings.Cut(string(data), "\n")
	} else {
		goBin := filepath.Join(goroot, "bin", "go")
		cmd := exec.CommandContext(ctx, goBin, "env", "GOVERSION")
		cmd.Dir = goroot
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOROOT="+goroot, "GOFLAGS=")
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("local Go version unknown: no %s, and %s env GOVERSION: %w", filepath.Join(goroot, "VERSION"), goBin, err)
		}
		line = string(out)
	}
	line = strings.TrimSpace(line)
	if v := goVersionOf(line); v != "" {
		return line, nil
	}
	// "devel go1.27-abcdef ...": the language version, as gover.Local has it.
	for _, f := range strings.Fields(line) {
		if v := goVersionOf(f); v != "" {
			return "go" + goLang(v), nil
		}
	}
	return "", fmt.Errorf("local Go version unknown: no version in %q (GOROOT %s)", line, goroot)
}

// A ToolchainSelection is the go command's decision, made at startup
// before anything else, about which toolchain runs a command in a
// directory (cmd/go/internal/toolchain.Select): GOTOOLCHAIN's minimum,
// raised, when GOTOOLCHAIN allows switching ("auto", "path", "<name>+auto",
// "<name>+path"), by the toolchain and go lines of the go.work or go.mod
// file in effect.
type ToolchainSelection struct {
	// Local is the toolchain in GOROOT, such as "go1.26.1".
	Local string
	// GOTOOLCHAIN is the setting, with its origin.
	GOTOOLCHAIN Value
	// Min is the minimum toolchain GOTOOLCHAIN names (Local for "local",
	// "auto" and "path").
	Min string
	// Mode is "auto" (switch, downloading if needed), "path" (switch to
	// toolchains found in PATH only), or "" (never switch).
	Mode string
	// File is the go.work or go.mod file whose lines were read; empty
	// outside a module or when Mode is "".
	File string
	// GoLine and ToolchainLine are File's go and toolchain lines.
	GoLine, ToolchainLine string
	// Name is the toolchain that runs the command: Local, Min, the
	// toolchain line, or the first release of the go line ("go1.22.0"
	// for "go 1.22").
	Name string
	// Reason says why Name was chosen, for messages.
	Reason string

	// The line of File that decided, as gover.Startup records it for
	// TooNewError's message: the go line's version, or the toolchain line.
	autoGo, autoToolchain string
}

// Switch reports whether the go command runs another toolchain than
// Local.
func (s *ToolchainSelection) Switch() bool { return s.Name != s.Local && s.Name != "local" }

// GoVersion is the Go version of the toolchain that runs: Name's.
func (s *ToolchainSelection) GoVersion() string { return goVersionOf(s.Name) }

// SelectToolchain decides, as the go command run in dir would, which
// toolchain runs (cmd/go/internal/toolchain.Select and modGoToolchain):
// GOTOOLCHAIN first; then, if it allows switching, the go.work file in
// effect (GOWORK, else the nearest go.work above dir, not looked for
// beyond GOROOT) or else the nearest go.mod, whose toolchain line counts
// if newer than the minimum, and whose go line counts if newer still.
// "toolchain default" keeps the minimum. Errors are the go command's
// (invalid GOTOOLCHAIN, invalid toolchain line), and a go.work or go.mod
// that cannot be read.
func (e *Env) SelectToolchain(ctx context.Context, dir string) (*ToolchainSelection, error) {
	local, err := e.LocalToolchain(ctx)
	if err != nil {
		return nil, err
	}
	gt := e.Lookup("GOTOOLCHAIN")
	s := &ToolchainSelection{Local: local, GOTOOLCHAIN: gt}
	s.Min, s.Mode, err = parseGOTOOLCHAIN(gt.Value, local)
	if err != nil {
		return nil, &SettingError{Value: gt, Err: err, Fix: "set GOTOOLCHAIN to local, auto, path, a toolchain name such as go1.22.1, or name+auto / name+path"}
	}
	s.Name = s.Min
	if s.Min != local {
		s.Reason = fmt.Sprintf("GOTOOLCHAIN=%s (from %s)", gt.Value, gt.Where())
	}
	if s.Mode == "" {
		return s, s.checkName()
	}
	file, err := e.toolchainFile(dir)
	if err != nil || file == "" {
		return s, err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	s.File = file
	s.GoLine, s.ToolchainLine = goModLine(data, "go"), goModLine(data, "toolchain")
	minVers := goVersionOf(s.Min)
	if s.ToolchainLine == "default" {
		s.autoToolchain = "default"
		return s, s.checkName()
	}
	if s.ToolchainLine != "" {
		tv := goVersionOf(s.ToolchainLine)
		if tv == "" || (!strings.HasPrefix(s.ToolchainLine, "go") && !strings.Contains(s.ToolchainLine, "-go")) {
			return nil, fmt.Errorf("invalid toolchain %q in %s", s.ToolchainLine, file)
		}
		if compareGo(tv, minVers) > 0 {
			s.Name, minVers, s.autoToolchain = s.ToolchainLine, tv, s.ToolchainLine
			s.Reason = fmt.Sprintf("required by toolchain line in %s; upgrade allowed by GOTOOLCHAIN=%s", file, gt.Value)
		}
	}
	if compareGo(s.GoLine, minVers) > 0 {
		s.Name = "go" + s.GoLine
		// A language version such as 1.22 is no toolchain: its first
		// release, 1.22.0, is (go.dev/issue/62278).
		if isGoLang(s.GoLine) && compareGo(s.GoLine, "1.21") >= 0 {
			s.Name += ".0"
		}
		s.autoGo, s.autoToolchain = s.GoLine, ""
		s.Reason = fmt.Sprintf("required by go line in %s; upgrade allowed by GOTOOLCHAIN=%s", file, gt.Value)
	}
	return s, s.checkName()
}

// parseGOTOOLCHAIN splits a GOTOOLCHAIN setting into its minimum
// toolchain and mode, with Select's errors: "local", "auto" and "path"
// (local+auto, local+path), "<name>", "<name>+auto", "<name>+path". An
// empty setting (a go.env without the line) means local, never switching.
func parseGOTOOLCHAIN(v, local string) (min, mode string, err error) {
	switch v {
	case "", "local":
		return local, "", nil
	case "auto", "path":
		return local, v, nil
	}
	name, suffix, plus := strings.Cut(v, "+")
	min = local
	if name != "local" {
		if goVersionOf(name) == "" {
			if plus {
				return "", "", fmt.Errorf("invalid GOTOOLCHAIN %q: invalid minimum toolchain %q", v, name)
			}
			return "", "", fmt.Errorf("invalid GOTOOLCHAIN %q", v)
		}
		min = name
	}
	if plus && suffix != "auto" && suffix != "path" {
		return "", "", fmt.Errorf("invalid GOTOOLCHAIN %q: only version suffixes are +auto and +path", v)
	}
	return min, suffix, nil
}

// checkName applies Select's last check: a toolchain to switch to must
// look like one, so that GOTOOLCHAIN=bash runs nothing from PATH.
func (s *ToolchainSelection) checkName() error {
	if !s.Switch() || strings.HasPrefix(s.Name, "go1") || strings.Contains(s.Name, "-go1") {
		return nil
	}
	return &SettingError{Value: s.GOTOOLCHAIN, Err: fmt.Errorf("invalid GOTOOLCHAIN %q", s.Name)}
}

// toolchainFile returns the go.work or go.mod file Select reads in dir
// (cmd/go/internal/toolchain.modGoToolchain): the one [modload.FindMain]
// finds, except that a go.work named by GOWORK that does not exist yet
// ('go work init') gives way to go.mod.
func (e *Env) toolchainFile(dir string) (string, error) {
	file, work, err := e.FindMain(dir)
	if err != nil {
		return "", err
	}
	if work {
		if _, err := os.Stat(file); err != nil {
			return modload.FindGoMod(dir), nil
		}
	}
	return file, nil
}

// FindGoWork returns the go.work file the go command uses in dir
// ([modload.FindGoWork] with this environment's GOWORK and GOROOT): none
// for GOWORK=off, GOWORK's file if it names one (which must be absolute),
// else the nearest go.work in dir or above, not looked for in or above
// GOROOT.
func (e *Env) FindGoWork(dir string) (string, error) {
	work, err := modload.FindGoWork(dir, e.Get("GOWORK"), e.Get("GOROOT"))
	return work, e.goworkError(err)
}

// FindMain returns the go.work file in effect in dir (work is true), else
// the go.mod file of the module containing dir, else "": the file that
// decides the main modules of a go command run in dir with this
// environment ([modload.FindMain]).
func (e *Env) FindMain(dir string) (file string, work bool, err error) {
	file, work, err = modload.FindMain(dir, e.Get("GOWORK"), e.Get("GOROOT"))
	return file, work, e.goworkError(err)
}

// goworkError says which setting of GOWORK a FindGoWork error is about.
func (e *Env) goworkError(err error) error {
	if err == nil {
		return nil
	}
	return &SettingError{Value: e.Lookup("GOWORK"), Err: err, Fix: "give the go.work file's absolute path, or GOWORK=off"}
}

// A ToolchainDownload is where the go command finds a toolchain it
// switches to.
type ToolchainDownload struct {
	// Name is the toolchain, such as "go1.22.1".
	Name string
	// PATH is the executable of that name found in PATH, which the go
	// command runs instead of downloading anything; empty if none.
	PATH string
	// Module is the toolchain module version for this platform; zero when
	// PATH is set.
	Module module.Version
	// Zip and Dir are its zip and extracted directory (the toolchain's
	// GOROOT) in the module cache; Sum is the zip's hash.
	Zip, Dir, Sum string
}

// DownloadToolchain makes sure the go command can switch to the toolchain
// name (such as "go1.22.1") without downloading anything, as
// cmd/go/internal/toolchain.Exec would fetch it: an executable of that name
// in PATH is used as it is; otherwise, unless GOTOOLCHAIN only allows
// toolchains from PATH, the zip of golang.org/toolchain for this GOOS and
// GOARCH (those of this program, which are those of the go command on the
// same machine) is downloaded along the module's route, verified against
// the checksum database, which the go command requires for toolchains even
// with GOSUMDB=off or GONOSUMDB (unless GOPROXY is a single file:// URL),
// and extracted into the module cache. Only the zip is fetched, as the go
// command fetches it; go.sum plays no part, since it cannot list
// toolchains. The go command sets the executable bits itself on first use.
//
// Like every download of the Client it is retried and resumed unless
// retries are disabled (NoRetry, HTTP.Disabled). Errors are worded as the
// go command's: "download go1.22.1 for linux/amd64: toolchain not
// available".
func (c *Client) DownloadToolchain(ctx context.Context, name string) (*ToolchainDownload, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	v := goVersionOf(name)
	if v == "" {
		return nil, fmt.Errorf("invalid toolchain name %q", name)
	}
	d := &ToolchainDownload{Name: name}
	if exe, err := c.env.LookPath(name); err == nil {
		d.PATH = exe
		return d, nil
	}
	if gt := c.env.Get("GOTOOLCHAIN"); gt == "path" || strings.HasSuffix(gt, "+path") {
		return nil, fmt.Errorf("cannot find %q in PATH", name)
	}
	d.Module = module.Version{Path: ToolchainModule, Version: ToolchainModuleVersion(name, runtime.GOOS, runtime.GOARCH)}
	tc := c.toolchainClient()
	var err error
	d.Zip, d.Dir, d.Sum, err = tc.zip(ctx, d.Module.Path, d.Module.Version, zipJob{extract: true})
	if err != nil {
		return nil, toolchainError(name, err)
	}
	return d, nil
}

// toolchainClient returns a Client like c that verifies against the
// checksum database alone, as the go command's switch does before it
// reads any go.sum.
func (c *Client) toolchainClient() *Client {
	if c.GoSum == nil {
		return c
	}
	tc := &Client{Env: c.env, Cache: c.cache, HTTP: c.HTTP, NoRetry: c.NoRetry, OnFetch: c.OnFetch, Logger: c.Logger, GoVersion: c.GoVersion, Dir: c.Dir}
	tc.init()
	return tc
}

// toolchainError words a failed toolchain download as toolchain.Exec does.
func toolchainError(name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		if v := goVersionOf(name); isGoLang(v) && compareGo(v, "1.21") >= 0 {
			return fmt.Errorf("invalid toolchain: %s is a language version but not a toolchain version (%s.x)", name, name)
		}
		return fmt.Errorf("download %s for %s/%s: toolchain not available: %w", name, runtime.GOOS, runtime.GOARCH, err)
	}
	return fmt.Errorf("download %s: %w", name, err)
}

// NewerToolchain returns the toolchain the go command switches to when a
// module needs at least Go goVersion (cmd/go/internal/toolchain.NewerToolchain):
// among the Go releases golang.org/toolchain lists along its route (every
// platform's, and the local one), the latest patch release of the
// language before the newest release if that is new enough, else the
// newest. In GOTOOLCHAIN path mode the candidates are the go1.x
// executables in PATH instead.
func (c *Client) NewerToolchain(ctx context.Context, goVersion string) (string, error) {
	if err := c.init(); err != nil {
		return "", err
	}
	local, _ := c.env.LocalToolchain(ctx)
	var list []string
	gt := c.env.Get("GOTOOLCHAIN")
	if gt == "auto" || strings.HasSuffix(gt, "+auto") {
		versions, err := c.List(ctx, ToolchainModule)
		if err != nil {
			return "", fmt.Errorf("switching to go >= %v: %w", goVersion, err)
		}
		list = toolchainGoVersions(versions, goVersionOf(local))
	} else {
		list = pathToolchains(c.env.OS("PATH"))
	}
	name, err := newerToolchain(goVersion, list)
	if err != nil {
		return "", fmt.Errorf("switching to go >= %v: %w", goVersion, err)
	}
	return name, nil
}

// toolchainGoVersions turns golang.org/toolchain versions into the sorted,
// distinct Go versions they carry, with local's added
// (modfetch.toolchainRepo.Versions and dlToGo).
func toolchainGoVersions(versions []string, local string) []string {
	have := map[string]bool{}
	var list []string
	add := func(v string) {
		if v != "" && !have[v] {
			have[v] = true
			list = append(list, v)
		}
	}
	for _, dl := range versions {
		_, v, ok := strings.Cut(dl, "-")
		if !ok {
			continue
		}
		i := strings.LastIndex(v, ".")
		if i < 0 || !strings.Contains(v[i+1:], "-") {
			continue
		}
		add(strings.TrimPrefix(v[:i], "go"))
	}
	add(local)
	slices.SortFunc(list, compareGo)
	return list
}

// pathToolchains lists the Go versions of go1.x executables in PATH's
// absolute directories (toolchain.pathToolchains).
func pathToolchains(pathList string) []string {
	have := map[string]bool{}
	var list []string
	for _, dir := range filepath.SplitList(pathList) {
		if !filepath.IsAbs(dir) {
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, de := range entries {
			name := strings.TrimSuffix(de.Name(), ".exe")
			if de.IsDir() || !strings.HasPrefix(name, "go1.") {
				continue
			}
			v := goVersionOf(name)
			if v == "" || have[v] {
				continue
			}
			if exe, err := osenv.LookPath(name, dir); err != nil || exe == "" {
				continue
			}
			have[v] = true
			list = append(list, v)
		}
	}
	slices.SortFunc(list, compareGo)
	return list
}

// newerToolchain picks from a sorted list of Go versions
// (toolchain.newerToolchain): newest first, only versions >= need and the
// latest of each language; the latest patch release of the language
// before the newest release wins, so that a brand-new 1.N.0 is not chosen
// while 1.(N-1).x will do.
func newerToolchain(need string, list []string) (string, error) {
	latest := ""
	for i := len(list) - 1; i >= 0; i-- {
		v := list[i]
		if compareGo(v, need) < 0 {
			break
		}
		if goLang(latest) == goLang(v) {
			continue
		}
		newer := latest
		latest = v
		if newer != "" && !isGoPrerelease(newer) {
			break
		}
	}
	if latest == "" {
		return "", fmt.Errorf("no releases found for go >= %v", need)
	}
	return "go" + latest, nil
}

// ErrTooNew is matched by every [*TooNewError]
// (cmd/go/internal/gover.ErrTooNew).
var ErrTooNew = errors.New("module too new")

// A TooNewError reports that a module needs a newer Go than the toolchain
// running, as the go command reports it (cmd/go/internal/gover.TooNewError).
type TooNewError struct {
	// What needs the newer Go, such as "example.com/m@v1.2.0".
	What string
	// GoVersion is the version it needs, from its go line.
	GoVersion string
	// Running is the Go version assumed to run ([Client.GoVersion]).
	Running string
	// Explain is the go command's explanation of the running version:
	// "; GOTOOLCHAIN=local", "; go.mod sets go 1.21", or empty.
	Explain string
}

func (e *TooNewError) Error() string {
	return fmt.Sprintf("%v requires go >= %v (running go %v%v)", e.What, e.GoVersion, e.Running, e.Explain)
}

// Is reports whether target is ErrTooNew.
func (e *TooNewError) Is(target error) bool { return target == ErrTooNew }

// TooNew returns the error the go command reports, run where s was
// selected, when what (a module, a go.mod file) asks for goVersion: a
// [*TooNewError] if goVersion is newer than the Go that runs, else nil.
// wd is the directory the go command runs in, to shorten file names in
// the message as the go command does.
func (s *ToolchainSelection) TooNew(wd, what, goVersion string) error {
	if running := s.GoVersion(); running != "" && compareGo(goVersion, running) > 0 {
		return &TooNewError{What: what, GoVersion: goVersion, Running: running, Explain: s.explainRunning(wd)}
	}
	return nil
}

// explainRunning is gover.TooNewError's explanation of why the running
// version runs: a GOTOOLCHAIN other than auto, and the file whose line
// chose it (gover.Startup).
func (s *ToolchainSelection) explainRunning(wd string) string {
	var explain string
	if s.GOTOOLCHAIN.Value != "" && s.GOTOOLCHAIN.Value != "auto" {
		explain = "; GOTOOLCHAIN=" + s.GOTOOLCHAIN.Value
	}
	if s.File != "" && (s.autoGo != "" || s.autoToolchain != "") {
		explain += "; " + shortPath(wd, s.File) + " sets "
		if s.autoToolchain != "" {
			explain += "toolchain " + s.autoToolchain
		} else {
			explain += "go " + s.autoGo
		}
	}
	return explain
}

// shortPath returns path relative to the working directory wd when that
// is shorter, as cmd/go/internal/base.ShortPath does.
func shortPath(wd, path string) string {
	if rel, err := filepath.Rel(wd, path); err == nil && len(rel) < len(path) && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return rel
	}
	return path
}

// runningGo is the toolchain the Client's "requires newer go" rule
// compares with, and the directory the go command would run in.
type runningGo struct {
	sel *ToolchainSelection // nil when unknown: the rule is not applied
	wd  string
}

// findRunningGo decides the Client's running toolchain once.
func (c *Client) findRunningGo() *runningGo {
	if c.GoVersion != "" {
		v := strings.TrimPrefix(c.GoVersion, "go")
		return &runningGo{sel: &ToolchainSelection{Local: "go" + v, Min: "go" + v, Name: "go" + v}}
	}
	wd := c.Dir
	if wd == "" {
		var err error
		if wd, err = os.Getwd(); err != nil {
			return &runningGo{}
		}
	}
	sel, err := c.env.SelectToolchain(context.Background(), wd)
	if err != nil {
		if c.Logger != nil {
			c.Logger.Debug("no running go version: the requires-newer-go rule is not applied", "err", err)
		}
		return &runningGo{}
	}
	return &runningGo{sel: sel, wd: wd}
}

// checkGoLine returns a *TooNewError if the go line of gomod asks for a
// newer Go than the running one; what names the module
// (cmd/go/internal/modfetch.Download's check).
func (c *Client) checkGoLine(what string, gomod []byte) error {
	run := c.running()
	if run.sel == nil {
		return nil
	}
	return run.sel.TooNew(run.wd, what, goModLine(gomod, "go"))
}

// A ToolchainSwitch is the go command's answer to modules too new for the
// running toolchain: the toolchain it switches to, and why.
type ToolchainSwitch struct {
	// TooNew is the error that asks for the newest Go.
	TooNew *TooNewError
	// Name is the toolchain chosen for it ([Client.NewerToolchain]).
	Name string
	// Download is where the toolchain is now: in PATH, or in the module
	// cache.
	Download *ToolchainDownload
}

// SwitchToolchain does what the go command's toolchain.Switcher does with
// the errors of an operation (cmd/go/internal/toolchain: Switcher.Error,
// NeedSwitch, Switch): if any is a [*TooNewError] (possibly wrapped or
// joined) and GOTOOLCHAIN allows switching (auto, path, or name+auto and
// name+path), it picks the toolchain for the highest Go version asked
// for and makes sure it is in PATH or downloaded ([Client.DownloadToolchain]).
// The go command would then run the operation again with that toolchain;
// the caller can, with a Client whose GoVersion is the new one. It returns
// nil, nil when no switch is called for, and the go command's error
// ("switching to go >= 1.23: ...") when the switch cannot happen.
func (c *Client) SwitchToolchain(ctx context.Context, errs ...error) (*ToolchainSwitch, error) {
	sw, err := c.chooseSwitch(ctx, errs)
	if sw == nil || err != nil {
		return nil, err
	}
	if sw.Download, err = c.DownloadToolchain(ctx, sw.Name); err != nil {
		return nil, err
	}
	return sw, nil
}

// chooseSwitch is SwitchToolchain without the download.
func (c *Client) chooseSwitch(ctx context.Context, errs []error) (*ToolchainSwitch, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	var tooNew *TooNewError
	for _, err := range errs {
		tooNew = maxTooNew(tooNew, err)
	}
	gt := c.env.Get("GOTOOLCHAIN")
	auto := gt == "auto" || strings.HasSuffix(gt, "+auto")
	path := gt == "path" || strings.HasSuffix(gt, "+path")
	if tooNew == nil || !(auto || path) {
		return nil, nil
	}
	name, err := c.NewerToolchain(ctx, tooNew.GoVersion)
	if err != nil {
		return nil, err
	}
	return &ToolchainSwitch{TooNew: tooNew, Name: name}, nil
}

// maxTooNew returns the TooNewError, of best and those in err's tree,
// that asks for the highest Go version, the first by What among equals
// (Switcher.addTooNew).
func maxTooNew(best *TooNewError, err error) *TooNewError {
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			best = maxTooNew(best, x)
		}
	case *TooNewError:
		if best == nil || compareGo(e.GoVersion, best.GoVersion) > 0 ||
			(compareGo(e.GoVersion, best.GoVersion) == 0 && e.What < best.What) {
			best = e
		}
	case interface{ Unwrap() error }:
		best = maxTooNew(best, e.Unwrap())
	}
	return best
}
