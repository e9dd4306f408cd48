// Package coderepo maps a version control repository to the versions of
// one module in it, as cmd/go/internal/modfetch/coderepo.go does: which
// tags are versions (with +incompatible where allowed), what a branch, tag
// or hash resolves to (pseudo-versions and their checks), where the
// module's go.mod lives at a version, and the module zip the go command
// would make from the tree. It reads the repository only through a
// [codehost.Repo], so any version control system that implements one
// works; it neither finds repositories (package vcs) nor caches anything.
package coderepo
