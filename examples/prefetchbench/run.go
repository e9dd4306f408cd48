package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/modkit/modkit/examples/internal/benchrun"
	"github.com/modkit/modkit/examples/internal/realgraph"
	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modnettest"
)

// bench holds the work directory, the modfetch binary and the go command.
type bench struct {
	dir          string
	modfetch     string
	gobin        string
	self         string // this program, to measure commands through
	keep         bool
	goFaults     bool            // run the go command under faults too
	noExtract    bool            // time modfetch prefetch -extract=false too
	matrixFilter string          // run only the fault classes whose name contains it
	tmpfs        bool            // the work directory is a tmpfs
	gocache      string          // the build cache of the offline checks: the host's, shared and safe
	real         *realgraph.Tree // the real graph, if it is the one measured
	timeline     io.Writer       // where the "timeline" tool's stamped events go
	n            int             // runs so far, to name module caches
}

func newBench(keep bool, workdir string) (*bench, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(workdir, "prefetchbench")
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(gobin, "env", "GOCACHE").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOCACHE: %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	b := &bench{dir: dir, gobin: gobin, self: self, keep: keep, modfetch: filepath.Join(dir, "modfetch"),
		gocache: strings.TrimSpace(string(out)), tmpfs: isTmpfs(dir)}
	if err := testenv.PrepareHome(workDir(dir, "home")); err != nil {
		return nil, err
	}
	build := exec.Command(gobin, "build", "-o", b.modfetch, "github.com/modkit/modkit/modnet/cmd/modfetch")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building modfetch: %v\n%s", err, out)
	}
	return b, nil
}

func (b *bench) close() {
	if b.keep {
		fmt.Println("work directory kept:", b.dir)
		return
	}
	modnet.RemoveAll(b.dir)
}

func (b *bench) remove(modcache string) {
	if !b.keep {
		modnet.RemoveAll(modcache)
	}
}

// served is a graph being served: its main module and its proxy.
type served struct {
	srv      *modnettest.Server
	mainDir  string
	desc     string // what the report says of it
	zipBytes int64  // the build list's zips
}

// serve serves the real graph if the bench has one, else generates the
// graph cfg describes, and writes its main module.
func (b *bench) serve(cfg modnettest.GraphConfig, name string) (*served, error) {
	mainDir := workDir(b.dir, name)
	if b.real != nil {
		st, err := b.real.Stats()
		if err != nil {
			return nil, err
		}
		if err := realgraph.WriteMain(mainDir); err != nil {
			return nil, err
		}
		return &served{srv: b.real.Serve(modnettest.Faults{}), mainDir: mainDir, zipBytes: st.ZipBytes,
			desc: fmt.Sprintf("the real graph (%s), build list %d modules", b.real.Dir, len(st.Modules))}, nil
	}
	g, err := modnettest.GenerateGraph(cfg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(mainDir, 0o777); err != nil {
		return nil, err
	}
	if err := g.WriteMain(mainDir); err != nil {
		return nil, err
	}
	return &served{srv: modnettest.NewServer(g.Modules...), mainDir: mainDir, zipBytes: g.ZipBytes,
		desc: fmt.Sprintf("a generated graph of %d module versions, build list %d modules", len(g.Modules), len(g.BuildList))}, nil
}

// environ is the hermetic environment both commands run in
// (testenv.Environ).
func (b *bench) environ(modcache string, kv ...string) []string {
	return testenv.Environ(workDir(b.dir, "home"), append([]string{
		"GOPATH=" + workDir(b.dir, "gopath"),
		"GOCACHE=" + b.gocache,
		"GOMODCACHE=" + modcache,
		"GONOSUMDB=", "GOPRIVATE=", "GONOPROXY=", "GOINSECURE=",
	}, kv...)...)
}

// result is one timed run.
type result struct {
	wall     time.Duration
	cpu      time.Duration // user and system time of the command
	maxRSS   int64         // bytes
	modcache string
	output   string
	err      error
}

// run runs "go mod download all" or "modfetch prefetch" in mainDir with a
// fresh module cache, killing it (and what it started) after limit if
// limit is positive: the go command waits out every stalled answer.
func (b *bench) run(tool, mainDir, proxy, sumdb string, limit time.Duration) result {
	b.n++
	modcache := workDir(b.dir, fmt.Sprintf("modcache%03d-%s", b.n, tool))
	args := []string{measureFlag, b.gobin, "mod", "download", "all"}
	switch tool {
	case "modfetch":
		args = []string{measureFlag, b.modfetch, "prefetch"}
	case "noextract":
		args = []string{measureFlag, b.modfetch, "prefetch", "-extract=false"}
	case "timeline":
		args = []string{measureFlag, b.modfetch, "prefetch", "-json"}
	}
	ctx := context.Background()
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, b.self, args...)
	benchrun.KillGroup(cmd)
	cmd.Dir = mainDir
	cmd.Env = b.environ(modcache, "GOPROXY="+proxy, "GOSUMDB="+sumdb)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	benchrun.Settle()
	start := time.Now()
	if tool == "timeline" {
		// One writer for both, so that they share one pipe: exec copies
		// distinct writers on separate goroutines.
		w := io.MultiWriter(&out, &stampWriter{w: b.timeline, start: start})
		cmd.Stdout, cmd.Stderr = w, w
	}
	err := cmd.Run()
	r := result{modcache: modcache, err: err}
	r.output, r.wall, r.cpu, r.maxRSS = parseMeasure(out.String())
	if ctx.Err() != nil {
		r.wall = time.Since(start)
		r.err = fmt.Errorf("still running after %v: killed", limit)
	}
	return r
}

