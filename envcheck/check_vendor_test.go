package envcheck

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet"
)

// vendorCases are main modules with vendor directories. Each is checked
// by vendor.consistency and run through 'go list -m', which loads the
// module as every build does.
var vendorCases = []struct {
	name    string
	gomod   string
	modules string // vendor/modules.txt; "-" for none
	goflags string
}{
	{"consistent", "module m\n\ngo 1.21\n\nrequire example.com/a v1.0.0\n",
		"# example.com/a v1.0.0\n## explicit; go 1.21\nexample.com/a\n", ""},
	{"not explicit", "module m\n\ngo 1.21\n\nrequire example.com/a v1.0.0\n",
		"# example.com/a v1.0.0\n## go 1.21\nexample.com/a\n", ""},
	{"other version", "module m\n\ngo 1.21\n\nrequire example.com/a v1.1.0\n",
		"# example.com/a v1.0.0\n## explicit; go 1.21\nexample.com/a\n", ""},
	{"replacement missing", "module m\n\ngo 1.21\n\nrequire example.com/a v1.0.0\n\nreplace example.com/a => ./a\n",
		"# example.com/a v1.0.0\n## explicit; go 1.21\nexample.com/a\n", ""},
	{"replacement differs", "module m\n\ngo 1.21\n\nrequire example.com/a v1.0.0\n\nreplace example.com/a v1.0.0 => example.com/fork v1.0.1\n",
		"# example.com/a v1.0.0 => example.com/fork v1.0.2\n## explicit; go 1.21\nexample.com/a\n", ""},
	{"replaced only in vendor", "module m\n\ngo 1.21\n\nrequire example.com/a v1.0.0\n",
		"# example.com/a v1.0.0 => ./a\n## explicit; go 1.21\nexample.com/a\n", ""},
	{"wildcard replacement", "module m\n\ngo 1.21\n\nrequire example.com/a v1.0.0\n\nreplace example.com/b => ./b\n",
		"# example.com/a v1.0.0\n## explicit; go 1.21\nexample.com/a\n# example.com/b => ./b\n", ""},
	{"no modules.txt", "module m\n\ngo 1.21\n\nrequire example.com/a v1.0.0\n", "-", ""},
	{"several", "module m\n\ngo 1.21\n\nrequire (\n\texample.com/a v1.0.0\n\texample.com/c v1.2.0\n)\n\nreplace example.com/d => ../d\n",
		"# example.com/a v1.0.0\nexample.com/a\n# example.com/x v0.1.0\n## explicit\nexample.com/x\n", ""},
	{"go 1.13", "module m\n\ngo 1.13\n\nrequire example.com/a v1.1.0\n",
		"# example.com/a v1.0.0\nexample.com/a\n", ""},
	{"go 1.13 with -mod=vendor", "module m\n\ngo 1.13\n\nrequire example.com/a v1.1.0\n",
		"# example.com/a v1.0.0\nexample.com/a\n", "-mod=vendor"},
	{"no go line", "module m\n\nrequire example.com/a v1.0.0\n",
		"# example.com/a v1.0.0\nexample.com/a\n", ""},
	{"-mod=mod", "module m\n\ngo 1.21\n\nrequire example.com/a v1.0.0\n",
		"# example.com/a v1.0.0\nexample.com/a\n", "-mod=mod"},
	{"vendored for a workspace", "module m\n\ngo 1.22\n\nrequire example.com/a v1.0.0\n",
		"## workspace\n# example.com/a v1.0.0\n## explicit; go 1.21\nexample.com/a\n", ""},
	{"vendored module too new", "module m\n\ngo 1.21\n\nrequire example.com/a v1.0.0\n",
		"# example.com/a v1.0.0\n## explicit; go 1.99\nexample.com/a\n", ""},
}

