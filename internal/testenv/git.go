package testenv

import (
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// GitHost is the host repository URLs name.
const GitHost = "git.modkit.test"

// A GitServer serves the git repositories under Root over git's smart
// HTTP protocol ('git http-backend' behind net/http/cgi) on loopback. git,
// and the go command through it, reach a repository named name at
// https://git.modkit.test/name (or http://): the git configuration in
// [GitServer.Env] rewrites that URL to the server (insteadOf), so that
// repository URLs in go-import tags look like real ones.
type GitServer struct {
	URL    string // the server's own address, http://127.0.0.1:port
	Config string // the global git configuration with the insteadOf rules
	Root   string // the repositories, one directory each
	Home   string // a HOME for git commands

	t testing.TB
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
// test ends; it skips t when git or its http-backend is missing.
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
		if _, err := os.Stat(filepath.Join(s.Root, strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0])); err != nil {
			http.NotFound(w, r) // http-backend would answer 404 too, but slower
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	s.Config = filepath.Join(s.Home, ".gitconfig")
	rules := "[url \"" + s.URL + "/\"]\n\tinsteadOf = https://" + GitHost + "/\n\tinsteadOf = http://" + GitHost + "/\n"
	if err := os.WriteFile(s.Config, []byte(rules), 0o666); err != nil {
		t.Fatal(err)
	}
	return s
}

// Env is the environment ("KEY=value") under which git and the go
// command use only the server's configuration.
func (s *GitServer) Env() []string {
	return []string{"GIT_CONFIG_GLOBAL=" + s.Config, "GIT_CONFIG_NOSYSTEM=1"}
}

// A GitRepo is a work tree the server serves.
type GitRepo struct {
	Dir string

	t testing.TB
}

// Repo creates an empty repository called name, on branch main.
func (s *GitServer) Repo(name string) *GitRepo {
	s.t.Helper()
	return NewGitRepo(s.t, filepath.Join(s.Root, name))
}

// NewGitRepo creates an empty repository in dir, on branch main, for a
// test that needs no server (a file:// URL, a repository's own
// configuration); it skips t when git is missing.
func NewGitRepo(t testing.TB, dir string) *GitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found on PATH")
	}
	r := &GitRepo{t: t, Dir: dir}
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		t.Fatal(err)
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
		"PATH=" + os.Getenv("PATH"), "HOME=" + r.Dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull,
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

// Commit writes files (slash-separated names; a "-" prefix deletes the
// file, a "symlink:" content prefix makes a symbolic link) and commits
// them at date, returning the commit hash.
func (r *GitRepo) Commit(date string, files map[string]string) string {
	r.t.Helper()
	for name, data := range files {
		if del, ok := strings.CutPrefix(name, "-"); ok {
			r.Git("", "rm", "-q", "--", del)
			continue
		}
		p := filepath.Join(r.Dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			r.t.Fatal(err)
		}
		if link, ok := strings.CutPrefix(data, "symlink:"); ok {
			if err := os.Symlink(link, p); err != nil {
				r.t.Fatal(err)
			}
		} else if err := os.WriteFile(p, []byte(data), 0o666); err != nil {
			r.t.Fatal(err)
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

// GoImport is a handler that answers every ?go-get=1 request with
// go-import meta tags, each "prefix vcs repo-url", as a module path's host
// does, and other requests with 404.
func GoImport(tags ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("go-get") != "1" {
			http.NotFound(w, r)
			return
		}
		var b strings.Builder
		b.WriteString("<!DOCTYPE html>\n<html><head>\n")
		for _, tag := range tags {
			b.WriteString(`<meta name="go-import" content="` + tag + `">` + "\n")
		}
		b.WriteString("</head><body>go get</body></html>\n")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(b.String()))
	})
}
