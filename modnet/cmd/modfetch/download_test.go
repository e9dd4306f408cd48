package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet/modnettest"
)

// setDownloadEnv isolates a download: the given proxy, no checksum
// database, an empty module cache, and a working directory outside any
// module.
func setDownloadEnv(t *testing.T, proxy string) string {
	t.Helper()
	setEnv(t, "GOPROXY", proxy, "GOSUMDB", "off")
	cache := filepath.Join(t.TempDir(), "mod")
	t.Setenv("GOMODCACHE", cache)
	t.Setenv("GOPATH", t.TempDir())
	t.Setenv("GOFLAGS", "-modcacherw")
	t.Setenv("HOME", testenv.Home(t)) // 'go env GOROOT' runs with this HOME
	t.Chdir(t.TempDir())
	return cache
}

func TestDownloadJSON(t *testing.T) {
	mod := modnettest.Module{Path: "127.0.0.1/cli/m", Version: "v1.2.3", Files: map[string]string{"m.go": "package m\n"}}
	srv := modnettest.NewServer(mod)
	defer srv.Close()
	cache := setDownloadEnv(t, srv.URL)

	code, stdout, stderr := runCmd("download", "-json", mod.Path+"@"+mod.Version, mod.Path+"@latest", "127.0.0.1/cli/none@v1.0.0")
	if code != 1 {
		t.Errorf("exit %d with one failing module, want 1\nstderr: %s", code, stderr)
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	var got []moduleJSON
	for dec.More() {
		var m moduleJSON
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("decoding %q: %v", stdout, err)
		}
		got = append(got, m)
	}
	if len(got) != 3 {
		t.Fatalf("got %d objects, want 3:\n%s", len(got), stdout)
	}
	sums, _ := mod.GoSum()
	for _, m := range got[:2] {
		if m.Error != "" || m.Version != "v1.2.3" || !strings.HasPrefix(m.Dir, cache) || !strings.Contains(sums, m.Sum) || !strings.Contains(sums, m.GoModSum) {
			t.Errorf("result %+v", m)
		}
		for _, f := range []string{m.Info, m.GoMod, m.Zip, m.Dir} {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("%v", err)
			}
		}
	}
	if got[1].Query != "latest" || got[0].Query != "" {
		t.Errorf("Query fields = %q, %q; want \"\" and latest", got[0].Query, got[1].Query)
	}
	if e := got[2].Error; !strings.Contains(e, "127.0.0.1/cli/none@v1.0.0: reading "+srv.URL) || !strings.Contains(e, "404 Not Found") {
		t.Errorf("error for a missing module = %q", e)
	}
	for _, key := range []string{`"Path"`, `"Version"`, `"Info"`, `"GoMod"`, `"Zip"`, `"Dir"`, `"Sum"`, `"GoModSum"`, `"Error"`} {
		if !strings.Contains(stdout, key) {
			t.Errorf("output lacks the go command's field %s", key)
		}
	}
}

func TestDownloadTraceAndRetries(t *testing.T) {
	mod := modnettest.Module{Path: "127.0.0.1/cli/flaky", Version: "v1.0.0", Files: map[string]string{"m.go": "package m\n"}}
	srv := modnettest.NewServer(mod)
	defer srv.Close()
	srv.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{{Kind: modnettest.KindInfo, First: 1, Fault: modnettest.RetryAfter(503, 0)}}})
	setDownloadEnv(t, srv.URL)

	code, _, stderr := runCmd("download", "-x", mod.Path+"@"+mod.Version)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"# retry " + srv.URL, "throttled, status 503", "# get " + srv.URL + "/127.0.0.1/cli/flaky/@v/v1.0.0.zip: 200 OK"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("-x output lacks %q:\n%s", want, stderr)
		}
	}

	// The same fault without retries fails, as the go command would.
	srv.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{{Kind: modnettest.KindInfo, Fault: modnettest.Status(503)}}})
	setDownloadEnv(t, srv.URL)
	code, _, stderr = runCmd("download", "-noretry", mod.Path+"@"+mod.Version)
	if code != 1 || !strings.Contains(stderr, "503 Service Unavailable") {
		t.Errorf("-noretry against a 503: exit %d\n%s", code, stderr)
	}
}

