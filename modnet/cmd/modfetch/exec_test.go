package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet/modnettest"
)

// mainEnv makes this test binary modfetch itself when it is run again by
// a test (modfetchCmd), so that exec and serve run as the real command
// does: a process of their own, with signals and exit statuses.
const mainEnv = "MODFETCH_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// modfetchCmd returns modfetch with args, run in g's directory with g's
// environment.
func modfetchCmd(t *testing.T, g *testenv.Go, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Dir = g.Dir
	cmd.Env = append(g.Env[:len(g.Env):len(g.Env)], mainEnv+"=1")
	return cmd
}

// result is how one command ended.
type result struct {
	stdout, stderr string
	err            error
}

func (r result) String() string {
	return "error: " + errString(r.err) + "\nstdout:\n" + r.stdout + "stderr:\n" + r.stderr
}

func errString(err error) string {
	if err == nil {
		return "none"
	}
	return err.Error()
}

func runCommand(cmd *exec.Cmd) result {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return result{out.String(), errb.String(), err}
}

// execGo runs 'modfetch exec [flags] -- go args...' for g.
func execGo(t *testing.T, g *testenv.Go, flags []string, args ...string) result {
	t.Helper()
	return runCommand(modfetchCmd(t, g, append(append([]string{"exec"}, flags...), append([]string{"--", g.Bin}, args...)...)...))
}

// A pair is the same go command twice, each with a home, module cache and
// working directory of its own: one run plainly, one under modfetch exec,
// for differential tests.
type pair struct {
	t           *testing.T
	plain, exec *testenv.Go
}

func newPair(t *testing.T, kv ...string) *pair {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the go command")
	}
	return &pair{t: t, plain: testenv.NewGo(t, kv...), exec: testenv.NewGo(t, kv...)}
}

// write writes files into both working directories.
func (p *pair) write(files map[string]string) {
	p.t.Helper()
	for _, g := range []*testenv.Go{p.plain, p.exec} {
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(g.Dir, name), []byte(data), 0o666); err != nil {
				p.t.Fatal(err)
			}
		}
	}
}

// run runs go args both ways and checks that they end the same: both
// succeed or both fail, with the same go.mod, go.sum and module cache.
// It returns the two results.
func (p *pair) run(args ...string) (plain, under result) {
	p.t.Helper()
	plain = runCommand(p.plain.Command(args...))
	under = execGo(p.t, p.exec, nil, args...)
	if (plain.err == nil) != (under.err == nil) {
		p.t.Fatalf("go %s: plain and under exec differ:\nplain %s\nexec %s", strings.Join(args, " "), plain, under)
	}
	p.same(strings.Join(args, " "))
	return plain, under
}

// same checks that both sides have the same go.mod, go.sum and module
// cache.
func (p *pair) same(what string) {
	p.t.Helper()
	for _, name := range []string{"go.mod", "go.sum"} {
		a, errA := os.ReadFile(filepath.Join(p.plain.Dir, name))
		b, errB := os.ReadFile(filepath.Join(p.exec.Dir, name))
		if !bytes.Equal(a, b) || (errA == nil) != (errB == nil) {
			p.t.Errorf("go %s: %s differs:\nplain (%v):\n%s\nexec (%v):\n%s", what, name, errA, a, errB, b)
		}
	}
	a, err := modnettest.CacheFiles(p.plain.ModCache())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		p.t.Fatal(err)
	}
	b, err := modnettest.CacheFiles(p.exec.ModCache())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		p.t.Fatal(err)
	}
	if diffs := modnettest.DiffCaches(a, b, "plain", "exec"); len(diffs) > 0 {
		p.t.Errorf("go %s: module caches differ:\n%s", what, strings.Join(diffs, "\n"))
	}
}

// stub serves mods with a checksum database, for a pair's GOPROXY and
// GOSUMDB.
func stub(t *testing.T, mods ...modnettest.Module) (*modnettest.Server, []string) {
	t.Helper()
	srv := modnettest.NewServer(mods...)
	t.Cleanup(srv.Close)
	return srv, []string{"GOPROXY=" + srv.URL, "GOSUMDB=" + srv.SumDB().GOSUMDB()}
}

