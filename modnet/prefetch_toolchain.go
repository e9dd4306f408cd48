package modnet

import (
	"context"
	"runtime"

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