func TestDownloadUsage(t *testing.T) {
	for _, args := range [][]string{{"download"}, {"download", "-nosuchflag", "m@v1.0.0"}} {
		if code, _, _ := runCmd(args...); code != 2 {
			t.Errorf("modfetch %q: exit %d, want 2", args, code)
		}
	}
}

// Inside a module, queries see its current versions and exclusions, as
// 'go mod download path@query' does there.
func TestDownloadQueriesInModule(t *testing.T) {
	var mods []modnettest.Module
	for _, v := range []string{"v1.0.0", "v1.0.1", "v1.1.0", "v1.2.0"} {
		mods = append(mods, modnettest.Module{Path: "127.0.0.1/cli/q", Version: v, Files: map[string]string{"q.go": "package q\n"}})
	}
	srv := modnettest.NewServer(mods...)
	defer srv.Close()
	setDownloadEnv(t, srv.URL)
	if err := os.WriteFile("go.mod", []byte("module example.com/main\n\ngo 1.21\n\nrequire 127.0.0.1/cli/q v1.0.0\n\nexclude 127.0.0.1/cli/q v1.2.0\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	for query, want := range map[string]string{"latest": "v1.1.0", "patch": "v1.0.1", "upgrade": "v1.1.0", "v1.2.0": "v1.2.0"} {
		code, stdout, stderr := runCmd("download", "-json", "127.0.0.1/cli/q@"+query)
		var m moduleJSON
		if err := json.Unmarshal([]byte(stdout), &m); code != 0 || err != nil || m.Version != want {
			t.Errorf("@%s: exit %d, %+v (%v), want %s\n%s", query, code, m, err, want, stderr)
		}
	}
}

// TestDownloadGOWORKErrorsMatchGoCommand: in a module, a GOWORK that is
// not an absolute path, or names a go.work that does not exist, stops
// 'go mod download' there (cmd/go/internal/modload: FindGoWork,
// ReadWorkFile) rather than fall back to go.mod; so does modfetch
// download, with the go command's message.
func TestDownloadGOWORKErrorsMatchGoCommand(t *testing.T) {
	mod := modnettest.Module{Path: "127.0.0.1/cli/w", Version: "v1.0.0", Files: map[string]string{"w.go": "package w\n"}}
	srv := modnettest.NewServer(mod)
	defer srv.Close()
	missing := filepath.Join(t.TempDir(), "go.work")
	for _, tc := range []struct{ name, gowork, want string }{
		{"relative", "go.work", "invalid GOWORK: not an absolute path"},
		{"missing", missing, "reading go.work: open "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setDownloadEnv(t, srv.URL)
			if err := os.WriteFile("go.mod", []byte("module example.com/main\n\ngo 1.21\n"), 0o666); err != nil {
				t.Fatal(err)
			}
			wd, _ := os.Getwd()
			g := testenv.NewGo(t, "GOPROXY="+srv.URL, "GOSUMDB=off", "GOFLAGS=-modcacherw", "GOWORK="+tc.gowork,
				"GOMODCACHE="+filepath.Join(t.TempDir(), "mod"))
			g.Dir = wd
			out, err := g.Command("mod", "download", mod.Path+"@"+mod.Version).CombinedOutput()
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Fatalf("go mod download: %v, %s; want an error saying %q", err, out, tc.want)
			}
			t.Setenv("GOWORK", tc.gowork)
			code, _, stderr := runCmd("download", mod.Path+"@"+mod.Version)
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("modfetch download: exit %d, stderr %q; want exit 1 saying %q (go: %s)", code, stderr, tc.want, out)
			}
			if tc.gowork == missing && !strings.Contains(stderr, missing) {
				t.Errorf("modfetch download: stderr %q does not name %s", stderr, missing)
			}
		})
	}
}
