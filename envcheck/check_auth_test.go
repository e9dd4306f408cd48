package envcheck

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestCheckNetrc(t *testing.T) {
	chmod := func(mode os.FileMode) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			if err := os.Chmod(filepath.Join(dir, "home", ".netrc"), mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	good := "machine git.corp.example.com login me password tok\n"
	cases := []staticCase{
		{name: "nothing needed", status: StatusOK, summary: "no netrc file at $DIR/home/.netrc, none needed", fix: "-"},
		{name: "missing but private hosts", vars: map[string]string{"GOPRIVATE": "git.corp.example.com"}, status: StatusInfo,
			summary: "no netrc file ($DIR/home/.netrc): requests to git.corp.example.com carry no credentials",
			fix:     "printf 'machine git.corp.example.com login USER password TOKEN\\n' >> $DIR/home/.netrc && chmod 600 $DIR/home/.netrc"},
		{name: "good", files: map[string]string{"home/.netrc": good}, setup: chmod(0o600), vars: map[string]string{"GOPRIVATE": "git.corp.example.com"},
			status: StatusOK, summary: "$DIR/home/.netrc: 1 complete entries, mode -rw-------", details: "machine git.corp.example.com: credentials present"},
		{name: "no password", files: map[string]string{"home/.netrc": "machine a.example.com login me\n"}, setup: chmod(0o600), status: StatusWarn,
			summary: "$DIR/home/.netrc:1: machine a.example.com has no password: the go command ignores the entry",
			fix:     "edit $DIR/home/.netrc line 1: machine a.example.com login USER password TOKEN"},
		{name: "entries across lines", files: map[string]string{"home/.netrc": "machine a.example.com\n  login me\n  password x\n"}, setup: chmod(0o600), status: StatusOK},
		{name: "after default", files: map[string]string{"home/.netrc": "machine a.example.com login a password b\ndefault\nmachine c.example.com login c password d\n"},
			setup: chmod(0o600), status: StatusWarn, summary: "1 machine entries follow 'default' and are never read"},
		{name: "NETRC missing", vars: map[string]string{"NETRC": "$DIR/nope"}, status: StatusWarn, summary: "NETRC=$DIR/nope, but the file does not exist"},
		{name: "NETRC elsewhere", vars: map[string]string{"NETRC": "$DIR/creds"}, files: map[string]string{"creds": good},
			setup: func(t *testing.T, dir string) { os.Chmod(filepath.Join(dir, "creds"), 0o600) }, status: StatusOK, summary: "$DIR/creds"},
		{name: "empty command", vars: map[string]string{"GOAUTH": "netrc;"}, status: StatusError,
			summary: `GOAUTH="netrc;" has an empty command`, fix: "export GOAUTH=netrc"},
		{name: "off combined", vars: map[string]string{"GOAUTH": "off;netrc"}, status: StatusError, summary: "GOAUTH=off cannot be combined"},
		{name: "off", vars: map[string]string{"GOAUTH": "off"}, files: map[string]string{"home/.netrc": good}, status: StatusInfo,
			summary: "GOAUTH=off: the go command sends no credentials", details: "GOAUTH does not include netrc, so $DIR/home/.netrc is not used"},
		{name: "git relative", vars: map[string]string{"GOAUTH": "git src/repo"}, status: StatusError, summary: "requires an absolute path"},
		{name: "git dir missing", vars: map[string]string{"GOAUTH": "git $DIR/none"}, status: StatusError, summary: "cannot stat $DIR/none",
			fix: "point GOAUTH=git at an existing git work tree"},
		{name: "git not a dir", vars: map[string]string{"GOAUTH": "git $DIR/afile"}, files: map[string]string{"afile": ""}, status: StatusError,
			summary: "dir is not a directory"},
		{name: "custom command unquotable", vars: map[string]string{"GOAUTH": "helper 'open"}, status: StatusError,
			summary: `GOAUTH command "helper 'open" cannot be split: unterminated ' string`},
		{name: "custom command missing", vars: map[string]string{"GOAUTH": "corp-credential-helper --go"}, status: StatusError,
			summary: `GOAUTH command "corp-credential-helper --go": corp-credential-helper is not in PATH`},
	}
	if runtime.GOOS != "windows" {
		cases = append(cases,
			staticCase{name: "custom command present", vars: map[string]string{"GOAUTH": "helper --go;netrc"},
				setup: writeScript(t, "helper", "exit 0"), status: StatusOK},
			staticCase{name: "readable by others", files: map[string]string{"home/.netrc": good}, setup: chmod(0o644), status: StatusWarn,
				summary: "$DIR/home/.netrc has mode -rw-r--r--: other users can read your passwords", fix: "chmod 600 $DIR/home/.netrc"})
	}
	runCases(t, "auth.netrc", cases)
}
