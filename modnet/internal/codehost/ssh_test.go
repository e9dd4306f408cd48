package codehost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
)

func TestSSHHost(t *testing.T) {
	for _, tc := range []struct {
		remote string
		host   string
		ok     bool
	}{
		{"ssh://git@example.com/org/repo", "example.com", true},
		{"ssh://git@example.com:2222/org/repo", "example.com", true},
		{"git+ssh://example.com/repo", "example.com", true},
		{"ssh+git://u@[::1]:22/repo", "::1", true},
		{"git@example.com:org/repo.git", "example.com", true},
		{"example.com:repo", "example.com", true},
		{"https://example.com/org/repo", "", false},
		{"git://example.com/repo", "", false},
		{"/srv/git/repo", "", false},
		{"./dir:with/colon", "", false},
		{":nohost", "", false},
	} {
		host, ok := SSHHost(tc.remote)
		if host != tc.host || ok != tc.ok {
			t.Errorf("SSHHost(%q) = %q, %v; want %q, %v", tc.remote, host, ok, tc.host, tc.ok)
		}
	}
}

func TestWithSSHBatchMode(t *testing.T) {
	testenv.RequireGit(t)
	home := t.TempDir()
	plain := writeFile(t, filepath.Join(home, "plain.gitconfig"), "[user]\n\tname = x\n")
	withCmd := writeFile(t, filepath.Join(home, "ssh.gitconfig"), "[core]\n\tsshCommand = ssh -i ~/.ssh/deploy\n")
	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "GIT_CONFIG_NOSYSTEM=1"}
	batch := "GIT_SSH_COMMAND=" + sshBatchCommand()
	for _, tc := range []struct {
		name  string
		extra []string
		want  string // the GIT_SSH_COMMAND added, or "" for none
	}{
		{"nothing chosen", []string{"GIT_CONFIG_GLOBAL=" + plain}, batch},
		{"GIT_SSH_COMMAND", []string{"GIT_CONFIG_GLOBAL=" + plain, "GIT_SSH_COMMAND=ssh -v"}, ""},
		{"GIT_SSH", []string{"GIT_CONFIG_GLOBAL=" + plain, "GIT_SSH=/usr/bin/plink"}, ""},
		{"empty GIT_SSH_COMMAND", []string{"GIT_CONFIG_GLOBAL=" + plain, "GIT_SSH_COMMAND="}, batch},
		{"core.sshCommand", []string{"GIT_CONFIG_GLOBAL=" + withCmd}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append(append([]string(nil), base...), tc.extra...)
			out := withSSHBatchMode(in)
			var added string
			if len(out) > len(in) {
				added = out[len(out)-1]
			}
			if added != tc.want {
				t.Errorf("added %q, want %q", added, tc.want)
			}
		})
	}
	if !strings.Contains(batch, "BatchMode=yes") || !strings.Contains(batch, "ConnectTimeout=10") {
		t.Errorf("batch command %q lacks BatchMode=yes or ConnectTimeout=10", batch)
	}
}

// writeFile writes content to name and returns name.
func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o666); err != nil {
		t.Fatal(err)
	}
	return name
}
