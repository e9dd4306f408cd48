package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/modkit/modkit/analyzer"
	"golang.org/x/tools/go/analysis"
)

// goModMode reports whether the command line asks for the -gomod mode.
func goModMode(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		switch strings.TrimLeft(a, "-") {
		case "gomod", "gomod=true", "gomod=1":
			return strings.HasPrefix(a, "-")
		}
	}
	return false
}

// runGoMod is "modreplace -gomod": the checks on go.mod files, without
// loading packages.
func runGoMod(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("modreplace -gomod", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Bool("gomod", true, "check go.mod files (or the go.mod of directories) without loading packages")
	jsonOut := fs.Bool("json", false, "emit JSON output")
	fix := fs.Bool("fix", false, "apply the first suggested fix of each finding")
	diff := fs.Bool("diff", false, "with -fix, print the changes as a unified diff instead of writing them")
	// One source for all files, so that each module is asked about once.
	cfg := analyzer.Config{Source: &analyzer.ModnetSource{}}
	cfg.RegisterFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: modreplace -gomod [flags] [go.mod | dir]...\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *diff && !*fix {
		fmt.Fprintln(stderr, "modreplace: -diff requires -fix")
		return 2
	}
	files, err := goModFiles(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "modreplace: %v\n", err)
		return 1
	}

	// Only the opt-in retracted check waits on the network; a stalled
	// proxy must not hang a pre-commit hook.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fset := token.NewFileSet()
	// Notes say what the checks could not decide; they are not findings,
	// so they go to standard error and leave the exit status alone.
	cfg.OnNote = func(n analyzer.Note) { fmt.Fprintf(stderr, "%s: note: %s\n", fset.Position(n.Pos), n.Message) }
	tree := make(jsonTree)
	exit := 0
	for _, file := range files {
		diags, err := analyzer.CheckModFile(ctx, fset, file, cfg)
		switch {
		case *jsonOut:
			tree.add(fset, file, diags, err)
		case err != nil:
			fmt.Fprintf(stderr, "modreplace: %v\n", err)
			exit = 1
		case *fix:
			if err := fixFile(fset, file, diags, *diff, stdout); err != nil {
				fmt.Fprintf(stderr, "modreplace: %v\n", err)
				exit = 1
			}
		default:
			for _, d := range diags {
				printDiagnostic(stdout, fset, d)
				exit = max(exit, 3)
			}
		}
	}
	if *jsonOut {
		data, err := json.MarshalIndent(tree, "", "\t")
		if err != nil {
			fmt.Fprintf(stderr, "modreplace: %v\n", err)
			return 1
		}
		stdout.Write(append(data, '\n'))
		return 0
	}
	return exit
}

// goModFiles turns arguments into go.mod paths: files stay, directories
// stand for their go.mod, and no argument means the go.mod at or above the
// current directory.
func goModFiles(args []string) ([]string, error) {
	if len(args) == 0 {
		dir, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		for d := dir; ; d = filepath.Dir(d) {
			if fi, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && !fi.IsDir() {
				rel, err := filepath.Rel(dir, filepath.Join(d, "go.mod"))
				if err != nil {
					return nil, err
				}
				return []string{rel}, nil
			}
			if filepath.Dir(d) == d {
				return nil, fmt.Errorf("no go.mod in %s or any parent directory", dir)
			}
		}
	}
	var files []string
	for _, a := range args {
		if fi, err := os.Stat(a); err == nil && fi.IsDir() {
			a = filepath.Join(a, "go.mod")
		}
		files = append(files, filepath.Clean(a))
	}
	return files, nil
}

func printDiagnostic(w io.Writer, fset *token.FileSet, d analysis.Diagnostic) {
	fmt.Fprintf(w, "%s: %s\n", fset.Position(d.Pos), d.Message)
	for _, r := range d.Related {
		fmt.Fprintf(w, "\t%s: %s\n", fset.Position(r.Pos), r.Message)
	}
}

// fixFile applies the fixes to file, or prints them as a diff.
func fixFile(fset *token.FileSet, file string, diags []analysis.Diagnostic, printDiff bool, stdout io.Writer) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	out, n, err := analyzer.ApplyFixes(fset, file, src, diags)
	if err != nil || n == 0 {
		return err
	}
	if printDiff {
		_, err := io.WriteString(stdout, unifiedDiff(file+" (old)", file+" (new)", src, out))
		return err
	}
	return os.WriteFile(file, out, 0o666)
}

// jsonTree has the shape of the x/tools drivers' -json output: an ID (here
// the go.mod path) maps analyzer names to diagnostics or an error.
type jsonTree map[string]map[string]any

type jsonDiagnostic struct {
	Category       string            `json:"category,omitempty"`
	Posn           string            `json:"posn"`
	End            string            `json:"end,omitempty"`
	Message        string            `json:"message"`
	SuggestedFixes []jsonFix         `json:"suggested_fixes,omitempty"`
	Related        []jsonRelatedInfo `json:"related,omitempty"`
}

type jsonFix struct {
	Message string     `json:"message"`
	Edits   []jsonEdit `json:"edits"`
}

type jsonEdit struct {
	Filename string `json:"filename"`
	Start    int    `json:"start"`
	End      int    `json:"end"`
	New      string `json:"new"`
}

type jsonRelatedInfo struct {
	Posn    string `json:"posn"`
	End     string `json:"end,omitempty"`
	Message string `json:"message"`
}

func (t jsonTree) add(fset *token.FileSet, id string, diags []analysis.Diagnostic, err error) {
	if err != nil {
		t[id] = map[string]any{"modreplace": map[string]string{"error": err.Error()}}
		return
	}
	list := []jsonDiagnostic{}
	for _, d := range diags {
		jd := jsonDiagnostic{
			Category: d.Category,
			Posn:     fset.Position(d.Pos).String(),
			Message:  d.Message,
		}
		if d.End.IsValid() {
			jd.End = fset.Position(d.End).String()
		}
		for _, f := range d.SuggestedFixes {
			jf := jsonFix{Message: f.Message}
			for _, e := range f.TextEdits {
				tf := fset.File(e.Pos)
				end := e.End
				if !end.IsValid() {
					end = e.Pos
				}
				jf.Edits = append(jf.Edits, jsonEdit{tf.Name(), tf.Offset(e.Pos), tf.Offset(end), string(e.NewText)})
			}
			jd.SuggestedFixes = append(jd.SuggestedFixes, jf)
		}
		for _, r := range d.Related {
			jr := jsonRelatedInfo{Posn: fset.Position(r.Pos).String(), Message: r.Message}
			if r.End.IsValid() {
				jr.End = fset.Position(r.End).String()
			}
			jd.Related = append(jd.Related, jr)
		}
		list = append(list, jd)
	}
	t[id] = map[string]any{"modreplace": list}
}
