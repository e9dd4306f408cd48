package modnet

import (
	"os"
	"path/filepath"
	"testing"
)

// goHome returns a fresh HOME for running the go command in a test, with
// telemetry off: otherwise the go command leaves a background process
// writing under $HOME/.config/go/telemetry while the test cleans up.
func goHome(t testing.TB) string {
	t.Helper()
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".config", "go", "telemetry", "mode"), "off")
	return home
}

// goEnviron is a minimal, isolated environment for the go command: no GOENV
// file, no toolchain switching, caches under home, module cache writable so
// that the test can remove it.
func goEnviron(home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "GOENV=off", "GOTOOLCHAIN=local",
		"GOPATH=" + filepath.Join(home, "gopath"), "GOMODCACHE=" + filepath.Join(home, "modcache"),
		"GOCACHE=" + filepath.Join(home, "cache"), "GOFLAGS=-modcacherw", "GIT_TERMINAL_PROMPT=0",
	}
}
