package modnettest

import (
	"archive/zip"
	"bytes"
	"fmt"
)

// Toolchain returns a stand-in for the Go toolchain name (such as
// "go1.99.0") for goos/goarch, as the go command downloads toolchains:
// module golang.org/toolchain at version v0.0.1-<name>.<goos>-<goarch>,
// whose zip is a GOROOT without a go.mod at its root. Its bin/go is the
// shell script goScript; bin/gofmt, a tool under pkg/tool, lib and
// src/_go.mod are there because the go command, switching to a downloaded
// toolchain, marks those executable and copies src/_go.mod to src/go.mod
// before it runs bin/go.
func Toolchain(name, goos, goarch, goScript string) (Module, error) {
	version := "v0.0.1-" + name + "." + goos + "-" + goarch
	prefix := "golang.org/toolchain@" + version + "/"
	files := []struct{ name, content string }{
		{"VERSION", name + "\n"},
		{"bin/go", goScript},
		{"bin/gofmt", "#!/bin/sh\n"},
		{"lib/time/README", "stand-in\n"},
		{"pkg/tool/" + goos + "_" + goarch + "/compile", "#!/bin/sh\n"},
		{"src/_go.mod", "module std\n"},
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(prefix + f.name)
		if err != nil {
			return Module{}, fmt.Errorf("modnettest: toolchain zip: %w", err)
		}
		if _, err := w.Write([]byte(f.content)); err != nil {
			return Module{}, fmt.Errorf("modnettest: toolchain zip: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return Module{}, fmt.Errorf("modnettest: toolchain zip: %w", err)
	}
	return Module{Path: "golang.org/toolchain", Version: version, Zip: buf.Bytes()}, nil
}
