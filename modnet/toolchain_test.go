package modnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet/modnettest"
)

func TestNewerToolchain(t *testing.T) {
	for _, tc := range []struct {
		need string
		list []string
		want string
	}{
		// The latest patch of the language before the newest release.
		{"1.21", []string{"1.20.5", "1.21.0", "1.21.3", "1.22.0", "1.22.1"}, "go1.21.3"},
		{"1.22.1", []string{"1.21.3", "1.22.0", "1.22.1", "1.22.4", "1.23.0"}, "go1.22.4"},
		// Only the newest release is new enough.
		{"1.23", []string{"1.21.3", "1.22.4", "1.23.0"}, "go1.23.0"},
		// A newest prerelease does not count as a release family.
		{"1.22", []string{"1.22.0", "1.22.4", "1.23rc1"}, "go1.22.4"},
		{"1.23rc1", []string{"1.22.4", "1.23rc1"}, "go1.23rc1"},
		{"1.30", []string{"1.22.4", "1.23.0"}, ""},
	} {
		got, err := newerToolchain(tc.need, tc.list)
		if tc.want == "" {
			if err == nil || err.Error() != "no releases found for go >= "+tc.need {
				t.Errorf("newerToolchain(%s, %v) = %q, %v; want the go command's error", tc.need, tc.list, got, err)
			}
			continue
		}
		if got != tc.want || err != nil {
			t.Errorf("newerToolchain(%s, %v) = %q, %v; want %s", tc.need, tc.list, got, err, tc.want)
		}
	}
}

func TestToolchainGoVersions(t *testing.T) {
	got := toolchainGoVersions([]string{
		"v0.0.1-go1.22.1.linux-amd64", "v0.0.1-go1.22.1.darwin-arm64", "v0.0.1-go1.21.0.linux-amd64",
		"v0.0.1-go1.23rc1.windows-386", "v0.0.1-bogus", "v0.0.1-go1.20.linux",
	}, "1.22.3")
	want := []string{"1.21.0", "1.22.1", "1.22.3", "1.23rc1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("toolchainGoVersions = %v, want %v", got, want)
	}
}

func TestGoModLine(t *testing.T) {
	gomod := []byte("module m // go 1.1\n\n  go\t1.22 // comment\ntoolchain go1.22.3\ngo 1.23\ngopher 1\n")
	if v := goModLine(gomod, "go"); v != "1.22" {
		t.Errorf("go line %q, want 1.22", v)
	}
	if v := goModLine(gomod, "toolchain"); v != "go1.22.3" {
		t.Errorf("toolchain line %q, want go1.22.3", v)
	}
	if v := goModLine([]byte("module m\n"), "go"); v != "" {
		t.Errorf("missing go line read as %q", v)
	}
}

// realGOROOT returns the installed go command's GOROOT, or skips.
func realGOROOT(t *testing.T) string {
	t.Helper()
	goroot := testenv.GOROOT()
	if goroot == "" {
		t.Skip("no go command")
	}
	return goroot
}

var (
	goDownloadRE    = regexp.MustCompile(`go: download (\S+) for `)
	goLangRE        = regexp.MustCompile(`go: invalid toolchain: (\S+) is a language version`)
	goNotInPathRE   = regexp.MustCompile(`go: cannot find "(\S+)" in PATH`)
	goFakeToolchain = regexp.MustCompile(`^fake (\S+)`)
)

