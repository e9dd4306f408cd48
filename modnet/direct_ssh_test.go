package modnet

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet/internal/codehost"
)

// sshFixture is a vanity host whose go-import tag names an https
// repository, and a git configuration whose insteadOf rule sends that URL
// to ssh on loopback, as a company's configuration sends its repositories
// to ssh. The "ssh" on PATH is a fake that logs its arguments and, as the
// real one does, fails at once in batch mode and otherwise asks a question
// (here it answers "no" itself, where the real one would wait).
type sshFixture struct {
	net       *testenv.Net
	home      string
	gitconfig string
	bin       string // directory of the fake ssh
	log       string // the fake ssh's log
	sshURL    string // where the insteadOf rule sends the repository
}

const sshModule = "vanity.modkit.test/private"

// fakeSSH logs its arguments; in batch mode it prints $SSH_FAIL (a host key
// failure by default) and exits 255; otherwise it logs PROMPT first.
const fakeSSH = `#!/bin/sh
echo "ssh $*" >> "$SSH_LOG"
case "$*" in
*BatchMode=yes*) ;;
*) echo PROMPT >> "$SSH_LOG"
   echo "The authenticity of host '127.0.0.1' can't be established." >&2
   echo "Are you sure you want to continue connecting (yes/no/[fingerprint])? no" >&2 ;;
esac
echo "${SSH_FAIL:-Host key verification failed.}" >&2
exit 255
`

func newSSHFixture(t *testing.T, sshURL string) *sshFixture {
	t.Helper()
	testenv.RequireGit(t)
	if runtime.GOOS == "windows" {
		t.Skip("the fake ssh is a shell script")
	}
	f := &sshFixture{net: testenv.NewNet(t), home: t.TempDir(), bin: t.TempDir(), sshURL: sshURL}
	f.log = filepath.Join(t.TempDir(), "ssh.log")
	f.net.HandleHTTPS("vanity.modkit.test", testenv.GoImport(sshModule+" git https://git.modkit.test/private"))
	f.gitconfig = writeFile(t, filepath.Join(f.home, ".gitconfig"),
		"[url \""+sshURL+"\"]\n\tinsteadOf = https://git.modkit.test/private\n")
	if err := os.WriteFile(filepath.Join(f.bin, "ssh"), []byte(fakeSSH), 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

// vars are the variables both the go command and modkit get, plus kv.
func (f *sshFixture) vars(kv ...string) []string {
	return append([]string{
		"PATH", f.bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME", f.home,
		"GIT_CONFIG_GLOBAL", f.gitconfig, "GIT_CONFIG_NOSYSTEM", "1", "SSH_LOG", f.log,
		"GOPROXY", "direct", "GOSUMDB", "off",
	}, kv...)
}

func (f *sshFixture) client(t *testing.T, kv ...string) *Client {
	t.Helper()
	env := testEnv(t, append(f.vars(kv...), "GOMODCACHE", filepath.Join(t.TempDir(), "modcache"))...)
	hc := fastRetry()
	hc.Transport = f.net.Client().Transport
	c := &Client{Env: env, HTTP: hc}
	t.Cleanup(func() { c.Close() })
	return c
}

// goDownload runs 'go mod download' of the module with the fixture's
// settings and returns its error output.
func (f *sshFixture) goDownload(t *testing.T, kv ...string) string {
	t.Helper()
	g := testenv.NewGo(t, f.net.GoEnv()...)
	vars := f.vars(kv...)
	for i := 0; i+1 < len(vars); i += 2 {
		g.Env = append(g.Env, vars[i]+"="+vars[i+1])
	}
	out, err := g.Command("mod", "download", sshModule+"@v1.0.0").CombinedOutput()
	if err == nil {
		t.Fatalf("go mod download succeeded through the failing ssh:\n%s", out)
	}
	return string(out)
}

// takeLog returns the fake ssh's log and empties it.
func (f *sshFixture) takeLog(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(f.log)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	os.Remove(f.log)
	return string(data)
}

// TestDirectSSHDoesNotPrompt compares direct mode with the go command when
// an insteadOf rule sends a module's repository to ssh: the go command's
// ssh would prompt (for a host key, a passphrase), modkit's runs in batch
// mode with a connect timeout, and its error names the host, the rule and
// the fix. When the user chose the ssh command, both run exactly that.
func TestDirectSSHDoesNotPrompt(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	f := newSSHFixture(t, "ssh://git@127.0.0.1:2222/private")
	ctx := context.Background()

	for _, tc := range []struct {
		name    string
		fail    string // what the fake ssh says in batch mode
		wantFix string
	}{
		{"host key", "Host key verification failed.", "add the host's key to ~/.ssh/known_hosts (check its fingerprint: ssh-keyscan 127.0.0.1 | ssh-keygen -lf -)"},
		{"publickey", "git@127.0.0.1: Permission denied (publickey).", "load a key the host accepts into ssh-agent (ssh-add), or use https with a token: a 'machine 127.0.0.1 login <user> password <token>' line in ~/.netrc"},
		{"timeout", "Connection timed out during banner exchange", "check that 127.0.0.1 accepts ssh connections from here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			goOut := f.goDownload(t, "SSH_FAIL", tc.fail)
			goLog := f.takeLog(t)
			if !strings.Contains(goLog, "PROMPT") || strings.Contains(goLog, "BatchMode") {
				t.Errorf("the go command's ssh should have been left to prompt; log:\n%s", goLog)
			}
			if !strings.Contains(goOut, tc.fail) {
				t.Errorf("go command output lacks ssh's message %q:\n%s", tc.fail, goOut)
			}

			_, err := f.client(t, "SSH_FAIL", tc.fail).Download(ctx, sshModule, "v1.0.0")
			mkLog := f.takeLog(t)
			if err == nil {
				t.Fatal("modkit downloaded through the failing ssh")
			}
			if strings.Contains(mkLog, "PROMPT") || !strings.Contains(mkLog, "-o BatchMode=yes -o ConnectTimeout=10") {
				t.Errorf("modkit's ssh was not in batch mode; log:\n%s", mkLog)
			}
			msg := err.Error()
			for _, want := range []string{
				tc.fail,
				"ssh to 127.0.0.1 failed without prompting (a git insteadOf rule rewrites https://git.modkit.test/private to ssh://xxxxx@127.0.0.1:2222/private)",
				tc.wantFix,
				"set GIT_SSH_COMMAND to choose another ssh command",
			} {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q:\n%s", want, msg)
				}
			}
			if _, help, _ := strings.Cut(msg, "ssh to "); strings.Contains(help, "git@") {
				t.Errorf("the explanation shows the ssh user name:\n%s", msg)
			}
		})
	}

	t.Run("GIT_SSH_COMMAND set", func(t *testing.T) {
		chosen := filepath.Join(f.bin, "ssh") + " -o UserChoice=yes"
		f.goDownload(t, "GIT_SSH_COMMAND", chosen)
		goLog := f.takeLog(t)
		_, err := f.client(t, "GIT_SSH_COMMAND", chosen).Download(ctx, sshModule, "v1.0.0")
		mkLog := f.takeLog(t)
		if err == nil {
			t.Fatal("modkit downloaded through the failing ssh")
		}
		if goLog != mkLog || !strings.Contains(mkLog, "UserChoice=yes") {
			t.Errorf("with GIT_SSH_COMMAND set, modkit must run ssh as the go command does\ngo:\n%s\nmodkit:\n%s", goLog, mkLog)
		}
	})
}