// queryModules: a module with a retracted release and a pre-release.
var queryModules = []modnettest.Module{
	{Path: "example.com/q", Version: "v1.0.0", Files: map[string]string{"q.go": "package q\n"}},
	{Path: "example.com/q", Version: "v1.1.0", Files: map[string]string{"q.go": "package q // broken\n"}},
	{Path: "example.com/q", Version: "v1.2.0", Files: map[string]string{"q.go": "package q\n"}, Retract: []string{"v1.1.0"}},
	{Path: "example.com/q", Version: "v1.2.1", Files: map[string]string{"q.go": "package q\n"}},
	{Path: "example.com/q", Version: "v1.3.0-beta.1", Files: map[string]string{"q.go": "package q\n"}},
}

const queryMain = "module example.com/main\n\ngo 1.21\n\nrequire example.com/q v1.0.0\n"

// TestExecGetQueries: go get with each form of query ends the same under
// exec as without it: go.mod, go.sum, module cache, and failure.
func TestExecGetQueries(t *testing.T) {
	_, env := stub(t, queryModules...)
	p := newPair(t, env...)
	p.write(map[string]string{"go.mod": queryMain, "main.go": "package main\n\nimport _ \"example.com/q\"\n\nfunc main() {}\n"})
	p.run("mod", "tidy")
	for _, q := range []string{"v1.1", "v1.0", "upgrade", "patch", "latest", "v1.3.0-beta.1", "<v1.2.1", "v1.9"} {
		plain, under := p.run("get", "example.com/q@"+q)
		if plain.err != nil && !strings.Contains(under.stderr, "no matching versions") && strings.Contains(plain.stderr, "no matching versions") {
			t.Errorf("go get @%s: plain says %q, exec %q", q, plain.stderr, under.stderr)
		}
	}
	p.run("list", "-m", "-u", "-retracted", "all")
	plain, under := p.run("list", "-m", "-versions", "-retracted", "example.com/q")
	if plain.stdout != under.stdout {
		t.Errorf("go list -m -versions -retracted: plain %q, exec %q", plain.stdout, under.stdout)
	}
}