// TestSelectToolchainMatchesGoCommand runs 'go version' under GOTOOLCHAIN
// settings and go.mod and go.work files, with downloads off, and reads from
// its output which toolchain it switched to (or what it refused), then
// compares with SelectToolchain.
func TestSelectToolchainMatchesGoCommand(t *testing.T) {
	goroot := realGOROOT(t)
	if testing.Short() {
		t.Skip("runs the go command")
	}
	bin := testenv.GoBin(t)
	// A toolchain in PATH, which the go command runs instead of downloading.
	pathDir := t.TempDir()
	writeFile(t, filepath.Join(pathDir, "go1.99.7"), "#!/bin/sh\necho fake go1.99.7\n")
	os.Chmod(filepath.Join(pathDir, "go1.99.7"), 0o755)

	type files map[string]string
	for _, tc := range []struct {
		name        string
		gotoolchain string
		files       files  // under the test directory
		dir         string // where the command runs, relative
		gowork      string
	}{
		{"local old go", "local", files{"go.mod": "module m\n\ngo 1.21\n"}, ".", ""},
		{"local new go", "local", files{"go.mod": "module m\n\ngo 1.99\n"}, ".", ""},
		{"auto old go", "auto", files{"go.mod": "module m\n\ngo 1.21\n"}, ".", ""},
		{"auto language version", "auto", files{"go.mod": "module m\n\ngo 1.99\n"}, ".", ""},
		{"auto release", "auto", files{"go.mod": "module m\n\ngo 1.99.2\n"}, ".", ""},
		{"auto toolchain line", "auto", files{"go.mod": "module m\n\ngo 1.99\n\ntoolchain go1.99.5\n"}, ".", ""},
		{"auto go line beats toolchain", "auto", files{"go.mod": "module m\n\ngo 1.99.6\n\ntoolchain go1.99.5\n"}, ".", ""},
		{"auto toolchain default", "auto", files{"go.mod": "module m\n\ngo 1.99\n\ntoolchain default\n"}, ".", ""},
		{"auto toolchain in PATH", "auto", files{"go.mod": "module m\n\ngo 1.21\n\ntoolchain go1.99.7\n"}, ".", ""},
		{"auto bad toolchain", "auto", files{"go.mod": "module m\n\ngo 1.21\n\ntoolchain bad\n"}, ".", ""},
		{"auto subdirectory", "auto", files{"go.mod": "module m\n\ngo 1.99.2\n", "sub/x.go": "package sub\n"}, "sub", ""},
		{"auto no go.mod", "auto", files{"x.txt": ""}, ".", ""},
		{"path new go", "path", files{"go.mod": "module m\n\ngo 1.99.2\n"}, ".", ""},
		{"path in PATH", "path", files{"go.mod": "module m\n\ntoolchain go1.99.7\n"}, ".", ""},
		{"name", "go1.99.1", files{"go.mod": "module m\n\ngo 1.99.2\n"}, ".", ""},
		{"name+auto lower", "go1.99.1+auto", files{"go.mod": "module m\n\ngo 1.21\n"}, ".", ""},
		{"name+auto higher", "go1.99.1+auto", files{"go.mod": "module m\n\ngo 1.99.2\n"}, ".", ""},
		{"name+path", "go1.99.1+path", files{"go.mod": "module m\n\ngo 1.21\n"}, ".", ""},
		{"local+auto", "local+auto", files{"go.mod": "module m\n\ngo 1.99.2\n"}, ".", ""},
		{"bad suffix", "go1.99.1+foo", files{"go.mod": "module m\n"}, ".", ""},
		{"bad name", "bash", files{"go.mod": "module m\n"}, ".", ""},
		{"bad minimum", "gox+auto", files{"go.mod": "module m\n"}, ".", ""},
		{"workspace", "auto", files{"go.work": "go 1.99.3\n\nuse ./m\n", "m/go.mod": "module m\n\ngo 1.21\n"}, "m", ""},
		{"workspace off", "auto", files{"go.work": "go 1.99.3\n\nuse ./m\n", "m/go.mod": "module m\n\ngo 1.21\n"}, "m", "off"},
		{"workspace relative GOWORK", "auto", files{"go.work": "go 1.99.3\n\nuse ./m\n", "m/go.mod": "module m\n\ngo 1.21\n"}, "m", "go.work"},
		{"workspace GOWORK not created yet", "auto", files{"go.mod": "module m\n\ngo 1.99.2\n"}, ".", "/nonexistent-modkit-test/go.work"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			for name, content := range tc.files {
				writeFile(t, filepath.Join(root, name), content)
			}
			dir := filepath.Join(root, tc.dir)
			path := pathDir + string(os.PathListSeparator) + os.Getenv("PATH")

			cmd := exec.Command(bin, "version")
			cmd.Dir = dir
			cmd.Env = testenv.GoEnv(t, "GOPROXY=off", "GOTOOLCHAIN="+tc.gotoolchain, "PATH="+path, "GOWORK="+tc.gowork, "GOFLAGS=")
			out, err := cmd.CombinedOutput()
			goSays := strings.TrimSpace(string(out))

			env, lerr := LoadEnvFrom(map[string]string{"GOENV": "off", "GOROOT": goroot, "GOTOOLCHAIN": tc.gotoolchain,
				"PATH": path, "GOWORK": tc.gowork, "HOME": t.TempDir()})
			if lerr != nil {
				t.Fatal(lerr)
			}
			sel, serr := env.SelectToolchain(context.Background(), dir)

			var goName string
			for _, re := range []*regexp.Regexp{goDownloadRE, goLangRE, goNotInPathRE, goFakeToolchain} {
				if m := re.FindStringSubmatch(goSays); m != nil {
					goName = m[1]
				}
			}
			switch {
			case err == nil && goName == "":
				// The local toolchain ran.
				if serr != nil || sel.Switch() {
					t.Fatalf("go ran the local toolchain (%s); modkit: %+v, %v", goSays, sel, serr)
				}
				if !strings.Contains(goSays, sel.Local+" ") {
					t.Errorf("go says %q; modkit's local toolchain is %s", goSays, sel.Local)
				}
			case goName != "":
				if serr != nil || sel.Name != goName {
					t.Fatalf("go switched to %s (%s); modkit: %+v, %v", goName, goSays, sel, serr)
				}
			default:
				// Under GOTOOLCHAIN=auto the go command prefixes a GOWORK
				// error twice ("go: go: invalid GOWORK: ...").
				msg := goSays
				for strings.HasPrefix(msg, "go: ") {
					msg = strings.TrimPrefix(msg, "go: ")
				}
				if serr == nil {
					t.Fatalf("go failed (%s); modkit selected %+v", goSays, sel)
				}
				got := strings.ReplaceAll(serr.Error(), dir+string(filepath.Separator), "")
				if !strings.Contains(got, msg) {
					t.Errorf("errors differ\ngo:     %s\nmodkit: %s", msg, got)
				}
			}
		})
	}
}

