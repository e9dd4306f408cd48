package modkit_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet/modnettest"
)

// TestCredentialsNeverShow feeds credentials through every setting modkit
// reads — the user information of GOPROXY, GOSUMDB and HTTPS_PROXY URLs,
// a token passed as the user name, a .netrc — and through every output
// path: errors, -x traces and JSON of modfetch route, download and
// prefetch, the doctor's text and JSON, and the example proxy's debug
// logs. Every secret contains "SECRET"; none may show, while the URLs
// themselves do, redacted.
func TestCredentialsNeverShow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the commands")
	}
	bin := buildCommands(t, "./modnet/cmd/modfetch", "./envcheck/cmd/moddoctor", "./examples/proxy")

	const module = "127.0.0.1/creds/m"
	mod := modnettest.Module{Path: module, Version: "v1.0.0", Files: map[string]string{"m.go": "package m\n"}}
	serve := func(code int) *modnettest.Server {
		// 500 rather than 503: the retries after it wait less.
		s := modnettest.NewServer(mod)
		t.Cleanup(s.Close)
		if code != 0 {
			s.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{{Module: module, Fault: modnettest.Status(code)}}})
		}
		return s
	}
	failing, missing, good := serve(http.StatusInternalServerError), serve(http.StatusNotFound), serve(0)
	withUser := func(rawURL, userinfo string) string {
		return strings.Replace(rawURL, "://", "://"+userinfo+"@", 1)
	}
	refused := "http://127.0.0.1:" + closedPort(t)
	// Tokens passed as the user name, user names with passwords, over
	// every fallback rule: refused ('|'), 503 ('|'), 404 (','), served.
	goproxy := withUser(refused, "ghp_SECRETTOKEN1") + "|" +
		withUser(failing.URL, "SECRETuser2:SECRETpw2") + "|" +
		withUser(missing.URL, "ghp_SECRETTOKEN3:x-oauth-basic") + "," +
		withUser(good.URL, "SECRETuser4:SECRETpw4")
	gosumdb := good.SumDB().Key() + " " + withUser(good.SumDB().URL(), "SECRETsum:SECRETsumpw")
	home := t.TempDir()
	netrc := filepath.Join(home, ".netrc")
	if err := os.WriteFile(netrc, []byte("machine 127.0.0.1 login SECRETnetrc password SECRETnetrcpw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	gomod := filepath.Join(work, "go.mod")
	if err := os.WriteFile(gomod, []byte("module example.com/app\n\ngo 1.21\n\nrequire "+module+" v1.0.0\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	// HTTPS_PROXY points nowhere: loopback stays direct, anything else
	// would fail at once, so nothing here reaches the real network.
	env := testenv.GoEnv(t, "GOPROXY="+goproxy, "GOSUMDB="+gosumdb, "GONOSUMDB=", "GOPRIVATE=", "NETRC="+netrc,
		"HTTPS_PROXY="+withUser("http://127.0.0.1:"+closedPort(t), "SECRETproxy:SECRETproxypw"),
		"HTTP_PROXY="+withUser("http://127.0.0.1:"+closedPort(t), "SECRETproxy:SECRETproxypw"))

	run := func(name string, extraEnv []string, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, filepath.Join(bin, name), args...)
		cmd.Dir, cmd.Env = work, append(env[:len(env):len(env)], extraEnv...)
		out, err := cmd.CombinedOutput()
		check(t, name+" "+strings.Join(args, " "), string(out), err)
	}
	// One module cache a command: each has to fetch.
	cache := func(kv ...string) []string { return append(kv, "GOMODCACHE="+t.TempDir()) }
	onlyFailing := "GOPROXY=" + withUser(failing.URL, "ghp_SECRETTOKEN5")
	onlyMissing := "GOPROXY=" + withUser(missing.URL, "ghp_SECRETTOKEN6")
	run("modfetch", nil, "route", module)
	run("modfetch", nil, "route", "-json", module)
	// The whole list without retries, then retries on the failing proxy
	// alone: the retry lines of -x, and the error after them.
	run("modfetch", cache(), "download", "-x", "-json", "-noretry", module+"@v1.0.0")
	run("modfetch", cache(onlyFailing), "download", "-x", module+"@v1.0.0")
	// Prefetch's events name no URLs; its failures do.
	run("modfetch", cache(onlyMissing), "prefetch", "-json", "-modfile", gomod)
	// A setting that does not parse is quoted in the complaint.
	run("modfetch", []string{"GOPROXY=http://SECRETbad:SECRETbadpw@[::1,direct"}, "route", module)
	run("moddoctor", nil, "-v", "-timeout", "20s")
	run("moddoctor", nil, "-json", "-timeout", "20s")
	run("moddoctor", []string{"GOPROXY=http://SECRETbad:SECRETbadpw@[::1,direct"}, "-offline")
	checkProxyLogs(t, filepath.Join(bin, "proxy"), env, goproxy, gosumdb, module)
}

// check fails the test if out shows a secret, or shows no redacted URL
// (then the path printed none, and proves nothing).
func check(t *testing.T, what, out string, err error) {
	t.Helper()
	t.Logf("%s: %v\n%s", what, err, out)
	if i := strings.Index(out, "SECRET"); i >= 0 {
		t.Errorf("%s shows a credential: ...%s...", what, out[max(0, i-60):min(len(out), i+40)])
	}
	if !strings.Contains(out, "xxxxx@") {
		t.Errorf("%s shows no redacted URL; the test proves nothing about it", what)
	}
}

// checkProxyLogs runs the example proxy with debug logs and has it fetch
// the module through the upstream list.
func checkProxyLogs(t *testing.T, bin string, env []string, goproxy, gosumdb, module string) {
	addr := "127.0.0.1:" + closedPort(t)
	cmd := exec.Command(bin, "-listen", addr, "-cache", t.TempDir(), "-upstream", goproxy, "-gosumdb", gosumdb, "-log-level", "DEBUG")
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The proxy logs "serving" once it listens; everything it logs is kept.
	var logs strings.Builder
	serving := make(chan bool, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		up := false
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if !up && strings.Contains(sc.Text(), "msg=serving") {
				up = true
				serving <- true
			}
		}
		if !up {
			serving <- false
		}
	}()
	defer func() {
		cmd.Process.Kill()
		<-copied
		cmd.Wait()
		check(t, "proxy logs", logs.String(), nil)
	}()
	if !<-serving {
		t.Fatal("the proxy ended before serving")
	}
	c := &http.Client{Timeout: 30 * time.Second}
	for _, path := range []string{"/" + module + "/@v/list", "/" + module + "/@v/v1.0.0.info", "/" + module + "/@v/v1.0.0.zip", "/" + module + "/@v/v9.9.9.info"} {
		resp, err := c.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s from the proxy: %v", path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// buildCommands builds the main packages into a temporary directory with
// the test's own environment (the module's dependencies come from its
// module cache), and returns the directory.
func buildCommands(t *testing.T, pkgs ...string) string {
	t.Helper()
	dir := t.TempDir()
	var here []string
	for _, pkg := range pkgs {
		// A command that is a module of its own (examples/proxy, whose
		// object store drivers stay out of modkit's go.mod) is built there.
		if _, err := os.Stat(filepath.Join(pkg, "go.mod")); err == nil {
			cmd := exec.Command(testenv.GoBin(t), "build", "-o", filepath.Join(dir, filepath.Base(pkg)), ".")
			cmd.Dir = pkg
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build in %s: %v\n%s", pkg, err, out)
			}
			continue
		}
		here = append(here, pkg)
	}
	cmd := exec.Command(testenv.GoBin(t), append([]string{"build", "-o", dir + string(filepath.Separator)}, here...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}
