package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/modkit/modkit/modnet/modnettest"
)

const gomodFixture = `module example.com/g

go 1.22

require (
	example.com/a v1.0.0
	example.com/b v1.0.0
)

replace example.com/a => example.com/afork v1.0.0

replace example.com/b v1.0.0 => example.com/b v1.0.0

replace example.com/a v1.1.0 => example.com/afork v1.1.0
`

// gomodFindings are gomodFixture's findings, in order.
const gomodFindings = "go.mod:10:1: [fork]\ngo.mod:10:1: [wildcard]\ngo.mod:12:1: [noop]\ngo.mod:14:1: [inert]\ngo.mod:14:1: [duplicate]"

func runGoModIn(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Chdir(dir)
	if _, err := os.Stat(modCacheBeside(dir)); err == nil {
		t.Setenv("GOMODCACHE", modCacheBeside(dir))
	}
	var out, errb bytes.Buffer
	code = runGoMod(append([]string{"-gomod"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

func TestGoModText(t *testing.T) {
	dir := writeModule(t, map[string]string{"go.mod": gomodFixture, "sub/x.txt": ""})
	stdout, stderr, code := runGoModIn(t, dir)
	want := "go.mod:10:1: [fork] replace applies to example.com/a v1.0.0 required by this module: builds a different module, example.com/afork v1.0.0, in place of example.com/a; "
	if code != 3 || !strings.HasPrefix(stdout, want) || stderr != "" {
		t.Errorf("modreplace -gomod: exit %d, stdout:\n%s\nstderr:\n%s\nwant exit 3 and a first line starting %q", code, stdout, stderr, want)
	}
	lines := regexp.MustCompile(`(?m)^go\.mod:\d+:\d+: \[[a-z-]+\]`).FindAllString(stdout, -1)
	if got := strings.Join(lines, "\n"); got != gomodFindings {
		t.Errorf("findings:\n%s\nwant:\n%s", got, gomodFindings)
	}
	if !strings.Contains(stdout, "\n\tgo.mod:10:1: replace of every version\n") {
		t.Errorf("related position of the overlap missing:\n%s", stdout)
	}

	// From a subdirectory, the go.mod above is checked and named relatively.
	stdout, _, code = runGoModIn(t, filepath.Join(dir, "sub"))
	if code != 3 || !strings.HasPrefix(stdout, "../go.mod:10:1: [fork]") {
		t.Errorf("from a subdirectory: exit %d, stdout:\n%s", code, stdout)
	}

	// Arguments may be directories; -disable applies.
	stdout, _, code = runGoModIn(t, t.TempDir(), "-disable=fork,wildcard,duplicate,noop,inert", dir)
	if code != 0 || stdout != "" {
		t.Errorf("all checks disabled: exit %d, stdout:\n%s", code, stdout)
	}
}

func TestGoModErrors(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"go.mod":        gomodFixture,
		"broken/go.mod": "module example.com/b\n\nrequire example.com/a\n",
	})
	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr string
	}{
		{"broken go.mod", []string{"broken/go.mod"}, 1, "broken/go.mod:3: usage: require module/path v1.2.3"},
		{"missing go.mod", []string{"nowhere/go.mod"}, 1, "no such file or directory"},
		{"diff without fix", []string{"-diff"}, 2, "-diff requires -fix"},
		{"unknown check", []string{"-enable=nope"}, 2, `unknown check "nope"`},
		{"unknown flag", []string{"-bogus"}, 2, "flag provided but not defined: -bogus"},
	}
	for _, tt := range tests {
		_, stderr, code := runGoModIn(t, dir, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.wantErr) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", tt.name, code, stderr, tt.code, tt.wantErr)
		}
	}
	// Findings in one file still print when another fails; as with the
	// x/tools drivers, the highest exit code wins.
	stdout, _, code := runGoModIn(t, dir, "broken", ".")
	if code != 3 || !strings.Contains(stdout, "go.mod:10:1: [fork]") {
		t.Errorf("mixed: exit %d, stdout:\n%s", code, stdout)
	}
}