// stubToolchain is golang.org/toolchain for name on this platform, whose
// bin/go says which toolchain it is and how it was run.
func stubToolchain(t *testing.T, name string) modnettest.Module {
	t.Helper()
	m, err := modnettest.Toolchain(name, runtime.GOOS, runtime.GOARCH,
		"#!/bin/sh\necho \"stub "+name+" switch=$GOTOOLCHAIN_INTERNAL_SWITCH_VERSION args=$*\"\n")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDownloadToolchainMatchesGoCommand serves a stub toolchain from a
// loopback proxy with a checksum database. The go command, in a module
// whose go line asks for it, switches to it, downloading it into one
// cache; Prefetch fills another; both caches must hold the same files,
// both must have asked the proxy for the same files, and then the go
// command must switch from Prefetch's cache with the proxy gone.
func TestDownloadToolchainMatchesGoCommand(t *testing.T) {
	goroot := realGOROOT(t)
	if testing.Short() {
		t.Skip("runs the go command")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the stub toolchain's go is a shell script")
	}
	bin := testenv.GoBin(t)
	const name = "go1.99.0"
	srv := modnettest.NewServer(stubToolchain(t, name))
	defer srv.Close()
	gosumdb := srv.SumDB().GOSUMDB()

	mainDir := t.TempDir()
	modFile := writeFile(t, filepath.Join(mainDir, "go.mod"), "module example.com/m\n\ngo 1.99.0\n")
	goVersion := func(modcache string, kv ...string) (string, error) {
		cmd := exec.Command(bin, "version")
		cmd.Dir = mainDir
		cmd.Env = testenv.GoEnv(t, "GOTOOLCHAIN=auto", "GOPROXY="+srv.URL, "GOSUMDB="+gosumdb, "GOMODCACHE="+modcache)
		for i := 0; i+1 < len(kv); i += 2 {
			cmd.Env = append(cmd.Env, kv[i]+"="+kv[i+1])
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	goCache := filepath.Join(t.TempDir(), "go")
	out, err := goVersion(goCache)
	if err != nil || !strings.Contains(out, "stub "+name+" switch="+name+" args=version") {
		t.Fatalf("the go command did not switch to the stub: %v\n%s", err, out)
	}
	goAsked := srv.Requests()
	srv.ResetRequests()

	mkCache := filepath.Join(t.TempDir(), "modkit")
	env, err := LoadEnvFrom(map[string]string{"GOENV": "off", "GOROOT": goroot, "GOTOOLCHAIN": "auto", "GOPROXY": srv.URL,
		"GOSUMDB": gosumdb, "GOMODCACHE": mkCache, "GOFLAGS": "-modcacherw", "HOME": t.TempDir(), "PATH": os.Getenv("PATH")})
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Env: env, HTTP: fastRetry()}
	defer c.Close()
	res, err := c.Prefetch(context.Background(), &PrefetchRequest{ModFile: modFile})
	if err != nil {
		t.Fatalf("Prefetch: %v", err)
	}
	if res.Toolchain != name || len(res.Modules) != 1 || res.Modules[0].Toolchain != name || res.Modules[0].Files.Dir == "" {
		t.Fatalf("Prefetch result: toolchain %q, modules %+v", res.Toolchain, res.Modules)
	}
	mkAsked := srv.Requests()

	if g, m := fileRequests(goAsked), fileRequests(mkAsked); g != m {
		t.Errorf("files asked differ\ngo:     %s\nmodkit: %s", g, m)
	}
	// Offline: no proxy, and the checksum database's server gone too.
	srv.Close()
	out, err = goVersion(mkCache, "GOPROXY", "off")
	if err != nil || !strings.Contains(out, "stub "+name+" switch="+name) {
		t.Fatalf("the go command did not switch offline from Prefetch's cache: %v\n%s", err, out)
	}
	if strings.Contains(out, "downloading") {
		t.Errorf("the go command downloaded after Prefetch:\n%s", out)
	}
	goFiles, err := modnettest.CacheFiles(goCache)
	if err != nil {
		t.Fatal(err)
	}
	mkFiles, err := modnettest.CacheFiles(mkCache)
	if err != nil {
		t.Fatal(err)
	}
	// Both caches have now been switched from, which sets executable bits
	// and copies src/_go.mod to src/go.mod.
	if d := modnettest.DiffCaches(goFiles, mkFiles, "go", "modkit"); len(d) > 0 {
		t.Errorf("module caches differ:\n%s", strings.Join(d, "\n"))
	}

}

// fileRequests lists the module files asked for, in order, without the
// checksum database's.
func fileRequests(log modnettest.Log) string {
	var list []string
	for _, r := range log {
		if r.Kind != modnettest.KindSumDB {
			list = append(list, string(r.Kind)+" "+r.Module+"@"+r.Version)
		}
	}
	return strings.Join(list, ", ")
}

// TestDownloadToolchainErrorsMatchGoCommand compares failed switches: a
// toolchain the proxy does not have, a language version, GOSUMDB=off
// (toolchains are verified regardless), and GOTOOLCHAIN=path.
func TestDownloadToolchainErrorsMatchGoCommand(t *testing.T) {
	goroot := realGOROOT(t)
	if testing.Short() {
		t.Skip("runs the go command")
	}
	bin := testenv.GoBin(t)
	srv := modnettest.NewServer(stubToolchain(t, "go1.99.0"))
	defer srv.Close()
	for _, tc := range []struct {
		name        string
		goLine      string
		gotoolchain string
		gosumdb     string
		want        string // modkit's error, which must also contain the go command's
	}{
		{"missing", "go 1.99.5", "auto", srv.SumDB().GOSUMDB(), "download go1.99.5 for " + runtime.GOOS + "/" + runtime.GOARCH + ": toolchain not available"},
		{"language version", "toolchain go1.99", "auto", srv.SumDB().GOSUMDB(), "invalid toolchain: go1.99 is a language version but not a toolchain version (go1.99.x)"},
		{"GOSUMDB=off", "go 1.99.0", "auto", "off", "download go1.99.0: golang.org/toolchain@" + ToolchainModuleVersion("go1.99.0", runtime.GOOS, runtime.GOARCH) + ": verifying module: checksum database disabled by GOSUMDB=off"},
		{"path", "go 1.99.0", "path", srv.SumDB().GOSUMDB(), `cannot find "go1.99.0" in PATH`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/m\n\n"+tc.goLine+"\n")
			cmd := exec.Command(bin, "version")
			cmd.Dir = dir
			cmd.Env = testenv.GoEnv(t, "GOTOOLCHAIN="+tc.gotoolchain, "GOPROXY="+srv.URL, "GOSUMDB="+tc.gosumdb)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the go command switched:\n%s", out)
			}
			goSays := lastLine(string(out))

			env, lerr := LoadEnvFrom(map[string]string{"GOENV": "off", "GOROOT": goroot, "GOTOOLCHAIN": tc.gotoolchain, "GOPROXY": srv.URL,
				"GOSUMDB": tc.gosumdb, "GOMODCACHE": filepath.Join(t.TempDir(), "mod"), "GOFLAGS": "-modcacherw", "HOME": t.TempDir(), "PATH": os.Getenv("PATH")})
			if lerr != nil {
				t.Fatal(lerr)
			}
			sel, serr := env.SelectToolchain(context.Background(), dir)
			if serr != nil {
				t.Fatal(serr)
			}
			c := &Client{Env: env, HTTP: fastRetry()}
			defer c.Close()
			_, derr := c.DownloadToolchain(context.Background(), sel.Name)
			if derr == nil {
				t.Fatalf("DownloadToolchain(%s) succeeded; go: %s", sel.Name, goSays)
			}
			if !strings.HasPrefix(derr.Error(), tc.want) {
				t.Errorf("modkit: %v\nwant prefix: %s", derr, tc.want)
			}
			if !strings.HasPrefix(goSays, tc.want) {
				t.Errorf("go: %s\nwant prefix: %s", goSays, tc.want)
			}
		})
	}
}