// TestExecGraph: go mod tidy (with no go.sum: every hash from the checksum
// database through the server), go mod download all and go build reach
// the same end state under exec as without it, and then work offline.
func TestExecGraph(t *testing.T) {
	g, err := modnettest.GenerateGraph(modnettest.GraphConfig{Seed: 21, Modules: 10, ZipBytes: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	_, env := stub(t, g.Modules...)
	p := newPair(t, env...)
	p.write(map[string]string{"go.mod": g.GoMod, "main.go": g.MainGo})
	p.run("mod", "tidy")
	if data, _ := os.ReadFile(filepath.Join(p.exec.Dir, "go.sum")); string(data) != g.GoSum {
		t.Errorf("go.sum after tidy under exec:\n%s\nwant:\n%s", data, g.GoSum)
	}
	p.run("build", "./...")
	p.run("mod", "download", "all")
	p.exec.Env = append(p.exec.Env, "GOPROXY=off")
	p.exec.MustRun("build", "./...")
}

// privateFixture is a private module, vanity.modkit.test/priv, in a git
// repository behind a go-import tag on a fake network, with a tagged
// release, a branch and a later commit on main; and a public stub.
type privateFixture struct {
	env       []string
	public    *modnettest.Server
	net       *testenv.Net
	dev, head string // commit hashes
}

func newPrivateFixture(t *testing.T) *privateFixture {
	t.Helper()
	git := testenv.NewGitServer(t)
	n := testenv.NewNet(t)
	n.HandleHTTPS("vanity.modkit.test", testenv.GoImport("vanity.modkit.test/priv git https://"+testenv.GitHost+"/priv"))
	r := git.Repo("priv")
	r.Commit("2023-01-01T00:00:00Z", map[string]string{"go.mod": "module vanity.modkit.test/priv\n\ngo 1.21\n\nrequire example.com/q v1.0.0\n", "priv.go": "package priv\n\nimport _ \"example.com/q\"\n"})
	r.Git("", "tag", "v1.0.0")
	r.Git("", "checkout", "-q", "-b", "dev")
	f := &privateFixture{dev: r.Commit("2023-02-01T00:00:00Z", map[string]string{"dev.go": "package priv\n\nconst Dev = 1\n"})}
	r.Git("", "checkout", "-q", "main")
	f.head = r.Commit("2023-03-01T00:00:00Z", map[string]string{"head.go": "package priv\n\nconst Head = 1\n"})
	srv, env := stub(t, queryModules...)
	f.public, f.net = srv, n
	f.env = append(append(append(env, n.GoEnv()...), git.Env()...), "GOPRIVATE=vanity.modkit.test")
	return f
}

// TestExecDirectPrivate: a GOPRIVATE module is fetched direct by the
// server, from git, and ends the same under exec as without it, for a
// release, a branch and a commit (which resolve to pseudo-versions); its
// path never reaches the public proxy or the checksum database.
func TestExecDirectPrivate(t *testing.T) {
	f := newPrivateFixture(t)
	p := newPair(t, f.env...)
	p.write(map[string]string{"go.mod": "module example.com/main\n\ngo 1.21\n", "main.go": "package main\n\nimport _ \"vanity.modkit.test/priv\"\n\nfunc main() {}\n"})
	p.run("get", "vanity.modkit.test/priv@v1.0.0")
	p.run("get", "vanity.modkit.test/priv@dev")
	p.run("get", "vanity.modkit.test/priv@"+f.head[:12])
	p.run("mod", "tidy")
	if data, _ := os.ReadFile(filepath.Join(p.exec.Dir, "go.mod")); !strings.Contains(string(data), "vanity.modkit.test/priv v1.0.1-0.20230301000000-"+f.head[:12]) {
		t.Errorf("go.mod after go get @%s:\n%s", f.head[:12], data)
	}
	p.run("build", "./...")
	for _, r := range f.public.Requests() {
		if strings.Contains(r.Path, "vanity") {
			t.Errorf("a private path reached the public proxy or the checksum database: %s", r)
		}
	}
}

// TestExecChecksumDB: with no go.sum line, the go command reads the
// checksum database through the server, whether GOSUMDB names its URL
// (which bypasses proxies, so exec gives the go command the key alone) or
// not, and verifies what it reads: a database that lies still fails the
// go command, with its own security error.
func TestExecChecksumDB(t *testing.T) {
	for _, tt := range []struct {
		name string
		mode modnettest.SumDBMode
		url  bool
		want string // in both commands' errors
	}{
		{"honest, named URL", modnettest.SumDBHonest, true, ""},
		{"honest, through the proxy", modnettest.SumDBHonest, false, ""},
		{"wrong hash", modnettest.SumDBWrongHash, true, "SECURITY ERROR"},
		{"tampered record", modnettest.SumDBTamperedRecord, false, "cannot authenticate record data"},
		{"bad signature", modnettest.SumDBBadSignature, true, "verifying"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, env := stub(t, queryModules...)
			if !tt.url {
				env[1] = "GOSUMDB=" + srv.SumDB().Key()
			}
			srv.SumDB().SetMode(tt.mode)
			p := newPair(t, env...)
			p.write(map[string]string{"go.mod": "module example.com/main\n\ngo 1.21\n"})
			srv.ResetRequests()
			plain, under := p.run("get", "example.com/q@v1.2.1")
			lookups := 0
			for _, r := range srv.Requests() {
				if r.Kind == modnettest.KindSumDB && strings.Contains(r.Path, "/lookup/") {
					lookups++
				}
			}
			if lookups < 2 {
				t.Errorf("%d lookups reached the database, want one from each command:\n%s", lookups, srv.Requests())
			}
			if tt.want == "" {
				if under.err != nil {
					t.Errorf("under exec: %s", under)
				}
				return
			}
			// The go command's own verdict, word for word.
			if !strings.Contains(plain.stderr, tt.want) || under.stderr != plain.stderr {
				t.Errorf("want the same error, with %q:\nplain %s\nexec %s", tt.want, plain, under)
			}
		})
	}
}

// TestExecEnvironment: what the go command sees under exec: the server as
// GOPROXY, no credentials, and the checksum database decisions it would
// make without exec.
func TestExecEnvironment(t *testing.T) {
	srv, env := stub(t)
	vars := []string{"GOPROXY", "GONOPROXY", "GONOSUMDB", "GOPRIVATE", "GOAUTH", "GOSUMDB", "GOFLAGS", "GOWORK"}
	for _, tt := range []struct {
		name string
		kv   []string
		want map[string]string // where exec differs from plain
	}{
		{"public", nil, map[string]string{"GOAUTH": "off", "GOSUMDB": srv.SumDB().Key()}},
		{"private", []string{"GOPRIVATE=corp.example.com", "GOFLAGS=-mod=mod"},
			map[string]string{"GOAUTH": "off", "GOSUMDB": srv.SumDB().Key(), "GONOPROXY": "none"}},
		{"sumdb through the proxy", []string{"GOSUMDB=" + srv.SumDB().Key(), "GONOSUMDB=corp.example.com/x"},
			map[string]string{"GOAUTH": "off"}},
		{"sumdb off", []string{"GOSUMDB=off", "GOAUTH=netrc"}, map[string]string{"GOAUTH": "off"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := testenv.NewGo(t, append(env, tt.kv...)...)
			plain := strings.Split(g.MustRun(append([]string{"env"}, vars...)...), "\n")
			under := execGo(t, g, nil, append([]string{"env"}, vars...)...)
			if under.err != nil || under.stderr != "" {
				t.Fatalf("go env under exec: %s", under)
			}
			got := strings.Split(under.stdout, "\n")
			for i, name := range vars {
				want := plain[i]
				if w, ok := tt.want[name]; ok {
					want = w
				}
				if name == "GOPROXY" {
					if !strings.HasPrefix(got[i], "http://127.0.0.1:") || len(got[i]) < len("http://127.0.0.1:1/")+26 {
						t.Errorf("GOPROXY=%q, want the server with a secret prefix", got[i])
					}
					continue
				}
				if got[i] != want {
					t.Errorf("%s=%q under exec, want %q (plain: %q)", name, got[i], want, plain[i])
				}
			}
		})
	}
}

// TestExecExitStatus: the command's exit status, and the signal that
// killed it, are modfetch's; signals sent to modfetch reach it.
func TestExecExitStatus(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	g := testenv.NewGo(t)
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"sh", "-c", "exit 3"}, 3},
		{[]string{"sh", "-c", "exit 0"}, 0},
		{[]string{"no-such-command-modkit"}, 127},
		{[]string{os.DevNull}, 126},
	} {
		r := runCommand(modfetchCmd(t, g, append([]string{"exec", "--"}, tt.args...)...))
		var ee *exec.ExitError
		code := 0
		if errors.As(r.err, &ee) {
			code = ee.ExitCode()
		}
		if code != tt.code {
			t.Errorf("exec %q: exit %d, want %d\n%s", tt.args, code, tt.code, r)
		}
	}
	checkSignals(t, g)
}

