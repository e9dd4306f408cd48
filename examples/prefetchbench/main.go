package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/modkit/modkit/examples/internal/benchrun"
	"github.com/modkit/modkit/examples/internal/realgraph"
	"github.com/modkit/modkit/modnet/modnettest"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == measureFlag {
		measure(os.Args[2:])
		return
	}
	runs := flag.Int("runs", 5, "runs of each command per latency (alternating)")
	latencies := flag.String("latency", "0,10ms,50ms", "comma-separated round-trip latencies of the proxy")
	modules := flag.Int("modules", 120, "modules in the generated graph")
	zipMB := flag.Int("zipmb", 40, "total size of the build list's zips, in MiB")
	seed := flag.Uint64("seed", 1, "graph seed")
	faults := flag.Bool("faults", true, "also run under modnettest.StandardMix")
	goFaults := flag.Bool("gofaults", true, "also run go mod download all under the fault mix (each run waits out a stall for up to 90s)")
	rss := flag.Bool("rss", true, "also compare peak RSS with four times larger zips")
	keep := flag.Bool("keep", false, "keep the work directory")
	work := flag.String("workdir", os.TempDir(), "where the module caches go: a tmpfs (/dev/shm) measures what the program costs, a disk what a user sees")
	noExtract := flag.Bool("noextract", true, "also time modfetch prefetch -extract=false")
	matrix := flag.String("matrix", "", "run only the fault classes whose name contains this")
	timeline := flag.String("timeline", "", "write each fault-matrix run's events (modfetch prefetch -json), stamped with the seconds since the command started, to this file")
	scale := flag.String("scale", "", "instead, show how cost grows: comma-separated numbers of module versions (such as 100,300,1000) of generated graphs with real file counts")
	graph := flag.String("graph", "gen", "the graph to measure: gen (generated, see -modules and -zipmb) or real (examples/internal/realgraph, fetched once)")
	realDir := flag.String("realdir", "", "where the real graph is kept between runs (default $XDG_CACHE_HOME/modkit-realgraph)")
	serve := flag.Duration("serve", 0, "only serve the graph at this latency (0s is none: say 1ns), print the environment to use, and wait")
	flag.Parse()

	lats, err := benchrun.ParseLatencies(*latencies)
	if err != nil {
		fatalf("-latency: %v", err)
	}
	b, err := newBench(*keep, *work)
	if err != nil {
		fatalf("%v", err)
	}
	b.goFaults, b.noExtract, b.matrixFilter = *goFaults, *noExtract, *matrix
	defer b.close()
	if *timeline != "" {
		f, err := os.Create(*timeline)
		if err != nil {
			fatalf("-timeline: %v", err)
		}
		defer f.Close()
		b.timeline = f
	}
	switch *graph {
	case "gen":
	case "real":
		if b.real, err = realgraph.Open(context.Background(), *realDir, os.Stderr); err != nil {
			fatalf("%v", err)
		}
	default:
		fatalf("-graph: %q is neither gen nor real", *graph)
	}
	cfg := modnettest.GraphConfig{Seed: *seed, Modules: *modules, ZipBytes: int64(*zipMB) << 20}
	if *serve > 0 {
		b.serveOnly(cfg, *serve)
		return
	}
	var ok bool
	if *scale != "" {
		ok = b.scaleRuns(cfg, *scale, lats[len(lats)/2], *runs)
	} else {
		ok = b.runAll(cfg, lats, *runs, *faults, *rss)
	}
	if !ok {
		b.close()
		os.Exit(1)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "prefetchbench: "+format+"\n", args...)
	os.Exit(1)
}

// goFaultLimit is how long the go command may run under faults.
const goFaultLimit = 90 * time.Second

// genTargets are the wall-time ratios modfetch must reach on a generated
// graph, by latency.
var genTargets = map[time.Duration]float64{0: 1.0, 10 * time.Millisecond: 0.5, 50 * time.Millisecond: 0.33}

