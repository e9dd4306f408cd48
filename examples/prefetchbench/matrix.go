package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/modkit/modkit/examples/internal/benchrun"
	"github.com/modkit/modkit/modnet/modnettest"
)

// A faultClass is one row of the fault matrix: a way a proxy misbehaves,
// on its own.
type faultClass struct {
	name   string
	faults func(seed uint64) modnettest.Faults
}

// mix is a Faults with one chance per entry.
func mix(noRange bool, chances ...modnettest.Chance) func(uint64) modnettest.Faults {
	return func(seed uint64) modnettest.Faults {
		return modnettest.Faults{Seed: seed, Mix: chances, NoRange: noRange}
	}
}

// corrupt picks rate of the go.mod files and zips (what has a hash to
// check) and flips a byte of each on its first three downloads.
func corrupt(rate float64) []modnettest.Chance {
	return []modnettest.Chance{
		{Rate: rate, Kind: modnettest.KindZip, First: 3, Fault: modnettest.Corrupt()},
		{Rate: rate, Kind: modnettest.KindMod, First: 3, Fault: modnettest.Corrupt()},
	}
}

// faultMatrix is issue #14's: each class alone, at 30% (5% for stalls and
// trickles), then all of them mixed.
var faultMatrix = []faultClass{
	{"30% connection resets", mix(false, modnettest.Chance{Rate: 0.3, Fault: modnettest.Reset()})},
	{"30% 503 (no Retry-After)", mix(false, modnettest.Chance{Rate: 0.3, Fault: modnettest.Status(503)})},
	{"30% 429 (no Retry-After)", mix(false, modnettest.Chance{Rate: 0.3, Fault: modnettest.Status(429)})},
	{"30% cuts mid-body, Range served", mix(false, modnettest.Chance{Rate: 0.3, Fault: modnettest.Cut(modnettest.Half)})},
	{"30% cuts mid-body, no Range", mix(true, modnettest.Chance{Rate: 0.3, Fault: modnettest.Cut(modnettest.Half)})},
	{"30% corrupt bodies (first 3 downloads)", mix(false, corrupt(0.3)...)},
	{"5% stalls of 30s", mix(false, modnettest.Chance{Rate: 0.05, Fault: modnettest.Stall(30 * time.Second)})},
	{"5% trickles at 20 KB/s", mix(false, modnettest.Chance{Rate: 0.05, Fault: modnettest.Trickle(20_000)})},
	{"all mixed (30% in all)", mix(false, append([]modnettest.Chance{
		{Rate: 0.05, Fault: modnettest.Reset()},
		{Rate: 0.05, Fault: modnettest.Status(503)},
		{Rate: 0.05, Fault: modnettest.Status(429)},
		{Rate: 0.05, Fault: modnettest.Cut(modnettest.Half)},
		{Rate: 0.025, Fault: modnettest.Stall(30 * time.Second)},
		{Rate: 0.025, Fault: modnettest.Trickle(20_000)},
	}, corrupt(0.05)...)...)},
}

// matrixRuns runs modfetch prefetch once per fault class at lat: each
// must complete, pass go mod verify, and stay within twice fast, the
// fault-free wall time.
func (b *bench) matrixRuns(srv *modnettest.Server, mainDir string, lat, fast time.Duration) bool {
	fmt.Printf("fault matrix at %v (target: every case completes, go mod verify passes, ≤ 2× the fault-free %.3fs):\n", lat, fast.Seconds())
	ok := true
	for i, fc := range faultMatrix {
		if !strings.Contains(fc.name, b.matrixFilter) {
			continue
		}
		f := fc.faults(uint64(i + 1))
		f.Latency = lat
		srv.SetFaults(f)
		tool := "modfetch"
		if b.timeline != nil {
			tool = "timeline"
			fmt.Fprintf(b.timeline, "== %s\n", fc.name)
		}
		r := b.run(tool, mainDir, srv.URL, srv.SumDB().GOSUMDB(), 0)
		srv.SetFaults(modnettest.Faults{Latency: lat})
		verdict := "met"
		switch {
		case r.err != nil:
			verdict = "FAILED: " + firstLine(r.err.Error(), r.output)
		case b.verify(mainDir, r.modcache) != nil:
			verdict = "FAILED: " + firstLine(b.verify(mainDir, r.modcache).Error(), "")
		case r.wall > 2*fast:
			verdict = "MISSED"
		}
		if verdict != "met" {
			ok = false
		}
		fmt.Printf("    %-40s %7.3fs = %.2f× (%s)%s\n", fc.name, r.wall.Seconds(), float64(r.wall)/float64(fast), verdict, retriesOf(r.output))
		if r.err != nil {
			fmt.Println(tail(r.output))
		}
		b.remove(r.modcache)
	}
	return ok
}

// retriesOf picks the retry count out of modfetch's summary line, or
// out of its JSON summary.
func retriesOf(output string) string {
	if _, after, ok := strings.Cut(output, `"Kind":"summary"`); ok {
		if _, n, ok := strings.Cut(after, `"Retries":`); ok {
			return ", " + strings.TrimRight(n[:strings.IndexAny(n+",}", ",}")], " ") + " retries"
		}
		return ", 0 retries"
	}
	i := strings.Index(output, " retries")
	if i < 0 {
		return ""
	}
	j := strings.LastIndex(output[:i], " ")
	return ", " + output[j+1:i] + " retries"
}

// scaleRuns shows how cost grows with the graph: for each size, a
// generated graph with real file counts is served at lat, and both
// commands run (alternating, runs times each) on a cold cache; wall time
// and peak RSS are reported.
func (b *bench) scaleRuns(cfg modnettest.GraphConfig, sizes string, lat time.Duration, runs int) bool {
	fmt.Printf("cost by graph size at %v, generated graphs with real file counts, module caches in %s:\n", lat, b.dir)
	ok := true
	for _, f := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fatalf("-scale: %q is not a number of module versions", f)
		}
		c := cfg
		c.Modules, c.RealFiles = n, true
		c.ZipBytes = int64(n) * 800 << 10 // as real modules: 106 MiB for 139
		g, err := b.serve(c, fmt.Sprintf("scale%d", n))
		if err != nil {
			fatalf("%v", err)
		}
		g.srv.SetFaults(modnettest.Faults{Latency: lat})
		times := map[string][]time.Duration{}
		rss := map[string][]int64{}
		for i := range runs {
			order := []string{"go", "modfetch"}
			if i%2 == 1 {
				order = []string{"modfetch", "go"}
			}
			for _, tool := range order {
				r := b.run(tool, g.mainDir, g.srv.URL, g.srv.SumDB().GOSUMDB(), 0)
				b.remove(r.modcache)
				if r.err != nil {
					fmt.Printf("  %s on %d modules FAILED: %v\n%s\n", tool, n, r.err, tail(r.output))
					ok = false
					continue
				}
				times[tool] = append(times[tool], r.wall)
				rss[tool] = append(rss[tool], r.maxRSS)
			}
		}
		g.srv.Close()
		gm, mm := benchrun.Median(times["go"]), benchrun.Median(times["modfetch"])
		fmt.Printf("    %5d module versions, %6.0f MiB of zips: go mod download all %7.3fs %s; modfetch prefetch %7.3fs %s; ratio %.2f\n",
			n, float64(g.zipBytes)/(1<<20), gm.Seconds(), mib(benchrun.Median(rss["go"])), mm.Seconds(), mib(benchrun.Median(rss["modfetch"])), float64(mm)/float64(gm))
	}
	return ok
}
