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
	"github.com/modkit/modkit/modnet/modload"
	"github.com/modkit/modkit/retry"
)

// moduleJSON is one result, with the field names of 'go mod download -json'.
type moduleJSON struct {
	Path     string `json:",omitempty"`
	Version  string `json:",omitempty"`
	Query    string `json:",omitempty"`
	Error    string `json:",omitempty"`
	Info     string `json:",omitempty"`
	GoMod    string `json:",omitempty"`
	Zip      string `json:",omitempty"`
	Dir      string `json:",omitempty"`
	Sum      string `json:",omitempty"`
	GoModSum string `json:",omitempty"`
}

// downloadConcurrency bounds parallel downloads; the network, not the CPU,
// is the limit.
const downloadConcurrency = 16

func runDownload(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("download", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per module, like go mod download -json")
	trace := fs.Bool("x", false, "print each request and its outcome")
	noRetry := fs.Bool("noretry", false, "behave exactly like the go command: no retries, no resume")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() == 0 {
		return errUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	env, err := modnet.LoadEnv()
	if err != nil {
		return err
	}
	client := &modnet.Client{Env: env, NoRetry: *noRetry}
	// Inside a module or a workspace, as 'go mod download path@query'
	// there: downloads are verified against its go.sum files, and queries
	// see its versions and exclusions.
	mm, sum, err := enclosingMain(env)
	if err != nil {
		return err
	}
	client.GoSum = sum
	if *trace {
		var mu sync.Mutex
		client.OnFetch = func(ev modnet.FetchEvent) {
			mu.Lock()
			defer mu.Unlock()
			outcome := ev.Status
			if ev.Err != nil && outcome == "" {
				outcome = firstLine(ev.Err.Error())
			}
			fmt.Fprintf(stderr, "# get %s: %s (%.3fs)\n", ev.URL, outcome, ev.Elapsed.Seconds())
		}
		client.HTTP = &retry.Client{
			OnRetry: func(ev retry.Event) {
				mu.Lock()
				defer mu.Unlock()
				why := ev.Class.String()
				if ev.StatusCode != 0 {
					why = fmt.Sprintf("%s, status %d", why, ev.StatusCode)
				}
				fmt.Fprintf(stderr, "# retry %s: %s; attempt %d in %s\n", ev.URL, why, ev.Attempt+1, ev.Delay.Round(time.Millisecond))
			},
			OnResume: func(ev retry.Event) {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintf(stderr, "# resume %s at byte %d\n", ev.URL, ev.Offset)
			},
		}
	}
	defer client.Close()

	results, errs := downloadAll(ctx, client, mm, fs.Args())
	// As 'go mod download' with arguments does: a module too new for the
	// running Go makes the go command switch toolchains, when GOTOOLCHAIN
	// allows it, and download everything again with the new one.
	sw, err := client.SwitchToolchain(ctx, errs...)
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "modfetch download: %v\n", err)
	case sw != nil:
		fmt.Fprintf(stderr, "modfetch: %v requires go >= %v; switching to %v\n", sw.TooNew.What, sw.TooNew.GoVersion, sw.Name)
		switched := &modnet.Client{Env: env, NoRetry: client.NoRetry, GoSum: client.GoSum, OnFetch: client.OnFetch,
			HTTP: client.HTTP, GoVersion: strings.TrimPrefix(sw.Name, "go")}
		defer switched.Close()
		results, _ = downloadAll(ctx, switched, mm, fs.Args())
	}

	failed := 0
	for _, r := range results {
		if r.Error != "" {
			failed++
		}
		if *asJSON {
			js, _ := json.MarshalIndent(r, "", "\t")
			fmt.Fprintf(stdout, "%s\n", js)
		} else if r.Error != "" {
			fmt.Fprintf(stderr, "modfetch: %s\n", r.Error)
		}
	}
	if failed > 0 {
		return errSilent{fmt.Errorf("%d of %d modules failed", failed, len(results))}
	}
	return nil
}

// explain renders an error with what modkit tried, when it tried several
// sources.
func explain(err error) string {
	var me *modnet.ModuleError
	if errors.As(err, &me) {
		return me.Explain()
	}
	return err.Error()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func canonicalOrEmpty(v string) string {
	if strings.HasPrefix(v, "v") && strings.Count(v, ".") >= 2 {
		return v
	}
	return ""
}

// enclosingMain returns the main module the go command works with in the
// current directory, and the checksums it trusts: the workspace's
// (go.work.sum and every use'd module's go.sum) where GOWORK or a go.work
// above puts the directory in one, else the enclosing module's; nil and
// nil outside a module. As for the go command, a GOWORK that is not an
// absolute path, or names a go.work that cannot be read, is an error
// (cmd/go/internal/modload: FindGoWork, ReadWorkFile), not a fall-back
// to go.mod.
func enclosingMain(env *modnet.Env) (*modload.MainModule, *modnet.GoSum, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, nil, err
	}
	file, work, err := env.FindMain(wd)
	switch {
	case err != nil:
		return nil, nil, err
	case file == "":
		return nil, nil, nil
	case work:
		mm, err := modload.ReadWorkspace(file)
		if err != nil {
			return nil, nil, err
		}
		sum, err := modnet.ReadWorkspaceGoSum(mm, file)
		return mm, sum, err
	}
	mm, err := modload.ReadMainModule(file)
	if err != nil {
		return nil, nil, err
	}
	sum, err := modnet.ReadGoSum(modload.GoSumFile(file))
	return mm, sum, err
}

// errSilent is a failure already reported on the output: exit 1 without
// another message.
type errSilent struct{ error }

// downloadAll downloads every MODULE@VERSION argument, some at once, and
// returns the results and errors in argument order. Queries are resolved
// with the main module's view when mm is not nil.
func downloadAll(ctx context.Context, client *modnet.Client, mm *modload.MainModule, args []string) ([]moduleJSON, []error) {
	var loader *modload.Loader
	if mm != nil {
		loader = &modload.Loader{Source: client}
	}
	results := make([]moduleJSON, len(args))
	errs := make([]error, len(args))
	sem := make(chan struct{}, downloadConcurrency)
	var wg sync.WaitGroup
	for i, arg := range args {
		path, query, ok := strings.Cut(arg, "@")
		if !ok {
			query = "latest"
		}
		results[i] = moduleJSON{Path: path, Version: query}
		if !ok || query != canonicalOrEmpty(query) {
			results[i].Query = query
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			version := query
			var err error
			if mm != nil && query != canonicalOrEmpty(query) {
				var info *modnet.Info
				if info, err = client.QueryFor(ctx, path, query, mm.QueryOptions(ctx, loader, path, query)); err == nil {
					version = info.Version
				}
			}
			var m *modnet.ModuleFiles
			if err == nil {
				m, err = client.Download(ctx, path, version)
			}
			r := &results[i]
			if err != nil {
				r.Error, errs[i] = explain(err), err
			}
			if m != nil {
				// Also with a module too new for the running Go: its files
				// are in the cache, and 'go mod download -json' lists them.
				r.Version, r.Info, r.GoMod, r.Zip, r.Dir, r.Sum, r.GoModSum = m.Version, m.Info, m.GoMod, m.Zip, m.Dir, m.Sum, m.GoModSum
			}
		}()
	}
	wg.Wait()
	return results, errs
}