// target returns the ratio to go mod download all a tool must reach at
// lat: on the real graph, issue #14's targets (tmpfs 0ms ≤ 0.5 and 10ms ≤
// 0.35, disk 10ms ≤ 0.7; -extract=false at 10ms ≤ 0.15).
func (b *bench) target(tool string, lat time.Duration) (float64, bool) {
	if b.real == nil {
		t, ok := genTargets[lat]
		return t, ok && tool == "modfetch"
	}
	ms10 := 10 * time.Millisecond
	switch {
	case tool == "noextract" && lat == ms10:
		return 0.15, true
	case tool == "modfetch" && b.tmpfs && lat == 0:
		return 0.5, true
	case tool == "modfetch" && b.tmpfs && lat == ms10:
		return 0.35, true
	case tool == "modfetch" && !b.tmpfs && lat == ms10:
		return 0.7, true
	}
	return 0, false
}

// runAll runs every measurement and prints the report; it reports whether
// every check passed and every target was met.
func (b *bench) runAll(cfg modnettest.GraphConfig, lats []time.Duration, runs int, faults, rss bool) bool {
	g, err := b.serve(cfg, "main")
	if err != nil {
		fatalf("%v", err)
	}
	srv, mainDir := g.srv, g.mainDir
	defer srv.Close()
	fs := "disk"
	if b.tmpfs {
		fs = "tmpfs"
	}
	fmt.Printf("graph: %s, %.1f MiB of zips; module caches in %s (%s); GOMAXPROCS %d\n", g.desc, float64(g.zipBytes)/(1<<20), b.dir, fs, gomaxprocs())
	tools := []string{"go", "modfetch"}
	if b.noExtract {
		tools = append(tools, "noextract")
	}
	ok := true
	fastWall := map[time.Duration]time.Duration{}
	rssOf := map[string][]int64{}
	var goState map[string]string
	for _, lat := range lats {
		times, cpus := map[string][]time.Duration{}, map[string][]time.Duration{}
		var floors, hashFloors []time.Duration
		for i := range runs {
			// Alternate, so that no tool always runs after the same one.
			order := slices.Clone(tools)
			for range i % len(order) {
				order = append(order[1:], order[0])
			}
			for _, tool := range order {
				srv.SetFaults(modnettest.Faults{Latency: lat})
				r := b.run(tool, mainDir, srv.URL, srv.SumDB().GOSUMDB(), 0)
				if r.err != nil {
					fmt.Printf("  %s run %d at %v FAILED: %v\n%s\n", tool, i, lat, r.err, tail(r.output))
					ok = false
					b.remove(r.modcache)
					continue
				}
				times[tool] = append(times[tool], r.wall)
				cpus[tool] = append(cpus[tool], r.cpu)
				rssOf[tool] = append(rssOf[tool], r.maxRSS)
				if i == 0 && !b.checkRun(tool, r, mainDir, &goState) {
					ok = false
				}
				if tool == "modfetch" {
					if d, err := b.copyFloor(r.modcache); err != nil {
						fmt.Printf("  cp -r: %v\n", err)
					} else {
						floors = append(floors, d)
					}
				}
				if tool == "noextract" {
					if d, err := b.hashFloor(r.modcache); err != nil {
						fmt.Printf("  hash floor: %v\n", err)
					} else {
						hashFloors = append(hashFloors, d)
					}
				}
				b.remove(r.modcache)
			}
		}
		gm := benchrun.Median(times["go"])
		fastWall[lat] = benchrun.Median(times["modfetch"])
		fmt.Printf("latency %-5v go mod download all %7.3fs, CPU %.2fs (runs %s)\n", lat, gm.Seconds(), benchrun.Median(cpus["go"]).Seconds(), secs(times["go"]))
		for _, tool := range tools[1:] {
			m := benchrun.Median(times[tool])
			ratio := float64(m) / float64(gm)
			verdict := "no target"
			if t, has := b.target(tool, lat); has {
				verdict = fmt.Sprintf("target ≤ %.2f: met", t)
				if ratio > t {
					verdict, ok = fmt.Sprintf("target ≤ %.2f: MISSED", t), false
				}
			}
			fmt.Printf("    %-28s %7.3fs  ratio %.2f (%s), CPU %.2fs (runs %s)\n", toolName(tool), m.Seconds(), ratio, verdict, benchrun.Median(cpus[tool]).Seconds(), secs(times[tool]))
		}
		if len(floors) > 0 {
			f := benchrun.Median(floors)
			ratio := float64(fastWall[lat]) / float64(f)
			verdict := "no target"
			if b.real != nil && b.tmpfs && lat == 0 {
				verdict = "target ≤ 2: met"
				if ratio > 2 {
					verdict, ok = "target ≤ 2: MISSED", false
				}
			}
			fmt.Printf("    %-28s %7.3fs  modfetch prefetch is %.2f× the floor (%s) (runs %s)\n", "cp -r of the end state", f.Seconds(), ratio, verdict, secs(floors))
		}
		if len(hashFloors) > 0 {
			// What no verifying tool can beat: -extract=false does this
			// and the transfers, nothing more.
			f := benchrun.Median(hashFloors)
			fmt.Printf("    %-28s %7.3fs  = %.2f× go mod download all; -extract=false is %.2f× it (runs %s)\n", "hash floor, in process", f.Seconds(),
				float64(f)/float64(gm), float64(benchrun.Median(times["noextract"]))/float64(f), secs(hashFloors))
		}
	}
	for _, tool := range tools {
		fmt.Printf("peak RSS of %s: %s (median)\n", toolName(tool), mib(benchrun.Median(rssOf[tool])))
	}

	if faults {
		lat := lats[len(lats)/2]
		if b.real != nil {
			if !b.matrixRuns(srv, mainDir, lat, fastWall[lat]) {
				ok = false
			}
		} else if !b.faultRuns(srv, mainDir, lat, runs, fastWall[lat], goState) {
			ok = false
		}
	}
	if rss {
		if !b.rssRuns(cfg) {
			ok = false
		}
	}
	return ok
}

