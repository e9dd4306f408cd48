package envcheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
)

// insteadOfFixture is a module requiring two private modules whose
// go-import tags name https repositories on git.corp.test, and a git
// configuration whose insteadOf rules send one to a local repository and
// the other to ssh, where a fake ssh fails as the real one does in batch
// mode.
type insteadOfFixture struct {
	n       *netFixture
	modDir  string
	vars    map[string]string
	sshLog  string
	goodURL string
}

func newInsteadOfFixture(t *testing.T, sshFailure string) *insteadOfFixture {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the fake ssh is a shell script")
	}
	f := &insteadOfFixture{n: newNet(t), modDir: t.TempDir()}
	f.n.HandleHTTPS("git.corp.test", testenv.GoImport(
		"git.corp.test/good git https://git.corp.test/good",
		"git.corp.test/ssh git https://git.corp.test/ssh",
		"git.corp.test/plain git https://git.corp.test/plain"))
	writeFile(t, filepath.Join(f.modDir, "go.mod"), "module example.test/m\n\ngo 1.21\n\nrequire (\n\tgit.corp.test/good v1.0.0\n\tgit.corp.test/ssh v1.0.0\n\tgit.corp.test/plain v1.0.0\n\texample.com/public v1.0.0\n)\n")

	// The repository the rule for good sends it to: a local one.
	repo := testenv.NewGitRepo(t, t.TempDir())
	repo.Commit("", nil)
	f.goodURL = "file://" + repo.Dir
	home := t.TempDir()
	gitconfig := filepath.Join(home, ".gitconfig")
	writeFile(t, gitconfig, "[url \""+f.goodURL+"\"]\n\tinsteadOf = https://git.corp.test/good\n"+
		"[url \"git@127.0.0.1:corp/\"]\n\tinsteadOf = https://git.corp.test/\n")
	bin := t.TempDir()
	f.sshLog = filepath.Join(t.TempDir(), "ssh.log")
	writeFile(t, filepath.Join(bin, "ssh"), "#!/bin/sh\necho \"$*\" >> "+f.sshLog+"\necho '"+sshFailure+"' >&2\nexit 255\n")
	os.Chmod(filepath.Join(bin, "ssh"), 0o755)
	f.vars = vars("GOPRIVATE", "git.corp.test", "HTTPS_PROXY", f.n.ProxyURL(), "HOME", home,
		"GIT_CONFIG_GLOBAL", gitconfig, "GIT_CONFIG_NOSYSTEM", "1",
		"PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return f
}

func (f *insteadOfFixture) run(t *testing.T) Result {
	t.Helper()
	env, _ := probeEnv(t, f.vars)
	opts := f.n.options(env)
	opts.ModFile = f.modDir
	return runOne(t, "direct.insteadof", opts)
}

func TestProbeInsteadOf(t *testing.T) {
	for _, tc := range []struct {
		name, sshFailure string
		want             []string // in the summary, details and fix
	}{
		{"host key", "Host key verification failed.", []string{
			"git.corp.test/ssh: the insteadOf rule xxxxx@127.0.0.1:corp/ insteadOf https://git.corp.test/ sends https://git.corp.test/ssh to xxxxx@127.0.0.1:corp/ssh, where git fails: Host key verification failed.",
			"fix: add the host's key to ~/.ssh/known_hosts (check its fingerprint: ssh-keyscan 127.0.0.1 | ssh-keygen -lf -)",
			"git.corp.test/good: insteadOf rule",
			"which answers without a prompt",
		}},
		{"publickey", "git@127.0.0.1: Permission denied (publickey).", []string{
			"where git fails: xxxxx@127.0.0.1: Permission denied (publickey).",
			"fix: load a key the host accepts into ssh-agent (ssh-add), or use https with a token",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newInsteadOfFixture(t, tc.sshFailure)
			res := f.run(t)
			if res.Status != StatusError {
				t.Fatalf("status %s: %s %v", res.Status, res.Summary, res.Details)
			}
			all := res.Summary + "\n" + strings.Join(res.Details, "\n") + "\nfix: " + res.Fix
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("result lacks %q:\n%s", w, all)
				}
			}
			// plain takes the ssh rule too, but is another repository.
			if !strings.Contains(all, "git.corp.test/plain: the insteadOf rule") {
				t.Errorf("plain's repository not checked:\n%s", all)
			}
			log, _ := os.ReadFile(f.sshLog)
			if !strings.Contains(string(log), "BatchMode=yes") || strings.Contains(all, "example.com/public") {
				t.Errorf("ssh ran as %q; result:\n%s", log, all)
			}

			// The go command, given the same, fails where the check says
			// it does, on ssh's complaint, and gets past the good rule.
			if testing.Short() || testenv.GOROOT() == "" {
				return
			}
			for mod, want := range map[string]string{"git.corp.test/ssh": tc.sshFailure, "git.corp.test/good": "unknown revision v1.0.0"} {
				extra := append(f.n.GoEnv(), "GOPROXY=direct", "GOSUMDB=off", "GOTOOLCHAIN=local")
				for k, v := range f.vars {
					extra = append(extra, k+"="+v)
				}
				out, err := goCommand(t, extra, "mod", "download", mod+"@v1.0.0").CombinedOutput()
				if err == nil || !strings.Contains(string(out), want) {
					t.Errorf("go mod download %s: %v, want a failure saying %q:\n%s", mod, err, want, out)
				}
			}
		})
	}

	t.Run("all good", func(t *testing.T) {
		f := newInsteadOfFixture(t, "unused")
		writeFile(t, filepath.Join(f.modDir, "go.mod"), "module example.test/m\n\ngo 1.21\n\nrequire git.corp.test/good v1.0.0\n")
		res := f.run(t)
		if res.Status != StatusOK || res.Summary != "1 insteadOf rules reach their hosts and authenticate without a prompt" {
			t.Errorf("%s %q %v", res.Status, res.Summary, res.Details)
		}
	})
	t.Run("no private requirement", func(t *testing.T) {
		f := newInsteadOfFixture(t, "unused")
		writeFile(t, filepath.Join(f.modDir, "go.mod"), "module example.test/m\n\ngo 1.21\n\nrequire example.com/public v1.0.0\n")
		if res := f.run(t); res.Status != StatusSkip {
			t.Errorf("%s %q", res.Status, res.Summary)
		}
	})
}
