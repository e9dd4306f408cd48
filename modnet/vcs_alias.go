package modnet

import (
	"context"
	"io"

	"github.com/modkit/modkit/modnet/vcs"
)

// Direct mode's discovery moved to package [vcs]; these names keep working.

// RepoRoot is [vcs.RepoRoot].
type RepoRoot = vcs.RepoRoot

// DiscoverOptions is [vcs.DiscoverOptions].
type DiscoverOptions = vcs.DiscoverOptions

// MetaImport is [vcs.MetaImport].
type MetaImport = vcs.MetaImport

// VCSPolicy is [vcs.VCSPolicy].
type VCSPolicy = vcs.VCSPolicy

// ResolveImportPath is [vcs.ResolveImportPath].
func ResolveImportPath(ctx context.Context, importPath string, opts DiscoverOptions) (*RepoRoot, error) {
	return vcs.ResolveImportPath(ctx, importPath, opts)
}

// ParseMetaGoImports is [vcs.ParseMetaGoImports].
func ParseMetaGoImports(r io.Reader, ignoreMod bool) ([]MetaImport, error) {
	return vcs.ParseMetaGoImports(r, ignoreMod)
}

// ParseGOVCS is [vcs.ParseGOVCS].
func ParseGOVCS(s string) (*VCSPolicy, error) { return vcs.ParseGOVCS(s) }
