package modnet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/internal/testenv"
)

// This file checks the Cache against the installed go command: what one
// writes, the other must read as complete, and both must be able to fill
// one cache at the same time.

// goCacheEnv is an isolated go command environment on the module cache
// dir: no GOENV file, no network unless GOPROXY says so, no checksum
// database, read-only extracted modules (no -modcacherw). The build cache
// is the host's, so that building a small program stays fast.
func goCacheEnv(t *testing.T, cacheDir string, kv ...string) []string {
	env := testenv.GoEnv(t, "GOMODCACHE="+cacheDir, "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off")
	for i := 0; i+1 < len(kv); i += 2 {
		env = append(env, kv[i]+"="+kv[i+1])
	}
	return env
}

func goCacheCmd(t *testing.T, dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(testenv.GoBin(t), args...)
	cmd.Dir, cmd.Env = dir, env
	return cmd
}

// runGo runs the go command and fails the test if it fails.
func runGo(t *testing.T, dir string, env []string, args ...string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := goCacheCmd(t, dir, env, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out
}

func parseDownloadJSON(t *testing.T, out []byte) map[module.Version]testenv.ModDownload {
	t.Helper()
	res := map[module.Version]testenv.ModDownload{}
	for _, d := range testenv.DecodeAll[testenv.ModDownload](t, string(out)) {
		res[module.Version{Path: d.Path, Version: d.Version}] = d
	}
	return res
}

// mainModule writes a main module that imports every fixture's package,
// with a go.sum holding their hashes, and returns its directory.
func mainModule(t *testing.T, mods ...*fixtureModule) string {
	dir := t.TempDir()
	var gomod, imports, uses, gosum strings.Builder
	gomod.WriteString("module example.com/main\n\ngo 1.21\n\nrequire (\n")
	for i, m := range mods {
		fmt.Fprintf(&gomod, "\t%s %s\n", m.mod.Path, m.mod.Version)
		fmt.Fprintf(&imports, "\tm%d %q\n", i, m.mod.Path)
		fmt.Fprintf(&uses, "\tprintln(m%d.V)\n", i)
		gosum.WriteString(m.goSumLines())
	}
	gomod.WriteString(")\n")
	writeFile(t, filepath.Join(dir, "go.mod"), gomod.String())
	writeFile(t, filepath.Join(dir, "go.sum"), gosum.String())
	writeFile(t, filepath.Join(dir, "main.go"), "package main\n\nimport (\n"+imports.String()+")\n\nfunc main() {\n"+uses.String()+"}\n")
	return dir
}

func fixtureArgs(mods []*fixtureModule) []string {
	var args []string
	for _, m := range mods {
		args = append(args, m.mod.String())
	}
	return args
}

// checkGoReadsCache runs 'go mod download -json', 'go build' and 'go mod
// verify' with GOPROXY=off on the cache c, which must hold mods.
func checkGoReadsCache(t *testing.T, c *Cache, mods []*fixtureModule) {
	t.Helper()
	env := goCacheEnv(t, c.Dir)
	out := runGo(t, t.TempDir(), env, append([]string{"mod", "download", "-json"}, fixtureArgs(mods)...)...)
	got := parseDownloadJSON(t, out)
	for _, m := range mods {
		d := got[m.mod]
		info, _ := c.Path(m.mod, "info")
		gomod, _ := c.Path(m.mod, "mod")
		zip, _ := c.Path(m.mod, "zip")
		dir, _ := c.ModuleDir(m.mod)
		want := testenv.ModDownload{Path: m.mod.Path, Version: m.mod.Version, Info: info, GoMod: gomod, Zip: zip, Dir: dir, Sum: m.sum, GoModSum: m.gomodSum}
		if d != want {
			t.Errorf("go mod download -json %s:\n got %+v\nwant %+v", m.mod, d, want)
		}
	}
	main := mainModule(t, mods...)
	runGo(t, main, env, "build", "-o", filepath.Join(t.TempDir(), "main.exe"), ".")
	goModVerify(t, c, mods)
}

// goModVerify runs 'go mod verify' offline in a main module requiring mods.
func goModVerify(t *testing.T, c *Cache, mods []*fixtureModule) {
	t.Helper()
	if out := runGo(t, mainModule(t, mods...), goCacheEnv(t, c.Dir), "mod", "verify"); !bytes.Contains(out, []byte("all modules verified")) {
		t.Errorf("go mod verify: %s", out)
	}
}

var layoutFixtures = [][2]string{
	{"example.com/m", "v1.0.0"},
	{"example.com/Upper/Case", "v1.2.3-Pre"},
	{"example.com/pseudo", "v0.0.0-20240102030405-0123456789ab"},
}

func TestCacheLayoutMatchesGoCommand(t *testing.T) {
	testenv.GoBin(t)
	c := newTestCache(t)
	var mods []*fixtureModule
	for _, f := range layoutFixtures {
		m := newFixtureModule(t, f[0], f[1])
		storeFixture(t, c, m)
		mods = append(mods, m)
	}
	checkGoReadsCache(t, c, mods)
}

// A fixtureProxy serves fixture modules over the module proxy protocol and
// logs the requests.
type fixtureProxy struct {
	srv   *httptest.Server
	files map[string][]byte
	mu    sync.Mutex
	hook  func(path string)
	reqs  []string
}

func newFixtureProxy(t testing.TB, mods ...*fixtureModule) *fixtureProxy {
	p := &fixtureProxy{files: map[string][]byte{}}
	for _, m := range mods {
		esc, _ := module.EscapePath(m.mod.Path)
		ver, _ := module.EscapeVersion(m.mod.Version)
		base := "/" + esc + "/@v/"
		p.files[base+"list"] = append(p.files[base+"list"], m.mod.Version+"\n"...)
		p.files[base+ver+".info"] = m.info
		p.files[base+ver+".mod"] = m.gomod
		p.files[base+ver+".zip"] = m.zip
	}
	p.srv = httptest.NewServer(p)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fixtureProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.reqs = append(p.reqs, r.URL.Path)
	hook := p.hook
	p.mu.Unlock()
	if hook != nil {
		hook(r.URL.Path)
	}
	data, ok := p.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write(data)
}

// setHook installs hook, which runs before each request is answered.
func (p *fixtureProxy) setHook(hook func(path string)) {
	p.mu.Lock()
	p.hook = hook
	p.mu.Unlock()
}

func (p *fixtureProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.reqs...)
}

