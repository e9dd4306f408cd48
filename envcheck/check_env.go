package envcheck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/modkit/modkit/internal/web"
	"github.com/modkit/modkit/modnet"
)

// checkGOROOTDefaults checks $GOROOT/go.env, the file that gives GOPROXY,
// GOSUMDB and GOTOOLCHAIN their defaults since Go 1.21
// (cmd/go/internal/cfg.initEnvCache). Without it those variables are
// empty unless set elsewhere, and downloads fail.
func checkGOROOTDefaults(ctx context.Context, r *runner) Result {
	var f findings
	path, entries := r.env.GOROOTEnvFile()
	if path == "" {
		f.add(StatusError, "put the go command in PATH, or set GOROOT to the Go installation",
			"GOROOT is unknown, so $GOROOT/go.env is not read: GOPROXY and GOSUMDB have no defaults")
		return f.result("")
	}
	f.note("%s", origin(r.env.Lookup("GOROOT")))
	fi, err := os.Stat(path)
	missing := errors.Is(err, fs.ErrNotExist)
	switch {
	case err != nil && !missing:
		f.add(StatusError, "check the permissions of "+path, "cannot read %s: %v", path, err)
		return f.result("")
	case err == nil && !fi.Mode().IsRegular():
		f.add(StatusError, "reinstall Go from https://go.dev/dl/", "%s is not a regular file: GOPROXY, GOSUMDB and GOTOOLCHAIN have no defaults", path)
		return f.result("")
	}
	have := map[string]modnet.Value{}
	for _, e := range entries {
		have[e.Name] = e
	}
	for _, name := range []string{"GOPROXY", "GOSUMDB", "GOTOOLCHAIN"} {
		if _, ok := have[name]; ok {
			continue
		}
		eff := r.env.Lookup(name)
		what := fmt.Sprintf("%s has no %s line", path, name)
		if missing {
			what = fmt.Sprintf("%s is missing (a damaged or repackaged Go installation), so %s has no default", path, name)
		}
		switch {
		case eff.Value != "":
			f.add(StatusInfo, "", "%s; %s", what, origin(eff))
		case name == "GOTOOLCHAIN":
			f.add(StatusInfo, "", "%s: the go command never switches toolchains", what)
		case name == "GOPROXY":
			f.add(StatusError, setFix(r.env, "GOPROXY", "https://proxy.example.com,direct")+"  # your module proxy, or GOPROXY=direct",
				"%s: GOPROXY is empty and every download fails (GOPROXY list is not the empty string, but contains no entries)", what)
		case name == "GOSUMDB":
			f.add(StatusError, setFix(r.env, "GOSUMDB", "sum.golang.org")+"\n# or reinstall Go from https://go.dev/dl/",
				"%s: GOSUMDB is empty and checksum verification fails (missing GOSUMDB)", what)
		}
	}
	// Distributions patch go.env (GOPROXY=direct, GOSUMDB=off are common).
	if v, ok := have["GOSUMDB"]; ok && v.Value == "off" {
		f.add(StatusInfo, "", "your Go distribution disables the checksum database: %s", origin(v))
	}
	if v, ok := have["GOPROXY"]; ok && strings.TrimSpace(v.Value) == "direct" {
		f.add(StatusInfo, "", "your Go distribution fetches every module from its repository: %s", origin(v))
	}
	for _, e := range entries {
		f.note("%s", origin(e))
	}
	return f.result(fmt.Sprintf("%s provides GOPROXY, GOSUMDB and GOTOOLCHAIN defaults", path))
}