// stampWriter writes each line written to it to w, prefixed with the
// seconds since start at which it arrived: a timeline of a command's
// events, to see what a run waited for.
type stampWriter struct {
	w       io.Writer
	start   time.Time
	partial []byte // a line not ended yet
}

func (s *stampWriter) Write(p []byte) (int, error) {
	at := time.Since(s.start).Seconds()
	rest := p
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			s.partial = append(s.partial, rest...)
			return len(p), nil
		}
		line := append(s.partial, rest[:i]...)
		s.partial = s.partial[:0]
		rest = rest[i+1:]
		if _, err := fmt.Fprintf(s.w, "%8.3f %s\n", at, line); err != nil {
			return len(p), err
		}
	}
}

// measureFlag makes prefetchbench run the rest of its arguments as a
// command and report the command's wall time and peak RSS.
//
// Measuring through a small wrapper process is what makes the peak RSS
// the command's own: Linux records the memory of the process that forked
// and exec'd a command (with os/exec, a vfork sharing its memory) in the
// command's ru_maxrss, so a command started by the benchmark, which holds
// the whole graph in memory, would seem as large as the benchmark itself.
// The wrapper's few megabytes are the floor of what it reports.
const measureFlag = "-measure"

// measure runs args, then prints a line parseMeasure reads, and exits
// with the command's status.
func measure(args []string) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var rss int64
	var cpu time.Duration
	if ps := cmd.ProcessState; ps != nil {
		rss = maxRSS(ps)
		cpu = ps.UserTime() + ps.SystemTime()
	}
	fmt.Fprintf(os.Stderr, "\n%s wall=%d cpu=%d maxrss=%d\n", measureFlag, wall.Nanoseconds(), cpu.Nanoseconds(), rss)
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			os.Exit(ee.ExitCode())
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// parseMeasure splits a measured run's output from the wrapper's report.
func parseMeasure(out string) (string, time.Duration, time.Duration, int64) {
	i := strings.LastIndex(out, "\n"+measureFlag+" ")
	if i < 0 {
		return out, 0, 0, 0
	}
	var wall, cpu, rss int64
	fmt.Sscanf(out[i+1:], measureFlag+" wall=%d cpu=%d maxrss=%d", &wall, &cpu, &rss)
	return out[:i], time.Duration(wall), time.Duration(cpu), rss
}

// copyFloor times cp -r of a module cache, from the page cache, into a
// sibling directory on the same file system: the floor of any tool that
// leaves that end state. The copy is removed.
func (b *bench) copyFloor(modcache string) (time.Duration, error) {
	dst := modcache + ".cp"
	benchrun.Settle()
	start := time.Now()
	out, err := exec.Command("cp", "-r", modcache, dst).CombinedOutput()
	d := time.Since(start)
	modnet.RemoveAll(dst)
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, out)
	}
	return d, nil
}

// hashFloor times hashing every zip of a module cache's download cache
// once (modnet.HashZip: each file inflated once, the pass modfetch
// verifies with), on GOMAXPROCS goroutines, largest zip first, from the
// page cache: the floor of any tool that verifies the zips, and all that
// prefetch -extract=false does besides transferring them.
func (b *bench) hashFloor(modcache string) (time.Duration, error) {
	type zipFile struct {
		name string
		size int64
	}
	var zips []zipFile
	err := filepath.WalkDir(filepath.Join(modcache, "cache", "download"), func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".zip") {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		zips = append(zips, zipFile{name, fi.Size()})
		return nil
	})
	if err != nil {
		return 0, err
	}
	slices.SortFunc(zips, func(a, b zipFile) int { return cmp.Compare(b.size, a.size) })
	benchrun.Settle()
	start := time.Now()
	var g errgroup.Group
	g.SetLimit(gomaxprocs())
	for _, z := range zips {
		g.Go(func() error {
			_, err := modnet.HashZip(z.name)
			return err
		})
	}
	err = g.Wait()
	return time.Since(start), err
}

// verify runs go mod verify offline on a module cache.
func (b *bench) verify(mainDir, modcache string) error {
	cmd := exec.Command(b.gobin, "mod", "verify")
	cmd.Dir = mainDir
	cmd.Env = b.environ(modcache, "GOPROXY=off", "GOSUMDB=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("GOPROXY=off go mod verify: %v\n%s", err, out)
	}
	return nil
}

// offline checks that the go command needs no network after a prefetch.
func (b *bench) offline(mainDir, modcache string) error {
	for _, args := range [][]string{{"mod", "download", "all"}, {"build", "./..."}} {
		cmd := exec.Command(b.gobin, args...)
		cmd.Dir = mainDir
		cmd.Env = b.environ(modcache, "GOPROXY=off", "GOSUMDB=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("GOPROXY=off go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

func gomaxprocs() int { return runtime.GOMAXPROCS(0) }
