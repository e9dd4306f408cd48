package golangci_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/modkit/modkit/modnet"
)

// The tests in this file run a real golangci-lint v2 binary with the
// plugin built in. Building one needs golangci-lint's dependencies from
// the module proxy, which go test must not reach, so .ci/run builds it
// (as "golangci-lint custom" would, without cloning from a code host) and
// names it in MODKIT_GOLANGCI_LINT. Build one by hand with the function
// build_golangci_lint in .ci/run.
func golangciLint(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("MODKIT_GOLANGCI_LINT")
	if bin == "" {
		t.Skip("MODKIT_GOLANGCI_LINT is not set: it names a golangci-lint v2 binary with the modreplace plugin, which .ci/run builds (build_golangci_lint)")
	}
	return bin
}

// lintEnv is the environment golangci-lint runs in: its cache in cacheDir,
// the module proxy and checksum database out of reach (the testdata
// module needs neither), no workspace.
func lintEnv(cacheDir string) []string {
	return append(os.Environ(), "GOLANGCI_LINT_CACHE="+cacheDir, "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
}

// lint runs "golangci-lint run ./..." in dir and returns its findings as
// "file:line:col [check]" and its exit status.
func lint(t *testing.T, bin, dir, cacheDir string) ([]string, int) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "issues.json")
	cmd := exec.Command(bin, "run", "--output.json.path="+out, "--output.text.path=stderr", "./...")
	cmd.Dir = dir
	cmd.Env = lintEnv(cacheDir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	exit := 0
	if errors.As(err, &ee) {
		exit = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("golangci-lint wrote no JSON (exit %d): %v\n%s", exit, err, stderr.Bytes())
	}
	var report struct {
		Issues []struct {
			FromLinter string
			Text       string
			Pos        struct {
				Filename     string
				Line, Column int
			}
		}
	}
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatalf("golangci-lint JSON: %v\n%s", err, data)
	}
	var got []string
	for _, is := range report.Issues {
		if is.FromLinter != "modreplace" {
			t.Errorf("finding of linter %s: %s", is.FromLinter, is.Text)
			continue
		}
		check := regexp.MustCompile(`^\[([a-z-]+)\] `).FindStringSubmatch(is.Text)
		if check == nil {
			t.Errorf("finding does not start with its check ID: %s", is.Text)
			continue
		}
		// golangci-lint deletes its working directory from messages: a
		// finding naming an absolute path inside it would read "()".
		if strings.Contains(is.Text, "()") || strings.Contains(is.Text, " : ") {
			t.Errorf("finding lost a path to golangci-lint's path shortening: %s", is.Text)
		}
		got = append(got, fmt.Sprintf("%s:%d:%d [%s]", is.Pos.Filename, is.Pos.Line, is.Pos.Column, check[1]))
	}
	slices.Sort(got)
	return got, exit
}

// prepareModule copies testdata into a temporary directory: repo is the
// module, a repository of its own (a .git directory marks its root), and
// out a directory beside it.
func prepareModule(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("testdata")); err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(root, "repo")
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o777); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(repo, ".golangci.yml"), readmeBlock(t, ".golangci.yml"))
	return repo
}

// The findings on testdata/repo/go.mod with the settings of README's
// .golangci.yml (undocumented on, pseudo-version off, github.com/myorg/*
// allowed): one check per line, none of them about whether a replace is
// used, so they hold whatever the module graph says.
var wantFirst = []string{
	"go.mod:15:1 [fork]",
	"go.mod:17:1 [undocumented]",
	"go.mod:19:1 [wildcard]",
	"go.mod:22:1 [local-escape]",
	"go.mod:25:1 [local-mismatch]",
}

// editedGoMod is testdata/repo/go.mod after an edit: the fork's replace is
// gone, the pseudo-version tagged, the wildcard pinned, and a new
// undocumented version-less fork added, so every line moves.
const editedGoMod = `module example.com/gcl

go 1.22

require (
	example.com/fork2 v1.0.0
	example.com/in v1.0.0
	example.com/out v1.0.0
	example.com/pseudo v1.0.0
	example.com/wild v1.0.0
	github.com/myorg/lib v1.0.0
)

replace example.com/fork2 => github.com/someone/fork2 v1.2.0

// Tagged at last.
replace example.com/pseudo v1.0.0 => example.com/pseudo v1.0.1

replace example.com/wild v1.0.0 => example.com/wild v1.1.0 // upstream is slow to release

// Vendored into this repository.
replace example.com/in => ./in

// Our own fork, allowed in .golangci.yml.
replace github.com/myorg/lib v1.0.0 => github.com/myorg/lib-fork v1.0.0
`

