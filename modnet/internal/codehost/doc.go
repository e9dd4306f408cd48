// Package codehost is the version control side of direct mode, shaped
// like the go command's cmd/go/internal/modfetch/codehost: a [Repo]
// answers questions about a repository's tags, commits and files and
// writes archives of its trees, and [NewGitRepo] implements it with a bare
// git mirror in the module cache (the go command's layout and locks, so
// the two share mirrors), fetched on demand with the system git. It knows
// nothing of modules: which tags are versions and what a module zip holds
// is package coderepo's. Only git is implemented; another VCS would be a
// second Repo implementation.
package codehost
