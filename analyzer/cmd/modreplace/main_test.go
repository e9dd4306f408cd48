package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet"
)

// modreplace is the command under test, built once by TestMain.
var modreplace string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "modreplace-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	modreplace = filepath.Join(dir, "modreplace")
	out, err := exec.Command("go", "build", "-o", modreplace, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building modreplace: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The module the go vet tests use: several packages (one with internal
// and external tests, one command), nothing to download, three findings.
const vetGoMod = `module example.com/vet

go 1.22

require (
	example.com/fork v1.0.0
	example.com/same v1.1.0
)

replace example.com/fork => example.com/forked v1.0.0

replace example.com/same v1.1.0 => example.com/same v1.1.0

replace example.com/gone v1.0.0 => example.com/gone v1.0.1
`

var vetFiles = map[string]string{
	"go.mod":               vetGoMod,
	"vet.go":               "package vet\n\nfunc F() int { return 1 }\n",
	"vet_test.go":          "package vet\n\nimport \"testing\"\n\nfunc TestF(t *testing.T) { F() }\n",
	"ext_test.go":          "package vet_test\n\nimport \"testing\"\n\nfunc TestG(t *testing.T) {}\n",
	"a/a.go":               "package a\n",
	"b/b.go":               "package b\n\nimport _ \"example.com/vet/a\"\n",
	"b/c/c.go":             "package c\n",
	"cmd/tool/main.go":     "package main\n\nfunc main() {}\n",
	".git/HEAD":            "ref: refs/heads/main\n",
	"internal/x/x.go":      "package x\n",
	"internal/x/x_test.go": "package x_test\n",
}

// findings of vetGoMod: position, then check.
var vetFindings = []string{
	"go.mod:10:1: [fork]",
	"go.mod:10:1: [wildcard]",
	"go.mod:12:1: [noop]",
	"go.mod:14:1: [unused]",
}

// writeModule writes files to a new directory and returns it. Beside it,
// in ../modcache, it writes the module cache that run and runGoModIn use:
// a go.mod ("module <path>") for every module version the go.mod in files
// requires or replaces with, so that the module graph is complete offline.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "m")
	if f, err := modfile.Parse("go.mod", []byte(files["go.mod"]), nil); err == nil {
		var mods []module.Version
		for _, r := range f.Require {
			mods = append(mods, r.Mod)
		}
		for _, r := range f.Replace {
			if r.New.Version != "" {
				mods = append(mods, r.New)
			}
		}
		cache := &modnet.Cache{Dir: modCacheBeside(dir)}
		for _, m := range mods {
			if _, err := cache.WriteGoMod(context.Background(), m, []byte("module "+m.Path+"\n")); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// run runs a command in dir, offline, and returns its stdout, stderr and
// exit code.
func run(t *testing.T, dir string, name string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = testenv.GoEnv(t, "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off", "GOMODCACHE="+modCacheBeside(dir))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return out.String(), errb.String(), code
}

// modCacheBeside is the module cache writeModule writes for the module
// in dir.
func modCacheBeside(dir string) string { return filepath.Join(filepath.Dir(dir), "modcache") }

var findingLine = regexp.MustCompile(`(?m)^(\S*go\.mod:\d+:\d+: \[[a-z-]+\])`)

// findings extracts "go.mod:line:col: [check]" prefixes from output,
// sorted, duplicates kept.
func findings(output string) []string {
	var got []string
	for _, m := range findingLine.FindAllStringSubmatch(output, -1) {
		got = append(got, m[1])
	}
	slices.Sort(got)
	return got
}

func wantFindings(t *testing.T, what string, got, want []string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("%s: findings\n\t%s\nwant each once:\n\t%s", what, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// TestVet runs the command under go vet on a module of several packages:
// every finding appears exactly once, at its go.mod position, in text and
// in JSON, reported by the owner package.
func TestVet(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, vetFiles)
	_, stderr, code := run(t, dir, "go", "vet", "-vettool="+modreplace, "./...")
	if code != 1 {
		t.Errorf("go vet exit code %d; want 1\n%s", code, stderr)
	}
	wantFindings(t, "go vet", findings(stderr), vetFindings)

	stdout, stderr, code := run(t, dir, "go", "vet", "-vettool="+modreplace, "-json", "./...")
	if code != 0 {
		t.Fatalf("go vet -json exit code %d\n%s", code, stderr)
	}
	// go vet -json prints one JSON object per package, keyed by package ID.
	dec := json.NewDecoder(strings.NewReader(stdout))
	var got []string
	reporters := map[string]bool{}
	for dec.More() {
		var tree map[string]map[string][]struct {
			Category string
			Posn     string
		}
		if err := dec.Decode(&tree); err != nil {
			t.Fatalf("decoding go vet -json output: %v\n%s", err, stdout)
		}
		for id, byAnalyzer := range tree {
			for _, d := range byAnalyzer["modreplace"] {
				rel, _ := filepath.Rel(dir, strings.Replace(d.Posn, realPath(dir), dir, 1))
				got = append(got, fmt.Sprintf("%s: [%s]", rel, d.Category))
				reporters[id] = true
			}
		}
	}
	slices.Sort(got)
	wantFindings(t, "go vet -json", got, vetFindings)
	// go vet names the test variant of a package by its import path.
	if len(reporters) != 1 || !reporters["example.com/vet"] {
		t.Errorf("reporting packages %v; want only the owner, example.com/vet", reporters)
	}
}

// TestVetStaleCache edits go.mod between go vet runs: go vet's result
// cache must not replay the findings about the old go.mod.
func TestVetStaleCache(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, vetFiles)
	vet := func() []string {
		_, stderr, _ := run(t, dir, "go", "vet", "-vettool="+modreplace, "./...")
		return findings(stderr)
	}
	wantFindings(t, "first run", vet(), vetFindings)
	wantFindings(t, "second run (cached)", vet(), vetFindings)

	edited := strings.Replace(vetGoMod, "replace example.com/same v1.1.0 => example.com/same v1.1.0\n\n", "", 1)
	edited = strings.Replace(edited, "example.com/gone v1.0.0", "example.com/gone v0.0.0-20240101000000-abcdefabcdef", 1)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(edited), 0o666); err != nil {
		t.Fatal(err)
	}
	wantFindings(t, "after editing go.mod", vet(), []string{
		"go.mod:10:1: [fork]",
		"go.mod:10:1: [wildcard]",
		"go.mod:12:1: [unused]",
	})

	// A change outside go.mod that a check reads: a go.work above the
	// module that overrides its replace.
	if err := os.WriteFile(filepath.Join(dir, "go.work"), []byte("go 1.22\n\nuse .\n\nreplace example.com/fork => example.com/fork v1.0.1\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	wantFindings(t, "after adding go.work", vet(), []string{
		"go.mod:10:1: [fork]",
		"go.mod:10:1: [gowork-shadow]",
		"go.mod:10:1: [wildcard]",
		"go.mod:12:1: [unused]",
	})

	// A change in the module cache: without the go.mod of the fork, the
	// graph is incomplete, and "unused" turns into a note.
	forked, err := (&modnet.Cache{Dir: modCacheBeside(dir)}).Path(module.Version{Path: "example.com/forked", Version: "v1.0.0"}, "mod")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(forked); err != nil {
		t.Fatal(err)
	}
	_, stderr, _ := run(t, dir, "go", "vet", "-vettool="+modreplace, "./...")
	wantFindings(t, "after removing a go.mod from the module cache", findings(stderr), []string{
		"go.mod:10:1: [fork]",
		"go.mod:10:1: [gowork-shadow]",
		"go.mod:10:1: [wildcard]",
	})
	if !strings.Contains(stderr, "go.mod:12:1: note: [unused] cannot tell whether the replace of example.com/gone v0.0.0-20240101000000-abcdefabcdef applies: 1 go.mod file of the module graph is not in the module cache (example.com/forked@v1.0.0)") {
		t.Errorf("go vet does not show the note:\n%s", stderr)
	}
}

// TestVetFixNotStale applies fixes with go vet -fix, then restores go.mod
// with a hand edit: a second go vet -fix must fix the new content, not
// write back the fixed old go.mod from its cache.
func TestVetFixNotStale(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, vetFiles)
	gomod := filepath.Join(dir, "go.mod")
	if _, stderr, code := run(t, dir, "go", "vet", "-vettool="+modreplace, "-fix", "./..."); code != 0 {
		t.Fatalf("go vet -fix: exit code %d\n%s", code, stderr)
	}
	fixed, _ := os.ReadFile(gomod)
	if !strings.Contains(string(fixed), "replace example.com/fork v1.0.0 => example.com/forked v1.0.0\n") ||
		strings.Contains(string(fixed), "example.com/same v1.1.0 => example.com/same v1.1.0") {
		t.Fatalf("go vet -fix did not apply the fixes:\n%s", fixed)
	}

	handEdited := strings.Replace(vetGoMod, "go 1.22\n", "go 1.22\n\n// Kept by hand.\n", 1)
	if err := os.WriteFile(gomod, []byte(handEdited), 0o666); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run(t, dir, "go", "vet", "-vettool="+modreplace, "-fix", "./..."); code != 0 {
		t.Fatalf("second go vet -fix: exit code %d\n%s", code, stderr)
	}
	again, _ := os.ReadFile(gomod)
	if !strings.Contains(string(again), "// Kept by hand.") || strings.Contains(string(again), "example.com/same v1.1.0 => example.com/same v1.1.0") {
		t.Errorf("second go vet -fix wrote stale content:\n%s", again)
	}
}

// TestStandalone runs the command as a singlechecker.
func TestStandalone(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, vetFiles)
	_, stderr, code := run(t, dir, modreplace, "./...")
	if code != 3 {
		t.Errorf("exit code %d; want 3\n%s", code, stderr)
	}
	got := findings(strings.ReplaceAll(stderr, realPath(dir)+string(filepath.Separator), ""))
	wantFindings(t, "modreplace ./...", findings(strings.ReplaceAll(strings.Join(got, "\n"), dir+string(filepath.Separator), "")), vetFindings)

	stdout, stderr, code := run(t, dir, modreplace, "-fix", "-diff", "./...")
	if code != 0 || !strings.Contains(stdout, "\n+replace example.com/fork v1.0.0 => example.com/forked v1.0.0\n") {
		t.Errorf("modreplace -fix -diff: exit code %d, diff:\n%s\n%s", code, stdout, stderr)
	}
	if _, stderr, code := run(t, dir, modreplace, "-fix", "./..."); code != 0 {
		t.Fatalf("modreplace -fix: exit code %d\n%s", code, stderr)
	}
	if _, stderr, code := run(t, dir, modreplace, "./..."); code != 3 || len(findings(stderr)) != 2 {
		t.Errorf("after -fix: exit code %d, findings:\n%s\nwant the two without fixes", code, stderr)
	}
}

func realPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}
