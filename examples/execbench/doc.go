// Command execbench times 'modfetch exec -- go mod tidy' and
// 'modfetch exec -- go mod download all' against the same go commands run
// plainly, on the real module graph of examples/internal/realgraph (or a
// generated one) served from loopback: the whole-command comparison
// behind modkit's exec targets. It is a measurement program, not a test:
// go test does not run it.
//
// Usage, from the repository root (measurements hold the bench lock):
//
//	flock /tmp/modkit-bench.lock go run ./examples/execbench [-runs 3] [-latency 0,50ms] [-work /dev/shm,/tmp] [-faults=true] [-graph real]
//
// It builds modfetch, opens the real graph (fetching it once from GOPROXY
// into a kept tree the first time) and serves it with modnettest at each
// latency. For each work directory (tmpfs: what the tools cost; disk:
// what a user sees), latency and command it alternates cold-cache runs of
// the plain go command and of modfetch exec (each with a fresh module
// cache and a fresh copy of the main module, after a sync), checks that
// both end with the same go.mod and go.sum (and, for the first pair, the
// same module cache), and reports the median wall times and their ratio
// against the targets: at 50ms, tidy ≤ 0.5× and download ≤ 0.3× plain; at
// 0ms, ≤ 1.1×.
//
// With -faults it then serves the graph at 10ms through
// modnettest.StandardMix (10% resets, 5% 503, 5% 429, 5% bodies cut, 1%
// stalls of 60s), one seed per run: modfetch exec -- go mod tidy must
// succeed in every run with go.mod and go.sum identical to a fault-free
// plain tidy, and the plain go command (stopped after 90s, as it waits out
// each stall) is expected to fail.
//
// It exits 1 if a check fails or a target is missed.
package main
