// Package vcs answers where the code for an import path lives, as the go
// command's cmd/go/internal/vcs does: built-in rules for well-known hosts
// and ".git"-style paths, go-import meta tags served with ?go-get=1
// ([ResolveImportPath], [ParseMetaGoImports]), and the GOVCS policy that
// says which version control tools may run for which repositories
// ([ParseGOVCS], [VCSPolicy]). It fills the gap that x/tools' deprecated
// go/vcs left open. It does not fetch repositories or know about module
// versions; modnet's direct mode builds on it for that.
package vcs