func toolName(tool string) string {
	switch tool {
	case "go":
		return "go mod download all"
	case "noextract":
		return "modfetch prefetch -extract=false"
	}
	return "modfetch prefetch"
}

// serveOnly serves the graph until interrupted, for runs by hand.
func (b *bench) serveOnly(cfg modnettest.GraphConfig, lat time.Duration) {
	g, err := b.serve(cfg, "main")
	if err != nil {
		fatalf("%v", err)
	}
	srv, mainDir := g.srv, g.mainDir
	defer srv.Close()
	if lat < time.Microsecond {
		lat = 0
	}
	srv.SetFaults(modnettest.Faults{Latency: lat})
	var env []string
	for _, kv := range b.environ(workDir(b.dir, "modcache"), "GOPROXY="+srv.URL, "GOSUMDB="+srv.SumDB().GOSUMDB()) {
		env = append(env, shellQuote(kv))
	}
	fmt.Printf("cd %s && env %s %s prefetch\n", shellQuote(mainDir), strings.Join(env, " "), shellQuote(b.modfetch))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	<-sig
}

// checkRun checks the end state of a first run: the same files as the go
// command leaves, and an offline go command after modfetch.
func (b *bench) checkRun(tool string, r result, mainDir string, goState *map[string]string) bool {
	state, err := modnettest.CacheFiles(r.modcache)
	if err != nil {
		fmt.Printf("  reading %s's cache: %v\n", tool, err)
		return false
	}
	if tool == "go" {
		if *goState == nil {
			*goState = state
		}
		return true
	}
	ok := true
	if *goState != nil {
		want := *goState
		if tool == "noextract" {
			want = downloadCache(want)
		}
		if d := modnettest.DiffCaches(state, want, "after "+toolName(tool), "after go"); len(d) > 0 {
			fmt.Printf("  END STATE DIFFERS from go mod download all (%d files):\n    %s\n", len(d), strings.Join(first(d, 20), "\n    "))
			ok = false
		} else {
			fmt.Printf("  end state: the same %d files as go mod download all\n", len(state))
		}
	}
	if err := b.offline(mainDir, r.modcache); err != nil {
		fmt.Printf("  OFFLINE CHECK FAILED: %v\n", err)
		ok = false
	}
	return ok
}

