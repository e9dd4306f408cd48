package main

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/modkit/modkit/examples/internal/benchrun"
	"github.com/modkit/modkit/examples/internal/realgraph"
	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modnettest"
)

func main() {
	runs := flag.Int("runs", 3, "runs of each command per setting (alternating plain and exec)")
	latencies := flag.String("latency", "0,50ms", "comma-separated round-trip latencies of the proxy")
	works := flag.String("work", "/dev/shm,/tmp", "comma-separated directories to work in: tmpfs and disk")
	commands := flag.String("commands", "tidy,download", "commands to time: tidy (go mod tidy), download (go mod download all); empty for none")
	faults := flag.Bool("faults", true, "also run tidy under modnettest.StandardMix at 10ms")
	graph := flag.String("graph", "real", "real (examples/internal/realgraph) or generated")
	readAhead := flag.Bool("readahead", true, "run modfetch exec with read-ahead (-readahead=false measures it without)")
	aheadLatency := flag.String("readahead-latency", "", "run modfetch exec with this -readahead-latency (0 reads ahead at any latency; default: exec's own)")
	verbose := flag.Bool("v", false, "run modfetch exec -v and print its summary line after each timed run (its -v output costs a little time)")
	root := flag.String("root", "", "where the real graph's tree is kept (default: the user cache directory)")
	flag.Parse()

	lats, err := benchrun.ParseLatencies(*latencies)
	if err != nil {
		fatalf("-latency: %v", err)
	}
	var tree *realgraph.Tree
	if *graph == "real" {
		if tree, err = realgraph.Open(context.Background(), *root, os.Stderr); err != nil {
			fatalf("%v", err)
		}
	}
	ok := true
	for _, w := range strings.Split(*works, ",") {
		b, err := newBench(w, tree)
		if err != nil {
			fatalf("%v", err)
		}
		b.verbose, b.noReadAhead, b.aheadLatency = *verbose, !*readAhead, *aheadLatency
		if *commands != "" {
			ok = b.timeAll(lats, strings.Split(*commands, ","), *runs) && ok
		}
		if *faults {
			ok = b.faultRuns(*runs) && ok
		}
		b.close()
	}
	if !ok {
		os.Exit(1)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "execbench: "+format+"\n", args...)
	os.Exit(1)
}

// targets are the wall-time ratios exec must reach, by latency and
// command.
var targets = map[time.Duration]map[string]float64{
	0:                     {"tidy": 1.1, "download": 1.1},
	50 * time.Millisecond: {"tidy": 0.5, "download": 0.3},
}

// goArgs are the go command's arguments for each command.
var goArgs = map[string][]string{"tidy": {"mod", "tidy"}, "download": {"mod", "download", "all"}}

// timeAll times every command at every latency and prints the report.
func (b *bench) timeAll(lats []time.Duration, commands []string, runs int) bool {
	srv := b.serve()
	defer srv.Close()
	fmt.Printf("\n%s, in %s\n", b.desc, b.dir)
	ok := true
	for _, lat := range lats {
		srv.SetFaults(modnettest.Faults{Latency: lat})
		for _, c := range commands {
			args, known := goArgs[c]
			if !known {
				fatalf("-commands: unknown command %q", c)
			}
			var plain, under, plainCPU, underCPU []time.Duration
			for i := range runs {
				p := b.run(srv, false, args, 0)
				e := b.run(srv, true, args, 0)
				if p.err != nil || e.err != nil {
					fmt.Printf("  %s at %v: run %d failed:\n    plain: %v %s\n    exec: %v %s\n", c, lat, i+1, p.err, tail(p.output), e.err, tail(e.output))
					ok = false
					continue
				}
				if diffs := sameEnd(p, e, i == 0); len(diffs) > 0 {
					fmt.Printf("  %s at %v: run %d ends differently:\n    %s\n", c, lat, i+1, strings.Join(first(diffs, 10), "\n    "))
					ok = false
				}
				b.remove(p, e)
				plain, under = append(plain, p.wall), append(under, e.wall)
				plainCPU, underCPU = append(plainCPU, p.cpu), append(underCPU, e.cpu)
				if b.verbose {
					fmt.Printf("  %s at %v, run %d: %s\n", c, lat, i+1, summaryLine(e.output))
				}
			}
			if len(plain) == 0 {
				continue
			}
			ratio := benchrun.Median(under).Seconds() / benchrun.Median(plain).Seconds()
			verdict := ""
			if t, has := targets[lat][c]; has {
				verdict = fmt.Sprintf("target ≤ %.2f: met", t)
				if ratio > t {
					verdict = fmt.Sprintf("target ≤ %.2f: MISSED", t)
					ok = false
				}
			}
			fmt.Printf("  %-8s latency %-5v plain %s  exec %s  median %.2fs vs %.2fs, ratio %.2f (%s)\n",
				c, lat, secs(plain), secs(under), benchrun.Median(plain).Seconds(), benchrun.Median(under).Seconds(), ratio, verdict)
			// CPU time (user+system) of the command with its children: for
			// exec, the server's in-process work is the difference.
			fmt.Printf("  %-8s latency %-5v cpu   plain %s  exec %s  median %.2fs vs %.2fs\n",
				c, lat, secs(plainCPU), secs(underCPU), benchrun.Median(plainCPU).Seconds(), benchrun.Median(underCPU).Seconds())
		}
	}
	return ok
}

