package modload

import (
	"context"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// QueryOptions give a version query (modnet's Client.QueryFor) the main
// module's view of a module, as the go command has it inside a module
// (cmd/go/internal/modload.Query's current and allowed arguments).
type QueryOptions struct {
	// Current is the module's selected version in the main module's build
	// list; empty or "none" when it has none. "upgrade" and "patch" are
	// relative to it, and a current +incompatible version makes queries
	// prefer +incompatible versions.
	Current string
	// Exclude, if set, reports the versions the main module's go.mod
	// excludes; list-based queries never choose them.
	Exclude func(version string) bool
}

// QueryOptions returns the main module's view of path for a query, as
// 'go mod download path@query' has it inside the module
// (modload.listModules): the current version is the one go.mod requires
// directly; for "upgrade" and "patch", when go.mod does not require path,
// its graph is unpruned or it is a workspace's, the one its module graph
// selects (loaded with loader, which may be nil otherwise); "none" when
// there is none. go.mod's (the workspace's) exclude directives exclude.
func (mm *MainModule) QueryOptions(ctx context.Context, loader *Loader, path, query string) QueryOptions {
	opts := QueryOptions{Current: "none", Exclude: func(v string) bool { return mm.Exclude[module.Version{Path: path, Version: v}] }}
	root := ""
	if len(mm.Workspace) == 0 { // a workspace's roots are its main modules
		for _, r := range mm.Require {
			if r.Path == path && semver.Compare(r.Version, root) > 0 {
				root = r.Version
			}
		}
	}
	if root != "" && mm.Pruned {
		opts.Current = root
		return opts
	}
	if (query == "upgrade" || query == "patch") && loader != nil {
		if v := loader.Load(ctx, mm).Selected(path); v != "" {
			opts.Current = v
		}
		return opts
	}
	if root != "" {
		opts.Current = root
	}
	return opts
}
