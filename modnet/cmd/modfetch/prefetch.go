package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/retry"
)

// eventJSON is one line of 'modfetch prefetch -json': an event, or the
// closing summary (Kind "summary").
type eventJSON struct {
	Kind      string
	Path      string  `json:",omitempty"`
	Version   string  `json:",omitempty"`
	GoModOnly bool    `json:",omitempty"`
	File      string  `json:",omitempty"`
	Class     string  `json:",omitempty"`
	Delay     float64 `json:",omitempty"` // seconds
	Bytes     int64   `json:",omitempty"`
	Cached    bool    `json:",omitempty"`
	Error     string  `json:",omitempty"`
	Elapsed   float64 `json:",omitempty"` // seconds

	// Summary only.
	Main    string `json:",omitempty"`
	Modules int    `json:",omitempty"` // module versions downloaded in full
	GoMods  int    `json:",omitempty"` // module versions needed for their go.mod only
	Failed  int    `json:",omitempty"`
	Retries int    `json:",omitempty"`
	// Toolchain is the toolchain the go command switches to in the main
	// module, fetched unless ToolchainPATH has it.
	Toolchain     string `json:",omitempty"`
	ToolchainPATH string `json:",omitempty"`
	// Work is the go.work file of a workspace; GoSumAdded the lines added
	// to go.sum (go.work.sum).
	Work       string   `json:",omitempty"`
	GoSumAdded []string `json:",omitempty"`
}

// prefetchHTTP is the retry.Client prefetch starts from; nil leaves every
// knob to Prefetch's defaults. Tests turn hedging off with it where they
// count requests and are not about hedging.
var prefetchHTTP *retry.Client

func runPrefetch(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("prefetch", stderr)
	asJSON := fs.Bool("json", false, "print each event as one JSON object per line, then a summary")
	jobs := fs.Int("j", 0, "transfers in flight at once, overall and to one host (default 64 overall, 32 per host)")
	modFile := fs.String("modfile", "", "the main module's go.mod (default: that of the module containing the current directory)")
	extract := fs.Bool("extract", true, "extract modules; -extract=false fills only the download cache (.info, .mod, .zip, .ziphash), which the go command extracts from on first use")
	toolchain := fs.Bool("toolchain", true, "also fetch the Go toolchain that go.mod's go or toolchain line makes the go command switch to")
	gosum := fs.Bool("gosum", true, "add the go.sum (go.work.sum) lines 'go mod download all' adds; -gosum=false leaves the file untouched")
	readAhead := fs.Bool("readahead", true, "fetch what go.sum lists before the graph walk confirms it (held back until then); -readahead=false fetches only what the walk confirmed")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 0 || *jobs < 0 {
		return errUsage
	}
	env, err := modnet.LoadEnv()
	if err != nil {
		return err
	}
	var workFile string
	if *modFile == "" {
		// In a workspace, what 'go mod download' fetches there: the
		// workspace's build list (GOWORK=off for the module's alone).
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		file, work, err := env.FindMain(wd)
		switch {
		case err != nil:
			return err
		case work:
			workFile = file
		case file == "":
			return errNoModule
		default:
			*modFile = file
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	client := &modnet.Client{Env: env, HTTP: prefetchHTTP}
	defer client.Close()

	req := &modnet.PrefetchRequest{ModFile: *modFile, WorkFile: workFile, Jobs: *jobs, PerHost: *jobs,
		NoExtract: !*extract, NoToolchain: !*toolchain, NoGoSum: !*gosum, NoReadAhead: !*readAhead}
	var prog *progress
	switch {
	case *asJSON:
		enc := json.NewEncoder(stdout)
		req.OnEvent = func(ev modnet.PrefetchEvent) { enc.Encode(eventLine(ev)) }
	case isTerminal(stderr):
		req.Progress = new(modnet.PrefetchProgress)
		prog = newProgress(stderr, req.Progress)
		req.OnEvent = prog.event
	default:
		req.OnEvent = func(ev modnet.PrefetchEvent) {
			if ev.Kind == modnet.PrefetchMismatch {
				fmt.Fprintln(stderr, mismatchWarning(ev))
			}
		}
	}
	res, err := client.Prefetch(ctx, req)
	if prog != nil {
		prog.stop()
	}
	var perr *modnet.PrefetchError
	if err != nil && !errors.As(err, &perr) {
		return err
	}
	sum := summarize(res)
	if *asJSON {
		json.NewEncoder(stdout).Encode(sum)
	} else {
		printSummary(stderr, sum, res)
	}
	if perr != nil {
		return errSilent{err}
	}
	return nil
}

func eventLine(ev modnet.PrefetchEvent) eventJSON {
	line := eventJSON{Kind: string(ev.Kind), Path: ev.Path, Version: ev.Version, GoModOnly: ev.GoModOnly,
		File: ev.File, Class: ev.Class, Delay: ev.Delay.Seconds(), Bytes: ev.Bytes, Cached: ev.Cached,
		Elapsed: ev.Elapsed.Seconds()}
	if ev.Err != nil {
		line.Error = ev.Err.Error()
	}
	return line
}

func summarize(res *modnet.PrefetchResult) eventJSON {
	sum := eventJSON{Kind: "summary", Main: res.Main, Bytes: res.Bytes, Retries: res.Retries, Elapsed: res.Elapsed.Seconds(),
		Toolchain: res.Toolchain, ToolchainPATH: res.ToolchainPATH, Work: res.Work, GoSumAdded: res.GoSumAdded}
	for _, m := range res.Modules {
		switch {
		case m.Err != nil:
			sum.Failed++
		case m.GoModOnly:
			sum.GoMods++
		default:
			sum.Modules++
		}
	}
	return sum
}

// printSummary prints the one line a prefetch ends with, after the
// failures, each with its class and what was tried.
func printSummary(w io.Writer, sum eventJSON, res *modnet.PrefetchResult) {
	for _, m := range res.Failed() {
		fmt.Fprintf(w, "modfetch: %s@%s (%s): %s\n", m.Path, m.Version, m.Class, explain(m.Err))
	}
	fmt.Fprintf(w, "modfetch prefetch: %d modules and %d go.mod files in the module cache, %s downloaded, %d retries, in %.2fs",
		sum.Modules, sum.GoMods, mib(sum.Bytes), sum.Retries, sum.Elapsed)
	if sum.Failed > 0 {
		fmt.Fprintf(w, "; %d FAILED", sum.Failed)
	}
	fmt.Fprintln(w)
	if n := len(sum.GoSumAdded); n > 0 {
		fmt.Fprintf(w, "modfetch prefetch: added %d lines to %s\n", n, res.GoSumFile)
	}
	switch {
	case sum.ToolchainPATH != "":
		fmt.Fprintf(w, "modfetch prefetch: go.mod switches the go command to %s, which it runs from PATH (%s)\n", sum.Toolchain, sum.ToolchainPATH)
	case sum.Toolchain != "":
		fmt.Fprintf(w, "modfetch prefetch: go.mod switches the go command to %s, fetched with the modules\n", sum.Toolchain)
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// errNoModule is the go command's complaint outside a module.
var errNoModule = errors.New("go.mod file not found in current directory or any parent directory; use -modfile")

// isTerminal reports whether w is a terminal, where a progress line that
// rewrites itself makes sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// mismatchWarning is the warning for a file that failed verification and
// is downloaded again.
func mismatchWarning(ev modnet.PrefetchEvent) string {
	return fmt.Sprintf("modfetch prefetch: warning: %s@%s: downloaded %s failed verification (%s), downloading it again: %s",
		ev.Path, ev.Version, ev.File, ev.Class, oneLine(ev.Err))
}

// oneLine returns the first line of err's message.
func oneLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

// progress keeps a live status line on a terminal, redrawn ten times a
// second, with the totals of a PrefetchProgress.
type progress struct {
	w      io.Writer
	totals *modnet.PrefetchProgress
	mu     sync.Mutex
	done   chan struct{}
	wg     sync.WaitGroup

	start                 time.Time
	inflight, failed, ret int
}

func newProgress(w io.Writer, totals *modnet.PrefetchProgress) *progress {
	p := &progress{w: w, totals: totals, done: make(chan struct{}), start: time.Now()}
	p.wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				p.draw(false)
			}
		}
	})
	return p
}