// faultRuns runs tidy under the fault mix: exec must succeed every time
// with the fault-free end state; the plain go command is expected to fail.
func (b *bench) faultRuns(runs int) bool {
	srv := b.serve()
	defer srv.Close()
	const lat = 10 * time.Millisecond
	srv.SetFaults(modnettest.Faults{Latency: lat})
	want := b.run(srv, false, goArgs["tidy"], 0)
	if want.err != nil {
		fmt.Printf("  faults: fault-free plain tidy failed: %v %s\n", want.err, tail(want.output))
		return false
	}
	ok := true
	var walls []time.Duration
	plainFailed := 0
	for i := range runs {
		mix := modnettest.StandardMix(uint64(i + 1))
		mix.Latency = lat
		srv.SetFaults(mix)
		e := b.run(srv, true, goArgs["tidy"], 0)
		switch {
		case e.err != nil:
			fmt.Printf("  faults: exec tidy, seed %d, FAILED: %v %s\n", i+1, e.err, tail(e.output))
			ok = false
		default:
			if diffs := sameEnd(want, e, false); len(diffs) > 0 {
				fmt.Printf("  faults: exec tidy, seed %d, ends differently from a fault-free tidy:\n    %s\n", i+1, strings.Join(first(diffs, 10), "\n    "))
				ok = false
			}
			walls = append(walls, e.wall)
			fmt.Printf("  faults: exec tidy, seed %d: ok in %.2fs; %s\n", i+1, e.wall.Seconds(), summaryLine(e.output))
		}
		b.remove(e)
		srv.SetFaults(mix)
		p := b.run(srv, false, goArgs["tidy"], 90*time.Second)
		if p.err != nil {
			plainFailed++
			fmt.Printf("  faults: plain tidy, seed %d: failed as expected (%.2fs): %s\n", i+1, p.wall.Seconds(), firstLine(p.err.Error(), p.output))
		} else {
			fmt.Printf("  faults: plain tidy, seed %d: succeeded in %.2fs\n", i+1, p.wall.Seconds())
		}
		b.remove(p)
	}
	b.remove(want)
	if len(walls) > 0 {
		fmt.Printf("  faults at %v: exec tidy succeeded %d of %d runs, median %.2fs (fault-free plain %.2fs); plain tidy failed %d of %d\n",
			lat, len(walls), runs, benchrun.Median(walls).Seconds(), want.wall.Seconds(), plainFailed, runs)
	}
	return ok
}

// summaryLine is modfetch exec's closing line in a command's output.
func summaryLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "modfetch exec: ") {
			return l
		}
	}
	return "(no summary: nothing went wrong)"
}

// bench is one work directory with the modfetch binary and the graph.
type bench struct {
	dir      string
	modfetch string
	gobin    string
	tree     *realgraph.Tree
	graph    *modnettest.Graph // when no real tree
	desc     string
	verbose  bool // run exec -v and show its summary
	// noReadAhead runs exec -readahead=false.
	noReadAhead bool
	// aheadLatency, if set, is exec's -readahead-latency.
	aheadLatency string
	n            int
}

func newBench(parent string, tree *realgraph.Tree) (*bench, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(parent, "execbench")
	if err != nil {
		return nil, err
	}
	b := &bench{dir: dir, gobin: gobin, tree: tree, modfetch: filepath.Join(dir, "modfetch")}
	if err := testenv.PrepareHome(filepath.Join(dir, "home")); err != nil {
		return nil, err
	}
	build := exec.Command(gobin, "build", "-o", b.modfetch, "github.com/modkit/modkit/modnet/cmd/modfetch")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building modfetch: %v\n%s", err, out)
	}
	if tree != nil {
		st, err := tree.Stats()
		if err != nil {
			return nil, err
		}
		b.desc = fmt.Sprintf("the real graph: build list %d modules, %.1f MiB of zips", len(st.Modules), float64(st.ZipBytes)/(1<<20))
	} else {
		if b.graph, err = modnettest.GenerateGraph(modnettest.GraphConfig{Seed: 1}); err != nil {
			return nil, err
		}
		b.desc = fmt.Sprintf("a generated graph: build list %d modules", len(b.graph.BuildList))
	}
	return b, nil
}