// checkGOENVFile checks the file 'go env -w' writes: lines that cannot
// have the effect their author wanted.
func checkGOENVFile(ctx context.Context, r *runner) Result {
	var f findings
	if r.envErr != nil {
		f.add(StatusError, "fix the file's permissions, or point GOENV at a readable file", "%v: the go command fails the same way", r.envErr)
		return f.result("")
	}
	path, err := r.env.EnvFile()
	if err != nil {
		return Result{Status: StatusOK, Summary: fmt.Sprintf("no GOENV file (%v)", err)}
	}
	if _, err := os.ReadFile(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		f.add(StatusError, "fix the file's permissions, or point GOENV at a readable file", "reading GOENV file: %v: the go command fails the same way", err)
		return f.result("")
	}
	entries := r.env.EnvFileEntries()
	if len(entries) == 0 {
		if _, err := os.Stat(path); err != nil {
			return Result{Status: StatusOK, Summary: fmt.Sprintf("no GOENV file at %s ('go env -w' has not been used)", path)}
		}
		return Result{Status: StatusOK, Summary: fmt.Sprintf("%s sets nothing", path)}
	}
	last := map[string]int{}
	for i, e := range entries {
		last[e.Name] = i
	}
	for i, e := range entries {
		eff := r.env.Lookup(e.Name)
		where := fmt.Sprintf("%s:%d", e.File, e.Line)
		if last[e.Name] != i {
			later := entries[last[e.Name]]
			f.add(StatusInfo, fmt.Sprintf("delete line %d of %s", e.Line, e.File),
				"%s sets %s again on line %d; line %d has no effect", e.File, e.Name, later.Line, e.Line)
			continue
		}
		if strings.HasSuffix(e.Value, "\r") {
			f.add(StatusWarn, fmt.Sprintf("go env -w %s=%s  # rewrites the line without the carriage return", e.Name, shellQuote(strings.TrimRight(e.Value, "\r"))),
				"%s: %s ends in a carriage return (CRLF line ending), which becomes part of the value", where, e.Name)
		}
		if eff.Layer == modnet.LayerOS {
			f.add(StatusWarn, fmt.Sprintf("unset %s  # if the GOENV file's value is the one you want\n# or: go env -u %s", e.Name, e.Name),
				"%s=%s from %s is hidden by the environment's %s=%s: 'go env -w %s' has no effect",
				e.Name, web.RedactList(e.Value), where, e.Name, web.RedactList(eff.Value), e.Name)
			continue
		}
		if e.Value == "" {
			f.addEmpty(r.env, e, eff, where)
		}
	}
	for _, v := range r.env.Values() {
		if v.Layer != modnet.LayerUnset {
			f.note("%s", origin(v))
		}
	}
	return f.result(fmt.Sprintf("%s: %d settings, each in effect", path, len(entries)))
}

// addEmpty reports an empty "X=" line: it hides $GOROOT/go.env's X and
// leaves the built-in default, which for GOPROXY and GOSUMDB is nothing.
func (f *findings) addEmpty(env *modnet.Env, e, eff modnet.Value, where string) {
	var hidden *modnet.Value
	for _, o := range eff.Overridden {
		if o.Layer == modnet.LayerGOROOT {
			hidden = &o
			break
		}
	}
	if hidden == nil {
		f.add(StatusInfo, "go env -u "+e.Name, "%s: %s= is empty; it has the same effect as not setting it", where, e.Name)
		return
	}
	status := StatusWarn
	result := fmt.Sprintf("%s is now %q", e.Name, web.RedactList(eff.Value))
	switch {
	case e.Name == "GOPROXY" && eff.Value == "":
		status, result = StatusError, "GOPROXY is empty and every download fails"
	case e.Name == "GOSUMDB" && eff.Value == "":
		status, result = StatusError, "GOSUMDB is empty and modules missing from go.sum cannot be verified"
	case eff.Value == "":
		result = e.Name + " is empty"
	}
	f.add(status, "go env -u "+e.Name, "%s: the empty %s= wipes the default %s=%s from %s; %s",
		where, e.Name, e.Name, web.RedactList(hidden.Value), hidden.Where(), result)
}

