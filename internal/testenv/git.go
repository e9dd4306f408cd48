package testenv

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

// A GitServer serves the git repositories under Root over git's smart
// HTTP protocol ('git http-backend' behind net/http/cgi) on loopback.
// Clients reach it through a git configuration file whose insteadOf rules
// map https://git.modkit.test/ (and http://) to the server, so repository
// URLs in go-import tags look like real ones.
type GitServer struct {
	Root      string // the repositories, one directory each
	Home      string // HOME for git commands, with the insteadOf configuration
	GitConfig string // that configuration, for GIT_CONFIG_GLOBAL
	URL       string // the server's base URL

	t        testing.TB
	requests atomic.Int64
}

// RequireGit returns the path of git's http-backend, or skips t when git
// or its http backend is missing.
func RequireGit(t testing.TB) string {
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

// NewGitServer starts a GitServer with no repositories, closed when the
// test ends.
func NewGitServer(t testing.TB) *GitServer {
	t.Helper()
	backend := RequireGit(t)
	s := &GitServer{t: t, Root: t.TempDir(), Home: t.TempDir()}
	h := &cgi.Handler{
		Path: backend,
		Env: []string{
			"GIT_PROJECT_ROOT=" + s.Root, "GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1", "HOME=" + s.Home,
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if _, err := os.Stat(filepath.Join(s.Root, strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0])); err != nil {
			http.NotFound(w, r) // http-backend would answer 404 too, but slower
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	s.GitConfig = filepath.Join(s.Home, ".gitconfig")
	config := "[url \"" + s.URL + "/\"]\n\tinsteadOf = https://git.modkit.test/\n\tinsteadOf = http://git.modkit.test/\n"
	if err := os.WriteFile(s.GitConfig, []byte(config), 0o666); err != nil {
		t.Fatal(err)
	}
	return s
}

// Requests is how many requests the server has received.
func (s *GitServer) Requests() int64 { return s.requests.Load() }

// Environ is the environment for git and the go command: PATH, a fresh
// HOME and only the test's git configuration.
func (s *GitServer) Environ() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + s.Home,
		"GIT_CONFIG_GLOBAL=" + s.GitConfig, "GIT_CONFIG_NOSYSTEM=1",
	}
}

// A GitRepo is a work tree served by a GitServer, as
// https://git.modkit.test/<name>.
type GitRepo struct {
	Dir string

	t testing.TB
}

// Repo creates an empty repository named name, with branch main.
func (s *GitServer) Repo(name string) *GitRepo {
	r := &GitRepo{t: s.t, Dir: filepath.Join(s.Root, name)}
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		s.t.Fatal(err)
	}
	r.Git("", "init", "-q", "-b", "main")
	return r
}

// Git runs git in the work tree and returns its trimmed output; date, if
// not empty, is the author and committer date, so that commits (and so
// hashes and pseudo-versions) are the same in every run.
func (r *GitRepo) Git(date string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + r.Dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
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

// Commit writes files (a "-" key prefix deletes the file; a "symlink:"
// content prefix makes a symbolic link) and commits them at date,
// returning the commit hash.
func (r *GitRepo) Commit(date string, files map[string]string) string {
	r.t.Helper()
	for name, data := range files {
		if del, ok := strings.CutPrefix(name, "-"); ok {
			r.Git("", "rm", "-q", "--", del)
			continue
		}
		p := filepath.Join(r.Dir, filepath.FromSlash(name))
		if link, ok := strings.CutPrefix(data, "symlink:"); ok {
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.Symlink(link, p); err != nil {
				r.t.Fatal(err)
			}
		} else {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				r.t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				r.t.Fatal(err)
			}
		}
	}
	r.Git("", "add", "-A")
	r.Git(date, "commit", "-q", "--allow-empty", "-m", "commit at "+date)
	return r.Git("", "rev-parse", "HEAD")
}

// Tag tags HEAD; annotated tags get a message (and their own object).
func (r *GitRepo) Tag(name string, annotated bool) {
	r.t.Helper()
	if annotated {
		r.Git("2020-01-01T00:00:00Z", "tag", "-a", "-m", "release "+name, name)
		return
	}
	r.Git("", "tag", name)
}