func (b *bench) close() { modnet.RemoveAll(b.dir) }

// serve starts the proxy for the graph.
func (b *bench) serve() *modnettest.Server {
	if b.tree != nil {
		return b.tree.Serve(modnettest.Faults{})
	}
	return modnettest.NewServer(b.graph.Modules...)
}

// writeMain writes the main module into a fresh directory.
func (b *bench) writeMain(dir string) error {
	if b.tree != nil {
		return realgraph.WriteMain(dir)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	return b.graph.WriteMain(dir)
}

// result is one timed run.
type result struct {
	wall     time.Duration
	cpu      time.Duration // user and system time of the command and its children
	mainDir  string
	modcache string
	output   string
	err      error
}

// run runs the go command with args, plainly or under modfetch exec, in
// a fresh copy of the main module with a fresh module cache, stopping it
// after limit if positive.
func (b *bench) run(srv *modnettest.Server, underExec bool, args []string, limit time.Duration) result {
	b.n++
	tool := "go"
	if underExec {
		tool = "exec"
	}
	r := result{mainDir: filepath.Join(b.dir, fmt.Sprintf("main%03d-%s", b.n, tool)),
		modcache: filepath.Join(b.dir, fmt.Sprintf("modcache%03d-%s", b.n, tool))}
	if r.err = b.writeMain(r.mainDir); r.err != nil {
		return r
	}
	argv := append([]string{b.gobin}, args...)
	if underExec {
		flags := []string{"exec"}
		if b.verbose {
			flags = append(flags, "-v")
		}
		if b.noReadAhead {
			flags = append(flags, "-readahead=false")
		}
		if b.aheadLatency != "" {
			flags = append(flags, "-readahead-latency="+b.aheadLatency)
		}
		argv = append(append(flags, "--"), argv...)
		argv = append([]string{b.modfetch}, argv...)
	}
	ctx := context.Background()
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	benchrun.KillGroup(cmd)
	cmd.Dir = r.mainDir
	cmd.Env = testenv.Environ(filepath.Join(b.dir, "home"), "TMPDIR="+b.dir,
		"GOPATH="+filepath.Join(b.dir, "gopath"), "GOCACHE="+filepath.Join(b.dir, "gocache"),
		"GOMODCACHE="+r.modcache, "GOPROXY="+srv.URL, "GOSUMDB="+srv.SumDB().GOSUMDB())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	benchrun.Settle()
	start := time.Now()
	r.err = cmd.Run()
	r.wall = time.Since(start)
	if ps := cmd.ProcessState; ps != nil {
		r.cpu = ps.UserTime() + ps.SystemTime()
	}
	r.output = out.String()
	if ctx.Err() != nil {
		r.err = fmt.Errorf("still running after %v: stopped", limit)
	}
	return r
}

// sameEnd lists how two runs' end states differ: go.mod, go.sum and, if
// caches, the module caches.
func sameEnd(a, b result, caches bool) []string {
	var diffs []string
	for _, name := range []string{"go.mod", "go.sum"} {
		x, _ := os.ReadFile(filepath.Join(a.mainDir, name))
		y, _ := os.ReadFile(filepath.Join(b.mainDir, name))
		if !bytes.Equal(x, y) {
			diffs = append(diffs, name+" differs")
		}
	}
	if caches {
		x, err1 := modnettest.CacheFiles(a.modcache)
		y, err2 := modnettest.CacheFiles(b.modcache)
		if err := cmp.Or(err1, err2); err != nil {
			return append(diffs, err.Error())
		}
		diffs = append(diffs, modnettest.DiffCaches(x, y, "plain", "exec")...)
	}
	return diffs
}

func (b *bench) remove(rs ...result) {
	for _, r := range rs {
		modnet.RemoveAll(r.modcache)
		os.RemoveAll(r.mainDir)
	}
}

func secs(ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%.2f", d.Seconds()))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], "\n      ")
}

// firstLine is the go command's error: its last "go: " line other than
// progress.
func firstLine(err, output string) string {
	last := err
	for _, l := range strings.Split(output, "\n") {
		if strings.HasPrefix(l, "go: ") && !strings.HasPrefix(l, "go: downloading ") && !strings.HasPrefix(l, "go: finding ") {
			last = l
		}
	}
	return last
}
