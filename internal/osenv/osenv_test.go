package osenv

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func vars(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// TestMatchesOS: with the process's own variables, the answers are those
// of package os.
func TestMatchesOS(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	for _, tc := range []struct {
		name string
		ours func(func(string) string) (string, error)
		os   func() (string, error)
	}{
		{"home", UserHomeDir, os.UserHomeDir},
		{"config", UserConfigDir, os.UserConfigDir},
		{"cache", UserCacheDir, os.UserCacheDir},
	} {
		got, err := tc.ours(os.Getenv)
		want, wantErr := tc.os()
		if got != want || (err == nil) != (wantErr == nil) {
			t.Errorf("%s: %q, %v; package os says %q, %v", tc.name, got, err, want, wantErr)
		}
	}
}

func TestUserDirs(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" || runtime.GOOS == "ios" || runtime.GOOS == "plan9" {
		t.Skip("the XDG rules are for other systems")
	}
	if d, err := UserConfigDir(vars("XDG_CONFIG_HOME", "/x", "HOME", "/h")); d != "/x" || err != nil {
		t.Errorf("XDG_CONFIG_HOME: %q, %v", d, err)
	}
	if d, err := UserCacheDir(vars("HOME", "/h")); d != "/h/.cache" || err != nil {
		t.Errorf("HOME only: %q, %v", d, err)
	}
	if _, err := UserCacheDir(vars("XDG_CACHE_HOME", "rel")); err == nil || !strings.Contains(err.Error(), "relative") {
		t.Errorf("relative XDG_CACHE_HOME: %v", err)
	}
	if _, err := UserHomeDir(vars()); err == nil || err.Error() != "$HOME is not defined" {
		t.Errorf("no HOME: %v", err)
	}
}

func TestLookPath(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("executables need an extension there")
	}
	a, b := t.TempDir(), t.TempDir()
	prog := filepath.Join(b, "prog")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a, "prog"), []byte("not executable"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(a, "dir"), 0o777); err != nil {
		t.Fatal(err)
	}
	path := a + string(filepath.ListSeparator) + string(filepath.ListSeparator) + b
	if got, err := LookPath("prog", path); got != prog || err != nil {
		t.Errorf("LookPath(prog) = %q, %v; want %q", got, err, prog)
	}
	if _, err := LookPath("dir", path); err == nil || err.Error() != "dir: not found in PATH" {
		t.Errorf("LookPath(dir) = %v; want not found", err)
	}
}
