package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/mod/semver"
)

// A goResult is what a go command printed, or its error output if it
// failed.
type goResult struct{ out, err string }

// goEnv is the environment of every go command: the local toolchain, and
// no checksum database. The corpus has no go.sum files, and the checksum
// database does not know every version it names; what is judged is the
// module graph, not where its files came from, and they go to a module
// cache of the measurement's own (-modcache), never the user's.
func goEnv() []string { return append(os.Environ(), "GOTOOLCHAIN=local", "GOSUMDB=off") }

// goCmd runs the go command in dir: outside any workspace (unless gowork
// names one), with -mod=mod since the corpus has no go.sum files. GOPROXY
// is the environment's.
func goCmd(dir, gowork string, args ...string) goResult {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = goEnv()
	if gowork == "off" {
		cmd.Env = append(cmd.Env, "GOWORK=off", "GOFLAGS=-mod=mod")
	} else {
		cmd.Env = append(cmd.Env, "GOWORK="+gowork, "GOFLAGS=") // workspace mode refuses -mod=mod
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return goResult{out: out.String(), err: firstLines(errb.String(), 3) + fmt.Sprintf(" (%v)", err)}
	}
	return goResult{out: out.String()}
}

// listFormat prints a module of 'go list -m' on one line: path, version,
// replacement, and with -e the error that kept its information from being
// had (a version the proxy does not serve).
const listFormat = "{{.Path}} {{.Version}}{{with .Replace}} => {{.Path}} {{.Version}}{{end}}{{with .Error}} ERROR: {{.Err}}{{end}}"

// listAllOf is 'go list -m all' for the module of gomod, which it leaves
// as it found it: -mod=mod may rewrite go.mod.
func listAllOf(gomod string) goResult {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return goResult{err: err.Error()}
	}
	defer os.WriteFile(gomod, data, 0o666)
	// -e: a module whose .info or .mod the proxy does not serve is listed
	// with its error instead of failing the whole list; the build list is
	// still the graph's.
	return goCmd(filepath.Dir(gomod), "off", "list", "-m", "-e", "-f", listFormat, "all")
}

// listModule is what the build uses for module path in dir, with the
// workspace setting gowork ("" finds the go.work above): the replacement's
// version and directory, or the module's.
func listModule(dir, gowork, path string) goResult {
	return goCmd(dir, gowork, "list", "-m", "-f", "{{with .Replace}}{{.Path}} {{.Version}} {{.Dir}}{{else}}{{.Path}} {{.Version}} {{.Dir}}{{end}}", path)
}

// tidyDiff is 'go mod tidy -diff' in dir, reduced to the lines it would
// add and remove, sorted: the context of a diff moves with the line a
// judgement removes.
func tidyDiff(dir string) goResult {
	cmd := exec.Command("go", "mod", "tidy", "-diff")
	cmd.Dir = dir
	cmd.Env = append(goEnv(), "GOWORK=off", "GOFLAGS=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	// tidy -diff exits 1 when it has changes to show.
	if err != nil && out.Len() == 0 {
		return goResult{err: firstLines(errb.String(), 3)}
	}
	var changed []string
	for l := range strings.Lines(out.String()) {
		if (strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-")) && !strings.HasPrefix(l, "+++") && !strings.HasPrefix(l, "---") {
			changed = append(changed, strings.TrimRight(l, "\n"))
		}
	}
	slices.Sort(changed)
	return goResult{out: strings.Join(changed, "\n")}
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[:min(n, len(lines))], " / ")
}

// hostRE matches the scheme and host of URLs, which reports leave out.
var hostRE = regexp.MustCompile(`https?://[^/\s]+`)

func redactHosts(s string) string { return hostRE.ReplaceAllString(s, "<proxy>") }

func semverLess(a, b string) bool { return semver.Compare(a, b) < 0 }

// report prints the precision per check, then the refuted and unjudged
// findings, and the notes.
func report(w io.Writer, all []judged, notes []string, verbose bool) {
	type counts struct{ n, ok, bad, unjudged int }
	by := map[string]*counts{}
	var ids []string
	total := &counts{}
	for _, j := range all {
		c := by[j.check]
		if c == nil {
			c = &counts{}
			by[j.check] = c
			ids = append(ids, j.check)
		}
		for _, c := range []*counts{c, total} {
			c.n++
			switch j.verdict {
			case confirmed:
				c.ok++
			case refuted:
				c.bad++
			default:
				c.unjudged++
			}
		}
	}
	slices.Sort(ids)
	precision := func(c *counts) string {
		if c.ok+c.bad == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(c.ok)/float64(c.ok+c.bad))
	}
	fmt.Fprintf(w, "%-16s %8s %6s %6s %9s %10s\n", "check", "findings", "true", "false", "unjudged", "precision")
	for _, id := range ids {
		c := by[id]
		fmt.Fprintf(w, "%-16s %8d %6d %6d %9d %10s\n", id, c.n, c.ok, c.bad, c.unjudged, precision(c))
	}
	fmt.Fprintf(w, "%-16s %8d %6d %6d %9d %10s\n", "all", total.n, total.ok, total.bad, total.unjudged, precision(total))
	fmt.Fprintf(w, "notes (cannot tell): %d\n", len(notes))
	for _, j := range all {
		if verbose || j.verdict != confirmed {
			fmt.Fprintf(w, "\n%s %s/%s:%d: %s\n\t%s\n", j.verdict, j.repo, j.file, j.line, j.msg, redactHosts(j.why))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nnotes:")
		for _, n := range notes {
			fmt.Fprintln(w, "\t"+redactHosts(n))
		}
	}
}
