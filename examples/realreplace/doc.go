// Command realreplace measures modreplace's precision on real go.mod
// files: it runs the checks on a corpus of multi-module repositories and
// judges each finding with the go command. It is a measurement program,
// not a test: go test does not run it, and it changes no corpus file.
//
// Usage, from the repository root:
//
//	go run ./examples/realreplace [-corpus DIR] [-repos etcd,thanos] [-j 2] [-v]
//
// The corpus (default ../shared/realreplace next to the repository root,
// else /work/shared/realreplace) holds corpus/<repo>/ trees of go.mod and
// go.work files at their paths. Each repository is copied to a temporary
// directory whose root gets a .git, so that local-escape finds the
// repository root. Then, for each go.mod:
//
//  1. 'go list -m -e all' runs once (GOWORK=off, -mod=mod,
//     GOTOOLCHAIN=local, GOSUMDB=off since the corpus has no go.sum, GOPROXY
//     as the environment says, GOMODCACHE the measurement's own, -modcache):
//     its output is the reference, and it fills the module cache with the
//     go.mod files of the module graph. With -e, a module whose files the
//     proxy does not serve is listed with its error rather than failing
//     the list.
//  2. modreplace checks the go.mod as 'modreplace -gomod' does, offline:
//     the graph comes from local directories and the module cache.
//  3. Each finding is judged by the go command:
//     - unused, inert: 'go list -m all' and 'go mod tidy -diff' give the
//     same answers without the line (tidy's changes are compared line
//     by line, apart from the diff's context);
//     - downgrade: 'go list -m all' lists the module with a replacement
//     of the same path at a lower version than the one selected;
//     - fork: it lists the module replaced by another module path;
//     - placeholder: 'go list -m all' fails fetching the version named;
//     - gowork-shadow: 'go list -m' of the module gives another directory
//     or version with the go.work than without;
//     - every other check is about the line's text (a version-less
//     replace, a pseudo-version, a missing directory...) and is counted
//     as stated.
//     A finding the go command cannot judge (both runs fail the same way,
//     or the module graph cannot be loaded) is counted apart and left out
//     of the precision.
//
// It prints, per check, the findings, how many the go command confirms
// and refutes, and the precision, then every refuted finding; -v prints
// every finding with its verdict. It needs the network (the module
// proxy): it is a measurement, not a test.
//
// With -time N it judges nothing: it builds modreplace from this checkout
// and times N runs of 'modreplace -gomod' over each repository's go.mod
// files (with -baseline, alternating with another modreplace binary),
// and prints the medians. Run it after a judging run, so that the module
// cache is warm, and under the machine's benchmark lock:
//
//	flock /tmp/modkit-bench.lock go run ./examples/realreplace -repos opentelemetry-collector -time 7
package main