var wantEdited = []string{
	"go.mod:14:1 [fork]",
	"go.mod:14:1 [undocumented]",
	"go.mod:14:1 [wildcard]",
	"go.mod:22:1 [local-mismatch]",
}

// TestGolangciLint runs golangci-lint with the plugin on a module, edits
// the module's go.mod and runs it again: the findings follow the edit, at
// their new lines, although golangci-lint replays cached results for
// packages whose Go files did not change (it salts its cache with the
// go.mod of the module it runs in, which is what makes this work). It
// also pins down what that cache does not see.
func TestGolangciLint(t *testing.T) {
	bin := golangciLint(t)
	repo := prepareModule(t)
	cache := t.TempDir()
	step := func(name string, wantExit int, want []string) {
		t.Helper()
		got, exit := lint(t, bin, repo, cache)
		if exit != wantExit || !slices.Equal(got, want) {
			t.Errorf("%s: exit %d, findings\n\t%s\nwant exit %d, findings\n\t%s", name, exit, strings.Join(got, "\n\t"), wantExit, strings.Join(want, "\n\t"))
		}
	}

	step("first run", 1, wantFirst)
	step("second run, from golangci-lint's cache", 1, wantFirst)

	writeFile(t, filepath.Join(repo, "go.mod"), editedGoMod)
	step("after editing go.mod", 1, wantEdited)

	// golangci-lint's cache key is the package's Go files, its
	// dependencies, the linter settings and the module's go.mod. A local
	// replacement directory is none of these: after its go.mod is
	// corrected, the cached local-mismatch finding is replayed until the
	// cache is cleaned, as the README says. If this starts to fail,
	// golangci-lint sees more than it used to: update the README.
	writeFile(t, filepath.Join(repo, "in", "go.mod"), "module example.com/in\n")
	step("after correcting ./in/go.mod (stale, as documented)", 1, wantEdited)
	clean := exec.Command(bin, "cache", "clean")
	clean.Env = lintEnv(cache)
	if out, err := clean.CombinedOutput(); err != nil {
		t.Fatalf("golangci-lint cache clean: %v\n%s", err, out)
	}
	step("after golangci-lint cache clean", 1, wantEdited[:3])

	final := strings.Replace(editedGoMod, "replace example.com/fork2 => github.com/someone/fork2 v1.2.0\n", "", 1)
	writeFile(t, filepath.Join(repo, "go.mod"), strings.Replace(final, "example.com/fork2 v1.0.0\n\t", "", 1))
	step("after removing the last risky replace", 0, nil)
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o666); err != nil {
		t.Fatal(err)
	}
}

// readmeBlock returns the YAML block of the analyzer's README whose first
// line is the comment "# <name>...", so that the tests run the recipe the
// README gives, as written.
func readmeBlock(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, block := range strings.Split(string(data), "```yaml\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		if first, _, _ := strings.Cut(block, "\n"); strings.HasPrefix(first, "# "+name) {
			return block
		}
	}
	t.Fatalf("analyzer/README.md has no yaml block starting with %q", "# "+name)
	return ""
}

