package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modnettest"
)

// bench holds the work directory, the modfetch binary and the go command.
type bench struct {
	dir      string
	modfetch string
	gobin    string
	keep     bool
	n        int // runs so far, to name module caches
}

func newBench(keep bool) (*bench, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "prefetchbench")
	if err != nil {
		return nil, err
	}
	b := &bench{dir: dir, gobin: gobin, keep: keep, modfetch: filepath.Join(dir, "modfetch")}
	home := workDir(dir, "home")
	if err := os.MkdirAll(workDir(home, ".config", "go", "telemetry"), 0o777); err != nil {
		return nil, err
	}
	// Telemetry off, or the go command leaves a process writing to HOME.
	if err := os.WriteFile(workDir(home, ".config", "go", "telemetry", "mode"), []byte("off"), 0o666); err != nil {
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

// serve generates a graph, serves it and writes its main module.
func (b *bench) serve(cfg modnettest.GraphConfig, name string) (*modnettest.Graph, *modnettest.Server, string, error) {
	g, err := modnettest.GenerateGraph(cfg)
	if err != nil {
		return nil, nil, "", err
	}
	mainDir := workDir(b.dir, name)
	if err := os.MkdirAll(mainDir, 0o777); err != nil {
		return nil, nil, "", err
	}
	if err := g.WriteMain(mainDir); err != nil {
		return nil, nil, "", err
	}
	return g, modnettest.NewServer(g.Modules...), mainDir, nil
}

// environ is the hermetic environment both commands run in.
func (b *bench) environ(modcache string, kv ...string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + workDir(b.dir, "home"),
		"GOENV=off", "GOTOOLCHAIN=local", "GOFLAGS=-modcacherw", "GO111MODULE=on",
		"GOPATH=" + workDir(b.dir, "gopath"),
		"GOCACHE=" + workDir(b.dir, "gocache"),
		"GOMODCACHE=" + modcache,
		"GONOSUMDB=", "GOPRIVATE=", "GONOPROXY=", "GOINSECURE=",
	}
	return append(env, kv...)
}

// result is one timed run.
type result struct {
	wall     time.Duration
	maxRSS   int64 // bytes
	modcache string
	output   string
	err      error
}

// run runs "go mod download all" or "modfetch prefetch" in mainDir with a
// fresh module cache.
func (b *bench) run(tool, mainDir, proxy, sumdb string) result {
	b.n++
	modcache := workDir(b.dir, fmt.Sprintf("modcache%03d-%s", b.n, tool))
	var cmd *exec.Cmd
	if tool == "go" {
		cmd = exec.Command(b.gobin, "mod", "download", "all")
	} else {
		cmd = exec.Command(b.modfetch, "prefetch")
	}
	cmd.Dir = mainDir
	cmd.Env = b.environ(modcache, "GOPROXY="+proxy, "GOSUMDB="+sumdb)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r := result{wall: time.Since(start), modcache: modcache, output: out.String(), err: err}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = maxRSSBytes(ru)
	}
	return r
}

// maxRSSBytes converts rusage's Maxrss, which is in kilobytes on Linux and
// in bytes on Darwin.
func maxRSSBytes(ru *syscall.Rusage) int64 {
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) << 10
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

// cacheState lists the files of a module cache with a hash of each,
// leaving out what differs between runs of the same command: lock files,
// the checksum database cache, temporary files.
func cacheState(modcache string) (map[string]string, error) {
	state := make(map[string]string)
	err := filepath.WalkDir(modcache, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(modcache, path)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == "cache/download/sumdb" || rel == "cache/vcs":
			return filepath.SkipDir
		case d.IsDir(), strings.HasSuffix(rel, ".lock"), rel == "cache/lock", strings.Contains(rel, ".tmp"):
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		state[rel] = hex.EncodeToString(sum[:8])
		return nil
	})
	return state, err
}

func diffStates(modkit, gocmd map[string]string) []string {
	var diffs []string
	for k, v := range modkit {
		if w, ok := gocmd[k]; !ok {
			diffs = append(diffs, "only after modfetch: "+k)
		} else if v != w {
			diffs = append(diffs, "content differs: "+k)
		}
	}
	for k := range gocmd {
		if _, ok := modkit[k]; !ok {
			diffs = append(diffs, "only after go: "+k)
		}
	}
	slices.Sort(diffs)
	return diffs
}

func gomaxprocs() int { return runtime.GOMAXPROCS(0) }