// TestTooNewMatchesGoCommand downloads a module whose go.mod asks for a
// newer Go than any installed, with GOTOOLCHAIN=local, from a proxy and
// from a git repository, outside a module and inside one: the go command
// and Client.Download must fail with the same message, and leave the same
// files.
func TestTooNewMatchesGoCommand(t *testing.T) {
	goroot := realGOROOT(t)
	if testing.Short() {
		t.Skip("runs the go command")
	}
	bin := testenv.GoBin(t)
	mod := modnettest.Module{Path: "127.0.0.1/mod/new", Version: "v1.0.0",
		Files: map[string]string{"go.mod": "module 127.0.0.1/mod/new\n\ngo 1.99\n", "n.go": "package n\n"}}
	srv := modnettest.NewServer(mod)
	defer srv.Close()
	for _, tc := range []struct {
		name   string
		gomod  string // of the directory the command runs in; "" for none
		gotool string
	}{
		{"outside a module", "", "local"},
		{"in a module", "module example.com/m\n\ngo 1.21\n", "local"},
		{"in a module, path mode", "module example.com/m\n\ngo 1.21\n", "local+path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.gomod != "" {
				writeFile(t, filepath.Join(dir, "go.mod"), tc.gomod)
			}
			goCache := filepath.Join(t.TempDir(), "go")
			cmd := exec.Command(bin, "mod", "download", "-json", mod.String())
			cmd.Dir = dir
			cmd.Env = testenv.GoEnv(t, "GOTOOLCHAIN="+tc.gotool, "GOPROXY="+srv.URL, "GOSUMDB=off", "GOMODCACHE="+goCache)
			out, _ := cmd.Output()
			var goRes struct{ Error, Dir, Zip, GoMod string }
			if err := json.Unmarshal(out, &goRes); err != nil {
				t.Fatalf("go mod download -json: %v\n%s", err, out)
			}

			mkCache := filepath.Join(t.TempDir(), "modkit")
			env := testEnv(t, "GOROOT", goroot, "GOTOOLCHAIN", tc.gotool,
				"GOPROXY", srv.URL, "GOSUMDB", "off", "GOMODCACHE", mkCache, "GOFLAGS", "-modcacherw", "PATH", os.Getenv("PATH"))
			c := &Client{Env: env, HTTP: fastRetry(), Dir: dir}
			defer c.Close()
			m, err := c.Download(context.Background(), mod.Path, mod.Version)
			var tooNew *TooNewError
			if !errors.As(err, &tooNew) || !errors.Is(err, ErrTooNew) {
				t.Fatalf("Download: %v; want a *TooNewError (go: %s)", err, goRes.Error)
			}
			if err.Error() != goRes.Error {
				t.Errorf("errors differ\ngo:     %s\nmodkit: %v", goRes.Error, err)
			}
			if m == nil || m.Dir != "" || m.Zip == "" || goRes.Dir != "" || goRes.Zip == "" {
				t.Errorf("files listed: go %+v, modkit %+v", goRes, m)
			}
			goFiles, _ := modnettest.CacheFiles(goCache)
			mkFiles, _ := modnettest.CacheFiles(mkCache)
			if d := modnettest.DiffCaches(goFiles, mkFiles, "go", "modkit"); len(d) > 0 {
				t.Errorf("module caches differ:\n%s", strings.Join(d, "\n"))
			}
		})
	}
}

