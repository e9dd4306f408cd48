package envcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
)

func TestCheckGOROOTDefaults(t *testing.T) {
	runCases(t, "env.goroot-defaults", []staticCase{
		{name: "complete", status: StatusOK, summary: "$DIR/goroot/go.env provides GOPROXY, GOSUMDB and GOTOOLCHAIN defaults", fix: "-",
			details: "GOPROXY=https://proxy.example.com,direct (from go.env $DIR/goroot/go.env:1)"},
		{name: "missing", goroot: "-", status: StatusError,
			summary: "$DIR/goroot/go.env is missing (a damaged or repackaged Go installation), so GOPROXY has no default: GOPROXY is empty and every download fails",
			fix:     "export GOPROXY=https://proxy.example.com,direct", details: "GOSUMDB is empty"},
		{name: "missing but set", goroot: "-", vars: map[string]string{"GOPROXY": "https://corp.example.com", "GOSUMDB": "off", "GOTOOLCHAIN": "local"},
			status: StatusInfo, summary: "GOPROXY has no default; GOPROXY=https://corp.example.com (from environment)"},
		{name: "no GOTOOLCHAIN line", goroot: "GOPROXY=https://p.example.com\nGOSUMDB=sum.golang.org\n",
			status: StatusInfo, summary: "has no GOTOOLCHAIN line: the go command never switches toolchains"},
		{name: "distribution turns sumdb off", goroot: "GOPROXY=direct\nGOSUMDB=off\nGOTOOLCHAIN=local\n",
			status: StatusInfo, summary: "your Go distribution disables the checksum database: GOSUMDB=off (from go.env $DIR/goroot/go.env:2)",
			details: "your Go distribution fetches every module from its repository"},
		{name: "unreadable", goroot: "-", setup: func(t *testing.T, dir string) {
			if err := os.MkdirAll(filepath.Join(dir, "goroot", "go.env", "x"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, status: StatusError, summary: "$DIR/goroot/go.env is not a regular file", fix: "reinstall Go"},
	})
}

func TestCheckGOENVFile(t *testing.T) {
	runCases(t, "env.goenv-file", []staticCase{
		{name: "off", status: StatusOK, summary: "no GOENV file (GOENV=off)", fix: "-"},
		{name: "absent", vars: map[string]string{"GOENV": "$DIR/nope/env"}, status: StatusOK, summary: "no GOENV file at $DIR/nope/env"},
		{name: "fine", goenv: "GOPRIVATE=corp.example.com\nGOFLAGS=-mod=mod\n", status: StatusOK, summary: "$DIR/goenv: 2 settings, each in effect",
			details: "GOPRIVATE=corp.example.com (from GOENV file $DIR/goenv:1)"},
		{name: "empty GOPROXY wipes go.env", goenv: "GOPROXY=\n", status: StatusError,
			summary: "$DIR/goenv:1: the empty GOPROXY= wipes the default GOPROXY=https://proxy.example.com,direct from go.env $DIR/goroot/go.env:1; GOPROXY is empty and every download fails",
			fix:     "go env -u GOPROXY"},
		{name: "empty GOSUMDB wipes go.env", goenv: "GOSUMDB=\n", status: StatusError, summary: "GOSUMDB is empty and modules missing from go.sum cannot be verified"},
		{name: "empty GOTOOLCHAIN wipes go.env", goenv: "GOTOOLCHAIN=\n", status: StatusWarn, summary: "the empty GOTOOLCHAIN= wipes the default GOTOOLCHAIN=auto"},
		{name: "empty without default", goenv: "GOPRIVATE=\n", status: StatusInfo, summary: "GOPRIVATE= is empty; it has the same effect as not setting it"},
		{name: "shadowed by environment", goenv: "GOPRIVATE=a.example.com\n", vars: map[string]string{"GOPRIVATE": "b.example.com"},
			status: StatusWarn, summary: "GOPRIVATE=a.example.com from $DIR/goenv:1 is hidden by the environment's GOPRIVATE=b.example.com: 'go env -w GOPRIVATE' has no effect",
			fix: "unset GOPRIVATE"},
		{name: "set twice", goenv: "GOPROXY=https://a.example.com\nGOPROXY=https://b.example.com\n",
			status: StatusInfo, summary: "$DIR/goenv sets GOPROXY again on line 2; line 1 has no effect", fix: "delete line 1 of $DIR/goenv"},
		{name: "carriage return", goenv: "GOPRIVATE=corp.example.com\r\n", status: StatusWarn,
			summary: "GOPRIVATE ends in a carriage return", fix: "go env -w GOPRIVATE=corp.example.com"},
		{name: "password redacted", goenv: "GOPROXY=https://u:secret@a.example.com\n", vars: map[string]string{"GOPROXY": "https://b.example.com"},
			status: StatusWarn, summary: "GOPROXY=https://xxxxx@a.example.com from"},
		{name: "unreadable", vars: map[string]string{"GOENV": "$DIR/envdir"}, setup: func(t *testing.T, dir string) {
			if err := os.MkdirAll(filepath.Join(dir, "envdir"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, status: StatusError, summary: "reading GOENV file"},
	})
}

func TestCheckUnknownVars(t *testing.T) {
	runCases(t, "env.unknown-vars", []staticCase{
		{name: "none", status: StatusOK, summary: "no misspelled GO* variables", fix: "-"},
		{name: "typo", vars: map[string]string{"GOPRIVTE": "corp.example.com"}, status: StatusWarn,
			summary: "the environment sets GOPRIVTE, which the go command does not read; did you mean GOPRIVATE?",
			fix:     "export GOPRIVATE=corp.example.com\nunset GOPRIVTE"},
		{name: "underscore", vars: map[string]string{"GO_PROXY": "https://a.example.com"}, status: StatusWarn, summary: "did you mean GOPROXY?"},
		{name: "lower case", vars: map[string]string{"goproxy": "https://a.example.com"}, status: StatusWarn, summary: "sets goproxy, which the go command does not read; did you mean GOPROXY?"},
		{name: "transposition", vars: map[string]string{"GONOSUBMDB": "x"}, status: StatusWarn, summary: "did you mean GONOSUMDB?"},
		{name: "missing S", vars: map[string]string{"GOFLAG": "-mod=mod"}, status: StatusWarn, summary: "did you mean GOFLAGS?"},
		{name: "correct one also set", vars: map[string]string{"GOPRIVTE": "x", "GOPRIVATE": "y"}, status: StatusWarn, fix: "unset GOPRIVTE"},
		{name: "unrelated GO variables", vars: map[string]string{"GOLANG_VERSION": "1.26", "GOPHER_NAME": "x", "GODEBUG": "http2client=0", "GOMAXPROCS": "4"},
			status: StatusOK},
		{name: "file typo", goenv: "GOPROXI=https://a.example.com\n", status: StatusWarn,
			summary: "$DIR/goenv:1: GOPROXI is not a go command variable; the line has no effect; did you mean GOPROXY?",
			fix:     "go env -w GOPROXY=https://a.example.com\ndelete line 1 of $DIR/goenv"},
		{name: "file unknown", goenv: "MYVAR=1\n", status: StatusWarn, summary: "MYVAR is not a go command variable", fix: "delete line 1"},
		{name: "file GODEBUG", goenv: "GODEBUG=x=1\n", status: StatusWarn, summary: "GODEBUG can only be set in the OS environment", fix: "export GODEBUG=x=1"},
	})
}

func TestSuggestVar(t *testing.T) {
	for in, want := range map[string]string{
		"GOPRIVTE": "GOPRIVATE", "GOPIRVATE": "GOPRIVATE", "GOPRIVATE_": "GOPRIVATE", "GOSUMBD": "GOSUMDB",
		"GONOPROX": "GONOPROXY", "gomodcache": "GOMODCACHE", "GOPATH": "", "GOBANANA": "", "GOX": "",
	} {
		if in == "GOPATH" {
			continue // known; suggestVar is only asked about unknown names
		}
		if got := suggestVar(in); got != want {
			t.Errorf("suggestVar(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzEditDistance(f *testing.F) {
	f.Add("GOPRIVATE", "GOPRIVTE")
	f.Fuzz(func(t *testing.T, a, b string) {
		if len(a) > 64 || len(b) > 64 {
			return
		}
		d := editDistance(a, b)
		if d != editDistance(b, a) || d > max(len(a), len(b)) || (d == 0) != (a == b) {
			t.Fatalf("editDistance(%q, %q) = %d", a, b, d)
		}
	})
}

func TestCheckGOFLAGS(t *testing.T) {
	real := testenv.GOROOT()
	cases := []staticCase{
		{name: "empty", status: StatusOK, summary: "GOFLAGS is empty", fix: "-"},
		{name: "fine", vars: map[string]string{"GOFLAGS": "-mod=mod -modcacherw"}, status: StatusOK, summary: "GOFLAGS has 2 flags"},
		{name: "flag value split", vars: map[string]string{"GOFLAGS": "-mod mod"}, status: StatusError,
			summary: `parsing $GOFLAGS: non-flag "mod"`, fix: "export GOFLAGS=-mod=mod"},
		{name: "unterminated quote", vars: map[string]string{"GOFLAGS": `'-ldflags=-s -w`}, status: StatusError, summary: "unterminated"},
		{name: "bad mod", vars: map[string]string{"GOFLAGS": "-mod=bogus"}, status: StatusError,
			summary: "GOFLAGS has -mod=bogus: -mod must be mod, readonly or vendor", fix: "export GOFLAGS=-mod=readonly"},
		{name: "bad bool", vars: map[string]string{"GOFLAGS": "-modcacherw=maybe"}, status: StatusError, summary: `invalid boolean value "maybe"`},
		{name: "vendor", vars: map[string]string{"GOFLAGS": "-mod=vendor"}, status: StatusInfo, summary: "never download modules"},
		{name: "from GOENV file", goenv: "GOFLAGS=-mod mod\n", status: StatusError, fix: "go env -w GOFLAGS=-mod=mod",
			details: "GOFLAGS=-mod mod (from GOENV file $DIR/goenv:1)"},
	}
	if real != "" {
		cases = append(cases,
			staticCase{name: "unknown flag", vars: map[string]string{"GOFLAGS": "-mod=mod -frobnicate", "GOROOT": real}, status: StatusError,
				summary: "parsing $GOFLAGS: unknown flag -frobnicate: every go command fails", fix: "export GOFLAGS=-mod=mod"},
			staticCase{name: "known to go", vars: map[string]string{"GOFLAGS": "-trimpath -buildvcs=false", "GOROOT": real}, status: StatusOK})
	}
	runCases(t, "goflags.parse", cases)
}

func FuzzJoinFlagValues(f *testing.F) {
	f.Add("-mod mod -x")
	f.Fuzz(func(t *testing.T, s string) {
		out, ok := joinFlagValues(s)
		if !ok {
			return
		}
		for _, w := range strings.Fields(out) {
			if w[0] != '-' {
				t.Fatalf("joinFlagValues(%q) = %q has non-flag %q", s, out, w)
			}
		}
	})
}
