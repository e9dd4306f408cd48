package envcheck

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCheckGOMODCACHE(t *testing.T) {
	free := func(n uint64) Options {
		return Options{freeSpace: func(string) (uint64, error) { return n, nil }}
	}
	cases := []staticCase{
		{name: "not yet created", status: StatusOK, summary: "$DIR/modcache does not exist yet; can be created in $DIR, writable, 50.0 GiB free", fix: "-"},
		{name: "exists", setup: mkdirs("modcache/cache/download"), status: StatusOK, summary: "$DIR/modcache exists, writable"},
		{name: "default from GOPATH", vars: map[string]string{"GOMODCACHE": "<unset>", "GOPATH": "$DIR/gopath"}, status: StatusOK,
			summary: "$DIR/gopath/pkg/mod does not exist yet", details: "GOMODCACHE=$DIR/gopath/pkg/mod (default from GOPATH)"},
		{name: "default from HOME", vars: map[string]string{"GOMODCACHE": "<unset>"}, status: StatusOK, summary: "$DIR/home/go/pkg/mod"},
		{name: "nothing to default to", vars: map[string]string{"GOMODCACHE": "<unset>", "HOME": "<unset>"}, status: StatusError,
			summary: "neither GOMODCACHE nor GOPATH is set"},
		{name: "relative", vars: map[string]string{"GOMODCACHE": "cache/mod"}, status: StatusError,
			summary: `GOMODCACHE entry is relative; must be absolute path: "cache/mod"`},
		{name: "relative GOPATH", vars: map[string]string{"GOPATH": "gopath"}, status: StatusError, summary: `GOPATH entry is relative; must be absolute path: "gopath" (from environment)`},
		{name: "tilde GOPATH", vars: map[string]string{"GOPATH": "~/go"}, status: StatusError, summary: `GOPATH entry "~/go" starts with '~'`, fix: "export GOPATH=$DIR/home/go"},
		{name: "a file", files: map[string]string{"modcache": "x"}, status: StatusError, summary: "GOMODCACHE: $DIR/modcache is not a directory"},
		{name: "low space", opts: free(500 << 20), status: StatusWarn, summary: "GOMODCACHE: only 500 MiB free on the disk holding $DIR/modcache"},
		{name: "no space", opts: free(10 << 20), status: StatusError, summary: "only 10 MiB free", fix: "move GOMODCACHE to a larger disk"},
		{name: "modcacherw", vars: map[string]string{"GOFLAGS": "-modcacherw"}, status: StatusOK, details: "GOFLAGS has -modcacherw"},
	}
	if os.Geteuid() > 0 { // root writes anywhere; -1 on Windows
		cases = append(cases,
			staticCase{name: "not writable", setup: func(t *testing.T, dir string) {
				mkdirs("modcache")(t, dir)
				os.Chmod(filepath.Join(dir, "modcache"), 0o555)
				t.Cleanup(func() { os.Chmod(filepath.Join(dir, "modcache"), 0o755) })
			}, status: StatusError, summary: "is not writable by this user: permission denied", fix: "sudo chown -R"},
			staticCase{name: "download cache owned by root", setup: func(t *testing.T, dir string) {
				mkdirs("modcache/cache/download")(t, dir)
				os.Chmod(filepath.Join(dir, "modcache", "cache", "download"), 0o555)
				t.Cleanup(func() { os.Chmod(filepath.Join(dir, "modcache", "cache", "download"), 0o755) })
			}, status: StatusError, summary: "was the go command run with sudo?"})
	}
	runCases(t, "cache.gomodcache", cases)
}

func TestCheckGOCACHE(t *testing.T) {
	runCases(t, "cache.gocache", []staticCase{
		{name: "set", setup: mkdirs("gocache"), status: StatusOK, summary: "$DIR/gocache exists, writable, 50.0 GiB free"},
		{name: "default", vars: map[string]string{"GOCACHE": "<unset>", "XDG_CACHE_HOME": "$DIR/xdg"}, status: StatusOK,
			summary: "$DIR/xdg/go-build does not exist yet", details: "GOCACHE=$DIR/xdg/go-build (default)"},
		{name: "off", vars: map[string]string{"GOCACHE": "off"}, status: StatusError, summary: "GOCACHE=off is not supported", fix: "unset GOCACHE"},
		{name: "relative", vars: map[string]string{"GOCACHE": "build"}, status: StatusError, summary: `GOCACHE is not an absolute path: "build"`},
		{name: "no default", vars: map[string]string{"GOCACHE": "<unset>", "HOME": "<unset>"}, status: StatusError, summary: "GOCACHE is not set and there is no default"},
	})
}

func mkdirs(rel ...string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		for _, r := range rel {
			if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(r)), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
}