// downloadCache keeps the download cache of a CacheFiles listing: what
// prefetch -extract=false leaves.
func downloadCache(files map[string]string) map[string]string {
	out := make(map[string]string)
	for k, v := range files {
		if strings.HasPrefix(k, "cache/download/") {
			out[k] = v
		}
	}
	return out
}

// faultRuns runs both commands under the standard fault mix.
func (b *bench) faultRuns(srv *modnettest.Server, mainDir string, lat time.Duration, runs int, fast time.Duration, goState map[string]string) bool {
	ok := true
	var walls []time.Duration
	var goWhy []string
	goFailed := 0
	for i := range runs {
		mix := modnettest.StandardMix(uint64(i + 1))
		mix.Latency = lat
		if b.goFaults {
			srv.SetFaults(mix)
			// The go command sits out every stalled answer, a minute each;
			// what it does after the limit changes nothing here.
			r := b.run("go", mainDir, srv.URL, srv.SumDB().GOSUMDB(), goFaultLimit)
			if r.err != nil {
				goFailed++
				goWhy = append(goWhy, firstLine(r.err.Error(), r.output))
			}
			b.remove(r.modcache)
		}

		srv.SetFaults(mix)
		r := b.run("modfetch", mainDir, srv.URL, srv.SumDB().GOSUMDB(), 0)
		if r.err != nil {
			fmt.Printf("  modfetch under faults (seed %d) FAILED: %v\n%s\n", i+1, r.err, tail(r.output))
			ok = false
		} else {
			walls = append(walls, r.wall)
			if !b.checkRun("modfetch", r, mainDir, &goState) {
				ok = false
			}
		}
		b.remove(r.modcache)
	}
	// What the go command says when it does not hang: the same mix
	// without the stalls.
	mix := modnettest.StandardMix(1)
	mix.Latency = lat
	mix.Mix = slices.DeleteFunc(mix.Mix, func(c modnettest.Chance) bool { return c.Fault.Kind == modnettest.FaultStall })
	srv.SetFaults(mix)
	r := b.run("go", mainDir, srv.URL, srv.SumDB().GOSUMDB(), goFaultLimit)
	b.remove(r.modcache)
	noStalls := fmt.Sprintf("succeeded (%.1fs)", r.wall.Seconds())
	if r.err != nil {
		noStalls = fmt.Sprintf("fails after %.1fs: %s", r.wall.Seconds(), firstLine(r.err.Error(), r.output))
	}
	// The same mix with 429 and 503 answers that do not say when to come
	// back: the wait is then modkit's own backoff. The difference from the
	// runs above is the server's explicit Retry-After, which modkit honours.
	var plainWalls []time.Duration
	for i := range runs {
		mix := modnettest.StandardMix(uint64(i + 1))
		mix.Latency = lat
		for j := range mix.Mix {
			mix.Mix[j].Fault.RetryAfter = ""
		}
		srv.SetFaults(mix)
		r := b.run("modfetch", mainDir, srv.URL, srv.SumDB().GOSUMDB(), 0)
		if r.err != nil {
			fmt.Printf("  modfetch under faults without Retry-After (seed %d) FAILED: %v\n%s\n", i+1, r.err, tail(r.output))
			ok = false
		} else {
			plainWalls = append(plainWalls, r.wall)
		}
		b.remove(r.modcache)
	}
	srv.SetFaults(modnettest.Faults{Latency: lat})
	// The target's mix: 10% resets, 5% 503, 5% 429, 5% cuts, 1% stalls
	// of 60s. Its throttling answers name no Retry-After: the waits are
	// modkit's own, and the target applies to them.
	pm := benchrun.Median(plainWalls)
	pratio := float64(pm) / float64(fast)
	verdict := "met"
	if pratio > 2 || (b.goFaults && goFailed != runs) || len(walls) != runs || len(plainWalls) != runs {
		verdict, ok = "MISSED", false
	}
	fmt.Printf("faults at %v (10%% resets, 5%% 503, 5%% 429, 5%% cuts, 1%% 60s stalls): modfetch succeeded %d of %d, median %.3fs = %.2f× its fault-free %.3fs (target ≤ 2: %s)\n    modfetch runs %s\n",
		lat, len(plainWalls), runs, pm.Seconds(), pratio, fast.Seconds(), verdict, secs(plainWalls))
	if b.goFaults {
		fmt.Printf("    go mod download all failed %d of %d runs on the same proxy (StandardMix): %s\n", goFailed, runs, strings.Join(goWhy, "\n                 "))
	}
	fmt.Printf("    the same mix without the stalls: go mod download all %s\n", noStalls)
	// StandardMix adds Retry-After: 1 to the 429s and 503s. modkit honours
	// it, so there the server sets a floor: the file that draws the most
	// throttled answers in a row waits a second for each.
	m := benchrun.Median(walls)
	fmt.Printf("    with Retry-After: 1 on the 429s and 503s (StandardMix): modfetch succeeded %d of %d, median %.3fs = %.2f× (runs %s); the floor is the server's: one second per throttled answer in a row\n",
		len(walls), runs, m.Seconds(), float64(m)/float64(fast), secs(walls))
	return ok
}