// lastLine is the go command's final message, without "go: ".
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimPrefix(lines[len(lines)-1], "go: ")
}

// TestTooNewDirectMatchesGoCommand is TestTooNewMatchesGoCommand in direct
// mode, where the go command refuses to make the zip at all.
func TestTooNewDirectMatchesGoCommand(t *testing.T) {
	goroot := realGOROOT(t)
	if testing.Short() {
		t.Skip("runs the go command")
	}
	const modPath = "new.modkit.test/m"
	n := testenv.NewNet(t)
	gs := testenv.NewGitServer(t)
	n.HandleHTTPS("new.modkit.test", testenv.GoImport(modPath+" git https://git.modkit.test/new"))
	r := gs.Repo("new")
	r.Commit("2023-01-01T00:00:00Z", map[string]string{"go.mod": "module " + modPath + "\n\ngo 1.99\n", "m.go": "package m\n"})
	r.Tag("v1.0.0", false)

	goCache := filepath.Join(t.TempDir(), "go")
	g := testenv.NewGo(t, append(n.GoEnv(), "GIT_CONFIG_GLOBAL="+gs.Config, "GOPROXY=direct", "GOSUMDB=off",
		"GOTOOLCHAIN=local", "GOMODCACHE="+goCache)...)
	out, _, _ := g.Run("mod", "download", "-json", modPath+"@v1.0.0")
	var goRes struct{ Error, Zip string }
	if err := json.Unmarshal([]byte(out), &goRes); err != nil {
		t.Fatalf("go mod download -json: %v\n%s", err, out)
	}

	mkCache := filepath.Join(t.TempDir(), "modkit")
	kv := []string{"GOROOT", goroot, "GOTOOLCHAIN", "local", "GOPROXY", "direct", "GOSUMDB", "off", "GOMODCACHE", mkCache, "GOFLAGS", "-modcacherw"}
	for _, e := range append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + gs.Home}, gs.Env()...) {
		k, v, _ := strings.Cut(e, "=")
		kv = append(kv, k, v)
	}
	hc := fastRetry()
	hc.Transport = n.Client().Transport
	c := &Client{Env: testEnv(t, kv...), HTTP: hc, Dir: t.TempDir()}
	defer c.Close()
	m, err := c.Download(context.Background(), modPath, "v1.0.0")
	if !errors.Is(err, ErrTooNew) {
		t.Fatalf("Download: %v, %+v; want a *TooNewError (go: %s)", err, m, goRes.Error)
	}
	if err.Error() != goRes.Error {
		t.Errorf("errors differ\ngo:     %s\nmodkit: %v", goRes.Error, err)
	}
	goFiles, _ := modnettest.CacheFiles(goCache)
	mkFiles, _ := modnettest.CacheFiles(mkCache)
	if d := modnettest.DiffCaches(goFiles, mkFiles, "go", "modkit"); len(d) > 0 {
		t.Errorf("module caches differ:\n%s", strings.Join(d, "\n"))
	}
}