// TestCustomRecipe runs "golangci-lint custom" with README's two
// .custom-gcl.yml blocks, as written, and the binaries it builds on the
// testdata module. custom clones golangci-lint from its code host; git is
// pointed at a local repository made of golangci-lint's module source
// instead (GIT_CONFIG_* are among the variables custom passes to git).
// Every module comes from the module cache that building
// MODKIT_GOLANGCI_LINT filled, modkit's version from a file:// proxy made
// of this checkout; no checksum database is asked (GOSUMDB=off), as none
// knows that version.
func TestCustomRecipe(t *testing.T) {
	bin := golangciLint(t)
	if testing.Short() {
		t.Skip("builds golangci-lint twice")
	}
	checkout, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	forVersion := readmeBlock(t, ".custom-gcl.yml, for a modkit version")
	forCheckout := readmeBlock(t, ".custom-gcl.yml, for a local checkout")
	gclVersion := regexp.MustCompile(`(?m)^version: (v\S+)$`).FindStringSubmatch(forVersion)
	if gclVersion == nil {
		t.Fatalf("no golangci-lint version in README's .custom-gcl.yml:\n%s", forVersion)
	}

	tmp := t.TempDir()
	gitRepo := filepath.Join(tmp, "golangci-lint.git")
	makeGolangciRepo(t, gitRepo, gclVersion[1])
	proxy := filepath.Join(tmp, "proxy")
	// A version of its own for each run: custom builds in the shared
	// module cache, where a fixed version extracted by an earlier run
	// would be taken instead of this checkout.
	version := fmt.Sprintf("v0.0.1-test.%d", time.Now().UnixNano())
	makeModkitProxy(t, proxy, checkout, version)
	t.Cleanup(func() { removeFromModCache(t, module.Version{Path: "github.com/modkit/modkit", Version: version}) })
	env := append(os.Environ(),
		"GIT_CONFIG_COUNT=1",
		"GIT_CONFIG_KEY_0=url."+gitRepo+".insteadOf",
		"GIT_CONFIG_VALUE_0=https://github.com/golangci/golangci-lint.git",
		"GOPROXY=file://"+filepath.ToSlash(proxy), "GOSUMDB=off", "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local")

	for _, tt := range []struct{ name, yml, built string }{
		{"version", forVersion, "dep\tgithub.com/modkit/modkit\t" + version + "\t"},
		// The one substitution: the README's ../modkit is this checkout.
		{"checkout", strings.Replace(forCheckout, "path: ../modkit", "path: "+checkout, 1), "=>\t" + checkout + "\t(devel)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, ".custom-gcl.yml"), tt.yml)
			cmd := exec.Command(bin, "custom", "-v")
			cmd.Dir = dir
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("golangci-lint custom: %v\n%s", err, out)
			}
			custom := filepath.Join(dir, "custom-gcl")
			if out, err := exec.Command("go", "version", "-m", custom).Output(); err != nil || !strings.Contains(string(out), tt.built) {
				t.Errorf("go version -m custom-gcl: %v; want modkit as %q in\n%s", err, tt.built, out)
			}
			got, exit := lint(t, custom, prepareModule(t), t.TempDir())
			if exit != 1 || !slices.Equal(got, wantFirst) {
				t.Errorf("custom-gcl run: exit %d, findings\n\t%s\nwant exit 1, findings\n\t%s", exit, strings.Join(got, "\n\t"), strings.Join(wantFirst, "\n\t"))
			}
		})
	}
}

// makeGolangciRepo makes a git repository at dir holding golangci-lint's
// module source at version, tagged version, for custom to clone.
func makeGolangciRepo(t *testing.T, dir, version string) {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", "github.com/golangci/golangci-lint/v2@"+version)
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")
	cmd.Dir = t.TempDir()
	out, err := cmd.Output()
	var dl struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &dl); jerr != nil || dl.Dir == "" {
		t.Fatalf("golangci-lint %s is not in the module cache (%v, %s%s): build MODKIT_GOLANGCI_LINT with this version", version, err, dl.Error, out)
	}
	if err := os.CopyFS(dir, os.DirFS(dl.Dir)); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"init", "-q"},
		{"add", "-A"},
		{"-c", "user.name=modkit", "-c", "user.email=modkit@example.com", "commit", "-q", "-m", "golangci-lint " + version},
		{"tag", version},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// makeModkitProxy writes a GOPROXY tree at dir that serves the module in
// checkout as github.com/modkit/modkit at version, its only version.
func makeModkitProxy(t *testing.T, dir, checkout, version string) {
	t.Helper()
	v := filepath.Join(dir, "github.com", "modkit", "modkit", "@v")
	if err := os.MkdirAll(v, 0o777); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(checkout, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(v, "list"), version+"\n")
	writeFile(t, filepath.Join(v, version+".info"), `{"Version":"`+version+`","Time":"2026-01-01T00:00:00Z"}`)
	writeFile(t, filepath.Join(v, version+".mod"), string(gomod))
	f, err := os.Create(filepath.Join(v, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := modzip.CreateFromDir(f, module.Version{Path: "github.com/modkit/modkit", Version: version}, checkout); err != nil {
		t.Fatalf("zipping %s: %v", checkout, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// removeFromModCache removes the module version that a test made up from
// the module cache, extracted and downloaded, leaving everything else.
func removeFromModCache(t *testing.T, mod module.Version) {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	cache := &modnet.Cache{Dir: strings.TrimSpace(string(out))}
	if err != nil || cache.Dir == "" {
		t.Errorf("go env GOMODCACHE: %v", err)
		return
	}
	dir, err := cache.ModuleDir(mod)
	if err != nil {
		t.Fatal(err)
	}
	if err := modnet.RemoveAll(dir); err != nil {
		t.Error(err)
	}
	escPath, _ := module.EscapePath(mod.Path) // ModuleDir checked both
	escVersion, _ := module.EscapeVersion(mod.Version)
	files, _ := filepath.Glob(filepath.Join(cache.Dir, "cache", "download", filepath.FromSlash(escPath), "@v", escVersion+".*"))
	for _, f := range files {
		if err := os.Remove(f); err != nil {
			t.Error(err)
		}
	}
}
