// Command modreplace reports risky replace directives in go.mod. It only
// reads go.mod and go.work files, and changes them only with -fix, which
// applies the analyzer's safe fixes.
//
// It is the modreplace analyzer of [github.com/modkit/modkit/analyzer] as
// a standalone checker, a go vet tool, and a direct go.mod checker:
//
//	modreplace ./...                                  # load packages, report
//	modreplace -fix ./...                             # apply the safe fixes
//	go vet -vettool=$(command -v modreplace) ./...    # under go vet
//	modreplace -gomod [go.mod | dir]...               # no package loading
//
// The first two forms accept every flag of x/tools analysis drivers
// (-json, -fix, -diff, -c) plus the analyzer's -enable, -disable and
// -allow. Exit status: 0 no findings (always with -json), 1 failure,
// 2 usage error, 3 findings.
//
// The -gomod form checks go.mod files without loading packages, for
// pre-commit hooks and for modules so broken that "go list" fails. Its
// arguments are go.mod files or the directories holding them (default: the
// go.mod at or above the current directory). It prints
// "file:line:col: [check] message" lines and accepts -json, -fix, -diff,
// -enable, -disable and -allow, with the same exit status.
//
// What a check cannot decide (whether a replace is unused when the module
// cache lacks go.mod files of the module graph) is a note on standard
// error, "file:line:col: note: [check] message", in every form; notes
// never change the exit status.
//
// Under go vet, "-V=full" (which go vet asks once per run to key its result
// cache) answers with a digest of the executable and of every go.mod input
// of the modules in the current directory ([analyzer.Fingerprint]), so
// that go vet never replays findings or fixes computed for an older go.mod.
// Since that makes go vet re-run the tool on every package after a go.mod
// change, the tool answers go vet's facts-only requests for dependencies
// (modreplace has no facts) without parsing them.
package main
