package envcheck

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modkit/modkit/modnet"
)

// testGoEnv is the $GOROOT/go.env of the fake toolchain the tests use.
const testGoEnv = "GOPROXY=https://proxy.example.com,direct\nGOSUMDB=sum.golang.org\nGOTOOLCHAIN=auto\n"

// testGoVersion is the fake toolchain's version.
const testGoVersion = "go1.26.1"

// A staticCase describes an isolated machine for one check: its
// environment, files and go.mod, and what the check must report. In vars
// and file contents, $DIR stands for the case's temporary directory.
type staticCase struct {
	name   string
	vars   map[string]string // process environment; GOENV=off unless goenv is set
	goenv  string            // GOENV file content
	goroot string            // $GOROOT/go.env content; "" means testGoEnv, "-" means no go.env
	gomod  string            // go.mod content; "" means none (and no go.mod above)
	gosum  string
	files  map[string]string // extra files, relative to $DIR
	setup  func(t *testing.T, dir string)
	opts   Options

	status  Status
	summary string // substring of Summary
	fix     string // substring of Fix ("-" means Fix must be empty)
	details string // substring of some Details line
}

// machine materialises c and returns the Options to check it with.
func (c staticCase) machine(t *testing.T) (Options, string) {
	t.Helper()
	dir := t.TempDir()
	expand := func(s string) string { return strings.ReplaceAll(s, "$DIR", dir) }
	goroot := filepath.Join(dir, "goroot")
	writeFile(t, filepath.Join(goroot, "VERSION"), testGoVersion+"\ntime 2026-01-01T00:00:00Z\n")
	switch c.goroot {
	case "":
		writeFile(t, filepath.Join(goroot, "go.env"), testGoEnv)
	case "-":
	default:
		writeFile(t, filepath.Join(goroot, "go.env"), expand(c.goroot))
	}
	home := filepath.Join(dir, "home")
	bin := filepath.Join(dir, "bin")
	for _, d := range []string{home, bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	vars := map[string]string{
		"GOROOT": goroot, "HOME": home, "PATH": bin, "GOENV": "off",
		"GOMODCACHE": filepath.Join(dir, "modcache"), "GOCACHE": filepath.Join(dir, "gocache"),
	}
	if c.goenv != "" {
		vars["GOENV"] = filepath.Join(dir, "goenv")
		writeFile(t, vars["GOENV"], expand(c.goenv))
	}
	for k, v := range c.vars {
		if v == "<unset>" {
			delete(vars, k)
			continue
		}
		vars[k] = expand(v)
	}
	for name, content := range c.files {
		writeFile(t, filepath.Join(dir, name), expand(content))
	}
	if c.setup != nil {
		c.setup(t, dir)
	}
	env, err := modnet.LoadEnvFrom(vars)
	if err != nil && !strings.Contains(err.Error(), "GOENV") {
		t.Fatal(err)
	}
	opts := c.opts
	opts.ModFile = expand(opts.ModFile)
	opts.Env = env
	opts.Offline = true
	if c.gomod != "" {
		modDir := filepath.Join(dir, "mod")
		writeFile(t, filepath.Join(modDir, "go.mod"), expand(c.gomod))
		if c.gosum != "" {
			writeFile(t, filepath.Join(modDir, "go.sum"), c.gosum)
		}
		opts.ModFile = modDir
	} else if opts.ModFile == "" {
		// No go.mod: a directory outside any module.
		opts.ModFile = filepath.Join(dir, "home")
	}
	if opts.freeSpace == nil {
		opts.freeSpace = func(string) (uint64, error) { return 50 << 30, nil }
	}
	return opts, dir
}

// runCases runs check id over each case and checks the result.
func runCases(t *testing.T, id string, cases []staticCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			opts, dir := c.machine(t)
			res := runOne(t, id, opts)
			c.assert(t, res, dir)
		})
	}
}

func runOne(t *testing.T, id string, opts Options) Result {
	t.Helper()
	opts.Checks = []string{id}
	rep := Run(context.Background(), opts)
	if len(rep.Checks) != 1 {
		t.Fatalf("Run returned %d results, want 1", len(rep.Checks))
	}
	return rep.Checks[0]
}

func (c staticCase) assert(t *testing.T, res Result, dir string) {
	t.Helper()
	expand := func(s string) string { return strings.ReplaceAll(s, "$DIR", dir) }
	show := func() string {
		return "status " + string(res.Status) + "\nsummary: " + res.Summary + "\ndetails:\n  " + strings.Join(res.Details, "\n  ") + "\nfix:\n  " + res.Fix
	}
	if res.Status != c.status {
		t.Errorf("status = %s, want %s\n%s", res.Status, c.status, show())
	}
	if !strings.Contains(res.Summary, expand(c.summary)) {
		t.Errorf("summary does not contain %q\n%s", expand(c.summary), show())
	}
	switch {
	case c.fix == "-" && res.Fix != "":
		t.Errorf("fix = %q, want none", res.Fix)
	case c.fix != "-" && !strings.Contains(res.Fix, expand(c.fix)):
		t.Errorf("fix does not contain %q\n%s", expand(c.fix), show())
	}
	if c.details != "" && !strings.Contains(strings.Join(res.Details, "\n"), expand(c.details)) {
		t.Errorf("details do not contain %q\n%s", expand(c.details), show())
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeScript writes an executable shell script, such as a fake git, and
// returns a function that links it into a case's directory. The script is
// written once, before parallel subtests start: writing an executable while
// another goroutine forks can leave the write descriptor open in the child,
// and executing the file then fails with "text file busy".
func writeScript(t testing.TB, name, body string) func(t *testing.T, dir string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	writeFile(t, path, "#!/bin/sh\n"+body+"\n")
	if err := os.Chmod(path, 0o755); err != nil {
		t.Fatal(err)
	}
	return func(t *testing.T, dir string) {
		if err := os.Symlink(path, filepath.Join(dir, "bin", name)); err != nil {
			t.Fatal(err)
		}
	}
}
