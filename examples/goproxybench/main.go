// Command goproxybench measures modnet.Fetcher behind goproxy/goproxy: the
// go command runs 'go mod download all' for the real module graph of
// examples/internal/realgraph through a goproxy.Goproxy whose Fetcher is a
// modnet.Fetcher, and the graph is served from loopback by modnettest,
// fault-free and under faults.
//
// Usage (its own module, so that modkit's go.mod does not grow by
// goproxy):
//
//	cd examples/goproxybench && go run . [-runs 3] [-latency 10ms] [-realdir DIR] [-faults=true] [-lazyzip=true] [-gofetcher=true] [-gofaults=false]
//
// goproxy answers every .info and .mod request with Fetcher.Download,
// which returns the .info, the .mod and the .zip together, so the go
// command's walk of the module graph, one go.mod after another, waits for
// a whole download at each step. The variants:
//
//   - concurrent: modnet.Fetcher as it is, fetching the three files at
//     once;
//   - sequential: the same Fetcher behind an adapter that first fetches
//     .info, .mod and .zip one after another with its Client, as
//     Fetcher.Download did before, so the two differ only in that;
//   - lazyzip: a Fetcher that returns from Download once the .info and
//     .mod have arrived, with a zip that waits for its download when read
//     (see lazyZip for why modnet does not do this);
//   - gofetcher: goproxy's own GoFetcher, the baseline (fault-free; with
//     -gofaults also once under faults, stopped after 5 minutes).
//
// Each run starts cold: a fresh goproxy with a fresh module cache behind
// it, and a fresh module cache for the go command (GOFLAGS=-modcacherw,
// GOENV=off, go.sum verifying every download so no checksum database is
// asked). The variants alternate, in a different order each run. Under
// faults the upstream serves modnettest.StandardMix (10% resets, 5% 503,
// 5% 429, the throttling answers with Retry-After: 1, 5% cuts mid-body, 1%
// stalls of 60 s), one seed per run, the same seed for each variant. The
// first run of each variant also checks that the go command then works
// offline (GOPROXY=off go mod download all).
//
// It prints the median wall time of each variant and condition, the
// ratio of faults to fault-free, and of concurrent to sequential; it
// exits 1 if a modnet variant fails.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/goproxy/goproxy"

	"github.com/modkit/modkit/examples/internal/realgraph"
	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modnettest"
	"github.com/modkit/modkit/retry"
)