// TestSwitchToolchainMatchesGoCommand downloads, with GOTOOLCHAIN=auto, a
// module whose go line asks for a Go newer than the local one: the go
// command lists golang.org/toolchain, picks a release, downloads it and
// runs the download again with it (the stub shows how it was run). The
// Client's Download, SwitchToolchain and Download again with the new
// GoVersion (what 'modfetch download' does) must pick the same toolchain,
// ask for the same files in the same order, and leave the same cache.
func TestSwitchToolchainMatchesGoCommand(t *testing.T) {
	goroot := realGOROOT(t)
	if testing.Short() {
		t.Skip("runs the go command")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the stub toolchain's go is a shell script")
	}
	bin := testenv.GoBin(t)
	mod := modnettest.Module{Path: "127.0.0.1/mod/new", Version: "v1.0.0",
		Files: map[string]string{"go.mod": "module 127.0.0.1/mod/new\n\ngo 1.99\n", "n.go": "package n\n"}}
	// 1.99.1 is the latest patch of the release before the newest, 1.100.0.
	srv := modnettest.NewServer(mod, stubToolchain(t, "go1.99.0"), stubToolchain(t, "go1.99.1"), stubToolchain(t, "go1.100.0"))
	defer srv.Close()
	gosumdb := srv.SumDB().GOSUMDB()

	goCache := filepath.Join(t.TempDir(), "go")
	cmd := exec.Command(bin, "mod", "download", "-json", mod.String())
	cmd.Dir = t.TempDir()
	cmd.Env = testenv.GoEnv(t, "GOTOOLCHAIN=auto", "GOPROXY="+srv.URL, "GOSUMDB="+gosumdb, "GOMODCACHE="+goCache)
	out, err := cmd.CombinedOutput()
	want := "go: " + mod.String() + " requires go >= 1.99; switching to go1.99.1\n"
	if err != nil || !strings.Contains(string(out), want) ||
		!strings.Contains(string(out), "stub go1.99.1 switch=go1.99.1 args=mod download -json "+mod.String()) {
		t.Fatalf("the go command did not switch as expected: %v\n%s", err, out)
	}
	goAsked := fileRequests(srv.Requests())
	srv.ResetRequests()

	mkCache := filepath.Join(t.TempDir(), "modkit")
	env := testEnv(t, "GOROOT", goroot, "GOTOOLCHAIN", "auto", "GOPROXY", srv.URL, "GOSUMDB", gosumdb,
		"GOMODCACHE", mkCache, "GOPATH", t.TempDir(), "GOFLAGS", "-modcacherw", "PATH", os.Getenv("PATH"))
	ctx := context.Background()
	c := &Client{Env: env, HTTP: fastRetry(), Dir: t.TempDir()}
	defer c.Close()
	_, err = c.Download(ctx, mod.Path, mod.Version)
	sw, serr := c.SwitchToolchain(ctx, err)
	if serr != nil || sw == nil {
		t.Fatalf("SwitchToolchain(%v) = %+v, %v", err, sw, serr)
	}
	if got := "go: " + sw.TooNew.What + " requires go >= " + sw.TooNew.GoVersion + "; switching to " + sw.Name + "\n"; got != want {
		t.Errorf("switch message\ngo:     %smodkit: %s", want, got)
	}
	switched := &Client{Env: env, HTTP: fastRetry(), GoVersion: strings.TrimPrefix(sw.Name, "go")}
	defer switched.Close()
	if _, err := switched.Download(ctx, mod.Path, mod.Version); err != nil {
		t.Errorf("Download with %s: %v", sw.Name, err)
	}
	if mkAsked := fileRequests(srv.Requests()); mkAsked != goAsked {
		t.Errorf("files asked differ\ngo:     %s\nmodkit: %s", goAsked, mkAsked)
	}
	goFiles, _ := modnettest.CacheFiles(goCache)
	mkFiles, _ := modnettest.CacheFiles(mkCache)
	// The go command has also run the toolchain, which copies src/_go.mod.
	d := modnettest.DiffCaches(goFiles, mkFiles, "go", "modkit")
	if len(d) != 1 || !strings.HasSuffix(d[0], "/src/go.mod") || !strings.HasPrefix(d[0], "only go: ") {
		t.Errorf("module caches differ:\n%s", strings.Join(d, "\n"))
	}
}