func TestGoModJSON(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"go.mod":        gomodFixture,
		"broken/go.mod": "modul example.com/b\n",
	})
	stdout, stderr, code := runGoModIn(t, dir, "-json", ".", "broken")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var tree map[string]map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &tree); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	var diags []jsonDiagnostic
	if err := json.Unmarshal(tree["go.mod"]["modreplace"], &diags); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(diags) != 5 || diags[0].Category != "fork" || diags[0].Posn != "go.mod:10:1" {
		t.Fatalf("diagnostics %+v", diags)
	}
	noop := diags[2]
	if noop.Category != "noop" || len(noop.SuggestedFixes) != 1 || len(noop.SuggestedFixes[0].Edits) != 1 {
		t.Fatalf("noop diagnostic %+v", noop)
	}
	// The deletion takes the line and the blank line after it.
	e := noop.SuggestedFixes[0].Edits[0]
	line := "replace example.com/b v1.0.0 => example.com/b v1.0.0\n\n"
	if at := strings.Index(gomodFixture, line); e != (jsonEdit{"go.mod", at, at + len(line), ""}) {
		t.Errorf("noop edit %+v; want offsets %d to %d", e, at, at+len(line))
	}
	var errObj struct{ Error string }
	if err := json.Unmarshal(tree[filepath.Join("broken", "go.mod")]["modreplace"], &errObj); err != nil || !strings.Contains(errObj.Error, "unknown directive: modul") {
		t.Errorf("broken go.mod: %q, %v\n%s", errObj.Error, err, stdout)
	}
}

func TestGoModFix(t *testing.T) {
	dir := writeModule(t, map[string]string{"go.mod": gomodFixture})
	gomod := filepath.Join(dir, "go.mod")
	stdout, stderr, code := runGoModIn(t, dir, "-fix", "-diff")
	wantDiff := `--- go.mod (old)
+++ go.mod (new)
@@ -7,8 +7,6 @@
 	example.com/b v1.0.0
 )
 
-replace example.com/a => example.com/afork v1.0.0
+replace example.com/a v1.0.0 => example.com/afork v1.0.0
 
-replace example.com/b v1.0.0 => example.com/b v1.0.0
-
 replace example.com/a v1.1.0 => example.com/afork v1.1.0
`
	if code != 0 || stdout != wantDiff {
		t.Errorf("-fix -diff: exit %d, stderr %s, diff:\n%s\nwant:\n%s", code, stderr, stdout, wantDiff)
	}
	if data, _ := os.ReadFile(gomod); string(data) != gomodFixture {
		t.Errorf("-diff changed go.mod")
	}

	// The pin and the removal apply at once; a second -fix has nothing to do.
	want := strings.Replace(gomodFixture, "replace example.com/b v1.0.0 => example.com/b v1.0.0\n\n", "", 1)
	want = strings.Replace(want, "replace example.com/a =>", "replace example.com/a v1.0.0 =>", 1)
	for range 2 {
		if _, stderr, code := runGoModIn(t, dir, "-fix"); code != 0 {
			t.Fatalf("-fix: exit %d\n%s", code, stderr)
		}
		if fixed, _ := os.ReadFile(gomod); string(fixed) != want {
			t.Errorf("-fix wrote:\n%s\nwant:\n%s", fixed, want)
		}
	}
	stdout, _, code = runGoModIn(t, dir)
	lines := regexp.MustCompile(`(?m)^go\.mod:\d+:\d+: \[[a-z-]+\]`).FindAllString(stdout, -1)
	if got := strings.Join(lines, "\n"); code != 3 || got != "go.mod:10:1: [fork]\ngo.mod:12:1: [inert]" {
		t.Errorf("after -fix: exit %d\n%s", code, stdout)
	}
}

func TestGoModMode(t *testing.T) {
	for args, want := range map[string]bool{
		"-gomod":              true,
		"--gomod go.mod":      true,
		"-json -gomod=true":   true,
		"./...":               false,
		"-gomod=false ./...":  false,
		"-- -gomod":           false,
		"-json ./gomod":       false,
		"-allow=gomod ./...":  false,
		"-V=full":             false,
		"-fix -diff -gomod=1": true,
	} {
		if got := goModMode(strings.Fields(args)); got != want {
			t.Errorf("goModMode(%q) = %v; want %v", args, got, want)
		}
	}
}

// TestVersion checks the -V=full answer go vet keys its cache on.
func TestVersion(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, map[string]string{"go.mod": gomodFixture, "g.go": "package g\n"})
	answer := func() string {
		stdout, stderr, code := run(t, dir, modreplace, "-V=full")
		if code != 0 || !regexp.MustCompile(`^modreplace version devel \S+ buildID=[0-9a-f]{64}\n$`).MatchString(stdout) {
			t.Fatalf("-V=full: exit %d, %q %s", code, stdout, stderr)
		}
		return stdout
	}
	first := answer()
	if again := answer(); again != first {
		t.Errorf("-V=full is not stable: %q then %q", first, again)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomodFixture+"\nreplace example.com/b => ../b\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	if edited := answer(); edited == first {
		t.Errorf("-V=full did not change with go.mod")
	}
}

