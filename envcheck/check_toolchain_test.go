package envcheck

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestCheckGoVersion(t *testing.T) {
	toolchainMod := "golang.org/toolchain@v0.0.1-go1.27.0." + runtime.GOOS + "-" + runtime.GOARCH
	runCases(t, "go.version", []staticCase{
		{name: "no go.mod", status: StatusOK, summary: "go1.26.1; no go.mod here", fix: "-"},
		{name: "satisfied", gomod: "module m\n\ngo 1.25.0\n", status: StatusOK, summary: "go1.26.1 satisfies go.mod (go 1.25.0)", fix: "-",
			details: "go.mod: go 1.25.0"},
		{name: "local too old", gomod: "module m\ngo 1.27\n", vars: map[string]string{"GOTOOLCHAIN": "local"},
			status: StatusError, summary: "go.mod requires go >= 1.27 (running go 1.26.1; GOTOOLCHAIN=local)", fix: "export GOTOOLCHAIN=auto"},
		{name: "pinned too old", gomod: "module m\ngo 1.27\n", vars: map[string]string{"GOTOOLCHAIN": "go1.26.0"},
			status: StatusError, summary: "go.mod requires go >= 1.27 (running go 1.26.0; GOTOOLCHAIN=go1.26.0)"},
		{name: "auto downloads", gomod: "module m\ngo 1.27\n",
			status: StatusInfo, summary: "will download go1.27.0 as " + toolchainMod, fix: "-"},
		{name: "auto from go.env is named", gomod: "module m\ngo 1.27\n",
			status: StatusInfo, details: "GOTOOLCHAIN=auto (from go.env $DIR/goroot/go.env:3)"},
		{name: "toolchain line", gomod: "module m\ngo 1.25.0\ntoolchain go1.26.5\n",
			status: StatusInfo, summary: "will download go1.26.5", details: "go.mod: go 1.25.0, toolchain go1.26.5"},
		{name: "toolchain default", gomod: "module m\ngo 1.25.0\ntoolchain default\n",
			status: StatusOK, summary: "satisfies"},
		{name: "auto but GOSUMDB off", gomod: "module m\ngo 1.27\n", vars: map[string]string{"GOSUMDB": "off"},
			status: StatusError, summary: "toolchain downloads need the checksum database, and GOSUMDB=off (from environment)", fix: "unset GOSUMDB"},
		{name: "auto GOSUMDB off but single file proxy", gomod: "module m\ngo 1.27\n", vars: map[string]string{"GOSUMDB": "off", "GOPROXY": "file:///srv/proxy"},
			status: StatusInfo, summary: "will download go1.27.0"},
		{name: "auto but GOPROXY off", gomod: "module m\ngo 1.27\n", vars: map[string]string{"GOPROXY": "off"},
			status: StatusError, summary: "GOPROXY=off disallows downloads"},
		{name: "path mode missing", gomod: "module m\ngo 1.27\n", vars: map[string]string{"GOTOOLCHAIN": "path"},
			status: StatusError, summary: `cannot find "go1.27.0" in PATH`, fix: "go install golang.org/dl/go1.27.0@latest"},
		{name: "path mode found", gomod: "module m\ngo 1.27\n", vars: map[string]string{"GOTOOLCHAIN": "path"},
			setup:  writeScript(t, "go1.27.0", "exit 0"),
			status: StatusInfo, summary: "runs go1.27.0 from $DIR/bin/go1.27.0"},
		{name: "cached toolchain", gomod: "module m\ngo 1.27\n",
			setup: func(t *testing.T, dir string) {
				if err := os.MkdirAll(filepath.Join(dir, "modcache", filepath.FromSlash(toolchainMod)), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			status: StatusInfo, summary: "runs go1.27.0 from the module cache"},
		{name: "pinned newer", vars: map[string]string{"GOTOOLCHAIN": "go1.27.1"}, gomod: "module m\ngo 1.20\n",
			status: StatusInfo, summary: "will download go1.27.1", details: "GOTOOLCHAIN=go1.27.1 (from environment)"},
		{name: "invalid", vars: map[string]string{"GOTOOLCHAIN": "bash"},
			status: StatusError, summary: `invalid GOTOOLCHAIN "bash"`, fix: "export GOTOOLCHAIN=auto"},
		{name: "invalid suffix", vars: map[string]string{"GOTOOLCHAIN": "go1.26.1+never"},
			status: StatusError, summary: "only version suffixes are +auto and +path"},
		// The go command picks its toolchain before it parses go.mod.
		{name: "bad go.mod", gomod: "module m\ngo 1.25.0\nrequire (\n", status: StatusOK, summary: "satisfies go.mod (go 1.25.0)"},
		{name: "bad go.mod, no switching", gomod: "module m\ngo 1.25.0\nrequire (\n", vars: map[string]string{"GOTOOLCHAIN": "local"},
			status: StatusWarn, summary: "cannot read go.mod"},
		{name: "bad toolchain line", gomod: "module m\ngo 1.25.0\ntoolchain bad\n",
			status: StatusError, summary: `invalid toolchain "bad" in`},
		{name: "no goroot", goroot: "-", vars: map[string]string{"GOROOT": "$DIR/nothing"},
			status: StatusError, summary: "local Go version unknown"},
	})
}
