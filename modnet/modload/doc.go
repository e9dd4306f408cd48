// Package modload reads main modules and loads their module graphs as the
// go command's cmd/go/internal/modload does: a go.mod or go.work file
// becomes a [MainModule] (its requirements, its replace and exclude
// directives, a workspace's modules), a [Loader] walks the go.mod files
// those requirements reach, with graph pruning, into a [Graph] whose build
// list minimal version selection picks, and [MainModule.QueryOptions] is
// the main module's view of a version query. [FindMain] finds which file
// a go command run in a directory reads: the go.work in effect, else
// go.mod. It loads no packages,
// downloads nothing (the go.mod files of module versions come from a
// [GoModSource], such as a modnet.Client) and never writes go.mod or
// go.sum.
package modload