// TestDirectSSHConnectTimeout runs the real ssh against a server that
// accepts connections and never speaks: in batch mode with its connect
// timeout, direct mode gives up and says so, where the go command waits.
func TestDirectSSHConnectTimeout(t *testing.T) {
	testenv.RequireGit(t)
	ssh, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("no ssh on PATH")
	}
	if testing.Short() {
		t.Skip("waits for ssh's connect timeout")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	var held []net.Conn
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // silent: no ssh banner, ever
			mu.Unlock()
		}
	}()
	saved := codehost.SSHConnectTimeout
	codehost.SSHConnectTimeout = time.Second
	defer func() { codehost.SSHConnectTimeout = saved }()

	f := newSSHFixture(t, "ssh://git@"+ln.Addr().String()+"/private")
	os.Remove(filepath.Join(f.bin, "ssh")) // the real one
	c := f.client(t, "PATH", filepath.Dir(ssh)+string(os.PathListSeparator)+os.Getenv("PATH"))
	start := time.Now()
	_, err = c.Download(context.Background(), sshModule, "v1.0.0")
	took := time.Since(start)
	if err == nil {
		t.Fatal("downloaded from a silent ssh server")
	}
	if took > 20*time.Second {
		t.Errorf("gave up after %v; the connect timeout is 1s", took)
	}
	for _, want := range []string{"timed out", "ssh to 127.0.0.1 failed without prompting", "direct mode gave up after 1s"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}

	// The go command, given the same, waits for the banner.
	if _, err := exec.LookPath("go"); err == nil {
		g := testenv.NewGo(t, f.net.GoEnv()...)
		vars := f.vars("PATH", filepath.Dir(ssh)+string(os.PathListSeparator)+os.Getenv("PATH"))
		for i := 0; i+1 < len(vars); i += 2 {
			g.Env = append(g.Env, vars[i]+"="+vars[i+1])
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cmd := g.CommandContext(ctx, "mod", "download", sshModule+"@v1.0.0")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Run()
		if ctx.Err() == nil {
			t.Errorf("the go command did not wait on the silent ssh server (the deliberate difference is gone?):\n%s", out.String())
		}
	}
}
