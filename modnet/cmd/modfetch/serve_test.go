package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet/modnettest"
)

// startServe starts 'modfetch serve -foreground -format env' for g and
// returns its variables once it serves; it is stopped with SIGTERM (or
// killed) when the test ends, and must have exited 0.
func startServe(t *testing.T, g *testenv.Go, args ...string) (*exec.Cmd, map[string]string) {
	t.Helper()
	cmd := modfetchCmd(t, g, append([]string{"serve", "-foreground", "-format", "env"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		k, v, _ := strings.Cut(lines.Text(), "=")
		vars[k] = v
		if k == "MODFETCH_SERVE_PID" {
			break
		}
	}
	if vars["MODFETCH_SERVE_PID"] == "" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("modfetch serve printed %v", vars)
	}
	go io.Copy(io.Discard, out)
	t.Cleanup(func() {
		stopServe(t, cmd)
	})
	return cmd, vars
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestServe: one server for several go commands at once, sharing one
// module cache; only requests under its secret prefix are answered.
func TestServe(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	g, err := modnettest.GenerateGraph(modnettest.GraphConfig{Seed: 5, Modules: 12, ZipBytes: 512 << 10})
	if err != nil {
		t.Fatal(err)
	}
	_, env := stub(t, g.Modules...)
	server := testenv.NewGo(t, env...)
	cmd, vars := startServe(t, server)
	if pid := vars["MODFETCH_SERVE_PID"]; pid != strconv.Itoa(cmd.Process.Pid) {
		t.Errorf("MODFETCH_SERVE_PID=%s, want the server's, %d", pid, cmd.Process.Pid)
	}

	// GOPROXY is the stub's list, its one entry on the server:
	// http://127.0.0.1:N/<secret>/0.
	proxy := vars["GOPROXY"]
	base, entry, ok := strings.Cut(strings.TrimPrefix(proxy, "http://"), "/")
	if !ok || strings.ContainsAny(proxy, ",|") || !strings.HasSuffix(entry, "/0") {
		t.Fatalf("GOPROXY=%q, want one entry, the stub's, on the server", proxy)
	}
	base = "http://" + base
	secret := "/" + strings.TrimSuffix(entry, "/0")
	path := "/" + g.BuildList[0].Path + "/@v/list"
	for _, u := range []string{base + path, base + secret + path, base + secret[:len(secret)-1] + "/0" + path,
		base + secret + "x/0" + path, base + secret + "/1" + path, base + secret + "/direct" + path, base + "/healthz"} {
		if code, body := get(t, u); code != 404 || body != "not found\n" {
			t.Errorf("GET without the prefix %s: %d %q, want 404", strings.TrimPrefix(u, base), code, body)
		}
	}
	if code, _ := get(t, proxy+path); code != 200 {
		t.Errorf("GET under the prefix: %d", code)
	}

	// Three go commands at once, one module cache.
	modcache := filepath.Join(t.TempDir(), "modcache")
	var wg sync.WaitGroup
	errs := make([]string, 3)
	for k := range errs {
		var kv []string
		for name, v := range vars {
			kv = append(kv, name+"="+v)
		}
		c := testenv.NewGo(t, append(append(env, kv...), "GOMODCACHE="+modcache)...)
		if err := g.WriteMain(c.Dir); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if out, stderr, err := c.Run("mod", "download", "all"); err != nil {
				errs[k] = err.Error() + "\n" + out + stderr
			}
		})
	}
	wg.Wait()
	for k, e := range errs {
		if e != "" {
			t.Errorf("go command %d: %s", k, e)
		}
	}
	for _, m := range g.BuildList {
		if !inModCache(modcache, m, ".zip") {
			t.Errorf("%s not in the module cache", m)
		}
	}
	stopServe(t, cmd)
}

// stopServe sends SIGTERM (killing on systems without it) and checks that
// serve exits 0.
func stopServe(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if cmd.ProcessState != nil {
		return
	}
	if err := terminate(cmd.Process); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("modfetch serve after SIGTERM: %v", err)
	}
}

// TestServeUsage: serve refuses addresses other hosts can reach unless
// told otherwise, and bad flags.
func TestServeUsage(t *testing.T) {
	g := testenv.NewGo(t)
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-listen", "0.0.0.0:0"}, 1, "-listen 0.0.0.0:0 is not a loopback address"},
		{[]string{"-listen", ":0"}, 1, "-listen :0 is not a loopback address"},
		{[]string{"-listen", "192.0.2.1:0"}, 1, "use -allow-remote to serve it anyway"},
		{[]string{"-listen", "nohostport"}, 1, "-listen nohostport"},
		{[]string{"-format", "csh"}, 2, "usage: modfetch serve"},
		{[]string{"extra"}, 2, "usage: modfetch serve"},
	} {
		r := runCommand(modfetchCmd(t, g, append([]string{"serve", "-foreground"}, tt.args...)...))
		var ee *exec.ExitError
		if !errors.As(r.err, &ee) || ee.ExitCode() != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("serve %q: %s\nwant exit %d and %q", tt.args, r, tt.code, tt.want)
		}
	}
	// Told otherwise, it serves on every interface, still behind the prefix.
	_, vars := startServe(t, g, "-listen", "0.0.0.0:0", "-allow-remote")
	if !strings.HasPrefix(vars["GOPROXY"], "http://127.0.0.1:") {
		t.Errorf("GOPROXY=%q", vars["GOPROXY"])
	}
}
