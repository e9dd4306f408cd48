package modnet

import (
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// A gitServer serves the git repositories under root over git's smart
// HTTP protocol ('git http-backend' behind net/http/cgi) on loopback.
// Clients reach it through a git configuration file whose insteadOf rules
// map https://git.modkit.test/ (and http://) to the server, so repository
// URLs in go-import tags look like real ones.
type gitServer struct {
	t         testing.TB
	root      string
	srv       *httptest.Server
	home      string // HOME for git commands, with the insteadOf config
	gitconfig string // GIT_CONFIG_GLOBAL
	requests  atomic.Int64
}

// requireGit skips the test when git (with http-backend) is missing.
func requireGit(t testing.TB) string {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not found on PATH; direct mode tests need git")
	}
	out, err := exec.Command(git, "--exec-path").Output()
	if err != nil {
		t.Skipf("git --exec-path: %v", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		t.Skipf("git-http-backend not found (%v); direct mode tests need it", err)
	}
	return backend
}

func newGitServer(t testing.TB) *gitServer {
	t.Helper()
	backend := requireGit(t)
	s := &gitServer{t: t, root: t.TempDir(), home: t.TempDir()}
	h := &cgi.Handler{
		Path: backend,
		Env: []string{
			"GIT_PROJECT_ROOT=" + s.root, "GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1", "HOME=" + s.home,
		},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if _, err := os.Stat(filepath.Join(s.root, strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0])); err != nil {
			http.NotFound(w, r) // http-backend would answer 404 too, but slower
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	s.gitconfig = writeFile(t, filepath.Join(s.home, ".gitconfig"),
		"[url \""+s.srv.URL+"/\"]\n\tinsteadOf = https://git.modkit.test/\n\tinsteadOf = http://git.modkit.test/\n")
	return s
}

// environ is the environment for git and the go command: PATH, a fresh
// HOME and only the test's git configuration.
func (s *gitServer) environ() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + s.home,
		"GIT_CONFIG_GLOBAL=" + s.gitconfig, "GIT_CONFIG_NOSYSTEM=1",
	}
}

// A testRepo is a work tree served by a gitServer.
type testRepo struct {
	t   testing.TB
	dir string
}

// repo creates an empty repository named name, with branch main.
func (s *gitServer) repo(name string) *testRepo {
	r := &testRepo{t: s.t, dir: filepath.Join(s.root, name)}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		s.t.Fatal(err)
	}
	r.git("", "init", "-q", "-b", "main")
	return r
}

// git runs git in the work tree; date, if not empty, is the author and
// committer date, so that commits (and so hashes and pseudo-versions) are
// the same in every run.
func (r *testRepo) git(date string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + r.dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=Modkit Test", "GIT_AUTHOR_EMAIL=test@modkit.test",
		"GIT_COMMITTER_NAME=Modkit Test", "GIT_COMMITTER_EMAIL=test@modkit.test",
	}
	if date != "" {
		cmd.Env = append(cmd.Env, "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (an empty content with a "-" key prefix deletes
// the file) and commits them at date, returning the commit hash.
func (r *testRepo) commit(date string, files map[string]string) string {
	r.t.Helper()
	for name, data := range files {
		if del, ok := strings.CutPrefix(name, "-"); ok {
			r.git("", "rm", "-q", "--", del)
			continue
		}
		p := filepath.Join(r.dir, filepath.FromSlash(name))
		if link, ok := strings.CutPrefix(data, "symlink:"); ok {
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.Symlink(link, p); err != nil {
				r.t.Fatal(err)
			}
		} else {
			writeFile(r.t, p, data)
		}
	}
	r.git("", "add", "-A")
	r.git(date, "commit", "-q", "--allow-empty", "-m", "commit at "+date)
	return r.git("", "rev-parse", "HEAD")
}

// tag tags HEAD; annotated tags get a message (and their own object).
func (r *testRepo) tag(name string, annotated bool) {
	r.t.Helper()
	if annotated {
		r.git("2020-01-01T00:00:00Z", "tag", "-a", "-m", "release "+name, name)
		return
	}
	r.git("", "tag", name)
}