func main() {
	runs := flag.Int("runs", 3, "runs of each variant per condition (alternating)")
	latency := flag.Duration("latency", 10*time.Millisecond, "round-trip latency of the upstream")
	realDir := flag.String("realdir", "", "where the real graph is kept between runs (default $XDG_CACHE_HOME/modkit-realgraph)")
	faults := flag.Bool("faults", true, "also run under modnettest.StandardMix")
	gofetcher := flag.Bool("gofetcher", true, "also run goproxy's own GoFetcher fault-free")
	gofaults := flag.Bool("gofaults", false, "also run GoFetcher once under faults (stopped after 5 minutes)")
	lazy := flag.Bool("lazyzip", true, "also run the lazy-zip Fetcher (see lazyZip)")
	flag.Parse()

	ctx := context.Background()
	tree, err := realgraph.Open(ctx, *realDir, os.Stderr)
	if err != nil {
		fatalf("%v", err)
	}
	st, err := tree.Stats()
	if err != nil {
		fatalf("%v", err)
	}
	work, err := os.MkdirTemp("", "goproxybench-")
	if err != nil {
		fatalf("%v", err)
	}
	defer removeAll(work)
	mainDir := filepath.Join(work, "main")
	if err := realgraph.WriteMain(mainDir); err != nil {
		fatalf("%v", err)
	}
	proxyDir, err := wholeTree(ctx, tree)
	if err != nil {
		fatalf("%v", err)
	}
	upstream := modnettest.NewUnstartedServer()
	upstream.Name = "realgraph"
	upstream.Dir = proxyDir
	upstream.Start()
	defer upstream.Close()
	fmt.Printf("graph: %d modules, %.0f MB of zips; upstream latency %v; %d runs\n\n", len(st.Modules), float64(st.ZipBytes)/1e6, *latency, *runs)

	b := &bench{work: work, mainDir: mainDir, upstream: upstream, latency: *latency}
	variants := []string{"sequential", "concurrent"}
	if *lazy {
		variants = append(variants, "lazyzip")
	}
	conditions := []string{"fault-free"}
	if *faults {
		conditions = append(conditions, "faults")
	}
	results := make(map[string][]time.Duration) // condition/variant → successful runs
	failed := false
	for _, cond := range conditions {
		vs := variants
		if *gofetcher && cond == "fault-free" {
			vs = append(vs, "gofetcher")
		}
		for run := range *runs {
			order := slices.Clone(vs)
			if run%2 == 1 {
				slices.Reverse(order)
			}
			for _, v := range order {
				d, err := b.run(ctx, cond, v, uint64(run+1), run == 0, 0)
				report(cond, v, run, d, err)
				if err != nil {
					failed = failed || v != "gofetcher"
					continue
				}
				results[cond+"/"+v] = append(results[cond+"/"+v], d)
			}
		}
	}
	if *faults && *gofaults {
		d, err := b.run(ctx, "faults", "gofetcher", 1, false, 5*time.Minute)
		report("faults", "gofetcher", 0, d, err)
	}

	fmt.Printf("\n%-11s %-11s %8s %6s  %s\n", "condition", "variant", "median", "runs", "ratio")
	for _, cond := range conditions {
		for _, v := range append(variants, "gofetcher") {
			ds := results[cond+"/"+v]
			if len(ds) == 0 {
				continue
			}
			var ratios []string
			if cond != "fault-free" {
				if base := results["fault-free/"+v]; len(base) > 0 {
					ratios = append(ratios, fmt.Sprintf("%.2f× its fault-free", ratio(ds, base)))
				}
			}
			if v == "concurrent" || v == "lazyzip" {
				if seq := results[cond+"/sequential"]; len(seq) > 0 {
					ratios = append(ratios, fmt.Sprintf("%.2f× sequential", ratio(ds, seq)))
				}
			}
			fmt.Printf("%-11s %-11s %7.1fs %6d  %s\n", cond, v, median(ds).Seconds(), len(ds), strings.Join(ratios, ", "))
		}
	}
	if failed {
		os.Exit(1)
	}
}

type bench struct {
	work, mainDir string
	upstream      *modnettest.Server
	latency       time.Duration
	n             int // runs so far, for fresh directories
}