func TestAnswerFactsOnly(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, cfg vetConfig) string {
		p := filepath.Join(dir, name)
		data, _ := json.Marshal(cfg)
		os.WriteFile(p, data, 0o666)
		return p
	}
	vetx, stdout := filepath.Join(dir, "vet.out"), filepath.Join(dir, "vet.stdout")
	cfg := write("deps.cfg", vetConfig{VetxOnly: true, VetxOutput: vetx, Stdout: stdout})
	if handled, code := answerFactsOnly([]string{"-json", cfg}); !handled || code != 0 {
		t.Fatalf("VetxOnly config: handled %v, code %d", handled, code)
	}
	for _, f := range []string{vetx, stdout} {
		if fi, err := os.Stat(f); err != nil || fi.Size() != 0 {
			t.Errorf("%s: %v; want an empty file", f, err)
		}
	}
	for _, args := range [][]string{
		{write("pkg.cfg", vetConfig{VetxOutput: vetx})},
		{"./..."},
		{filepath.Join(dir, "missing.cfg")},
		nil,
	} {
		if handled, _ := answerFactsOnly(args); handled {
			t.Errorf("answerFactsOnly(%q) handled it", args)
		}
	}
}

// TestGoModRetracted runs the opt-in retracted check end to end: GOPROXY
// and GOSUMDB come from the environment, the proxy and its checksum
// database are a loopback modnettest server, and the module cache is empty.
func TestGoModRetracted(t *testing.T) {
	a := func(v, gomod string) modnettest.Module {
		return modnettest.Module{Path: "example.com/a", Version: v, GoMod: gomod, Files: map[string]string{"a.go": "package a\n"}}
	}
	useProxy(t, a("v1.0.0", ""), a("v1.0.1", ""),
		a("v1.1.0", "// Deprecated: use example.com/a/v2\nmodule example.com/a\n\nretract v1.0.1 // loses data\n"))
	dir := writeModule(t, map[string]string{
		"go.mod":    "module example.com/r\n\ngo 1.22\n\nrequire example.com/a v1.0.0\n\nreplace example.com/a v1.0.0 => example.com/a v1.0.1\n\nreplace example.com/b => ./b\n",
		"b/go.mod":  "module example.com/b\n",
		".git/HEAD": "ref: refs/heads/main\n",
	})
	os.RemoveAll(modCacheBeside(dir)) // the module cache is the empty one above

	// Offline, the graph lacks the go.mod of example.com/a v1.0.1 (which
	// example.com/a v1.0.0 is replaced by): modreplace cannot tell whether
	// the replace of example.com/b applies, and says so.
	stdout, stderr, code := runGoModIn(t, dir)
	wantNote := "go.mod:9:1: note: [unused] cannot tell whether the replace of example.com/b applies: 1 go.mod file of the module graph is not in the module cache (example.com/a@v1.0.1); run 'go list -m all' in "
	if code != 0 || stdout != "" || !strings.HasPrefix(stderr, wantNote) || !strings.HasSuffix(stderr, "or enable the retracted check (-enable=retracted), which lets modreplace fetch them through GOPROXY\n") {
		t.Errorf("offline: exit %d, stdout:\n%s\nstderr:\n%s\nwant exit 0, no findings, and a note starting %q", code, stdout, stderr, wantNote)
	}

	// The retracted check lets it fetch the go.mod: the graph is complete,
	// and the replace of example.com/b is unused.
	stdout, stderr, code = runGoModIn(t, dir, "-enable=retracted")
	want := "go.mod:7:1: [retracted] replacement example.com/a v1.0.1 is retracted by its authors (loses data): it has a known problem; replace with a version that is not retracted\n" +
		"go.mod:7:1: [retracted] replacement module example.com/a is deprecated: use example.com/a/v2; move to what the deprecation recommends\n" +
		"go.mod:9:1: [unused] example.com/b is not in this module's graph (no module of the 2 in it requires example.com/b): the replace has no effect, and go mod tidy leaves it in place; remove it, or add the requirement it was meant for\n"
	if code != 3 || stdout != want || stderr != "" {
		t.Errorf("online: exit %d, stdout:\n%s\nstderr:\n%s\nwant:\n%s", code, stdout, stderr, want)
	}
}