// rssRuns compares modfetch's peak RSS on a generated graph (the real one
// has one size) with its peak on one whose zips are four times larger.
func (b *bench) rssRuns(cfg modnettest.GraphConfig) bool {
	real := b.real
	b.real = nil
	defer func() { b.real = real }()
	peak := func(cfg modnettest.GraphConfig, name string) (int64, int64, bool) {
		g, err := b.serve(cfg, name)
		if err != nil {
			fmt.Printf("graph for RSS: %v\n", err)
			return 0, 0, false
		}
		defer g.srv.Close()
		var rss []int64
		for range 3 {
			r := b.run("modfetch", g.mainDir, g.srv.URL, g.srv.SumDB().GOSUMDB(), 0)
			b.remove(r.modcache)
			if r.err != nil {
				fmt.Printf("  modfetch on the %s graph FAILED: %v\n%s\n", name, r.err, tail(r.output))
				return 0, 0, false
			}
			rss = append(rss, r.maxRSS)
		}
		return benchrun.Median(rss), g.zipBytes, true
	}
	base, baseZips, ok1 := peak(cfg, "rss")
	big := cfg
	big.ZipBytes *= 4
	bigRSS, bigZips, ok2 := peak(big, "big")
	if !ok1 || !ok2 {
		return false
	}
	ratio := float64(bigRSS) / float64(base)
	verdict := "flat: streaming"
	ok := ratio < 1.5
	if !ok {
		verdict = "GROWS WITH ZIP SIZE"
	}
	fmt.Printf("peak RSS of modfetch: %s with %.0f MiB of zips, %s with %.0f MiB (%.2f×: %s)\n",
		mib(base), float64(baseZips)/(1<<20), mib(bigRSS), float64(bigZips)/(1<<20), ratio, verdict)
	return ok
}

// shellQuote quotes s for a POSIX shell if it needs it (GOSUMDB values
// hold spaces).
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`;&|<>()*?[]#~!{}") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func secs(ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%.3f", d.Seconds()))
	}
	return strings.Join(parts, " ")
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// firstLine returns the first line of the command's own error output that
// says what failed, else err.
func firstLine(err, output string) string {
	for _, line := range strings.Split(output, "\n") {
		if strings.HasPrefix(line, "go: ") && !strings.HasPrefix(line, "go: downloading") {
			return line
		}
	}
	return err
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return "    " + strings.Join(lines[max(0, len(lines)-10):], "\n    ")
}

// workDir is where everything goes; a name the report can show.
func workDir(root string, parts ...string) string {
	return filepath.Join(append([]string{root}, parts...)...)
}