func FuzzParseGOTOOLCHAIN(f *testing.F) {
	for _, s := range []string{"auto", "path", "local", "go1.21.0+path", "local+auto", "x-go1.2", "go1.2.3+", "go1.22rc1+auto", "bash"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		min, mode, err := parseGOTOOLCHAIN(v, "go1.26.1")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "invalid GOTOOLCHAIN ") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if mode != "" && mode != "auto" && mode != "path" {
			t.Fatalf("mode %q", mode)
		}
		if min != "go1.26.1" && goVersionOf(min) == "" {
			t.Fatalf("minimum %q carries no Go version", min)
		}
	})
}

// TestPrefetchTooNewMatchesGoCommand: a dependency whose go.mod asks for a
// newer Go than the one that runs, in the graph of a main module whose go
// line does not. With GOTOOLCHAIN=local the go command fails the graph
// with a TooNewError, which Prefetch reports for that module in the same
// words; with GOTOOLCHAIN=auto it switches to the toolchain it picks from
// golang.org/toolchain's list and runs again, and Prefetch fetches that
// toolchain and fails nothing.
func TestPrefetchTooNewMatchesGoCommand(t *testing.T) {
	goroot := realGOROOT(t)
	if testing.Short() {
		t.Skip("runs the go command")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the stub toolchain's go is a shell script")
	}
	dep := modnettest.Module{Path: "127.0.0.1/mod/new", Version: "v1.0.0",
		Files: map[string]string{"go.mod": "module 127.0.0.1/mod/new\n\ngo 1.99\n", "n.go": "package n\n"}}
	// For a go.mod read only for the graph: old requires new@v1.0.0, the
	// main module new@v1.1.0, which is happy with go 1.21.
	newer := modnettest.Module{Path: dep.Path, Version: "v1.1.0",
		Files: map[string]string{"go.mod": "module 127.0.0.1/mod/new\n\ngo 1.21\n", "n.go": "package n\n"}}
	old := modnettest.Module{Path: "127.0.0.1/mod/old", Version: "v1.0.0",
		Files: map[string]string{"go.mod": "module 127.0.0.1/mod/old\n\ngo 1.21\n\nrequire " + dep.Path + " " + dep.Version + "\n", "o.go": "package o\n"}}
	srv := modnettest.NewServer(dep, newer, old, stubToolchain(t, "go1.99.0"), stubToolchain(t, "go1.99.1"), stubToolchain(t, "go1.100.0"))
	defer srv.Close()
	gosumdb := srv.SumDB().GOSUMDB()
	for _, tc := range []struct{ name, gotoolchain, gomod string }{
		{"local", "local", "module example.com/m\n\ngo 1.21\n\nrequire " + dep.Path + " " + dep.Version + "\n"},
		{"local, go.mod only", "local", "module example.com/m\n\ngo 1.16\n\nrequire (\n\t" + old.Path + " " + old.Version + "\n\t" + newer.Path + " " + newer.Version + "\n)\n"},
		{"auto", "auto", "module example.com/m\n\ngo 1.21\n\nrequire " + dep.Path + " " + dep.Version + "\n"},
	} {
		gotoolchain := tc.gotoolchain
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			modFile := writeFile(t, filepath.Join(dir, "go.mod"), tc.gomod)
			cmd := exec.Command(testenv.GoBin(t), "mod", "download", "all")
			cmd.Dir = dir
			cmd.Env = testenv.GoEnv(t, "GOTOOLCHAIN="+gotoolchain, "GOPROXY="+srv.URL, "GOSUMDB="+gosumdb, "GOMODCACHE="+filepath.Join(t.TempDir(), "go"))
			out, goErr := cmd.CombinedOutput()
			goSays := strings.TrimPrefix(strings.TrimSpace(string(out)), "go: ")

			env := testEnv(t, "GOROOT", goroot, "GOTOOLCHAIN", gotoolchain, "GOPROXY", srv.URL, "GOSUMDB", gosumdb,
				"GOMODCACHE", filepath.Join(t.TempDir(), "modkit"), "GOPATH", t.TempDir(), "GOFLAGS", "-modcacherw", "PATH", os.Getenv("PATH"))
			c := &Client{Env: env, HTTP: fastRetry()}
			defer c.Close()
			res, err := c.Prefetch(context.Background(), &PrefetchRequest{ModFile: modFile, NoGoSum: true})
			switch gotoolchain {
			case "local":
				if goErr == nil {
					t.Fatalf("the go command accepted the graph:\n%s", out)
				}
				failed := res.Failed()
				if len(failed) != 1 || failed[0].Path != dep.Path || failed[0].Version != dep.Version || failed[0].Class != "toonew" || failed[0].Err.Error() != goSays {
					t.Errorf("Prefetch: %v, failed %+v\ngo: %s", err, failed, goSays)
				}
			case "auto":
				if !strings.Contains(string(out), "switching to go1.99.1") || !strings.Contains(string(out), "stub go1.99.1 switch=go1.99.1 args=mod download all") {
					t.Fatalf("the go command did not switch to go1.99.1:\n%s", out)
				}
				if err != nil || res.Toolchain != "go1.99.1" {
					t.Errorf("Prefetch: %v, toolchain %q; want go1.99.1 and no failure", err, res.Toolchain)
				}
				found := false
				for _, m := range res.Modules {
					found = found || (m.Toolchain == "go1.99.1" && m.Files.Dir != "")
				}
				if !found {
					t.Errorf("the toolchain is not among the modules: %+v", res.Modules)
				}
			}
		})
	}
}