// useProxy serves mods on a loopback proxy with its checksum database and
// points the process environment at it, with an empty module cache.
func useProxy(t *testing.T, mods ...modnettest.Module) {
	proxy := modnettest.NewServer(mods...)
	t.Cleanup(proxy.Close)
	t.Setenv("GOPROXY", proxy.URL)
	t.Setenv("GOSUMDB", proxy.SumDB().GOSUMDB())
	t.Setenv("GONOPROXY", "")
	t.Setenv("GONOSUMDB", "")
	t.Setenv("GOPRIVATE", "")
	t.Setenv("GOENV", "off")
	t.Setenv("GOFLAGS", "-modcacherw")
	t.Setenv("GOMODCACHE", filepath.Join(t.TempDir(), "mod"))
	t.Setenv("GOPATH", t.TempDir()) // the checksum database's tree head lives in GOPATH
}

// TestGoModUnpublishedSibling checks the placeholder check on a sibling
// required at a version that exists only as a directory: the local
// replacement ./lib requires example.com/sib v1.5.0, which lib's go.mod
// replaces by ../sib and this module does not replace. Offline,
// modreplace cannot tell whether v1.5.0 was published; with the network
// (-enable=retracted) it asks GOPROXY, which does not have it.
func TestGoModUnpublishedSibling(t *testing.T) {
	useProxy(t, modnettest.Module{Path: "example.com/sib", Version: "v1.4.0"})
	dir := writeModule(t, map[string]string{
		"go.mod":     "module example.com/app\n\ngo 1.22\n\nrequire example.com/lib v0.0.0-00010101000000-000000000000\n\nreplace example.com/lib => ./lib\n",
		"lib/go.mod": "module example.com/lib\n\ngo 1.22\n\nrequire example.com/sib v1.5.0\n\nreplace example.com/sib => ../sib\n",
		"sib/go.mod": "module example.com/sib\n\ngo 1.22\n",
		".git/HEAD":  "ref: refs/heads/main\n",
	})
	os.RemoveAll(modCacheBeside(dir))

	stdout, stderr, code := runGoModIn(t, dir)
	wantNote := "go.mod:7:1: note: [placeholder] cannot tell whether example.com/sib v1.5.0 required by example.com/lib (./lib), which no replace of this module covers, exists (1 such requirement): its go.mod is not in the module cache"
	if code != 0 || stdout != "" || !strings.HasPrefix(stderr, wantNote) {
		t.Errorf("offline: exit %d, stdout:\n%s\nstderr:\n%s\nwant exit 0, no findings, and a note starting %q", code, stdout, stderr, wantNote)
	}

	stdout, stderr, code = runGoModIn(t, dir, "-enable=retracted")
	want := "go.mod:7:1: [placeholder] example.com/sib v1.5.0, required by example.com/lib (./lib), was never published ("
	wantFix := "add \"replace example.com/sib => ./sib\", as example.com/lib's go.mod does\n"
	if code != 3 || !strings.HasPrefix(stdout, want) || !strings.HasSuffix(stdout, wantFix) || strings.Count(stdout, "\n") != 1 || stderr != "" {
		t.Errorf("online: exit %d, stdout:\n%s\nstderr:\n%s\nwant one finding starting %q and ending %q", code, stdout, stderr, want, wantFix)
	}
}

// TestGoModJSONGoWork checks that -json names a go.work a finding points
// at the way it names the go.mod: relative to the current directory.
func TestGoModJSONGoWork(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"go.work":    "go 1.22\n\nuse ./m\n\nreplace example.com/x => ./xw\n",
		"m/go.mod":   "module example.com/m\n\ngo 1.22\n\nrequire example.com/x v1.0.0\n\nreplace example.com/x => ./x\n",
		"m/x/go.mod": "module example.com/x\n\ngo 1.22\n",
		"xw/go.mod":  "module example.com/x\n\ngo 1.22\n",
		".git/HEAD":  "ref: refs/heads/main\n",
	})
	stdout, stderr, code := runGoModIn(t, dir, "-json", "m")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var tree map[string]map[string][]jsonDiagnostic
	if err := json.Unmarshal([]byte(stdout), &tree); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	diags := tree[filepath.Join("m", "go.mod")]["modreplace"]
	if len(diags) != 1 || diags[0].Category != "gowork-shadow" || diags[0].Posn != filepath.Join("m", "go.mod")+":7:1" ||
		len(diags[0].Related) != 1 || diags[0].Related[0].Posn != "go.work:5:1" {
		t.Errorf("diagnostics %+v; want one gowork-shadow at m/go.mod:7:1 related to go.work:5:1\n%s", diags, stdout)
	}
}
