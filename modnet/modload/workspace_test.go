package modload_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/modkit/modkit/modnet/modload"
)

// TestFindMain covers how the go command picks the file that decides the
// main modules: GOWORK=off, GOWORK naming a file (absolute, existing or
// not), a go.work above, never one in or above GOROOT, then go.mod.
func TestFindMain(t *testing.T) {
	root := t.TempDir()
	for name, data := range map[string]string{
		"go.work":              "go 1.22\n\nuse ./m\n",
		"m/go.mod":             "module example.com/m\n",
		"goroot/go.work":       "go 1.22\n",
		"goroot/src/x/go.mod":  "module x\n",
		"goroot/src/x/y/.keep": "",
	} {
		writeFile(t, filepath.Join(root, name), data)
	}
	abs := func(p string) string {
		if p == "" {
			return ""
		}
		return filepath.Join(root, filepath.FromSlash(p))
	}
	goroot := abs("goroot")
	for _, tc := range []struct {
		name, dir, gowork string
		file              string
		work              bool
		err               string
	}{
		{"go.work above", "m", "", "go.work", true, ""},
		{"auto", "m", "auto", "go.work", true, ""},
		{"off", "m", "off", "m/go.mod", false, ""},
		{"named", "m", abs("other.work"), "other.work", true, ""}, // need not exist ('go work init')
		{"relative", "m", "go.work", "", false, "invalid GOWORK: not an absolute path"},
		{"not above GOROOT", "goroot/src/x/y", "", "goroot/src/x/go.mod", false, ""},
		{"none", ".", "off", "", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file, work, err := modload.FindMain(abs(tc.dir), tc.gowork, goroot)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("FindMain: %q, %v, %v; want error %q", file, work, err, tc.err)
				}
				return
			}
			if err != nil || file != abs(tc.file) || work != tc.work {
				t.Errorf("FindMain = %q, %v, %v; want %q, %v", file, work, err, abs(tc.file), tc.work)
			}
		})
	}
}

// TestWorkGoMods lists a go.work's modules in use order, relative and
// absolute use directives alike, and fails as the go command does on a
// go.work it cannot read.
func TestWorkGoMods(t *testing.T) {
	root := t.TempDir()
	other := t.TempDir()
	work := filepath.Join(root, "go.work")
	writeFile(t, work, "go 1.22\n\nuse (\n\t./b\n\t./a/.\n\t"+other+"\n)\n")
	got, err := modload.WorkGoMods(work)
	want := []string{filepath.Join(root, "b", "go.mod"), filepath.Join(root, "a", "go.mod"), filepath.Join(other, "go.mod")}
	if err != nil || len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("WorkGoMods = %q, %v; want %q", got, err, want)
	}
	missing := filepath.Join(root, "none", "go.work")
	if _, err := modload.WorkGoMods(missing); err == nil || err.Error() != "reading go.work: open "+missing+": no such file or directory" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WorkGoMods(missing): %v", err)
	}
}

// TestSumFiles: the checksum files paired with a go.mod, a -modfile and a
// go.work, as cmd/go/internal/modload.loadModFile pairs them.
func TestSumFiles(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{modload.GoSumFile(filepath.Join("m", "go.mod")), filepath.Join("m", "go.sum")},
		{modload.GoSumFile(filepath.Join("m", "alt.mod")), filepath.Join("m", "alt.sum")},
		{modload.WorkSumFile(filepath.Join("w", "go.work")), filepath.Join("w", "go.work.sum")},
		{modload.WorkSumFile(filepath.Join("w", "dev.work")), filepath.Join("w", "dev.work.sum")},
	} {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
}