// run times one cold 'go mod download all' through a fresh goproxy with
// the given variant's fetcher; check also runs the go command offline
// afterwards. A positive limit stops the go command after it.
func (b *bench) run(ctx context.Context, cond, variant string, seed uint64, check bool, limit time.Duration) (time.Duration, error) {
	b.n++
	dir := filepath.Join(b.work, fmt.Sprintf("run%d", b.n))
	defer removeAll(dir)
	if cond == "faults" {
		f := modnettest.StandardMix(seed)
		f.Latency = b.latency
		b.upstream.SetFaults(f)
	} else {
		b.upstream.SetFaults(modnettest.Faults{Latency: b.latency})
	}

	proxyCache := filepath.Join(dir, "proxy-modcache")
	var fetcher goproxy.Fetcher
	switch variant {
	case "gofetcher":
		fetcher = &goproxy.GoFetcher{
			Env:     append(os.Environ(), "GOPROXY="+b.upstream.URL, "GOSUMDB="+b.upstream.SumDB().GOSUMDB(), "GOMODCACHE="+proxyCache, "GOFLAGS=-modcacherw", "GOENV=off"),
			TempDir: dir,
		}
	default:
		env, err := modnet.LoadEnvFrom(map[string]string{
			"GOENV": "off", "GOROOT": filepath.Join(dir, "goroot"),
			"GOPROXY": b.upstream.URL, "GOSUMDB": b.upstream.SumDB().GOSUMDB(),
			"GOPATH": filepath.Join(dir, "proxy-gopath"), "GOMODCACHE": proxyCache,
		})
		if err != nil {
			return 0, err
		}
		// Ten attempts, as Prefetch makes: with retry's default of five,
		// a few of the graph's ~600 requests fail five times in a row
		// under this mix, and the run fails.
		c := &modnet.Client{Env: env, HTTP: &retry.Client{MaxAttempts: 10}}
		defer c.Close()
		f := &modnet.Fetcher{Client: c}
		switch variant {
		case "sequential":
			fetcher = &sequential{Fetcher: f, c: c}
		case "lazyzip":
			fetcher = &lazyZip{Fetcher: f, c: c}
		default:
			fetcher = f
		}
	}
	// goproxy logs the errors of the fetcher; the first one goes into a
	// failed run's report.
	errs := new(syncWriter)
	g := &goproxy.Goproxy{Fetcher: fetcher, TempDir: dir, Logger: slog.New(slog.NewTextHandler(errs, nil))}
	srv := httptest.NewServer(g)
	defer srv.Close()

	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	// The go command's hermetic setup of modkit's tests and benchmarks
	// (testenv.Environ): a home of its own with telemetry off, no GOENV
	// file, no toolchain switching, -modcacherw.
	home := filepath.Join(dir, "home")
	if err := testenv.PrepareHome(home); err != nil {
		return 0, err
	}
	goEnv := testenv.Environ(home, "GOPROXY="+srv.URL, "GOSUMDB=off", "GOMODCACHE="+filepath.Join(dir, "modcache"), "GOWORK=off")
	start := time.Now()
	if err := goCmd(ctx, b.mainDir, goEnv, "mod", "download", "all"); err != nil {
		if first, _, _ := strings.Cut(errs.String(), "\n"); first != "" {
			err = fmt.Errorf("%w\n\tgoproxy logged first: %s", err, first)
		}
		return time.Since(start), err
	}
	d := time.Since(start)
	if check {
		offline := append(goEnv, "GOPROXY=off")
		if err := goCmd(context.Background(), b.mainDir, offline, "mod", "download", "all"); err != nil {
			return d, fmt.Errorf("offline afterwards: %w", err)
		}
	}
	return d, nil
}

// sequential is Fetcher.Download as it was before it fetched the three
// files at once: .info, .mod, .zip one after another with the Fetcher's
// Client, then the Fetcher's Download, which finds them all in the cache.
type sequential struct {
	*modnet.Fetcher
	c *modnet.Client
}

func (s *sequential) Download(ctx context.Context, path, version string) (info, mod, zip io.ReadSeekCloser, err error) {
	if _, err := s.c.Info(ctx, path, version); err == nil {
		if _, err := s.c.GoMod(ctx, path, version); err == nil {
			s.c.Zip(ctx, path, version) // its error, if any, comes again from Download
		}
	}
	return s.Fetcher.Download(ctx, path, version)
}

// syncWriter keeps goproxy's log, written from its handlers.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func goCmd(ctx context.Context, dir string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("go %s: stopped after its time limit", strings.Join(args, " "))
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) > 5 {
			lines = append(lines[:5], fmt.Sprintf("... (%d more lines)", len(lines)-5))
		}
		return fmt.Errorf("go %s: %v\n\t%s", strings.Join(args, " "), err, strings.Join(lines, "\n\t"))
	}
	return nil
}

func report(cond, variant string, run int, d time.Duration, err error) {
	status := "ok"
	if err != nil {
		status = "FAILED: " + err.Error()
	}
	fmt.Printf("%-11s %-11s run %d: %6.1fs %s\n", cond, variant, run+1, d.Seconds(), status)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ratio(a, b []time.Duration) float64 { return median(a).Seconds() / median(b).Seconds() }

// removeAll removes dir, module cache files included (read-only unless
// -modcacherw, which the go command's runs set but goproxy's own may not).
func removeAll(dir string) {
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o777)
		}
		return nil
	})
	os.RemoveAll(dir)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "goproxybench: "+format+"\n", args...)
	os.Exit(1)
}
