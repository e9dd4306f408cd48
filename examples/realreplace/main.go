package main

import (
	"context"
	"flag"
	"fmt"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/tools/go/analysis"

	"github.com/modkit/modkit/analyzer"
)

func main() {
	corpus := flag.String("corpus", defaultCorpus(), "the realreplace corpus: a directory holding corpus/<repo>/")
	repos := flag.String("repos", "", "comma-separated repositories to run (default: all)")
	jobs := flag.Int("j", 2, "repositories judged at once")
	verbose := flag.Bool("v", false, "print every finding with its verdict")
	modcache := flag.String("modcache", defaultModCache(), "the module cache of the measurement (kept between runs)")
	timeRuns := flag.Int("time", 0, "instead of judging, time `N` runs of 'modreplace -gomod' over each repository's go.mod files (warm module cache)")
	baseline := flag.String("baseline", "", "with -time, another modreplace `binary` to time alternately, for the ratio")
	flag.Parse()
	// The go commands and modreplace share it through the environment.
	os.Setenv("GOMODCACHE", *modcache)

	root := *corpus
	if fi, err := os.Stat(filepath.Join(root, "corpus")); err == nil && fi.IsDir() {
		root = filepath.Join(root, "corpus")
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		fmt.Fprintf(os.Stderr, "realreplace: reading the corpus: %v (set -corpus)\n", err)
		os.Exit(1)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && (*repos == "" || slices.Contains(strings.Split(*repos, ","), e.Name())) {
			names = append(names, e.Name())
		}
	}
	tmp, err := os.MkdirTemp("", "realreplace")
	if err != nil {
		fmt.Fprintln(os.Stderr, "realreplace:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(tmp)

	if *timeRuns > 0 {
		if err := timeGoMod(root, tmp, names, *timeRuns, *baseline); err != nil {
			fmt.Fprintln(os.Stderr, "realreplace:", err)
			os.Exit(1)
		}
		return
	}

	start := time.Now()
	results := make([][]judged, len(names))
	var notes []string
	var mu sync.Mutex
	sem := make(chan struct{}, max(*jobs, 1))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			dir := filepath.Join(tmp, name)
			if err := copyTree(filepath.Join(root, name), dir); err != nil {
				fmt.Fprintf(os.Stderr, "realreplace: %s: %v\n", name, err)
				os.Exit(1)
			}
			r := &repo{name: name, dir: dir}
			results[i] = r.run()
			mu.Lock()
			notes = append(notes, r.notes...)
			mu.Unlock()
			fmt.Fprintf(os.Stderr, "realreplace: %s done (%d findings, %s so far)\n", name, len(results[i]), time.Since(start).Round(time.Second))
		})
	}
	wg.Wait()
	report(os.Stdout, slices.Concat(results...), notes, *verbose)
}

// defaultCorpus is ../shared/realreplace next to the repository root, if
// there is one, else /work/shared/realreplace.
func defaultCorpus() string {
	if dir, err := os.Getwd(); err == nil {
		for d := dir; ; d = filepath.Dir(d) {
			if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && modfile.ModulePath(data) == "github.com/modkit/modkit" {
				if c := filepath.Join(filepath.Dir(d), "shared", "realreplace"); isDir(c) {
					return c
				}
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "/work/shared/realreplace"
}

// defaultModCache is a module cache under the user's cache directory, so
// that a second run is warm.
func defaultModCache() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "modkit-realreplace", "mod")
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// copyTree copies the corpus tree of one repository and marks its root
// with a .git directory.
func copyTree(src, dst string) error {
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o777)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o666)
	})
	if err != nil {
		return err
	}
	return os.MkdirAll(filepath.Join(dst, ".git"), 0o777)
}

// A repo is one repository of the corpus, copied.
type repo struct {
	name, dir string
	notes     []string
}

// A judged finding is a finding and the go command's verdict on it.
type judged struct {
	repo, file string // file relative to the repository root
	line       int
	check, msg string
	verdict    verdict
	why        string // for a refuted or unjudged finding
}

type verdict int

const (
	confirmed verdict = iota
	refuted
	unjudged
)

func (v verdict) String() string { return [...]string{"true", "FALSE", "unjudged"}[v] }

// run checks and judges every go.mod of the repository, one at a time:
// judging edits a go.mod, which its siblings' graphs read.
func (r *repo) run() []judged {
	var gomods []string
	filepath.WalkDir(r.dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "go.mod" {
			gomods = append(gomods, p)
		}
		return nil
	})
	slices.Sort(gomods)
	// The reference runs first for every module, so that the module cache
	// holds the graphs of all of them before any is checked. -mod=mod may
	// rewrite a go.mod (raising its requirements to the selected
	// versions); the corpus files are put back, since they are what is
	// checked.
	ref := make(map[string]goResult)
	for _, gomod := range gomods {
		ref[gomod] = listAllOf(gomod)
	}
	var out []judged
	for _, gomod := range gomods {
		out = append(out, r.check(gomod, ref[gomod])...)
	}
	return out
}