func TestGoCommandCacheIsComplete(t *testing.T) {
	testenv.GoBin(t)
	ctx := context.Background()
	var mods []*fixtureModule
	for _, f := range layoutFixtures {
		mods = append(mods, newFixtureModule(t, f[0], f[1]))
	}
	proxy := newFixtureProxy(t, mods...)
	c := newTestCache(t)
	runGo(t, t.TempDir(), goCacheEnv(t, c.Dir, "GOPROXY", proxy.srv.URL), append([]string{"mod", "download"}, fixtureArgs(mods)...)...)
	before := len(proxy.requests())

	for _, m := range mods {
		info, _, err := c.ReadInfo(m.mod)
		if err != nil || info.Version != m.mod.Version {
			t.Errorf("%s: ReadInfo = %+v, %v", m.mod, info, err)
		}
		if data, _, err := c.ReadGoMod(m.mod); err != nil || !bytes.Equal(data, m.gomod) {
			t.Errorf("%s: ReadGoMod = %q, %v", m.mod, data, err)
		}
		if h, err := c.ZipHash(ctx, m.mod); err != nil || h != m.sum {
			t.Errorf("%s: ZipHash = %q, %v", m.mod, h, err)
		}
		dir, err := c.ModuleDir(m.mod)
		if err != nil {
			t.Errorf("%s: ModuleDir: %v", m.mod, err)
		}
		var verified string
		if _, err := c.DownloadZip(ctx, m.mod, func(context.Context, *ZipTemp) error {
			return errors.New("fetch called for a zip the go command downloaded")
		}, func(_ context.Context, h string) error { verified = h; return nil }); err != nil || verified != m.sum {
			t.Errorf("%s: DownloadZip = %v, verified %q", m.mod, err, verified)
		}
		if got, err := c.Extract(ctx, m.mod); err != nil || got != dir {
			t.Errorf("%s: Extract = %q, %v", m.mod, got, err)
		}
	}
	if after := proxy.requests(); len(after) != before {
		t.Errorf("requests after the go command's download: %v", after[before:])
	}
}

// downloadLikeGo fills c with m as a Client would, verifying against go.sum.
// It counts the zips it fetches in fetched, and fetches slowly.
func downloadLikeGo(ctx context.Context, c *Cache, m *fixtureModule, gosum *GoSum, fetched *atomic.Int32) error {
	chk := &sumChecker{gosum: gosum}
	var info Info
	if err := json.Unmarshal(m.info, &info); err != nil {
		return err
	}
	if _, _, err := c.ReadInfo(m.mod); err != nil {
		if _, err := c.WriteInfo(ctx, m.mod, &info); err != nil {
			return err
		}
	}
	if _, _, err := c.ReadGoMod(m.mod); err != nil {
		if err := chk.checkGoMod(ctx, m.mod, m.gomod); err != nil {
			return err
		}
		if _, err := c.WriteGoMod(ctx, m.mod, m.gomod); err != nil {
			return err
		}
	}
	fetch := func(_ context.Context, w *ZipTemp) error {
		fetched.Add(1)
		w.Write(m.zip[:len(m.zip)/2])
		time.Sleep(20 * time.Millisecond)
		_, err := w.Write(m.zip[len(m.zip)/2:])
		return err
	}
	if _, err := c.DownloadZip(ctx, m.mod, fetch, chk.verifyZip(m.mod)); err != nil {
		return err
	}
	_, err := c.Extract(ctx, m.mod)
	return err
}

