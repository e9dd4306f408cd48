package modnet

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestGOAUTHSettingError: a GOAUTH the go command rejects is a
// *SettingError naming the variable, the entry, where it came from, the
// go command's words and a fix.
func TestGOAUTHSettingError(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ goauth, entry, want string }{
		{"off;netrc", "off", "GOAUTH entry \"off\" (from environment): GOAUTH=off cannot be combined with other authentication commands; use GOAUTH=off alone"},
		{"netrc;", "", "GOAUTH=\"netrc;\" (from environment): GOAUTH encountered an empty command; remove the empty entry"},
		{"git relative/dir", "git relative/dir", "GOAUTH=\"git relative/dir\" (from environment): GOAUTH=git dir method requires an absolute path to the git working directory, dir is not absolute; use 'git /absolute/path"},
		{"git " + filepath.Join(dir, "missing"), "git " + filepath.Join(dir, "missing"), "GOAUTH=git encountered an error; cannot stat"},
	} {
		_, err := newAuthenticator(testEnv(t, "GOAUTH", tt.goauth, "HOME", dir), nil)
		var se *SettingError
		if !errors.As(err, &se) || se.Value.Name != "GOAUTH" || se.Entry != tt.entry || se.Fix == "" {
			t.Errorf("GOAUTH=%q: %#v; want a *SettingError for entry %q with a fix", tt.goauth, err, tt.entry)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("GOAUTH=%q: %v\nwant it to contain %q", tt.goauth, err, tt.want)
		}
	}
	a, err := newAuthenticator(testEnv(t, "GOAUTH", "off", "HOME", dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
}
