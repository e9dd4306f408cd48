// Package analyzer defines an Analyzer that reports risky replace
// directives in go.mod. It reads go.mod and go.work files and asks the
// network only for the checks that need it, when enabled; it changes
// nothing unless its suggested fixes are applied.
//
// # Analyzer modreplace
//
// modreplace: report risky replace directives in go.mod
//
// go mod tidy never touches replace directives, go mod verify does not
// check replacements, and vulnerability scanners key on the replaced
// module's path. modreplace explains which replace is risky and why, at its
// line in go.mod, and what it does in the module graph ("applies to
// go.temporal.io/sdk v1.44.0 required by go.temporal.io/server (../..):
// downgrades it to v1.42.0"). Each diagnostic's category is its check's
// ID, and its message, which starts with "[ID]", says what goes wrong and
// what to do. Every check judges every replace on its own, on what the
// replace does in the module graph: one verdict never keeps another check
// from running.
//
// On by default:
//
//   - local-escape: a local replacement directory that is an absolute path,
//     lies outside the repository holding go.mod (the first directory
//     upward with .git, .hg, .svn, .bzr, .fslckout or _FOSSIL_; no
//     repository, no check), or does not exist.
//   - local-mismatch: a local replacement directory with no go.mod, or whose
//     go.mod declares another module path. The go command checks neither
//     for local replacements.
//   - placeholder: a module version in the module graph that was never
//     published, and that no replace of this module covers: the
//     placeholder v0.0.0-00010101000000-000000000000, or the version at
//     which a sibling module of the repository is required while it
//     exists only as a directory. The replace that makes it work is in the
//     sibling's go.mod, which the go command ignores here, so go list -m
//     all, every build and every consumer fail. Reported at the line that
//     brings the requirement in.
//   - downgrade: a replace of a module by a lower version of itself than
//     the one the module graph selects: the build uses older code than the
//     go.mod files claim.
//   - inert: "m v1.0.0 => ..." while the module graph holds m only at other
//     versions, or a replace of the main module itself: it never applies.
//   - unused: a replace of a module that is not in the module graph at
//     all: it has no effect.
//   - fork: a replacement by another module path, of the version the
//     build selects. Scanners, go.sum reviews and "go list -m all" name
//     the old path, so advisories against the fork are missed. Trusted
//     forks and mirrors are allowed with -allow (GOPRIVATE pattern syntax).
//   - wildcard: a version-less replace by a module version. It also
//     captures every future version (go get m@latest keeps building the
//     replacement) and hides retractions. Suggested fix, when the graph
//     holds m at a single version: pin it ("m v1.5.0 => fork v1.0.0"),
//     which builds identically today; for "m => m <selected version>",
//     which does nothing but hold back upgrades, the fix removes it.
//   - pseudo-version: a replacement, of a version in the module graph, by a
//     pseudo-version, an untagged commit that can vanish when its branch
//     is rebased or deleted.
//   - duplicate: the same module (and version) replaced twice — identical
//     (suggested fix: remove the repeat, unless it is a local directory) or
//     conflicting, which the go command refuses to load; a version-less and
//     a versioned replace of one module, which overlap; or a chain
//     "a => b v1", "b => c v2": replacements do not chain, so a is built
//     from b v1.
//   - noop: "m v1.0.0 => m v1.0.0". Suggested fix: remove it.
//   - gowork-shadow: a replace that the go.work above the module (found
//     upward, whatever GOWORK says), which uses the module, overrides
//     with something else: the go.work uses another directory for the
//     module, or a directory where the replace names a version (a
//     workspace module is built from its directory, never replaced); the
//     go.work replaces the module differently; or another module of the
//     workspace replaces it differently, so the workspace does not load.
//     A go.work that uses the very directory the replace names builds the
//     same code and is not reported.
//
// Off by default (-enable=ID):
//
//   - undocumented: a replace with no comment above it, beside it, or above
//     its replace block saying why it exists.
//   - retracted: a replacement version retracted by its authors, or a
//     deprecated replacement module, as the go.mod of the module's latest
//     version says. It asks the module proxy ([ModuleInfoSource]; by
//     default [ModnetSource]), and reports a diagnostic when it cannot.
//     Enabling it also lets the module graph fetch the go.mod files the
//     module cache lacks.
//   - library: every replace in a module without a main package. Such a
//     module is only built as a dependency, and then its replaces are
//     ignored: consumers never get them.
//
// Suggested fixes are offered only where the result builds the same
// module graph (noop, identical duplicate, wildcard pin) and no
// conflicting replace of the same version makes the outcome ambiguous; a
// local replacement is never removed automatically. Fixes edit go.mod by
// byte offsets, keeping its comments and layout.
//
// Flags:
//
//	-enable=ID,...   run these checks too ("all": every check)
//	-disable=ID,...  do not run these checks
//	-allow=PATTERNS  trusted fork and mirror module paths (GOPRIVATE syntax)
//
// In a multi-analyzer driver the flags are prefixed: -modreplace.allow=...
//
// # The module graph
//
// The unused, inert, downgrade and placeholder checks are decided on the
// module graph as the go command computes it ([modload.Loader]),
// not on go.mod's require list: from this module's requirements, through
// the go.mod of every module reached, pruned below modules at go 1.17 or
// later, with this module's replace and exclude directives applied
// throughout. A module that go.mod does not list is often in the build all
// the same: most often because the go.mod of a local replacement
// directory requires it. Every message says what its replace does in
// that graph.
//
// The go.mod files of local replacement directories are read from disk,
// those of module versions from the module cache ([GoModSource]; by
// default that of the environment, GOMODCACHE). Only with the retracted
// check enabled, the one opt-in that lets modreplace use the network, are
// the go.mod files the module cache lacks fetched through GOPROXY
// ([ModnetSource.GoMod]: the module's route, verified against the
// checksum database, stored in the module cache).
//
// # What modreplace cannot tell
//
// When the module graph cannot be loaded whole (go.mod files missing from
// the module cache, offline), a replace of a module that the loaded part
// does not hold may still apply through what is missing. modreplace then
// never claims "unused" or "inert": it says it cannot tell, how many go.mod
// files are missing, and how to let it look (run 'go list -m all' once,
// which fills the module cache, or enable the retracted check).
//
// That is a [Note], not a diagnostic, because every driver fails on a
// diagnostic and none can be told otherwise: go vet exits 1 on any
// finding, singlechecker exits 3, golangci-lint counts it as an issue, and
// x/tools diagnostics have no severity for an analyzer to lower. Notes are
// written to standard error, where go vet, the modreplace command and
// golangci-lint show them, and never change an exit status; callers of
// the package receive them through [Config.OnNote]. go vet shows a note
// on the run that computes it, not when it replays a cached result.
//
// # One report per module
//
// The findings are about go.mod, but drivers run an analyzer once per
// package; go vet even runs each package in its own process. So only the
// module's owner package reports: the package with the smallest import
// path among the module's directories that hold a non-test Go file for the
// current GOOS, GOARCH and CGO_ENABLED, skipping what the go command's
// "./..." skips (names starting with "." or "_", testdata, vendor at the
// root, nested modules, ignore directives). That is the package the go
// command lists first for "./...", usually the module root's. Its external
// test package never reports; of its test variants ("p" and "p [p.test]")
// in one driver run, the first analyzed reports. A run that does not
// include the owner package (go vet ./sub/...) reports nothing about
// go.mod, and neither does one in which the owner fails to compile (go vet
// skips it); use "modreplace -gomod" to check go.mod alone. Build tags
// from -tags are invisible to the analyzer, so a module whose smallest
// package exists only under tags is owned by its smallest untagged
// package. The analyzer reads go.mod itself: a -modfile flag in GOFLAGS is
// not followed.
//
// # go vet's result cache
//
// go vet (as of Go 1.26) caches each package's results (diagnostics and
// fixes) under a key made of the package's compile inputs, the tool's
// flags and the tool's "-V=full" answer. go.mod is not a compile input, so
// a plain vet tool would replay findings about an old go.mod and, with
// -fix, write back an old go.mod. The modreplace command answers "-V=full"
// with [Fingerprint], a digest of every input the checks read, the module
// graph's go.mod files in the module cache included, which makes any
// change to them a cache miss. The network answers (the retracted check,
// and go.mod files fetched for the graph) are not part of it: run "go vet
// -a" to ask the proxy afresh.
package analyzer