// TestVendorMatchesGoCommand compares vendor.consistency with the go
// command on each case: an error exactly when the go command refuses the
// vendor directory, listing the same modules with the same words, and no
// error when it builds (from vendor/ or, as it explains, without it).
func TestVendorMatchesGoCommand(t *testing.T) {
	if testenv.GOROOT() == "" {
		t.Skip("no go command")
	}
	if testing.Short() {
		t.Skip("runs the go command")
	}
	for _, tc := range vendorCases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := goCommand(t, []string{"GOTOOLCHAIN=local", "GOFLAGS=" + tc.goflags, "GOPROXY=off"}, "list", "-m")
			dir := cmd.Dir
			writeFile(t, filepath.Join(dir, "go.mod"), tc.gomod)
			writeFile(t, filepath.Join(dir, "vendor", "example.com", "a", "a.go"), "package a\n")
			if tc.modules != "-" {
				writeFile(t, filepath.Join(dir, "vendor", "modules.txt"), tc.modules)
			}
			out, err := cmd.CombinedOutput()
			goSays := strings.TrimSpace(string(out))

			env, lerr := modnet.LoadEnvFrom(map[string]string{"GOENV": "off", "GOROOT": testenv.GOROOT(), "GOTOOLCHAIN": "local",
				"GOFLAGS": tc.goflags, "HOME": t.TempDir(), "PATH": "/nonexistent"})
			if lerr != nil {
				t.Fatal(lerr)
			}
			res := runOne(t, "vendor.consistency", Options{Env: env, Offline: true, ModFile: dir})

			if err == nil {
				if res.Status == StatusError {
					t.Errorf("the go command loads the module (%s); vendor.consistency: %s %q %v", goSays, res.Status, res.Summary, res.Details)
				}
				return
			}
			if res.Status != StatusError {
				t.Fatalf("the go command fails:\n%s\nvendor.consistency: %s %q", goSays, res.Status, res.Summary)
			}
			if header := "go: inconsistent vendoring in " + dir + ":"; strings.HasPrefix(goSays, header) {
				var goLines []string
				for _, l := range strings.Split(strings.TrimPrefix(goSays, header), "\n")[1:] {
					if l = strings.TrimSpace(l); l == "" {
						break
					}
					goLines = append(goLines, l)
				}
				got := findingTexts(res)
				if len(got) > 0 {
					got[0] = strings.TrimPrefix(got[0], "inconsistent vendoring in "+dir+": ")
				}
				if strings.Join(got, "\n") != strings.Join(goLines, "\n") {
					t.Errorf("differences listed\ngo:\n%s\nmodkit:\n%s", strings.Join(goLines, "\n"), strings.Join(got, "\n"))
				}
				if !strings.HasPrefix(res.Fix, "go mod vendor") || !strings.Contains(goSays, "go mod vendor") {
					t.Errorf("fix %q; go says %s", res.Fix, goSays)
				}
				return
			}
			if got := findingTexts(res); len(got) != 1 || "go: "+got[0] != goSays {
				t.Errorf("errors differ\ngo:     %s\nmodkit: %v", goSays, got)
			}
		})
	}
}

// findingTexts are the texts of a result's findings, without statuses.
func findingTexts(res Result) []string {
	var texts []string
	for _, d := range res.Details {
		if t, ok := strings.CutPrefix(d, string(StatusError)+": "); ok {
			texts = append(texts, t)
		}
	}
	if len(texts) == 0 {
		s := res.Summary
		if i := strings.LastIndex(s, " (and "); i >= 0 {
			s = s[:i]
		}
		texts = append(texts, s)
	}
	return texts
}

func FuzzParseModulesTxt(f *testing.F) {
	for _, c := range vendorCases {
		if c.modules != "-" {
			f.Add(c.modules)
		}
	}
	f.Fuzz(func(t *testing.T, data string) {
		vl := parseModulesTxt([]byte(data))
		for _, m := range vl.list {
			if _, ok := vl.meta[m]; !ok {
				t.Fatalf("%v provides packages but has no module line", m)
			}
		}
		for _, m := range vl.replaced {
			if vl.meta[m].replacement.Path == "" {
				t.Fatalf("%v marked replaced without a replacement", m)
			}
		}
	})
}
