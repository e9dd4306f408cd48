package osenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// LookPath finds an executable named file in the directories of pathList,
// a PATH value, as exec.LookPath does in the process's PATH; on Windows it
// tries the .exe, .bat and .cmd extensions first.
func LookPath(file, pathList string) (string, error) {
	exts := []string{""}
	if runtime.GOOS == "windows" {
		exts = []string{".exe", ".bat", ".cmd", ""}
	}
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" {
			continue
		}
		for _, ext := range exts {
			p := filepath.Join(dir, file+ext)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && (runtime.GOOS == "windows" || fi.Mode()&0o111 != 0) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%s: not found in PATH", file)
}

// UserHomeDir is os.UserHomeDir with getenv for os.Getenv.
func UserHomeDir(getenv func(string) string) (string, error) {
	name := "HOME"
	switch runtime.GOOS {
	case "windows":
		name = "USERPROFILE"
	case "plan9":
		name = "home"
	}
	if h := getenv(name); h != "" {
		return h, nil
	}
	return "", errors.New("$" + name + " is not defined")
}

// UserConfigDir is os.UserConfigDir with getenv for os.Getenv.
func UserConfigDir(getenv func(string) string) (string, error) {
	return userDir(getenv, "AppData", "XDG_CONFIG_HOME", "Library/Application Support", "lib", ".config")
}

// UserCacheDir is os.UserCacheDir with getenv for os.Getenv.
func UserCacheDir(getenv func(string) string) (string, error) {
	return userDir(getenv, "LocalAppData", "XDG_CACHE_HOME", "Library/Caches", "lib/cache", ".cache")
}

// userDir is the shape os.UserConfigDir and os.UserCacheDir share: a
// variable on Windows, a directory under $HOME on Darwin and $home on Plan
// 9, else an absolute XDG variable or a directory under $HOME, joined with
// "/" as package os joins them.
func userDir(getenv func(string) string, windowsVar, xdgVar, darwin, plan9, unix string) (string, error) {
	switch runtime.GOOS {
	case "windows":
		if d := getenv(windowsVar); d != "" {
			return d, nil
		}
		return "", errors.New("%" + windowsVar + "% is not defined")
	case "darwin", "ios":
		if h := getenv("HOME"); h != "" {
			return h + "/" + darwin, nil
		}
		return "", errors.New("$HOME is not defined")
	case "plan9":
		if h := getenv("home"); h != "" {
			return h + "/" + plan9, nil
		}
		return "", errors.New("$home is not defined")
	}
	if d := getenv(xdgVar); d != "" {
		if !filepath.IsAbs(d) {
			return "", errors.New("path in $" + xdgVar + " is relative")
		}
		return d, nil
	}
	if h := getenv("HOME"); h != "" {
		return h + "/" + unix, nil
	}
	return "", errors.New("neither $" + xdgVar + " nor $HOME are defined")
}

// NoPrompts returns environ with the prompts of git and of Git Credential
// Manager for credentials turned off, unless the user set them: what the go
// command does for every program it runs (cmd/go/internal/modload.Init),
// since no one may be there to answer.
func NoPrompts(environ []string) []string {
	out := slices.Clone(environ)
	set := func(name string) bool {
		for _, kv := range environ {
			if k, v, _ := strings.Cut(kv, "="); k == name && v != "" {
				return true
			}
		}
		return false
	}
	if !set("GIT_TERMINAL_PROMPT") {
		out = append(out, "GIT_TERMINAL_PROMPT=0")
	}
	if !set("GCM_INTERACTIVE") {
		out = append(out, "GCM_INTERACTIVE=never")
	}
	return out
}