func (p *progress) event(ev modnet.PrefetchEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.Kind {
	case modnet.PrefetchStart:
		p.inflight++
	case modnet.PrefetchRetry:
		p.ret++
	case modnet.PrefetchMismatch:
		fmt.Fprintf(p.w, "\r\033[K%s\n", mismatchWarning(ev))
	case modnet.PrefetchDone, modnet.PrefetchFail:
		if ev.Elapsed > 0 { // it had started
			p.inflight--
		}
		if ev.Kind == modnet.PrefetchFail {
			p.failed++
		}
	}
}

func (p *progress) draw(final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r\033[K%s", progressLine(p.totals.Snapshot(), time.Since(p.start), p.inflight, p.ret, p.failed))
	if final {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// progressLine is the live status: modules n/N, MiB of MiB (estimated,
// "~", until every size is known), rate and ETA.
func progressLine(t modnet.PrefetchTotals, elapsed time.Duration, inflight, retries, failed int) string {
	approx := "~"
	if t.Exact {
		approx = ""
	}
	line := fmt.Sprintf("prefetch: modules %d/%s%d, go.mod %d, %.1f of %s%.1f MiB", t.ModulesDone, approx, t.Modules, t.GoMods,
		float64(t.Bytes)/(1<<20), approx, float64(max(t.ZipBytes, t.Bytes))/(1<<20))
	if rate := float64(t.Bytes) / elapsed.Seconds(); t.Bytes > 0 && elapsed > 0 {
		eta := "?"
		if left := t.ZipBytes - t.Bytes; left >= 0 && t.ZipBytes > 0 {
			eta = fmt.Sprintf("%ds", int(float64(left)/rate+0.5))
		}
		line += fmt.Sprintf(", %.1f MiB/s, ETA %s", rate/(1<<20), eta)
	}
	return line + fmt.Sprintf(", %d in flight, %d retries, %d failed, %.1fs", inflight, retries, failed, elapsed.Seconds())
}

// stop ends the live line, clearing it for the summary.
func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
	p.draw(true)
}
