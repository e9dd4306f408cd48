package modnet

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/mod/module"
)

// selectToolchain decides, as the go command run in the main module's
// directory would, which toolchain runs 'go mod download all' there; when
// it is a newer one, Prefetch fetches it as the go command's switch does
// (see [Client.DownloadToolchain]).
func (p *prefetcher) selectToolchain(ctx context.Context) error {
	if p.main == nil || p.req.NoToolchain {
		return nil
	}
	if _, err := p.c.env.LocalToolchain(ctx); err != nil {
		// No go command to switch from (no GOROOT): nothing to decide.
		if p.c.Logger != nil {
			p.c.Logger.Debug("prefetch: no local toolchain, so no toolchain switch", "err", err)
		}
		return nil
	}
	sel, err := p.c.env.SelectToolchain(ctx, p.main.Dir)
	if err != nil {
		return err
	}
	p.toolchain = sel
	return nil
}

// fetchToolchain starts fetching the toolchain selected, unless the local
// one runs or the go command would find it in PATH: only its zip, which
// is verified against the checksum database and extracted (unless
// NoExtract), as toolchain.Exec downloads it. In GOTOOLCHAIN path mode a toolchain
// missing from PATH is a failure, as it is for the go command.
func (p *prefetcher) fetchToolchain(ctx context.Context) {
	sel := p.toolchain
	if sel == nil || !sel.Switch() {
		return
	}
	if exe, err := p.c.env.LookPath(sel.Name); err == nil {
		p.toolchainPATH = exe
		return
	}
	m := module.Version{Path: ToolchainModule, Version: ToolchainModuleVersion(sel.Name, runtime.GOOS, runtime.GOARCH)}
	p.mu.Lock()
	pm, _ := p.needLocked(m)
	pm.full = true
	p.mu.Unlock()
	p.work.Go(func() {
		res := PrefetchModule{Path: m.Path, Version: m.Version, Toolchain: sel.Name}
		var err error
		if sel.Mode == "path" {
			_, err = p.c.DownloadToolchain(ctx, sel.Name) // fails: not in PATH
		} else {
			var zipfile, dir, sum string
			zipfile, dir, sum, err = p.zip(ctx, pm)
			if err == nil {
				res.Files = ModuleFiles{Path: m.Path, Version: m.Version, Zip: zipfile, Dir: dir, Sum: sum}
				res.Cached = !pm.started.Load()
			} else {
				err = toolchainError(sel.Name, err)
			}
		}
		if err != nil {
			res.Err, res.Class = err, failureClass(err)
		}
		res.Bytes, res.Retries = pm.bytes.Load(), int(pm.retries.Load())
		p.mu.Lock()
		pm.res = res
		p.mu.Unlock()
		p.report(pm)
	})
}

// checkGoVersions applies the go command's "requires newer go" rule to
// the loaded graph (modload.goModSummary): a module whose go.mod asks for
// go 1.21 or later, newer than the Go that runs, fails with a
// [*TooNewError]. When GOTOOLCHAIN allows switching, the go command
// instead switches to the toolchain [Client.NewerToolchain] picks for the
// highest such version and loads the graph again with it, where nothing
// is too new: Prefetch then fetches that toolchain (unless NoToolchain)
// and fails nothing.
func (p *prefetcher) checkGoVersions(ctx context.Context) {
	if p.graph == nil {
		return
	}
	loaded := p.graph.Loaded()
	var tooNew []error
	var failing []module.Version
	for _, m := range loaded {
		data := p.graphGoMod(m)
		// A module of the build list fails its download first, where the
		// go command names it without "module" (modfetch.Download), and
		// exits before the graph's error; a go.mod-only one fails the graph.
		what := "module " + m.String()
		if p.graph.Selected(m.Path) == m.Version {
			what = p.replacementOrSelf(m).String()
		}
		if goVers := goModLine(data, "go"); compareGo(goVers, "1.21") >= 0 {
			if err := p.c.checkGoLine(what, data); err != nil {
				tooNew, failing = append(tooNew, err), append(failing, m)
			}
		}
	}
	if len(tooNew) == 0 {
		return
	}
	sw, err := p.c.chooseSwitch(ctx, tooNew)
	if err == nil && sw != nil {
		sel := &ToolchainSelection{Local: p.c.running().sel.Local, GOTOOLCHAIN: p.c.env.Lookup("GOTOOLCHAIN"), Name: sw.Name,
			Reason: sw.TooNew.What + " requires go >= " + sw.TooNew.GoVersion}
		if gt := sel.GOTOOLCHAIN.Value; gt == "path" || strings.HasSuffix(gt, "+path") {
			sel.Mode = "path"
		}
		p.toolchain = sel
		if !p.req.NoToolchain {
			p.fetchToolchain(ctx)
		}
		return
	}
	for i, m := range failing {
		if err != nil {
			// The switch the go command tries fails too; it reports both.
			tooNew[i] = errors.Join(tooNew[i], err)
		}
		err := tooNew[i]
		if !strings.HasPrefix(err.Error(), m.String()) {
			err = p.graphPathError(m, err)
		}
		p.graphFailure(p.replacementOrSelf(m), err)
	}
}

// graphPathError words a failure of m's go.mod as the go command reports
// module graph errors (mvs.BuildListError): the shortest chain of
// requirements from the main module to m, then m's error.
func (p *prefetcher) graphPathError(m module.Version, err error) error {
	return &graphError{chain: p.graph.FindPath(m), err: err}
}

// A graphError is a module graph failure with the requirements that lead
// to it.
type graphError struct {
	chain []module.Version // from a requirement of the main module to the failing module
	err   error
}

func (e *graphError) Error() string {
	var b strings.Builder
	for _, m := range e.chain[:max(len(e.chain)-1, 0)] {
		b.WriteString(m.String() + " requires\n\t")
	}
	if len(e.chain) > 0 {
		b.WriteString(e.chain[len(e.chain)-1].String() + ": ")
	}
	b.WriteString(e.err.Error())
	return b.String()
}

func (e *graphError) Unwrap() error { return e.err }

// graphGoMod returns the go.mod the graph read for m: its replacement's,
// from the directory for a directory replacement.
func (p *prefetcher) graphGoMod(m module.Version) []byte {
	actual := p.replacement(m)
	if actual.Version == "" {
		dir := actual.Path
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(p.main.Dir, dir)
		}
		data, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
		return data
	}
	if r, ok := p.gomods.peek(actual); ok {
		return r.data
	}
	return nil
}

// replacementOrSelf is m's replacement when it is a module version, else
// m: the module version whose outcome a failure of m's go.mod is.
func (p *prefetcher) replacementOrSelf(m module.Version) module.Version {
	if r := p.replacement(m); r.Version != "" {
		return r
	}
	return m
}