func TestConcurrentDownloadsWithGoCommand(t *testing.T) {
	testenv.GoBin(t)
	ctx := context.Background()
	var mods []*fixtureModule
	var sums strings.Builder
	for i := range 4 {
		m := newFixtureModule(t, fmt.Sprintf("example.com/concurrent/m%d", i), "v1.0.0")
		mods = append(mods, m)
		sums.WriteString(m.goSumLines())
	}
	gosum, err := ParseGoSum([]byte(sums.String()), "go.sum")
	if err != nil {
		t.Fatal(err)
	}
	proxy := newFixtureProxy(t, mods...)
	// modkit starts when the go command asks for its first zip. Slow zip
	// answers keep the go command inside its version locks while modkit
	// works, and modkit's slow fetches do the same to the go command.
	var goZips, modkitZips atomic.Int32
	started := make(chan struct{}, 1)
	proxy.setHook(func(path string) {
		if strings.HasSuffix(path, ".zip") {
			goZips.Add(1)
			select {
			case started <- struct{}{}:
			default:
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	for round := range 3 {
		select {
		case <-started: // left over from the previous round
		default:
		}
		c := newTestCache(t)
		cmd := goCacheCmd(t, t.TempDir(), goCacheEnv(t, c.Dir, "GOPROXY", proxy.srv.URL), append([]string{"mod", "download"}, fixtureArgs(mods)...)...)
		out := startCmd(t, cmd)
		select {
		case <-started:
		case <-time.After(60 * time.Second):
			t.Fatal("the go command sent no request")
		}
		var wg sync.WaitGroup
		errs := make([]error, len(mods))
		for i, m := range mods {
			wg.Go(func() { errs[i] = downloadLikeGo(ctx, c, m, gosum, &modkitZips) })
		}
		wg.Wait()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("round %d: go mod download: %v\n%s", round, err, out)
		}
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d: %s: %v", round, mods[i].mod, err)
			}
		}
		goModVerify(t, c, mods)
		assertNoTempFiles(t, c.Dir)
	}
	// Each zip is stored once per round, by one side or the other.
	if g, k := goZips.Load(), modkitZips.Load(); g+k != int32(3*len(mods)) || g == 0 || k == 0 {
		t.Errorf("zips stored: %d by the go command, %d by modkit; want %d in all, shared", g, k, 3*len(mods))
	}
}

func TestVersionLockExcludesGoCommand(t *testing.T) {
	testenv.GoBin(t)
	ctx := context.Background()
	m := newFixtureModule(t, "example.com/locked", "v1.0.0")
	zipPath := "/example.com/locked/@v/v1.0.0.zip"
	modPath := "/example.com/locked/@v/v1.0.0.mod"

	t.Run("go holds", func(t *testing.T) {
		// The go command holds the version lock while it downloads the zip,
		// so a stalled zip answer keeps it held.
		proxy := newFixtureProxy(t, m)
		inZip, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		proxy.setHook(func(path string) {
			if path == zipPath {
				once.Do(func() { close(inZip) })
				<-release
			}
		})
		c := newTestCache(t)
		cmd := goCacheCmd(t, t.TempDir(), goCacheEnv(t, c.Dir, "GOPROXY", proxy.srv.URL), "mod", "download", m.mod.String())
		out := startCmd(t, cmd)
		select {
		case <-inZip:
		case <-time.After(60 * time.Second):
			close(release)
			t.Fatal("the go command never asked for the zip")
		}
		done, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := c.Lock(done, m.mod); !errors.Is(err, context.Canceled) {
			t.Errorf("Lock while the go command downloads = %v, want it busy", err)
		}
		close(release)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("go mod download: %v\n%s", err, out)
		}
		unlock, err := c.Lock(done, m.mod)
		if err != nil {
			t.Fatalf("Lock after the go command finished: %v", err)
		}
		unlock()
	})

	t.Run("modkit holds", func(t *testing.T) {
		proxy := newFixtureProxy(t, m)
		gotMod := make(chan struct{})
		var once sync.Once
		proxy.setHook(func(path string) {
			if path == modPath {
				once.Do(func() { close(gotMod) })
			}
		})
		c := newTestCache(t)
		unlock, err := c.Lock(ctx, m.mod)
		if err != nil {
			t.Fatal(err)
		}
		cmd := goCacheCmd(t, t.TempDir(), goCacheEnv(t, c.Dir, "GOPROXY", proxy.srv.URL), "mod", "download", m.mod.String())
		out := startCmd(t, cmd)
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case <-gotMod:
		case err := <-exited:
			unlock()
			t.Fatalf("go mod download ended early: %v\n%s", err, out)
		}
		// The go command takes the version lock next, before it asks for
		// the zip. Give it ample time to get there: it must stay blocked.
		select {
		case err := <-exited:
			t.Errorf("go mod download finished while modkit held the lock: %v", err)
		case <-time.After(500 * time.Millisecond):
		}
		for _, r := range proxy.requests() {
			if r == zipPath {
				t.Error("the go command fetched the zip while modkit held the lock")
			}
		}
		unlock()
		if err := <-exited; err != nil {
			t.Fatalf("go mod download: %v\n%s", err, out)
		}
		if _, err := c.ModuleDir(m.mod); err != nil {
			t.Error(err)
		}
	})
}

// startCmd starts cmd with its output collected in the returned buffer.
func startCmd(t *testing.T, cmd *exec.Cmd) *testenv.Buffer {
	t.Helper()
	out := new(testenv.Buffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return out
}
