// Package analyzer defines an Analyzer that reports risky replace
// directives in go.mod.
//
// # Analyzer modreplace
//
// modreplace: report risky replace directives in go.mod
//
// go mod tidy never touches replace directives, go mod verify does not check
// replacements, and vulnerability scanners key on the replaced module's
// path. modreplace explains which replace is risky and why, at its line in
// go.mod: each diagnostic's Category is its check's ID, and its message,
// which starts with "[ID]", says what goes wrong and what to do.
//
// The analyzer reads the go.mod of the main module that holds the analyzed
// package (found from the package's files upward, or from the driver's
// module information) with golang.org/x/mod/modfile, the go.work above it,
// and the directories that local replacements name. Packages of
// dependencies are skipped: the go command ignores their replace
// directives.
//
// # Checks
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
//   - downgrade: "m => m v1.2.0" (or "m v1.5.0 => m v1.2.0") while go.mod
//     requires m v1.5.0: the build uses older code than go.mod claims.
//   - inert: "m v1.0.0 => ..." while go.mod requires another version of m,
//     or a replace of the main module itself: it never applies.
//   - unused: a replace of a module go.mod does not require: it has no
//     effect. (For go.mod files older than go 1.17, which do not list every
//     module of the build, unused and inert are not checked.)
//   - fork: a replacement by another module path. Scanners, go.sum reviews
//     and "go list -m all" name the old path, so advisories against the
//     fork are missed. Trusted forks and mirrors are allowed with -allow
//     (GOPRIVATE pattern syntax).
//   - wildcard: a version-less replace by a remote module. It also captures
//     every future version (go get m@latest keeps building the
//     replacement) and hides retractions. Suggested fix: pin the required
//     version ("m v1.5.0 => fork v1.0.0"), which builds identically today;
//     for "m => m <required version>", which does nothing but hold back
//     upgrades, the fix removes it.
//   - pseudo-version: a replacement by a pseudo-version, an untagged commit
//     that can vanish when its branch is rebased or deleted.
//   - duplicate: the same module (and version) replaced twice — identical
//     (suggested fix: remove the repeat, unless it is a local directory) or
//     conflicting, which the go command refuses to load; a version-less and
//     a versioned replace of one module, which overlap; or a chain
//     "a => b v1", "b => c v2": replacements do not chain, so a is built
//     from b v1.
//   - noop: "m v1.0.0 => m v1.0.0". Suggested fix: remove it.
//   - gowork-shadow: a go.work above the module (found upward, whatever
//     GOWORK says) that uses the module and replaces the same module path,
//     or uses a directory holding that module: in workspace mode the go.mod
//     replace is ignored, so workspace builds differ from CI.
//
// Off by default (-enable=ID):
//
//   - undocumented: a replace with no comment above it, beside it, or above
//     its replace block saying why it exists.
//   - retracted: a replacement version retracted by its authors, or a
//     deprecated replacement module, as the go.mod of the module's latest
//     version says. It asks the module proxy ([ModuleInfoSource]; by
//     default [ModnetSource]), and reports a diagnostic when it cannot.
//   - library: every replace in a module without a main package. Such a
//     module is only built as a dependency, and then its replaces are
//     ignored: consumers never get them.
//
// A replace that never takes effect is reported once, by the check that
// says why (noop, unused, inert, duplicate); the other checks skip it.
// Suggested fixes are offered only where the result builds as before
// (noop, identical duplicate, wildcard pin) and no conflicting replace of
// the same version makes the outcome ambiguous; a local replacement is
// never removed automatically. Fixes edit go.mod by byte offsets, keeping
// its comments and layout.
//
// # Flags
//
//	-enable=ID,...   run these checks too ("all": every check)
//	-disable=ID,...  do not run these checks
//	-allow=PATTERNS  trusted fork and mirror module paths (GOPRIVATE syntax)
//
// In a multi-analyzer driver the flags are prefixed: -modreplace.allow=...
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
// with [Fingerprint], a digest of every input the checks read, which makes
// any change to them a cache miss. The retracted check's network answers
// are not part of it: run "go vet -a" to ask the proxy afresh.
package analyzer
