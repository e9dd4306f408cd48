package modnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/modnet/internal/lockedfile"
	"github.com/modkit/modkit/modnet/modload"
)

// readMain reads the request's main module or workspace and the checksums
// it trusts, and decides which file go.sum lines go to: the go.sum paired
// with ModFile (GoSumFile if set), or go.work.sum.
func (p *prefetcher) readMain(gosum *GoSum) (*GoSum, error) {
	req := &p.req
	if req.ModFile != "" && req.WorkFile != "" {
		return nil, errors.New("prefetch: ModFile and WorkFile are exclusive: a workspace has no single main module")
	}
	var err error
	switch {
	case req.WorkFile != "":
		if p.main, err = modload.ReadWorkspace(req.WorkFile); err != nil {
			return nil, err
		}
		p.sumFile = modload.WorkSumFile(req.WorkFile)
		if req.GoSumFile == "" {
			p.workSums = make(map[module.Version]bool)
			for _, mm := range p.main.Workspace {
				ms, err := ReadModuleGoSum(mm.Dir)
				if err != nil {
					return nil, err
				}
				for m := range ms.lines {
					p.workSums[m] = true
				}
			}
			return ReadWorkspaceGoSum(p.main, req.WorkFile)
		}
	case req.ModFile != "":
		if p.main, err = modload.ReadMainModule(req.ModFile); err != nil {
			return nil, err
		}
		p.sumFile = modload.GoSumFile(req.ModFile)
	}
	if req.GoSumFile != "" {
		p.sumFile = req.GoSumFile
	}
	if p.sumFile == "" {
		return gosum, nil
	}
	return ReadGoSum(p.sumFile)
}

// keepSums returns the go.sum lines the go command keeps after
// 'go mod download all' (modload.keepSums with addBuildListZipSums):
// the go.mod hash of every module version whose requirements are in the
// graph and the zip and go.mod hashes of every module in the build list,
// each under its replacement; directory replacements have none. Only
// hashes Prefetch verified are known, as only checked hashes are added by
// the go command.
func (p *prefetcher) keepSums() map[module.Version]string {
	keep := map[module.Version]string{}
	if p.graph == nil {
		return keep
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	verified := func(m module.Version) *PrefetchModule {
		if pm := p.mods[m]; pm != nil && pm.needed && pm.res.Err == nil {
			return &pm.res
		}
		return nil
	}
	for _, m := range p.graph.Loaded() {
		r := p.replacement(m)
		if res := verified(r); r.Version != "" && res != nil && res.Files.GoModSum != "" {
			keep[module.Version{Path: r.Path, Version: r.Version + "/go.mod"}] = res.Files.GoModSum
		}
	}
	for _, m := range p.graph.BuildList() {
		r := p.replacement(m)
		res := verified(r)
		if r.Version == "" || res == nil {
			continue
		}
		if res.Files.GoModSum != "" {
			keep[module.Version{Path: r.Path, Version: r.Version + "/go.mod"}] = res.Files.GoModSum
		}
		if res.Files.Sum != "" {
			keep[r] = res.Files.Sum
		}
	}
	return keep
}

// updateGoSum adds the kept hashes go.sum lacks, as the go command's
// WriteGoSum does: under the go.sum file's lock, the file is read again,
// the new lines merged in and the whole written sorted, each module's
// hashes once; lines already there stay. In a workspace, lines for
// modules a use'd module's go.sum lists are left to that go.sum. Nothing
// is written when nothing is missing.
func (p *prefetcher) updateGoSum(ctx context.Context, res *PrefetchResult) error {
	if p.sumFile == "" || p.req.NoGoSum {
		return nil
	}
	keep := p.keepSums()
	res.GoSumFile = p.sumFile
	missing := func(have map[module.Version][]string) []string {
		var add []string
		for m, h := range keep {
			if !slices.Contains(have[m], h) && !p.workSums[m] {
				add = append(add, m.Path+" "+m.Version+" "+h)
			}
		}
		slices.Sort(add)
		return add
	}
	data, err := lockedfile.Read(ctx, p.sumFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("updating go.sum: %w", err)
	}
	have, err := goSumHashes(data, p.sumFile)
	if err != nil {
		return fmt.Errorf("updating go.sum: %w", err)
	}
	if len(missing(have)) == 0 {
		return nil
	}
	f, err := lockedfile.OpenFile(ctx, p.sumFile, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return fmt.Errorf("updating go.sum: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return fmt.Errorf("updating go.sum: %w", err)
	}
	if have, err = goSumHashes(buf.Bytes(), p.sumFile); err != nil {
		return fmt.Errorf("updating go.sum: %w", err)
	}
	res.GoSumAdded = missing(have)
	for m, h := range keep {
		if !p.workSums[m] {
			have[m] = append(have[m], h)
		}
	}
	out := formatGoSum(have, p.workSums)
	// Written beside and renamed over go.sum, so that a crash leaves the
	// old file or the new one, never half of one.
	tmp, err := os.CreateTemp(filepath.Dir(p.sumFile), filepath.Base(p.sumFile)+".tmp-*")
	if err != nil {
		return fmt.Errorf("updating go.sum: %w", err)
	}
	defer os.Remove(tmp.Name())
	if fi, err := os.Stat(p.sumFile); err == nil {
		tmp.Chmod(fi.Mode().Perm())
	}
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return fmt.Errorf("updating go.sum: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("updating go.sum: %w", err)
	}
	if err := os.Rename(tmp.Name(), p.sumFile); err != nil {
		return fmt.Errorf("updating go.sum: %w", err)
	}
	return nil
}

// goSumHashes parses go.sum content into each module version's hashes,
// with ParseGoSum's rules.
func goSumHashes(data []byte, name string) (map[module.Version][]string, error) {
	s, err := ParseGoSum(data, name)
	if err != nil {
		return nil, err
	}
	have := make(map[module.Version][]string, len(s.lines))
	for m, lines := range s.lines {
		for _, l := range lines {
			have[m] = append(have[m], l.Hash)
		}
	}
	return have, nil
}

// formatGoSum writes go.sum lines as the go command does
// (modfetch.tidyGoSum): modules sorted by path and version (module.Sort,
// a go.mod hash after the zip's), each module's hashes sorted and once,
// leaving out modules skip lists.
func formatGoSum(sums map[module.Version][]string, skip map[module.Version]bool) []byte {
	mods := make([]module.Version, 0, len(sums))
	for m := range sums {
		if !skip[m] {
			mods = append(mods, m)
		}
	}
	module.Sort(mods)
	var buf bytes.Buffer
	for _, m := range mods {
		hashes := slices.Clone(sums[m])
		slices.Sort(hashes)
		for _, h := range slices.Compact(hashes) {
			fmt.Fprintf(&buf, "%s %s %s\n", m.Path, m.Version, h)
		}
	}
	return buf.Bytes()
}