// TestExecFaults: where the first request for every file fails, the go
// command fails, and under exec it succeeds with the end state of a run
// without faults, and says in one line what it did upstream. Without
// faults exec prints nothing; with -v it prints each request.
//
// What the line counts depends on the machine's load: a slow answer is
// hedged, and a hedge that wins spares the retry of the request it
// doubled. So the line's shape is checked, with no failure and at least
// one retry, hedge or resume, which the faults make certain, rather than
// which of them.
func TestExecFaults(t *testing.T) {
	g, err := modnettest.GenerateGraph(modnettest.GraphConfig{Seed: 8, Modules: 8, ZipBytes: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	srv, env := stub(t, g.Modules...)
	faults := modnettest.Faults{Rules: []modnettest.Rule{
		{Kind: modnettest.KindMod, First: 1, Fault: modnettest.Reset()},
		{Kind: modnettest.KindZip, First: 1, Fault: modnettest.Cut(modnettest.Half)},
		{Kind: modnettest.KindInfo, First: 1, Fault: modnettest.Status(503)},
	}}
	p := newPair(t, env...)
	for _, d := range []string{p.plain.Dir, p.exec.Dir} {
		if err := g.WriteMain(d); err != nil {
			t.Fatal(err)
		}
	}
	srv.SetFaults(faults)
	if out, stderr, err := p.plain.Run("mod", "download", "all"); err == nil {
		t.Fatalf("plain go mod download all succeeded through the faults:\n%s%s", out, stderr)
	}
	srv.SetFaults(faults)
	under := execGo(t, p.exec, nil, "mod", "download", "all")
	if under.err != nil {
		t.Fatalf("under exec: %s", under)
	}
	if m := summaryLine.FindStringSubmatch(under.stderr); m == nil {
		t.Errorf("stderr %q, want one summary line with no failure", under.stderr)
	} else if atoi(m[1])+atoi(m[2])+atoi(m[3]) == 0 {
		t.Errorf("summary %q: nothing retried, hedged or resumed through the faults", m[0])
	}
	srv.SetFaults(modnettest.Faults{})
	if err := os.RemoveAll(p.plain.ModCache()); err != nil {
		t.Fatal(err)
	}
	p.plain.MustRun("mod", "download", "all")
	p.same("mod download all")

	// Nothing went wrong: nothing printed.
	q := testenv.NewGo(t, env...)
	if err := g.WriteMain(q.Dir); err != nil {
		t.Fatal(err)
	}
	if r := execGo(t, q, nil, "mod", "download", "all"); r.err != nil || r.stderr != "" {
		t.Errorf("without faults: %s\nwant success and nothing on stderr", r)
	}
	v := execGo(t, q, []string{"-v"}, "list", "-m", "-versions", g.BuildList[0].Path)
	if v.err != nil || !strings.Contains(v.stderr, "modfetch: GET /"+g.BuildList[0].Path+"/@v/list 200 ") ||
		!strings.Contains(v.stderr, "modfetch exec: ") {
		t.Errorf("-v: %s\nwant each request and the summary", v)
	}
}

// summaryLine is exec's stderr when something went wrong upstream and
// nothing failed: the summary alone, with its retries (and their classes),
// hedges and resumes.
var summaryLine = regexp.MustCompile(`^modfetch exec: \d+ requests, 0 failed(?:, \d+ answered from \d+ files read ahead)?; ` +
	`upstream: (\d+) retries(?: \((?:\d+ [a-z0-9-]+(?:, )?)+\))?, (\d+) hedges, (\d+) resumes\n$`)

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// TestExecWorkspaceAndModMod: go work sync in a workspace, go test, and a
// go build that GOFLAGS=-mod=mod lets add a missing requirement, end the
// same under exec.
func TestExecWorkspaceAndModMod(t *testing.T) {
	_, env := stub(t, queryModules...)
	p := newPair(t, append(env, "GOFLAGS=-modcacherw -mod=mod")...)
	p.write(map[string]string{"go.mod": "module example.com/main\n\ngo 1.21\n", "main.go": "package main\n\nimport _ \"example.com/q\"\n\nfunc main() {}\n",
		"main_test.go": "package main\n\nimport \"testing\"\n\nfunc TestNothing(t *testing.T) {}\n"})
	p.run("build", "./...")
	p.run("test", "./...")

	w := newPair(t, env...)
	for _, g := range []*testenv.Go{w.plain, w.exec} {
		for dir, gomod := range map[string]string{"a": "module example.com/a\n\ngo 1.21\n\nrequire example.com/q v1.0.0\n", "b": "module example.com/b\n\ngo 1.21\n\nrequire example.com/q v1.2.1\n"} {
			if err := os.MkdirAll(filepath.Join(g.Dir, dir), 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(g.Dir, dir, "go.mod"), []byte(gomod), 0o666); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.write(map[string]string{"go.work": "go 1.21\n\nuse (\n\t./a\n\t./b\n)\n"})
	w.run("work", "sync")
	for _, f := range []string{"a/go.mod", "b/go.mod", "go.work.sum"} {
		a, _ := os.ReadFile(filepath.Join(w.plain.Dir, f))
		b, _ := os.ReadFile(filepath.Join(w.exec.Dir, f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s after go work sync: plain\n%s\nexec\n%s", f, a, b)
		}
	}
}

// TestCommandDir: read-ahead looks at the module the command works in.
func TestCommandDir(t *testing.T) {
	wd, _ := os.Getwd()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"go", "mod", "tidy"}, wd},
		{[]string{"go", "-C", "sub", "mod", "tidy"}, filepath.Join(wd, "sub")},
		{[]string{"/usr/local/go/bin/go", "-C=/abs", "build"}, "/abs"},
		{[]string{"make", "-C", "sub"}, wd},
		{[]string{"go", "-C"}, wd},
	} {
		if got := commandDir(tt.args); got != tt.want {
			t.Errorf("commandDir(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

// TestExecFallsBackPerLookup: the go command falls back from one GOPROXY
// entry to the next per lookup, not per module path. Resolving the import
// example.com/lib/sub, it asks the first proxy about example.com/lib/sub,
// example.com/lib and example.com at once; the proxy serves example.com/lib
// and answers "not found" for the others, and the second entry, failing
// everything, is never asked. Under exec the same must hold: were the
// server to walk the list for each path, example.com/lib/sub would reach
// the failing entry and the command would fail with its error.
func TestExecFallsBackPerLookup(t *testing.T) {
	lib := modnettest.Module{Path: "example.com/lib", Version: "v1.0.0", Files: map[string]string{"sub/sub.go": "package sub\n"}}
	only := modnettest.Module{Path: "example.com/only", Version: "v1.1.0", Files: map[string]string{"only.go": "package only\n"}}
	first, _ := stub(t, lib)
	second, _ := stub(t, only)
	var failing atomic.Int64
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		failing.Add(1)
		http.Error(w, "the second proxy is down", http.StatusInternalServerError)
	}))
	t.Cleanup(broken.Close)
	main := "package main\n\nimport (\n\t_ \"example.com/lib/sub\"\n\t_ \"example.com/only\"\n)\n\nfunc main() {}\n"
	for _, tt := range []struct {
		name, goproxy string
	}{
		// example.com/only is on the second proxy alone: the first's "not
		// found" moves the go command on, for that lookup only.
		{"comma", first.URL + "," + second.URL + "," + broken.URL},
		{"pipe", first.URL + "|" + second.URL + "|" + broken.URL},
	} {
		t.Run(tt.name, func(t *testing.T) {
			failing.Store(0)
			first.ResetRequests()
			second.ResetRequests()
			// The checksum database has no record of these modules: go.sum
			// comes from the proxies alone, as GONOSUMDB says.
			p := newPair(t, "GOPROXY="+tt.goproxy, "GONOSUMDB=example.com", "GOSUMDB="+first.SumDB().GOSUMDB())
			p.write(map[string]string{"go.mod": "module example.com/main\n\ngo 1.21\n", "main.go": main})
			plain, under := p.run("mod", "tidy")
			if under.err != nil {
				t.Fatalf("go mod tidy under exec: %s\nplain: %s", under, plain)
			}
			if data, _ := os.ReadFile(filepath.Join(p.exec.Dir, "go.mod")); !strings.Contains(string(data), "example.com/lib v1.0.0") || !strings.Contains(string(data), "example.com/only v1.1.0") {
				t.Errorf("go.mod under exec:\n%s", data)
			}
			if n := failing.Load(); n != 0 {
				t.Errorf("%d requests reached the failing third entry; the go command never asks it", n)
			}
			for _, r := range second.Requests() {
				if strings.Contains(r.Path, "example.com/lib") {
					t.Errorf("the second proxy was asked about what the first serves: %s", r)
				}
			}
		})
	}
}
