package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"

	"github.com/modkit/modkit/analyzer"
)

// printVersion answers go vet's "-V=full" question. cmd/go's
// Builder.toolID (cmd/go/internal/work/buildid.go) accepts
// "<name> version devel ... buildID=<id>" and keys its cache on <id> (after
// its last "/"); the id here covers the executable, like the x/tools
// drivers' answer, and the go.mod inputs of the current directory's
// modules, which the x/tools answer lacks.
func printVersion(stdout, stderr io.Writer) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "modreplace: %v\n", err)
		return 1
	}
	f, err := os.Open(exe)
	if err != nil {
		fmt.Fprintf(stderr, "modreplace: %v\n", err)
		return 1
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		fmt.Fprintf(stderr, "modreplace: %v\n", err)
		return 1
	}
	dir, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(stderr, "modreplace: %v\n", err)
		return 1
	}
	fmt.Fprintf(h, "\ngo.mod inputs %s\n", analyzer.Fingerprint(dir))
	fmt.Fprintf(stdout, "modreplace version devel go.mod-aware buildID=%x\n", h.Sum(nil))
	return 0
}
