package modnet

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// needGo returns the go command on PATH, or skips the test if there is none.
func needGo(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	return bin
}

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
// file, no toolchain switching, module cache and GOPATH under home, module
// cache writable so that the test can remove it. The build cache is the
// host's, which is safe to share and spares compiling the runtime for every
// 'go build' a test runs.
func goEnviron(home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "GOENV=off", "GOTOOLCHAIN=local",
		"GOPATH=" + filepath.Join(home, "gopath"), "GOMODCACHE=" + filepath.Join(home, "modcache"),
		"GOCACHE=" + hostGOCACHE(), "GOFLAGS=-modcacherw", "GIT_TERMINAL_PROMPT=0",
	}
}

// hostGOCACHE is the build cache of the user running the tests.
var hostGOCACHE = sync.OnceValue(func() string {
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		return filepath.Join(os.TempDir(), "modkit-test-gocache")
	}
	return string(bytes.TrimSpace(out))
})
