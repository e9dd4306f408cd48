package modnettest

import (
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
)

// testModules are served in the go command tests: an ordinary module with a
// dependency, a module path with upper case (served case-escaped) and a
// major version suffix.
func testModules() []Module {
	return []Module{
		{
			Path:    "example.com/hello",
			Version: "v1.0.0",
			GoMod:   "module example.com/hello\n\ngo 1.21\n",
			Files:   map[string]string{"hello.go": "package hello\n\nconst Greeting = \"hello\"\n"},
		},
		{
			Path:    "example.com/hello",
			Version: "v1.1.0",
			GoMod:   "module example.com/hello\n\ngo 1.21\n",
			Files:   map[string]string{"hello.go": "package hello\n\nconst Greeting = \"hello, again\"\n"},
			Retract: []string{"v1.0.0 // too early"},
		},
		{
			Path:    "example.com/Upper/Mod/v2",
			Version: "v2.3.0",
			Files:   map[string]string{"mod.go": "package mod\n", "LICENSE": "public domain\n"},
		},
	}
}

func TestGoModDownload(t *testing.T) {
	mods := testModules()
	srv := NewUnstartedServer(mods...)
	srv.Name = "proxy"
	srv.Start()
	defer srv.Close()
	db := srv.SumDB()

	for _, tc := range []struct {
		name   string
		env    []string
		sumdb  bool // whether the checksum database must be consulted
		direct bool // whether it is reached directly (no /supported request)
	}{
		{"sumdb direct", []string{"GOSUMDB=" + db.GOSUMDB()}, true, true},
		{"sumdb via proxy", []string{"GOSUMDB=" + db.Key()}, true, false},
		{"GOSUMDB=off", []string{"GOSUMDB=off"}, false, false},
		{"GONOSUMDB", []string{"GOSUMDB=" + db.GOSUMDB(), "GONOSUMDB=example.com"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.ResetRequests()
			g := testenv.NewGo(t, append([]string{"GOPROXY=" + srv.URL}, tc.env...)...)
			out := g.MustRun("mod", "download", "-json", "example.com/hello@v1.1.0", "example.com/Upper/Mod/v2@v2.3.0")
			got := testenv.DecodeAll[testenv.ModDownload](t, out)
			if len(got) != 2 {
				t.Fatalf("go mod download printed %d modules, want 2:\n%s", len(got), out)
			}
			for _, d := range got {
				m := findModule(t, mods, d.Path, d.Version)
				want, err := m.GoSum()
				if err != nil {
					t.Fatal(err)
				}
				if d.Error != "" || !strings.Contains(want, " "+d.Sum+"\n") || !strings.Contains(want, " "+d.GoModSum+"\n") {
					t.Errorf("go mod download %s@%s: Error=%q Sum=%q GoModSum=%q; want sums from\n%s", d.Path, d.Version, d.Error, d.Sum, d.GoModSum, want)
				}
			}
			var sawSupported, sawLookup, sawUpperZip bool
			t.Logf("requests:\n%s", srv.Requests())
			for _, r := range srv.Requests() {
				switch {
				case strings.HasSuffix(r.Path, "/supported"):
					sawSupported = true
				case strings.Contains(r.Path, "/lookup/"):
					sawLookup = true
				case r.Path == "/example.com/!upper/!mod/v2/@v/v2.3.0.zip":
					sawUpperZip = r.Status == 200
				}
			}
			if sawLookup != tc.sumdb {
				t.Errorf("checksum database lookups: %v, want %v\n%s", sawLookup, tc.sumdb, srv.Requests())
			}
			if tc.sumdb && sawSupported == tc.direct {
				t.Errorf("/supported requested: %v, want %v", sawSupported, !tc.direct)
			}
			if !sawUpperZip {
				t.Errorf("no successful request for the case-escaped zip:\n%s", srv.Requests())
			}
		})
	}
}

func findModule(t *testing.T, mods []Module, path, version string) Module {
	t.Helper()
	for _, m := range mods {
		if m.Path == path && m.Version == version {
			return m
		}
	}
	t.Fatalf("go command reported %s@%s, which was not served", path, version)
	return Module{}
}
