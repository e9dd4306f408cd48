// Command prefetchbench times 'modfetch prefetch' against
// 'go mod download all' on a module graph served from loopback, the
// whole-command comparison behind modkit's prefetch targets. It is a
// measurement program, not a test: go test does not run it.
//
// Usage, from the repository root (measure under the shared lock):
//
//	flock /tmp/modkit-bench.lock go run ./examples/prefetchbench [-graph gen|real] [-realdir DIR] [-workdir DIR]
//		[-runs 5] [-latency 0,10ms,50ms] [-noextract=true] [-faults=true] [-matrix CLASS] [-timeline FILE]
//		[-gofaults=true] [-rss=true]
//		[-modules 120] [-zipmb 40] [-scale 100,300,1000]
//
// It builds modfetch, generates a graph with modnettest.GenerateGraph (or,
// with -graph real, opens the real graph of examples/internal/realgraph:
// 139 modules, fetched from the Go module proxy into -realdir the first
// time and kept there) and serves it with a modnettest.Server. Module
// caches go under -workdir: /dev/shm (tmpfs) measures what the programs
// cost, a disk directory what a user sees.
//
// For each latency it alternates cold-cache runs of the installed go
// command, of modfetch prefetch and (with -noextract) of modfetch prefetch
// -extract=false, each in a fresh GOMODCACHE, GOENV=off,
// GOFLAGS=-modcacherw, a temporary HOME with telemetry off, after a sync
// so that no run pays for the previous one's writeback, and reports the
// medians and their ratios to go mod download all, and each tool's median
// CPU time (user and system, from its rusage: on two cores, a run whose
// CPU time is near twice its wall time is CPU-bound), with the targets: on
// the real graph those of issue #14 (tmpfs 0ms ≤ 0.5 and within 2× of the
// cp -r floor, tmpfs 10ms ≤ 0.35, disk 10ms ≤ 0.7, -extract=false at 10ms
// ≤ 0.15). After each modfetch run it times 'cp -r' of the module cache it
// left, from the page cache, on the same file system: the floor of any
// tool that leaves that end state. After each -extract=false run it times
// hashing every zip that run left once (each file inflated once, on
// GOMAXPROCS goroutines, from the page cache, inside the benchmark's own
// process): the floor of any tool that verifies the zips, which is all
// -extract=false does besides the transfers; its ratio to go mod download
// all says how close to a target that floor alone already is. The first run of each tool at each
// latency also checks that modfetch leaves the same files as the go
// command (only the download cache for -extract=false) and that the go
// command then works offline: GOPROXY=off go mod download all, and go
// build ./... .
//
// With -faults, on the real graph, it runs the fault matrix at the middle
// latency (10ms by default): each class alone (30% connection resets, 503,
// 429, cuts mid-body with and without Range support, corrupt bodies on a
// file's first three downloads; 5% stalls of 30s, trickles at 20 KB/s),
// then all mixed; each run must complete, pass GOPROXY=off go mod verify,
// and stay within twice the fault-free time. With -timeline FILE those runs
// use modfetch prefetch -json, and FILE gets each run's events stamped with
// the seconds since the command started: when the graph walk let modules
// start, which retries and hedges the last modules waited for. On a generated graph it runs
// modnettest.StandardMix instead (10% resets, 5% 503, 5% 429, 5% cuts, 1%
// stalls of 60s), where the go command must fail (it is stopped after 90s;
// -gofaults=false skips it) and modfetch succeed with the same end state,
// within twice its fault-free time when the throttling answers leave the
// wait to the client.
//
// With -rss it compares modfetch's peak resident memory (the child's
// rusage) on a generated graph and on one whose zips are four times
// larger: streaming keeps it flat in zip size.
//
// With -scale it instead shows how cost grows: wall time and peak RSS of
// both commands on generated graphs of the given numbers of module
// versions, with real file counts (about 170 files in 46 directories per
// module, one in fifty with thousands; 800 KiB of zip per module, as in
// the real graph).
//
// It exits 1 if a check fails or a target is missed.
package main