// check runs modreplace on gomod and judges each finding.
func (r *repo) check(gomod string, ref goResult) []judged {
	rel, _ := filepath.Rel(r.dir, gomod)
	fset := token.NewFileSet()
	var notes []analyzer.Note
	cfg := analyzer.Config{Source: &analyzer.ModnetSource{}, OnNote: func(n analyzer.Note) { notes = append(notes, n) }}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	diags, err := analyzer.CheckModFile(ctx, fset, gomod, cfg)
	if err != nil {
		r.notes = append(r.notes, fmt.Sprintf("%s/%s: %v", r.name, rel, err))
		return nil
	}
	for _, n := range notes {
		r.notes = append(r.notes, fmt.Sprintf("%s/%s:%d: %s", r.name, rel, fset.Position(n.Pos).Line, n.Message))
	}
	data, err := os.ReadFile(gomod)
	if err != nil {
		return nil
	}
	f, err := modfile.Parse(gomod, data, nil)
	if err != nil {
		return nil
	}
	var out []judged
	for _, d := range diags {
		line := fset.Position(d.Pos).Line
		j := judged{repo: r.name, file: rel, line: line, check: d.Category, msg: d.Message}
		j.verdict, j.why = r.judge(gomod, string(data), f, line, d, ref)
		out = append(out, j)
	}
	return out
}

// judge asks the go command about one finding.
func (r *repo) judge(gomod, content string, f *modfile.File, line int, d analysis.Diagnostic, ref goResult) (verdict, string) {
	rep := replaceAt(f, line)
	switch d.Category {
	case analyzer.Unused, analyzer.Inert:
		if ref.err != "" {
			return unjudged, "go list -m -e all fails: " + ref.err
		}
		without := removeLine(content, line)
		if err := os.WriteFile(gomod, []byte(without), 0o666); err != nil {
			return unjudged, err.Error()
		}
		listWithout := listAllOf(gomod)
		os.WriteFile(gomod, []byte(without), 0o666)
		tidyWithout := tidyDiff(filepath.Dir(gomod))
		if err := os.WriteFile(gomod, []byte(content), 0o666); err != nil {
			return unjudged, err.Error()
		}
		tidyWith := tidyDiff(filepath.Dir(gomod))
		switch {
		case listWithout != ref:
			return refuted, "go list -m all changes without the line: " + firstDifference(ref.out+ref.err, listWithout.out+listWithout.err)
		case tidyWithout != tidyWith:
			return refuted, "go mod tidy -diff changes without the line: " + firstDifference(tidyWith.out+tidyWith.err, tidyWithout.out+tidyWithout.err)
		}
		if tidyWith.err != "" {
			return confirmed, "go list -m all is the same; go mod tidy -diff fails the same way with and without the line: " + tidyWith.err
		}
		return confirmed, ""
	case analyzer.Downgrade, analyzer.Fork:
		if ref.err != "" {
			return unjudged, "go list -m all fails: " + ref.err
		}
		if rep == nil {
			return unjudged, "no replace at the line"
		}
		for l := range strings.Lines(ref.out) {
			l, _, _ = strings.Cut(l, " ERROR: ")
			fields := strings.Fields(l)
			if len(fields) != 5 || fields[0] != rep.Old.Path || fields[2] != "=>" || (rep.Old.Version != "" && fields[1] != rep.Old.Version) {
				continue
			}
			if d.Category == analyzer.Fork && fields[3] != rep.Old.Path {
				return confirmed, ""
			}
			if d.Category == analyzer.Downgrade && fields[3] == rep.Old.Path && semverLess(fields[4], fields[1]) {
				return confirmed, ""
			}
			return refuted, "go list -m all: " + strings.TrimSpace(l)
		}
		return refuted, "go list -m all does not list the replacement of " + rep.Old.Path
	case analyzer.Placeholder:
		// go list -m -e all lists the version with the error that
		// fetching it gives, or fails naming it.
		path, version := placeholderModule(d.Message)
		if strings.Contains(ref.out, path+" "+version+" ERROR: ") || strings.Contains(ref.err, path+"@"+version) {
			return confirmed, ""
		}
		return refuted, "go list -m -e all does not fail on " + path + "@" + version + ": " + ref.err
	case analyzer.GoworkShadow:
		if rep == nil {
			return unjudged, "no replace at the line"
		}
		outside := listModule(filepath.Dir(gomod), "off", rep.Old.Path)
		inside := listModule(filepath.Dir(gomod), "", rep.Old.Path)
		switch {
		case outside.err != "" && inside.err != "":
			return unjudged, "go list -m fails with and without the workspace: " + inside.err
		case outside == inside:
			return refuted, "the workspace builds the same: " + strings.TrimSpace(inside.out)
		}
		return confirmed, ""
	}
	return confirmed, "" // about the line's text
}

// replaceAt returns the replace directive at the line, if one is.
func replaceAt(f *modfile.File, line int) *modfile.Replace {
	for _, r := range f.Replace {
		if r.Syntax.Start.Line == line {
			return r
		}
	}
	return nil
}

// removeLine returns content without its line'th line (1-based).
func removeLine(content string, line int) string {
	lines := strings.SplitAfter(content, "\n")
	return strings.Join(slices.Delete(lines, line-1, line), "")
}

// placeholderModule returns the module version a placeholder finding
// names first.
func placeholderModule(msg string) (path, version string) {
	f := strings.Fields(strings.TrimPrefix(msg, "["+analyzer.Placeholder+"] "))
	if len(f) < 2 {
		return "", ""
	}
	return f[0], strings.TrimSuffix(f[1], ",")
}

func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("%q became %q", x, y)
		}
	}
	return "(same lines)"
}