// checkUnknownVars looks for variables the go command never reads because
// of a typo: GOPRIVTE, GO_PROXY, goproxy.
func checkUnknownVars(ctx context.Context, r *runner) Result {
	var f findings
	for _, name := range r.env.OSNames() {
		if knownVars[name] || !strings.HasPrefix(strings.ToUpper(name), "GO") {
			continue
		}
		want := suggestVar(name)
		if want == "" {
			continue
		}
		val := r.env.OS(name)
		fix := exportLine(want, val) + "\n" + unsetFix(modnet.Value{Name: name, Layer: modnet.LayerOS})
		if r.env.OS(want) != "" {
			fix = unsetFix(modnet.Value{Name: name, Layer: modnet.LayerOS})
		}
		f.add(StatusWarn, fix, "the environment sets %s, which the go command does not read; did you mean %s?", name, want)
	}
	for _, e := range r.env.EnvFileEntries() {
		where := fmt.Sprintf("%s:%d", e.File, e.Line)
		switch {
		case e.Name == "GOENV" || e.Name == "GODEBUG":
			// cmd/go/internal/envcmd.checkEnvWrite: only the OS environment sets these.
			f.add(StatusWarn, fmt.Sprintf("delete line %d of %s and %s", e.Line, e.File, exportLine(e.Name, e.Value)),
				"%s: %s can only be set in the OS environment; this line has no effect", where, e.Name)
		case knownEnv[e.Name]:
		default:
			msg := fmt.Sprintf("%s: %s is not a go command variable; the line has no effect", where, e.Name)
			fix := fmt.Sprintf("delete line %d of %s", e.Line, e.File)
			if want := suggestVar(e.Name); want != "" {
				msg += "; did you mean " + want + "?"
				fix = fmt.Sprintf("go env -w %s=%s\n%s", want, shellQuote(e.Value), fix)
			}
			f.add(StatusWarn, fix, "%s", msg)
		}
	}
	return f.result("no misspelled GO* variables")
}

// knownEnv is cmd/go's list of configuration variables (internal/cfg.KnownEnv,
// Go 1.26): what 'go env -w' accepts and what the GOENV file may set.
var knownEnv = setOf(`AR CC CGO_CFLAGS CGO_CFLAGS_ALLOW CGO_CFLAGS_DISALLOW
	CGO_CPPFLAGS CGO_CPPFLAGS_ALLOW CGO_CPPFLAGS_DISALLOW CGO_CXXFLAGS
	CGO_CXXFLAGS_ALLOW CGO_CXXFLAGS_DISALLOW CGO_ENABLED CGO_FFLAGS
	CGO_FFLAGS_ALLOW CGO_FFLAGS_DISALLOW CGO_LDFLAGS CGO_LDFLAGS_ALLOW
	CGO_LDFLAGS_DISALLOW CXX FC GCCGO GO111MODULE GO386 GOAMD64 GOARCH GOARM
	GOARM64 GOAUTH GOBIN GOCACHE GOCACHEPROG GOENV GOEXE GOEXPERIMENT GOFIPS140
	GOFLAGS GOGCCFLAGS GOHOSTARCH GOHOSTOS GOINSECURE GOMIPS GOMIPS64 GOMODCACHE
	GONOPROXY GONOSUMDB GOOS GOPATH GOPPC64 GOPRIVATE GOPROXY GORISCV64 GOROOT
	GOSUMDB GOTMPDIR GOTOOLCHAIN GOTOOLDIR GOVCS GOWASM GOWORK GO_EXTLINK_ENABLED
	PKG_CONFIG`)

// knownVars adds what else reads GO* variables from the environment: the
// names 'go help environment' documents (GODEBUG, GOCOVERDIR, GOTELEMETRY,
// ...), the runtime's, and common tools', so none of them is flagged.
var knownVars = func() map[string]bool {
	m := setOf(`GODEBUG GOCOVERDIR GOTELEMETRY GOTELEMETRYDIR GOVERSION GOMOD
		GCCGOTOOLDIR GOGC GOMAXPROCS GOMEMLIMIT GOTRACEBACK GORACE GOROOT_FINAL
		GOPACKAGESDRIVER GOLANG_VERSION GOFUMPT_SPLIT_LONG_LINES`)
	for k := range knownEnv {
		m[k] = true
	}
	return m
}()

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// suggestVar returns the known variable that name is most likely a typo
// of, or "" when none is close: same letters in another case, or an edit
// distance of 1 (2 for names of eight letters or more).
func suggestVar(name string) string {
	upper := strings.ToUpper(name)
	if upper != name && knownVars[upper] {
		return upper
	}
	best, bestD := "", 3
	limit := 1
	if len(upper) >= 8 {
		limit = 2
	}
	for k := range knownEnv {
		if d := editDistance(upper, k); d <= limit && (d < bestD || d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance, counting an adjacent
// transposition as one edit (typos swap letters).
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
