package main

import (
	"encoding/json"
	"os"
	"strings"
)

// go vet runs the tool on every dependency of the vetted packages, the
// standard library included, in "VetxOnly" mode: only to compute the facts
// that analyzers pass from package to package. modreplace has no facts, yet
// the x/tools driver would parse and type-check each of those packages
// before finding nothing to do. Because the -V=full answer changes with
// go.mod, go vet re-runs the tool on all of them after every go.mod edit,
// and type-checking package runtime alone takes seconds. So a VetxOnly
// request is answered here: an empty facts file, which the x/tools facts
// decoder reads as "no facts" (internal/facts, Decoder.Decode).

// vetConfig holds the fields of go vet's per-package configuration
// (cmd/go/internal/work: vetConfig) that this shortcut needs.
type vetConfig struct {
	VetxOnly   bool
	VetxOutput string
	Stdout     string
}

// answerFactsOnly handles a go vet "VetxOnly" request and reports whether
// args was one.
func answerFactsOnly(args []string) (handled bool, code int) {
	if len(args) == 0 || !strings.HasSuffix(args[len(args)-1], ".cfg") {
		return false, 0
	}
	data, err := os.ReadFile(args[len(args)-1])
	if err != nil {
		return false, 0 // the x/tools driver reports it
	}
	var cfg vetConfig
	if err := json.Unmarshal(data, &cfg); err != nil || !cfg.VetxOnly {
		return false, 0
	}
	for _, name := range []string{cfg.VetxOutput, cfg.Stdout} {
		if name == "" {
			continue
		}
		if err := os.WriteFile(name, nil, 0o666); err != nil {
			os.Stderr.WriteString("modreplace: " + err.Error() + "\n")
			return true, 1
		}
	}
	return true, 0
}
